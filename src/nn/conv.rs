//! A 1-D convolution over time and max pooling over time.

use crate::parameter::Training;
use dfdx::prelude::*;

use super::lstm::{nn_err, put, split, uniform};
use super::{Backend, Matrix, Param, Sequence};
use crate::error::{Error, Result};

/// A convolution's sum of products and its shifted inputs (untaped).
type Products<D, T> = (Matrix<D, T>, Vec<Matrix<D>>);

/// A 1-D convolution over time with `valid` padding and stride 1:
/// $y_{b,t,f} = b_f + \sum_{k<K}\sum_{c<C} W_{f,c,k}\, x_{b,t+k,c}$ for
/// $t < T - K + 1$. PyTorch's `nn.Conv1d(C, F, K)` initialisation,
/// $\mathcal U(\pm 1/\sqrt{CK})$.
///
/// `weight` is stored `[F, K·C]` — PyTorch's `[F, C, K]` permuted to
/// `[F, K, C]` and flattened — so each kernel offset is a contiguous block
/// of columns and the convolution is $K$ matrix products on the batch-first
/// input, with no unfolding copy.
#[derive(Debug, Clone)]
pub struct Conv1d<D: Backend> {
    channels: usize,
    kernel: usize,
    weight: Param<D>,
    bias: Param<D>,
}

impl<D: Backend> Conv1d<D> {
    /// A seeded layer with `channels` inputs, `filters` outputs and a kernel
    /// of `kernel` steps.
    pub fn new(dev: &D, channels: usize, filters: usize, kernel: usize, rng: &mut rand::rngs::StdRng) -> Result<Self> {
        if channels == 0 || filters == 0 || kernel == 0 {
            return Err(Error::param(
                Training::Conv1d,
                format!("channels, filters and kernel must be ≥ 1, got {channels}, {filters}, {kernel}"),
            ));
        }
        let bound = 1.0 / ((channels * kernel) as f32).sqrt();
        let w = uniform(rng, filters * kernel * channels, bound);
        let b = uniform(rng, filters, bound);
        Ok(Conv1d {
            channels,
            kernel,
            weight: Param::Matrix(dev.tensor_from_vec(w, (filters, kernel * channels))),
            bias: Param::Vector(dev.tensor_from_vec(b, (filters,))),
        })
    }

    /// `x` `[B, T, C]` → `[B, T − K + 1, F]`.
    pub fn forward<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<Sequence<D, T>> {
        let (b, t, c) = *x.shape();
        self.check_input(b, t, c)?;
        let (y, _) = self.products(x)?;
        self.add_bias(y, b)
    }

    /// As [`forward`](Self::forward), for a network's first layer: `x` is
    /// data, so no gradient is taken for it (its tape carries on to the
    /// output, as the parameters' gradients need). Devices may skip the
    /// input's gradient (the CPU does, see [`Backend::conv1d_input`]); the
    /// output and the parameters' gradients are those of `forward`, to the
    /// bit.
    pub fn forward_input<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<Sequence<D, T>> {
        let (b, t, c) = *x.shape();
        self.check_input(b, t, c)?;
        D::conv1d_input(self, x)
    }

    /// $\sum_j X_j W_j^\top$ `[B·steps, F]`, the products of the input
    /// shifted by `j` (`[B·steps, C]`) and the weight's block `j` (`[F, C]`),
    /// summed in order; and the shifted inputs, untaped. The input is read
    /// K times: its tape rides on the first read and the other reads merge
    /// back through the sum.
    fn products<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<Products<D, T>> {
        let w = self.weight.matrix("a convolution's weight")?;
        let (b, t, c) = *x.shape();
        let k = self.kernel;
        let steps = t - k + 1;
        let (x, tape) = split(x);
        let mut tape = Some(tape);
        let mut inputs = Vec::with_capacity(k);
        let mut y: Option<Matrix<D, T>> = None;
        for j in 0..k {
            let xj = match tape.take() {
                Some(tp) => put(x.clone(), tp),
                None => x.retaped::<T>(),
            };
            let xj = xj
                .try_slice((.., j..j + steps, ..))
                .map_err(nn_err)?
                .try_reshape_like(&(b * steps, c))
                .map_err(nn_err)?;
            inputs.push(xj.retaped::<NoneTape>());
            let wj = w
                .retaped::<T>()
                .try_slice((.., j * c..(j + 1) * c))
                .map_err(nn_err)?
                .try_permute::<_, Axes2<1, 0>>()
                .map_err(nn_err)?;
            let term = xj.try_matmul(wj).map_err(nn_err)?;
            y = Some(match y {
                None => term,
                Some(acc) => acc + term,
            });
        }
        Ok((y.ok_or_else(|| Error::Shape("Conv1d kernel is empty".into()))?, inputs))
    }

