//! Convex portfolio optimisation on Clarabel, with no modelling layer: each
//! objective is written straight into Clarabel's
//! $\min \tfrac12 x^\top P x + q^\top x$ s.t. $Ax + s = b,\ s \in \mathcal K$.
//!
//! With expected returns $\mu$, covariance $\Sigma$ (from
//! [`crate::estimate`]) and the feasible set $\mathcal W$ of
//! [`Constraints`]:
//!
//! | objective | problem |
//! |---|---|
//! | [`Optimizer::min_variance`] | $\min_{w\in\mathcal W} w^\top\Sigma w$ |
//! | [`Optimizer::max_sharpe`] | $\max_{w\in\mathcal W} (\mu - r_f)^\top w / \sqrt{w^\top\Sigma w}$, solved in the homogenised form $\min y^\top\Sigma y$ s.t. $(\mu-r_f)^\top y = 1$, $y \in \kappa\mathcal W$, $\kappa \ge 0$, then $w = y/\kappa$ |
//! | [`Optimizer::mean_variance`] | $\max_{w\in\mathcal W} \mu^\top w - \tfrac{\lambda}{2} w^\top\Sigma w - c\lVert w - w^{prev}\rVert_1$ |
//! | [`Optimizer::target_return`] | $\min w^\top\Sigma w$ s.t. $\mu^\top w - c\lVert w - w^{prev}\rVert_1 \ge r^*$ |
//! | [`Optimizer::target_volatility`] | $\max \mu^\top w - c\lVert w - w^{prev}\rVert_1$ s.t. $\lVert L^\top w\rVert_2 \le \sigma^*$ ($\Sigma = LL^\top$, a second-order cone) |
//! | [`Optimizer::risk_parity`] | $\min \tfrac12 y^\top\Sigma y - \sum_i b_i \ln y_i$ (exponential cones), $w = y / \sum y$: risk contributions $w_i(\Sigma w)_i / w^\top\Sigma w = b_i$ |
//! | [`Optimizer::max_diversification`] | $\max \sigma^\top w/\sqrt{w^\top\Sigma w}$, homogenised like max-Sharpe |
//! | [`Optimizer::min_cvar`] | $\min_{w,\alpha,u} \alpha + \frac{1}{(1-\beta)S}\sum_s u_s$, $u_s \ge -r_s^\top w - \alpha$, $u \ge 0$ (Rockafellar–Uryasev LP over return scenarios $r_s$) |
//!
//! [`Frontier`] traces minimum variance over target returns, reusing one
//! Clarabel solver and changing only the target in $b$ between points.
//!
//! [`OutOfSample`] holds allocations through a later period beside 1/N.
//!
//! A solve returns an [`Allocation`] only when Clarabel reports `Solved`
//! (at tolerance 1e-10, or, when it stops just short of that, at its default
//! 1e-8 on a second attempt, which the allocation's status records);
//! otherwise an [`Error::Solver`] or [`Error::Infeasible`] names what to relax.

mod allocation;
mod constraints;
mod evaluate;
mod frontier;
mod problem;

use ndarray::{Array1, Array2};

pub use allocation::Allocation;
pub use constraints::{Constraints, Group};
pub use evaluate::OutOfSample;
pub use frontier::Frontier;

use crate::data::{ReturnKind, Returns};
use crate::error::{Error, Result, SolverStatus};
use crate::estimate::Moments;
use constraints::Resolved;
use problem::Program;

