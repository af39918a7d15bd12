//! Feature-stage hot path: every feature family for the bundled S&P 500
//! panel (20 assets × 8,300 days) at five windows, plus the cross-sectional
//! ranks; bench/features.py times pandas on the same work.
use assetalloc::prelude::*;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn features(c: &mut Criterion) {
    let p = datasets::sp500().unwrap();
    let windows = [5, 21, 63, 126, 252];
    c.bench_function("features: sp500, 7 families x 5 windows", |b| {
        b.iter(|| black_box(Features::params().windows(&windows).compute(&p).unwrap()))
    });
    c.bench_function("features: sp500, 7 x 5 + cross-sectional rank", |b| {
        b.iter(|| {
            black_box(Features::params().windows(&windows).cross_section(&[CrossSection::Rank]).compute(&p).unwrap())
        })
    });
}

criterion_group!(benches, features);
criterion_main!(benches);
