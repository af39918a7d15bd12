//! Fitting a forecaster: samples, the training job, the test-block
//! predictions.

use crate::parameter::Forecast;
use chrono::NaiveDate;
use dfdx::prelude::*;
use ndarray::Array2;

use super::model::{scale, Blocks, Forecaster, LstmRegressor, Scaler};
use super::Evaluation;
use crate::data::Returns;
use crate::error::{Error, Result};
use crate::nn::train::{self, scalar, Loss, Trainable};
use crate::nn::{chunks, tensor_from, Backend, Cpu, Device, Matrix, Param, Parameters, Sequence, TrainParams};

/// Settings of the forecaster; build with [`Forecaster::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct ForecasterParams {
    window: usize,
    hidden: usize,
    layers: usize,
    loss: Loss,
    pub(super) validation: f64,
    test: f64,
    train: TrainParams,
}

impl Forecaster<Cpu> {
    /// Defaults: look-back window 20, 2 layers × 32 hidden, MSE, validation 15 %,
    /// test 15 %, [`TrainParams::default`] (30 epochs, batch 64, Adam 1e-3,
    /// clip 1.0, patience 5, seed 42).
    ///
    /// ```
    /// use assetalloc::prelude::*;
    /// let r = Synthetic::params().assets(2).days(500).vol(0.01).seed(2).generate()?.prices.returns(ReturnKind::Simple)?;
    /// let f: Forecaster = Forecaster::params().lookback(10).hidden(4).layers(1).epochs(2).verbose(false).fit(&r)?;
    /// assert_eq!(f.predict_next(r.values())?.len(), 2);
    /// println!("{}", f.evaluation()?.verdict());
    /// # Ok::<(), assetalloc::Error>(())
    /// ```
    pub fn params() -> ForecasterParams {
        ForecasterParams {
            window: 20,
            hidden: 32,
            layers: 2,
            loss: Loss::Mse,
            validation: 0.15,
            test: 0.15,
            train: TrainParams::default(),
        }
    }
}

impl ForecasterParams {
    /// Look-back window: the past returns each forecast reads.
    pub fn lookback(mut self, w: usize) -> Self {
        self.window = w;
        self
    }
    /// Hidden units per LSTM layer.
    pub fn hidden(mut self, h: usize) -> Self {
        self.hidden = h;
        self
    }
    /// Stacked LSTM layers.
    pub fn layers(mut self, l: usize) -> Self {
        self.layers = l;
        self
    }
    /// Training loss.
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }
    /// Fractions of the samples for the validation and test blocks (the
    /// rest, first in time, trains). `test` may be 0 to train on everything
    /// before the validation block (as a strategy does).
    pub fn split(mut self, validation: f64, test: f64) -> Self {
        self.validation = validation;
        self.test = test;
        self
    }
    crate::nn::train::train_setters!();

    fn check(&self, returns: &Returns) -> Result<()> {
        self.train.check()?;
        if let Loss::Huber(delta) = self.loss {
            if !(delta > 0.0 && delta.is_finite()) {
                return Err(Error::param(Forecast::Huber, format!("delta must be > 0 and finite, got {delta}")));
            }
        }
        if self.window < 2 {
            return Err(Error::param(Forecast::Lookback, format!("must be ≥ 2, got {}", self.window)));
        }
        if self.window >= returns.len() {
            return Err(Error::param(
                Forecast::Lookback,
                format!("must be shorter than the series ({} rows), got {}", returns.len(), self.window),
            ));
        }
        if !(0.0..1.0).contains(&self.validation)
            || !(0.0..1.0).contains(&self.test)
            || self.validation + self.test >= 0.9
        {
            return Err(Error::param(
                Forecast::Split,
                format!(
                    "validation and test fractions must be in [0, 1) and leave ≥ 10 % to train, got {} and {}",
                    self.validation, self.test
                ),
            ));
        }
        crate::data::require_complete(returns.values(), returns.dates(), returns.assets(), "forecasting")?;
        Ok(())
    }

    /// Fits on `returns` (one asset for a univariate model, several for a
    /// multi-asset one) on the [`device`](Self::device) set (the CPU by
    /// default) and evaluates on the test block; the model comes back on
    /// the CPU.
    pub fn fit(&self, returns: &Returns) -> Result<Forecaster<Cpu>> {
        match &self.train.device {
            Device::Cpu => self.fit_on(&crate::nn::training_cpu(), returns),
            #[cfg(feature = "cuda")]
            Device::Cuda(gpu) => self.fit_on(&gpu.dfdx()?, returns)?.to_device(&crate::nn::training_cpu()),
        }
    }

    /// [`fit`](Self::fit) on a given dfdx device, used as given, the model
    /// staying there (the CPU of [`Device::cpu`] has its allocation cache
    /// on).
    pub fn fit_on<D: Backend>(&self, dev: &D, returns: &Returns) -> Result<Forecaster<D>> {
        self.check(returns)?;
        let r = returns.values();
        let n_samples = r.nrows() - self.window;
        let n_test = (n_samples as f64 * self.test).round() as usize;
        let n_val = (n_samples as f64 * self.validation).round() as usize;
        let n_train = n_samples - n_test - n_val;
        let min_train = 2 * self.train.batch_size.min(32);
        if n_train < min_train || (self.validation > 0.0 && n_val == 0) || (self.test > 0.0 && n_test == 0) {
            let train_share = 1.0 - self.validation - self.test;
            return Err(Error::TooFewRows {
                operation: format!(
                    "a forecaster with look-back window {} ({min_train} training samples after the validation and test blocks)",
                    self.window
                ),
                needed: self.window + (min_train as f64 / train_share).ceil() as usize + 1,
                got: r.nrows(),
            });
        }
        // Rows the training block touches: inputs from row 0, targets up to
        // row window + n_train − 1.
        let scaler = Scaler::fit(r.slice(ndarray::s![..self.window + n_train, ..]), returns.assets())?;
        let z = scale(r, &scaler);
        let n = r.ncols();
        let model = LstmRegressor::new(dev, n, self.hidden, self.layers, n, self.train.seed)?;
        let samples = Samples { z: &z, window: self.window, dev: dev.clone(), loss: self.loss };
        let mut job = Job { model, samples: &samples, train: 0..n_train, val: n_train..n_train + n_val };
        let history = train::fit(&mut job, n_train, &self.train)?;
        let model = job.model;
        let test = n_train + n_val..n_samples;
        let evaluation = if test.is_empty() {
            None
        } else {
            let pred = predict_rows(&model, &samples, test.clone())?;
            Some(Evaluation::new(returns, &scaler, self.window, test.clone(), &pred))
        };
        Ok(Forecaster {
            model,
            scaler,
            lookback: self.window,
            assets: returns.assets().to_vec(),
            history,
            blocks: Blocks {
                train: span(returns.dates(), self.window, 0..n_train),
                validation: span(returns.dates(), self.window, n_train..n_train + n_val),
                test: span(returns.dates(), self.window, test),
            },
            evaluation,
        })
    }
}