/// What to optimise.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Objective {
    /// Minimum variance.
    MinVariance,
    /// Maximum Sharpe ratio over the risk-free rate.
    MaxSharpe {
        /// Risk-free rate, in the moments' units.
        risk_free: f64,
    },
    /// Mean-variance utility $\mu^\top w - \frac{\lambda}{2} w^\top\Sigma w$.
    MeanVariance {
        /// Risk aversion $\lambda > 0$.
        risk_aversion: f64,
    },
    /// Minimum variance at an expected return of at least `target`.
    TargetReturn {
        /// Required expected return.
        target: f64,
    },
    /// Maximum expected return at a volatility of at most `target`.
    TargetVolatility {
        /// Volatility cap.
        target: f64,
    },
    /// Equal (or budgeted) risk contributions.
    RiskParity {
        /// Risk budgets (default equal), positive, normalised to sum to 1.
        budgets: Option<Vec<f64>>,
    },
    /// Maximum diversification ratio $\sigma^\top w / \sqrt{w^\top\Sigma w}$.
    MaxDiversification,
    /// Minimum conditional value at risk of scenario returns.
    MinCvar {
        /// Confidence level $\beta$, e.g. 0.95.
        confidence: f64,
    },
}

/// An objective with constraints, ready to solve.
///
/// ```
/// use assetalloc::prelude::*;
/// let r = Synthetic::params().assets(4).days(750).seed(3).generate()?.prices.returns(ReturnKind::Simple)?;
/// let m = Moments::sample().fit(&r)?.annualized();
/// let w = Optimizer::min_variance().solve(&m)?;
/// assert!((w.weights().sum() - 1.0).abs() < 1e-8);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Optimizer {
    objective: Objective,
    constraints: Constraints,
}

impl Optimizer {
    fn with(objective: Objective) -> Self {
        Optimizer { objective, constraints: Constraints::long_only() }
    }

    /// Minimum variance.
    pub fn min_variance() -> Self {
        Optimizer::with(Objective::MinVariance)
    }

    /// Maximum Sharpe ratio (the tangency portfolio) over `risk_free`.
    pub fn max_sharpe(risk_free: f64) -> Self {
        Optimizer::with(Objective::MaxSharpe { risk_free })
    }

    /// Mean-variance utility with risk aversion $\lambda$.
    pub fn mean_variance(risk_aversion: f64) -> Self {
        Optimizer::with(Objective::MeanVariance { risk_aversion })
    }

    /// Minimum variance for an expected return of at least `target`.
    pub fn target_return(target: f64) -> Self {
        Optimizer::with(Objective::TargetReturn { target })
    }

    /// Maximum expected return for a volatility of at most `target`.
    pub fn target_volatility(target: f64) -> Self {
        Optimizer::with(Objective::TargetVolatility { target })
    }

    /// Equal risk contributions.
    pub fn risk_parity() -> Self {
        Optimizer::with(Objective::RiskParity { budgets: None })
    }

    /// Risk contributions proportional to `budgets`.
    pub fn risk_budgeting(budgets: Vec<f64>) -> Self {
        Optimizer::with(Objective::RiskParity { budgets: Some(budgets) })
    }

    /// Maximum diversification ratio.
    pub fn max_diversification() -> Self {
        Optimizer::with(Objective::MaxDiversification)
    }

    /// Minimum CVaR at confidence `confidence`; solve with
    /// [`solve_scenarios`](Self::solve_scenarios).
    pub fn min_cvar(confidence: f64) -> Self {
        Optimizer::with(Objective::MinCvar { confidence })
    }

    /// Sets the constraints (default long-only, fully invested).
    pub fn constraints(mut self, c: Constraints) -> Self {
        self.constraints = c;
        self
    }

    /// The objective.
    pub fn objective(&self) -> &Objective {
        &self.objective
    }

