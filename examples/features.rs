//! Features from the command line: computes every feature family at the
//! given windows for a price CSV and prints JSON (shape, warm-up, median run
//! time over repeats); `--out` writes the long table (date, asset, features)
//! as CSV; `--select` also fits the random-forest selector (horizon 21,
//! 100 trees, features ml) and reports its time and held-out IC.
//!
//! ```text
//! cargo run --release --no-default-features --example features -- data/sp500.csv \
//!     --windows 5,21,63,126,252 --repeat 20 [--out target/features.csv]
//! ```
use std::time::Instant;

use assetalloc::prelude::*;
use polars::prelude::{CsvWriter, SerWriter};
use serde_json::json;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "data/sp500.csv".into());
    let bad = |v: &str| cli::usage("--windows", format!("cannot parse {v:?}"));
    let windows: Vec<usize> = cli::flag(&args, "--windows")
        .unwrap_or("5,21,63,126,252")
        .split(',')
        .map(|w| w.trim().parse().map_err(|_| bad(w)))
        .collect::<Result<_>>()?;
    let repeat: usize = cli::number(&args, "--repeat", 20)?;
    let prices = Prices::read_csv(&path)?;
    let params = Features::params().windows(&windows);
    let mut times = Vec::new();
    let mut fs = params.compute(&prices)?;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        fs = params.compute(&prices)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    if let Some(out) = cli::flag(&args, "--out") {
        let mut df = fs.to_dataframe()?;
        let file = std::fs::File::create(out).map_err(|source| Error::Io { path: out.into(), source })?;
        CsvWriter::new(file).finish(&mut df).map_err(Error::from)?;
    }
    #[cfg(feature = "ml")]
    let selection = if args.iter().any(|a| a == "--select") {
        let ranked = Features::params().windows(&windows).cross_section(&[CrossSection::Rank]).compute(&prices)?;
        let t = Instant::now();
        let s = Selector::params().horizon(21).trees(100).seed(7).fit(&ranked, &prices)?;
        json!({"seconds": t.elapsed().as_secs_f64(), "features": s.names.len(), "train_rows": s.train_rows,
               "holdout_ic": s.holdout_ic, "holdout_ic_se": s.holdout_ic_se, "top5": s.select_top(5)?})
    } else {
        serde_json::Value::Null
    };
    #[cfg(not(feature = "ml"))]
    let selection = serde_json::Value::Null;
    let json = json!({
        "source": path, "assets": prices.n_assets(), "days": prices.len(), "windows": windows,
        "features": fs.n_features(), "dates_kept": fs.dates().len(), "warmup": fs.warmup(),
        "median_seconds": times[times.len() / 2], "repeats": times.len(), "selection": selection,
    });
    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    Ok(())
}
