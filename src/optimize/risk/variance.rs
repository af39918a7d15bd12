//! Variance, $\rho(w) = w^\top\Sigma w$: a quadratic form in the objective;
//! and the volatility cone every standard-deviation term shares. Moments
//! that carry a factored covariance $\Sigma = BFB^\top + D$ are written with
//! $k$ auxiliary exposures $y = B^\top w$ — $y^\top F y + \sum_i d_i w_i^2$ —
//! so the program never holds the dense $N \times N$ matrix.

use crate::parameter::Optimize as Param;
use ndarray::{Array1, Array2};

use super::Risk;
use crate::error::{Error, Result};
use crate::estimate::{Factored, Moments};
use crate::optimize::problem::{Affine, Block, Lin, Program};

/// $w^\top\Sigma w$ for the moments' covariance.
pub(crate) struct Variance<'a>(pub &'a Moments);

impl Risk for Variance<'_> {
    fn add(&self, p: &mut Program, w: Block, scale: f64) -> Result<()> {
        // A positive definite Σ makes the optimum unique: polish it.
        if scale > 0.0 {
            p.polish_on_active_set();
        }
        if let (Some((z, Some(d))), None, true) = (p.indicators(), self.0.spread(), scale > 0.0) {
            return perspective(p, self.0, w, z, &d, scale);
        }
        add_form(p, self.0, w, scale, None);
        if let Some(h) = self.0.spread() {
            let v = magnitudes(p, w, None);
            add_quadratic(p, v, &h.dot(&h.t()), 2.0 * scale);
        }
        Ok(())
    }

    fn epigraph(&self, _: &mut Program, _: Block) -> Result<Lin> {
        Err(crate::error::Error::param(
            Param::Measure,
            "variance is a quadratic form with no linear epigraph; cap volatility with target_volatility instead",
        ))
    }

    fn name(&self) -> String {
        "variance".into()
    }
}

/// A diagonal $D \ge 0$ with $\Sigma - D$ positive semidefinite, as large
/// as two scalings allow: a factored covariance's specific variances, else
/// $\alpha_c\,c_i$ on the conditional variances $c_i = 1/(\Sigma^{-1})_{ii}$
/// (each asset's variance not explained by the others, so close to a
/// factor model's specific variance) or $\lambda_{min}(C)\,\sigma_i^2$ on
/// the correlation $C$, whichever leaves more of each variance on the
/// diagonal; each $\alpha$ is the largest that keeps $\Sigma - D$
/// semidefinite, shrunk by 1e-6 for floating point. Up to 200 assets, that
/// diagonal then starts a search for the largest share of the variances
/// that keeps $\Sigma - D$ semidefinite ([`max_trace_share`]), a much
/// tighter relaxation of holding rules. `None` when it is zero.
pub(crate) fn diagonal_share(m: &Moments) -> Option<Vec<f64>> {
    if let Some(f) = m.factored() {
        return f.specific.iter().any(|d| *d > 0.0).then(|| f.specific.to_vec());
    }
    let cov = m.cov();
    let var: Vec<f64> = cov.diag().to_vec();
    if var.iter().any(|v| !(*v > 0.0)) {
        return None;
    }
    // The largest α with Σ − α·diag(s) ⪰ 0 is λ_min(diag(s)^-½ Σ diag(s)^-½).
    let scaled = |s: &[f64]| -> Vec<f64> {
        let r = Array2::from_shape_fn(cov.raw_dim(), |(i, j)| cov[[i, j]] / (s[i] * s[j]).sqrt());
        let (values, _) = crate::linalg::symmetric_eigen(&r);
        let alpha = values.iter().fold(f64::INFINITY, |a, b| a.min(*b)) * (1.0 - 1e-6);
        s.iter().map(|v| alpha.max(0.0) * v).collect()
    };
    let mut best = scaled(&var);
    if let Some(l) = crate::linalg::cholesky(cov.view()) {
        let conditional: Vec<f64> = (0..var.len())
            .map(|i| {
                let mut e = ndarray::Array1::zeros(var.len());
                e[i] = 1.0;
                1.0 / crate::linalg::cholesky_solve(&l, &e)[i]
            })
            .collect();
        let other = scaled(&conditional);
        let share = |d: &[f64]| d.iter().zip(&var).map(|(d, v)| d / v).sum::<f64>();
        if share(&other) > share(&best) {
            best = other;
        }
    }
    if best.iter().all(|d| *d > 0.0) && var.len() <= MAX_TRACE_ASSETS {
        let corr = nalgebra::DMatrix::from_fn(var.len(), var.len(), |i, j| cov[[i, j]] / (var[i] * var[j]).sqrt());
        let start: Vec<f64> = best.iter().zip(&var).map(|(d, v)| d / v).collect();
        if let Some(e) = max_trace_share(&corr, &start) {
            best = e.iter().zip(&var).map(|(e, v)| e * v).collect();
        }
    }
    best.iter().any(|d| *d > 0.0).then_some(best)
}

