//! Allocation layers a network can learn through: the forward pass solves a
//! Markowitz program, the backward pass differentiates its optimality
//! conditions at the solution.
//!
//! **The program**, per sample, for a predicted mean $\mu$ and a covariance
//! $\Sigma$ (given, or predicted too):
//! $$\max_w\ \mu^\top w - \tfrac{\gamma}{2} w^\top\Sigma w \quad\text{s.t.}\quad
//! \textstyle\sum_i w_i = 1,\ l \le w \le u,\ L_g \le \sum_{i\in g} w_i \le U_g,\
//! \lVert w - w^{prev}\rVert_1 \le \tau.$$
//! With the budget as its only constraint it is solved in closed form
//! (analytical Markowitz; minimum variance when $\mu = 0$); otherwise on
//! Clarabel, polished on its active set.
//!
//! **The gradient.** At the solution the active constraints are taken as
//! equalities $A w = b$: the budget; a bound, a group limit or the turnover
//! cap whose slack is at most the [active
//! threshold](MarkowitzLayerParams::active_threshold); for a binding
//! turnover cap, each asset still at its previous weight
//! ($w_i = w^{prev}_i$) and the cap itself as $s^\top w = \tau + s^\top
//! w^{prev}$ over the others ($s$ the signs of their trades). Differentiating
//! the KKT conditions $\gamma\Sigma w - \mu + A^\top\nu = 0$, $Aw = b$ gives
//! $$dw = J\,(d\mu - \gamma\, d\Sigma\, w),\qquad J = Z (Z^\top \gamma\Sigma Z)^{-1} Z^\top,$$
//! with $Z$ an orthonormal basis of $A$'s null space: the symmetric solve of
//! the KKT system in its null-space form, which stays defined when active
//! rows are dependent. $J$ is formed per sample on the host (the samples
//! spread over the cores) and the layer's output is written in dfdx's
//! operations as $w^* + J(\mu - \mu^*) - \gamma J\,\mathrm{sym}(\Sigma -
//! \Sigma^*)\,w^*$, whose value is $w^*$ and whose gradient is the one
//! above, on every device.
//!
//! **Degenerate active sets.** A constraint that is active with a
//! multiplier of (nearly) zero, or a turnover kink at the edge of its range,
//! makes the solution map non-differentiable there. The gradient returned is
//! then the one-sided derivative with those constraints held (an element of
//! the generalised Jacobian: a subgradient, never NaN), and the sample is
//! counted in [`LayerStats::degenerate`]. A multiplier is "nearly zero" at
//! most the [active threshold](MarkowitzLayerParams::active_threshold)
//! times the larger of $\lVert\mu\rVert_\infty$ and
//! $\lVert\gamma\Sigma w\rVert_\infty$, the forces multipliers balance.
//! Active rows that are linearly dependent (a vertex where more
//! constraints meet than pin it) leave the multipliers non-unique, so their
//! size is not judged, but the null space, and so $J$, stays well defined
//! (zero where the rows pin every weight); such samples are counted apart,
//! in [`LayerStats::dependent`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dfdx::prelude::*;
use ndarray::{Array1, Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::nn::{nn_err, tensor_from, Backend, Matrix, Sequence};
use crate::optimize::problem::Program;
use crate::parameter::Deep;

/// What the layer's solves met so far (shared by clones of a layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayerStats {
    /// Programs solved (one per sample and pass).
    pub solves: usize,
    /// Of those, solved in closed form (the budget the only constraint).
    pub closed_form: usize,
    /// Of those, with a degenerate active set (a constraint active with a
    /// multiplier of nearly zero): the gradient is a one-sided derivative
    /// (see the [module docs](self)).
    pub degenerate: usize,
    /// Of those, whose active rows were linearly dependent (a vertex with
    /// more active constraints than it needs: the multipliers are not
    /// unique, $J$ is still the null space's, zero where every weight is
    /// pinned).
    pub dependent: usize,
    /// Of those, whose covariance was not positive definite and was
    /// repaired by adding to its diagonal.
    pub repaired: usize,
}

#[derive(Debug, Default)]
struct Counters {
    solves: AtomicUsize,
    closed_form: AtomicUsize,
    degenerate: AtomicUsize,
    dependent: AtomicUsize,
    repaired: AtomicUsize,
}

/// A group limit $L \le \sum_{i\in g} w_i \le U$.
#[derive(Debug, Clone, PartialEq)]
struct GroupLimit {
    name: String,
    members: Vec<usize>,
    lower: f64,
    upper: f64,
}

