//! The recurrence of one LSTM layer, per device: from the input projection
//! of every step, $x_t W_{ih}^\top + b$ (`[T, B, 4H]`, one matrix product
//! done by the caller), to the hidden-state sequence.
//!
//! The composed version runs each step on dfdx's operations (a matrix
//! product, a dozen element-wise tensors forward and as many backward); it
//! serves every device. On the CPU a fused kernel runs the whole layer in
//! one pass — per step one product $h_{t-1}W_{hh}^\top$ (ndarray) and the
//! gates and state update in place — and registers one backward operation
//! on dfdx's tape that runs back-propagation through time:
//!
//! $$\begin{aligned}
//! \bar h &= \bar y_t + \bar z_{t+1} W_{hh},\quad
//! \bar c = \bar c_{t+1} f_{t+1} + \bar h\, o\,(1 - \tanh^2 c_t),\\
//! \bar z_i &= \bar c\, g\, i(1-i),\quad \bar z_f = \bar c\, c_{t-1} f(1-f),\quad
//! \bar z_g = \bar c\, i\,(1-g^2),\quad \bar z_o = \bar h \tanh(c_t)\, o(1-o),\\
//! \bar W_{hh} &= \textstyle\sum_t \bar z_t^\top h_{t-1}.
//! \end{aligned}$$
//!
//! The tests hold both versions to PyTorch's `nn.LSTM` and to each other.

use dfdx::prelude::*;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::lstm::{nn_err, put, split, LayerOutput, Matrix, Recurrent, Sequence};
use super::Backend;
use crate::error::{Error, Result};

/// The composed step: `z` `[B, 4H]` (gates pre-activation, PyTorch order
/// i, f, g, o) and the previous cell state → `h` (carrying the tape) and
/// `c` (values; the caller re-tapes it for the next step).
pub(crate) fn composed<D: Backend, T: Tape<f32, D> + Merge<T>>(
    z: Matrix<D, T>,
    c_prev: Option<Matrix<D, T>>,
    hidden: usize,
) -> Result<(Matrix<D, T>, Matrix<D>)> {
    let h = hidden;
    // z feeds four gates: its tape rides on the first, the others merge back.
    let (z, z_tape) = split(z);
    let gate = |k: usize, tape: Option<T>| -> Result<Matrix<D, T>> {
        let zt = match tape {
            Some(tp) => put(z.clone(), tp),
            None => z.retaped::<T>(),
        };
        zt.try_slice((.., k * h..(k + 1) * h)).map_err(nn_err)
    };
    let ig = gate(0, Some(z_tape))?.try_sigmoid().map_err(nn_err)?;
    let fg = gate(1, None)?.try_sigmoid().map_err(nn_err)?;
    let gg = gate(2, None)?.try_tanh().map_err(nn_err)?;
    let og = gate(3, None)?.try_sigmoid().map_err(nn_err)?;
    let c = match c_prev {
        None => ig * gg,
        Some(cp) => fg * cp + ig * gg,
    };
    let (c, c_tape) = split(c);
    let hn = og * put(c.clone(), c_tape).try_tanh().map_err(nn_err)?;
    Ok((hn, c))
}

/// The composed recurrence: `xp` `[T, B, 4H]` (input projections without
/// biases), the recurrent weights and biases → the hidden states
/// `[T, B, H]` (carrying the tape), the last hidden and the last cell state.
pub(crate) fn composed_recurrence<D: Backend, T: Tape<f32, D> + Merge<T>>(
    xp: Sequence<D, T>,
    rec: Recurrent<'_, D>,
    hidden: usize,
) -> Result<LayerOutput<D, T>> {
    let (t, b, g4) = *xp.shape();
    let bias =
        (rec.b_ih.retaped::<T>() + rec.b_hh.clone()).try_broadcast_like::<_, Axis<0>>(&(t * b, g4)).map_err(nn_err)?;
    let xp =
        (xp.try_reshape_like(&(t * b, g4)).map_err(nn_err)? + bias).try_reshape_like(&(t, b, g4)).map_err(nn_err)?;
    let w_hh_t = rec.w_hh.clone().try_permute::<_, Axes2<1, 0>>().map_err(nn_err)?;
    // Each intermediate used twice keeps its tape on exactly one use (the
    // one that flows into the returned sequence); the other use gets an
    // empty tape whose operations merge back through the sequence.
    let (xp, xp_tape) = split(xp);
    let mut xp_tape = Some(xp_tape);
    let mut outputs: Vec<Matrix<D, T>> = Vec::with_capacity(t);
    let mut h_prev: Option<Matrix<D, T>> = None;
    let mut c_prev: Option<Matrix<D, T>> = None;
    let mut last: Option<(Matrix<D>, Matrix<D>)> = None;
    for step in 0..t {
        let xt = match xp_tape.take() {
            Some(tape) => put(xp.clone(), tape),
            None => xp.retaped::<T>(),
        };
        let xt = xt.try_slice((step..step + 1, .., ..)).map_err(nn_err)?.try_reshape_like(&(b, g4)).map_err(nn_err)?;
        let z = match h_prev.take() {
            None => xt,
            Some(hp) => xt + hp.try_matmul(w_hh_t.clone()).map_err(nn_err)?,
        };
        let (hn, c) = composed(z, c_prev.take(), hidden)?;
        let (hn, h_tape) = split(hn);
        outputs.push(put(hn.clone(), h_tape));
        h_prev = Some(hn.retaped::<T>());
        c_prev = Some(c.retaped::<T>());
        last = Some((hn, c));
    }
    let seq = outputs.try_stack().map_err(nn_err)?;
    let (h_last, c_last) = last.ok_or_else(|| Error::Shape("LSTM input has no time steps".into()))?;
    Ok((seq, h_last, c_last))
}

