//! Walk-forward backtesting: every strategy is scored by one engine, on the
//! same data and schedule, net of costs, beside equal weight (1/N).
//!
//! **Timing.** Let $R_t$ be the simple returns of the assets, dated at the
//! close of day $t$. On a rebalance day $t$ the engine hands the strategy a
//! [`Window`] holding returns up to and including $t$ only (the view ends
//! at $t$, so looking ahead is impossible by construction) and the current,
//! drifted weights. The strategy answers with target weights (or keeps the
//! current ones). The trade happens at $t$'s close and the portfolio earns
//! from $t+1$:
//!
//! $$ W_{t+1} = \sum_i w_i W_t\,(1 + R_{i,t+1}) + \Big(W_t\big(1 - \textstyle\sum_i w_i\big) - C_t\Big)(1 + r^{cash}_{t+1}), $$
//!
//! where the positions are the target weights of the pre-trade wealth $W_t$
//! and the costs $C_t$ are paid from cash: under the default cost model
//! $C_t = \tfrac{\text{bps}}{10^4}\sum_i |w_i W_t - h_i|$ on the drifted
//! holdings $h_i$. Between trades the holdings drift with prices. The
//! engine keeps wealth in currency from a starting
//! [`capital`](BacktestParams::capital): a [`CostModel`] (per-asset spreads,
//! per-share commissions, market impact, borrow fees) prices each trade and
//! each period's holdings in currency, and cash earns the risk-free rate
//! ($r_f/k$ a period) or a [`cash_returns`](BacktestParams::cash_returns)
//! series. Every strategy, 1/N included, pays the same cost model; each
//! component is reported separately ([`Population::cost_table`]). This is
//! cvxportfolio's accounting: the tests match its simulator's daily wealth
//! to 1e-8.
//!
//! **A changing universe.** A panel may hold assets that are not tradable
//! on some dates (before listing, after delisting, suspended), marked by
//! missing values (load it with [`Missing::Universe`](crate::data::Missing::Universe)).
//! On a decision at the close of $t$ the strategy's [`Window`] holds only
//! the assets with a return on each of the last `lookback` rows up to $t$
//! and still in the universe after $t$'s close (listings and delistings are
//! a calendar known in advance; their returns are not); 1/N is over those.
//! A position in an asset that leaves the universe is sold at its last
//! price, or at a [`delisting_return`](BacktestParams::delisting_return)
//! from it, into cash: nothing is lost or kept silently. An asset that
//! leaves and comes back must be declared [`suspended`](BacktestParams::suspended).
//!
//! **Limits.** Weights are long-only and sum to at most 1 unless
//! [`max_leverage`](BacktestParams::max_leverage) allows shorts up to a
//! gross exposure; costs are at most 100 % of the notional traded
//! (`cost_bps` ≤ 10,000). **Ruin**: a period that would take wealth to zero
//! or below ends the strategy's run there — its wealth is 0 from then on,
//! with no further trades, and the portfolio records the date
//! ([`Portfolio::ruin`](crate::portfolio::Portfolio::ruin)) — never a sign
//! flip or a NaN.
//!
//! The path itself (costs, drift, cash) is [`crate::portfolio`]'s one
//! simulation; metrics and significance are in
//! [`crate::portfolio::metrics`].

mod strategies;

use crate::parameter::Backtest as Param;
use chrono::{Datelike, NaiveDate};
use ndarray::{Array1, ArrayView1, ArrayView2, CowArray};

#[cfg(feature = "optimize")]
pub use strategies::{BlackLittermanStrategy, Optimized, ViewRule};
pub use strategies::{BuyAndHold, EqualWeight, InverseVolatility, Momentum};

use crate::data::{Prices, ReturnKind, Returns};
use crate::error::{Error, Result};
use crate::market::{Charges, CostModel, Universe};
pub use crate::portfolio::EQUAL_WEIGHT;
use crate::portfolio::{Cash, Market, Population, Portfolio};

/// The data a strategy may see on a rebalance day: the last `lookback`
/// simple returns up to and including that day.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    dates: &'a [NaiveDate],
    assets: &'a [String],
    returns: ArrayView2<'a, f64>,
    periods_per_year: f64,
    /// The backtest panel's assets and the columns of it this window
    /// holds, when the universe leaves some out.
    universe: Option<(&'a [String], &'a [usize])>,
    /// The costs of trading on the decision date, in a backtest that
    /// simulates holdings.
    pricing: Option<Pricing<'a>>,
}

