//! Data stage: loaders on good and bad input, return maths, resampling,
//! splits, bundled datasets, synthetic generator statistics, display.

use assetalloc::parameter;
use assetalloc::prelude::*;
use assetalloc::stats;
use ndarray::{array, Array2};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const PRICES: &[u8] = b"date,A,B\n2024-01-02,100,50\n2024-01-03,110,50\n2024-01-04,99,55\n";

// ---------- loading: good input ----------

#[test]
fn degenerate_prices_and_bases_are_refused() {
    let p = Load::bytes(PRICES).prices().unwrap();
    for base in [0.0, -100.0, f64::NAN, f64::INFINITY] {
        let e = p.normalized(base).unwrap_err();
        assert!(e.is_invalid(parameter::Data::Base), "{base}: {e}");
    }
    assert_eq!(p.normalized(100.0).unwrap().values()[[0, 0]], 100.0);
    // 1 → 1e308 → 1 → 2: the fall rounds to a simple return of exactly −1.
    let extreme = Prices::new(
        (0..4).map(|i| d("2024-01-01") + chrono::Days::new(i)).collect(),
        vec!["X".into()],
        Array2::from_shape_vec((4, 1), vec![1.0, 1e308, 1.0, 2.0]).unwrap(),
    )
    .unwrap();
    let e = extreme.returns(ReturnKind::Simple).unwrap_err();
    assert!(matches!(e, Error::InvalidValue { ref asset, date, .. } if asset == "X" && date == d("2024-01-03")), "{e}");
    assert!(extreme.summary().is_err(), "no summary with a CAGR of −100 % for a price that doubled");
    assert!(extreme.returns(ReturnKind::Log).is_ok(), "log returns represent the same moves");
    // A log return past ln(f64::MAX) is a price ratio no float holds: its
    // simple return, prices and summary were infinite.
    let dates: Vec<NaiveDate> = (0..3).map(|i| d("2024-01-01") + chrono::Days::new(i)).collect();
    let e = Returns::new(
        dates.clone(),
        vec!["X".into()],
        Array2::from_shape_vec((3, 1), vec![0.0, 800.0, 0.0]).unwrap(),
        ReturnKind::Log,
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidValue { ref asset, date, .. } if asset == "X" && date == d("2024-01-02")), "{e}");
    // An asset without a name cannot be selected or shown.
    let e = Prices::new(dates, vec![" ".into()], Array2::ones((3, 1))).unwrap_err();
    assert!(e.is_invalid(parameter::Data::Assets), "{e}");
}

#[test]
fn csv_round_trip_and_weekday_calendar() {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Log).unwrap().between("2019-12-20", "2020-01-10").unwrap();
    let dir = std::env::temp_dir().join(format!("assetalloc-csv-{}", std::process::id()));
    let path = dir.join("sub").join("r.csv");
    r.to_csv(&path).unwrap();
    let back = Load::csv(&path).returns(ReturnKind::Log).unwrap();
    assert_eq!(back.dates(), r.dates());
    assert_eq!(back.assets(), r.assets());
    assert_eq!(back.values(), r.values(), "written at full precision");
    // Christmas and New Year's Day are weekdays without a row: zero returns.
    let w = r.on_weekdays().unwrap();
    assert_eq!(w.len(), r.len() + 2);
    for day in ["2019-12-25", "2020-01-01"] {
        let i = w.dates().iter().position(|x| *x == d(day)).unwrap();
        assert!(w.values().row(i).iter().all(|v| *v == 0.0));
    }
    assert_eq!(
        w.between("2019-12-26", "2019-12-31").unwrap().values(),
        r.between("2019-12-26", "2019-12-31").unwrap().values()
    );
    std::fs::remove_dir_all(&dir).ok();
    let e = r.to_csv("/proc/no/such/place.csv").unwrap_err();
    assert!(matches!(e, Error::Io { ref path, .. } if path.ends_with("place.csv")), "{e}");
}

#[test]
fn loads_prices_from_bytes_with_exact_values() {
    let p = Load::bytes(PRICES).prices().unwrap();
    assert_eq!(p.dates(), &[d("2024-01-02"), d("2024-01-03"), d("2024-01-04")]);
    assert_eq!(p.assets(), &["A".to_string(), "B".to_string()]);
    assert_eq!(p.values(), array![[100.0, 50.0], [110.0, 50.0], [99.0, 55.0]]);
}

#[test]
fn unsorted_dates_are_sorted_with_their_rows() {
    let csv = b"Date,A\n2024-01-04,3\n2024-01-02,1\n2024-01-03,2\n";
    let p = Load::bytes(csv).prices().unwrap();
    assert_eq!(p.dates()[0], d("2024-01-02"));
    assert_eq!(p.values().column(0).to_vec(), vec![1.0, 2.0, 3.0]);
}

