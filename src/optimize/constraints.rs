//! Portfolio constraints, checked for evident infeasibility and written
//! into a [`Program`].

use crate::parameter::Optimize as Param;
use ndarray::Array1;

use super::problem::{Block, Lin, Program};
use super::trading::{Start, Trade, TradeVars};
use crate::error::{Error, Result};
use crate::market::TradeCosts;

/// Constraints on the weights $w$.
///
/// Default ([`Constraints::long_only`]): $0 \le w_i \le 1$, $\sum_i w_i = 1$.
///
/// ```
/// use assetalloc::prelude::*;
/// let c = Constraints::long_only()
///     .bounds(0.0, 0.25)
///     .group("tech", &["AAPL", "MSFT", "AMD"], 0.0, 0.4)
///     .max_turnover(0.5)
///     .previous(vec![0.05; 20]);
/// # let _ = c;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Constraints {
    pub(crate) lower: Vec<f64>,
    pub(crate) upper: Vec<f64>,
    pub(crate) allow_cash: bool,
    pub(crate) groups: Vec<Group>,
    pub(crate) leverage: Option<f64>,
    pub(crate) previous: Option<Vec<f64>>,
    pub(crate) turnover: Option<f64>,
    pub(crate) cost_bps: f64,
    pub(crate) trade_costs: Option<TradeCosts>,
    pub(crate) cost_aversion: f64,
    pub(crate) holding_aversion: f64,
    pub(crate) max_trade: Option<Vec<f64>>,
    pub(crate) linear: Vec<Linear>,
    pub(crate) tracking: Option<(Benchmark, f64)>,
    pub(crate) holdings: Holdings,
}

/// Which assets may be held: rules on the support of the weights, met by
/// branch and bound (`optimize/branch.rs`), not by the convex program.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Holdings {
    pub max_assets: Option<usize>,
    /// Name, members, most held.
    pub groups: Vec<(String, Vec<String>, usize)>,
    pub min_position: Option<f64>,
}

impl Holdings {
    fn is_set(&self) -> bool {
        self.max_assets.is_some() || !self.groups.is_empty() || self.min_position.is_some()
    }
}

/// What a tracking-error cap measures against.
#[derive(Debug, Clone, PartialEq)]
pub enum Benchmark {
    /// Benchmark weights by asset name (assets not named weigh 0): the
    /// tracking error is $\sqrt{(w-b)^\top\Sigma(w-b)}$ with the
    /// moments' covariance.
    Weights(Vec<(String, f64)>),
    /// The benchmark's return in each scenario (same rows as the returns
    /// solved on): the tracking error is the standard deviation (ddof 1) of
    /// $r_s^\top w - y_s$.
    Returns(Vec<f64>),
}

/// How a linear constraint's left side relates to its right side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// $a^\top w \le b$.
    AtMost,
    /// $a^\top w = b$.
    Equal,
    /// $a^\top w \ge b$.
    AtLeast,
}

/// A named linear constraint $a^\top w \;(\le, =, \ge)\; b$ with
/// coefficients by asset name (assets not named have coefficient 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// Name shown in error messages, e.g. "beta to the index ≤ 1".
    pub name: String,
    /// Coefficients by asset name.
    pub coefficients: Vec<(String, f64)>,
    /// The relation.
    pub relation: Relation,
    /// The right-hand side.
    pub rhs: f64,
}

/// Bounds on the total weight of a set of assets.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Name shown in error messages.
    pub name: String,
    /// Member assets.
    pub members: Vec<String>,
    /// Least total weight.
    pub lower: f64,
    /// Greatest total weight.
    pub upper: f64,
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints::long_only()
    }
}

impl Constraints {
    /// $0 \le w_i \le 1$, fully invested.
    pub fn long_only() -> Self {
        Constraints {
            lower: vec![0.0],
            upper: vec![1.0],
            allow_cash: false,
            groups: Vec::new(),
            leverage: None,
            previous: None,
            turnover: None,
            cost_bps: 0.0,
            trade_costs: None,
            cost_aversion: 1.0,
            holding_aversion: 1.0,
            max_trade: None,
            linear: Vec::new(),
            tracking: None,
            holdings: Holdings::default(),
        }
    }

