//! Return forecasting with an LSTM on dfdx, numerically equal to PyTorch's
//! `nn.LSTM`, judged out of sample against naive forecasts.
//!
//! **Samples.** From a returns panel $r_{t,j}$ ($T$ dates, $N$ assets) the
//! sample for date $t$ is the window $r_{t-W..t-1}$ (`[W, N]`) and its target
//! is $r_t$ (`[N]`): one-step-ahead, nothing after $t - 1$ in the input.
//! Samples are split in time order into training, validation and test
//! blocks; each block's targets come strictly after the previous block's.
//!
//! **Scaling.** Each asset's returns are standardised with the mean and
//! standard deviation of the rows the training block touches (inputs and
//! targets) — never validation or test rows; forecasts are mapped back.
//!
//! **Model.** [`Lstm`] (stacked, PyTorch semantics) → last hidden state →
//! [`Dense`] to $N$ outputs. Univariate is $N = 1$. Trained with Adam on
//! MSE or Huber loss, seeded shuffled mini-batches, gradient clipping and
//! early stopping on the validation loss (weights from the best epoch).
//!
//! **Judged** on the test block against three naive forecasts — the
//! training block's mean return per asset (the historical mean), zero, and
//! the input window's trailing mean: MSE, out-of-sample
//! $R^2 = 1 - \mathrm{MSE}/\mathrm{MSE}_{hist}$ against the historical mean
//! (Campbell–Thompson), directional accuracy, Pearson and Spearman
//! correlation of forecast and outcome, and a Diebold–Mariano $t$ on the
//! per-date squared-error difference to the historical mean.
//!
//! Weights save to and load from safetensors under PyTorch's names
//! (`lstm.weight_ih_l0`, …, `head.weight`, `head.bias`): a module with
//! attributes `lstm = nn.LSTM(N, H, L, batch_first=True)` and
//! `head = nn.Linear(H, N)` loads them with `load_state_dict`.

mod cell;
pub(crate) mod lstm;
#[cfg(feature = "optimize")]
mod strategy;
pub(crate) mod train;

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use dfdx::prelude::*;
use ndarray::{Array2, ArrayView2};
use plotly::Plot;

/// dfdx's CPU device, the default for every model here.
pub use dfdx::prelude::Cpu;
pub use lstm::{Dense, Lstm, LstmOutput, Matrix, Param, Parameters, Recurrent, Sequence, Vector};
#[cfg(feature = "optimize")]
pub use strategy::LstmStrategy;
pub use train::{Epoch, History, Loss, TrainParams};

use crate::data::Returns;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::stats;
use lstm::seeded;
pub(crate) use lstm::tensor_from;
use train::{scalar, Trainable};

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
        rec: lstm::Recurrent<'_, Self>,
        hidden: usize,
    ) -> Result<lstm::LayerOutput<Self, T>> {
        cell::composed_recurrence(xp, rec, hidden)
    }
}

impl Backend for Cpu {
    fn lstm_recurrence<T: Tape<f32, Self> + Merge<T>>(
        xp: Sequence<Self, T>,
        rec: lstm::Recurrent<'_, Self>,
        hidden: usize,
    ) -> Result<lstm::LayerOutput<Self, T>> {
        cell::fused_recurrence_cpu(xp, rec, hidden)
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
) -> Result<lstm::LayerOutput<D, T>> {
    cell::composed_recurrence(xp, rec, hidden)
}

/// A CPU device with dfdx's allocation cache on (`Cache::enable_cache`),
/// as every `fit` in the crate trains on: tensor storage is reused from
/// batch to batch instead of allocated afresh. With glibc's allocator a
/// model trained in a process that had trained another one first ran 1.4×
/// faster with it. Pass it to `fit_on` for the same.
pub fn training_cpu() -> Cpu {
    let dev = Cpu::default();
    dev.enable_cache();
    dev
}

/// An LSTM followed by a dense head on the last hidden state.
#[derive(Debug, Clone)]
pub struct LstmRegressor<D: Backend> {
    lstm: Lstm<D>,
    head: Dense<D>,
}

impl<D: Backend> LstmRegressor<D> {
    /// A seeded model: `layers` × `hidden` LSTM on `inputs` features, `outputs` targets.
    pub fn new(dev: &D, inputs: usize, hidden: usize, layers: usize, outputs: usize, seed: u64) -> Result<Self> {
        if outputs == 0 {
            return Err(Error::param("outputs", "must be ≥ 1, got 0"));
        }
        let mut rng = seeded(seed);
        let lstm = Lstm::new(dev, inputs, hidden, layers, &mut rng)?;
        let head = Dense::new(dev, hidden, outputs, &mut rng);
        Ok(LstmRegressor { lstm, head })
    }

