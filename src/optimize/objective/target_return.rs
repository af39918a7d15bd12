//! Minimum variance at a target return:
//! $\min w^\top\Sigma w$ s.t. $\mu^\top w - c\lVert w - w^{prev}\rVert_1 \ge r^*$.

use super::{constrained, max_return, net_loss, Built, Constrained, Formulation, Inputs};
use crate::error::{Error, Result};
use crate::optimize::constraints::Resolved;
use crate::optimize::risk::{Risk, Variance};
use crate::optimize::Constraints;

pub(crate) struct TargetReturn {
    pub target: f64,
}

impl Formulation for TargetReturn {
    fn label(&self) -> String {
        format!("minimum variance at return ≥ {}", self.target)
    }

    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        let m = x.moments;
        let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
        // Expected net return ≥ target.
        let loss = net_loss(&mut p, x, c, w, t);
        p.le(loss, -self.target);
        Variance(m).add(&mut p, w, 1.0)?;
        Ok(Built::direct(p, w))
    }

    /// An infeasible target names the highest achievable return.
    fn explain(&self, e: Error, m: &Inputs<'_>, constraints: &Constraints) -> Error {
        match &e {
            Error::Solver { status, .. } if status.is_infeasible() => match max_return(m, constraints) {
                Ok(best) => Error::infeasible(
                    "target return",
                    format!(
                        "{} exceeds the highest achievable expected return {best:.6} under these constraints",
                        self.target
                    ),
                ),
                Err(_) => e,
            },
            _ => e,
        }
    }
}
