//! LSTM forecaster from the command line; prints JSON.
//!
//! ```text
//! # out-of-sample evaluation on the bundled S&P 500 (one asset, or all)
//! cargo run --release --example forecast -- --asset AAPL --epochs 30
//! cargo run --release --example forecast -- --epochs 30
//! # training throughput (samples/s) of 2×32, window 20, batch 64, for 1 and 20 inputs
//! cargo run --release --example forecast -- --throughput 1,20 [--hidden 32] [--batch 64]
//! # export a trained model for PyTorch (checked by tools/reference/lstm.py --verify DIR)
//! cargo run --release --example forecast -- --asset AAPL --epochs 3 --export /tmp/lstm
//! ```
use std::time::Instant;

use assetalloc::forecast::{Forecaster, LstmRegressor};
use assetalloc::nn::save_safetensors;
use assetalloc::prelude::*;
use dfdx::prelude::*;
use serde_json::json;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let epochs: usize = cli::number(&args, "--epochs", 30)?;
    if let Some(list) = cli::flag(&args, "--throughput") {
        for n in list.split(',') {
            let n: usize = n.parse().map_err(|_| cli::usage("--throughput", format!("cannot parse {n:?}")))?;
            let size = (cli::number(&args, "--hidden", 32)?, cli::number(&args, "--batch", 64)?);
            throughput(n, size, cli::number(&args, "--samples", 8192)?, cli::number(&args, "--epochs", 3)?)?;
        }
        return Ok(());
    }
    let prices = datasets::sp500()?;
    let returns = prices.returns(ReturnKind::Simple)?;
    let returns = match cli::flag(&args, "--asset") {
        Some(a) => returns.select(&[a])?,
        None => returns,
    };
    let t0 = Instant::now();
    let f = Forecaster::params().epochs(epochs).fit(&returns)?;
    let seconds = t0.elapsed().as_secs_f64();
    let e = f.evaluation()?;
    let scores: Vec<_> = e
        .scores
        .iter()
        .map(|(name, s)| {
            json!({"forecast": name, "mse": s.mse, "r2_vs_hist_mean": s.r2, "hit_rate": s.hit_rate,
                                "pearson": s.pearson, "spearman": s.spearman, "dm_t": s.dm_t})
        })
        .collect();
    println!(
        "{}",
        json!({"assets": returns.n_assets(), "epochs_run": f.history().epochs.len(), "best_epoch": f.history().best_epoch,
               "seconds": seconds, "test": e.dates.len(), "scores": scores, "verdict": e.verdict()})
    );
    if let Some(dir) = cli::flag(&args, "--export") {
        export(f.model(), returns.values(), f.scaler(), dir)?;
    }
    Ok(())
}

/// Training samples per second of the public training path (forward,
/// backward, clipping, Adam) on synthetic returns with `n` assets.
fn throughput(n: usize, (hidden, batch): (usize, usize), samples: usize, epochs: usize) -> Result<()> {
    let history = cli::lstm_training(&assetalloc::nn::training_cpu(), n, hidden, batch, samples, epochs)?;
    let rates: Vec<f64> = history.epochs.iter().map(|e| e.samples_per_sec).collect();
    let mut sorted = rates.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({"inputs": n, "hidden": hidden, "layers": 2, "window": 20, "batch": batch, "samples": samples,
               "threads": std::env::var("RAYON_NUM_THREADS").ok(),
               "samples_per_sec_by_epoch": rates, "samples_per_sec_median": sorted[sorted.len() / 2]})
    );
    Ok(())
}

fn export(
    model: &LstmRegressor<Cpu>,
    r: ndarray::ArrayView2<'_, f64>,
    scaler: &assetalloc::forecast::Scaler,
    dir: &str,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.into(), source: e })?;
    save_safetensors(model, format!("{dir}/model.safetensors"), Default::default())?;
    // Eight scaled windows of 20 rows from the end of the series.
    let (n, w, b) = (r.ncols(), 20, 8);
    let mut x = Vec::new();
    for k in 0..b {
        let end = r.nrows() - k;
        for row in r.slice(ndarray::s![end - w..end, ..]).rows() {
            x.extend(row.iter().enumerate().map(|(j, v)| ((v - scaler.mean[j]) / scaler.std[j]) as f32));
        }
    }
    let dev = Cpu::default();
    let pred = model.forward(dev.tensor_from_vec(x.clone(), (b, w, n)))?.as_vec();
    let io = json!({"inputs": n, "hidden": model.lstm().hidden_size(), "layers": model.lstm().num_layers(),
                    "outputs": n, "batch": b, "time": w, "x": x, "prediction": pred});
    std::fs::write(format!("{dir}/inputs.json"), io.to_string())
        .map_err(|e| Error::Io { path: dir.into(), source: e })?;
    eprintln!("wrote {dir}/model.safetensors and {dir}/inputs.json");
    Ok(())
}
