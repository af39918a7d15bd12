//! Entropy pooling (Meucci 2008): the scenario probabilities $p$ closest
//! to the prior $q$ in relative entropy that satisfy the views,
//!
//! $$\min_p \sum_t p_t \ln\frac{p_t}{q_t}\quad\text{s.t.}\quad \sum_t p_t = 1,\ \ A_{eq}^\top p = b_{eq},\ \ A_{in}^\top p \le b_{in},$$
//!
//! with one column of $A$ per view over the $T$ scenarios (rows of
//! returns $r_t$):
//!
//! * a **mean** view on $c^\top \mu$: the column $(c^\top r_t)_t$;
//! * a **variance** view on asset $i$: the column $((r_{ti} - m_i)^2)_t$
//!   about the mean $m$ after the mean views, which is then held fixed
//!   ($\sum_t p_t r_{ti} = m_i$), so that the variance stays linear in $p$.
//!
//! The mean views are pooled first; then, if there are variance views,
//! everything again with them (as skfolio pools them). Each pooling
//! solves the dual, a smooth convex problem in one multiplier per view,
//! $\min_x \sum_t q_t e^{-1-(Ax)_t} + b^\top x$ with the inequalities'
//! multipliers $\ge 0$, by projected Newton steps (Bertsekas 1982), to a
//! gradient of $10^{-13}$; then $p_t = q_t e^{-1-(Ax)_t}$. The posterior
//! reports its effective number of scenarios $e^{-\sum_t p_t\ln p_t}$ and
//! its relative entropy to the prior.

use ndarray::{Array1, Array2};

use super::Moments;
use crate::data::{ReturnKind, Returns};
use crate::error::{Error, Result};
use crate::parameter::Estimate as Param;

/// A view's relation and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// Equal to the value.
    Equal(f64),
    /// At most the value.
    AtMost(f64),
    /// At least the value.
    AtLeast(f64),
}

impl Bound {
    fn value(self) -> f64 {
        match self {
            Bound::Equal(v) | Bound::AtMost(v) | Bound::AtLeast(v) => v,
        }
    }
}

/// One view: on a combination of means, or on an asset's variance.
#[derive(Debug, Clone, PartialEq)]
enum Opinion {
    Mean { weights: Vec<(String, f64)>, bound: Bound },
    Variance { asset: String, bound: Bound },
}

/// Builder for [`EntropyPooled`] probabilities.
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::estimate::{Bound, EntropyPooling};
/// let r = Synthetic::params().assets(3).days(500).seed(1).generate()?.prices.returns(ReturnKind::Simple)?;
/// let a = r.assets()[0].clone();
/// let pooled = EntropyPooling::params().mean(&a, Bound::Equal(0.001)).volatility(&a, Bound::AtMost(0.008)).fit(&r)?;
/// let m = pooled.moments();
/// assert!((m.mean()[0] - 0.001).abs() < 1e-12);
/// assert!(pooled.effective_scenarios() < 500.0);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntropyPoolingParams {
    views: Vec<Opinion>,
}

/// Entropy pooling: see [`EntropyPoolingParams`].
pub struct EntropyPooling;

impl EntropyPooling {
    /// No views yet (the posterior is the prior).
    pub fn params() -> EntropyPoolingParams {
        EntropyPoolingParams::default()
    }
}

/// Posterior scenario probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct EntropyPooled {
    assets: Vec<String>,
    scenarios: Array2<f64>,
    probabilities: Array1<f64>,
    prior: Array1<f64>,
    periods_per_year: f64,
}

impl EntropyPoolingParams {
    /// A view on an asset's mean return (per period).
    pub fn mean(self, asset: &str, bound: Bound) -> Self {
        self.mean_of(&[(asset, 1.0)], bound)
    }

    /// A view on a combination $\sum_i c_i\mu_i$ of mean returns, e.g.
    /// `[("AAPL", 1.0), ("MSFT", -1.0)]` with `Bound::AtLeast(0.0)` for
    /// "AAPL outperforms MSFT".
    pub fn mean_of(mut self, weights: &[(&str, f64)], bound: Bound) -> Self {
        let weights = weights.iter().map(|(a, c)| (a.to_string(), *c)).collect();
        self.views.push(Opinion::Mean { weights, bound });
        self
    }