#[test]
fn custom_date_column_format_and_separator() {
    let csv = b"when;X\n02/01/2024;1.5\n03/01/2024;1.6\n";
    let p = Load::bytes(csv).date_column("when").date_format("%d/%m/%Y").separator(b';').prices().unwrap();
    assert_eq!(p.start(), d("2024-01-02"));
    assert_eq!(p.values()[[1, 0]], 1.6);
}

#[test]
fn returns_csv_of_log_returns_with_zero_holidays() {
    let csv = b"date,A,B\n2024-01-02,0.01,0.0\n2024-01-03,0.0,0.0\n2024-01-04,-0.02,0.03\n";
    let r = Load::bytes(csv).returns(ReturnKind::Log).unwrap();
    assert_eq!(r.kind(), ReturnKind::Log);
    let p = r.to_prices(100.0).unwrap();
    let expected = 100.0 * (0.01f64 - 0.02).exp();
    assert!((p.values()[[2, 0]] - expected).abs() < 1e-12);
}

#[test]
fn missing_values_follow_the_chosen_policy() {
    let csv = b"date,A,B\n2024-01-02,,50\n2024-01-03,10,\n2024-01-04,11,52\n2024-01-05,12,NA\n";
    let e = Load::bytes(csv).prices().unwrap_err();
    assert!(matches!(e, Error::MissingValues { ref asset, count: 1, .. } if asset == "A"), "{e}");
    assert!(matches!(e, Error::MissingValues { ref hint, .. } if !hint.is_empty()), "the error names the fix: {e}");

    let p = Load::bytes(csv).missing(Missing::DropDates).prices().unwrap();
    assert_eq!(p.dates(), &[d("2024-01-04")]);

    let p = Load::bytes(csv).missing(Missing::KeepStart { fill_limit: 1 }).prices().unwrap();
    let a = p.column("A").unwrap();
    assert!(a[0].is_nan());
    assert_eq!(p.column("B").unwrap().to_vec(), vec![50.0, 50.0, 52.0, 52.0]);

    // Forward fill cannot invent a start.
    let e = Load::bytes(csv).missing(Missing::ForwardFill { limit: 3 }).prices().unwrap_err();
    assert!(matches!(e, Error::MissingValues { ref asset, .. } if asset == "A"));
}

#[test]
fn dataframe_round_trip_is_lossless() {
    let p = assetalloc::datasets::factors().unwrap();
    let df = p.to_dataframe().unwrap();
    assert_eq!(df.shape(), (p.len(), p.n_assets() + 1));
    let back = Load::dataframe(&df).prices().unwrap();
    assert_eq!(back, p);
}

#[test]
fn csv_file_on_disk_loads_from_the_crate_root() {
    // Relative to the crate root, whatever the working directory.
    let r = Returns::read_csv("data/fama_french_monthly.csv", ReturnKind::Simple).unwrap();
    assert_eq!(r.periods_per_year(), 12.0);
    assert_eq!(r.start(), d("1949-01-01"));
}

// ---------- loading: bad input ----------

#[test]
fn missing_date_column_is_named() {
    let e = Load::bytes(b"day,A\n2024-01-02,1\n").prices().unwrap_err();
    assert!(matches!(e, Error::MissingDateColumn { ref found, .. } if found == &["day", "A"]), "{e}");
    let e = Load::bytes(PRICES).date_column("Datum").prices().unwrap_err();
    assert!(matches!(e, Error::MissingDateColumn { ref expected, .. } if expected == "Datum"));
}

#[test]
fn unparseable_date_names_row_and_value() {
    let e = Load::bytes(b"date,A\n2024-01-02,1\n2024-13-45,2\n").prices().unwrap_err();
    assert!(matches!(e, Error::BadDate { row: 1, ref value, .. } if value == "2024-13-45"), "{e}");
}

#[test]
fn duplicate_dates_are_an_error() {
    let e = Load::bytes(b"date,A\n2024-01-02,1\n2024-01-03,2\n2024-01-02,3\n").prices().unwrap_err();
    assert!(matches!(e, Error::DuplicateDate { first: 0, second: 2, .. }), "{e}");
}

#[test]
fn head_and_tail_of_zero_rows_are_refused() {
    let p = Load::bytes(PRICES).prices().unwrap();
    for e in [p.head(0).unwrap_err(), p.tail(0).unwrap_err()] {
        assert!(e.is_invalid(parameter::Data::Rows), "{e}");
    }
    assert_eq!(p.head(1).unwrap().len(), 1);
    assert_eq!(p.tail(10_000).unwrap().len(), p.len());
}

