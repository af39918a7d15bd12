//! One result for any allocation: a [`Portfolio`] is the return path of
//! weights held through a period (walked forward by the backtest, or bought
//! once and held by [`OutOfSample`](crate::optimize::OutOfSample)), with one
//! set of [`Metrics`]; a [`Population`] is several of them over the same
//! dates, beside 1/N, and states its [`Verdicts`] against 1/N.
//!
//! Every path is produced by one simulation, in currency: holdings $h_i$
//! and a cash account $c$, wealth $V = \sum_i h_i + c$. On a decision
//! before period $e$ the positions move to the target weights of the
//! pre-trade wealth, $h^+_i = w_i V$, and the trade's costs $C$ (the
//! [`CostModel`](crate::market::CostModel): proportional, per share, fixed,
//! impact) and the holding costs of the period (borrow fees) are paid from
//! cash. The period earns
//! $r^{gross}_e = \big(\sum_i h^+_i R_{i,e} + c^+ r^{cash}_e\big)/V$ and
//! $r^{net}_e = V_{e}/V - 1$ with
//! $V_e = \sum_i h^+_i (1+R_{i,e}) + (c^+ - C)(1 + r^{cash}_e)$; between
//! trades the positions drift with prices. A position in an asset that
//! leaves the universe is sold at its last value into cash (times one plus
//! a delisting return, when one is given).

mod attribution;
pub mod metrics;
mod simulate;
mod verdict;

use crate::parameter::Portfolio as Param;
use chrono::NaiveDate;
use ndarray::Array1;
use plotly::common::Mode;
use plotly::layout::{Axis, Layout};
use plotly::{Plot, Scatter};

use crate::display::{Cell, Table};
use crate::market::N_COSTS;
use crate::plot::round6;
pub use attribution::Difference;
pub use metrics::{expected_max_sharpe, Metrics};
pub(crate) use simulate::{simulate, Cash, Market};
pub use verdict::{Verdict, VerdictRow, Verdicts};

/// Name of the equal-weight baseline every population includes.
pub const EQUAL_WEIGHT: &str = "1/N (equal weight)";

/// A trade: the target weights set at a date's close.
#[derive(Debug, Clone, PartialEq)]
pub struct Rebalance {
    /// Decision date.
    pub date: NaiveDate,
    /// Target weights (the rest is cash).
    pub weights: Array1<f64>,
    /// $\sum_i |w_i - w^{drift}_i|$.
    pub turnover: f64,
    /// Cost as a fraction of wealth.
    pub cost: f64,
}

/// A position sold because its asset left the universe.
#[derive(Debug, Clone, PartialEq)]
pub struct Exit {
    /// Position in the path of the period it left before.
    pub(crate) row: usize,
    /// Column of the asset.
    pub(crate) asset: usize,
    /// The position as a share of the wealth.
    pub weight: f64,
    /// The delisting return applied to its last value.
    pub delisting: f64,
}

/// The return path of one allocation through a period: walked forward with
/// its trades, or bought and held.
#[derive(Debug, Clone, PartialEq)]
pub struct Portfolio {
    /// Strategy name.
    pub name: String,
    /// Asset names.
    pub assets: Vec<String>,
    /// Dates of the returns earned (the day after the first decision onwards).
    pub dates: Vec<NaiveDate>,
    /// Returns before costs.
    pub gross: Vec<f64>,
    /// Returns after costs.
    pub net: Vec<f64>,
    /// Every trade.
    pub rebalances: Vec<Rebalance>,
    /// Dates on which the strategy failed and kept its weights, with why.
    pub failures: Vec<(NaiveDate, String)>,
    /// Positions sold because their asset left the universe.
    pub exits: Vec<Exit>,
    /// The date on which wealth reached zero, ending the run (see the
    /// backtest's ruin rule), if it did.
    ruin: Option<NaiveDate>,
    /// Costs of each period by component ([`COST_COMPONENTS`](crate::market::COST_COMPONENTS)), as
    /// fractions of the wealth at its start.
    costs: Vec<[f64; N_COSTS]>,
    capital: f64,
    periods_per_year: f64,
    risk_free: f64,
}

impl Portfolio {
    /// A simulated path over `dates` (one per return earned), with the
    /// annual risk-free rate its Sharpe ratios are measured against.
    pub(crate) fn new(
        name: String,
        assets: Vec<String>,
        dates: Vec<NaiveDate>,
        path: simulate::Path,
        capital: f64,
        periods_per_year: f64,
        risk_free: f64,
    ) -> Self {
        let simulate::Path { gross, net, rebalances, costs, exits, ruin } = path;
        let ruin = ruin.and_then(|i| dates.get(i).copied());
        Portfolio {
            name,
            assets,
            dates,
            gross,
            net,
            rebalances,
            failures: Vec::new(),
            exits,
            ruin,
            costs,
            capital,
            periods_per_year,
            risk_free,
        }
    }

