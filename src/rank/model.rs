//! The ranker as a model that learns on any set of training dates, for
//! cross-validation (and a walk-forward that refits on its window).

use crate::parameter::Rank as Param;
use std::collections::HashSet;
use std::sync::Arc;

use chrono::NaiveDate;
use ndarray::{Array1, Array2, ArrayView1};

use super::{RankPortfolio, RankerParams};
use crate::backtest::{Strategy, Window};
use crate::data::Prices;
use crate::error::{Error, Result};
use crate::features::FeatureSet;
use crate::forest::{Forest, ForestParams, Scaler};

/// The data a [`RankModel`] learns from, shared by every copy.
#[derive(Debug)]
struct Samples {
    features: FeatureSet,
    /// Quantile class of each labelled feature date's forward return.
    classes: Array2<Option<usize>>,
    /// For each labelled feature date, the return dates its label spans.
    label_dates: Vec<Vec<NaiveDate>>,
}

/// A random-forest ranker that learns from the training dates it is given
/// and scores each decision date from that date's features (computed from
/// the past, as a [`FeatureSet`] is). In cross-validation
/// ([`Strategy::learn`]) a training date is used only when the whole of its
/// label — the returns of the next $h$ dates — lies in the training rows,
/// so labels that reach into a test block or its purge are left out. In a
/// walk-forward it learns from its window (the same rule) every
/// `refit_every` decisions. Before the features' first date it keeps what
/// it holds (cash at the start).
#[derive(Debug, Clone)]
pub struct RankModel {
    samples: Arc<Samples>,
    params: RankerParams,
    portfolio: RankPortfolio,
    fitted: Option<(Arc<Forest>, Scaler)>,
    decisions: usize,
    fits: u64,
    learned: bool,
}

impl RankerParams {
    /// The ranker as a model for cross-validation: features and prices of
    /// the whole panel (the labels are computed here; which of them train
    /// is decided by each split). Errors as [`fit`](Self::fit).
    pub fn model(&self, features: &FeatureSet, prices: &Prices, portfolio: RankPortfolio) -> Result<RankModel> {
        let h = self.horizon;
        self.check(self.stride.unwrap_or(h))?;
        let (fwd, labelled, offset) = crate::features::aligned_targets(features, prices, h)?;
        let classes = crate::features::quantile_classes(fwd.view(), &labelled, self.classes)?;
        let pd = prices.panel().dates();
        let label_dates = (0..labelled.len()).map(|d| pd[offset + d + 1..=offset + d + h].to_vec()).collect();
        Ok(RankModel {
            samples: Arc::new(Samples { features: features.clone(), classes, label_dates }),
            params: self.clone(),
            portfolio,
            fitted: None,
            decisions: 0,
            fits: 0,
            learned: false,
        })
    }
}

impl RankModel {
    /// Fits the forest on the labelled dates whose labels lie within `dates`.
    fn fit_on(&mut self, dates: &[NaiveDate]) -> Result<()> {
        let known: HashSet<&NaiveDate> = dates.iter().collect();
        let s = &self.samples;
        let usable: Vec<usize> =
            (0..s.label_dates.len()).filter(|&d| s.label_dates[d].iter().all(|x| known.contains(x))).collect();
        let stride = self.params.stride.unwrap_or(self.params.horizon);
        // Every `stride`-th usable date counted back from the last.
        let train: Vec<usize> = usable.iter().rev().step_by(stride).rev().copied().collect();
        if train.len() < self.params.min_train.div_ceil(stride).max(1) {
            return Err(Error::TooFewRows {
                operation: format!(
                    "fitting the ranker (dates whose {}-date labels lie in the training rows, every {stride})",
                    self.params.horizon
                ),
                needed: self.params.min_train.div_ceil(stride).max(1),
                got: train.len(),
            });
        }
        let (mut x, y) =
            super::labelled_rows(s.features.rows(&train), train.iter().flat_map(|&d| s.classes.row(d).to_vec()));
        let scaler = Scaler::fit(x.view());
        scaler.apply(&mut x);
        let seed = self.params.forest.seed.wrapping_add(2 * self.fits);
        let forest = ForestParams { seed, ..self.params.forest }.fit(x.view(), &y)?;
        self.fits += 1;
        self.fitted = Some((Arc::new(forest), scaler));
        Ok(())
    }

    /// Scores of every asset on `date`, from that date's features.
    fn scores(&self, date: NaiveDate) -> Result<Array1<f64>> {
        let (forest, scaler) = self.fitted.as_ref().ok_or_else(|| Error::param(Param::Model, "has not learned yet"))?;
        let fd = self.samples.features.dates();
        let d = fd.binary_search(&date).map_err(|_| {
            Error::param(
                Param::Model,
                format!("no features on {date}; the features run from {} to {}", fd[0], fd[fd.len() - 1]),
            )
        })?;
        let mut x = self.samples.features.rows(&[d]);
        scaler.apply(&mut x);
        Ok(super::score_rows(forest, x.view()))
    }
}

impl Strategy for RankModel {
    fn name(&self) -> String {
        match self.portfolio {
            RankPortfolio::TopK(k) => format!("random forest model: top {k}"),
            RankPortfolio::Tilted => "random forest model: score-tilted".into(),
        }
    }

    fn learn(&mut self, train: &Window<'_>) -> Result<bool> {
        self.fit_on(train.dates())?;
        self.learned = true;
        Ok(true)
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let cols = super::columns_of(self.samples.features.assets(), window.assets(), "the ranker's features cover")?;
        // In a walk-forward: learn from the window, again every refit_every decisions.
        if !self.learned && (self.fitted.is_none() || self.decisions % self.params.refit_every == 0) {
            self.fit_on(window.dates())?;
        }
        // Before the features' first date (their longest window) there is
        // nothing to score: hold what is held.
        if window.end() < self.samples.features.dates()[0] {
            return Ok(None);
        }
        self.decisions += 1;
        let s = self.scores(window.end())?;
        super::check_top(self.portfolio, self.samples.features.assets().len())?;
        super::weights_of(self.portfolio, s.select(ndarray::Axis(0), &cols).view()).map(Some)
    }
}
