//! CPU against GPU for the networks, through the public training path;
//! prints one JSON object. Built without a GPU by tools/cuda.sh and run on
//! the GPU machine by tools/gpu_run.sh.
//!
//! ```text
//! bash tools/cuda.sh && target/release/examples/gpu_check [--epochs 3]
//! ```
//!
//! - equality: the forecaster (2×32 LSTM, 20 S&P 500 stocks) and the deep
//!   allocator (CNN+LSTM) with identical weights on both devices, the
//!   largest difference of their outputs on 512 windows; then both trained
//!   from the same seed for the same epochs on each device, the largest
//!   difference of the trained models' outputs;
//! - speed: training samples/s on each device (median over the epochs after
//!   the first, which loads the kernels) and the ratio;
//! - the LSTM's training throughput at 2×32 and 2×256, batch 64 and 1024,
//!   window 20, 20 inputs (synthetic returns), the workloads bench/gpu.py
//!   runs in PyTorch;
//! - the typed errors for a GPU ordinal that does not exist.
use std::time::Instant;

use assetalloc::deep::{Architecture, CnnLstm, DeepAllocator, PortfolioLoss};
use assetalloc::forecast::{Forecaster, LstmRegressor};
use assetalloc::nn::{training_cpu, Backend, Device, Matrix, Parameters, Sequence};
use assetalloc::prelude::*;
use dfdx::prelude::*;
use serde_json::{json, Value};

mod cli;

fn main() {
    cli::main(run);
}

