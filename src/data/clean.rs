//! From a raw table (dates in file order, columns with gaps) to a checked
//! [`Panel`]: date order, duplicates, missing values, value ranges.

use crate::parameter::Data as Param;
use chrono::NaiveDate;
use ndarray::Array2;

use super::panel::Panel;
use super::ReturnKind;
use crate::error::{Error, Result};

/// What to do with missing values (empty cells, `NA`, `NaN`, …) when a
/// panel is loaded. Nothing is ever dropped or filled silently: the default
/// is [`Missing::Error`], and every other policy is a choice you make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Missing {
    /// Any missing value is an error naming the asset, the count and the
    /// first date (the default).
    #[default]
    Error,
    /// Drop every date on which any asset is missing.
    DropDates,
    /// Fill gaps of at most `limit` consecutive dates: a price (or a volume)
    /// with the last observed one, a return with 0 (the price carried
    /// forward). A longer gap, or missing values before an asset's first observation, is an
    /// error.
    ForwardFill {
        /// Longest gap filled, in rows.
        limit: usize,
    },
    /// Keep each asset's own start date: values before its first
    /// observation stay `NaN`. Later gaps of at most `fill_limit` rows are
    /// forward-filled as in [`Missing::ForwardFill`]; longer ones are errors.
    KeepStart {
        /// Longest gap filled after the start, in rows (0: none).
        fill_limit: usize,
    },
    /// A missing value means the asset is not in the universe on that date:
    /// before it lists, after it delists, while it is suspended. Nothing is
    /// filled; the values stay `NaN` and the backtest trades each asset only
    /// while it is in the universe (see [`crate::backtest`]'s changing
    /// universe).
    Universe,
}

/// What the values of a table are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Prices,
    Returns(ReturnKind),
    /// Traded value in currency per period (≥ 0).
    Volumes,
}

