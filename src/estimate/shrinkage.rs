//! Covariance estimators beyond the sample and Ledoit–Wolf ones, the
//! repair of an indefinite estimate, and shrinkage of the mean. With
//! $x_t = r_t - \hat\mu$ and the maximum-likelihood covariance
//! $S = \frac1T \sum_t x_t x_t^\top$, $m = \operatorname{tr}S / N$:
//!
//! * **Oracle approximating shrinkage** (Chen, Wiesel, Eldar & Hero 2010, as
//!   scikit-learn writes it): $(1-\delta)S + \delta m I$ with
//!   $\delta = \min\!\big(1, \frac{\bar a + m^2}{(T+1)(\bar a - m^2/N)}\big)$,
//!   $\bar a$ the mean of the squared entries of $S$.
//! * **Shrinkage to the scaled identity** at a given intensity $\delta$:
//!   $(1-\delta)S + \delta m I$.
//! * **Gerber statistic** (Gerber, Markowitz, Ernst, Miao, Javid & Sargen
//!   2022) with threshold $c$: on the population standard deviations
//!   $\sigma_i$, a return is up when $r_{ti} \ge c\sigma_i$ and down when
//!   $r_{ti} \le -c\sigma_i$; with $n^{c}_{ij}$ the dates where $i$ and $j$
//!   move together and $n^{d}_{ij}$ where they move apart, the correlation is
//!   $\frac{n^c_{ij} - n^d_{ij}}{T - n^{0}_{ij}}$ ($n^0_{ij}$ dates where
//!   neither moves: the positive semidefinite variant) or
//!   $\frac{n^c_{ij} - n^d_{ij}}{\sqrt{h_{ii} h_{jj}}}$ with $h = n^c - n^d$
//!   (the original), and $\Sigma_{ij} = \rho_{ij}\sigma_i\sigma_j$.
//! * **Detoning** (López de Prado 2020): the sample correlation less its
//!   $k$ largest eigen-components (the market modes), renormalised to a
//!   unit diagonal, back on the sample standard deviations.
//!
//! An estimate that is not positive definite (the original Gerber
//! statistic can be indefinite) is **repaired** by clipping the
//! eigenvalues of its correlation at $10^{-13}$, renormalising to a unit
//! diagonal and keeping the variances; the result says so.
//!
//! **Mean shrinkage** $\hat\mu_s = \alpha\hat\mu + \beta b$ towards a target
//! $b$ (the grand mean $\bar\mu\mathbf 1$, or the minimum-variance mean
//! $\frac{\mathbf 1^\top\Sigma^{-1}\hat\mu}{\mathbf 1^\top\Sigma^{-1}\mathbf 1}\mathbf 1$)
//! with $\Sigma$ the estimated covariance:
//! * James–Stein: $\beta = \frac{\operatorname{tr}\Sigma - 2\lambda_{\max}}{T\lVert\hat\mu - b\rVert^2}$,
//!   $\alpha = 1 - \beta$;
//! * Bayes–Stein (Jorion 1986): $\beta = \frac{N+2}{T(\hat\mu-b)^\top\Sigma^{-1}(\hat\mu-b) + N + 2}$,
//!   $\alpha = 1 - \beta$;
//! * Bodnar–Okhrin–Parolya (BOP): with $u = \hat\mu^\top\Sigma^{-1}\hat\mu$,
//!   $v = \hat\mu^\top\Sigma^{-1}b$, $w = b^\top\Sigma^{-1}b$:
//!   $\alpha = \frac{(u - N/(T-N))w - v^2}{uw - v^2}$, $\beta = (1-\alpha)v/w$;
//! * equilibrium returns $\delta\Sigma w_{eq}$ for a risk aversion $\delta$
//!   and equal weights (the prior of Black–Litterman without a market).

