//! Walk-forward backtest from the command line; prints JSON with the metrics
//! of each strategy (net of costs), its number of rebalances, and the run
//! time. Strategies: ew (1/N, always included), bh (buy and hold),
//! ivol (inverse volatility, 63 days), momentum (top 5 over 126 days),
//! minvar, maxsharpe, riskparity (Ledoit–Wolf moments on the lookback
//! window), hrp, herc, minvar-factor and maxsharpe-factor (a 10-component
//! statistical factor model fitted on the window; the optimiser works on
//! its factored form).
//!
//! ```text
//! cargo run --release --example backtest -- data/sp500.csv \
//!     --rebalance 21|monthly --lookback 252 --cost-bps 10 --strategies bh,ivol,minvar,maxsharpe \
//!     [--returns-csv target/returns.csv]
//! cargo run --release --example backtest -- --synthetic 500,8000 --strategies minvar
//! cargo run --release --example backtest -- --synthetic 500,8000 --strategies minvar-factor,minvar --time-each
//! ```
//!
//! `--synthetic ASSETS,DAYS` replaces the CSV by the generator's factor market
//! (3 factors, R² 0.4, seed 7). `--time-each` runs the strategies one after
//! another instead of side by side (each beside 1/N) and reports each one's
//! `seconds`, so one command gives the ratio of two strategies' run times.
use std::time::Instant;

use assetalloc::prelude::*;
use serde_json::json;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn synthetic(spec: &str) -> Result<Prices> {
    let bad = || cli::usage("--synthetic", format!("expected ASSETS,DAYS, got {spec:?}"));
    let (a, d) = spec.split_once(',').ok_or_else(bad)?;
    let (assets, days) = (a.trim().parse().map_err(|_| bad())?, d.trim().parse().map_err(|_| bad())?);
    let market = Synthetic::params()
        .assets(assets)
        .days(days)
        .correlation(Correlation::Factors { factors: 3, r2: 0.4 })
        .seed(7)
        .generate()?;
    Ok(market.prices)
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "data/sp500.csv".into());
    let schedule = match cli::flag(&args, "--rebalance") {
        Some("monthly") => Schedule::Monthly,
        _ => Schedule::Every(cli::number(&args, "--rebalance", 21)?),
    };
    let every = cli::flag(&args, "--rebalance").unwrap_or("21").to_string();
    let lookback: usize = cli::number(&args, "--lookback", 252)?;
    let cost: f64 = cli::number(&args, "--cost-bps", 10.0)?;
    let names = cli::flag(&args, "--strategies").unwrap_or("bh,ivol,minvar,maxsharpe");
    let mut strategies: Vec<Box<dyn Strategy>> = Vec::new();
    for s in names.split(',').filter(|s| !s.is_empty()) {
        strategies.push(cli::strategy(s)?());
    }
    let t0 = Instant::now();
    let (path, prices) = match cli::flag(&args, "--synthetic") {
        Some(spec) => (format!("synthetic {spec}"), synthetic(spec)?),
        None => (path.clone(), Prices::read_csv(&path)?),
    };
    let load_s = t0.elapsed().as_secs_f64();
    let backtest = Backtest::params().schedule(schedule).lookback(lookback).cost_bps(cost);
    let t1 = Instant::now();
    let (reports, seconds) = if args.iter().any(|a| a == "--time-each") {
        let (mut reports, mut seconds) = (Vec::new(), Vec::new());
        for s in strategies {
            let t = Instant::now();
            let run = backtest.run(&prices, vec![s])?.reports;
            let elapsed = t.elapsed().as_secs_f64();
            // Every run holds 1/N first: kept once, the strategy with its time.
            let last = run.len() - 1;
            for (k, r) in run.into_iter().enumerate() {
                if !reports.iter().any(|q: &Portfolio| q.name == r.name) {
                    seconds.push((k == last).then_some(elapsed));
                    reports.push(r);
                }
            }
        }
        (reports, seconds)
    } else {
        let reports = backtest.run(&prices, strategies)?.reports;
        let n = reports.len();
        (reports, vec![None; n])
    };
    let run_s = t1.elapsed().as_secs_f64();
    let out: Vec<_> = reports
        .iter()
        .zip(&seconds)
        .map(|(r, secs)| {
            let m = r.metrics();
            json!({
                "seconds": secs,
                "strategy": r.name, "rebalances": r.rebalances.len(), "cagr": m.cagr, "volatility": m.volatility,
                "sharpe": m.sharpe, "sortino": m.sortino, "max_drawdown": m.max_drawdown, "calmar": m.calmar,
                "var95": m.var95, "cvar95": m.cvar95, "average_turnover": r.average_turnover(), "total_cost": r.total_cost(),
                "final_wealth": r.equity().last().copied().unwrap_or(1.0),
            })
        })
        .collect();
    if let Some(csv) = cli::flag(&args, "--returns-csv") {
        let mut text = String::from("date");
        for r in &reports {
            text.push(',');
            text.push_str(&r.name.replace(',', ";"));
        }
        text.push('\n');
        for (i, d) in reports[0].dates.iter().enumerate() {
            text.push_str(&d.to_string());
            for r in &reports {
                text.push_str(&format!(",{}", r.net[i]));
            }
            text.push('\n');
        }
        std::fs::write(csv, text).map_err(|source| Error::Io { path: csv.into(), source })?;
    }
    let json = json!({
        "source": path, "assets": prices.n_assets(), "days": prices.len(), "rebalance_every": every,
        "lookback": lookback, "cost_bps": cost, "load_seconds": load_s, "backtest_seconds": run_s, "strategies": out,
    });
    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    Ok(())
}
