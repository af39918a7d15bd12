//! Argument helpers shared by the example programs.
#![allow(dead_code)]

use assetalloc::prelude::*;

/// Runs `run`, printing an error and exiting with status 1 if it fails.
pub fn main(run: impl FnOnce() -> Result<()>) {
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
        Some(v) => {
            v.parse().map_err(|_| Error::InvalidParameter { name: name.into(), message: format!("cannot parse {v:?}") })
        }
    }
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
) -> Result<assetalloc::nn::History> {
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
