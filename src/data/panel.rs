//! The date × asset panel behind [`Prices`] and [`Returns`].

use crate::parameter::Data as Param;
use chrono::{Datelike, NaiveDate};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use crate::error::{Error, Result};

/// A dense panel: strictly increasing dates (rows) × named assets (columns).
///
/// `NaN` marks "no observation": before an asset's first observation when
/// a panel was loaded with [`Missing::KeepStart`](super::Missing::KeepStart),
/// and wherever the asset is not in the universe (before listing, after
/// delisting, suspended) with [`Missing::Universe`](super::Missing::Universe).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    dates: Vec<NaiveDate>,
    assets: Vec<String>,
    values: Array2<f64>,
    periods_per_year: f64,
}

impl Panel {
    /// Builds a panel, checking shapes, date order and unique asset names.
    /// The sampling frequency (periods per year) is inferred from the dates.
    pub fn new(dates: Vec<NaiveDate>, assets: Vec<String>, values: Array2<f64>) -> Result<Self> {
        check_shape(&values, dates.len(), assets.len())?;
        if assets.is_empty() {
            return Err(Error::param(Param::Assets, "must not be empty, got 0 columns"));
        }
        if dates.is_empty() {
            return Err(Error::TooFewRows { operation: "a panel".into(), needed: 1, got: 0 });
        }
        Error::unique(Param::Assets, &assets)?;
        if let Some(i) = assets.iter().position(|a| a.trim().is_empty()) {
            return Err(Error::param(Param::Assets, format!("need a name each; column {i} (from 0) has none")));
        }
        for (i, w) in dates.windows(2).enumerate() {
            if w[1] <= w[0] {
                return Err(if w[1] == w[0] {
                    Error::DuplicateDate { date: w[0], first: i, second: i + 1 }
                } else {
                    Error::param(Param::Dates, format!("must increase, {} follows {}", w[1], w[0]))
                });
            }
        }
        let periods_per_year = infer_periods_per_year(&dates);
        Ok(Panel { dates, assets, values, periods_per_year })
    }

