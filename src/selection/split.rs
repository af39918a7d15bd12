//! Splitters: which rows train a strategy and which rows test it.

use crate::parameter::Selection as Param;
use plotly::common::Mode;
use plotly::layout::{Axis, Layout};
use plotly::{Plot, Scatter};

use crate::display::{Cell, Table};
use crate::error::{Error, Result};

/// Splits beyond which a combinatorial cross-validation is a mistake
/// rather than a plan (every split is one fit per strategy).
const MAX_SPLITS: u128 = 100_000;

/// One train/test split of the rows `0..len` of a panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// Training rows, ascending (with the purged and embargoed rows removed).
    pub train: Vec<usize>,
    /// The test blocks, each a run of consecutive rows, in time order.
    pub test: Vec<std::ops::Range<usize>>,
    /// For each test block, the out-of-sample path it belongs to.
    pub path: Vec<usize>,
}

/// The splits of a panel and how their test blocks recombine into
/// out-of-sample paths: path $p$ is the test blocks whose `path` is $p$,
/// in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splits {
    /// Rows of the panel that was split.
    pub len: usize,
    /// The splits, in order.
    pub folds: Vec<Fold>,
    /// Number of out-of-sample paths.
    pub paths: usize,
    /// What produced them, for captions ("CPCV N = 10, k = 2, purge 5, embargo 5").
    pub label: String,
}

impl Splits {
    /// The (split, test block) pairs of path `p`, in time order.
    pub fn path(&self, p: usize) -> Vec<(usize, usize)> {
        let mut blocks: Vec<(usize, usize)> = self
            .folds
            .iter()
            .enumerate()
            .flat_map(|(s, f)| f.path.iter().enumerate().filter(move |(_, q)| **q == p).map(move |(b, _)| (s, b)))
            .collect();
        blocks.sort_by_key(|&(s, b)| self.folds[s].test[b].start);
        blocks
    }

    /// One line per split: training size, test rows, paths.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["split", "train rows", "test rows", "test blocks", "paths"]).caption(format!(
            "{}: {} splits, {} paths over {} rows",
            self.label,
            self.folds.len(),
            self.paths,
            self.len
        ));
        for (i, f) in self.folds.iter().enumerate() {
            let blocks: Vec<String> = f.test.iter().map(|r| format!("{}–{}", r.start, r.end - 1)).collect();
            let paths: Vec<String> = f.path.iter().map(|p| p.to_string()).collect();
            t.push(vec![
                Cell::Int(i as i64),
                Cell::Int(f.train.len() as i64),
                Cell::Int(f.test.iter().map(|r| r.len() as i64).sum()),
                Cell::Text(blocks.join(", ")),
                Cell::Text(paths.join(", ")),
            ]);
        }
        t.capped(60)
    }

    /// The splits over time: one line per split, training rows in blue,
    /// test rows in red, purged or embargoed rows left blank.
    pub fn plot(&self) -> Plot {
        let mut plot = Plot::new();
        let mut add = |name: &str, color: &str, xs: Vec<Option<usize>>, ys: Vec<Option<usize>>, legend: bool| {
            plot.add_trace(
                Scatter::new(xs, ys)
                    .name(name)
                    .mode(Mode::Lines)
                    .line(plotly::common::Line::new().width(6.0).color(color.to_string()))
                    .show_legend(legend)
                    .legend_group(name),
            );
        };
        for (i, f) in self.folds.iter().enumerate() {
            // Each run of consecutive training rows as one segment (its two
            // ends), segments separated by None so the line has gaps.
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for (j, &r) in f.train.iter().enumerate() {
                let starts = j == 0 || f.train[j - 1] + 1 != r;
                let ends = j + 1 == f.train.len() || f.train[j + 1] != r + 1;
                if starts || ends {
                    xs.push(Some(r));
                    ys.push(Some(i));
                }
                if ends {
                    xs.push(None);
                    ys.push(None);
                }
            }
            add("train", "#1f77b4", xs, ys, i == 0);
            let (mut xs, mut ys) = (Vec::new(), Vec::new());
            for b in &f.test {
                xs.extend([Some(b.start), Some(b.end - 1), None]);
                ys.extend([Some(i), Some(i), None]);
            }
            add("test", "#d62728", xs, ys, i == 0);
        }
        plot.set_layout(
            Layout::new()
                .title(format!("{}: train (blue) and test (red) rows per split", self.label))
                .x_axis(Axis::new().title("row"))
                .y_axis(Axis::new().title("split"))
                .height(240 + 14 * self.folds.len().min(60)),
        );
        plot
    }
}

crate::shows_as_table!(Splits);

/// A rule that splits `len` rows into train/test sets.
pub trait Splitter: Send + Sync {
    /// The splits of a panel of `len` rows.
    fn split(&self, len: usize) -> Result<Splits>;
}

