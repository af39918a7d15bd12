//! Built-in strategies.

use ndarray::{Array1, ArrayView1, Axis};

use super::{Strategy, Window, EQUAL_WEIGHT};
use crate::error::{Error, Result};

/// Equal weight, $w_i = 1/N$, restored on every rebalance.
#[derive(Debug, Clone, Copy, Default)]
pub struct EqualWeight;

impl Strategy for EqualWeight {
    fn name(&self) -> String {
        EQUAL_WEIGHT.to_string()
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let n = window.assets().len();
        Ok(Some(Array1::from_elem(n, 1.0 / n as f64)))
    }

    fn is_baseline(&self) -> bool {
        true
    }
}

/// Buys on the first decision and never trades again: 1/N, or one asset
/// only ([`BuyAndHold::asset`]).
#[derive(Debug, Clone, Default)]
pub struct BuyAndHold {
    bought: bool,
    asset: Option<String>,
}

impl BuyAndHold {
    /// Buy-and-hold of 1/N.
    pub fn new() -> Self {
        BuyAndHold::default()
    }

    /// Buy-and-hold of the single asset `name` (an unknown name fails on
    /// the first decision, naming the assets available).
    pub fn asset(name: &str) -> Self {
        BuyAndHold { bought: false, asset: Some(name.to_string()) }
    }
}

impl Strategy for BuyAndHold {
    fn name(&self) -> String {
        match &self.asset {
            Some(a) => format!("buy and hold {a}"),
            None => "buy and hold (1/N at start)".into(),
        }
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        if self.bought {
            return Ok(None);
        }
        let assets = window.assets();
        let n = assets.len();
        let w = match &self.asset {
            None => Array1::from_elem(n, 1.0 / n as f64),
            Some(a) => {
                let j = assets
                    .iter()
                    .position(|x| x == a)
                    .ok_or_else(|| Error::UnknownAsset { name: a.clone(), available: assets.to_vec() })?;
                let mut w = Array1::zeros(n);
                w[j] = 1.0;
                w
            }
        };
        self.bought = true;
        Ok(Some(w))
    }
}

/// Weights proportional to $1/\sigma_i$, the volatility of the last
/// `lookback` returns.
#[derive(Debug, Clone, Copy)]
pub struct InverseVolatility {
    lookback: usize,
}

impl InverseVolatility {
    /// Inverse volatility over the last `lookback` periods (≥ 2).
    pub fn new(lookback: usize) -> Self {
        InverseVolatility { lookback }
    }
}

impl Strategy for InverseVolatility {
    fn name(&self) -> String {
        format!("inverse volatility ({})", self.lookback)
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        if self.lookback < 2 {
            return Err(Error::param("inverse volatility lookback", format!("must be ≥ 2, got {}", self.lookback)));
        }
        let r = window.returns();
        let from = r.nrows().saturating_sub(self.lookback);
        let recent = r.slice(ndarray::s![from.., ..]);
        if recent.nrows() < 2 {
            return Err(Error::TooFewRows { operation: "inverse volatility".into(), needed: 2, got: recent.nrows() });
        }
        let sd = recent.std_axis(Axis(0), 1.0);
        if let Some(j) = sd.iter().position(|s| !(*s > 0.0)) {
            return Err(Error::param(
                "inverse volatility",
                format!("asset {} has zero volatility over the last {} periods", window.assets()[j], recent.nrows()),
            ));
        }
        let inv = sd.mapv(|s| 1.0 / s);
        let total = inv.sum();
        Ok(Some(inv / total))
    }
}

/// Cross-sectional momentum: equal weights in the `top` assets with the
/// highest compounded return over the last `lookback` periods,
/// $\sum_{s=t-L+1}^{t} \ln(1 + R_{i,s})$ (ties go to the asset listed first).
#[derive(Debug, Clone, Copy)]
pub struct Momentum {
    lookback: usize,
    top: usize,
}

impl Momentum {
    /// The `top` best performers over the last `lookback` periods.
    pub fn new(lookback: usize, top: usize) -> Self {
        Momentum { lookback, top }
    }
}

