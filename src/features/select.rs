//! Random-forest feature selection, fitted on a training block and checked
//! on a later held-out block.
//!
//! linfa's decision trees classify, so the target is the forward return's
//! quantile class within each date's cross-section ([`Targets::classes`]).
//! The data are split in time: training dates first, then a purge of $h$
//! dates (the label horizon, so no training label overlaps the held-out
//! block), then the held-out block.
//!
//! * **Impurity importance**: each tree's impurity decreases weighted by the
//!   share of training rows reaching the node and normalised (scikit-learn's
//!   mean decrease in impurity), mapped through the tree's feature subset,
//!   averaged over trees with the spread across trees. Uses the training block only; [`Selection::select_top`]
//!   ranks by it.
//! * **Permutation importance**: on the held-out block, the drop in the
//!   forest's mean cross-sectional rank IC (Spearman, per date, then
//!   averaged) when one feature's column is shuffled, averaged over repeats.
//!   The held-out dates are taken every $h$ dates so their labels do not
//!   overlap and the IC's standard error $\mathrm{sd}/\sqrt{D}$ is honest; a
//!   feature whose importance is within two standard errors of zero is
//!   indistinguishable from noise.

use crate::parameter::Features as Param;
use ndarray::{Array1, Axis};
use plotly::Plot;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::FeatureSet;
use crate::data::Prices;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::forest::{score_of, ForestParams};

/// Settings of the selector; start from [`Selector::params`].
#[derive(Debug, Clone)]
pub struct SelectorParams {
    horizon: usize,
    classes: usize,
    holdout: f64,
    repeats: usize,
    stride: Option<usize>,
    forest: ForestParams,
}

/// Entry point: `Selector::params().horizon(21).fit(&features, &prices)`.
#[derive(Debug, Clone, Copy)]
pub struct Selector;

impl Selector {
    /// Defaults: horizon 21, training dates every horizon, 5 classes, the
    /// last 30 % of dates held out, 5 permutation repeats; 100 trees of
    /// depth ≤ 6, each on a bootstrap of 50 % of the training rows and half the features, leaves of ≥ 20
    /// rows, seed 42.
    ///
    /// ```
    /// use assetalloc::prelude::*;
    /// let m = Synthetic::params().assets(10).days(800).signal(Signal::LaggedFeature { ic: 0.1 }).seed(3).generate()?;
    /// let fs = Features::params().windows(&[5, 21]).compute(&m.prices)?.with_panel("planted", m.signal_feature()?)?;
    /// let selection = Selector::params().horizon(1).trees(10).repeats(1).seed(3).fit(&fs, &m.prices)?;
    /// assert_eq!(selection.select_top(3)?.len(), 3);
    /// # Ok::<(), assetalloc::Error>(())
    /// ```
    pub fn params() -> SelectorParams {
        SelectorParams {
            horizon: 21,
            classes: 5,
            holdout: 0.3,
            repeats: 5,
            stride: None,
            forest: ForestParams::default(),
        }
    }
}

