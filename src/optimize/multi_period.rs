//! Multi-period optimisation ([`MultiPeriod`]).

use crate::parameter::Optimize as Param;
use ndarray::Array1;

use super::problem::{Block, Program};
use super::risk::add_quadratic;
use super::trading::{Start, TradeVars};
use super::Constraints;
use crate::error::{Error, Result, SolverStatus};
use crate::estimate::Moments;

/// A multi-period mean–variance policy: a plan of weights $w^1, \dots, w^H$ for the
/// next $H$ periods, each period's trade priced from the weights before it,
/// of which a policy executes the first step:
/// $$\max_{w^1,\dots,w^H \in \mathcal W}\ \sum_{\tau=1}^{H} \Big(\mu_\tau^\top w^\tau - \tfrac{\lambda}{2}\, w^{\tau\top}\Sigma_\tau w^\tau - \text{cost}(w^\tau - w^{\tau-1})\Big),\qquad w^0 = w^{cur},$$
/// where the cost is that of [`Constraints::trade_costs`] with its
/// aversions, turnover cap and trade limits, applied to every step (and
/// borrow fees to every period's holdings). With $H = 1$ it is the
/// single-period [`Optimizer::mean_variance`](super::Optimizer::mean_variance)
/// with the same constraints. Because a trade's impact grows as
/// $\lvert z\rvert^{3/2}$, spreading a large change over several steps
/// costs less than making it at once, which a plan can see and one period
/// cannot.
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::market::TradeCosts;
/// use assetalloc::optimize::MultiPeriod;
/// let r = Synthetic::params().assets(4).days(500).seed(3).generate()?.prices.returns(ReturnKind::Simple)?;
/// let m = Moments::sample().fit(&r)?;
/// let held = vec![0.7, 0.1, 0.1, 0.1];
/// let costs = TradeCosts { impact: Some(vec![0.5; 4]), ..TradeCosts::bps(5.0, 4) };
/// let c = Constraints::long_only().previous(held).trade_costs(costs);
/// let plan = MultiPeriod::new(5.0).constraints(c).solve(&vec![m; 3])?;
/// assert_eq!(plan.horizon(), 3);
/// assert!((plan.first().sum() - 1.0).abs() < 1e-8);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MultiPeriod {
    risk_aversion: f64,
    constraints: Constraints,
}

/// The weights a [`MultiPeriod`] policy plans, one vector per period.
#[derive(Debug, Clone)]
pub struct Plan {
    assets: Vec<String>,
    weights: Vec<Array1<f64>>,
    status: SolverStatus,
    iterations: u32,
    seconds: f64,
}

impl MultiPeriod {
    /// Mean–variance with risk aversion $\lambda > 0$ in every period.
    pub fn new(risk_aversion: f64) -> Self {
        MultiPeriod { risk_aversion, constraints: Constraints::long_only() }
    }

    /// The constraints of every period, with the current weights
    /// ([`Constraints::previous`]) and the trade's prices.
    pub fn constraints(mut self, c: Constraints) -> Self {
        self.constraints = c;
        self
    }

    /// The constraints.
    pub(crate) fn constraints_ref(&self) -> &Constraints {
        &self.constraints
    }

    /// Plans one period per forecast (the horizon is their count).
    pub fn solve(&self, forecasts: &[Moments]) -> Result<Plan> {
        Error::positive(Param::RiskAversion, self.risk_aversion)?;
        let Some(first) = forecasts.first() else {
            return Err(Error::param(
                Param::Horizon,
                "must be ≥ 1, got 0 forecasts; give one forecast (moments) per period to plan",
            ));
        };
        let assets = first.assets();
        if let Some(k) = forecasts.iter().position(|m| m.assets() != assets) {
            return Err(Error::param(
                Param::Forecasts,
                format!(
                    "period {} has assets {:?}, period 1 has {:?}; every period needs the same assets",
                    k + 1,
                    forecasts[k].assets(),
                    assets
                ),
            ));
        }
        for (k, m) in forecasts.iter().enumerate() {
            if let Some(i) = m.mean().iter().position(|v| !v.is_finite()) {
                return Err(Error::param(
                    Param::Forecasts,
                    format!("period {}'s expected return of {} is {}", k + 1, assets[i], m.mean()[i]),
                ));
            }
        }
        let c = self.constraints.resolve(assets)?;
        if c.tracking.is_some() {
            return Err(Error::param(Param::TrackingError, "a cap is not supported in a multi-period plan"));
        }
        if c.holdings.is_some() {
            return Err(Error::param(
                Param::Constraints,
                "a multi-period plan does not take holding rules (cardinality, minimum positions)",
            ));
        }
        let n = assets.len();
        let h = forecasts.len();
        let mut p = Program::default();
        // Every period's weights first, then each period's trade.
        let w: Vec<Block> = (0..h).map(|_| p.vars(n)).collect();
        let mut trades: Vec<TradeVars> = Vec::with_capacity(h);
        for (k, m) in forecasts.iter().enumerate() {
            c.write_weights(&mut p, w[k]);
            if let Some(t) = &c.trade {
                let start = if k == 0 { Start::Held(&t.current) } else { Start::Planned(w[k - 1]) };
                trades.push(t.write(&mut p, w[k], start));
            }
            // γ/2 w_kᵀΣ_k w_k − μ_k·w_k.
            add_quadratic(&mut p, w[k], m.cov(), self.risk_aversion);
            p.minimise(-w[k].dot(m.mean()));
        }
        for v in trades {
            p.minimise(c.cost(v));
        }
        p.polish_on_active_set();
        let sol = p.solve()?;
        let weights: Vec<Array1<f64>> = w.iter().map(|wk| Array1::from(wk.values(&sol.x))).collect();
        if weights.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::Solver {
                status: SolverStatus::NumericalError,
                message: "the plan holds non-finite weights".into(),
            });
        }
        Ok(Plan {
            assets: assets.to_vec(),
            weights,
            status: sol.status,
            iterations: sol.iterations,
            seconds: sol.seconds,
        })
    }
}

impl Plan {
    /// The weights to hold after the first trade (what a policy executes).
    pub fn first(&self) -> &Array1<f64> {
        &self.weights[0]
    }

    /// Every period's planned weights, in order.
    pub fn weights(&self) -> &[Array1<f64>] {
        &self.weights
    }

    /// The number of periods planned.
    pub fn horizon(&self) -> usize {
        self.weights.len()
    }

    /// The assets, in the weights' order.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// The solver's status.
    pub fn status(&self) -> SolverStatus {
        self.status
    }

    /// Interior-point iterations and seconds in the solver.
    pub fn solver_effort(&self) -> (u32, f64) {
        (self.iterations, self.seconds)
    }
}
