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

/// 200,000 dates × 50 assets as CSV text (a random walk around 100, four
/// decimals, consecutive calendar days from 1500-01-01), and the same text
/// with one cell of the last row replaced by "oops".
fn big_csv() -> (String, String) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let (rows, cols) = (200_000, 50);
    let mut text = String::from("date");
    for j in 0..cols {
        text.push_str(&format!(",A{j}"));
    }
    text.push('\n');
    let mut p = vec![100.0f64; cols];
    let mut date = NaiveDate::from_ymd_opt(1500, 1, 1).unwrap();
    let mut last_row = 0;
    for _ in 0..rows {
        last_row = text.len();
        text.push_str(&date.to_string());
        for x in p.iter_mut() {
            *x *= 1.0 + rng.gen_range(-0.01..0.0101);
            text.push_str(&format!(",{x:.4}"));
        }
        text.push('\n');
        date = date.succ_opt().unwrap();
    }
    let mut bad = text[..last_row].to_string();
    let mut cells: Vec<String> = text[last_row..].trim_end().split(',').map(str::to_string).collect();
    cells[25] = "oops".into();
    bad.push_str(&cells.join(","));
    bad.push('\n');
    (text, bad)
}

fn big(c: &mut Criterion) {
    let (good, bad) = big_csv();
    let mut g = c.benchmark_group("200,000 x 50 CSV");
    g.sample_size(10);
    g.bench_function("load from bytes", |b| b.iter(|| black_box(Load::bytes(good.as_bytes()).prices().unwrap())));
    g.bench_function("one bad cell in the last row: the error", |b| {
        b.iter(|| black_box(Load::bytes(bad.as_bytes()).prices().unwrap_err()))
    });
    g.finish();
}

criterion_group!(benches, data, big);
criterion_main!(benches);
