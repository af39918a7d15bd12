//! The one simulation every portfolio path comes from.

use chrono::NaiveDate;
use ndarray::{Array1, ArrayView1, ArrayView2};

use super::{Exit, Rebalance};
use crate::error::Result;
use crate::market::{Charges, Universe, N_COSTS};

/// A trade smaller than this share of wealth is no order (no fixed or
/// minimum cost): rounding noise of a rebalance to the same weights.
const MIN_ORDER: f64 = 1e-12;

/// What cash earns each period.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cash<'a> {
    /// The same return every period.
    Constant(f64),
    /// One return per row of the panel.
    Series(&'a [f64]),
}

/// The market a path is simulated in.
pub(crate) struct Market<'a> {
    /// The cost model on the panel's rows.
    pub charges: &'a Charges,
    /// Starting wealth, in currency.
    pub capital: f64,
    /// What cash earns.
    pub cash: Cash<'a>,
    /// Per asset: the return from its last price to what a holder receives
    /// when it leaves the universe for good (0: sold at its last price).
    pub delisting: Option<&'a [f64]>,
    /// The panel's universe, which tells an asset's last exit (a
    /// delisting) from a suspension.
    pub universe: Option<&'a Universe>,
}

/// Returns before and after costs from `first` on, and the trades.
pub(crate) struct Path {
    pub gross: Vec<f64>,
    pub net: Vec<f64>,
    pub rebalances: Vec<Rebalance>,
    /// Costs of each period by component, as fractions of the wealth at
    /// its start.
    pub costs: Vec<[f64; N_COSTS]>,
    /// Positions sold because their asset left the universe.
    pub exits: Vec<Exit>,
    /// The position in the path (0 = row `first`) at which wealth reached
    /// zero, if it did.
    pub ruin: Option<usize>,
}

/// Walks the simple returns `r` (dates × assets) from row `first` to the
/// end; `rows[e]` is the panel row of path row `e` (costs and cash are
/// read there). Before each row `e` earns:
///
/// 1. a position in an asset without a return on row `e` (it left the
///    universe) is sold at its last value, times one plus its delisting
///    return when the exit is final, into cash;
/// 2. `decide(e, drifted, last_target, wealth)` may return a trade: the decision
///    date and the target weights of the wealth (the rest in cash). The
///    positions move to the target; the trade's costs are paid from cash;
/// 3. holding costs on the positions are paid from cash;
/// 4. positions earn their returns and cash its rate.
///
/// A row that would take wealth to zero or below is ruin: its net return
/// is −100 % and every later row earns nothing, with no further decisions.
pub(crate) fn simulate(
    r: ArrayView2<'_, f64>,
    rows: &[usize],
    first: usize,
    market: &Market<'_>,
    mut decide: impl FnMut(usize, ArrayView1<'_, f64>, ArrayView1<'_, f64>, f64) -> Result<Option<(NaiveDate, Array1<f64>)>>,
) -> Result<Path> {
    let (len_all, n) = r.dim();
    let len = len_all.saturating_sub(first);
    // Holdings in currency and the cash account.
    let mut h = Array1::<f64>::zeros(n);
    let mut cash = market.capital;
    let mut w = Array1::<f64>::zeros(n);
    let mut target = Array1::<f64>::zeros(n);
    let mut u = Array1::<f64>::zeros(n);
    let mut path = Path {
        gross: Vec::with_capacity(len),
        net: Vec::with_capacity(len),
        rebalances: Vec::new(),
        costs: Vec::with_capacity(len),
        exits: Vec::new(),
        ruin: None,
    };
    let holding_costs = market.charges.charges_holdings();
    for (e, &row) in rows.iter().enumerate().take(len_all).skip(first) {
        if path.ruin.is_some() {
            path.gross.push(0.0);
            path.net.push(0.0);
            path.costs.push([0.0; N_COSTS]);
            continue;
        }
        let decision_row = row.saturating_sub(1);
        let next = r.row(e);
        // 1. Positions in assets that left the universe become cash; a
        // delisting return is part of the period's return.
        let v0 = h.sum() + cash;
        let mut delisted = 0.0;
        for i in 0..n {
            if h[i] != 0.0 && !next[i].is_finite() {
                let last = market.universe.is_some_and(|u| u.is_final_exit(i, row));
                let delisting = match (last, market.delisting) {
                    (true, Some(d)) => d[i],
                    _ => 0.0,
                };
                path.exits.push(Exit { row: e - first, asset: i, weight: h[i] / v0, delisting });
                delisted += h[i] * delisting;
                cash += h[i] * (1.0 + delisting);
                h[i] = 0.0;
            }
        }
        let v = h.sum() + cash;
        if v > 0.0 {
            w.assign(&h);
            w /= v;
        } else {
            w.fill(0.0);
        }
        // 2. The trade, at the target weights of the pre-trade wealth.
        let mut cost = [0.0; N_COSTS];
        if let Some((date, mut x)) = decide(e, w.view(), target.view(), v)? {
            // A target on an asset outside the universe (a mix restored on
            // schedule after the asset left) is held in cash.
            x.zip_mut_with(&next, |xi, ri| {
                if !ri.is_finite() {
                    *xi = 0.0;
                }
            });
            let turnover = ndarray::Zip::from(&x).and(&w).fold(0.0, |t, a, b| t + (a - b).abs());
            ndarray::Zip::from(&mut u).and(&x).and(&h).for_each(|ui, xi, hi| *ui = xi * v - hi);
            market.charges.trade(decision_row, u.view(), MIN_ORDER * v.abs(), &mut cost)?;
            cash -= u.sum();
            h.zip_mut_with(&x, |hi, xi| *hi = xi * v);
            target.assign(&x);
            let paid: f64 = cost.iter().sum();
            path.rebalances.push(Rebalance { date, weights: x, turnover, cost: paid / v0 });
        }
        // 3. Holding costs over the period.
        if holding_costs {
            market.charges.hold(decision_row, row, h.view(), &mut cost)?;
        }
        let paid: f64 = cost.iter().sum();
        // 4. The period's returns.
        let rc = match market.cash {
            Cash::Constant(c) => c,
            Cash::Series(s) => s[row],
        };
        let earned: f64 =
            ndarray::Zip::from(&h).and(&next).fold(0.0, |s, hi, ri| if *hi != 0.0 { s + hi * ri } else { s });
        let gross = (earned + cash * rc + delisted) / v0;
        cash = (cash - paid) * (1.0 + rc);
        h.zip_mut_with(&next, |hi, ri| {
            if *hi != 0.0 {
                *hi *= 1.0 + ri;
            }
        });
        let v_next = h.sum() + cash;
        let mut net = v_next / v0 - 1.0;
        if !(v0 > 0.0 && v > 0.0 && paid < v && v_next > 0.0 && net.is_finite()) {
            // Costs took all the wealth, or losses beyond it: ruin, at zero.
            net = -1.0;
            path.ruin = Some(e - first);
        }
        path.gross.push(if gross.is_finite() { gross.max(-1.0) } else { -1.0 });
        path.net.push(net);
        path.costs.push(cost.map(|c| if v0 > 0.0 { c / v0 } else { 0.0 }));
    }
    Ok(path)
}
