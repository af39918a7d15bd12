//! The efficient frontier: minimum variance over a grid of target returns.

use std::time::Instant;

use plotly::common::{Marker, Mode};
use plotly::layout::{Axis, Layout};
use plotly::{Plot, Scatter};

use super::objective::{constrained, max_return, return_row, Readout};
use super::problem::Session;
use super::risk::{Risk, Variance};
use super::{Allocation, Constraints, Optimizer};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::estimate::Moments;

/// Builder for a [`Frontier`].
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierParams {
    points: usize,
    risk_free: f64,
    constraints: Constraints,
}

/// Points of the efficient frontier plus the minimum-variance, maximum-Sharpe
/// and (for long-only, fully invested constraints) risk-parity portfolios.
#[derive(Debug, Clone)]
pub struct Frontier {
    /// Frontier portfolios, by increasing target return.
    pub points: Vec<Allocation>,
    /// The minimum-variance portfolio (the frontier's left end).
    pub min_variance: Allocation,
    /// The maximum-Sharpe portfolio, when some asset beats the risk-free rate.
    pub max_sharpe: Option<Allocation>,
    /// The risk-parity portfolio, for default constraints.
    pub risk_parity: Option<Allocation>,
    /// The special portfolios that could not be solved, with why (e.g. no
    /// asset beats the risk-free rate, so there is no maximum Sharpe).
    pub failures: Vec<(String, String)>,
    assets: Vec<(String, f64, f64)>,
    seconds: f64,
}

impl Frontier {
    /// 100 points, risk-free rate 0, long-only fully invested.
    ///
    /// ```
    /// use assetalloc::prelude::*;
    /// let r = Synthetic::params().assets(4).days(750).seed(3).generate()?.prices.returns(ReturnKind::Simple)?;
    /// let frontier = Frontier::params().points(10).solve(&Moments::ledoit_wolf().fit(&r)?.annualized())?;
    /// assert_eq!(frontier.points.len(), 10);
    /// # Ok::<(), assetalloc::Error>(())
    /// ```
    pub fn params() -> FrontierParams {
        FrontierParams { points: 100, risk_free: 0.0, constraints: Constraints::long_only() }
    }

    /// Total wall time of all solves, seconds.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Summary table: one row per tenth of the points plus the special portfolios.
    pub fn table(&self) -> Table {
        let mut caption = format!(
            "Efficient frontier · {} points · {:.1} ms of solves in total (in-sample moments)",
            self.points.len(),
            1e3 * self.seconds
        );
        for (name, why) in &self.failures {
            caption.push_str(&format!(" · no {name}: {why}"));
        }
        let mut t = Table::new(["portfolio", "expected return", "volatility", "Sharpe"]).caption(caption);
        let mut row = |name: String, a: &Allocation| {
            t.push(vec![
                Cell::Text(name),
                Cell::Pct(a.expected_return(), 2),
                Cell::Pct(a.volatility(), 2),
                Cell::Num(a.sharpe(), 3),
            ]);
        };
        row("minimum variance".into(), &self.min_variance);
        if let Some(a) = &self.max_sharpe {
            row("maximum Sharpe".into(), a);
        }
        if let Some(a) = &self.risk_parity {
            row("risk parity".into(), a);
        }
        let step = (self.points.len() / 10).max(1);
        for (k, a) in self.points.iter().enumerate().step_by(step) {
            row(format!("frontier point {}", k + 1), a);
        }
        t
    }

    /// The frontier, the assets and the special portfolios in
    /// volatility–return space.
    pub fn plot_frontier(&self) -> Plot {
        let pct = |v: f64| crate::plot::round6(100.0 * v);
        let mut plot = Plot::new();
        plot.add_trace(
            Scatter::new(
                self.points.iter().map(|a| pct(a.volatility())).collect(),
                self.points.iter().map(|a| pct(a.expected_return())).collect(),
            )
            .mode(Mode::Lines)
            .name("efficient frontier"),
        );
        plot.add_trace(
            Scatter::new(
                self.assets.iter().map(|a| pct(a.2)).collect(),
                self.assets.iter().map(|a| pct(a.1)).collect(),
            )
            .mode(Mode::MarkersText)
            .text_array(self.assets.iter().map(|a| a.0.clone()).collect())
            .marker(Marker::new().size(6))
            .name("assets"),
        );
        let mut special = vec![("minimum variance", &self.min_variance)];
        if let Some(a) = &self.max_sharpe {
            special.push(("maximum Sharpe", a));
        }
        if let Some(a) = &self.risk_parity {
            special.push(("risk parity", a));
        }
        for (name, a) in special {
            plot.add_trace(
                Scatter::new(vec![pct(a.volatility())], vec![pct(a.expected_return())])
                    .mode(Mode::Markers)
                    .marker(Marker::new().size(13))
                    .name(name),
            );
        }
        plot.set_layout(
            Layout::new()
                .title("Efficient frontier (in-sample moments)")
                .x_axis(Axis::new().title("volatility, %"))
                .y_axis(Axis::new().title("expected return, %"))
                .height(520),
        );
        plot
    }
}