impl SelectorParams {
    /// Forward-return horizon $h$ of the label, in periods.
    pub fn horizon(mut self, h: usize) -> Self {
        self.horizon = h;
        self
    }
    /// Number of cross-sectional quantile classes $k$.
    pub fn classes(mut self, k: usize) -> Self {
        self.classes = k;
        self
    }
    /// Share of the dates (the latest ones) held out for permutation importance.
    pub fn holdout(mut self, share: f64) -> Self {
        self.holdout = share;
        self
    }
    /// Training dates are taken every `stride` dates; the default is the
    /// horizon, so that training labels do not overlap (overlapping
    /// $h$-day labels repeat the same information $h$ times).
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = Some(stride);
        self
    }
    /// Shuffles per feature for permutation importance.
    pub fn repeats(mut self, n: usize) -> Self {
        self.repeats = n;
        self
    }
    crate::forest::forest_setters!();

    /// Fits the forest on the training block and measures both importances.
    ///
    /// Errors: assets of `features` and `prices` differ, horizon 0, fewer
    /// assets than classes, a holdout share outside (0, 1), too few dates
    /// for a training block (≥ 50 dates) and a held-out block (≥ 20
    /// non-overlapping dates), a date whose forward returns are all equal.
    pub fn fit(&self, features: &FeatureSet, prices: &Prices) -> Result<Selection> {
        if !(self.holdout > 0.0 && self.holdout < 1.0) {
            return Err(Error::param(Param::Holdout, format!("must be in (0, 1), got {}", self.holdout)));
        }
        if self.repeats == 0 {
            return Err(Error::param(Param::Repeats, "must be ≥ 1, got 0"));
        }
        self.forest.check()?;
        let h = self.horizon;
        let (fwd, dates, _) = super::aligned_targets(features, prices, h)?;
        let d_all = dates.len();
        let (train_n, test_n) = self.split(d_all)?;
        // Selection measures importance on every asset of every date: it
        // needs a complete panel (a changing universe is the ranker's).
        let classes =
            super::every_class(super::quantile_classes(fwd.view(), &dates, self.classes)?, &dates, features.assets())?;
        if let Some(((d, i, k), _)) = features.values().indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::InvalidValue {
                asset: features.assets()[i].clone(),
                date: features.dates()[d],
                value: f64::NAN,
                reason: format!(
                    "feature {} is missing (the asset is not in the universe then); selection needs a complete panel",
                    features.names()[k]
                ),
            });
        }
        let (_, n, f) = features.values().dim();
        let stride = self.stride.unwrap_or(h);
        if stride == 0 {
            return Err(Error::param(Param::Stride, "must be ≥ 1, got 0"));
        }
        let train_dates: Vec<usize> = (0..train_n).step_by(stride).collect();
        let test_dates: Vec<usize> = (d_all - test_n..d_all).step_by(h).collect();
        let mut x_train = features.rows(&train_dates);
        let mut x_test = features.rows(&test_dates);
        crate::forest::standardize(&mut x_train, &mut x_test);
        let y_train: Vec<usize> = train_dates.iter().flat_map(|&d| classes.row(d).to_vec()).collect();
        let forest = self.forest.fit(x_train.view(), &y_train)?;

        let by_tree = forest.impurity_by_tree(x_train.view());
        let impurity = by_tree.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(f));
        let impurity_sd = by_tree.std_axis(Axis(0), if by_tree.nrows() > 1 { 1.0 } else { 0.0 });

        let held = HeldOut { forward: test_dates.iter().map(|&d| fwd.row(d).to_vec()).collect(), assets: n };
        let votes = forest.votes(x_test.view());
        let base_ics = held.ic_by_date(&score_of(&votes));
        let holdout_ic = crate::stats::mean(&base_ics);
        let holdout_ic_se =
            crate::stats::std(&base_ics) / (base_ics.iter().filter(|v| !v.is_nan()).count() as f64).sqrt();

        // Univariate IC of each feature, held out and in training: the naive baseline.
        let univariate: Vec<f64> =
            (0..f).map(|k| crate::stats::mean(&held.ic_by_date(&x_test.column(k).to_owned()))).collect();
        let train_held = HeldOut { forward: train_dates.iter().map(|&d| fwd.row(d).to_vec()).collect(), assets: n };
        let train_univariate: Vec<f64> =
            (0..f).map(|k| crate::stats::mean(&train_held.ic_by_date(&x_train.column(k).to_owned()))).collect();

        let (permutation, permutation_sd) = self.permutation_importance(&forest, &x_test, &votes, holdout_ic, &held)?;
        Ok(Selection {
            names: features.names().to_vec(),
            impurity: impurity.to_vec(),
            impurity_sd: impurity_sd.to_vec(),
            permutation,
            permutation_sd,
            univariate_ic: univariate,
            train_ic: train_univariate,
            holdout_ic,
            holdout_ic_se,
            train: (dates[0], dates[train_n - 1]),
            holdout: (dates[d_all - test_n], dates[d_all - 1]),
            train_rows: x_train.nrows(),
            holdout_dates: test_dates.len(),
            horizon: h,
            classes: self.classes,
            trees: forest.n_trees(),
        })
    }

    /// Training and held-out dates among `d_all`, with a purge of one
    /// horizon between them.
    fn split(&self, d_all: usize) -> Result<(usize, usize)> {
        let h = self.horizon;
        let sizes = |d: usize| {
            let test_n = ((d as f64) * self.holdout).round() as usize;
            (d.saturating_sub(test_n + h), test_n)
        };
        let enough = |(train_n, test_n): (usize, usize)| train_n >= 50 && test_n.div_ceil(h.max(1)) >= 20;
        if !enough(sizes(d_all)) {
            // The held-out share must reach 19h + 1 dates and the rest 50 + h:
            // start from the real-valued bound and step to the first that fits.
            let bound = (((19 * h) as f64 + 0.5) / self.holdout).max((50 + h) as f64 / (1.0 - self.holdout));
            let mut needed = (bound.ceil() as usize).saturating_sub(2);
            for _ in 0..1000 {
                if enough(sizes(needed)) {
                    break;
                }
                needed += 1;
            }
            return Err(Error::TooFewRows {
                operation: format!(
                    "a train/holdout split with horizon {h} and holdout {} (≥ 50 training dates, a purge of {h}, ≥ 20 held-out dates every {h})",
                    self.holdout
                ),
                needed,
                got: d_all,
            });
        }
        Ok(sizes(d_all))
    }

    /// The drop in held-out IC when each feature is shuffled (mean and
    /// standard deviation over the repeats); features are shared between
    /// the cores and only the trees that use a feature are re-run.
    fn permutation_importance(
        &self,
        forest: &crate::forest::Forest,
        x_test: &ndarray::Array2<f64>,
        votes: &ndarray::Array2<f64>,
        holdout_ic: f64,
        held: &HeldOut,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let f = x_test.ncols();
        let jobs: Vec<Vec<usize>> = (0..2).map(|j| (j..f).step_by(2).collect()).collect();
        let perm_parts = crate::parallel::map("permutation importance", jobs, |feats| {
            let mut out = Vec::new();
            // One working copy per thread; each feature's column is put back
            // after its shuffles.
            let mut x = x_test.clone();
            for k in feats {
                let users: Vec<usize> = (0..forest.n_trees()).filter(|&t| forest.tree_uses(t, k)).collect();
                let mut drops = Vec::with_capacity(self.repeats);
                for r in 0..self.repeats {
                    if users.is_empty() {
                        drops.push(0.0);
                        continue;
                    }
                    let mut rng = StdRng::seed_from_u64(self.forest.seed ^ ((k as u64) << 20) ^ (r as u64 + 1));
                    let mut col = x_test.column(k).to_vec();
                    col.shuffle(&mut rng);
                    x.column_mut(k).assign(&Array1::from(col));
                    let mut v = votes.clone();
                    for &t in &users {
                        v.row_mut(t).assign(&forest.tree_predict(t, x.view()).mapv(|c| c as f64));
                    }
                    drops.push(holdout_ic - crate::stats::mean(&held.ic_by_date(&score_of(&v))));
                }
                x.column_mut(k).assign(&x_test.column(k));
                let sd = if drops.len() > 1 { crate::stats::std(&drops) } else { 0.0 };
                out.push((k, crate::stats::mean(&drops), sd));
            }
            Ok(out)
        })?;
        let mut permutation = vec![0.0; f];
        let mut permutation_sd = vec![0.0; f];
        for (k, m, s) in perm_parts.into_iter().flatten() {
            permutation[k] = m;
            permutation_sd[k] = s;
        }
        Ok((permutation, permutation_sd))
    }
}

