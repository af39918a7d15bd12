//! The LSTM layer, a dense layer and their parameters, on dfdx tensors.

use crate::parameter::Training;
use dfdx::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::Backend;
use crate::error::{Error, Result};

/// A matrix on device `D` with tape `T`.
pub type Matrix<D, T = NoneTape> = Tensor<(usize, usize), f32, D, T>;
/// A vector on device `D` with tape `T`.
pub type Vector<D, T = NoneTape> = Tensor<(usize,), f32, D, T>;
/// A batch of sequences, `[batch, time, features]` (or time-major where said).
pub type Sequence<D, T = NoneTape> = Tensor<(usize, usize, usize), f32, D, T>;

pub(crate) fn nn_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Device(format!("a tensor operation failed: {e:?}"))
}

/// One trainable tensor, under the name PyTorch gives it.
#[derive(Debug, Clone)]
pub enum Param<D: Backend> {
    /// A weight matrix `[out, in]`.
    Matrix(Matrix<D>),
    /// A bias vector `[out]`.
    Vector(Vector<D>),
}

impl<D: Backend> Param<D> {
    /// PyTorch shape of the tensor.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Param::Matrix(m) => vec![m.shape().0, m.shape().1],
            Param::Vector(v) => vec![v.shape().0],
        }
    }

    /// The device the tensor lives on.
    pub fn device(&self) -> D {
        match self {
            Param::Matrix(m) => m.device().clone(),
            Param::Vector(v) => v.device().clone(),
        }
    }

    /// Values, row-major.
    pub fn values(&self) -> Vec<f32> {
        match self {
            Param::Matrix(m) => m.as_vec(),
            Param::Vector(v) => v.as_vec(),
        }
    }

    /// The gradient of this tensor in `grads`, row-major (zeros when it got none).
    pub fn gradient(&self, grads: &mut Gradients<f32, D>) -> Result<Vec<f32>> {
        Ok(match self {
            Param::Matrix(m) => {
                grads.try_alloc_for(m).map_err(nn_err)?;
                grads.get(m).as_vec()
            }
            Param::Vector(v) => {
                grads.try_alloc_for(v).map_err(nn_err)?;
                grads.get(v).as_vec()
            }
        })
    }

    /// The weight matrix, or an error naming `what` where the parameter
    /// was replaced by a vector (through [`Parameters::parameters_mut`]).
    pub(crate) fn matrix(&self, what: &str) -> Result<&Matrix<D>> {
        match self {
            Param::Matrix(m) => Ok(m),
            Param::Vector(_) => Err(Error::Shape(format!("{what} must be a matrix, it holds a vector"))),
        }
    }

    /// The bias vector, or an error naming `what` (see [`matrix`](Self::matrix)).
    pub(crate) fn vector(&self, what: &str) -> Result<&Vector<D>> {
        match self {
            Param::Vector(v) => Ok(v),
            Param::Matrix(_) => Err(Error::Shape(format!("{what} must be a vector, it holds a matrix"))),
        }
    }

    /// Replaces the values (same shape), keeping the tensor's identity.
    pub fn set_values(&mut self, values: &[f32]) -> Result<()> {
        let n: usize = self.shape().iter().product();
        if values.len() != n {
            return Err(Error::Shape(format!("expected {n} values, got {}", values.len())));
        }
        match self {
            Param::Matrix(m) => m.copy_from(values),
            Param::Vector(v) => v.copy_from(values),
        }
        Ok(())
    }
}

pub(crate) fn uniform(rng: &mut StdRng, n: usize, bound: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-bound..bound)).collect()
}

/// Models whose parameters can be listed by PyTorch name.
pub trait Parameters<D: Backend> {
    /// `(name, tensor)` in a fixed order.
    fn parameters(&self) -> Vec<(String, &Param<D>)>;
    /// Mutable access in the same order.
    fn parameters_mut(&mut self) -> Vec<(String, &mut Param<D>)>;

    /// Number of scalar parameters.
    fn n_parameters(&self) -> usize {
        self.parameters().iter().map(|(_, p)| p.shape().iter().product::<usize>()).sum()
    }

    /// The device the model lives on (that of its first parameter; a
    /// default device for a model without any), where its inputs belong.
    fn device(&self) -> D {
        self.parameters().first().map_or_else(D::default, |(_, p)| p.device())
    }
}