    /// The dates (rows), strictly increasing.
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// The asset names (columns).
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// The values, dates × assets.
    pub fn values(&self) -> ArrayView2<'_, f64> {
        self.values.view()
    }

    /// Number of dates.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether the panel has no dates (never true for a constructed panel).
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// Number of assets.
    pub fn n_assets(&self) -> usize {
        self.assets.len()
    }

    /// First date.
    pub fn start(&self) -> NaiveDate {
        self.dates[0]
    }

    /// Last date.
    pub fn end(&self) -> NaiveDate {
        self.dates[self.dates.len() - 1]
    }

    /// Observations per year used to annualise: inferred from the median
    /// spacing of dates (252 daily, 52 weekly, 12 monthly, 4 quarterly,
    /// 1 yearly) unless set with [`with_periods_per_year`](Self::with_periods_per_year).
    pub fn periods_per_year(&self) -> f64 {
        self.periods_per_year
    }

    /// Overrides the annualisation factor.
    pub fn with_periods_per_year(mut self, periods: f64) -> Result<Self> {
        Error::positive(Param::PeriodsPerYear, periods)?;
        self.periods_per_year = periods;
        Ok(self)
    }

    /// Position of an asset.
    pub fn asset_index(&self, name: &str) -> Result<usize> {
        self.assets
            .iter()
            .position(|a| a == name)
            .ok_or_else(|| Error::UnknownAsset { name: name.to_string(), available: self.assets.clone() })
    }

    /// One asset's column.
    pub fn column(&self, name: &str) -> Result<ArrayView1<'_, f64>> {
        let j = self.asset_index(name)?;
        Ok(self.values.column(j))
    }

    /// The panel restricted to `from ..= to` (either end may be open: see
    /// [`DateBound`](super::DateBound)).
    pub fn between(&self, from: impl super::DateBound, to: impl super::DateBound) -> Result<Panel> {
        let (from, to) = (from.bound(Param::From.into())?, to.bound(Param::To.into())?);
        let lo = from.map_or(0, |d| self.dates.partition_point(|x| *x < d));
        let hi = to.map_or(self.len(), |d| self.dates.partition_point(|x| *x <= d));
        if lo >= hi {
            return Err(Error::param(
                Param::Between,
                format!(
                    "{} ..= {} holds no dates; the panel spans {} ..= {}",
                    from.map_or("start".into(), |d| d.to_string()),
                    to.map_or("end".into(), |d| d.to_string()),
                    self.start(),
                    self.end()
                ),
            ));
        }
        Ok(self.rows(lo, hi))
    }

    /// Rows `lo..hi` (must be non-empty and in range).
    pub(crate) fn rows(&self, lo: usize, hi: usize) -> Panel {
        Panel {
            dates: self.dates[lo..hi].to_vec(),
            assets: self.assets.clone(),
            values: self.values.slice(ndarray::s![lo..hi, ..]).to_owned(),
            periods_per_year: self.periods_per_year,
        }
    }

    /// Rows at the given positions (sorted, in range, non-empty).
    pub(crate) fn take_rows(&self, idx: &[usize]) -> Panel {
        Panel {
            dates: idx.iter().map(|&i| self.dates[i]).collect(),
            assets: self.assets.clone(),
            values: crate::linalg::take_rows(self.values.view(), idx),
            periods_per_year: self.periods_per_year,
        }
    }

    /// The given assets, in the given order.
    pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<Panel> {
        if names.is_empty() {
            return Err(Error::param(Param::Assets, "must name at least one asset, got none"));
        }
        let idx = names.iter().map(|n| self.asset_index(n.as_ref())).collect::<Result<Vec<_>>>()?;
        Panel::new(
            self.dates.clone(),
            names.iter().map(|n| n.as_ref().to_string()).collect(),
            self.values.select(Axis(1), &idx),
        )
        .map(|p| Panel { periods_per_year: self.periods_per_year, ..p })
    }

    /// The first `n` dates (all when `n` exceeds the length); `n` must be
    /// ≥ 1, since a panel holds at least one date.
    pub fn head(&self, n: usize) -> Result<Panel> {
        Ok(self.rows(0, rows_asked(n)?.min(self.len())))
    }

    /// The last `n` dates (all when `n` exceeds the length); `n` must be ≥ 1.
    pub fn tail(&self, n: usize) -> Result<Panel> {
        Ok(self.rows(self.len() - rows_asked(n)?.min(self.len()), self.len()))
    }

    /// Splits into a training part and a test part that starts strictly
    /// after it. Both parts must hold at least one date.
    pub fn split(&self, at: Split) -> Result<(Panel, Panel)> {
        let cut = match at {
            Split::Fraction(f) => {
                if !(f > 0.0 && f < 1.0) {
                    return Err(Error::param(Param::Split, format!("Fraction(f) needs f in (0, 1), got {f}")));
                }
                (f * self.len() as f64).round() as usize
            }
            // Training includes the date itself.
            Split::AfterDate(d) => self.dates.partition_point(|x| *x <= d),
        };
        if cut == 0 || cut >= self.len() {
            return Err(Error::param(
                Param::Split,
                format!(
                    "{at:?} leaves one side empty: {cut} of {} dates ({} ..= {}) fall before the cut",
                    self.len(),
                    self.start(),
                    self.end()
                ),
            ));
        }
        Ok((self.rows(0, cut), self.rows(cut, self.len())))
    }

    /// Index of the last row of each period (the row kept when resampling).
    pub(crate) fn period_ends(&self, freq: Frequency) -> Vec<usize> {
        let key = |d: &NaiveDate| -> (i32, u32) {
            match freq {
                Frequency::Weekly => {
                    let w = d.iso_week();
                    (w.year(), w.week())
                }
                Frequency::Monthly => (d.year(), d.month()),
                Frequency::Quarterly => (d.year(), (d.month() - 1) / 3),
                Frequency::Yearly => (d.year(), 0),
            }
        };
        let mut ends = Vec::new();
        for i in 0..self.len() {
            if i + 1 == self.len() || key(&self.dates[i]) != key(&self.dates[i + 1]) {
                ends.push(i);
            }
        }
        ends
    }

    /// Replaces the values (same shape), keeping dates, names and frequency.
    pub(crate) fn with_values(&self, values: Array2<f64>) -> Panel {
        debug_assert_eq!(values.dim(), self.values.dim());
        Panel { values, ..self.clone() }
    }

    /// A panel from parts already known to be consistent (dates strictly
    /// increasing, shapes matching); the frequency is inferred anew.
    pub(crate) fn from_parts(dates: Vec<NaiveDate>, assets: Vec<String>, values: Array2<f64>) -> Panel {
        let periods_per_year = infer_periods_per_year(&dates);
        Panel { dates, assets, values, periods_per_year }
    }
}

