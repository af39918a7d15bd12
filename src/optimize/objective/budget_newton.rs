//! Risk budgets of a smooth measure by Newton's method.
//!
//! For variance, standard deviation, semideviation, semivariance, the
//! second lower partial moment and EVaR the
//! log-barrier objective of risk budgeting is smooth and strictly convex
//! on $y > 0$, so Newton's method reaches its optimum to machine precision
//! from 1/N in a few steps, where the interior-point solve of the
//! exponential-cone program stops a tolerance short of the budgets (or, for
//! EVaR on long samples, does not converge). The objectives are
//!
//! - $F(y) = Q(y) - \sum_i b_i\ln y_i$ with $Q = y^\top\Sigma y$ (variance
//!   and standard deviation) or the semivariance
//!   $Q = \frac{1}{S-1}\sum_s \min(d_s^\top y, 0)^2$ on the centred
//!   scenarios $d_s$ (semideviation and semivariance), or on $d_s = r_s - m$
//!   below a minimum acceptable return $m$ (the second lower partial
//!   moment: for unnormalised $y$ the level is $m\sum_i y_i$, so the rows
//!   are $r_s - m$ and the measure stays homogeneous). A measure and its square have the
//!   same budgeted weights: only the log terms' multiplier changes.
//! - $F(y, z) = z\,\ln\big(\frac{1}{\alpha S}\sum_s e^{-r_s^\top y/z}\big) -
//!   \sum_i b_i\ln y_i$ for EVaR: its definition with the minimum over
//!   $z$ taken jointly, a perspective of the log-sum-exp and so jointly
//!   convex.
//!
//! Each step solves $H d = -g$ by Cholesky and backtracks until the
//! objective falls enough (Armijo) with $y$ and $z$ positive. The stop is
//! on the contributions: at the optimum $y_i\,\partial F/\partial y_i = 0$,
//! i.e. $y_i\,\partial Q/\partial y_i = b_i$, so $\max_i |y_i g_i| / b_i$ is
//! how far each contribution is from its budget, relative.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::linalg::{cholesky, cholesky_solve, gram};
use crate::optimize::problem::backtrack;
use crate::optimize::risk::{centred, evar_optimum, RiskMeasure};