#[test]
fn trailing_separators_as_spreadsheets_write_them() {
    let want = Load::bytes(b"date,A,B\n2024-01-02,1,2\n2024-01-03,2,3\n").prices().unwrap();
    for text in [
        &b"date,A,B,\n2024-01-02,1,2,\n2024-01-03,2,3,\n"[..],
        &b"date,A,B\n2024-01-02,1,2,\n2024-01-03,2,3,\n"[..],
        &b"date,A,B,\r\n2024-01-02,1,2,\r\n2024-01-03,2,3,\r\n"[..],
    ] {
        let p = Load::bytes(text).prices().unwrap();
        assert_eq!((p.assets(), p.values()), (want.assets(), want.values()));
    }
    // Only some lines with one: not guessed at, refused.
    assert!(Load::bytes(b"date,A,B\n2024-01-02,1,2,\n2024-01-03,2,3\n").prices().is_err());
}

#[test]
fn a_lone_quote_is_a_malformed_line() {
    let e = Load::bytes(b"date,A,B\n2024-01-02,1,2\n2024-01-03,\",3\n").prices().unwrap_err();
    assert!(matches!(e, Error::MalformedCsv { line: 3, .. }), "{e}");
    // Found by fuzzing: a quote opened across lines and a lone quote at the
    // end made the CSV reader underneath abort the process.
    let e = Load::bytes(b"date,A,B\n\t\n8;Et5\"\nA51AeA 338+2e236+\";0ae\r,4Ate8t7aa1.B\nE7a\r\"3\tt,9t.\"\"\n\"")
        .prices()
        .unwrap_err();
    assert!(matches!(e, Error::MalformedCsv { line: 6, .. }), "{e}");
    let quoted = Load::bytes(b"\"date\",\"A\"\n2024-01-02,\"1.5\"\n2024-01-03,\"2\"\n").prices().unwrap();
    assert_eq!(quoted.values()[[1, 0]], 2.0, "properly quoted fields load");
}

#[test]
fn a_byte_order_mark_is_stripped_and_utf16_is_named() {
    // A spreadsheet's "CSV UTF-8" starts with a byte-order mark.
    let text = "date,A\n2024-01-01,1\n2024-01-02,2\n";
    let bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
    let p = Load::bytes(&bom).date_column("date").prices().unwrap();
    assert_eq!((p.len(), p.assets()[0].as_str()), (2, "A"));
    assert_eq!(p, Load::bytes(text.as_bytes()).prices().unwrap());
    let utf16 = [&[0xFF, 0xFE][..], text.as_bytes()].concat();
    let e = Load::bytes(&utf16).prices().unwrap_err();
    assert!(e.is_invalid(parameter::Data::Encoding) && e.to_string().contains("UTF-16"), "{e}");
}

#[test]
fn a_repeated_column_name_is_refused_not_renamed() {
    let e = Load::bytes(b"date,A,B,A\n2024-01-02,1,2,3\n2024-01-03,2,3,4\n").prices().unwrap_err();
    assert!(matches!(e, Error::DuplicateColumn { ref column, first: 1, second: 3 } if column == "A"), "{e}");
}

#[test]
fn non_numeric_column_points_at_the_cell() {
    let e = Load::bytes(b"date,A,B\n2024-01-02,1,x\n2024-01-03,2,3\n").prices().unwrap_err();
    assert!(
        matches!(e, Error::NonNumeric { ref column, ref detail } if column == "B" && detail.contains("\"x\"")),
        "{e}"
    );
}

#[test]
fn empty_and_all_nan_assets_are_errors() {
    let e = Load::bytes(b"date,A,B\n2024-01-02,1,\n2024-01-03,2,NaN\n").missing(Missing::DropDates).prices();
    assert!(matches!(e, Err(Error::EmptyAsset { ref asset }) if asset == "B"), "{e:?}");
    let e = Load::bytes(b"date\n2024-01-02\n").prices().unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { .. }), "{e}");
    let e = Load::bytes(b"").prices().unwrap_err();
    assert!(matches!(e, Error::TooFewRows { .. }), "{e}");
    let e = Load::bytes(b"date,A\n").prices().unwrap_err();
    assert!(matches!(e, Error::TooFewRows { .. } | Error::Table { .. }), "{e}");
}

#[test]
fn non_positive_prices_and_impossible_returns() {
    let e = Load::bytes(b"date,A\n2024-01-02,1\n2024-01-03,-2\n").prices().unwrap_err();
    assert!(matches!(e, Error::NonPositivePrice { value, .. } if value == -2.0), "{e}");
    // A "return" of -150 (percent units) is caught.
    let e = Load::bytes(b"date,A\n2024-01-02,-150\n").returns(ReturnKind::Simple).unwrap_err();
    assert!(matches!(e, Error::InvalidValue { .. }), "{e}");
}