/// Settings of a [`MarkowitzLayer`] (see [`MarkowitzLayer::params`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MarkowitzLayerParams {
    assets: usize,
    risk_aversion: f64,
    lower: Vec<f64>,
    upper: Vec<f64>,
    groups: Vec<GroupLimit>,
    turnover: Option<f64>,
    threshold: f64,
}

/// The default [active threshold](MarkowitzLayerParams::active_threshold).
pub const ACTIVE_THRESHOLD: f64 = 1e-7;

impl MarkowitzLayerParams {
    /// Risk aversion $\gamma$ (> 0).
    pub fn risk_aversion(mut self, gamma: f64) -> Self {
        self.risk_aversion = gamma;
        self
    }
    /// Every weight in $[l, u]$ (`f64::NEG_INFINITY` / `f64::INFINITY` for
    /// none).
    pub fn bounds(mut self, lower: f64, upper: f64) -> Self {
        self.lower = vec![lower; self.assets];
        self.upper = vec![upper; self.assets];
        self
    }
    /// Weight $i$ in $[l_i, u_i]$.
    pub fn asset_bounds(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.lower = lower;
        self.upper = upper;
        self
    }
    /// No bounds: with no group and no turnover cap, the closed-form
    /// (analytical) Markowitz portfolio.
    pub fn unbounded(self) -> Self {
        self.bounds(f64::NEG_INFINITY, f64::INFINITY)
    }
    /// $L \le \sum_{i \in \text{members}} w_i \le U$ for a group named `name`.
    pub fn group(mut self, name: &str, members: &[usize], lower: f64, upper: f64) -> Self {
        self.groups.push(GroupLimit { name: name.into(), members: members.to_vec(), lower, upper });
        self
    }
    /// $\lVert w - w^{prev}\rVert_1 \le \tau$ against each sample's previous
    /// weights (passed to [`MarkowitzLayer::weights`]).
    pub fn turnover(mut self, tau: f64) -> Self {
        self.turnover = Some(tau);
        self
    }
    /// A constraint counts as active where its slack is at most this
    /// (default [`ACTIVE_THRESHOLD`]); where its multiplier is at most this
    /// times the forces it balances, it is also degenerate (see the [module
    /// docs](self)).
    pub fn active_threshold(mut self, t: f64) -> Self {
        self.threshold = t;
        self
    }

    /// The layer, once its constraints are checked to leave some portfolio:
    /// an infeasible set is named (the asset, the bounds against the
    /// budget, the group) before any training starts.
    pub fn build(self) -> Result<MarkowitzLayer> {
        let n = self.assets;
        if n < 2 {
            return Err(Error::param(Deep::Returns, format!("an allocation layer needs ≥ 2 assets, got {n}")));
        }
        Error::positive(Deep::RiskAversion, self.risk_aversion)?;
        Error::positive(Deep::ActiveThreshold, self.threshold)?;
        if let Some(t) = self.turnover {
            Error::positive(Deep::Turnover, t)?;
        }
        if self.lower.len() != n || self.upper.len() != n {
            return Err(Error::param(
                Deep::Bounds,
                format!(
                    "{} lower and {} upper bounds for {n} assets: give one of each per asset",
                    self.lower.len(),
                    self.upper.len()
                ),
            ));
        }
        for i in 0..n {
            let (l, u) = (self.lower[i], self.upper[i]);
            if l.is_nan() || u.is_nan() || l > u || l == f64::INFINITY || u == f64::NEG_INFINITY {
                return Err(Error::infeasible(format!("bounds of asset {i}"), format!("[{l}, {u}] holds no weight")));
            }
        }
        let (lo, hi) = (self.lower.iter().sum::<f64>(), self.upper.iter().sum::<f64>());
        if lo > 1.0 + 1e-12 || hi < 1.0 - 1e-12 {
            return Err(Error::infeasible(
                "bounds against the budget",
                format!(
                    "the lower bounds sum to {lo} and the upper to {hi}; weights summing to 1 need lower ≤ 1 ≤ upper"
                ),
            ));
        }
        for g in &self.groups {
            let constraint = format!("group {}", g.name);
            if let Some(&i) = g.members.iter().find(|&&i| i >= n) {
                return Err(Error::param(Deep::Group, format!("{constraint} names asset {i} of {n}")));
            }
            if g.members.is_empty() || g.lower.is_nan() || g.upper.is_nan() || g.lower > g.upper {
                return Err(Error::infeasible(
                    constraint,
                    format!(
                        "needs members and lower ≤ upper, got {} members and [{}, {}]",
                        g.members.len(),
                        g.lower,
                        g.upper
                    ),
                ));
            }
            let lo: f64 = g.members.iter().map(|&i| self.lower[i]).sum();
            let hi: f64 = g.members.iter().map(|&i| self.upper[i]).sum();
            if lo > g.upper + 1e-12 || hi < g.lower - 1e-12 {
                return Err(Error::infeasible(
                    constraint,
                    format!("its members' bounds allow [{lo}, {hi}] in total, its limits [{}, {}]", g.lower, g.upper),
                ));
            }
        }
        let layer = MarkowitzLayer { params: self, counters: Arc::new(Counters::default()) };
        if !layer.is_closed_form() && !layer.params.groups.is_empty() {
            // Bounds, groups and the budget together: an LP feasibility solve.
            let (mut p, w) = Program::with_weights(n);
            layer.constrain(&mut p, w);
            p.solve().map_err(|_| {
                Error::infeasible(
                    "groups with the bounds and the budget",
                    "each constraint allows some weights, but no portfolio meets them all",
                )
            })?;
        }
        Ok(layer)
    }
}