/// Assets up to which [`diagonal_share`] maximises the share (each Newton
/// step factors two n × n matrices).
const MAX_TRACE_ASSETS: usize = 200;

/// The diagonal $e$ that maximises $\sum_i e_i$ subject to $C -
/// \operatorname{diag}(e) \succeq 0$, $e \ge 0$ on a correlation $C$ (a
/// semidefinite program, here by its log barrier: Newton's method on
/// $\sum_i e_i + \mu\,(\log\det(C - \operatorname{diag} e) + \sum_i \log
/// e_i)$, $\mu$ divided by 10 until the duality gap $2n\mu$ is below
/// $10^{-7}$ of the objective). Starts from a strictly feasible `start`
/// (halved) and returns a strictly feasible point no worse than it, or
/// `None` if a factorisation fails.
fn max_trace_share(c: &nalgebra::DMatrix<f64>, start: &[f64]) -> Option<Vec<f64>> {
    use nalgebra::{Cholesky, DMatrix, DVector};
    let n = start.len();
    let mut e = DVector::from_iterator(n, start.iter().map(|s| 0.5 * s));
    let slack = |e: &DVector<f64>| Cholesky::new(c - DMatrix::from_diagonal(e));
    // The barrier's value at e, if strictly feasible.
    let value = |e: &DVector<f64>, mu: f64| -> Option<f64> {
        if e.iter().any(|x| !(*x > 0.0)) {
            return None;
        }
        let l = slack(e)?;
        let log_det = 2.0 * l.l_dirty().diagonal().iter().map(|x| x.ln()).sum::<f64>();
        Some(e.sum() + mu * (log_det + e.iter().map(|x| x.ln()).sum::<f64>()))
    };
    let mut mu = e.sum() / n as f64;
    for _ in 0..40 {
        for _ in 0..100 {
            let s_inv = slack(&e)?.inverse();
            let g = DVector::from_fn(n, |i, _| 1.0 - mu * s_inv[(i, i)] + mu / e[i]);
            let h = DMatrix::from_fn(n, n, |i, j| {
                mu * (s_inv[(i, j)] * s_inv[(i, j)] + if i == j { 1.0 / (e[i] * e[i]) } else { 0.0 })
            });
            let step = Cholesky::new(h)?.solve(&g);
            let decrement = g.dot(&step);
            if decrement < 1e-12 * (1.0 + e.sum()) {
                break;
            }
            let now = value(&e, mu)?;
            let mut t = 1.0;
            let next = loop {
                let trial = &e + &step * t;
                if value(&trial, mu).is_some_and(|v| v >= now + 0.25 * t * decrement) {
                    break Some(trial);
                }
                t *= 0.5;
                if t < 1e-12 {
                    break None;
                }
            };
            match next {
                Some(x) => e = x,
                None => break,
            }
        }
        if 2.0 * n as f64 * mu < 1e-7 * e.sum() {
            break;
        }
        mu /= 10.0;
    }
    let better = e.sum() > start.iter().sum::<f64>();
    better.then(|| e.iter().copied().collect())
}

