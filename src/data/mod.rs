//! Price and return panels: loading, conversion, slicing, resampling,
//! splitting, bundled real datasets and a synthetic market generator.
//!
//! A panel is a date column plus one `f64` column per asset. [`Prices`]
//! holds price levels $P_{t,i} > 0$; [`Returns`] holds per-period returns of
//! one [`ReturnKind`]:
//!
//! * simple $R_{t} = P_{t}/P_{t-1} - 1$,
//! * log $r_{t} = \ln(P_{t}/P_{t-1}) = \ln(1 + R_{t})$.
//!
//! Resampling keeps the last price of each calendar period; for returns it
//! compounds within the period ($\prod(1+R) - 1$, or $\sum r$ for log
//! returns), so resampling prices then taking returns equals taking returns
//! then resampling them.
//!
//! Loading goes through [`Load`] (CSV path, bytes or polars `DataFrame`)
//! with an explicit [`Missing`] policy; bundled sets are in [`datasets`];
//! synthetic markets with planted signals come from [`Synthetic`].

mod clean;
pub mod datasets;
mod io;
mod panel;
mod show;
#[cfg(feature = "sources")]
pub mod sources;
mod summary;
pub mod synthetic;

use crate::parameter::Data as Param;
use crate::parameter::Parameter;
use std::ops::Deref;

use chrono::NaiveDate;
use ndarray::{Array1, Array2};

pub use clean::Missing;
pub use io::Load;
pub(crate) use io::{read_columns, write_columns, ResultColumn};
pub(crate) use panel::require_complete;
pub use panel::{Frequency, Panel, Split};
pub use summary::{AssetStats, Summary};
pub use synthetic::{Innovations, Lifecycle, Regimes, Signal, Synthetic, SyntheticMarket, SyntheticParams};

use crate::error::{Error, Result};

/// How returns are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnKind {
    /// $R_t = P_t / P_{t-1} - 1$.
    Simple,
    /// $r_t = \ln(P_t / P_{t-1})$.
    Log,
}

/// A panel of prices (dates × assets, all > 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Prices(Panel);

/// A panel of traded volumes in currency (dates × assets, all ≥ 0; `NaN`
/// where the asset is not in the universe). The market-impact cost divides
/// by them ([`crate::market::Impact`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Volumes(Panel);

impl Deref for Volumes {
    type Target = Panel;
    fn deref(&self) -> &Panel {
        &self.0
    }
}

impl Volumes {
    pub(crate) fn from_panel(panel: Panel) -> Self {
        Volumes(panel)
    }

    /// Builds volumes from dates, names and a dates × assets array, checking
    /// that every value is finite and ≥ 0 (or `NaN`: not in the universe).
    pub fn new(dates: Vec<NaiveDate>, assets: Vec<String>, values: Array2<f64>) -> Result<Self> {
        Ok(Volumes(clean::from_array(dates, assets, values, clean::ValueKind::Volumes)?))
    }

    /// The underlying panel.
    pub fn panel(&self) -> &Panel {
        &self.0
    }
}

/// A panel of per-period returns of one [`ReturnKind`].
#[derive(Debug, Clone, PartialEq)]
pub struct Returns {
    panel: Panel,
    kind: ReturnKind,
}

impl Deref for Prices {
    type Target = Panel;
    fn deref(&self) -> &Panel {
        &self.0
    }
}

impl Deref for Returns {
    type Target = Panel;
    fn deref(&self) -> &Panel {
        &self.panel
    }
}

