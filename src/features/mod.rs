//! Per-asset features and forward-return targets, built without lookahead.
//!
//! "The prototype" below is the original Python pipeline this project was
//! specified from (its founding description: a 10-day window, momentum as
//! a price difference, same-day feature importances); its choices are kept
//! as options so they can be compared honestly.
//!
//! For a price panel $p_{t,i}$ and each window $w$:
//!
//! | name | definition at date $t$ |
//! |---|---|
//! | `mean_w` | $\frac1w\sum_{s=t-w+1}^{t} r_s$, $r_s = p_s/p_{s-1}-1$ |
//! | `std_w` | sample standard deviation (ddof 1) of the same $w$ returns |
//! | `mom_w` | $p_t/p_{t-w} - 1$ |
//! | `momdiff_w` | $p_t - p_{t-w}$ (the prototype's "current minus $w$ days ago") |
//! | `ewmavol_w` | EWMA volatility, span $w$: $\sigma^2_t = \alpha r_t^2 + (1-\alpha)\sigma^2_{t-1}$, $\alpha = \frac{2}{w+1}$, seeded with the mean of the first $w$ squared returns |
//! | `downvol_w` | downside deviation $\sqrt{\frac1w\sum \min(r_s,0)^2}$ |
//! | `madist_w` | $p_t / \bar p_{t-w+1..t} - 1$ (distance from the moving average) |
//!
//! and, per date across assets, `rank(f)` (average rank scaled to the unit interval)
//! and `z(f)` (z-score, population standard deviation) of each of them.
//!
//! Every value at $t$ uses prices up to and including $t$ only; the first
//! $\max w$ dates cannot be computed and are dropped (the count is kept in
//! [`FeatureSet::warmup`]). Each rolling statistic is one pass with running
//! sums: $O(T)$ per window, not $O(T\,w)$.
//!
//! [`Targets::forward`] gives the forward return $p_{t+h}/p_t - 1$, which
//! uses $t+1,\dots,t+h$ only, and its cross-sectional quantile classes.
//! With the `ml` feature, [`Selector`] ranks features with linfa's random
//! forest.

mod rolling;
#[cfg(feature = "ml")]
mod select;

use crate::parameter::Features as Param;
use chrono::NaiveDate;
use ndarray::{Array2, Array3, ArrayView2, Axis};
use plotly::Plot;

use crate::data::{Panel, Prices};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};

#[cfg(feature = "ml")]
pub use select::{Selection, Selector, SelectorParams};

/// A per-asset feature family, computed for each window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Rolling mean of returns (`mean_w`).
    Mean,
    /// Rolling standard deviation of returns (`std_w`).
    Std,
    /// Momentum as a ratio, $p_t/p_{t-w}-1$ (`mom_w`).
    Momentum,
    /// Momentum as a difference, $p_t - p_{t-w}$ (`momdiff_w`).
    MomentumDiff,
    /// EWMA volatility with span $w$ (`ewmavol_w`).
    EwmaVol,
    /// Downside deviation (`downvol_w`).
    DownsideVol,
    /// Distance from the $w$-day moving average (`madist_w`).
    MaDistance,
}

impl Feature {
    /// Every family, in display order.
    pub const ALL: [Feature; 7] = [
        Feature::Mean,
        Feature::Std,
        Feature::Momentum,
        Feature::MomentumDiff,
        Feature::EwmaVol,
        Feature::DownsideVol,
        Feature::MaDistance,
    ];

    /// The short name used in column names (`mom` in `mom_21`).
    pub fn short(self) -> &'static str {
        match self {
            Feature::Mean => "mean",
            Feature::Std => "std",
            Feature::Momentum => "mom",
            Feature::MomentumDiff => "momdiff",
            Feature::EwmaVol => "ewmavol",
            Feature::DownsideVol => "downvol",
            Feature::MaDistance => "madist",
        }
    }

    fn compute(self, p: &[f64], r: &[f64], w: usize) -> Vec<f64> {
        match self {
            Feature::Mean => rolling::mean(r, w),
            Feature::Std => rolling::std(r, w),
            Feature::Momentum => rolling::momentum(p, w),
            Feature::MomentumDiff => rolling::momentum_diff(p, w),
            Feature::EwmaVol => rolling::ewma_vol(r, w),
            Feature::DownsideVol => rolling::downside(r, w),
            Feature::MaDistance => rolling::ma_distance(p, w),
        }
    }
}