    /// The same bounds for every asset (a negative lower bound allows shorts).
    pub fn bounds(mut self, lower: f64, upper: f64) -> Self {
        self.lower = vec![lower];
        self.upper = vec![upper];
        self
    }

    /// One lower and one upper bound per asset.
    pub fn asset_bounds(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.lower = lower;
        self.upper = upper;
        self
    }

    /// Allows a cash position: $\sum_i w_i \le 1$, cash $= 1 - \sum_i w_i$.
    pub fn allow_cash(mut self) -> Self {
        self.allow_cash = true;
        self
    }

    /// Bounds the total weight of `members`.
    pub fn group<S: AsRef<str>>(mut self, name: &str, members: &[S], lower: f64, upper: f64) -> Self {
        self.groups.push(Group {
            name: name.to_string(),
            members: members.iter().map(|m| m.as_ref().to_string()).collect(),
            lower,
            upper,
        });
        self
    }

    /// A named linear constraint $a^\top w \;(\le, =, \ge)\; b$ with
    /// coefficients by asset name, e.g. a beta to an index at most 1:
    /// `.linear("beta ≤ 1", &[("AAPL", 1.2), ("KO", 0.6)], Relation::AtMost, 1.0)`.
    pub fn linear<S: AsRef<str>>(
        mut self,
        name: &str,
        coefficients: &[(S, f64)],
        relation: Relation,
        rhs: f64,
    ) -> Self {
        self.linear.push(Linear {
            name: name.to_string(),
            coefficients: coefficients.iter().map(|(a, c)| (a.as_ref().to_string(), *c)).collect(),
            relation,
            rhs,
        });
        self
    }

    /// Caps the tracking error against a [`Benchmark`] at `cap` (in the
    /// moments' units for benchmark weights — annualised when they are —
    /// and per period for a benchmark return series, solved on scenarios).
    /// Not available with the ratio objectives (maximum Sharpe, maximum
    /// ratio, maximum diversification) or risk parity.
    pub fn tracking_error(mut self, benchmark: Benchmark, cap: f64) -> Self {
        self.tracking = Some((benchmark, cap));
        self
    }

    /// Caps gross leverage $\sum_i |w_i| \le L$.
    pub fn max_leverage(mut self, gross: f64) -> Self {
        self.leverage = Some(gross);
        self
    }

    /// The current weights, for turnover and transaction costs.
    pub fn previous(mut self, weights: Vec<f64>) -> Self {
        self.previous = Some(weights);
        self
    }

    /// Caps turnover $\sum_i |w_i - w^{prev}_i| \le \tau$ (needs [`previous`](Self::previous)).
    pub fn max_turnover(mut self, tau: f64) -> Self {
        self.turnover = Some(tau);
        self
    }

    /// Proportional transaction cost in basis points of traded notional,
    /// subtracted from expected return in objectives that have one (needs
    /// [`previous`](Self::previous)).
    pub fn cost_bps(mut self, bps: f64) -> Self {
        self.cost_bps = bps;
        self
    }

    /// Prices each trade from the [`previous`](Self::previous) weights with
    /// a cost model's convex part (proportional, per share, impact; borrow
    /// fees on short weights), as
    /// [`Window::trade_costs`](crate::backtest::Window::trade_costs) gives it
    /// on a backtest's decision date. Objectives with an expected return
    /// charge it against that return; the minimum-risk objectives add it to
    /// the risk, so [`cost_aversion`](Self::cost_aversion) sets the
    /// exchange rate. Risk budgeting and maximum diversification, whose
    /// solutions are rescaled after the solve, refuse it.
    ///
    /// Borrow fees are annual: with per-period moments, give per-period
    /// fees. Added to [`cost_bps`](Self::cost_bps) where both are set.
    pub fn trade_costs(mut self, costs: TradeCosts) -> Self {
        self.trade_costs = Some(costs);
        self
    }

