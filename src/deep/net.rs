//! The CNN+LSTM allocation network: a 1-D convolution over time, max
//! pooling, two LSTMs and a dense head whose softmax gives the weights.

use dfdx::prelude::*;

use crate::error::{Error, Result};
use crate::forecast::lstm::{nn_err, put, seeded, split, uniform};
use crate::forecast::{Backend, Dense, Lstm, Matrix, Param, Parameters, Sequence};

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

    fn named(&self, prefix: &str) -> Vec<(String, &Param<D>)> {
        vec![(format!("{prefix}weight"), &self.weight), (format!("{prefix}bias"), &self.bias)]
    }

    fn named_mut(&mut self, prefix: &str) -> Vec<(String, &mut Param<D>)> {
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

/// Sizes of the allocation network (the study's by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Architecture {
    /// Convolution filters (64).
    pub filters: usize,
    /// Convolution kernel, in days (3).
    pub kernel: usize,
    /// Max-pooling window (2).
    pub pool: usize,
    /// Units of the first LSTM, which returns its full sequence (32).
    pub hidden1: usize,
    /// Units of the second LSTM, whose last state feeds the head (16).
    pub hidden2: usize,
}

impl Default for Architecture {
    fn default() -> Self {
        Architecture { filters: 64, kernel: 3, pool: 2, hidden1: 32, hidden2: 16 }
    }
}

impl Architecture {
    /// Time steps left after the convolution and the pooling, for an input
    /// window of `n_time` days (0 when the window is too short).
    pub fn steps_after_pooling(&self, n_time: usize) -> usize {
        if self.kernel == 0 || self.pool == 0 || n_time < self.kernel {
            return 0;
        }
        (n_time - self.kernel + 1) / self.pool
    }

    pub(crate) fn check(&self, n_time: usize) -> Result<()> {
        for (name, v) in [
            ("filters", self.filters),
            ("kernel", self.kernel),
            ("pool", self.pool),
            ("hidden1", self.hidden1),
            ("hidden2", self.hidden2),
        ] {
            if v == 0 {
                return Err(Error::param(name, "must be ≥ 1, got 0"));
            }
        }
        if self.steps_after_pooling(n_time) == 0 {
            return Err(Error::param(
                "n_time",
                format!(
                    "a window of {n_time} days leaves no step after a kernel of {} and pooling of {}: needs ≥ {}",
                    self.kernel,
                    self.pool,
                    self.kernel + self.pool - 1
                ),
            ));
        }
        Ok(())
    }
}

/// An allocation needs two assets or more; `name` is the parameter blamed.
pub(crate) fn check_assets(name: &str, assets: usize) -> Result<()> {
    if assets < 2 {
        return Err(Error::param(
            name,
            format!("an allocation needs ≥ 2 assets (a softmax over one asset is always 1), got {assets}"),
        ));
    }
    Ok(())
}

/// Conv1D(ReLU) → MaxPool1D → LSTM (full sequence) → LSTM (last state) →
/// Dense(N, tanh) → softmax: long-only weights that sum to 1.
///
/// The tanh bounds the logits to $[-1, 1]$, so no weight can exceed
/// $e^2/(e^2 + N - 1)$ (0.71 for 4 assets, 0.28 for 20) nor fall below
/// $1/(1 + (N-1)e^2)$: the study's head keeps every asset in the
/// portfolio and caps concentration.
///
/// Parameter names: `conv.weight` (`[F, K·C]`, see [`Conv1d`]),
/// `conv.bias`, `lstm1.*` and `lstm2.*` (PyTorch `nn.LSTM` names),
/// `head.weight`, `head.bias`.
#[derive(Debug, Clone)]
pub struct CnnLstm<D: Backend> {
    assets: usize,
    arch: Architecture,
    conv: Conv1d<D>,
    lstm1: Lstm<D>,
    lstm2: Lstm<D>,
    head: Dense<D>,
}

impl<D: Backend> CnnLstm<D> {
    /// A seeded network for `assets` assets and `n_time`-day windows.
    pub fn new(dev: &D, assets: usize, n_time: usize, arch: Architecture, seed: u64) -> Result<Self> {
        arch.check(n_time)?;
        check_assets("assets", assets)?;
        let mut rng = seeded(seed);
        let conv = Conv1d::new(dev, assets, arch.filters, arch.kernel, &mut rng)?;
        let lstm1 = Lstm::new(dev, arch.filters, arch.hidden1, 1, &mut rng)?;
        let lstm2 = Lstm::new(dev, arch.hidden1, arch.hidden2, 1, &mut rng)?;
        let head = Dense::new(dev, arch.hidden2, assets, &mut rng);
        Ok(CnnLstm { assets, arch, conv, lstm1, lstm2, head })
    }

    /// Number of assets (inputs per day and outputs).
    pub fn assets(&self) -> usize {
        self.assets
    }

    /// The layer sizes.
    pub fn architecture(&self) -> Architecture {
        self.arch
    }

    /// Weights `[B, N]` (rows non-negative, summing to 1) for windows `x`
    /// `[B, n_time, N]` of scaled returns.
    pub fn forward<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<Matrix<D, T>> {
        let conv = self.conv.forward(x)?.try_relu().map_err(nn_err)?;
        let pooled = max_pool_time(conv, self.arch.pool)?;
        let seq = self.lstm1.forward(pooled)?.sequence;
        let last = self.lstm2.forward_time_major(seq)?.last()?;
        let logits = self.head.forward(last)?.try_tanh().map_err(nn_err)?;
        logits.try_softmax::<Axis<1>>().map_err(nn_err)
    }
}

impl<D: Backend> Parameters<D> for CnnLstm<D> {
    fn parameters(&self) -> Vec<(String, &Param<D>)> {
        let mut v = self.conv.named("conv.");
        v.extend(self.lstm1.named("lstm1."));
        v.extend(self.lstm2.named("lstm2."));
        v.extend(self.head.named("head."));
        v
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Param<D>)> {
        let mut v = self.conv.named_mut("conv.");
        v.extend(self.lstm1.named_mut("lstm1."));
        v.extend(self.lstm2.named_mut("lstm2."));
        v.extend(self.head.named_mut("head."));
        v
    }
}
