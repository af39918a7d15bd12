//! Asset pre-selection: steps that narrow a universe before an allocation
//! sees it, on the data of the decision only, so the same steps run in
//! front of any optimiser and inside the walk-forward.
//!
//! The steps run in the order given, each on the assets the previous
//! one kept:
//!
//! * **Incomplete history** ([`drop_incomplete`](PreselectionParams::drop_incomplete)):
//!   drops every asset with a missing return in the panel (not yet listed,
//!   delisted or suspended).
//! * **Correlated assets** ([`drop_correlated`](PreselectionParams::drop_correlated)):
//!   the pairs whose sample correlation $\rho_{ij}$ exceeds a threshold are
//!   taken from the most correlated down; of a pair neither of whose
//!   assets is already dropped, the one with the larger mean correlation
//!   $\bar\rho_i = \tfrac1n\sum_j \rho_{ij}$ (over the step's assets, itself
//!   included) is dropped, the second of the pair on a tie.
//!   [`drop_correlated_absolute`](PreselectionParams::drop_correlated_absolute)
//!   does the same with $|\rho_{ij}|$.
//! * **The K best** ([`keep_best`](PreselectionParams::keep_best)): the $K$
//!   assets best by a measure of their own returns ([`AssetMeasure`];
//!   higher is better for returns and ratios, lower for risks).
//! * **Non-dominated assets** ([`keep_non_dominated`](PreselectionParams::keep_non_dominated)):
//!   each asset is a portfolio, and so is the minimum-variance mix of each
//!   pair with $\rho_{ij} < -\tfrac12$ (a hedge pair can be efficient where
//!   neither asset is), $w_i = (\sigma_j^2 - \sigma_{ij}) / (\sigma_i^2 +
//!   \sigma_j^2 - 2\sigma_{ij})$. A portfolio is dominated when another has
//!   a mean at least as high and a variance at least as low, one of them
//!   strictly. The assets of the first non-dominated front are kept, then
//!   of the next fronts until at least `min_assets` are.
//!
//! These are skfolio's `SelectComplete`, `DropCorrelated`,
//! `SelectKExtremes` and `SelectNonDominated`; the tests match its choices.
//! In the walk-forward, [`Screened`] runs the steps on each decision's
//! window and hands the strategy inside only the assets kept.

use crate::parameter::Selection as Param;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::backtest::{Strategy, Window};
use crate::data::{ReturnKind, Returns};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::portfolio::Metrics;

/// Correlation below which a pair's minimum-variance mix joins the
/// non-dominated sort.
const HEDGE_PAIR: f64 = -0.5;

/// A measure of one asset's own returns, to rank assets by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssetMeasure {
    /// Annualised mean return (higher is better).
    Mean,
    /// Annualised volatility (lower is better).
    Volatility,
    /// Annualised Sharpe ratio at a zero risk-free rate (higher is better).
    Sharpe,
    /// Annualised Sortino ratio (higher is better).
    Sortino,
    /// Maximum drawdown (lower is better).
    MaxDrawdown,
    /// Historical 95 % CVaR of a period (lower is better).
    Cvar95,
}

impl AssetMeasure {
    fn of(self, m: &Metrics) -> f64 {
        match self {
            AssetMeasure::Mean => m.mean,
            AssetMeasure::Volatility => m.volatility,
            AssetMeasure::Sharpe => m.sharpe,
            AssetMeasure::Sortino => m.sortino,
            AssetMeasure::MaxDrawdown => m.max_drawdown,
            AssetMeasure::Cvar95 => m.cvar95,
        }
    }

    /// Whether a larger value ranks first.
    pub fn higher_is_better(self) -> bool {
        matches!(self, AssetMeasure::Mean | AssetMeasure::Sharpe | AssetMeasure::Sortino)
    }
}

impl std::fmt::Display for AssetMeasure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AssetMeasure::Mean => "mean",
            AssetMeasure::Volatility => "volatility",
            AssetMeasure::Sharpe => "Sharpe ratio",
            AssetMeasure::Sortino => "Sortino ratio",
            AssetMeasure::MaxDrawdown => "maximum drawdown",
            AssetMeasure::Cvar95 => "CVaR 95 %",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Incomplete,
    Correlated { threshold: f64, absolute: bool },
    Best { k: usize, measure: AssetMeasure },
    NonDominated { min_assets: usize },
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Incomplete => f.write_str("complete history"),
            Step::Correlated { threshold, absolute: false } => write!(f, "ρ ≤ {threshold}"),
            Step::Correlated { threshold, absolute: true } => write!(f, "|ρ| ≤ {threshold}"),
            Step::Best { k, measure } => write!(f, "best {k} by {measure}"),
            Step::NonDominated { min_assets } => write!(f, "non-dominated (≥ {min_assets})"),
        }
    }
}

