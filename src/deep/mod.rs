//! End-to-end deep allocation: a CNN+LSTM network maps the last `lookback`
//! days of N assets' returns straight to long-only portfolio weights, and is
//! trained to maximise a portfolio objective over the next `horizon` days
//! ([`PortfolioLoss`]: Markowitz certainty equivalent, or the realised Sharpe
//! ratio). No return forecast in between.
//!
//! "The study" is the CNN+LSTM allocation study of the project's founding
//! description, whose settings are the defaults here: 20 days in and 20
//! out, Conv1D(64, 3) → MaxPool(2) → LSTM(32) → LSTM(16) → Dense(tanh) →
//! softmax, returns scaled by 20, λ in {0, 0.1, 0.15}. The Sharpe loss is
//! Zhang, Zohren & Roberts (2020), "Deep learning for portfolio
//! optimisation".
//!
//! **Samples.** For a start row $s$, the input is rows $s..s+\text{lookback}$
//! (`[lookback, N]`) and the target is the next `horizon` rows — the days
//! the weights would be held. Starts advance by `stride` rows.
//!
//! **Scaling.** Returns are multiplied by `scale` (default `lookback`, as in
//! the study) both as inputs and in the objective; nothing is fitted, so no
//! statistic of later rows can leak into earlier samples.
//!
//! **Split.** The latest `validation` fraction of samples validates (early
//! stopping, weights from the best epoch); training samples whose target
//! window would overlap the validation targets are dropped, so training
//! targets end before the first validation target.
//!
//! **Network** ([`CnnLstm`]): Conv1D over time (64 filters, kernel 3, ReLU)
//! → MaxPool1D(2) → LSTM(32, full sequence) → LSTM(16, last state) →
//! Dense(N, tanh) → softmax, on the same [`Lstm`](crate::nn::Lstm)
//! and training loop (Adam, clipping, seeded mini-batches, live progress) as
//! the forecaster, on any dfdx device.
//!
//! **Judged** only in the walk-forward backtest ([`DeepStrategy`]): weights
//! for each holding period come from a model trained on the data before it.

mod head;
#[cfg(feature = "optimize")]
mod layers;
mod loss;
mod net;
mod strategy;

use crate::parameter::Deep;
use chrono::NaiveDate;
use dfdx::prelude::*;
use ndarray::{Array2, ArrayView1, ArrayView2};

pub use head::{AllocationHead, WINDOW_SHRINKAGE};
#[cfg(feature = "optimize")]
pub use layers::{LayerStats, MarkowitzLayer, MarkowitzLayerParams, ACTIVE_THRESHOLD};
pub use loss::PortfolioLoss;
pub use net::{Architecture, CnnLstm};
pub use strategy::DeepStrategy;

use crate::data::Returns;
use crate::error::{Error, Result};
use crate::forecast::last_rows;
use crate::nn::train::{fit, scalar, Trainable};
use crate::nn::{chunks, tensor_from, Backend, Cpu, Device, History, Matrix, Param, Parameters, Sequence, TrainParams};
use crate::portfolio::Weights;

impl DeepAllocator<Cpu> {
    /// The study's settings: windows of 20 days in and 20 days out, the
    /// default [`Architecture`], Markowitz λ = 0.1, returns scaled by 20,
    /// the last 20 % of samples validating, 30 epochs (patience 5), batch
    /// 64, Adam 1e-3, clipping at norm 1, seed 42, progress printed.
    ///
    /// ```
    /// use assetalloc::prelude::*;
    /// let log = Synthetic::params().assets(3).days(300).seed(4).generate()?.returns;
    /// let model: DeepAllocator = DeepAllocator::params().epochs(1).verbose(false).fit(&log)?;
    /// let w = model.weights(log.values())?;
    /// assert!((w.values().sum() - 1.0).abs() < 1e-5);
    /// # Ok::<(), assetalloc::Error>(())
    /// ```
    pub fn params() -> DeepAllocatorParams {
        DeepAllocatorParams {
            lookback: 20,
            horizon: 20,
            architecture: Architecture::default(),
            objective: PortfolioLoss::markowitz(0.1),
            scale: None,
            validation: 0.2,
            stride: 1,
            head: AllocationHead::default(),
            train: TrainParams::default(),
        }
    }
}

/// Settings of a deep allocator (see [`DeepAllocator::params`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DeepAllocatorParams {
    lookback: usize,
    horizon: usize,
    architecture: Architecture,
    objective: PortfolioLoss,
    scale: Option<f64>,
    validation: f64,
    stride: usize,
    head: AllocationHead,
    train: TrainParams,
}

