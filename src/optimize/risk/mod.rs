//! Risk terms: each writes its own epigraph or quadratic form into the
//! conic program, so an objective can minimise, penalise or cap any of
//! them. A new risk measure is a new file here.

mod cvar;
mod variance;

pub(crate) use cvar::Cvar;
pub(crate) use variance::Variance;

use super::problem::Program;
use crate::error::Result;

/// A convex risk measure of the weights $w = x_{0..n}$.
pub(crate) trait Risk {
    /// Adds $\text{scale} \cdot \rho(w)$ to the objective (auxiliary
    /// variables and rows as the measure needs).
    fn add(&self, p: &mut Program, n: usize, scale: f64) -> Result<()>;

    /// Whether the measure is in units of return per period, so that
    /// proportional costs (a return) can be charged beside it.
    fn in_return_units(&self) -> bool;

    /// The measure's name in labels and messages.
    fn name(&self) -> String;
}