/// Asset pre-selection: start from [`Preselection::params`].
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::selection::{AssetMeasure, Preselection};
/// let returns = Synthetic::gaussian(12, 500, 1)?.returns(ReturnKind::Simple)?;
/// let kept = Preselection::params().drop_correlated(0.9).keep_best(5, AssetMeasure::Sharpe).fit(&returns)?;
/// assert_eq!(kept.assets().len(), 5);
/// let narrow = kept.apply(&returns)?; // the 5 assets' returns, for any optimiser
/// assert_eq!(narrow.assets(), kept.assets());
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Preselection;

impl Preselection {
    /// No steps: every asset is kept until steps are added.
    pub fn params() -> PreselectionParams {
        PreselectionParams { steps: Vec::new() }
    }
}

/// The steps of a pre-selection, run in the order added.
#[derive(Debug, Clone, PartialEq)]
pub struct PreselectionParams {
    steps: Vec<Step>,
}

impl PreselectionParams {
    /// Drops every asset with a missing return.
    pub fn drop_incomplete(mut self) -> Self {
        self.steps.push(Step::Incomplete);
        self
    }

    /// Drops one asset of each pair correlated above `threshold`
    /// (−1 ≤ threshold ≤ 1), the one more correlated with the rest.
    pub fn drop_correlated(mut self, threshold: f64) -> Self {
        self.steps.push(Step::Correlated { threshold, absolute: false });
        self
    }

    /// As [`drop_correlated`](Self::drop_correlated), on the absolute
    /// correlation (0 ≤ threshold ≤ 1).
    pub fn drop_correlated_absolute(mut self, threshold: f64) -> Self {
        self.steps.push(Step::Correlated { threshold, absolute: true });
        self
    }

    /// Keeps the `k` assets best by `measure` (all of them when fewer are
    /// left); `k` ≥ 1.
    pub fn keep_best(mut self, k: usize, measure: AssetMeasure) -> Self {
        self.steps.push(Step::Best { k, measure });
        self
    }

    /// Keeps the assets of the non-dominated fronts (mean against
    /// variance), front by front until at least `min_assets` are kept;
    /// `min_assets` = 1 keeps the first front only.
    pub fn keep_non_dominated(mut self, min_assets: usize) -> Self {
        self.steps.push(Step::NonDominated { min_assets });
        self
    }

    /// Wraps `strategy` so that, on each decision, it sees only the assets
    /// these steps keep on its window (see [`Screened`]).
    pub fn then(self, strategy: impl Strategy + 'static) -> Screened {
        Screened { steps: self, inner: Box::new(strategy), fixed: None }
    }

