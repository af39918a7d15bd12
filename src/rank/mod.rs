//! Learning to rank assets, out of sample, on linfa random forests. "The
//! prototype" is the original Python pipeline this project was specified
//! from (see [`crate::features`]), whose in-sample "ranked returns" this
//! stage redoes out of sample.
//!
//! At each date the forest scores every asset from its features; the score
//! is the vote-weighted expected class of the forward return's
//! cross-sectional quantile (linfa's own `predict` is a majority vote, which
//! cannot order assets within a class).
//!
//! **Walk-forward.** Every `refit_every` dates the forest is refitted on the
//! past only: a training date $s$ is usable at decision date $t$ when its
//! label is known, $s + h \le t$ (a purge of $h$ dates, so overlapping labels
//! cannot leak); training dates are taken every `stride` dates (default
//! $h$) from the start (expanding) or from the last `n` dates (rolling). The
//! model then scores the dates up to the next refit.
//!
//! **Metrics** per date: Spearman rank IC between score and realised
//! forward return (ties averaged). Mean IC, its information ratio
//! $\overline{IC}/\mathrm{sd}(IC)$, the hit rate (share of dates with IC > 0),
//! and a $t$-statistic on dates $h$ apart (non-overlapping labels):
//! $t = \overline{IC}\sqrt{n}/\mathrm{sd}$. Quantile returns: per date, assets
//! are split into $k$ buckets by score; the mean forward return per bucket,
//! and top minus bottom.
//!
//! A momentum score (a feature of the set, by default the longest `mom_w`)
//! is the baseline ranker, scored the same way on the same dates.

use crate::parameter::Rank as Param;
use std::hash::{Hash, Hasher};

use chrono::NaiveDate;
use ndarray::{Array1, Array2, ArrayView1};
use plotly::Plot;

use crate::backtest::{Strategy, Window};
use crate::data::Prices;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::features::FeatureSet;
use crate::forest::{score_of, standardize, ForestParams};

mod model;
pub use model::RankModel;

/// How much past the ranker trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainWindow {
    /// Every labelled date since the start.
    Expanding,
    /// The last `n` labelled dates.
    Rolling(usize),
}

/// Settings of the walk-forward ranker; start from [`Ranker::params`].
/// Refit `j` seeds its forest with `seed + 2j`.
#[derive(Debug, Clone)]
pub struct RankerParams {
    classes: usize,
    horizon: usize,
    refit_every: usize,
    min_train: usize,
    stride: Option<usize>,
    window: TrainWindow,
    baseline: Option<String>,
    forest: ForestParams,
}

/// Entry point: `Ranker::params().horizon(21).fit(&features, &prices)`.
#[derive(Debug, Clone, Copy)]
pub struct Ranker;

impl Ranker {
    /// Defaults: 5 classes, horizon 21, refit every 21 dates, at least 756
    /// labelled dates before the first fit, expanding window, training
    /// dates every horizon; 100 trees of depth ≤ 6 on bootstraps of half
    /// the rows and half the features, leaves ≥ 20 rows, seed 42; baseline
    /// the longest-window `mom_w` feature.
    ///
    /// ```
    /// use assetalloc::prelude::*;
    /// let prices = Synthetic::params().assets(12).days(700).seed(5).generate()?.prices;
    /// let fs = Features::params().windows(&[5, 21]).kinds(&[Feature::Mean, Feature::Momentum]).compute(&prices)?;
    /// let ranking = Ranker::params().horizon(1).refit_every(250).min_train(250).trees(5).max_depth(3).fit(&fs, &prices)?;
    /// assert_eq!(ranking.scores().ncols(), 12);
    /// # Ok::<(), assetalloc::Error>(())
    /// ```
    pub fn params() -> RankerParams {
        RankerParams {
            classes: 5,
            horizon: 21,
            refit_every: 21,
            min_train: 756,
            stride: None,
            window: TrainWindow::Expanding,
            baseline: None,
            forest: ForestParams::default(),
        }
    }
}

