//! Entropic value at risk (Ahmadi-Javid 2012) of scenario returns: with
//! losses $L_s = -r_s^\top w$ over $S$ equally likely scenarios and tail
//! probability $\alpha = 1 - \beta$,
//!
//! $$ \mathrm{EVaR}_\alpha(w) = \min_{z > 0}\ z \ln\Big(\frac{1}{\alpha S}\sum_s e^{L_s/z}\Big), $$
//!
//! the tightest upper bound on CVaR obtainable from the Chernoff
//! inequality. Written with exponential cones: $\min t + z\ln\frac{1}{\alpha S}$
//! s.t. $z\,e^{(L_s - t)/z} \le u_s$ for each scenario and $\sum_s u_s \le z$.

use ndarray::{ArrayView1, ArrayView2};

use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Block, Lin, Program};

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