/// Forward returns of a block of dates, for per-date rank ICs of scores
/// laid out date by date (`assets` rows per date).
struct HeldOut {
    forward: Vec<Vec<f64>>,
    assets: usize,
}

impl HeldOut {
    /// Spearman IC of `score` against the forward returns, one per date.
    fn ic_by_date(&self, score: &Array1<f64>) -> Vec<f64> {
        let n = self.assets;
        self.forward
            .iter()
            .enumerate()
            .map(|(j, y)| crate::stats::spearman(&score.as_slice().unwrap_or(&[])[j * n..(j + 1) * n], y))
            .collect()
    }
}

/// Feature importances from one selector fit.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Feature names, in the feature set's order.
    pub names: Vec<String>,
    /// Mean impurity importance over trees (sums to 1 over features).
    pub impurity: Vec<f64>,
    /// Its standard deviation across trees.
    pub impurity_sd: Vec<f64>,
    /// Mean drop of the held-out IC when the feature is shuffled.
    pub permutation: Vec<f64>,
    /// Its standard deviation across repeats.
    pub permutation_sd: Vec<f64>,
    /// Mean held-out rank IC of each feature alone (the naive baseline).
    pub univariate_ic: Vec<f64>,
    /// Mean training-block rank IC of each feature alone.
    pub train_ic: Vec<f64>,
    /// The forest's mean held-out rank IC.
    pub holdout_ic: f64,
    /// Its standard error, $\mathrm{sd}/\sqrt{D}$ over held-out dates.
    pub holdout_ic_se: f64,
    /// First and last training date.
    pub train: (chrono::NaiveDate, chrono::NaiveDate),
    /// First and last held-out date.
    pub holdout: (chrono::NaiveDate, chrono::NaiveDate),
    /// Training rows (dates × assets).
    pub train_rows: usize,
    /// Held-out dates evaluated (every `horizon`-th).
    pub holdout_dates: usize,
    /// Label horizon.
    pub horizon: usize,
    /// Quantile classes.
    pub classes: usize,
    /// Trees in the forest.
    pub trees: usize,
}

