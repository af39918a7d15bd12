//! Uncertainty sets for the expected returns: the robust objectives price
//! a portfolio's mean at its worst over the set (Tütüncü and Koenig 2004;
//! Riskfolio-Lib's `wc_optimization` with `Umu`). For a set around the
//! estimate $\hat\mu$ the worst-case mean is
//!
//! | set | $\min_{\mu \in U} \mu^\top w$ |
//! |---|---|
//! | box $\lvert\mu_i - \hat\mu_i\rvert \le \delta_i$ | $\hat\mu^\top w - \delta^\top\lvert w\rvert$ |
//! | ellipsoid $(\mu - \hat\mu)^\top\Sigma_\mu^{-1}(\mu - \hat\mu) \le k^2$ | $\hat\mu^\top w - k\sqrt{w^\top\Sigma_\mu w}$ |
//!
//! a linear program's or a second-order cone's term, so every objective
//! that reads the mean stays conic. For the covariance, a box
//! $\Sigma_l \le \Sigma \le \Sigma_u$ (elementwise) has, for weights that
//! cannot be negative, the worst case $w^\top\Sigma_u w$: each
//! $w_iw_j \ge 0$, so the variance grows with every entry, and $\Sigma_u$
//! itself is the worst covariance in the box when it is positive
//! semidefinite. With short positions, write the box as its centre
//! $C = (\Sigma_l + \Sigma_u)/2$ and half-width $R = (\Sigma_u - \Sigma_l)/2$:
//! the largest $w^\top\Sigma w$ over the box alone is
//! $w^\top C w + \lvert w\rvert^\top R\,\lvert w\rvert$, reached at
//! $\Sigma = C + D R D$ with $D = \operatorname{diag}(\operatorname{sign} w)$.
//! When $C$ and $R$ are both positive semidefinite, so is $C + DRD$ for
//! every sign pattern: the bound is then the worst case over the
//! covariances in the box, exactly, and it is convex, a second-order cone
//! in $v \ge \lvert w\rvert$ ([`Moments`]' spread) with no semidefinite cone.
//! The usual box $\Sigma \pm \epsilon\,ss^\top$ ($s$ the volatilities) is of
//! this kind. Otherwise the worst case needs a semidefinite cone (Clarabel
//! has one only with its BLAS/LAPACK feature, not enabled here) and the set
//! is refused, naming which of the two is indefinite. From data, the sample mean's error
//! after $T$ periods has covariance $\Sigma/T$: a box at confidence $c$
//! takes $\delta_i = z_{(1+c)/2}\,\sigma_i/\sqrt T$, an ellipsoid
//! $\Sigma_\mu = \Sigma/T$ with $k^2$ the $c$-quantile of $\chi^2_n$.

use ndarray::{Array1, Array2};

use crate::data::Returns;
use crate::error::{Error, Result};
use crate::estimate::Moments;
use crate::optimize::problem::{Affine, Block, Lin, Program};
use crate::parameter::Optimize as Param;

/// An uncertainty set for the expected returns, in the units of the mean
/// it is used with (per period from [`box_from`](Self::box_from) and
/// [`ellipsoid_from`](Self::ellipsoid_from); [`scaled`](Self::scaled) for
/// annualised moments). Give it to [`Optimizer::robust_mean`](super::Optimizer::robust_mean).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MeanUncertainty {
    /// $\lvert\mu_i - \hat\mu_i\rvert \le \delta_i$.
    Box {
        /// The half-widths $\delta_i \ge 0$, one per asset.
        half_widths: Array1<f64>,
    },
    /// $(\mu - \hat\mu)^\top\Sigma_\mu^{-1}(\mu - \hat\mu) \le k^2$.
    Ellipsoid {
        /// The radius $k \ge 0$.
        radius: f64,
        /// The shape $\Sigma_\mu$, positive semidefinite.
        shape: Array2<f64>,
    },
}

impl MeanUncertainty {
    /// The box that holds each asset's mean with probability `confidence`
    /// under the sample mean's normal approximation:
    /// $\delta_i = z_{(1+c)/2}\,\sigma_i/\sqrt T$ (per period).
    pub fn box_from(returns: &Returns, confidence: f64) -> Result<MeanUncertainty> {
        let (cov, t) = sample(returns, confidence)?;
        let z = crate::portfolio::metrics::normal_quantile(0.5 * (1.0 + confidence));
        Ok(MeanUncertainty::Box { half_widths: cov.diag().mapv(|v| z * (v / t).sqrt()) })
    }

