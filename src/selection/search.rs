//! Hyper-parameter search scored on cross-validation paths, with the
//! winner's Sharpe ratio deflated by the trials actually made.

use crate::parameter::Selection as Param;
use std::path::Path;

use plotly::common::Mode;
use plotly::layout::{Axis, Layout};
use plotly::{Plot, Scatter};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::evaluate::{mean_path, sharpe_of, Candidate, CrossValidationParams};
use crate::backtest::{EqualWeight, Strategy};
use crate::data::{ResultColumn as Column, Returns};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::portfolio::metrics::normal_cdf;
use crate::portfolio::{expected_max_sharpe, Metrics, Portfolio};
use crate::stats;

/// A value of one hyper-parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number.
    Num(f64),
    /// A choice among named options.
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Num(x) => write!(f, "{x}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// The values each hyper-parameter may take; the grid is their product.
///
/// ```
/// use assetalloc::selection::Grid;
/// let g = Grid::new().num("lookback", [63.0, 126.0, 252.0]).text("estimator", ["sample", "ledoit-wolf"]);
/// assert_eq!(g.len(), 6);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    axes: Vec<(String, Vec<Value>)>,
}

impl Grid {
    /// An empty grid.
    pub fn new() -> Self {
        Grid::default()
    }

    /// A numeric parameter and its values.
    pub fn num(mut self, name: &str, values: impl IntoIterator<Item = f64>) -> Self {
        self.axes.push((name.to_string(), values.into_iter().map(Value::Num).collect()));
        self
    }

    /// A named choice and its options.
    pub fn text<S: Into<String>>(mut self, name: &str, values: impl IntoIterator<Item = S>) -> Self {
        self.axes.push((name.to_string(), values.into_iter().map(|v| Value::Text(v.into())).collect()));
        self
    }

    /// Number of points (the product of the axes' lengths; 0 when empty).
    pub fn len(&self) -> usize {
        if self.axes.is_empty() {
            return 0;
        }
        self.axes.iter().map(|(_, v)| v.len()).product()
    }

    /// Whether the grid has no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `i` of the grid (the last axis varies fastest).
    fn point(&self, mut i: usize) -> Vec<(String, Value)> {
        let mut out = vec![(String::new(), Value::Num(0.0)); self.axes.len()];
        for (slot, (name, values)) in out.iter_mut().zip(&self.axes).rev() {
            *slot = (name.clone(), values[i % values.len()].clone());
            i /= values.len();
        }
        out
    }

    fn validate(&self) -> Result<()> {
        if self.axes.is_empty() {
            return Err(Error::param(Param::Grid, "is empty; add parameters with .num(..) or .text(..)"));
        }
        let mut seen = std::collections::HashSet::new();
        for (name, values) in &self.axes {
            if values.is_empty() {
                return Err(Error::param(Param::Grid, format!("parameter {name:?} has no values")));
            }
            if !seen.insert(name) {
                return Err(Error::param(Param::Grid, format!("parameter {name:?} appears twice")));
            }
            if let Some(v) = values.iter().find(|v| matches!(v, Value::Num(x) if !x.is_finite())) {
                return Err(Error::param(
                    Param::Grid,
                    format!("parameter {name:?} has a value {v} that is not finite"),
                ));
            }
        }
        Ok(())
    }
}

/// One point of the grid that was tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Its index in the grid (stable across shards).
    pub index: usize,
    /// Parameter names and values.
    pub values: Vec<(String, Value)>,
}

impl Trial {
    fn get(&self, name: &str) -> Result<&Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v).ok_or_else(|| {
            let names: Vec<&str> = self.values.iter().map(|(n, _)| n.as_str()).collect();
            Error::param(Param::Grid, format!("has no parameter {name:?}; it has {names:?}"))
        })
    }

    /// The numeric parameter `name`.
    pub fn num(&self, name: &str) -> Result<f64> {
        match self.get(name)? {
            Value::Num(x) => Ok(*x),
            Value::Text(s) => {
                Err(Error::param(Param::Grid, format!("parameter {name:?} is a choice ({s:?}), not a number")))
            }
        }
    }

    /// The numeric parameter `name` as a count (a non-negative integer).
    pub fn count(&self, name: &str) -> Result<usize> {
        let x = self.num(name)?;
        if x >= 0.0 && x.fract() == 0.0 && x < 1e15 {
            Ok(x as usize)
        } else {
            Err(Error::param(Param::Grid, format!("parameter {name:?} must be a non-negative whole number, got {x}")))
        }
    }

    /// The choice `name`.
    pub fn text(&self, name: &str) -> Result<&str> {
        match self.get(name)? {
            Value::Text(s) => Ok(s),
            Value::Num(x) => {
                Err(Error::param(Param::Grid, format!("parameter {name:?} is a number ({x}), not a choice")))
            }
        }
    }

    /// "lookback=63, estimator=sample".
    pub fn label(&self) -> String {
        self.values.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join(", ")
    }
}

