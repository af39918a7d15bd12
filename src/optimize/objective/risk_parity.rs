//! Risk budgeting: $\min \tfrac12 y^\top\Sigma y - \sum_i b_i \ln y_i$
//! (exponential cones), $w = y / \sum y$, whose risk contributions
//! $w_i(\Sigma w)_i / w^\top\Sigma w$ equal the budgets $b_i$ (equal for risk
//! parity). For any other positively homogeneous measure $\rho$ with a
//! linear epigraph (standard deviation, MAD, CVaR, CDaR, …) the same
//! log-barrier program, $\min \rho(y) - \sum_i b_i \ln y_i$, gives weights
//! whose Euler contributions $w_i\,\partial\rho/\partial w_i$ are the
//! budgets' shares of $\rho(w)$.

use super::{Built, Formulation, Inputs, Readout};
use crate::error::{Error, Result};
use crate::optimize::constraints::Resolved;
use crate::optimize::problem::Program;
use crate::optimize::risk::{Risk, Variance};

pub(crate) struct RiskParity<'a> {
    pub budgets: Option<Vec<f64>>,
    /// The measure budgeted; `None` for variance.
    pub risk: Option<Box<dyn Risk + 'a>>,
}

impl RiskParity<'_> {
    /// The budgets normalised to sum to 1 (equal when none were given).
    fn budgets(&self, n: usize) -> Result<Vec<f64>> {
        match &self.budgets {
            None => Ok(vec![1.0 / n as f64; n]),
            Some(b) if b.len() != n => Err(Error::Shape(format!("{} risk budgets for {n} assets", b.len()))),
            Some(b) if b.iter().any(|x| !(x.is_finite() && *x > 0.0)) => {
                Err(Error::param("risk budgets", "must all be > 0"))
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
        super::no_costs(c, "risk budgeting")?;
        if !c.is_long_only_default() {
            return Err(Error::param(
                "constraints",
                "risk parity is solved long-only and fully invested; other constraints are not supported",
            ));
        }
        let n = x.moments.n_assets();
        let b = self.budgets(n)?;
        if self.risk.is_none() {
            // An asset without variance carries no risk to budget: the
            // log-barrier problem has no optimum then.
            let cov = x.moments.cov();
            if let Some(j) = (0..n).find(|&j| !(cov[[j, j]] > 0.0)) {
                return Err(Error::param(
                    "covariance",
                    format!(
                        "asset {} has variance {}, so it has no risk to budget; drop it from risk parity",
                        x.moments.assets()[j],
                        cov[[j, j]]
                    ),
                ));
            }
        }
        let mut p = Program::new(n);
        let t = p.vars(n);
        match &self.risk {
            None => Variance(x.moments).add(&mut p, n, 0.5)?,
            Some(r) => r.add(&mut p, n, 1.0)?,
        }
        for (i, bi) in b.iter().enumerate() {
            p.lin(t + i, -bi);
            p.exp([(vec![(t + i, -1.0)], 0.0), (vec![], 1.0), (vec![(i, -1.0)], 0.0)]);
        }
        Ok(Built { program: p, readout: Readout::Normalized, objective_is_risk: false })
    }
}
