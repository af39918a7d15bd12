//! LSTM forecasts as expected returns for a mean-variance rebalance.

use ndarray::{Array1, ArrayView1};

use super::{Forecast, ForecasterParams};
use crate::backtest::{Strategy, Window};
use crate::error::Result;
use crate::estimate::Moments;
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
    retrain_every: usize,
    calls: usize,
    model: Option<Forecast<dfdx::prelude::Cpu>>,
    trainings: usize,
}

impl LstmStrategy {
    /// A named strategy; `params`' test fraction is set to 0.
    pub fn new(name: &str, params: ForecasterParams, risk_aversion: f64, retrain_every: usize) -> Self {
        let validation = params.validation;
        LstmStrategy {
            name: name.to_string(),
            params: params.split(validation, 0.0).verbose(false),
            risk_aversion,
            retrain_every: retrain_every.max(1),
            calls: 0,
            model: None,
            trainings: 0,
        }
    }

    /// How many times the model was trained so far.
    pub fn trainings(&self) -> usize {
        self.trainings
    }
}

impl Strategy for LstmStrategy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let returns = window.to_returns()?;
        if self.calls % self.retrain_every == 0 {
            self.model = None;
        }
        let model = match &mut self.model {
            Some(m) => m,
            slot @ None => {
                let fitted = slot.insert(self.params.fit(&returns)?);
                self.trainings += 1;
                fitted
            }
        };
        self.calls += 1;
        let mu: Array1<f64> =
            model.predict_next(returns.values())?.into_iter().map(|m| m * window.periods_per_year()).collect();
        let m = Moments::ledoit_wolf().fit(&returns)?.annualized().with_mean(mu)?;
        Ok(Some(Optimizer::mean_variance(self.risk_aversion).solve(&m)?.weights().clone()))
    }
}