/// $s\,[w^\top(\Sigma - D)w + \sum_i d_i q_i]$ with $w_i^2 \le q_i z_i$
/// (rotated second-order cones): the variance's perspective form on the
/// indicators $z$ of a relaxation of holding rules. Equal to the variance
/// where each $z_i$ is 0 or 1, and a tighter bound than it where $z$ is
/// fractional, since $w_i^2 / z_i \ge w_i^2$.
fn perspective(p: &mut Program, m: &Moments, w: Block, z: Block, d: &[f64], scale: f64) -> Result<()> {
    add_form(p, m, w, scale, Some(d));
    let q = p.vars(w.len());
    for (i, ((wi, zi), qi)) in w.vars().zip(z.vars()).zip(q.vars()).enumerate() {
        // ‖(2w, q − z)‖ ≤ q + z  ⇔  w² ≤ q z, q, z ≥ 0.
        p.soc(vec![(qi + zi).into(), (wi * 2.0).into(), (qi - zi).into()]);
        p.minimise(qi * (scale * d[i]));
    }
    Ok(())
}

/// Adds $s\, w^\top(\Sigma - D)w$ to the objective ($D = 0$ when `less`
/// is `None`); a factored covariance's $D$ is its specific variances, so
/// only the factors' part remains.
fn add_form(p: &mut Program, m: &Moments, w: Block, scale: f64, less: Option<&[f64]>) {
    match m.factored() {
        None => match less {
            None => add_quadratic(p, w, m.cov(), 2.0 * scale),
            Some(d) => {
                let mut rest = m.cov().clone();
                for (i, di) in d.iter().enumerate() {
                    rest[[i, i]] -= di;
                }
                add_quadratic(p, w, &rest, 2.0 * scale);
            }
        },
        Some(f) => {
            let y = exposures(p, f, w);
            let k = f.factor_cov.nrows();
            for a in 0..k {
                for b in a..k {
                    p.quad(y.at(a), y.at(b), 2.0 * scale * f.factor_cov[[a, b]]);
                }
            }
            if less.is_none() {
                for (wi, d) in w.vars().zip(&f.specific) {
                    p.quad(wi, wi, 2.0 * scale * d);
                }
            }
        }
    }
}