/// A differentiable Markowitz layer (see the [module docs](self)): built by
/// [`MarkowitzLayer::params`]`(n)…build()`.
///
/// ```
/// use assetalloc::deep::MarkowitzLayer;
/// use dfdx::prelude::*;
/// use ndarray::array;
/// let layer = MarkowitzLayer::params(2).risk_aversion(2.0).bounds(0.0, 0.8).build()?;
/// let dev = Cpu::default();
/// let mu = dev.tensor_from_vec(vec![0.3f32, 0.1], (1, 2));
/// let w = layer.weights(mu.leaky_traced(), &[array![[1.0, 0.0], [0.0, 1.0]]], None)?;
/// let v = w.as_vec();
/// assert!((v[0] - 0.55).abs() < 1e-6 && (v[1] - 0.45).abs() < 1e-6);
/// let g = w.sum().backward();
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MarkowitzLayer {
    params: MarkowitzLayerParams,
    counters: Arc<Counters>,
}

/// Layers are equal when their programs are (whatever they have solved).
impl PartialEq for MarkowitzLayer {
    fn eq(&self, other: &Self) -> bool {
        self.params == other.params
    }
}

/// One sample's solution: the weights and $J$.
struct Solved {
    w: Vec<f64>,
    j: Array2<f64>,
}

/// What one sample's program needs, in f64.
struct Sample<'a> {
    mu: Vec<f64>,
    cov: ArrayView2<'a, f64>,
    previous: Option<Vec<f64>>,
}

impl MarkowitzLayer {
    /// A long-only layer for `n` assets (every weight in [0, 1]) with
    /// risk aversion 1, no group and no turnover cap.
    pub fn params(n: usize) -> MarkowitzLayerParams {
        MarkowitzLayerParams {
            assets: n,
            risk_aversion: 1.0,
            lower: vec![0.0; n],
            upper: vec![1.0; n],
            groups: Vec::new(),
            turnover: None,
            threshold: ACTIVE_THRESHOLD,
        }
    }

    /// The analytical layer: the budget the only constraint.
    pub fn closed_form(n: usize, risk_aversion: f64) -> Result<Self> {
        MarkowitzLayer::params(n).unbounded().risk_aversion(risk_aversion).build()
    }

    /// Number of assets.
    pub fn assets(&self) -> usize {
        self.params.assets
    }

    /// Risk aversion $\gamma$.
    pub fn risk_aversion(&self) -> f64 {
        self.params.risk_aversion
    }

    /// Whether the program has a turnover cap (and so needs each sample's
    /// previous weights).
    pub fn has_turnover(&self) -> bool {
        self.params.turnover.is_some()
    }

    /// What the solves met so far.
    pub fn stats(&self) -> LayerStats {
        let c = &self.counters;
        LayerStats {
            solves: c.solves.load(Ordering::Relaxed),
            closed_form: c.closed_form.load(Ordering::Relaxed),
            degenerate: c.degenerate.load(Ordering::Relaxed),
            dependent: c.dependent.load(Ordering::Relaxed),
            repaired: c.repaired.load(Ordering::Relaxed),
        }
    }

