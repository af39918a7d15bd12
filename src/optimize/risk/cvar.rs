//! Conditional value at risk of scenario returns (Rockafellar–Uryasev):
//! with $S$ equally likely scenarios $r_s$ and confidence $\beta$,
//!
//! $$ \mathrm{CVaR}_\beta(w) = \min_{\alpha}\ \alpha + \frac{1}{(1-\beta)S}\sum_s \max(0,\ -r_s^\top w - \alpha), $$
//!
//! written as $\alpha + \tfrac{1}{(1-\beta)S}\sum_s u_s$ with
//! $u_s \ge -r_s^\top w - \alpha$, $u_s \ge 0$: a loss per period. With
//! scenario probabilities $p_s$ the sum is $\frac{1}{1-\beta}\sum_s p_s u_s$.

use ndarray::{ArrayView1, ArrayView2};

use super::reduce::{Aggregate, Family, Reduced, Reduction};
use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Block, Lin, Program};

/// CVaR at confidence `beta` of the scenarios (rows of simple returns).
pub(crate) struct Cvar<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    /// The scenarios' probabilities (`None`: equally likely).
    pub probabilities: Option<ArrayView1<'a, f64>>,
    pub beta: f64,
}

impl Risk for Cvar<'_> {
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        let s = self.scenarios.nrows();
        let alpha = p.var();
        let u = p.vars(s);
        for (r, uj) in self.scenarios.rows().into_iter().zip(u.vars()) {
            // u_j ≥ −r_j·w − α, u_j ≥ 0.
            p.ge(uj + alpha + w.dot(r), 0.0);
            p.ge(uj, 0.0);
        }
        Ok(match self.probabilities {
            None => alpha + u.sum() * (1.0 / ((1.0 - self.beta) * s as f64)),
            Some(prob) => alpha + u.dot(prob.iter()) * (1.0 / (1.0 - self.beta)),
        })
    }

    fn name(&self) -> String {
        format!("CVaR ({:.0} %)", self.beta * 100.0)
    }

    fn reduced(&self) -> Option<Box<dyn Reduction + '_>> {
        let kappa = match self.probabilities {
            None => 1.0 / ((1.0 - self.beta) * self.scenarios.nrows() as f64),
            Some(_) => 1.0 / (1.0 - self.beta),
        };
        Some(Box::new(Reduced {
            family: Family::Rows { vectors: self.scenarios.mapv(|v| -v), signs: &[1.0] },
            aggregate: Aggregate::Sum(kappa),
            zero: true,
            threshold: true,
            probabilities: self.probabilities.map(|p| p.to_owned()),
        }))
    }
}