    /// The ellipsoid that holds the mean vector with probability
    /// `confidence` under the sample mean's normal approximation:
    /// $\Sigma_\mu = \Sigma/T$ and $k^2$ the `confidence` quantile of
    /// $\chi^2_n$ (per period).
    pub fn ellipsoid_from(returns: &Returns, confidence: f64) -> Result<MeanUncertainty> {
        let (cov, t) = sample(returns, confidence)?;
        let radius = chi_square_quantile(confidence, cov.nrows() as f64).sqrt();
        Ok(MeanUncertainty::Ellipsoid { radius, shape: cov / t })
    }

    /// The set for a mean scaled by `factor` (252 for annualised daily
    /// moments): half-widths and radius times `factor`.
    pub fn scaled(self, factor: f64) -> MeanUncertainty {
        match self {
            MeanUncertainty::Box { half_widths } => MeanUncertainty::Box { half_widths: half_widths * factor },
            MeanUncertainty::Ellipsoid { radius, shape } => {
                MeanUncertainty::Ellipsoid { radius: radius * factor, shape }
            }
        }
    }

    /// Each asset's own worst-case mean shortfall: $\delta_i$, or
    /// $k\sqrt{(\Sigma_\mu)_{ii}}$.
    pub fn shortfalls(&self) -> Array1<f64> {
        match self {
            MeanUncertainty::Box { half_widths } => half_widths.clone(),
            MeanUncertainty::Ellipsoid { radius, shape } => shape.diag().mapv(|v| radius * v.max(0.0).sqrt()),
        }
    }

    /// The worst-case mean of the weights `w` around `mean`.
    pub fn worst_mean(&self, mean: &Array1<f64>, w: &Array1<f64>) -> f64 {
        mean.dot(w)
            - match self {
                MeanUncertainty::Box { half_widths } => half_widths.dot(&w.mapv(f64::abs)),
                MeanUncertainty::Ellipsoid { radius, shape } => radius * w.dot(&shape.dot(w)).max(0.0).sqrt(),
            }
    }

    /// Checked against `n` assets, with the ellipsoid's shape factored:
    /// the set ready to write.
    pub(crate) fn resolve(&self, n: usize) -> Result<Resolved> {
        match self {
            MeanUncertainty::Box { half_widths } => {
                if half_widths.len() != n {
                    return Err(Error::Shape(format!("{} half-widths for {n} assets", half_widths.len())));
                }
                if let Some(i) = half_widths.iter().position(|d| !(d.is_finite() && *d >= 0.0)) {
                    return Err(Error::param(
                        Param::MeanUncertainty,
                        format!("half-width {i} is {}; give finite half-widths ≥ 0", half_widths[i]),
                    ));
                }
                Ok(Resolved::Box(half_widths.clone()))
            }
            MeanUncertainty::Ellipsoid { radius, shape } => {
                if shape.dim() != (n, n) {
                    return Err(Error::Shape(format!("a {:?} ellipsoid shape for {n} assets", shape.dim())));
                }
                if !(radius.is_finite() && *radius >= 0.0) {
                    return Err(Error::param(
                        Param::MeanUncertainty,
                        format!("the ellipsoid's radius is {radius}; give a finite radius ≥ 0"),
                    ));
                }
                Ok(Resolved::Ellipsoid { radius: *radius, factor: psd_factor(shape)? })
            }
        }
    }
}

/// A box $\Sigma_l \le \Sigma \le \Sigma_u$ (elementwise) around the
/// covariance, in the units of the moments it is used with. Give it to
/// [`Optimizer::robust_covariance`](super::Optimizer::robust_covariance).
#[derive(Debug, Clone, PartialEq)]
pub struct CovarianceUncertainty {
    /// The lower bounds $\Sigma_l$.
    pub lower: Array2<f64>,
    /// The upper bounds $\Sigma_u$.
    pub upper: Array2<f64>,
}

