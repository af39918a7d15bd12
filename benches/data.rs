//! Data-stage hot paths: loading the bundled S&P 500 panel (CSV parse,
//! checks) and computing returns; resampling; generating a synthetic market.
use assetalloc::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn data(c: &mut Criterion) {
    c.bench_function("sp500: load + log returns", |b| {
        b.iter(|| {
            let p = datasets::sp500().unwrap();
            black_box(p.returns(ReturnKind::Log).unwrap())
        })
    });
    let p = datasets::sp500().unwrap();
    c.bench_function("sp500: monthly resample", |b| b.iter(|| black_box(p.resample(Frequency::Monthly))));
    c.bench_function("sp500: summary", |b| b.iter(|| black_box(p.summary().unwrap())));
    c.bench_function("synthetic: 20 assets x 8300 days, GARCH + factors", |b| {
        b.iter(|| {
            black_box(
                Synthetic::params()
                    .assets(20)
                    .days(8300)
                    .garch(0.08, 0.9)
                    .correlation(Correlation::Factors { factors: 3, r2: 0.4 })
                    .generate()
                    .unwrap(),
            )
        })
    });
}

criterion_group!(benches, data);
criterion_main!(benches);