impl RankerParams {
    /// Quantile classes $k$ of the label.
    pub fn classes(mut self, k: usize) -> Self {
        self.classes = k;
        self
    }
    /// Forward-return horizon $h$ (also the purge).
    pub fn horizon(mut self, h: usize) -> Self {
        self.horizon = h;
        self
    }
    /// Dates between refits.
    pub fn refit_every(mut self, n: usize) -> Self {
        self.refit_every = n;
        self
    }
    /// Labelled dates needed before the first fit.
    pub fn min_train(mut self, n: usize) -> Self {
        self.min_train = n;
        self
    }
    /// Training dates every `n` dates (default: the horizon).
    pub fn stride(mut self, n: usize) -> Self {
        self.stride = Some(n);
        self
    }
    /// Expanding or rolling training window.
    pub fn window(mut self, w: TrainWindow) -> Self {
        self.window = w;
        self
    }
    /// The feature used as the baseline score (higher = better).
    pub fn baseline(mut self, feature: &str) -> Self {
        self.baseline = Some(feature.to_string());
        self
    }
    crate::forest::forest_setters!();

    fn check(&self, stride: usize) -> Result<()> {
        for (name, v) in [
            (Param::Horizon, self.horizon),
            (Param::RefitEvery, self.refit_every),
            (Param::Stride, stride),
            (Param::MinTrain, self.min_train),
        ] {
            if v == 0 {
                return Err(Error::param(name, "must be ≥ 1, got 0"));
            }
        }
        if let TrainWindow::Rolling(0) = self.window {
            return Err(Error::param(Param::Window, "Rolling(n) needs n ≥ 1 dates, got 0"));
        }
        self.forest.check()
    }

    /// The baseline feature's name and index: the one named, else the
    /// longest-window momentum.
    fn baseline_feature(&self, features: &FeatureSet) -> Result<(String, usize)> {
        let baseline = match &self.baseline {
            Some(b) => b.clone(),
            None => longest_momentum(features.names()).ok_or_else(|| {
                Error::param(Param::Baseline, "no mom_w feature in the set; name one with .baseline(..)")
            })?,
        };
        let idx = features
            .names()
            .iter()
            .position(|n| *n == baseline)
            .ok_or_else(|| Error::param(Param::Baseline, format!("{baseline:?} is not a feature of the set")))?;
        Ok((baseline, idx))
    }

    /// Runs the walk-forward: refits and out-of-sample scores.
    ///
    /// Errors: assets or dates of `features` and `prices` disagree, fewer
    /// assets than classes, horizon / refit interval / stride of 0, a date
    /// whose forward returns are all equal, not enough history for the first
    /// training window, an unknown baseline feature.
    pub fn fit(&self, features: &FeatureSet, prices: &Prices) -> Result<Ranking> {
        let h = self.horizon;
        let stride = self.stride.unwrap_or(h);
        self.check(stride)?;
        let (fwd, labelled, offset) = crate::features::aligned_targets(features, prices, h)?;
        let classes = crate::features::quantile_classes(fwd.view(), &labelled, self.classes)?;
        let (baseline, b_idx) = self.baseline_feature(features)?;
        let all_dates = features.dates();
        let first = self.min_train + h;
        if first >= all_dates.len() {
            return Err(Error::TooFewRows {
                operation: format!(
                    "the first training window ({} labelled dates, then a purge of {h} before the first prediction)",
                    self.min_train
                ),
                needed: first + 1,
                got: all_dates.len(),
            });
        }
        let cube = features.values();
        let n = cube.dim().1;
        let mut scores = Array2::from_elem((all_dates.len() - first, n), f64::NAN);
        let mut refits = Vec::new();
        let mut t0 = first;
        let mut j = 0u64;
        let (mut fit_seconds, mut score_seconds) = (0.0, 0.0);
        while t0 < all_dates.len() {
            let t1 = (t0 + self.refit_every).min(all_dates.len());
            let last = t0 - h; // labels of dates ≤ t0 − h end by t0
            let lo = match self.window {
                TrainWindow::Expanding => 0,
                TrainWindow::Rolling(w) => (last + 1).saturating_sub(w),
            };
            // Every `stride`-th date counted back from the last usable one.
            let train: Vec<usize> = (lo + (last - lo) % stride..=last).step_by(stride).collect();
            let predict: Vec<usize> = (t0..t1).collect();
            let (mut x_train, y) =
                labelled_rows(features.rows(&train), train.iter().flat_map(|&d| classes.row(d).to_vec()));
            let mut x_pred = features.rows(&predict);
            standardize(&mut x_train, &mut x_pred);
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            x_train.iter().for_each(|v| v.to_bits().hash(&mut hasher));
            y.hash(&mut hasher);
            x_pred.iter().for_each(|v| v.to_bits().hash(&mut hasher));
            let clock = std::time::Instant::now();
            let forest =
                ForestParams { seed: self.forest.seed.wrapping_add(2 * j), ..self.forest }.fit(x_train.view(), &y)?;
            fit_seconds += clock.elapsed().as_secs_f64();
            let clock = std::time::Instant::now();
            let s = score_rows(&forest, x_pred.view());
            score_seconds += clock.elapsed().as_secs_f64();
            for (r, v) in s.iter().enumerate() {
                scores[[t0 - first + r / n, r % n]] = *v;
            }
            refits.push(Refit {
                train_from: all_dates[train[0]],
                train_to: all_dates[last],
                label_end: prices.panel().dates()[offset + last + h],
                predict_from: all_dates[t0],
                predict_to: all_dates[t1 - 1],
                train_rows: x_train.nrows(),
                fingerprint: hasher.finish(),
            });
            t0 = t1;
            j += 1;
        }
        let dates = all_dates[first..].to_vec();
        let forward =
            Array2::from_shape_fn((dates.len(), n), |(d, i)| fwd.get([first + d, i]).copied().unwrap_or(f64::NAN));
        let base = Array2::from_shape_fn((dates.len(), n), |(d, i)| cube[[first + d, i, b_idx]]);
        Ok(Ranking {
            dates,
            assets: features.assets().to_vec(),
            scores,
            baseline: base,
            baseline_name: baseline,
            forward,
            horizon: h,
            classes: self.classes,
            refits,
            fit_seconds,
            score_seconds,
        })
    }
}