    /// Solves for the given moments.
    pub fn solve(&self, m: &Moments) -> Result<Allocation> {
        let n = m.n_assets();
        let c = self.constraints.resolve(m.assets())?;
        let mu = m.mean();
        let cov = m.cov();
        match &self.objective {
            Objective::MinVariance => {
                no_costs(&c, "minimum variance")?;
                let mut p = Program::new(n);
                c.write(&mut p, n);
                add_variance(&mut p, cov, 0, 2.0);
                finish(self, m, &p.solve()?, &c, 0.0, weights_of)
            }
            Objective::MeanVariance { risk_aversion } => {
                if !(risk_aversion.is_finite() && *risk_aversion > 0.0) {
                    return Err(Error::param("risk_aversion", format!("must be > 0, got {risk_aversion}")));
                }
                let mut p = Program::new(n);
                let t = c.write(&mut p, n);
                add_variance(&mut p, cov, 0, *risk_aversion);
                for i in 0..n {
                    p.lin(i, -mu[i]);
                }
                charge_costs(&mut p, &c, t, n);
                finish(self, m, &p.solve()?, &c, 0.0, weights_of)
            }
            Objective::TargetReturn { target } => {
                let mut p = Program::new(n);
                let t = c.write(&mut p, n);
                let row = return_row(mu, &c, t, n);
                p.le(row, -target);
                add_variance(&mut p, cov, 0, 2.0);
                match p.solve() {
                    Ok(sol) => finish(self, m, &sol, &c, 0.0, weights_of),
                    Err(e) => Err(explain_target(e, *target, m, &self.constraints)),
                }
            }
            Objective::TargetVolatility { target } => {
                if !(target.is_finite() && *target > 0.0) {
                    return Err(Error::param("target volatility", format!("must be > 0, got {target}")));
                }
                let mut p = Program::new(n);
                let t = c.write(&mut p, n);
                for i in 0..n {
                    p.lin(i, -mu[i]);
                }
                charge_costs(&mut p, &c, t, n);
                let l = factor(cov)?;
                let mut rows = vec![(vec![], *target)];
                for k in 0..n {
                    rows.push(((k..n).map(|i| (i, -l[[i, k]])).collect(), 0.0));
                }
                p.soc(rows);
                match p.solve() {
                    Ok(sol) => finish(self, m, &sol, &c, 0.0, weights_of),
                    Err(Error::Solver { status, .. }) if status.is_infeasible() => {
                        let floor = Optimizer::min_variance().constraints(self.constraints.clone()).solve(m)?;
                        Err(Error::Infeasible(format!(
                            "target volatility {target} is below the minimum-variance portfolio's {:.6} under these constraints",
                            floor.volatility()
                        )))
                    }
                    Err(e) => Err(e),
                }
            }
            Objective::MaxSharpe { risk_free } => {
                no_costs(&c, "maximum Sharpe")?;
                if c.allow_cash {
                    return Err(Error::param(
                        "allow_cash",
                        "is ambiguous with maximum Sharpe: any mix of cash and the tangency portfolio has the same Sharpe ratio; solve fully invested",
                    ));
                }
                let excess = mu.mapv(|x| x - risk_free);
                if excess.iter().all(|&x| x <= 0.0) {
                    return Err(Error::Infeasible(format!(
                        "no asset's expected return exceeds the risk-free rate {risk_free} (the highest is {:.6}), so no long portfolio has a positive Sharpe ratio; lower the risk-free rate or use minimum variance",
                        mu.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                    )));
                }
                homogeneous(self, m, &c, excess, *risk_free)
            }
            Objective::MaxDiversification => {
                no_costs(&c, "maximum diversification")?;
                if c.allow_cash {
                    return Err(Error::param("allow_cash", "is not supported with maximum diversification"));
                }
                homogeneous(self, m, &c, m.volatility(), 0.0)
            }
            Objective::RiskParity { budgets } => {
                if !c.is_long_only_default() {
                    return Err(Error::param(
                        "constraints",
                        "risk parity is solved long-only and fully invested; other constraints are not supported",
                    ));
                }
                let b = match budgets {
                    None => vec![1.0 / n as f64; n],
                    Some(b) if b.len() != n => {
                        return Err(Error::Shape(format!("{} risk budgets for {n} assets", b.len())))
                    }
                    Some(b) if b.iter().any(|x| !(x.is_finite() && *x > 0.0)) => {
                        return Err(Error::param("risk budgets", "must all be > 0"))
                    }
                    Some(b) => {
                        let s: f64 = b.iter().sum();
                        b.iter().map(|x| x / s).collect()
                    }
                };
                let mut p = Program::new(n);
                let t = p.vars(n);
                add_variance(&mut p, cov, 0, 1.0);
                for (i, bi) in b.iter().enumerate() {
                    p.lin(t + i, -bi);
                    p.exp([(vec![(t + i, -1.0)], 0.0), (vec![], 1.0), (vec![(i, -1.0)], 0.0)]);
                }
                finish(self, m, &p.solve()?, &c, 0.0, |x, n, _| {
                    let s: f64 = x[..n].iter().sum();
                    x[..n].iter().map(|v| v / s).collect()
                })
            }
            Objective::MinCvar { .. } => Err(Error::param(
                "min_cvar",
                "needs return scenarios: call .solve_scenarios(&returns) instead of .solve(&moments)",
            )),
        }
    }