/// Adds $\tfrac{s}{2}\, w^\top\Sigma w$ to the objective.
pub(crate) fn add_quadratic(p: &mut Program, w: Block, cov: &Array2<f64>, s: f64) {
    let n = cov.nrows();
    for i in 0..n {
        for j in i..n {
            p.quad(w.at(i), w.at(j), s * cov[[i, j]]);
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
        .ok_or_else(|| Error::param(Param::Covariance, "cannot be factored; is it positive semidefinite?"))
}

/// The exposures $y = B^\top w$ as `k` new variables, tied to the weights
/// by equalities.
fn exposures(p: &mut Program, f: &Factored, w: Block) -> Block {
    let y = p.vars(f.loadings.ncols());
    for (j, yj) in y.vars().enumerate() {
        p.eq(yj - w.dot(f.loadings.column(j)), 0.0);
    }
    y
}

/// Cone entries whose Euclidean norm is the volatility of $w - b$
/// ($b = 0$ when `None`): $L^\top(w - b)$ on the Cholesky factor
/// $\Sigma = LL^\top$, or for a factored covariance $L_F^\top(y - B^\top b)$
/// and $\sqrt{d}\circ(w - b)$ with $F = L_FL_F^\top$.
pub(crate) fn volatility_entries(
    p: &mut Program,
    m: &Moments,
    w: Block,
    b: Option<&Array1<f64>>,
) -> Result<Vec<Affine>> {
    let n = w.len();
    let zero = Array1::zeros(n);
    let b = b.unwrap_or(&zero);
    let mut entries = Vec::new();
    match m.factored() {
        None => {
            let l = factor(m.cov())?;
            for k in 0..n {
                let lb: f64 = (k..n).map(|i| l[[i, k]] * b[i]).sum();
                entries.push(w.dot(l.column(k)).plus(-lb));
            }
        }
        Some(f) => {
            let y = exposures(p, f, w);
            let lf = factor(&f.factor_cov)?;
            let bb = f.loadings.t().dot(b);
            for j in 0..lf.ncols() {
                let c: f64 = (j..lf.nrows()).map(|l| lf[[l, j]] * bb[l]).sum();
                entries.push(y.dot(lf.column(j)).plus(-c));
            }
            for (i, d) in f.specific.iter().enumerate() {
                if *d > 0.0 {
                    let s = d.sqrt();
                    entries.push((w.at(i) * s).plus(-s * b[i]));
                }
            }
        }
    }
    if let Some(h) = m.spread() {
        let v = magnitudes(p, w, Some(b));
        entries.extend(h.columns().into_iter().map(|c| Affine::from(v.dot(c))));
    }
    Ok(entries)
}

/// Variables $v \ge \lvert w - b\rvert$ (two rows each), which a covariance
/// box's worst case $\lVert H^\top v\rVert^2$ prices: it grows with every
/// $v_i \ge 0$, as the half-width $HH^\top$ has no negative entry, so the
/// optimum takes $v = \lvert w - b\rvert$ wherever it matters.
fn magnitudes(p: &mut Program, w: Block, b: Option<&Array1<f64>>) -> Block {
    let v = p.vars(w.len());
    for (i, (vi, wi)) in v.vars().zip(w.vars()).enumerate() {
        let bi = b.map_or(0.0, |b| b[i]);
        p.ge(vi - wi, -bi);
        p.ge(vi + wi, bi);
    }
    v
}

/// Standard deviation $\sqrt{w^\top\Sigma w}$: a second-order cone
/// $\lVert \Sigma^{1/2} w\rVert_2 \le t$ ([`volatility_entries`]), so unlike
/// variance it has a linear epigraph (and is positively homogeneous), which
/// the ratio, cap and budgeting formulations need.
pub(crate) struct StdDev<'a>(pub &'a Moments);

impl Risk for StdDev<'_> {
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        // t ≥ ‖Σ^{1/2} w‖₂.
        let t = p.var();
        let mut cone = vec![t.into()];
        cone.extend(volatility_entries(p, self.0, w, None)?);
        p.soc(cone);
        Ok(t.into())
    }

    fn name(&self) -> String {
        "standard deviation".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest diagonal share equals the semidefinite program's
    /// optimum (cvxpy on Clarabel, `tools/reference/sdp_diagonal.py`) to
    /// 1e-6 relative, leaves C − diag(e) positive definite, and at least
    /// doubles the λ_min start on these factor models.
    #[test]
    fn the_largest_diagonal_share_is_the_semidefinite_optimum() {
        let text = std::fs::read_to_string("tests/fixtures/sdp_diagonal_reference.json").unwrap();
        let fx: serde_json::Value = serde_json::from_str(&text).unwrap();
        for case in fx["cases"].as_array().unwrap() {
            let rows = case["correlation"].as_array().unwrap();
            let n = rows.len();
            let c = nalgebra::DMatrix::from_fn(n, n, |i, j| rows[i][j].as_f64().unwrap());
            let lam = nalgebra::SymmetricEigen::new(c.clone()).eigenvalues.min() * (1.0 - 1e-6);
            let start = vec![lam; n];
            let t0 = std::time::Instant::now();
            let e = max_trace_share(&c, &start).unwrap();
            let seconds = t0.elapsed().as_secs_f64();
            let value: f64 = e.iter().sum();
            let reference = case["value"].as_f64().unwrap();
            assert!((value - reference).abs() <= 1e-6 * reference, "n = {n}: {value} against {reference}");
            assert!(value >= 2.0 * lam * n as f64, "n = {n}: {value} from {}", lam * n as f64);
            let slack = &c - nalgebra::DMatrix::from_diagonal(&nalgebra::DVector::from_vec(e.clone()));
            assert!(nalgebra::Cholesky::new(slack).is_some(), "n = {n}: C − diag(e) is positive definite");
            assert!(e.iter().all(|x| *x > 0.0));
            eprintln!("n = {n}: {value:.9} against {reference:.9} in {seconds:.3} s");
        }
    }
}
