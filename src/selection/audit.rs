//! The look-ahead audit: change the future, and see whether the past moves.

use crate::parameter::Selection as Param;
use chrono::NaiveDate;
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

use super::evaluate::Candidate;
use crate::backtest::{Backtest, BacktestParams};
use crate::data::{DateBound, ReturnKind, Returns};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};

/// Two weights closer than this are the same decision. The audit reruns
/// the same arithmetic on the same past, so anything above rounding is a
/// leak.
pub const TOLERANCE: f64 = 1e-12;

/// How the returns after a cut are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perturbation {
    /// The rows after the cut, shuffled (seeded).
    Permute,
    /// Gaussian noise with each asset's mean and standard deviation over
    /// the rows after the cut (seeded).
    Noise,
    /// The rows after the cut in reverse order.
    Reverse,
}

impl Perturbation {
    /// All three.
    pub const ALL: [Perturbation; 3] = [Perturbation::Permute, Perturbation::Noise, Perturbation::Reverse];
}

impl std::fmt::Display for Perturbation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Perturbation::Permute => "permuted",
            Perturbation::Noise => "noise",
            Perturbation::Reverse => "reversed",
        })
    }
}

/// The look-ahead audit: for each cut date and each [`Perturbation`], the
/// returns after the cut are replaced, every strategy is rebuilt from the
/// perturbed panel ([`Candidate::from_data`] strategies see it whole) and
/// walked forward again, and every decision dated at or before the cut is
/// compared with the original run's. A strategy that uses only what it
/// may see decides identically; one that peeks is caught at the first
/// decision its peek reaches.
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::selection::{Audit, Candidate};
/// let returns = Synthetic::gaussian(3, 500, 1)?.returns(ReturnKind::Simple)?;
/// let report = Audit::params()
///     .backtest(Backtest::params().lookback(63))
///     .run(&returns, vec![Candidate::new(|| InverseVolatility::new(63))])?;
/// assert!(report.passed());
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Audit;

impl Audit {
    /// Cuts at the last scheduled decision by 40 %, 60 % and 80 % of the
    /// span walked forward, all three perturbations, seed 42, the backtest's defaults.
    pub fn params() -> AuditParams {
        AuditParams {
            cuts: Vec::new(),
            perturbations: Perturbation::ALL.to_vec(),
            seed: 42,
            backtest: Backtest::params(),
        }
    }
}

/// Settings of the audit (see [`Audit::params`]).
#[derive(Debug, Clone)]
pub struct AuditParams {
    cuts: Vec<String>,
    perturbations: Vec<Perturbation>,
    seed: u64,
    backtest: BacktestParams,
}

impl AuditParams {
    /// Cut dates ("2015-06-30"); each must be a date of the panel from the
    /// first decision to the day before the last date. A look-ahead of $h$
    /// days shows only if some decision falls within $h$ days before a cut,
    /// so cut on decision dates (the default cuts are).
    pub fn cuts<S: Into<String>>(mut self, cuts: impl IntoIterator<Item = S>) -> Self {
        self.cuts = cuts.into_iter().map(Into::into).collect();
        self
    }

    /// The perturbations applied after each cut.
    pub fn perturbations(mut self, p: impl IntoIterator<Item = Perturbation>) -> Self {
        self.perturbations = p.into_iter().collect();
        self
    }

    /// Seed of the permutation and the noise.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The walk-forward the strategies are audited in.
    pub fn backtest(mut self, b: BacktestParams) -> Self {
        self.backtest = b;
        self
    }

    fn cut_rows(&self, dates: &[NaiveDate]) -> Result<Vec<usize>> {
        let first = self.backtest.lookback_len().saturating_sub(1);
        if first + 2 >= dates.len() {
            return Err(Error::TooFewRows {
                operation: "a look-ahead audit (a decision, a cut and a date after it)".into(),
                needed: first + 3,
                got: dates.len(),
            });
        }
        if self.cuts.is_empty() {
            // On the last scheduled decision by each quantile: a peek of one
            // day shows only in a decision taken at the cut.
            let plan = self.backtest.rebalance_days(dates);
            let span = dates.len() - 1 - first;
            return Ok([0.4, 0.6, 0.8]
                .iter()
                .map(|q| {
                    let at = first + (q * span as f64) as usize;
                    (first..=at).rev().find(|&t| plan[t]).unwrap_or(first)
                })
                .collect());
        }
        self.cuts
            .iter()
            .map(|c| {
                let d = c.as_str().bound(Param::Cut.into())?.ok_or_else(|| Error::param(Param::Cut, "must be a date, got an open end"))?;
                let out_of = |why: &str| {
                    Error::param(
                        Param::Cut,
                        format!(
                            "{d} {why}: cuts must lie between the first decision ({}) and the day before the last date ({})",
                            dates[first],
                            dates[dates.len() - 2]
                        ),
                    )
                };
                let row = dates.binary_search(&d).map_err(|_| out_of("is not a date of the panel"))?;
                if row < first || row + 1 >= dates.len() {
                    return Err(out_of("is outside the audited span"));
                }
                Ok(row)
            })
            .collect()
    }