/// The rows that can train: a class (a forward return among enough
/// others) and every feature known. On a complete panel, all of them.
pub(crate) fn labelled_rows(x: Array2<f64>, classes: impl Iterator<Item = Option<usize>>) -> (Array2<f64>, Vec<usize>) {
    let (keep, y): (Vec<usize>, Vec<usize>) = classes
        .enumerate()
        .filter_map(|(r, c)| c.filter(|_| x.row(r).iter().all(|v| v.is_finite())).map(|c| (r, c)))
        .unzip();
    if keep.len() == x.nrows() {
        (x, y)
    } else {
        (x.select(ndarray::Axis(0), &keep), y)
    }
}

/// The forest's score of each row whose features are all known; `NaN` for
/// the others (an asset not in the universe, or still warming up).
pub(crate) fn score_rows(forest: &crate::forest::Forest, x: ndarray::ArrayView2<'_, f64>) -> Array1<f64> {
    let ok: Vec<usize> = (0..x.nrows()).filter(|&r| x.row(r).iter().all(|v| v.is_finite())).collect();
    if ok.len() == x.nrows() {
        return score_of(&forest.votes(x));
    }
    let mut out = Array1::from_elem(x.nrows(), f64::NAN);
    if !ok.is_empty() {
        let s = score_of(&forest.votes(x.select(ndarray::Axis(0), &ok).view()));
        for (&r, v) in ok.iter().zip(s) {
            out[r] = v;
        }
    }
    out
}

fn longest_momentum(names: &[String]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| n.strip_prefix("mom_").and_then(|w| w.parse::<usize>().ok()).map(|w| (w, n.clone())))
        .max_by_key(|(w, _)| *w)
        .map(|(_, n)| n)
}

/// One refit of the walk-forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refit {
    /// First training date.
    pub train_from: NaiveDate,
    /// Last training date.
    pub train_to: NaiveDate,
    /// Date on which the last training label is known ($h$ prices later);
    /// never after `predict_from`.
    pub label_end: NaiveDate,
    /// First date scored with this fit.
    pub predict_from: NaiveDate,
    /// Last date scored with this fit.
    pub predict_to: NaiveDate,
    /// Training rows (dates × assets).
    pub train_rows: usize,
    /// Hash of the training rows, labels and scored rows: equal fingerprints
    /// mean the fit saw exactly the same data.
    pub fingerprint: u64,
}

/// Scores of a ranking quality: mean IC and friends, quantile returns.
#[derive(Debug, Clone)]
pub struct RankMetrics {
    /// Per-date Spearman IC (dates with a realised forward return).
    pub ic: Vec<f64>,
    /// Mean IC.
    pub mean_ic: f64,
    /// $\overline{IC}/\mathrm{sd}(IC)$.
    pub ic_ir: f64,
    /// $t$-statistic of the mean IC on dates $h$ apart.
    pub t_stat: f64,
    /// Share of dates with IC > 0.
    pub hit_rate: f64,
    /// Mean forward return per score quantile, lowest first.
    pub quantile_returns: Vec<f64>,
    /// Top minus bottom quantile.
    pub spread: f64,
}

