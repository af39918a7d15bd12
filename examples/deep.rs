//! Deep allocator from the command line; prints JSON.
//!
//! ```text
//! # time per training epoch on the bundled S&P 500 (20 stocks, 1990–2022,
//! # every 20-day window; the study's network, Markowitz λ = 0.1, batch 64)
//! cargo run --release --example deep -- --epoch-time --epochs 3
//! # one fit with the study's settings: training history and today's weights
//! cargo run --release --example deep -- --epochs 30
//! ```
use assetalloc::prelude::*;
use serde_json::json;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let returns = datasets::sp500()?.returns(ReturnKind::Log)?;
    if cli::flag(&args, "--epoch-time").is_some() {
        let epochs: usize = cli::number(&args, "--epochs", 3)?;
        // All samples train: no validation block, no early stopping.
        let (lookback, horizon) = (20, 20);
        let p = DeepAllocator::params()
            .lookback(lookback)
            .horizon(horizon)
            .validation(0.0)
            .patience(None)
            .epochs(epochs)
            .verbose(false);
        let a = p.fit(&returns)?;
        let n = returns.len() - lookback - horizon + 1;
        let mut secs: Vec<f64> = a.history().epochs.iter().map(|e| n as f64 / e.samples_per_sec).collect();
        secs.sort_by(f64::total_cmp);
        println!(
            "{}",
            json!({"samples": n, "assets": returns.n_assets(), "epochs": epochs, "batch": p.train_params().batch_size,
                   "seconds_per_epoch_median": secs[secs.len() / 2], "seconds_per_epoch": secs})
        );
        return Ok(());
    }
    let epochs: usize = cli::number(&args, "--epochs", 30)?;
    let a = DeepAllocator::params().epochs(epochs).fit(&returns)?;
    let w = a.weights(returns.values())?;
    let weights: Vec<_> =
        a.assets().iter().zip(w.values().iter()).map(|(k, v)| json!({"asset": k, "weight": v})).collect();
    println!(
        "{}",
        json!({"epochs_run": a.history().epochs.len(), "best_epoch": a.history().best_epoch,
               "validation_loss": a.history().epochs.iter().map(|e| e.val_loss).collect::<Vec<_>>(),
               "weights": weights})
    );
    Ok(())
}
