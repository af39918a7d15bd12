//! Mean–variance utility:
//! $\max_{w\in\mathcal W} \mu^\top w - \tfrac{\lambda}{2} w^\top\Sigma w - c\lVert w - w^{prev}\rVert_1$.

use super::{constrained, net_loss, Built, Constrained, Formulation, Inputs};
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
        let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
        Variance(m).add(&mut p, w, l / 2.0)?;
        let loss = net_loss(&mut p, x, c, w, t);
        p.minimise(loss);
        Ok(Built::direct(p, w))
    }
}