crate::shows_as_table!(Frontier);

impl FrontierParams {
    /// Number of points (≥ 2).
    pub fn points(mut self, n: usize) -> Self {
        self.points = n;
        self
    }

    /// Risk-free rate for the Sharpe ratios and the tangency portfolio.
    pub fn risk_free(mut self, r: f64) -> Self {
        self.risk_free = r;
        self
    }

    /// Constraints for every point.
    pub fn constraints(mut self, c: Constraints) -> Self {
        self.constraints = c;
        self
    }

    /// Traces the frontier from the minimum-variance return to the highest
    /// achievable return, in `points` equal steps. The points are shared
    /// among the cores; on each, one Clarabel solver is set up once and only
    /// the target in $b$ changes between its points.
    pub fn solve(&self, m: &Moments) -> Result<Frontier> {
        if self.points < 2 {
            return Err(Error::param("points", format!("must be ≥ 2, got {}", self.points)));
        }
        let t0 = Instant::now();
        let min_var = Optimizer::min_variance().constraints(self.constraints.clone()).solve(m)?;
        let hi = max_return(m, &self.constraints)?;
        let lo = min_var.expected_return();
        let n = m.n_assets();
        let c = self.constraints.resolve(m.assets())?;
        let (mut p, t) = constrained(n, &c);
        let k = p.le(return_row(m.mean(), &c, t, n), -lo);
        let pos = p.le_position(k);
        Variance(m.cov()).add(&mut p, n, 1.0)?;
        let targets: Vec<f64> = (0..self.points)
            // Stop a hair short of the top: the maximum-return portfolio is
            // a vertex where the target row is only just feasible.
            .map(|i| lo + (hi - lo) * (i as f64) / (self.points as f64 - 1.0) * (1.0 - 1e-9))
            .collect();
        // Points are independent: one solver per core, each reusing its
        // set-up across its share of the targets.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(targets.len()).max(1);
        let chunk = targets.len().div_ceil(threads);
        let solve_chunk = |ts: &[f64]| -> Result<Vec<Allocation>> {
            let mut session = Session::new(&p)?;
            ts.iter()
                .map(|&target| {
                    session.set_b(pos, -target)?;
                    let sol = session.solve()?;
                    let label = format!("minimum variance at return ≥ {target}");
                    super::finish(label, m, &sol, &c, self.risk_free, Readout::Direct)
                })
                .collect()
        };
        let parts = crate::parallel::map("frontier point", targets.chunks(chunk).collect(), solve_chunk)?;
        let points: Vec<Allocation> = parts.into_iter().flatten().collect();
        let mut failures = Vec::new();
        let mut keep = |name: &str, solved: Result<Allocation>| match solved {
            Ok(a) => Some(a),
            Err(e) => {
                failures.push((name.to_string(), e.to_string()));
                None
            }
        };
        let max_sharpe = keep(
            "maximum Sharpe",
            Optimizer::max_sharpe(self.risk_free).constraints(self.constraints.clone()).solve(m),
        );
        let risk_parity =
            if c.is_long_only_default() { keep("risk parity", Optimizer::risk_parity().solve(m)) } else { None };
        let vol = m.volatility();
        let assets = m.assets().iter().enumerate().map(|(i, a)| (a.clone(), m.mean()[i], vol[i])).collect();
        Ok(Frontier {
            points,
            min_variance: min_var,
            max_sharpe,
            risk_parity,
            failures,
            assets,
            seconds: t0.elapsed().as_secs_f64(),
        })
    }
}