    /// Starting wealth, in currency.
    pub fn capital(&self) -> f64 {
        self.capital
    }

    /// Wealth in currency at the end of each period.
    pub fn wealth(&self) -> Vec<f64> {
        self.equity().iter().map(|e| e * self.capital).collect()
    }

    /// Costs of each period by component ([`COST_COMPONENTS`](crate::market::COST_COMPONENTS)), as
    /// fractions of the wealth at the period's start.
    pub fn cost_path(&self) -> &[[f64; N_COSTS]] {
        &self.costs
    }

    /// Total cost of each component ([`COST_COMPONENTS`](crate::market::COST_COMPONENTS)) over the run:
    /// the sum of its per-period fractions of wealth.
    pub fn costs_by_component(&self) -> [f64; N_COSTS] {
        let mut total = [0.0; N_COSTS];
        for c in &self.costs {
            for (t, x) in total.iter_mut().zip(c) {
                *t += x;
            }
        }
        total
    }

    /// The date and asset name of each position sold because its asset
    /// left the universe, with its weight and the delisting return applied.
    pub fn exits(&self) -> Vec<(NaiveDate, &str, f64, f64)> {
        self.exits
            .iter()
            .map(|x| {
                let date = if x.row == 0 { self.dates[0] } else { self.dates[x.row - 1] };
                (date, self.assets[x.asset].as_str(), x.weight, x.delisting)
            })
            .collect()
    }

    /// The date on which wealth reached zero and the run ended, if it did.
    pub fn ruin(&self) -> Option<NaiveDate> {
        self.ruin
    }

    /// Observations per year.
    pub fn periods_per_year(&self) -> f64 {
        self.periods_per_year
    }

    /// The annual risk-free rate its Sharpe ratios are measured against.
    pub fn risk_free(&self) -> f64 {
        self.risk_free
    }

    /// Metrics of the net returns.
    pub fn metrics(&self) -> Metrics {
        Metrics::compute(&self.net, &self.dates, self.periods_per_year, self.risk_free)
    }

    /// Metrics of the gross returns.
    pub fn gross_metrics(&self) -> Metrics {
        Metrics::compute(&self.gross, &self.dates, self.periods_per_year, self.risk_free)
    }

    /// Net wealth path starting at 1 (one entry per date).
    pub fn equity(&self) -> Vec<f64> {
        self.net
            .iter()
            .scan(1.0, |w, r| {
                *w *= 1.0 + r;
                Some(*w)
            })
            .collect()
    }

    /// Mean turnover per rebalance.
    pub fn average_turnover(&self) -> f64 {
        if self.rebalances.is_empty() {
            0.0
        } else {
            self.rebalances.iter().map(|r| r.turnover).sum::<f64>() / self.rebalances.len() as f64
        }
    }

    /// Sum of all costs (trading and holding) as fractions of the wealth
    /// they were paid from.
    pub fn total_cost(&self) -> f64 {
        self.costs_by_component().iter().sum()
    }

    /// Years the path covers (periods over periods per year).
    fn years(&self) -> f64 {
        self.net.len() as f64 / self.periods_per_year
    }

    /// Annual turnover: the sum of $\sum_i |w_i - w^{drift}_i|$ over the
    /// trades, per year.
    pub fn annual_turnover(&self) -> f64 {
        self.rebalances.iter().map(|r| r.turnover).sum::<f64>() / self.years()
    }
}

/// Several portfolios over the same dates, 1/N among them.
#[derive(Debug, Clone)]
pub struct Population {
    /// One portfolio per strategy or allocation, 1/N first.
    pub reports: Vec<Portfolio>,
    caption: String,
}

impl Population {
    pub(crate) fn new(reports: Vec<Portfolio>, caption: impl Into<String>) -> Self {
        Population { reports, caption: caption.into() }
    }

    /// A portfolio by name.
    pub fn get(&self, name: &str) -> Option<&Portfolio> {
        self.reports.iter().find(|r| r.name == name)
    }

    /// The 1/N baseline.
    pub fn baseline(&self) -> Option<&Portfolio> {
        self.get(EQUAL_WEIGHT)
    }

    /// For each portfolio but 1/N, whether its Sharpe ratio net of costs
    /// beats 1/N's: the probabilistic Sharpe ratio against 1/N's measured
    /// Sharpe ratio ≥ 95 % beats it, ≤ 5 % is worse, anything between is
    /// indistinguishable.
    pub fn verdicts(&self) -> Verdicts {
        Verdicts::of(self)
    }