/// Hyper-parameter search: every point of a [`Grid`], or a seeded random
/// sample of distinct points, each scored by cross-validation.
#[derive(Debug, Clone, Copy)]
pub struct Search;

impl Search {
    /// Every point of the grid.
    pub fn grid(grid: Grid) -> SearchParams {
        SearchParams { grid, sample: None, seed: 42, shard: (0, 1), cv: super::CrossValidation::params() }
    }

    /// `trials` distinct points of the grid drawn at random (seeded).
    pub fn random(grid: Grid, trials: usize) -> SearchParams {
        SearchParams { sample: Some(trials), ..Search::grid(grid) }
    }
}

/// Settings of a search (see [`Search`]).
#[derive(Debug, Clone)]
pub struct SearchParams {
    grid: Grid,
    sample: Option<usize>,
    seed: u64,
    shard: (usize, usize),
    cv: CrossValidationParams,
}

impl SearchParams {
    /// Seed of the random sample (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The cross-validation every trial is scored by.
    pub fn cv(mut self, cv: CrossValidationParams) -> Self {
        self.cv = cv;
        self
    }

    /// Runs only shard `i` of `n` (the trials whose position in the search
    /// is `i` modulo `n`), so a sweep can be spread over machines; the
    /// shards' CSV files concatenate with [`SearchResult::read_csv`].
    /// `examples/sweep.rs` runs shards from a manifest, locally, with GNU
    /// parallel or as a Slurm job array (see `tools/slurm/README.md`).
    pub fn shard(mut self, i: usize, n: usize) -> Self {
        self.shard = (i, n);
        self
    }

    /// The trials of the whole search, in order (before sharding).
    pub fn trials(&self) -> Result<Vec<Trial>> {
        self.grid.validate()?;
        let size = self.grid.len();
        let mut idx: Vec<usize> = (0..size).collect();
        if let Some(n) = self.sample {
            if n == 0 || n > size {
                return Err(Error::param(
                    Param::Trials,
                    format!("a random search draws distinct points: must be in 1..={size} (the grid's size), got {n}"),
                ));
            }
            idx.shuffle(&mut rand::rngs::StdRng::seed_from_u64(self.seed));
            idx.truncate(n);
        }
        Ok(idx.into_iter().map(|index| Trial { index, values: self.grid.point(index) }).collect())
    }

    /// Scores every trial of this shard on the cross-validation's paths,
    /// with 1/N on the same paths. `make` builds the strategy of a trial.
    pub fn run<S, F>(&self, returns: &Returns, make: F) -> Result<SearchResult>
    where
        S: Strategy + 'static,
        F: Fn(&Trial) -> Result<S> + Send + Sync + Clone + 'static,
    {
        let (i, n) = self.shard;
        if n == 0 || i >= n {
            return Err(Error::param(Param::Shard, format!("must be i/n with i < n, got {i}/{n}")));
        }
        let all = self.trials()?;
        let total = all.len();
        let mine: Vec<Trial> = all.into_iter().enumerate().filter(|(k, _)| k % n == i).map(|(_, t)| t).collect();
        let data = self.cv.prepare(returns)?;
        let mut candidates = vec![Candidate::new(|| EqualWeight)];
        for t in &mine {
            let (make, t) = (make.clone(), t.clone());
            candidates.push(Candidate::from_data(move |_: &Returns| make(&t)));
        }
        let paths = self.cv.paths_of(&data, &candidates)?;
        let base = mean_path(&paths[0]);
        let baseline = score(&paths[0], &base);
        let rows = mine.into_iter().zip(&paths[1..]).map(|(trial, p)| score(p, &base).of(trial)).collect();
        Ok(SearchResult { rows, baseline: Some(baseline), total, grid: self.grid.len(), label: data.splits.label })
    }
}

/// A trial's cross-validated score.
pub type TrialScore = Scored<Trial>;

