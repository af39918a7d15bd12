//! Cross-validated evaluation: one out-of-sample portfolio per path.

use crate::parameter::Selection as Param;
use std::sync::Arc;

use chrono::NaiveDate;
use ndarray::Array1;
use plotly::layout::{Axis, Layout};
use plotly::{BoxPlot, Plot};

use super::split::{Splits, Splitter};
use crate::backtest::{Backtest, BacktestParams, Block, EqualWeight, Strategy, Window};
use crate::data::{ReturnKind, Returns};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::portfolio::{Metrics, Population, Portfolio};
use crate::stats;

type Build = dyn Fn(&Returns) -> Result<Box<dyn Strategy>> + Send + Sync;

/// A recipe for a fresh strategy: every split (and every audit run) gets
/// its own, so state one split learned cannot leak into another.
#[derive(Clone)]
pub struct Candidate {
    build: Arc<Build>,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Candidate")
    }
}

impl Candidate {
    /// A strategy that needs nothing but its windows:
    /// `Candidate::new(|| InverseVolatility::new(63))`.
    pub fn new<S, F>(make: F) -> Candidate
    where
        S: Strategy + 'static,
        F: Fn() -> S + Send + Sync + 'static,
    {
        Candidate { build: Arc::new(move |_: &Returns| Ok(Box::new(make()) as Box<dyn Strategy>)) }
    }

    /// A strategy built from the whole panel it will be run on (e.g. with
    /// features computed in advance). The look-ahead audit rebuilds it
    /// from the perturbed panel, so anything it takes from the future shows.
    pub fn from_data<S, F>(make: F) -> Candidate
    where
        S: Strategy + 'static,
        F: Fn(&Returns) -> Result<S> + Send + Sync + 'static,
    {
        Candidate { build: Arc::new(move |r: &Returns| Ok(Box::new(make(r)?) as Box<dyn Strategy>)) }
    }

    /// A strategy chosen at run time (e.g. by name), already boxed.
    pub fn boxed<F>(make: F) -> Candidate
    where
        F: Fn() -> Result<Box<dyn Strategy>> + Send + Sync + 'static,
    {
        Candidate { build: Arc::new(move |_: &Returns| make()) }
    }

    /// A fresh strategy for the panel `data`.
    pub fn build(&self, data: &Returns) -> Result<Box<dyn Strategy>> {
        (self.build)(data)
    }
}

/// Cross-validated evaluation: `CrossValidation::params()` takes a
/// [`Splitter`] and the backtest's trading settings.
///
/// For each split, each strategy (a fresh one per split) decides once on a
/// window of the split's training rows (in time order; with gaps where
/// test blocks and purged rows were taken out) and those weights are held
/// through each of the split's test blocks: set at the block's start,
/// paying the costs of trading from the weights the path held before, and
/// restored on the backtest's schedule within the block. A path is its test
/// blocks in time order; every path of every strategy, and of 1/N, covers
/// the same dates.
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::selection::{Candidate, CombinatorialPurged, CrossValidation};
/// let returns = Synthetic::gaussian(4, 600, 1)?.returns(ReturnKind::Simple)?;
/// let cv = CrossValidation::params().splitter(CombinatorialPurged::params().folds(5).test_folds(2).purge(5));
/// let result = cv.evaluate(&returns, vec![Candidate::new(|| InverseVolatility::new(63))])?;
/// assert_eq!(result.sharpes("inverse volatility (63)").map(|s| s.len()), Some(4));
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CrossValidation;

impl CrossValidation {
    /// Combinatorial purged CV with 10 folds and 2 test folds, and the
    /// backtest's default costs and schedule (10 bps, monthly).
    pub fn params() -> CrossValidationParams {
        CrossValidationParams { splitter: Arc::new(super::CombinatorialPurged::params()), backtest: Backtest::params() }
    }
}

/// Settings of a cross-validated evaluation (see [`CrossValidation::params`]).
#[derive(Clone)]
pub struct CrossValidationParams {
    splitter: Arc<dyn Splitter>,
    backtest: BacktestParams,
}

impl std::fmt::Debug for CrossValidationParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossValidationParams").field("backtest", &self.backtest).finish_non_exhaustive()
    }
}

impl CrossValidationParams {
    /// How the rows are split.
    pub fn splitter(mut self, s: impl Splitter + 'static) -> Self {
        self.splitter = Arc::new(s);
        self
    }

    /// Costs, schedule within a test block, leverage and risk-free rate
    /// (its lookback is not used: a split trains on all its training rows).
    pub fn backtest(mut self, b: BacktestParams) -> Self {
        self.backtest = b;
        self
    }

    /// The splits of a panel of `len` rows.
    pub fn split(&self, len: usize) -> Result<Splits> {
        self.splitter.split(len)
    }

