//! Yahoo Finance's chart API: daily bars and adjusted closes as JSON.
//!
//! `GET {base}/v8/finance/chart/{symbol}?period1=…&period2=…&interval=1d`
//! answers `{"chart": {"result": [{"meta": {"gmtoffset": …},
//! "timestamp": […], "indicators": {"quote": [{"open": […], "high": […],
//! "low": […], "close": […], "volume": […]}], "adjclose": [{"adjclose":
//! […]}]}}], "error": null}}`, or a `result` of `null` with an `error`
//! `{"code", "description"}`. Timestamps are seconds since 1970 at the
//! session's open; adding `gmtoffset` gives the exchange's local date.

use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use super::transport::{encode, excerpt, request, Reply, Transport};
use super::{DataSource, History};
use crate::error::{Error, Result};

const FIELDS: [&str; 6] = ["open", "high", "low", "close", "volume", "return"];

/// 1900-01-01 in seconds since 1970: "the whole history" to the chart API.
const BEGINNING: i64 = -2_208_988_800;

/// Daily bars from Yahoo Finance's chart API; see the [module](super) docs.
#[derive(Debug, Clone)]
pub struct Yahoo {
    base: String,
}

impl Yahoo {
    /// The public endpoint, `https://query2.finance.yahoo.com`.
    pub fn new() -> Self {
        Yahoo::with_base_url("https://query2.finance.yahoo.com")
    }

    /// Another host serving the same API (a mirror, a proxy, a test server).
    pub fn with_base_url(base: impl Into<String>) -> Self {
        Yahoo { base: base.into().trim_end_matches('/').to_string() }
    }
}

impl Default for Yahoo {
    fn default() -> Self {
        Yahoo::new()
    }
}

impl DataSource for Yahoo {
    fn name(&self) -> &str {
        "yahoo"
    }

    fn fields(&self) -> Vec<String> {
        FIELDS.iter().map(|f| f.to_string()).collect()
    }

    fn fetch(&self, transport: &dyn Transport, symbol: &str, from: Option<NaiveDate>) -> Result<History> {
        let start = from.and_then(|d| d.and_hms_opt(0, 0, 0)).map_or(BEGINNING, |t| t.and_utc().timestamp());
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let url = format!(
            "{}/v8/finance/chart/{}?period1={start}&period2={}&interval=1d&events=div%2Csplits&includeAdjustedClose=true",
            self.base,
            encode(symbol),
            now + 86_400
        );
        parse(symbol, &request(transport, "yahoo", symbol, &url)?)
    }
}

