//! The exact mean–variance frontier by Markowitz's critical line algorithm.
//!
//! For $\min_w \tfrac12 w^\top \Sigma w - \lambda \mu^\top w$ subject to
//! $\mathbf 1^\top w = 1$ and $l \le w \le u$, the solution is piecewise
//! affine in $\lambda$: while the set $F$ of assets strictly inside their
//! bounds does not change,
//! $$w_F(\lambda) = \Sigma_F^{-1}\big(\lambda \mu_F + \gamma \mathbf 1 - \Sigma_{FB} w_B\big),$$
//! with $\gamma$ set by the budget. The algorithm starts at the
//! maximum-return portfolio ($\lambda = \infty$) and lowers $\lambda$ to the
//! next *turning point*, where a free asset reaches a bound or a bounded
//! asset leaves its bound, until $\lambda = 0$ (the minimum-variance
//! portfolio). Every frontier portfolio between two turning points is
//! their convex combination with the weight that gives its return: the
//! whole frontier from one linear solve per candidate at each turning
//! point, with no iterative solver.

use crate::parameter::Optimize as Param;
use ndarray::{Array1, Array2};

use crate::error::{Error, Result, SolverStatus};

/// A turning point of the frontier.
#[derive(Debug, Clone, PartialEq)]
pub struct TurningPoint {
    /// The risk tolerance λ at which the free set changes (∞ for the
    /// maximum-return portfolio, 0 for the minimum-variance one).
    pub lambda: f64,
    /// The portfolio.
    pub weights: Array1<f64>,
    /// Assets strictly inside their bounds on the segment below λ.
    pub free: Vec<usize>,
}

/// The turning points of the long-only (or bounded), fully invested
/// mean–variance frontier, by decreasing λ (decreasing return).
#[derive(Debug, Clone)]
pub struct CriticalLine {
    mean: Array1<f64>,
    /// From the maximum-return to the minimum-variance portfolio.
    pub turning_points: Vec<TurningPoint>,
}

/// Tolerance of the λ comparisons and of the bound checks.
const EPS: f64 = 1e-12;

impl CriticalLine {
    /// Traces the frontier of `mean` and `cov` within the bounds
    /// `lower ≤ w ≤ upper`, fully invested.
    pub fn solve(mean: &Array1<f64>, cov: &Array2<f64>, lower: &[f64], upper: &[f64]) -> Result<CriticalLine> {
        let n = mean.len();
        check(mean, cov, lower, upper)?;
        // Maximum return: assets by decreasing mean go to their upper bound
        // until the budget is spent; the one that spends it is free.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| mean[b].total_cmp(&mean[a]).then(a.cmp(&b)));
        let mut w = Array1::from(lower.to_vec());
        let mut free = Vec::new();
        for &i in &order {
            let rest = 1.0 - (w.sum() - w[i]);
            if rest <= upper[i] {
                w[i] = rest;
                free.push(i);
                break;
            }
            w[i] = upper[i];
        }
        let mut points = vec![TurningPoint { lambda: f64::INFINITY, weights: w.clone(), free: free.clone() }];
        let mut lambda = f64::INFINITY;
        for _ in 0..(20 * n + 20) {
            let seg = Segment::new(mean, cov, &free, &w)?;
            // a) a free asset reaches a bound.
            let mut leave: Option<(f64, usize, f64)> = None;
            if free.len() > 1 {
                for (k, &i) in free.iter().enumerate() {
                    let b = seg.b[k];
                    if b == 0.0 {
                        continue;
                    }
                    // Lowering λ moves w_i by −b per unit: down to its lower
                    // bound when b > 0, up to its upper bound when b < 0.
                    let bound = if b > 0.0 { lower[i] } else { upper[i] };
                    let l = (bound - seg.a[k]) / b;
                    if l < lambda - EPS && leave.is_none_or(|(best, _, _)| l > best) {
                        leave = Some((l, i, bound));
                    }
                }
            }
            // b) a bounded asset leaves its bound: where its gradient
            // g_i(λ) = (Σw)_i − λμ_i − γ, affine in λ on this segment,
            // reaches 0 (the λ at which, freed, it would sit at its bound).
            let mut enter: Option<(f64, usize)> = None;
            if free.len() < n {
                let (mut wa, mut wb) = (w.clone(), Array1::zeros(n));
                for (k, &i) in free.iter().enumerate() {
                    wa[i] = seg.a[k];
                    wb[i] = seg.b[k];
                }
                let (sa, sb) = (cov.dot(&wa), cov.dot(&wb));
                for i in (0..n).filter(|i| !free.contains(i)) {
                    let slope = sb[i] - mean[i] - seg.g1;
                    if slope == 0.0 {
                        continue;
                    }
                    let l = -(sa[i] - seg.g0) / slope;
                    if l < lambda - EPS && enter.is_none_or(|(best, _)| l > best) {
                        enter = Some((l, i));
                    }
                }
            }
            // The next turning point is the larger λ ≥ 0 of the two;
            // without one, the segment runs down to λ = 0 with the same
            // free set.
            let seg = match (leave, enter) {
                (Some((l, i, bound)), e) if l >= 0.0 && e.is_none_or(|(e, _)| l >= e) => {
                    free.retain(|&j| j != i);
                    w[i] = bound;
                    lambda = l;
                    Segment::new(mean, cov, &free, &w)?
                }
                (_, Some((e, i))) if e >= 0.0 => {
                    free.push(i);
                    lambda = e;
                    Segment::new(mean, cov, &free, &w)?
                }
                _ => {
                    lambda = 0.0;
                    seg
                }
            };
            for (k, &i) in free.iter().enumerate() {
                w[i] = seg.a[k] + lambda * seg.b[k];
            }
            points.push(TurningPoint { lambda, weights: w.clone(), free: free.clone() });
            if lambda == 0.0 {
                return Ok(CriticalLine { mean: mean.clone(), turning_points: points });
            }
        }
        Err(Error::Solver {
            status: SolverStatus::MaxIterations,
            message: format!(
                "the critical line did not reach the minimum-variance portfolio in {} turning points; the covariance may be near singular (shrink it, e.g. Ledoit–Wolf)",
                20 * n + 20
            ),
        })
    }