    /// Minimum CVaR over historical scenarios: each row of `returns`
    /// (converted to simple returns) is one equally likely scenario. The
    /// allocation reports sample moments of the same returns.
    pub fn solve_scenarios(&self, returns: &Returns) -> Result<Allocation> {
        let Objective::MinCvar { confidence } = self.objective else {
            return self.solve(&Moments::sample().fit(returns)?);
        };
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(Error::param("confidence", format!("must be in (0, 1), got {confidence}")));
        }
        let m = Moments::sample().fit(returns)?;
        let r = returns.to_kind(ReturnKind::Simple);
        let x = r.values();
        let (s, n) = x.dim();
        let c = self.constraints.resolve(m.assets())?;
        let mut p = Program::new(n);
        let t = c.write(&mut p, n);
        let alpha = p.var();
        let u = p.vars(s);
        p.lin(alpha, 1.0);
        let k = 1.0 / ((1.0 - confidence) * s as f64);
        for j in 0..s {
            p.lin(u + j, k);
            let mut row: Vec<(usize, f64)> = (0..n).map(|i| (i, -x[[j, i]])).collect();
            row.push((alpha, -1.0));
            row.push((u + j, -1.0));
            p.le(row, 0.0);
            p.le(vec![(u + j, -1.0)], 0.0);
        }
        charge_costs(&mut p, &c, t, n);
        let sol = p.solve()?;
        let mut a = finish(self, &m, &sol, &c, 0.0, weights_of)?;
        a.set_cvar(sol.objective);
        Ok(a)
    }
}

/// The weights are the first `n` variables.
fn weights_of(x: &[f64], n: usize, _: Option<usize>) -> Array1<f64> {
    Array1::from(x[..n].to_vec())
}

fn no_costs(c: &Resolved, what: &str) -> Result<()> {
    if c.cost > 0.0 {
        return Err(Error::param(
            "cost_bps",
            format!("costs are charged against expected return; {what} has none (use mean-variance, target return or target volatility)"),
        ));
    }
    Ok(())
}

/// Adds $\tfrac{s}{2}\, v^\top\Sigma v$ for $v = x_{at..at+n}$ to the objective.
fn add_variance(p: &mut Program, cov: &Array2<f64>, at: usize, s: f64) {
    let n = cov.nrows();
    for i in 0..n {
        for j in i..n {
            p.quad(at + i, at + j, s * cov[[i, j]]);
        }
    }
}

/// $-\mu^\top w + c\sum t$ as a row (for "expected net return ≥ target").
fn return_row(mu: &Array1<f64>, c: &Resolved, t: Option<usize>, n: usize) -> Vec<(usize, f64)> {
    let mut row: Vec<(usize, f64)> = (0..n).map(|i| (i, -mu[i])).collect();
    if let Some(t) = t {
        row.extend((0..n).map(|i| (t + i, c.cost)));
    }
    row
}

fn charge_costs(p: &mut Program, c: &Resolved, t: Option<usize>, n: usize) {
    if let Some(t) = t {
        for i in 0..n {
            p.lin(t + i, c.cost);
        }
    }
}

