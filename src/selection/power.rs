//! The planted-signal power study: how often does a pipeline find a signal
//! of known strength, and how often does it "find" one that is not there?

use crate::parameter::Selection as Param;
use std::sync::Arc;

use plotly::common::{ErrorData, ErrorType, Mode};
use plotly::layout::{Axis, Layout};
use plotly::{Plot, Scatter};

use crate::backtest::{Backtest, BacktestParams, Strategy};
use crate::data::{ReturnKind, Signal, Synthetic, SyntheticMarket, SyntheticParams};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::portfolio::{Metrics, EQUAL_WEIGHT};

/// The power study: for each planted signal strength, many synthetic
/// markets (each with its own seed) are generated, the pipeline is walked
/// forward on each beside 1/N, and a market counts as a detection when the
/// probabilistic Sharpe ratio of the active returns
/// $r^{strategy}_t - r^{1/N}_t$ (net of costs) against zero is at least the
/// level (95 % by default): a paired one-sided test that the strategy's
/// mean return exceeds 1/N's. At strength zero the detection rate is the
/// false-positive rate and should sit near $1 -$ level.
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::backtest::Momentum;
/// use assetalloc::selection::PowerStudy;
/// let curve = PowerStudy::params()
///     .market(Synthetic::params().assets(6).days(300))
///     .strengths([0.0, 0.1])
///     .markets(4)
///     .backtest(Backtest::params().lookback(21).schedule(Schedule::Every(1)).cost_bps(0.0))
///     .run(|_: &SyntheticMarket| Ok(Momentum::new(20, 2)))?;
/// assert_eq!(curve.rows.len(), 2);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PowerStudy;

impl PowerStudy {
    /// 10 assets × 1,000 days (the generator's other defaults), a
    /// cross-sectional momentum signal over 20 days, strengths
    /// 0, 0.02, 0.05, 0.1, 100 markets each, level 95 %, seed 42, daily
    /// rebalancing with a 21-day lookback and 10 bps costs.
    pub fn params() -> PowerStudyParams {
        PowerStudyParams {
            market: Synthetic::params().assets(10).days(1000),
            signal: Arc::new(|ic| Signal::CrossSectionalMomentum { ic, lookback: 20 }),
            strengths: vec![0.0, 0.02, 0.05, 0.1],
            markets: 100,
            level: 0.95,
            seed: 42,
            backtest: Backtest::params().lookback(21).schedule(crate::backtest::Schedule::Every(1)),
        }
    }
}

/// Settings of a power study (see [`PowerStudy::params`]).
#[derive(Clone)]
pub struct PowerStudyParams {
    market: SyntheticParams,
    signal: Arc<dyn Fn(f64) -> Signal + Send + Sync>,
    strengths: Vec<f64>,
    markets: usize,
    level: f64,
    seed: u64,
    backtest: BacktestParams,
}