/// What a window needs to price trades: the backtest's costs, the
/// decision row, the wealth before the trade and the window's columns of
/// the panel.
#[derive(Clone, Copy)]
struct Pricing<'a> {
    charges: &'a Charges,
    row: usize,
    value: f64,
    cols: &'a [usize],
}

impl std::fmt::Debug for Pricing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pricing").field("row", &self.row).field("value", &self.value).finish_non_exhaustive()
    }
}

impl<'a> Window<'a> {
    /// A window over given rows (consecutive or not: a cross-validation
    /// trains on the rows left after its test blocks are taken out).
    pub(crate) fn new(
        dates: &'a [NaiveDate],
        assets: &'a [String],
        returns: ArrayView2<'a, f64>,
        periods_per_year: f64,
    ) -> Self {
        Window { dates, assets, returns, periods_per_year, universe: None, pricing: None }
    }

    /// The columns of the backtest's panel this window holds.
    pub(crate) fn panel_columns(&self) -> Vec<usize> {
        match (self.universe, self.pricing) {
            (Some((_, cols)), _) => cols.to_vec(),
            (None, Some(p)) => p.cols.to_vec(),
            (None, None) => (0..self.assets.len()).collect(),
        }
    }

    /// The same decision with fewer assets: `assets` and their `returns`,
    /// at columns `cols` of the backtest's panel (from
    /// [`panel_columns`](Self::panel_columns)). Trades stay priced.
    pub(crate) fn subset<'b>(&self, assets: &'b [String], returns: ArrayView2<'b, f64>, cols: &'b [usize]) -> Window<'b>
    where
        'a: 'b,
    {
        Window {
            dates: self.dates,
            assets,
            returns,
            periods_per_year: self.periods_per_year,
            universe: Some((self.panel_assets(), cols)),
            pricing: self.pricing.map(|p| Pricing { cols, ..p }),
        }
    }

    /// Dates of the rows, the last being the decision date.
    pub fn dates(&self) -> &'a [NaiveDate] {
        self.dates
    }

    /// Names of the assets the strategy may hold on this date: on a panel
    /// whose universe changes, those in the universe with a full window of
    /// returns (see [`Universe`](crate::market)); every asset otherwise.
    /// Weights are returned for these assets, in this order.
    pub fn assets(&self) -> &'a [String] {
        self.assets
    }

    /// Every asset of the backtest's panel, in the universe today or not.
    pub fn panel_assets(&self) -> &'a [String] {
        self.universe.map_or(self.assets, |(all, _)| all)
    }

    /// For each asset of [`panel_assets`](Self::panel_assets), whether the
    /// strategy may hold it on this date (the universe's mask).
    pub fn in_universe(&self) -> Vec<bool> {
        match self.universe {
            None => vec![true; self.assets.len()],
            Some((all, cols)) => {
                let mut mask = vec![false; all.len()];
                for &j in cols {
                    mask[j] = true;
                }
                mask
            }
        }
    }

    /// What trading each of [`assets`](Self::assets) costs at the decision
    /// date's close, per unit of weight, from the backtest's cost model
    /// and the wealth before the trade (see
    /// [`TradeCosts`](crate::market::TradeCosts); borrow fees are annual).
    /// Nothing is priced where the window is not part of a simulated path
    /// (a cross-validation fold trains from cash) or the backtest charges
    /// no costs. An asset without the volume or price its cost needs is an
    /// error naming it.
    pub fn trade_costs(&self) -> Result<crate::market::TradeCosts> {
        match self.pricing {
            None => Ok(crate::market::TradeCosts::default()),
            Some(p) => p.charges.pricing(p.row, p.cols, p.value),
        }
    }

    /// The portfolio's value before the decision's trade, in currency,
    /// where the window is part of a simulated path.
    pub fn value(&self) -> Option<f64> {
        self.pricing.map(|p| p.value)
    }

    /// Simple returns, dates × assets.
    pub fn returns(&self) -> ArrayView2<'a, f64> {
        self.returns
    }

    /// The decision date.
    pub fn end(&self) -> NaiveDate {
        self.dates[self.dates.len() - 1]
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether the window is empty (never, for a window the engine hands out).
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// Observations per year.
    pub fn periods_per_year(&self) -> f64 {
        self.periods_per_year
    }

    /// The moments `params` estimates on the window, read in place.
    pub fn moments(&self, params: &crate::estimate::MomentsParams) -> Result<crate::estimate::Moments> {
        params.fit_simple(self.returns, self.dates, self.assets, self.periods_per_year)
    }

    /// The window as a [`Returns`] panel (a copy), e.g. to fit a model.
    pub fn to_returns(&self) -> Result<Returns> {
        // The engine checked the full panel once; a window of it needs no
        // second pass through the loader's checks.
        let panel = crate::data::Panel::from_parts(self.dates.to_vec(), self.assets.to_vec(), self.returns.to_owned())
            .with_periods_per_year(self.periods_per_year)?;
        Ok(Returns::from_panel(panel, ReturnKind::Simple))
    }
}

