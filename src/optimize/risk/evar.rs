//! Entropic value at risk (Ahmadi-Javid 2012) of scenario returns: with
//! losses $L_s = -r_s^\top w$ over $S$ equally likely scenarios and tail
//! probability $\alpha = 1 - \beta$,
//!
//! $$ \mathrm{EVaR}_\alpha(w) = \min_{z > 0}\ z \ln\Big(\frac{1}{\alpha S}\sum_s e^{L_s/z}\Big), $$
//!
//! the tightest upper bound on CVaR obtainable from the Chernoff
//! inequality. Written with exponential cones: $\min t + z\ln\frac{1}{\alpha S}$
//! s.t. $z\,e^{(L_s - t)/z} \le u_s$ for each scenario and $\sum_s u_s \le z$.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::reduce::Reduction;
use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Block, Lin, Program, Solution};

/// EVaR at confidence `beta` of the scenarios (rows of simple returns).
pub(crate) struct Evar<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    /// The scenarios' probabilities (`None`: equally likely).
    pub probabilities: Option<ArrayView1<'a, f64>>,
    pub beta: f64,
}

impl Risk for Evar<'_> {
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        let losses: Vec<Lin> = self.scenarios.rows().into_iter().map(|r| -w.dot(r)).collect();
        Ok(entropic(p, losses, self.beta, self.probabilities))
    }

    fn name(&self) -> String {
        format!("EVaR ({:.0} %)", self.beta * 100.0)
    }

    fn reduced(&self) -> Option<Box<dyn Reduction + '_>> {
        Some(Box::new(Sqp { evar: self }))
    }
}

/// Writes $\min_{z>0} z\ln\big(\frac{1}{\alpha S}\sum_s e^{L_s/z}\big)$ of
/// the `losses` $L_s$ (linear in the weights): $t + z\ln\frac{1}{\alpha S}$
/// with $(L_s - t, z, u_s)$ in the exponential cone and $\sum_s u_s \le z$.
/// EVaR takes the scenario losses, EDaR the drawdowns. With scenario
/// probabilities $p_s$: $\sum_s p_s u_s \le z$ and $t + z\ln\frac1\alpha$.
pub(crate) fn entropic(
    p: &mut Program,
    losses: Vec<Lin>,
    beta: f64,
    probabilities: Option<ArrayView1<'_, f64>>,
) -> Lin {
    let s = losses.len();
    let t = p.var();
    let z = p.var();
    let u = p.vars(s);
    for (loss, uk) in losses.into_iter().zip(u.vars()) {
        p.exp([(loss - t).into(), z.into(), uk.into()]);
    }
    match probabilities {
        None => {
            p.le(u.sum() - z, 0.0);
            t + z * (1.0 / ((1.0 - beta) * s as f64)).ln()
        }
        Some(prob) => {
            p.le(u.dot(prob.iter()) - z, 0.0);
            t + z * (1.0 / (1.0 - beta)).ln()
        }
    }
}

/// EVaR of a series of returns, computed directly.
pub(crate) fn of(returns: &[f64], beta: f64) -> f64 {
    of_losses(&returns.iter().map(|r| -r).collect::<Vec<f64>>(), beta)
}

/// The entropic risk of `losses` (returns' losses for EVaR, drawdowns for
/// EDaR), computed directly: the convex function of $\ln z$ minimised by
/// golden-section search, with a stable log-sum-exp; never above the
/// largest loss, its limit as $z \to 0$.
pub(crate) fn of_losses(losses: &[f64], beta: f64) -> f64 {
    let worst = losses.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    optimum(losses, beta).0.min(worst)
}

/// The minimum over $z$ of $z\ln(\frac{1}{\alpha S}\sum_s e^{L_s/z})$
/// for the `losses` $L_s$, and the $z$ that attains it.
pub(crate) fn optimum(losses: &[f64], beta: f64) -> (f64, f64) {
    let s = losses.len() as f64;
    let worst = losses.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let log_alpha_s = ((1.0 - beta) * s).ln();
    minimise_over_z(losses, |log_z: f64| {
        let z = log_z.exp();
        let lse = worst / z + losses.iter().map(|l| ((l - worst) / z).exp()).sum::<f64>().ln();
        z * (lse - log_alpha_s)
    })
}

/// [`optimum`] with scenario probabilities $p_s$:
/// $\min_z z\ln(\frac1\alpha\sum_s p_s e^{L_s/z})$.
pub(crate) fn optimum_weighted(losses: &[f64], probabilities: &[f64], beta: f64) -> (f64, f64) {
    let worst =
        losses.iter().zip(probabilities).filter(|(_, p)| **p > 0.0).map(|(l, _)| *l).fold(f64::NEG_INFINITY, f64::max);
    let log_alpha = (1.0 - beta).ln();
    minimise_over_z(losses, |log_z: f64| {
        let z = log_z.exp();
        let sum: f64 = losses.iter().zip(probabilities).map(|(l, p)| p * ((l - worst) / z).exp()).sum();
        z * (worst / z + sum.ln() - log_alpha)
    })
}

