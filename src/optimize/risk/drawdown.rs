//! Drawdown measures on **uncompounded** cumulative returns, as
//! Riskfolio-Lib's and skfolio's optimisers define them: with portfolio
//! scenario returns $p_s = r_s^\top w$ in time order, $c_s = \sum_{k\le s}
//! p_k$ and the running peak $u_s = \max(0, c_1, \dots, c_s)$ (the start,
//! 0, counts as a peak), the drawdown is $d_s = u_s - c_s \ge 0$:
//!
//! | measure | $\rho(w)$ |
//! |---|---|
//! | maximum drawdown | $\max_s d_s$ |
//! | average drawdown | $\frac1S \sum_s d_s$ |
//! | conditional drawdown at risk, CDaR$_\beta$ | $\min_\alpha \alpha + \frac{1}{(1-\beta)S}\sum_s \max(d_s - \alpha, 0)$ |
//! | Ulcer index | $\sqrt{\frac1S \sum_s d_s^2}$ |
//! | entropic drawdown at risk, EDaR$_\beta$ | $\min_{z>0} z\ln\big(\frac{1}{(1-\beta)S}\sum_s e^{d_s/z}\big)$ (exponential cones, as EVaR of the drawdowns) |
//! | relativistic drawdown at risk, RLDaR$_{\beta,\kappa}$ | RLVaR of the drawdowns (power cones, `rlvar.rs`) |
//!
//! With scenario probabilities $p_s$ (skfolio's sample weights) the path
//! stays the scenarios' time order and each date's drawdown is weighed by
//! its probability: each $\frac1S$ above becomes $p_s$ (the maximum
//! drawdown weighs none); RLDaR does not take probabilities.
//!
//! Written with one variable per date for its drawdown and the
//! recursion $d_s = \max(d_{s-1} - p_s, 0)$, $d_0 = 0$, relaxed to
//! $d_s \ge 0$, $d_s \ge d_{s-1} - r_s^\top w$, which is exact at the
//! optimum because every measure grows with each $d_s$ (so the solver
//! pushes each onto its bound). Every coefficient is one day's return. The
//! running peak and the cumulative returns ($u_s \ge C_s^\top w$,
//! $u_s \ge u_{s-1}$, $d_s = u_s - C_s^\top w$) say the same, but on
//! thousands of dates their rows take differences of cumulative sums near
//! 10 to make drawdowns near 0.1: on the 8,312 bundled days EDaR's
//! exponential cones stalled short of the tolerance in that form, and the
//! other measures' programs took 1.5–2× as long.

use ndarray::{ArrayView1, ArrayView2};

use super::peaks::{self, Peaks};
use super::reduce::{cumulative, Aggregate, Family, Reduced, Reduction};
use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Block, Lin, Program};

/// Which drawdown measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Max,
    Average,
    Cdar { beta: f64 },
    Ulcer,
    Edar { beta: f64 },
    Rldar { beta: f64, kappa: f64 },
}

/// A drawdown measure of scenario returns in time order.
pub(crate) struct Drawdown<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    /// The scenarios' probabilities (`None`: equally likely).
    pub probabilities: Option<ArrayView1<'a, f64>>,
    pub kind: Kind,
}