use ndarray::{Array1, Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::parameter::Estimate as Param;

/// The floor on a repaired correlation's eigenvalues.
const CLIP: f64 = 1e-13;

/// $S = \frac1T x^\top x$ of centred returns.
fn mle(x: ArrayView2<'_, f64>) -> Array2<f64> {
    crate::linalg::gram(x) / x.nrows() as f64
}

/// $(1-\delta)S + \delta \frac{\operatorname{tr}S}{N} I$.
fn towards_identity(mut s: Array2<f64>, delta: f64) -> Array2<f64> {
    let n = s.nrows();
    let m = s.diag().sum() / n as f64;
    s *= 1.0 - delta;
    for i in 0..n {
        s[[i, i]] += delta * m;
    }
    s
}

/// Oracle approximating shrinkage of centred returns; the matrix and $\delta$.
pub(super) fn oas(x: ArrayView2<'_, f64>) -> (Array2<f64>, f64) {
    let (t, n) = x.dim();
    let s = mle(x);
    let a = s.iter().map(|v| v * v).sum::<f64>() / (n * n) as f64;
    let m = s.diag().sum() / n as f64;
    let den = (t as f64 + 1.0) * (a - m * m / n as f64);
    let delta = if den == 0.0 { 1.0 } else { ((a + m * m) / den).min(1.0) };
    (towards_identity(s, delta), delta)
}

/// Shrinkage of centred returns' covariance to the scaled identity at `delta`.
pub(super) fn shrunk(x: ArrayView2<'_, f64>, delta: f64) -> Result<Array2<f64>> {
    if !(0.0..=1.0).contains(&delta) {
        return Err(Error::param(Param::Shrinkage, format!("must be in [0, 1], got {delta}")));
    }
    Ok(towards_identity(mle(x), delta))
}

/// The Gerber covariance of raw (uncentred) returns `r` whose sample mean
/// is `mean`.
pub(super) fn gerber(r: ArrayView2<'_, f64>, mean: &Array1<f64>, threshold: f64, psd: bool) -> Result<Array2<f64>> {
    if !(threshold > 0.0 && threshold < 1.0) {
        return Err(Error::param(Param::Threshold, format!("must be in (0, 1), got {threshold}")));
    }
    let (t, n) = r.dim();
    let sd: Array1<f64> =
        (0..n).map(|j| (r.column(j).iter().map(|v| (v - mean[j]).powi(2)).sum::<f64>() / t as f64).sqrt()).collect();
    // m = +1 up, −1 down, 0 neither: mᵀm counts concordant less discordant
    // dates, and (1 − |m|)ᵀ(1 − |m|) the dates where neither moves.
    let moves = Array2::from_shape_fn((t, n), |(s, j)| {
        let v = r[[s, j]];
        if v >= threshold * sd[j] {
            1.0
        } else if v <= -threshold * sd[j] {
            -1.0
        } else {
            0.0
        }
    });
    let h = crate::linalg::gram(moves.view());
    let still = crate::linalg::gram(moves.mapv(|m| 1.0 - m.abs()).view());
    let corr = Array2::from_shape_fn((n, n), |(i, j)| {
        if psd {
            h[[i, j]] / (t as f64 - still[[i, j]])
        } else {
            h[[i, j]] / (h[[i, i]] * h[[j, j]]).sqrt()
        }
    });
    Ok(on_deviations(&corr, &sd))
}

/// $\rho_{ij}\sigma_i\sigma_j$.
pub(super) fn on_deviations(corr: &Array2<f64>, sd: &Array1<f64>) -> Array2<f64> {
    Array2::from_shape_fn(corr.dim(), |(i, j)| corr[[i, j]] * sd[i] * sd[j])
}

/// The correlation and standard deviations of a covariance.
pub(super) fn correlation(cov: &Array2<f64>) -> (Array2<f64>, Array1<f64>) {
    let sd = cov.diag().mapv(f64::sqrt);
    (Array2::from_shape_fn(cov.dim(), |(i, j)| cov[[i, j]] / (sd[i] * sd[j])), sd)
}

/// `m` rescaled to a unit diagonal.
fn unit_diagonal(m: &Array2<f64>) -> Array2<f64> {
    correlation(m).0
}

/// The sample covariance `cov` less its correlation's `k` largest
/// eigen-components.
pub(super) fn detoned(cov: &Array2<f64>, k: usize) -> Result<Array2<f64>> {
    let n = cov.nrows();
    if k == 0 || k >= n {
        return Err(Error::param(Param::Markets, format!("must be in 1..{n} for {n} assets, got {k}")));
    }
    let (corr, sd) = correlation(cov);
    let (values, vectors) = crate::linalg::symmetric_eigen(&corr);
    let mut rest = corr;
    for (c, value) in values.iter().enumerate().take(k) {
        let v = vectors.column(c);
        for i in 0..n {
            for j in 0..n {
                rest[[i, j]] -= value * v[i] * v[j];
            }
        }
    }
    Ok(on_deviations(&unit_diagonal(&rest), &sd))
}

/// The Marchenko–Pastur fit's objective at the noise variance `v`: the
/// squared distance, on 1,000 points across the law's support, between its
/// density for $T/N = q$ and a Gaussian kernel density (bandwidth 0.01)
/// of the eigenvalues.
/// `ascending` holds the eigenvalues in ascending order; a kernel further
/// than 10 bandwidths away weighs below $e^{-50}$ and is left out. Each
/// eigenvalue's kernel is laid on the evenly spaced points by the
/// recurrence $g_{k+1} = g_k r_k$, $r_{k+1} = r_k e^{-(\Delta/h)^2}$ (exact
/// for a Gaussian on a uniform grid), so it costs three exponentials, not
/// one per point.
fn marchenko_pastur_misfit(ascending: &[f64], q: f64, v: f64) -> f64 {
    const POINTS: usize = 1000;
    let (lo, hi) = (v * (1.0 - (1.0 / q).sqrt()).powi(2), v * (1.0 + (1.0 / q).sqrt()).powi(2));
    let h = 0.01;
    let norm = 1.0 / (ascending.len() as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
    let step = (hi - lo) / (POINTS - 1) as f64;
    let mut kde = [0.0f64; POINTS];
    let reach = 10.0 * h;
    for &l in ascending.iter().filter(|&&l| l >= lo - reach && l <= hi + reach) {
        let first = ((l - reach - lo) / step).ceil().max(0.0) as usize;
        let last = (((l + reach - lo) / step).floor() as usize).min(POINTS - 1);
        if first > last {
            continue;
        }
        let (z, d) = ((lo + step * first as f64 - l) / h, step / h);
        let (mut g, mut r, c) = ((-0.5 * z * z).exp(), (-z * d - 0.5 * d * d).exp(), (-d * d).exp());
        for value in &mut kde[first..=last] {
            *value += g;
            g *= r;
            r *= c;
        }
    }
    (0..POINTS)
        .map(|k| {
            let x = lo + (hi - lo) * k as f64 / (POINTS - 1) as f64;
            let law = q / (2.0 * std::f64::consts::PI * v * x) * ((hi - x) * (x - lo)).max(0.0).sqrt();
            (norm * kde[k] - law).powi(2)
        })
        .sum()
}

/// The local minimum of `f` on `[lo, hi]` downhill from `start`: steps
/// that double until `f` rises bracket it, then golden-section search.
fn local_minimum(f: impl Fn(f64) -> f64, start: f64, lo: f64, hi: f64) -> f64 {
    let (mut a, mut b) = (start, start);
    let here = f(start);
    for direction in [-1.0, 1.0] {
        let mut step = 1e-3;
        let (mut x, mut fx) = (start, here);
        loop {
            let next = (x + direction * step).clamp(lo, hi);
            let fn_ = f(next);
            if fn_ >= fx || next == x {
                if direction < 0.0 {
                    a = next;
                } else {
                    b = next;
                }
                break;
            }
            (x, fx) = (next, fn_);
            step *= 2.0;
        }
        if x != start {
            // Downhill this way: the other side of `start` bounds it.
            if direction < 0.0 {
                b = (x + step / 2.0).min(hi).max(start);
            } else {
                a = (x - step / 2.0).max(lo).min(start);
            }
            break;
        }
    }
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    while b - a > 1e-10 {
        if fc < fd {
            (b, d, fd) = (d, c, fc);
            c = b - g * (b - a);
            fc = f(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    0.5 * (a + b)
}

/// The sample covariance `cov` of `t` dates denoised (López de Prado
/// 2020, constant residual): the correlation's eigenvalues below the
/// Marchenko–Pastur edge $\sigma^2(1 + \sqrt{N/T})^2$ of the fitted noise
/// variance replaced by their mean, renormalised to a unit diagonal; the
/// matrix and how many eigenvalues carried signal.
pub(super) fn denoised(cov: &Array2<f64>, t: usize) -> (Array2<f64>, usize) {
    denoise(cov, t, Noise::ConstantResidual)
}

/// What becomes of the correlation's noise eigen-components.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Noise {
    /// Their eigenvalues replaced by their mean.
    ConstantResidual,
    /// Their part $C_n$ of the correlation shrunk towards its diagonal:
    /// $\alpha C_n + (1-\alpha)\operatorname{diag}(C_n)$.
    TargetShrinkage(f64),
}

/// The sample covariance `cov` of `t` rows with the noise of its
/// correlation (the eigenvalues below the fitted Marchenko–Pastur edge)
/// treated as `noise`; the number of signal eigenvalues.
pub(super) fn denoise(cov: &Array2<f64>, t: usize, noise: Noise) -> (Array2<f64>, usize) {
    let n = cov.nrows();
    let q = t as f64 / n as f64;
    let (corr, sd) = correlation(cov);
    let (values, vectors) = crate::linalg::symmetric_eigen(&corr);
    let ascending: Vec<f64> = values.iter().rev().copied().collect();
    let v = local_minimum(|v| marchenko_pastur_misfit(&ascending, q, v), 0.5, 1e-5, 1.0 - 1e-5);
    let edge = v * (1.0 + (1.0 / q).sqrt()).powi(2);
    let signal = values.iter().filter(|&&l| l >= edge).count();
    // Only the signal eigenvectors are used: with C = V Λ Vᵀ and VVᵀ = I,
    // the noise part is C − V_s Λ_s Vᵀ_s.
    let signal_vectors = vectors.slice(ndarray::s![.., ..signal]);
    let corr = match noise {
        Noise::ConstantResidual => {
            // V_s Λ_s Vᵀ_s + m (I − V_s Vᵀ_s) for the noise eigenvalues' mean m.
            let mean = if signal < n { values[signal..].iter().sum::<f64>() / (n - signal) as f64 } else { 0.0 };
            let shifted: Vec<f64> = values[..signal].iter().map(|l| l - mean).collect();
            let mut c = outer(signal_vectors, &shifted);
            c.diag_mut().mapv_inplace(|v| v + mean);
            unit_diagonal(&c)
        }
        Noise::TargetShrinkage(alpha) => {
            // C_s + α C_n + (1 − α) diag(C_n): the diagonal stays 1.
            let signal_part = outer(signal_vectors, &values[..signal]);
            let noise_part = &corr - &signal_part;
            let mut c = signal_part + &noise_part * alpha;
            for i in 0..n {
                c[[i, i]] += (1.0 - alpha) * noise_part[[i, i]];
            }
            c
        }
    };
    (on_deviations(&corr, &sd), signal)
}

/// $V \operatorname{diag}(\lambda) V^\top$ for the columns of `vectors`.
fn outer(vectors: ndarray::ArrayView2<'_, f64>, values: &[f64]) -> Array2<f64> {
    let scaled = &vectors * &ndarray::ArrayView1::from(values);
    scaled.dot(&vectors.t())
}

/// The graphical lasso (Friedman, Hastie & Tibshirani 2008) of the
/// maximum-likelihood covariance `s`: the covariance $W = \Theta^{-1}$
/// with $\Theta$ minimising
/// $-\ln\det\Theta + \operatorname{tr}(S\Theta) + \alpha\sum_{i \ne j}\lvert\Theta_{ij}\rvert$,
/// by block coordinate
/// descent: each column of $W$ in turn from a lasso in the others, solved
/// by coordinate descent, until no entry of $W$ moves by more than
/// $10^{-12}$ of the largest variance. The matrix and the sweeps it took.
pub(super) fn graphical_lasso(s: &Array2<f64>, alpha: f64) -> Result<(Array2<f64>, usize)> {
    if !(alpha > 0.0 && alpha.is_finite()) {
        return Err(Error::param(Param::Penalty, format!("must be > 0 and finite, got {alpha}")));
    }
    const SWEEPS: usize = 10_000;
    let n = s.nrows();
    let scale = s.diag().iter().fold(0.0f64, |m, v| m.max(*v));
    let tol = 1e-12 * scale;
    let mut w = s.clone();
    // One lasso coefficient vector per column, kept warm across sweeps.
    let mut beta = Array2::<f64>::zeros((n, n));
    for sweep in 1..=SWEEPS {
        let mut moved = 0.0f64;
        for j in 0..n {
            // min_b ½ bᵀ W₁₁ b − s₁₂ᵀ b + α‖b‖₁ over the other columns.
            let others: Vec<usize> = (0..n).filter(|&k| k != j).collect();
            for _ in 0..SWEEPS {
                let mut step = 0.0f64;
                for &k in &others {
                    let partial: f64 = others.iter().filter(|&&l| l != k).map(|&l| w[[k, l]] * beta[[l, j]]).sum();
                    let r = s[[k, j]] - partial;
                    let b = r.signum() * (r.abs() - alpha).max(0.0) / w[[k, k]];
                    step = step.max((b - beta[[k, j]]).abs() * w[[k, k]]);
                    beta[[k, j]] = b;
                }
                if step <= 1e-3 * tol {
                    break;
                }
            }
            // w₁₂ = W₁₁ b.
            for &k in &others {
                let v: f64 = others.iter().map(|&l| w[[k, l]] * beta[[l, j]]).sum();
                moved = moved.max((v - w[[k, j]]).abs());
                w[[k, j]] = v;
                w[[j, k]] = v;
            }
        }
        if moved <= tol {
            return Ok((w, sweep));
        }
    }
    Err(Error::param(
        Param::Penalty,
        format!("{alpha} leaves the graphical lasso unsettled after {SWEEPS} sweeps; raise it"),
    ))
}

/// The held-out Gaussian log-likelihood of the graphical lasso at a
/// penalty, averaged over a contiguous K-fold split of the rows `x`
/// (−∞ where a fold's fit fails).
pub(super) struct FoldScores {
    splits: Vec<(Array2<f64>, Array2<f64>)>,
    n: usize,
}

impl FoldScores {
    pub(super) fn new(x: ArrayView2<'_, f64>, folds: usize) -> Result<FoldScores> {
        let (t, n) = x.dim();
        if folds < 2 || t / folds < 2 {
            return Err(Error::param(
                Param::Penalty,
                format!("cross-validating the penalty needs ≥ 2 folds of ≥ 2 rows each, got {folds} folds of {t} rows"),
            ));
        }
        // Contiguous folds, the first t mod K one row longer.
        let mut bounds = vec![0usize];
        for k in 0..folds {
            let len = t / folds + usize::from(k < t % folds);
            bounds.push(bounds[k] + len);
        }
        let splits = (0..folds)
            .map(|k| {
                let train: Vec<usize> = (0..t).filter(|&r| r < bounds[k] || r >= bounds[k + 1]).collect();
                let test: Vec<usize> = (bounds[k]..bounds[k + 1]).collect();
                (centred_mle(&crate::linalg::take_rows(x, &train)), centred_mle(&crate::linalg::take_rows(x, &test)))
            })
            .collect();
        Ok(FoldScores { splits, n })
    }

    pub(super) fn score(&self, alpha: f64) -> f64 {
        let n = self.n;
        let log_two_pi = (2.0 * std::f64::consts::PI).ln();
        let scores: Vec<f64> = self
            .splits
            .iter()
            .map(|(train, test)| {
                let Ok((w, _)) = graphical_lasso(train, alpha) else { return f64::NEG_INFINITY };
                let Some(l) = crate::linalg::cholesky(w.view()) else { return f64::NEG_INFINITY };
                // Θ = W⁻¹ column by column; ln det Θ = −2 Σ ln L_ii.
                let logdet = -2.0 * l.diag().iter().map(|v| v.ln()).sum::<f64>();
                let mut trace = 0.0;
                for j in 0..n {
                    let mut e = Array1::zeros(n);
                    e[j] = 1.0;
                    let column = crate::linalg::cholesky_solve(&l, &e);
                    trace += test.column(j).dot(&column);
                }
                let s = 0.5 * (logdet - trace - n as f64 * log_two_pi);
                if s.is_finite() {
                    s
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect();
        scores.iter().sum::<f64>() / scores.len() as f64
    }
}

/// The maximum-likelihood covariance of the rows about their mean.
fn centred_mle(rows: &Array2<f64>) -> Array2<f64> {
    let mean = rows.mean_axis(ndarray::Axis(0)).unwrap_or_else(|| Array1::zeros(rows.ncols()));
    mle((rows - &mean).view())
}

/// How the graphical lasso's penalty is cross-validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PenaltySearch {
    /// Penalties per grid.
    pub grid: usize,
    /// Grids: the first spans two decades below the largest off-diagonal
    /// covariance; each later one lies between the neighbours of the best.
    pub refinements: usize,
    /// Folds of the K-fold split (contiguous, unshuffled).
    pub folds: usize,
}

/// The graphical lasso with its penalty chosen by K-fold cross-validation
/// (scikit-learn's `GraphicalLassoCV`): each penalty of a grid is fitted on
/// the training folds and scored by the Gaussian log-likelihood of the
/// held-out fold, $\frac12(\ln\det\Theta - \operatorname{tr}(S_{test}\Theta) - p\ln 2\pi)$,
/// averaged over the folds. The first grid is `grid` penalties evenly
/// spaced in logarithm from $\alpha_{max}/100$ to $\alpha_{max}$, the
/// largest off-diagonal entry of the covariance (which zeroes every
/// partial correlation); each refinement puts `grid` penalties strictly
/// between the neighbours of the best so far (below it when it is the
/// smallest, down to a hundredth). Ties go to the smaller penalty. The
/// covariance of all rows at the best penalty, the penalty, and the
/// penalties tried.
pub(super) fn graphical_lasso_cv(x: ArrayView2<'_, f64>, search: PenaltySearch) -> Result<(Array2<f64>, f64, usize)> {
    let PenaltySearch { grid, refinements, folds } = search;
    let n = x.ncols();
    if grid < 2 || refinements < 1 {
        return Err(Error::param(
            Param::Penalty,
            format!(
                "a cross-validated penalty needs ≥ 2 penalties per grid and ≥ 1 grid, got {grid} and {refinements}"
            ),
        ));
    }
    let folds = FoldScores::new(x, folds)?;
    let all = centred_mle(&x.to_owned());
    let top = (0..n)
        .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
        .fold(0.0f64, |m, (i, j)| m.max(all[[i, j]].abs()));
    if !(top > 0.0) {
        return Err(Error::param(
            Param::Penalty,
            "cannot be cross-validated: every covariance between two assets is zero".to_string(),
        ));
    }
    let score = |alpha: f64| folds.score(alpha);
    let logspace = |from: f64, to: f64, count: usize| -> Vec<f64> {
        let (a, b) = (from.log10(), to.log10());
        (0..count).map(|k| 10f64.powf(a + (b - a) * k as f64 / (count - 1) as f64)).collect()
    };
    let mut alphas: Vec<f64> = logspace(0.01 * top, top, grid).into_iter().rev().collect();
    let mut path: Vec<(f64, f64)> = Vec::new();
    let mut best = 0;
    for _ in 0..refinements {
        let scored = crate::parallel::pool("graphical lasso penalty", alphas, |&a| Ok((a, score(a))))?;
        path.extend(scored);
        path.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (mut best_score, mut last_finite) = (f64::NEG_INFINITY, 0);
        for (k, &(_, s)) in path.iter().enumerate() {
            let s = if s >= 0.1 / f64::EPSILON { f64::NAN } else { s };
            if s.is_finite() {
                last_finite = k;
            }
            if s >= best_score {
                best_score = s;
                best = k;
            }
        }
        let (high, low) = if best == 0 {
            (path[0].0, path[1].0)
        } else if best == last_finite && best != path.len() - 1 {
            (path[best].0, path[best + 1].0)
        } else if best == path.len() - 1 {
            (path[best].0, 0.01 * path[best].0)
        } else {
            (path[best - 1].0, path[best + 1].0)
        };
        let next = logspace(high, low, grid + 2);
        alphas = next[1..next.len() - 1].to_vec();
    }
    let alpha = path[best].0;
    let (cov, _) = graphical_lasso(&all, alpha)?;
    Ok((cov, alpha, path.len()))
}

/// `cov` itself when positive definite, else its nearest repair (see the
/// module docs); `true` when it was repaired.
pub(super) fn positive_definite(cov: Array2<f64>) -> (Array2<f64>, bool) {
    let (corr, sd) = correlation(&cov);
    // The correlation's smallest eigenvalue is above CLIP/2 exactly when
    // corr − CLIP/2 I has a Cholesky factor: no decomposition needed.
    let mut shifted = corr.clone();
    shifted.diag_mut().mapv_inplace(|v| v - CLIP / 2.0);
    if crate::linalg::is_positive_definite(shifted.view()) && crate::linalg::is_positive_definite(cov.view()) {
        return (cov, false);
    }
    let (values, vectors) = crate::linalg::symmetric_eigen(&corr);
    let n = cov.nrows();
    let clipped = outer(vectors.view(), &values.iter().map(|v| v.max(CLIP)).collect::<Vec<_>>());
    let mut out = on_deviations(&unit_diagonal(&clipped), &sd);
    for i in 0..n {
        out[[i, i]] = cov[[i, i]];
        for j in 0..i {
            let v = 0.5 * (out[[i, j]] + out[[j, i]]);
            out[[i, j]] = v;
            out[[j, i]] = v;
        }
    }
    (out, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// The kernel density laid on the grid by recurrence equals the one
    /// summed point by point with an exponential per pair.
    #[test]
    fn the_gridded_kernel_density_equals_the_direct_sum() {
        let direct = |ascending: &[f64], q: f64, v: f64| -> f64 {
            let (lo, hi) = (v * (1.0 - (1.0 / q).sqrt()).powi(2), v * (1.0 + (1.0 / q).sqrt()).powi(2));
            let h = 0.01;
            let norm = 1.0 / (ascending.len() as f64 * h * (2.0 * std::f64::consts::PI).sqrt());
            (0..1000)
                .map(|k| {
                    let x = lo + (hi - lo) * k as f64 / 999.0;
                    let law = q / (2.0 * std::f64::consts::PI * v * x) * ((hi - x) * (x - lo)).max(0.0).sqrt();
                    let kde: f64 = ascending
                        .iter()
                        .filter(|&&l| (x - l).abs() <= 10.0 * h)
                        .map(|l| (-0.5 * ((x - l) / h).powi(2)).exp())
                        .sum();
                    (norm * kde - law).powi(2)
                })
                .sum()
        };
        // 300 eigenvalues spread over [0.05, 3.5] (some outside the support)
        // for q = 2 at noise variances across the search's range.
        let ascending: Vec<f64> = (0..300).map(|i| 0.05 + 3.45 * (i as f64 / 299.0).powi(2)).collect();
        for v in [0.2, 0.5, 0.93, 1.0 - 1e-5] {
            let (ours, theirs) = (marchenko_pastur_misfit(&ascending, 2.0, v), direct(&ascending, 2.0, v));
            assert!((ours - theirs).abs() <= 1e-12 * theirs, "v = {v}: {ours} against {theirs}");
        }
    }

    /// An indefinite "correlation" (eigenvalues ≈ −0.6, 1.9, 1.7) on
    /// standard deviations 0.1, 0.2, 0.3: the repair is positive definite,
    /// keeps the variances and moves the entries no more than it must.
    #[test]
    fn an_indefinite_covariance_is_repaired_keeping_its_variances() {
        let corr = array![[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]];
        let sd = array![0.1, 0.2, 0.3];
        let cov = on_deviations(&corr, &sd);
        let (fixed, repaired) = positive_definite(cov.clone());
        assert!(repaired);
        assert!(crate::linalg::cholesky(fixed.view()).is_some());
        assert_eq!(fixed.diag(), cov.diag());
        let (values, _) = crate::linalg::symmetric_eigen(&correlation(&fixed).0);
        assert!(*values.last().unwrap() > -1e-15, "{values:?}");
        // A positive definite one is returned as it is.
        let good = on_deviations(&array![[1.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 1.0]], &sd);
        assert_eq!(positive_definite(good.clone()), (good, false));
    }
}

/// The largest eigenvalue of a symmetric positive semidefinite matrix: by
/// power iteration on the Rayleigh quotient (which converges to working
/// precision in a few dozen products when the top eigenvalue stands
/// apart, as a market mode does), by a full decomposition if it does not
/// settle.
fn largest_eigenvalue(a: &Array2<f64>) -> f64 {
    let n = a.nrows();
    let mut v = Array1::from_elem(n, 1.0 / (n as f64).sqrt());
    let mut last = f64::NAN;
    for _ in 0..500 {
        let av = a.dot(&v);
        let rayleigh = v.dot(&av);
        let norm = av.dot(&av).sqrt();
        if !(norm > 0.0) {
            break;
        }
        v = av / norm;
        if (rayleigh - last).abs() <= 1e-16 * rayleigh.abs() {
            return rayleigh;
        }
        last = rayleigh;
    }
    crate::linalg::symmetric_eigen(a).0.first().copied().unwrap_or(0.0)
}

/// The weights $\lambda^{t-1-i}$, $\lambda = 2^{-1/h}$, of `t` dates
/// normalised to sum to 1, for a half-life `halflife` > 0.
pub(super) fn ewma_weights(t: usize, halflife: f64) -> Result<Array1<f64>> {
    Error::positive(Param::Halflife, halflife)?;
    let lambda = 0.5f64.powf(1.0 / halflife);
    let w: Array1<f64> = (0..t).map(|i| lambda.powi((t - 1 - i) as i32)).collect();
    let s = w.sum();
    Ok(w / s)
}

/// How the mean is estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MeanEstimator {
    /// The estimator's own mean (the sample mean, or EWMA's weighted one).
    Estimator,
    /// James–Stein shrinkage of the sample mean towards the target.
    JamesStein {
        /// Shrink towards the minimum-variance mean instead of the grand mean.
        volatility_weighted: bool,
    },
    /// Bayes–Stein shrinkage of the sample mean towards the target.
    BayesStein {
        /// Shrink towards the minimum-variance mean instead of the grand mean.
        volatility_weighted: bool,
    },
    /// Bodnar–Okhrin–Parolya shrinkage of the sample mean (needs more dates
    /// than assets).
    BodnarOkhrin {
        /// Shrink towards the minimum-variance mean instead of the grand mean.
        volatility_weighted: bool,
    },
    /// Equilibrium returns $\delta\Sigma w$ of equal weights.
    Equilibrium {
        /// The risk aversion $\delta > 0$.
        risk_aversion: f64,
    },
    /// The exponentially weighted mean: weights $\lambda^{T-1-t}$,
    /// $\lambda = 2^{-1/h}$, normalised to sum to 1 (skfolio's `EWMu`,
    /// pandas' adjusted `ewm`), whatever the covariance estimator.
    Ewma {
        /// Half-life $h$ in periods (> 0).
        halflife: f64,
    },
}

impl MeanEstimator {
    /// Its name in a moments' method.
    pub(super) fn label(&self) -> Option<String> {
        let target = |v: bool| if v { "minimum-variance target" } else { "grand-mean target" };
        match *self {
            MeanEstimator::Estimator => None,
            MeanEstimator::JamesStein { volatility_weighted } => {
                Some(format!("James–Stein mean ({})", target(volatility_weighted)))
            }
            MeanEstimator::BayesStein { volatility_weighted } => {
                Some(format!("Bayes–Stein mean ({})", target(volatility_weighted)))
            }
            MeanEstimator::BodnarOkhrin { volatility_weighted } => {
                Some(format!("Bodnar–Okhrin–Parolya mean ({})", target(volatility_weighted)))
            }
            MeanEstimator::Equilibrium { risk_aversion } => Some(format!("equilibrium mean (δ = {risk_aversion})")),
            MeanEstimator::Ewma { halflife } => Some(format!("EWMA mean, half-life {halflife}")),
        }
    }

    /// The mean from the returns `x` (dates × assets), their sample mean
    /// `mu`, the estimator's own mean `own` and the estimated covariance
    /// `cov`.
    pub(super) fn estimate(
        &self,
        x: ArrayView2<'_, f64>,
        mu: &Array1<f64>,
        own: Array1<f64>,
        cov: &Array2<f64>,
    ) -> Result<Array1<f64>> {
        let (t, n) = x.dim();
        let inverse = || -> Result<Array2<f64>> {
            let l = crate::linalg::cholesky(cov.view()).ok_or_else(|| {
                Error::param(Param::Covariance, "must be positive definite to shrink the mean; use a shrunk covariance")
            })?;
            let mut inv = Array2::<f64>::zeros((n, n));
            for j in 0..n {
                let mut e = Array1::<f64>::zeros(n);
                e[j] = 1.0;
                inv.column_mut(j).assign(&crate::linalg::cholesky_solve(&l, &e));
            }
            Ok(inv)
        };
        let target = |weighted: bool, inv: Option<&Array2<f64>>| -> Array1<f64> {
            let b = match (weighted, inv) {
                (true, Some(inv)) => inv.sum_axis(ndarray::Axis(1)).dot(mu) / inv.sum(),
                _ => mu.sum() / n as f64,
            };
            Array1::from_elem(n, b)
        };
        let tf = t as f64;
        let (alpha, beta, b) = match *self {
            MeanEstimator::Estimator => return Ok(own),
            MeanEstimator::Ewma { halflife } => return Ok(ewma_weights(t, halflife)?.dot(&x)),
            MeanEstimator::Equilibrium { risk_aversion } => {
                Error::positive(Param::RiskAversion, risk_aversion)?;
                return Ok(cov.dot(&Array1::from_elem(n, 1.0 / n as f64)) * risk_aversion);
            }
            MeanEstimator::JamesStein { volatility_weighted } => {
                let inv = volatility_weighted.then(inverse).transpose()?;
                let b = target(volatility_weighted, inv.as_ref());
                let spread: f64 = (mu - &b).mapv(|v| v * v).sum();
                let beta = (cov.diag().sum() - 2.0 * largest_eigenvalue(cov)) / spread / tf;
                (1.0 - beta, beta, b)
            }
            MeanEstimator::BayesStein { volatility_weighted } => {
                let inv = inverse()?;
                let b = target(volatility_weighted, Some(&inv));
                let d = mu - &b;
                let k = n as f64 + 2.0;
                let beta = k / (tf * d.dot(&inv.dot(&d)) + k);
                (1.0 - beta, beta, b)
            }
            MeanEstimator::BodnarOkhrin { volatility_weighted } => {
                if t <= n {
                    return Err(Error::TooFewRows {
                        operation: "the Bodnar–Okhrin–Parolya mean".into(),
                        needed: n + 1,
                        got: t,
                    });
                }
                let inv = inverse()?;
                let b = target(volatility_weighted, Some(&inv));
                let (u, v, w) = (mu.dot(&inv.dot(mu)), mu.dot(&inv.dot(&b)), b.dot(&inv.dot(&b)));
                let alpha = ((u - n as f64 / (tf - n as f64)) * w - v * v) / (u * w - v * v);
                (alpha, (1.0 - alpha) * v / w, b)
            }
        };
        let out = mu * alpha + &(b * beta);
        if out.iter().any(|v| !v.is_finite()) {
            return Err(Error::param(
                Param::Returns,
                "leave the shrunk mean undefined (every asset has the same sample mean?); use the estimator's mean",
            ));
        }
        Ok(out)
    }
}
