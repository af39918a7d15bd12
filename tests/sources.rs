//! Data sources and their Parquet cache (feature `sources`), offline: the
//! providers' answers are bodies in their wire formats written by the
//! project (`tests/fixtures/sources/`), served by a scripted transport or
//! by an HTTP server on 127.0.0.1. `real_download` (ignored) asks the real
//! providers.
#![cfg(feature = "sources")]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use assetalloc::data::sources::{Corrupt, DataSource, Fetch, Fred, History, Reply, Transport, Yahoo};
use assetalloc::prelude::*;
use chrono::NaiveDate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn body(name: &str) -> Vec<u8> {
    std::fs::read(format!("tests/fixtures/sources/{name}")).unwrap()
}

/// Answers requests in order from a script and records their URLs.
#[derive(Clone, Default)]
struct Scripted {
    replies: Arc<Mutex<Vec<Result<Reply, String>>>>,
    urls: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    fn new(replies: Vec<Result<Reply, String>>) -> Self {
        Scripted { replies: Arc::new(Mutex::new(replies)), urls: Arc::default() }
    }
    fn urls(&self) -> Vec<String> {
        self.urls.lock().unwrap().clone()
    }
}

impl Transport for Scripted {
    fn get(&self, url: &str) -> Result<Reply, String> {
        self.urls.lock().unwrap().push(url.to_string());
        let mut r = self.replies.lock().unwrap();
        assert!(!r.is_empty(), "unexpected request {url}");
        r.remove(0)
    }
}

fn ok(body: Vec<u8>) -> Result<Reply, String> {
    Ok(Reply { status: 200, body })
}

/// The `period1` of a chart API URL, as a date (UTC).
fn period1(url: &str) -> i64 {
    let q = url.split("period1=").nth(1).unwrap();
    q.split('&').next().unwrap().parse().unwrap()
}

fn unix(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp()
}

/// One bar: date, close, adjusted close, volume.
type Bar = (NaiveDate, f64, f64, f64);

/// A chart API body, each bar stamped at 09:30 New York time.
fn chart(rows: &[Bar]) -> Vec<u8> {
    let ts: Vec<i64> = rows.iter().map(|r| unix(r.0) + 14 * 3600 + 1800).collect();
    let col = |f: &dyn Fn(&Bar) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    serde_json::json!({"chart": {"result": [{
        "meta": {"symbol": "XYZ", "gmtoffset": -18000, "exchangeTimezoneName": "America/New_York"},
        "timestamp": ts,
        "indicators": {
            "quote": [{"open": col(&|r| r.1), "high": col(&|r| r.1), "low": col(&|r| r.1),
                       "close": col(&|r| r.1), "volume": col(&|r| r.3)}],
            "adjclose": [{"adjclose": col(&|r| r.2)}]
        }
    }], "error": null}})
    .to_string()
    .into_bytes()
}

