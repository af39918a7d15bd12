//! Argument helpers shared by the example programs.
#![allow(dead_code)]

use std::time::Instant;

use assetalloc::prelude::*;
#[cfg(feature = "optimize")]
use serde_json::{json, Value};

/// What an example returns: a library error or a bad command-line flag.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A bad command-line flag or argument: the flag and what is wrong.
pub fn usage(flag: &str, message: impl std::fmt::Display) -> Box<dyn std::error::Error> {
    format!("{flag} {message}").into()
}

/// Runs `run`, printing an error and exiting with status 1 if it fails.
pub fn main<E: std::fmt::Display>(run: impl FnOnce() -> std::result::Result<(), E>) {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The value after `name`, if the flag is present.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// The parsed value after `name`, or `default` when the flag is absent.
pub fn number<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T> {
    match flag(args, name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| usage(name, format!("cannot parse {v:?}"))),
    }
}

/// The benchmarks' synthetic market from `--synthetic ASSETS,DAYS`: the
/// generator's 3-factor market with volumes (seed 7), as simple returns and
/// volumes, both written as CSV to `write` (a folder) for the peer.
pub fn synthetic_market(spec: &str, write: Option<&str>) -> Result<(Returns, Volumes)> {
    let bad = || usage("--synthetic", format!("expected ASSETS,DAYS, got {spec:?}"));
    let (a, d) = spec.split_once(',').ok_or_else(bad)?;
    let (n, days): (usize, usize) = (a.trim().parse().map_err(|_| bad())?, d.trim().parse().map_err(|_| bad())?);
    let m = Synthetic::params()
        .assets(n)
        .days(days)
        .correlation(Correlation::Factors { factors: 3, r2: 0.4 })
        .volumes(5e7)
        .seed(7)
        .generate()?;
    let volumes = m.volumes.clone().ok_or_else(bad)?;
    let returns = m.prices.returns(ReturnKind::Simple)?;
    if let Some(dir) = write {
        returns.to_csv(format!("{dir}/returns.csv"))?;
        volumes.to_csv(format!("{dir}/volumes.csv"))?;
    }
    Ok((returns, volumes))
}

/// A 2-layer LSTM regressor of `hidden` units trained on `dev` through the
/// public path (forward, backward, clipping, Adam) on synthetic returns of
/// `inputs` assets: window 20, every sample training, no early stopping.
/// Its history holds samples/s per epoch.
#[cfg(feature = "nn")]
pub fn lstm_training<D: assetalloc::nn::Backend>(
    dev: &D,
    inputs: usize,
    hidden: usize,
    batch: usize,
    samples: usize,
    epochs: usize,
) -> assetalloc::Result<assetalloc::nn::History> {
    let prices = Synthetic::params().assets(inputs).days(samples + 21).vol(0.01).seed(1).generate()?.prices;
    let returns = prices.returns(ReturnKind::Simple)?;
    let f = Forecaster::params()
        .lookback(20)
        .hidden(hidden)
        .layers(2)
        .batch_size(batch)
        .epochs(epochs)
        .patience(None)
        .split(0.0, 0.0)
        .verbose(false)
        .fit_on(dev, &returns)?;
    Ok(f.history().clone())
}

/// Median seconds of `repeat` runs of `f`, and its last result.
pub fn timed<T>(repeat: usize, mut f: impl FnMut() -> assetalloc::Result<T>) -> Result<(f64, T)> {
    let mut times = Vec::with_capacity(repeat);
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let t0 = Instant::now();
        last = Some(f()?);
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let out = last.ok_or_else(|| usage("repeat", "must be ≥ 1"))?;
    Ok((times[times.len() / 2], out))
}

#[cfg(feature = "optimize")]
pub fn describe(a: &Allocation, seconds: f64) -> Value {
    let weights: serde_json::Map<String, Value> =
        a.assets().iter().zip(a.weights().iter()).map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "objective": a.objective(),
        "weights": weights,
        "expected_return": a.expected_return(),
        "volatility": a.volatility(),
        "sharpe": a.sharpe(),
        "iterations": a.iterations(),
        "median_ms": 1e3 * seconds,
    })
}

/// The strategy a command line names: ew, bh, ivol, momentum, minvar,
/// maxsharpe, riskparity (Ledoit–Wolf moments on the window), hrp, herc,
/// minvar-factor and maxsharpe-factor (a 10-component statistical factor
/// model fitted on the window), as a function that builds it afresh.
#[cfg(feature = "optimize")]
pub fn strategy(name: &str) -> Result<fn() -> Box<dyn Strategy>> {
    use assetalloc::estimate::Components;
    let make: fn() -> Box<dyn Strategy> = match name {
        "ew" => || Box::new(EqualWeight),
        "bh" => || Box::new(BuyAndHold::new()),
        "ivol" => || Box::new(InverseVolatility::new(63)),
        "momentum" => || Box::new(Momentum::new(126, 5)),
        "minvar" => || Box::new(Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf())),
        "maxsharpe" => || Box::new(Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf())),
        "riskparity" => || Box::new(Optimized::new("risk parity", Optimizer::risk_parity(), Moments::ledoit_wolf())),
        "hrp" => || Box::new(HierarchicalStrategy::new("HRP", Hierarchical::hrp())),
        "herc" => || Box::new(HierarchicalStrategy::new("HERC", Hierarchical::herc())),
        "minvar-factor" => || {
            Box::new(Optimized::factor_model(
                "minimum variance, 10-factor PCA model",
                Optimizer::min_variance(),
                FactorModel::pca(Components::Count(10)),
            ))
        },
        "maxsharpe-factor" => || {
            Box::new(Optimized::factor_model(
                "maximum Sharpe, 10-factor PCA model",
                Optimizer::max_sharpe(0.0),
                FactorModel::pca(Components::Count(10)),
            ))
        },
        other => {
            return Err(usage("strategy", format!(
                    "unknown strategy {other:?}; use ew, bh, ivol, momentum, minvar, maxsharpe, riskparity, hrp, herc, minvar-factor, maxsharpe-factor"
                )))
        }
    };
    Ok(make)
}