    /// Audits every candidate; the report has one line per (strategy,
    /// cut, perturbation).
    pub fn run(&self, returns: &Returns, candidates: Vec<Candidate>) -> Result<AuditReport> {
        if self.perturbations.is_empty() {
            return Err(Error::param(Param::Perturbations, "is empty; give at least one"));
        }
        let returns = returns.to_kind(ReturnKind::Simple);
        let cuts = self.cut_rows(returns.dates())?;
        let original = self.walk(&returns, &candidates)?;
        // A strategy whose decisions differ between two runs on the same
        // data cannot be audited: any change could be its own noise.
        let last = *returns.dates().last().ok_or_else(|| Error::param(Param::Returns, "is empty"))?;
        let unreproducible = original
            .iter()
            .zip(self.walk(&returns, &candidates)?)
            .filter_map(|(a, b)| first_difference(a, &b, last).map(|(d, _)| (a.name.clone(), d)))
            .collect();
        let mut cases = Vec::new();
        for (ci, &cut) in cuts.iter().enumerate() {
            for (pi, &p) in self.perturbations.iter().enumerate() {
                let seed = self.seed.wrapping_add(1_000 * ci as u64 + pi as u64);
                cases.push((cut, p, perturb(&returns, cut, p, seed)?));
            }
        }
        let mut lines = Vec::new();
        for (cut, p, changed) in cases {
            let again = self.walk(&changed, &candidates)?;
            let date = returns.dates()[cut];
            for (a, b) in original.iter().zip(&again) {
                lines.push(AuditLine {
                    strategy: a.name.clone(),
                    cut: date,
                    perturbation: p,
                    difference: first_difference(a, b, date),
                    later_moved: a.rebalances != b.rebalances,
                });
            }
        }
        Ok(AuditReport { lines, unreproducible })
    }

    /// Each candidate's walk-forward on `returns` (1/N left out).
    fn walk(&self, returns: &Returns, candidates: &[Candidate]) -> Result<Vec<crate::portfolio::Portfolio>> {
        let strategies = candidates.iter().map(|c| c.build(returns)).collect::<Result<Vec<_>>>()?;
        let names: Vec<String> = strategies.iter().map(|s| s.name()).collect();
        let population = self.backtest.run_returns(returns, strategies)?;
        names
            .iter()
            .map(|n| {
                population.get(n).cloned().ok_or_else(|| Error::param(Param::Strategy, format!("{n:?} left no report")))
            })
            .collect()
    }
}

/// The panel with the rows after `cut` replaced.
fn perturb(returns: &Returns, cut: usize, how: Perturbation, seed: u64) -> Result<Returns> {
    let r = returns.values();
    let (rows, n) = r.dim();
    let mut out: Array2<f64> = r.to_owned();
    let tail: Vec<usize> = (cut + 1..rows).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    match how {
        Perturbation::Permute => {
            let mut order = tail.clone();
            order.shuffle(&mut rng);
            for (&to, &from) in tail.iter().zip(&order) {
                out.row_mut(to).assign(&r.row(from));
            }
        }
        Perturbation::Reverse => {
            for (&to, &from) in tail.iter().zip(tail.iter().rev()) {
                out.row_mut(to).assign(&r.row(from));
            }
        }
        Perturbation::Noise => {
            for j in 0..n {
                let col: Vec<f64> = tail.iter().map(|&t| r[[t, j]]).collect();
                let sd = crate::stats::std(&col);
                let sd = if sd.is_finite() && sd > 0.0 { sd } else { 0.01 };
                let normal = Normal::new(crate::stats::mean(&col), sd)
                    .map_err(|e| Error::param(Param::Noise, format!("cannot draw with sd {sd}: {e}")))?;
                for &t in &tail {
                    // Simple returns stay above −100 %.
                    out[[t, j]] = normal.sample(&mut rng).max(-0.99);
                }
            }
        }
    }
    Returns::new(returns.dates().to_vec(), returns.assets().to_vec(), out, ReturnKind::Simple)?
        .with_periods_per_year(returns.periods_per_year())
}