impl DeepAllocatorParams {
    /// Look-back window: the days of returns the network sees.
    pub fn lookback(mut self, n: usize) -> Self {
        self.lookback = n;
        self
    }
    /// Horizon: the days the weights are judged on (the holding period).
    pub fn horizon(mut self, n: usize) -> Self {
        self.horizon = n;
        self
    }
    /// Layer sizes.
    pub fn architecture(mut self, a: Architecture) -> Self {
        self.architecture = a;
        self
    }
    /// Training objective.
    pub fn objective(mut self, o: PortfolioLoss) -> Self {
        self.objective = o;
        self
    }
    /// Markowitz objective with risk aversion `lambda` (no L2).
    pub fn risk_aversion(mut self, lambda: f64) -> Self {
        self.objective = PortfolioLoss::markowitz(lambda);
        self
    }
    /// Factor applied to returns.
    pub fn scale(mut self, s: f64) -> Self {
        self.scale = Some(s);
        self
    }
    /// Validation fraction.
    pub fn validation(mut self, v: f64) -> Self {
        self.validation = v;
        self
    }
    /// Rows between sample starts.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }
    /// How the network's scores become weights (a softmax by default).
    pub fn head(mut self, h: AllocationHead) -> Self {
        self.head = h;
        self
    }
    crate::nn::train::train_setters!();

    /// The factor applied to returns.
    pub fn scale_factor(&self) -> f64 {
        self.scale.unwrap_or(self.lookback as f64)
    }

    fn check(&self, returns: &Returns) -> Result<()> {
        self.train.check()?;
        self.objective.check()?;
        self.architecture.check(self.lookback)?;
        if self.horizon < 2 {
            return Err(Error::param(
                Deep::Horizon,
                format!("the objective needs a variance over ≥ 2 days, got {}", self.horizon),
            ));
        }
        if self.stride == 0 {
            return Err(Error::param(Deep::Stride, "must be ≥ 1, got 0"));
        }
        let s = self.scale_factor();
        if !(s > 0.0 && s.is_finite()) {
            return Err(Error::param(Deep::Scale, format!("must be > 0, got {s}")));
        }
        if !(0.0..0.9).contains(&self.validation) {
            return Err(Error::param(Deep::Validation, format!("must be in [0, 0.9), got {}", self.validation)));
        }
        net::check_assets(Deep::Returns, returns.assets().len())?;
        self.head.check(returns.assets().len())?;
        crate::data::require_complete(returns.values(), returns.dates(), returns.assets(), "deep allocation")?;
        let rows = returns.len();
        if rows < self.lookback + self.horizon {
            return Err(Error::TooFewRows {
                operation: format!(
                    "a deep allocator with {} days in and {} days out (one sample)",
                    self.lookback, self.horizon
                ),
                needed: self.lookback + self.horizon,
                got: rows,
            });
        }
        let min_train = self.train.batch_size.min(32);
        if self.split(rows).0.len() < min_train {
            let needed = self.rows_needed(min_train);
            return Err(Error::TooFewRows {
                operation: format!(
                    "a deep allocator ({min_train} training samples of {} + {} days, stride {}, after a {:.0} % \
                     validation block)",
                    self.lookback,
                    self.horizon,
                    self.stride,
                    self.validation * 100.0
                ),
                needed,
                got: rows,
            });
        }
        Ok(())
    }

    /// The fewest rows that give `min_train` training samples. With $S$
    /// sample starts (rows $= \text{span} + (S-1)\cdot\text{stride}$) the
    /// training count never falls as $S$ grows, and it reaches `min_train`
    /// within a number of starts bounded by `min_train`, the validation
    /// share and the horizon over the stride, so a short scan over $S$
    /// finds it (never a scan over rows, which a large stride makes endless).
    fn rows_needed(&self, min_train: usize) -> usize {
        let span = self.lookback + self.horizon;
        let purge = self.horizon.div_ceil(self.stride.max(1));
        let limit = ((min_train + purge + 2) as f64 / (1.0 - self.validation)).ceil() as usize + 2;
        (1..=limit)
            .map(|starts| span.saturating_add((starts - 1).saturating_mul(self.stride)))
            .find(|&rows| self.split(rows).0.len() >= min_train)
            .unwrap_or(usize::MAX)
    }

    /// Sample start rows of the training and validation blocks for `rows`
    /// rows of returns.
    fn split(&self, rows: usize) -> (Vec<usize>, Vec<usize>) {
        let span = self.lookback + self.horizon;
        if rows < span || self.stride == 0 {
            return (vec![], vec![]);
        }
        let starts: Vec<usize> = (0..=rows - span).step_by(self.stride).collect();
        let n_val = (starts.len() as f64 * self.validation).round() as usize;
        let (train, val) = starts.split_at(starts.len() - n_val);
        let train = match val.first() {
            // Training targets end before the first validation target.
            Some(&v0) => train.iter().copied().filter(|&s| s + self.horizon <= v0).collect(),
            None => train.to_vec(),
        };
        (train, val.to_vec())
    }

