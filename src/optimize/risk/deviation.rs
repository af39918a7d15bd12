//! Deviation and tail measures of the portfolio's scenario returns
//! $p_s = r_s^\top w$ ($S$ equally likely scenarios, sample mean
//! $\bar p = \bar r^\top w$):
//!
//! | measure | $\rho(w)$ | written as |
//! |---|---|---|
//! | mean absolute deviation | $\frac1S\sum_s \lvert p_s - \bar p\rvert$ | $\frac2S \sum_s v_s$, $v$ as below, LP |
//! | semi-deviation | $\sqrt{\frac{1}{S-1}\sum_s \min(p_s - \bar p, 0)^2}$ | $v_s \ge (\bar r - r_s)^\top w$, $v \ge 0$, $\lVert v\rVert_2 \le \sqrt{S-1}\,t$ |
//! | first lower partial moment | $\frac1S\sum_s \max(\bar p - p_s, 0)$ | $v_s \ge (\bar r - r_s)^\top w$, $v \ge 0$, LP |
//! | worst realisation | $\max_s (-p_s)$ | $t \ge -r_s^\top w$, LP |
//! | semi-variance | $\frac{1}{S-1}\sum_s \min(p_s - \bar p, 0)^2$ | $v$ as for the semi-deviation, $\frac{1}{S-1}\sum_s v_s^2$ in the quadratic objective |
//! | first lower partial moment below $m$ | $\frac1S\sum_s \max(m - p_s, 0)$ | $v_s \ge (m\mathbf 1 - r_s)^\top w$, $v \ge 0$, LP |
//! | second lower partial moment below $m$ | $\sqrt{\frac{1}{S-1}\sum_s \max(m - p_s, 0)^2}$ | the same $v$, $\lVert v\rVert_2 \le \sqrt{S-1}\,t$ |
//!
//! The deviations from the sample mean sum to zero, so $\sum_s \lvert p_s -
//! \bar p\rvert = 2 \sum_s \max(\bar p - p_s, 0)$: the mean absolute
//! deviation is twice the first lower partial moment about the mean, and is
//! written as one hinge per scenario (one row over the weights) rather than
//! two.
//!
//! With scenario probabilities $p_s$, each $\frac1S$ becomes $p_s$, the
//! mean is $\sum_s p_s r_s$, $\frac{1}{S-1}$ becomes $\frac{1}{1-\sum_s p_s^2}$
//! (skfolio's correction) and the worst realisation is over the scenarios
//! with $p_s > 0$.
//!
//! A minimum acceptable return $m$ applies to every asset, as skfolio's
//! `min_acceptable_return` does: the shortfall is $(m\mathbf 1 - r_s)^\top
//! w$, the portfolio's below $m$ when the weights sum to 1, and the measure
//! stays positively homogeneous (exact in the maximum ratio, and its Euler
//! contributions add up to it). Semi-variance,
//! like variance, is a quadratic form with no linear epigraph: it can be
//! minimised, traded off and maximised in ratio (whose optimum is the
//! semi-deviation's), not capped or budgeted.

use ndarray::{ArrayView1, ArrayView2};

use super::reduce::{centred, Aggregate, Family, Reduced, Reduction};
use super::Risk;
use crate::error::{Error, Result};
use crate::optimize::problem::{Affine, Block, Lin, Program};
use crate::parameter::Optimize as Param;

/// Which deviation measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    MeanAbsolute,
    Semi,
    LowerPartial,
    Worst,
    SemiVariance,
    LowerPartialAt { mar: f64 },
    SemiAt { mar: f64 },
}

/// A deviation measure of scenario returns (rows of simple returns).
pub(crate) struct Deviation<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    /// The scenarios' probabilities (`None`: equally likely).
    pub probabilities: Option<ArrayView1<'a, f64>>,
    pub kind: Kind,
}

impl Deviation<'_> {
    /// The shortfalls $v_s \ge \max(\text{below} - p_s, 0)$: below the
    /// sample mean, or below a minimum acceptable return.
    fn shortfalls(&self, p: &mut Program, w: Block, below: Option<f64>) -> Block {
        let v = p.vars(self.scenarios.nrows());
        // v_k ≥ (r̄ − r_k)·w (the rows centred), or v_k ≥ (m1 − r_k)·w.
        let rows = match (below, self.probabilities) {
            (None, None) => centred(self.scenarios, 1.0),
            (None, Some(prob)) => {
                // r_k − r̄ with the probability-weighted mean r̄.
                let mean = prob.dot(&self.scenarios);
                &self.scenarios - &mean
            }
            (Some(mar), _) => self.scenarios.mapv(|x| x - mar),
        };
        for (r, vk) in rows.rows().into_iter().zip(v.vars()) {
            p.ge(vk + w.dot(r), 0.0);
            p.ge(vk, 0.0);
        }
        v
    }

    /// $\sqrt{S-1}\,t \ge \lVert v\rVert_2$: $t$; with probabilities
    /// $\sqrt{1-\sum_s p_s^2}\,t \ge \lVert(\sqrt{p_s}\,v_s)_s\rVert_2$.
    fn root_mean_square(&self, p: &mut Program, v: Block) -> Lin {
        let t = p.var();
        match self.probabilities {
            None => {
                let root = ((self.scenarios.nrows() as f64) - 1.0).max(1.0).sqrt();
                p.soc(std::iter::once((t * root).into()).chain(v.vars().map(Affine::from)).collect());
            }
            Some(prob) => {
                let root = correction(prob).sqrt();
                let entries = v.vars().zip(prob.iter()).map(|(vk, pk)| Affine::from(vk * pk.sqrt()));
                p.soc(std::iter::once((t * root).into()).chain(entries).collect());
            }
        }
        t.into()
    }

    /// $\sum_s c_s v_s$ with $c_s = 1/S$, or $p_s$.
    fn mean_of(&self, v: Block) -> Lin {
        match self.probabilities {
            None => v.sum() * (1.0 / self.scenarios.nrows() as f64),
            Some(prob) => v.dot(prob.iter()),
        }
    }
}

