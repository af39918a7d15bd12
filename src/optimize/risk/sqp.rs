//! Sequential quadratic programming for the smooth scenario measures
//! (EVaR, RLVaR): their minimum over a program's constraints.
//!
//! Each round minimises the program's own objective plus the measure's
//! second-order model about the current weights, $g^\top (w - a) +
//! \frac12 (w - a)^\top H (w - a)$, over the program's constraints: a
//! quadratic program on the assets, finished on its active set. The
//! search then steps from the current point towards that answer while
//! the true objective falls by a share of the predicted fall (Armijo). It
//! stops when the model predicts a fall below $10^{-13}$ of the objective;
//! near the minimum the steps are Newton's, so the answer is the
//! active-set finish's, not an interior point's a tolerance short. Where
//! the measure is not smooth at a point, or the rounds run out, the caller
//! solves the measure's conic program instead.

use ndarray::{Array1, Array2, ArrayView1};

use crate::error::{Error, Result};
use crate::optimize::problem::{backtrack, Block, Program, Solution, Solve};

/// Rounds before the conic program is used instead.
const ROUNDS: usize = 60;

/// A measure smooth in the weights where it has a value.
pub(crate) trait Smooth {
    /// What one evaluation leaves for the derivatives and the next one.
    type State;
    /// The measure at the weights `w` (started from the state of a point
    /// `near` them): `None` where it is not smooth there.
    fn value(&self, w: &[f64], near: Option<&Self::State>) -> Option<(f64, Self::State)>;
    /// Its gradient and Hessian at `w`.
    fn model(&self, w: &[f64], state: &Self::State) -> (Array1<f64>, Array2<f64>);
}

/// `m` less its part along $Mw$: $M - Mww^\top M / w^\top M w$, the
/// Hessian of a measure positively homogeneous in the weights, flat along
/// them.
pub(crate) fn flat_along(mut m: Array2<f64>, w: &[f64]) -> Array2<f64> {
    let mw = m.dot(&ArrayView1::from(w));
    let v = mw.dot(&ArrayView1::from(w));
    if v > 0.0 {
        for i in 0..w.len() {
            for j in 0..w.len() {
                m[[i, j]] -= mw[i] * mw[j] / v;
            }
        }
    }
    m
}

/// The minimum of `smooth` plus `base`'s objective over `base`'s
/// constraints from the weights `w0` (see the module's docs): `None` where
/// it does not settle.
pub(crate) fn minimise<S: Smooth>(smooth: &S, base: &Program, w: Block, w0: &[f64]) -> Result<Option<Solution>> {
    // With cones in the program (a log barrier's, a tracking error's) each
    // round would be a conic program, finished only at its interior point:
    // the measure's own conic program is then as good.
    if base.has_cones() {
        return Ok(None);
    }
    let t0 = std::time::Instant::now();
    let n = w0.len();
    let mut about = w0.to_vec();
    let Some((_, mut state)) = smooth.value(&about, None) else { return Ok(None) };
    // The search's point: the program's variables, their objective (the
    // program's own plus the measure), and the quadratic program's
    // solution it is (for its duals), when it is one.
    let mut current: Option<(Vec<f64>, f64, Option<Solution>)> = None;
    let mut iterations = 0;
    let objective = |x: &[f64], near: &S::State| -> Option<(f64, S::State)> {
        let (v, s) = smooth.value(&w.values(x), Some(near))?;
        Some((base.objective_at(x) + v, s))
    };
    for _ in 0..ROUNDS {
        let (g, h) = smooth.model(&about, &state);
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
            let Some((value, s)) = objective(&sol.x, &state) else { return Ok(None) };
            about = w.values(&sol.x);
            state = s;
            current = Some((sol.x.clone(), value, Some(sol)));
            continue;
        };
        // The model's change from x to the answer.
        let d: Vec<f64> = sol.x.iter().zip(&x).map(|(a, b)| a - b).collect();
        let dw = Array1::from(w.values(&d));
        let predicted = base.objective_at(&sol.x) - base.objective_at(&x) + g.dot(&dw) + 0.5 * dw.dot(&h.dot(&dw));
        let done = predicted >= -1e-13 * value.abs();
        // Armijo steps by the programs' shared backtracking; a point where
        // the measure is not smooth counts as no fall. The last point
        // evaluated is the one taken, so its value and state are kept.
        let evaluated = std::cell::RefCell::new(None);
        let taken = backtrack(&x, &d, std::iter::empty(), value, predicted, |trial| {
            let result = objective(trial, &state);
            let v = result.as_ref().map_or(f64::INFINITY, |(v, _)| *v);
            *evaluated.borrow_mut() = result;
            v
        });
        let full: Vec<f64> = x.iter().zip(&d).map(|(a, b)| a + b).collect();
        let whole_step = taken.as_ref() == Some(&full);
        let accepted = taken.and_then(|trial| evaluated.into_inner().map(|(v, s)| (trial, v, s)));
        // The answer in the last quadratic program's solution (its duals,
        // status and finish).
        let finished = |x: Vec<f64>, v: f64, mut sol: Solution| -> Solution {
            sol.x = x;
            sol.objective = v;
            sol.iterations = iterations;
            sol.seconds = t0.elapsed().as_secs_f64();
            sol
        };
        match accepted {
            Some((trial, v, s)) if !done => {
                about = w.values(&trial);
                state = s;
                current = Some((trial, v, whole_step.then_some(sol)));
            }
            // Settled: the answer itself where the full step falls.
            Some((trial, v, _)) if whole_step => return Ok(Some(finished(trial, v, sol))),
            Some(_) => return Ok(Some(finished(x, value, last.unwrap_or(sol)))),
            // No step falls though the model predicts a fall: the measure
            // is not smooth enough here for the model (its z* near 0), so
            // the conic program decides.
            None if !done => return Ok(None),
            None => return Ok(Some(finished(x, value, last.unwrap_or(sol)))),
        }
    }
    Ok(None)
}
