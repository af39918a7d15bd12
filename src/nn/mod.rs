//! The network toolkit on dfdx, shared by the forecasting and deep
//! allocation stages and knowing nothing of finance: the device trait with
//! the fused CPU LSTM recurrence, the [`Lstm`] (numerically PyTorch's
//! `nn.LSTM`), [`Dense`] and [`Conv1d`] layers, named parameters and their
//! safetensors files under PyTorch's names, Adam with global-norm clipping,
//! the training loop with its progress line and [`History`], and the
//! retraining schedule of walk-forward strategies.
//!
//! Every layer is written once on dfdx's operations and runs on any
//! [`Backend`]; the CPU overrides the LSTM recurrence with a fused kernel
//! (gates and state update in one pass, one backward operation doing
//! back-propagation through time).

mod cell;
mod conv;
mod device;
mod io;
pub(crate) mod lstm;
mod simplex;
pub(crate) mod train;

use dfdx::prelude::*;

pub use conv::{max_pool_time, Conv1d};
#[cfg(feature = "cuda")]
pub use device::Gpu;
pub use device::{CudaUnavailable, Device};
/// dfdx's CPU device, the default for every model here.
pub use dfdx::prelude::Cpu;
pub(crate) use io::WeightsFile;
pub use io::{load_safetensors, save_safetensors};
pub(crate) use lstm::{nn_err, seeded, tensor_from};
pub use lstm::{Dense, LayerOutput, Lstm, LstmOutput, Matrix, Param, Parameters, Recurrent, Sequence, Vector};
pub use simplex::{project_simplex, softmax, sparsemax, LearnedWeights, Normalisation, SimplexBounds};
pub use train::{Epoch, History, TrainParams};

use crate::error::Result;

/// A dfdx device the networks run on (`Cpu`, or `Cuda` with the `cuda`
/// feature). Everything is written once on dfdx's operations; a device may
/// override the LSTM cell step with a fused kernel (the CPU does).
pub trait Backend: dfdx::tensor_ops::Device<f32> {
    /// The recurrence of one LSTM layer: input projections `xp`
    /// `[T, B, 4H]` ($x_t W_{ih}^\top$, gate order i, f, g, o), the
    /// recurrent weights and both biases → the hidden states `[T, B, H]`
    /// (carrying the tape), the last hidden state and the last cell state.
    fn lstm_recurrence<T: Tape<f32, Self> + Merge<T>>(
        xp: Sequence<Self, T>,
        rec: Recurrent<'_, Self>,
        hidden: usize,
    ) -> Result<LayerOutput<Self, T>> {
        cell::composed_recurrence(xp, rec, hidden)
    }

    /// [`Conv1d::forward_input`]: a network's first convolution, whose
    /// input is data. The default is [`Conv1d::forward`], which also
    /// computes the input's gradient.
    fn conv1d_input<T: Tape<f32, Self> + Merge<T>>(
        conv: &Conv1d<Self>,
        x: Sequence<Self, T>,
    ) -> Result<Sequence<Self, T>> {
        conv.forward(x)
    }
}

impl Backend for Cpu {
    fn lstm_recurrence<T: Tape<f32, Self> + Merge<T>>(
        xp: Sequence<Self, T>,
        rec: Recurrent<'_, Self>,
        hidden: usize,
    ) -> Result<LayerOutput<Self, T>> {
        cell::fused_recurrence_cpu(xp, rec, hidden)
    }

    fn conv1d_input<T: Tape<f32, Self> + Merge<T>>(
        conv: &Conv1d<Self>,
        x: Sequence<Self, T>,
    ) -> Result<Sequence<Self, T>> {
        conv::conv1d_input_cpu(conv, x)
    }
}

#[cfg(feature = "cuda")]
impl Backend for dfdx::prelude::Cuda {}

/// The recurrence built from dfdx's operations, as every device without a
/// fused kernel runs it (exposed to test it against the CPU's kernel).
#[doc(hidden)]
pub fn lstm_recurrence_composed<D: Backend, T: Tape<f32, D> + Merge<T>>(
    xp: Sequence<D, T>,
    rec: Recurrent<'_, D>,
    hidden: usize,
) -> Result<LayerOutput<D, T>> {
    cell::composed_recurrence(xp, rec, hidden)
}

/// The size (rows × columns × depth of a block) from which dfdx's matrix
/// products spread over the cores. gemm's own default, 48·48·256, hands
/// the thread pool products of a few million multiply-adds (an LSTM's
/// batch products at hidden size 32, a convolution over a batch of
/// windows), where waking the pool and switching threads costs more than
/// the second core saves; the products of large networks (hidden 256,
/// batch 1,024: hundreds of millions) still spread. Every fit in the crate
/// sets it through [`training_cpu`].
pub const THREADING_THRESHOLD: usize = 1 << 24;

/// A CPU device with dfdx's allocation cache on (`Cache::enable_cache`),
/// as every `fit` in the crate trains on: tensor storage is reused from
/// batch to batch instead of allocated afresh, so training speed does not
/// depend on the state the system allocator was left in by earlier work in
/// the process; and with gemm's threading threshold at
/// [`THREADING_THRESHOLD`] (a process-wide setting). Pass it to `fit_on`
/// for the same.
pub fn training_cpu() -> Cpu {
    gemm_common::gemm::set_threading_threshold(THREADING_THRESHOLD);
    let dev = Cpu::default();
    dev.enable_cache();
    dev
}

/// Copies every parameter of `from` into `to`, a model of the same
/// architecture on another device (names and shapes must agree).
pub(crate) fn copy_parameters<A: Backend, B: Backend>(
    from: &impl Parameters<A>,
    to: &mut impl Parameters<B>,
) -> Result<()> {
    let source = from.parameters();
    let mut target = to.parameters_mut();
    if source.len() != target.len() {
        return Err(crate::error::Error::Shape(format!(
            "{} parameters to copy into a model with {}",
            source.len(),
            target.len()
        )));
    }
    for ((name, p), (to_name, q)) in source.iter().zip(target.iter_mut()) {
        if name != to_name || p.shape() != q.shape() {
            return Err(crate::error::Error::Shape(format!(
                "parameter {name} {:?} does not match {to_name} {:?}",
                p.shape(),
                q.shape()
            )));
        }
        q.set_values(&p.values())?;
    }
    Ok(())
}

pub(crate) fn chunks(r: std::ops::Range<usize>, size: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let end = r.end;
    r.step_by(size).map(move |s| s..(s + size).min(end))
}