impl std::fmt::Debug for PowerStudyParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowerStudyParams")
            .field("strengths", &self.strengths)
            .field("markets", &self.markets)
            .field("level", &self.level)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl PowerStudyParams {
    /// The market every replication is drawn from (its seed and signal are
    /// set by the study).
    pub fn market(mut self, m: SyntheticParams) -> Self {
        self.market = m;
        self
    }

    /// The planted signal as a function of its strength (an information
    /// coefficient for the generator's signals).
    pub fn signal(mut self, s: impl Fn(f64) -> Signal + Send + Sync + 'static) -> Self {
        self.signal = Arc::new(s);
        self
    }

    /// Strengths to study.
    pub fn strengths(mut self, s: impl IntoIterator<Item = f64>) -> Self {
        self.strengths = s.into_iter().collect();
        self
    }

    /// Markets per strength.
    pub fn markets(mut self, n: usize) -> Self {
        self.markets = n;
        self
    }

    /// The PSR a market needs to count as a detection, in (0, 1).
    pub fn level(mut self, p: f64) -> Self {
        self.level = p;
        self
    }

    /// Seed of the first market (each market's seed is derived from it).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The walk-forward each market is run in.
    pub fn backtest(mut self, b: BacktestParams) -> Self {
        self.backtest = b;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.strengths.is_empty() {
            return Err(Error::param(Param::Strengths, "is empty; give at least one"));
        }
        if let Some(s) = self.strengths.iter().find(|s| !s.is_finite()) {
            Error::finite(Param::Strengths, *s)?;
        }
        if self.markets == 0 {
            return Err(Error::param(Param::Markets, "must be ≥ 1, got 0"));
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::param(Param::Level, format!("must be in (0, 1), got {}", self.level)));
        }
        Ok(())
    }

    /// Runs the study over the cores; `make` builds the pipeline for one
    /// market (it may use the market's planted feature).
    pub fn run<S, F>(&self, make: F) -> Result<PowerCurve>
    where
        S: Strategy + 'static,
        F: Fn(&SyntheticMarket) -> Result<S> + Sync,
    {
        self.validate()?;
        let jobs: Vec<(usize, usize)> =
            (0..self.strengths.len()).flat_map(|s| (0..self.markets).map(move |m| (s, m))).collect();
        let psr = crate::parallel::pool("power study", jobs, |&(s, m)| {
            let seed = self.seed.wrapping_add((s * self.markets + m) as u64);
            let market = self.market.clone().signal((self.signal)(self.strengths[s])).seed(seed).generate()?;
            let strategy = make(&market)?;
            let name = strategy.name();
            let returns = market.prices.returns(ReturnKind::Simple)?;
            let population = self.backtest.run_returns(&returns, vec![Box::new(strategy)])?;
            let (Some(p), Some(b)) = (population.get(&name), population.get(EQUAL_WEIGHT)) else {
                return Err(Error::param(Param::Strategy, format!("{name:?} left no report")));
            };
            let active: Vec<f64> = p.net.iter().zip(&b.net).map(|(x, y)| x - y).collect();
            let m = Metrics::compute(&active, &p.dates, p.periods_per_year(), 0.0);
            // An active return of exactly zero (the strategy is 1/N) is no detection.
            Ok(if m.sharpe_se > 0.0 && m.sharpe_se.is_finite() { m.psr(0.0) } else { 0.5 })
        })?;
        let rows = self
            .strengths
            .iter()
            .enumerate()
            .map(|(s, &strength)| {
                let psr = psr[s * self.markets..(s + 1) * self.markets].to_vec();
                let detections = psr.iter().filter(|p| **p >= self.level).count();
                PowerRow { strength, markets: self.markets, detections, psr }
            })
            .collect();
        Ok(PowerCurve { rows, level: self.level })
    }
}

/// The detections at one strength.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerRow {
    /// Planted strength.
    pub strength: f64,
    /// Markets run.
    pub markets: usize,
    /// Markets where the PSR of the active returns reached the level.
    pub detections: usize,
    /// Each market's PSR.
    pub psr: Vec<f64>,
}

impl PowerRow {
    /// Detection rate.
    pub fn rate(&self) -> f64 {
        self.detections as f64 / self.markets as f64
    }

    /// Its binomial standard error $\sqrt{p(1-p)/n}$.
    pub fn standard_error(&self) -> f64 {
        let p = self.rate();
        (p * (1.0 - p) / self.markets as f64).sqrt()
    }
}

/// Detection rate against planted strength.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerCurve {
    /// One row per strength.
    pub rows: Vec<PowerRow>,
    /// The PSR level of a detection.
    pub level: f64,
}

impl PowerCurve {
    /// One row per strength; at strength 0 the rate is the false-positive
    /// rate, to be read against $1 -$ level.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["strength", "markets", "detections", "rate", "± s.e."]).caption(format!(
            "Power: share of markets where PSR(active return vs 1/N, net of costs) ≥ {:.0} %; at strength 0 it is the false-positive rate (nominal {:.0} %)",
            100.0 * self.level,
            100.0 * (1.0 - self.level)
        ));
        for r in &self.rows {
            t.push(vec![
                Cell::Num(r.strength, 3),
                Cell::Int(r.markets as i64),
                Cell::Int(r.detections as i64),
                Cell::Pct(r.rate(), 1),
                Cell::Pct(r.standard_error(), 1),
            ]);
        }
        t
    }

    /// The power curve with ± 2 standard errors and the nominal
    /// false-positive rate.
    pub fn plot(&self) -> Plot {
        let x: Vec<f64> = self.rows.iter().map(|r| r.strength).collect();
        let y: Vec<f64> = self.rows.iter().map(|r| r.rate()).collect();
        let e: Vec<f64> = self.rows.iter().map(|r| 2.0 * r.standard_error()).collect();
        let mut plot = Plot::new();
        plot.add_trace(
            Scatter::new(x.clone(), y)
                .mode(Mode::LinesMarkers)
                .name("detection rate")
                .error_y(ErrorData::new(ErrorType::Data).array(e)),
        );
        plot.add_trace(
            Scatter::new(x, vec![1.0 - self.level; self.rows.len()])
                .mode(Mode::Lines)
                .name("nominal false-positive rate"),
        );
        plot.set_layout(
            Layout::new()
                .title("Planted-signal power study (± 2 s.e.)")
                .x_axis(Axis::new().title("planted strength"))
                .y_axis(Axis::new().title("detection rate").range(vec![0.0, 1.0]))
                .height(440),
        );
        plot
    }
}

crate::shows_as_table!(PowerCurve);