    /// A view on an asset's variance (per period).
    pub fn variance(mut self, asset: &str, bound: Bound) -> Self {
        self.views.push(Opinion::Variance { asset: asset.to_string(), bound });
        self
    }

    /// A view on an asset's volatility (per period): its variance's view
    /// at the square of the value.
    pub fn volatility(self, asset: &str, bound: Bound) -> Self {
        let square = |v: f64| v.signum() * v * v;
        let bound = match bound {
            Bound::Equal(v) => Bound::Equal(square(v)),
            Bound::AtMost(v) => Bound::AtMost(square(v)),
            Bound::AtLeast(v) => Bound::AtLeast(square(v)),
        };
        self.variance(asset, bound)
    }

    /// The posterior probabilities of the returns' dates, from equal prior
    /// probabilities.
    pub fn fit(&self, returns: &Returns) -> Result<EntropyPooled> {
        // Simple returns as they are, or converted once.
        let converted = (returns.kind() != ReturnKind::Simple).then(|| returns.to_kind(ReturnKind::Simple));
        let x = converted.as_ref().unwrap_or(returns).values();
        let t = x.nrows();
        if t < 2 {
            return Err(Error::TooFewRows { operation: "entropy pooling".into(), needed: 2, got: t });
        }
        crate::data::require_complete(
            x,
            returns.dates(),
            returns.assets(),
            "entropy pooling needs every asset on every date",
        )?;
        let prior = Array1::from_elem(t, 1.0 / t as f64);
        let assets = returns.assets();
        let index = |a: &str| -> Result<usize> {
            assets
                .iter()
                .position(|x| x == a)
                .ok_or_else(|| Error::UnknownAsset { name: a.into(), available: assets.to_vec() })
        };
        let mut system = Views::new(t);
        for (k, v) in self.views.iter().enumerate() {
            if let Opinion::Mean { weights, bound } = v {
                let mut c = Array1::<f64>::zeros(assets.len());
                for (a, w) in weights {
                    c[index(a)?] += w;
                }
                check_view(k, bound.value(), c.iter().any(|&w| w != 0.0))?;
                system.add(x.dot(&c), *bound);
            }
        }
        let mut p = system.solve(&prior, self.views.len())?;
        if self.views.iter().any(|v| matches!(v, Opinion::Variance { .. })) {
            let m = p.dot(&x);
            let mut fixed = vec![false; assets.len()];
            for (k, v) in self.views.iter().enumerate() {
                if let Opinion::Variance { asset, bound } = v {
                    let i = index(asset)?;
                    check_view(k, bound.value(), true)?;
                    if !(bound.value() >= 0.0) {
                        return Err(Error::param(
                            Param::Views,
                            format!("number {} puts a variance at {}; a variance is ≥ 0", k + 1, bound.value()),
                        ));
                    }
                    system.add(x.column(i).mapv(|r| (r - m[i]).powi(2)), *bound);
                    fixed[i] = true;
                }
            }
            for (i, _) in fixed.iter().enumerate().filter(|(_, f)| **f) {
                system.add(x.column(i).to_owned(), Bound::Equal(m[i]));
            }
            p = system.solve(&prior, self.views.len())?;
        }
        Ok(EntropyPooled {
            assets: assets.to_vec(),
            scenarios: x.to_owned(),
            probabilities: p,
            prior,
            periods_per_year: returns.periods_per_year(),
        })
    }
}

/// A finite view value on a view that names some asset.
fn check_view(k: usize, value: f64, names_assets: bool) -> Result<()> {
    if !value.is_finite() || !names_assets {
        return Err(Error::param(
            Param::Views,
            format!("number {} needs a finite value and a non-zero weight on some asset, got {value}", k + 1),
        ));
    }
    Ok(())
}

/// The pooling's linear system: one column per constraint, scaled to unit
/// norm (which leaves the optimum unchanged and the Newton system better
/// conditioned), with its relation.
struct Views {
    columns: Vec<Array1<f64>>,
    targets: Vec<f64>,
    inequality: Vec<bool>,
}

impl Views {
    fn new(t: usize) -> Views {
        // Σ p = 1.
        let one = 1.0 / (t as f64).sqrt();
        Views { columns: vec![Array1::from_elem(t, one)], targets: vec![one], inequality: vec![false] }
    }