/// A block of consecutive rows held by cross-validation, with the decisions
/// taken for it: `(row, target weights, decision date)`, the row being the
/// first whose return the target earns.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub rows: std::ops::Range<usize>,
    pub decisions: Vec<(usize, Array1<f64>, NaiveDate)>,
}

/// An allocation rule. `decide` is called on each rebalance day with the
/// window of past data and the current (drifted) weights; it returns target
/// weights (summing to at most 1, the rest in cash) or `None` to keep the
/// current ones. Strategies may keep state (e.g. retrain on a schedule).
/// Each strategy of a comparison runs on its own thread, hence `Send`.
pub trait Strategy: Send {
    /// Name shown in reports (unique within a comparison).
    fn name(&self) -> String;

    /// Target weights at the close of `window.end()`.
    fn decide(&mut self, window: &Window<'_>, current: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>>;

    /// Cross-validation (see [`crate::selection`]) calls this first, with a
    /// split's training rows: in time order, with gaps where the test
    /// blocks and purged rows were taken out. A strategy that learns a
    /// model there and applies it date by date returns `true`: `decide` is
    /// then called on each test block's rebalance dates with windows of the
    /// past ending there. The default, `false`, makes the strategy a static
    /// allocation: `decide` is called once, on the training window, and
    /// its weights are held through the test blocks. The walk-forward
    /// never calls it.
    fn learn(&mut self, train: &Window<'_>) -> Result<bool> {
        let _ = train;
        Ok(false)
    }

    /// Whether this is the engine's own 1/N baseline ([`EqualWeight`]);
    /// any other strategy may not take its name.
    #[doc(hidden)]
    fn is_baseline(&self) -> bool {
        false
    }
}

/// Strategy names as a comparison holds them: 1/N first (added unless the
/// caller passed [`EqualWeight`]), every name unique. A strategy of the
/// caller's named like the baseline is an error, since every verdict would
/// be judged against it.
pub(crate) fn with_baseline<T>(
    items: &mut Vec<T>,
    names: &mut Vec<String>,
    is_baseline: impl Fn(&T) -> bool,
    baseline: impl FnOnce() -> T,
) -> Result<()> {
    if let Some(i) = names.iter().position(|n| n == EQUAL_WEIGHT).filter(|&i| !is_baseline(&items[i])) {
        return Err(Error::param(
            Param::Strategies,
            format!(
                "{:?} (strategy {}) is the name of the 1/N baseline that every comparison includes; give the strategy another name",
                EQUAL_WEIGHT,
                i + 1
            ),
        ));
    }
    if !names.iter().any(|n| n == EQUAL_WEIGHT) {
        items.insert(0, baseline());
        names.insert(0, EQUAL_WEIGHT.to_string());
    }
    Error::unique(Param::Strategies, names.iter())
}

/// Any strategy converts into the boxed form a [`Backtest`] runs, so a
/// function can take `impl Into<Box<dyn Strategy>>`.
impl<S: Strategy + 'static> From<S> for Box<dyn Strategy> {
    fn from(s: S) -> Self {
        Box::new(s)
    }
}

/// The strategies of a backtest, of any mix of types, without casts:
/// `strategies![InverseVolatility::new(63), BuyAndHold::new()]`.
///
/// ```
/// use assetalloc::prelude::*;
/// let prices = Synthetic::params().assets(3).days(400).generate()?.prices;
/// let cmp = Backtest::params().lookback(63).run(&prices, strategies![InverseVolatility::new(63), BuyAndHold::new()])?;
/// assert_eq!(cmp.reports.len(), 3);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[macro_export]
macro_rules! strategies {
    ($($s:expr),* $(,)?) => {
        ::std::vec![$(::std::boxed::Box::<dyn $crate::backtest::Strategy>::from($s)),*]
    };
}

