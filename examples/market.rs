//! A fixed-weight policy rebalanced on the last trading day of each month,
//! simulated daily in a realistic market; prints JSON with the run time and
//! the final wealth (capital 1,000,000), for the side-by-side benchmark
//! against cvxportfolio (bench/market.py).
//!
//! ```text
//! cargo run --release --example market -- --dow
//! cargo run --release --example market -- --synthetic 500,2520 [--write target/bench/market]
//! ```
//!
//! `--dow`: the bundled 28 Dow stocks of 2014, weights 0.95·i/Σi, a 5 bps
//! spread and market impact (b = 1, σ over 21 days, the day's volume),
//! cash earning the bundled cash return. `--synthetic ASSETS,DAYS`: the
//! generator's factor market with volumes (seed 7), a long-short book (the
//! first half long 1.3 in all, the second short 0.3), a 5 bps spread,
//! impact and a 2 % annual borrow fee, cash at 0. `--write DIR` writes the
//! synthetic simple returns and volumes as CSV for the peer. The run time
//! covers the policy and the 1/N baseline the engine always adds.
use std::time::Instant;

use assetalloc::prelude::*;
use ndarray::{Array1, ArrayView1};
use serde_json::json;

mod cli;

fn main() {
    cli::main(run);
}

/// Holds fixed target weights.
struct Fixed(Array1<f64>);

impl Strategy for Fixed {
    fn name(&self) -> String {
        "fixed weights".into()
    }
    fn decide(&mut self, _: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        Ok(Some(self.0.clone()))
    }
}

fn run() -> cli::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = Backtest::params().schedule(Schedule::Monthly).lookback(21).capital(1e6);
    let (label, returns, bt, weights) = match cli::flag(&args, "--synthetic") {
        None => {
            let dow = datasets::dow_2014()?;
            let n = dow.returns.n_assets();
            let total = (n * (n + 1) / 2) as f64;
            let w = Array1::from_iter((1..=n).map(|i| 0.95 * i as f64 / total));
            let costs = CostModel::bps(5.0).impact(Impact::new(1.0, &dow.volumes).sigma_window(21));
            ("dow 2014".to_string(), dow.returns, base.costs(costs).cash_returns(&dow.cash), w)
        }
        Some(spec) => {
            let (returns, volumes) = cli::synthetic_market(spec, cli::flag(&args, "--write"))?;
            let n = returns.n_assets();
            let half = n / 2;
            let w =
                Array1::from_iter((0..n).map(|i| if i < half { 1.3 / half as f64 } else { -0.3 / (n - half) as f64 }));
            let costs = CostModel::bps(5.0)
                .impact(Impact::new(1.0, &volumes).sigma_window(21))
                .borrow(AssetRates::constant(0.02));
            (format!("synthetic {spec}"), returns, base.costs(costs).max_leverage(2.0), w)
        }
    };
    let t = Instant::now();
    let cmp = bt.run_returns(&returns, strategies![Fixed(weights)])?;
    let seconds = t.elapsed().as_secs_f64();
    let p = cmp.get("fixed weights").ok_or_else(|| Error::Shape("the report lacks the fixed-weight policy".into()))?;
    let paid = p.costs_by_component();
    println!(
        "{}",
        json!({
            "data": label,
            "assets": returns.n_assets(),
            "days": p.net.len(),
            "rebalances": p.rebalances.len(),
            "seconds": seconds,
            "final_wealth": p.wealth().last().copied().unwrap_or(f64::NAN),
            "costs": assetalloc::market::COST_COMPONENTS.iter().zip(paid).map(|(c, v)| (c.to_string(), v)).collect::<std::collections::BTreeMap<_, _>>(),
        })
    );
    Ok(())
}
