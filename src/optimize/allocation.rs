//! The result of one portfolio optimisation.

use ndarray::Array1;
use plotly::common::Mode;
use plotly::layout::{Axis, Layout};
use plotly::{Bar, Plot};

use crate::display::{Cell, Table};
use crate::error::SolverStatus;
use crate::estimate::Moments;
use crate::optimize::{Finish, RiskMeasure};

/// The risk measure an allocation minimised, its name and its value.
#[derive(Debug, Clone, PartialEq)]
struct Reported {
    measure: RiskMeasure,
    name: String,
    value: f64,
}

/// What produced an allocation, and what it reports of itself.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Provenance {
    /// An interior-point solve on Clarabel.
    Solver {
        /// The solver's status (always solved: other outcomes are errors).
        status: SolverStatus,
        /// The tolerance the solve met: 1e-10, or Clarabel's default 1e-8
        /// when the tight first attempt stopped just short.
        tolerance: f64,
        /// Interior-point iterations.
        iterations: u32,
        /// Wall time, seconds (the finish included).
        seconds: f64,
        /// How the interior point was finished: at its vertex (a linear
        /// program), on its active set (a quadratic one), or not.
        finish: Finish,
    },
    /// The critical line algorithm: exact, from its turning points; no
    /// iterative solver.
    CriticalLine {
        /// Turning points of the frontier.
        turning_points: usize,
        /// Wall time for this point (the frontier's time over its points), seconds.
        seconds: f64,
    },
    /// Newton's method on a smooth risk-budgeting objective (variance,
    /// standard deviation, semideviation, EVaR): no interior-point solve.
    Newton {
        /// Newton steps from 1/N.
        steps: u32,
        /// The contributions' largest distance from their budgets,
        /// relative to the budget.
        residual: f64,
        /// Wall time, seconds.
        seconds: f64,
    },
    /// A hierarchical allocation (HRP, HERC: recursive rules, no solver;
    /// NCO: a solve per cluster).
    Hierarchical {
        /// The method, as its label says.
        method: String,
        /// Wall time, seconds.
        seconds: f64,
    },
}

impl Provenance {
    /// Wall time, seconds.
    pub fn seconds(&self) -> f64 {
        match self {
            Provenance::Solver { seconds, .. }
            | Provenance::Newton { seconds, .. }
            | Provenance::CriticalLine { seconds, .. }
            | Provenance::Hierarchical { seconds, .. } => *seconds,
        }
    }
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = 1e3 * self.seconds();
        match self {
            Provenance::Solver { status, tolerance, iterations, finish, .. } => {
                write!(
                    f,
                    "Clarabel {status} (tolerance {tolerance:.0e}) in {iterations} iterations, {finish}, {ms:.2} ms"
                )
            }
            Provenance::Newton { steps, residual, .. } => {
                write!(
                    f,
                    "Newton's method, contributions within {residual:.0e} of the budgets in {steps} steps, {ms:.2} ms"
                )
            }
            Provenance::CriticalLine { turning_points, .. } => {
                write!(f, "critical line, exact from {turning_points} turning points, {ms:.2} ms")
            }
            Provenance::Hierarchical { method, .. } => write!(f, "{method}, {ms:.2} ms"),
        }
    }
}

/// Named weights with their risk and return under the moments used.
///
/// Risk contributions are $RC_i = w_i(\Sigma w)_i / (w^\top\Sigma w)$ (they
/// sum to 1); the Sharpe ratio is $(\mu^\top w - r_f)/\sqrt{w^\top\Sigma w}$
/// with the objective's risk-free rate (0 unless it has one).
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    objective: String,
    assets: Vec<String>,
    weights: Array1<f64>,
    expected_return: f64,
    volatility: f64,
    risk_free: f64,
    risk_contributions: Array1<f64>,
    turnover: Option<f64>,
    risk: Option<Reported>,
    worst_case: Option<f64>,
    annualized: bool,
    provenance: Provenance,
    search: Option<super::Search>,
}