/// When to rebalance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// Every `n` periods from the first decision.
    Every(usize),
    /// On the last trading day of each ISO week.
    Weekly,
    /// On the last trading day of each month.
    Monthly,
    /// Whenever $\sum_i |w_i - w^{target}_i|$ exceeds the threshold.
    Drift(f64),
}

/// What to do when a strategy fails on a rebalance day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Stop the backtest with an error naming the strategy and date (default).
    #[default]
    Error,
    /// Keep the previous weights and record the failure in the report.
    KeepPrevious,
}

/// The walk-forward backtest: `Backtest::params()` sets the schedule,
/// look-back window and costs, and [`BacktestParams::run`] scores
/// strategies on prices.
#[derive(Debug, Clone, Copy)]
pub struct Backtest;

impl Backtest {
    /// Monthly rebalancing, 252-period lookback, 10 bps costs, no fixed
    /// cost, capital 1,000,000, zero risk-free rate, stop on failure.
    pub fn params() -> BacktestParams {
        BacktestParams {
            schedule: Schedule::Monthly,
            lookback: 252,
            cost_bps: 10.0,
            costs: CostModel::bps(10.0),
            capital: 1e6,
            risk_free: 0.0,
            cash_returns: None,
            on_failure: OnFailure::Error,
            max_leverage: None,
            suspended: Vec::new(),
            delisting: Vec::new(),
        }
    }
}

/// The backtest settings (see [`Backtest::params`]).
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::backtest::{Backtest, Schedule, EqualWeight, InverseVolatility};
/// let prices = Synthetic::params().assets(4).days(600).generate()?.prices;
/// let cmp = Backtest::params()
///     .schedule(Schedule::Monthly)
///     .lookback(126)
///     .cost_bps(10.0)
///     .run(&prices, strategies![InverseVolatility::new(63)])?;
/// assert_eq!(cmp.reports.len(), 2); // 1/N is always added
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestParams {
    schedule: Schedule,
    lookback: usize,
    /// The last `cost_bps` set, checked under that name.
    cost_bps: f64,
    costs: CostModel,
    capital: f64,
    risk_free: f64,
    cash_returns: Option<Returns>,
    on_failure: OnFailure,
    max_leverage: Option<f64>,
    suspended: Vec<String>,
    delisting: Vec<(String, f64)>,
}

impl BacktestParams {
    /// Rebalancing schedule.
    pub fn schedule(mut self, s: Schedule) -> Self {
        self.schedule = s;
        self
    }

    /// Periods of history handed to strategies (and waited for before the
    /// first decision).
    pub fn lookback(mut self, n: usize) -> Self {
        self.lookback = n;
        self
    }

    /// Proportional cost in basis points of traded notional (sets the cost
    /// model's proportional component).
    pub fn cost_bps(mut self, bps: f64) -> Self {
        self.cost_bps = bps;
        self.costs = self.costs.proportional(crate::market::AssetRates::constant(bps / 1e4));
        self
    }

    /// Fixed cost per traded asset, in currency, against a starting capital.
    pub fn fixed_cost(mut self, per_trade: f64, capital: f64) -> Self {
        self.costs = self.costs.fixed(per_trade);
        self.capital = capital;
        self
    }

    /// The cost model every strategy (1/N included) pays, replacing the
    /// default 10 bps (see [`CostModel`]).
    pub fn costs(mut self, model: CostModel) -> Self {
        self.cost_bps = 0.0;
        self.costs = model;
        self
    }

    /// Starting wealth in currency (default 1,000,000): costs that are not
    /// proportional (per share, fixed, impact) depend on it.
    pub fn capital(mut self, capital: f64) -> Self {
        self.capital = capital;
        self
    }

    /// What cash earns each period, instead of the constant risk-free
    /// rate: one asset's simple returns per period (e.g. a bill index),
    /// covering every date of the backtest. Negative cash (leverage) pays
    /// the same rate. Sharpe ratios stay measured against
    /// [`risk_free`](Self::risk_free).
    pub fn cash_returns(mut self, cash: &Returns) -> Self {
        self.cash_returns = Some(cash.clone());
        self
    }

    /// Declares assets whose gaps are suspensions: each leaves the
    /// universe during a gap (a held position is sold at its last price)
    /// and rejoins once it has a full lookback of returns again. Any other
    /// asset that reappears after leaving is an error.
    pub fn suspended<S: AsRef<str>>(mut self, assets: &[S]) -> Self {
        self.suspended = assets.iter().map(|a| a.as_ref().to_string()).collect();
        self
    }

