//! Parquet panels (feature `parquet`): a round trip equal to the bit, the
//! same panel as its CSV, missing values under the loader's policy, and a
//! file that is not Parquet named.
#![cfg(feature = "parquet")]

use assetalloc::data::{datasets, Load, Missing, ReturnKind};

fn dir(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("assetalloc-parquet-{name}-{}", std::process::id()))
}

#[test]
fn a_panel_round_trips_through_parquet_to_the_bit_and_equals_its_csv() {
    let d = dir("round");
    let prices = datasets::sp500().unwrap();
    prices.to_parquet(d.join("sp500.parquet")).unwrap();
    prices.to_csv(d.join("sp500.csv")).unwrap();
    let back = Load::parquet(d.join("sp500.parquet")).prices().unwrap();
    assert_eq!(back.dates(), prices.dates());
    assert_eq!(back.assets(), prices.assets());
    assert!(back.values().iter().zip(prices.values().iter()).all(|(a, b)| a.to_bits() == b.to_bits()));
    let csv = Load::csv(d.join("sp500.csv")).prices().unwrap();
    assert_eq!(csv.values(), back.values());
    let r = prices.returns(ReturnKind::Log).unwrap();
    r.to_parquet(d.join("returns.parquet")).unwrap();
    let rb = Load::parquet(d.join("returns.parquet")).returns(ReturnKind::Log).unwrap();
    assert_eq!(rb.values(), r.values());
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn missing_values_follow_the_policy_and_a_broken_file_is_named() {
    use polars::prelude::*;
    let d = dir("bad");
    std::fs::create_dir_all(&d).unwrap();
    // A panel written by another tool: text dates and a null price.
    let mut df = df!(
        "date" => ["2024-01-02", "2024-01-03", "2024-01-04"],
        "A" => [Some(100.0), None, Some(102.0)],
        "B" => [Some(50.0), Some(51.0), Some(52.0)]
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(d.join("holed.parquet")).unwrap()).finish(&mut df).unwrap();
    let e = Load::parquet(d.join("holed.parquet")).prices().unwrap_err();
    assert!(e.to_string().contains("\"A\"") || e.to_string().contains(" A "), "{e}");
    let filled = Load::parquet(d.join("holed.parquet")).missing(Missing::ForwardFill { limit: 1 }).prices().unwrap();
    assert_eq!(filled.values().column(0).to_vec(), vec![100.0, 100.0, 102.0]);
    std::fs::write(d.join("text.parquet"), b"date,A\n2024-01-02,1\n").unwrap();
    let e = Load::parquet(d.join("text.parquet")).prices().unwrap_err();
    assert!(e.to_string().contains("text.parquet") && e.to_string().contains("Parquet"), "{e}");
    let e = Load::parquet(d.join("none.parquet")).prices().unwrap_err();
    assert!(e.to_string().contains("none.parquet"), "{e}");
    std::fs::remove_dir_all(&d).ok();
}
