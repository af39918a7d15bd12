//! Whole-lot orders for target weights on a synthetic book, as JSON: the
//! distance to the target, the leftover cash and the time. `--assets N`
//! (default 500) assets priced $5 + 0.5\,((7919 i) \bmod 997)$ with target
//! weights proportional to $1 + ((31 i) \bmod 17)$; `--budget V` (default
//! 1,000,000); `--method greedy | exact` (exact needs the `milp` feature);
//! `--gap g` the exact method's relative gap (default 1e-6).
use assetalloc::prelude::*;
use serde_json::json;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = cli::number(&args, "--assets", 500)?;
    let budget: f64 = cli::number(&args, "--budget", 1e6)?;
    let gap: f64 = cli::number(&args, "--gap", 1e-6)?;
    let method = match cli::flag(&args, "--method").unwrap_or("greedy") {
        "greedy" => OrderMethod::Greedy,
        "exact" => OrderMethod::Exact,
        other => return Err(cli::usage("--method", format!("{other:?} is not greedy or exact"))),
    };
    let names: Vec<String> = (0..n).map(|i| format!("A{i}")).collect();
    let prices: Vec<f64> = (0..n).map(|i| 5.0 + ((i * 7919) % 997) as f64 * 0.5).collect();
    let raw: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 31) % 17) as f64).collect();
    let total: f64 = raw.iter().sum();
    let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
    let o = Orders::params().budget(budget).method(method).gap(gap).fit_weights(&names, &weights, &prices)?;
    let out = json!({
        "assets": n,
        "budget": budget,
        "method": format!("{method:?}"),
        "distance": o.distance(),
        "leftover": o.leftover(),
        "proven": o.proven(),
        "ms": 1e3 * o.seconds(),
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    Ok(())
}