    /// `Σ_t p_t a_t` bounded as `bound` says (≥ as ≤ of the negation).
    fn add(&mut self, a: Array1<f64>, bound: Bound) {
        let (a, b, ineq) = match bound {
            Bound::Equal(v) => (a, v, false),
            Bound::AtMost(v) => (a, v, true),
            Bound::AtLeast(v) => (-a, -v, true),
        };
        let norm = a.dot(&a).sqrt().max(f64::MIN_POSITIVE);
        self.columns.push(a / norm);
        self.targets.push(b / norm);
        self.inequality.push(ineq);
    }

    /// The probabilities minimising relative entropy to `q` under the
    /// constraints; `views` counts the user's views for messages.
    fn solve(&self, q: &Array1<f64>, views: usize) -> Result<Array1<f64>> {
        let k = self.columns.len();
        let t = q.len();
        let a = Array2::from_shape_fn((t, k), |(s, j)| self.columns[j][s]);
        let b = Array1::from(self.targets.clone());
        let weights = |x: &Array1<f64>| -> Array1<f64> {
            let e = a.dot(x);
            Array1::from_iter(q.iter().zip(&e).map(|(q, e)| q * (-1.0 - e).exp()))
        };
        let value = |x: &Array1<f64>, z: &Array1<f64>| z.sum() + x.dot(&b);
        let mut x = Array1::<f64>::zeros(k);
        let mut z = weights(&x);
        for _ in 0..200 {
            let g = &b - &a.t().dot(&z);
            // Projected gradient: an inequality multiplier at 0 whose
            // gradient pushes it below 0 stays there.
            let at_bound: Vec<bool> = (0..k).map(|j| self.inequality[j] && x[j] <= 1e-14 && g[j] > 0.0).collect();
            let projected = (0..k).filter(|&j| !at_bound[j]).map(|j| g[j].abs()).fold(0.0, f64::max);
            if projected <= 1e-13 {
                return Ok(normalised(z));
            }

            // Newton on the free multipliers: H = Aᵀ diag(z) A.
            let free: Vec<usize> = (0..k).filter(|&j| !at_bound[j]).collect();
            let m = free.len();
            let h = nalgebra::DMatrix::from_fn(m, m, |r, c| {
                let (i, j) = (free[r], free[c]);
                (0..t).map(|s| a[[s, i]] * z[s] * a[[s, j]]).sum::<f64>()
            });
            let rhs = nalgebra::DVector::from_fn(m, |r, _| -g[free[r]]);
            // Views that repeat one another make H singular but consistent:
            // a ridge of rounding size then picks one of the equal steps.
            let ridge = 1e-14 * (0..m).map(|r| h[(r, r)]).fold(0.0f64, f64::max);
            let regular = h.clone() + nalgebra::DMatrix::identity(m, m) * ridge;
            let Some(step) = h.cholesky().or_else(|| regular.cholesky()).map(|c| c.solve(&rhs)) else {
                break;
            };
            let here = value(&x, &z);
            let slope: f64 = (0..m).map(|r| g[free[r]] * step[r]).sum();
            // Within Newton's quadratic region the decrease a step makes is
            // below what the dual's value can show in floating point: take
            // full steps until they no longer move the multipliers.
            if -slope <= 1e-12 {
                let mut largest = 0.0f64;
                for (r, &j) in free.iter().enumerate() {
                    let next = if self.inequality[j] { (x[j] + step[r]).max(0.0) } else { x[j] + step[r] };
                    largest = largest.max((next - x[j]).abs());
                    x[j] = next;
                }
                z = weights(&x);
                if largest <= 1e-15 * (1.0 + x.iter().fold(0.0f64, |m, v| m.max(v.abs()))) {
                    return Ok(normalised(z));
                }
                continue;
            }
            let mut alpha = 1.0;
            let mut moved = false;
            for _ in 0..60 {
                let mut next = x.clone();
                for (r, &j) in free.iter().enumerate() {
                    next[j] += alpha * step[r];
                    if self.inequality[j] && next[j] < 0.0 {
                        next[j] = 0.0;
                    }
                }
                let zn = weights(&next);
                let there = value(&next, &zn);
                let actual: f64 = (0..k).map(|j| g[j] * (next[j] - x[j])).sum();
                if there.is_finite() && there <= here + 1e-4 * actual.min(alpha * slope).min(0.0) {
                    x = next;
                    z = zn;
                    moved = true;
                    break;
                }
                alpha *= 0.5;
            }
            if !moved {
                break;
            }
        }
        Err(Error::param(
            Param::Views,
            format!(
                "cannot all hold on these scenarios (the pooling of {views} view{} did not settle); \
                 soften the most extreme view or check them for a contradiction",
                if views == 1 { "" } else { "s" }
            ),
        ))
    }
}