/// Out-of-sample scores per date and asset, with the baseline's.
#[derive(Debug, Clone)]
pub struct Ranking {
    dates: Vec<NaiveDate>,
    assets: Vec<String>,
    scores: Array2<f64>,
    baseline: Array2<f64>,
    baseline_name: String,
    forward: Array2<f64>,
    horizon: usize,
    classes: usize,
    refits: Vec<Refit>,
    fit_seconds: f64,
    score_seconds: f64,
}

impl Ranking {
    /// Seconds spent fitting forests and scoring dates, summed over refits
    /// (the rest of a walk-forward is assembling rows).
    pub fn timings(&self) -> (f64, f64) {
        (self.fit_seconds, self.score_seconds)
    }

    /// Scored dates.
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }
    /// Assets.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }
    /// Model scores `[date, asset]` (vote-weighted expected class).
    pub fn scores(&self) -> &Array2<f64> {
        &self.scores
    }
    /// Baseline scores `[date, asset]`.
    pub fn baseline_scores(&self) -> &Array2<f64> {
        &self.baseline
    }
    /// The baseline feature's name.
    pub fn baseline_name(&self) -> &str {
        &self.baseline_name
    }
    /// Realised forward returns `[date, asset]` (NaN where not yet known).
    pub fn forward(&self) -> &Array2<f64> {
        &self.forward
    }
    /// The refits, in order.
    pub fn refits(&self) -> &[Refit] {
        &self.refits
    }

    /// Metrics of the model's scores.
    pub fn metrics(&self) -> RankMetrics {
        self.metrics_of(&self.scores)
    }

    /// Metrics of the baseline's scores on the same dates.
    pub fn baseline_metrics(&self) -> RankMetrics {
        self.metrics_of(&self.baseline)
    }

    /// The model against its baseline, in words: which has the higher mean
    /// IC, and whether the model's mean IC is significant at the 5 % level
    /// ($|t| > 1.96$ on dates one horizon apart).
    pub fn verdict(&self) -> String {
        let (m, b) = (self.metrics(), self.baseline_metrics());
        format!(
            "the forest's mean IC {:+.4} (t = {:.2}) {} the baseline {}'s {:+.4} (t = {:.2}); the forest's IC is {} at the 5 % level",
            m.mean_ic,
            m.t_stat,
            if m.mean_ic > b.mean_ic { "beats" } else { "does not beat" },
            self.baseline_name,
            b.mean_ic,
            b.t_stat,
            if m.t_stat.abs() > 1.96 { "significant" } else { "not significant" }
        )
    }

    /// Per date, the assets with a model score, a baseline score and a
    /// realised forward return (all of them on a complete panel once the
    /// return is known); dates with fewer than two are left out, so the
    /// model and the baseline are judged on the same pairs.
    fn known(&self) -> Vec<(usize, Vec<usize>)> {
        (0..self.dates.len())
            .map(|d| {
                let assets = (0..self.assets.len()).filter(|&i| {
                    self.scores[[d, i]].is_finite()
                        && self.baseline[[d, i]].is_finite()
                        && self.forward[[d, i]].is_finite()
                });
                (d, assets.collect::<Vec<usize>>())
            })
            .filter(|(_, a)| a.len() >= 2)
            .collect()
    }

    fn metrics_of(&self, s: &Array2<f64>) -> RankMetrics {
        let known = self.known();
        let pick = |m: &Array2<f64>, d: usize, a: &[usize]| a.iter().map(|&i| m[[d, i]]).collect::<Vec<f64>>();
        let ic: Vec<f64> =
            known.iter().map(|(d, a)| crate::stats::spearman(&pick(s, *d, a), &pick(&self.forward, *d, a))).collect();
        let mean_ic = crate::stats::mean(&ic);
        let sd = crate::stats::std(&ic);
        let spaced: Vec<f64> = ic.iter().step_by(self.horizon).copied().collect();
        let t_stat = crate::stats::mean(&spaced) * (spaced.len() as f64).sqrt() / crate::stats::std(&spaced);
        let hit_rate = ic.iter().filter(|v| **v > 0.0).count() as f64 / ic.len().max(1) as f64;
        let k = self.classes;
        let (mut sum, mut count) = (vec![0.0; k], vec![0usize; k]);
        for (d, a) in &known {
            for (&i, r) in a.iter().zip(crate::stats::ranks(&pick(s, *d, a))) {
                let q = crate::features::quantile_of(r, a.len(), k);
                sum[q] += self.forward[[*d, i]];
                count[q] += 1;
            }
        }
        let quantile_returns: Vec<f64> =
            sum.iter().zip(&count).map(|(s, c)| if *c > 0 { s / *c as f64 } else { f64::NAN }).collect();
        let spread = quantile_returns[k - 1] - quantile_returns[0];
        RankMetrics { ic, mean_ic, ic_ir: mean_ic / sd, t_stat, hit_rate, quantile_returns, spread }
    }

    /// Model beside baseline: mean IC, t, IR, hit rate, top − bottom.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["ranker", "mean IC", "t (non-overlapping)", "IC IR", "hit rate", "top − bottom"])
            .caption(format!(
                "Out-of-sample ranking of {} assets, {} … {} ({} refits, horizon {}, {} classes); \
                 top − bottom is the mean {}-period forward return of the best-scored quantile minus the worst",
                self.assets.len(),
                self.dates[0],
                self.dates[self.dates.len() - 1],
                self.refits.len(),
                self.horizon,
                self.classes,
                self.horizon
            ));
        for (name, m) in [
            ("random forest".to_string(), self.metrics()),
            (format!("baseline: {}", self.baseline_name), self.baseline_metrics()),
        ] {
            t.push(vec![
                Cell::Text(name),
                Cell::Num(m.mean_ic, 4),
                Cell::Num(m.t_stat, 2),
                Cell::Num(m.ic_ir, 3),
                Cell::Pct(m.hit_rate, 1),
                Cell::Pct(m.spread, 2),
            ]);
        }
        t
    }

    /// Assets ranked by score on `date` (the prototype's "ranked returns",
    /// across assets and out of sample), with the baseline and the realised
    /// forward return where known.
    pub fn ranked(&self, date: NaiveDate) -> Result<Table> {
        let d = self.dates.binary_search(&date).map_err(|_| {
            Error::param(
                Param::Date,
                format!("{date} is not a scored date ({} … {})", self.dates[0], self.dates[self.dates.len() - 1]),
            )
        })?;
        let idx = crate::stats::descending(&self.scores.row(d).to_vec());
        let mut t = Table::new(["rank", "asset", "score", "baseline", "forward return"])
            .caption(format!("Ranking on {date} (score = expected class 0…{})", self.classes - 1));
        for (r, &i) in idx.iter().enumerate() {
            t.push(vec![
                Cell::Int(r as i64 + 1),
                Cell::Text(self.assets[i].clone()),
                Cell::Num(self.scores[[d, i]], 3),
                Cell::Num(self.baseline[[d, i]], 4),
                Cell::Pct(self.forward[[d, i]], 2),
            ]);
        }
        Ok(t)
    }

    /// Cumulative IC over time, model and baseline.
    pub fn plot_cumulative_ic(&self) -> Plot {
        let dates: Vec<NaiveDate> = self.known().into_iter().map(|(d, _)| self.dates[d]).collect();
        let cum = |m: RankMetrics| {
            m.ic.iter()
                .scan(0.0, |a, v| {
                    *a += v;
                    Some(*a)
                })
                .collect::<Vec<f64>>()
        };
        crate::plot::lines(
            "Cumulative rank IC (out of sample)",
            &dates,
            &[
                ("random forest".into(), cum(self.metrics())),
                (format!("baseline: {}", self.baseline_name), cum(self.baseline_metrics())),
            ],
            "cumulative IC",
            false,
        )
    }

    /// Mean forward return per score quantile, model and baseline.
    pub fn plot_quantile_returns(&self) -> Plot {
        let labels: Vec<String> = (1..=self.classes).map(|q| format!("Q{q}")).collect();
        let m = self.metrics().quantile_returns;
        let b = self.baseline_metrics().quantile_returns;
        let no_error = vec![0.0; self.classes];
        crate::plot::bars_with_errors(
            &format!("Mean {}-period forward return by score quantile (Q1 lowest)", self.horizon),
            &labels,
            &[
                ("random forest".into(), m, no_error.clone()),
                (format!("baseline: {}", self.baseline_name), b, no_error),
            ],
            "mean forward return",
        )
    }

    /// A backtest strategy from these out-of-sample scores.
    pub fn strategy(&self, portfolio: RankPortfolio) -> RankStrategy {
        RankStrategy {
            dates: self.dates.clone(),
            assets: self.assets.clone(),
            scores: self.scores.clone(),
            portfolio,
            label: "random forest".into(),
        }
    }

    /// The same portfolio rule on the baseline's scores.
    pub fn baseline_strategy(&self, portfolio: RankPortfolio) -> RankStrategy {
        RankStrategy {
            dates: self.dates.clone(),
            assets: self.assets.clone(),
            scores: self.baseline.clone(),
            portfolio,
            label: format!("baseline {}", self.baseline_name),
        }
    }
}

