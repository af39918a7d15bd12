//! Prices, volumes and a cash rate from data providers, cached per symbol
//! in Parquet files that only grow (feature `sources`).
//!
//! A [`DataSource`] turns a symbol into a [`History`]: dates and named
//! fields. Two are provided:
//!
//! * [`Yahoo`]: Yahoo Finance's chart API (JSON): `open`, `high`, `low`,
//!   `close` (as traded), `volume` (shares) and `return`, the total return
//!   $R_t = A_t / A_{t-1} - 1$ from the adjusted close $A$ (dividends and
//!   splits included).
//! * [`Fred`]: a FRED series as CSV (`value`), e.g. `DFF`, the effective
//!   federal funds rate in percent a year.
//!
//! [`Fetch`] gets several symbols through a [`Transport`] ([`Http`] by
//! default) and, with [`FetchParams::cache`], keeps one Parquet file per
//! provider and symbol. The first fetch of a symbol downloads its whole
//! history; later fetches ask only for the rows from the last
//! [`overlap`](FetchParams::overlap) cached dates on. Cached rows older than
//! that are never rewritten: a total return is a ratio within one
//! download, so a dividend paid later (which rescales the provider's whole
//! adjusted series) does not touch them. The overlap rows are replaced by
//! the provider's newer values (a day's last bar is revised after the
//! close), and [`Update::revised`] counts the rows that changed.
//!
//! [`Fetched`] assembles the panels the rest of the crate speaks:
//!
//! * [`Fetched::prices`]: adjusted prices $P_T = C_T$, $P_{t-1} = P_t / (1 + R_t)$,
//!   so the last price is the last traded close, as the provider's
//!   adjusted close is;
//! * [`Fetched::volumes`]: traded value $C_t \cdot V_t$ in currency (what
//!   [`crate::market::Impact`] divides by);
//! * [`Fetched::cash_returns`]: per-period returns of cash on a panel's
//!   dates from an annual rate in percent, $(1 + y/100)^{1/p} - 1$ with the
//!   rate known at the previous date (no lookahead).
//!
//! The network is the user's: requests go from the user's machine to the
//! providers' public endpoints under their terms. Tests run offline, on
//! bodies in the providers' formats written by the project, through a fake
//! transport and a local HTTP server.

mod cache;
mod fred;
mod transport;
mod yahoo;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;

use super::clean::{self, Missing, RawTable, ValueKind};
use super::{Panel, Prices, ReturnKind, Returns, Volumes};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::parameter::Data as Param;

pub use cache::Corrupt;
pub use fred::Fred;
pub use transport::{Http, Reply, Transport};
pub use yahoo::Yahoo;

/// One symbol's rows as a source delivers them: strictly increasing dates
/// and one `f64` column per field (`NaN` where the provider had no value).
/// Two histories are equal when they hold the same symbol, dates, fields
/// and values, `NaN` in the same places.
#[derive(Debug, Clone)]
pub struct History {
    symbol: String,
    dates: Vec<NaiveDate>,
    fields: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl History {
    /// Checks that every column has one value per date and that the dates
    /// strictly increase.
    pub fn new(
        symbol: impl Into<String>,
        dates: Vec<NaiveDate>,
        fields: Vec<String>,
        columns: Vec<Vec<f64>>,
    ) -> Result<Self> {
        let symbol = symbol.into();
        if fields.len() != columns.len() {
            return Err(Error::Shape(format!(
                "{symbol:?}: {} field names for {} columns",
                fields.len(),
                columns.len()
            )));
        }
        if let Some((f, c)) = fields.iter().zip(&columns).find(|(_, c)| c.len() != dates.len()) {
            return Err(Error::Shape(format!(
                "{symbol:?}: field {f:?} has {} values for {} dates",
                c.len(),
                dates.len()
            )));
        }
        if let Some(w) = dates.windows(2).find(|w| w[1] <= w[0]) {
            return Err(Error::param(
                Param::Dates,
                format!("of {symbol:?} must strictly increase, got {} then {}", w[0], w[1]),
            ));
        }
        Ok(History { symbol, dates, fields, columns })
    }

    /// The symbol.
    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    /// The dates, ascending.
    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    /// The field names, in column order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// One field's values, or `None` when the source does not provide it.
    pub fn field(&self, name: &str) -> Option<&[f64]> {
        self.fields.iter().position(|f| f == name).map(|j| self.columns[j].as_slice())
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.dates.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
    }

    /// The rows dated on or before `until`.
    fn until(mut self, until: Option<NaiveDate>) -> Self {
        if let Some(u) = until {
            let keep = self.dates.partition_point(|d| *d <= u);
            self.dates.truncate(keep);
            self.columns.iter_mut().for_each(|c| c.truncate(keep));
        }
        self
    }

    fn require(&self, field: &str, provider: &str, what: &str) -> Result<&[f64]> {
        self.field(field).ok_or_else(|| Error::Fetch {
            provider: provider.to_string(),
            symbol: self.symbol.clone(),
            reason: format!("{what} need the field {field:?}; this source provides {:?}", self.fields),
        })
    }
}

impl PartialEq for History {
    fn eq(&self, other: &Self) -> bool {
        let same = |a: &Vec<f64>, b: &Vec<f64>| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
        };
        self.symbol == other.symbol
            && self.dates == other.dates
            && self.fields == other.fields
            && self.columns.len() == other.columns.len()
            && self.columns.iter().zip(&other.columns).all(|(a, b)| same(a, b))
    }
}

