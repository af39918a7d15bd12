//! Maximum ratio of a linear reward to volatility, solved exactly in the
//! homogenised form: $\max_{w\in\mathcal W} a^\top w/\sqrt{w^\top\Sigma w}$
//! becomes $\min y^\top\Sigma y$ s.t. $a^\top y = 1$, $y \in \kappa\mathcal W$,
//! $\kappa \ge 0$, and $w = y/\kappa$. With $a = \mu - r_f$ it is the maximum
//! Sharpe ratio (the tangency portfolio); with $a = \sigma$ the maximum
//! diversification ratio.
//!
//! Trading costs from current weights enter the reward as
//! $a^\top w - \text{cost}(w - w^{cur})$: in the homogenised program each
//! cost term is its perspective (see `optimize::trading`), so the maximum
//! net ratio is still exact.

use crate::parameter::Optimize as Param;
use ndarray::Array1;

use super::{no_costs, no_tracking, Built, Constrained, Formulation, Inputs, Readout};
use crate::error::{Error, Result};
use crate::optimize::constraints::Resolved;
use crate::optimize::problem::Program;
use crate::optimize::risk::{Risk, Variance};

pub(crate) struct MaxSharpe {
    pub risk_free: f64,
}

impl Formulation for MaxSharpe {
    fn label(&self) -> String {
        format!("maximum Sharpe (r_f = {})", self.risk_free)
    }

    fn risk_free(&self) -> f64 {
        self.risk_free
    }

    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        no_tracking(c, "maximum Sharpe")?;
        if c.allow_cash {
            return Err(Error::param(
                Param::AllowCash,
                "is ambiguous with maximum Sharpe: any mix of cash and the tangency portfolio has the same Sharpe ratio; solve fully invested",
            ));
        }
        let mu = x.moments.mean();
        let excess = mu.mapv(|v| v - self.risk_free);
        if excess.iter().all(|&v| v <= 0.0) {
            return Err(Error::infeasible(
                "risk-free rate",
                format!(
                    "no asset's expected return exceeds the risk-free rate {} (the highest is {:.6}), so no long portfolio has a positive Sharpe ratio; lower the risk-free rate or use minimum variance",
                    self.risk_free,
                    mu.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                ),
            ));
        }
        homogeneous(x, c, excess)
    }
}

pub(crate) struct MaxDiversification;

impl Formulation for MaxDiversification {
    fn label(&self) -> String {
        "maximum diversification".into()
    }

    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        no_costs(c, "maximum diversification")?;
        no_tracking(c, "maximum diversification")?;
        if c.allow_cash {
            return Err(Error::param(Param::AllowCash, "is not supported with maximum diversification"));
        }
        homogeneous(x, c, x.moments.volatility())
    }
}

/// $\min y^\top\Sigma y$ s.t. $a^\top y = 1$, $y \in \kappa\mathcal W$, $\kappa \ge 0$.
fn homogeneous(x: &Inputs<'_>, c: &Resolved, a: Array1<f64>) -> Result<Built> {
    homogenised(x, c, &a, &Variance(x.moments), 1.0)
}

/// $\min \rho(y)$ s.t. $a^\top y = m$, $y \in \kappa\mathcal W$, $\kappa \ge 0$,
/// read back as $w = y/\kappa$: the maximum of $a^\top w / \rho(w)$ for a
/// positively homogeneous $\rho$ (variance enters as $y^\top\Sigma y$, whose
/// square root is the homogeneous one). The ratio does not depend on the
/// normalisation $m$; it sets the size of $y$, about $m/(a^\top w)$.
///
/// With an uncertainty set for the mean the reward is its worst case,
/// $a^\top y - e(y)$ with the set's shortfall $e$ (positively homogeneous,
/// so the program stays exact); a set so wide that no portfolio's
/// worst-case reward is positive has no ratio to maximise and is refused.
pub(crate) fn homogenised(x: &Inputs<'_>, c: &Resolved, a: &Array1<f64>, risk: &dyn Risk, m: f64) -> Result<Built> {
    if let Some(set) = x.mean_set {
        let Constrained { program: mut q, weights: w, trade: t } = super::constrained(x, c)?;
        let shortfall = set.shortfall(&mut q, w, c.long_only());
        q.minimise(c.cost(t) - w.dot(a) + shortfall);
        let best = -q.solve()?.objective;
        if best <= 0.0 {
            return Err(Error::param(
                Param::MeanUncertainty,
                format!(
                    "the set is larger than the data supports: no portfolio's worst-case excess return is positive \
                     (the best is {best:.3e}), so there is no ratio to maximise; shrink the set (a lower confidence) \
                     or lower the risk-free rate"
                ),
            ));
        }
    }
    let (mut p, y) = Program::with_weights(a.len());
    let kappa = p.var();
    p.homogenize(kappa);
    let trade = c.write(&mut p, y);
    p.ge(kappa, 0.0);
    // a'y − shortfall − cost = m: the net (worst-case) reward normalised.
    let reward = match x.mean_set {
        Some(set) => y.dot(a) - set.shortfall(&mut p, y, c.long_only()),
        None => y.dot(a),
    };
    p.eq_raw(reward - c.cost(trade), m);
    risk.add(&mut p, y, 1.0)?;
    Ok(Built { program: p, readout: Readout::Scaled { y, kappa }, objective_is_risk: false })
}
