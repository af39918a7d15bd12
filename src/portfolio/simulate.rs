//! The one simulation every portfolio path comes from.

use chrono::NaiveDate;
use ndarray::{Array1, ArrayView1, ArrayView2};

use super::Rebalance;
use crate::error::Result;

/// What trading and holding cash cost and earn.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Costs {
    /// Proportional cost, basis points of traded notional.
    pub bps: f64,
    /// Fixed cost per traded asset, in currency.
    pub fixed: f64,
    /// Starting wealth, in currency (scales the fixed cost).
    pub capital: f64,
    /// Risk-free rate per period, earned by cash.
    pub cash_rate: f64,
}

impl Costs {
    /// No costs, no cash return.
    #[cfg(feature = "optimize")]
    pub const NONE: Costs = Costs { bps: 0.0, fixed: 0.0, capital: 1.0, cash_rate: 0.0 };
}

/// Returns before and after costs from `first` on, and the trades.
pub(crate) struct Path {
    pub gross: Vec<f64>,
    pub net: Vec<f64>,
    pub rebalances: Vec<Rebalance>,
    /// The position in the path (0 = row `first`) at which wealth reached
    /// zero, if it did.
    pub ruin: Option<usize>,
}

/// Walks the simple returns `r` (dates × assets) from row `first` to the
/// end. Before each row `e` earns, `decide(e, drifted, last_target)` may
/// return a trade: the decision date and the target weights (the rest in
/// cash), executed at that close and charged its costs. A row that would
/// take wealth to zero or below is ruin: its net return is −100 % and every
/// later row earns nothing, with no further decisions.
pub(crate) fn simulate(
    r: ArrayView2<'_, f64>,
    first: usize,
    costs: Costs,
    mut decide: impl FnMut(usize, ArrayView1<'_, f64>, ArrayView1<'_, f64>) -> Result<Option<(NaiveDate, Array1<f64>)>>,
) -> Result<Path> {
    let (rows, n) = r.dim();
    let len = rows.saturating_sub(first);
    let mut w = Array1::<f64>::zeros(n);
    let mut target = Array1::<f64>::zeros(n);
    let mut wealth = costs.capital;
    let mut path =
        Path { gross: Vec::with_capacity(len), net: Vec::with_capacity(len), rebalances: Vec::new(), ruin: None };
    for e in first..rows {
        if path.ruin.is_some() {
            path.gross.push(0.0);
            path.net.push(0.0);
            continue;
        }
        let mut cost = 0.0;
        if let Some((date, x)) = decide(e, w.view(), target.view())? {
            let (turnover, trades) = ndarray::Zip::from(&x).and(&w).fold((0.0, 0usize), |(t, k), a, b| {
                let d = (a - b).abs();
                (t + d, k + usize::from(d > 1e-12))
            });
            cost = costs.bps / 1e4 * turnover + costs.fixed * trades as f64 / wealth;
            w.assign(&x);
            target.assign(&x);
            path.rebalances.push(Rebalance { date, weights: x, turnover, cost });
        }
        let next = r.row(e);
        let cash = 1.0 - w.sum();
        let gross = w.dot(&next) + cash * costs.cash_rate;
        let mut net = (1.0 - cost) * (1.0 + gross) - 1.0;
        if !(cost < 1.0 && 1.0 + net > 0.0) {
            // Costs took all the wealth, or losses beyond it: ruin, at zero.
            net = -1.0;
            path.ruin = Some(e - first);
        }
        wealth *= 1.0 + net;
        path.gross.push(gross.max(-1.0));
        path.net.push(net);
        if 1.0 + gross > 0.0 {
            w.zip_mut_with(&next, |wi, ri| *wi *= (1.0 + ri) / (1.0 + gross));
        }
    }
    Ok(path)
}