/// A fully connected layer $y = x W^\top + b$ with PyTorch's `nn.Linear`
/// layout (`weight` `[out, in]`, `bias` `[out]`) and default initialisation
/// $\mathcal U(-1/\sqrt{in}, 1/\sqrt{in})$.
#[derive(Debug, Clone)]
pub struct Dense<D: Backend> {
    weight: Param<D>,
    bias: Param<D>,
}

impl<D: Backend> Dense<D> {
    /// A seeded layer.
    pub fn new(dev: &D, inputs: usize, outputs: usize, rng: &mut StdRng) -> Self {
        let bound = 1.0 / (inputs as f32).sqrt();
        let w = uniform(rng, inputs * outputs, bound);
        let b = uniform(rng, outputs, bound);
        Dense {
            weight: Param::Matrix(dev.tensor_from_vec(w, (outputs, inputs))),
            bias: Param::Vector(dev.tensor_from_vec(b, (outputs,))),
        }
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.weight.shape()[0]
    }

    /// `x` `[batch, in]` → `[batch, out]`.
    pub fn forward<T: Tape<f32, D> + Merge<T>>(&self, x: Matrix<D, T>) -> Result<Matrix<D, T>> {
        let (w, b) = (self.weight.matrix("a dense layer's weight")?, self.bias.vector("a dense layer's bias")?);
        let y = x.try_matmul(w.clone().try_permute::<_, Axes2<1, 0>>().map_err(nn_err)?).map_err(nn_err)?;
        let shape = *y.shape();
        let b = b.retaped::<T>().try_broadcast_like::<_, Axis<0>>(&shape).map_err(nn_err)?;
        Ok(y + b)
    }

    pub(crate) fn named(&self, prefix: &str) -> Vec<(String, &Param<D>)> {
        vec![(format!("{prefix}weight"), &self.weight), (format!("{prefix}bias"), &self.bias)]
    }

    pub(crate) fn named_mut(&mut self, prefix: &str) -> Vec<(String, &mut Param<D>)> {
        vec![(format!("{prefix}weight"), &mut self.weight), (format!("{prefix}bias"), &mut self.bias)]
    }
}

/// The recurrent weights of a layer and its two biases (`[4H, H]`, `[4H]`,
/// `[4H]`), as PyTorch stores them.
pub struct Recurrent<'a, D: Backend> {
    /// `weight_hh` `[4H, H]`.
    pub w_hh: &'a Matrix<D>,
    /// `bias_ih` `[4H]`.
    pub b_ih: &'a Vector<D>,
    /// `bias_hh` `[4H]`.
    pub b_hh: &'a Vector<D>,
}

// By hand: a derive would ask `D: Copy`, and these are references.
impl<D: Backend> Clone for Recurrent<'_, D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D: Backend> Copy for Recurrent<'_, D> {}

/// A layer's hidden-state sequence (with the tape), last `h` and last `c`.
pub type LayerOutput<D, T> = (Sequence<D, T>, Matrix<D>, Matrix<D>);

#[derive(Debug, Clone)]
struct LstmLayer<D: Backend> {
    w_ih: Param<D>,
    w_hh: Param<D>,
    b_ih: Param<D>,
    b_hh: Param<D>,
}

/// A stacked LSTM with PyTorch's `nn.LSTM` semantics.
///
/// For layer $l$ with input $x_t$ (the previous layer's hidden state for
/// $l > 0$), gates in PyTorch's order $(i, f, g, o)$:
///
/// $$\begin{aligned}
/// z_t &= W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh} \in \mathbb R^{4H},\\
/// i_t &= \sigma(z_t^{(0)}),\ f_t = \sigma(z_t^{(1)}),\ g_t = \tanh(z_t^{(2)}),\ o_t = \sigma(z_t^{(3)}),\\
/// c_t &= f_t \odot c_{t-1} + i_t \odot g_t,\qquad h_t = o_t \odot \tanh(c_t),
/// \end{aligned}$$
///
/// from $h_0 = c_0 = 0$. Parameters `weight_ih_l{k}` `[4H, I]`,
/// `weight_hh_l{k}` `[4H, H]`, `bias_ih_l{k}`, `bias_hh_l{k}` `[4H]`,
/// initialised $\mathcal U(-1/\sqrt H, 1/\sqrt H)$ like PyTorch. Input is
/// batch-first `[B, T, I]`.
///
/// Gradients come from dfdx's tape and the same code runs on any dfdx
/// device. The input projection $W_{ih} x_t$ of all time steps is one
/// matrix product; the recurrence is the device's
/// [`Backend::lstm_recurrence`](super::Backend::lstm_recurrence) — on the
/// CPU a fused kernel with its own backward, elsewhere composed from dfdx's
/// operations.
#[derive(Debug, Clone)]
pub struct Lstm<D: Backend> {
    input: usize,
    hidden: usize,
    layers: Vec<LstmLayer<D>>,
}

