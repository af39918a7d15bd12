//! Relativistic value at risk (Cajas 2023) of scenario losses $L_s$: the
//! entropic value at risk with the logarithm and the exponential deformed
//! by Kaniadakis' parameter $\kappa \in (0, 1)$, between EVaR
//! ($\kappa \to 0$) and the worst loss ($\kappa \to 1$). With $S$ equally
//! likely scenarios, tail probability $\alpha = 1 - \beta$ and
//! $\ln_\kappa x = (x^\kappa - x^{-\kappa})/(2\kappa)$, it is the largest
//! expected loss over the reweightings $q$ of the scenarios within a
//! deformed relative-entropy ball:
//!
//! $$ \mathrm{RLVaR}_{\alpha,\kappa} = \max_{q \ge 0,\ \sum_s q_s = 1}
//! \sum_s q_s L_s \quad\text{s.t.}\quad
//! \sum_s \frac{q_s^{1+\kappa} - q_s^{1-\kappa}}{2\kappa} \le \ln_\kappa\frac{1}{\alpha S}. $$
//!
//! The optimiser writes its conic dual with two power cones per scenario:
//! $\min t + z\ln_\kappa\frac{1}{\alpha S} + \sum_s(\psi_s + \theta_s)$ s.t.
//! $L_s - t + \varepsilon_s + \omega_s \le 0$,
//! $\big(z\frac{1+\kappa}{2\kappa}, \psi_s\frac{1+\kappa}{\kappa}, \varepsilon_s\big) \in \mathcal P^{1/(1+\kappa)}$ and
//! $\big(\frac{\omega_s}{1-\kappa}, \frac{\theta_s}{\kappa}, -\frac{z}{2\kappa}\big) \in \mathcal P^{1-\kappa}$.
//! The direct computation ([`of_losses`]) solves the maximisation above
//! instead, by its Lagrange conditions, so the two meet only at the optimum.
//! Relativistic drawdown at risk (RLDaR) is the same of the drawdowns.

use ndarray::ArrayView2;

use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Block, Lin, Program};

/// RLVaR at confidence `beta` and deformation `kappa` of the scenarios
/// (rows of simple returns).
pub(crate) struct Rlvar<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    pub beta: f64,
    pub kappa: f64,
}

impl Risk for Rlvar<'_> {
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        let losses: Vec<Lin> = self.scenarios.rows().into_iter().map(|r| -w.dot(r)).collect();
        Ok(relativistic(p, losses, self.beta, self.kappa))
    }

    fn name(&self) -> String {
        format!("RLVaR ({:.0} %, κ {})", self.beta * 100.0, self.kappa)
    }
}

/// $\ln_\kappa x = (x^\kappa - x^{-\kappa})/(2\kappa)$.
fn ln_kappa(x: f64, kappa: f64) -> f64 {
    (x.powf(kappa) - x.powf(-kappa)) / (2.0 * kappa)
}

/// Writes the relativistic risk of the `losses` (linear in the weights)
/// with power cones and returns its epigraph expression.
pub(crate) fn relativistic(p: &mut Program, losses: Vec<Lin>, beta: f64, kappa: f64) -> Lin {
    let s = losses.len();
    let t = p.var();
    let z = p.var();
    let psi = p.vars(s);
    let theta = p.vars(s);
    let eps = p.vars(s);
    let omega = p.vars(s);
    for (k, loss) in losses.into_iter().enumerate() {
        let (ps, th, ep, om) = (psi.at(k), theta.at(k), eps.at(k), omega.at(k));
        p.pow(
            [(z * ((1.0 + kappa) / (2.0 * kappa))).into(), (ps * ((1.0 + kappa) / kappa)).into(), ep.into()],
            1.0 / (1.0 + kappa),
        );
        p.pow(
            [(om * (1.0 / (1.0 - kappa))).into(), (th * (1.0 / kappa)).into(), (z * (-0.5 / kappa)).into()],
            1.0 - kappa,
        );
        p.le(loss - t + ep + om, 0.0);
    }
    let level = ln_kappa(1.0 / ((1.0 - beta) * s as f64), kappa);
    t + z * level + psi.sum() + theta.sum()
}

/// RLVaR of a series of returns, computed directly.
pub(crate) fn of(returns: &[f64], beta: f64, kappa: f64) -> f64 {
    of_losses(&returns.iter().map(|r| -r).collect::<Vec<f64>>(), beta, kappa)
}

/// The relativistic risk of `losses`, computed directly from its
/// maximisation over reweightings $q$: at the optimum
/// $q_s = g\big((L_s - \mu)/\lambda\big)$ with $g$ the inverse of the
/// divergence's derivative $\big((1+\kappa)q^\kappa - (1-\kappa)q^{-\kappa}\big)/(2\kappa)$,
/// in closed form; $\mu$ makes the $q_s$ sum to one (safeguarded Newton)
/// and $\lambda$ puts the divergence on its bound (bisection on
/// $\ln\lambda$, along which the divergence falls). When $\alpha S = 1$
/// the ball holds only the worst scenario, and that is the answer.
pub(crate) fn of_losses(losses: &[f64], beta: f64, kappa: f64) -> f64 {
    solve(losses, beta, kappa).0
}