/// A provider of daily histories.
///
/// `fetch` asks the provider, through `transport`, for the rows of
/// `symbol` dated on or after `from` (`None`: the whole history) and
/// returns them with exactly the fields [`fields`](Self::fields) names.
/// The fields the crate reads are `close`, `return` (a total return),
/// `volume` (shares) and `value` (a rate in percent a year).
pub trait DataSource: Send + Sync {
    /// A short name: the cache folder and the provider in errors.
    fn name(&self) -> &str;
    /// The fields of every history, in column order.
    fn fields(&self) -> Vec<String>;
    /// The rows of `symbol` from `from` on.
    fn fetch(&self, transport: &dyn Transport, symbol: &str, from: Option<NaiveDate>) -> Result<History>;
}

/// Fetches histories from a [`DataSource`], optionally through a cache.
///
/// ```no_run
/// use assetalloc::prelude::*;
/// let fetch = Fetch::params().cache("cache");
/// let stocks = fetch.symbols(&Yahoo::new(), &["AAPL", "MSFT"])?;
/// let prices = stocks.prices(Missing::Universe)?;
/// let rate = fetch.symbols(&Fred::new(), &["DFF"])?;
/// let cash = rate.cash_returns(&prices)?;
/// # Ok::<(), assetalloc::Error>(())
/// ```
pub struct Fetch;

impl Fetch {
    /// The defaults: no cache, an overlap of 5 rows, online, the current
    /// history, [`Corrupt::Refetch`], the [`Http`] transport.
    pub fn params() -> FetchParams {
        FetchParams {
            cache: None,
            overlap: 5,
            offline: false,
            until: None,
            on_corrupt: Corrupt::Refetch,
            transport: Arc::new(Http::new()),
        }
    }
}

/// How [`Fetch`] gets histories; see [`Fetch::params`] for the defaults.
#[derive(Clone)]
pub struct FetchParams {
    cache: Option<PathBuf>,
    overlap: usize,
    offline: bool,
    until: Option<NaiveDate>,
    on_corrupt: Corrupt,
    transport: Arc<dyn Transport>,
}

impl FetchParams {
    /// Keeps one Parquet file per provider and symbol under `dir`
    /// (`dir/yahoo/AAPL.parquet`), created when missing.
    pub fn cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = Some(dir.into());
        self
    }

    /// How many of the last cached rows are fetched again (≥ 1, default 5),
    /// so late revisions of recent days reach the cache.
    pub fn overlap(mut self, rows: usize) -> Self {
        self.overlap = rows;
        self
    }

    /// Uses the cache only: no request is made, and a symbol that is not
    /// cached is an error.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Keeps rows up to `date`; when the cache already reaches it, no
    /// request is made.
    pub fn until(mut self, date: NaiveDate) -> Self {
        self.until = Some(date);
        self
    }

    /// What to do with a cache file that is unreadable or inconsistent
    /// (default [`Corrupt::Refetch`]).
    pub fn on_corrupt(mut self, policy: Corrupt) -> Self {
        self.on_corrupt = policy;
        self
    }

    /// Replaces the network (a proxy, another client, a test double).
    pub fn transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Arc::new(transport);
        self
    }

    /// The histories of `symbols` from `source`, one request per symbol at
    /// most, in the order given.
    pub fn symbols<S: AsRef<str>>(&self, source: &dyn DataSource, symbols: &[S]) -> Result<Fetched> {
        if self.overlap == 0 {
            return Err(Error::param(
                Param::Overlap,
                "must be ≥ 1 (the last cached row is always fetched again), got 0",
            ));
        }
        if symbols.is_empty() {
            return Err(Error::param(Param::Symbols, "must name at least one symbol, got none"));
        }
        for (second, s) in symbols.iter().enumerate() {
            let s = s.as_ref();
            if s.trim().is_empty() {
                return Err(Error::param(Param::Symbols, format!("must not be empty, got {s:?} at position {second}")));
            }
            if symbols[..second].iter().any(|f| f.as_ref() == s) {
                return Err(Error::param(Param::Symbols, format!("name {s:?} twice; name each symbol once")));
            }
        }
        let mut histories = Vec::with_capacity(symbols.len());
        let mut updates = Vec::with_capacity(symbols.len());
        for s in symbols {
            let (history, update) = cache::history(self, source, s.as_ref())?;
            histories.push(history.until(self.until));
            updates.push(update);
        }
        Ok(Fetched { provider: source.name().to_string(), histories, updates })
    }
}

