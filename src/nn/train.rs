//! Adam with global-norm clipping, and a model-agnostic training loop with
//! seeded mini-batches, early stopping and a live progress line.

use crate::parameter::Training;
use std::time::Instant;

use dfdx::prelude::*;
use plotly::Plot;
use rand::seq::SliceRandom;

use super::lstm::{nn_err, seeded, Param, Parameters};
use super::Backend;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};

/// Training loss on the (scaled) targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Mean squared error.
    Mse,
    /// Huber loss with threshold `delta` (quadratic inside, linear outside).
    Huber(f64),
}

/// Settings of the training loop shared by every network in the crate.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams {
    /// Passes over the training samples (upper bound with early stopping).
    pub epochs: usize,
    /// Samples per gradient step.
    pub batch_size: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Rescale the gradient when its global L2 norm exceeds this.
    pub clip_norm: Option<f64>,
    /// Stop after this many epochs without a better validation loss, and
    /// restore the best weights.
    pub patience: Option<usize>,
    /// Seed of the initial weights and of the batch order.
    pub seed: u64,
    /// Print one line per epoch as it ends.
    pub verbose: bool,
    /// Where training runs; the fitted model is returned on the CPU.
    pub device: super::Device,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            epochs: 30,
            batch_size: 64,
            learning_rate: 1e-3,
            clip_norm: Some(1.0),
            patience: Some(5),
            seed: 42,
            verbose: true,
            device: super::Device::default(),
        }
    }
}

impl TrainParams {
    pub(crate) fn check(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::param(Training::Epochs, "must be ≥ 1, got 0"));
        }
        if self.batch_size == 0 {
            return Err(Error::param(Training::BatchSize, "must be ≥ 1, got 0"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(Error::param(Training::LearningRate, format!("must be > 0, got {}", self.learning_rate)));
        }
        if let Some(c) = self.clip_norm {
            if !(c > 0.0) {
                return Err(Error::param(Training::ClipNorm, format!("must be > 0, got {c}")));
            }
        }
        if self.patience == Some(0) {
            return Err(Error::param(Training::Patience, "must be ≥ 1 (or None), got 0"));
        }
        Ok(())
    }
}

/// The builder setters of the training settings, for a parameter type with
/// a `train: TrainParams` field (one definition for every network).
macro_rules! train_setters {
    () => {
        /// Maximum epochs.
        pub fn epochs(mut self, n: usize) -> Self {
            self.train.epochs = n;
            self
        }
        /// Mini-batch size.
        pub fn batch_size(mut self, n: usize) -> Self {
            self.train.batch_size = n;
            self
        }
        /// Adam's learning rate.
        pub fn learning_rate(mut self, lr: f64) -> Self {
            self.train.learning_rate = lr;
            self
        }
        /// Gradient clipping by global norm (`None` turns it off).
        pub fn clip_norm(mut self, c: Option<f64>) -> Self {
            self.train.clip_norm = c;
            self
        }
        /// Early-stopping patience in epochs (`None` runs every epoch).
        pub fn patience(mut self, p: Option<usize>) -> Self {
            self.train.patience = p;
            self
        }
        /// Seed of the weights and the batch order.
        pub fn seed(mut self, s: u64) -> Self {
            self.train.seed = s;
            self
        }
        /// Print a line per epoch as it ends.
        pub fn verbose(mut self, v: bool) -> Self {
            self.train.verbose = v;
            self
        }
        /// Where to train ([`Device::best`](crate::nn::Device::best) picks a
        /// GPU when one answers); the fitted model comes back on the CPU.
        pub fn device(mut self, d: $crate::nn::Device) -> Self {
            self.train.device = d;
            self
        }
        /// The training-loop settings.
        pub fn train_params(&self) -> &$crate::nn::TrainParams {
            &self.train
        }
    };
}
pub(crate) use train_setters;

