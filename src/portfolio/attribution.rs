//! What the costs were, component by component, and how far apart two
//! paths over the same dates are.

use crate::parameter::Portfolio as Param;
use plotly::layout::{Axis, BarMode, Layout};
use plotly::{Bar, Plot};

use super::{Population, Portfolio};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::market::COST_COMPONENTS;
use crate::plot::round6;

impl Portfolio {
    /// Each cost component's annual drag: its total over the run (as
    /// fractions of wealth) per year.
    pub fn annual_costs(&self) -> [f64; COST_COMPONENTS.len()] {
        let years = self.years();
        self.costs_by_component().map(|c| c / years)
    }

    /// The difference of net returns, this path minus `other`, over the
    /// same dates: its annualised mean with a standard error and a
    /// t-statistic (see [`Difference`]).
    pub fn difference(&self, other: &Portfolio) -> Result<Difference> {
        if self.dates != other.dates {
            return Err(Error::param(
                Param::Difference,
                format!(
                    "needs two paths over the same dates; {:?} has {} periods, {:?} {}",
                    self.name,
                    self.dates.len(),
                    other.name,
                    other.dates.len()
                ),
            ));
        }
        let d: Vec<f64> = self.net.iter().zip(&other.net).map(|(a, b)| a - b).collect();
        let k = self.periods_per_year;
        let mean = crate::stats::mean(&d);
        let se = crate::stats::std(&d) / (d.len() as f64).sqrt();
        Ok(Difference {
            first: self.name.clone(),
            second: other.name.clone(),
            periods: d.len(),
            annual_mean: mean * k,
            annual_se: se * k,
            first_cagr: self.metrics().cagr,
            second_cagr: other.metrics().cagr,
        })
    }
}

/// The paired difference of two paths' net returns over the same dates:
/// mean $\bar d$ of $d_t = r^{net}_{1,t} - r^{net}_{2,t}$, annualised
/// ($k\bar d$), with standard error $k\,s_d/\sqrt{T}$ (independent periods)
/// and $t = \bar d / (s_d/\sqrt T)$.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Name of the first path.
    pub first: String,
    /// Name of the second path.
    pub second: String,
    /// Periods compared.
    pub periods: usize,
    /// Annualised mean difference of net returns.
    pub annual_mean: f64,
    /// Its standard error.
    pub annual_se: f64,
    /// CAGR of the first path.
    pub first_cagr: f64,
    /// CAGR of the second path.
    pub second_cagr: f64,
}

impl Difference {
    /// The same comparison under other names for the two paths (e.g. two
    /// runs of 1/N on different panels).
    pub fn labelled(mut self, first: &str, second: &str) -> Self {
        self.first = first.to_string();
        self.second = second.to_string();
        self
    }

    /// $t$-statistic of the mean difference.
    pub fn t_stat(&self) -> f64 {
        self.annual_mean / self.annual_se
    }

    /// The comparison as a table.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["", "value"])
            .caption(format!("{} minus {}, net returns over {} periods", self.first, self.second, self.periods));
        t.push(vec![Cell::from(format!("CAGR {}", self.first).as_str()), Cell::Pct(self.first_cagr, 2)]);
        t.push(vec![Cell::from(format!("CAGR {}", self.second).as_str()), Cell::Pct(self.second_cagr, 2)]);
        t.push(vec![Cell::from("mean difference a year"), Cell::Pct(self.annual_mean, 2)]);
        t.push(vec![Cell::from("± standard error"), Cell::Pct(self.annual_se, 2)]);
        t.push(vec![Cell::from("t-statistic"), Cell::Num(self.t_stat(), 2)]);
        t
    }
}

crate::shows_as_table!(Difference);

impl Population {
    /// Costs by component for each strategy, as a drag on wealth a year,
    /// beside its annual turnover and net Sharpe ratio.
    pub fn cost_table(&self) -> Table {
        let mut head = vec!["strategy", "turnover a year"];
        head.extend(COST_COMPONENTS);
        head.extend(["total a year", "Sharpe net"]);
        let mut t = Table::new(head).caption("Cost attribution: each component's annual drag on wealth");
        for r in &self.reports {
            let c = r.annual_costs();
            let mut row = vec![Cell::from(r.name.as_str()), Cell::Pct(r.annual_turnover(), 0)];
            row.extend(c.iter().map(|x| Cell::Pct(*x, 3)));
            row.push(Cell::Pct(c.iter().sum(), 3));
            row.push(Cell::Num(r.metrics().sharpe, 2));
            t.push(row);
        }
        t
    }

    /// Each strategy's annual cost drag, stacked by component.
    pub fn plot_costs(&self) -> Plot {
        let names: Vec<String> = self.reports.iter().map(|r| r.name.clone()).collect();
        let annual: Vec<_> = self.reports.iter().map(Portfolio::annual_costs).collect();
        let mut plot = Plot::new();
        for (k, component) in COST_COMPONENTS.iter().enumerate() {
            let y: Vec<f64> = annual.iter().map(|c| round6(c[k])).collect();
            if y.iter().any(|v| *v != 0.0) {
                plot.add_trace(Bar::new(names.clone(), y).name(*component));
            }
        }
        plot.set_layout(
            Layout::new()
                .title("Costs by component (drag on wealth a year)")
                .bar_mode(BarMode::Stack)
                .y_axis(Axis::new().title("cost a year").tick_format(".2%"))
                .height(460),
        );
        plot
    }

    /// Each strategy as a point: annual turnover against its annual cost.
    pub fn plot_turnover_costs(&self) -> Plot {
        let points: Vec<(String, f64, f64)> =
            self.reports.iter().map(|r| (r.name.clone(), r.annual_turnover(), r.annual_costs().iter().sum())).collect();
        crate::plot::labelled_points(
            "Turnover against costs",
            &points,
            ("turnover a year", ".0%"),
            ("cost a year", ".2%"),
        )
    }
}