/// The smooth objective's data.
pub(crate) enum Smooth<'a> {
    /// $Q = y^\top\Sigma y$.
    Quadratic(ArrayView2<'a, f64>),
    /// The semivariance of the rows $d_s$: the centred scenarios, or the
    /// scenarios less a minimum acceptable return.
    Semi(Array2<f64>),
    /// EVaR of the scenarios (rows of returns) at confidence `beta`.
    Evar { scenarios: ArrayView2<'a, f64>, beta: f64 },
}

/// Newton's answer: the optimal $y$ (the first `n` variables), the steps
/// taken, and the contributions' largest relative distance from their
/// budgets.
pub(crate) struct Newton {
    pub y: Array1<f64>,
    pub iterations: u32,
    pub residual: f64,
    pub objective: f64,
}

/// Largest relative distance of the contributions from the budgets at
/// which Newton's answer is accepted (else the caller falls back to the
/// interior-point program).
const ACCEPT: f64 = 1e-9;
const MAX_STEPS: u32 = 100;

impl<'a> Smooth<'a> {
    /// The smooth objective for `measure` (`None`: variance), or `None`
    /// where the measure is not smooth or its data are missing.
    pub fn of(
        measure: Option<RiskMeasure>,
        cov: ArrayView2<'a, f64>,
        scenarios: Option<ArrayView2<'a, f64>>,
    ) -> Option<Self> {
        match (measure, scenarios) {
            (None | Some(RiskMeasure::Variance | RiskMeasure::StandardDeviation), _) => Some(Smooth::Quadratic(cov)),
            // A measure and its square have the same budgets.
            (Some(RiskMeasure::SemiDeviation | RiskMeasure::SemiVariance), Some(r)) => {
                Some(Smooth::Semi(centred(r, 1.0)))
            }
            // Below a minimum acceptable return m: m Σy is the shortfall's
            // level for unnormalised y, so the rows are r_s − m.
            (Some(RiskMeasure::Slpm { mar }), Some(r)) => Some(Smooth::Semi(r.mapv(|x| x - mar))),
            (Some(RiskMeasure::Evar { beta }), Some(r)) => Some(Smooth::Evar { scenarios: r, beta }),
            _ => None,
        }
    }

    fn n(&self) -> usize {
        match self {
            Smooth::Quadratic(c) => c.ncols(),
            Smooth::Semi(d) => d.ncols(),
            Smooth::Evar { scenarios, .. } => scenarios.ncols(),
        }
    }

    /// The measure part of the objective at `v` (`y`, then `z` for EVaR),
    /// with its gradient and, when asked, its Hessian.
    fn eval(&self, v: &Array1<f64>, hessian: bool) -> (f64, Array1<f64>, Option<Array2<f64>>) {
        match self {
            Smooth::Quadratic(cov) => {
                let sy = cov.dot(v);
                (v.dot(&sy), 2.0 * sy, hessian.then(|| 2.0 * cov.to_owned()))
            }
            Smooth::Semi(d) => {
                let scale = 1.0 / (d.nrows() as f64 - 1.0);
                let neg = d.dot(v).mapv(|x| x.min(0.0));
                let h = hessian.then(|| {
                    let rows: Vec<usize> = (0..neg.len()).filter(|&s| neg[s] < 0.0).collect();
                    2.0 * scale * gram(crate::linalg::take_rows(d.view(), &rows).view())
                });
                (scale * neg.dot(&neg), 2.0 * scale * d.t().dot(&neg), h)
            }
            Smooth::Evar { scenarios: r, beta } => {
                let n = r.ncols();
                let log_alpha_s = ((1.0 - beta) * r.nrows() as f64).ln();
                let (y, z) = (v.slice(ndarray::s![..n]), v[n]);
                // e_s = −r_s·y / z and its softmax p.
                let e = r.dot(&y).mapv(|x| -x / z);
                let top = e.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let mut p = e.mapv(|x| (x - top).exp());
                let total = p.sum();
                p /= total;
                let phi = top + total.ln() - log_alpha_s;
                let mean_e = p.dot(&e);
                // ∂/∂y = −rᵀp, ∂/∂z = φ − pᵀe.
                let lp = -r.t().dot(&p);
                let mut g = Array1::zeros(n + 1);
                g.slice_mut(ndarray::s![..n]).assign(&lp);
                g[n] = phi - mean_e;
                let h = hessian.then(|| {
                    // With H_p = diag(p) − ppᵀ: ∂²/∂y² = rᵀH_p r / z,
                    // ∂²/∂y∂z = rᵀH_p e / z, ∂²/∂z² = eᵀH_p e / z.
                    let root = p.mapv(f64::sqrt);
                    let weighted = r * &root.view().insert_axis(Axis(1));
                    let mut h = Array2::zeros((n + 1, n + 1));
                    let yy = (gram(weighted.view()) - outer(&lp, &lp)) / z;
                    h.slice_mut(ndarray::s![..n, ..n]).assign(&yy);
                    let yz = (r.t().dot(&(&p * &e)) + &lp * mean_e) / z;
                    h.slice_mut(ndarray::s![..n, n]).assign(&yz);
                    h.slice_mut(ndarray::s![n, ..n]).assign(&yz);
                    h[[n, n]] = (p.dot(&e.mapv(|x| x * x)) - mean_e * mean_e) / z;
                    h
                });
                (z * phi, g, h)
            }
        }
    }

    /// The start: 1/N scaled so its contributions sum to the budgets' sum
    /// (for EVaR, with the $z$ that attains the measure there).
    fn start(&self) -> Array1<f64> {
        let n = self.n();
        let w = Array1::from_elem(n, 1.0 / n as f64);
        match self {
            Smooth::Quadratic(_) | Smooth::Semi(_) => {
                // y·∇Q = 2Q for a measure of degree 2.
                let q = self.eval(&w, false).0;
                if q > 0.0 {
                    w / (2.0 * q).sqrt()
                } else {
                    w
                }
            }
            Smooth::Evar { scenarios, beta } => {
                let losses = scenarios.dot(&w).mapv(|x| -x).to_vec();
                let (rho, z) = evar_optimum(&losses, *beta);
                let k = if rho > 0.0 { rho } else { 1.0 };
                let mut v = Array1::zeros(n + 1);
                v.slice_mut(ndarray::s![..n]).assign(&(w / k));
                v[n] = z / k;
                v
            }
        }
    }
}

fn outer(a: &Array1<f64>, b: &Array1<f64>) -> Array2<f64> {
    a.view().insert_axis(Axis(1)).dot(&b.view().insert_axis(Axis(0)))
}

/// Minimises the measure minus $\sum_i b_i\ln y_i$ by damped Newton steps
/// from [`Smooth::start`]; `None` if the contributions do not reach the
/// budgets to [`ACCEPT`].
pub(crate) fn solve(s: &Smooth<'_>, b: &[f64]) -> Option<Newton> {
    let n = s.n();
    let total = |v: &Array1<f64>, value: f64| value - (0..n).map(|i| b[i] * v[i].ln()).sum::<f64>();
    let mut v = s.start();
    let mut residual = f64::INFINITY;
    let mut objective = f64::INFINITY;
    for step in 0..MAX_STEPS {
        let (value, mut g, h) = s.eval(&v, true);
        let mut h = h?;
        for i in 0..n {
            g[i] -= b[i] / v[i];
            h[[i, i]] += b[i] / (v[i] * v[i]);
        }
        objective = total(&v, value);
        residual = (0..n).map(|i| (v[i] * g[i]).abs() / b[i]).fold(0.0, f64::max);
        if v.len() > n {
            residual = residual.max((v[n] * g[n]).abs());
        }
        if !residual.is_finite() {
            return None;
        }
        if residual < 1e-13 {
            return Some(Newton { y: v.slice(ndarray::s![..n]).to_owned(), iterations: step, residual, objective });
        }
        let l = cholesky(h.view())?;
        let d = cholesky_solve(&l, &(-&g));
        let slope = g.dot(&d);
        let (vs, ds) = (v.to_vec(), d.to_vec());
        let moved = backtrack(&vs, &ds, 0..v.len(), objective, slope, |next| {
            let next = Array1::from(next.to_vec());
            total(&next, s.eval(&next, false).0)
        });
        match moved {
            Some(next) => v = Array1::from(next),
            // No decrease left at working precision: accept if there.
            None => break,
        }
    }
    (residual < ACCEPT).then(|| Newton {
        y: v.slice(ndarray::s![..n]).to_owned(),
        iterations: MAX_STEPS,
        residual,
        objective,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Six scenarios of three assets.
    fn scenarios() -> Array2<f64> {
        array![
            [0.01, -0.02, 0.005],
            [-0.03, 0.01, 0.02],
            [0.02, 0.0, -0.01],
            [-0.01, 0.03, 0.0],
            [0.0, -0.01, -0.02],
            [0.015, -0.005, 0.01]
        ]
    }

    /// Two uncorrelated assets: equal risk contributions give weights in
    /// proportion to 1/σ, here 2/3 and 1/3.
    #[test]
    fn uncorrelated_assets_are_weighted_by_inverse_volatility() {
        let cov = array![[0.01, 0.0], [0.0, 0.04]];
        let out = solve(&Smooth::Quadratic(cov.view()), &[0.5, 0.5]).unwrap();
        let w = &out.y / out.y.sum();
        assert!((w[0] - 2.0 / 3.0).abs() < 1e-14 && (w[1] - 1.0 / 3.0).abs() < 1e-14, "{w}");
        assert!(out.residual < 1e-13);
    }

    /// The EVaR objective's gradient and Hessian equal central differences
    /// of its value and gradient.
    #[test]
    fn evar_derivatives_match_differences() {
        let r = scenarios();
        let s = Smooth::Evar { scenarios: r.view(), beta: 0.6 };
        let v = array![0.7, 1.1, 0.9, 0.05];
        let (_, g, h) = s.eval(&v, true);
        let h = h.unwrap();
        let step = 1e-6;
        for j in 0..4 {
            let (mut up, mut down) = (v.clone(), v.clone());
            up[j] += step;
            down[j] -= step;
            let (fu, gu, _) = s.eval(&up, false);
            let (fd, gd, _) = s.eval(&down, false);
            assert!(((fu - fd) / (2.0 * step) - g[j]).abs() < 1e-7, "gradient {j}");
            for i in 0..4 {
                assert!(
                    ((gu[i] - gd[i]) / (2.0 * step) - h[[i, j]]).abs() < 1e-5 * h[[i, j]].abs().max(1.0),
                    "hessian {i} {j}"
                );
            }
        }
    }

    /// The semivariance's gradient equals a central difference, and
    /// Newton's weights give equal semideviation contributions.
    #[test]
    fn semideviation_budgets_are_equal() {
        let r = scenarios();
        let s = Smooth::of(Some(RiskMeasure::SemiDeviation), r.view(), Some(r.view())).unwrap();
        let out = solve(&s, &[0.2, 0.3, 0.5]).unwrap();
        let w = &out.y / out.y.sum();
        let c = RiskMeasure::SemiDeviation.contributions(r.view(), w.view()).unwrap();
        let total = c.sum();
        for (ci, bi) in c.iter().zip([0.2, 0.3, 0.5]) {
            assert!((ci / total - bi).abs() < 1e-8, "{c}");
        }
    }
}