impl CovarianceUncertainty {
    /// The box $\Sigma \pm \epsilon\,ss^\top$ around the covariance `cov`
    /// ($s$ the volatilities): each covariance may move by the share
    /// `width` $= \epsilon$ of $s_is_j$. Its centre and half-width are
    /// positive semidefinite, so its worst case is exact with short
    /// positions too. A typed error for a width that is negative or not
    /// finite, or a diagonal with a negative entry.
    pub fn proportional(cov: &Array2<f64>, width: f64) -> Result<CovarianceUncertainty> {
        if !(width.is_finite() && width >= 0.0) {
            return Err(Error::param(
                Param::CovarianceUncertainty,
                format!("the box's width is {width}; give a finite share ≥ 0 of each s_i s_j"),
            ));
        }
        if let Some((i, v)) = cov.diag().iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
            return Err(Error::param(Param::Covariance, format!("variance {v} of asset {i}: not a covariance")));
        }
        let s = cov.diag().mapv(f64::sqrt);
        let spread = Array2::from_shape_fn(cov.dim(), |(i, j)| width * s[i] * s[j]);
        Ok(CovarianceUncertainty { lower: cov - &spread, upper: cov + &spread })
    }

    /// The moments `m` with the variance at its worst over the box: for
    /// weights that are `long_only` the covariance $\Sigma_u$, else the
    /// centre $C$ with the half-width's factor as their spread (see the
    /// module). Typed errors for a box of the wrong size, not finite, with
    /// a lower bound above its upper bound or not holding the estimate, for
    /// an upper bound that is not positive semidefinite and, with short
    /// positions, for a centre or half-width that is not.
    pub(crate) fn worst_case(&self, m: &Moments, long_only: bool) -> Result<Moments> {
        let cov = m.cov();
        let n = cov.nrows();
        if self.lower.dim() != (n, n) || self.upper.dim() != (n, n) {
            return Err(Error::Shape(format!(
                "a covariance box of {:?} and {:?} for {n} assets",
                self.lower.dim(),
                self.upper.dim()
            )));
        }
        let bad = |what: &str| Error::param(Param::CovarianceUncertainty, what.to_string());
        if self.lower.iter().chain(self.upper.iter()).any(|v| !v.is_finite()) {
            return Err(bad("the box's bounds must be finite"));
        }
        for ((i, j), c) in cov.indexed_iter() {
            let (l, u) = (self.lower[[i, j]], self.upper[[i, j]]);
            if l > u {
                return Err(bad(&format!("lower bound {l} above upper bound {u} at ({i}, {j})")));
            }
            if !(l - 1e-12 * c.abs() <= *c && *c <= u + 1e-12 * c.abs()) {
                return Err(bad(&format!(
                    "the box [{l}, {u}] at ({i}, {j}) does not hold the estimate {c}; centre it on the moments solved on"
                )));
            }
        }
        let method = format!("{}, worst case over a covariance box", m.method());
        if long_only {
            psd_factor(&self.upper).map_err(|_| {
                bad("the box's upper bound is not positive semidefinite: it is not a covariance, and the worst case \
                     inside the box then needs a semidefinite cone; give an upper bound that is one")
            })?;
            return Ok(m.with_cov(self.upper.clone(), method));
        }
        let centre = (&self.lower + &self.upper) * 0.5;
        let half = (&self.upper - &self.lower) * 0.5;
        let needs = |what: &str| {
            bad(&format!(
                "with short positions the box's {what} must be positive semidefinite for its worst case to be a cone \
                 program (else it needs a semidefinite cone, not available here); widen the box until it is, or \
                 constrain the weights to be ≥ 0"
            ))
        };
        psd_factor(&centre).map_err(|_| needs("centre (lower + upper) / 2"))?;
        let h = psd_factor(&half).map_err(|_| needs("half-width (upper − lower) / 2"))?;
        let top = h.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let keep: Vec<usize> = (0..n).filter(|&k| h.column(k).iter().any(|v| v.abs() > 1e-9 * top)).collect();
        Ok(m.with_spread(centre, h.select(ndarray::Axis(1), &keep), method))
    }
}

/// A checked set: the box's half-widths, or the ellipsoid's radius and a
/// factor $F$ with $FF^\top = \Sigma_\mu$.
#[derive(Debug, Clone)]
pub(crate) enum Resolved {
    Box(Array1<f64>),
    Ellipsoid { radius: f64, factor: Array2<f64> },
}