impl Selection {
    /// Feature indices by decreasing impurity importance.
    pub fn order(&self) -> Vec<usize> {
        crate::stats::descending(&self.impurity)
    }

    /// Feature indices by decreasing permutation importance.
    pub fn order_by_permutation(&self) -> Vec<usize> {
        crate::stats::descending(&self.permutation)
    }

    /// The `k` features with the highest impurity importance — measured on
    /// the training block only, so a model judged on the held-out block is
    /// not chosen with it. Errors when `k` is 0 or above the feature count.
    pub fn select_top(&self, k: usize) -> Result<Vec<String>> {
        if k == 0 || k > self.names.len() {
            return Err(Error::param(Param::K, format!("must be in 1..={}, got {k}", self.names.len())));
        }
        Ok(self.order().into_iter().take(k).map(|i| self.names[i].clone()).collect())
    }

    /// Importances sorted by impurity importance, with each feature's own
    /// held-out IC beside the forest's.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "feature",
            "impurity",
            "± sd (trees)",
            "permutation ΔIC",
            "± sd (repeats)",
            "alone: train IC",
            "alone: held-out IC",
        ])
        .caption(format!(
            "Random forest ({} trees, {} classes, horizon {}) fitted on {} … {} ({} rows); held out {} … {} ({} dates). \
             Forest held-out rank IC {:.4} ± {:.4} (se); permutation importances within 2 se are noise.",
            self.trees,
            self.classes,
            self.horizon,
            self.train.0,
            self.train.1,
            self.train_rows,
            self.holdout.0,
            self.holdout.1,
            self.holdout_dates,
            self.holdout_ic,
            self.holdout_ic_se
        ));
        for i in self.order() {
            t.push(vec![
                Cell::Text(self.names[i].clone()),
                Cell::Num(self.impurity[i], 4),
                Cell::Num(self.impurity_sd[i], 4),
                Cell::Num(self.permutation[i], 4),
                Cell::Num(self.permutation_sd[i], 4),
                Cell::Num(self.train_ic[i], 4),
                Cell::Num(self.univariate_ic[i], 4),
            ]);
        }
        t
    }

    /// Impurity importance with ± one standard deviation across trees.
    pub fn plot_impurity(&self) -> Plot {
        let idx = self.order();
        crate::plot::bars_with_errors(
            "Impurity importance (training block), mean ± sd over trees",
            &idx.iter().map(|&i| self.names[i].clone()).collect::<Vec<_>>(),
            &[(
                "impurity".into(),
                idx.iter().map(|&i| self.impurity[i]).collect(),
                idx.iter().map(|&i| self.impurity_sd[i]).collect(),
            )],
            "share of impurity decrease",
        )
    }

    /// Permutation importance (held-out ΔIC) with ± one standard deviation
    /// across repeats and the ±2 se noise band as a reference.
    pub fn plot_permutation(&self) -> Plot {
        let idx = self.order_by_permutation();
        let labels: Vec<String> = idx.iter().map(|&i| self.names[i].clone()).collect();
        let mut plot = crate::plot::bars_with_errors(
            &format!(
                "Permutation importance on the held-out block (drop in rank IC); noise band ±2 se = ±{:.4}",
                2.0 * self.holdout_ic_se
            ),
            &labels,
            &[(
                "ΔIC".into(),
                idx.iter().map(|&i| self.permutation[i]).collect(),
                idx.iter().map(|&i| self.permutation_sd[i]).collect(),
            )],
            "drop in mean rank IC",
        );
        for sign in [1.0, -1.0] {
            plot.add_trace(
                plotly::Scatter::new(labels.clone(), vec![sign * 2.0 * self.holdout_ic_se; labels.len()])
                    .mode(plotly::common::Mode::Lines)
                    .name(if sign > 0.0 { "+2 se" } else { "−2 se" })
                    .line(plotly::common::Line::new().dash(plotly::common::DashType::Dash).color("gray")),
            );
        }
        plot
    }
}

crate::shows_as_table!(Selection);
