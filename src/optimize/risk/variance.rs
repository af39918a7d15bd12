//! Variance, $\rho(w) = w^\top\Sigma w$: a quadratic form in the objective.

use ndarray::Array2;

use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Program, Row};

/// $w^\top\Sigma w$ for a covariance $\Sigma$.
pub(crate) struct Variance<'a>(pub &'a Array2<f64>);

impl Risk for Variance<'_> {
    fn add(&self, p: &mut Program, _: usize, scale: f64) -> Result<()> {
        add_quadratic(p, self.0, 2.0 * scale);
        Ok(())
    }

    fn epigraph(&self, _: &mut Program, _: usize) -> Result<Row> {
        Err(crate::error::Error::param(
            "risk measure",
            "variance is a quadratic form with no linear epigraph; cap volatility with target_volatility instead",
        ))
    }

    fn in_return_units(&self) -> bool {
        false
    }

    fn name(&self) -> String {
        "variance".into()
    }
}

/// Adds $\tfrac{s}{2}\, w^\top\Sigma w$ to the objective ($w = x_{0..n}$).
pub(crate) fn add_quadratic(p: &mut Program, cov: &Array2<f64>, s: f64) {
    let n = cov.nrows();
    for i in 0..n {
        for j in i..n {
            p.quad(i, j, s * cov[[i, j]]);
        }
    }
}
