//! FRED (Federal Reserve Economic Data) series as CSV.
//!
//! `GET {base}/graph/fredgraph.csv?id={series}&cosd={from}` answers a
//! header `observation_date,{series}` (older files: `DATE,{series}`) and
//! one line per observation; `.` or an empty cell marks a date without a
//! value (a holiday).

use chrono::NaiveDate;

use super::transport::{encode, excerpt, request, Reply, Transport};
use super::{DataSource, History};
use crate::data::io::text_columns;
use crate::error::{Error, Result};

/// A FRED series; see the [module](super) docs.
#[derive(Debug, Clone)]
pub struct Fred {
    base: String,
}

impl Fred {
    /// The public endpoint, `https://fred.stlouisfed.org`.
    pub fn new() -> Self {
        Fred::with_base_url("https://fred.stlouisfed.org")
    }

    /// Another host serving the same CSV (a mirror, a proxy, a test server).
    pub fn with_base_url(base: impl Into<String>) -> Self {
        Fred { base: base.into().trim_end_matches('/').to_string() }
    }
}

impl Default for Fred {
    fn default() -> Self {
        Fred::new()
    }
}

impl DataSource for Fred {
    fn name(&self) -> &str {
        "fred"
    }

    fn fields(&self) -> Vec<String> {
        vec!["value".into()]
    }

    fn fetch(&self, transport: &dyn Transport, symbol: &str, from: Option<NaiveDate>) -> Result<History> {
        let mut url = format!("{}/graph/fredgraph.csv?id={}", self.base, encode(symbol));
        if let Some(d) = from {
            url.push_str(&format!("&cosd={d}"));
        }
        parse(symbol, &request(transport, "fred", symbol, &url)?)
    }
}

/// The series in a FRED CSV answer.
pub(crate) fn parse(symbol: &str, reply: &Reply) -> Result<History> {
    let fail = |reason: String| Error::Fetch { provider: "fred".into(), symbol: symbol.to_string(), reason };
    if reply.status != 200 {
        return Err(fail(format!("HTTP {}: {}", reply.status, excerpt(&reply.body))));
    }
    let malformed = |what: String| fail(format!("malformed FRED CSV: {what}"));
    let columns =
        text_columns(&reply.body).map_err(|e| malformed(format!("{e}; the body starts {}", excerpt(&reply.body))))?;
    let header: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    let [(date_name, dates), (_, values)] = columns.as_slice() else {
        return Err(malformed(format!(
            "expected the two columns observation_date,{symbol}, got {header:?}; the body starts {}",
            excerpt(&reply.body)
        )));
    };
    if !(date_name.eq_ignore_ascii_case("observation_date") || date_name.eq_ignore_ascii_case("date")) {
        return Err(malformed(format!("expected the date column observation_date first, got {header:?}")));
    }
    let mut out_dates = Vec::with_capacity(dates.len());
    let mut out = Vec::with_capacity(dates.len());
    for (row, (d, v)) in dates.iter().zip(values).enumerate() {
        let date = NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| malformed(format!("row {} has the date {d:?}, not YYYY-MM-DD", row + 1)))?;
        let v = v.trim();
        if v.is_empty() || v == "." {
            continue;
        }
        let x: f64 = v.parse().map_err(|_| malformed(format!("row {} ({date}) has the value {v:?}", row + 1)))?;
        if !x.is_finite() {
            return Err(malformed(format!("row {} ({date}) has the value {v:?}", row + 1)));
        }
        out_dates.push(date);
        out.push(x);
    }
    History::new(symbol, out_dates, vec!["value".into()], vec![out]).map_err(|e| malformed(e.to_string()))
}
