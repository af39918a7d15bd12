//! The deep allocator inside the walk-forward backtest.

use ndarray::{Array1, ArrayView1};

use super::{Allocator, DeepParams};
use crate::backtest::{Strategy, Window};
use crate::data::ReturnKind;
use crate::error::Result;
use crate::forecast::Cpu;

/// On each rebalance: retrain (every `retrain_every` rebalances) on the
/// window's log returns only — its latest block validating — and hold the
/// network's weights for the last `n_time` days until the next rebalance.
///
/// The backtest hands the strategy returns up to the decision date, so the
/// last training sample's holding window ends on that date: training never
/// sees the period the weights are judged on.
pub struct DeepStrategy {
    name: String,
    params: DeepParams,
    retrain_every: usize,
    calls: usize,
    model: Option<Allocator<Cpu>>,
    trainings: usize,
    epochs: Vec<usize>,
}

impl DeepStrategy {
    /// A named strategy (training output silenced).
    pub fn new(name: &str, params: DeepParams, retrain_every: usize) -> Self {
        DeepStrategy {
            name: name.to_string(),
            params: params.verbose(false),
            retrain_every: retrain_every.max(1),
            calls: 0,
            model: None,
            trainings: 0,
            epochs: Vec::new(),
        }
    }

    /// How many times the model was trained so far.
    pub fn trainings(&self) -> usize {
        self.trainings
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

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let log = window.to_returns()?.to_kind(ReturnKind::Log);
        if self.calls % self.retrain_every == 0 {
            self.model = None;
        }
        self.calls += 1;
        let model = match &mut self.model {
            Some(m) => m,
            slot @ None => {
                let fitted = slot.insert(self.params.fit(&log)?);
                self.trainings += 1;
                self.epochs.push(fitted.history().epochs.len());
                fitted
            }
        };
        Ok(Some(model.weights(log.values())?))
    }
}