impl Allocation {
    pub(crate) fn new(
        objective: String,
        m: &Moments,
        weights: Array1<f64>,
        risk_free: f64,
        previous: Option<Array1<f64>>,
        provenance: Provenance,
    ) -> Self {
        // Euler contributions w_i ∂ρ/∂w_i / (2ρ) of the variance; for a
        // covariance box's worst case the half-width's term contributes
        // |w_i| (R|w|)_i.
        let sw = m.cov().dot(&weights);
        let mut var = weights.dot(&sw);
        let mut part = &weights * &sw;
        if let Some(h) = m.spread() {
            let a = weights.mapv(f64::abs);
            let extra = &a * &h.dot(&h.t().dot(&a));
            var += extra.sum();
            part += &extra;
        }
        let rc = if var > 0.0 { part / var } else { Array1::zeros(weights.len()) };
        Allocation {
            objective,
            assets: m.assets().to_vec(),
            expected_return: m.mean().dot(&weights),
            volatility: var.max(0.0).sqrt(),
            risk_free,
            risk_contributions: rc,
            turnover: previous.map(|p| (&weights - &p).mapv(f64::abs).sum()),
            risk: None,
            worst_case: None,
            annualized: m.is_annualized(),
            weights,
            provenance,
            search: None,
        }
    }

    pub(crate) fn set_worst_case(&mut self, value: f64) {
        self.worst_case = Some(value);
    }

    pub(crate) fn set_search(&mut self, search: super::Search) {
        self.search = Some(search);
    }

    pub(crate) fn set_risk(&mut self, measure: RiskMeasure, name: String, value: f64) {
        self.risk = Some(Reported { measure, name, value });
    }

    /// The same allocation under another label (shown in tables and
    /// comparisons instead of the objective's name).
    pub fn named(mut self, label: impl Into<String>) -> Allocation {
        self.objective = label.into();
        self
    }

    /// What was optimised (or the label given with [`named`](Self::named)).
    pub fn objective(&self) -> &str {
        &self.objective
    }

    /// Asset names.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// Weights, in asset order.
    pub fn weights(&self) -> &Array1<f64> {
        &self.weights
    }

    /// Weight of one asset (`None` if unknown).
    pub fn weight(&self, asset: &str) -> Option<f64> {
        self.assets.iter().position(|a| a == asset).map(|i| self.weights[i])
    }

    /// The `k` largest weights, largest first (ties in asset order).
    pub fn largest(&self, k: usize) -> Vec<(&str, f64)> {
        let w = self.weights.to_vec();
        let order = crate::stats::descending(&w);
        order.into_iter().take(k).map(|i| (self.assets[i].as_str(), self.weights[i])).collect()
    }

    /// The `k` largest weights of each allocation, one row each.
    pub fn largest_table(allocations: &[&Allocation], k: usize) -> Table {
        let mut head = vec!["allocation".to_string()];
        head.extend((1..=k).map(|r| format!("#{r}")));
        let mut t = Table::new(head).caption(format!("The {k} largest weights"));
        for a in allocations {
            let mut row = vec![Cell::from(a.objective())];
            row.extend(a.largest(k).into_iter().map(|(name, w)| Cell::Text(format!("{name} {:.1} %", 100.0 * w))));
            row.resize(k + 1, Cell::Text(String::new()));
            t.push(row);
        }
        t
    }

    /// Cash, $1 - \sum_i w_i$.
    pub fn cash(&self) -> f64 {
        1.0 - self.weights.sum()
    }

    /// Expected return $\mu^\top w$.
    pub fn expected_return(&self) -> f64 {
        self.expected_return
    }

    /// Volatility $\sqrt{w^\top\Sigma w}$.
    pub fn volatility(&self) -> f64 {
        self.volatility
    }

    /// Sharpe ratio over the objective's risk-free rate.
    pub fn sharpe(&self) -> f64 {
        (self.expected_return - self.risk_free) / self.volatility
    }

    /// Risk contributions (sum to 1).
    pub fn risk_contributions(&self) -> &Array1<f64> {
        &self.risk_contributions
    }

    /// $\sum_i |w_i - w^{prev}_i|$ when previous weights were given.
    pub fn turnover(&self) -> Option<f64> {
        self.turnover
    }

    /// Conditional value at risk (a loss, per period) for minimum-CVaR solves.
    pub fn cvar(&self) -> Option<f64> {
        self.risk.as_ref().filter(|r| matches!(r.measure, RiskMeasure::Cvar { .. })).map(|r| r.value)
    }