    /// Trains on `returns` (log or simple, as given; every asset on every
    /// date) on the [`device`](Self::device) set (the CPU by default); the
    /// network comes back on the CPU.
    pub fn fit(&self, returns: &Returns) -> Result<DeepAllocator<Cpu>> {
        match &self.train.device {
            Device::Cpu => self.fit_on(&crate::nn::training_cpu(), returns),
            #[cfg(feature = "cuda")]
            Device::Cuda(gpu) => self.fit_on(&gpu.dfdx()?, returns)?.to_device(&crate::nn::training_cpu()),
        }
    }

    /// [`fit`](Self::fit) on a given dfdx device, used as given, the
    /// network staying there (the CPU of [`Device::cpu`] has its allocation
    /// cache on).
    pub fn fit_on<D: Backend>(&self, dev: &D, returns: &Returns) -> Result<DeepAllocator<D>> {
        self.check(returns)?;
        let scale = self.scale_factor();
        let z = returns.values().mapv(|v| (v * scale) as f32);
        let (train, val) = self.split(returns.len());
        let net = CnnLstm::new(dev, returns.assets().len(), self.lookback, self.architecture, self.train.seed)?;
        let samples = Samples { z: &z, lookback: self.lookback, horizon: self.horizon, dev: dev.clone() };
        let mut job =
            Job { net, samples: &samples, objective: self.objective, head: &self.head, train: &train, val: &val };
        let history = fit(&mut job, train.len(), &self.train)?;
        let dates = returns.dates();
        let span = |s: &[usize]| -> Option<(NaiveDate, NaiveDate)> {
            Some((dates[*s.first()? + self.lookback], dates[*s.last()? + self.lookback + self.horizon - 1]))
        };
        Ok(DeepAllocator {
            net: job.net,
            lookback: self.lookback,
            scale,
            assets: returns.assets().to_vec(),
            objective: self.objective,
            head: self.head.clone(),
            history,
            train_targets: span(&train),
            validation_targets: span(&val),
        })
    }
}

/// Scaled returns and the sampling rule, shared by training and validation.
struct Samples<'a, D: Backend> {
    z: &'a Array2<f32>,
    lookback: usize,
    horizon: usize,
    dev: D,
}

impl<D: Backend> Samples<'_, D> {
    /// Inputs `[B, lookback, N]` and future returns `[B, N, horizon]` of the
    /// samples starting at rows `starts`.
    fn batch(&self, starts: &[usize]) -> Result<(Sequence<D>, Sequence<D>)> {
        let n = self.z.ncols();
        let (t, f) = (self.lookback, self.horizon);
        let b = starts.len();
        let mut x = Vec::with_capacity(b * t * n);
        let mut y = Vec::with_capacity(b * n * f);
        for &s in starts {
            x.extend(self.z.slice(ndarray::s![s..s + t, ..]).iter());
            y.extend(self.z.slice(ndarray::s![s + t..s + t + f, ..]).t().iter());
        }
        Ok((tensor_from(&self.dev, &x, (b, t, n))?, tensor_from(&self.dev, &y, (b, n, f))?))
    }

    /// The input windows `[lookback, N]` of the samples starting at rows
    /// `starts`, where `head` needs them (none otherwise).
    fn windows(&self, starts: &[usize], head: &AllocationHead) -> Vec<ArrayView2<'_, f32>> {
        if !head.needs_windows() {
            return Vec::new();
        }
        starts.iter().map(|&s| self.z.slice(ndarray::s![s..s + self.lookback, ..])).collect()
    }
}

struct Job<'a, D: Backend> {
    net: CnnLstm<D>,
    samples: &'a Samples<'a, D>,
    objective: PortfolioLoss,
    head: &'a AllocationHead,
    train: &'a [usize],
    val: &'a [usize],
}

impl<D: Backend> Clone for Job<'_, D> {
    fn clone(&self) -> Self {
        Job { net: self.net.clone(), ..*self }
    }
}

impl<D: Backend> Parameters<D> for Job<'_, D> {
    fn parameters(&self) -> Vec<(String, &Param<D>)> {
        self.net.parameters()
    }
    fn parameters_mut(&mut self) -> Vec<(String, &mut Param<D>)> {
        self.net.parameters_mut()
    }
}