    /// One sample on the host, in f64: the weights for mean `mu` and
    /// covariance `cov` (and previous weights where the layer has a turnover
    /// cap), and $J = \partial w / \partial \mu$ (see the [module
    /// docs](self); $\partial w/\partial\Sigma$ follows as
    /// $-\gamma J\,d\Sigma\,w$).
    pub fn solution(
        &self,
        mu: &[f64],
        cov: ArrayView2<'_, f64>,
        previous: Option<&[f64]>,
    ) -> Result<(Vec<f64>, Array2<f64>)> {
        let n = self.params.assets;
        if mu.len() != n || cov.dim() != (n, n) {
            return Err(Error::Shape(format!("{} means and a {:?} covariance for {n} assets", mu.len(), cov.dim())));
        }
        let prev = previous.map(|p| Array2::from_shape_vec((1, p.len()), p.to_vec())).transpose();
        let prev = prev.map_err(|e| Error::Shape(e.to_string()))?;
        self.check_batch(1, n, 1, prev.as_ref().map(|p| p.view()))?;
        let s = self.solve(0, &Sample { mu: mu.to_vec(), cov, previous: previous.map(<[f64]>::to_vec) })?;
        Ok((s.w, s.j))
    }

    fn is_closed_form(&self) -> bool {
        let p = &self.params;
        p.groups.is_empty()
            && p.turnover.is_none()
            && p.lower.iter().all(|&l| l == f64::NEG_INFINITY)
            && p.upper.iter().all(|&u| u == f64::INFINITY)
    }

    /// The weights `[B, N]` for predicted means `mu` `[B, N]` and each
    /// sample's covariance `cov` (`B` matrices, `N × N`, held fixed), with
    /// each sample's previous weights `previous` `[B, N]` where the layer
    /// has a turnover cap.
    pub fn weights<D: Backend, T: Tape<f32, D> + Merge<NoneTape>>(
        &self,
        mu: Matrix<D, T>,
        cov: &[Array2<f64>],
        previous: Option<ArrayView2<'_, f64>>,
    ) -> Result<Matrix<D, T>> {
        let (b, n) = *mu.shape();
        self.check_batch(b, n, cov.len(), previous)?;
        let (mu0, w0, j) = self.solve_batch(&mu, cov.iter().map(|c| c.view()).collect(), previous)?;
        through(mu.try_sub(mu0).map_err(nn_err)?, j, w0)
    }

    /// The weights for predicted means `mu` `[B, N]` and predicted
    /// covariances `cov` `[B, N, N]`, both learned through (the covariance
    /// is symmetrised; one that is not positive definite is repaired and
    /// counted in [`LayerStats::repaired`]).
    pub fn weights_learning_covariance<D: Backend, T: Tape<f32, D> + Merge<T> + Merge<NoneTape>>(
        &self,
        mu: Matrix<D, T>,
        cov: Sequence<D, T>,
        previous: Option<ArrayView2<'_, f64>>,
    ) -> Result<Matrix<D, T>> {
        let (b, n) = *mu.shape();
        let (cb, r, c) = *cov.shape();
        if (cb, r, c) != (b, n, n) {
            return Err(Error::Shape(format!(
                "covariances [{cb}, {r}, {c}] for means [{b}, {n}]: need [{b}, {n}, {n}]"
            )));
        }
        let values = cov.as_vec();
        let covs = host_covariances(&values, b, n);
        self.check_batch(b, n, covs.len(), previous)?;
        let (mu0, w0, j) = self.solve_batch(&mu, covs.iter().map(|c| c.view()).collect(), previous)?;
        let cov0 = tensor_from(&mu.device().clone(), &values, (b, n, n))?;
        let w0_col = w0.clone().try_reshape_like(&(b, n, 1)).map_err(nn_err)?;
        let w0_row = w0.clone().try_reshape_like(&(b, 1, n)).map_err(nn_err)?;
        // γ · sym(ΔΣ) w* = γ/2 (ΔΣ w* + (w*ᵀ ΔΣ)ᵀ), as a row per sample.
        let (d_cov, tape) = cov.try_sub(cov0).map_err(nn_err)?.split_tape();
        let left = d_cov.clone().put_tape(tape).try_matmul(w0_col).map_err(nn_err)?;
        let right = w0_row.retaped::<T>().try_matmul(d_cov.retaped::<T>()).map_err(nn_err)?;
        let left = left.try_reshape_like(&(b, n)).map_err(nn_err)?;
        let right = right.try_reshape_like(&(b, n)).map_err(nn_err)?;
        let pull =
            left.try_add(right).map_err(nn_err)?.try_mul((0.5 * self.params.risk_aversion) as f32).map_err(nn_err)?;
        through(mu.try_sub(mu0).map_err(nn_err)?.try_sub(pull).map_err(nn_err)?, j, w0)
    }

