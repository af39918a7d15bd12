//! Optimiser hot paths: 20-asset minimum variance and maximum Sharpe, the
//! 100-point frontier (one Clarabel solver, target updated in place), and a
//! 500-asset minimum variance on a synthetic factor market.
use assetalloc::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn optimize(c: &mut Criterion) {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let m = Moments::sample().fit(&r).unwrap().annualized();
    c.bench_function("min variance, 20 assets", |b| b.iter(|| black_box(Optimizer::min_variance().solve(&m).unwrap())));
    c.bench_function("max Sharpe, 20 assets", |b| b.iter(|| black_box(Optimizer::max_sharpe(0.0).solve(&m).unwrap())));
    c.bench_function("100-point frontier, 20 assets", |b| {
        b.iter(|| black_box(Frontier::params().points(100).solve(&m).unwrap()))
    });
    let big = Synthetic::params()
        .assets(500)
        .days(1000)
        .correlation(Correlation::Factors { factors: 3, r2: 0.4 })
        .generate()
        .unwrap()
        .prices
        .returns(ReturnKind::Simple)
        .unwrap();
    let m500 = Moments::sample().fit(&big).unwrap().annualized();
    let mut g = c.benchmark_group("large");
    g.sample_size(10);
    g.bench_function("min variance, 500 assets", |b| {
        b.iter(|| black_box(Optimizer::min_variance().solve(&m500).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, optimize);
criterion_main!(benches);
