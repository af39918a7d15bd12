//! Minimum risk: $\min_{w\in\mathcal W} \rho(w)$ for any risk measure
//! $\rho$, plus the cost of trading from current weights (for variance,
//! a cost aversion sets the exchange rate between the two units).

use super::{constrained, Built, Constrained, Formulation, Inputs, Readout, Solved};
use crate::error::Result;
use crate::optimize::constraints::Resolved;
use crate::optimize::risk::{Risk, Variance};
use crate::optimize::Reduction;

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
        let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
        self.risk.add(&mut p, w, 1.0)?;
        p.minimise(c.cost(t));
        Ok(Built { objective_is_risk: self.report, ..Built::direct(p, w) })
    }

    /// A piecewise-linear scenario measure is minimised by exact scenario
    /// reduction (`risk::reduce`), started from the minimum-variance
    /// portfolio under the same constraints; the full epigraph otherwise,
    /// or if the reduction does not settle.
    fn solve(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Solved> {
        if let Some(reduced) = self.risk.reduced().filter(|_| x.reduction == Reduction::Auto) {
            let Constrained { program: mut base, weights: w, trade: t } = constrained(x, c)?;
            base.minimise(c.cost(t));
            let mut start = base.clone();
            Variance(x.moments).add(&mut start, w, 1.0)?;
            let first = start.solve()?;
            if let Some(mut sol) = reduced.minimise(&base, w, &w.values(&first.x))? {
                sol.seconds += first.seconds;
                sol.iterations += first.iterations;
                return Ok(Solved { solution: sol, readout: Readout::Direct(w), objective_is_risk: self.report });
            }
        }
        self.build(x, c)?.solve()
    }
}
