//! Variance, $\rho(w) = w^\top\Sigma w$: a quadratic form in the objective.

use ndarray::Array2;

use super::Risk;
use crate::error::{Error, Result};
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

/// Cholesky factor of $\Sigma$, with a tiny ridge if it is singular.
pub(crate) fn factor(cov: &Array2<f64>) -> Result<Array2<f64>> {
    if let Some(l) = crate::linalg::cholesky(cov.view()) {
        return Ok(l);
    }
    let scale = cov.diag().iter().fold(0.0f64, |a, b| a.max(*b));
    let mut r = cov.clone();
    for i in 0..r.nrows() {
        r[[i, i]] += 1e-12 * scale.max(f64::MIN_POSITIVE);
    }
    crate::linalg::cholesky(r.view())
        .ok_or_else(|| Error::param("covariance", "cannot be factored; is it positive semidefinite?"))
}

/// Standard deviation $\sqrt{w^\top\Sigma w}$: a second-order cone
/// $\lVert L^\top w\rVert_2 \le t$ on the Cholesky factor $\Sigma = LL^\top$,
/// so unlike variance it has a linear epigraph (and is positively
/// homogeneous), which the ratio, cap and budgeting formulations need.
pub(crate) struct StdDev<'a>(pub &'a Array2<f64>);

impl Risk for StdDev<'_> {
    fn epigraph(&self, p: &mut Program, n: usize) -> Result<Row> {
        let l = factor(self.0)?;
        let t = p.var();
        let mut cone = vec![(vec![(t, -1.0)], 0.0)];
        for k in 0..n {
            cone.push(((k..n).map(|i| (i, -l[[i, k]])).collect(), 0.0));
        }
        p.soc(cone);
        Ok(vec![(t, 1.0)])
    }

    fn in_return_units(&self) -> bool {
        true
    }

    fn name(&self) -> String {
        "standard deviation".into()
    }
}