#[test]
fn missing_file_is_an_io_error() {
    let e = Prices::read_csv("no/such/file.csv").unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
}

#[test]
fn too_few_rows_and_unknown_asset() {
    let p = Load::bytes(b"date,A\n2024-01-02,1\n").prices().unwrap();
    assert!(matches!(p.returns(ReturnKind::Simple), Err(Error::TooFewRows { needed: 2, got: 1, .. })));
    let p = Load::bytes(PRICES).prices().unwrap();
    let e = p.select(&["A", "Z"]).unwrap_err();
    assert!(matches!(e, Error::UnknownAsset { ref name, ref available } if name == "Z" && available == &["A", "B"]));
}

// ---------- return maths ----------

#[test]
fn simple_and_log_returns_match_hand_computation() {
    let p = Load::bytes(PRICES).prices().unwrap();
    let r = p.returns(ReturnKind::Simple).unwrap();
    assert_eq!(r.dates(), &[d("2024-01-03"), d("2024-01-04")]);
    let expect = array![[0.1, 0.0], [99.0 / 110.0 - 1.0, 0.1]];
    for (a, b) in r.values().iter().zip(expect.iter()) {
        assert!((a - b).abs() < 1e-15, "{a} vs {b}");
    }
    let l = p.returns(ReturnKind::Log).unwrap();
    assert!((l.values()[[0, 0]] - 1.1f64.ln()).abs() < 1e-15);
    // Conversions agree with direct computation.
    let l2 = r.to_kind(ReturnKind::Log);
    for (a, b) in l.values().iter().zip(l2.values().iter()) {
        assert!((a - b).abs() < 1e-15);
    }
}

#[test]
fn returns_compound_back_to_prices() {
    let p = assetalloc::datasets::sp500().unwrap();
    for kind in [ReturnKind::Simple, ReturnKind::Log] {
        let r = p.returns(kind).unwrap();
        let first = p.values().row(0).to_owned();
        let back = r.to_prices(1.0).unwrap();
        for j in 0..p.n_assets() {
            let rebuilt = back.values()[[p.len() - 2, j]] * first[j];
            let actual = p.values()[[p.len() - 1, j]];
            assert!((rebuilt / actual - 1.0).abs() < 1e-9, "{kind:?} asset {j}: {rebuilt} vs {actual}");
        }
    }
}

// ---------- slicing, resampling, splitting ----------

#[test]
fn monthly_resampling_keeps_the_last_price_of_each_month() {
    let p = assetalloc::datasets::sp500().unwrap();
    let m = p.resample(Frequency::Monthly);
    assert_eq!(m.periods_per_year(), 12.0);
    // January 1990: last trading day 1990-01-31; last month ends 2022-12-28.
    assert_eq!(m.dates()[0], d("1990-01-31"));
    assert_eq!(m.end(), d("2022-12-28"));
    assert_eq!(m.len(), 33 * 12);
    let jan = p.between("1990-01-31", "1990-01-31").unwrap();
    assert_eq!(m.values().row(0), jan.values().row(0));
    // Resampled returns equal returns of resampled prices (compounding).
    let r1 = m.returns(ReturnKind::Simple).unwrap();
    let r2 = p.returns(ReturnKind::Simple).unwrap().resample(Frequency::Monthly);
    // r2's first month is January from its first return; compare from February.
    for (a, b) in r1.values().iter().zip(r2.values().slice(ndarray::s![1.., ..]).iter()) {
        assert!((a - b).abs() < 1e-10, "{a} vs {b}");
    }
    let w = p.resample(Frequency::Weekly);
    assert_eq!(w.periods_per_year(), 52.0);
    assert!(w.len() > 1700 && w.len() < 1730, "{}", w.len());
}