    /// The expected return of each turning point.
    pub fn returns(&self) -> Vec<f64> {
        self.turning_points.iter().map(|p| p.weights.dot(&self.mean)).collect()
    }

    /// The frontier portfolio of expected return `target`, between the
    /// minimum-variance and the maximum-return portfolios: the convex
    /// combination of the two turning points around it.
    pub fn at_return(&self, target: f64) -> Result<Array1<f64>> {
        self.between(&self.returns(), target)
    }

    /// [`at_return`](Self::at_return) given the turning points' returns `r`.
    fn between(&self, r: &[f64], target: f64) -> Result<Array1<f64>> {
        let (hi, lo) = (r[0], r[r.len() - 1]);
        if !(target >= lo - 1e-12 && target <= hi + 1e-12) {
            return Err(Error::param(
                Param::Target,
                format!("return {target} is outside the frontier's [{lo}, {hi}] (minimum variance to maximum return)"),
            ));
        }
        let k = (1..r.len()).find(|&k| target >= r[k]).unwrap_or(r.len() - 1);
        let span = r[k - 1] - r[k];
        let alpha = if span > 0.0 { ((target - r[k]) / span).clamp(0.0, 1.0) } else { 1.0 };
        let (a, b) = (&self.turning_points[k - 1].weights, &self.turning_points[k].weights);
        Ok(a * alpha + b * (1.0 - alpha))
    }
}

impl CriticalLine {
    /// `points` (≥ 2) frontier portfolios at equally spaced returns from
    /// the minimum-variance to the maximum-return portfolio, each exact.
    pub fn frontier(&self, points: usize) -> Result<Vec<Array1<f64>>> {
        if points < 2 {
            return Err(Error::param(Param::Points, format!("must be ≥ 2, got {points}")));
        }
        let r = self.returns();
        let (lo, hi) = (r[r.len() - 1], r[0]);
        (0..points).map(|i| self.between(&r, lo + (hi - lo) * i as f64 / (points - 1) as f64)).collect()
    }
}

/// The free weights on one segment as $a + \lambda b$, the others held.
struct Segment {
    a: Vec<f64>,
    b: Vec<f64>,
    /// The budget's multiplier γ = g0 + λ g1.
    g0: f64,
    g1: f64,
}

impl Segment {
    fn new(mean: &Array1<f64>, cov: &Array2<f64>, free: &[usize], w: &Array1<f64>) -> Result<Segment> {
        let m = free.len();
        let cf = Array2::from_shape_fn((m, m), |(i, j)| cov[[free[i], free[j]]]);
        let l = crate::linalg::cholesky(cf.view()).ok_or_else(|| Error::Solver {
            status: SolverStatus::NumericalError,
            message: "the covariance of the free assets is singular: the critical line needs a positive definite covariance (shrink it, e.g. Ledoit–Wolf)".into(),
        })?;
        let bounded: Vec<usize> = (0..w.len()).filter(|i| !free.contains(i)).collect();
        // Σ_FB w_B and the budget left to the free assets.
        let cross = Array1::from_shape_fn(m, |i| bounded.iter().map(|&j| cov[[free[i], j]] * w[j]).sum::<f64>());
        let left = 1.0 - bounded.iter().map(|&j| w[j]).sum::<f64>();
        let solve = |v: Array1<f64>| crate::linalg::cholesky_solve(&l, &v);
        let u1 = solve(Array1::ones(m));
        let um = solve(Array1::from_shape_fn(m, |i| mean[free[i]]));
        let ub = solve(cross);
        let (s1, sm, sb) = (u1.sum(), um.sum(), ub.sum());
        let g0 = (left + sb) / s1;
        Ok(Segment {
            a: (0..m).map(|i| -ub[i] + g0 * u1[i]).collect(),
            b: (0..m).map(|i| um[i] - sm / s1 * u1[i]).collect(),
            g0,
            g1: -sm / s1,
        })
    }
}

fn check(mean: &Array1<f64>, cov: &Array2<f64>, lower: &[f64], upper: &[f64]) -> Result<()> {
    let n = mean.len();
    if n == 0 || cov.dim() != (n, n) || lower.len() != n || upper.len() != n {
        return Err(Error::Shape(format!(
            "the critical line needs n means, an n×n covariance and n bounds each; got {n} means, a {:?} covariance, {} lower and {} upper bounds",
            cov.dim(),
            lower.len(),
            upper.len()
        )));
    }
    if let Some(v) = mean.iter().chain(cov.iter()).find(|v| !v.is_finite()) {
        return Err(Error::param(Param::Moments, format!("must be finite, got {v}")));
    }
    if let Some(i) = (0..n).find(|&i| !(lower[i].is_finite() && upper[i].is_finite() && lower[i] <= upper[i])) {
        return Err(Error::param(
            Param::Bounds,
            format!("asset {i} has lower {} and upper {}: they must be finite with lower ≤ upper", lower[i], upper[i]),
        ));
    }
    let (lo, hi): (f64, f64) = (lower.iter().sum(), upper.iter().sum());
    if !(lo <= 1.0 + EPS && hi >= 1.0 - EPS) {
        return Err(Error::param(
            Param::Bounds,
            format!("no fully invested portfolio fits: the lower bounds sum to {lo} and the upper to {hi}, and 1 must lie between"),
        ));
    }
    Ok(())
}
