//! Risk budgeting: $\min \tfrac12 y^\top\Sigma y - \sum_i b_i \ln y_i$
//! (exponential cones), $w = y / \sum y$, whose risk contributions
//! $w_i(\Sigma w)_i / w^\top\Sigma w$ equal the budgets $b_i$ (equal for risk
//! parity). For any other positively homogeneous measure $\rho$ with a
//! linear epigraph (standard deviation, MAD, CVaR, CDaR, …) the same
//! log-barrier program, $\min \rho(y) - \sum_i b_i \ln y_i$, gives weights
//! whose Euler contributions $w_i\,\partial\rho/\partial w_i$ are the
//! budgets' shares of $\rho(w)$.
//!
//! Scaling the log terms by $k$ scales the optimal $y$ by $k$ and leaves
//! $w$ as it is ($\rho$ is homogeneous). For a scenario measure they are
//! scaled by $k = \rho(1/N)$, which puts $y$ near the weights themselves
//! (at the optimum $\rho(y) = k$); the piecewise-linear measures are then
//! minimised by the exact scenario reduction, as their minimum risk is
//! (a few small programs that keep the scenarios near a kink, in a trust
//! region sized for weights), the full program where it does not settle;
//! either is then finished on its active set, where the optimum's kink is
//! held exactly and Newton steps settle the log terms.
//! The smooth measures (variance, standard deviation, semideviation, EVaR)
//! are minimised by Newton's method instead ([`super::budget_newton`]),
//! which meets the budgets to machine precision.

use super::budget_newton::{self, Smooth};
use super::{Built, Formulation, Inputs, Readout, Solved};
use crate::error::{Error, Result};
use crate::optimize::constraints::Resolved;
use crate::optimize::problem::{Block, Program, Solution};
use crate::optimize::risk::{Risk, Variance};
use crate::optimize::{Reduction, RiskMeasure};
use crate::parameter::Optimize as Param;

pub(crate) struct RiskParity<'a> {
    pub budgets: Option<Vec<f64>>,
    /// The measure budgeted; `None` for variance.
    pub risk: Option<Box<dyn Risk + 'a>>,
    /// Which measure `risk` is, for a scenario measure.
    pub measure: Option<RiskMeasure>,
}