    /// Multiplies the trading costs in the objective by $\gamma \ge 0$
    /// (default 1): above 1 the optimiser trades less than the costs alone
    /// would justify, e.g. to amortise a trade over fewer periods than the
    /// moments describe.
    pub fn cost_aversion(mut self, gamma: f64) -> Self {
        self.cost_aversion = gamma;
        self
    }

    /// Multiplies the holding costs (borrow fees) by $\gamma_h \ge 0$ (default 1).
    pub fn holding_aversion(mut self, gamma: f64) -> Self {
        self.holding_aversion = gamma;
        self
    }

    /// Caps each asset's trade, $\lvert w_i - w^{prev}_i\rvert \le m_i$: one
    /// value for all assets or one per asset (e.g. a share of each asset's
    /// volume, [`TradeCosts::volume`] times the share).
    pub fn max_trade(mut self, limits: Vec<f64>) -> Self {
        self.max_trade = Some(limits);
        self
    }

    /// At most `k` assets held (weights not zero), in total: cardinality.
    /// The program is then mixed-integer, solved by branch and bound over
    /// the convex relaxations ([`Search`](crate::optimize::Search) reports
    /// the nodes and the proven gap). `k` must lie in 1 ..= the number of
    /// assets.
    pub fn max_assets(mut self, k: usize) -> Self {
        self.holdings.max_assets = Some(k);
        self
    }

    /// At most `k` of `members` held (cardinality within a group).
    pub fn group_max_assets<S: AsRef<str>>(mut self, name: &str, members: &[S], k: usize) -> Self {
        self.holdings.groups.push((name.to_string(), members.iter().map(|m| m.as_ref().to_string()).collect(), k));
        self
    }

    /// A held asset weighs at least `threshold` (long) or at most
    /// −`threshold` (short): a buy-in threshold, $w_i \in \{0\} \cup
    /// [t, u_i] \cup [l_i, -t]$.
    pub fn min_position(mut self, threshold: f64) -> Self {
        self.holdings.min_position = Some(threshold);
        self
    }

    /// Whether trades enter (a cap, a limit or a cost).
    pub(crate) fn trades(&self) -> bool {
        self.turnover.is_some()
            || self.cost_bps > 0.0
            || self.max_trade.is_some()
            || self.trade_costs.as_ref().is_some_and(|c| !c.is_zero())
    }

    /// Per-asset bounds expanded to `n` and checked for evident infeasibility.
    pub(crate) fn resolve(&self, assets: &[String]) -> Result<Resolved> {
        let (lower, upper) = self.bounds_for(assets)?;
        let groups = self.groups_for(assets, &lower, &upper)?;
        if let Some(l) = self.leverage {
            if !(l >= 1.0) {
                return Err(Error::param(
                    Param::MaxLeverage,
                    format!("must be ≥ 1 for a fully invested portfolio, got {l}"),
                ));
            }
        }
        let linear = self.linear_for(assets, &lower, &upper)?;
        let tracking = self.tracking_for(assets)?;
        let previous = self.previous_for(assets)?;
        let holdings = self.holdings_for(assets, &lower, &upper)?;
        Ok(Resolved {
            relaxation: None,
            holdings,
            lower,
            upper,
            allow_cash: self.allow_cash,
            groups,
            linear,
            tracking,
            leverage: self.leverage,
            trade: self.trade_for(assets, previous.as_ref())?,
            previous,
        })
    }