/// The direct value, with the multipliers $(\lambda, \mu)$ that give it
/// (`None` where the answer is the worst loss).
fn solve(losses: &[f64], beta: f64, kappa: f64) -> (f64, Option<(f64, f64)>) {
    let s = losses.len() as f64;
    let worst = losses.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let best = losses.iter().cloned().fold(f64::INFINITY, f64::min);
    let bound = ln_kappa(1.0 / ((1.0 - beta) * s), kappa);
    if bound >= -1e-15 || worst - best <= 0.0 {
        return (worst, None);
    }
    // q = g(y) and dq/dy = q / R, with R = √(κ²y² + 1 − κ²); the root is
    // written so that neither sign of y cancels.
    let g = |y: f64| -> (f64, f64) {
        let r = (kappa * kappa * y * y + 1.0 - kappa * kappa).sqrt();
        let x = if y >= 0.0 { (kappa * y + r) / (1.0 + kappa) } else { (1.0 - kappa) / (r - kappa * y) };
        let q = x.powf(1.0 / kappa);
        (q, q / r)
    };
    let divergence =
        |q: &[f64]| q.iter().map(|q| q.powf(1.0 + kappa) - q.powf(1.0 - kappa)).sum::<f64>() / (2.0 * kappa);
    // The weights at multiplier λ: μ between the two values that put every
    // q_s at or below, and at or above, 1/S.
    let uniform = ((1.0 + kappa) * s.powf(-kappa) - (1.0 - kappa) * s.powf(kappa)) / (2.0 * kappa);
    let weights = |lambda: f64| -> (Vec<f64>, f64) {
        let (mut lo, mut hi) = (best - lambda * uniform, worst - lambda * uniform);
        let mut mu = 0.5 * (lo + hi);
        for _ in 0..200 {
            let (mut total, mut slope) = (-1.0, 0.0);
            for l in losses {
                let (q, dq) = g((l - mu) / lambda);
                total += q;
                slope -= dq / lambda;
            }
            if total > 0.0 {
                lo = mu;
            } else {
                hi = mu;
            }
            if total.abs() < 1e-15 || hi - lo <= 1e-16 * (1.0 + mu.abs()) {
                break;
            }
            let newton = mu - total / slope;
            mu = if newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
        }
        (losses.iter().map(|l| g((l - mu) / lambda).0).collect(), mu)
    };
    let scale = worst - best;
    let (mut a, mut b) = ((scale * 1e-12).ln(), (scale * 1e12).ln());
    for _ in 0..80 {
        let m = 0.5 * (a + b);
        if divergence(&weights(m.exp()).0) > bound {
            a = m;
        } else {
            b = m;
        }
    }
    let lambda = (0.5 * (a + b)).exp();
    let (q, mu) = weights(lambda);
    let total: f64 = q.iter().sum();
    (q.iter().zip(losses).map(|(q, l)| q * l).sum::<f64>() / total, Some((lambda, mu)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The Lagrangian dual at the multipliers `solve` found,
    /// $\mu + \lambda b + \sum_s \max_{q\ge0} [q(L_s - \mu) - \lambda D(q)]$,
    /// is an upper bound on the maximisation; the value is a feasible
    /// point's, a lower bound. Their gap closes to 1e-9 (relative) on
    /// heavy-tailed losses and on drawdown-like ones with many zeros, at
    /// every deformation; and the value lies between EVaR and the worst.
    #[test]
    fn the_duality_gap_closes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for case in 0..6 {
            let n = [50, 400, 2000][case % 3];
            let losses: Vec<f64> = (0..n)
                .map(|_| {
                    let x: f64 = 0.01 * (rng.gen::<f64>() - 0.5) / rng.gen::<f64>().sqrt();
                    if case >= 3 {
                        x.max(0.0)
                    } else {
                        x
                    }
                })
                .collect();
            for kappa in [0.05, 0.3, 0.7, 0.95] {
                let beta = 0.95;
                let (value, multipliers) = solve(&losses, beta, kappa);
                let (lambda, mu) = multipliers.expect("an interior answer");
                let s = n as f64;
                let bound = ln_kappa(1.0 / ((1.0 - beta) * s), kappa);
                let d = |q: f64| (q.powf(1.0 + kappa) - q.powf(1.0 - kappa)) / (2.0 * kappa);
                // max_q q·y − D(q) is at q = g(y), written out again here.
                let upper = mu
                    + lambda * bound
                    + losses
                        .iter()
                        .map(|l| {
                            let y = (l - mu) / lambda;
                            let r = (kappa * kappa * y * y + 1.0 - kappa * kappa).sqrt();
                            let x = if y >= 0.0 {
                                (kappa * y + r) / (1.0 + kappa)
                            } else {
                                (1.0 - kappa) / (r - kappa * y)
                            };
                            let q = x.powf(1.0 / kappa);
                            q * (l - mu) - lambda * d(q)
                        })
                        .sum::<f64>();
                let worst = losses.iter().cloned().fold(f64::MIN, f64::max);
                assert!(
                    (upper - value).abs() <= 1e-9 * value.abs().max(1e-3),
                    "case {case} κ {kappa}: {value} vs {upper}"
                );
                let evar = super::super::evar::of_losses(&losses, beta);
                assert!(
                    value >= evar - 1e-12 && value <= worst + 1e-12,
                    "case {case} κ {kappa}: {value} outside [{evar}, {worst}]"
                );
            }
        }
    }
}