    /// Minimum-variance weights under the layer's constraints for predicted
    /// covariances `cov` `[B, N, N]`, learned through (the program with
    /// $\mu = 0$; in closed form, $\Sigma^{-1}\mathbf 1 / \mathbf 1^\top
    /// \Sigma^{-1}\mathbf 1$).
    pub fn min_variance<D: Backend, T: Tape<f32, D> + Merge<T> + Merge<NoneTape>>(
        &self,
        cov: Sequence<D, T>,
        previous: Option<ArrayView2<'_, f64>>,
    ) -> Result<Matrix<D, T>> {
        let (b, n, _) = *cov.shape();
        let dev = cov.device().clone();
        let zeros: Matrix<D> = dev.try_zeros_like(&(b, n)).map_err(nn_err)?;
        self.weights_learning_covariance(zeros.retaped::<T>(), cov, previous)
    }

    fn check_batch(&self, b: usize, n: usize, covs: usize, previous: Option<ArrayView2<'_, f64>>) -> Result<()> {
        if n != self.params.assets {
            return Err(Error::Shape(format!(
                "{n} predicted means per sample for a layer of {} assets",
                self.params.assets
            )));
        }
        if covs != b {
            return Err(Error::Shape(format!("{covs} covariances for {b} samples")));
        }
        match (previous, self.params.turnover) {
            (None, Some(t)) => Err(Error::param(
                Deep::Previous,
                format!("a turnover cap of {t} needs each sample's previous weights: pass them as `previous`"),
            )),
            (Some(p), _) if p.dim() != (b, n) => {
                Err(Error::Shape(format!("previous weights {:?} for {b} samples of {n} assets", p.dim())))
            }
            (Some(p), _) if p.iter().any(|v| !v.is_finite()) => {
                Err(Error::param(Deep::Previous, "previous weights must be finite"))
            }
            _ => Ok(()),
        }
    }

