//! Helpers shared by the test files: the learning strategies' and the
//! reference fixtures' readers.
#![allow(dead_code)]

use assetalloc::portfolio::{Portfolio, Rebalance};
use assetalloc::prelude::*;

/// `r` with every row after `t` replaced by something else entirely.
pub fn perturbed_after(r: &Returns, t: usize) -> Returns {
    let mut v = r.values().to_owned();
    for i in t + 1..v.nrows() {
        for j in 0..v.ncols() {
            v[(i, j)] = -0.5 * v[(i, j)] + 0.002 * ((i + j) % 3) as f64;
        }
    }
    Returns::new(r.dates().to_vec(), r.assets().to_vec(), v, r.kind()).unwrap()
}

/// Runs the strategy `make()` builds (named `name`) on `r` and on `r` with
/// its rows after `t` replaced, and asserts that every decision up to row
/// `t` is identical, later ones are not, weights are long-only and fully
/// invested, and costs are charged. Returns the unperturbed report.
pub fn assert_decisions_ignore_the_future(
    bt: &BacktestParams,
    r: &Returns,
    t: usize,
    name: &str,
    make: impl Fn() -> Vec<Box<dyn Strategy>>,
) -> Portfolio {
    let a = bt.run_returns(r, make()).unwrap();
    let b = bt.run_returns(&perturbed_after(r, t), make()).unwrap();
    let cut = r.dates()[t];
    let before =
        |rep: &Portfolio| -> Vec<Rebalance> { rep.rebalances.iter().filter(|b| b.date <= cut).cloned().collect() };
    let (x, y) = (a.get(name).unwrap(), b.get(name).unwrap());
    assert!(before(x).len() >= 5, "decided {} times before the cut", before(x).len());
    assert_eq!(before(x), before(y), "weights decided up to {cut} changed");
    assert_ne!(x.rebalances, y.rebalances, "later decisions must see the perturbation");
    for rb in &x.rebalances {
        assert!((rb.weights.sum() - 1.0).abs() < 1e-6 && rb.weights.iter().all(|w| *w >= -1e-8), "{:?}", rb.weights);
    }
    assert!(x.rebalances.iter().map(|b| b.cost).sum::<f64>() > 0.0, "costs are charged");
    x.clone()
}

/// A fixture from `tests/fixtures/`.
pub fn fixture(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("tests/fixtures/{name}")).unwrap()).unwrap()
}

/// A JSON array of numbers.
pub fn floats(v: &serde_json::Value) -> ndarray::Array1<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// The bundled S&P 500's simple returns on a fixture's last `rows` days and
/// its `assets`, as the reference script read them.
pub fn sp500_sample(fx: &serde_json::Value) -> Returns {
    let names: Vec<&str> = fx["assets"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    r.tail(fx["rows"].as_u64().unwrap() as usize).unwrap().select(&names).unwrap()
}

/// The largest absolute difference between two vectors of the same length.
pub fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}