    /// The LSTM.
    pub fn lstm(&self) -> &Lstm<D> {
        &self.lstm
    }

    /// `x` `[B, T, I]` → `[B, outputs]`.
    pub fn forward<T: Tape<f32, D> + Merge<T>>(&self, x: Sequence<D, T>) -> Result<Matrix<D, T>> {
        self.head.forward(self.lstm.forward(x)?.last()?)
    }
}

impl<D: Backend> Parameters<D> for LstmRegressor<D> {
    fn parameters(&self) -> Vec<(String, &Param<D>)> {
        let mut p = self.lstm.named("lstm.");
        p.extend(self.head.named("head."));
        p
    }
    fn parameters_mut(&mut self) -> Vec<(String, &mut Param<D>)> {
        let mut p = self.lstm.named_mut("lstm.");
        p.extend(self.head.named_mut("head."));
        p
    }
}

/// Writes a model's parameters to a safetensors file under PyTorch's names
/// (float32, row-major), with `metadata` as the header's string map.
pub fn save_safetensors<D: Backend, M: Parameters<D>>(
    model: &M,
    path: impl AsRef<Path>,
    metadata: HashMap<String, String>,
) -> Result<()> {
    let params = model.parameters();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = params
        .iter()
        .map(|(name, p)| (name.clone(), p.shape(), p.values().iter().flat_map(|v| v.to_le_bytes()).collect()))
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::Shape(format!("{name}: {e:?}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let meta = if metadata.is_empty() { None } else { Some(metadata) };
    safetensors::tensor::serialize_to_file(views, &meta, path.as_ref())
        .map_err(|e| model_file(path.as_ref(), format!("cannot write: {e:?}")))
}

/// Reads parameters saved by [`save_safetensors`] or by PyTorch
/// (`safetensors.torch.save_file(model.state_dict(), …)`) into `model`.
/// Every parameter must be present as float32 with the model's shape;
/// extra tensors in the file are an error too (a different architecture).
/// Returns the file's metadata.
pub fn load_safetensors<D: Backend, M: Parameters<D>>(
    model: &mut M,
    path: impl AsRef<Path>,
) -> Result<HashMap<String, String>> {
    let file = WeightsFile::read(path.as_ref())?;
    file.fill(model)?;
    Ok(file.metadata)
}

/// A safetensors file read once: its bytes and its string metadata.
struct WeightsFile {
    path: std::path::PathBuf,
    bytes: Vec<u8>,
    metadata: HashMap<String, String>,
}

impl WeightsFile {
    fn read(path: &Path) -> Result<WeightsFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| model_file(path, format!("not a safetensors file: {e:?}")))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        Ok(WeightsFile { path: path.to_path_buf(), bytes, metadata })
    }

    /// Copies every parameter of `model` from the file (see [`load_safetensors`]).
    fn fill<D: Backend, M: Parameters<D>>(&self, model: &mut M) -> Result<()> {
        let path_s = self.path.display().to_string();
        let file = safetensors::SafeTensors::deserialize(&self.bytes)
            .map_err(|e| model_file(&self.path, format!("not a safetensors file: {e:?}")))?;
        let mut expected: Vec<String> = Vec::new();
        for (name, p) in model.parameters_mut() {
            let t = file
                .tensor(&name)
                .map_err(|_| Error::Shape(format!("{path_s} has no tensor {name:?}; it holds {:?}", file.names())))?;
            if t.dtype() != safetensors::Dtype::F32 {
                return Err(Error::Shape(format!("{name} in {path_s} is {:?}, expected F32", t.dtype())));
            }
            if t.shape() != p.shape().as_slice() {
                return Err(Error::Shape(format!(
                    "{name} in {path_s} has shape {:?}, the model expects {:?}",
                    t.shape(),
                    p.shape()
                )));
            }
            let values: Vec<f32> =
                t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            p.set_values(&values)?;
            expected.push(name);
        }
        let extra: Vec<&String> = file.names().into_iter().filter(|n| !expected.contains(n)).collect();
        if !extra.is_empty() {
            return Err(Error::Shape(format!("{path_s} has tensors the model does not: {extra:?}")));
        }
        Ok(())
    }
}

fn model_file(path: &Path, message: String) -> Error {
    Error::ModelFile { path: path.to_path_buf(), message }
}

/// Per-asset standardisation fitted on the training rows only.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaler {
    /// Mean per asset.
    pub mean: Vec<f64>,
    /// Standard deviation per asset.
    pub std: Vec<f64>,
}