    fn solve_all(
        &self,
        mus: &[f32],
        covs: Vec<ArrayView2<'_, f64>>,
        previous: Option<ArrayView2<'_, f64>>,
    ) -> Result<Vec<Solved>> {
        let n = self.params.assets;
        let jobs: Vec<(usize, Sample<'_>)> = covs
            .into_iter()
            .enumerate()
            .map(|(k, cov)| {
                let mu = mus[k * n..(k + 1) * n].iter().map(|&v| f64::from(v)).collect();
                let previous = previous.map(|p| p.row(k).to_vec());
                (k, Sample { mu, cov, previous })
            })
            .collect();
        crate::parallel::pool("Markowitz layer", jobs, |(k, s)| self.solve(*k, s))
    }

    /// Every sample solved: the means as given (untaped), the weights $w^*$
    /// `[B, N]` and the $J$s `[B, N, N]`, on `mu`'s device.
    fn solve_batch<D: Backend, T>(
        &self,
        mu: &Matrix<D, T>,
        covs: Vec<ArrayView2<'_, f64>>,
        previous: Option<ArrayView2<'_, f64>>,
    ) -> Result<(Matrix<D>, Matrix<D>, Sequence<D>)> {
        let (b, n) = *mu.shape();
        let mus = mu.as_vec();
        let solved = self.solve_all(&mus, covs, previous)?;
        let w: Vec<f32> = solved.iter().flat_map(|s| s.w.iter().map(|&v| v as f32)).collect();
        let j: Vec<f32> = solved.iter().flat_map(|s| s.j.iter().map(|&v| v as f32)).collect();
        let dev = mu.device().clone();
        Ok((tensor_from(&dev, &mus, (b, n))?, tensor_from(&dev, &w, (b, n))?, tensor_from(&dev, &j, (b, n, n))?))
    }

    /// Sample `k`'s weights and $J$.
    fn solve(&self, k: usize, s: &Sample<'_>) -> Result<Solved> {
        let p = &self.params;
        let n = p.assets;
        if let Some(v) = s.mu.iter().find(|v| !v.is_finite()) {
            return Err(Error::param(Deep::Mean, format!("sample {k}'s predicted mean holds {v}")));
        }
        let (h, repaired) = repaired_hessian(s.cov, p.risk_aversion).ok_or_else(|| {
            Error::param(Deep::Covariance, format!("sample {k}'s covariance holds a value that is not finite"))
        })?;
        self.counters.solves.fetch_add(1, Ordering::Relaxed);
        if repaired {
            self.counters.repaired.fetch_add(1, Ordering::Relaxed);
        }
        let ones = Array2::from_elem((1, n), 1.0);
        if self.is_closed_form() {
            self.counters.closed_form.fetch_add(1, Ordering::Relaxed);
            // w = H⁻¹(μ − ν1) with ν making the weights sum to 1.
            let l = crate::linalg::cholesky(h.view()).ok_or_else(|| not_definite(k))?;
            let a = crate::linalg::cholesky_solve(&l, &Array1::from(s.mu.clone()));
            let c = crate::linalg::cholesky_solve(&l, &Array1::from_elem(n, 1.0));
            let nu = (a.sum() - 1.0) / c.sum();
            let w = (&a - &(c * nu)).to_vec();
            let (j, _) = sensitivity(&h, &ones).ok_or_else(|| not_definite(k))?;
            return Ok(Solved { w, j });
        }
        let (w, rows, degenerate) = self.solve_constrained(k, s, &h)?;
        let (j, rank_deficient) = sensitivity(&h, &rows).ok_or_else(|| not_definite(k))?;
        // With dependent rows the multipliers are not unique, so their
        // weakness says nothing: such a sample counts as dependent only.
        if degenerate && !rank_deficient {
            self.counters.degenerate.fetch_add(1, Ordering::Relaxed);
        }
        if rank_deficient {
            self.counters.dependent.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Solved { w, j })
    }

    /// Writes the bounds, the groups and the budget on the weights `w`.
    fn constrain(&self, p: &mut Program, w: crate::optimize::problem::Block) -> Vec<Row> {
        let prm = &self.params;
        let mut rows = Vec::new();
        p.eq(w.sum(), 1.0);
        for i in 0..prm.assets {
            if prm.upper[i].is_finite() {
                p.le(w.at(i), prm.upper[i]);
                rows.push(Row::Upper(i));
            }
            if prm.lower[i].is_finite() {
                p.ge(w.at(i), prm.lower[i]);
                rows.push(Row::Lower(i));
            }
        }
        for (g, group) in prm.groups.iter().enumerate() {
            let sum = || {
                group
                    .members
                    .iter()
                    .map(|&i| crate::optimize::problem::Lin::from(w.at(i)))
                    .sum::<crate::optimize::problem::Lin>()
            };
            if group.upper.is_finite() {
                p.le(sum(), group.upper);
                rows.push(Row::GroupUpper(g));
            }
            if group.lower.is_finite() {
                p.ge(sum(), group.lower);
                rows.push(Row::GroupLower(g));
            }
        }
        rows
    }

    /// The program on Clarabel: the weights, the active rows (budget first)
    /// and whether the active set is degenerate.
    fn solve_constrained(&self, k: usize, s: &Sample<'_>, h: &Array2<f64>) -> Result<(Vec<f64>, Array2<f64>, bool)> {
        let prm = &self.params;
        let n = prm.assets;
        let (mut p, w) = Program::with_weights(n);
        for i in 0..n {
            for j in i..n {
                if h[[i, j]] != 0.0 {
                    p.quad(w.at(i), w.at(j), h[[i, j]]);
                }
            }
        }
        let neg: Vec<f64> = s.mu.iter().map(|v| -v).collect();
        p.minimise(w.dot(&neg));
        let rows = self.constrain(&mut p, w);
        let turnover = match (prm.turnover, &s.previous) {
            (Some(tau), Some(prev)) => {
                let t = p.vars(n);
                for (i, &held) in prev.iter().enumerate() {
                    p.le(w.at(i) - t.at(i), held);
                    p.le(-w.at(i) - t.at(i), -held);
                }
                p.le(t.sum(), tau);
                Some((tau, prev))
            }
            _ => None,
        };
        p.polish_on_active_set();
        let sol = p.solve().map_err(|e| match (&turnover, e) {
            (Some((tau, _)), Error::Solver { status, .. }) if status.is_infeasible() => Error::infeasible(
                "turnover",
                format!("sample {k}'s previous weights are more than {tau} from every portfolio the bounds and groups allow"),
            ),
            (_, e) => e,
        })?;
        let x = w.values(&sol.x);
        let thr = prm.threshold;
        // Clarabel's duals: the budget, then `rows` in order, then the turnover rows.
        let duals = &sol.duals[1..];
        // The active rows, in w, each with what its multiplier must show.
        let mut active: Vec<(Vec<f64>, Tag)> = vec![(vec![1.0; n], Tag::Budget)];
        for (r, row) in rows.iter().enumerate() {
            let (slack, coefficients) = match *row {
                Row::Upper(i) => (prm.upper[i] - x[i], unit(n, i)),
                Row::Lower(i) => (x[i] - prm.lower[i], unit(n, i)),
                Row::GroupUpper(g) => {
                    (prm.groups[g].upper - group_sum(&prm.groups[g], &x), membership(n, &prm.groups[g]))
                }
                Row::GroupLower(g) => {
                    (group_sum(&prm.groups[g], &x) - prm.groups[g].lower, membership(n, &prm.groups[g]))
                }
            };
            if slack <= thr || slack < duals[r] {
                active.push((coefficients, Tag::Inequality));
            }
        }
        if let Some((tau, prev)) = turnover {
            let traded: f64 = x.iter().zip(prev).map(|(a, b)| (a - b).abs()).sum();
            let pairs = &duals[rows.len()..];
            if tau - traded <= thr || tau - traded < pairs[2 * n] {
                let mut signs = vec![0.0; n];
                for i in 0..n {
                    let d = x[i] - prev[i];
                    if d.abs() <= thr || d.abs() < pairs[2 * i].min(pairs[2 * i + 1]) {
                        active.push((unit(n, i), Tag::Kink));
                    } else {
                        signs[i] = d.signum();
                    }
                }
                if signs.iter().any(|&s| s != 0.0) {
                    active.push((signs, Tag::Turnover));
                }
            }
        }
        let a = Array2::from_shape_fn((active.len(), n), |(r, c)| active[r].0[c]);
        let tags: Vec<Tag> = active.into_iter().map(|(_, t)| t).collect();
        let degenerate = weakly_active(h, &s.mu, &x, &a, &tags, thr);
        Ok((x, a, degenerate))
    }
}

/// $w^* + J\,\text{step}$ per sample, for `step` `[B, N]` (zero in value,
/// carrying the tape) and the $J$s `[B, N, N]` (symmetric).
fn through<D: Backend, T: Tape<f32, D> + Merge<NoneTape>>(
    step: Matrix<D, T>,
    j: Sequence<D>,
    w0: Matrix<D>,
) -> Result<Matrix<D, T>> {
    let (b, n) = *step.shape();
    let moved = step.try_reshape_like(&(b, 1, n)).map_err(nn_err)?.try_matmul(j).map_err(nn_err)?;
    moved.try_reshape_like(&(b, n)).map_err(nn_err)?.try_add(w0).map_err(nn_err)
}

/// An inequality the layer writes on the weights, in writing order.
#[derive(Debug, Clone, Copy)]
enum Row {
    Upper(usize),
    Lower(usize),
    GroupUpper(usize),
    GroupLower(usize),
}

/// What an active row's multiplier must show for the active set to be
/// stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    /// The budget: any multiplier.
    Budget,
    /// A bound or a group limit: one away from zero.
    Inequality,
    /// The binding turnover cap over the assets that trade: one away from
    /// zero, $\lambda_\tau$.
    Turnover,
    /// An asset held at its previous weight under a binding turnover cap:
    /// a multiplier inside $(-\lambda_\tau, \lambda_\tau)$, away from its ends.
    Kink,
}

