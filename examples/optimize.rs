//! Loads a price CSV, estimates annualised sample moments, and runs
//! minimum variance, maximum Sharpe (r_f = 0) and a 100-point efficient
//! frontier (long-only, fully invested). Prints JSON: weights by asset,
//! expected return, volatility and Sharpe of each portfolio, and the
//! median wall time of each workload over `--repeat` runs (default 5).
//! `--critical-line` adds the same frontier by the critical line algorithm
//! (its time and the points' volatilities).
//!
//! With `--objective` it solves one mean–risk problem (or equal risk
//! budgets) on the returns as scenarios (per-period sample mean) and prints
//! its weights by asset, the measure at the optimum and the time:
//! `--objective min-risk | max-ratio | utility | target-return |
//! risk-budget | dr-cvar`, `--measure` one of variance, std, mad,
//! semi-deviation, flpm, cvar, evar, worst, max-drawdown, average-drawdown,
//! cdar, ulcer, edar, semi-variance, slpm, gmd, tail-gini, range,
//! cvar-range, tail-gini-range, rlvar, rldar (var and dar are measured, not
//! optimised: they answer with an error), `--alpha` the tail probability
//! of the tail measures (default 0.05), `--mar` the minimum acceptable
//! return per period of flpm, slpm and semi-deviation (default: the mean
//! for flpm and semi-deviation, 0 for slpm), `--kappa` the deformation of
//! rlvar and rldar (default 0.3), `--radius` the Wasserstein radius of
//! dr-cvar (default 0.01; its measure is CVaR at `--alpha`),
//! `--risk-aversion` for utility (default 1), `--target` the per-period mean
//! return for target-return; `--max-assets K` and `--min-position t` add
//! holding rules, met by branch and bound (its nodes and gap under
//! `search`; `--node-limit` and `--time-limit` bound it, default 10,000
//! nodes and 600 s).
//!
//! ```text
//! cargo run --release --example optimize -- data/sp500.csv
//! cargo run --release --example optimize -- prices.csv --points 100 --repeat 11
//! cargo run --release --example optimize -- data/sp500.csv --objective max-ratio --measure cdar --alpha 0.05
//! ```
use std::time::Instant;