/// A cross-sectional transform applied per date across assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossSection {
    /// Average rank scaled to $[0, 1]$: $(\text{rank}-1)/(N-1)$ (`rank(f)`).
    Rank,
    /// $(x - \bar x)/\sigma$ with the population standard deviation; 0 when
    /// all assets are equal (`z(f)`).
    ZScore,
}

/// Settings of the feature builder; start from [`Features::params`].
#[derive(Debug, Clone)]
pub struct FeaturesParams {
    windows: Vec<usize>,
    kinds: Vec<Feature>,
    cross: Vec<CrossSection>,
}

/// Entry point: `Features::params().windows(&[5, 21, 63]).compute(&prices)`.
#[derive(Debug, Clone, Copy)]
pub struct Features;

impl Features {
    /// Defaults: window 10 (the prototype's), every [`Feature`] family, no
    /// cross-sectional transforms.
    ///
    /// ```
    /// use assetalloc::prelude::*;
    /// let prices = Synthetic::params().assets(4).days(300).seed(1).generate()?.prices;
    /// let fs = Features::params().windows(&[5, 21]).cross_section(&[CrossSection::Rank]).compute(&prices)?;
    /// assert_eq!((fs.assets().len(), fs.warmup()), (4, 21));
    /// # Ok::<(), assetalloc::Error>(())
    /// ```
    pub fn params() -> FeaturesParams {
        FeaturesParams { windows: vec![10], kinds: Feature::ALL.to_vec(), cross: Vec::new() }
    }
}

impl FeaturesParams {
    /// Windows in periods, each ≥ 2 (e.g. `&[5, 21, 63, 126, 252]`).
    pub fn windows(mut self, windows: &[usize]) -> Self {
        self.windows = windows.to_vec();
        self
    }

    /// The feature families to compute.
    pub fn kinds(mut self, kinds: &[Feature]) -> Self {
        self.kinds = kinds.to_vec();
        self
    }

    /// Cross-sectional transforms to add for every feature.
    pub fn cross_section(mut self, cross: &[CrossSection]) -> Self {
        self.cross = cross.to_vec();
        self
    }