/// Whether a constraint is active with a multiplier of nearly zero (or a
/// kink at the end of its range). The multipliers solve
/// $A^\top\lambda = \mu - Hw$ in the least-squares sense (unique for
/// independent rows); "nearly" is `thr` times the larger of
/// $\lVert\mu\rVert_\infty$ and $\lVert Hw\rVert_\infty$.
fn weakly_active(h: &Array2<f64>, mu: &[f64], x: &[f64], a: &Array2<f64>, tags: &[Tag], thr: f64) -> bool {
    let hw = h.dot(&Array1::from(x.to_vec()));
    let scale = mu.iter().chain(hw.iter()).fold(f64::MIN_POSITIVE, |m, v| m.max(v.abs()));
    let (m, n) = a.dim();
    let at = nalgebra::DMatrix::from_fn(n, m, |i, r| a[[r, i]]);
    let rhs = nalgebra::DVector::from_fn(n, |i, _| mu[i] - hw[i]);
    let Ok(lambda) = at.svd(true, true).solve(&rhs, 1e-12 * scale.max(1.0)) else {
        return false;
    };
    let cap = tags.iter().zip(lambda.iter()).find(|(t, _)| **t == Tag::Turnover).map(|(_, l)| l.abs());
    tags.iter().zip(lambda.iter()).any(|(t, l)| match t {
        Tag::Budget => false,
        Tag::Inequality | Tag::Turnover => l.abs() <= thr * scale,
        Tag::Kink => cap.is_some_and(|c| l.abs() >= c - thr * scale),
    })
}