/// Errors unless `values` is `dates` × `assets`.
pub(crate) fn check_shape(values: &Array2<f64>, dates: usize, assets: usize) -> Result<()> {
    if values.nrows() != dates || values.ncols() != assets {
        return Err(Error::Shape(format!(
            "values are {}×{} but there are {dates} dates and {assets} assets",
            values.nrows(),
            values.ncols()
        )));
    }
    Ok(())
}

/// Errors unless every value of the `dates` × `assets` matrix is finite,
/// naming the asset with the earliest gap, its date, how many values that
/// asset lacks, and `hint` (what the caller needs and how to get there).
pub(crate) fn require_complete(
    values: ArrayView2<'_, f64>,
    dates: &[NaiveDate],
    assets: &[String],
    hint: &str,
) -> Result<()> {
    // The common case, every value finite, in one branch-free pass over
    // contiguous memory; the gap is looked up only when there is one.
    let finite = |s: &[f64]| s.chunks(256).all(|c| c.iter().fold(true, |ok, v| ok & v.is_finite()));
    if values.as_slice_memory_order().map_or_else(|| values.iter().all(|v| v.is_finite()), finite) {
        return Ok(());
    }
    if let Some(((i, j), _)) = values.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::MissingValues {
            asset: assets[j].clone(),
            count: values.column(j).iter().filter(|v| !v.is_finite()).count(),
            first: dates[i],
            hint: hint.into(),
        });
    }
    Ok(())
}

/// Where to split a panel into train and test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Split {
    /// The first `round(f · n)` dates train, the rest test; `0 < f < 1`.
    Fraction(f64),
    /// Dates up to and including this one train, later dates test.
    AfterDate(NaiveDate),
}

/// Calendar periods for resampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// ISO weeks (Monday to Sunday).
    Weekly,
    /// Calendar months.
    Monthly,
    /// Calendar quarters.
    Quarterly,
    /// Calendar years.
    Yearly,
}

/// Annualisation factor from the median spacing of dates, in calendar days.
fn infer_periods_per_year(dates: &[NaiveDate]) -> f64 {
    if dates.len() < 2 {
        return 252.0;
    }
    let gaps: Vec<f64> = dates.windows(2).map(|w| (w[1] - w[0]).num_days() as f64).collect();
    match crate::stats::median(&gaps) {
        g if g <= 4.0 => 252.0,
        g if g <= 10.0 => 52.0,
        g if g <= 45.0 => 12.0,
        g if g <= 120.0 => 4.0,
        _ => 1.0,
    }
}

/// A number of rows to keep: at least one, since a panel is never empty.
fn rows_asked(n: usize) -> Result<usize> {
    if n == 0 {
        return Err(Error::param(Param::Rows, "must be ≥ 1 (a panel holds at least one date), got 0"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn frequency_is_inferred_from_spacing() {
        let daily: Vec<_> = (0..10).map(|i| d(2020, 1, 6) + chrono::Days::new(i)).collect();
        assert_eq!(infer_periods_per_year(&daily), 252.0);
        let monthly: Vec<_> = (1..=12).map(|m| d(2020, m, 1)).collect();
        assert_eq!(infer_periods_per_year(&monthly), 12.0);
    }

    #[test]
    fn rejects_unsorted_and_duplicate_dates() {
        let v = Array2::zeros((2, 1));
        let e = Panel::new(vec![d(2020, 1, 2), d(2020, 1, 2)], vec!["a".into()], v.clone());
        assert!(matches!(e, Err(Error::DuplicateDate { .. })));
        let e = Panel::new(vec![d(2020, 1, 3), d(2020, 1, 2)], vec!["a".into()], v);
        assert!(matches!(e, Err(Error::InvalidParameter { .. })));
    }
}