/// Cross-validated scores of what `trial` names: a [`Trial`] of a search
/// ([`TrialScore`]), or `()` for the 1/N baseline on the same paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored<T> {
    /// What was scored.
    pub trial: T,
    /// Mean over the paths of the annualised Sharpe ratio, net of costs.
    pub score: f64,
    /// Standard deviation of the path Sharpe ratios.
    pub score_sd: f64,
    /// Periodic Sharpe ratio of the active mean path: the per-date mean over
    /// the paths of the net return minus 1/N's on the same path (an
    /// information ratio against 1/N).
    pub active_sharpe: f64,
    /// Its standard error (skewness and kurtosis adjusted).
    pub active_se: f64,
    /// Periods of the mean path.
    pub periods: usize,
    /// Periods per year (to annualise).
    pub periods_per_year: f64,
}

impl Scored<()> {
    /// The same scores, of `trial`.
    fn of(self, trial: Trial) -> TrialScore {
        let Scored { trial: (), score, score_sd, active_sharpe, active_se, periods, periods_per_year } = self;
        Scored { trial, score, score_sd, active_sharpe, active_se, periods, periods_per_year }
    }
}

/// The scores of a strategy's paths, with 1/N's mean path on the same
/// dates.
fn score(paths: &[Portfolio], baseline: &[f64]) -> Scored<()> {
    let s = sharpe_of(paths);
    let active: Vec<f64> = mean_path(paths).iter().zip(baseline).map(|(a, b)| a - b).collect();
    let first = &paths[0];
    let m = Metrics::compute(&active, &first.dates, first.periods_per_year(), 0.0);
    Scored {
        trial: (),
        score: stats::mean(&s),
        score_sd: stats::std(&s),
        active_sharpe: m.sharpe_periodic,
        active_se: m.sharpe_se,
        periods: m.periods,
        periods_per_year: first.periods_per_year(),
    }
}

/// Every trial of a search with its score, the 1/N baseline on the same
/// paths, and the winner's deflated Sharpe ratio.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// The trials of this result (one shard, or several concatenated).
    pub rows: Vec<TrialScore>,
    /// 1/N on the same paths (absent when read back from CSV).
    pub baseline: Option<Scored<()>>,
    /// Trials in the whole search (all shards).
    pub total: usize,
    /// Points of the grid the trials were drawn from (`total` for a whole
    /// grid, more for a random search): every trial's index is below it.
    pub grid: usize,
    /// The cross-validation that scored them.
    pub label: String,
}

impl SearchResult {
    /// The trial with the highest score.
    pub fn winner(&self) -> Option<&TrialScore> {
        self.rows.iter().filter(|r| r.score.is_finite()).max_by(|a, b| a.score.total_cmp(&b.score))
    }

    /// The winner's deflated Sharpe ratio against 1/N (Bailey & López de
    /// Prado 2014, on active returns): the probability that the true Sharpe
    /// ratio of its return over 1/N's exceeds the best one expected from as
    /// many skill-less trials as were made, given the variance of the
    /// trials' active Sharpe ratios,
    /// $\mathrm{DSR} = \Phi\big((\widehat{SR} - SR^*)/\hat\sigma_{SR}\big)$,
    /// $SR^* = \sqrt{V}\,\big((1-\gamma)\Phi^{-1}(1-1/N) + \gamma\Phi^{-1}(1-1/(Ne))\big)$.
    /// Periodic units, on the winner's active mean path; `N` counts every
    /// trial of the search, so a partial set of shards gives an error. A
    /// strategy that merely rides the market scores near zero here: the
    /// question is whether the tuned strategy beats 1/N, not cash.
    pub fn deflated_sharpe(&self) -> Result<f64> {
        if self.rows.len() != self.total {
            return Err(Error::param(
                Param::Search,
                format!(
                    "holds {} of the search's {} trials; concatenate every shard before deflating",
                    self.rows.len(),
                    self.total
                ),
            ));
        }
        let w = self.winner().ok_or_else(|| Error::param(Param::Search, "has no trial with a finite score"))?;
        let sr: Vec<f64> = self.rows.iter().map(|r| r.active_sharpe).collect();
        let v = if sr.len() > 1 { stats::std(&sr).powi(2) } else { 0.0 };
        Ok(normal_cdf((w.active_sharpe - expected_max_sharpe(self.total, v)) / w.active_se))
    }