impl Risk for Drawdown<'_> {
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        let s = self.scenarios.nrows();
        // d_k ≥ 0 and d_k ≥ d_{k−1} − r_k·w (d_{−1} = 0): the drawdown's
        // recursion d_k = max(d_{k−1} − r_k·w, 0), relaxed.
        let d = p.vars(s);
        for k in 0..s {
            p.ge(d.at(k), 0.0);
            let step = w.dot(self.scenarios.row(k));
            if k > 0 {
                p.ge(d.at(k) - d.at(k - 1) + step, 0.0);
            } else {
                p.ge(d.at(0) + step, 0.0);
            }
        }
        let dd = |k: usize| Lin::from(d.at(k));
        Ok(match self.kind {
            Kind::Max => {
                // t ≥ d_k.
                let t = p.var();
                for k in 0..s {
                    p.ge(t - dd(k), 0.0);
                }
                t.into()
            }
            Kind::Average => match self.probabilities {
                None => d.sum() * (1.0 / s as f64),
                Some(prob) => d.dot(prob.iter()),
            },
            Kind::Cdar { beta } => {
                // α + Σ_k p_k z_k / (1 − β) (p_k = 1/S when equally likely),
                // z_k ≥ d_k − α, z_k ≥ 0.
                let alpha = p.var();
                let z = p.vars(s);
                for (k, zk) in z.vars().enumerate() {
                    p.ge(zk + alpha - dd(k), 0.0);
                    p.ge(zk, 0.0);
                }
                match self.probabilities {
                    None => alpha + z.sum() * (1.0 / ((1.0 - beta) * s as f64)),
                    Some(prob) => alpha + z.dot(prob.iter()) * (1.0 / (1.0 - beta)),
                }
            }
            Kind::Ulcer => {
                // √S t ≥ ‖d‖₂, or t ≥ ‖(√p_k d_k)_k‖₂.
                let t = p.var();
                let cone = match self.probabilities {
                    None => {
                        std::iter::once((t * (s as f64).sqrt()).into()).chain((0..s).map(|k| dd(k).into())).collect()
                    }
                    Some(prob) => {
                        std::iter::once(t.into()).chain((0..s).map(|k| (dd(k) * prob[k].sqrt()).into())).collect()
                    }
                };
                p.soc(cone);
                t.into()
            }
            Kind::Edar { beta } => super::evar::entropic(p, (0..s).map(dd).collect(), beta, self.probabilities),
            Kind::Rldar { beta, kappa } => super::rlvar::relativistic(p, (0..s).map(dd).collect(), beta, kappa),
        })
    }

    fn name(&self) -> String {
        match self.kind {
            Kind::Max => "maximum drawdown".into(),
            Kind::Average => "average drawdown".into(),
            Kind::Cdar { beta } => format!("CDaR ({:.0} %)", beta * 100.0),
            Kind::Ulcer => "Ulcer index".into(),
            Kind::Edar { beta } => format!("EDaR ({:.0} %)", beta * 100.0),
            Kind::Rldar { beta, kappa } => format!("RLDaR ({:.0} %, κ {kappa})", beta * 100.0),
        }
    }

    /// The maximum drawdown and CDaR reduce scenario by scenario
    /// (`reduce.rs`). The average drawdown and the Ulcer index weigh every
    /// drawdown, and a drawdown's peak changes with small moves of the
    /// weights, so scenario by scenario thousands stay explicit; they keep
    /// a chain of candidate peaks instead (`peaks.rs`).
    fn reduced(&self) -> Option<Box<dyn Reduction + '_>> {
        let s = self.scenarios.nrows() as f64;
        // With probabilities: the maximum weighs none; CDaR weighs each
        // date's term by its probability; the peak chains assume equally
        // likely dates, so those measures keep the full program.
        let weighted = self.probabilities.is_some();
        let (aggregate, tail) = match self.kind {
            Kind::Max => (Aggregate::Max, false),
            Kind::Cdar { beta } if weighted => (Aggregate::Sum(1.0 / (1.0 - beta)), true),
            Kind::Cdar { beta } => (Aggregate::Sum(1.0 / ((1.0 - beta) * s)), true),
            _ if weighted => return None,
            Kind::Average => return Some(Box::new(Peaks::new(self.scenarios, peaks::Aggregate::Average))),
            Kind::Ulcer => return Some(Box::new(Peaks::new(self.scenarios, peaks::Aggregate::Ulcer))),
            Kind::Edar { beta } => {
                return Some(Box::new(Peaks::new(self.scenarios, peaks::Aggregate::Entropic { beta })))
            }
            Kind::Rldar { .. } => return None,
        };
        Some(Box::new(Reduced {
            family: Family::Drawdown { cumulative: cumulative(self.scenarios) },
            aggregate,
            zero: tail,
            threshold: tail,
            probabilities: self.probabilities.filter(|_| tail).map(|p| p.to_owned()),
        }))
    }
}
