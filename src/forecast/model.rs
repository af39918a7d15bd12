//! The forecasting model: an LSTM with a dense head, its scaler, the fitted
//! forecaster and its weights file.

use crate::parameter::Forecast;
use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use dfdx::prelude::*;
use ndarray::{Array2, ArrayView2};
use plotly::Plot;

use super::Evaluation;
use crate::error::{Error, Result};
use crate::nn::{
    copy_parameters, save_safetensors, seeded, tensor_from, Backend, Cpu, Dense, History, Lstm, Matrix, Param,
    Parameters, Sequence, WeightsFile,
};
use crate::stats;

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
            return Err(Error::param(Forecast::Outputs, "must be ≥ 1, got 0"));
        }
        let mut rng = seeded(seed);
        let lstm = Lstm::new(dev, inputs, hidden, layers, &mut rng)?;
        let head = Dense::new(dev, hidden, outputs, &mut rng);
        Ok(LstmRegressor { lstm, head })
    }

    /// The same model (its weights copied) on device `dev`.
    pub fn to_device<E: Backend>(&self, dev: &E) -> Result<LstmRegressor<E>> {
        let outputs = self.head.outputs();
        let mut m = LstmRegressor::new(
            dev,
            self.lstm.input_size(),
            self.lstm.hidden_size(),
            self.lstm.num_layers(),
            outputs,
            0,
        )?;
        copy_parameters(self, &mut m)?;
        Ok(m)
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
    pub(super) fn restore(&self, j: usize, z: f32) -> f64 {
        z as f64 * self.std[j] + self.mean[j]
    }

    pub(super) fn fit(r: ArrayView2<'_, f64>, assets: &[String]) -> Result<Scaler> {
        let mut mean = Vec::with_capacity(r.ncols());
        let mut std = Vec::with_capacity(r.ncols());
        for (j, col) in r.columns().into_iter().enumerate() {
            let x = col.to_vec();
            let s = stats::std(&x);
            if !(s > 0.0) {
                return Err(Error::param(
                    Forecast::Returns,
                    format!("asset {:?} has constant returns over the training rows; nothing to forecast", assets[j]),
                ));
            }
            mean.push(stats::mean(&x));
            std.push(s);
        }
        Ok(Scaler { mean, std })
    }
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

/// A fitted LSTM return forecaster (see the [module docs](super)), with
/// its training record and test-block evaluation: built by
/// [`Forecaster::params`]`().fit(..)` or read back by [`Forecaster::load`].
#[derive(Debug, Clone)]
pub struct Forecaster<D: Backend = Cpu> {
    pub(super) model: LstmRegressor<D>,
    pub(super) scaler: Scaler,
    pub(super) lookback: usize,
    pub(super) assets: Vec<String>,
    pub(super) history: History,
    pub(super) blocks: Blocks,
    pub(super) evaluation: Option<Evaluation>,
}

impl<D: Backend> Forecaster<D> {
    /// The same fitted forecaster with its network on device `dev`.
    pub fn to_device<E: Backend>(&self, dev: &E) -> Result<Forecaster<E>> {
        Ok(Forecaster {
            model: self.model.to_device(dev)?,
            scaler: self.scaler.clone(),
            lookback: self.lookback,
            assets: self.assets.clone(),
            history: self.history.clone(),
            blocks: self.blocks.clone(),
            evaluation: self.evaluation.clone(),
        })
    }

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
    /// Out-of-sample evaluation on the test block; an error when no test
    /// block was held out (test fraction 0, or a model read from a file).
    pub fn evaluation(&self) -> Result<&Evaluation> {
        self.evaluation.as_ref().ok_or_else(|| {
            Error::param(
                Forecast::Test,
                "no test block was held out, so there is no evaluation; fit with .split(v, t) and t > 0",
            )
        })
    }

    /// Forecast of the return after the last row of `recent` (at least
    /// `lookback` rows of the same assets, in the same order).
    pub fn predict_next(&self, recent: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        let n = self.assets.len();
        let tail = last_rows(recent, self.lookback, &self.assets, "a forecast")?;
        let z: Vec<f32> = scale(tail, &self.scaler).iter().copied().collect();
        let x: Sequence<D> = tensor_from(&self.model.device(), &z, (1, self.lookback, n))?;
        let p = self.model.forward(x)?.as_vec();
        Ok(p.iter().enumerate().map(|(j, v)| self.scaler.restore(j, *v)).collect())
    }

    /// Saves the weights (PyTorch names) with the look-back window, assets and scaler
    /// in the metadata.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut meta = HashMap::new();
        let join = |v: &[f64]| v.iter().map(|x| format!("{x:e}")).collect::<Vec<_>>().join(",");
        meta.insert("window".into(), self.lookback.to_string());
        meta.insert("hidden".into(), self.model.lstm.hidden_size().to_string());
        meta.insert("layers".into(), self.model.lstm.num_layers().to_string());
        meta.insert("assets".into(), self.assets.join("\u{1f}"));
        meta.insert("scaler_mean".into(), join(&self.scaler.mean));
        meta.insert("scaler_std".into(), join(&self.scaler.std));
        save_safetensors(&self.model, path, meta)
    }

    /// The network's parameters under PyTorch's names, with their shapes.
    pub fn parameters_table(&self) -> crate::display::Table {
        use crate::display::Cell;
        let params = self.model.parameters();
        let total: usize = params.iter().map(|(_, p)| p.shape().iter().product::<usize>()).sum();
        let mut t = crate::display::Table::new(["parameter", "shape", "values"])
            .caption(format!("{} tensors, {total} values", params.len()));
        for (name, p) in params {
            let shape = p.shape();
            t.push(vec![
                Cell::Text(name),
                Cell::Text(format!("{shape:?}")),
                Cell::Int(shape.iter().product::<usize>() as i64),
            ]);
        }
        t
    }

    /// Test-block forecasts against outcomes for one asset.
    pub fn plot_predictions(&self, asset: &str) -> Result<Plot> {
        let e = self.evaluation()?;
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
        return Err(Error::param(
            Forecast::Returns,
            format!("value {v} at row {i}, asset {:?} of the window", assets[j]),
        ));
    }
    Ok(tail)
}