#[test]
fn splits_do_not_overlap_and_validate() {
    let p = assetalloc::datasets::sp500().unwrap();
    let (tr, te) = p.split(Split::Fraction(0.75)).unwrap();
    assert_eq!(tr.len() + te.len(), p.len());
    assert!(tr.end() < te.start());
    let (tr, te) = p.split(Split::AfterDate(d("2015-12-31"))).unwrap();
    assert_eq!(tr.end(), d("2015-12-31"));
    assert_eq!(te.start(), d("2016-01-04"));
    assert!(matches!(p.split(Split::Fraction(1.0)), Err(Error::InvalidParameter { .. })));
    assert!(p.split(Split::AfterDate(d("1980-01-01"))).is_err());
    let s = p.between("2000-01-01", "2000-12-31").unwrap();
    assert_eq!(s.start(), d("2000-01-03"));
    assert_eq!(p.between(d("2000-01-01"), Some(d("2000-12-31"))).unwrap(), s);
    assert_eq!(p.between("2022-01-01", None).unwrap().end(), p.end());
    assert!(p.between("2000-13-01", "").unwrap_err().is_invalid(parameter::Data::From));
    assert!(p.between("", "31/12/2000").unwrap_err().is_invalid(parameter::Data::To));
    assert!(p.between("2030-01-01", "").unwrap_err().is_invalid(parameter::Data::Between));
    let e: Error = "2015-13-01".parse::<NaiveDate>().unwrap_err().into();
    assert!(e.is_invalid(parameter::Data::Date), "a date literal that does not parse is a parameter error");
    let sel = p.select(&["MSFT", "AAPL"]).unwrap();
    assert_eq!(sel.assets(), &["MSFT".to_string(), "AAPL".to_string()]);
    assert_eq!(sel.column("AAPL").unwrap(), p.column("AAPL").unwrap());
}

// ---------- bundled datasets ----------

#[test]
fn bundled_datasets_have_documented_shape_and_values() {
    let p = assetalloc::datasets::sp500().unwrap();
    assert_eq!((p.len(), p.n_assets()), (8313, 20));
    assert_eq!((p.start(), p.end()), (d("1990-01-02"), d("2022-12-28")));
    assert_eq!(p.column("AAPL").unwrap()[0], 0.264);
    assert_eq!(p.column("XOM").unwrap()[p.len() - 1], 106.627);

    let f = assetalloc::datasets::factors().unwrap();
    assert_eq!(f.assets(), &["MTUM", "QUAL", "SIZE", "USMV", "VLUE"]);
    assert_eq!((f.start(), f.end()), (d("2014-01-02"), d("2022-12-28")));

    let idx = assetalloc::datasets::sp500_index().unwrap();
    assert_eq!(idx.dates(), p.dates());

    let ff = assetalloc::datasets::fama_french_industries().unwrap();
    assert_eq!((ff.len(), ff.n_assets()), (819, 12));
    assert_eq!(ff.end(), d("2017-03-01"));
    assert!((ff.column("NoDur").unwrap()[0] - 0.0367).abs() < 1e-12);
}

#[test]
fn summary_statistics_match_direct_computation() {
    let p = assetalloc::datasets::factors().unwrap();
    let s = p.summary().unwrap();
    let r = p.returns(ReturnKind::Simple).unwrap();
    let col = r.column("USMV").unwrap().to_vec();
    let a = s.get("USMV").unwrap();
    assert!((a.mean - 252.0 * stats::mean(&col)).abs() < 1e-12);
    assert!((a.volatility - 252f64.sqrt() * stats::std(&col)).abs() < 1e-12);
    let prices = p.column("USMV").unwrap();
    let growth = prices[prices.len() - 1] / prices[0];
    assert!((a.cagr - (growth.powf(252.0 / col.len() as f64) - 1.0)).abs() < 1e-12);
    // COVID crash: the drawdown trough is in March 2020.
    let (_, trough) = a.drawdown_dates.unwrap();
    assert_eq!(trough.format("%Y-%m").to_string(), "2020-03");
}

// ---------- synthetic generator ----------

#[test]
fn iid_gaussian_matches_its_parameters() {
    let m = Synthetic::params().assets(4).days(20_001).seed(1).generate().unwrap();
    let r = m.returns.values();
    let n = r.nrows() as f64;
    for j in 0..4 {
        let c = r.column(j).to_vec();
        // mean 0.001 ± 5 standard errors (0.02 / sqrt(n) = 1.4e-4)
        assert!((stats::mean(&c) - 0.001).abs() < 5.0 * 0.02 / n.sqrt(), "mean {}", stats::mean(&c));
        // sd 0.02 ± 5 standard errors (≈ sd / sqrt(2n))
        assert!((stats::std(&c) - 0.02).abs() < 5.0 * 0.02 / (2.0 * n).sqrt());
        assert!(stats::excess_kurtosis(&c).abs() < 0.2);
    }
    assert!(stats::correlation(&r.column(0).to_vec(), &r.column(1).to_vec()).abs() < 0.035);
    assert_eq!(m.prices.values()[[0, 0]], 100.0);
    // The short call is the same market.
    let p = Synthetic::gaussian(4, 20_001, 1).unwrap();
    assert_eq!(p, m.prices);
}