    /// Computes the features of every asset of `prices`.
    ///
    /// Errors: no window or family, a window < 2 or ≥ the number of dates,
    /// a missing (NaN) price.
    pub fn compute(&self, prices: &Prices) -> Result<FeatureSet> {
        let panel = prices.panel();
        let t_len = panel.len();
        if self.windows.is_empty() || self.kinds.is_empty() {
            return Err(Error::param(Param::Features, "need at least one window and one feature family"));
        }
        if let Some(&w) = self.windows.iter().find(|&&w| w < 2) {
            return Err(Error::param(Param::Window, format!("must be ≥ 2, got {w}")));
        }
        let w_max = *self.windows.iter().max().unwrap_or(&2);
        if w_max >= t_len {
            return Err(Error::TooFewRows {
                operation: format!("features with a {w_max}-period window"),
                needed: w_max + 1,
                got: t_len,
            });
        }
        let mut names = Vec::new();
        for &w in &self.windows {
            for k in &self.kinds {
                names.push(format!("{}_{w}", k.short()));
            }
        }
        let base = names.len();
        for c in &self.cross {
            for f in 0..base {
                let tag = match c {
                    CrossSection::Rank => "rank",
                    CrossSection::ZScore => "z",
                };
                names.push(format!("{tag}({})", names[f]));
            }
        }
        // A window, family or transform given twice would name two
        // features alike, and selection by name could not tell them apart.
        Error::unique(Param::Feature, &names)?;
        let n = panel.n_assets();
        let keep = t_len - w_max;
        let total = names.len();
        // Each asset's series are computed contiguously (feature × date),
        // then moved into the [date, asset, feature] cube by a blocked
        // transpose: writing a series straight into the cube strides by the
        // row width and misses the cache on every value.
        let mut cube = vec![0.0; keep * n * total];
        let mut series = vec![0.0; base * keep];
        let v = panel.values();
        const B: usize = 64;
        for i in 0..n {
            let p: Vec<f64> = v.column(i).to_vec();
            // Each run of prices (the asset's time in the universe) is its
            // own series: a feature is NaN outside a run and in the first
            // `w` dates of each (its warm-up).
            series.fill(f64::NAN);
            for (a, b) in finite_runs(&p) {
                let run = &p[a..b];
                let r = rolling::returns(run);
                let mut f = 0;
                for &w in &self.windows {
                    for k in &self.kinds {
                        let col = k.compute(run, &r, w);
                        for (t, x) in col.into_iter().enumerate().filter(|(t, _)| a + t >= w_max) {
                            series[f * keep + a + t - w_max] = x;
                        }
                        f += 1;
                    }
                }
            }
            for tb in (0..keep).step_by(B) {
                for f in 0..base {
                    for t in tb..(tb + B).min(keep) {
                        cube[(t * n + i) * total + f] = series[f * keep + t];
                    }
                }
            }
        }
        // Cross-sections per date, inside the date's slab (in cache).
        let mut x = vec![0.0; n];
        for t in 0..keep {
            let slab = &mut cube[t * n * total..(t + 1) * n * total];
            for (ci, c) in self.cross.iter().enumerate() {
                for f in 0..base {
                    for i in 0..n {
                        x[i] = slab[i * total + f];
                    }
                    let out = base * (ci + 1) + f;
                    for (i, yi) in cross_section(*c, &x).into_iter().enumerate() {
                        slab[i * total + out] = yi;
                    }
                }
            }
        }
        let values = Array3::from_shape_vec((keep, n, total), cube).map_err(|e| Error::Shape(e.to_string()))?;
        Ok(FeatureSet {
            dates: panel.dates()[w_max..].to_vec(),
            assets: panel.assets().to_vec(),
            names,
            values,
            warmup: w_max,
        })
    }
}

