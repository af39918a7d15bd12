//! Walk-forward learning to rank on a price CSV (default: the bundled S&P 500
//! prices), timed: features at windows 21, 63, 252 with cross-sectional
//! ranks, a forest refitted every `--refit` dates (default 21, monthly) on an
//! expanding window, horizon 21. Prints JSON: time to build features, time
//! of the walk-forward split into forest fits and scoring, refits, and the
//! out-of-sample mean IC and t-statistic of the forest and of the momentum
//! baseline.
//!
//! ```text
//! cargo run --release --example rank -- data/sp500.csv --refit 21 --trees 100
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
    let path = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "data/sp500.csv".into());
    let refit: usize = cli::number(&args, "--refit", 21)?;
    let trees: usize = cli::number(&args, "--trees", 100)?;
    let prices = Prices::read_csv(&path)?;
    let t0 = Instant::now();
    let features = Features::params().windows(&[21, 63, 252]).cross_section(&[CrossSection::Rank]).compute(&prices)?;
    let features_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let ranking = Ranker::params().horizon(21).refit_every(refit).trees(trees).fit(&features, &prices)?;
    let walk_s = t1.elapsed().as_secs_f64();
    let (fit_s, score_s) = ranking.timings();
    let (m, b) = (ranking.metrics(), ranking.baseline_metrics());
    let json = json!({
        "source": path, "assets": prices.n_assets(), "days": prices.len(), "features": features.n_features(),
        "refit_every": refit, "trees": trees, "refits": ranking.refits().len(), "scored_dates": ranking.dates().len(),
        "features_seconds": features_s, "walk_forward_seconds": walk_s, "fit_seconds": fit_s, "score_seconds": score_s,
        "forest": {"mean_ic": m.mean_ic, "t": m.t_stat, "spread": m.spread},
        "baseline": {"name": ranking.baseline_name(), "mean_ic": b.mean_ic, "t": b.t_stat, "spread": b.spread},
    });
    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    Ok(())
}