#[test]
fn same_seed_same_market_other_seed_other_market() {
    let a = Synthetic::params().garch(0.1, 0.85).seed(9).generate().unwrap();
    let b = Synthetic::params().garch(0.1, 0.85).seed(9).generate().unwrap();
    let c = Synthetic::params().garch(0.1, 0.85).seed(10).generate().unwrap();
    assert_eq!(a.prices, b.prices);
    assert_ne!(a.prices, c.prices);
}

#[test]
fn correlation_structures_are_reproduced() {
    let m =
        Synthetic::params().assets(3).days(20_000).correlation(Correlation::Constant(0.6)).seed(2).generate().unwrap();
    let c = m.returns.correlation();
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        assert!((c[[i, j]] - 0.6).abs() < 0.03, "{}", c[[i, j]]);
    }
    let target = array![[1.0, -0.3, 0.2], [-0.3, 1.0, 0.5], [0.2, 0.5, 1.0]];
    let m = Synthetic::params()
        .assets(3)
        .days(20_000)
        .correlation(Correlation::Matrix(target.clone()))
        .seed(3)
        .generate()
        .unwrap();
    let c = m.returns.correlation();
    for (a, b) in c.iter().zip(target.iter()) {
        assert!((a - b).abs() < 0.03, "{a} vs {b}");
    }
    let m = Synthetic::params()
        .assets(10)
        .days(5000)
        .correlation(Correlation::Factors { factors: 2, r2: 0.5 })
        .generate()
        .unwrap();
    let c = m.returns.correlation();
    for (a, b) in c.iter().zip(m.correlation.iter()) {
        assert!((a - b).abs() < 0.06, "{a} vs {b}");
    }
    // A non-PD matrix is refused.
    let bad = array![[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]];
    let e = Synthetic::params().assets(3).correlation(Correlation::Matrix(bad)).generate().unwrap_err();
    assert!(e.is_invalid(parameter::Data::Correlation), "{e}");
}

#[test]
fn student_t_innovations_have_the_right_kurtosis() {
    // dof 8: excess kurtosis 6 / (8 - 4) = 1.5.
    let m = Synthetic::params()
        .assets(2)
        .days(100_000)
        .innovations(Innovations::StudentT { dof: 8.0 })
        .seed(4)
        .generate()
        .unwrap();
    for j in 0..2 {
        let c = m.returns.values().column(j).to_vec();
        let k = stats::excess_kurtosis(&c);
        assert!((k - 1.5).abs() < 0.35, "kurtosis {k}");
        assert!((stats::std(&c) - 0.02).abs() < 0.0005);
    }
}

/// Autocorrelation at lag 1.
fn acf1(x: &[f64]) -> f64 {
    stats::correlation(&x[1..], &x[..x.len() - 1])
}

#[test]
fn garch_clusters_volatility_and_keeps_unconditional_variance() {
    let m = Synthetic::params().assets(1).days(50_000).drift(0.0).garch(0.1, 0.85).seed(5).generate().unwrap();
    let r = m.returns.values().column(0).to_vec();
    let sq: Vec<f64> = r.iter().map(|x| x * x).collect();
    assert!(acf1(&sq) > 0.1, "squared returns autocorrelate: {}", acf1(&sq));
    assert!(acf1(&r).abs() < 0.03, "returns do not: {}", acf1(&r));
    // Theory: excess kurtosis 3(1-(a+b)^2)/(1-(a+b)^2-2a^2) - 3 = 0.77; the
    // sample estimate is biased low (0.47–0.74 over seeds 1–5), i.i.d. ≈ 0.
    assert!(stats::excess_kurtosis(&r) > 0.3, "kurtosis {}", stats::excess_kurtosis(&r));
    assert!((stats::std(&r) - 0.02).abs() < 0.002, "sd {}", stats::std(&r));
    // Without GARCH, squared returns are uncorrelated.
    let m = Synthetic::params().assets(1).days(50_000).drift(0.0).seed(5).generate().unwrap();
    let r = m.returns.values().column(0).to_vec();
    let sq: Vec<f64> = r.iter().map(|x| x * x).collect();
    assert!(acf1(&sq).abs() < 0.03);
}

#[test]
fn regimes_switch_at_the_stationary_rate_and_scale_volatility() {
    let reg = Regimes { enter_stress: 0.01, leave_stress: 0.04, vol_multiplier: 3.0, drift_shift: 0.0 };
    let m = Synthetic::params().assets(1).days(100_000).drift(0.0).regimes(reg).seed(6).generate().unwrap();
    let stress = m.regime.iter().filter(|&&s| s == 1).count() as f64 / m.regime.len() as f64;
    // Stationary share p / (p + q) = 0.2.
    assert!((stress - 0.2).abs() < 0.04, "stress share {stress}");
    let r = m.returns.values().column(0).to_vec();
    let (mut calm, mut hot) = (vec![], vec![]);
    for (i, x) in r.iter().enumerate() {
        if m.regime[i + 1] == 1 {
            hot.push(*x)
        } else {
            calm.push(*x)
        }
    }
    let ratio = stats::std(&hot) / stats::std(&calm);
    assert!((ratio - 3.0).abs() < 0.15, "vol ratio {ratio}");
}