/// One epoch of training.
#[derive(Debug, Clone, PartialEq)]
pub struct Epoch {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Loss on the validation block after the epoch (`None` when there is
    /// no validation block).
    pub val_loss: Option<f64>,
    /// Training samples per second (forward, backward and update).
    pub samples_per_sec: f64,
    /// Global gradient norm, mean over the epoch's batches (before clipping).
    pub grad_norm: f64,
}

/// The record of a training run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// One entry per epoch run.
    pub epochs: Vec<Epoch>,
    /// Epoch whose weights were kept (best validation loss, or the last).
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
}

impl History {
    /// Per-epoch table.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["epoch", "train loss", "validation loss", "grad norm", "samples/s"]).caption(format!(
            "Training history; weights kept from epoch {}{}",
            self.best_epoch,
            if self.stopped_early { " (stopped early)" } else { "" }
        ));
        for e in &self.epochs {
            t.push(vec![
                Cell::Int(e.epoch as i64),
                Cell::Num(e.train_loss, 5),
                Cell::Num(e.val_loss.unwrap_or(f64::NAN), 5),
                Cell::Num(e.grad_norm, 3),
                Cell::Num(e.samples_per_sec, 0),
            ]);
        }
        t
    }

    /// Training and validation loss by epoch.
    pub fn plot(&self) -> Plot {
        use plotly::{common::Mode, Layout, Scatter};
        let x: Vec<usize> = self.epochs.iter().map(|e| e.epoch).collect();
        let mut plot = Plot::new();
        plot.add_trace(
            Scatter::new(x.clone(), self.epochs.iter().map(|e| e.train_loss).collect())
                .mode(Mode::LinesMarkers)
                .name("train"),
        );
        let validation: Vec<(usize, f64)> = self.epochs.iter().filter_map(|e| Some((e.epoch, e.val_loss?))).collect();
        if !validation.is_empty() {
            let (x, y): (Vec<usize>, Vec<f64>) = validation.into_iter().unzip();
            plot.add_trace(Scatter::new(x, y).mode(Mode::LinesMarkers).name("validation"));
        }
        plot.set_layout(
            Layout::new()
                .title(format!("Training history (weights from epoch {})", self.best_epoch))
                .x_axis(plotly::layout::Axis::new().title("epoch"))
                .y_axis(plotly::layout::Axis::new().title("loss")),
        );
        plot
    }
}

crate::shows_as_table!(History);

/// Adam (dfdx's kernel) over a model's parameters, with optional clipping of
/// the global gradient norm as in PyTorch's `clip_grad_norm_`.
pub(crate) struct Adam<D: Backend> {
    cfg: AdamConfig,
    t: i32,
    m1: Gradients<f32, D>,
    m2: Gradients<f32, D>,
}

impl<D: Backend> Adam<D> {
    pub(crate) fn new(learning_rate: f64) -> Self {
        Adam {
            cfg: AdamConfig { lr: learning_rate, ..Default::default() },
            t: 0,
            m1: Gradients::leaky(),
            m2: Gradients::leaky(),
        }
    }

    /// One update from `grads`; returns the global gradient norm before clipping.
    pub(crate) fn step<M: Parameters<D>>(
        &mut self,
        model: &mut M,
        mut grads: Gradients<f32, D>,
        clip: Option<f64>,
    ) -> Result<f64> {
        let norm = global_norm(model, &mut grads)?;
        if !norm.is_finite() {
            return Err(Error::Shape(format!("gradient norm is {norm}")));
        }
        if let Some(max) = clip {
            if norm > max {
                grads = scaled(model, &grads, (max / (norm + 1e-6)) as f32)?;
            }
        }
        self.t += 1;
        for (_, p) in model.parameters_mut() {
            match p {
                Param::Matrix(m) => update(&self.cfg, self.t, m, &mut self.m1, &mut self.m2, &mut grads)?,
                Param::Vector(v) => update(&self.cfg, self.t, v, &mut self.m1, &mut self.m2, &mut grads)?,
            }
        }
        Ok(norm)
    }
}