/// Where two runs of one strategy first decide differently at or before
/// `cut`: the date and the assets whose weights differ.
fn first_difference(
    a: &crate::portfolio::Portfolio,
    b: &crate::portfolio::Portfolio,
    cut: NaiveDate,
) -> Option<(NaiveDate, Vec<String>)> {
    let before = |p: &crate::portfolio::Portfolio| p.rebalances.iter().filter(|x| x.date <= cut).count();
    for (x, y) in a.rebalances.iter().zip(&b.rebalances).take_while(|(x, _)| x.date <= cut) {
        if x.date != y.date {
            return Some((x.date.min(y.date), vec!["(a rebalance date)".into()]));
        }
        let assets: Vec<String> = a
            .assets
            .iter()
            .zip(x.weights.iter().zip(&y.weights))
            .filter(|(_, (u, v))| (*u - *v).abs() > TOLERANCE || u.is_nan() != v.is_nan())
            .map(|(s, _)| s.clone())
            .collect();
        if !assets.is_empty() {
            return Some((x.date, assets));
        }
    }
    let (na, nb) = (before(a), before(b));
    if na != nb {
        let d = if na > nb { a.rebalances[nb].date } else { b.rebalances[na].date };
        return Some((d, vec!["(a rebalance date)".into()]));
    }
    let fa: Vec<_> = a.failures.iter().filter(|f| f.0 <= cut).collect();
    let fb: Vec<_> = b.failures.iter().filter(|f| f.0 <= cut).collect();
    if fa != fb {
        let d = fa.iter().chain(&fb).map(|f| f.0).min().unwrap_or(cut);
        return Some((d, vec!["(a failure)".into()]));
    }
    None
}

/// One audited case.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditLine {
    /// The strategy.
    pub strategy: String,
    /// The cut date.
    pub cut: NaiveDate,
    /// What replaced the returns after it.
    pub perturbation: Perturbation,
    /// The first decision at or before the cut that changed, and the
    /// assets whose weights changed; `None` when nothing did.
    pub difference: Option<(NaiveDate, Vec<String>)>,
    /// Whether any decision (before or after the cut) moved: proof that
    /// the perturbation reached the strategy. A strategy that never
    /// trades again after its first decision (buy and hold) stays `false`.
    pub later_moved: bool,
}

/// The audit's findings.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditReport {
    /// One line per (strategy, cut, perturbation).
    pub lines: Vec<AuditLine>,
    /// Strategies that decided differently in two runs on the same,
    /// unperturbed data, with the first date they differed: not
    /// reproducible, so not auditable (seed them).
    pub unreproducible: Vec<(String, NaiveDate)>,
}

impl AuditReport {
    /// Whether every strategy is reproducible and no decision at or
    /// before any cut changed.
    pub fn passed(&self) -> bool {
        self.unreproducible.is_empty() && self.lines.iter().all(|l| l.difference.is_none())
    }

    fn reproducible(&self, name: &str) -> Option<NaiveDate> {
        self.unreproducible.iter().find(|(n, _)| n == name).map(|(_, d)| *d)
    }

    /// The strategies audited, in order.
    pub fn strategies(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for l in &self.lines {
            if !out.contains(&l.strategy.as_str()) {
                out.push(&l.strategy);
            }
        }
        out
    }

    /// The strategies caught looking ahead (reproducible ones whose past
    /// decisions moved with the future).
    pub fn caught(&self) -> Vec<&str> {
        self.strategies()
            .into_iter()
            .filter(|n| self.reproducible(n).is_none())
            .filter(|n| self.lines.iter().any(|l| l.strategy == *n && l.difference.is_some()))
            .collect()
    }

    /// One line per strategy: passed, or the first leak found.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "strategy",
            "cases",
            "later decisions moved",
            "verdict",
            "first changed decision",
            "assets",
            "after",
        ])
        .caption(
            format!("Look-ahead audit: the future replaced after each cut; decisions at or before it must not move (|Δw| ≤ {TOLERANCE:e})"),
        );
        for n in self.strategies() {
            let mine: Vec<&AuditLine> = self.lines.iter().filter(|l| l.strategy == n).collect();
            let moved = mine.iter().filter(|l| l.later_moved).count();
            let head = [Cell::from(n), Cell::Int(mine.len() as i64), Cell::Text(format!("{moved} of {}", mine.len()))];
            let leak = mine.iter().filter_map(|l| l.difference.as_ref().map(|d| (d, l))).min_by_key(|(d, _)| d.0);
            let tail = match (self.reproducible(n), leak) {
                (Some(d), _) => vec![
                    Cell::Text(format!("NOT REPRODUCIBLE: two runs on the same data differ from {d}")),
                    Cell::Text(d.to_string()),
                    Cell::from(""),
                    Cell::from("nothing (same data)"),
                ],
                (None, None) => vec![Cell::from("no look-ahead found"), Cell::from(""), Cell::from(""), Cell::from("")],
                (None, Some(((date, assets), l))) => vec![
                    Cell::from("LOOKS AHEAD"),
                    Cell::Text(date.to_string()),
                    Cell::Text(assets.join(", ")),
                    Cell::Text(format!("{} after {}", l.perturbation, l.cut)),
                ],
            };
            t.push(head.into_iter().chain(tail).collect());
        }
        t
    }
}

crate::shows_as_table!(AuditReport);