/// A table as read: one date per row in file order, one column per asset,
/// `NaN` where a value is missing.
#[derive(Debug, Clone)]
pub(crate) struct RawTable {
    pub dates: Vec<NaiveDate>,
    pub assets: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

/// A checked panel from a dates × assets array; `NaN` marks a date on
/// which the asset is not in the universe ([`Missing::Universe`]).
pub(crate) fn from_array(
    dates: Vec<NaiveDate>,
    assets: Vec<String>,
    values: Array2<f64>,
    kind: ValueKind,
) -> Result<Panel> {
    super::panel::check_shape(&values, dates.len(), assets.len())?;
    let columns = values.columns().into_iter().map(|c| c.to_vec()).collect();
    build(RawTable { dates, assets, columns }, kind, Missing::Universe)
}

/// Unsorted dates are sorted ascending (each row moves with its date, so
/// nothing is lost); a date that appears twice is an error.
pub(crate) fn build(raw: RawTable, kind: ValueKind, missing: Missing) -> Result<Panel> {
    let RawTable { dates, assets, mut columns } = raw;
    let n = dates.len();
    if n == 0 {
        return Err(Error::TooFewRows { operation: "loading a panel".into(), needed: 1, got: 0 });
    }
    if assets.is_empty() {
        return Err(Error::param(Param::Assets, "must include at least one asset besides the date, got none"));
    }

    // Sort by date, remembering file rows for error messages.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| dates[i]);
    for w in order.windows(2) {
        if dates[w[0]] == dates[w[1]] {
            return Err(Error::DuplicateDate { date: dates[w[0]], first: w[0].min(w[1]), second: w[0].max(w[1]) });
        }
    }
    let sorted_dates: Vec<NaiveDate> = order.iter().map(|&i| dates[i]).collect();
    if order.iter().enumerate().any(|(k, &i)| k != i) {
        for col in columns.iter_mut() {
            *col = order.iter().map(|&i| col[i]).collect();
        }
    }

    for (asset, col) in assets.iter().zip(&columns) {
        if col.iter().all(|v| v.is_nan()) {
            return Err(Error::EmptyAsset { asset: asset.clone() });
        }
        if let Some(i) = col.iter().position(|v| v.is_infinite()) {
            return Err(Error::InvalidValue {
                asset: asset.clone(),
                date: sorted_dates[i],
                value: col[i],
                reason: "values must be finite".into(),
            });
        }
    }

    let (keep_dates, columns) = apply_missing(&sorted_dates, &assets, columns, kind, missing)?;
    let dates: Vec<NaiveDate> = keep_dates.iter().map(|&i| sorted_dates[i]).collect();

    for (asset, col) in assets.iter().zip(&columns) {
        check_range(asset, col, &dates, kind)?;
    }

    let t = dates.len();
    let m = assets.len();
    // Columns to a row-major matrix in tiles, so both sides stay in cache
    // (column by column, every write lands on another row).
    let mut flat = vec![0.0; t * m];
    const TILE: usize = 64;
    for j0 in (0..m).step_by(TILE) {
        for i0 in (0..t).step_by(TILE) {
            for (j, col) in columns.iter().enumerate().skip(j0).take(TILE) {
                for (i, v) in col.iter().enumerate().skip(i0).take(TILE) {
                    flat[i * m + j] = *v;
                }
            }
        }
    }
    let values = Array2::from_shape_vec((t, m), flat).map_err(|e| Error::Shape(e.to_string()))?;
    Panel::new(dates, assets, values)
}

/// Applies the policy; returns the kept row positions and the columns
/// restricted to them.
fn apply_missing(
    dates: &[NaiveDate],
    assets: &[String],
    mut columns: Vec<Vec<f64>>,
    kind: ValueKind,
    missing: Missing,
) -> Result<(Vec<usize>, Vec<Vec<f64>>)> {
    let n = dates.len();
    let all: Vec<usize> = (0..n).collect();
    let hint = "choose a policy with .missing(Missing::DropDates | Missing::ForwardFill { limit } | Missing::KeepStart { fill_limit } | Missing::Universe)";
    match missing {
        Missing::Error => {
            for (asset, col) in assets.iter().zip(&columns) {
                let count = col.iter().filter(|v| v.is_nan()).count();
                if count > 0 {
                    let first = col.iter().position(|v| v.is_nan()).unwrap_or(0);
                    return Err(Error::MissingValues {
                        asset: asset.clone(),
                        count,
                        first: dates[first],
                        hint: hint.into(),
                    });
                }
            }
            Ok((all, columns))
        }
        Missing::Universe => Ok((all, columns)),
        Missing::DropDates => {
            let keep: Vec<usize> = (0..n).filter(|&i| columns.iter().all(|c| !c[i].is_nan())).collect();
            if keep.is_empty() {
                return Err(Error::TooFewRows {
                    operation: "dropping every date with a missing value".into(),
                    needed: 1,
                    got: 0,
                });
            }
            let columns = columns.into_iter().map(|c| keep.iter().map(|&i| c[i]).collect()).collect();
            Ok((keep, columns))
        }
        Missing::ForwardFill { limit } | Missing::KeepStart { fill_limit: limit } => {
            let keep_start = matches!(missing, Missing::KeepStart { .. });
            for (asset, col) in assets.iter().zip(columns.iter_mut()) {
                let start = col.iter().position(|v| !v.is_nan()).unwrap_or(0);
                if start > 0 && !keep_start {
                    return Err(Error::MissingValues {
                        asset: asset.clone(),
                        count: start,
                        first: dates[0],
                        hint: format!(
                            "these are before its first observation on {}; forward filling cannot fill them: use Missing::KeepStart or start the panel later",
                            dates[start]
                        ),
                    });
                }
                fill_gaps(asset, col, start, limit, dates, kind)?;
            }
            Ok((all, columns))
        }
    }
}

/// Forward-fills runs of missing values after `start` no longer than `limit`.
fn fill_gaps(
    asset: &str,
    col: &mut [f64],
    start: usize,
    limit: usize,
    dates: &[NaiveDate],
    kind: ValueKind,
) -> Result<()> {
    let mut i = start;
    while i < col.len() {
        if !col[i].is_nan() {
            i += 1;
            continue;
        }
        let run_end = (i..col.len()).find(|&k| !col[k].is_nan()).unwrap_or(col.len());
        let run = run_end - i;
        if run > limit {
            return Err(Error::MissingValues {
                asset: asset.to_string(),
                count: col.iter().skip(start).filter(|v| v.is_nan()).count(),
                first: dates[i],
                hint: format!("a gap of {run} rows from {} exceeds the fill limit {limit}", dates[i]),
            });
        }
        let fill = match kind {
            ValueKind::Prices | ValueKind::Volumes => col[i - 1],
            ValueKind::Returns(_) => 0.0,
        };
        col[i..run_end].fill(fill);
        i = run_end;
    }
    Ok(())
}

fn check_range(asset: &str, col: &[f64], dates: &[NaiveDate], kind: ValueKind) -> Result<()> {
    for (i, &v) in col.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        match kind {
            ValueKind::Volumes if v < 0.0 => {
                return Err(Error::InvalidValue {
                    asset: asset.to_string(),
                    date: dates[i],
                    value: v,
                    reason: "a traded volume must be ≥ 0 (leave the cell empty where the asset did not trade)".into(),
                });
            }
            ValueKind::Prices if v <= 0.0 => {
                return Err(Error::NonPositivePrice { asset: asset.to_string(), date: dates[i], value: v });
            }
            ValueKind::Returns(ReturnKind::Simple) if v <= -1.0 => {
                return Err(Error::InvalidValue {
                    asset: asset.to_string(),
                    date: dates[i],
                    value: v,
                    reason: "a simple return must be > −1 (a loss above 100 %); are these log returns or percentages?"
                        .into(),
                });
            }
            // exp(v) − 1 overflows past ln(f64::MAX) ≈ 709.8: every simple
            // return, price and metric computed from it would be infinite.
            ValueKind::Returns(ReturnKind::Log) if v.exp().is_infinite() => {
                return Err(Error::InvalidValue {
                    asset: asset.to_string(),
                    date: dates[i],
                    value: v,
                    reason: "a log return above ln(f64::MAX) ≈ 709.8 is a price ratio beyond floating point; are these percentages?"
                        .into(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 3, day).unwrap()
    }

    fn raw(col: Vec<f64>) -> RawTable {
        let dates = (1..=col.len() as u32).map(d).collect();
        RawTable { dates, assets: vec!["A".into()], columns: vec![col] }
    }

    const NAN: f64 = f64::NAN;

    #[test]
    fn default_policy_names_the_gap() {
        let e = build(raw(vec![1.0, NAN, 3.0]), ValueKind::Prices, Missing::Error).unwrap_err();
        match e {
            Error::MissingValues { asset, count, first, .. } => {
                assert_eq!((asset.as_str(), count, first), ("A", 1, d(2)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn forward_fill_respects_the_limit_and_kind() {
        let p = build(raw(vec![1.0, NAN, NAN, 4.0]), ValueKind::Prices, Missing::ForwardFill { limit: 2 }).unwrap();
        assert_eq!(p.values().column(0).to_vec(), vec![1.0, 1.0, 1.0, 4.0]);
        let r =
            build(raw(vec![0.1, NAN, 0.2]), ValueKind::Returns(ReturnKind::Simple), Missing::ForwardFill { limit: 1 })
                .unwrap();
        assert_eq!(r.values().column(0).to_vec(), vec![0.1, 0.0, 0.2]);
        let e = build(raw(vec![1.0, NAN, NAN, 4.0]), ValueKind::Prices, Missing::ForwardFill { limit: 1 });
        assert!(matches!(e, Err(Error::MissingValues { .. })));
        let e = build(raw(vec![NAN, 2.0]), ValueKind::Prices, Missing::ForwardFill { limit: 5 });
        assert!(matches!(e, Err(Error::MissingValues { .. })));
    }

    #[test]
    fn keep_start_keeps_leading_nan_only() {
        let p = build(raw(vec![NAN, NAN, 3.0, 4.0]), ValueKind::Prices, Missing::KeepStart { fill_limit: 0 }).unwrap();
        let v = p.values().column(0).to_vec();
        assert!(v[0].is_nan() && v[1].is_nan());
        assert_eq!(&v[2..], &[3.0, 4.0]);
        let e = build(raw(vec![NAN, 2.0, NAN, 4.0]), ValueKind::Prices, Missing::KeepStart { fill_limit: 0 });
        assert!(matches!(e, Err(Error::MissingValues { .. })));
    }

    #[test]
    fn drop_dates_and_sorting() {
        let mut t = raw(vec![1.0, NAN, 3.0]);
        t.dates.reverse();
        let p = build(t, ValueKind::Prices, Missing::DropDates).unwrap();
        assert_eq!(p.dates(), &[d(1), d(3)]);
        // Row for d(1) held 3.0 after reversing the dates.
        assert_eq!(p.values().column(0).to_vec(), vec![3.0, 1.0]);
    }

    #[test]
    fn bad_values_are_named() {
        assert!(matches!(
            build(raw(vec![1.0, 0.0]), ValueKind::Prices, Missing::Error),
            Err(Error::NonPositivePrice { .. })
        ));
        assert!(matches!(
            build(raw(vec![0.1, -1.5]), ValueKind::Returns(ReturnKind::Simple), Missing::Error),
            Err(Error::InvalidValue { .. })
        ));
        assert!(matches!(
            build(raw(vec![NAN, NAN]), ValueKind::Prices, Missing::KeepStart { fill_limit: 0 }),
            Err(Error::EmptyAsset { .. })
        ));
        let mut t = raw(vec![1.0, 2.0]);
        t.dates[1] = t.dates[0];
        assert!(matches!(build(t, ValueKind::Prices, Missing::Error), Err(Error::DuplicateDate { .. })));
    }
}