#[test]
fn planted_lagged_feature_has_its_information_coefficient() {
    let m = Synthetic::params()
        .assets(5)
        .days(20_000)
        .signal(Signal::LaggedFeature { ic: 0.2 })
        .seed(7)
        .generate()
        .unwrap();
    let x = m.feature.as_ref().unwrap().values();
    let r = m.returns.values();
    for j in 0..5 {
        // feature at date t (price row t) vs return earned over t → t+1 (return row t).
        let f: Vec<f64> = x.column(j).iter().take(r.nrows()).copied().collect();
        let ic = stats::correlation(&f, &r.column(j).to_vec());
        assert!((ic - 0.2).abs() < 0.03, "ic {ic}");
        // Same-day feature is uninformative (no lookahead in the planting).
        let same: Vec<f64> = x.column(j).iter().skip(1).copied().collect();
        assert!(stats::correlation(&same, &r.column(j).to_vec()).abs() < 0.03);
    }
    // Without a signal, no feature.
    assert!(Synthetic::params().generate().unwrap().feature.is_none());
}

#[test]
fn planted_momentum_is_computable_from_prices() {
    let m = Synthetic::params()
        .assets(10)
        .days(5_000)
        .drift(0.0)
        .signal(Signal::CrossSectionalMomentum { ic: 0.15, lookback: 20 })
        .seed(8)
        .generate()
        .unwrap();
    let lr = m.returns.values();
    let x = m.feature.as_ref().unwrap().values();
    // Recompute the feature from prices at date 100: z-score of 20-day log returns.
    let p = m.prices.values();
    let t = 100;
    let mom: Vec<f64> = (0..10).map(|i| (p[[t, i]] / p[[t - 20, i]]).ln()).collect();
    let (mu, sd) = (stats::mean(&mom), stats::std(&mom) * (9.0f64 / 10.0).sqrt());
    for i in 0..10 {
        assert!((x[[t, i]] - (mom[i] - mu) / sd).abs() < 1e-9);
    }
    // Pooled IC of the feature at t against the return over t → t+1.
    let (mut f, mut r) = (vec![], vec![]);
    for t in 20..lr.nrows() {
        for i in 0..10 {
            f.push(x[[t, i]]);
            r.push(lr[[t, i]]);
        }
    }
    let ic = stats::correlation(&f, &r);
    assert!((ic - 0.15).abs() < 0.02, "ic {ic}");
}

#[test]
fn autoregressive_signal_sets_the_autocorrelation() {
    let m = Synthetic::params()
        .assets(1)
        .days(50_000)
        .signal(Signal::Autoregressive { phi: 0.3 })
        .seed(9)
        .generate()
        .unwrap();
    let r = m.returns.values().column(0).to_vec();
    assert!((acf1(&r) - 0.3).abs() < 0.02, "acf {}", acf1(&r));
}

#[test]
fn generator_validates_its_parameters() {
    let cases: Vec<(SyntheticParams, parameter::Data)> = vec![
        (Synthetic::params().assets(0), parameter::Data::Assets),
        (Synthetic::params().days(1), parameter::Data::Days),
        (Synthetic::params().vol(0.0), parameter::Data::Vol),
        (Synthetic::params().assets(3).drifts(vec![0.0, 0.1]), parameter::Data::Drift),
        (Synthetic::params().garch(0.5, 0.6), parameter::Data::Garch),
        (Synthetic::params().innovations(Innovations::StudentT { dof: 2.0 }), parameter::Data::StudentT),
        (Synthetic::params().signal(Signal::LaggedFeature { ic: 1.0 }), parameter::Data::Signal),
        (
            Synthetic::params().assets(1).signal(Signal::CrossSectionalMomentum { ic: 0.1, lookback: 5 }),
            parameter::Data::Assets,
        ),
        (Synthetic::params().correlation(Correlation::Constant(1.0)), parameter::Data::Correlation),
        (
            Synthetic::params().regimes(Regimes { enter_stress: 0.0, ..Regimes::default() }),
            parameter::Data::EnterStress,
        ),
    ];
    for (s, word) in cases {
        let e = s.generate().unwrap_err();
        assert!(e.is_invalid(word), "{word}: {e}");
    }
    let e = Synthetic::params().correlation(Correlation::Matrix(Array2::eye(2))).generate().unwrap_err();
    assert!(matches!(e, Error::Shape(_)), "{e}");
}

