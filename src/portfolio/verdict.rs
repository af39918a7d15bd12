//! Verdicts against 1/N: does a Sharpe ratio beat the baseline's, net of
//! costs, beyond its estimation error?

use super::{Population, EQUAL_WEIGHT};
use crate::display::{Cell, Table};

/// How a portfolio's Sharpe ratio compares with 1/N's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Probabilistic Sharpe ratio against 1/N ≥ 95 %.
    Beats,
    /// Probabilistic Sharpe ratio against 1/N ≤ 5 %.
    Worse,
    /// Anything between: the data cannot tell the two apart.
    Indistinguishable,
}

impl Verdict {
    /// The verdict for a probabilistic Sharpe ratio against 1/N.
    pub fn from_psr(psr: f64) -> Verdict {
        if psr >= 0.95 {
            Verdict::Beats
        } else if psr <= 0.05 {
            Verdict::Worse
        } else {
            Verdict::Indistinguishable
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Beats => "beats 1/N (PSR ≥ 95 %)",
            Verdict::Worse => "is worse than 1/N (PSR ≤ 5 %)",
            Verdict::Indistinguishable => "is not distinguishable from 1/N",
        })
    }
}

/// One portfolio's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictRow {
    /// The portfolio.
    pub name: String,
    /// Its annualised Sharpe ratio (net of costs).
    pub sharpe: f64,
    /// The annualised standard error of that Sharpe ratio.
    pub sharpe_se: f64,
    /// Its annualised volatility.
    pub volatility: f64,
    /// Probabilistic Sharpe ratio against 1/N's measured Sharpe ratio.
    pub psr: f64,
    /// What the PSR says.
    pub verdict: Verdict,
}

/// The verdict of every portfolio of a [`Population`] against 1/N; renders
/// as a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdicts {
    /// 1/N's annualised Sharpe ratio (NaN when the population lacks 1/N).
    pub baseline_sharpe: f64,
    /// 1/N's annualised volatility.
    pub baseline_volatility: f64,
    /// One row per portfolio other than 1/N, in population order.
    pub rows: Vec<VerdictRow>,
}

impl Verdicts {
    pub(crate) fn of(pop: &Population) -> Verdicts {
        let base = pop.baseline().map(|b| b.metrics());
        let rows = pop
            .reports
            .iter()
            .filter(|r| r.name != EQUAL_WEIGHT)
            .map(|r| {
                let m = r.metrics();
                let k = r.periods_per_year().sqrt();
                let psr = base.as_ref().map_or(f64::NAN, |b| m.psr(b.sharpe_periodic));
                VerdictRow {
                    name: r.name.clone(),
                    sharpe: m.sharpe,
                    sharpe_se: m.sharpe_se * k,
                    volatility: m.volatility,
                    psr,
                    verdict: Verdict::from_psr(psr),
                }
            })
            .collect();
        Verdicts {
            baseline_sharpe: base.as_ref().map_or(f64::NAN, |b| b.sharpe),
            baseline_volatility: base.as_ref().map_or(f64::NAN, |b| b.volatility),
            rows,
        }
    }

    /// The verdict of one portfolio by name.
    pub fn get(&self, name: &str) -> Option<&VerdictRow> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The verdicts as a table.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["portfolio", "Sharpe", "± s.e.", "vol", "PSR vs 1/N", "verdict"]).caption(format!(
            "Against 1/N (Sharpe {:.2}, vol {:.1} %), net of costs",
            self.baseline_sharpe,
            100.0 * self.baseline_volatility
        ));
        for r in &self.rows {
            t.push(vec![
                Cell::from(r.name.as_str()),
                Cell::Num(r.sharpe, 2),
                Cell::Num(r.sharpe_se, 2),
                Cell::Pct(r.volatility, 1),
                Cell::Pct(r.psr, 1),
                Cell::Text(r.verdict.to_string()),
            ]);
        }
        t
    }
}

crate::shows_as_table!(Verdicts);