/// Methods that keep the panel's type: slicing, selecting, splitting.
macro_rules! same_type_ops {
    ($t:ty, $wrap:expr) => {
        impl $t {
            /// Dates from `from` to `to`, both inclusive; each end a
            /// [`NaiveDate`], a `"YYYY-MM-DD"` string, or `None` / `""` for
            /// an open end.
            pub fn between(&self, from: impl DateBound, to: impl DateBound) -> Result<Self> {
                Ok($wrap(self, self.panel().between(from, to)?))
            }

            /// The named assets, in that order.
            pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<Self> {
                Ok($wrap(self, self.panel().select(names)?))
            }

            /// The first `n` dates (all when `n` exceeds the length; `n` ≥ 1).
            pub fn head(&self, n: usize) -> Result<Self> {
                Ok($wrap(self, self.panel().head(n)?))
            }

            /// The last `n` dates (all when `n` exceeds the length; `n` ≥ 1).
            pub fn tail(&self, n: usize) -> Result<Self> {
                Ok($wrap(self, self.panel().tail(n)?))
            }

            /// Train/test split in time: the test part starts strictly after
            /// the training part.
            pub fn split(&self, at: Split) -> Result<(Self, Self)> {
                let (a, b) = self.panel().split(at)?;
                Ok(($wrap(self, a), $wrap(self, b)))
            }

            /// Overrides the annualisation factor (observations per year).
            pub fn with_periods_per_year(&self, periods: f64) -> Result<Self> {
                Ok($wrap(self, self.panel().clone().with_periods_per_year(periods)?))
            }

            /// Writes the panel as CSV (creating missing folders): a `date`
            /// column (`YYYY-MM-DD`) and one column per asset, at full
            /// precision; [`Load::csv`] reads it back unchanged.
            pub fn to_csv(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
                io::write_csv(self.panel(), path.as_ref())
            }

            /// Writes the panel as Parquet (feature `parquet`; creating
            /// missing folders): a `date` column of dates and one `f64`
            /// column per asset, Snappy-compressed; [`Load::parquet`] reads it
            /// back unchanged.
            #[cfg(feature = "parquet")]
            pub fn to_parquet(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
                io::write_parquet(self.panel(), path.as_ref())
            }

            /// The panel as a polars `DataFrame` (`date` column + one per asset).
            pub fn to_dataframe(&self) -> Result<polars::prelude::DataFrame> {
                io::to_dataframe(self.panel())
            }
        }
    };
}

same_type_ops!(Prices, |_: &Prices, p| Prices(p));
same_type_ops!(Returns, |r: &Returns, p| Returns { panel: p, kind: r.kind });
same_type_ops!(Volumes, |_: &Volumes, p| Volumes(p));

/// One end of a date range: a [`NaiveDate`], a `"YYYY-MM-DD"` string
/// (`""` for an open end), or an `Option<NaiveDate>` (`None` for an open end).
pub trait DateBound {
    /// The date, `None` for an open end; `name` names the bound in errors.
    fn bound(self, name: Parameter) -> Result<Option<NaiveDate>>;
}

impl DateBound for NaiveDate {
    fn bound(self, _: Parameter) -> Result<Option<NaiveDate>> {
        Ok(Some(self))
    }
}

impl DateBound for Option<NaiveDate> {
    fn bound(self, _: Parameter) -> Result<Option<NaiveDate>> {
        Ok(self)
    }
}

impl DateBound for &str {
    fn bound(self, name: Parameter) -> Result<Option<NaiveDate>> {
        if self.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(self, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Error::param(name, format!("must be a date like 2020-01-31, got {self:?}")))
    }
}

impl DateBound for &String {
    fn bound(self, name: Parameter) -> Result<Option<NaiveDate>> {
        self.as_str().bound(name)
    }
}

impl Prices {
    pub(crate) fn from_panel(panel: Panel) -> Self {
        Prices(panel)
    }

    /// Builds prices from dates, names and a dates × assets array, checking
    /// that every value is a finite positive price (or `NaN`: not in the universe).
    pub fn new(dates: Vec<NaiveDate>, assets: Vec<String>, values: Array2<f64>) -> Result<Self> {
        Ok(Prices(clean::from_array(dates, assets, values, clean::ValueKind::Prices)?))
    }

    /// Reads a price CSV with default options (see [`Load`]).
    pub fn read_csv(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Load::csv(path).prices()
    }

    /// The underlying panel.
    pub fn panel(&self) -> &Panel {
        &self.0
    }

    /// Returns of the given kind; one row fewer, dated at the end of each
    /// period. An asset's return is `NaN` until it has two prices.
    pub fn returns(&self, kind: ReturnKind) -> Result<Returns> {
        let v = self.0.values();
        let t = v.nrows();
        if t < 2 {
            return Err(Error::TooFewRows { operation: "computing returns".into(), needed: 2, got: t });
        }
        let ratio = &v.slice(ndarray::s![1.., ..]) / &v.slice(ndarray::s![..t - 1, ..]);
        let values = match kind {
            ReturnKind::Simple => ratio.mapv(|x| x - 1.0),
            ReturnKind::Log => ratio.mapv(f64::ln),
        };
        // A price move too large for a finite return (or, for simple
        // returns, a fall that rounds to exactly −100 %) would turn into a
        // total loss or an infinity downstream; missing prices stay NaN.
        let bad = values
            .indexed_iter()
            .find(|(_, r)| !r.is_nan() && !(r.is_finite() && (kind == ReturnKind::Log || **r > -1.0)));
        if let Some(((i, j), r)) = bad {
            return Err(Error::InvalidValue {
                asset: self.assets()[j].clone(),
                date: self.dates()[i + 1],
                value: *r,
                reason: format!(
                    "the price moves from {} to {}, a ratio no finite {kind:?} return can represent",
                    v[[i, j]],
                    v[[i + 1, j]]
                ),
            });
        }
        let panel = Panel::from_parts(self.dates()[1..].to_vec(), self.assets().to_vec(), values);
        let panel = panel.with_periods_per_year(self.periods_per_year())?;
        Ok(Returns { panel, kind })
    }

