//! Layers that map scores to weights on the simplex: a softmax with a
//! temperature, sparsemax, the Euclidean projection onto the simplex with
//! per-entry floors and caps, and a learned vector of weights.
//!
//! The projections are piecewise linear. Each row's pieces (which entries
//! sit at their floor, at their cap, or in between) are found on the host;
//! the output is then written in dfdx's operations as the linear map those
//! pieces define, $w = l_L + u_U + m_F \odot (x - \tau)$ with
//! $\tau = (\sum_F x + \sum_L l + \sum_U u - 1)/|F|$, so its value is the
//! projection and its gradient the projection's Jacobian
//! $\operatorname{diag}(m_F) - m_F m_F^\top/|F|$, on every device, with no
//! backward operation of its own.

use dfdx::prelude::*;
use rand::rngs::StdRng;

use super::{lstm::uniform, nn_err, tensor_from, Backend, Matrix, Param, Parameters};
use crate::error::{Error, Result};
use crate::parameter::Training;

/// $\operatorname{softmax}(x / T)$ along each row of `x` `[B, N]`: a high
/// temperature spreads the weights, a low one concentrates them.
pub fn softmax<D: Backend, T: Tape<f32, D>>(x: Matrix<D, T>, temperature: f32) -> Result<Matrix<D, T>> {
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(Error::param(Training::Model, format!("a softmax temperature must be > 0, got {temperature}")));
    }
    x.try_mul(1.0 / temperature).map_err(nn_err)?.try_softmax::<Axis<1>>().map_err(nn_err)
}

/// Floors and caps of a projection onto the simplex, one per entry
/// (`f64::INFINITY` for no cap).
#[derive(Debug, Clone, PartialEq)]
pub struct SimplexBounds {
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl SimplexBounds {
    /// No floor below 0 and no cap: sparsemax's simplex.
    pub fn simplex(n: usize) -> Self {
        SimplexBounds { lower: vec![0.0; n], upper: vec![f64::INFINITY; n] }
    }

    /// Every weight in $[0, u]$: the capped simplex.
    pub fn capped(n: usize, cap: f64) -> Result<Self> {
        SimplexBounds::new(vec![0.0; n], vec![cap; n])
    }

    /// Entry $i$ in $[l_i, u_i]$; the set $\{l \le w \le u, \sum w = 1\}$
    /// must not be empty.
    pub fn new(lower: Vec<f64>, upper: Vec<f64>) -> Result<Self> {
        let bad = |m: String| Err(Error::param(Training::Model, m));
        if lower.len() != upper.len() || lower.is_empty() {
            return bad(format!("{} floors and {} caps: give one of each per asset", lower.len(), upper.len()));
        }
        for (i, (&l, &u)) in lower.iter().zip(&upper).enumerate() {
            if !l.is_finite() || u.is_nan() || l > u {
                return bad(format!("asset {i}'s floor {l} and cap {u} leave no weight: needs a finite floor ≤ cap"));
            }
        }
        let (lo, hi) = (lower.iter().sum::<f64>(), upper.iter().sum::<f64>());
        if lo > 1.0 + 1e-12 || hi < 1.0 - 1e-12 {
            return bad(format!(
                "the floors sum to {lo} and the caps to {hi}: weights summing to 1 need floors ≤ 1 ≤ caps"
            ));
        }
        Ok(SimplexBounds { lower, upper })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lower.len()
    }

    /// Whether there are no entries (never, once built).
    pub fn is_empty(&self) -> bool {
        self.lower.is_empty()
    }

    /// The projection of one row, in f64: where each entry sits.
    pub(crate) fn pieces(&self, x: &[f64]) -> Pieces {
        let (l, u) = (&self.lower, &self.upper);
        // g(τ) = Σ clip(x − τ, l, u) falls from Σu to Σl as τ rises; it is
        // linear between the breakpoints x − u and x − l.
        let g = |tau: f64| -> f64 { x.iter().zip(l).zip(u).map(|((x, l), u)| (x - tau).clamp(*l, *u)).sum() };
        let mut points: Vec<f64> = x.iter().zip(l).zip(u).flat_map(|((x, l), u)| [x - u, x - l]).collect();
        points.retain(|p| p.is_finite());
        points.sort_by(f64::total_cmp);
        points.dedup();
        // Below the lowest breakpoint g is linear again; an uncapped entry
        // makes it unbounded there, so a point with g ≥ 1 is found by steps
        // that double.
        let mut step = 1.0;
        let mut low = points.first().copied().unwrap_or(0.0) - step;
        while g(low) < 1.0 && step < 1e300 {
            step *= 2.0;
            low -= step;
        }
        points.insert(0, low);
        // The last breakpoint where g ≥ 1 and the first where g ≤ 1 bracket τ.
        let k = points.partition_point(|&p| g(p) > 1.0);
        let tau = match (k.checked_sub(1).map(|i| points[i]), points.get(k)) {
            (Some(a), Some(&b)) => {
                let (ga, gb) = (g(a), g(b));
                if ga == gb {
                    b
                } else {
                    a + (ga - 1.0) * (b - a) / (ga - gb)
                }
            }
            (None, Some(&b)) => b,
            (Some(a), None) => a,
            (None, None) => 0.0,
        };
        let mut side = vec![Side::Free; x.len()];
        let mut w = vec![0.0; x.len()];
        for i in 0..x.len() {
            let v = x[i] - tau;
            (side[i], w[i]) = if v <= l[i] {
                (Side::Floor, l[i])
            } else if v >= u[i] {
                (Side::Cap, u[i])
            } else {
                (Side::Free, v)
            };
        }
        Pieces { side, w }
    }
}

/// Where each entry of a projected row sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Floor,
    Cap,
    Free,
}