/// Opinion pooling: several experts' posteriors (each an
/// [`EntropyPooled`] over the same scenarios) combined into one, each
/// with an opinion probability $\alpha_k$; when these sum to less than 1
/// the prior takes the rest. **Linear** pooling averages the
/// probabilities, $p = \sum_k \alpha_k p_k$; **logarithmic** pooling their
/// logarithms, $p \propto \prod_k p_k^{\alpha_k}$, so a scenario any
/// expert rules out stays out. A **divergence penalty** $\lambda$ trusts
/// less an expert far from the consensus $\bar p = \sum_k \alpha_k p_k$:
/// $\alpha_k \propto \alpha_k e^{-\lambda\, D(p_k\,\|\,\bar p)}$ with
/// $D$ the relative entropy. skfolio's `OpinionPooling`; the tests match
/// its probabilities. One expert with probability $c$ is Meucci's
/// confidence blending of a posterior with its prior, $p = c\,p_{post} +
/// (1 - c)\,q$ (linear) or $p \propto p_{post}^c\, q^{1-c}$ (logarithmic).
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::estimate::{Bound, EntropyPooling, OpinionPooling};
/// let r = Synthetic::params().assets(3).days(500).seed(1).generate()?.prices.returns(ReturnKind::Simple)?;
/// let a = r.assets()[0].clone();
/// let bull = EntropyPooling::params().mean(&a, Bound::AtLeast(0.002)).fit(&r)?;
/// let calm = EntropyPooling::params().volatility(&a, Bound::AtMost(0.008)).fit(&r)?;
/// let pooled = OpinionPooling::params().expert(&bull, 0.4).expert(&calm, 0.4).fit()?;
/// assert!((pooled.probabilities().sum() - 1.0).abs() < 1e-12);
/// # Ok::<(), assetalloc::Error>(())
/// ```
pub struct OpinionPooling;

impl OpinionPooling {
    /// No experts yet; linear pooling without a divergence penalty.
    pub fn params() -> OpinionPoolingParams {
        OpinionPoolingParams::default()
    }
}

/// The experts and how they are pooled (see [`OpinionPooling`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpinionPoolingParams {
    experts: Vec<(EntropyPooled, f64)>,
    logarithmic: bool,
    penalty: f64,
}

impl OpinionPoolingParams {
    /// An expert's posterior and the probability that its opinion is right
    /// (0 to 1; the experts' together at most 1).
    pub fn expert(mut self, posterior: &EntropyPooled, probability: f64) -> Self {
        self.experts.push((posterior.clone(), probability));
        self
    }

    /// Pools the logarithms of the probabilities (default: the
    /// probabilities).
    pub fn logarithmic(mut self) -> Self {
        self.logarithmic = true;
        self
    }

    /// Shrinks the opinion probability of an expert far from the
    /// consensus (≥ 0; default 0, none).
    pub fn divergence_penalty(mut self, penalty: f64) -> Self {
        self.penalty = penalty;
        self
    }