    /// The return from an asset's last price to what its holders receive
    /// when it leaves the universe for good (e.g. −0.3 for a delisting
    /// after a decline); without one a position is sold at its last price.
    pub fn delisting_return(mut self, asset: &str, r: f64) -> Self {
        self.delisting.retain(|(a, _)| a != asset);
        self.delisting.push((asset.to_string(), r));
        self
    }

    /// Annual risk-free rate earned by cash and used in Sharpe ratios.
    pub fn risk_free(mut self, r: f64) -> Self {
        self.risk_free = r;
        self
    }

    /// Failure policy.
    pub fn on_failure(mut self, p: OnFailure) -> Self {
        self.on_failure = p;
        self
    }

    /// Allows short positions up to a gross exposure $\sum_i |w_i| \le$
    /// `gross` (≥ 1). Without it the backtest is long-only: weights ≥ 0,
    /// summing to at most 1, like the optimisers' default constraints. A
    /// strategy that returns weights outside these limits fails (its
    /// error names the strategy, the date and the limit).
    pub fn max_leverage(mut self, gross: f64) -> Self {
        self.max_leverage = Some(gross);
        self
    }

    fn validate(&self, rows: usize) -> Result<()> {
        if self.lookback < 1 {
            return Err(Error::param(Param::Lookback, "must be ≥ 1, got 0"));
        }
        if self.lookback + 1 >= rows {
            return Err(Error::TooFewRows {
                operation: format!(
                    "a backtest with a {}-period lookback (and at least one period to earn)",
                    self.lookback
                ),
                needed: self.lookback + 2,
                got: rows,
            });
        }
        self.validate_trading()
    }

    /// The checks of everything but the lookback: schedule, costs,
    /// leverage, capital and risk-free rate.
    pub(crate) fn validate_trading(&self) -> Result<()> {
        match self.schedule {
            Schedule::Every(0) => return Err(Error::param(Param::Schedule, "Every(n) needs n ≥ 1, got 0")),
            Schedule::Drift(t) if !(t > 0.0 && t.is_finite()) => {
                return Err(Error::param(Param::Schedule, format!("Drift(t) needs t > 0, got {t}")))
            }
            _ => {}
        }
        if !(self.cost_bps >= 0.0 && self.cost_bps.is_finite()) {
            return Err(Error::param(Param::CostBps, format!("must be ≥ 0, got {}", self.cost_bps)));
        }
        if self.cost_bps > 10_000.0 {
            return Err(Error::param(
                Param::CostBps,
                format!("must be ≤ 10,000 (a cost of at most 100 % of the notional traded), got {}", self.cost_bps),
            ));
        }
        if let Some(g) = self.max_leverage {
            if !(g >= 1.0 && g.is_finite()) {
                return Err(Error::param(Param::MaxLeverage, format!("must be ≥ 1 and finite, got {g}")));
            }
        }
        if !(self.capital > 0.0 && self.capital.is_finite()) {
            return Err(Error::param(Param::Capital, format!("must be > 0, got {}", self.capital)));
        }
        // Cash earns risk_free / periods a period: −100 % a year or less
        // would take the cash below zero.
        if !(self.risk_free.is_finite() && self.risk_free > -1.0) {
            return Err(Error::param(
                Param::RiskFree,
                format!("must be a finite annual rate above −1, got {}", self.risk_free),
            ));
        }
        Ok(())
    }

    /// Runs every strategy (and 1/N, added first unless present) over the
    /// same prices and schedule.
    pub fn run(&self, prices: &Prices, strategies: Vec<Box<dyn Strategy>>) -> Result<Population> {
        let returns = prices.returns(ReturnKind::Simple)?;
        self.run_returns(&returns, strategies)
    }

