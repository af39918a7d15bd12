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
//!
//! The deviations from the sample mean sum to zero, so $\sum_s \lvert p_s -
//! \bar p\rvert = 2 \sum_s \max(\bar p - p_s, 0)$: the mean absolute
//! deviation is twice the first lower partial moment about the mean, and is
//! written as one hinge per scenario (one row over the weights) rather than
//! two.

use ndarray::ArrayView2;

use super::reduce::{centred, Aggregate, Family, Reduced, Reduction};
use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Affine, Block, Lin, Program};

/// Which deviation measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    MeanAbsolute,
    Semi,
    LowerPartial,
    Worst,
}

/// A deviation measure of scenario returns (rows of simple returns).
pub(crate) struct Deviation<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    pub kind: Kind,
}

impl Risk for Deviation<'_> {
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        let s = self.scenarios.nrows();
        Ok(match self.kind {
            Kind::MeanAbsolute | Kind::Semi | Kind::LowerPartial => {
                // v_k ≥ (r̄ − r_k)·w, v_k ≥ 0.
                let centred = centred(self.scenarios, 1.0);
                let v = p.vars(s);
                for (k, vk) in v.vars().enumerate() {
                    p.ge(vk + w.dot(centred.row(k)), 0.0);
                    p.ge(vk, 0.0);
                }
                match self.kind {
                    Kind::MeanAbsolute => v.sum() * (2.0 / s as f64),
                    Kind::LowerPartial => v.sum() * (1.0 / s as f64),
                    _ => {
                        // √(S − 1) t ≥ ‖v‖₂.
                        let t = p.var();
                        let root = ((s as f64) - 1.0).max(1.0).sqrt();
                        p.soc(std::iter::once((t * root).into()).chain(v.vars().map(Affine::from)).collect());
                        t.into()
                    }
                }
            }
            Kind::Worst => {
                // t ≥ −r_k·w.
                let t = p.var();
                for r in self.scenarios.rows() {
                    p.ge(t + w.dot(r), 0.0);
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
        }
        .into()
    }

    fn reduced(&self) -> Option<Box<dyn Reduction + '_>> {
        let s = self.scenarios.nrows() as f64;
        let (vectors, signs, aggregate, zero): (_, &'static [f64], _, _) = match self.kind {
            Kind::MeanAbsolute => (centred(self.scenarios, -1.0), &[1.0], Aggregate::Sum(2.0 / s), true),
            Kind::LowerPartial => (centred(self.scenarios, -1.0), &[1.0], Aggregate::Sum(1.0 / s), true),
            Kind::Semi => (centred(self.scenarios, -1.0), &[1.0], Aggregate::Rms(1.0 / (s - 1.0).max(1.0)), true),
            Kind::Worst => (self.scenarios.mapv(|v| -v), &[1.0], Aggregate::Max, false),
        };
        Some(Box::new(Reduced { family: Family::Rows { vectors, signs }, aggregate, zero, threshold: false }))
    }
}
