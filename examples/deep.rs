//! Deep allocator from the command line; prints JSON.
//!
//! ```text
//! # time per training epoch on the bundled S&P 500 (20 stocks, 1990–2022,
//! # every 20-day window; the study's network, Markowitz λ = 0.1, batch 64)
//! cargo run --release --example deep -- --epoch-time --epochs 3
//! # one fit with the study's settings: training history and today's weights
//! cargo run --release --example deep -- --epochs 30
//! # forward + backward of the Markowitz layer on a batch of problems
//! # written by bench/layers.py (median of R runs)
//! cargo run --release --example deep -- --layer-time problems.json --repeat 20
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
    if let Some(path) = cli::flag(&args, "--layer-time") {
        return layer_time(path, cli::number(&args, "--repeat", 20)?);
    }
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

/// Times the Markowitz layer's forward and backward pass on the batch in
/// `path` (n, gamma, cap, turnover and per-problem mu, factor L with
/// Σ = LLᵀ, previous weights and cotangent): the gradients of c·w with
/// respect to μ and L, as cvxpylayers computes them in bench/layers.py.
fn layer_time(path: &str, repeat: usize) -> Result<()> {
    use dfdx::prelude::*;
    let text = std::fs::read_to_string(path).map_err(|e| cli::usage("--layer-time", e))?;
    let spec: serde_json::Value = serde_json::from_str(&text).map_err(|e| cli::usage("--layer-time", e))?;
    let num = |k: &str| spec[k].as_f64().ok_or_else(|| cli::usage("--layer-time", format!("no number {k:?}")));
    let list = |k: &str| -> Result<Vec<f32>> {
        let v = spec[k].as_array().ok_or_else(|| cli::usage("--layer-time", format!("no list {k:?}")))?;
        Ok(v.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect())
    };
    let n = num("n")? as usize;
    let b = num("batch")? as usize;
    let layer = assetalloc::deep::MarkowitzLayer::params(n)
        .risk_aversion(num("gamma")?)
        .bounds(0.0, num("cap")?)
        .turnover(num("turnover")?)
        .build()?;
    let previous: Vec<f64> = list("previous")?.iter().map(|&v| f64::from(v)).collect();
    let previous = ndarray::Array2::from_shape_vec((b, n), previous).map_err(|e| cli::usage("previous", e))?;
    let dev = assetalloc::nn::training_cpu();
    let mu = dev.tensor_from_vec(list("mu")?, (b, n));
    let factor = dev.tensor_from_vec(list("factor")?, (b, n, n));
    let cot = dev.tensor_from_vec(list("cotangent")?, (b, n));
    let (seconds, grads) = cli::timed(repeat, || {
        let transposed = factor.retaped::<OwnedTape<f32, Cpu>>().permute::<_, Axes3<0, 2, 1>>() * 1.0;
        let cov = factor.clone().leaky_traced().matmul(transposed);
        let w = layer.weights_learning_covariance(mu.clone().leaky_traced(), cov, Some(previous.view()))?;
        let g = (w * cot.clone()).sum().backward();
        Ok((g.get(&mu).as_vec(), g.get(&factor).as_vec()))
    })?;
    let stats = layer.stats();
    println!(
        "{}",
        json!({"batch": b, "assets": n, "seconds_median": seconds, "grad_mu": grads.0, "grad_factor": grads.1,
               "solves": stats.solves, "degenerate": stats.degenerate, "dependent": stats.dependent})
    );
    Ok(())
}