/// One row's projection: each entry's side and the weights.
#[derive(Debug, Clone)]
pub(crate) struct Pieces {
    pub side: Vec<Side>,
    pub w: Vec<f64>,
}

/// Sparsemax (Martins & Astudillo, 2016): the Euclidean projection of each
/// row of `x` `[B, N]` onto the simplex. Unlike a softmax it gives exact
/// zeros, so the network can leave assets out.
pub fn sparsemax<D: Backend, T: Tape<f32, D> + Merge<NoneTape>>(x: Matrix<D, T>) -> Result<Matrix<D, T>> {
    let n = x.shape().1;
    project_simplex(x, &SimplexBounds::simplex(n))
}

/// The Euclidean projection of each row of `x` `[B, N]` onto
/// $\{w : l \le w \le u,\ \sum_i w_i = 1\}$ (see the [module docs](self) for
/// its gradient).
pub fn project_simplex<D: Backend, T: Tape<f32, D> + Merge<NoneTape>>(
    x: Matrix<D, T>,
    bounds: &SimplexBounds,
) -> Result<Matrix<D, T>> {
    let (b, n) = *x.shape();
    if n != bounds.len() {
        return Err(Error::Shape(format!("{n} scores per row for a projection with {} bounds", bounds.len())));
    }
    let values = x.as_vec();
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(Error::param(Training::Model, format!("a projection onto the simplex got the score {v}")));
    }
    let mut free = vec![0f32; b * n];
    let mut fixed = vec![0f32; b * n];
    let mut offset = vec![0f32; b];
    let mut inverse = vec![0f32; b];
    for r in 0..b {
        let row: Vec<f64> = values[r * n..(r + 1) * n].iter().map(|&v| f64::from(v)).collect();
        let pieces = bounds.pieces(&row);
        let mut count = 0usize;
        let mut pinned = 0.0;
        for i in 0..n {
            match pieces.side[i] {
                Side::Free => {
                    free[r * n + i] = 1.0;
                    count += 1;
                }
                _ => {
                    fixed[r * n + i] = pieces.w[i] as f32;
                    pinned += pieces.w[i];
                }
            }
        }
        offset[r] = (pinned - 1.0) as f32;
        inverse[r] = if count > 0 { 1.0 / count as f32 } else { 0.0 };
    }
    let dev = x.device().clone();
    let free = tensor_from(&dev, &free, (b, n))?;
    let fixed = tensor_from(&dev, &fixed, (b, n))?;
    let offset = tensor_from(&dev, &offset, (b,))?;
    let inverse = tensor_from(&dev, &inverse, (b,))?;
    // τ = (Σ_F x + Σ_pinned − 1) / |F|, then w = pinned + m_F ⊙ (x − τ).
    let (x, tape) = x.split_tape();
    let masked = x.clone().put_tape(tape).try_mul(free.clone()).map_err(nn_err)?;
    let tau = masked.try_sum::<_, Axis<1>>().map_err(nn_err)?.try_add(offset).map_err(nn_err)?;
    let tau = tau.try_mul(inverse).map_err(nn_err)?.try_broadcast_like::<_, Axis<1>>(&(b, n)).map_err(nn_err)?;
    let (tau, tape) = tau.split_tape();
    let shifted = x.put_tape(tape).try_sub(tau.retaped::<T>()).map_err(nn_err)?;
    shifted.try_mul(free).map_err(nn_err)?.try_add(fixed).map_err(nn_err)
}

/// How a [`LearnedWeights`] turns its scores into weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalisation {
    /// A softmax with this temperature: every weight positive.
    Softmax(f32),
    /// Sparsemax: exact zeros allowed.
    Sparsemax,
}

/// One vector of weights learned directly, the same for every sample: the
/// baseline a network must beat (a learned static allocation). Its
/// parameter is `logits` `[N]`, starting at zero (equal weights).
#[derive(Debug, Clone)]
pub struct LearnedWeights<D: Backend> {
    logits: Param<D>,
    normalisation: Normalisation,
}

impl<D: Backend> LearnedWeights<D> {
    /// Equal scores for `n` assets (with `jitter` > 0, seeded uniform
    /// noise of that size around them).
    pub fn new(dev: &D, n: usize, normalisation: Normalisation, jitter: f32, rng: &mut StdRng) -> Result<Self> {
        if n == 0 {
            return Err(Error::param(Training::Model, "learned weights need ≥ 1 asset, got 0"));
        }
        if let Normalisation::Softmax(t) = normalisation {
            softmax::<D, NoneTape>(dev.try_zeros_like(&(1, 1)).map_err(nn_err)?, t)?;
        }
        let v = if jitter > 0.0 { uniform(rng, n, jitter) } else { vec![0.0; n] };
        Ok(LearnedWeights { logits: Param::Vector(dev.tensor_from_vec(v, (n,))), normalisation })
    }

    /// The weights `[rows, N]`, one identical row per sample.
    pub fn forward<T: Tape<f32, D> + Merge<T> + Merge<NoneTape>>(&self, rows: usize) -> Result<Matrix<D, T>> {
        let v = self.logits.vector("learned weights' logits")?;
        let n = v.shape().0;
        let x = v.retaped::<T>().try_broadcast_like::<_, Axis<0>>(&(rows, n)).map_err(nn_err)?;
        match self.normalisation {
            Normalisation::Softmax(t) => softmax(x, t),
            Normalisation::Sparsemax => sparsemax(x),
        }
    }
}

impl<D: Backend> Parameters<D> for LearnedWeights<D> {
    fn parameters(&self) -> Vec<(String, &Param<D>)> {
        vec![("logits".into(), &self.logits)]
    }
    fn parameters_mut(&mut self) -> Vec<(String, &mut Param<D>)> {
        vec![("logits".into(), &mut self.logits)]
    }
}