    /// Variance of the strategies' periodic Sharpe ratios (for the deflated
    /// Sharpe ratio).
    fn sharpe_variance(&self, ms: &[Metrics]) -> f64 {
        let srs: Vec<f64> = ms.iter().map(|m| m.sharpe_periodic).collect();
        let s = crate::stats::std(&srs);
        if s.is_finite() {
            s * s
        } else {
            0.0
        }
    }

    /// All metrics, net of costs, with the probabilistic Sharpe ratio against
    /// 1/N's measured Sharpe ratio, and the deflated Sharpe ratio: the
    /// probability that the true Sharpe ratio is above zero once the number
    /// of strategies tried (and the spread of their Sharpe ratios) is
    /// accounted for.
    pub fn table(&self) -> Table {
        let ms: Vec<Metrics> = self.reports.iter().map(Portfolio::metrics).collect();
        let bench = self.reports.iter().position(|r| r.name == EQUAL_WEIGHT).map(|i| ms[i].sharpe_periodic);
        let var = self.sharpe_variance(&ms);
        let trials = self.reports.len();
        let first = self.reports.first();
        let mut t = Table::new([
            "strategy",
            "CAGR",
            "vol",
            "Sharpe",
            "± s.e.",
            "Sortino",
            "max DD",
            "Calmar",
            "hit",
            "VaR 95",
            "CVaR 95",
            "turnover",
            "cost",
            "PSR vs 1/N",
            "DSR (SR > 0)",
        ])
        .caption(format!(
            "{} · {} → {} · {} strategies tried (DSR deflates for them)",
            self.caption,
            first.and_then(|r| r.dates.first()).map_or(String::new(), |d| d.to_string()),
            first.and_then(|r| r.dates.last()).map_or(String::new(), |d| d.to_string()),
            trials
        ));
        for (r, m) in self.reports.iter().zip(&ms) {
            let k = r.periods_per_year.sqrt();
            let name = match r.ruin {
                Some(d) => format!("{} (ruined {d})", r.name),
                None => r.name.clone(),
            };
            t.push(vec![
                Cell::Text(name),
                Cell::Pct(m.cagr, 1),
                Cell::Pct(m.volatility, 1),
                Cell::Num(m.sharpe, 2),
                Cell::Num(m.sharpe_se * k, 2),
                Cell::Num(m.sortino, 2),
                Cell::Pct(m.max_drawdown, 1),
                Cell::Num(m.calmar, 2),
                Cell::Pct(m.hit_rate, 1),
                Cell::Pct(m.var95, 2),
                Cell::Pct(m.cvar95, 2),
                Cell::Pct(r.average_turnover(), 1),
                Cell::Pct(r.total_cost(), 2),
                Cell::Pct(bench.map_or(f64::NAN, |b| m.psr(b)), 1),
                Cell::Pct(m.psr(expected_max_sharpe(trials, var)), 1),
            ]);
        }
        t
    }

    /// Gross and net of costs side by side: CAGR, volatility, Sharpe ratio,
    /// turnover and the total cost paid.
    pub fn gross_net_table(&self) -> Table {
        let mut t =
            Table::new(["strategy", "CAGR gross", "CAGR net", "vol", "Sharpe gross", "Sharpe net", "turnover", "cost"])
                .caption("Walk-forward, before and after costs");
        for r in &self.reports {
            let (g, n) = (r.gross_metrics(), r.metrics());
            t.push(vec![
                Cell::from(r.name.as_str()),
                Cell::Pct(g.cagr, 2),
                Cell::Pct(n.cagr, 2),
                Cell::Pct(n.volatility, 1),
                Cell::Num(g.sharpe, 2),
                Cell::Num(n.sharpe, 2),
                Cell::Pct(r.average_turnover(), 1),
                Cell::Pct(r.total_cost(), 2),
            ]);
        }
        t
    }

    /// Each strategy as a point: annualised volatility against CAGR, net of
    /// costs.
    pub fn plot_risk_return(&self) -> Plot {
        let points: Vec<(String, f64, f64)> = self
            .reports
            .iter()
            .map(|r| {
                let m = r.metrics();
                (r.name.clone(), m.volatility, m.cagr)
            })
            .collect();
        crate::plot::labelled_points(
            "Risk and return, net of costs",
            &points,
            ("volatility (annualised)", ".0%"),
            ("CAGR", ".1%"),
        )
    }