    /// One row per trial (best first), with the winner's DSR in the caption.
    pub fn table(&self) -> Table {
        let dsr = self.deflated_sharpe().map_or_else(|e| e.to_string(), |d| format!("{:.1} %", 100.0 * d));
        let base = self.baseline.as_ref().map_or(String::new(), |b| format!("; 1/N on the same paths: {:.2}", b.score));
        let mut rows: Vec<&TrialScore> = self.rows.iter().collect();
        rows.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut t =
            Table::new(["trial", "parameters", "mean Sharpe", "s.d. over paths", "active Sharpe vs 1/N"]).caption(format!(
                "{} trials on {}{base}; annualised, net of costs; winner's deflated Sharpe ratio against 1/N over {} trials: {dsr}",
                self.rows.len(),
                self.label,
                self.total
            ));
        for r in rows {
            t.push(vec![
                Cell::Int(r.trial.index as i64),
                Cell::Text(r.trial.label()),
                Cell::Num(r.score, 2),
                Cell::Num(r.score_sd, 2),
                Cell::Num(r.active_sharpe * r.periods_per_year.sqrt(), 2),
            ]);
        }
        t.capped(40)
    }

    /// Score against trial, with ± one standard deviation over the paths.
    pub fn plot(&self) -> Plot {
        let mut rows: Vec<&TrialScore> = self.rows.iter().collect();
        rows.sort_by_key(|r| r.trial.index);
        let x: Vec<String> = rows.iter().map(|r| r.trial.label()).collect();
        let y: Vec<f64> = rows.iter().map(|r| crate::plot::round6(r.score)).collect();
        let e: Vec<f64> = rows.iter().map(|r| crate::plot::round6(r.score_sd)).collect();
        let mut plot = Plot::new();
        plot.add_trace(
            Scatter::new(x.clone(), y)
                .mode(Mode::Markers)
                .name("mean path Sharpe")
                .error_y(plotly::common::ErrorData::new(plotly::common::ErrorType::Data).array(e)),
        );
        if let Some(b) = &self.baseline {
            plot.add_trace(Scatter::new(x.clone(), vec![b.score; x.len()]).mode(Mode::Lines).name("1/N"));
        }
        plot.set_layout(
            Layout::new()
                .title(format!("Search on {}: mean Sharpe ratio over the paths, ± 1 s.d.", self.label))
                .y_axis(Axis::new().title("annualised Sharpe ratio"))
                .height(440),
        );
        plot
    }

    /// Writes the trials as CSV (one row per trial: index, the search's
    /// total trials and its grid's size, each parameter as `param:NAME`
    /// or `choice:NAME`, the scores), for
    /// [`read_csv`](Self::read_csv) to concatenate.
    pub fn to_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let names: Vec<String> =
            self.rows.first().map(|r| r.trial.values.iter().map(|(n, _)| n.clone()).collect()).unwrap_or_default();
        let num = |f: &dyn Fn(&TrialScore) -> f64| Column::Num(self.rows.iter().map(f).collect());
        let mut cols = vec![
            ("trial".to_string(), num(&|r| r.trial.index as f64)),
            ("total".to_string(), num(&|_| self.total as f64)),
            ("grid".to_string(), num(&|_| self.grid as f64)),
        ];
        for (j, n) in names.iter().enumerate() {
            let text = self.rows.iter().any(|r| matches!(r.trial.values[j].1, Value::Text(_)));
            let col = if text {
                Column::Text(self.rows.iter().map(|r| r.trial.values[j].1.to_string()).collect())
            } else {
                num(&|r: &TrialScore| if let Value::Num(x) = r.trial.values[j].1 { x } else { f64::NAN })
            };
            cols.push((format!("{}{n}", if text { "choice:" } else { "param:" }), col));
        }
        cols.extend([
            ("score".to_string(), num(&|r| r.score)),
            ("score_sd".to_string(), num(&|r| r.score_sd)),
            ("active_sharpe".to_string(), num(&|r| r.active_sharpe)),
            ("active_se".to_string(), num(&|r| r.active_se)),
            ("periods".to_string(), num(&|r| r.periods as f64)),
            ("periods_per_year".to_string(), num(&|r| r.periods_per_year)),
            ("cv".to_string(), Column::Text(vec![self.label.clone(); self.rows.len()])),
        ]);
        crate::data::write_columns(path.as_ref(), &cols)
    }

    /// Reads and concatenates the CSV files of several shards (or one).
    pub fn read_csv<P: AsRef<Path>>(paths: &[P]) -> Result<SearchResult> {
        let mut out = SearchResult { rows: Vec::new(), baseline: None, total: 0, grid: 0, label: String::new() };
        for p in paths {
            let part = read_one(p.as_ref())?;
            if out.total != 0 && (part.total != out.total || part.grid != out.grid || part.label != out.label) {
                return Err(Error::param(
                    Param::Shards,
                    format!(
                        "{} comes from another search ({} trials on {}, not {} on {})",
                        p.as_ref().display(),
                        part.total,
                        part.label,
                        out.total,
                        out.label
                    ),
                ));
            }
            out.total = part.total;
            out.grid = part.grid;
            out.label = part.label;
            out.rows.extend(part.rows);
        }
        out.rows.sort_by_key(|r| r.trial.index);
        if let Some(w) = out.rows.windows(2).find(|w| w[0].trial.index == w[1].trial.index) {
            return Err(Error::param(Param::Shards, format!("trial {} appears twice", w[0].trial.index)));
        }
        Ok(out)
    }
}