/// What one symbol's fetch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The symbol.
    pub symbol: String,
    /// Rows read from the cache (0 without one).
    pub cached: usize,
    /// Rows the provider sent.
    pub fetched: usize,
    /// Rows dated after the cache's last date.
    pub appended: usize,
    /// Cached overlap rows whose values the provider changed.
    pub revised: usize,
    /// Requests made (0 when the cache sufficed).
    pub requests: usize,
    /// Why the cache file was discarded and the history fetched again.
    pub refetched: Option<String>,
}

/// Histories of several symbols from one provider, and the panels built
/// from them.
#[derive(Debug, Clone)]
pub struct Fetched {
    provider: String,
    histories: Vec<History>,
    updates: Vec<Update>,
}

impl Fetched {
    /// The histories, in the order the symbols were named.
    pub fn histories(&self) -> &[History] {
        &self.histories
    }

    /// One symbol's history.
    pub fn history(&self, symbol: &str) -> Result<&History> {
        self.histories.iter().find(|h| h.symbol == symbol).ok_or_else(|| Error::UnknownAsset {
            name: symbol.to_string(),
            available: self.histories.iter().map(|h| h.symbol.clone()).collect(),
        })
    }

    /// What each symbol's fetch did.
    pub fn updates(&self) -> &[Update] {
        &self.updates
    }

