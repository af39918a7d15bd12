//! Walk-forward backtest from the command line; prints JSON with the metrics
//! of each strategy (net of costs), its number of rebalances, and the run
//! time. Strategies: ew (1/N, always included), bh (buy and hold),
//! ivol (inverse volatility, 63 days), minvar, maxsharpe, riskparity
//! (Ledoit–Wolf moments on the lookback window).
//!
//! ```text
//! cargo run --release --example backtest -- data/sp500.csv \
//!     --rebalance 21 --lookback 252 --cost-bps 10 --strategies bh,ivol,minvar,maxsharpe \
//!     [--returns-csv target/returns.csv]
//! ```
use std::time::Instant;

use assetalloc::prelude::*;
use serde_json::json;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn number<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T> {
    match flag(args, name) {
        None => Ok(default),
        Some(v) => {
            v.parse().map_err(|_| Error::InvalidParameter { name: name.into(), message: format!("cannot parse {v:?}") })
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "data/sp500.csv".into());
    let every: usize = number(&args, "--rebalance", 21)?;
    let lookback: usize = number(&args, "--lookback", 252)?;
    let cost: f64 = number(&args, "--cost-bps", 10.0)?;
    let names = flag(&args, "--strategies").unwrap_or("bh,ivol,minvar,maxsharpe");
    let mut strategies: Vec<Box<dyn Strategy>> = Vec::new();
    for s in names.split(',').filter(|s| !s.is_empty()) {
        strategies.push(match s {
            "ew" => Box::new(EqualWeight),
            "bh" => Box::new(BuyAndHold::new()),
            "ivol" => Box::new(InverseVolatility::new(63)),
            "minvar" => Box::new(Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf())),
            "maxsharpe" => {
                Box::new(Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf()))
            }
            "riskparity" => Box::new(Optimized::new("risk parity", Optimizer::risk_parity(), Moments::ledoit_wolf())),
            other => {
                return Err(Error::InvalidParameter {
                    name: "--strategies".into(),
                    message: format!("unknown strategy {other:?}; use ew, bh, ivol, minvar, maxsharpe, riskparity"),
                })
            }
        });
    }
    let t0 = Instant::now();
    let prices = Prices::read_csv(&path)?;
    let load_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let cmp = Backtest::params()
        .schedule(Schedule::Every(every))
        .lookback(lookback)
        .cost_bps(cost)
        .run(&prices, strategies)?;
    let run_s = t1.elapsed().as_secs_f64();
    let out: Vec<_> = cmp
        .reports
        .iter()
        .map(|r| {
            let m = r.metrics();
            json!({
                "strategy": r.name, "rebalances": r.rebalances.len(), "cagr": m.cagr, "volatility": m.volatility,
                "sharpe": m.sharpe, "sortino": m.sortino, "max_drawdown": m.max_drawdown, "calmar": m.calmar,
                "var95": m.var95, "cvar95": m.cvar95, "average_turnover": r.average_turnover(), "total_cost": r.total_cost(),
                "final_wealth": r.equity().last().copied().unwrap_or(1.0),
            })
        })
        .collect();
    if let Some(csv) = flag(&args, "--returns-csv") {
        let mut text = String::from("date");
        for r in &cmp.reports {
            text.push(',');
            text.push_str(&r.name.replace(',', ";"));
        }
        text.push('\n');
        for (i, d) in cmp.reports[0].dates.iter().enumerate() {
            text.push_str(&d.to_string());
            for r in &cmp.reports {
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
