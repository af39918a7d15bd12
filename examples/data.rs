//! Loads a price CSV (or the bundled S&P 500 panel) and prints, as JSON, its
//! shape, span, per-asset annualised statistics and the time each step took.
//!
//! ```text
//! cargo run --release --example data                      # bundled S&P 500
//! cargo run --release --example data -- prices.csv        # your prices
//! cargo run --release --example data -- returns.csv log   # your log returns
//! # reading a synthetic ROWS × ASSETS price panel from CSV and from Parquet
//! # (median of R reads each; needs the `parquet` feature)
//! cargo run --release --features parquet --example data -- --parquet-time 2000,5000 --repeat 3
//! # daily bars from Yahoo Finance (or a FRED series) into a per-symbol
//! # Parquet cache, the adjusted prices written to a Parquet panel; prints
//! # what came from the cache and what was fetched (feature `sources`)
//! cargo run --release --features sources --example data -- --fetch yahoo:SPY,AGG --cache cache --out etfs.parquet
//! cargo run --release --features sources --example data -- --fetch fred:DFF --cache cache --offline
//! ```
use std::time::Instant;

use assetalloc::prelude::*;
use serde_json::json;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(spec) = cli::flag(&args, "--parquet-time") {
        return parquet_time(spec, cli::number(&args, "--repeat", 3)?);
    }
    if let Some(spec) = cli::flag(&args, "--fetch") {
        return fetch(spec, &args);
    }
    let t0 = Instant::now();
    let (returns, source) = match args.first() {
        None => (datasets::sp500()?.returns(ReturnKind::Simple)?, "bundled sp500".to_string()),
        Some(path) => {
            let kind = match args.get(1).map(String::as_str) {
                None => None,
                Some("simple") => Some(ReturnKind::Simple),
                Some("log") => Some(ReturnKind::Log),
                Some(other) => return Err(cli::usage("kind", format!("must be simple or log, got {other:?}"))),
            };
            let r = match kind {
                None => Prices::read_csv(path)?.returns(ReturnKind::Simple)?,
                Some(k) => Returns::read_csv(path, k)?,
            };
            (r, path.clone())
        }
    };
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let summary = returns.summary();
    let summary_ms = t1.elapsed().as_secs_f64() * 1e3;
    let assets: Vec<_> = summary
        .assets
        .iter()
        .map(|a| {
            json!({
                "asset": a.asset, "start": a.start.to_string(), "observations": a.observations,
                "mean": a.mean, "volatility": a.volatility, "sharpe": a.sharpe, "cagr": a.cagr,
                "skew": a.skew, "excess_kurtosis": a.kurtosis, "max_drawdown": a.max_drawdown,
            })
        })
        .collect();
    let out = json!({
        "source": source,
        "rows": returns.len(),
        "assets": returns.n_assets(),
        "start": returns.start().to_string(),
        "end": returns.end().to_string(),
        "periods_per_year": returns.periods_per_year(),
        "load_and_returns_ms": load_ms,
        "summary_ms": summary_ms,
        "summary": assets,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    Ok(())
}

/// Writes a synthetic `ROWS,ASSETS` price panel as CSV and as Parquet in a
/// temporary folder and times reading each back (median of `repeat`),
/// checking both give the same panel.
#[cfg(feature = "parquet")]
fn parquet_time(spec: &str, repeat: usize) -> Result<()> {
    let bad = || cli::usage("--parquet-time", format!("expected ROWS,ASSETS, got {spec:?}"));
    let (r, a) = spec.split_once(',').ok_or_else(bad)?;
    let (rows, assets): (usize, usize) = (r.parse().map_err(|_| bad())?, a.parse().map_err(|_| bad())?);
    let prices = Synthetic::params().assets(assets).days(rows).seed(11).generate()?.prices;
    let dir = std::env::temp_dir().join(format!("assetalloc-parquet-time-{}", std::process::id()));
    let (csv, parquet) = (dir.join("panel.csv"), dir.join("panel.parquet"));
    prices.to_csv(&csv)?;
    prices.to_parquet(&parquet)?;
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let (csv_s, from_csv) = cli::timed(repeat, || Load::csv(&csv).prices())?;
    let (parquet_s, from_parquet) = cli::timed(repeat, || Load::parquet(&parquet).prices())?;
    if from_csv.values() != from_parquet.values() || from_csv.dates() != from_parquet.dates() {
        return Err(cli::usage("--parquet-time", "the CSV and the Parquet file read back different panels"));
    }
    println!(
        "{}",
        json!({"rows": prices.len(), "assets": prices.n_assets(), "csv_s": csv_s, "parquet_s": parquet_s,
               "ratio": csv_s / parquet_s, "csv_bytes": size(&csv), "parquet_bytes": size(&parquet)})
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[cfg(not(feature = "parquet"))]
fn parquet_time(_: &str, _: usize) -> Result<()> {
    Err(cli::usage(
        "--parquet-time",
        "needs the parquet feature: cargo run --release --features parquet --example data",
    ))
}

/// `--fetch PROVIDER:SYM,SYM [--cache DIR] [--offline] [--out FILE.parquet]`:
/// fetches the symbols, prints the fetch report as JSON and, for prices,
/// writes the adjusted panel.
#[cfg(feature = "sources")]
fn fetch(spec: &str, args: &[String]) -> Result<()> {
    use assetalloc::data::sources::DataSource;
    let (provider, symbols) = spec
        .split_once(':')
        .ok_or_else(|| cli::usage("--fetch", format!("expected PROVIDER:SYMBOL,SYMBOL, got {spec:?}")))?;
    let source: Box<dyn DataSource> = match provider {
        "yahoo" => Box::new(Yahoo::new()),
        "fred" => Box::new(Fred::new()),
        other => return Err(cli::usage("--fetch", format!("the provider must be yahoo or fred, got {other:?}"))),
    };
    let symbols: Vec<&str> = symbols.split(',').collect();
    let mut params = Fetch::params().offline(args.iter().any(|a| a == "--offline"));
    if let Some(dir) = cli::flag(args, "--cache") {
        params = params.cache(dir);
    }
    let fetched = params.symbols(source.as_ref(), &symbols)?;
    let report: Vec<_> = fetched
        .histories()
        .iter()
        .zip(fetched.updates())
        .map(|(h, u)| {
            json!({"symbol": h.symbol(), "rows": h.len(), "first": h.dates().first().map(|d| d.to_string()),
                   "last": h.dates().last().map(|d| d.to_string()), "cached": u.cached, "fetched": u.fetched,
                   "appended": u.appended, "revised": u.revised, "requests": u.requests, "refetched": u.refetched})
        })
        .collect();
    if let Some(out) = cli::flag(args, "--out") {
        fetched.prices(Missing::Universe)?.to_parquet(out)?;
    }
    println!("{}", serde_json::to_string_pretty(&json!({"provider": provider, "symbols": report})).unwrap_or_default());
    Ok(())
}

#[cfg(not(feature = "sources"))]
fn fetch(_: &str, _: &[String]) -> Result<()> {
    Err(cli::usage("--fetch", "needs the sources feature: cargo run --release --features sources --example data"))
}