/// The minimum of `f` (convex in $\ln z$) by golden-section search over a
/// range set by the losses' scale, and the $z$ that attains it.
fn minimise_over_z(losses: &[f64], f: impl Fn(f64) -> f64) -> (f64, f64) {
    let scale = losses.iter().map(|l| l.abs()).fold(1e-12, f64::max);
    let (mut a, mut b) = ((scale * 1e-8).ln(), (scale * 1e8).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    for _ in 0..300 {
        if f(c) < f(d) {
            b = d;
        } else {
            a = c;
        }
        c = b - g * (b - a);
        d = a + g * (b - a);
    }
    let log_z = 0.5 * (a + b);
    (f(log_z), log_z.exp())
}

/// Minimum EVaR by sequential quadratic programs (`sqp.rs`).
///
/// With $z$ minimised out, $f(w) = \min_{z>0} F(w, z)$,
/// $F = z\ln\sum_s p_s e^{L_s/z} + z\ln\frac1\alpha$, is convex and twice
/// differentiable in the weights wherever the minimising $z^*$ is positive.
/// With the tilted probabilities $q_s \propto p_s e^{L_s/z^*}$ and the
/// losses $L_s = -r_s^\top w$, its gradient is $-\sum_s q_s r_s$ and its
/// Hessian the Schur complement of $F$'s in $(w, z)$:
/// $\frac{1}{z^*}\big(C - Cww^\top C / w^\top C w\big)$, $C$ the covariance
/// of the returns under $q$ (flat along $w$: $f$ is positively
/// homogeneous). Where $z^*$ reaches 0 (the largest loss's scenario holds
/// more than $\alpha$ of the probability, so EVaR is the worst loss) the
/// exponential-cone program is solved instead.
struct Sqp<'a, 'b> {
    evar: &'a Evar<'b>,
}

/// The entropic risk at fixed losses, minimised over $z$: its value,
/// $z^*$ and the tilted probabilities $q$.
pub(super) struct Tilt {
    z: f64,
    q: Vec<f64>,
}

impl Sqp<'_, '_> {
    /// The scenario losses $L = -Rw$.
    fn losses(&self, w: &[f64]) -> Array1<f64> {
        -self.evar.scenarios.dot(&ArrayView1::from(w))
    }

    /// $\min_z F$ at the losses `l` by Newton's method in $z$ from `z0`
    /// (each step kept within a factor of 10 and halved until $F$ falls);
    /// `None` where the minimum lies at $z \to 0$ or the losses are equal.
    fn tilt(&self, l: &Array1<f64>, z0: Option<f64>) -> Option<(f64, Tilt)> {
        let s = l.len();
        let p = |k: usize| self.evar.probabilities.map_or(1.0 / s as f64, |p| p[k]);
        let worst = (0..s).filter(|&k| p(k) > 0.0).map(|k| l[k]).fold(f64::NEG_INFINITY, f64::max);
        let scale = l.iter().map(|v| v.abs()).fold(0.0, f64::max);
        if !(scale > 0.0) {
            return None;
        }
        let log_alpha = (1.0 - self.evar.beta).ln();
        // F, F' and F'' in z, and the unnormalised tilt.
        let at = |z: f64| {
            let e: Vec<f64> = (0..s).map(|k| p(k) * ((l[k] - worst) / z).exp()).collect();
            let total: f64 = e.iter().sum();
            let mean = e.iter().zip(l).map(|(e, v)| e * v).sum::<f64>() / total;
            let variance = e.iter().zip(l).map(|(e, v)| e * (v - mean).powi(2)).sum::<f64>() / total;
            let value = worst + z * (total.ln() - log_alpha);
            let slope = total.ln() - log_alpha - (mean - worst) / z;
            (value, slope, variance / z.powi(3), e, total)
        };
        let mut z = z0.unwrap_or_else(|| {
            let mean = l.iter().enumerate().map(|(k, v)| p(k) * v).sum::<f64>();
            let sd = l.iter().enumerate().map(|(k, v)| p(k) * (v - mean).powi(2)).sum::<f64>().sqrt();
            sd.max(1e-6 * scale) / (-2.0 * log_alpha).sqrt()
        });
        let mut here = at(z);
        let mut settled = false;
        for _ in 0..200 {
            let (value, slope, curvature, _, _) = here;
            if !(curvature > 0.0 && value.is_finite()) {
                return None;
            }
            let mut next = (z - slope / curvature).clamp(z / 10.0, 10.0 * z);
            let mut there = at(next);
            for _ in 0..60 {
                if there.0 <= value + 1e-15 * value.abs() {
                    break;
                }
                next = z + 0.5 * (next - z);
                there = at(next);
            }
            let moved = (next - z).abs();
            z = next;
            here = there;
            if moved <= 1e-12 * z {
                settled = true;
                break;
            }
        }
        if !settled || z <= 1e-9 * scale {
            return None;
        }
        let (value, _, _, e, total) = here;
        Some((value, Tilt { z, q: e.into_iter().map(|v| v / total).collect() }))
    }
}

impl super::sqp::Smooth for Sqp<'_, '_> {
    type State = Tilt;

    fn value(&self, w: &[f64], near: Option<&Tilt>) -> Option<(f64, Tilt)> {
        self.tilt(&self.losses(w), near.map(|t| t.z))
    }

    fn model(&self, w: &[f64], tilt: &Tilt) -> (Array1<f64>, Array2<f64>) {
        let r = self.evar.scenarios;
        let q = ArrayView1::from(&tilt.q);
        let mean = q.dot(&r);
        let centred = &r - &mean;
        let scaled = &centred * &q.mapv(f64::sqrt).insert_axis(Axis(1));
        let cov = scaled.t().dot(&scaled);
        (-mean, super::sqp::flat_along(cov, w) / tilt.z)
    }
}

impl Reduction for Sqp<'_, '_> {
    fn minimise(&self, base: &Program, w: Block, w0: &[f64]) -> Result<Option<Solution>> {
        super::sqp::minimise(self, base, w, w0)
    }
}