impl Resolved {
    /// Writes the worst case's shortfall from the estimated mean, an
    /// expression $e(w) \ge \max_{\mu\in U}(\hat\mu - \mu)^\top w$, equal at
    /// any optimum that prices it: $\delta^\top v$ with $v \ge \pm w$ (just
    /// $\delta^\top w$ when the weights cannot be negative, which keeps a
    /// variance program a quadratic one that is finished on its active
    /// set), or $k s$ with $s \ge \lVert F^\top w\rVert_2$.
    pub(crate) fn shortfall(&self, p: &mut Program, w: Block, long_only: bool) -> Lin {
        match self {
            Resolved::Box(delta) if long_only => w.dot(delta),
            Resolved::Box(delta) => {
                let v = p.vars(w.len());
                for (vi, wi) in v.vars().zip(w.vars()) {
                    p.ge(vi - wi, 0.0);
                    p.ge(vi + wi, 0.0);
                }
                v.dot(delta)
            }
            Resolved::Ellipsoid { radius, factor } => {
                let s = p.var();
                let mut cone = vec![Affine::from(s)];
                cone.extend(factor.columns().into_iter().map(|f| Affine::from(w.dot(f))));
                p.soc(cone);
                s * *radius
            }
        }
    }
}

/// The sample covariance and the number of periods, for a set at
/// `confidence` in (0, 1).
fn sample(returns: &Returns, confidence: f64) -> Result<(Array2<f64>, f64)> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::param(Param::Confidence, format!("must be in (0, 1), got {confidence}")));
    }
    let t = returns.len();
    if t < 2 {
        return Err(Error::TooFewRows { operation: "an uncertainty set for the mean".into(), needed: 2, got: t });
    }
    let m = crate::estimate::Moments::sample().fit(returns)?;
    Ok((m.cov().clone(), t as f64))
}

/// $F = V\Lambda^{1/2}$ from the eigen decomposition of a symmetric
/// positive semidefinite `shape` (eigenvalues down to $-10^{-12}$ of the
/// largest count as zero); anything else is a typed error.
fn psd_factor(shape: &Array2<f64>) -> Result<Array2<f64>> {
    let n = shape.nrows();
    if shape.iter().any(|v| !v.is_finite())
        || (0..n).any(|i| {
            (0..i).any(|j| {
                (shape[[i, j]] - shape[[j, i]]).abs()
                    > 1e-12 * (shape[[i, j]].abs() + shape[[j, i]].abs()).max(f64::MIN_POSITIVE)
            })
        })
    {
        return Err(Error::param(Param::MeanUncertainty, "the ellipsoid's shape must be finite and symmetric"));
    }
    let m = nalgebra::DMatrix::from_fn(n, n, |i, j| shape[[i, j]]);
    let eig = m.symmetric_eigen();
    let top = eig.eigenvalues.iter().cloned().fold(0.0f64, f64::max);
    if let Some(low) = eig.eigenvalues.iter().cloned().find(|l| *l < -1e-12 * top.max(f64::MIN_POSITIVE)) {
        return Err(Error::param(
            Param::MeanUncertainty,
            format!("the ellipsoid's shape has eigenvalue {low:.3e}: it must be positive semidefinite"),
        ));
    }
    Ok(Array2::from_shape_fn((n, n), |(i, j)| eig.eigenvectors[(i, j)] * eig.eigenvalues[j].max(0.0).sqrt()))
}

/// The `p`-quantile of the chi-square distribution with `k` degrees of
/// freedom: the root of $P(k/2, x/2) = p$ (the regularised lower incomplete
/// gamma function), by bisection on a bracket that doubles until it holds.
pub(crate) fn chi_square_quantile(p: f64, k: f64) -> f64 {
    let cdf = |x: f64| lower_gamma_regularised(0.5 * k, 0.5 * x);
    let (mut lo, mut hi) = (0.0, k.max(1.0));
    while cdf(hi) < p {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// $P(a, x) = \gamma(a, x)/\Gamma(a)$: its power series below $x = a + 1$,
/// one minus the upper function's continued fraction (modified Lentz)
/// above, as in Numerical Recipes §6.2.
fn lower_gamma_regularised(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let log_prefix = a * x.ln() - x - libm::lgamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        (sum.ln() + log_prefix).exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-17 {
                break;
            }
        }
        1.0 - (log_prefix.exp() * h)
    }
}
