//! The efficient frontier: minimum variance over a grid of target returns.

use crate::parameter::Optimize as Param;
use std::time::Instant;

use plotly::common::{Marker, Mode};
use plotly::layout::{Axis, Layout};
use plotly::{Plot, Scatter};

use super::objective::Inputs;
use super::objective::{constrained, max_return, net_loss, Constrained, Readout};
use super::problem::Session;
use super::risk::{Risk, RiskMeasure, Variance};
use super::Reduction;
use super::{Allocation, Constraints, CriticalLine, Optimizer};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::estimate::Moments;

/// Builder for a [`Frontier`].
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierParams {
    points: usize,
    risk_free: f64,
    constraints: Constraints,
    measure: RiskMeasure,
    critical_line: bool,
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
    /// The scenario measure traced, `None` for variance.
    measure: Option<String>,
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
        FrontierParams {
            points: 100,
            risk_free: 0.0,
            constraints: Constraints::long_only(),
            measure: RiskMeasure::Variance,
            critical_line: false,
        }
    }

    /// Total wall time of all solves, seconds.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Summary table: one row per tenth of the points plus the special portfolios.
    pub fn table(&self) -> Table {
        let measure = self.measure.as_deref();
        let mut caption = format!(
            "{} frontier · {} points · {:.1} ms of solves in total (in-sample {})",
            measure.map_or("Efficient".to_string(), |m| format!("Mean–{m}")),
            self.points.len(),
            1e3 * self.seconds,
            if measure.is_some() { "scenarios" } else { "moments" },
        );
        for (name, why) in &self.failures {
            caption.push_str(&format!(" · no {name}: {why}"));
        }
        let mut t =
            Table::new(["portfolio", "expected return", "volatility", measure.unwrap_or("Sharpe")]).caption(caption);
        let mut row = |name: String, a: &Allocation| {
            let last = match a.risk() {
                Some((_, v)) => Cell::Pct(v, 3),
                None => Cell::Num(a.sharpe(), 3),
            };
            t.push(vec![Cell::Text(name), Cell::Pct(a.expected_return(), 2), Cell::Pct(a.volatility(), 2), last]);
        };
        row(format!("minimum {}", measure.unwrap_or("variance")), &self.min_variance);
        if let Some(a) = &self.max_sharpe {
            row(if measure.is_some() { "maximum ratio" } else { "maximum Sharpe" }.into(), a);
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
        // Volatility for the mean–variance frontier, else the measure itself.
        let risk = |a: &Allocation| a.risk().map_or(a.volatility(), |r| r.1);
        let mut plot = Plot::new();
        plot.add_trace(
            Scatter::new(
                self.points.iter().map(|a| pct(risk(a))).collect(),
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
                Scatter::new(vec![pct(risk(a))], vec![pct(a.expected_return())])
                    .mode(Mode::Markers)
                    .marker(Marker::new().size(13))
                    .name(name),
            );
        }
        plot.set_layout(
            Layout::new()
                .title(match &self.measure {
                    None => "Efficient frontier (in-sample moments)".to_string(),
                    Some(r) => format!("Mean–{r} frontier (in-sample scenarios)"),
                })
                .x_axis(Axis::new().title(format!("{}, %", self.measure.as_deref().unwrap_or("volatility"))))
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

    /// The risk measure the frontier minimises at each target return
    /// (default variance); any measure other than variance is traced on
    /// return scenarios with [`solve_scenarios`](Self::solve_scenarios).
    pub fn measure(mut self, m: RiskMeasure) -> Self {
        self.measure = m;
        self
    }

    /// Traces the variance frontier's points by the critical line
    /// algorithm ([`CriticalLine`]) instead of one Clarabel solve each:
    /// exact, in a fraction of the time. The constraints must be per-asset
    /// bounds with full investment (the default long-only ones, `bounds`,
    /// `asset_bounds`); others are named in the error. The special
    /// portfolios (minimum variance, maximum Sharpe, risk parity) are
    /// solved as without it.
    pub fn critical_line(mut self) -> Self {
        self.critical_line = true;
        self
    }

    /// The frontier of a scenario risk measure on `returns` (simple
    /// returns, equally likely rows; the mean is their sample mean): from
    /// the minimum-risk portfolio's mean return to the highest achievable,
    /// with the maximum return/risk ratio portfolio.
    pub fn solve_scenarios(&self, returns: &crate::data::Returns) -> Result<Frontier> {
        let m = Moments::sample().fit(returns)?;
        let simple = returns.as_simple();
        self.trace(&Inputs {
            moments: &m,
            scenarios: Some(simple.values()),
            probabilities: None,
            reduction: Reduction::Auto,
            mean_set: None,
        })
    }

    /// The frontier of a scenario risk measure (or of variance) on the
    /// scenarios of an entropy pooling, each weighed by its posterior
    /// probability; the mean and covariance are the posterior's. The
    /// measures are those [`Optimizer::solve_pooled`] takes; others are
    /// typed errors. Equally likely scenarios trace
    /// [`solve_scenarios`](Self::solve_scenarios)' frontier, to the bit.
    pub fn solve_pooled(&self, pooled: &crate::estimate::EntropyPooled) -> Result<Frontier> {
        let m = pooled.moments();
        let equal = pooled.equally_likely();
        self.trace(&Inputs {
            moments: &m,
            scenarios: Some(pooled.scenarios()),
            probabilities: (!equal).then(|| pooled.probabilities().view()),
            reduction: Reduction::Auto,
            mean_set: None,
        })
    }

    /// The measure of the portfolio returns `y` on the scenarios of `x`:
    /// weighed by their probabilities where they have them.
    fn measure_of(&self, x: &Inputs<'_>, y: &[f64]) -> Result<f64> {
        match x.probabilities {
            Some(p) => match p.as_slice() {
                Some(p) => self.measure.of_weighted(y, p),
                None => self.measure.of_weighted(y, &p.to_vec()),
            },
            None => Ok(self.measure.of(y)),
        }
    }

    /// Traces the frontier from the minimum-variance return to the highest
    /// achievable return, in `points` equal steps. The points are shared
    /// among the cores; on each, one Clarabel solver is set up once and only
    /// the target in $b$ changes between its points.
    pub fn solve(&self, m: &Moments) -> Result<Frontier> {
        self.trace(&Inputs {
            moments: m,
            scenarios: None,
            probabilities: None,
            reduction: Reduction::Auto,
            mean_set: None,
        })
    }

    /// The frontier points from Clarabel: one solver per core, each reusing
    /// its set-up across its share of the targets.
    fn clarabel_points(
        &self,
        x: &Inputs<'_>,
        c: &super::constraints::Resolved,
        term: Option<&(dyn Risk + '_)>,
        lo: f64,
    ) -> Result<Vec<Allocation>> {
        let m = x.moments;
        let hi = max_return(x, &self.constraints)?;
        let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
        // Expected net return ≥ target, the target changed point by point.
        let loss = net_loss(&mut p, x, c, w, t);
        let k = p.le(loss, -lo);
        match term {
            None => Variance(m).add(&mut p, w, 1.0)?,
            Some(risk) => risk.add(&mut p, w, 1.0)?,
        }
        // After the risk term: its equalities come first in b and move the row.
        let pos = p.le_position(k);
        let risk_name = term.as_ref().map(|r| r.name());
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
            let mut local = p.clone();
            ts.iter()
                .map(|&target| {
                    session.set_b(pos, -target)?;
                    local.set_le_rhs(k, -target);
                    let sol = local.polished(session.solve()?);
                    let name = risk_name.clone().unwrap_or_else(|| "variance".into());
                    let label = format!("minimum {name} at return ≥ {target}");
                    let mut a = super::finish(label, m, &sol, c, self.risk_free, Readout::Direct(w), &[])?;
                    if let Some(r) = &risk_name {
                        a.set_risk(self.measure, r.clone(), sol.objective);
                    }
                    Ok(a)
                })
                .collect()
        };
        let parts = crate::parallel::map("frontier point", targets.chunks(chunk).collect(), solve_chunk)?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Refuses what the critical line cannot trace: a scenario measure, or
    /// constraints beyond per-asset bounds and full investment.
    fn check_critical_line(&self, c: &super::constraints::Resolved, scenario_measure: bool) -> Result<()> {
        if scenario_measure {
            return Err(Error::param(
                Param::CriticalLine,
                format!(
                    "traces the variance frontier only, not {:?}; drop .critical_line() for other measures",
                    self.measure
                ),
            ));
        }
        let beyond = c.beyond_bounds();
        if !beyond.is_empty() {
            return Err(Error::param(
                Param::CriticalLine,
                format!(
                    "needs per-asset bounds with full investment only, but the constraints also hold {}; drop .critical_line() to trace them with Clarabel",
                    beyond.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// The frontier points from the critical line's turning points.
    fn critical_line_points(&self, m: &Moments, c: &super::constraints::Resolved) -> Result<Vec<Allocation>> {
        let t0 = Instant::now();
        let cla = CriticalLine::solve(m.mean(), m.cov(), &c.lower, &c.upper)?;
        let weights = cla.frontier(self.points)?;
        let each = t0.elapsed().as_secs_f64() / weights.len() as f64;
        let turns = cla.turning_points.len();
        Ok(weights
            .into_iter()
            .map(|w| {
                let label = format!("frontier portfolio at return {} (critical line)", w.dot(m.mean()));
                let provenance = super::Provenance::CriticalLine { turning_points: turns, seconds: each };
                Allocation::new(label, m, w, self.risk_free, c.previous.clone(), provenance)
            })
            .collect())
    }

    fn trace(&self, x: &Inputs<'_>) -> Result<Frontier> {
        let m = x.moments;
        if self.points < 2 {
            return Err(Error::param(Param::Points, format!("must be ≥ 2, got {}", self.points)));
        }
        Error::finite(Param::RiskFree, self.risk_free)?;
        let t0 = Instant::now();
        let term = self.measure.term(m, x.scenarios, x.probabilities)?;
        let c = self.constraints.resolve(m.assets())?;
        if c.holdings.is_some() {
            return Err(Error::param(
                Param::Constraints,
                "a frontier does not take holding rules (cardinality, minimum positions); solve each point with Optimizer::min_risk_at_return",
            ));
        }
        if self.critical_line {
            self.check_critical_line(&c, term.is_some())?;
        }
        let solve = |o: Optimizer| o.constraints(self.constraints.clone()).solve_on(x);
        let min_var = solve(Optimizer::min_risk(self.measure))?;
        let risk_name = term.as_ref().map(|r| r.name());
        let points = if self.critical_line {
            self.critical_line_points(m, &c)?
        } else {
            self.clarabel_points(x, &c, term.as_deref(), min_var.expected_return())?
        };
        let mut failures = Vec::new();
        let mut keep = |name: &str, solved: Result<Allocation>| match solved {
            Ok(a) => Some(a),
            Err(e) => {
                failures.push((name.to_string(), e.to_string()));
                None
            }
        };
        let ratio = if term.is_none() { "maximum Sharpe" } else { "maximum ratio" };
        let mut max_sharpe = keep(ratio, solve(Optimizer::max_ratio(self.measure, self.risk_free)));
        if let (Some(a), Some(r), Some(name)) = (max_sharpe.as_mut(), x.scenarios, &risk_name) {
            let value = self.measure_of(x, &r.dot(a.weights()).to_vec())?;
            a.set_risk(self.measure, name.clone(), value);
        }
        let risk_parity = if c.is_long_only_default() && term.is_none() {
            keep("risk parity", Optimizer::risk_parity().solve(m))
        } else {
            None
        };
        // Each asset's own risk: volatility, or the measure of its scenarios.
        let own: Vec<f64> = match x.scenarios {
            Some(r) if term.is_some() => {
                r.columns().into_iter().map(|col| self.measure_of(x, &col.to_vec())).collect::<Result<_>>()?
            }
            _ => m.volatility().to_vec(),
        };
        let assets = m.assets().iter().enumerate().map(|(i, a)| (a.clone(), m.mean()[i], own[i])).collect();
        Ok(Frontier {
            points,
            min_variance: min_var,
            max_sharpe,
            risk_parity,
            failures,
            assets,
            measure: risk_name,
            seconds: t0.elapsed().as_secs_f64(),
        })
    }
}
