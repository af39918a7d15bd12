//! Loads a price CSV (or the bundled S&P 500 panel) and prints, as JSON, its
//! shape, span, per-asset annualised statistics and the time each step took.
//!
//! ```text
//! cargo run --release --example data                      # bundled S&P 500
//! cargo run --release --example data -- prices.csv        # your prices
//! cargo run --release --example data -- returns.csv log   # your log returns
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