/// Cholesky factor of $\Sigma$, with a tiny ridge if it is singular.
fn factor(cov: &Array2<f64>) -> Result<Array2<f64>> {
    if let Some(l) = crate::linalg::cholesky(cov.view()) {
        return Ok(l);
    }
    let scale = cov.diag().iter().fold(0.0f64, |a, b| a.max(*b));
    let mut r = cov.clone();
    for i in 0..r.nrows() {
        r[[i, i]] += 1e-12 * scale.max(f64::MIN_POSITIVE);
    }
    crate::linalg::cholesky(r.view())
        .ok_or_else(|| Error::param("covariance", "cannot be factored; is it positive semidefinite?"))
}

/// $\min y^\top\Sigma y$ s.t. $a^\top y = 1$, $y \in \kappa\mathcal W$; $w = y/\kappa$.
fn homogeneous(opt: &Optimizer, m: &Moments, c: &Resolved, a: Array1<f64>, risk_free: f64) -> Result<Allocation> {
    let n = m.n_assets();
    let mut p = Program::new(n);
    let kappa = p.var();
    p.homogenize(kappa);
    c.write(&mut p, n);
    p.le(vec![(kappa, -1.0)], 0.0);
    p.eq_raw((0..n).map(|i| (i, a[i])).collect(), 1.0);
    add_variance(&mut p, m.cov(), 0, 2.0);
    let sol = p.solve()?;
    finish(opt, m, &sol, c, risk_free, move |x, n, _| {
        let k = x[kappa];
        x[..n].iter().map(|v| v / k).collect()
    })
}

fn finish(
    opt: &Optimizer,
    m: &Moments,
    sol: &problem::Solution,
    c: &Resolved,
    risk_free: f64,
    weights: impl Fn(&[f64], usize, Option<usize>) -> Array1<f64>,
) -> Result<Allocation> {
    let w = weights(&sol.x, m.n_assets(), None);
    if w.iter().any(|v| !v.is_finite()) {
        return Err(Error::Solver {
            status: SolverStatus::NumericalError,
            message: "the solution holds non-finite weights".into(),
        });
    }
    Ok(Allocation::new(
        label(&opt.objective),
        m,
        w,
        risk_free,
        c.previous.clone(),
        sol.status,
        sol.tolerance,
        sol.iterations,
        sol.seconds,
    ))
}

fn label(o: &Objective) -> String {
    match o {
        Objective::MinVariance => "minimum variance".into(),
        Objective::MaxSharpe { risk_free } => format!("maximum Sharpe (r_f = {risk_free})"),
        Objective::MeanVariance { risk_aversion } => format!("mean-variance (λ = {risk_aversion})"),
        Objective::TargetReturn { target } => format!("minimum variance at return ≥ {target}"),
        Objective::TargetVolatility { target } => format!("maximum return at volatility ≤ {target}"),
        Objective::RiskParity { budgets: None } => "risk parity".into(),
        Objective::RiskParity { budgets: Some(_) } => "risk budgeting".into(),
        Objective::MaxDiversification => "maximum diversification".into(),
        Objective::MinCvar { confidence } => format!("minimum CVaR ({:.0} %)", confidence * 100.0),
    }
}

/// Turns an infeasible target-return solve into a message with the highest
/// achievable return.
fn explain_target(e: Error, target: f64, m: &Moments, constraints: &Constraints) -> Error {
    match &e {
        Error::Solver { status, .. } if status.is_infeasible() => match max_return(m, constraints) {
            Ok(best) => Error::Infeasible(format!(
                "target return {target} exceeds the highest achievable expected return {best:.6} under these constraints"
            )),
            Err(_) => e,
        },
        _ => e,
    }
}

/// The highest expected return reachable under the constraints (an LP).
pub(crate) fn max_return(m: &Moments, constraints: &Constraints) -> Result<f64> {
    let n = m.n_assets();
    let c = constraints.resolve(m.assets())?;
    let mut p = Program::new(n);
    let t = c.write(&mut p, n);
    for i in 0..n {
        p.lin(i, -m.mean()[i]);
    }
    charge_costs(&mut p, &c, t, n);
    Ok(-p.solve()?.objective)
}