    /// `y` `[B·steps, F]` plus the bias, as `[B, steps, F]`.
    fn add_bias<T: Tape<f32, D> + Merge<T>>(&self, y: Matrix<D, T>, b: usize) -> Result<Sequence<D, T>> {
        let bias = self.bias.vector("a convolution's bias")?;
        let (rows, f) = *y.shape();
        let bias = bias.retaped::<T>().try_broadcast_like::<_, Axis<0>>(&(rows, f)).map_err(nn_err)?;
        (y + bias).try_reshape_like(&(b, rows / b, f)).map_err(nn_err)
    }

    fn check_input(&self, b: usize, t: usize, c: usize) -> Result<()> {
        let k = self.kernel;
        if c != self.channels || t < k || b == 0 {
            return Err(Error::Shape(format!(
                "Conv1d input must be [batch ≥ 1, time ≥ {k}, {}], got [{b}, {t}, {c}]",
                self.channels
            )));
        }
        Ok(())
    }

    pub(crate) fn named(&self, prefix: &str) -> Vec<(String, &Param<D>)> {
        vec![(format!("{prefix}weight"), &self.weight), (format!("{prefix}bias"), &self.bias)]
    }

    pub(crate) fn named_mut(&mut self, prefix: &str) -> Vec<(String, &mut Param<D>)> {
        vec![(format!("{prefix}weight"), &mut self.weight), (format!("{prefix}bias"), &mut self.bias)]
    }
}

impl<D: Backend> super::Parameters<D> for Conv1d<D> {
    fn parameters(&self) -> Vec<(String, &Param<D>)> {
        self.named("")
    }
    fn parameters_mut(&mut self) -> Vec<(String, &mut Param<D>)> {
        self.named_mut("")
    }
}

/// Max pooling over time with window and stride `pool` (PyTorch's
/// `MaxPool1d(pool)`: a trailing incomplete window is dropped).
/// `[B, T, F]` → `[B, ⌊T/pool⌋, F]`.
pub fn max_pool_time<D: Backend, T: Tape<f32, D> + Merge<T>>(x: Sequence<D, T>, pool: usize) -> Result<Sequence<D, T>> {
    let (b, t, f) = *x.shape();
    let p = t / pool.max(1);
    if pool == 0 || p == 0 {
        return Err(Error::Shape(format!("max pooling of {pool} steps needs ≥ {pool} steps, got {t}")));
    }
    let x = if p * pool == t { x } else { x.try_slice((.., 0..p * pool, ..)).map_err(nn_err)? };
    x.try_reshape_like(&(b, p, pool, f)).map_err(nn_err)?.try_max::<_, Axis<2>>().map_err(nn_err)
}

/// [`Conv1d::forward_input`] on the CPU: `forward`'s products and sums,
/// untaped, and one backward operation that gives the weight its gradient,
/// block by block as `forward`'s backward does ($\bar W_j = \bar Y^\top
/// X_j$), without the input's gradient that `forward` computes and drops.
/// The bias is added as in `forward`.
pub(crate) fn conv1d_input_cpu<T: Tape<f32, Cpu> + Merge<T>>(
    conv: &Conv1d<Cpu>,
    x: Sequence<Cpu, T>,
) -> Result<Sequence<Cpu, T>> {
    let w = conv.weight.matrix("a convolution's weight")?;
    let (b, _, c) = *x.shape();
    let k = conv.kernel;
    let (x, mut tape) = split(x);
    let (y, inputs) = conv.products(x)?;
    let (rows, f) = *y.shape();
    let (y_ghost, w_ghost) = (y.ghost(), w.ghost());
    let dev = y.device().clone();
    tape.add_backward_op(move |grads| {
        let dy = dev.tensor_from_vec(grads.get_or_alloc_mut(&y_ghost)?.to_vec(), (rows, f));
        let dyt = dy.permute::<_, Axes2<1, 0>>();
        let blocks = inputs
            .iter()
            .map(|xj| dyt.clone().try_matmul(xj.clone()).map(|g| g.as_vec()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let dw = grads.get_or_alloc_mut(&w_ghost)?;
        for (j, block) in blocks.iter().enumerate() {
            for (row, g) in dw.chunks_exact_mut(k * c).zip(block.chunks_exact(c)) {
                row[j * c..(j + 1) * c].iter_mut().zip(g).for_each(|(acc, v)| *acc += v);
            }
        }
        Ok(())
    });
    conv.add_bias(put(y, tape), b)
}