    /// A short description of the steps, for captions and names.
    pub fn label(&self) -> String {
        if self.steps.is_empty() {
            return "no pre-selection".into();
        }
        self.steps.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", then ")
    }

    fn validate(&self) -> Result<()> {
        for step in &self.steps {
            match *step {
                Step::Incomplete => {}
                Step::Correlated { threshold, absolute } => {
                    let low = if absolute { 0.0 } else { -1.0 };
                    if !(low..=1.0).contains(&threshold) {
                        return Err(Error::param(
                            Param::DropCorrelated,
                            format!("threshold must be in [{low}, 1], got {threshold}"),
                        ));
                    }
                }
                Step::Best { k, .. } => {
                    if k == 0 {
                        return Err(Error::param(Param::KeepBest, "k must be ≥ 1, got 0"));
                    }
                }
                Step::NonDominated { min_assets } => {
                    if min_assets == 0 {
                        return Err(Error::param(Param::KeepNonDominated, "min_assets must be ≥ 1, got 0"));
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs the steps on a panel of returns.
    pub fn fit(&self, returns: &Returns) -> Result<Preselected> {
        let simple = returns.to_kind(ReturnKind::Simple);
        self.run(simple.values(), simple.dates(), simple.assets(), simple.periods_per_year())
    }

    /// Runs the steps on simple returns `r` (dates × assets).
    pub(crate) fn run(
        &self,
        r: ArrayView2<'_, f64>,
        dates: &[chrono::NaiveDate],
        assets: &[String],
        periods_per_year: f64,
    ) -> Result<Preselected> {
        self.validate()?;
        let mut kept: Vec<usize> = (0..assets.len()).collect();
        let mut dropped = Vec::new();
        // Steps only drop assets, so the assets the first comparing step
        // sees complete stay complete for every later one.
        let mut checked = false;
        for step in &self.steps {
            if *step != Step::Incomplete && !checked {
                let cols = r.select(Axis(1), &kept);
                let names: Vec<String> = kept.iter().map(|&j| assets[j].clone()).collect();
                crate::data::require_complete(
                    cols.view(),
                    dates,
                    &names,
                    "pre-selection compares assets on common dates: add drop_incomplete() as its first step",
                )?;
                if r.nrows() < 2 {
                    return Err(Error::TooFewRows {
                        operation: format!("pre-selection ({step})"),
                        needed: 2,
                        got: r.nrows(),
                    });
                }
                checked = true;
            }
            let out = match *step {
                Step::Incomplete => incomplete(r, &kept),
                Step::Correlated { threshold, absolute } => correlated(r, &kept, assets, threshold, absolute),
                Step::Best { k, measure } => best(r, dates, periods_per_year, &kept, k, measure),
                Step::NonDominated { min_assets } => non_dominated(r, &kept, min_assets),
            };
            let drop: Vec<bool> = {
                let mut d = vec![false; assets.len()];
                out.iter().for_each(|(j, _)| d[*j] = true);
                d
            };
            for (j, reason) in out {
                dropped.push(Dropped { asset: assets[j].clone(), step: step.to_string(), reason });
            }
            kept.retain(|&j| !drop[j]);
            if kept.is_empty() {
                return Err(Error::param(
                    Param::Returns,
                    format!("the pre-selection step \"{step}\" left no asset; loosen it or drop it"),
                ));
            }
        }
        Ok(Preselected { assets: assets.to_vec(), kept, dropped, label: self.label() })
    }
}

/// Assets with a missing return, with their count.
fn incomplete(r: ArrayView2<'_, f64>, kept: &[usize]) -> Vec<(usize, String)> {
    kept.iter()
        .filter_map(|&j| {
            let missing = r.column(j).iter().filter(|v| !v.is_finite()).count();
            (missing > 0).then(|| (j, format!("{missing} of {} returns missing", r.nrows())))
        })
        .collect()
}

/// Sample mean and covariance of the columns `kept` of `r`.
fn moments(r: ArrayView2<'_, f64>, kept: &[usize]) -> (Array1<f64>, Array2<f64>) {
    crate::linalg::sample_moments(r.select(Axis(1), kept).view())
}

/// The correlation of a covariance (a zero-variance asset correlates with
/// nothing).
fn correlation(cov: &Array2<f64>) -> Array2<f64> {
    let sd = cov.diag().mapv(f64::sqrt);
    Array2::from_shape_fn(cov.dim(), |(a, b)| {
        let c = cov[[a, b]] / (sd[a] * sd[b]);
        if c.is_finite() {
            c
        } else {
            0.0
        }
    })
}

fn correlated(
    r: ArrayView2<'_, f64>,
    kept: &[usize],
    assets: &[String],
    threshold: f64,
    absolute: bool,
) -> Vec<(usize, String)> {
    let mut corr = correlation(&moments(r, kept).1);
    if absolute {
        corr.mapv_inplace(f64::abs);
    }
    let n = kept.len();
    let mean = corr.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(n));
    let mut pairs: Vec<(usize, usize)> =
        (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).filter(|&(a, b)| corr[[a, b]] > threshold).collect();
    // Most correlated first; equal correlations keep their (row, column) order.
    pairs.sort_by(|&(a, b), &(c, d)| corr[[c, d]].total_cmp(&corr[[a, b]]));
    let mut out = vec![false; n];
    let mut reasons = Vec::new();
    for (a, b) in pairs {
        if out[a] || out[b] {
            continue;
        }
        let (gone, stays) = if mean[a] > mean[b] { (a, b) } else { (b, a) };
        out[gone] = true;
        reasons.push((
            kept[gone],
            format!(
                "ρ = {:.3} with {} (mean ρ {:.3} against {:.3})",
                corr[[a, b]],
                assets[kept[stays]],
                mean[gone],
                mean[stays]
            ),
        ));
    }
    reasons
}

fn best(
    r: ArrayView2<'_, f64>,
    dates: &[chrono::NaiveDate],
    periods_per_year: f64,
    kept: &[usize],
    k: usize,
    measure: AssetMeasure,
) -> Vec<(usize, String)> {
    if k >= kept.len() {
        return Vec::new();
    }
    let scores: Vec<f64> = kept
        .iter()
        .map(|&j| {
            let col: Vec<f64> = r.column(j).to_vec();
            measure.of(&Metrics::compute(&col, dates, periods_per_year, 0.0))
        })
        .collect();
    let mut order: Vec<usize> = (0..kept.len()).collect();
    // Best first; a NaN score ranks last; ties keep the panel's order.
    let key = |i: usize| {
        let s = scores[i];
        if s.is_nan() {
            f64::NEG_INFINITY
        } else if measure.higher_is_better() {
            s
        } else {
            -s
        }
    };
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
    let cut = scores[order[k - 1]];
    order[k..]
        .iter()
        .map(|&i| (kept[i], format!("{measure} {:.4}, behind the {k}th best ({cut:.4})", scores[i])))
        .collect()
}

fn non_dominated(r: ArrayView2<'_, f64>, kept: &[usize], min_assets: usize) -> Vec<(usize, String)> {
    let n = kept.len();
    if min_assets >= n {
        return Vec::new();
    }
    let (mean, cov) = moments(r, kept);
    let corr = correlation(&cov);
    // Candidates: each asset, then the hedge pairs' minimum-variance mixes,
    // as (mean, variance, members).
    let mut points: Vec<(f64, f64, Vec<usize>)> = (0..n).map(|a| (mean[a], cov[[a, a]], vec![a])).collect();
    for a in 0..n {
        for b in a + 1..n {
            if corr[[a, b]] < HEDGE_PAIR {
                let (va, vb, c) = (cov[[a, a]], cov[[b, b]], cov[[a, b]]);
                let wa = (vb - c) / (va + vb - 2.0 * c);
                let wb = 1.0 - wa;
                let m = wa * mean[a] + wb * mean[b];
                let v = wa * wa * va + wb * wb * vb + 2.0 * wa * wb * c;
                let members = [(a, wa), (b, wb)].iter().filter(|(_, w)| *w != 0.0).map(|(j, _)| *j).collect();
                points.push((m, v, members));
            }
        }
    }
    let mut keep = vec![false; n];
    let mut count = 0;
    let mut left: Vec<usize> = (0..points.len()).collect();
    while count < min_assets && !left.is_empty() {
        let front = first_front(&points, &left);
        for &p in &front {
            for &a in &points[p].2 {
                if !keep[a] {
                    keep[a] = true;
                    count += 1;
                }
            }
        }
        left.retain(|p| !front.contains(p));
    }
    (0..n)
        .filter(|&a| !keep[a])
        .map(|a| (kept[a], format!("dominated (mean {:.2e}, variance {:.2e} a period)", mean[a], cov[[a, a]])))
        .collect()
}

/// The points of `left` no other point of `left` dominates (higher mean,
/// lower variance): sorted by mean, a point is on the front when its
/// variance is below every variance of a strictly higher mean and is the
/// least among equal means.
fn first_front(points: &[(f64, f64, Vec<usize>)], left: &[usize]) -> Vec<usize> {
    let mut order = left.to_vec();
    order.sort_by(|&a, &b| points[b].0.total_cmp(&points[a].0).then(points[a].1.total_cmp(&points[b].1)));
    let mut front = Vec::new();
    let mut lowest_above = f64::INFINITY;
    let mut i = 0;
    while i < order.len() {
        let m = points[order[i]].0;
        let mut j = i;
        while j < order.len() && points[order[j]].0 == m {
            j += 1;
        }
        // Sorted by variance within the group: its least comes first.
        let least = points[order[i]].1;
        for &p in &order[i..j] {
            if points[p].1 == least && least < lowest_above {
                front.push(p);
            }
        }
        lowest_above = lowest_above.min(least);
        i = j;
    }
    front
}

/// An asset a pre-selection dropped, with the step and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    /// The asset.
    pub asset: String,
    /// The step that dropped it.
    pub step: String,
    /// Why, in numbers.
    pub reason: String,
}

/// The assets a pre-selection kept and those it dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Preselected {
    assets: Vec<String>,
    kept: Vec<usize>,
    dropped: Vec<Dropped>,
    label: String,
}

impl Preselected {
    /// The assets kept, in the panel's order.
    pub fn assets(&self) -> Vec<String> {
        self.kept.iter().map(|&j| self.assets[j].clone()).collect()
    }

    /// The columns of the panel kept.
    pub fn columns(&self) -> &[usize] {
        &self.kept
    }

    /// The assets dropped, step by step.
    pub fn dropped(&self) -> &[Dropped] {
        &self.dropped
    }

    /// The kept assets' columns of `returns` (a panel over the assets the
    /// pre-selection was fitted on, e.g. a later test period).
    pub fn apply(&self, returns: &Returns) -> Result<Returns> {
        returns.select(&self.assets())
    }

    /// Weights over the kept assets as weights over every asset of the
    /// panel, zero on those dropped.
    pub fn expand(&self, weights: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
        if weights.len() != self.kept.len() {
            return Err(Error::param(
                Param::Expand,
                format!("needs one weight per kept asset ({}), got {}", self.kept.len(), weights.len()),
            ));
        }
        let mut full = Array1::zeros(self.assets.len());
        for (&j, &w) in self.kept.iter().zip(weights) {
            full[j] = w;
        }
        Ok(full)
    }

    /// The dropped assets with their step and reason.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["asset", "dropped by", "why"]).caption(format!(
            "Pre-selection ({}): {} of {} assets kept",
            self.label,
            self.kept.len(),
            self.assets.len()
        ));
        for d in &self.dropped {
            t.push(vec![Cell::Text(d.asset.clone()), Cell::Text(d.step.clone()), Cell::Text(d.reason.clone())]);
        }
        t.capped(40)
    }
}