/// $1 - \sum_s p_s^2$, the weighted counterpart of $S - 1$ over $S$.
fn correction(prob: ArrayView1<'_, f64>) -> f64 {
    (1.0 - prob.dot(&prob)).max(f64::MIN_POSITIVE)
}

impl Deviation<'_> {}

impl Risk for Deviation<'_> {
    fn add(&self, p: &mut Program, w: Block, scale: f64) -> Result<()> {
        if self.kind == Kind::SemiVariance {
            // scale/(S − 1) Σ v_k², as ½ vᵀPv.
            let v = self.shortfalls(p, w, None);
            match self.probabilities {
                None => {
                    let c = 2.0 * scale / ((self.scenarios.nrows() as f64) - 1.0).max(1.0);
                    for vk in v.vars() {
                        p.quad(vk, vk, c);
                    }
                }
                Some(prob) => {
                    let c = 2.0 * scale / correction(prob);
                    for (vk, pk) in v.vars().zip(prob.iter()) {
                        p.quad(vk, vk, c * pk);
                    }
                }
            }
            return Ok(());
        }
        let value = self.epigraph(p, w)?;
        p.minimise(value * scale);
        Ok(())
    }

    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        Ok(match self.kind {
            Kind::MeanAbsolute => {
                let v = self.shortfalls(p, w, None);
                self.mean_of(v) * 2.0
            }
            Kind::LowerPartial => {
                let v = self.shortfalls(p, w, None);
                self.mean_of(v)
            }
            Kind::LowerPartialAt { mar } => {
                let v = self.shortfalls(p, w, Some(mar));
                self.mean_of(v)
            }
            Kind::Semi => {
                let v = self.shortfalls(p, w, None);
                self.root_mean_square(p, v)
            }
            Kind::SemiAt { mar } => {
                let v = self.shortfalls(p, w, Some(mar));
                self.root_mean_square(p, v)
            }
            Kind::SemiVariance => return Err(Error::param(
                Param::Measure,
                "semi-variance is a quadratic form with no linear epigraph; cap or budget the semi-deviation instead",
            )),
            Kind::Worst => {
                // t ≥ −r_k·w.
                let t = p.var();
                for (k, r) in self.scenarios.rows().into_iter().enumerate() {
                    if self.probabilities.is_none_or(|prob| prob[k] > 0.0) {
                        p.ge(t + w.dot(r), 0.0);
                    }
                }
                t.into()
            }
        })
    }

    fn name(&self) -> String {
        match self.kind {
            Kind::MeanAbsolute => "mean absolute deviation",
            Kind::Semi => "semi-deviation",
            Kind::LowerPartial => "first lower partial moment",
            Kind::Worst => "worst realisation",
            Kind::SemiVariance => "semi-variance",
            Kind::LowerPartialAt { mar } => return format!("first lower partial moment below {mar}"),
            Kind::SemiAt { mar } => return format!("second lower partial moment below {mar}"),
        }
        .into()
    }

    fn reduced(&self) -> Option<Box<dyn Reduction + '_>> {
        // Each 1/S becomes the scenario's probability, 1/(S − 1) skfolio's
        // correction, and the mean the probability-weighted one.
        let s = self.scenarios.nrows() as f64;
        let (sum, rms) = match self.probabilities {
            None => (1.0 / s, 1.0 / (s - 1.0).max(1.0)),
            Some(prob) => (1.0, 1.0 / correction(prob)),
        };
        // The shortfalls below the mean, built only for the measures about it.
        let below_mean = || match self.probabilities {
            None => centred(self.scenarios, -1.0),
            Some(prob) => prob.dot(&self.scenarios) - self.scenarios,
        };
        let (vectors, signs, aggregate, zero): (_, &'static [f64], _, _) = match self.kind {
            Kind::MeanAbsolute => (below_mean(), &[1.0], Aggregate::Sum(2.0 * sum), true),
            Kind::LowerPartial => (below_mean(), &[1.0], Aggregate::Sum(sum), true),
            Kind::Semi => (below_mean(), &[1.0], Aggregate::Rms(rms), true),
            // The worst of the scenarios that can happen: the full program.
            Kind::Worst if self.probabilities.is_some() => return None,
            Kind::Worst => (self.scenarios.mapv(|v| -v), &[1.0], Aggregate::Max, false),
            Kind::LowerPartialAt { mar } => (self.scenarios.mapv(|x| mar - x), &[1.0], Aggregate::Sum(sum), true),
            Kind::SemiAt { mar } => (self.scenarios.mapv(|x| mar - x), &[1.0], Aggregate::Rms(rms), true),
            // A quadratic has no epigraph to reduce: the full program.
            Kind::SemiVariance => return None,
        };
        let probabilities = self.probabilities.map(|p| p.to_owned());
        Some(Box::new(Reduced {
            family: Family::Rows { vectors, signs },
            aggregate,
            zero,
            threshold: false,
            probabilities,
        }))
    }
}