    /// Prices divided by each asset's first price, times `base` (e.g. 100;
    /// it must be a positive price).
    pub fn normalized(&self, base: f64) -> Result<Prices> {
        if !(base.is_finite() && base > 0.0) {
            return Err(Error::param(Param::Base, format!("must be a positive price, got {base}")));
        }
        Ok(self.rebased(base))
    }

    /// [`normalized`](Self::normalized) for a base known to be positive.
    pub(crate) fn rebased(&self, base: f64) -> Prices {
        let mut v = self.0.values().to_owned();
        for mut col in v.columns_mut() {
            let first = col.iter().copied().find(|x| !x.is_nan()).unwrap_or(f64::NAN);
            col.mapv_inplace(|x| base * x / first);
        }
        Prices(self.0.with_values(v))
    }

    /// Last price of each calendar period.
    pub fn resample(&self, freq: Frequency) -> Prices {
        let ends = self.0.period_ends(freq);
        let p = self.0.take_rows(&ends);
        Prices(Panel::from_parts(p.dates().to_vec(), p.assets().to_vec(), p.values().to_owned()))
    }

    /// Per-asset annualised statistics (mean, volatility, Sharpe with a zero
    /// risk-free rate, CAGR, skew, excess kurtosis, maximum drawdown).
    pub fn summary(&self) -> Result<Summary> {
        let r = self.returns(ReturnKind::Simple)?;
        Ok(Summary::compute(&r, Some(self)))
    }
}

impl Returns {
    pub(crate) fn from_panel(panel: Panel, kind: ReturnKind) -> Self {
        Returns { panel, kind }
    }

    /// Builds returns from dates, names and a dates × assets array; checks
    /// values as [`Load`] does (finite; simple returns > −1).
    pub fn new(dates: Vec<NaiveDate>, assets: Vec<String>, values: Array2<f64>, kind: ReturnKind) -> Result<Self> {
        let panel = clean::from_array(dates, assets, values, clean::ValueKind::Returns(kind))?;
        Ok(Returns { panel, kind })
    }

    /// Reads a returns CSV of the given kind with default options.
    pub fn read_csv(path: impl AsRef<std::path::Path>, kind: ReturnKind) -> Result<Self> {
        Load::csv(path).returns(kind)
    }

    /// The underlying panel.
    pub fn panel(&self) -> &Panel {
        &self.panel
    }

    /// The kind of these returns.
    pub fn kind(&self) -> ReturnKind {
        self.kind
    }

    /// The same returns measured as `kind`.
    pub fn to_kind(&self, kind: ReturnKind) -> Returns {
        let v = self.panel.values();
        let values = match (self.kind, kind) {
            (a, b) if a == b => v.to_owned(),
            (ReturnKind::Simple, ReturnKind::Log) => v.mapv(f64::ln_1p),
            (ReturnKind::Log, ReturnKind::Simple) => v.mapv(f64::exp_m1),
            _ => v.to_owned(),
        };
        Returns { panel: self.panel.with_values(values), kind }
    }