crate::shows_as_table!(Preselected);

/// A strategy behind a pre-selection: on each decision the steps run on
/// the window, the strategy inside decides over the assets kept (its
/// trades still priced), and every other asset gets a zero weight.
///
/// In a cross-validation, a strategy that learns on the training rows
/// keeps the assets selected there for every later decision, so the model
/// and its inputs agree.
pub struct Screened {
    steps: PreselectionParams,
    inner: Box<dyn Strategy>,
    fixed: Option<Vec<String>>,
}

impl std::fmt::Debug for Screened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screened").field("steps", &self.steps).field("inner", &self.inner.name()).finish()
    }
}

impl Screened {
    /// The window's columns the steps keep (or the learned ones).
    fn columns(&self, window: &Window<'_>) -> Result<Vec<usize>> {
        match &self.fixed {
            None => {
                Ok(self.steps.run(window.returns(), window.dates(), window.assets(), window.periods_per_year())?.kept)
            }
            Some(names) => names
                .iter()
                .map(|n| {
                    window.assets().iter().position(|a| a == n).ok_or_else(|| {
                        Error::param(
                            Param::Strategy,
                            format!(
                                "asset {n}, selected when the model learned, is not in the window of {}",
                                window.end()
                            ),
                        )
                    })
                })
                .collect(),
        }
    }