impl Scaler {
    /// A standardised value of asset `j` back in return units.
    fn restore(&self, j: usize, z: f32) -> f64 {
        z as f64 * self.std[j] + self.mean[j]
    }

    fn fit(r: ArrayView2<'_, f64>, assets: &[String]) -> Result<Scaler> {
        let mut mean = Vec::with_capacity(r.ncols());
        let mut std = Vec::with_capacity(r.ncols());
        for (j, col) in r.columns().into_iter().enumerate() {
            let x = col.to_vec();
            let s = stats::std(&x);
            if !(s > 0.0) {
                return Err(Error::param(
                    "returns",
                    format!("asset {:?} has constant returns over the training rows; nothing to forecast", assets[j]),
                ));
            }
            mean.push(stats::mean(&x));
            std.push(s);
        }
        Ok(Scaler { mean, std })
    }
}

/// Settings of the forecaster; build with [`Forecaster::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct ForecasterParams {
    window: usize,
    hidden: usize,
    layers: usize,
    loss: Loss,
    validation: f64,
    test: f64,
    train: TrainParams,
}

/// LSTM return forecaster (see the [module docs](self)).
#[derive(Debug, Clone, Copy)]
pub struct Forecaster;

impl Forecaster {
    /// Defaults: window 20, 2 layers × 32 hidden, MSE, validation 15 %,
    /// test 15 %, [`TrainParams::default`] (30 epochs, batch 64, Adam 1e-3,
    /// clip 1.0, patience 5, seed 42).
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
    /// Past returns per sample.
    pub fn window(mut self, w: usize) -> Self {
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
    train::train_setters!();

    fn check(&self, returns: &Returns) -> Result<()> {
        self.train.check()?;
        if self.window < 2 {
            return Err(Error::param("window", format!("must be ≥ 2, got {}", self.window)));
        }
        if self.window >= returns.len() {
            return Err(Error::param(
                "window",
                format!("must be shorter than the series ({} rows), got {}", returns.len(), self.window),
            ));
        }
        if !(0.0..1.0).contains(&self.validation)
            || !(0.0..1.0).contains(&self.test)
            || self.validation + self.test >= 0.9
        {
            return Err(Error::param(
                "split",
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
    /// multi-asset one) on the CPU and evaluates on the test block.
    pub fn fit(&self, returns: &Returns) -> Result<Forecast<Cpu>> {
        self.fit_on(&training_cpu(), returns)
    }

    /// [`fit`](Self::fit) on a given dfdx device, used as given: `fit`
    /// trains on [`training_cpu`](crate::forecast::training_cpu), whose
    /// allocation cache is on.
    pub fn fit_on<D: Backend>(&self, dev: &D, returns: &Returns) -> Result<Forecast<D>> {
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
                    "a forecaster with window {} ({min_train} training samples after the validation and test blocks)",
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
        Ok(Forecast {
            model,
            scaler,
            window: self.window,
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

fn scale(r: ArrayView2<'_, f64>, s: &Scaler) -> Array2<f32> {
    let mut z = Array2::<f32>::zeros(r.raw_dim());
    for ((i, j), v) in r.indexed_iter() {
        z[(i, j)] = ((v - s.mean[j]) / s.std[j]) as f32;
    }
    z
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

pub(crate) fn chunks(r: std::ops::Range<usize>, size: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let end = r.end;
    r.step_by(size).map(move |s| s..(s + size).min(end))
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

/// Date spans of the three blocks (target dates).
#[derive(Debug, Clone, PartialEq)]
pub struct Blocks {
    /// First and last training target date.
    pub train: Option<(NaiveDate, NaiveDate)>,
    /// First and last validation target date.
    pub validation: Option<(NaiveDate, NaiveDate)>,
    /// First and last test target date.
    pub test: Option<(NaiveDate, NaiveDate)>,
}

/// A trained forecaster with its training record and test-block evaluation.
#[derive(Debug, Clone)]
pub struct Forecast<D: Backend = Cpu> {
    model: LstmRegressor<D>,
    scaler: Scaler,
    window: usize,
    assets: Vec<String>,
    history: History,
    blocks: Blocks,
    evaluation: Option<Evaluation>,
}

impl<D: Backend> Forecast<D> {
    /// The network.
    pub fn model(&self) -> &LstmRegressor<D> {
        &self.model
    }
    /// The scaler fitted on the training rows.
    pub fn scaler(&self) -> &Scaler {
        &self.scaler
    }
    /// Training record.
    pub fn history(&self) -> &History {
        &self.history
    }
    /// Date spans of the blocks.
    pub fn blocks(&self) -> &Blocks {
        &self.blocks
    }
    /// Out-of-sample evaluation (None when the test fraction was 0).
    pub fn evaluation(&self) -> Option<&Evaluation> {
        self.evaluation.as_ref()
    }

    /// Forecast of the return after the last row of `recent` (at least
    /// `window` rows of the same assets, in the same order).
    pub fn predict_next(&self, recent: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        let n = self.assets.len();
        let tail = last_rows(recent, self.window, &self.assets, "a forecast")?;
        let z: Vec<f32> = scale(tail, &self.scaler).iter().copied().collect();
        let x: Sequence<D> = tensor_from(&self.model.device(), &z, (1, self.window, n))?;
        let p = self.model.forward(x)?.as_vec();
        Ok(p.iter().enumerate().map(|(j, v)| self.scaler.restore(j, *v)).collect())
    }

    /// Saves the weights (PyTorch names) with the window, assets and scaler
    /// in the metadata.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut meta = HashMap::new();
        let join = |v: &[f64]| v.iter().map(|x| format!("{x:e}")).collect::<Vec<_>>().join(",");
        meta.insert("window".into(), self.window.to_string());
        meta.insert("hidden".into(), self.model.lstm.hidden_size().to_string());
        meta.insert("layers".into(), self.model.lstm.num_layers().to_string());
        meta.insert("assets".into(), self.assets.join("\u{1f}"));
        meta.insert("scaler_mean".into(), join(&self.scaler.mean));
        meta.insert("scaler_std".into(), join(&self.scaler.std));
        save_safetensors(&self.model, path, meta)
    }

    /// Test-block forecasts against outcomes for one asset.
    pub fn plot_predictions(&self, asset: &str) -> Result<Plot> {
        let e = self.evaluation.as_ref().ok_or_else(|| Error::param("test", "no test block was held out"))?;
        let j = self
            .assets
            .iter()
            .position(|a| a == asset)
            .ok_or_else(|| Error::UnknownAsset { name: asset.to_string(), available: self.assets.clone() })?;
        let col = |m: &Array2<f64>| m.column(j).to_vec();
        Ok(crate::plot::lines(
            &format!("{asset}: one-step forecasts on the test block"),
            &e.dates,
            &[
                ("actual".to_string(), col(&e.actual)),
                ("LSTM".to_string(), col(&e.lstm)),
                ("trailing mean".to_string(), col(&e.trailing)),
            ],
            "return",
            false,
        ))
    }
}

/// The last `rows` rows of `recent`, which must hold at least that many rows
/// of the model's `assets` (in order), all finite; `what` names the use in
/// the error.
pub(crate) fn last_rows<'a>(
    recent: ArrayView2<'a, f64>,
    rows: usize,
    assets: &[String],
    what: &str,
) -> Result<ArrayView2<'a, f64>> {
    let n = assets.len();
    if recent.ncols() != n || recent.nrows() < rows {
        return Err(Error::Shape(format!(
            "{what} needs ≥ {rows} rows × {n} assets, got {} × {}",
            recent.nrows(),
            recent.ncols()
        )));
    }
    let tail = recent.slice_move(ndarray::s![recent.nrows() - rows.., ..]);
    if let Some(((i, j), v)) = tail.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::param("returns", format!("value {v} at row {i}, asset {:?} of the window", assets[j])));
    }
    Ok(tail)
}

/// Loads a forecaster saved by [`Forecast::save`] (CPU).
pub fn load_forecaster(path: impl AsRef<Path>) -> Result<Forecast<Cpu>> {
    let file = WeightsFile::read(path.as_ref())?;
    let path_s = path.as_ref().display().to_string();
    let meta = &file.metadata;
    let get = |k: &str| meta.get(k).ok_or_else(|| Error::Shape(format!("{path_s} lacks metadata {k:?}")));
    let num = |k: &str| -> Result<usize> { get(k)?.parse().map_err(|_| Error::Shape(format!("bad {k} in {path_s}"))) };
    let floats = |k: &str| -> Result<Vec<f64>> {
        get(k)?.split(',').map(|x| x.parse().map_err(|_| Error::Shape(format!("bad {k} in {path_s}")))).collect()
    };
    let assets: Vec<String> = get("assets")?.split('\u{1f}').map(str::to_string).collect();
    let n = assets.len();
    let dev = Cpu::default();
    let mut model = LstmRegressor::new(&dev, n, num("hidden")?, num("layers")?, n, 0)?;
    file.fill(&mut model)?;
    Ok(Forecast {
        model,
        scaler: Scaler { mean: floats("scaler_mean")?, std: floats("scaler_std")? },
        window: num("window")?,
        assets,
        history: History::default(),
        blocks: Blocks { train: None, validation: None, test: None },
        evaluation: None,
    })
}

/// Out-of-sample scores of one forecaster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Mean squared error (return units²).
    pub mse: f64,
    /// $1 - \mathrm{MSE}/\mathrm{MSE}_{hist}$ (historical-mean forecast).
    pub r2: f64,
    /// Share of forecasts with the outcome's sign (zero forecasts and zero
    /// outcomes excluded; NaN for a forecast that is always zero).
    pub hit_rate: f64,
    /// Pearson correlation of forecast and outcome, pooled.
    pub pearson: f64,
    /// Spearman correlation of forecast and outcome, pooled.
    pub spearman: f64,
    /// Diebold–Mariano $t$ of the per-date squared-error gain over the
    /// historical mean (> 0: better than it).
    pub dm_t: f64,
}

/// The LSTM and the naive forecasts on the test block.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Target dates.
    pub dates: Vec<NaiveDate>,
    /// Assets.
    pub assets: Vec<String>,
    /// Outcomes `[dates, assets]`.
    pub actual: Array2<f64>,
    /// LSTM forecasts.
    pub lstm: Array2<f64>,
    /// Mean of the input window.
    pub trailing: Array2<f64>,
    /// Scores of the LSTM, the historical mean, zero and the trailing mean.
    pub scores: [(String, Scores); 4],
}

impl Evaluation {
    fn new(
        returns: &Returns,
        scaler: &Scaler,
        window: usize,
        test: std::ops::Range<usize>,
        pred: &Array2<f32>,
    ) -> Evaluation {
        let r = returns.values();
        let n = r.ncols();
        let rows = test.len();
        let mut actual = Array2::zeros((rows, n));
        let mut lstm = Array2::zeros((rows, n));
        let mut trailing = Array2::zeros((rows, n));
        for (i, k) in test.clone().enumerate() {
            for j in 0..n {
                actual[(i, j)] = r[(k + window, j)];
                lstm[(i, j)] = scaler.restore(j, pred[(i, j)]);
                trailing[(i, j)] = r.slice(ndarray::s![k..k + window, j]).mean().unwrap_or(0.0);
            }
        }
        let zero = Array2::zeros((rows, n));
        let hist = Array2::from_shape_fn((rows, n), |(_, j)| scaler.mean[j]);
        let scores = [
            ("LSTM".to_string(), score(&lstm, &actual, &hist)),
            ("historical mean".to_string(), score(&hist, &actual, &hist)),
            ("zero".to_string(), score(&zero, &actual, &hist)),
            ("trailing mean".to_string(), score(&trailing, &actual, &hist)),
        ];
        Evaluation {
            dates: returns.dates()[window + test.start..window + test.end].to_vec(),
            assets: returns.assets().to_vec(),
            actual,
            lstm,
            trailing,
            scores,
        }
    }

    /// Scores of the LSTM.
    pub fn lstm_scores(&self) -> &Scores {
        &self.scores[0].1
    }

    /// Whether the LSTM beats every naive forecast on MSE with a
    /// Diebold–Mariano $t$ above 2 against the historical mean.
    pub fn beats_baselines(&self) -> bool {
        let l = &self.scores[0].1;
        self.scores[1..].iter().all(|(_, s)| l.mse < s.mse) && l.dm_t > 2.0
    }

    /// One plain sentence on the result.
    pub fn verdict(&self) -> String {
        let l = &self.scores[0].1;
        if self.beats_baselines() {
            format!(
                "The LSTM beats the naive forecasts out of sample (R² vs the historical mean {:.2} %, DM t {:.1}).",
                l.r2 * 100.0,
                l.dm_t
            )
        } else {
            format!(
                "No evidence the LSTM forecasts better than the naive baselines out of sample (R² vs the historical mean {:.2} %, DM t {:.1}).",
                l.r2 * 100.0,
                l.dm_t
            )
        }
    }

    /// Scores table, forecasters as rows.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "forecast",
            "MSE ×1e4",
            "R² vs hist. mean",
            "hit rate",
            "Pearson",
            "Spearman",
            "DM t vs hist. mean",
        ])
        .caption(format!(
            "Out-of-sample one-step forecasts, {} dates × {} assets ({} – {})",
            self.dates.len(),
            self.assets.len(),
            self.dates.first().map(|d| d.to_string()).unwrap_or_default(),
            self.dates.last().map(|d| d.to_string()).unwrap_or_default()
        ));
        for (name, s) in &self.scores {
            t.push(vec![
                Cell::Text(name.clone()),
                Cell::Num(s.mse * 1e4, 4),
                Cell::Pct(s.r2, 2),
                Cell::Pct(s.hit_rate, 1),
                Cell::Num(s.pearson, 3),
                Cell::Num(s.spearman, 3),
                Cell::Num(s.dm_t, 2),
            ]);
        }
        t
    }
}

crate::shows_as_table!(Evaluation);

fn score(pred: &Array2<f64>, actual: &Array2<f64>, reference: &Array2<f64>) -> Scores {
    let p: Vec<f64> = pred.iter().copied().collect();
    let a: Vec<f64> = actual.iter().copied().collect();
    let mse = p.iter().zip(&a).map(|(p, a)| (p - a).powi(2)).sum::<f64>() / p.len() as f64;
    let mse_ref = reference.iter().zip(&a).map(|(r, a)| (r - a).powi(2)).sum::<f64>() / a.len() as f64;
    let (mut hits, mut total) = (0usize, 0usize);
    for (p, a) in p.iter().zip(&a) {
        if *a != 0.0 && *p != 0.0 {
            total += 1;
            hits += usize::from(p.signum() == a.signum());
        }
    }
    // Loss differential per date (assets averaged): reference's loss − this one's.
    let d: Vec<f64> = pred
        .rows()
        .into_iter()
        .zip(actual.rows())
        .zip(reference.rows())
        .map(|((p, a), r)| {
            p.iter().zip(a.iter()).zip(r.iter()).map(|((p, a), r)| (r - a).powi(2) - (p - a).powi(2)).sum::<f64>()
                / a.len() as f64
        })
        .collect();
    let sd = stats::std(&d);
    let dm_t = if sd > 0.0 { stats::mean(&d) / sd * (d.len() as f64).sqrt() } else { 0.0 };
    let constant = p.iter().all(|v| *v == p[0]);
    Scores {
        mse,
        r2: 1.0 - mse / mse_ref,
        hit_rate: if total > 0 { hits as f64 / total as f64 } else { f64::NAN },
        pearson: if constant { f64::NAN } else { stats::correlation(&p, &a) },
        spearman: if constant { f64::NAN } else { stats::spearman(&p, &a) },
        dm_t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstm_gradients_flow_to_every_parameter() {
        let dev = Cpu::default();
        let m = LstmRegressor::new(&dev, 3, 4, 2, 2, 1).unwrap();
        let x: Sequence<Cpu> =
            dev.tensor_from_vec((0..2 * 5 * 3).map(|v| (v as f32 * 0.37).sin()).collect(), (2, 5, 3));
        let y = m.forward(x.traced(Gradients::leaky())).unwrap();
        let mut g = y.square().sum::<(), _>().backward();
        for (name, p) in m.parameters() {
            let gr = p.gradient(&mut g).unwrap();
            assert!(gr.iter().any(|v| *v != 0.0), "{name} got no gradient");
        }
    }
}