    /// These returns as simple returns: borrowed when they are, converted
    /// once when they are log returns.
    pub(crate) fn as_simple(&self) -> std::borrow::Cow<'_, Returns> {
        match self.kind {
            ReturnKind::Simple => std::borrow::Cow::Borrowed(self),
            ReturnKind::Log => std::borrow::Cow::Owned(self.to_kind(ReturnKind::Simple)),
        }
    }

    /// The returns on a Monday-to-Friday calendar from the first date to the
    /// last: a weekday without a row (a market holiday) gets a zero return
    /// in every asset, as in data sets that carry the last price through
    /// holidays. Rows already present, weekend ones included, are kept.
    pub fn on_weekdays(&self) -> Result<Returns> {
        use chrono::{Datelike, Weekday};
        let (dates, v) = (self.dates(), self.values());
        let mut out_dates = Vec::with_capacity(dates.len());
        let mut rows: Vec<Option<usize>> = Vec::with_capacity(dates.len());
        let (mut k, mut day) = (0, self.start());
        while day <= self.end() {
            if k < dates.len() && dates[k] == day {
                out_dates.push(day);
                rows.push(Some(k));
                k += 1;
            } else if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                out_dates.push(day);
                rows.push(None);
            }
            day = day.succ_opt().ok_or_else(|| Error::param(Param::Dates, format!("no day follows {day}")))?;
        }
        let mut values = Array2::<f64>::zeros((out_dates.len(), self.n_assets()));
        for (i, row) in rows.iter().enumerate() {
            if let Some(k) = row {
                values.row_mut(i).assign(&v.row(*k));
            }
        }
        let panel = Panel::from_parts(out_dates, self.assets().to_vec(), values);
        Ok(Returns { panel, kind: self.kind })
    }

    /// Simple returns as a dates × assets array (converted if needed).
    pub fn simple(&self) -> Array2<f64> {
        self.to_kind(ReturnKind::Simple).panel.values().to_owned()
    }

    /// Compounds the returns into prices that start from `base`:
    /// $P_t = \text{base}\cdot\prod_{s \le t}(1 + R_s)$, dated like the
    /// returns (so `prices.returns(k)?.to_prices(p0)` gives back
    /// `prices` without its first row when `p0` is the first price).
    /// An asset's prices are `NaN` until its first return.
    pub fn to_prices(&self, base: f64) -> Result<Prices> {
        if !(base.is_finite() && base > 0.0) {
            return Err(Error::param(Param::Base, format!("must be a positive price, got {base}")));
        }
        let log = self.to_kind(ReturnKind::Log);
        let mut v = log.panel.values().to_owned();
        for mut col in v.columns_mut() {
            let mut acc = base.ln();
            for x in col.iter_mut() {
                if x.is_nan() {
                    continue;
                }
                acc += *x;
                *x = acc.exp();
            }
        }
        Ok(Prices(self.panel.with_values(v)))
    }

    /// Compounds returns within each calendar period.
    pub fn resample(&self, freq: Frequency) -> Returns {
        let ends = self.panel.period_ends(freq);
        let log = self.to_kind(ReturnKind::Log);
        let lv = log.panel.values();
        let mut out = Array2::<f64>::zeros((ends.len(), self.n_assets()));
        let mut start = 0;
        for (k, &end) in ends.iter().enumerate() {
            for j in 0..self.n_assets() {
                let seg = lv.slice(ndarray::s![start..=end, j]);
                // NaN only while the asset has not started in the whole period.
                let vals: Vec<f64> = seg.iter().copied().filter(|x| !x.is_nan()).collect();
                out[[k, j]] = if vals.is_empty() { f64::NAN } else { vals.iter().sum() };
            }
            start = end + 1;
        }
        let values = match self.kind {
            ReturnKind::Log => out,
            ReturnKind::Simple => out.mapv(f64::exp_m1),
        };
        let dates = ends.iter().map(|&i| self.dates()[i]).collect();
        Returns { panel: Panel::from_parts(dates, self.assets().to_vec(), values), kind: self.kind }
    }

    /// Per-asset annualised statistics (see [`Prices::summary`]).
    pub fn summary(&self) -> Summary {
        Summary::compute(self, None)
    }

    /// Pearson correlation matrix (pairwise over dates where both assets
    /// have a value). An asset without variance has no correlation: its
    /// off-diagonal entries are NaN (shown as empty cells and gaps in the
    /// heatmap), its diagonal 1. Estimators and clustering that need a
    /// correlation refuse such an asset by name instead.
    pub fn correlation(&self) -> Array2<f64> {
        let v = self.panel.values();
        let n = self.n_assets();
        let cols: Vec<Vec<f64>> = (0..n).map(|j| v.column(j).to_vec()).collect();
        let mut c = Array2::<f64>::eye(n);
        for i in 0..n {
            for j in 0..i {
                let r = crate::stats::correlation(&cols[i], &cols[j]);
                c[[i, j]] = r;
                c[[j, i]] = r;
            }
        }
        c
    }

    /// Mean return per asset (per period).
    pub fn mean(&self) -> Array1<f64> {
        let v = self.panel.values();
        (0..self.n_assets()).map(|j| crate::stats::mean(&v.column(j).to_vec())).collect()
    }
}
