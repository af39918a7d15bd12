//! Maximum return under a volatility cap:
//! $\max \mu^\top w - c\lVert w - w^{prev}\rVert_1$ s.t.
//! $\lVert L^\top w\rVert_2 \le \sigma^*$ with $\Sigma = LL^\top$ (a
//! second-order cone).

use super::{constrained, net_loss, Built, Constrained, Formulation, Inputs};
use crate::error::{Error, Result};
use crate::optimize::constraints::Resolved;
use crate::optimize::{Constraints, Optimizer};

pub(crate) struct TargetVolatility {
    pub target: f64,
}

impl Formulation for TargetVolatility {
    fn label(&self) -> String {
        format!("maximum return at volatility ≤ {}", self.target)
    }

    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        let target = self.target;
        let m = x.moments;
        let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
        let loss = net_loss(&mut p, x, c, w, t);
        p.minimise(loss);
        // target ≥ ‖Σ^{1/2} w‖₂.
        let mut cone = vec![target.into()];
        cone.extend(crate::optimize::risk::volatility_entries(&mut p, m, w, None)?);
        p.soc(cone);
        Ok(Built::direct(p, w))
    }

    /// An infeasible cap names the least volatility the constraints allow.
    fn explain(&self, e: Error, x: &Inputs<'_>, constraints: &Constraints) -> Error {
        match &e {
            Error::Solver { status, .. } if status.is_infeasible() => {
                match Optimizer::min_variance().constraints(constraints.clone()).solve_on(x) {
                    Ok(floor) => Error::infeasible(
                        "target volatility",
                        format!(
                            "{} is below the minimum-variance portfolio's {:.6} under these constraints",
                            self.target,
                            floor.volatility()
                        ),
                    ),
                    Err(other) => other,
                }
            }
            _ => e,
        }
    }
}