impl Strategy for Momentum {
    fn name(&self) -> String {
        format!("momentum top {} ({})", self.top, self.lookback)
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let n = window.assets().len();
        if self.lookback < 1 {
            return Err(Error::param("momentum lookback", "must be ≥ 1, got 0"));
        }
        let all = window.panel_assets().len();
        if self.top < 1 || self.top > all {
            return Err(Error::param("momentum top", format!("must be in 1..={all} (the assets), got {}", self.top)));
        }
        // On a date when fewer assets are in the universe, all of them.
        let top = self.top.min(n);
        let r = window.returns();
        if r.nrows() < self.lookback {
            return Err(Error::TooFewRows { operation: "momentum".into(), needed: self.lookback, got: r.nrows() });
        }
        let recent = r.slice(ndarray::s![r.nrows() - self.lookback.., ..]);
        let score: Vec<f64> = recent.columns().into_iter().map(|c| c.iter().map(|x| x.ln_1p()).sum()).collect();
        let mut w = Array1::zeros(n);
        for &i in crate::stats::descending(&score).iter().take(top) {
            w[i] = 1.0 / top as f64;
        }
        Ok(Some(w))
    }
}

/// An [`Optimizer`](crate::optimize::Optimizer) objective re-solved on every
/// rebalance with moments estimated on the window (annualised).
#[cfg(feature = "optimize")]
#[derive(Debug, Clone)]
pub struct Optimized {
    name: String,
    optimizer: crate::optimize::Optimizer,
    estimator: Estimate,
}

/// Where an [`Optimized`] strategy's moments come from.
#[cfg(feature = "optimize")]
#[derive(Debug, Clone)]
enum Estimate {
    Moments(crate::estimate::MomentsParams),
    Factors(Box<crate::estimate::FactorModelParams>),
}

#[cfg(feature = "optimize")]
impl Optimized {
    /// A named optimised strategy.
    pub fn new(name: &str, optimizer: crate::optimize::Optimizer, estimator: crate::estimate::MomentsParams) -> Self {
        Optimized { name: name.to_string(), optimizer, estimator: Estimate::Moments(estimator) }
    }

    /// A named optimised strategy on a factor model fitted to each window
    /// (the optimiser uses its factored covariance).
    pub fn factor_model(
        name: &str,
        optimizer: crate::optimize::Optimizer,
        model: crate::estimate::FactorModelParams,
    ) -> Self {
        Optimized { name: name.to_string(), optimizer, estimator: Estimate::Factors(Box::new(model)) }
    }
}

#[cfg(feature = "optimize")]
impl Strategy for Optimized {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let a = if self.optimizer.objective().needs_scenarios() {
            self.optimizer.solve_scenarios(&window.to_returns()?)?
        } else {
            let m = match &self.estimator {
                Estimate::Moments(e) => window.moments(e)?,
                Estimate::Factors(f) => f.fit(&window.to_returns()?)?.moments().clone(),
            };
            self.optimizer.solve(&m.annualized())?
        };
        Ok(Some(a.weights().clone()))
    }
}

/// Views as a function of the window's returns (e.g. from momentum or a
/// ranker's scores).
#[cfg(feature = "optimize")]
pub type ViewRule = Box<dyn Fn(&crate::data::Returns) -> Result<Vec<crate::estimate::View>> + Send>;

/// Black–Litterman re-fitted on every rebalance: moments estimated on the
/// window (annualised), the views the rule draws from the same window, and
/// an [`Optimizer`](crate::optimize::Optimizer) objective solved on the
/// posterior.
#[cfg(feature = "optimize")]
pub struct BlackLittermanStrategy {
    name: String,
    params: crate::estimate::BlackLittermanParams,
    estimator: crate::estimate::MomentsParams,
    optimizer: crate::optimize::Optimizer,
    views: ViewRule,
}

#[cfg(feature = "optimize")]
impl BlackLittermanStrategy {
    /// A named strategy: `params` carries the market weights, δ, τ and the
    /// view uncertainty (Idzorek confidences must match the rule's view
    /// count); `views` gives each window's views.
    pub fn new(
        name: &str,
        params: crate::estimate::BlackLittermanParams,
        estimator: crate::estimate::MomentsParams,
        optimizer: crate::optimize::Optimizer,
        views: impl Fn(&crate::data::Returns) -> Result<Vec<crate::estimate::View>> + Send + 'static,
    ) -> Self {
        BlackLittermanStrategy { name: name.to_string(), params, estimator, optimizer, views: Box::new(views) }
    }
}

#[cfg(feature = "optimize")]
impl Strategy for BlackLittermanStrategy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let m = window.moments(&self.estimator)?.annualized();
        let params = (self.views)(&window.to_returns()?)?.into_iter().fold(self.params.clone(), |p, v| p.view(v));
        let bl = params.fit(&m)?;
        Ok(Some(self.optimizer.solve(bl.posterior())?.weights().clone()))
    }
}