impl<D: Backend> Trainable<D> for Job<'_, D> {
    fn loss_and_grads(&self, batch: &[usize]) -> Result<(f64, Gradients<f32, D>)> {
        let starts: Vec<usize> = batch.iter().map(|&k| self.train[k]).collect();
        let (x, future) = self.samples.batch(&starts)?;
        let scores = self.net.scores(x.traced(Gradients::leaky()))?;
        let w = self.head.apply(scores, &self.samples.windows(&starts, self.head), None)?;
        let l = self.objective.loss(w, &future)?;
        let v = scalar(&l);
        Ok((v, l.backward()))
    }

    fn validation_loss(&self) -> Result<Option<f64>> {
        if self.val.is_empty() {
            return Ok(None);
        }
        let mut total = 0.0;
        for c in chunks(0..self.val.len(), 1024) {
            let starts = &self.val[c.clone()];
            let (x, future) = self.samples.batch(starts)?;
            let w = self.head.apply(self.net.scores(x)?, &self.samples.windows(starts, self.head), None)?;
            total += scalar(&self.objective.loss::<D, NoneTape>(w, &future)?) * c.len() as f64;
        }
        Ok(Some(total / self.val.len() as f64))
    }
}

/// A trained allocation network (see the [module docs](self)): built by
/// [`DeepAllocator::params`]`().fit(..)`.
#[derive(Debug, Clone)]
pub struct DeepAllocator<D: Backend = Cpu> {
    net: CnnLstm<D>,
    lookback: usize,
    scale: f64,
    assets: Vec<String>,
    objective: PortfolioLoss,
    head: AllocationHead,
    history: History,
    train_targets: Option<(NaiveDate, NaiveDate)>,
    validation_targets: Option<(NaiveDate, NaiveDate)>,
}

impl<D: Backend> DeepAllocator<D> {
    /// The same trained allocator with its network on device `dev`.
    pub fn to_device<E: Backend>(&self, dev: &E) -> Result<DeepAllocator<E>> {
        Ok(DeepAllocator {
            net: self.net.to_device(dev, self.lookback)?,
            lookback: self.lookback,
            scale: self.scale,
            assets: self.assets.clone(),
            objective: self.objective,
            head: self.head.clone(),
            history: self.history.clone(),
            train_targets: self.train_targets,
            validation_targets: self.validation_targets,
        })
    }

    /// The network.
    pub fn network(&self) -> &CnnLstm<D> {
        &self.net
    }
    /// The objective it was trained on.
    pub fn objective(&self) -> PortfolioLoss {
        self.objective
    }
    /// How its scores become weights.
    pub fn head(&self) -> &AllocationHead {
        &self.head
    }
    /// Asset names, in the order of the weights.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }
    /// Training record.
    pub fn history(&self) -> &History {
        &self.history
    }
    /// First and last target date of the training samples.
    pub fn train_targets(&self) -> Option<(NaiveDate, NaiveDate)> {
        self.train_targets
    }
    /// First and last target date of the validation samples.
    pub fn validation_targets(&self) -> Option<(NaiveDate, NaiveDate)> {
        self.validation_targets
    }

    /// Weights for the period after the last row of `recent` (at least
    /// `lookback` rows of the same assets, in the same order, of the same kind
    /// of returns the model was trained on).
    pub fn weights(&self, recent: ArrayView2<'_, f64>) -> Result<Weights> {
        self.weights_from(recent, None)
    }

    /// [`weights`](Self::weights) for a portfolio now holding `current`
    /// (used by a head with a turnover cap, as shares of the invested part;
    /// equal weights where `None` or nothing is invested, as when starting
    /// from cash).
    pub fn weights_from(&self, recent: ArrayView2<'_, f64>, current: Option<ArrayView1<'_, f64>>) -> Result<Weights> {
        let n = self.assets.len();
        let tail = last_rows(recent, self.lookback, &self.assets, "an allocation")?;
        let z: Vec<f32> = tail.iter().map(|v| (v * self.scale) as f32).collect();
        let x: Sequence<D> = tensor_from(&self.net.device(), &z, (1, self.lookback, n))?;
        let window =
            ndarray::ArrayView2::from_shape((self.lookback, n), &z).map_err(|e| Error::Shape(e.to_string()))?;
        // The held weights as shares of the invested part (a cost paid in
        // cash leaves them summing a little under 1).
        let invested =
            current.filter(|c| c.len() == n && c.sum() > 1e-9).map(|c| (&c / c.sum()).insert_axis(ndarray::Axis(0)));
        let previous = invested.as_ref().map(|c| c.view());
        let windows = if self.head.needs_windows() { vec![window] } else { Vec::new() };
        let w: Matrix<D> = self.head.apply(self.net.scores(x)?, &windows, previous)?;
        Weights::new(self.assets.clone(), w.as_vec().into_iter().map(f64::from).collect())
    }
}