impl RiskParity<'_> {
    /// The log terms' scale $k = \rho(1/N)$ on the scenarios (1 for
    /// variance, or where the measure of 1/N is not positive).
    fn log_scale(&self, x: &Inputs<'_>, n: usize) -> f64 {
        match (self.measure, x.scenarios) {
            (Some(m), Some(s)) if !matches!(m, RiskMeasure::Variance) => {
                let equal = ndarray::Array1::from_elem(n, 1.0 / n as f64);
                let rho = m.of(s.dot(&equal).as_slice().unwrap_or(&[]));
                if rho > 0.0 && rho.is_finite() {
                    rho
                } else {
                    1.0
                }
            }
            _ => 1.0,
        }
    }

    /// The program over $y$ without its risk term: $-k\sum_i b_i t_i$ with
    /// $t_i \le \ln y_i$.
    fn barrier(&self, n: usize, b: &[f64], k: f64) -> (Program, Block) {
        let (mut p, y) = Program::with_weights(n);
        let t = p.vars(n);
        p.minimise(t.dot(b) * -k);
        for (ti, yi) in t.vars().zip(y.vars()) {
            // t_i ≤ ln y_i, as (t_i, 1, y_i) ∈ K_exp.
            p.exp([ti.into(), 1.0.into(), yi.into()]);
        }
        (p, y)
    }

    /// The whole log-barrier program for the normalised budgets `b`.
    fn full(&self, x: &Inputs<'_>, b: &[f64]) -> Result<Built> {
        let n = x.moments.n_assets();
        let (mut p, y) = self.barrier(n, b, self.log_scale(x, n));
        match &self.risk {
            None => Variance(x.moments).add(&mut p, y, 0.5)?,
            Some(r) => r.add(&mut p, y, 1.0)?,
        }
        Ok(Built { program: p, readout: Readout::Normalized(y), objective_is_risk: false })
    }

    /// Risk budgeting's own conditions on the constraints and the moments.
    fn check(&self, x: &Inputs<'_>, c: &Resolved) -> Result<()> {
        super::no_costs(c, "risk budgeting")?;
        if !c.is_long_only_default() {
            return Err(Error::param(
                Param::Constraints,
                "risk parity is solved long-only and fully invested; other constraints are not supported",
            ));
        }
        let n = x.moments.n_assets();
        if self.risk.is_none() {
            // An asset without variance carries no risk to budget: the
            // log-barrier problem has no optimum then.
            let cov = x.moments.cov();
            if let Some(j) = (0..n).find(|&j| !(cov[[j, j]] > 0.0)) {
                return Err(Error::param(
                    Param::Covariance,
                    format!(
                        "asset {} has variance {}, so it has no risk to budget; drop it from risk parity",
                        x.moments.assets()[j],
                        cov[[j, j]]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The budgets normalised to sum to 1 (equal when none were given).
    fn budgets(&self, n: usize) -> Result<Vec<f64>> {
        match &self.budgets {
            None => Ok(vec![1.0 / n as f64; n]),
            Some(b) if b.len() != n => Err(Error::Shape(format!("{} risk budgets for {n} assets", b.len()))),
            Some(b) if b.iter().any(|x| !(x.is_finite() && *x > 0.0)) => {
                Err(Error::param(Param::RiskBudgets, "must all be > 0"))
            }
            Some(b) => {
                let s: f64 = b.iter().sum();
                Ok(b.iter().map(|x| x / s).collect())
            }
        }
    }
}

impl Formulation for RiskParity<'_> {
    fn label(&self) -> String {
        let kind = if self.budgets.is_none() { "risk parity" } else { "risk budgeting" };
        match &self.risk {
            None => kind.into(),
            Some(r) => format!("{kind} ({})", r.name()),
        }
    }

    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        self.check(x, c)?;
        let n = x.moments.n_assets();
        self.full(x, &self.budgets(n)?)
    }

    /// A smooth measure by Newton's method, a piecewise-linear scenario
    /// measure by exact scenario reduction from 1/N (see the module docs);
    /// the full program otherwise, or where either does not settle.
    fn solve(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Solved> {
        self.check(x, c)?;
        let n = x.moments.n_assets();
        let b = self.budgets(n)?;
        let cov = x.moments.cov();
        if let Some(smooth) = Smooth::of(self.measure, cov.view(), x.scenarios) {
            let t0 = std::time::Instant::now();
            if let Some(out) = budget_newton::solve(&smooth, &b) {
                let sol = Solution {
                    x: out.y.to_vec(),
                    status: crate::error::SolverStatus::Solved,
                    tolerance: out.residual,
                    iterations: out.iterations,
                    seconds: t0.elapsed().as_secs_f64(),
                    objective: out.objective,
                    duals: Vec::new(),
                    finish: crate::optimize::Finish::Interior,
                    newton: true,
                };
                // Newton's solution vector is y alone.
                let (_, y) = Program::with_weights(n);
                return Ok(Solved { solution: sol, readout: Readout::Normalized(y), objective_is_risk: false });
            }
        }
        if let Some(reduced) = self.risk.as_ref().and_then(|r| r.reduced()).filter(|_| x.reduction == Reduction::Auto) {
            let (base, y) = self.barrier(n, &b, self.log_scale(x, n));
            if let Some(sol) = reduced.minimise(&base, y, &vec![1.0 / n as f64; n])? {
                return Ok(Solved { solution: sol, readout: Readout::Normalized(y), objective_is_risk: false });
            }
        }
        self.full(x, &b)?.solve()
    }

    /// A scenario measure has no covariance to blame: a solver stop names
    /// the program and the measure instead.
    fn explain(&self, e: Error, _: &Inputs<'_>, _: &crate::optimize::Constraints) -> Error {
        match (&e, &self.risk) {
            (Error::Solver { status, .. }, Some(r)) if !status.is_infeasible() => Error::Solver {
                status: *status,
                message: format!(
                    "the log-barrier program for risk budgets of {} did not reach full accuracy; it uses no covariance — check the scenarios for constant or duplicated columns, or try another confidence level",
                    r.name()
                ),
            },
            _ => e,
        }
    }
}