fn span(dates: &[NaiveDate], window: usize, s: std::ops::Range<usize>) -> Option<(NaiveDate, NaiveDate)> {
    (!s.is_empty()).then(|| (dates[window + s.start], dates[window + s.end - 1]))
}

/// Scaled returns and the sampling rule, shared by training and prediction.
struct Samples<'a, D: Backend> {
    z: &'a Array2<f32>,
    window: usize,
    dev: D,
    loss: Loss,
}

impl<D: Backend> Samples<'_, D> {
    /// Inputs `[B, W, N]` and targets `[B, N]` of samples `idx` (sample k
    /// reads rows k..k+W and targets row k+W).
    fn batch(&self, idx: impl Iterator<Item = usize> + Clone) -> Result<(Sequence<D>, Matrix<D>)> {
        let n = self.z.ncols();
        let w = self.window;
        let b = idx.clone().count();
        let mut x = Vec::with_capacity(b * w * n);
        let mut y = Vec::with_capacity(b * n);
        for k in idx {
            x.extend(self.z.slice(ndarray::s![k..k + w, ..]).iter());
            y.extend(self.z.row(k + w).iter());
        }
        Ok((tensor_from(&self.dev, &x, (b, w, n))?, tensor_from(&self.dev, &y, (b, n))?))
    }
}

struct Job<'a, D: Backend> {
    model: LstmRegressor<D>,
    samples: &'a Samples<'a, D>,
    train: std::ops::Range<usize>,
    val: std::ops::Range<usize>,
}

impl<D: Backend> Clone for Job<'_, D> {
    fn clone(&self) -> Self {
        Job { model: self.model.clone(), samples: self.samples, train: self.train.clone(), val: self.val.clone() }
    }
}

impl<D: Backend> Parameters<D> for Job<'_, D> {
    fn parameters(&self) -> Vec<(String, &Param<D>)> {
        self.model.parameters()
    }
    fn parameters_mut(&mut self) -> Vec<(String, &mut Param<D>)> {
        self.model.parameters_mut()
    }
}

fn loss_of<D: Backend, T: Tape<f32, D> + Merge<T>>(
    loss: Loss,
    pred: Matrix<D, T>,
    y: Matrix<D>,
) -> dfdx::prelude::Tensor<(), f32, D, T> {
    match loss {
        Loss::Mse => dfdx::losses::mse_loss(pred, y),
        Loss::Huber(delta) => dfdx::losses::huber_loss(pred, y, delta as f32),
    }
}

impl<D: Backend> Trainable<D> for Job<'_, D> {
    fn loss_and_grads(&self, batch: &[usize]) -> Result<(f64, Gradients<f32, D>)> {
        let idx = batch.iter().map(|&k| self.train.start + k);
        let (x, y) = self.samples.batch(idx)?;
        let pred = self.model.forward(x.traced(Gradients::leaky()))?;
        let l = loss_of(self.samples.loss, pred, y);
        let v = scalar(&l);
        Ok((v, l.backward()))
    }

    fn validation_loss(&self) -> Result<Option<f64>> {
        if self.val.is_empty() {
            return Ok(None);
        }
        let mut total = 0.0;
        for chunk in chunks(self.val.clone(), 1024) {
            let (x, y) = self.samples.batch(chunk.clone())?;
            let pred = self.model.forward(x)?;
            total += scalar(&loss_of::<D, NoneTape>(self.samples.loss, pred, y)) * chunk.len() as f64;
        }
        Ok(Some(total / self.val.len() as f64))
    }
}

/// Scaled predictions `[len, N]` for samples `rows`.
fn predict_rows<D: Backend>(
    model: &LstmRegressor<D>,
    s: &Samples<'_, D>,
    rows: std::ops::Range<usize>,
) -> Result<Array2<f32>> {
    let n = s.z.ncols();
    let mut out = Array2::<f32>::zeros((rows.len(), n));
    let start = rows.start;
    for chunk in chunks(rows, 1024) {
        let (x, _) = s.batch(chunk.clone())?;
        let p = model.forward(x)?.as_vec();
        for (i, row) in p.chunks(n).enumerate() {
            for (j, v) in row.iter().enumerate() {
                out[(chunk.start - start + i, j)] = *v;
            }
        }
    }
    Ok(out)
}
