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

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use super::reduce::Reduction;
use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Block, Lin, Program, Solution};

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

    fn reduced(&self) -> Option<Box<dyn Reduction + '_>> {
        Some(Box::new(Sqp { rlvar: self }))
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
    solve(losses, beta, kappa, FINE).0
}

/// The bracket on $\lambda$ (multiples of the losses' range) and its
/// halvings on $\ln\lambda$: for the direct value, and for a start that
/// Newton's method finishes.
const FINE: (f64, f64, usize) = (1e-12, 1e12, 80);
const COARSE: (f64, f64, usize) = (1e-6, 1e3, 14);

/// The direct value, with the multipliers $(\lambda, \mu)$ that give it
/// (`None` where the answer is the worst loss), $\lambda$ bisected in
/// `search`.
fn solve(losses: &[f64], beta: f64, kappa: f64, search: (f64, f64, usize)) -> (f64, Option<(f64, f64)>) {
    let (low, high, steps) = search;
    let s = losses.len() as f64;
    let worst = losses.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let best = losses.iter().cloned().fold(f64::INFINITY, f64::min);
    let bound = ln_kappa(1.0 / ((1.0 - beta) * s), kappa);
    if bound >= -1e-15 || worst - best <= 0.0 {
        return (worst, None);
    }
    let g = |y: f64| reweight(y, kappa);
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
    let (mut a, mut b) = ((scale * low).ln(), (scale * high).ln());
    for _ in 0..steps {
        let m = 0.5 * (a + b);
        if divergence(&weights(m.exp()).0, kappa) > bound {
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

/// The divergence $\sum_s (q_s^{1+\kappa} - q_s^{1-\kappa})/(2\kappa)$ of the
/// reweighting `q`.
fn divergence(q: &[f64], kappa: f64) -> f64 {
    q.iter().map(|q| q.powf(1.0 + kappa) - q.powf(1.0 - kappa)).sum::<f64>() / (2.0 * kappa)
}

/// $q = g(y)$, the inverse of the divergence's derivative, and
/// $dq/dy = q/R$ with $R = \sqrt{\kappa^2y^2 + 1 - \kappa^2}$; the root is
/// written so that neither sign of $y$ cancels.
fn reweight(y: f64, kappa: f64) -> (f64, f64) {
    let r = (kappa * kappa * y * y + 1.0 - kappa * kappa).sqrt();
    let x = if y >= 0.0 { (kappa * y + r) / (1.0 + kappa) } else { (1.0 - kappa) / (r - kappa * y) };
    let q = x.powf(1.0 / kappa);
    (q, q / r)
}

/// Minimum RLVaR by sequential quadratic programs (`sqp.rs`).
///
/// RLVaR is the largest $q^\top L$ over a strictly convex set of
/// reweightings, attained at the single $q_s = g((L_s - \mu)/\lambda)$
/// ([`of_losses`]), all positive; so it is differentiable in the weights
/// with gradient $\sum_s q_s a_s$ ($L_s = a_s^\top w$, $a_s = -r_s$), and
/// twice: differentiating the two conditions $\sum_s q_s = 1$ and
/// $\sum_s D(q_s) = b$ gives $\partial q/\partial L = \frac1\lambda(G -
/// GU M^{-1} U^\top G)$ with $G = \operatorname{diag}(g'(y_s))$,
/// $U = [\mathbf 1, y]$, $M = U^\top G U$, so the Hessian is
/// $\frac1\lambda\big(R^\top G R - R^\top G U M^{-1} U^\top G R\big)$. At
/// each point the multipliers $(\mu, \lambda)$ come from Newton's method
/// on the two conditions (their Jacobian is $-M/\lambda$), started from a
/// nearby point's or from [`of_losses`]' bisection. Where the ball holds
/// only the worst scenario ($\alpha S \le 1$) the power-cone program is
/// solved instead.
struct Sqp<'a, 'b> {
    rlvar: &'a Rlvar<'b>,
}

/// The maximising reweighting at a point and its multipliers.
struct Dual {
    lambda: f64,
    mu: f64,
    q: Vec<f64>,
    slope: Vec<f64>,
    y: Vec<f64>,
}

impl Sqp<'_, '_> {
    /// The multipliers at the losses `l` from `start`, by Newton's method
    /// on the two conditions with the step halved until their residual
    /// falls; `None` where they do not settle.
    fn dual(&self, l: &[f64], start: (f64, f64)) -> Option<Dual> {
        let (kappa, s) = (self.rlvar.kappa, l.len() as f64);
        let bound = ln_kappa(1.0 / ((1.0 - self.rlvar.beta) * s), kappa);
        let at = |lambda: f64, mu: f64| {
            let y: Vec<f64> = l.iter().map(|v| (v - mu) / lambda).collect();
            let (q, slope): (Vec<f64>, Vec<f64>) = y.iter().map(|&y| reweight(y, kappa)).unzip();
            let residual = (q.iter().sum::<f64>() - 1.0, divergence(&q, kappa) - bound);
            (Dual { lambda, mu, q, slope, y }, residual)
        };
        let norm = |r: (f64, f64)| r.0.abs().max(r.1.abs() / bound.abs().max(1.0));
        let (mut here, mut residual) = at(start.0, start.1);
        for _ in 0..100 {
            if norm(residual) <= 1e-14 {
                return Some(here);
            }
            let m = here.m();
            let det = m[0] * m[2] - m[1] * m[1];
            if !(det > 0.0) {
                return None;
            }
            // (dμ, dλ) = λ M⁻¹ (F₁, F₂).
            let d_mu = here.lambda * (m[2] * residual.0 - m[1] * residual.1) / det;
            let d_lambda = here.lambda * (m[0] * residual.1 - m[1] * residual.0) / det;
            let mut t = 1.0;
            loop {
                let lambda = here.lambda + t * d_lambda;
                if lambda > 0.0 {
                    let (next, r) = at(lambda, here.mu + t * d_mu);
                    if norm(r) < norm(residual) {
                        (here, residual) = (next, r);
                        break;
                    }
                }
                t *= 0.5;
                if t < 1e-12 {
                    return (norm(residual) <= 1e-12).then_some(here);
                }
            }
        }
        None
    }

    /// The multipliers at the losses `l` by continuation from `near`'s:
    /// Newton's method at losses moved from `near`'s towards `l` in steps
    /// that double while they settle and halve while they do not.
    fn continued(&self, l: &[f64], near: &Dual) -> Option<Dual> {
        let from: Vec<f64> = near.y.iter().map(|y| near.mu + near.lambda * y).collect();
        let (mut start, mut t, mut h) = ((near.lambda, near.mu), 0.0f64, 0.25);
        while h >= 1e-3 {
            let next = (t + h).min(1.0);
            let between: Vec<f64> = from.iter().zip(l).map(|(a, b)| a + next * (b - a)).collect();
            match self.dual(&between, start) {
                Some(d) if next == 1.0 => return Some(d),
                Some(d) => {
                    (start, t) = ((d.lambda, d.mu), next);
                    h *= 2.0;
                }
                None => h *= 0.5,
            }
        }
        None
    }
}

impl Dual {
    /// $M = U^\top G U$ as $(M_{11}, M_{12}, M_{22})$.
    fn m(&self) -> [f64; 3] {
        let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
        for (g, y) in self.slope.iter().zip(&self.y) {
            a += g;
            b += g * y;
            c += g * y * y;
        }
        [a, b, c]
    }
}

impl super::sqp::Smooth for Sqp<'_, '_> {
    type State = Dual;

    fn value(&self, w: &[f64], near: Option<&Dual>) -> Option<(f64, Dual)> {
        let l: Vec<f64> = (-self.rlvar.scenarios.dot(&ArrayView1::from(w))).to_vec();
        // From a nearby point's multipliers (along the way from its losses
        // if they are far), else from a coarse bisection's (a fine one's
        // if Newton's method does not settle from there).
        let from =
            |search| solve(&l, self.rlvar.beta, self.rlvar.kappa, search).1.and_then(|start| self.dual(&l, start));
        let cold = || from(COARSE).or_else(|| from(FINE));
        let dual = match near {
            Some(d) => self.dual(&l, (d.lambda, d.mu)).or_else(|| self.continued(&l, d)).or_else(cold),
            None => cold(),
        }?;
        let value = dual.q.iter().zip(&l).map(|(q, v)| q * v).sum::<f64>() / dual.q.iter().sum::<f64>();
        Some((value, dual))
    }

    fn model(&self, _: &[f64], dual: &Dual) -> (Array1<f64>, Array2<f64>) {
        let r = self.rlvar.scenarios;
        let gradient = -ArrayView1::from(&dual.q).dot(&r);
        let root = ArrayView1::from(&dual.slope).mapv(f64::sqrt);
        let scaled = &r * &root.view().insert_axis(Axis(1));
        let rgr = scaled.t().dot(&scaled);
        // RᵀGU's two columns: RᵀG1 and RᵀGy.
        let g1 = ArrayView1::from(&dual.slope).dot(&r);
        let gy: Array1<f64> = dual.slope.iter().zip(&dual.y).map(|(g, y)| g * y).collect::<Array1<f64>>().dot(&r);
        let [a, b, c] = dual.m();
        let det = a * c - b * b;
        let n = r.ncols();
        let h = Array2::from_shape_fn((n, n), |(i, j)| {
            let correction = (c * g1[i] * g1[j] - b * (g1[i] * gy[j] + gy[i] * g1[j]) + a * gy[i] * gy[j]) / det;
            (rgr[[i, j]] - correction) / dual.lambda
        });
        (gradient, h)
    }
}

impl Reduction for Sqp<'_, '_> {
    fn minimise(&self, base: &Program, w: Block, w0: &[f64]) -> Result<Option<Solution>> {
        super::sqp::minimise(self, base, w, w0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The smooth form's value is the direct one, and its gradient and
    /// Hessian are the value's and the gradient's central differences.
    #[test]
    fn the_smooth_form_has_the_measures_derivatives() {
        use super::super::sqp::Smooth;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (s, n) = (300, 4);
        let r = ndarray::Array2::from_shape_fn((s, n), |_| 0.01 * (rng.gen::<f64>() - 0.5) / rng.gen::<f64>().sqrt());
        let rl = Rlvar { scenarios: r.view(), beta: 0.95, kappa: 0.3 };
        let sqp = Sqp { rlvar: &rl };
        let w = [0.1, 0.2, 0.3, 0.4];
        let (v, d) = sqp.value(&w, None).unwrap();
        let direct = of(&r.dot(&ndarray::arr1(&w)).to_vec(), 0.95, 0.3);
        assert!((v - direct).abs() < 1e-12 * direct.abs(), "{v} vs {direct}");
        let (g, h) = sqp.model(&w, &d);
        let eps = 1e-6;
        for i in 0..n {
            let (mut up, mut down) = (w, w);
            up[i] += eps;
            down[i] -= eps;
            let (vu, du) = sqp.value(&up, Some(&d)).unwrap();
            let (vd, dd) = sqp.value(&down, Some(&d)).unwrap();
            let fd = (vu - vd) / (2.0 * eps);
            assert!((fd - g[i]).abs() < 1e-6 * g[i].abs().max(1e-3), "gradient {i}: {} vs {fd}", g[i]);
            let (gu, _) = sqp.model(&up, &du);
            let (gd, _) = sqp.model(&down, &dd);
            for j in 0..n {
                let fd = (gu[j] - gd[j]) / (2.0 * eps);
                assert!(
                    (fd - h[[i, j]]).abs() < 1e-4 * h[[i, j]].abs().max(1e-2),
                    "hessian {i} {j}: {} vs {fd}",
                    h[[i, j]]
                );
            }
        }
    }

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
                let (value, multipliers) = solve(&losses, beta, kappa, FINE);
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
