//! The per-symbol Parquet cache: read, check, merge a fresh download into
//! it, write it back whole and atomically.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::{DataSource, FetchParams, History, Update};
use crate::data::io::{read_parquet_columns, write_parquet_columns};
use crate::error::{Error, Result};

/// What [`Fetch`](super::Fetch) does with a cache file that cannot be read,
/// lacks a field, or holds dates out of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corrupt {
    /// Discard it and fetch the whole history again (the fetch report says
    /// so).
    #[default]
    Refetch,
    /// Stop with [`Error::Cache`] naming the file.
    Error,
}

/// `symbol`'s history and what fetching it did.
pub(super) fn history(params: &FetchParams, source: &dyn DataSource, symbol: &str) -> Result<(History, Update)> {
    let transport = params.transport.as_ref();
    let mut update = Update {
        symbol: symbol.to_string(),
        cached: 0,
        fetched: 0,
        appended: 0,
        revised: 0,
        requests: 0,
        refetched: None,
    };
    let Some(dir) = &params.cache else {
        if params.offline {
            return Err(Error::Fetch {
                provider: source.name().into(),
                symbol: symbol.into(),
                reason: "an offline fetch needs a cache; set .cache(dir)".into(),
            });
        }
        let fresh = checked(source, symbol, source.fetch(transport, symbol, None)?)?;
        update.requests = 1;
        update.fetched = fresh.len();
        update.appended = fresh.len();
        return Ok((fresh, update));
    };
    let path = file(dir, source.name(), symbol);
    let cached = match read(&path, source, symbol) {
        Ok(c) => c,
        Err(reason) if params.on_corrupt == Corrupt::Error => return Err(Error::Cache { path, reason }),
        Err(reason) => {
            update.refetched = Some(reason);
            None
        }
    };
    update.cached = cached.as_ref().map_or(0, History::len);
    if params.offline {
        return cached.map(|c| (c, update)).ok_or_else(|| Error::Fetch {
            provider: source.name().into(),
            symbol: symbol.into(),
            reason: format!("it is not in the cache ({}) and the fetch is offline", path.display()),
        });
    }
    let cached = match cached {
        Some(c) if params.until.is_some_and(|u| c.dates.last().is_some_and(|last| *last >= u)) => {
            return Ok((c, update))
        }
        other => other,
    };
    let from = cached.as_ref().and_then(|c| c.dates.get(c.len().saturating_sub(params.overlap)).copied());
    let fresh = checked(source, symbol, source.fetch(transport, symbol, from)?)?;
    update.requests = 1;
    update.fetched = fresh.len();
    let merged = match (cached, from) {
        (Some(c), Some(from)) => merge(c, fresh, from, &mut update),
        (_, _) => {
            update.appended = fresh.len();
            fresh
        }
    };
    let columns: Vec<(&str, &[f64])> =
        merged.fields.iter().map(String::as_str).zip(merged.columns.iter().map(Vec::as_slice)).collect();
    write_parquet_columns(&path, &merged.dates, &columns)?;
    Ok((merged, update))
}

/// The cache file of `symbol`: its name keeps letters, digits, `-`, `_` and
/// `.` and writes any other byte as `%XX`, so distinct symbols never share
/// a file and no symbol leaves the folder.
pub(super) fn file(dir: &Path, provider: &str, symbol: &str) -> PathBuf {
    let mut name = String::new();
    for b in symbol.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') || (b == b'.' && !name.is_empty()) {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    dir.join(provider).join(format!("{name}.parquet"))
}

/// The cached history, `None` when there is no file, or why the file
/// cannot be trusted.
fn read(path: &Path, source: &dyn DataSource, symbol: &str) -> std::result::Result<Option<History>, String> {
    if !path.exists() {
        return Ok(None);
    }
    let (dates, mut columns) = read_parquet_columns(path)?;
    let fields = source.fields();
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    if names.len() != fields.len() || fields.iter().any(|f| !names.contains(&f.as_str())) {
        return Err(format!("it holds the columns {names:?}, the source {} writes {fields:?}", source.name()));
    }
    let ordered = fields
        .iter()
        .map(|f| {
            columns.iter().position(|(n, _)| n == f).map(|j| std::mem::take(&mut columns[j].1)).unwrap_or_default()
        })
        .collect();
    History::new(symbol, dates, fields, ordered).map(Some).map_err(|e| e.to_string())
}

/// `h` with exactly the source's fields, or an error naming the field
/// that is missing (a custom source's bug, caught before it is cached).
fn checked(source: &dyn DataSource, symbol: &str, h: History) -> Result<History> {
    if h.fields != source.fields() {
        return Err(Error::Fetch {
            provider: source.name().into(),
            symbol: symbol.into(),
            reason: format!("the source delivered the fields {:?} but declares {:?}", h.fields, source.fields()),
        });
    }
    Ok(h)
}

/// The cached rows before `from` as they are, then the union of the cached
/// rows from `from` on and the fresh rows: a fresh value replaces a cached
/// one, except where the fresh one is missing (the first fresh row's total
/// return has no previous row within the download).
fn merge(cached: History, fresh: History, from: NaiveDate, update: &mut Update) -> History {
    let cut = cached.dates.partition_point(|d| *d < from);
    let last = cached.dates.last().copied();
    let mut dates = cached.dates[..cut].to_vec();
    let mut columns: Vec<Vec<f64>> = cached.columns.iter().map(|c| c[..cut].to_vec()).collect();
    let (mut i, mut k) = (cut, fresh.dates.partition_point(|d| *d < from));
    while i < cached.len() || k < fresh.len() {
        let take_cached = k == fresh.len() || (i < cached.len() && cached.dates[i] < fresh.dates[k]);
        let take_fresh = i == cached.len() || (k < fresh.len() && fresh.dates[k] < cached.dates[i]);
        if take_cached {
            dates.push(cached.dates[i]);
            columns.iter_mut().zip(&cached.columns).for_each(|(out, c)| out.push(c[i]));
            i += 1;
        } else if take_fresh {
            dates.push(fresh.dates[k]);
            columns.iter_mut().zip(&fresh.columns).for_each(|(out, c)| out.push(c[k]));
            if last.is_none_or(|l| fresh.dates[k] > l) {
                update.appended += 1;
            }
            k += 1;
        } else {
            dates.push(fresh.dates[k]);
            let mut changed = false;
            for (out, (c, f)) in columns.iter_mut().zip(cached.columns.iter().zip(&fresh.columns)) {
                let (old, new) = (c[i], f[k]);
                if new.is_nan() {
                    out.push(old);
                } else {
                    changed |= !(old.is_nan() && new.is_nan())
                        && (new - old).abs() > 1e-12 * old.abs().max(new.abs()).max(1.0);
                    out.push(new);
                }
            }
            update.revised += usize::from(changed);
            i += 1;
            k += 1;
        }
    }
    History { symbol: cached.symbol, dates, fields: cached.fields, columns }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_distinct_and_stay_in_the_folder() {
        let dir = Path::new("c");
        assert_eq!(file(dir, "yahoo", "BRK-B"), Path::new("c/yahoo/BRK-B.parquet"));
        assert_eq!(file(dir, "yahoo", "^GSPC"), Path::new("c/yahoo/%5EGSPC.parquet"));
        assert_eq!(file(dir, "yahoo", "../x"), Path::new("c/yahoo/%2E.%2Fx.parquet"));
        assert_ne!(file(dir, "yahoo", "A/B"), file(dir, "yahoo", "A%2FB"));
    }
}