/// Combinatorial purged cross-validation (López de Prado 2018, ch. 12):
/// the rows are cut into $N$ consecutive folds (each of $\lfloor T/N
/// \rfloor$ rows, the last taking the remainder); every choice of $k$ test
/// folds is a split, $\binom{N}{k}$ in all, trained on the other folds.
/// Each fold is tested in $\binom{N-1}{k-1}$ splits, and its $j$-th test
/// (splits in order) belongs to path $j$, so the test blocks recombine
/// into $\binom{N-1}{k-1}$ complete out-of-sample paths.
///
/// **Purge** $p$ removes the $p$ training rows just before each test block
/// and the $p$ just after it; **embargo** $e$ removes $e$ more after it
/// (serial correlation leaks forward). The numbering, folds and removed
/// rows are those of skfolio's `CombinatorialPurgedCV`.
///
/// ```
/// use assetalloc::selection::{CombinatorialPurged, Splitter};
/// let s = CombinatorialPurged::params().folds(6).test_folds(2).purge(2).embargo(1).split(600)?;
/// assert_eq!((s.folds.len(), s.paths), (15, 5));
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CombinatorialPurged;

impl CombinatorialPurged {
    /// Ten folds, two test folds (45 splits, 9 paths), no purge, no embargo.
    pub fn params() -> CombinatorialPurgedParams {
        CombinatorialPurgedParams { folds: 10, test_folds: 2, purge: 0, embargo: 0 }
    }
}

/// Settings of a combinatorial purged cross-validation (see
/// [`CombinatorialPurged::params`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CombinatorialPurgedParams {
    folds: usize,
    test_folds: usize,
    purge: usize,
    embargo: usize,
}

impl CombinatorialPurgedParams {
    /// Number of folds $N$ (≥ 3).
    pub fn folds(mut self, n: usize) -> Self {
        self.folds = n;
        self
    }

    /// Number of test folds per split $k$ (1 ≤ k < N).
    pub fn test_folds(mut self, k: usize) -> Self {
        self.test_folds = k;
        self
    }

    /// Rows removed from training on both sides of each test block.
    pub fn purge(mut self, p: usize) -> Self {
        self.purge = p;
        self
    }

    /// Rows removed from training after each test block, beyond the purge.
    pub fn embargo(mut self, e: usize) -> Self {
        self.embargo = e;
        self
    }

    /// Number of splits $\binom{N}{k}$.
    pub fn splits(&self) -> u128 {
        binomial(self.folds, self.test_folds)
    }

    /// Number of paths $\binom{N-1}{k-1}$.
    pub fn paths(&self) -> u128 {
        binomial(self.folds.saturating_sub(1), self.test_folds.saturating_sub(1))
    }

    fn validate(&self, len: usize) -> Result<usize> {
        let (n, k) = (self.folds, self.test_folds);
        if n < 3 {
            return Err(Error::param(Param::Folds, format!("must be ≥ 3, got {n}")));
        }
        if k == 0 || k >= n {
            return Err(Error::param(Param::TestFolds, format!("must be ≥ 1 and < folds ({n}), got {k}")));
        }
        if self.splits() > MAX_SPLITS {
            return Err(Error::param(
                Param::TestFolds,
                format!(
                    "{n} folds with {k} test folds make {} splits (at most {MAX_SPLITS}); move k away from N/2",
                    self.splits()
                ),
            ));
        }
        if len < n {
            return Err(Error::TooFewRows {
                operation: format!("a cross-validation with {n} folds"),
                needed: n,
                got: len,
            });
        }
        let size = len / n;
        if self.purge + self.embargo + 1 >= size {
            return Err(Error::param(
                Param::Purge,
                format!(
                    "+ embargo must be shorter than a fold less one row ({} rows with {len} rows in {n} folds), got {} + {}",
                    size.saturating_sub(1),
                    self.purge,
                    self.embargo
                ),
            ));
        }
        Ok(size)
    }
}

impl Splitter for CombinatorialPurgedParams {
    fn split(&self, len: usize) -> Result<Splits> {
        let size = self.validate(len)?;
        let (n, k) = (self.folds, self.test_folds);
        let bounds: Vec<std::ops::Range<usize>> =
            (0..n).map(|f| f * size..if f + 1 == n { len } else { (f + 1) * size }).collect();
        let mut tested = vec![0usize; n];
        let folds = combinations(n, k)
            .into_iter()
            .map(|test_folds| {
                let mut is_test = vec![false; n];
                for &f in &test_folds {
                    is_test[f] = true;
                }
                let mut keep = vec![true; len];
                for (f, b) in bounds.iter().enumerate() {
                    if is_test[f] {
                        keep[b.clone()].iter_mut().for_each(|x| *x = false);
                        continue;
                    }
                    // A training fold loses rows next to a test fold: the
                    // purge on both sides, the embargo after a test block.
                    if f > 0 && is_test[f - 1] {
                        let end = (b.start + self.purge + self.embargo).min(b.end);
                        keep[b.start..end].iter_mut().for_each(|x| *x = false);
                    }
                    if f + 1 < n && is_test[f + 1] {
                        let start = b.end.saturating_sub(self.purge).max(b.start);
                        keep[start..b.end].iter_mut().for_each(|x| *x = false);
                    }
                }
                let path = test_folds
                    .iter()
                    .map(|&f| {
                        tested[f] += 1;
                        tested[f] - 1
                    })
                    .collect();
                Fold {
                    train: (0..len).filter(|&r| keep[r]).collect(),
                    // Each test fold is its own block: neighbouring test
                    // folds belong to different paths.
                    test: test_folds.iter().map(|&f| bounds[f].clone()).collect(),
                    path,
                }
            })
            .collect();
        Ok(Splits {
            len,
            folds,
            paths: self.paths() as usize,
            label: format!("CPCV N = {n}, k = {k}, purge {}, embargo {}", self.purge, self.embargo),
        })
    }
}