    /// As [`run`](Self::run), from a returns panel (converted to simple returns).
    pub fn run_returns(&self, returns: &Returns, mut strategies: Vec<Box<dyn Strategy>>) -> Result<Population> {
        let simple = returns.as_simple();
        let r = simple.values();
        self.validate(r.nrows())?;
        let universe = Universe::of(r, returns.dates(), returns.assets(), &self.suspended)?;
        let mut names: Vec<String> = strategies.iter().map(|s| s.name()).collect();
        with_baseline(&mut strategies, &mut names, |s| s.is_baseline(), || Box::new(EqualWeight))?;
        let plan = self.rebalance_days(returns.dates());
        let setting = self.setting(returns, r)?;
        let market = setting.market(self.capital, Some(&universe));
        // Strategies are independent: one thread each (the operating system
        // shares the cores), results kept in order.
        let reports =
            crate::parallel::map("strategy", strategies.iter_mut().collect(), |s: &mut Box<dyn Strategy>| {
                self.simulate(s.as_mut(), returns, r, &plan, &universe, &market)
            })?;
        Ok(Population::new(reports, "Walk-forward, net of costs"))
    }

    /// The cost model, cash returns and delisting returns resolved on a
    /// panel (simple returns `r`), once for every path simulated on it.
    pub(crate) fn setting(&self, returns: &Returns, r: ArrayView2<'_, f64>) -> Result<Setting> {
        let (dates, assets) = (returns.dates(), returns.assets());
        let charges = self.costs.prepare(dates, assets, r, returns.periods_per_year())?;
        let cash = match &self.cash_returns {
            None => None,
            Some(c) => {
                if c.n_assets() != 1 {
                    return Err(Error::param(
                        Param::CashReturns,
                        format!("must hold one series, got {} columns {:?}", c.n_assets(), c.assets()),
                    ));
                }
                let c = c.to_kind(ReturnKind::Simple);
                let out =
                    crate::market::align(c.panel(), Param::CashReturns, "panel", dates, c.assets())?.column(0).to_vec();
                if let Some(t) = out.iter().position(|v| !v.is_finite()) {
                    return Err(Error::InvalidValue {
                        asset: c.assets()[0].clone(),
                        date: dates[t],
                        value: out[t],
                        reason: "cash needs a return on every date of the backtest".into(),
                    });
                }
                Some(out)
            }
        };
        let mut delisting = vec![0.0; assets.len()];
        for (a, v) in &self.delisting {
            let j = returns.asset_index(a)?;
            if !(v.is_finite() && *v >= -1.0) {
                return Err(Error::param(Param::DelistingReturn, format!("of {a:?} must be finite and ≥ −1, got {v}")));
            }
            delisting[j] = *v;
        }
        Ok(Setting { charges, cash, delisting, cash_rate: self.risk_free / returns.periods_per_year() })
    }

    /// The lookback window length.
    pub(crate) fn lookback_len(&self) -> usize {
        self.lookback
    }

    /// Whether the close of row `t` is a rebalance of the schedule, `since`
    /// periods after the first decision: every `n` periods, or the last
    /// row of a week or month. `Drift` decides on every row (its trades
    /// follow the weights).
    fn on_schedule(&self, dates: &[NaiveDate], since: usize, t: usize) -> bool {
        let period_end = |key: fn(&NaiveDate) -> (i32, u32)| key(&dates[t]) != key(&dates[t + 1]);
        match self.schedule {
            Schedule::Every(n) => since % n == 0,
            Schedule::Weekly => period_end(|d| (d.iso_week().year(), d.iso_week().week())),
            Schedule::Monthly => period_end(|d| (d.year(), d.month())),
            Schedule::Drift(_) => true,
        }
    }

    /// Whether row `e` of a test block that starts at row `start` is a
    /// scheduled rebalance (decided at the close of row `e − 1`); `Drift`
    /// schedules nothing (its trades follow the weights).
    pub(crate) fn due_within(&self, dates: &[NaiveDate], start: usize, e: usize) -> bool {
        e > start && !matches!(self.schedule, Schedule::Drift(_)) && self.on_schedule(dates, e - start, e - 1)
    }

