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
//! $$ W_{t+1} = W_t\,(1 - c_t)\,\big(1 + w^\top R_{t+1} + w_{cash}\,r_f/k\big), $$
//!
//! with the cost $c_t = \tfrac{\text{bps}}{10^4}\sum_i |w_i - w^{drift}_i|$
//! (plus an optional fixed amount per traded asset over the wealth), and
//! between trades the weights drift with prices:
//! $w_i \leftarrow w_i(1+R_{i,t+1})/(1 + r^{gross}_{t+1})$.
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

use chrono::{Datelike, NaiveDate};
use ndarray::{Array1, ArrayView1, ArrayView2, CowArray};

#[cfg(feature = "optimize")]
pub use strategies::{BlackLittermanStrategy, Optimized, ViewRule};
pub use strategies::{BuyAndHold, EqualWeight, InverseVolatility, Momentum};

use crate::data::{Prices, ReturnKind, Returns};
use crate::error::{Error, Result};
pub use crate::portfolio::EQUAL_WEIGHT;
use crate::portfolio::{Costs, Population, Portfolio};

/// The data a strategy may see on a rebalance day: the last `lookback`
/// simple returns up to and including that day.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    dates: &'a [NaiveDate],
    assets: &'a [String],
    returns: ArrayView2<'a, f64>,
    periods_per_year: f64,
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
        Window { dates, assets, returns, periods_per_year }
    }

    /// Dates of the rows, the last being the decision date.
    pub fn dates(&self) -> &'a [NaiveDate] {
        self.dates
    }

    /// Asset names.
    pub fn assets(&self) -> &'a [String] {
        self.assets
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
            fixed_cost: 0.0,
            capital: 1e6,
            risk_free: 0.0,
            on_failure: OnFailure::Error,
            max_leverage: None,
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
    cost_bps: f64,
    fixed_cost: f64,
    capital: f64,
    risk_free: f64,
    on_failure: OnFailure,
    max_leverage: Option<f64>,
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

    /// Proportional cost in basis points of traded notional.
    pub fn cost_bps(mut self, bps: f64) -> Self {
        self.cost_bps = bps;
        self
    }

    /// Fixed cost per traded asset, in currency, against a starting capital.
    pub fn fixed_cost(mut self, per_trade: f64, capital: f64) -> Self {
        self.fixed_cost = per_trade;
        self.capital = capital;
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
            return Err(Error::param("lookback", "must be ≥ 1, got 0"));
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
            Schedule::Every(0) => return Err(Error::param("schedule", "Every(n) needs n ≥ 1, got 0")),
            Schedule::Drift(t) if !(t > 0.0 && t.is_finite()) => {
                return Err(Error::param("drift threshold", format!("must be > 0, got {t}")))
            }
            _ => {}
        }
        for (name, v) in [("cost_bps", self.cost_bps), ("fixed cost", self.fixed_cost)] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(Error::param(name, format!("must be ≥ 0, got {v}")));
            }
        }
        if self.cost_bps > 10_000.0 {
            return Err(Error::param(
                "cost_bps",
                format!("must be ≤ 10,000 (a cost of at most 100 % of the notional traded), got {}", self.cost_bps),
            ));
        }
        if let Some(g) = self.max_leverage {
            if !(g >= 1.0 && g.is_finite()) {
                return Err(Error::param("max_leverage", format!("must be ≥ 1 and finite, got {g}")));
            }
        }
        if !(self.capital > 0.0 && self.capital.is_finite()) {
            return Err(Error::param("capital", format!("must be > 0, got {}", self.capital)));
        }
        // Cash earns risk_free / periods a period: −100 % a year or less
        // would take the cash below zero.
        if !(self.risk_free.is_finite() && self.risk_free > -1.0) {
            return Err(Error::param(
                "risk_free",
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
        let simple = returns.to_kind(ReturnKind::Simple);
        let r = simple.values();
        crate::data::require_complete(
            r,
            returns.dates(),
            returns.assets(),
            "the backtest needs every asset on every date; start the panel when all assets exist",
        )?;
        self.validate(r.nrows())?;
        if !strategies.iter().any(|s| s.name() == EQUAL_WEIGHT) {
            strategies.insert(0, Box::new(EqualWeight));
        }
        Error::unique("strategy names", strategies.iter().map(|s| s.name()))?;
        let plan = self.rebalance_days(returns.dates());
        // Strategies are independent: one thread each (the operating system
        // shares the cores), results kept in order.
        let reports =
            crate::parallel::map("strategy", strategies.iter_mut().collect(), |s: &mut Box<dyn Strategy>| {
                self.simulate(s.as_mut(), returns, r, &plan)
            })?;
        Ok(Population::new(reports, "Walk-forward, net of costs"))
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
        let costs =
            Costs { bps: self.cost_bps, fixed: self.fixed_cost, capital: self.capital, cash_rate: self.risk_free / k };
        let path = crate::portfolio::simulate(gathered.view(), 0, costs, |e, w, target| {
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
        Ok(Portfolio::new(name, returns.assets().to_vec(), dates, path, k, self.risk_free))
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
    ) -> Result<Portfolio> {
        let n = r.ncols();
        let name = s.name();
        let k = returns.periods_per_year();
        let t0 = self.lookback - 1;
        let mut failures = Vec::new();
        let costs =
            Costs { bps: self.cost_bps, fixed: self.fixed_cost, capital: self.capital, cash_rate: self.risk_free / k };
        // Decisions at the close of t = e − 1 trade before row e earns.
        let path = crate::portfolio::simulate(r, t0 + 1, costs, |e, w, target| {
            let t = e - 1;
            let due = match self.schedule {
                Schedule::Drift(th) => t == t0 || drift(w, target) > th,
                _ => plan[t],
            };
            if !due {
                return Ok(None);
            }
            let lo = (t + 1).saturating_sub(self.lookback);
            let window = Window {
                dates: &returns.dates()[lo..=t],
                assets: returns.assets(),
                returns: r.slice(ndarray::s![lo..=t, ..]),
                periods_per_year: k,
            };
            let date = returns.dates()[t];
            let decided =
                decide(s, &window, w).and_then(|d| d.map(|x| check_weights(n, x, self.max_leverage)).transpose());
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
            k,
            self.risk_free,
        );
        p.failures = failures;
        Ok(p)
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
        Error::finite("strategy weights", *v)?;
    }
    let s = w.sum();
    if s > 1.0 + TOL {
        return Err(Error::param(
            "strategy weights",
            format!("must sum to at most 1 (the rest is cash), got weights summing to {s:.6}"),
        ));
    }
    match max_leverage {
        None => {
            if let Some(v) = w.iter().find(|v| **v < -TOL) {
                return Err(Error::param(
                    "strategy weights",
                    format!("must be ≥ 0 (the backtest is long-only unless .max_leverage(..) allows shorts), got {v}"),
                ));
            }
        }
        Some(cap) => {
            let gross = w.mapv(f64::abs).sum();
            if gross > cap + TOL {
                return Err(Error::param(
                    "strategy weights",
                    format!("gross exposure {gross:.6} exceeds the backtest's max_leverage {cap}"),
                ));
            }
        }
    }
    Ok(w)
}