// ---------- display ----------

#[test]
fn panels_render_head_tail_and_caption() {
    let p = assetalloc::datasets::sp500().unwrap();
    let h = p.to_html();
    assert!(h.contains("8313 rows × 20 assets"), "caption");
    assert!(h.contains("1990-01-02") && h.contains("2022-12-28"));
    assert!(h.contains("… 8303 more rows"));
    assert!(h.contains("… 8 more columns"));
    assert!(!h.contains("1995-06-01"), "middle rows are not rendered");
    let text = format!("{p}");
    assert!(text.contains("8313 rows × 20 assets") && text.contains("… 8303 more rows"));
    let s = p.summary().unwrap();
    assert!(s.to_html().contains("<th style=\"text-align:right\">Sharpe</th>"));
    assert_eq!(s.to_html().matches("<tr>").count(), 21);
}

#[test]
fn asset_names_are_escaped_in_html() {
    let p = Load::bytes(b"date,<b>A&B</b>\n2024-01-02,1\n2024-01-03,2\n").prices().unwrap();
    let h = p.to_html();
    assert!(h.contains("&lt;b&gt;A&amp;B&lt;/b&gt;"));
    assert!(!h.contains("<b>A"));
}

#[test]
fn plots_are_plotly_figures_with_every_asset() {
    let p = assetalloc::datasets::factors().unwrap();
    let j = p.plot_normalized(true).to_json();
    for a in p.assets() {
        assert!(j.contains(&format!("\"name\":\"{a}\"")));
    }
    assert!(j.contains("\"type\":\"log\""));
    let r = p.returns(ReturnKind::Log).unwrap();
    let h = r.plot_histogram().to_json();
    assert_eq!(h.matches("\"type\":\"bar\"").count(), 5);
    // The log axis is fitted to the bars, not to the normal curve's far tails.
    assert!(h.contains("\"range\":["), "{}", &h[h.len().saturating_sub(400)..]);
    let c = r.plot_correlation().to_json();
    assert!(c.contains("\"type\":\"heatmap\""));
}

#[test]
fn realized_ic_sees_the_planted_signal_and_no_signal_when_none_is_planted() {
    let with = Synthetic::params().assets(10).days(2520).signal(Signal::LaggedFeature { ic: 0.1 }).seed(7);
    let (ic, se) = with.generate().unwrap().realized_ic().unwrap();
    assert!((ic - 0.1).abs() < 3.0 * se, "ic {ic} ± {se}");
    let none = Synthetic::params().assets(10).days(2520).signal(Signal::LaggedFeature { ic: 0.0 }).seed(7);
    let (ic0, se0) = none.generate().unwrap().realized_ic().unwrap();
    assert!(ic0.abs() < 3.0 * se0, "ic {ic0} ± {se0}");
}

// ---------- no lookahead ----------

#[test]
fn returns_and_planted_features_at_t_ignore_the_future() {
    // Perturb every price after date index t: returns up to t are bit-identical.
    let p = datasets::sp500().unwrap().tail(500).unwrap();
    let t = 300;
    let mut v = p.values().to_owned();
    for i in t + 1..v.nrows() {
        for j in 0..v.ncols() {
            v[[i, j]] *= 1.0 + 0.1 * ((i * 7 + j) % 5) as f64;
        }
    }
    let q = Prices::new(p.dates().to_vec(), p.assets().to_vec(), v).unwrap();
    for kind in [ReturnKind::Simple, ReturnKind::Log] {
        let (a, b) = (p.returns(kind).unwrap(), q.returns(kind).unwrap());
        // Return row k is dated at price row k + 1.
        assert_eq!(a.values().slice(ndarray::s![..t, ..]), b.values().slice(ndarray::s![..t, ..]));
        assert_ne!(a.values().row(t), b.values().row(t));
    }
    // The generator's momentum feature at t depends on prices up to t only:
    // it is reproduced exactly from the prices at t − 10 and t.
    let m = Synthetic::params()
        .assets(6)
        .days(400)
        .signal(Signal::CrossSectionalMomentum { ic: 0.2, lookback: 10 })
        .seed(1)
        .generate()
        .unwrap();
    let x = m.signal_feature().unwrap().values();
    let pv = m.prices.values();
    for t in [50, 200, 399] {
        let mom: Vec<f64> = (0..6).map(|i| (pv[[t, i]] / pv[[t - 10, i]]).ln()).collect();
        let (mu, sd) = (stats::mean(&mom), stats::std(&mom) * (5.0f64 / 6.0).sqrt());
        for i in 0..6 {
            assert!((x[[t, i]] - (mom[i] - mu) / sd).abs() < 1e-9);
        }
    }
}