/// The history in a chart API answer.
pub(crate) fn parse(symbol: &str, reply: &Reply) -> Result<History> {
    let fail = |reason: String| Error::Fetch { provider: "yahoo".into(), symbol: symbol.to_string(), reason };
    let status = reply.status;
    let json: Value = match serde_json::from_slice(&reply.body) {
        Ok(v) => v,
        Err(_) if status != 200 => return Err(fail(format!("HTTP {status}: {}", excerpt(&reply.body)))),
        Err(e) => return Err(fail(format!("malformed chart JSON ({e}): {}", excerpt(&reply.body)))),
    };
    let chart = json
        .get("chart")
        .ok_or_else(|| fail(format!("malformed chart JSON: no \"chart\" object in {}", excerpt(&reply.body))))?;
    if let Some(error) = chart.get("error").filter(|e| !e.is_null()) {
        let text = |k: &str| error.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        return Err(fail(format!("HTTP {status}, {}: {}", text("code"), text("description"))));
    }
    if status != 200 {
        return Err(fail(format!("HTTP {status}: {}", excerpt(&reply.body))));
    }
    let result = chart
        .get("result")
        .and_then(|r| r.get(0))
        .ok_or_else(|| fail("malformed chart JSON: no \"chart.result[0]\"".into()))?;
    // A range without trading days has no timestamps at all.
    let Some(stamps) = result.get("timestamp") else {
        return History::new(
            symbol,
            vec![],
            FIELDS.iter().map(|f| f.to_string()).collect(),
            vec![vec![]; FIELDS.len()],
        );
    };
    let stamps = stamps
        .as_array()
        .ok_or_else(|| fail("malformed chart JSON: \"timestamp\" is not an array".into()))?
        .iter()
        .map(|t| t.as_i64().ok_or_else(|| fail(format!("malformed chart JSON: timestamp {t} is not an integer"))))
        .collect::<Result<Vec<i64>>>()?;
    let offset = result.get("meta").and_then(|m| m.get("gmtoffset")).and_then(Value::as_i64).unwrap_or(0);
    let quote = result
        .get("indicators")
        .and_then(|i| i.get("quote"))
        .and_then(|q| q.get(0))
        .ok_or_else(|| fail("malformed chart JSON: no \"indicators.quote[0]\"".into()))?;
    let series = |parent: &Value, name: &str, required: bool| -> Result<Option<Vec<f64>>> {
        let Some(v) = parent.get(name) else {
            return if required { Err(fail(format!("malformed chart JSON: no \"{name}\" series"))) } else { Ok(None) };
        };
        let values = v.as_array().ok_or_else(|| fail(format!("malformed chart JSON: \"{name}\" is not an array")))?;
        if values.len() != stamps.len() {
            return Err(fail(format!(
                "malformed chart JSON: \"{name}\" has {} values for {} timestamps",
                values.len(),
                stamps.len()
            )));
        }
        values
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::Null => Ok(f64::NAN),
                x => x
                    .as_f64()
                    .ok_or_else(|| fail(format!("malformed chart JSON: \"{name}\"[{i}] is {x}, not a number"))),
            })
            .collect::<Result<Vec<f64>>>()
            .map(Some)
    };
    let mut bars: Vec<Vec<f64>> = Vec::with_capacity(5);
    for name in &FIELDS[..5] {
        bars.push(series(quote, name, true)?.unwrap_or_default());
    }
    let adj = match result.get("indicators").and_then(|i| i.get("adjclose")).and_then(|a| a.get(0)) {
        Some(a) => series(a, "adjclose", false)?,
        None => None,
    };

    // One row per local date; a later bar of the same date (the session in
    // progress) replaces an earlier one. Bars without a close (holidays,
    // halts) carry nothing.
    let mut rows: Vec<(NaiveDate, usize)> = Vec::with_capacity(stamps.len());
    for (i, &t) in stamps.iter().enumerate() {
        let date = DateTime::from_timestamp(t + offset, 0)
            .ok_or_else(|| fail(format!("malformed chart JSON: timestamp {t} is out of range")))?
            .date_naive();
        let close = bars[3][i];
        if close.is_nan() {
            continue;
        }
        if !(close.is_finite() && close > 0.0) {
            return Err(fail(format!("the close on {date} is {close}; a price must be > 0")));
        }
        if let Some(a) = adj.as_ref().map(|a| a[i]).filter(|a| !(a.is_nan() || (a.is_finite() && *a > 0.0))) {
            return Err(fail(format!("the adjusted close on {date} is {a}; a price must be > 0")));
        }
        match rows.last_mut() {
            Some(last) if last.0 == date => last.1 = i,
            Some(last) if last.0 > date => {
                return Err(fail(format!("malformed chart JSON: timestamps go back from {} to {date}", last.0)))
            }
            _ => rows.push((date, i)),
        }
    }
    let level = |i: usize| adj.as_ref().map(|a| a[i]).filter(|a| a.is_finite()).unwrap_or(bars[3][i]);
    let mut columns: Vec<Vec<f64>> = bars.iter().map(|b| rows.iter().map(|&(_, i)| b[i]).collect()).collect();
    columns.push(
        rows.iter()
            .enumerate()
            .map(|(k, &(_, i))| if k == 0 { f64::NAN } else { level(i) / level(rows[k - 1].1) - 1.0 })
            .collect(),
    );
    History::new(
        symbol,
        rows.into_iter().map(|(d, _)| d).collect(),
        FIELDS.iter().map(|f| f.to_string()).collect(),
        columns,
    )
}