/// Weekdays from `start`, `n` of them.
fn weekdays(start: NaiveDate, n: usize) -> Vec<NaiveDate> {
    start.iter_days().filter(|d| chrono::Datelike::weekday(d).number_from_monday() <= 5).take(n).collect()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("assetalloc-sources-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn yahoo_chart_reads_local_dates_total_returns_and_volumes() {
    let t = Scripted::new(vec![ok(body("yahoo_chart_ABC.json"))]);
    let got = Fetch::params().transport(t.clone()).symbols(&Yahoo::new(), &["ABC"]).unwrap();
    let h = got.history("ABC").unwrap();
    // The halted 4 January carries nothing; the session in progress on the
    // 9th (a second bar that day) replaces the first.
    assert_eq!(h.dates(), &[d(2024, 1, 2), d(2024, 1, 3), d(2024, 1, 5), d(2024, 1, 8), d(2024, 1, 9)]);
    assert_eq!(h.field("close").unwrap(), &[100.0, 101.0, 102.5, 101.0, 103.5]);
    let adj = [99.0, 99.99, 101.475, 100.99, 103.5];
    let r = h.field("return").unwrap();
    assert!(r[0].is_nan());
    for t in 1..5 {
        assert!((r[t] - (adj[t] / adj[t - 1] - 1.0)).abs() < 1e-15, "return {t}");
    }
    // Adjusted prices end at the last close, so they equal the provider's
    // adjusted closes.
    let p = got.prices(Missing::Universe).unwrap();
    for (t, a) in adj.iter().enumerate() {
        assert!((p.values()[[t, 0]] - a).abs() < 1e-12 * a, "price {t}");
    }
    let v = got.volumes().unwrap();
    assert_eq!(v.values()[[4, 0]], 103.5 * 850_000.0);
    // The whole history is asked for, the symbol as it is.
    let urls = t.urls();
    assert!(urls[0].starts_with("https://query2.finance.yahoo.com/v8/finance/chart/ABC?"), "{}", urls[0]);
    assert_eq!(period1(&urls[0]), -2_208_988_800);
    assert_eq!(got.updates()[0].requests, 1);
    assert!(got.to_string().contains("ABC"));
}

#[test]
fn the_cache_asks_only_for_the_overlap_and_never_rewrites_older_rows() {
    let dir = temp_dir("overlap");
    let days = weekdays(d(2024, 3, 1), 12);
    let first: Vec<_> = (0..10).map(|t| (days[t], 50.0 + t as f64, 40.0 + t as f64, 1e6)).collect();
    let t = Scripted::new(vec![ok(chart(&first))]);
    let fetch = Fetch::params().cache(&dir).overlap(3).transport(t.clone());
    let a = fetch.symbols(&Yahoo::new(), &["XYZ"]).unwrap();
    assert_eq!(a.updates()[0].appended, 10);
    assert!(dir.join("yahoo/XYZ.parquet").exists());
    let before = a.history("XYZ").unwrap().clone();

    // A dividend after the cached days rescales the provider's whole
    // adjusted series by 0.98; the last cached day's volume is revised,
    // and two new days arrive.
    let mut second: Vec<_> = (7..12).map(|t| (days[t], 50.0 + t as f64, 0.98 * (40.0 + t as f64), 1e6)).collect();
    second[2].3 = 1.2e6;
    t.replies.lock().unwrap().push(ok(chart(&second)));
    let b = fetch.symbols(&Yahoo::new(), &["XYZ"]).unwrap();
    let u = &b.updates()[0];
    assert_eq!((u.cached, u.fetched, u.appended, u.revised, u.requests), (10, 5, 2, 1, 1));
    assert_eq!(period1(&t.urls()[1]), unix(days[7]));
    let h = b.history("XYZ").unwrap();
    assert_eq!(h.dates(), &days[..]);
    // Rows before the overlap are untouched; total returns stay those of
    // the undivided series, so the first fresh row keeps its cached return.
    for f in ["close", "return", "volume"] {
        let (old, new) = (before.field(f).unwrap(), h.field(f).unwrap());
        for t in 1..7 {
            assert_eq!(old[t].to_bits(), new[t].to_bits(), "{f} {t}");
        }
    }
    let r = h.field("return").unwrap();
    for (t, r) in r.iter().enumerate().skip(1) {
        assert!((r - ((40.0 + t as f64) / (39.0 + t as f64) - 1.0)).abs() < 1e-12, "return {t}");
    }
    assert_eq!(h.field("volume").unwrap()[9], 1.2e6);

    // The cache reaches the asked date: no request; offline: no request.
    let c = fetch.clone().until(days[11]).symbols(&Yahoo::new(), &["XYZ"]).unwrap();
    assert_eq!(c.updates()[0].requests, 0);
    assert_eq!(c.history("XYZ").unwrap(), h);
    let c = fetch.clone().until(days[5]).symbols(&Yahoo::new(), &["XYZ"]).unwrap();
    assert_eq!(c.history("XYZ").unwrap().len(), 6);
    let c = fetch.clone().offline(true).symbols(&Yahoo::new(), &["XYZ"]).unwrap();
    assert_eq!((c.updates()[0].requests, c.history("XYZ").unwrap()), (0, h));
    assert_eq!(t.urls().len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_cache_is_fetched_again_or_named() {
    let dir = temp_dir("corrupt");
    let days = weekdays(d(2024, 3, 1), 4);
    let rows: Vec<_> = days.iter().map(|&x| (x, 10.0, 10.0, 5.0)).collect();
    let file = dir.join("yahoo/XYZ.parquet");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    // Cut short, then a valid Parquet panel without the source's fields.
    let prices = Prices::new(days.clone(), vec!["close".into()], ndarray::Array2::from_elem((4, 1), 1.0)).unwrap();
    for (what, write) in [
        (
            "not a readable Parquet",
            Box::new(|p: &std::path::Path| std::fs::write(p, b"PAR1 cut").unwrap()) as Box<dyn Fn(&std::path::Path)>,
        ),
        ("the columns", Box::new(|p: &std::path::Path| prices.to_parquet(p).unwrap())),
    ] {
        write(&file);
        let strict = Fetch::params().cache(&dir).on_corrupt(Corrupt::Error).transport(Scripted::new(vec![]));
        let e = strict.symbols(&Yahoo::new(), &["XYZ"]).unwrap_err();
        assert!(matches!(&e, Error::Cache { path, .. } if path == &file), "{e}");
        assert!(e.to_string().contains(what), "{e}");

        let t = Scripted::new(vec![ok(chart(&rows))]);
        let got = Fetch::params().cache(&dir).transport(t.clone()).symbols(&Yahoo::new(), &["XYZ"]).unwrap();
        let u = &got.updates()[0];
        assert!(u.refetched.as_deref().is_some_and(|r| r.contains(what)), "{u:?}");
        assert_eq!((u.cached, u.appended), (0, 4));
        assert_eq!(period1(&t.urls()[0]), -2_208_988_800);
        assert!(got.to_string().contains("cache discarded"));
        // The file written back reads cleanly.
        let again = Fetch::params().cache(&dir).offline(true).on_corrupt(Corrupt::Error);
        assert_eq!(again.symbols(&Yahoo::new(), &["XYZ"]).unwrap().history("XYZ").unwrap().len(), 4);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn provider_errors_and_malformed_bodies_are_typed_and_name_the_symbol() {
    let yahoo = |reply: Result<Reply, String>| {
        let e = Fetch::params().transport(Scripted::new(vec![reply])).symbols(&Yahoo::new(), &["ABC"]).unwrap_err();
        assert!(matches!(&e, Error::Fetch { provider, symbol, .. } if provider == "yahoo" && symbol == "ABC"), "{e}");
        e.to_string()
    };
    let e = yahoo(Ok(Reply { status: 404, body: body("yahoo_chart_not_found.json") }));
    assert!(e.contains("HTTP 404") && e.contains("No data found"), "{e}");
    let e = yahoo(Ok(Reply { status: 502, body: b"<html><body>Bad gateway</body></html>".to_vec() }));
    assert!(e.contains("HTTP 502: <html><body>Bad gateway"), "{e}");
    let full = body("yahoo_chart_ABC.json");
    let e = yahoo(ok(full[..full.len() / 2].to_vec()));
    assert!(e.contains("malformed chart JSON"), "{e}");
    let text = String::from_utf8(full.clone()).unwrap();
    let mut short: serde_json::Value = serde_json::from_slice(&full).unwrap();
    short["chart"]["result"][0]["indicators"]["quote"][0]["close"].as_array_mut().unwrap().pop();
    let e = yahoo(ok(short.to_string().into_bytes()));
    assert!(e.contains("\"close\" has 6 values for 7 timestamps"), "{e}");
    let e = yahoo(ok(text.replacen("102.5", "-102.5", 1).into_bytes()));
    assert!(e.contains("the close on 2024-01-05 is -102.5"), "{e}");
    let e = yahoo(ok(text.replacen("\"quote\"", "\"quotes\"", 1).into_bytes()));
    assert!(e.contains("no \"indicators.quote[0]\""), "{e}");
    let e = yahoo(Err("connection refused".into()));
    assert!(e.contains("no answer from https://query2.finance.yahoo.com") && e.contains("connection refused"), "{e}");

    let fred = |reply: Result<Reply, String>| {
        let e = Fetch::params().transport(Scripted::new(vec![reply])).symbols(&Fred::new(), &["DFF"]).unwrap_err();
        assert!(matches!(&e, Error::Fetch { provider, symbol, .. } if provider == "fred" && symbol == "DFF"), "{e}");
        e.to_string()
    };
    let e = fred(ok(b"<!DOCTYPE html><html><head><title>FRED</title></head></html>".to_vec()));
    assert!(e.contains("malformed FRED CSV") && e.contains("<!DOCTYPE html>"), "{e}");
    let e = fred(ok(b"observation_date,DFF\n2024-01-02,5.33\n2024-01-03,five\n".to_vec()));
    assert!(e.contains("row 2 (2024-01-03) has the value \"five\""), "{e}");
    let e = fred(ok(b"observation_date,DFF\n2024-01-03,5.33\n2024-01-02,5.33\n".to_vec()));
    assert!(e.contains("2024-01-03 then 2024-01-02"), "{e}");
    let e = fred(Ok(Reply { status: 400, body: b"Bad Request.  The series does not exist.".to_vec() }));
    assert!(e.contains("HTTP 400: Bad Request. The series does not exist."), "{e}");

    // Offline without a cached file names it.
    let dir = temp_dir("offline");
    let e = Fetch::params().cache(&dir).offline(true).symbols(&Fred::new(), &["DFF"]).unwrap_err();
    assert!(e.to_string().contains("not in the cache") && e.to_string().contains("DFF.parquet"), "{e}");
}

#[test]
fn bad_requests_are_refused_before_any_request() {
    let p = Fetch::params().transport(Scripted::new(vec![]));
    let e = p.clone().overlap(0).symbols(&Yahoo::new(), &["A"]).unwrap_err();
    assert!(e.to_string().contains("overlap must be ≥ 1"), "{e}");
    let e = p.symbols::<&str>(&Yahoo::new(), &[]).unwrap_err();
    assert!(e.to_string().contains("at least one symbol"), "{e}");
    let e = p.symbols(&Yahoo::new(), &["A", "B", "A"]).unwrap_err();
    assert!(e.to_string().contains("\"A\" twice"), "{e}");
    let e = p.symbols(&Yahoo::new(), &["A", " "]).unwrap_err();
    assert!(e.to_string().contains("position 1"), "{e}");
}

#[test]
fn fred_rates_become_cash_returns_known_the_day_before() {
    let t = Scripted::new(vec![ok(body("fred_DFF.csv"))]);
    let got = Fetch::params().transport(t.clone()).symbols(&Fred::new(), &["DFF"]).unwrap();
    assert_eq!(t.urls()[0], "https://fred.stlouisfed.org/graph/fredgraph.csv?id=DFF");
    let h = got.history("DFF").unwrap();
    assert_eq!(h.len(), 8, "the '.' of 4 January is not a value");
    // On weekdays 2..9 January: each return uses the rate of the previous
    // date (4 January has none: the 3rd's rate carries).
    let dates = weekdays(d(2024, 1, 2), 6);
    let panel = Prices::new(dates.clone(), vec!["X".into()], ndarray::Array2::from_elem((6, 1), 1.0)).unwrap();
    let cash = got.cash_returns(&panel).unwrap();
    let rate: [f64; 6] = [5.33, 5.33, 5.32, 5.32, 5.31, 5.30];
    for (k, y) in rate.iter().enumerate() {
        let want = (1.0 + y / 100.0).powf(1.0 / 252.0) - 1.0;
        assert!((cash.values()[[k, 0]] - want).abs() < 1e-18, "{k}");
    }
    let early = Prices::new(vec![d(2023, 12, 29)], vec!["X".into()], ndarray::Array2::from_elem((1, 1), 1.0)).unwrap();
    let e = got.cash_returns(&early).unwrap_err();
    assert!(e.to_string().contains("no rate on or before 2023-12-29 (its first is 2024-01-01)"), "{e}");
    // A rate series has no prices.
    let e = got.prices(Missing::Universe).unwrap_err();
    assert!(e.to_string().contains("need the field \"close\""), "{e}");
    // A later fetch with a cache asks from the overlap's first date.
    let dir = temp_dir("fred");
    let t = Scripted::new(vec![
        ok(body("fred_DFF.csv")),
        ok(b"observation_date,DFF\n2024-01-08,5.30\n2024-01-09,5.33\n2024-01-10,5.33\n".to_vec()),
    ]);
    let p = Fetch::params().cache(&dir).overlap(2).transport(t.clone());
    p.symbols(&Fred::new(), &["DFF"]).unwrap();
    let b = p.symbols(&Fred::new(), &["DFF"]).unwrap();
    assert_eq!(t.urls()[1], "https://fred.stlouisfed.org/graph/fredgraph.csv?id=DFF&cosd=2024-01-08");
    let u = &b.updates()[0];
    assert_eq!((u.appended, u.revised), (1, 1));
    assert_eq!(b.history("DFF").unwrap().field("value").unwrap()[6..], [5.30, 5.33, 5.33]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn several_symbols_align_on_their_dates() {
    let days = weekdays(d(2024, 3, 1), 5);
    let a: Vec<_> = days.iter().map(|&x| (x, 10.0, 10.0, 1.0)).collect();
    let b: Vec<_> = days[2..].iter().map(|&x| (x, 20.0, 20.0, 2.0)).collect();
    let t = Scripted::new(vec![ok(chart(&a)), ok(chart(&b))]);
    let got = Fetch::params().transport(t).symbols(&Yahoo::new(), &["OLD", "NEW"]).unwrap();
    let p = got.prices(Missing::Universe).unwrap();
    assert_eq!(p.dates(), &days[..]);
    assert_eq!(p.assets(), &["OLD".to_string(), "NEW".to_string()]);
    assert!(p.values()[[1, 1]].is_nan() && p.values()[[2, 1]] == 20.0);
    let e = got.prices(Missing::Error).unwrap_err();
    assert!(matches!(e, Error::MissingValues { ref asset, .. } if asset == "NEW"), "{e}");
}

/// A custom source whose histories lack a field it declares.
struct Broken;

impl DataSource for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn fields(&self) -> Vec<String> {
        vec!["close".into(), "volume".into()]
    }
    fn fetch(&self, _: &dyn Transport, symbol: &str, _: Option<NaiveDate>) -> Result<History> {
        History::new(symbol, vec![d(2024, 1, 2)], vec!["close".into()], vec![vec![1.0]])
    }
}

#[test]
fn a_source_must_deliver_the_fields_it_declares() {
    let e = Fetch::params().transport(Scripted::new(vec![])).symbols(&Broken, &["Z"]).unwrap_err();
    assert!(e.to_string().contains("delivered the fields [\"close\"] but declares [\"close\", \"volume\"]"), "{e}");
}

/// An HTTP/1.1 server on 127.0.0.1 answering from `routes` (path prefix →
/// status and body), recording each request's target; a path it does not
/// know gets its connection closed without an answer.
fn serve(routes: Vec<(&'static str, u16, Vec<u8>)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() <= 2 {
                    break;
                }
            }
            log.lock().unwrap().push(target.clone());
            let Some((_, status, body)) = routes.iter().find(|(p, _, _)| target.starts_with(p)) else {
                continue;
            };
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(body).unwrap();
        }
    });
    (base, seen)
}

#[test]
fn the_http_transport_talks_to_a_local_server() {
    let (base, seen) = serve(vec![
        ("/v8/finance/chart/ABC?", 200, body("yahoo_chart_ABC.json")),
        ("/v8/finance/chart/%5EGSPC?", 404, body("yahoo_chart_not_found.json")),
        ("/graph/fredgraph.csv?id=DFF", 200, body("fred_DFF.csv")),
    ]);
    let dir = temp_dir("http");
    let fetch = Fetch::params().cache(&dir);
    let got = fetch.symbols(&Yahoo::with_base_url(&base), &["ABC"]).unwrap();
    assert_eq!(got.history("ABC").unwrap().len(), 5);
    let rate = fetch.symbols(&Fred::with_base_url(&base), &["DFF"]).unwrap();
    assert_eq!(rate.history("DFF").unwrap().len(), 8);
    let e = fetch.symbols(&Yahoo::with_base_url(&base), &["^GSPC"]).unwrap_err();
    assert!(e.to_string().contains("HTTP 404, Not Found: No data found"), "{e}");
    let e = fetch.symbols(&Yahoo::with_base_url(&base), &["GONE"]).unwrap_err();
    assert!(
        matches!(&e, Error::Fetch { symbol, reason, .. } if symbol == "GONE" && reason.starts_with("no answer from")),
        "{e}"
    );
    let seen = seen.lock().unwrap();
    assert!(seen[2].starts_with("/v8/finance/chart/%5EGSPC?period1="), "{seen:?}");
    assert!(seen[0].contains("period1=-2208988800&"), "{seen:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Asks the real providers (the network is the user's):
/// `cargo test --features sources --test sources -- --ignored`.
#[test]
#[ignore = "downloads from Yahoo Finance and FRED"]
fn real_download() {
    let dir = temp_dir("real");
    let fetch = Fetch::params().cache(&dir);
    let spy = fetch.symbols(&Yahoo::new(), &["SPY", "AGG"]).unwrap();
    let prices = spy.prices(Missing::Universe).unwrap();
    assert!(prices.len() > 5000, "{}", prices.len());
    assert!(spy.volumes().unwrap().values().iter().filter(|v| v.is_finite()).all(|v| *v >= 0.0));
    let again = fetch.symbols(&Yahoo::new(), &["SPY"]).unwrap();
    assert!(again.updates()[0].fetched <= 10, "{:?}", again.updates());
    let dff = fetch.symbols(&Fred::new(), &["DFF"]).unwrap();
    let cash = dff.cash_returns(&prices.between("2000-01-03", "").unwrap()).unwrap();
    assert!(cash.values().iter().all(|r| (-0.001..0.001).contains(r)));
    std::fs::remove_dir_all(&dir).unwrap();
}