    /// The holding rules against the assets and their bounds: `None` when
    /// none is set.
    fn holdings_for(&self, assets: &[String], lower: &[f64], upper: &[f64]) -> Result<Option<HoldingRules>> {
        let h = &self.holdings;
        if !h.is_set() {
            return Ok(None);
        }
        let n = assets.len();
        let max_assets = match h.max_assets {
            Some(k) if k < 1 || k > n => {
                return Err(Error::param(
                    Param::MaxAssets,
                    format!("must lie in 1 ..= {n} (the number of assets), got {k}"),
                ))
            }
            Some(k) => k,
            None => n,
        };
        let mut groups = Vec::new();
        for (name, members, k) in &h.groups {
            let idx = members
                .iter()
                .map(|m| {
                    assets.iter().position(|a| a == m).ok_or_else(|| Error::UnknownAsset {
                        name: format!("{m} (in cardinality group {name})"),
                        available: assets.to_vec(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if *k < 1 || *k > idx.len() {
                return Err(Error::param(
                    Param::GroupMaxAssets,
                    format!("{name}: must lie in 1 ..= {} (its members), got {k}", idx.len()),
                ));
            }
            groups.push((name.clone(), idx, *k));
        }
        let threshold = match h.min_position {
            None => vec![0.0; n],
            Some(t) if !(t > 0.0 && t.is_finite()) => {
                return Err(Error::param(Param::MinPosition, format!("must be > 0 and finite, got {t}")))
            }
            Some(t) => {
                if let Some(i) = (0..n).find(|&i| t > upper[i] && -t < lower[i]) {
                    return Err(Error::param(
                        Param::MinPosition,
                        format!(
                            "{t} exceeds what {} may hold (bounds [{}, {}]), so it could never be held; lower the threshold or widen its bounds",
                            assets[i], lower[i], upper[i]
                        ),
                    ));
                }
                vec![t; n]
            }
        };
        // Long-only and fully invested: the k largest caps must reach 1.
        if !self.allow_cash && lower.iter().all(|&l| l >= 0.0) {
            let mut caps = upper.to_vec();
            caps.sort_by(|a, b| b.total_cmp(a));
            let reach: f64 = caps.iter().take(max_assets).sum();
            if reach < 1.0 - 1e-12 {
                return Err(Error::infeasible(
                    "max_assets",
                    format!("{max_assets} assets can weigh at most {reach:.4} in total under their upper bounds, short of full investment; allow more assets or raise the bounds"),
                ));
            }
        }
        Ok(Some(HoldingRules { max_assets, groups, threshold }))
    }

    /// Lower and upper bounds, one per asset, checked against each other
    /// and against the budget.
    fn bounds_for(&self, assets: &[String]) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = assets.len();
        let expand = |name: &str, v: &[f64]| -> Result<Vec<f64>> {
            match v.len() {
                1 => Ok(vec![v[0]; n]),
                k if k == n => Ok(v.to_vec()),
                k => Err(Error::Shape(format!("{name} bounds have {k} values for {n} assets"))),
            }
        };
        let lower = expand("lower", &self.lower)?;
        let upper = expand("upper", &self.upper)?;
        // Bounds given once hold for every asset: an error names them so.
        let whose = |i: usize| {
            if self.lower.len() == 1 && self.upper.len() == 1 {
                "every asset".to_string()
            } else {
                assets[i].clone()
            }
        };
        for i in 0..n {
            if !(lower[i].is_finite() && upper[i].is_finite()) {
                return Err(Error::param(
                    Param::Bounds,
                    format!("must be finite, got lower {} and upper {} for {}", lower[i], upper[i], whose(i)),
                ));
            }
            if lower[i] > upper[i] {
                return Err(Error::infeasible(
                    format!("bounds of {}", whose(i)),
                    format!("lower bound {} is above upper bound {}", lower[i], upper[i]),
                ));
            }
        }
        let (lo_sum, hi_sum) = (lower.iter().sum::<f64>(), upper.iter().sum::<f64>());
        if !self.allow_cash && hi_sum < 1.0 - 1e-12 {
            return Err(Error::infeasible(
                "bounds",
                format!("the upper bounds sum to {hi_sum:.4} < 1, so the portfolio cannot be fully invested; raise them or allow cash"),
            ));
        }
        if lo_sum > 1.0 + 1e-12 {
            return Err(Error::infeasible("bounds", format!("the lower bounds sum to {lo_sum:.4} > 1")));
        }
        Ok((lower, upper))
    }

    /// Each group's member indices and bounds, checked against the members'
    /// bounds and against the groups that contain it.
    fn groups_for(&self, assets: &[String], lower: &[f64], upper: &[f64]) -> Result<Vec<Members>> {
        let mut groups = Vec::new();
        for g in &self.groups {
            let idx = g
                .members
                .iter()
                .map(|m| {
                    assets.iter().position(|a| a == m).ok_or_else(|| Error::UnknownAsset {
                        name: format!("{m} (in group {})", g.name),
                        available: assets.to_vec(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let name = format!("group {}", g.name);
            if g.lower > g.upper {
                return Err(Error::infeasible(
                    name,
                    format!("lower bound {} is above upper bound {}", g.lower, g.upper),
                ));
            }
            let cap: f64 = idx.iter().map(|&i| upper[i]).sum();
            let floor: f64 = idx.iter().map(|&i| lower[i]).sum();
            if g.lower > cap + 1e-12 {
                return Err(Error::infeasible(
                    name,
                    format!("needs at least {} but its members' upper bounds sum to {cap:.4}", g.lower),
                ));
            }
            if g.upper < floor - 1e-12 {
                return Err(Error::infeasible(
                    name,
                    format!("allows at most {} but its members' lower bounds sum to {floor:.4}", g.upper),
                ));
            }
            groups.push(Members { assets: idx, lower: g.lower, upper: g.upper });
        }
        // A group nested in another cannot need more than the outer allows.
        for (a, ga) in self.groups.iter().enumerate() {
            for (b, gb) in self.groups.iter().enumerate() {
                let nested = a != b && ga.members.iter().all(|m| gb.members.contains(m));
                if nested && ga.lower > gb.upper + 1e-12 {
                    return Err(Error::infeasible(
                        format!("group {}", ga.name),
                        format!(
                            "needs at least {} but it lies inside group {}, which allows at most {}",
                            ga.lower, gb.name, gb.upper
                        ),
                    ));
                }
            }
        }
        Ok(groups)
    }

    /// Each linear constraint as a dense row with its relation and bound,
    /// checked against what the per-asset bounds allow.
    fn linear_for(&self, assets: &[String], lower: &[f64], upper: &[f64]) -> Result<Vec<(Vec<f64>, Relation, f64)>> {
        let mut out = Vec::new();
        for l in &self.linear {
            let mut a = vec![0.0; assets.len()];
            for (name, c) in &l.coefficients {
                let j = assets.iter().position(|x| x == name).ok_or_else(|| Error::UnknownAsset {
                    name: format!("{name} (in linear constraint {})", l.name),
                    available: assets.to_vec(),
                })?;
                if !c.is_finite() {
                    return Err(Error::param(Param::Linear, format!("{}: coefficient of {name} is {c}", l.name)));
                }
                a[j] += c;
            }
            if !l.rhs.is_finite() {
                return Err(Error::param(Param::Linear, format!("{}: right-hand side is {}", l.name, l.rhs)));
            }
            // The range a·w can take within the per-asset bounds alone.
            let lo: f64 = a.iter().zip(lower.iter().zip(upper)).map(|(c, (l, u))| (c * l).min(c * u)).sum();
            let hi: f64 = a.iter().zip(lower.iter().zip(upper)).map(|(c, (l, u))| (c * l).max(c * u)).sum();
            let tol = 1e-12 * (1.0 + l.rhs.abs());
            let impossible = match l.relation {
                Relation::AtMost => lo > l.rhs + tol,
                Relation::AtLeast => hi < l.rhs - tol,
                Relation::Equal => lo > l.rhs + tol || hi < l.rhs - tol,
            };
            if impossible {
                return Err(Error::infeasible(
                    format!("linear constraint {}", l.name),
                    format!("within the weight bounds the left side ranges over [{lo:.6}, {hi:.6}], which cannot meet {:?} {}", l.relation, l.rhs),
                ));
            }
            out.push((a, l.relation, l.rhs));
        }
        Ok(out)
    }

    /// The benchmark resolved against the assets, and the cap.
    fn tracking_for(&self, assets: &[String]) -> Result<Option<(Tracking, f64)>> {
        let Some((benchmark, cap)) = &self.tracking else { return Ok(None) };
        if !(cap.is_finite() && *cap >= 0.0) {
            return Err(Error::param(Param::TrackingError, format!("the cap must be ≥ 0 and finite, got {cap}")));
        }
        let resolved = match benchmark {
            Benchmark::Weights(w) => {
                let mut b = Array1::zeros(assets.len());
                for (name, v) in w {
                    let j = assets.iter().position(|a| a == name).ok_or_else(|| Error::UnknownAsset {
                        name: format!("{name} (in the tracking-error benchmark)"),
                        available: assets.to_vec(),
                    })?;
                    if !v.is_finite() {
                        return Err(Error::param(Param::TrackingError, format!("benchmark weight of {name} is {v}")));
                    }
                    b[j] += v;
                }
                Tracking::Weights(b)
            }
            Benchmark::Returns(y) => {
                if let Some(v) = y.iter().find(|v| !v.is_finite()) {
                    return Err(Error::param(Param::TrackingError, format!("benchmark return {v} is not finite")));
                }
                Tracking::Returns(y.clone())
            }
        };
        Ok(Some((resolved, *cap)))
    }

    /// The previous weights, required when trades are capped or costed.
    fn previous_for(&self, assets: &[String]) -> Result<Option<Array1<f64>>> {
        let n = assets.len();
        match (&self.previous, self.trades()) {
            (Some(p), _) if p.len() != n => Err(Error::Shape(format!(
                "previous (current) weights have {} values for {n} assets; give one weight per asset, in the assets' order",
                p.len()
            ))),
            (Some(p), _) => {
                if let Some(i) = p.iter().position(|v| !v.is_finite()) {
                    return Err(Error::param(
                        Param::Previous,
                        format!("weight of {} is {}; every current weight must be finite (0 for an asset not held)", assets[i], p[i]),
                    ));
                }
                Ok(Some(Array1::from(p.clone())))
            }
            (None, true) => Err(Error::param(
                Param::Previous,
                "weights are needed for a turnover cap, trade limits or trading costs; set .previous(weights)",
            )),
            (None, false) => Ok(None),
        }
    }

    /// The trade from the `previous` weights (checked by
    /// [`previous_for`](Self::previous_for)) and its prices, checked: `None`
    /// when nothing prices or limits it.
    fn trade_for(&self, assets: &[String], previous: Option<&Array1<f64>>) -> Result<Option<Trade>> {
        let n = assets.len();
        if !(self.cost_bps >= 0.0 && self.cost_bps.is_finite()) {
            return Err(Error::param(Param::CostBps, format!("must be ≥ 0, got {}", self.cost_bps)));
        }
        if let Some(t) = self.turnover {
            if !(t >= 0.0) {
                return Err(Error::param(Param::MaxTurnover, format!("must be ≥ 0, got {t}")));
            }
        }
        for (name, g) in [(Param::CostAversion, self.cost_aversion), (Param::HoldingAversion, self.holding_aversion)] {
            if !(g >= 0.0 && g.is_finite()) {
                return Err(Error::param(name, format!("must be ≥ 0 and finite, got {g}")));
            }
        }
        let Some(current) = previous.cloned() else {
            return Ok(None);
        };
        let none = TradeCosts::default();
        let costs = self.trade_costs.as_ref().unwrap_or(&none);
        let scaled = |name: &str, v: &Option<Vec<f64>>, g: f64| -> Result<Vec<f64>> {
            v.as_ref().map_or(Ok(Vec::new()), |v| {
                Ok(per_asset(Param::TradingCosts, name, v, assets, false)?.iter().map(|x| g * x).collect())
            })
        };
        let mut linear = scaled("trade cost (linear)", &costs.linear, self.cost_aversion)?;
        if self.cost_bps > 0.0 {
            linear.resize(n, 0.0);
            for a in &mut linear {
                *a += self.cost_aversion * self.cost_bps / 1e4;
            }
        }
        let trade = Trade {
            current,
            linear,
            impact: scaled("trade cost (impact)", &costs.impact, self.cost_aversion)?,
            borrow: scaled("borrow fee", &costs.borrow, self.holding_aversion)?,
            turnover: self.turnover,
            max_trade: self
                .max_trade
                .as_ref()
                .map(|m| per_asset(Param::MaxTrade, "a trade limit", m, assets, true))
                .transpose()?,
        };
        Ok(trade.is_priced().then_some(trade))
    }
}

/// One value per asset, each ≥ 0 and finite: `v` as it is, or (with
/// `one_for_all`) its single value for every asset; an error names `param`
/// and the asset otherwise.
pub(crate) fn per_asset(param: Param, name: &str, v: &[f64], assets: &[String], one_for_all: bool) -> Result<Vec<f64>> {
    let n = assets.len();
    let v = match v.len() {
        1 if one_for_all => vec![v[0]; n],
        k if k == n => v.to_vec(),
        k => return Err(Error::Shape(format!("{name} has {k} values for {n} assets"))),
    };
    match v.iter().position(|x| !(*x >= 0.0 && x.is_finite())) {
        Some(i) => Err(Error::param(param, format!("{name} of {} is {}; must be ≥ 0 and finite", assets[i], v[i]))),
        None => Ok(v),
    }
}

/// A benchmark resolved against the assets.
#[derive(Debug, Clone)]
pub(crate) enum Tracking {
    Weights(Array1<f64>),
    Returns(Vec<f64>),
}

/// Constraints with indices and per-asset bounds.
/// A group resolved to asset positions, with its bounds on their total
/// weight.
#[derive(Debug, Clone)]
pub(crate) struct Members {
    pub assets: Vec<usize>,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub allow_cash: bool,
    pub groups: Vec<Members>,
    /// Linear constraints: coefficients per asset, relation, right-hand side.
    pub linear: Vec<(Vec<f64>, Relation, f64)>,
    pub tracking: Option<(Tracking, f64)>,
    pub leverage: Option<f64>,
    /// The current weights, where given.
    pub previous: Option<Array1<f64>>,
    /// The trade from them, where it is priced or limited.
    pub trade: Option<Trade>,
    /// Rules on which assets are held, where set.
    pub holdings: Option<HoldingRules>,
    /// A branch-and-bound node's continuous relaxation of them, where it
    /// is written into the program.
    pub relaxation: Option<Relaxation>,
}

/// The holding rules relaxed at a node: an indicator $z_i \in [a_i, b_i]$
/// per asset (0 out, 1 held, [0, 1] free), $l_i z_i \le w_i \le u_i
/// z_i$ (and $w_i \ge t_i z_i$ long-only), $\sum_i z_i \le K$ and each
/// group's count. A variance term reads the indicators for its
/// perspective form (`risk/variance.rs`).
#[derive(Debug, Clone)]
pub(crate) struct Relaxation {
    pub z_lower: Vec<f64>,
    pub z_upper: Vec<f64>,
    /// The variance's diagonal share, computed once per search.
    pub diagonal: Option<std::sync::Arc<Vec<f64>>>,
}

/// Holding rules resolved to asset positions.
#[derive(Debug, Clone)]
pub(crate) struct HoldingRules {
    /// At most this many assets held (the universe when unset).
    pub max_assets: usize,
    /// Name, member positions, most held.
    pub groups: Vec<(String, Vec<usize>, usize)>,
    /// The least |weight| of a held asset, per asset (0: none).
    pub threshold: Vec<f64>,
}

impl Resolved {
    /// The constraints beyond per-asset bounds and full investment, by
    /// name (what the critical line algorithm cannot take).
    pub fn beyond_bounds(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (name, present) in [
            ("cash", self.allow_cash),
            ("groups", !self.groups.is_empty()),
            ("linear constraints", !self.linear.is_empty()),
            ("a tracking-error cap", self.tracking.is_some()),
            ("a leverage cap", self.leverage.is_some()),
            ("a turnover cap, trade limits or trading costs", self.trade.is_some()),
            ("holding rules (cardinality, minimum positions)", self.holdings.is_some()),
        ] {
            if present {
                v.push(name);
            }
        }
        v
    }

    /// Whether no weight can be negative (every lower bound at least 0).
    pub fn long_only(&self) -> bool {
        self.lower.iter().all(|l| *l >= 0.0)
    }

    /// Writes the constraints on the weights `w` and the trade from the
    /// current weights; returns the trade's variables, so objectives can
    /// charge its cost ([`Resolved::cost`]).
    pub fn write(&self, prog: &mut Program, w: Block) -> TradeVars {
        self.write_weights(prog, w);
        match &self.trade {
            Some(t) => t.write(prog, w, Start::Held(&t.current)),
            None => TradeVars::default(),
        }
    }

    /// The cost of the written trade (zero when no trade is priced).
    pub fn cost(&self, v: TradeVars) -> Lin {
        self.trade.as_ref().map_or_else(Lin::zero, |t| t.cost(v))
    }

    /// Writes the constraints on the weights `w`, with no trade.
    pub fn write_weights(&self, prog: &mut Program, w: Block) {
        if self.allow_cash {
            prog.le(w.sum(), 1.0);
        } else {
            prog.eq(w.sum(), 1.0);
        }
        // With Σw = 1 and w ≥ 0, an upper bound ≥ 1 is implied: leaving it
        // out keeps the KKT system smaller (n fewer rows).
        let implied_cap = !self.allow_cash && self.lower.iter().all(|&l| l >= 0.0);
        for (i, wi) in w.vars().enumerate() {
            // A weight fixed by its bounds (an asset branch and bound left
            // out) is one equality, which keeps the active set regular.
            if self.lower[i] == self.upper[i] {
                prog.eq(wi, self.lower[i]);
                continue;
            }
            if !(implied_cap && self.upper[i] >= 1.0) {
                prog.le(wi, self.upper[i]);
            }
            prog.ge(wi, self.lower[i]);
        }
        for g in &self.groups {
            // lower ≤ Σ_{i ∈ group} w_i ≤ upper.
            let sum: Lin = g.assets.iter().map(|&i| Lin::from(w.at(i))).sum();
            prog.le(sum.clone(), g.upper);
            prog.ge(sum, g.lower);
        }
        for (a, relation, rhs) in &self.linear {
            match relation {
                Relation::AtMost => {
                    prog.le(w.dot(a), *rhs);
                }
                Relation::AtLeast => {
                    prog.ge(w.dot(a), *rhs);
                }
                Relation::Equal => prog.eq(w.dot(a), *rhs),
            }
        }
        if let (Some(r), Some(h)) = (&self.relaxation, &self.holdings) {
            let z = prog.vars(w.len());
            for (i, (wi, zi)) in w.vars().zip(z.vars()).enumerate() {
                prog.le(zi, r.z_upper[i]);
                prog.ge(zi, r.z_lower[i]);
                prog.le(wi - zi * self.upper[i], 0.0);
                let floor = if self.lower[i] >= 0.0 { self.lower[i].max(h.threshold[i]) } else { self.lower[i] };
                prog.ge(wi - zi * floor, 0.0);
            }
            prog.le(z.sum(), h.max_assets as f64);
            for (_, members, k) in &h.groups {
                let sum: Lin = members.iter().map(|&i| Lin::from(z.at(i))).sum();
                prog.le(sum, *k as f64);
            }
            prog.set_indicators(z, r.diagonal.clone());
        }
        if let Some(l) = self.leverage {
            // |w_i| ≤ u_i, Σ u_i ≤ l.
            let u = prog.vars(w.len());
            for (wi, ui) in w.vars().zip(u.vars()) {
                prog.le(wi - ui, 0.0);
                prog.ge(wi + ui, 0.0);
            }
            prog.le(u.sum(), l);
        }
    }

    /// Whether these are the default long-only, fully invested constraints.
    pub fn is_long_only_default(&self) -> bool {
        !self.allow_cash
            && self.groups.is_empty()
            && self.linear.is_empty()
            && self.tracking.is_none()
            && self.leverage.is_none()
            && self.trade.is_none()
            && self.holdings.is_none()
            && self.lower.iter().all(|&l| l == 0.0)
            && self.upper.iter().all(|&u| u >= 1.0)
    }
}
