//! Times the moment estimators on a prices CSV and writes each covariance
//! and mean, for `bench/estimators.py`:
//!
//!     cargo run --release --example estimate -- PRICES.csv --repeat 5 --write DIR
//!
//! Prints JSON: per estimator the median milliseconds of `--repeat` fits
//! from returns to moments; with `--write`, each estimator's covariance
//! and mean go to `DIR/NAME_cov.txt` and `DIR/NAME_mean.txt` (one row a
//! line, values separated by spaces). With `--entropy-pooling` it times
//! entropy pooling of the returns instead, under mean views on AAPL
//! (= 0.2 %) and JPM ≥ BAC and a 2 % volatility view on MSFT, and writes
//! the posterior probabilities to `DIR/entropy_pooling.txt`.

use std::fmt::Write as _;

use assetalloc::prelude::*;
use serde_json::json;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn rows(a: impl IntoIterator<Item = Vec<f64>>) -> String {
    let mut out = String::new();
    for row in a {
        let line: Vec<String> = row.iter().map(|v| format!("{v:e}")).collect();
        let _ = writeln!(out, "{}", line.join(" "));
    }
    out
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "data/sp500.csv".into());
    let repeat: usize = cli::number(&args, "--repeat", 5)?;
    let returns = Prices::read_csv(&path)?.returns(ReturnKind::Simple)?;
    if args.iter().any(|a| a == "--entropy-pooling") {
        use assetalloc::estimate::{Bound, EntropyPooling};
        let views = EntropyPooling::params()
            .mean("AAPL", Bound::Equal(0.002))
            .mean_of(&[("JPM", 1.0), ("BAC", -1.0)], Bound::AtLeast(0.0))
            .volatility("MSFT", Bound::Equal(0.02));
        // Five kinds: also a correlation, a skewness and a CVaR view.
        let views = match cli::flag(&args, "--views") {
            None | Some("three") => views,
            Some("five") => {
                views.correlation("JPM", "BAC", Bound::Equal(0.7)).skew("KO", Bound::Equal(-0.3)).cvar("GE", 0.95, 0.06)
            }
            Some(other) => return Err(cli::usage("--views", format!("must be three or five, got {other:?}"))),
        };
        let (seconds, pooled) = cli::timed(repeat, || views.fit(&returns))?;
        if let Some(dir) = cli::flag(&args, "--write") {
            let kinds = cli::flag(&args, "--views").unwrap_or("three");
            std::fs::write(format!("{dir}/entropy_pooling_{kinds}.txt"), rows([pooled.probabilities().to_vec()]))?;
        }
        println!(
            "{}",
            json!({"rows": returns.len(), "median_ms": 1e3 * seconds, "effective_scenarios": pooled.effective_scenarios()})
        );
        return Ok(());
    }
    let estimators = [
        ("oas", Moments::oas()),
        ("shrunk", Moments::shrunk(0.1)),
        ("gerber", Moments::gerber()),
        ("denoised", Moments::denoised()),
        ("detoned", Moments::detoned(1)),
        ("james_stein", Moments::sample().mean(MeanEstimator::JamesStein { volatility_weighted: false })),
    ];
    let mut out = serde_json::Map::new();
    for (name, params) in estimators {
        let (seconds, m) = cli::timed(repeat, || params.fit(&returns))?;
        if let Some(dir) = cli::flag(&args, "--write") {
            std::fs::write(format!("{dir}/{name}_cov.txt"), rows(m.cov().rows().into_iter().map(|r| r.to_vec())))?;
            std::fs::write(format!("{dir}/{name}_mean.txt"), rows([m.mean().to_vec()]))?;
        }
        out.insert(name.into(), json!({"median_ms": 1e3 * seconds, "method": m.method()}));
    }
    println!("{}", json!({"assets": returns.n_assets(), "rows": returns.len(), "estimators": out}));
    Ok(())
}