    /// Runs `f` on the window narrowed to `keep`.
    fn narrowed<T>(
        &mut self,
        window: &Window<'_>,
        keep: &[usize],
        f: impl FnOnce(&mut dyn Strategy, &Window<'_>) -> T,
    ) -> T {
        let assets: Vec<String> = keep.iter().map(|&j| window.assets()[j].clone()).collect();
        let returns = window.returns().select(Axis(1), keep);
        let all = window.panel_columns();
        let cols: Vec<usize> = keep.iter().map(|&j| all[j]).collect();
        let sub = window.subset(&assets, returns.view(), &cols);
        f(self.inner.as_mut(), &sub)
    }
}

impl Strategy for Screened {
    fn name(&self) -> String {
        format!("{} [{}]", self.inner.name(), self.steps.label())
    }

    fn decide(&mut self, window: &Window<'_>, current: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        let keep = self.columns(window)?;
        let now = current.select(Axis(0), &keep);
        let Some(w) = self.narrowed(window, &keep, |s, w| s.decide(w, now.view()))? else {
            return Ok(None);
        };
        if w.len() != keep.len() {
            return Err(Error::Shape(format!(
                "{} returned {} weights for the {} assets pre-selected",
                self.inner.name(),
                w.len(),
                keep.len()
            )));
        }
        let mut full = Array1::zeros(window.assets().len());
        for (&j, &x) in keep.iter().zip(&w) {
            full[j] = x;
        }
        Ok(Some(full))
    }

    fn learn(&mut self, train: &Window<'_>) -> Result<bool> {
        self.fixed = None;
        let keep = self.columns(train)?;
        let learned = self.narrowed(train, &keep, |s, w| s.learn(w))?;
        if learned {
            self.fixed = Some(keep.iter().map(|&j| train.assets()[j].clone()).collect());
        }
        Ok(learned)
    }
}
