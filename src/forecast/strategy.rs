//! LSTM forecasts as expected returns for a mean-variance rebalance.

use ndarray::{Array1, ArrayView1};

use super::{Forecaster, ForecasterParams};
use crate::backtest::{Strategy, Window};
use crate::error::Result;
use crate::estimate::Moments;
use crate::nn::train::Retraining;
use crate::optimize::Optimizer;

/// On each rebalance: retrain (every `retrain_every` rebalances) a
/// multi-asset [`Forecaster`](super::Forecaster) on the window's returns
/// only (its last block validates, nothing is held out for testing), forecast
/// the next period's returns, and solve mean-variance with the forecasts as
/// $\mu$ (annualised) and the window's Ledoit–Wolf covariance.
pub struct LstmStrategy {
    name: String,
    params: ForecasterParams,
    risk_aversion: f64,
    schedule: Retraining<Forecaster<crate::nn::Cpu>>,
}

impl LstmStrategy {
    /// A named strategy; `params`' test fraction is set to 0.
    pub fn new(name: &str, params: ForecasterParams, risk_aversion: f64, retrain_every: usize) -> Self {
        let validation = params.validation;
        LstmStrategy {
            name: name.to_string(),
            params: params.split(validation, 0.0).verbose(false),
            risk_aversion,
            schedule: Retraining::new(retrain_every),
        }
    }

    /// How many times the model was trained so far.
    pub fn trainings(&self) -> usize {
        self.schedule.trainings()
    }
}

impl Strategy for LstmStrategy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let returns = window.to_returns()?;
        let model = self.schedule.model(window.assets(), || self.params.fit(&returns))?;
        let mu: Array1<f64> =
            model.predict_next(returns.values())?.into_iter().map(|m| m * window.periods_per_year()).collect();
        let m = Moments::ledoit_wolf().fit(&returns)?.annualized().with_mean(mu)?;
        Ok(Some(Optimizer::mean_variance(self.risk_aversion).solve(&m)?.weights().clone()))
    }
}
