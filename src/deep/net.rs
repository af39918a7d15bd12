//! The CNN+LSTM allocation network: a 1-D convolution over time, max
//! pooling, two LSTMs and a dense head whose softmax gives the weights.

use crate::parameter::Deep;
use dfdx::prelude::*;

use crate::error::{Error, Result};
use crate::nn::{
    copy_parameters, max_pool_time, nn_err, seeded, Backend, Conv1d, Dense, Lstm, Matrix, Param, Parameters, Sequence,
};

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
    /// window of `lookback` days (0 when the window is too short).
    pub fn steps_after_pooling(&self, lookback: usize) -> usize {
        if self.kernel == 0 || self.pool == 0 || lookback < self.kernel {
            return 0;
        }
        (lookback - self.kernel + 1) / self.pool
    }

    pub(crate) fn check(&self, lookback: usize) -> Result<()> {
        for (name, v) in [
            (Deep::Filters, self.filters),
            (Deep::Kernel, self.kernel),
            (Deep::Pool, self.pool),
            (Deep::Hidden1, self.hidden1),
            (Deep::Hidden2, self.hidden2),
        ] {
            if v == 0 {
                return Err(Error::param(name, "must be ≥ 1, got 0"));
            }
        }
        if self.steps_after_pooling(lookback) == 0 {
            return Err(Error::param(
                Deep::Lookback,
                format!(
                    "a window of {lookback} days leaves no step after a kernel of {} and pooling of {}: needs ≥ {}",
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
pub(crate) fn check_assets(name: Deep, assets: usize) -> Result<()> {
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
    /// A seeded network for `assets` assets and `lookback`-day windows.
    pub fn new(dev: &D, assets: usize, lookback: usize, arch: Architecture, seed: u64) -> Result<Self> {
        arch.check(lookback)?;
        check_assets(Deep::Returns, assets)?;
        let mut rng = seeded(seed);
        let conv = Conv1d::new(dev, assets, arch.filters, arch.kernel, &mut rng)?;
        let lstm1 = Lstm::new(dev, arch.filters, arch.hidden1, 1, &mut rng)?;
        let lstm2 = Lstm::new(dev, arch.hidden1, arch.hidden2, 1, &mut rng)?;
        let head = Dense::new(dev, arch.hidden2, assets, &mut rng);
        Ok(CnnLstm { assets, arch, conv, lstm1, lstm2, head })
    }

    /// The same network (its weights copied) on device `dev`, for
    /// `lookback`-day windows.
    pub fn to_device<E: Backend>(&self, dev: &E, lookback: usize) -> Result<CnnLstm<E>> {
        let mut net = CnnLstm::new(dev, self.assets, lookback, self.arch, 0)?;
        copy_parameters(self, &mut net)?;
        Ok(net)
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
    /// `[B, lookback, N]` of scaled returns.
    pub fn forward<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<Matrix<D, T>> {
        self.scores(x)?.try_softmax::<Axis<1>>().map_err(nn_err)
    }

    /// The scores `[B, N]` in $[-1, 1]$ (the dense layer through tanh)
    /// that an [`AllocationHead`](super::AllocationHead) turns into
    /// weights, for windows `x` `[B, lookback, N]`.
    pub fn scores<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<Matrix<D, T>> {
        let conv = self.conv.forward_input(x)?.try_relu().map_err(nn_err)?;
        let pooled = max_pool_time(conv, self.arch.pool)?;
        let seq = self.lstm1.forward(pooled)?.sequence;
        let last = self.lstm2.forward_time_major(seq)?.last()?;
        self.head.forward(last)?.try_tanh().map_err(nn_err)
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