    /// Evaluates each candidate (and 1/N, added first unless present) on
    /// every path.
    pub fn evaluate(&self, returns: &Returns, candidates: Vec<Candidate>) -> Result<CrossValidated> {
        let mut candidates = candidates;
        let data = self.prepare(returns)?;
        let names = names_of(returns, &mut candidates)?;
        let paths = self.paths_of(&data, &candidates)?;
        Ok(CrossValidated { splits: data.splits, names, paths })
    }

    pub(crate) fn prepare(&self, returns: &Returns) -> Result<Prepared> {
        self.backtest.validate_trading()?;
        let simple = returns.to_kind(ReturnKind::Simple);
        crate::data::require_complete(
            simple.values(),
            returns.dates(),
            returns.assets(),
            "cross-validation needs every asset on every date; start the panel when all assets exist",
        )?;
        let splits = self.splitter.split(returns.len())?;
        Ok(Prepared { returns: simple, splits })
    }

    /// Every candidate's path portfolios, `[candidate][path]`: the decisions
    /// of all (candidate, split) pairs run over the cores, then each path
    /// is simulated.
    pub(crate) fn paths_of(&self, data: &Prepared, candidates: &[Candidate]) -> Result<Vec<Vec<Portfolio>>> {
        let (returns, splits) = (&data.returns, &data.splits);
        let r = returns.values();
        // One job per split: its training rows are gathered once and every
        // candidate learns or decides on them.
        let jobs: Vec<usize> = (0..splits.folds.len()).collect();
        let decisions = crate::parallel::pool("cross-validation", jobs, |&s| {
            let fold = &splits.folds[s];
            let dates: Vec<NaiveDate> = fold.train.iter().map(|&i| returns.dates()[i]).collect();
            let date =
                *dates.last().ok_or_else(|| Error::param(Param::Split, format!("split {s} has no training rows")))?;
            let rows = crate::linalg::take_rows(r, &fold.train);
            let window = Window::new(&dates, returns.assets(), rows.view(), returns.periods_per_year());
            candidates
                .iter()
                .map(|c| {
                    let mut strategy = c.build(returns)?;
                    let name = strategy.name();
                    let named = |date| {
                        let name = name.clone();
                        move |e| Error::Strategy { name, date, source: Box::new(e) }
                    };
                    let learned = strategy.learn(&window).map_err(named(date))?;
                    if !learned {
                        let w = self.decide(strategy.as_mut(), &window).map_err(named(date))?;
                        return Ok(fold
                            .test
                            .iter()
                            .map(|b| vec![(b.start, w.clone(), returns.dates()[b.start.saturating_sub(1)])])
                            .collect());
                    }
                    // A learned model decides on each rebalance date of each
                    // test block, on the past up to that date.
                    fold.test
                        .iter()
                        .map(|b| {
                            b.clone()
                                .filter(|&e| {
                                    e >= 1 && (e == b.start || self.backtest.due_within(returns.dates(), b.start, e))
                                })
                                .map(|e| {
                                    let lo = e.saturating_sub(self.backtest.lookback_len());
                                    let past = Window::new(
                                        &returns.dates()[lo..e],
                                        returns.assets(),
                                        r.slice(ndarray::s![lo..e, ..]),
                                        returns.periods_per_year(),
                                    );
                                    let d = returns.dates()[e - 1];
                                    Ok((e, self.decide(strategy.as_mut(), &past).map_err(named(d))?, d))
                                })
                                .collect::<Result<Vec<_>>>()
                        })
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()
        })?;
        // Then one job per (candidate, path): simulating a path is cheap but
        // there are many.
        let jobs: Vec<(usize, usize)> =
            (0..candidates.len()).flat_map(|c| (0..splits.paths).map(move |p| (c, p))).collect();
        let setting = self.backtest.setting(returns, r)?;
        let mut flat = crate::parallel::pool("cross-validation path", jobs, |&(c, p)| {
            let blocks: Vec<Block> = splits
                .path(p)
                .into_iter()
                .map(|(s, b)| Block { rows: splits.folds[s].test[b].clone(), decisions: decisions[s][c][b].clone() })
                .collect();
            self.backtest.hold(format!("path {p}"), returns, r, &setting, &blocks)
        })?
        .into_iter();
        Ok((0..candidates.len()).map(|_| flat.by_ref().take(splits.paths).collect()).collect())
    }

    /// A decision checked against the backtest's limits (`None`, keep the
    /// current weights, is cash here: nothing is held before).
    pub(crate) fn decide(&self, strategy: &mut dyn Strategy, window: &Window<'_>) -> Result<Array1<f64>> {
        let n = window.assets().len();
        let d = crate::backtest::decide(strategy, window, Array1::zeros(n).view())?;
        self.backtest.check_weights(n, d.unwrap_or_else(|| Array1::zeros(n)))
    }
}

/// A panel in simple returns, checked, with its splits.
pub(crate) struct Prepared {
    pub returns: Returns,
    pub splits: Splits,
}

/// The strategies' names (1/N put first unless present), unique.
fn names_of(returns: &Returns, candidates: &mut Vec<Candidate>) -> Result<Vec<String>> {
    let built = candidates.iter().map(|c| c.build(returns)).collect::<Result<Vec<_>>>()?;
    let baseline: Vec<bool> = built.iter().map(|s| s.is_baseline()).collect();
    let mut names: Vec<String> = built.iter().map(|s| s.name()).collect();
    let mut flagged: Vec<(Candidate, bool)> = candidates.drain(..).zip(baseline).collect();
    crate::backtest::with_baseline(&mut flagged, &mut names, |(_, b)| *b, || (Candidate::new(|| EqualWeight), true))?;
    candidates.extend(flagged.into_iter().map(|(c, _)| c));
    Ok(names)
}

/// The out-of-sample paths of several strategies and of 1/N.
#[derive(Debug, Clone)]
pub struct CrossValidated {
    /// The splits evaluated.
    pub splits: Splits,
    /// Strategy names; the first is 1/N.
    pub names: Vec<String>,
    /// `paths[strategy][path]`: each path's portfolio, net of costs.
    pub paths: Vec<Vec<Portfolio>>,
}

impl CrossValidated {
    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// A measure of every path of `name` (e.g. `|m| m.max_drawdown`).
    pub fn distribution(&self, name: &str, measure: impl Fn(&Metrics) -> f64) -> Option<Vec<f64>> {
        self.index(name).map(|i| self.paths[i].iter().map(|p| measure(&p.metrics())).collect())
    }

    /// The annualised Sharpe ratio (net of costs) of every path of `name`.
    pub fn sharpes(&self, name: &str) -> Option<Vec<f64>> {
        self.distribution(name, |m| m.sharpe)
    }

    /// Every strategy on path `p`, as a population beside 1/N.
    pub fn population(&self, p: usize) -> Result<Population> {
        if p >= self.splits.paths {
            return Err(Error::param(
                Param::Path,
                format!("must be < {} (the number of paths), got {p}", self.splits.paths),
            ));
        }
        let reports = self
            .names
            .iter()
            .zip(&self.paths)
            .map(|(n, paths)| {
                let mut port = paths[p].clone();
                port.name = n.clone();
                port
            })
            .collect();
        Ok(Population::new(reports, format!("{}, path {p}, net of costs", self.splits.label)))
    }

    /// Per strategy: the Sharpe ratio's distribution over the paths and
    /// how often it beats 1/N's on the same path.
    pub fn table(&self) -> Table {
        let b = sharpe_of(&self.paths[0]);
        let mut t = Table::new([
            "strategy",
            "paths",
            "mean Sharpe",
            "s.d.",
            "min",
            "median",
            "max",
            "mean − 1/N",
            "paths beating 1/N",
        ])
        .caption(format!(
            "{}: annualised Sharpe ratios of each out-of-sample path, net of costs; 1/N on the same paths",
            self.splits.label
        ));
        for (name, paths) in self.names.iter().zip(&self.paths) {
            let s = sharpe_of(paths);
            let diff: Vec<f64> = s.iter().zip(&b).map(|(x, y)| x - y).collect();
            let wins = diff.iter().filter(|d| **d > 0.0).count() as f64 / diff.len().max(1) as f64;
            let min = s.iter().copied().fold(f64::INFINITY, f64::min);
            let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            t.push(vec![
                Cell::from(name.as_str()),
                Cell::Int(s.len() as i64),
                Cell::Num(stats::mean(&s), 2),
                Cell::Num(stats::std(&s), 2),
                Cell::Num(min, 2),
                Cell::Num(stats::median(&s), 2),
                Cell::Num(max, 2),
                Cell::Num(stats::mean(&diff), 2),
                Cell::Pct(wins, 0),
            ]);
        }
        t
    }

    /// A box plot of each strategy's path Sharpe ratios.
    pub fn plot_sharpe(&self) -> Plot {
        let mut plot = Plot::new();
        for (name, paths) in self.names.iter().zip(&self.paths) {
            let s: Vec<f64> = sharpe_of(paths).into_iter().map(crate::plot::round6).collect();
            plot.add_trace(BoxPlot::new(s).name(name).box_points(plotly::box_plot::BoxPoints::All));
        }
        plot.set_layout(
            Layout::new()
                .title(format!("{}: Sharpe ratio per out-of-sample path (net of costs)", self.splits.label))
                .y_axis(Axis::new().title("annualised Sharpe ratio"))
                .show_legend(false)
                .height(440),
        );
        plot
    }
}

crate::shows_as_table!(CrossValidated);

pub(crate) fn sharpe_of(paths: &[Portfolio]) -> Vec<f64> {
    paths.iter().map(|p| p.metrics().sharpe).collect()
}

/// The per-date mean of the net returns of paths over the same dates.
pub(crate) fn mean_path(paths: &[Portfolio]) -> Vec<f64> {
    let len = paths.first().map_or(0, |p| p.net.len());
    (0..len).map(|t| paths.iter().map(|p| p.net[t]).sum::<f64>() / paths.len() as f64).collect()
}
