//! The deep allocator inside the walk-forward backtest.

use ndarray::{Array1, ArrayView1};

use super::{DeepAllocator, DeepAllocatorParams};
use crate::backtest::{Strategy, Window};
use crate::data::ReturnKind;
use crate::error::Result;
use crate::nn::train::Retraining;
use crate::nn::Cpu;

/// On each rebalance: retrain (every `retrain_every` rebalances) on the
/// window's log returns only — its latest block validating — and hold the
/// network's weights for the last `lookback` days until the next rebalance.
///
/// The backtest hands the strategy returns up to the decision date, so the
/// last training sample's holding window ends on that date: training never
/// sees the period the weights are judged on.
pub struct DeepStrategy {
    name: String,
    params: DeepAllocatorParams,
    schedule: Retraining<DeepAllocator<Cpu>>,
    epochs: Vec<usize>,
}

impl DeepStrategy {
    /// A named strategy (training output silenced).
    pub fn new(name: &str, params: DeepAllocatorParams, retrain_every: usize) -> Self {
        DeepStrategy {
            name: name.to_string(),
            params: params.verbose(false),
            schedule: Retraining::new(retrain_every),
            epochs: Vec::new(),
        }
    }

    /// How many times the model was trained so far.
    pub fn trainings(&self) -> usize {
        self.schedule.trainings()
    }

    /// Epochs run by each training so far.
    pub fn epochs_per_training(&self) -> &[usize] {
        &self.epochs
    }
}

impl Strategy for DeepStrategy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn decide(&mut self, window: &Window<'_>, current: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let log = window.to_returns()?.to_kind(ReturnKind::Log);
        let model = self.schedule.model(window.assets(), || {
            let fitted = self.params.fit(&log)?;
            self.epochs.push(fitted.history().epochs.len());
            Ok(fitted)
        })?;
        Ok(Some(model.weights_from(log.values(), Some(current))?.into_values()))
    }
}