fn update<S: dfdx::shapes::Shape, D: Backend>(
    cfg: &AdamConfig,
    t: i32,
    p: &mut Tensor<S, f32, D>,
    m1: &mut Gradients<f32, D>,
    m2: &mut Gradients<f32, D>,
    grads: &mut Gradients<f32, D>,
) -> Result<()> {
    let g = grads.get_or_alloc_mut(p).map_err(nn_err)?;
    let a = m1.get_or_alloc_mut(p).map_err(nn_err)?;
    let b = m2.get_or_alloc_mut(p).map_err(nn_err)?;
    cfg.try_update(t, p, a, b, g).map_err(nn_err)
}

fn global_norm<D: Backend, M: Parameters<D>>(model: &M, grads: &mut Gradients<f32, D>) -> Result<f64> {
    // Each parameter's sum of squares stays on the device; one copy brings
    // them all to the host (one synchronisation per step on a GPU), where
    // they add up in f64 in parameter order.
    let mut sums: Vec<Tensor<(), f32, D>> = Vec::new();
    for (_, p) in model.parameters() {
        sums.push(match p {
            Param::Matrix(m) => {
                grads.try_alloc_for(m).map_err(nn_err)?;
                grads.get(m).try_square().map_err(nn_err)?.try_sum::<(), _>().map_err(nn_err)?
            }
            Param::Vector(v) => {
                grads.try_alloc_for(v).map_err(nn_err)?;
                grads.get(v).try_square().map_err(nn_err)?.try_sum::<(), _>().map_err(nn_err)?
            }
        });
    }
    if sums.is_empty() {
        return Ok(0.0);
    }
    let host = sums.try_stack().map_err(nn_err)?.as_vec();
    Ok(host.iter().map(|&s| s as f64).sum::<f64>().sqrt())
}

/// The gradients times `c`, on the device. dfdx exposes gradient buffers
/// read-only, so the scaled copy is itself produced by dfdx's autodiff:
/// $\partial/\partial p \sum_k \langle p_k, c\,g_k\rangle = c\,g_k$ exactly
/// (the backward multiplies by 1).
fn scaled<D: Backend, M: Parameters<D>>(model: &M, grads: &Gradients<f32, D>, c: f32) -> Result<Gradients<f32, D>> {
    let mut total: Option<Tensor<(), f32, D, OwnedTape<f32, D>>> = None;
    for (_, p) in model.parameters() {
        let term = match p {
            Param::Matrix(m) => (m.leaky_trace() * (grads.get(m) * c)).sum::<(), _>(),
            Param::Vector(v) => (v.leaky_trace() * (grads.get(v) * c)).sum::<(), _>(),
        };
        total = Some(match total {
            None => term,
            Some(t) => t + term,
        });
    }
    total.map(|t| t.backward()).ok_or_else(|| Error::param(Training::Model, "has no parameters to train"))
}

/// The retraining schedule of a walk-forward strategy: a model trained on
/// the first decision and again every `every` decisions, held in between.
pub(crate) struct Retraining<M> {
    every: usize,
    calls: usize,
    model: Option<M>,
    trainings: usize,
    /// The assets the held model was trained on.
    assets: Vec<String>,
}

impl<M> Retraining<M> {
    /// Retrains every `every` decisions (at least every one).
    pub(crate) fn new(every: usize) -> Self {
        Retraining { every: every.max(1), calls: 0, model: None, trainings: 0, assets: Vec::new() }
    }

    /// How many times a model was trained so far.
    pub(crate) fn trainings(&self) -> usize {
        self.trainings
    }

    /// The model for this decision on `assets`: the one held, or a new one
    /// from `fit` when the schedule says to retrain or the assets changed
    /// (a universe that gained or lost an asset).
    pub(crate) fn model(&mut self, assets: &[String], fit: impl FnOnce() -> Result<M>) -> Result<&M> {
        if self.calls % self.every == 0 || self.assets != assets {
            self.model = None;
            self.assets = assets.to_vec();
        }
        self.calls += 1;
        match &mut self.model {
            Some(m) => Ok(m),
            slot @ None => {
                let m = slot.insert(fit()?);
                self.trainings += 1;
                Ok(m)
            }
        }
    }
}