/// The LSTM's outputs.
pub struct LstmOutput<D: Backend, T> {
    /// Hidden states of the last layer for every step, **time-major**
    /// `[T, B, H]`; it carries the gradient tape.
    pub sequence: Sequence<D, T>,
    /// Last hidden state of every layer, `[B, H]` each (values only,
    /// PyTorch's `h_n`).
    pub hiddens: Vec<Matrix<D>>,
    /// Last cell state of every layer, `[B, H]` each (values only,
    /// PyTorch's `c_n`).
    pub cells: Vec<Matrix<D>>,
}

impl<D: Backend, T: Tape<f32, D> + Merge<T>> LstmOutput<D, T> {
    /// The last hidden state of the last layer, `[B, H]` (carries the tape).
    pub fn last(self) -> Result<Matrix<D, T>> {
        let (t, b, h) = *self.sequence.shape();
        self.sequence.try_slice((t - 1..t, .., ..)).map_err(nn_err)?.try_reshape_like(&(b, h)).map_err(nn_err)
    }

    /// The hidden states batch-first, `[B, T, H]`.
    pub fn batch_first(self) -> Result<Sequence<D, T>> {
        self.sequence.try_permute::<_, dfdx::prelude::Axes3<1, 0, 2>>().map_err(nn_err)
    }
}

impl<D: Backend> Lstm<D> {
    /// A seeded LSTM with `layers` layers of `hidden` units on `input` features.
    pub fn new(dev: &D, input: usize, hidden: usize, layers: usize, rng: &mut StdRng) -> Result<Self> {
        if input == 0 || hidden == 0 || layers == 0 {
            return Err(Error::param(
                Training::Lstm,
                format!("input, hidden and layers must be ≥ 1, got {input}, {hidden}, {layers}"),
            ));
        }
        let bound = 1.0 / (hidden as f32).sqrt();
        let g = 4 * hidden;
        let layers = (0..layers)
            .map(|l| {
                let i = if l == 0 { input } else { hidden };
                LstmLayer {
                    w_ih: Param::Matrix(dev.tensor_from_vec(uniform(rng, g * i, bound), (g, i))),
                    w_hh: Param::Matrix(dev.tensor_from_vec(uniform(rng, g * hidden, bound), (g, hidden))),
                    b_ih: Param::Vector(dev.tensor_from_vec(uniform(rng, g, bound), (g,))),
                    b_hh: Param::Vector(dev.tensor_from_vec(uniform(rng, g, bound), (g,))),
                }
            })
            .collect();
        Ok(Lstm { input, hidden, layers })
    }

    /// Input features per step.
    pub fn input_size(&self) -> usize {
        self.input
    }

    /// Hidden units per layer.
    pub fn hidden_size(&self) -> usize {
        self.hidden
    }

    /// Number of stacked layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Runs the sequence `x` `[B, T, I]` (batch-first, like
    /// `nn.LSTM(batch_first=True)`).
    pub fn forward<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<LstmOutput<D, T>> {
        let (b, t, i) = *x.shape();
        if i != self.input || t == 0 || b == 0 {
            return Err(Error::Shape(format!(
                "LSTM input must be [batch ≥ 1, time ≥ 1, {}], got [{b}, {t}, {i}]",
                self.input
            )));
        }
        // Time-major from here on: a step is a contiguous block.
        self.forward_time_major(x.try_permute::<_, dfdx::prelude::Axes3<1, 0, 2>>().map_err(nn_err)?)
    }

