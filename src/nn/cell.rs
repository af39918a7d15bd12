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

use super::lstm::{nn_err, put, split, tensor_from, LayerOutput, Matrix, Recurrent, Sequence};
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
    // Two activations over all of z, then four slices: fewer operations
    // (kernel launches on a GPU) than four slices each activated. z feeds
    // both activations and the sigmoids feed three gates: each value's tape
    // rides on one use, the others merge back.
    let (z, z_tape) = split(z);
    let sig = put(z.clone(), z_tape).try_sigmoid().map_err(nn_err)?;
    let tanh = z.retaped::<T>().try_tanh().map_err(nn_err)?;
    let (sig, sig_tape) = split(sig);
    let gate = |m: Matrix<D, T>, k: usize| m.try_slice((.., k * h..(k + 1) * h)).map_err(nn_err);
    let ig = gate(put(sig.clone(), sig_tape), 0)?;
    let fg = gate(sig.retaped::<T>(), 1)?;
    let gg = gate(tanh, 2)?;
    let og = gate(sig.retaped::<T>(), 3)?;
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
    // Adding 1.5·2^23 rounds to the nearest integer n, which then sits in
    // the low mantissa bits: bits(k) = bits(ROUND) + n, with no float-to-int
    // conversion (whose saturating semantics would not vectorise).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    let k = x * LOG2E + ROUND;
    let n = k - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p =
        ((((1.987_569_2e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 0.166_666_65) * r + 0.5;
    let er = p * r * r + r + 1.0;
    let two_n = f32::from_bits((k.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127)) << 23);
    er * two_n
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

/// Defines `$name`, which runs the `#[inline(always)]` kernel `$kernel`
/// compiled for AVX2 and FMA when the CPU has them (detected by std and
/// cached), else compiled for the baseline target — the runtime dispatch
/// that dfdx's and ndarray's matrix kernels also do. The kernels' loops are
/// written so the compiler vectorises them for either.
macro_rules! dispatch {
    ($name:ident => $kernel:ident ($($arg:ident : $ty:ty),* $(,)?)) => {
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    $kernel($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: `avx2` needs only the features detected on this line.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $kernel($($arg),*)
        }
    };
}

/// A zeroed buffer of `len` values from the device: taken from dfdx's
/// allocation cache when it is on (and handed back when dropped), so the
/// large per-batch buffers of the recurrence are reused instead of being
/// allocated and faulted in afresh every batch.
fn buffer(dev: &Cpu, len: usize) -> Result<CpuBuffer> {
    dev.try_alloc_len(len).map_err(nn_err)
}

type CpuBuffer = <Cpu as Storage<f32>>::Vec;

/// A tensor's values, row-major: a memory copy once the tensor is dense
/// (`try_contiguous` shares a dense tensor's storage and copies only a
/// permuted or broadcast one), instead of dfdx's per-element `as_vec`.
fn values<S: dfdx::shapes::Shape>(t: &Tensor<S, f32, Cpu>) -> Result<CpuBuffer> {
    let dense = t.clone().try_contiguous().map_err(nn_err)?;
    let mut v = buffer(t.device(), t.shape().num_elements())?;
    dense.copy_into(&mut v);
    Ok(v)
}

/// One forward step of the elementwise part, in place on the batch: `z`
/// `[B, 4H]` (pre-activations, biases included) becomes the activated gates;
/// the cell state, its tanh and the hidden state `[B, H]` are written.
#[inline(always)]
fn forward_step(z: &mut [f32], c_prev: Option<&[f32]>, c: &mut [f32], tc: &mut [f32], hs: &mut [f32], h: usize) {
    for (r, zr) in z.chunks_exact_mut(4 * h).enumerate() {
        let (ifg, o) = zr.split_at_mut(3 * h);
        let (i_f, g) = ifg.split_at_mut(2 * h);
        // Plain slice loops (an iterator chain would not be inlined into the
        // vectorised kernel).
        i_f.iter_mut().for_each(|v| *v = sigmoid(*v));
        o.iter_mut().for_each(|v| *v = sigmoid(*v));
        g.iter_mut().for_each(|v| *v = tanh(*v));
        let (i, f, g, o) = (&zr[..h], &zr[h..2 * h], &zr[2 * h..3 * h], &zr[3 * h..4 * h]);
        let rows = r * h..(r + 1) * h;
        let (cr, tr, hr) = (&mut c[rows.clone()], &mut tc[rows.clone()], &mut hs[rows.clone()]);
        match c_prev {
            Some(cp) => {
                let p = &cp[rows];
                for k in 0..h {
                    cr[k] = f[k] * p[k] + i[k] * g[k];
                }
            }
            None => {
                for k in 0..h {
                    cr[k] = i[k] * g[k];
                }
            }
        }
        for k in 0..h {
            tr[k] = tanh(cr[k]);
            hr[k] = o[k] * tr[k];
        }
    }
}

/// One backward step of the elementwise part: from the gradients reaching
/// `h_t` (`dh`) and `c_t` (`dc`, overwritten with the one carried on to
/// `c_{t-1}`) and the saved activations, the gradient of the
/// pre-activations `dz` `[B, 4H]`.
#[inline(always)]
fn backward_step(a: &[f32], c_prev: Option<&[f32]>, tc: &[f32], dh: &[f32], dc: &mut [f32], dz: &mut [f32], h: usize) {
    for (r, (ar, dzr)) in a.chunks_exact(4 * h).zip(dz.chunks_exact_mut(4 * h)).enumerate() {
        let (i, f, g, o) = (&ar[..h], &ar[h..2 * h], &ar[2 * h..3 * h], &ar[3 * h..4 * h]);
        let (dzi, rest) = dzr.split_at_mut(h);
        let (dzf, rest) = rest.split_at_mut(h);
        let (dzg, dzo) = rest.split_at_mut(h);
        let rows = r * h..(r + 1) * h;
        let (tr, dhr, dcr) = (&tc[rows.clone()], &dh[rows.clone()], &mut dc[rows.clone()]);
        for k in 0..h {
            let d = dcr[k] + dhr[k] * o[k] * (1.0 - tr[k] * tr[k]);
            dzi[k] = d * g[k] * i[k] * (1.0 - i[k]);
            dzg[k] = d * i[k] * (1.0 - g[k] * g[k]);
            dzo[k] = dhr[k] * tr[k] * o[k] * (1.0 - o[k]);
            dcr[k] = d;
        }
        match c_prev {
            Some(cp) => {
                let p = &cp[rows];
                for k in 0..h {
                    dzf[k] = dcr[k] * p[k] * f[k] * (1.0 - f[k]);
                    dcr[k] *= f[k];
                }
            }
            None => dzf[..h].fill(0.0),
        }
    }
}

dispatch!(forward_step_best => forward_step(z: &mut [f32], c_prev: Option<&[f32]>, c: &mut [f32], tc: &mut [f32], hs: &mut [f32], h: usize));
dispatch!(backward_step_best => backward_step(a: &[f32], c_prev: Option<&[f32]>, tc: &[f32], dh: &[f32], dc: &mut [f32], dz: &mut [f32], h: usize));

fn view<'a>(v: &'a [f32], rows: usize, cols: usize) -> std::result::Result<ArrayView2<'a, f32>, ndarray::ShapeError> {
    ArrayView2::from_shape((rows, cols), &v[..rows * cols])
}

