//! Trade-aware policies on the bundled Dow year, decided every day from the
//! 63rd return: single-period (SPO) and multi-period (MPO, 5 periods)
//! mean–variance with a 5 bps spread and market impact (b = 1), the
//! forecasts of the reference test (the window's mean shrunk by 0.2,
//! decaying by 0.7 a period in the plan; its sample covariance). Prints
//! JSON with each policy's run time and final wealth (capital 1,000,000),
//! for the side-by-side benchmark against cvxportfolio
//! (bench/trade_aware.py).
//!
//! `--synthetic ASSETS,DAYS [--write DIR]`: instead, the generator's
//! factor market with volumes (seed 7), decided on the last trading day of
//! each month from the 252nd return: single-period mean–variance on a
//! 10-factor principal-component model of the last 252 days (per-period
//! moments), long-only with cash, a 5 bps spread and impact (b = 1).
//! `--write DIR` writes the simple returns and volumes as CSV for the peer.
//!
//! ```text
//! cargo run --release --example trade_aware
//! cargo run --release --example trade_aware -- --synthetic 500,2520 --write target/bench/trade_aware
//! ```
//!
//! Each time covers one backtest call: the policy and the 1/N baseline the
//! engine always adds.
use std::time::Instant;

use assetalloc::optimize::MultiPeriod;
use assetalloc::prelude::*;
use serde_json::json;

mod cli;

fn main() {
    cli::main(run);
}

/// The window's sample moments with the mean shrunk by `shrink`, decaying
/// by `decay` a period, for `horizon` periods.
fn forecasts(window: &Window<'_>, shrink: f64, decay: f64, horizon: usize) -> Result<Vec<Moments>> {
    let m = window.moments(&Moments::sample())?;
    (0..horizon)
        .map(|k| {
            let mean = m.mean() * (shrink * decay.powi(k as i32));
            Moments::new(m.assets().to_vec(), mean, m.cov().clone(), m.periods_per_year())
        })
        .collect()
}

/// The monthly factor-model policy on a synthetic market.
fn synthetic(spec: &str, write: Option<&str>) -> cli::Result<()> {
    let (returns, volumes) = cli::synthetic_market(spec, write)?;
    let n = returns.n_assets();
    let costs = CostModel::bps(5.0).impact(Impact::new(1.0, &volumes).sigma_window(21));
    let bt = Backtest::params().schedule(Schedule::Monthly).lookback(252).capital(1e6).costs(costs);
    let pca = FactorModel::pca(assetalloc::estimate::Components::Count(10));
    let policy = Optimized::new(
        "SPO, factor model",
        Optimizer::mean_variance(10.0).constraints(Constraints::long_only().allow_cash()),
        Moments::sample(),
    )
    .forecasts(move |w| Ok(vec![pca.fit(&w.to_returns()?)?.moments().clone()]));
    let t = Instant::now();
    let cmp = bt.run_returns(&returns, strategies![policy])?;
    let seconds = t.elapsed().as_secs_f64();
    let p = cmp.get("SPO, factor model").ok_or_else(|| Error::Shape("the report lacks the policy".into()))?;
    println!(
        "{}",
        json!({
            "policy": p.name,
            "assets": n,
            "days": p.net.len(),
            "decisions": p.rebalances.len(),
            "seconds": seconds,
            "final_wealth": p.wealth().last().copied().unwrap_or(f64::NAN),
        })
    );
    Ok(())
}

fn run() -> cli::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(spec) = cli::flag(&args, "--synthetic") {
        return synthetic(spec, cli::flag(&args, "--write"));
    }
    let dow = datasets::dow_2014()?;
    let costs = CostModel::bps(5.0).impact(Impact::new(1.0, &dow.volumes).sigma_window(21));
    let bt = Backtest::params().schedule(Schedule::Every(1)).lookback(63).capital(1e6).costs(costs);
    let cash = Constraints::long_only().allow_cash();
    let mut out = Vec::new();
    for horizon in [1usize, 5] {
        let strategy: Box<dyn Strategy> = if horizon == 1 {
            Box::new(
                Optimized::new("SPO", Optimizer::mean_variance(10.0).constraints(cash.clone()), Moments::sample())
                    .forecasts(|w| forecasts(w, 0.2, 1.0, 1)),
            )
        } else {
            Box::new(
                Optimized::multi_period(
                    "MPO",
                    MultiPeriod::new(10.0).constraints(cash.clone()),
                    horizon,
                    Moments::sample(),
                )
                .forecasts(move |w| forecasts(w, 0.2, 0.7, horizon)),
            )
        };
        let name = strategy.name();
        let t = Instant::now();
        let cmp = bt.run_returns(&dow.returns, vec![strategy])?;
        let seconds = t.elapsed().as_secs_f64();
        let p = cmp.get(&name).ok_or_else(|| Error::Shape(format!("the report lacks {name}")))?;
        out.push(json!({
            "policy": name,
            "horizon": horizon,
            "assets": dow.returns.n_assets(),
            "decisions": p.rebalances.len(),
            "seconds": seconds,
            "final_wealth": p.wealth().last().copied().unwrap_or(f64::NAN),
        }));
    }
    println!("{}", serde_json::Value::Array(out));
    Ok(())
}
