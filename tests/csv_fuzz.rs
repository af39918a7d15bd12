//! The CSV loader under arbitrary bytes and under mutated valid files:
//! it never panics or hangs, and every file either loads into a panel whose
//! prices are finite and positive, with its columns neither renamed nor
//! shifted, or is refused with a typed error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use assetalloc::prelude::*;
use proptest::prelude::*;

const CASES: u32 = 2000;
const PER_FILE: Duration = Duration::from_secs(2);

/// A valid price file: `rows` dates of `assets` assets, with its values.
fn valid(assets: usize, rows: usize, seed: u64) -> (String, Vec<String>, Vec<Vec<f64>>) {
    let names: Vec<String> = (0..assets).map(|j| format!("S{j}")).collect();
    let mut text = format!("date,{}\n", names.join(","));
    let mut values = Vec::new();
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for i in 0..rows {
        let row: Vec<f64> = (0..assets)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                1.0 + (x >> 40) as f64 / 1e3
            })
            .collect();
        let date = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Days::new(i as u64);
        text.push_str(&format!("{date},{}\n", row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")));
        values.push(row);
    }
    (text, names, values)
}

/// The fields of the first line, as a spreadsheet would show them.
fn header(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    let end = bytes.iter().position(|&b| b == b'\n').unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end])
        .trim_end_matches('\r')
        .split(',')
        .map(|f| f.trim_matches('"').to_string())
        .collect()
}

/// Panics on any thread of this process, the CSV reader's workers
/// included (a panic there need not reach the caller).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// What every load must satisfy: a typed error, or finite positive prices
/// under names the file's header has, in its order (never renamed); no
/// panic on any thread.
fn check(bytes: &[u8], names: Option<&[String]>) -> std::result::Result<Option<Prices>, TestCaseError> {
    count_panics();
    let before = PANICS.load(Ordering::SeqCst);
    let started = Instant::now();
    let loaded = Load::bytes(bytes).prices();
    prop_assert_eq!(
        PANICS.load(Ordering::SeqCst),
        before,
        "a panic while loading {:?}",
        String::from_utf8_lossy(bytes)
    );
    prop_assert!(started.elapsed() < PER_FILE, "took {:?}", started.elapsed());
    let Ok(p) = loaded else { return Ok(None) };
    prop_assert!(p.values().iter().all(|v| v.is_finite() && *v > 0.0), "a non-finite or non-positive price loaded");
    if let Some(names) = names {
        let mut at = 0;
        for a in p.assets() {
            let found = names[at..].iter().position(|n| n == a);
            prop_assert!(found.is_some(), "column {a:?} is not one of {names:?} in order");
            at += found.unwrap_or(0) + 1;
        }
    }
    Ok(Some(p))
}

proptest! {
    // A fixed seed keeps `cargo test` reproducible; change it (or CASES)
    // here to explore other inputs.
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(&bytes, Some(&header(&bytes)))?;
    }

    #[test]
    fn csv_like_text_never_panics(text in "(date|Date|DATE|x)?[,;\\t]?([A-Z0-9.eE+\\-\" ]{0,6}[,;\\t\\r\\n]){0,40}") {
        check(text.as_bytes(), Some(&header(text.as_bytes())))?;
    }

    #[test]
    fn mutated_valid_files_load_unshifted_or_fail_typed(
        assets in 1usize..5,
        rows in 2usize..30,
        seed in any::<u64>(),
        op in 0usize..11,
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let (text, names, values) = valid(assets, rows, seed);
        let mut bytes = text.clone().into_bytes();
        let k = at % bytes.len();
        match op {
            0 => bytes.truncate(k),                                        // a truncated download
            1 => { bytes.remove(k); }                                      // a lost byte
            2 => bytes.insert(k, byte),                                    // a stray byte
            3 => bytes[k] = byte,                                          // a flipped byte
            4 => bytes = text.replace('\n', "\r\n").into_bytes(),          // Windows line endings
            5 => bytes = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(), // a byte-order mark
            6 => bytes = text.replacen(&names[0], &format!("\"{}\"", names[0]), 1).into_bytes(), // a quoted header
            7 => bytes = text.replace(',', ";").into_bytes(),              // another separator
            9 => bytes = [&[0xFF, 0xFE][..], text.as_bytes()].concat(),  // a UTF-16 mark on UTF-8 text
            10 => bytes = [&[0xFE, 0xFF][..], text.as_bytes()].concat(), // a big-endian one
            _ => { let line = text.lines().nth(1 + at % rows).unwrap_or("").to_string();
                   bytes = format!("{text}{line}\n").into_bytes(); }      // a repeated row
        }
        let loaded = check(&bytes, Some(&header(&bytes)))?;
        // A UTF-16 or UTF-32 mark is refused: the bytes are not UTF-8.
        prop_assert!(!(matches!(op, 9 | 10) && loaded.is_some()), "a UTF-16 mark loaded");
        // A UTF-8 mark before a valid file is stripped, as spreadsheets expect.
        prop_assert!(op != 5 || loaded.is_some(), "a file with a UTF-8 byte-order mark was refused");
        if let Some(p) = loaded {
            // Structure-only mutations (a byte-order mark among them) must
            // not move a value: every loaded price sits at its own date and
            // asset.
            if matches!(op, 4..=6) {
                prop_assert_eq!(p.len(), rows);
                for (i, row) in values.iter().enumerate() {
                    for (j, v) in row.iter().enumerate() {
                        prop_assert_eq!(p.values()[[i, j]], *v);
                    }
                }
            }
        }
    }
}