impl Forecaster<Cpu> {
    /// Reads a forecaster written by [`save`](Forecaster::save) (CPU). The
    /// file's metadata must describe its weights: a scaler of one finite
    /// mean and one positive, finite standard deviation per asset, and a
    /// window of at least 2 rows.
    pub fn load(path: impl AsRef<Path>) -> Result<Forecaster<Cpu>> {
        let path = path.as_ref();
        let file = WeightsFile::read(path)?;
        let meta = &file.metadata;
        let bad = |message: String| Error::ModelFile { path: path.to_path_buf(), tensor: None, message };
        let get = |k: &str| meta.get(k).ok_or_else(|| bad(format!("lacks metadata {k:?}")));
        let num = |k: &str| -> Result<usize> {
            let v = get(k)?;
            v.parse().map_err(|_| bad(format!("metadata {k} is {v:?}, not a count")))
        };
        let floats = |k: &str| -> Result<Vec<f64>> {
            get(k)?
                .split(',')
                .map(|x| x.parse().map_err(|_| bad(format!("metadata {k} holds {x:?}, not a number"))))
                .collect()
        };
        let assets: Vec<String> = get("assets")?.split('\u{1f}').map(str::to_string).collect();
        let n = assets.len();
        let scaler = Scaler { mean: floats("scaler_mean")?, std: floats("scaler_std")? };
        if scaler.mean.len() != n || scaler.std.len() != n {
            return Err(bad(format!(
                "the scaler has {} means and {} standard deviations for {n} assets",
                scaler.mean.len(),
                scaler.std.len()
            )));
        }
        if let Some(j) =
            (0..n).find(|&j| !(scaler.mean[j].is_finite() && scaler.std[j].is_finite() && scaler.std[j] > 0.0))
        {
            return Err(bad(format!(
                "the scaler of asset {:?} has mean {} and standard deviation {}; they must be finite and the deviation > 0",
                assets[j], scaler.mean[j], scaler.std[j]
            )));
        }
        let lookback = num("window")?;
        if lookback < 2 {
            return Err(bad(format!("metadata window is {lookback}; a forecaster reads ≥ 2 rows")));
        }
        let dev = Cpu::default();
        let mut model = LstmRegressor::new(&dev, n, num("hidden")?, num("layers")?, n, 0)?;
        file.fill(&mut model)?;
        Ok(Forecaster {
            model,
            scaler,
            lookback,
            assets,
            history: History::default(),
            blocks: Blocks { train: None, validation: None, test: None },
            evaluation: None,
        })
    }
}

pub(super) fn scale(r: ArrayView2<'_, f64>, s: &Scaler) -> Array2<f32> {
    let mut z = Array2::<f32>::zeros(r.raw_dim());
    for ((i, j), v) in r.indexed_iter() {
        z[(i, j)] = ((v - s.mean[j]) / s.std[j]) as f32;
    }
    z
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