/// What a model supplies to the training loop.
pub(crate) trait Trainable<D: Backend>: Parameters<D> + Clone {
    /// Loss and gradients on the training samples `batch`.
    fn loss_and_grads(&self, batch: &[usize]) -> Result<(f64, Gradients<f32, D>)>;
    /// Mean loss on the validation samples (no tape).
    fn validation_loss(&self) -> Result<Option<f64>>;
}

/// Trains `model` on `n_train` samples; keeps the weights with the best
/// validation loss when there is a validation block.
pub(crate) fn fit<D: Backend, M: Trainable<D>>(model: &mut M, n_train: usize, p: &TrainParams) -> Result<History> {
    p.check()?;
    if n_train == 0 {
        return Err(Error::param(Training::Samples, "must not be empty: the training block has none"));
    }
    let mut rng = seeded(p.seed ^ 0x5eed_ba7c);
    let mut order: Vec<usize> = (0..n_train).collect();
    let mut adam = Adam::new(p.learning_rate);
    let mut history = History::default();
    let mut best: Option<(f64, M)> = None;
    let mut since_best = 0;
    for epoch in 1..=p.epochs {
        order.shuffle(&mut rng);
        let start = Instant::now();
        let (mut loss_sum, mut norm_sum, mut batches) = (0.0, 0.0, 0usize);
        for batch in order.chunks(p.batch_size) {
            let (loss, grads) = model.loss_and_grads(batch)?;
            if !loss.is_finite() {
                return Err(diverged(epoch, loss));
            }
            let norm = adam.step(model, grads, p.clip_norm).map_err(|_| diverged(epoch, f64::NAN))?;
            loss_sum += loss * batch.len() as f64;
            norm_sum += norm;
            batches += 1;
        }
        let seconds = start.elapsed().as_secs_f64();
        let train_loss = loss_sum / n_train as f64;
        let val = model.validation_loss()?;
        if let Some(v) = val.filter(|v| !v.is_finite()) {
            return Err(diverged(epoch, v));
        }
        let record = Epoch {
            epoch,
            train_loss,
            val_loss: val,
            samples_per_sec: n_train as f64 / seconds.max(1e-9),
            grad_norm: norm_sum / batches as f64,
        };
        if p.verbose {
            println!(
                "epoch {epoch:>3}/{}  train {train_loss:.5}  validation {}  {:.0} samples/s",
                p.epochs,
                val.map_or("none".to_string(), |v| format!("{v:.5}")),
                record.samples_per_sec
            );
        }
        history.epochs.push(record);
        match val {
            Some(v) if best.as_ref().is_none_or(|(b, _)| v < *b) => {
                best = Some((v, model.clone()));
                history.best_epoch = epoch;
                since_best = 0;
            }
            Some(_) => {
                since_best += 1;
                if p.patience.is_some_and(|k| since_best >= k) {
                    history.stopped_early = true;
                    break;
                }
            }
            None => history.best_epoch = epoch,
        }
    }
    if let Some((_, m)) = best {
        *model = m;
    }
    Ok(history)
}

fn diverged(epoch: usize, loss: f64) -> Error {
    Error::Diverged { epoch, loss }
}

/// Values of a scalar loss tensor.
pub(crate) fn scalar<D: Backend, T>(t: &Tensor<(), f32, D, T>) -> f64 {
    t.as_vec()[0] as f64
}

#[cfg(test)]
mod retraining_tests {
    use super::Retraining;

    #[test]
    fn a_new_asset_set_retrains_between_scheduled_retrainings() {
        let mut r = Retraining::<usize>::new(10);
        let (two, three) = (vec!["A".to_string(), "B".to_string()], vec!["A".to_string(), "B".into(), "C".into()]);
        let mut fits = 0;
        for assets in [&two, &two, &three, &three, &two] {
            r.model(assets, || {
                fits += 1;
                Ok(fits)
            })
            .unwrap();
        }
        assert_eq!(r.trainings(), 3);
    }
}
