//! Mean–risk objectives for any scenario [`RiskMeasure`] $\rho$ (each
//! written through the measure's linear epigraph, so one file serves every
//! measure):
//!
//! | objective | problem |
//! |---|---|
//! | maximum ratio | $\max_{w\in\mathcal W} (\mu^\top w - r_f - \text{cost}) / \rho(w)$, homogenised: $\min \rho(y)$ s.t. $(\mu - r_f)^\top y = 1$, $y \in \kappa\mathcal W$, $\kappa \ge 0$, $w = y/\kappa$ (exact, as every measure here is positively homogeneous) |
//! | maximum utility | $\max_{w\in\mathcal W} \mu^\top w - \lambda\rho(w) - c\lVert w - w^{prev}\rVert_1$ |
//! | minimum risk at a target return | $\min \rho(w)$ s.t. $\mu^\top w - c\lVert w - w^{prev}\rVert_1 \ge r^*$ |
//! | maximum return under a risk cap | $\max \mu^\top w - c\lVert w - w^{prev}\rVert_1$ s.t. $\rho(w) \le \bar\rho$ |
//!
//! $\mu$ is the scenarios' sample mean (the moments
//! [`solve_scenarios`](crate::optimize::Optimizer::solve_scenarios) fits).

use super::{constrained, net_loss, no_tracking, Built, Constrained, Formulation, Inputs};
use crate::error::{Error, Result};
use crate::optimize::constraints::Resolved;
use crate::optimize::risk::{Risk, RiskMeasure};
use crate::optimize::MeanRiskGoal;
use crate::parameter::Optimize as Param;

pub(crate) struct MeanRisk<'a> {
    pub measure: RiskMeasure,
    pub risk: Box<dyn Risk + 'a>,
    pub goal: MeanRiskGoal,
}

impl Formulation for MeanRisk<'_> {
    fn label(&self) -> String {
        let r = self.risk.name();
        match self.goal {
            // The ratio to a quadratic measure is the ratio to its root.
            MeanRiskGoal::MaxRatio { risk_free } if self.measure == RiskMeasure::SemiVariance => {
                format!("maximum return / semi-deviation (r_f = {risk_free})")
            }
            MeanRiskGoal::MaxRatio { risk_free } => format!("maximum return / {r} (r_f = {risk_free})"),
            MeanRiskGoal::MaxUtility { risk_aversion } => format!("maximum return − {risk_aversion} × {r}"),
            MeanRiskGoal::MinRiskAtReturn { target } => format!("minimum {r} at return ≥ {target}"),
            MeanRiskGoal::MaxReturnAtRisk { cap } => format!("maximum return at {r} ≤ {cap}"),
        }
    }

    fn risk_free(&self) -> f64 {
        match self.goal {
            MeanRiskGoal::MaxRatio { risk_free } => risk_free,
            _ => 0.0,
        }
    }

    fn risk_name(&self) -> String {
        self.risk.name()
    }

    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        let m = x.moments;
        match self.goal {
            MeanRiskGoal::MaxRatio { risk_free } => {
                no_tracking(c, "a maximum ratio")?;
                if c.allow_cash {
                    return Err(Error::param(
                        Param::AllowCash,
                        "is ambiguous with a maximum ratio; solve fully invested",
                    ));
                }
                let excess = m.mean().mapv(|v| v - risk_free);
                if excess.iter().all(|&v| v <= 0.0) {
                    return Err(Error::infeasible(
                        "risk-free rate",
                        format!(
                            "no asset's mean return exceeds {risk_free}, so no long portfolio has a positive ratio"
                        ),
                    ));
                }
                // Scenario measures normalise the reward to the largest
                // |excess| so that y stays of the order of the weights: with
                // daily means of 1e-4, a'y = 1 puts y and the drawdown chain
                // in the thousands, where the interior point stalls on the
                // relativistic drawdown's power cones. The moments' measures
                // keep a'y = 1, whose larger objective the relative gap
                // tolerance resolves more finely.
                let scale = match self.measure {
                    RiskMeasure::Variance | RiskMeasure::StandardDeviation => 1.0,
                    _ => excess.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                };
                super::max_ratio::homogenised(x, c, &excess, self.risk.as_ref(), scale)
            }
            MeanRiskGoal::MaxUtility { risk_aversion } => {
                let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
                self.risk.add(&mut p, w, risk_aversion)?;
                let loss = net_loss(&mut p, x, c, w, t);
                p.minimise(loss);
                Ok(Built::direct(p, w))
            }
            MeanRiskGoal::MinRiskAtReturn { target } => {
                let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
                let loss = net_loss(&mut p, x, c, w, t);
                p.le(loss, -target);
                self.risk.add(&mut p, w, 1.0)?;
                Ok(Built { objective_is_risk: true, ..Built::direct(p, w) })
            }
            MeanRiskGoal::MaxReturnAtRisk { cap } => {
                let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
                let value = self.risk.epigraph(&mut p, w)?;
                p.le(value, cap);
                let loss = net_loss(&mut p, x, c, w, t);
                p.minimise(loss);
                Ok(Built::direct(p, w))
            }
        }
    }

    /// An infeasible target or cap names the measure and how far it is.
    fn explain(&self, e: Error, m: &Inputs<'_>, constraints: &crate::optimize::Constraints) -> Error {
        match (&e, self.goal) {
            (Error::Solver { status, .. }, MeanRiskGoal::MinRiskAtReturn { target }) if status.is_infeasible() => {
                match super::max_return(m, constraints) {
                    Ok(best) => Error::infeasible(
                        "target return",
                        format!("{target} exceeds the highest achievable mean return {best:.6} under these constraints"),
                    ),
                    Err(_) => e,
                }
            }
            (Error::Solver { status, .. }, MeanRiskGoal::MaxReturnAtRisk { cap }) if status.is_infeasible() => Error::infeasible(
                "risk cap",
                format!(
                    "no portfolio under these constraints has {} ≤ {cap}; see the minimum with Optimizer::min_risk({:?})",
                    self.risk.name(),
                    self.measure
                ),
            ),
            _ => e,
        }
    }
}
