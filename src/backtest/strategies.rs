//! Built-in strategies.

use crate::parameter::Backtest as Param;
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
            return Err(Error::param(Param::InverseVolatility, format!("lookback must be ≥ 2, got {}", self.lookback)));
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
                Param::InverseVolatility,
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
            return Err(Error::param(Param::Momentum, "lookback must be ≥ 1, got 0"));
        }
        let all = window.panel_assets().len();
        if self.top < 1 || self.top > all {
            return Err(Error::param(
                Param::Momentum,
                format!("top must be in 1..={all} (the assets), got {}", self.top),
            ));
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
/// rebalance with moments estimated on the window (annualised), from the
/// weights the portfolio holds: the current (drifted) weights and the
/// backtest's cost model ([`Window::trade_costs`]) are passed to the
/// optimiser, so each trade is priced — proportional and per-share costs,
/// market impact, borrow fees on shorts — and a trade that does not earn
/// its cost is not made. With annualised moments a trade's one-off cost is
/// set against a year of expected return; [`cost_aversion`](Self::cost_aversion)
/// changes the exchange rate. Risk budgeting and maximum diversification
/// rescale their solutions and cannot price trades: they decide as if from
/// cash. [`ignoring_costs`](Self::ignoring_costs) makes any objective do so.
///
/// [`multi_period`](Self::multi_period) plans several periods ahead
/// instead ([`MultiPeriod`](crate::optimize::MultiPeriod)) and executes the
/// first step.
#[cfg(feature = "optimize")]
#[derive(Debug, Clone)]
pub struct Optimized {
    name: String,
    policy: Policy,
    estimator: Estimate,
    trading: Trading,
}

/// What an [`Optimized`] strategy solves on each decision date.
#[cfg(feature = "optimize")]
#[derive(Debug, Clone)]
enum Policy {
    Single(crate::optimize::Optimizer),
    Multi(crate::optimize::MultiPeriod, usize),
}

/// How an [`Optimized`] strategy prices its trades.
#[cfg(feature = "optimize")]
#[derive(Debug, Clone, Copy)]
struct Trading {
    priced: bool,
    aversion: f64,
    volume_share: Option<f64>,
    annualized: bool,
}

/// Forecasts for each period of a plan from a decision date's window.
#[cfg(feature = "optimize")]
type Forecaster = std::sync::Arc<dyn Fn(&Window<'_>) -> Result<Vec<crate::estimate::Moments>> + Send + Sync>;

/// Where an [`Optimized`] strategy's moments come from.
#[cfg(feature = "optimize")]
#[derive(Clone)]
enum Estimate {
    Moments(crate::estimate::MomentsParams),
    Factors(Box<crate::estimate::FactorModelParams>),
    Custom(Forecaster),
}

#[cfg(feature = "optimize")]
impl std::fmt::Debug for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Estimate::Moments(m) => f.debug_tuple("Moments").field(m).finish(),
            Estimate::Factors(m) => f.debug_tuple("Factors").field(m).finish(),
            Estimate::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

#[cfg(feature = "optimize")]
impl Optimized {
    fn with(name: &str, policy: Policy, estimator: Estimate) -> Self {
        let trading = Trading { priced: true, aversion: 1.0, volume_share: None, annualized: true };
        Optimized { name: name.to_string(), policy, estimator, trading }
    }

    /// A named optimised strategy.
    pub fn new(name: &str, optimizer: crate::optimize::Optimizer, estimator: crate::estimate::MomentsParams) -> Self {
        Optimized::with(name, Policy::Single(optimizer), Estimate::Moments(estimator))
    }

    /// A named optimised strategy on a factor model fitted to each window
    /// (the optimiser uses its factored covariance).
    pub fn factor_model(
        name: &str,
        optimizer: crate::optimize::Optimizer,
        model: crate::estimate::FactorModelParams,
    ) -> Self {
        Optimized::with(name, Policy::Single(optimizer), Estimate::Factors(Box::new(model)))
    }

    /// A named multi-period policy planning `horizon` periods ahead on the
    /// window's moments (the same forecast for each period; see
    /// [`forecasts`](Self::forecasts) for one per period), executing the
    /// first step.
    pub fn multi_period(
        name: &str,
        policy: crate::optimize::MultiPeriod,
        horizon: usize,
        estimator: crate::estimate::MomentsParams,
    ) -> Self {
        Optimized::with(name, Policy::Multi(policy, horizon), Estimate::Moments(estimator))
    }

    /// Forecasts from a rule instead of an estimator: the moments of each
    /// period ahead (one for a single-period objective, at least the
    /// horizon for a multi-period one), in the units the rule chooses —
    /// the strategy does not annualise them. Borrow fees are then priced
    /// per period of the panel.
    pub fn forecasts(
        mut self,
        rule: impl Fn(&Window<'_>) -> Result<Vec<crate::estimate::Moments>> + Send + Sync + 'static,
    ) -> Self {
        self.estimator = Estimate::Custom(std::sync::Arc::new(rule));
        self.trading.annualized = false;
        self
    }

    /// Multiplies the trading costs in the objective (default 1); see
    /// [`Constraints::cost_aversion`](crate::optimize::Constraints::cost_aversion).
    pub fn cost_aversion(mut self, gamma: f64) -> Self {
        self.trading.aversion = gamma;
        self
    }

    /// Caps each trade at `share` of the asset's mean traded volume (needs
    /// a cost model with market impact, which carries the volumes).
    pub fn max_volume_share(mut self, share: f64) -> Self {
        self.trading.volume_share = Some(share);
        self
    }

    /// Decides as if from cash, with no trade priced (target weights only).
    pub fn ignoring_costs(mut self) -> Self {
        self.trading.priced = false;
        self
    }

    /// The window's forecasts for `periods` periods.
    fn forecast(&self, window: &Window<'_>, periods: usize) -> Result<Vec<crate::estimate::Moments>> {
        let one = match &self.estimator {
            Estimate::Moments(e) => window.moments(e)?,
            Estimate::Factors(f) => f.fit(&window.to_returns()?)?.moments().clone(),
            Estimate::Custom(rule) => {
                let v = rule(window)?;
                if v.len() < periods {
                    return Err(Error::param(
                        Param::Forecasts,
                        format!("the rule gave {} periods of forecasts for a horizon of {periods}", v.len()),
                    ));
                }
                return Ok(v.into_iter().take(periods).collect());
            }
        };
        Ok(vec![one.annualized(); periods])
    }

    /// The optimiser's constraints with the trade from `current` priced.
    fn trade_from(
        &self,
        constraints: crate::optimize::Constraints,
        window: &Window<'_>,
        current: ArrayView1<'_, f64>,
    ) -> Result<crate::optimize::Constraints> {
        let mut costs = window.trade_costs()?;
        if let Some(b) = &mut costs.borrow {
            if !self.trading.annualized {
                let k = window.periods_per_year();
                b.iter_mut().for_each(|s| *s = (1.0 + *s).powf(1.0 / k) - 1.0);
            }
        }
        let limits = match self.trading.volume_share {
            None => None,
            Some(share) => {
                let volume = costs.volume.as_ref().ok_or_else(|| {
                    Error::param(
                        Param::MaxVolumeShare,
                        "needs traded volumes: give the backtest a cost model with market impact (Impact::new(b, &volumes))",
                    )
                })?;
                Some(volume.iter().map(|v| share * v).collect())
            }
        };
        let c = constraints.previous(current.to_vec()).trade_costs(costs).cost_aversion(self.trading.aversion);
        Ok(match limits {
            Some(m) => c.max_trade(m),
            None => c,
        })
    }
}

#[cfg(feature = "optimize")]
impl Strategy for Optimized {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn decide(&mut self, window: &Window<'_>, current: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        match &self.policy {
            Policy::Single(optimizer) => {
                let mut optimizer = optimizer.clone();
                if self.trading.priced && optimizer.objective().prices_trades() {
                    let c = self.trade_from(optimizer.constraints_ref().clone(), window, current)?;
                    optimizer = optimizer.constraints(c);
                }
                let a = if optimizer.objective().needs_scenarios() {
                    optimizer.solve_scenarios(&window.to_returns()?)?
                } else {
                    let m = self.forecast(window, 1)?.swap_remove(0);
                    optimizer.solve(&m)?
                };
                Ok(Some(a.weights().clone()))
            }
            Policy::Multi(policy, horizon) => {
                let mut policy = policy.clone();
                if self.trading.priced {
                    let c = self.trade_from(policy.constraints_ref().clone(), window, current)?;
                    policy = policy.constraints(c);
                }
                let plan = policy.solve(&self.forecast(window, *horizon)?)?;
                Ok(Some(plan.first().clone()))
            }
        }
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