    /// The path through blocks of rows (in time order), each with the
    /// decisions taken for it: at a decision's row the weights move to its
    /// target, paying the cost of trading from the drifted weights held
    /// before (the previous block's, at a block's start); on the schedule's
    /// other dates within a block the last target is restored (constant
    /// mix; `Drift` restores when the drift passes its threshold). `r` are
    /// the simple returns of `returns`.
    pub(crate) fn hold(
        &self,
        name: String,
        returns: &Returns,
        r: ArrayView2<'_, f64>,
        setting: &Setting,
        blocks: &[Block],
    ) -> Result<Portfolio> {
        let rows: Vec<usize> = blocks.iter().flat_map(|b| b.rows.clone()).collect();
        let dates: Vec<NaiveDate> = rows.iter().map(|&i| returns.dates()[i]).collect();
        // Paths that cover a run of consecutive rows (every CPCV path, every
        // walk-forward) are read in place; others are gathered.
        let consecutive = rows.windows(2).all(|w| w[1] == w[0] + 1);
        let gathered = match (consecutive, rows.first()) {
            (true, Some(&lo)) => CowArray::from(r.slice(ndarray::s![lo..lo + rows.len(), ..])),
            _ => CowArray::from(crate::linalg::take_rows(r, &rows)),
        };
        // By position in the path: the decision taken for that row, if
        // any, and the first row of its block.
        let mut decisions = vec![None; rows.len()];
        let mut start_of = Vec::with_capacity(rows.len());
        for b in blocks {
            let offset = start_of.len();
            for (row, w, date) in &b.decisions {
                if b.rows.contains(row) {
                    decisions[offset + row - b.rows.start] = Some((w, *date));
                }
            }
            start_of.extend(std::iter::repeat_n(b.rows.start, b.rows.len()));
        }
        let k = returns.periods_per_year();
        let market = setting.market(self.capital, None);
        let path = crate::portfolio::simulate(gathered.view(), &rows, 0, &market, |e, w, target, _| {
            let row = rows[e];
            if let Some((x, date)) = decisions[e] {
                return Ok(Some((date, x.clone())));
            }
            let due = match self.schedule {
                Schedule::Drift(th) => row > start_of[e] && drift(w, target) > th,
                _ => self.due_within(returns.dates(), start_of[e], row),
            };
            Ok(due.then(|| (returns.dates()[row - 1], target.to_owned())))
        })?;
        Ok(Portfolio::new(name, returns.assets().to_vec(), dates, path, self.capital, k, self.risk_free))
    }

    /// Target weights checked against the backtest's limits (finite, the
    /// right length, summing to at most 1, long-only or within the
    /// leverage cap).
    pub(crate) fn check_weights(&self, n: usize, w: Array1<f64>) -> Result<Array1<f64>> {
        check_weights(n, w, self.max_leverage)
    }

    /// Decision days for fixed schedules (all days from the first for Drift,
    /// which decides day by day).
    pub(crate) fn rebalance_days(&self, dates: &[NaiveDate]) -> Vec<bool> {
        let n = dates.len();
        let t0 = self.lookback - 1;
        let mut plan = vec![false; n];
        for (t, slot) in plan.iter_mut().enumerate().take(n.saturating_sub(1)).skip(t0) {
            *slot = t == t0 || self.on_schedule(dates, t - t0, t);
        }
        plan
    }

    fn simulate(
        &self,
        s: &mut dyn Strategy,
        returns: &Returns,
        r: ArrayView2<'_, f64>,
        plan: &[bool],
        universe: &Universe,
        market: &Market<'_>,
    ) -> Result<Portfolio> {
        let n = r.ncols();
        let name = s.name();
        let k = returns.periods_per_year();
        let t0 = self.lookback - 1;
        let mut failures = Vec::new();
        let rows: Vec<usize> = (0..r.nrows()).collect();
        let mut cols: Vec<usize> = Vec::with_capacity(n);
        let all_cols: Vec<usize> = (0..n).collect();
        // Decisions at the close of t = e − 1 trade before row e earns.
        let path = crate::portfolio::simulate(r, &rows, t0 + 1, market, |e, w, target, value| {
            let t = e - 1;
            let due = match self.schedule {
                Schedule::Drift(th) => t == t0 || drift(w, target) > th,
                _ => plan[t],
            };
            if !due {
                return Ok(None);
            }
            let lo = (t + 1).saturating_sub(self.lookback);
            let date = returns.dates()[t];
            let decided = if universe.is_complete() {
                let mut window =
                    Window::new(&returns.dates()[lo..=t], returns.assets(), r.slice(ndarray::s![lo..=t, ..]), k);
                window.pricing = Some(Pricing { charges: market.charges, row: t, value, cols: &all_cols });
                decide(s, &window, w).and_then(|d| d.map(|x| check_weights(n, x, self.max_leverage)).transpose())
            } else {
                // Only the assets in the universe with a full window.
                universe.eligible(t, self.lookback, &mut cols);
                if cols.is_empty() {
                    return Err(Error::param(
                        Param::Universe,
                        format!(
                            "holds no asset with {} periods of returns up to {date} that trades after it; start the backtest later or shorten the lookback",
                            self.lookback
                        ),
                    ));
                }
                let sub = r.slice(ndarray::s![lo..=t, ..]).select(ndarray::Axis(1), &cols);
                let names: Vec<String> = cols.iter().map(|&j| returns.assets()[j].clone()).collect();
                let mut window = Window::new(&returns.dates()[lo..=t], &names, sub.view(), k);
                window.universe = Some((returns.assets(), &cols));
                window.pricing = Some(Pricing { charges: market.charges, row: t, value, cols: &cols });
                let current = w.select(ndarray::Axis(0), &cols);
                decide(s, &window, current.view()).and_then(|d| {
                    d.map(|x| {
                        let x = check_weights(cols.len(), x, self.max_leverage)?;
                        let mut full = Array1::zeros(n);
                        for (&j, v) in cols.iter().zip(&x) {
                            full[j] = *v;
                        }
                        Ok(full)
                    })
                    .transpose()
                })
            };
            match decided {
                Ok(d) => Ok(d.map(|x| (date, x))),
                Err(e) => match self.on_failure {
                    OnFailure::Error => Err(Error::Strategy { name: name.clone(), date, source: Box::new(e) }),
                    OnFailure::KeepPrevious => {
                        failures.push((date, e.to_string()));
                        Ok(None)
                    }
                },
            }
        })?;
        let mut p = Portfolio::new(
            name,
            returns.assets().to_vec(),
            returns.dates()[t0 + 1..].to_vec(),
            path,
            self.capital,
            k,
            self.risk_free,
        );
        p.failures = failures;
        Ok(p)
    }
}

