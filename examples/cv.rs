//! Cross-validation from the command line, as JSON.
//!
//! Splits only: the train/test rows of every split and the path each test
//! block belongs to.
//!
//! ```text
//! cargo run --release --example cv -- --dates 1000 --folds 10 --test-folds 2 --purge 5 --embargo 5
//! ```
//!
//! With prices and a strategy (names as in `examples/backtest.rs`): also
//! each path's out-of-sample Sharpe ratio, net of costs, beside 1/N's.
//!
//! ```text
//! cargo run --release --example cv -- data/sp500.csv --strategy minvar --folds 10 --test-folds 2 \
//!     [--cost-bps 10] [--every 21] [--repeat 5]
//! ```
//!
//! Weights are restored monthly within a test block, or every `--every`
//! periods; `--repeat` times the evaluation (median seconds).
//!
//! A stack (inverse volatility, minimum variance and maximum Sharpe ratio on
//! sample moments, cross-validated over five folds each tested once; the
//! outer optimiser minimum variance or maximum Sharpe ratio) on the last
//! `--rows` rows: its weights and the median seconds of `--repeat` fits.
//!
//! ```text
//! cargo run --release --example cv -- data/sp500.csv --stack minvar --rows 8310 [--repeat 5]
//! ```
//!
//! A hyper-parameter search (momentum: lookback × top k) run as shard i of
//! n, its trials written as CSV (`--out`); `--merge a.csv,b.csv,…` reads
//! shards back and prints every trial and the winner's deflated Sharpe
//! ratio.
//!
//! ```text
//! cargo run --release --example cv -- data/sp500.csv --search --shard 0/2 --out target/shard0.csv
//! cargo run --release --example cv -- --merge target/shard0.csv,target/shard1.csv
//! ```
use std::time::Instant;

use assetalloc::selection::{SearchResult, Splits};
use serde_json::{json, Value};

use assetalloc::prelude::*;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn splits_json(s: &Splits) -> Value {
    let folds: Vec<Value> = s
        .folds
        .iter()
        .map(|f| {
            let test: Vec<Value> = f.test.iter().map(|r| json!([r.start, r.end])).collect();
            json!({ "train": f.train, "test": test, "path": f.path })
        })
        .collect();
    json!({ "rows": s.len, "splits": folds, "paths": s.paths, "label": s.label })
}

fn search_json(r: &SearchResult) -> Result<Value> {
    let trials: Vec<Value> = r
        .rows
        .iter()
        .map(|t| json!({ "trial": t.trial.index, "parameters": t.trial.label(), "score": t.score, "score_sd": t.score_sd }))
        .collect();
    let winner = r.winner().map(|w| w.trial.label());
    let dsr = r.deflated_sharpe().ok();
    Ok(json!({ "cv": r.label, "trials": trials, "total": r.total, "winner": winner, "deflated_sharpe": dsr }))
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(list) = cli::flag(&args, "--merge") {
        let files: Vec<&str> = list.split(',').filter(|s| !s.is_empty()).collect();
        let merged = SearchResult::read_csv(&files)?;
        println!("{}", serde_json::to_string_pretty(&search_json(&merged)?).unwrap_or_default());
        return Ok(());
    }
    let splitter = CombinatorialPurged::params()
        .folds(cli::number(&args, "--folds", 10)?)
        .test_folds(cli::number(&args, "--test-folds", 2)?)
        .purge(cli::number(&args, "--purge", 0)?)
        .embargo(cli::number(&args, "--embargo", 0)?);
    let csv = args.first().filter(|a| !a.starts_with("--")).cloned();
    let Some(csv) = csv else {
        let dates: usize = cli::number(&args, "--dates", 0)?;
        let s = splitter.split(dates)?;
        println!("{}", serde_json::to_string(&splits_json(&s)).unwrap_or_default());
        return Ok(());
    };
    let returns = Prices::read_csv(&csv)?.returns(ReturnKind::Simple)?;
    if let Some(outer) = cli::flag(&args, "--stack") {
        let outer = match outer {
            "minvar" => Optimizer::min_variance(),
            "maxsharpe" => Optimizer::max_sharpe(0.0),
            _ => return Err(cli::usage("--stack", format!("expected minvar or maxsharpe, got {outer:?}"))),
        };
        let rows = cli::number(&args, "--rows", returns.len())?;
        let returns = returns.tail(rows)?;
        let stack = Stacking::params().outer(outer).inner(vec![
            Candidate::new(|| InverseVolatility::new(usize::MAX)),
            Candidate::new(|| Optimized::new("minimum variance", Optimizer::min_variance(), Moments::sample())),
            Candidate::new(|| Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::sample())),
        ]);
        let (seconds, fitted) = cli::timed(cli::number(&args, "--repeat", 1)?, || stack.fit(&returns))?;
        let json = json!({
            "source": csv, "rows": returns.len(), "assets": fitted.assets(), "weights": fitted.weights().to_vec(),
            "outer_weights": fitted.outer().weights().to_vec(), "seconds": seconds,
        });
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        return Ok(());
    }
    let mut backtest = Backtest::params().cost_bps(cli::number(&args, "--cost-bps", 10.0)?);
    if let Some(every) = cli::flag(&args, "--every") {
        let n =
            every.parse().map_err(|_| cli::usage("--every", format!("expected a number of periods, got {every:?}")))?;
        backtest = backtest.schedule(Schedule::Every(n));
    }
    let cv = CrossValidation::params().splitter(splitter).backtest(backtest);
    if args.iter().any(|a| a == "--search") {
        let shard = cli::flag(&args, "--shard").unwrap_or("0/1");
        let bad = || cli::usage("--shard", format!("expected i/n, got {shard:?}"));
        let (i, n) = shard.split_once('/').ok_or_else(bad)?;
        let (i, n) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        let grid = Grid::new().num("lookback", [21.0, 63.0, 126.0, 252.0]).num("top", [3.0, 5.0, 10.0]);
        let t0 = Instant::now();
        let result = Search::grid(grid)
            .cv(cv)
            .shard(i, n)
            .run(&returns, |t: &Trial| Ok(Momentum::new(t.count("lookback")?, t.count("top")?)))?;
        let seconds = t0.elapsed().as_secs_f64();
        if let Some(out) = cli::flag(&args, "--out") {
            result.to_csv(out)?;
        }
        let mut j = search_json(&result)?;
        j["seconds"] = json!(seconds);
        println!("{}", serde_json::to_string_pretty(&j).unwrap_or_default());
        return Ok(());
    }
    let name = cli::flag(&args, "--strategy").unwrap_or("minvar").to_string();
    let repeat: usize = cli::number(&args, "--repeat", 1)?;
    let candidate = {
        let make = cli::strategy(&name)?;
        Candidate::boxed(move || Ok(make()))
    };
    let (seconds, result) = cli::timed(repeat, || cv.evaluate(&returns, vec![candidate.clone()]))?;
    let strategy = result.names.last().cloned().unwrap_or_default();
    let strategy = &strategy;
    let sharpes = result.sharpes(strategy).unwrap_or_default();
    let baseline = result.sharpes(&result.names[0]).unwrap_or_default();
    let means: Vec<f64> =
        result.paths[result.paths.len() - 1].iter().map(|p| p.net.iter().sum::<f64>() / p.net.len() as f64).collect();
    let json = json!({
        "source": csv, "strategy": strategy, "splits": result.splits.folds.len(), "paths": result.splits.paths,
        "label": result.splits.label, "sharpe": sharpes, "equal_weight_sharpe": baseline, "path_mean_return": means, "seconds": seconds,
    });
    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    Ok(())
}