    /// The risk measure a minimum-risk solve minimised, and its value at the
    /// optimum (per period, in return units).
    pub fn risk(&self) -> Option<(&str, f64)> {
        self.risk.as_ref().map(|r| (r.name.as_str(), r.value))
    }

    /// The optimal worst-case value a robust objective minimised (per
    /// period): for [`Optimizer::dr_cvar`](super::Optimizer::dr_cvar),
    /// −mean + ρ·CVaR under the worst distribution in the ball, plus the
    /// trading cost where trades are priced. `None` for other objectives.
    pub fn worst_case(&self) -> Option<f64> {
        self.worst_case
    }

    /// The branch and bound that met holding rules (cardinality, minimum
    /// positions), where there were any: whether the portfolio is proven
    /// optimal, and its gap when a limit stopped the search.
    pub fn search(&self) -> Option<&super::Search> {
        self.search.as_ref()
    }

    /// What produced the allocation: a solver with its report, Newton's
    /// method, the critical line, or a hierarchical method.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The solver's status, where a solver produced the allocation
    /// (always solved: other outcomes are errors).
    pub fn status(&self) -> Option<SolverStatus> {
        match self.provenance {
            Provenance::Solver { status, .. } => Some(status),
            _ => None,
        }
    }

    /// The tolerance the solve met, where a solver produced the
    /// allocation: 1e-10, or Clarabel's default 1e-8 when the tight first
    /// attempt stopped just short.
    pub fn tolerance(&self) -> Option<f64> {
        match self.provenance {
            Provenance::Solver { tolerance, .. } => Some(tolerance),
            _ => None,
        }
    }

    /// Interior-point iterations, or Newton steps, where either produced
    /// the allocation.
    pub fn iterations(&self) -> Option<u32> {
        match self.provenance {
            Provenance::Solver { iterations, .. } | Provenance::Newton { steps: iterations, .. } => Some(iterations),
            _ => None,
        }
    }

    /// Wall time of whatever produced the allocation, seconds.
    pub fn solve_seconds(&self) -> f64 {
        self.provenance.seconds()
    }

    /// Weights and risk contributions as a table, with the portfolio's
    /// statistics in the caption.
    pub fn table(&self) -> Table {
        let unit = if self.annualized { "annualised" } else { "per period" };
        let mut caption = format!(
            "{} · expected return {:.2}% · volatility {:.2}% · Sharpe {:.3} ({unit}, in-sample moments)",
            self.objective,
            100.0 * self.expected_return,
            100.0 * self.volatility,
            self.sharpe()
        );
        if let Some(t) = self.turnover {
            caption.push_str(&format!(" · turnover {:.1}%", 100.0 * t));
        }
        if let Some(Reported { name, value: c, .. }) = &self.risk {
            caption.push_str(&format!(" · {name} {:.3}%", 100.0 * c));
        }
        caption.push_str(&format!(" · {}", self.provenance));
        if let Some(s) = &self.search {
            caption.push_str(&format!(" · {s}"));
        }
        let mut t = Table::new(["asset", "weight", "risk contribution"]).caption(caption);
        for (i, a) in self.assets.iter().enumerate() {
            t.push(vec![
                Cell::from(a.as_str()),
                Cell::Pct(self.weights[i], 2),
                Cell::Pct(self.risk_contributions[i], 2),
            ]);
        }
        if self.cash().abs() > 1e-9 {
            t.push(vec![Cell::from("cash"), Cell::Pct(self.cash(), 2), Cell::Pct(0.0, 2)]);
        }
        t.capped(60)
    }

    /// Bar chart of the weights.
    pub fn plot_weights(&self) -> Plot {
        let mut plot = Plot::new();
        plot.add_trace(
            Bar::new(self.assets.clone(), self.weights.iter().map(|w| crate::plot::round6(*w)).collect())
                .name("weight"),
        );
        plot.add_trace(
            plotly::Scatter::new(
                self.assets.clone(),
                self.risk_contributions.iter().map(|w| crate::plot::round6(*w)).collect(),
            )
            .mode(Mode::Markers)
            .name("risk contribution"),
        );
        plot.set_layout(
            Layout::new()
                .title(format!("Weights: {}", self.objective))
                .y_axis(Axis::new().title("fraction").tick_format(".0%"))
                .height(420),
        );
        plot
    }
}

crate::shows_as_table!(Allocation);