crate::shows_as_table!(Ranking);

/// How scores become long-only weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RankPortfolio {
    /// Equal weight in the `k` best-scored assets.
    TopK(usize),
    /// $w_i \propto \max(0,\ 1 + z_i)$ with $z_i$ the cross-sectional z-score
    /// of the score: 1/N tilted towards high scores, never short.
    Tilted,
}

/// A [`Strategy`] that reads the walk-forward's out-of-sample scores on
/// each rebalance date (the scores at $t$ come from a fit on labels known by
/// $t$, see [`Refit`]).
#[derive(Debug, Clone)]
pub struct RankStrategy {
    dates: Vec<NaiveDate>,
    assets: Vec<String>,
    scores: Array2<f64>,
    portfolio: RankPortfolio,
    label: String,
}

impl RankStrategy {
    /// Weights from one date's scores (assets without a score get none).
    pub fn weights(&self, s: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
        check_top(self.portfolio, self.assets.len())?;
        weights_of(self.portfolio, s)
    }
}

/// The positions in `scored` of the window's assets `wanted` (all of them,
/// or a universe's subset of them); an asset that was not scored is an
/// error naming it.
pub(crate) fn columns_of(scored: &[String], wanted: &[String], what: &str) -> Result<Vec<usize>> {
    wanted
        .iter()
        .map(|a| {
            scored.iter().position(|x| x == a).ok_or_else(|| {
                Error::Shape(format!(
                    "{what} {scored:?}, not {a:?}, which the backtest holds; score every asset of the panel"
                ))
            })
        })
        .collect()
}