/// The cost model and cash of a backtest, resolved on its panel.
pub(crate) struct Setting {
    charges: Charges,
    cash: Option<Vec<f64>>,
    cash_rate: f64,
    delisting: Vec<f64>,
}

impl Setting {
    fn market<'a>(&'a self, capital: f64, universe: Option<&'a Universe>) -> Market<'a> {
        Market {
            charges: &self.charges,
            capital,
            cash: match &self.cash {
                Some(c) => Cash::Series(c),
                None => Cash::Constant(self.cash_rate),
            },
            delisting: Some(&self.delisting),
            universe,
        }
    }
}

/// How far drifted weights are from their target, $\sum_i |w_i - w^{target}_i|$
/// (what a `Drift` schedule compares with its threshold).
fn drift(w: ArrayView1<'_, f64>, target: ArrayView1<'_, f64>) -> f64 {
    (&w - &target).mapv(f64::abs).sum()
}

/// A strategy's decision, with a panic inside it caught and turned into an
/// error (the engine then names the strategy and the date).
pub(crate) fn decide(
    s: &mut dyn Strategy,
    window: &Window<'_>,
    current: ArrayView1<'_, f64>,
) -> Result<Option<Array1<f64>>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.decide(window, current))).unwrap_or_else(|payload| {
        Err(Error::Panicked {
            what: "the strategy's decide()".into(),
            message: crate::parallel::panic_message(&payload),
        })
    })
}

/// Finite, the right length, summing to at most 1 (the rest is cash), and
/// within the leverage allowed: long-only when `max_leverage` is `None`,
/// else gross exposure $\sum_i |w_i| \le$ `max_leverage`.
fn check_weights(n: usize, w: Array1<f64>, max_leverage: Option<f64>) -> Result<Array1<f64>> {
    const TOL: f64 = 1e-6;
    if w.len() != n {
        return Err(Error::Shape(format!("the strategy returned {} weights for {n} assets", w.len())));
    }
    if let Some(v) = w.iter().find(|v| !v.is_finite()) {
        Error::finite(Param::Weights, *v)?;
    }
    let s = w.sum();
    if s > 1.0 + TOL {
        return Err(Error::param(
            Param::Weights,
            format!("must sum to at most 1 (the rest is cash), got weights summing to {s:.6}"),
        ));
    }
    match max_leverage {
        None => {
            if let Some(v) = w.iter().find(|v| **v < -TOL) {
                return Err(Error::param(
                    Param::Weights,
                    format!("must be ≥ 0 (the backtest is long-only unless .max_leverage(..) allows shorts), got {v}"),
                ));
            }
        }
        Some(cap) => {
            let gross = w.mapv(f64::abs).sum();
            if gross > cap + TOL {
                return Err(Error::param(
                    Param::Weights,
                    format!("gross exposure {gross:.6} exceeds the backtest's max_leverage {cap}"),
                ));
            }
        }
    }
    Ok(w)
}
