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
use crate::error::{Error, Result};
use crate::optimize::problem::{Block, Lin, Program, Solution, Solve};

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

/// Rounds of sequential quadratic programming before the exponential-cone
/// program is used instead.
const SQP_ROUNDS: usize = 60;

/// Minimum EVaR by sequential quadratic programming.
///
/// With $z$ minimised out, $f(w) = \min_{z>0} F(w, z)$,
/// $F = z\ln\sum_s p_s e^{L_s/z} + z\ln\frac1\alpha$, is convex and twice
/// differentiable in the weights wherever the minimising $z^*$ is positive.
/// With the tilted probabilities $q_s \propto p_s e^{L_s/z^*}$ and the
/// losses $L_s = -r_s^\top w$, its gradient is $-\sum_s q_s r_s$ and its
/// Hessian the Schur complement of $F$'s in $(w, z)$:
/// $\frac{1}{z^*}\big(C - Cww^\top C / w^\top C w\big)$, $C$ the covariance
/// of the returns under $q$ (flat along $w$: $f$ is positively
/// homogeneous). Each round minimises the program's own objective plus
/// this second-order model about the current weights over the program's
/// constraints, a quadratic program finished on its active set, then
/// steps towards its answer while the true objective falls enough
/// (Armijo). The rounds stop when the model predicts a fall below
/// $10^{-13}$ of the objective; near the minimum the steps are Newton's,
/// so the answer is the active-set finish's, not an interior point's a
/// tolerance short. Where $z^*$ reaches 0 (the largest loss's scenario
/// holds more than $\alpha$ of the probability, so EVaR is the worst loss)
/// or the rounds run out, the exponential-cone program is solved instead.
struct Sqp<'a, 'b> {
    evar: &'a Evar<'b>,
}

/// The entropic risk at fixed losses, minimised over $z$: its value,
/// $z^*$ and the tilted probabilities $q$.
struct Tilt {
    value: f64,
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
    fn tilt(&self, l: &Array1<f64>, z0: Option<f64>) -> Option<Tilt> {
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
        Some(Tilt { value, z, q: e.into_iter().map(|v| v / total).collect() })
    }

    /// The gradient and Hessian of $f$ at the weights `w` with its tilt.
    fn model(&self, w: &[f64], tilt: &Tilt) -> (Array1<f64>, Array2<f64>) {
        let r = self.evar.scenarios;
        let q = ArrayView1::from(&tilt.q);
        let mean = q.dot(&r);
        let centred = &r - &mean;
        let scaled = &centred * &q.mapv(f64::sqrt).insert_axis(Axis(1));
        let cov = scaled.t().dot(&scaled);
        let cw = cov.dot(&ArrayView1::from(w));
        let v = cw.dot(&ArrayView1::from(w));
        let mut h = cov;
        if v > 0.0 {
            for i in 0..w.len() {
                for j in 0..w.len() {
                    h[[i, j]] -= cw[i] * cw[j] / v;
                }
            }
        }
        (-mean, h / tilt.z)
    }
}

impl Reduction for Sqp<'_, '_> {
    fn minimise(&self, base: &Program, w: Block, w0: &[f64]) -> Result<Option<Solution>> {
        let t0 = std::time::Instant::now();
        let n = w0.len();
        let mut about = w0.to_vec();
        let Some(mut tilt) = self.tilt(&self.losses(&about), None) else { return Ok(None) };
        // The search's point: the program's variables, their objective
        // (the program's own plus EVaR), and the quadratic program's
        // solution it is (for its duals), when it is one.
        let mut current: Option<(Vec<f64>, f64, Option<Solution>)> = None;
        let mut iterations = 0;
        let objective = |x: &[f64], z: f64| -> Option<(f64, Tilt)> {
            let t = self.tilt(&self.losses(&w.values(x)), Some(z))?;
            Some((base.objective_at(x) + t.value, t))
        };
        for _ in 0..SQP_ROUNDS {
            let (g, h) = self.model(&about, &tilt);
            // ½ (w − a)ᵀH(w − a) + gᵀw, less its constant.
            let mut qp = base.clone();
            qp.minimise(w.dot(&(&g - &h.dot(&ArrayView1::from(&about)))));
            for i in 0..n {
                for j in i..n {
                    if h[[i, j]] != 0.0 {
                        qp.quad(w.at(i), w.at(j), h[[i, j]]);
                    }
                }
            }
            qp.polish_on_active_set();
            let sol = match qp.solve_as(Solve::EXACT) {
                Ok(sol) => sol,
                Err(Error::Solver { status, .. }) if !status.is_infeasible() => return Ok(None),
                Err(e) => return Err(e),
            };
            iterations += sol.iterations;
            let Some((x, value, last)) = current.take() else {
                // The first round's answer starts the search.
                let Some((value, t)) = objective(&sol.x, tilt.z) else { return Ok(None) };
                about = w.values(&sol.x);
                tilt = t;
                current = Some((sol.x.clone(), value, Some(sol)));
                continue;
            };
            // The model's change from x to the answer.
            let d: Vec<f64> = sol.x.iter().zip(&x).map(|(a, b)| a - b).collect();
            let dw = Array1::from(w.values(&d));
            let predicted = base.objective_at(&sol.x) - base.objective_at(&x) + g.dot(&dw) + 0.5 * dw.dot(&h.dot(&dw));
            let done = predicted >= -1e-13 * value.abs();
            let mut step = 1.0;
            let mut accepted = None;
            while step >= 1e-10 {
                let trial: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + step * b).collect();
                let Some((v, t)) = objective(&trial, tilt.z) else { break };
                if v <= value + 1e-4 * step * predicted.min(0.0) + 1e-15 * value.abs() {
                    accepted = Some((trial, v, t));
                    break;
                }
                step *= 0.5;
            }
            // The answer in the last quadratic program's solution (its
            // duals, status and finish).
            let finished = |x: Vec<f64>, v: f64, mut sol: Solution| -> Solution {
                sol.x = x;
                sol.objective = v;
                sol.iterations = iterations;
                sol.seconds = t0.elapsed().as_secs_f64();
                sol
            };
            match accepted {
                Some((trial, v, t)) if !done => {
                    about = w.values(&trial);
                    tilt = t;
                    current = Some((trial, v, (step == 1.0).then_some(sol)));
                }
                // Settled: the answer itself where the full step falls.
                Some((trial, v, _)) if step == 1.0 => return Ok(Some(finished(trial, v, sol))),
                _ => return Ok(Some(finished(x, value, last.unwrap_or(sol)))),
            }
        }
        Ok(None)
    }
}