/// The walk-forward: train on `train` rows (a rolling window, or every row
/// since the start when expanding), test on the next `test` rows, move on
/// by `test` rows. One path: the test blocks in order. **Purge** $p$
/// leaves $p$ rows out between the training rows and the test block (the
/// training set always ends before its test block, so nothing after a
/// test block is ever trained on and an embargo has nothing to remove).
///
/// ```
/// use assetalloc::selection::{Splitter, WalkForward};
/// let s = WalkForward::params().train(252).test(63).purge(5).split(1000)?;
/// assert_eq!(s.folds[0].train, (0..252).collect::<Vec<_>>());
/// assert_eq!(s.folds[0].test, vec![257..320]);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct WalkForward;

impl WalkForward {
    /// 252 training rows (rolling), 21 test rows, no purge.
    pub fn params() -> WalkForwardParams {
        WalkForwardParams { train: 252, test: 21, expanding: false, purge: 0 }
    }
}

/// Settings of a walk-forward split (see [`WalkForward::params`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkForwardParams {
    train: usize,
    test: usize,
    expanding: bool,
    purge: usize,
}

impl WalkForwardParams {
    /// Training rows (the first window's, and every window's when rolling).
    pub fn train(mut self, n: usize) -> Self {
        self.train = n;
        self
    }

    /// Test rows per split.
    pub fn test(mut self, n: usize) -> Self {
        self.test = n;
        self
    }

    /// Train on every row since the start instead of a rolling window.
    pub fn expanding(mut self, yes: bool) -> Self {
        self.expanding = yes;
        self
    }

    /// Rows left out between training and test.
    pub fn purge(mut self, p: usize) -> Self {
        self.purge = p;
        self
    }
}

impl Splitter for WalkForwardParams {
    fn split(&self, len: usize) -> Result<Splits> {
        if self.train == 0 {
            return Err(Error::param(Param::Train, "must be ≥ 1, got 0"));
        }
        if self.test == 0 {
            return Err(Error::param(Param::Test, "must be ≥ 1, got 0"));
        }
        let first = self.train + self.purge;
        if first + self.test > len {
            return Err(Error::TooFewRows {
                operation: format!(
                    "a walk-forward with {} training, {} purged and {} test rows",
                    self.train, self.purge, self.test
                ),
                needed: first + self.test,
                got: len,
            });
        }
        let mut folds = Vec::new();
        let mut start = first;
        while start + self.test <= len {
            let end_train = start - self.purge;
            let lo = if self.expanding { 0 } else { end_train - self.train };
            // One test block, as a list of blocks.
            #[allow(clippy::single_range_in_vec_init)]
            let test = vec![start..start + self.test];
            folds.push(Fold { train: (lo..end_train).collect(), test, path: vec![0] });
            start += self.test;
        }
        Ok(Splits {
            len,
            folds,
            paths: 1,
            label: format!(
                "walk-forward {} train ({}), {} test, purge {}",
                self.train,
                if self.expanding { "expanding" } else { "rolling" },
                self.test,
                self.purge
            ),
        })
    }
}

/// $\binom{n}{k}$, exactly while it fits (saturating beyond).
fn binomial(n: usize, k: usize) -> u128 {
    if k > n {
        return 0;
    }
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c.saturating_mul((n - i) as u128) / (i as u128 + 1);
    }
    c
}

/// Every $k$-subset of $0..n$, in lexicographic order.
fn combinations(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut c: Vec<usize> = (0..k).collect();
    loop {
        out.push(c.clone());
        // The rightmost index that can still move right.
        let Some(i) = (0..k).rev().find(|&i| c[i] < n - k + i) else { return out };
        c[i] += 1;
        for j in i + 1..k {
            c[j] = c[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_are_lexicographic_and_complete() {
        let c = combinations(5, 2);
        assert_eq!(c.len(), 10);
        assert_eq!(c[0], vec![0, 1]);
        assert_eq!(c[4], vec![1, 2]);
        assert_eq!(c[9], vec![3, 4]);
        assert_eq!(binomial(10, 2), 45);
        assert_eq!(binomial(9, 1), 9);
    }
}