    /// Adjusted prices (from `close` and, where the source has it, the
    /// total `return`) on the union of the symbols' dates; a symbol's
    /// missing dates are handled by `missing` ([`Missing::Universe`] keeps
    /// them as dates outside its universe).
    pub fn prices(&self, missing: Missing) -> Result<Prices> {
        let columns = self
            .histories
            .iter()
            .map(|h| {
                let close = h.require("close", &self.provider, "prices")?;
                Ok(match h.field("return") {
                    Some(r) => adjusted(close, r),
                    None => close.to_vec(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Prices::from_panel(clean::build(self.aligned(columns), ValueKind::Prices, missing)?))
    }

    /// Traded value in currency, `close × volume`, on the union of the
    /// symbols' dates (`NaN` where a symbol has no row or no volume).
    pub fn volumes(&self) -> Result<Volumes> {
        let columns = self
            .histories
            .iter()
            .map(|h| {
                let close = h.require("close", &self.provider, "volumes")?;
                let volume = h.require("volume", &self.provider, "volumes")?;
                Ok(close.iter().zip(volume).map(|(c, v)| c * v).collect())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Volumes::from_panel(clean::build(self.aligned(columns), ValueKind::Volumes, Missing::Universe)?))
    }

    /// Simple returns of cash on `on`'s dates, one column per symbol, from
    /// an annual rate in percent (`value`): the return at date $t_k$ is
    /// $(1 + y/100)^{1/p} - 1$ with $y$ the last observation on or before
    /// $t_{k-1}$ (on or before $t_0$ for the first row) and $p$ the panel's
    /// periods per year. A date before a series' first observation is an
    /// error.
    pub fn cash_returns(&self, on: &Panel) -> Result<Returns> {
        let dates = on.dates();
        let p = on.periods_per_year();
        let mut columns = Vec::with_capacity(self.histories.len());
        for h in &self.histories {
            let rate = h.require("value", &self.provider, "cash returns")?;
            // The observations with a value, so a missing one carries the
            // previous rate forward.
            let known: Vec<(NaiveDate, f64)> =
                h.dates.iter().zip(rate).filter(|(_, v)| v.is_finite()).map(|(d, v)| (*d, *v)).collect();
            let mut column = Vec::with_capacity(dates.len());
            for k in 0..dates.len() {
                let at = dates[k.saturating_sub(1)];
                let i = known.partition_point(|(d, _)| *d <= at);
                if i == 0 {
                    return Err(Error::Fetch {
                        provider: self.provider.clone(),
                        symbol: h.symbol.clone(),
                        reason: format!(
                            "has no rate on or before {at} (its first is {}); start the panel later",
                            known.first().map_or("none".to_string(), |(d, _)| d.to_string())
                        ),
                    });
                }
                column.push((1.0 + known[i - 1].1 / 100.0).powf(1.0 / p) - 1.0);
            }
            columns.push(column);
        }
        let raw = RawTable {
            dates: dates.to_vec(),
            assets: self.histories.iter().map(|h| h.symbol.clone()).collect(),
            columns,
        };
        let panel =
            clean::build(raw, ValueKind::Returns(ReturnKind::Simple), Missing::Error)?.with_periods_per_year(p)?;
        Ok(Returns::from_panel(panel, ReturnKind::Simple))
    }

    /// Per-symbol `columns` (one value per row of its history) on the union
    /// of the histories' dates, `NaN` where a symbol has no row.
    fn aligned(&self, columns: Vec<Vec<f64>>) -> RawTable {
        let mut index: BTreeMap<NaiveDate, usize> = BTreeMap::new();
        for h in &self.histories {
            for d in &h.dates {
                index.insert(*d, 0);
            }
        }
        for (k, slot) in index.values_mut().enumerate() {
            *slot = k;
        }
        let out = columns
            .into_iter()
            .zip(&self.histories)
            .map(|(values, h)| {
                let mut full = vec![f64::NAN; index.len()];
                for (d, v) in h.dates.iter().zip(values) {
                    full[index[d]] = v;
                }
                full
            })
            .collect();
        RawTable {
            dates: index.into_keys().collect(),
            assets: self.histories.iter().map(|h| h.symbol.clone()).collect(),
            columns: out,
        }
    }

    /// The fetch report: per symbol, its rows and span, what came from the
    /// cache and from the provider.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "symbol", "rows", "first", "last", "cached", "fetched", "appended", "revised", "requests", "note",
        ])
        .caption(format!("{}: {} symbol(s)", self.provider, self.histories.len()));
        let date = |d: Option<&NaiveDate>| Cell::Text(d.map_or(String::new(), |d| d.to_string()));
        for (h, u) in self.histories.iter().zip(&self.updates) {
            t.push(vec![
                Cell::Text(h.symbol.clone()),
                Cell::Int(h.len() as i64),
                date(h.dates.first()),
                date(h.dates.last()),
                Cell::Int(u.cached as i64),
                Cell::Int(u.fetched as i64),
                Cell::Int(u.appended as i64),
                Cell::Int(u.revised as i64),
                Cell::Int(u.requests as i64),
                Cell::Text(u.refetched.as_ref().map_or(String::new(), |r| format!("cache discarded: {r}"))),
            ]);
        }
        t
    }
}

crate::shows_as_table!(Fetched);

/// Adjusted prices from closes and total returns: the last price is the
/// last close, and each earlier one divides by the next day's gross
/// return. Where a return is missing, the adjustment factor carries over.
fn adjusted(close: &[f64], returns: &[f64]) -> Vec<f64> {
    let n = close.len();
    let mut p = vec![f64::NAN; n];
    if n == 0 {
        return p;
    }
    p[n - 1] = close[n - 1];
    for t in (1..n).rev() {
        p[t - 1] = if returns[t].is_finite() { p[t] / (1.0 + returns[t]) } else { close[t - 1] * p[t] / close[t] };
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjusted_prices_end_at_the_last_close_and_keep_total_returns() {
        // A dividend of 1 paid on day 2: the close drops, the total return does not.
        let close = [10.0, 11.0, 10.5, 10.5];
        let r = [f64::NAN, 0.1, (10.5 + 1.0) / 11.0 - 1.0, 0.0];
        let p = adjusted(&close, &r);
        assert_eq!(p[3], 10.5);
        for t in 1..4 {
            assert!((p[t] / p[t - 1] - 1.0 - r[t]).abs() < 1e-15);
        }
        // A missing return keeps the factor: the ratio is the closes'.
        let p = adjusted(&[10.0, 12.0, 12.0], &[f64::NAN, f64::NAN, 0.0]);
        assert!((p[1] / p[0] - 1.2).abs() < 1e-15);
    }

    #[test]
    fn histories_check_their_shape_and_order() {
        let d = |k| NaiveDate::from_ymd_opt(2024, 1, k).unwrap();
        assert!(History::new("A", vec![d(2), d(3)], vec!["close".into()], vec![vec![1.0, 2.0]]).is_ok());
        let e = History::new("A", vec![d(3), d(2)], vec!["close".into()], vec![vec![1.0, 2.0]]).unwrap_err();
        assert!(e.to_string().contains("2024-01-03 then 2024-01-02"), "{e}");
        let e = History::new("A", vec![d(2)], vec!["close".into()], vec![vec![1.0, 2.0]]).unwrap_err();
        assert!(matches!(e, Error::Shape(_)), "{e}");
    }
}
