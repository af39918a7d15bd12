//! Mean–variance utility:
//! $\max_{w\in\mathcal W} \mu^\top w - \tfrac{\lambda}{2} w^\top\Sigma w - c\lVert w - w^{prev}\rVert_1$.

use super::{charge_costs, constrained, Built, Formulation, Inputs};
use crate::error::Result;
use crate::optimize::constraints::Resolved;
use crate::optimize::risk::{Risk, Variance};

pub(crate) struct MeanVariance {
    pub risk_aversion: f64,
}

impl Formulation for MeanVariance {
    fn label(&self) -> String {
        format!("mean-variance (λ = {})", self.risk_aversion)
    }

    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        let l = self.risk_aversion;
        let m = x.moments;
        let n = m.n_assets();
        let (mut p, t) = constrained(x, c)?;
        Variance(m).add(&mut p, n, l / 2.0)?;
        for i in 0..n {
            p.lin(i, -m.mean()[i]);
        }
        charge_costs(&mut p, c, t, n);
        Ok(Built::direct(p))
    }
}