    /// The pooled probabilities, over the experts' scenarios.
    pub fn fit(&self) -> Result<EntropyPooled> {
        let Some((first, _)) = self.experts.first() else {
            return Err(Error::param(Param::Expert, "an opinion pooling needs at least one expert, got none"));
        };
        for (k, (e, a)) in self.experts.iter().enumerate() {
            if !(0.0..=1.0).contains(a) {
                return Err(Error::param(
                    Param::Expert,
                    format!("expert {k}'s opinion probability must be in [0, 1], got {a}"),
                ));
            }
            if e.assets != first.assets || e.scenarios != first.scenarios {
                return Err(Error::param(
                    Param::Expert,
                    format!("expert {k} pooled other scenarios than expert 0; fit every expert on the same returns"),
                ));
            }
        }
        if !(self.penalty >= 0.0 && self.penalty.is_finite()) {
            return Err(Error::param(
                Param::DivergencePenalty,
                format!("must be ≥ 0 and finite, got {}", self.penalty),
            ));
        }
        let mut alpha: Vec<f64> = self.experts.iter().map(|(_, a)| *a).collect();
        let mut dists: Vec<&Array1<f64>> = self.experts.iter().map(|(e, _)| &e.probabilities).collect();
        let total: f64 = alpha.iter().sum();
        if total > 1.0 + 1e-9 {
            return Err(Error::param(
                Param::Expert,
                format!("the opinion probabilities sum to {total}, more than 1; lower them"),
            ));
        }
        if (total - 1.0).abs() <= 1e-8 + 1e-5 {
            alpha.iter_mut().for_each(|a| *a /= total);
        } else {
            alpha.push(1.0 - total);
            dists.push(&first.prior);
        }
        let mix = |alpha: &[f64]| -> Array1<f64> {
            dists.iter().zip(alpha).fold(Array1::zeros(first.prior.len()), |acc, (p, a)| acc + *p * *a)
        };
        if self.penalty > 0.0 {
            let consensus = mix(&alpha);
            let divergence = |p: &Array1<f64>| -> f64 {
                p.iter().zip(&consensus).filter(|(x, _)| **x > 0.0).map(|(x, c)| x * (x / c).ln()).sum()
            };
            alpha = alpha.iter().zip(&dists).map(|(a, p)| a * (-self.penalty * divergence(p)).exp()).collect();
            let s: f64 = alpha.iter().sum();
            alpha.iter_mut().for_each(|a| *a /= s);
        }
        let probabilities = if self.logarithmic {
            // ln p = Σ α_k ln p_k up to a constant; an expert with α_k = 0
            // has no say, a zero probability with α_k > 0 stays zero.
            let u: Array1<f64> = (0..first.prior.len())
                .map(|t| dists.iter().zip(&alpha).filter(|(_, a)| **a > 0.0).map(|(p, a)| a * p[t].ln()).sum())
                .collect();
            let top = u.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            normalised(u.mapv(|x| (x - top).exp()))
        } else {
            mix(&alpha)
        };
        Ok(EntropyPooled { probabilities, ..first.clone() })
    }
}

/// `z` scaled to sum to 1.
fn normalised(mut z: Array1<f64>) -> Array1<f64> {
    let s = z.sum();
    z /= s;
    z
}

impl EntropyPooled {
    /// The posterior probability of each scenario (date), summing to 1.
    pub fn probabilities(&self) -> &Array1<f64> {
        &self.probabilities
    }

    /// The prior's probabilities (equal).
    pub fn prior(&self) -> &Array1<f64> {
        &self.prior
    }

    /// $e^{-\sum_t p_t\ln p_t}$: how many equally likely scenarios the
    /// posterior is worth ($T$ for the prior).
    pub fn effective_scenarios(&self) -> f64 {
        let h: f64 = self.probabilities.iter().filter(|&&p| p > 0.0).map(|p| -p * p.ln()).sum();
        h.exp()
    }

    /// $\sum_t p_t\ln(p_t/q_t)$.
    pub fn relative_entropy(&self) -> f64 {
        self.probabilities.iter().zip(&self.prior).filter(|(p, _)| **p > 0.0).map(|(p, q)| p * (p / q).ln()).sum()
    }

    /// The posterior's moments: the probability-weighted mean and the
    /// unbiased weighted covariance
    /// $\sum_t p_t (r_t - \mu)(r_t - \mu)^\top / (1 - \sum_t p_t^2)$.
    pub fn moments(&self) -> Moments {
        let p = &self.probabilities;
        let (mean, cov) = super::weighted_moments(self.scenarios.view(), p);
        Moments {
            assets: self.assets.clone(),
            mean,
            cov,
            periods_per_year: self.periods_per_year,
            annualized: false,
            method: format!("entropy pooling ({:.0} effective scenarios of {})", self.effective_scenarios(), p.len()),
            factors: None,
            spread: None,
        }
    }
}
