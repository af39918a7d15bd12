//! Same seed, same bits, across processes: the synthetic market, feature
//! selection and ranking (random forests), the LSTM forecaster and the deep
//! allocator, each run in this process and in two fresh processes (this
//! test binary started again), must print the same bit patterns. (Within
//! one process the stage tests check it already.)
#![cfg(all(feature = "nn", feature = "ml"))]

use std::process::Command;

use assetalloc::prelude::*;

const CHILD: &str = "ASSETALLOC_REPRODUCIBLE_CHILD";

/// Every stochastic stage's output as hexadecimal bit patterns.
fn fingerprint() -> String {
    let hex = |v: &[f64]| v.iter().map(|x| format!("{:016x}", x.to_bits())).collect::<Vec<_>>().join("");
    let market = Synthetic::params().assets(3).days(400).seed(17).generate().unwrap();
    let prices = market.prices.values().iter().copied().collect::<Vec<f64>>();
    let simple = market.prices.returns(ReturnKind::Simple).unwrap();
    let forecaster =
        Forecaster::params().lookback(10).hidden(8).layers(1).epochs(2).seed(5).verbose(false).fit(&simple).unwrap();
    let forecast = forecaster.predict_next(simple.values()).unwrap();
    let log = market.prices.returns(ReturnKind::Log).unwrap();
    let deep = DeepAllocator::params()
        .architecture(Architecture { filters: 4, kernel: 3, pool: 2, hidden1: 4, hidden2: 4 })
        .epochs(2)
        .seed(5)
        .verbose(false)
        .fit(&log)
        .unwrap();
    let weights = deep.weights(log.values()).unwrap().into_values().to_vec();
    let planted =
        Synthetic::params().assets(6).days(700).signal(Signal::LaggedFeature { ic: 0.1 }).seed(3).generate().unwrap();
    let fs = Features::params()
        .windows(&[5, 21])
        .compute(&planted.prices)
        .unwrap()
        .with_panel("signal", planted.signal_feature().unwrap())
        .unwrap();
    let selection =
        Selector::params().horizon(1).trees(20).repeats(2).max_depth(4).seed(3).fit(&fs, &planted.prices).unwrap();
    let ranking = Ranker::params()
        .horizon(1)
        .stride(2)
        .refit_every(125)
        .min_train(250)
        .trees(20)
        .max_depth(4)
        .seed(5)
        .fit(&fs, &planted.prices)
        .unwrap();
    let scores: Vec<f64> = ranking.scores().iter().copied().collect();
    format!(
        "synthetic {}\nselection {}\nranking {}\nforecast {}\ndeep {}",
        hex(&prices),
        hex(&selection.impurity),
        hex(&scores),
        hex(&forecast),
        hex(&weights)
    )
}

#[test]
fn child_prints_its_fingerprint() {
    // Does its work only when started by the test below.
    if std::env::var(CHILD).is_ok() {
        println!("BEGIN\n{}\nEND", fingerprint());
    }
}

#[test]
fn the_same_seed_gives_the_same_bits_in_every_process() {
    let here = fingerprint();
    for _ in 0..2 {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_prints_its_fingerprint", "--nocapture", "--test-threads", "1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let body = text.split("BEGIN\n").nth(1).and_then(|s| s.split("\nEND").next()).expect("the child printed");
        for (a, b) in here.lines().zip(body.lines()) {
            assert_eq!(a, b, "another process gave other bits for {}", a.split(' ').next().unwrap());
        }
        assert_eq!(here.lines().count(), body.lines().count());
    }
}