fn run() -> cli::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let epochs: usize = cli::number(&args, "--epochs", 3)?;
    let t0 = Instant::now();
    let bad = match Device::cuda(7) {
        Ok(d) => format!("unexpectedly opened {d}"),
        Err(e) => e.to_string(),
    };
    let gpu = match Device::cuda(0) {
        Ok(Device::Cuda(g)) => g,
        Ok(_) => unreachable!("Device::cuda returns a GPU"),
        Err(e) => {
            println!("{}", json!({"gpu": Value::Null, "why": e.to_string(), "cuda_7": bad}));
            std::process::exit(1);
        }
    };
    let threads = rayon_threads();
    eprintln!("gpu_check: {} ; CPU threads {threads}", Device::Cuda(gpu.clone()));
    let cuda = gpu.dfdx()?;
    let cpu = training_cpu();

    let simple = datasets::sp500()?.returns(ReturnKind::Simple)?;
    let forecaster = section("forecaster", || {
        let p = Forecaster::params()
            .lookback(20)
            .hidden(32)
            .layers(2)
            .batch_size(64)
            .epochs(epochs)
            .patience(None)
            .split(0.0, 0.0)
            .seed(7)
            .verbose(false);
        let on_cpu = p.fit_on(&cpu, &simple)?;
        let on_gpu = p.fit_on(&cuda, &simple)?;
        let x = windows(&simple, 20, 512, |v| v);
        let same = max_diff(
            &forward(on_cpu.model(), &cpu, &x, |m, x| m.forward(x))?,
            &forward(&on_cpu.model().to_device(&cuda)?, &cuda, &x, |m, x| m.forward(x))?,
        );
        let trained = max_diff(
            &forward(on_cpu.model(), &cpu, &x, |m, x| m.forward(x))?,
            &forward(on_gpu.model(), &cuda, &x, |m, x| m.forward(x))?,
        );
        Ok(compare(
            "forecaster 2x32, window 20, batch 64, 20 inputs",
            same,
            trained,
            on_cpu.history(),
            on_gpu.history(),
        ))
    });
    eprintln!("gpu_check: forecaster done at {:.0} s", t0.elapsed().as_secs_f64());

    let log = datasets::sp500()?.returns(ReturnKind::Log)?;
    let deep = section("deep allocator", || {
        let p = DeepAllocator::params()
            .lookback(20)
            .horizon(20)
            .validation(0.0)
            .patience(None)
            .epochs(epochs)
            .seed(7)
            .verbose(false);
        let on_cpu = p.fit_on(&cpu, &log)?;
        let on_gpu = p.fit_on(&cuda, &log)?;
        let scale = p.scale_factor();
        let x = windows(&log, 20, 512, |v| v * scale);
        let moved = on_cpu.to_device(&cuda)?;
        let same = max_diff(
            &forward(on_cpu.network(), &cpu, &x, |m, x| m.forward(x))?,
            &forward(moved.network(), &cuda, &x, |m, x| m.forward(x))?,
        );
        let trained = max_diff(
            &forward(on_cpu.network(), &cpu, &x, |m, x| m.forward(x))?,
            &forward(on_gpu.network(), &cuda, &x, |m, x| m.forward(x))?,
        );
        let mut v =
            compare("deep allocator CNN+LSTM, S&P 500, batch 64", same, trained, on_cpu.history(), on_gpu.history());
        // Gradients of the loss at identical weights, and the drift after
        // one epoch: tells a wrong gradient from float noise that Adam's
        // normalised steps amplify over epochs.
        let fresh = CnnLstm::new(&cpu, log.n_assets(), 20, Architecture::default(), 7)?;
        let (gc, gg) = (
            deep_gradients(&fresh, &cpu, &log, scale)?,
            deep_gradients(&fresh.to_device(&cuda, 20)?, &cuda, &log, scale)?,
        );
        let worst = gc.iter().flatten().map(|g| g.abs() as f64).fold(0.0, f64::max);
        let diff = gc.iter().zip(&gg).map(|(a, b)| max_diff(a, b)).fold(0.0, f64::max);
        v["gradient_max_abs_diff_over_max_abs"] = json!(diff / worst);
        let one = p.clone().epochs(1);
        let (a, b) = (one.fit_on(&cpu, &log)?, one.fit_on(&cuda, &log)?);
        v["trained_1_epoch_max_abs_diff"] = json!(max_diff(
            &forward(a.network(), &cpu, &x, |m, x| m.forward(x))?,
            &forward(b.network(), &cuda, &x, |m, x| m.forward(x))?,
        ));
        Ok(v)
    });
    eprintln!("gpu_check: deep allocator done at {:.0} s", t0.elapsed().as_secs_f64());

    let mut lstm = Vec::new();
    for hidden in [32usize, 256] {
        for batch in [64usize, 1024] {
            // Enough steps for a steady rate on the GPU; fewer samples on the
            // CPU where a large network would take minutes.
            let gpu_samples = (32 * batch).max(8192);
            let cpu_samples = if hidden >= 256 { 2 * batch.max(512) } else { 8192 };
            lstm.push(section("lstm", || {
                let on_gpu = lstm_rate(&cuda, hidden, batch, gpu_samples, epochs)?;
                let on_cpu = lstm_rate(&cpu, hidden, batch, cpu_samples, epochs.min(2))?;
                let (forward_ms, backward_ms) = phases(&cuda, hidden, batch)?;
                Ok(json!({"layers": 2, "hidden": hidden, "batch": batch, "window": 20, "inputs": 20,
                          "cpu_samples_per_s": on_cpu, "gpu_samples_per_s": on_gpu, "gpu_over_cpu": on_gpu / on_cpu,
                          "gpu_samples": gpu_samples, "cpu_samples": cpu_samples,
                          "gpu_step_ms": 1e3 * batch as f64 / on_gpu, "gpu_forward_ms": forward_ms,
                          "gpu_forward_backward_ms": forward_ms + backward_ms}))
            }));
            eprintln!("gpu_check: lstm 2x{hidden} batch {batch} done at {:.0} s", t0.elapsed().as_secs_f64());
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "gpu": Device::Cuda(gpu).to_string(), "cpu_threads": threads, "epochs": epochs,
            "forecaster": forecaster, "deep": deep, "lstm_training": lstm, "cuda_7": bad,
            "seconds": t0.elapsed().as_secs_f64()}))
        .expect("JSON")
    );
    Ok(())
}

/// One part of the check; its failure (an error or a panic) is recorded
/// and the others still run.
fn section(what: &str, f: impl FnOnce() -> Result<Value>) -> Value {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            eprintln!("gpu_check: {what} failed: {e}");
            json!({"error": e.to_string()})
        }
        Err(p) => {
            let message =
                p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            eprintln!("gpu_check: {what} panicked: {message:?}");
            json!({"panic": message})
        }
    }
}

fn rayon_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The last `count` windows of `rows` rows, transformed by `f`, flattened
/// `[count, rows, assets]`.
fn windows(r: &Returns, rows: usize, count: usize, f: impl Fn(f64) -> f64) -> (Vec<f32>, (usize, usize, usize)) {
    let v = r.values();
    let n = v.ncols();
    let mut x = Vec::with_capacity(count * rows * n);
    for k in 0..count {
        let end = v.nrows() - k;
        x.extend(v.slice(ndarray::s![end - rows..end, ..]).iter().map(|&a| f(a) as f32));
    }
    (x, (count, rows, n))
}