fn unit(n: usize, i: usize) -> Vec<f64> {
    let mut v = vec![0.0; n];
    v[i] = 1.0;
    v
}

fn membership(n: usize, g: &GroupLimit) -> Vec<f64> {
    let mut v = vec![0.0; n];
    g.members.iter().for_each(|&i| v[i] = 1.0);
    v
}

fn group_sum(g: &GroupLimit, x: &[f64]) -> f64 {
    g.members.iter().map(|&i| x[i]).sum()
}

fn not_definite(k: usize) -> Error {
    Error::param(Deep::Covariance, format!("sample {k}'s covariance could not be made positive definite"))
}

/// $\gamma\,\mathrm{sym}(\Sigma)$, with $(\lvert\lambda_{min}\rvert + 10^{-8}\,
/// \overline{\sigma^2})\,I$ added where it is not positive definite
/// (`true` then); `None` if a value is not finite.
fn repaired_hessian(cov: ArrayView2<'_, f64>, gamma: f64) -> Option<(Array2<f64>, bool)> {
    let n = cov.nrows();
    if cov.iter().any(|v| !v.is_finite()) || cov.ncols() != n {
        return None;
    }
    let mut h = Array2::from_shape_fn((n, n), |(i, j)| 0.5 * gamma * (cov[[i, j]] + cov[[j, i]]));
    if crate::linalg::cholesky(h.view()).is_some() {
        return Some((h, false));
    }
    let (values, _) = crate::linalg::symmetric_eigen(&h);
    let floor = values.last().copied().unwrap_or(0.0).min(0.0).abs();
    let mean = (0..n).map(|i| h[[i, i]].abs()).sum::<f64>() / n as f64;
    let ridge = floor + 1e-8 * mean.max(1e-12);
    for i in 0..n {
        h[[i, i]] += ridge;
    }
    Some((h, true))
}

/// $J = Z (Z^\top H Z)^{-1} Z^\top$ for an orthonormal basis $Z$ of the null
/// space of the rows `a`, and whether those rows are linearly dependent;
/// `None` if $H$ is not positive definite on that space.
///
/// The rows' span gets an orthonormal basis $Q$ by Gram–Schmidt, each row
/// orthogonalised twice (a row left with under 1e-9 of its length is
/// dependent). With $P = I - Q^\top Q$, $M = PHP + Q^\top Q$ is
/// $\operatorname{blockdiag}(Z^\top H Z, I)$ in the basis $(Z, Q^\top)$, so
/// $J = P M^{-1} P$: one Cholesky factorisation, no eigenvectors (whose
/// accuracy within a cluster of equal eigenvalues, as unit rows make, is
/// not enough here).
fn sensitivity(h: &Array2<f64>, a: &Array2<f64>) -> Option<(Array2<f64>, bool)> {
    let n = h.nrows();
    let mut basis: Vec<Array1<f64>> = Vec::new();
    let mut dependent = false;
    for row in a.rows() {
        let length = row.dot(&row).sqrt();
        let mut v = row.to_owned();
        for _ in 0..2 {
            for q in &basis {
                let c = q.dot(&v);
                v.scaled_add(-c, q);
            }
        }
        let left = v.dot(&v).sqrt();
        if left > 1e-9 * length {
            basis.push(v / left);
        } else {
            dependent = true;
        }
    }
    let mut span = Array2::<f64>::zeros((n, n));
    for q in &basis {
        let col = q.view().insert_axis(ndarray::Axis(1));
        span += &col.dot(&col.t());
    }
    let p = Array2::<f64>::eye(n) - &span;
    let m = p.dot(h).dot(&p) + &span;
    let m = (&m + &m.t()) * 0.5;
    let l = crate::linalg::cholesky(m.view())?;
    let mut x = Array2::<f64>::zeros((n, n));
    for c in 0..n {
        x.column_mut(c).assign(&crate::linalg::cholesky_solve(&l, &p.column(c).to_owned()));
    }
    let j = p.dot(&x);
    Some(((&j + &j.t()) * 0.5, dependent))
}

/// `B` covariance matrices from a `[B, N, N]` tensor's values.
fn host_covariances(values: &[f32], b: usize, n: usize) -> Vec<Array2<f64>> {
    (0..b).map(|k| Array2::from_shape_fn((n, n), |(i, j)| f64::from(values[k * n * n + i * n + j]))).collect()
}