    /// Runs a time-major sequence `[T, B, I]` (as [`LstmOutput::sequence`]
    /// of a previous LSTM), so stacked LSTMs of different sizes chain
    /// without transposing back and forth.
    pub fn forward_time_major<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<LstmOutput<D, T>> {
        let (t, b, i) = *x.shape();
        if i != self.input || t == 0 || b == 0 {
            return Err(Error::Shape(format!(
                "LSTM input must be [time ≥ 1, batch ≥ 1, {}] (time-major), got [{t}, {b}, {i}]",
                self.input
            )));
        }
        let mut seq = x;
        let mut hiddens = Vec::with_capacity(self.layers.len());
        let mut cells = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let (s, h, c) = self.layer_forward(layer, seq)?;
            seq = s;
            hiddens.push(h);
            cells.push(c);
        }
        Ok(LstmOutput { sequence: seq, hiddens, cells })
    }

    /// One layer over a time-major sequence `[T, B, I]`.
    fn layer_forward<T: Tape<f32, D> + Merge<T>>(
        &self,
        layer: &LstmLayer<D>,
        x: Sequence<D, T>,
    ) -> Result<LayerOutput<D, T>> {
        let (w_ih, w_hh) = (layer.w_ih.matrix("an LSTM's weight_ih")?, layer.w_hh.matrix("an LSTM's weight_hh")?);
        let (b_ih, b_hh) = (layer.b_ih.vector("an LSTM's bias_ih")?, layer.b_hh.vector("an LSTM's bias_hh")?);
        let (t, b, i) = *x.shape();
        let h = self.hidden;
        let g4 = 4 * h;
        // Input projection of every step at once: [T·B, 4H].
        let x2 = x.try_reshape_like(&(t * b, i)).map_err(nn_err)?;
        let xp = x2.try_matmul(w_ih.clone().try_permute::<_, Axes2<1, 0>>().map_err(nn_err)?).map_err(nn_err)?;
        let xp = xp.try_reshape_like(&(t, b, g4)).map_err(nn_err)?;
        D::lstm_recurrence(xp, Recurrent { w_hh, b_ih, b_hh }, h)
    }

    pub(crate) fn named(&self, prefix: &str) -> Vec<(String, &Param<D>)> {
        let tensors = self.layers.iter().flat_map(|l| [&l.w_ih, &l.w_hh, &l.b_ih, &l.b_hh]);
        torch_names(prefix, self.layers.len()).zip(tensors).collect()
    }

    pub(crate) fn named_mut(&mut self, prefix: &str) -> Vec<(String, &mut Param<D>)> {
        let n = self.layers.len();
        let tensors = self.layers.iter_mut().flat_map(|l| [&mut l.w_ih, &mut l.w_hh, &mut l.b_ih, &mut l.b_hh]);
        torch_names(prefix, n).zip(tensors).collect()
    }
}

impl<D: Backend> Parameters<D> for Lstm<D> {
    fn parameters(&self) -> Vec<(String, &Param<D>)> {
        self.named("")
    }
    fn parameters_mut(&mut self) -> Vec<(String, &mut Param<D>)> {
        self.named_mut("")
    }
}

/// `nn.LSTM`'s parameter names, four per layer in [`LstmLayer`]'s field order.
fn torch_names(prefix: &str, layers: usize) -> impl Iterator<Item = String> + '_ {
    (0..layers)
        .flat_map(move |l| ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map(|kind| format!("{prefix}{kind}_l{l}")))
}

pub(crate) fn split<S: dfdx::shapes::Shape, D: Backend, T>(t: Tensor<S, f32, D, T>) -> (Tensor<S, f32, D>, T) {
    dfdx::tensor::SplitTape::split_tape(t)
}

pub(crate) fn put<S: dfdx::shapes::Shape, D: Backend, T>(t: Tensor<S, f32, D>, tape: T) -> Tensor<S, f32, D, T> {
    dfdx::tensor::PutTape::put_tape(t, tape)
}

/// A tensor of `shape` holding `values` (row-major), in storage taken from
/// the device's allocation cache when it is enabled: tensors made every
/// batch this way hand their storage back to the cache when dropped and
/// take the same amount out, so the cache stays bounded (a tensor built
/// with `tensor_from_vec` would only ever add to it).
pub(crate) fn tensor_from<S: dfdx::shapes::Shape, D: Backend>(
    dev: &D,
    values: &[f32],
    shape: S,
) -> Result<Tensor<S, f32, D>> {
    if values.len() != shape.num_elements() {
        return Err(Error::Shape(format!("{} values for a tensor of shape {:?}", values.len(), shape.concrete())));
    }
    let mut t = dev.try_zeros_like(&shape).map_err(nn_err)?;
    t.copy_from(values);
    Ok(t)
}

/// A seeded random generator for model initialisation.
pub(crate) fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}
