//! A 1-D convolution over time and max pooling over time.

use dfdx::prelude::*;

use super::lstm::{nn_err, put, split, uniform};
use super::{Backend, Matrix, Param, Sequence};
use crate::error::{Error, Result};

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
                "conv1d",
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
        let k = self.kernel;
        if c != self.channels || t < k || b == 0 {
            return Err(Error::Shape(format!(
                "Conv1d input must be [batch ≥ 1, time ≥ {k}, {}], got [{b}, {t}, {c}]",
                self.channels
            )));
        }
        let (Param::Matrix(w), Param::Vector(bias)) = (&self.weight, &self.bias) else { unreachable!() };
        let f = w.shape().0;
        let steps = t - k + 1;
        // The input is read K times; its tape rides on the first read and
        // the other reads merge back through the sum.
        let (x, tape) = split(x);
        let mut tape = Some(tape);
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
        let y = y.ok_or_else(|| Error::Shape("Conv1d kernel is empty".into()))?;
        let bias = bias.retaped::<T>().try_broadcast_like::<_, Axis<0>>(&(b * steps, f)).map_err(nn_err)?;
        (y + bias).try_reshape_like(&(b, steps, f)).map_err(nn_err)
    }

    pub(crate) fn named(&self, prefix: &str) -> Vec<(String, &Param<D>)> {
        vec![(format!("{prefix}weight"), &self.weight), (format!("{prefix}bias"), &self.bias)]
    }

    pub(crate) fn named_mut(&mut self, prefix: &str) -> Vec<(String, &mut Param<D>)> {
        vec![(format!("{prefix}weight"), &mut self.weight), (format!("{prefix}bias"), &mut self.bias)]
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