fn forward<D: Backend, M>(
    model: &M,
    dev: &D,
    x: &(Vec<f32>, (usize, usize, usize)),
    f: impl Fn(&M, Sequence<D>) -> Result<Tensor<(usize, usize), f32, D>>,
) -> Result<Vec<f32>> {
    let t: Sequence<D> = dev.tensor_from_vec(x.0.clone(), x.1);
    Ok(f(model, t)?.as_vec())
}

fn max_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() as f64).fold(0.0, f64::max)
}

/// Median samples/s over the epochs after the first (the first loads the
/// GPU's kernels), or the one epoch.
fn rate(h: &assetalloc::nn::History) -> f64 {
    let mut r: Vec<f64> = h.epochs.iter().skip(usize::from(h.epochs.len() > 1)).map(|e| e.samples_per_sec).collect();
    r.sort_by(f64::total_cmp);
    r[r.len() / 2]
}

fn compare(what: &str, same: f64, trained: f64, cpu: &assetalloc::nn::History, gpu: &assetalloc::nn::History) -> Value {
    let (c, g) = (rate(cpu), rate(gpu));
    json!({"workload": what, "identical_weights_max_abs_diff": same, "trained_max_abs_diff": trained,
           "final_train_loss_cpu": cpu.epochs.last().map(|e| e.train_loss),
           "final_train_loss_gpu": gpu.epochs.last().map(|e| e.train_loss),
           "cpu_samples_per_s": c, "gpu_samples_per_s": g, "gpu_over_cpu": g / c})
}

/// The gradient of the Markowitz loss for the 64 latest windows of
/// `lookback` 20 and horizon 20, per parameter.
fn deep_gradients<D: Backend>(net: &CnnLstm<D>, dev: &D, log: &Returns, scale: f64) -> Result<Vec<Vec<f32>>> {
    let v = log.values();
    let (n, b, t, f) = (v.ncols(), 64, 20, 20);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for k in 0..b {
        let s = v.nrows() - t - f - k;
        x.extend(v.slice(ndarray::s![s..s + t, ..]).iter().map(|&a| (a * scale) as f32));
        y.extend(v.slice(ndarray::s![s + t..s + t + f, ..]).t().iter().map(|&a| (a * scale) as f32));
    }
    let x: Sequence<D> = dev.tensor_from_vec(x, (b, t, n));
    let y: Sequence<D> = dev.tensor_from_vec(y, (b, n, f));
    let w = net.forward(x.traced(Gradients::leaky()))?;
    let mut grads = PortfolioLoss::markowitz(0.1).loss(w, &y)?.backward();
    net.parameters().into_iter().map(|(_, p)| p.gradient(&mut grads)).collect()
}

/// Where a training step's time goes on `dev`: milliseconds of the forward
/// pass (no tape) and of the loss's backward pass after a taped forward, for
/// one batch of the 2-layer LSTM regressor; each timed call ends with a
/// small copy to the host, so queued GPU work is counted. The rest of a
/// step (gathering the batch, the gradient norm, Adam) is the step's time
/// less these.
fn phases<D: Backend>(dev: &D, hidden: usize, batch: usize) -> Result<(f64, f64)> {
    let m = LstmRegressor::new(dev, 20, hidden, 2, 20, 3)?;
    let x: Sequence<D> =
        dev.tensor_from_vec((0..batch * 400).map(|k| ((k % 7) as f32 - 3.0) * 0.01).collect(), (batch, 20, 20));
    let y: Matrix<D> = dev.zeros_like(&(batch, 20));
    let ms = |f: &dyn Fn() -> Result<()>| -> Result<f64> {
        for _ in 0..2 {
            f()?;
        }
        let t = Instant::now();
        for _ in 0..10 {
            f()?;
        }
        Ok(t.elapsed().as_secs_f64() * 100.0)
    };
    let forward = ms(&|| {
        m.forward(x.clone())?.sum::<(), _>().as_vec();
        Ok(())
    })?;
    let both = ms(&|| {
        let out = m.forward(x.clone().traced(Gradients::leaky()))?;
        let mut g = (out - y.clone()).square().mean::<(), _>().backward();
        m.parameters()[0].1.gradient(&mut g)?;
        Ok(())
    })?;
    Ok((forward, both - forward))
}

/// Training samples/s of a 2-layer LSTM regressor on synthetic returns of
/// 20 assets.
fn lstm_rate<D: Backend>(dev: &D, hidden: usize, batch: usize, samples: usize, epochs: usize) -> Result<f64> {
    Ok(rate(&cli::lstm_training(dev, 20, hidden, batch, samples, epochs)?))
}