/// A top-k portfolio needs 1 ≤ k ≤ the assets ranked (on a date when fewer
/// are in the universe it holds all of those).
pub(crate) fn check_top(portfolio: RankPortfolio, n: usize) -> Result<()> {
    match portfolio {
        RankPortfolio::TopK(k) if k == 0 || k > n => {
            Err(Error::param(Param::TopK, format!("must be in 1..={n}, got {k}")))
        }
        _ => Ok(()),
    }
}

/// Long-only weights from one date's scores.
pub(crate) fn weights_of(portfolio: RankPortfolio, s: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
    let n = s.len();
    // Assets without a score (features still warming up after a listing)
    // get no weight; the rest are ranked among themselves.
    let scored: Vec<usize> = (0..n).filter(|&i| s[i].is_finite()).collect();
    if scored.is_empty() {
        return Err(Error::param(Param::Scores, format!("none of the {n} assets has a score on this date")));
    }
    let x: Vec<f64> = scored.iter().map(|&i| s[i]).collect();
    let mut w = Array1::zeros(n);
    match portfolio {
        RankPortfolio::TopK(k) => {
            if k == 0 {
                return Err(Error::param(Param::TopK, format!("must be in 1..={n}, got 0")));
            }
            // On a date with fewer scored assets than k, all of them.
            let k = k.min(x.len());
            for &j in &crate::stats::descending(&x)[..k] {
                w[scored[j]] = 1.0 / k as f64;
            }
        }
        RankPortfolio::Tilted => {
            let m = crate::stats::mean(&x);
            let sd = (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / x.len() as f64).sqrt();
            let raw: Vec<f64> = x.iter().map(|v| if sd > 0.0 { (1.0 + (v - m) / sd).max(0.0) } else { 1.0 }).collect();
            let total: f64 = raw.iter().sum();
            for (&i, r) in scored.iter().zip(raw) {
                w[i] = r / total;
            }
        }
    }
    Ok(w)
}

impl Strategy for RankStrategy {
    fn name(&self) -> String {
        match self.portfolio {
            RankPortfolio::TopK(k) => format!("{}: top {k}", self.label),
            RankPortfolio::Tilted => format!("{}: score-tilted", self.label),
        }
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let d = self.dates.binary_search(&window.end()).map_err(|_| {
            Error::param(
                Param::Ranking,
                format!("no out-of-sample score on {}; start the backtest on or after {}", window.end(), self.dates[0]),
            )
        })?;
        let cols = columns_of(&self.assets, window.assets(), "the ranking scored")?;
        check_top(self.portfolio, self.assets.len())?;
        weights_of(self.portfolio, self.scores.row(d).select(ndarray::Axis(0), &cols).view()).map(Some)
    }
}
