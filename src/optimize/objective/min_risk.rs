//! Minimum risk: $\min_{w\in\mathcal W} \rho(w)$ for any risk measure
//! $\rho$, plus the cost of trading where $\rho$ is in return units.

use super::{charge_costs, constrained, no_costs, Built, Formulation, Inputs};
use crate::error::Result;
use crate::optimize::constraints::Resolved;
use crate::optimize::risk::Risk;

pub(crate) struct MinRisk<R> {
    risk: R,
    report: bool,
}

impl<R: Risk> MinRisk<R> {
    pub(crate) fn new(risk: R) -> Self {
        MinRisk { risk, report: false }
    }

    /// The optimal value is reported with the allocation as the measure.
    pub(crate) fn reporting_risk(mut self) -> Self {
        self.report = true;
        self
    }
}

impl<R: Risk> Formulation for MinRisk<R> {
    fn label(&self) -> String {
        format!("minimum {}", self.risk.name())
    }

    fn risk_name(&self) -> String {
        self.risk.name()
    }

    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        if !self.risk.in_return_units() {
            no_costs(c, &self.label())?;
        }
        let n = x.moments.n_assets();
        let (mut p, t) = constrained(x, c)?;
        self.risk.add(&mut p, n, 1.0)?;
        charge_costs(&mut p, c, t, n);
        Ok(Built { objective_is_risk: self.report, ..Built::direct(p) })
    }
}