    /// Net equity curves on a log axis.
    pub fn plot_equity(&self) -> Plot {
        let series: Vec<(String, Vec<f64>)> = self.reports.iter().map(|r| (r.name.clone(), r.equity())).collect();
        let dates = self.reports.first().map_or(&[][..], |r| &r.dates[..]);
        crate::plot::lines("Net equity (growth of 1)", dates, &series, "wealth", true)
    }

    /// Drawdowns of the net equity curves.
    pub fn plot_drawdowns(&self) -> Plot {
        let series: Vec<(String, Vec<f64>)> = self
            .reports
            .iter()
            .map(|r| {
                let mut peak = f64::NEG_INFINITY;
                let dd = r
                    .equity()
                    .iter()
                    .map(|w| {
                        peak = peak.max(*w);
                        w / peak - 1.0
                    })
                    .collect();
                (r.name.clone(), dd)
            })
            .collect();
        let dates = self.reports.first().map_or(&[][..], |r| &r.dates[..]);
        crate::plot::lines("Drawdown of net equity", dates, &series, "drawdown", false)
    }

    /// Rolling Sharpe ratio over `window` periods (annualised, net).
    pub fn plot_rolling_sharpe(&self, window: usize) -> Plot {
        let window = window.max(2);
        let series: Vec<(String, Vec<f64>)> = self
            .reports
            .iter()
            .map(|r| {
                let k = r.periods_per_year.sqrt();
                let v = (0..r.net.len())
                    .map(|t| {
                        if t + 1 < window {
                            f64::NAN
                        } else {
                            let s = &r.net[t + 1 - window..=t];
                            crate::stats::mean(s) / crate::stats::std(s) * k
                        }
                    })
                    .collect();
                (r.name.clone(), v)
            })
            .collect();
        let dates = self.reports.first().map_or(&[][..], |r| &r.dates[..]);
        crate::plot::lines(&format!("Rolling {window}-period Sharpe ratio (net)"), dates, &series, "Sharpe", false)
    }

    /// The target weights of one strategy at each rebalance, as stacked areas.
    pub fn plot_weights(&self, name: &str) -> crate::Result<Plot> {
        let r = self.get(name).ok_or_else(|| {
            crate::Error::param(
                Param::Strategy,
                format!(
                    "{name:?} is not in this comparison; it has {:?}",
                    self.reports.iter().map(|r| r.name.as_str()).collect::<Vec<_>>()
                ),
            )
        })?;
        let x: Vec<String> = r.rebalances.iter().map(|b| b.date.to_string()).collect();
        let mut plot = Plot::new();
        for (j, a) in r.assets.iter().enumerate() {
            let y: Vec<f64> = r.rebalances.iter().map(|b| round6(b.weights[j])).collect();
            plot.add_trace(Scatter::new(x.clone(), y).name(a).mode(Mode::Lines).stack_group("w"));
        }
        plot.set_layout(
            Layout::new()
                .title(format!("Target weights: {name}"))
                .y_axis(Axis::new().title("weight").tick_format(".0%"))
                .height(460),
        );
        Ok(plot)
    }
}

crate::shows_as_table!(Population);

/// Portfolio weights by asset (the rest, if they sum to less than 1, in
/// cash); renders as a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    assets: Vec<String>,
    values: Array1<f64>,
}

impl Weights {
    /// Weights of the named assets, one value each.
    pub fn new(assets: Vec<String>, values: Array1<f64>) -> crate::Result<Weights> {
        if assets.len() != values.len() {
            return Err(crate::Error::Shape(format!("{} weights for {} assets", values.len(), assets.len())));
        }
        crate::Error::unique(Param::Weights, &assets)?;
        if let Some((a, v)) = assets.iter().zip(&values).find(|(_, v)| !v.is_finite()) {
            return Err(crate::Error::param(Param::Weights, format!("of {a} must be finite, got {v}")));
        }
        Ok(Weights { assets, values })
    }

    /// Asset names, in the order of the values.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// The weights.
    pub fn values(&self) -> &Array1<f64> {
        &self.values
    }

    /// The weights, consumed.
    pub fn into_values(self) -> Array1<f64> {
        self.values
    }

    /// The weight of one asset.
    pub fn get(&self, asset: &str) -> Option<f64> {
        self.assets.iter().position(|a| a == asset).map(|j| self.values[j])
    }

    /// One row per asset.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["asset", "weight"]).caption(format!(
            "{} assets · invested {:.1} %",
            self.assets.len(),
            100.0 * self.values.sum()
        ));
        for (a, w) in self.assets.iter().zip(&self.values) {
            t.push(vec![Cell::from(a.as_str()), Cell::Pct(*w, 2)]);
        }
        t
    }
}

crate::shows_as_table!(Weights);