/// The runs `a..b` of consecutive finite values.
fn finite_runs(p: &[f64]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (t, x) in p.iter().enumerate() {
        match (x.is_finite(), start) {
            (true, None) => start = Some(t),
            (false, Some(a)) => {
                runs.push((a, t));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        runs.push((a, p.len()));
    }
    runs
}

/// The transform over the assets with a value (NaN for the others: not in
/// the universe, or still warming up).
fn cross_section(kind: CrossSection, x: &[f64]) -> Vec<f64> {
    if x.iter().all(|v| v.is_finite()) {
        return cross_section_of(kind, x);
    }
    let idx: Vec<usize> = (0..x.len()).filter(|&i| x[i].is_finite()).collect();
    let vals: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
    let mut out = vec![f64::NAN; x.len()];
    for (&i, y) in idx.iter().zip(cross_section_of(kind, &vals)) {
        out[i] = y;
    }
    out
}

fn cross_section_of(kind: CrossSection, x: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    match kind {
        CrossSection::Rank => {
            if x.len() < 2 {
                return vec![0.5; x.len()];
            }
            crate::stats::ranks(x).into_iter().map(|r| (r - 1.0) / (n - 1.0)).collect()
        }
        CrossSection::ZScore => {
            let m = x.iter().sum::<f64>() / n;
            let sd = (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt();
            if sd > 0.0 {
                x.iter().map(|v| (v - m) / sd).collect()
            } else {
                vec![0.0; x.len()]
            }
        }
    }
}

/// Features per date, asset and name: `values[[date, asset, feature]]`.
#[derive(Debug, Clone)]
pub struct FeatureSet {
    dates: Vec<NaiveDate>,
    assets: Vec<String>,
    names: Vec<String>,
    values: Array3<f64>,
    warmup: usize,
}

impl FeatureSet {
    /// Dates kept (after the warm-up).
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// Asset names.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// Feature names, in column order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The cube `[date, asset, feature]`.
    pub fn values(&self) -> &Array3<f64> {
        &self.values
    }

    /// Leading dates dropped because the longest window was not yet full.
    pub fn warmup(&self) -> usize {
        self.warmup
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.names.len()
    }

    /// Adds an externally computed feature given as a panel with the same
    /// assets (in order) and a value on every kept date, e.g. the
    /// generator's planted signal. Extra leading dates in the panel are
    /// ignored; values must be finite.
    pub fn with_panel(mut self, name: &str, panel: &Panel) -> Result<FeatureSet> {
        if panel.n_assets() != self.assets.len() {
            return Err(Error::Shape(format!(
                "feature {name:?} has {} columns for {} assets",
                panel.n_assets(),
                self.assets.len()
            )));
        }
        if self.names.iter().any(|n| n == name) {
            return Err(Error::param(Param::Feature, format!("{name:?} is already in the set")));
        }
        let Some(start) = run_offset(&self.dates, panel.dates()) else {
            return Err(Error::param(
                Param::Dates,
                format!("{name:?} must have a value on every feature date {} … {}", self.dates[0], self.end()),
            ));
        };
        let v = panel.values();
        let (t, n, f) = self.values.dim();
        let mut out = Array3::zeros((t, n, f + 1));
        out.slice_mut(ndarray::s![.., .., ..f]).assign(&self.values);
        for d in 0..t {
            for i in 0..n {
                let x = v[[start + d, i]];
                if !x.is_finite() {
                    return Err(Error::param(
                        Param::Values,
                        format!("{name:?} is not finite for {} on {}", self.assets[i], self.dates[d]),
                    ));
                }
                out[[d, i, f]] = x;
            }
        }
        self.values = out;
        self.names.push(name.to_string());
        Ok(self)
    }

    /// Keeps the named features, in the order given.
    pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<FeatureSet> {
        let idx = names
            .iter()
            .map(|s| {
                self.names.iter().position(|n| n == s.as_ref()).ok_or_else(|| {
                    Error::param(Param::Feature, format!("{:?} is not one of {}", s.as_ref(), self.names.join(", ")))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(FeatureSet {
            dates: self.dates.clone(),
            assets: self.assets.clone(),
            names: idx.iter().map(|&i| self.names[i].clone()).collect(),
            values: self.values.select(Axis(2), &idx),
            warmup: self.warmup,
        })
    }

    /// The design matrix: one row per (date, asset), date-major (all assets
    /// of the first date, then the next date…), one column per feature.
    pub fn design(&self) -> Array2<f64> {
        let (t, n, f) = self.values.dim();
        self.values
            .to_shape((t * n, f))
            .map(|a| a.to_owned())
            .unwrap_or_else(|_| Array2::from_shape_fn((t * n, f), |(r, k)| self.values[[r / n, r % n, k]]))
    }

    /// Design-matrix rows of the given date indices (date-major, as
    /// [`design`](Self::design)).
    #[cfg(feature = "ml")]
    pub(crate) fn rows(&self, dates: &[usize]) -> Array2<f64> {
        let (_, n, f) = self.values.dim();
        Array2::from_shape_fn((dates.len() * n, f), |(r, k)| self.values[[dates[r / n], r % n, k]])
    }

    fn end(&self) -> NaiveDate {
        *self.dates.last().unwrap_or(&self.dates[0])
    }

    /// Long format: `date`, `asset`, then one column per feature.
    pub fn to_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        use polars::prelude::*;
        let (t, n, _) = self.values.dim();
        let dates: Vec<NaiveDate> = self.dates.iter().flat_map(|d| std::iter::repeat_n(*d, n)).collect();
        let assets: Vec<&str> = (0..t).flat_map(|_| self.assets.iter().map(String::as_str)).collect();
        let x = self.design();
        let mut cols: Vec<Column> = vec![Column::new("date".into(), dates), Column::new("asset".into(), assets)];
        for (k, name) in self.names.iter().enumerate() {
            cols.push(Column::new(name.as_str().into(), x.column(k).to_vec()));
        }
        Ok(DataFrame::new(t * n, cols)?)
    }

    /// Pooled correlation between features (over every date and asset).
    pub fn correlation(&self) -> Array2<f64> {
        let x = self.design();
        let f = x.ncols();
        let cols: Vec<Vec<f64>> = (0..f).map(|k| x.column(k).to_vec()).collect();
        Array2::from_shape_fn((f, f), |(a, b)| if a == b { 1.0 } else { crate::stats::correlation(&cols[a], &cols[b]) })
    }

    /// Heatmap of [`correlation`](Self::correlation).
    pub fn plot_correlation(&self) -> Plot {
        crate::plot::heatmap(
            "Feature correlation (pooled over dates and assets)",
            &self.names,
            self.correlation().view(),
        )
    }

    /// The last ten rows in long form (what the notebook shows).
    pub fn table(&self) -> Table {
        self.table_rows(10)
    }

    /// The last `rows` rows in long form (date, asset, features).
    pub fn table_rows(&self, rows: usize) -> Table {
        let mut header = vec!["date".to_string(), "asset".to_string()];
        header.extend(self.names.iter().cloned());
        let (t, n, f) = self.values.dim();
        let mut table = Table::new(header).caption(format!(
            "{} features × {} assets × {} dates ({} warm-up dates dropped); last {} rows",
            f,
            n,
            t,
            self.warmup,
            rows.min(t * n)
        ));
        let from = (t * n).saturating_sub(rows);
        for r in from..t * n {
            let (d, i) = (r / n, r % n);
            let mut cells = vec![Cell::Text(self.dates[d].to_string()), Cell::Text(self.assets[i].clone())];
            cells.extend((0..f).map(|k| Cell::Num(self.values[[d, i, k]], 4)));
            table.push(cells);
        }
        table
    }
}

crate::shows_as_table!(FeatureSet);

/// Forward returns over a horizon, per date and asset.
#[derive(Debug, Clone)]
pub struct Targets {
    dates: Vec<NaiveDate>,
    assets: Vec<String>,
    horizon: usize,
    values: Array2<f64>,
}

impl Targets {
    /// $y_{t,i} = p_{t+h,i}/p_{t,i} - 1$ for every date with $h$ prices
    /// ahead (the last $h$ dates have none and are left out); `NaN` where
    /// the asset lacks a price at $t$ or $t+h$ (not in the universe).
    pub fn forward(prices: &Prices, horizon: usize) -> Result<Targets> {
        if horizon == 0 {
            return Err(Error::param(Param::Horizon, "must be ≥ 1, got 0"));
        }
        let panel = prices.panel();
        if panel.len() <= horizon {
            return Err(Error::TooFewRows {
                operation: format!("forward returns over {horizon} periods"),
                needed: horizon + 1,
                got: panel.len(),
            });
        }
        let v = panel.values();
        let keep = panel.len() - horizon;
        let values = Array2::from_shape_fn((keep, panel.n_assets()), |(t, i)| v[[t + horizon, i]] / v[[t, i]] - 1.0);
        Ok(Targets { dates: panel.dates()[..keep].to_vec(), assets: panel.assets().to_vec(), horizon, values })
    }

    /// Dates with a target (decision dates $t$).
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// Asset names.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// The horizon $h$.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// `[date, asset]` forward returns.
    pub fn values(&self) -> ArrayView2<'_, f64> {
        self.values.view()
    }

    /// Cross-sectional quantile class per date: $\lfloor k\,(\text{rank}-1)/N \rfloor$
    /// with average ranks, so class 0 holds the lowest forward returns and
    /// $k-1$ the highest; ties share a class.
    ///
    /// Errors: `k < 2`, fewer assets than classes, a date on which every
    /// asset has the same forward return (no ranking exists), a missing
    /// target (an asset not in the universe; the ranker leaves those out).
    pub fn classes(&self, k: usize) -> Result<Array2<usize>> {
        every_class(quantile_classes(self.values.view(), &self.dates, k)?, &self.dates, &self.assets)
    }
}

/// Where `run` starts inside `within` when it is a run of consecutive
/// entries of it.
fn run_offset(run: &[NaiveDate], within: &[NaiveDate]) -> Option<usize> {
    let start = within.iter().position(|d| Some(d) == run.first())?;
    within[start..].starts_with(run).then_some(start)
}

/// Forward returns over `h` aligned with the feature dates: row `d` belongs
/// to feature date `d`; the trailing dates without `h` prices ahead are left
/// out. Also returns the price-date index of the first feature date. Errors
/// when the assets differ or the feature dates are not a run of consecutive
/// price dates.
#[cfg(feature = "ml")]
pub(crate) fn aligned_targets(
    features: &FeatureSet,
    prices: &Prices,
    h: usize,
) -> Result<(Array2<f64>, Vec<NaiveDate>, usize)> {
    if features.assets() != prices.panel().assets() {
        return Err(Error::param(Param::Assets, "features and prices must list the same assets in the same order"));
    }
    let targets = Targets::forward(prices, h)?;
    let pd = prices.panel().dates();
    let fd = features.dates();
    let Some(start) = run_offset(fd, pd) else {
        return Err(Error::param(
            Param::Dates,
            format!("the feature dates ({} … {}) are not consecutive dates of the price panel", fd[0], features.end()),
        ));
    };
    let rows = targets.dates().len().saturating_sub(start).min(fd.len());
    let values = targets.values().slice(ndarray::s![start..start + rows, ..]).to_owned();
    Ok((values, fd[..rows].to_vec(), start))
}

/// The quantile class $\lfloor k\,(r-1)/n \rfloor$ of average rank `r`
/// among `n`, in `0..k`.
pub(crate) fn quantile_of(rank: f64, n: usize, k: usize) -> usize {
    (((rank - 1.0) * k as f64 / n as f64).floor() as usize).min(k - 1)
}

/// The quantile class of each forward return among the assets with one on
/// its date; `None` where the return is missing, and on a date with fewer
/// returns than classes.
pub(crate) fn quantile_classes(
    values: ArrayView2<'_, f64>,
    dates: &[NaiveDate],
    k: usize,
) -> Result<Array2<Option<usize>>> {
    let (t, n) = values.dim();
    if k < 2 {
        return Err(Error::param(Param::Classes, format!("must be ≥ 2, got {k}")));
    }
    if n < k {
        return Err(Error::param(Param::Classes, format!("{k} classes need at least {k} assets, got {n}")));
    }
    let mut out = Array2::from_elem((t, n), None);
    for d in 0..t {
        let idx: Vec<usize> = (0..n).filter(|&i| values[[d, i]].is_finite()).collect();
        if idx.len() < k {
            continue;
        }
        let row: Vec<f64> = idx.iter().map(|&i| values[[d, i]]).collect();
        if row.iter().all(|v| *v == row[0]) {
            return Err(Error::param(
                Param::ForwardReturns,
                format!("every asset has the same forward return on {}; there is no cross-section to rank", dates[d]),
            ));
        }
        for (&i, r) in idx.iter().zip(crate::stats::ranks(&row)) {
            out[[d, i]] = Some(quantile_of(r, idx.len(), k));
        }
    }
    Ok(out)
}

/// The classes when every target is known; a missing one is an error
/// naming the asset and date.
pub(crate) fn every_class(
    classes: Array2<Option<usize>>,
    dates: &[NaiveDate],
    assets: &[String],
) -> Result<Array2<usize>> {
    if let Some(((d, i), _)) = classes.indexed_iter().find(|(_, c)| c.is_none()) {
        return Err(Error::InvalidValue {
            asset: assets[i].clone(),
            date: dates[d],
            value: f64::NAN,
            reason: "no forward return to class (the asset is not in the universe then); start the panel later".into(),
        });
    }
    Ok(classes.mapv(|c| c.unwrap_or(0)))
}