/// $e^x$ for the gates, branch-free so loops over it vectorise: Cody–Waite
/// range reduction $x = n\ln 2 + r$, $|r| \le \ln 2/2$, Cephes' degree-6
/// polynomial for $e^r$, and $2^n$ built in the exponent bits (relative error
/// about 2e-7). `x` is clamped to $[-87.3, 88.3]$, where the result stays a
/// normal float; the gates only need it to saturate there.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p =
        ((((1.987_569_2e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 0.166_666_65) * r + 0.5;
    let er = p * r * r + r + 1.0;
    er * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// $\tanh x = 1 - 2/(e^{2x} + 1)$: absolute error about 2e-7, ±1 in the tails.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// The fused CPU recurrence (same contract as [`composed_recurrence`]).
pub(crate) fn fused_recurrence_cpu<T: Tape<f32, Cpu> + Merge<T>>(
    xp: Sequence<Cpu, T>,
    rec: Recurrent<'_, Cpu>,
    hidden: usize,
) -> Result<LayerOutput<Cpu, T>> {
    let w_hh = rec.w_hh;
    let (steps, b, g4) = *xp.shape();
    let h = hidden;
    if g4 != 4 * h || *w_hh.shape() != (g4, h) || rec.b_ih.shape().0 != g4 || rec.b_hh.shape().0 != g4 || steps == 0 {
        return Err(Error::Shape(format!(
            "LSTM recurrence needs projections [T ≥ 1, B, {g}], W_hh [{g}, {h}] and biases [{g}], got {:?}, {:?}, {:?} \
             and {:?}",
            xp.shape(),
            w_hh.shape(),
            rec.b_ih.shape(),
            rec.b_hh.shape(),
            g = 4 * h,
        )));
    }
    let (xp, mut tape) = split(xp);
    let w = Array2::from_shape_vec((g4, h), w_hh.as_vec()).map_err(|e| Error::Shape(e.to_string()))?;
    // Per step: activated gates [B, 4H], cell state and its tanh, hidden state [B, H].
    let mut act = xp.as_vec();
    let bias: Vec<f32> = rec.b_ih.as_vec().iter().zip(rec.b_hh.as_vec()).map(|(a, b)| a + b).collect();
    for (a, bi) in act.iter_mut().zip(bias.iter().cycle()) {
        *a += bi;
    }
    let mut cs = vec![0f32; steps * b * h];
    let mut tcs = vec![0f32; steps * b * h];
    let mut hs = vec![0f32; steps * b * h];
    for t in 0..steps {
        let (done, rest) = hs.split_at_mut(t * b * h);
        let z = &mut act[t * b * g4..(t + 1) * b * g4];
        if t > 0 {
            let h_prev =
                ArrayView2::from_shape((b, h), &done[(t - 1) * b * h..]).map_err(|e| Error::Shape(e.to_string()))?;
            let mut zv = ArrayViewMut2::from_shape((b, g4), &mut *z).map_err(|e| Error::Shape(e.to_string()))?;
            general_mat_mul(1.0, &h_prev, &w.t(), 1.0, &mut zv);
        }
        let h_now = &mut rest[..b * h];
        // Activate the gates in place (separate simple loops vectorise).
        for zr in z.chunks_exact_mut(g4) {
            let (ifg, o) = zr.split_at_mut(3 * h);
            let (i_f, g) = ifg.split_at_mut(2 * h);
            i_f.iter_mut().chain(o.iter_mut()).for_each(|v| *v = sigmoid(*v));
            g.iter_mut().for_each(|v| *v = tanh(*v));
        }
        let (past, now) = cs.split_at_mut(t * b * h);
        let prev: &[f32] = if t > 0 { &past[(t - 1) * b * h..] } else { &[] };
        let c_now = &mut now[..b * h];
        let tc_now = &mut tcs[t * b * h..(t + 1) * b * h];
        for r in 0..b {
            let a = &z[r * g4..(r + 1) * g4];
            let rows = r * h..(r + 1) * h;
            let (cr, tr, hr) = (&mut c_now[rows.clone()], &mut tc_now[rows.clone()], &mut h_now[rows.clone()]);
            for k in 0..h {
                let p = if t > 0 { prev[r * h + k] } else { 0.0 };
                let c = a[h + k] * p + a[k] * a[2 * h + k];
                let tc = tanh(c);
                cr[k] = c;
                tr[k] = tc;
                hr[k] = a[3 * h + k] * tc;
            }
        }
    }
    let dev = xp.device().clone();
    let last = (steps - 1) * b * h;
    let h_last = dev.tensor_from_vec(hs[last..].to_vec(), (b, h));
    let c_last = dev.tensor_from_vec(cs[last..].to_vec(), (b, h));
    let seq = dev.tensor_from_vec(hs.clone(), (steps, b, h));
    let (xp_ghost, w_ghost, seq_ghost) = (xp.ghost(), w_hh.ghost(), seq.ghost());
    let (bi_ghost, bh_ghost) = (rec.b_ih.ghost(), rec.b_hh.ghost());
    tape.add_backward_op(move |grads| {
        let dy = grads.get_or_alloc_mut(&seq_ghost)?.to_vec();
        let mut dxp = vec![0f32; steps * b * g4];
        let mut dw = Array2::<f32>::zeros((g4, h));
        let mut dh_next = Array2::<f32>::zeros((b, h));
        let mut dc_next = vec![0f32; b * h];
        for t in (0..steps).rev() {
            let a = &act[t * b * g4..(t + 1) * b * g4];
            let dz = &mut dxp[t * b * g4..(t + 1) * b * g4];
            for r in 0..b {
                for k in 0..h {
                    let j = r * h + k;
                    let n = t * b * h + j;
                    let (i, f, g, o) = (a[r * g4 + k], a[r * g4 + h + k], a[r * g4 + 2 * h + k], a[r * g4 + 3 * h + k]);
                    let dh = dy[n] + dh_next[(r, k)];
                    let tc = tcs[n];
                    let dc = dc_next[j] + dh * o * (1.0 - tc * tc);
                    let prev = if t > 0 { cs[n - b * h] } else { 0.0 };
                    dz[r * g4 + k] = dc * g * i * (1.0 - i);
                    dz[r * g4 + h + k] = dc * prev * f * (1.0 - f);
                    dz[r * g4 + 2 * h + k] = dc * i * (1.0 - g * g);
                    dz[r * g4 + 3 * h + k] = dh * tc * o * (1.0 - o);
                    dc_next[j] = dc * f;
                }
            }
            if t > 0 {
                let wrong = |_| dfdx::tensor::CpuError::WrongNumElements;
                let dzv = ArrayView2::from_shape((b, g4), &*dz).map_err(wrong)?;
                let h_prev = ArrayView2::from_shape((b, h), &hs[(t - 1) * b * h..t * b * h]).map_err(wrong)?;
                general_mat_mul(1.0, &dzv.t(), &h_prev, 1.0, &mut dw);
                general_mat_mul(1.0, &dzv, &w, 0.0, &mut dh_next);
            }
        }
        for (acc, d) in grads.get_or_alloc_mut(&xp_ghost)?.iter_mut().zip(&dxp) {
            *acc += d;
        }
        for (acc, d) in grads.get_or_alloc_mut(&w_ghost)?.iter_mut().zip(dw.iter()) {
            *acc += d;
        }
        // Both biases enter every step's z: each gets Σ_t Σ_b z̄.
        let mut db = vec![0f32; g4];
        for row in dxp.chunks(g4) {
            for (acc, d) in db.iter_mut().zip(row) {
                *acc += d;
            }
        }
        for ghost in [&bi_ghost, &bh_ghost] {
            for (acc, d) in grads.get_or_alloc_mut(ghost)?.iter_mut().zip(&db) {
                *acc += d;
            }
        }
        Ok(())
    });
    Ok((put(seq, tape), h_last, c_last))
}

#[cfg(test)]
mod tests {
    use super::{exp, sigmoid, tanh};

    #[test]
    fn fast_exp_tanh_and_sigmoid_are_accurate_and_saturate() {
        let mut worst = 0.0f64;
        for k in -80_000..=80_000 {
            let x = k as f32 * 1e-3;
            let (got, want) = (exp(x) as f64, (x as f64).exp());
            worst = worst.max((got - want).abs() / want);
        }
        assert!(worst < 5e-7, "relative error of exp {worst:e}");
        for k in -20_000..=20_000 {
            let x = k as f32 * 1e-3;
            assert!((tanh(x) as f64 - (x as f64).tanh()).abs() < 5e-7, "tanh({x})");
            assert!((sigmoid(x) as f64 - 1.0 / (1.0 + (-x as f64).exp())).abs() < 5e-7, "sigmoid({x})");
        }
        for x in [-1e30f32, -200.0, 200.0, 1e30, f32::INFINITY, f32::NEG_INFINITY] {
            let (t, s) = (tanh(x), sigmoid(x));
            assert!(t.is_finite() && t.abs() <= 1.0 && (t.abs() - 1.0).abs() < 1e-6, "tanh({x}) = {t}");
            assert!((0.0..=1.0).contains(&s), "sigmoid({x}) = {s}");
        }
    }
}