crate::shows_as_table!(SearchResult);

fn read_one(path: &Path) -> Result<SearchResult> {
    let cols = crate::data::read_columns(path, |n| n == "cv" || n.starts_with("choice:"))?;
    let find = |name: &str| -> Result<&Column> {
        cols.iter().find(|(n, _)| n == name).map(|(_, c)| c).ok_or_else(|| {
            let found: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
            Error::param(
                Param::Csv,
                format!(
                    "{} has no column {name:?} (it has {found:?}); write it with SearchResult::to_csv",
                    path.display()
                ),
            )
        })
    };
    let nums = |name: &str| -> Result<Vec<f64>> {
        match find(name)? {
            Column::Num(v) => Ok(v.clone()),
            Column::Text(_) => Err(Error::param(Param::Csv, format!("column {name:?} must be numeric"))),
        }
    };
    let (trial, total, score, sd, sr, se, periods, k) = (
        nums("trial")?,
        nums("total")?,
        nums("score")?,
        nums("score_sd")?,
        nums("active_sharpe")?,
        nums("active_se")?,
        nums("periods")?,
        nums("periods_per_year")?,
    );
    // Counts are written as whole numbers; anything else (a NaN, −1, 1.5)
    // is a damaged file, and `as usize` would turn it into a valid-looking 0.
    let count = |name: &str, v: f64, row: usize| -> Result<usize> {
        if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < u32::MAX as f64 {
            Ok(v as usize)
        } else {
            Err(Error::param(
                Param::Csv,
                format!("{} row {}: {name} must be a whole number ≥ 0, got {v}", path.display(), row + 1),
            ))
        }
    };
    let n_total = match total.first() {
        Some(&t) => count("total", t, 0)?,
        None => 0,
    };
    // Files written before the grid's size was recorded held whole grids.
    let grid = match cols.iter().find(|(n, _)| n == "grid") {
        Some(_) => nums("grid")?,
        None => total.clone(),
    };
    let n_grid = match grid.first() {
        Some(&g) => count("grid", g, 0)?,
        None => 0,
    };
    for i in 0..trial.len() {
        let (t, p) = (count("trial", trial[i], i)?, count("periods", periods[i], i)?);
        if count("total", total[i], i)? != n_total || count("grid", grid[i], i)? != n_grid || t >= n_grid {
            return Err(Error::param(
                Param::Csv,
                format!(
                    "{} row {}: trial {t} of {} (grid of {}) does not fit a search of {n_total} trials on a grid of \
                     {n_grid} (the first row's)",
                    path.display(),
                    i + 1,
                    total[i],
                    grid[i]
                ),
            ));
        }
        if p < 2 || !(k[i].is_finite() && k[i] > 0.0) {
            return Err(Error::param(
                Param::Csv,
                format!(
                    "{} row {}: needs ≥ 2 periods and periods_per_year > 0, got {p} and {}",
                    path.display(),
                    i + 1,
                    k[i]
                ),
            ));
        }
    }
    let label = match find("cv")? {
        Column::Text(v) => v.first().cloned().unwrap_or_default(),
        Column::Num(_) => String::new(),
    };
    let rows = (0..trial.len())
        .map(|i| {
            let values = cols
                .iter()
                .filter_map(|(n, c)| {
                    let v = match c {
                        Column::Num(v) => Value::Num(v[i]),
                        Column::Text(v) => Value::Text(v[i].clone()),
                    };
                    n.strip_prefix("param:").or_else(|| n.strip_prefix("choice:")).map(|n| (n.to_string(), v))
                })
                .collect();
            TrialScore {
                trial: Trial { index: trial[i] as usize, values },
                score: score[i],
                score_sd: sd[i],
                active_sharpe: sr[i],
                active_se: se[i],
                periods: periods[i] as usize,
                periods_per_year: k[i],
            }
        })
        .collect();
    Ok(SearchResult { rows, baseline: None, total: n_total, grid: n_grid, label })
}