use assetalloc::optimize::CriticalLine;
use assetalloc::prelude::*;
use serde_json::{json, Value};

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "data/sp500.csv".into());
    let points: usize = cli::number(&args, "--points", 100)?;
    let repeat: usize = cli::number(&args, "--repeat", 5)?;
    if let Some(objective) = cli::flag(&args, "--objective") {
        return mean_risk(&path, objective, &args);
    }
    let t_all = Instant::now();
    let (load_s, returns) = cli::timed(repeat, || Prices::read_csv(&path)?.returns(ReturnKind::Simple))?;
    let (moments_s, m) = cli::timed(repeat, || Ok(Moments::sample().fit(&returns)?.annualized()))?;
    let (mv_s, mv) = cli::timed(repeat, || Optimizer::min_variance().solve(&m))?;
    let (ms_s, ms) = cli::timed(repeat, || Optimizer::max_sharpe(0.0).solve(&m))?;
    let (f_s, f) = cli::timed(repeat, || Frontier::params().points(points).solve(&m))?;
    // The same frontier from the critical line's turning points.
    let (cla_s, cla) = if args.iter().any(|a| a == "--critical-line") {
        let n = m.n_assets();
        cli::timed(repeat, || CriticalLine::solve(m.mean(), m.cov(), &vec![0.0; n], &vec![1.0; n])?.frontier(points))?
    } else {
        (f64::NAN, Vec::new())
    };
    let frontier: Vec<Value> = f
        .points
        .iter()
        .map(|p| json!({"expected_return": p.expected_return(), "volatility": p.volatility()}))
        .collect();
    let out = json!({
        "source": path,
        "assets": m.n_assets(),
        "observations": returns.len(),
        "repeat": repeat,
        "load_and_returns_ms": 1e3 * load_s,
        "moments_ms": 1e3 * moments_s,
        "min_variance": cli::describe(&mv, mv_s),
        "max_sharpe": cli::describe(&ms, ms_s),
        "frontier": {"points": points, "median_ms": 1e3 * f_s, "portfolios": frontier},
        "frontier_critical_line": {"points": cla.len(), "median_ms": 1e3 * cla_s,
                                   "volatility": cla.iter().map(|w| w.dot(&m.cov().dot(w)).sqrt()).collect::<Vec<f64>>()},
        "total_ms": 1e3 * t_all.elapsed().as_secs_f64(),
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    Ok(())
}

/// One mean–risk problem on the file's returns as scenarios, as JSON.
fn mean_risk(path: &str, objective: &str, args: &[String]) -> Result<()> {
    let returns = Prices::read_csv(path)?.returns(ReturnKind::Simple)?;
    let measure = RiskMeasure::from_name(
        cli::flag(args, "--measure").unwrap_or("variance"),
        cli::number(args, "--alpha", 0.05)?,
    )?;
    let measure = match cli::flag(args, "--mar") {
        Some(_) => measure.with_mar(cli::number(args, "--mar", 0.0)?)?,
        None => measure,
    };
    let measure = match cli::flag(args, "--kappa") {
        Some(_) => measure.with_kappa(cli::number(args, "--kappa", RiskMeasure::KAPPA)?)?,
        None => measure,
    };
    let optimizer = match objective {
        "min-risk" => Optimizer::min_risk(measure),
        "max-ratio" => Optimizer::max_ratio(measure, 0.0),
        "utility" => Optimizer::max_utility(measure, cli::number(args, "--risk-aversion", 1.0)?),
        "target-return" => Optimizer::min_risk_at_return(measure, cli::number(args, "--target", 0.0005)?),
        "risk-budget" => Optimizer::risk_budgeting_for(measure, None),
        "dr-cvar" => Optimizer::dr_cvar(
            1.0 - cli::number(args, "--alpha", 0.05)?,
            cli::number(args, "--risk-aversion", 1.0)?,
            cli::number(args, "--radius", 0.01)?,
        ),
        other => {
            return Err(cli::usage(
                "--objective",
                format!("{other:?} is not one of min-risk, max-ratio, utility, target-return, risk-budget, dr-cvar"),
            ))
        }
    };
    let mut rules = Constraints::long_only();
    if cli::flag(args, "--max-assets").is_some() {
        rules = rules.max_assets(cli::number(args, "--max-assets", 0)?);
    }
    if cli::flag(args, "--min-position").is_some() {
        rules = rules.min_position(cli::number(args, "--min-position", 0.0)?);
    }
    let optimizer = optimizer
        .constraints(rules)
        .search_limits(cli::number(args, "--node-limit", 10_000)?, cli::number(args, "--time-limit", 600.0)?);
    let t0 = Instant::now();
    let a = optimizer.solve_scenarios(&returns)?;
    let seconds = t0.elapsed().as_secs_f64();
    let search = a.search().map(
        |s| json!({"proven": s.proven(), "nodes": s.nodes(), "solves": s.solves(), "gap": s.gap(), "held": s.held(), "seconds": s.seconds()}),
    );
    let weights: serde_json::Map<String, Value> =
        a.assets().iter().zip(a.weights().iter()).map(|(k, v)| (k.clone(), json!(v))).collect();
    let p = returns.values().dot(a.weights());
    let out = json!({
        "objective": a.objective(),
        "measure": format!("{measure:?}"),
        "weights": weights,
        "risk": measure.of(p.as_slice().unwrap_or(&[])),
        "mean": p.mean(),
        "solver_ms": 1e3 * a.solve_seconds(),
        "total_ms": 1e3 * seconds,
        "search": search,
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    Ok(())
}