/// Projections `[T ≥ 1, B, 4H]`, `W_hh` `[4H, H]` and biases `[4H]`.
fn check_shapes(xp: (usize, usize, usize), rec: Recurrent<'_, Cpu>, h: usize) -> Result<()> {
    let (steps, _, g4) = xp;
    if g4 != 4 * h || *rec.w_hh.shape() != (g4, h) || rec.b_ih.shape().0 != g4 || rec.b_hh.shape().0 != g4 || steps == 0
    {
        return Err(Error::Shape(format!(
            "LSTM recurrence needs projections [T ≥ 1, B, {g}], W_hh [{g}, {h}] and biases [{g}], got {xp:?}, {:?}, {:?} \
             and {:?}",
            rec.w_hh.shape(),
            rec.b_ih.shape(),
            rec.b_hh.shape(),
            g = 4 * h,
        )));
    }
    Ok(())
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
    check_shapes(*xp.shape(), rec, h)?;
    let (xp, mut tape) = split(xp);
    let shape_err = |e: ndarray::ShapeError| Error::Shape(e.to_string());
    let w = Array2::from_shape_vec((g4, h), values(w_hh)?.to_vec()).map_err(shape_err)?;
    // Per step: activated gates [B, 4H], cell state and its tanh, hidden state [B, H].
    let mut act = values(&xp)?;
    let bias: Vec<f32> = values(rec.b_ih)?.iter().zip(values(rec.b_hh)?.iter()).map(|(a, b)| a + b).collect();
    let n = b * h;
    let dev = xp.device().clone();
    let mut cs = buffer(&dev, steps * n)?;
    let mut tcs = buffer(&dev, steps * n)?;
    let mut hs = buffer(&dev, steps * n)?;
    for zr in act.chunks_exact_mut(g4) {
        zr.iter_mut().zip(&bias).for_each(|(z, b)| *z += b);
    }
    for t in 0..steps {
        let z = &mut act[t * b * g4..(t + 1) * b * g4];
        let (done, rest) = hs.split_at_mut(t * n);
        if t > 0 {
            let mut zv = ArrayViewMut2::from_shape((b, g4), &mut *z).map_err(shape_err)?;
            general_mat_mul(1.0, &view(&done[(t - 1) * n..], b, h).map_err(shape_err)?, &w.t(), 1.0, &mut zv);
        }
        let (past, now) = cs.split_at_mut(t * n);
        let c_prev = (t > 0).then(|| &past[(t - 1) * n..]);
        forward_step_best(z, c_prev, &mut now[..n], &mut tcs[t * n..(t + 1) * n], &mut rest[..n], h);
    }
    let last = (steps - 1) * n;
    let h_last = tensor_from(&dev, &hs[last..], (b, h))?;
    let c_last = tensor_from(&dev, &cs[last..], (b, h))?;
    let seq = tensor_from(&dev, &hs, (steps, b, h))?;
    let (xp_ghost, w_ghost, seq_ghost) = (xp.ghost(), w_hh.ghost(), seq.ghost());
    let (bi_ghost, bh_ghost) = (rec.b_ih.ghost(), rec.b_hh.ghost());
    tape.add_backward_op(move |grads| {
        let wrong = |_| dfdx::tensor::CpuError::WrongNumElements;
        let mut dy = dev.try_alloc_len(steps * n)?;
        dy.copy_from_slice(grads.get_or_alloc_mut(&seq_ghost)?);
        let mut dxp = dev.try_alloc_len(steps * b * g4)?;
        let mut dh = Array2::<f32>::zeros((b, h));
        let mut dc = vec![0f32; n];
        for t in (0..steps).rev() {
            let dz = &mut dxp[t * b * g4..(t + 1) * b * g4];
            // dh = ȳ_t + z̄_{t+1} W_hh (the product is already in `dh`).
            let dhs = dh.as_slice_mut().ok_or(dfdx::tensor::CpuError::WrongNumElements)?;
            dhs.iter_mut().zip(&dy[t * n..(t + 1) * n]).for_each(|(d, y)| *d += y);
            let c_prev = (t > 0).then(|| &cs[(t - 1) * n..t * n]);
            backward_step_best(
                &act[t * b * g4..(t + 1) * b * g4],
                c_prev,
                &tcs[t * n..(t + 1) * n],
                dhs,
                &mut dc,
                dz,
                h,
            );
            if t > 0 {
                general_mat_mul(1.0, &view(dz, b, g4).map_err(wrong)?, &w, 0.0, &mut dh);
            }
        }
        // W̄_hh = Σ_{t≥1} z̄_tᵀ h_{t-1}: one product over all steps.
        let mut dw = Array2::<f32>::zeros((g4, h));
        if steps > 1 {
            let dz = view(&dxp[b * g4..], (steps - 1) * b, g4).map_err(wrong)?;
            let hp = view(&hs, (steps - 1) * b, h).map_err(wrong)?;
            general_mat_mul(1.0, &dz.t(), &hp, 0.0, &mut dw);
        }
        for (acc, d) in grads.get_or_alloc_mut(&xp_ghost)?.iter_mut().zip(dxp.iter()) {
            *acc += d;
        }
        for (acc, d) in grads.get_or_alloc_mut(&w_ghost)?.iter_mut().zip(dw.iter()) {
            *acc += d;
        }
        // Both biases enter every step's z: each gets Σ_t Σ_b z̄.
        let mut db = vec![0f32; g4];
        for row in dxp.chunks_exact(g4) {
            db.iter_mut().zip(row).for_each(|(acc, d)| *acc += d);
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
    use super::{backward_step, backward_step_best, exp, forward_step, forward_step_best, sigmoid, tanh};

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

    /// The dispatched kernels (AVX2 where the CPU has it, as on the machines
    /// that run the tests) and the baseline build of the same code agree
    /// bit for bit, so the fixture tests, which run the dispatched one, also
    /// vouch for the baseline one.
    #[test]
    fn vectorised_and_baseline_kernels_agree() {
        let (b, h) = (5, 7);
        let wave =
            |n: usize, phase: f32| -> Vec<f32> { (0..n).map(|k| 3.0 * (k as f32 * 0.37 + phase).sin()).collect() };
        let c_prev = wave(b * h, 0.5);
        for prev in [None, Some(&c_prev[..])] {
            let mut out = Vec::new();
            for kernel in [forward_step, forward_step_best] {
                let mut z = wave(4 * b * h, 0.1);
                let (mut c, mut tc, mut hs) = (vec![0.0; b * h], vec![0.0; b * h], vec![0.0; b * h]);
                kernel(&mut z, prev, &mut c, &mut tc, &mut hs, h);
                let (dh, mut dc, mut dz) = (wave(b * h, 1.3), wave(b * h, 2.1), vec![0.0; 4 * b * h]);
                let backward = if out.is_empty() { backward_step } else { backward_step_best };
                backward(&z, prev, &tc, &dh, &mut dc, &mut dz, h);
                out.push([z, c, tc, hs, dc, dz]);
            }
            assert!(out[0].iter().flatten().any(|v| *v != 0.0));
            assert_eq!(out[0], out[1], "with previous cell state: {}", prev.is_some());
        }
    }
}
