//! From target weights to whole-lot orders: discrete allocation from the
//! current book, net of fees.
//!
//! With target weights $w$, latest prices $p$, the account's value $V$
//! (cash plus the book at those prices), current shares $h$, lot sizes $L$
//! and a fee of $c_i = f_{share} + f_{prop}\,p_i$ per share traded, the
//! orders trade $k_i$ whole lots, leaving $x_i = h_i + L_i k_i \ge 0$
//! shares, and minimise the distance to the target in currency
//!
//! $$J = \sum_i \lvert p_i x_i - w_i V\rvert + \lvert V - p^\top x - w_c V\rvert + \sum_i c_i L_i \lvert k_i\rvert$$
//!
//! (each position's miss, the uninvested value's miss from the target cash
//! $w_c = 1 - \sum_i w_i$, and the fees) subject to paying for it:
//! $p^\top x + \sum_i c_i L_i\lvert k_i\rvert \le V$. Without holdings and
//! fees this is PyPortfolioOpt's `lp_portfolio` objective.
//!
//! [`OrderMethod::Greedy`] moves every position to within a lot of its
//! target (toward it from the current book), then makes the one-lot buy or
//! sell that lowers $J$ most while one does. Each position then misses by
//! less than a lot, so does the uninvested value in total, and
//! $J < 2\sum_i L_i p_i + \sum_i c_i\lvert w_iV/p_i - h_i\rvert$: its bound.
//! [`OrderMethod::Exact`] (feature `milp`) solves the mixed-integer linear
//! program on HiGHS to a proven optimum.

use std::time::Instant;

use ndarray::Array1;

use super::constraints::per_asset;
use crate::data::Prices;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::parameter::Optimize as Param;

/// How orders are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OrderMethod {
    /// One lot at a time from a rounded start: fast, within the bound the
    /// module states.
    #[default]
    Greedy,
    /// The mixed-integer program on HiGHS, to a proven optimum (feature
    /// `milp`).
    Exact,
}

/// Settings of a discrete allocation; build with [`Orders::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersParams {
    budget: f64,
    holdings: Option<Vec<f64>>,
    lots: Vec<f64>,
    per_share: f64,
    proportional: f64,
    method: OrderMethod,
    seconds: f64,
    gap: f64,
}

/// Orders that bring a book to target weights in whole lots.
#[derive(Debug, Clone, PartialEq)]
pub struct Orders {
    assets: Vec<String>,
    target: Array1<f64>,
    prices: Array1<f64>,
    held: Array1<f64>,
    shares: Array1<f64>,
    value: f64,
    fees: f64,
    distance: f64,
    method: OrderMethod,
    proven: bool,
    seconds: f64,
}

impl Orders {
    /// Settings: no holdings, lots of one share, no fees, the greedy
    /// method; the budget must be set.
    pub fn params() -> OrdersParams {
        OrdersParams {
            budget: f64::NAN,
            holdings: None,
            lots: vec![1.0],
            per_share: 0.0,
            proportional: 0.0,
            method: OrderMethod::Greedy,
            seconds: 60.0,
            gap: 1e-6,
        }
    }

    /// The assets, in the target's order.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// Shares held after the orders.
    pub fn shares(&self) -> &Array1<f64> {
        &self.shares
    }

    /// Shares to trade (positive: buy).
    pub fn trades(&self) -> Array1<f64> {
        &self.shares - &self.held
    }

    /// The weights the shares reach, of the account's value.
    pub fn weights(&self) -> Array1<f64> {
        &self.shares * &self.prices / self.value
    }

    /// Cash left after the orders and their fees.
    pub fn leftover(&self) -> f64 {
        self.value - self.shares.dot(&self.prices) - self.fees
    }

    /// Fees paid.
    pub fn fees(&self) -> f64 {
        self.fees
    }

    /// The distance to the target the orders minimise (see the module's
    /// docs), in currency.
    pub fn distance(&self) -> f64 {
        self.distance
    }

    /// How they were found.
    pub fn method(&self) -> OrderMethod {
        self.method
    }

    /// Whether they are proven to minimise the distance (the exact method
    /// solved to optimality).
    pub fn proven(&self) -> bool {
        self.proven
    }

    /// Wall time, seconds.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// The orders as a table, with the leftover cash, the fees and the
    /// distance in the caption; assets neither held nor traded are left
    /// out.
    pub fn table(&self) -> Table {
        let how = match (self.method, self.proven) {
            (OrderMethod::Greedy, _) => "greedy".to_string(),
            (OrderMethod::Exact, true) => "exact (HiGHS, optimal)".to_string(),
            (OrderMethod::Exact, false) => "exact (HiGHS, NOT PROVEN: time limit)".to_string(),
        };
        let caption = format!(
            "orders, {how} · account {:.2} · leftover cash {:.2} · fees {:.2} · distance to target {:.2} · {:.2} ms",
            self.value,
            self.leftover(),
            self.fees,
            self.distance,
            1e3 * self.seconds
        );
        let mut t = Table::new(["asset", "price", "target", "held", "order", "shares", "weight"]).caption(caption);
        let reached = self.weights();
        for i in 0..self.assets.len() {
            if self.held[i] == 0.0 && self.shares[i] == 0.0 && self.target[i] == 0.0 {
                continue;
            }
            t.push(vec![
                Cell::from(self.assets[i].as_str()),
                Cell::Num(self.prices[i], 2),
                Cell::Pct(self.target[i], 2),
                Cell::Num(self.held[i], 0),
                Cell::Num(self.shares[i] - self.held[i], 0),
                Cell::Num(self.shares[i], 0),
                Cell::Pct(reached[i], 2),
            ]);
        }
        t.capped(60)
    }
}

crate::shows_as_table!(Orders);

impl OrdersParams {
    /// The account's value to allocate: cash plus the current book at the
    /// latest prices.
    pub fn budget(mut self, value: f64) -> Self {
        self.budget = value;
        self
    }

    /// Current shares per asset, in the target's order (default none).
    pub fn holdings(mut self, shares: Vec<f64>) -> Self {
        self.holdings = Some(shares);
        self
    }

    /// Lot sizes in shares: one for all assets or one per asset (default 1).
    pub fn lots(mut self, lots: Vec<f64>) -> Self {
        self.lots = lots;
        self
    }

    /// A fee per share traded, in currency (default 0).
    pub fn per_share_fee(mut self, fee: f64) -> Self {
        self.per_share = fee;
        self
    }

    /// A fee proportional to the value traded (default 0; 0.001 is 10 bps).
    pub fn proportional_fee(mut self, fee: f64) -> Self {
        self.proportional = fee;
        self
    }

    /// The method (default greedy).
    pub fn method(mut self, method: OrderMethod) -> Self {
        self.method = method;
        self
    }

    /// The exact method's time limit in seconds (default 60); stopped by
    /// it, the best orders found are returned, marked not proven.
    pub fn time_limit(mut self, seconds: f64) -> Self {
        self.seconds = seconds;
        self
    }

    /// The exact method's relative optimality gap (default 1e-6; HiGHS's
    /// own default is 1e-4): orders proven within it, or within 0.001 in
    /// currency, count as optimal.
    pub fn gap(mut self, gap: f64) -> Self {
        self.gap = gap;
        self
    }

    /// Orders for an allocation's weights at the latest prices in
    /// `prices` (its last row), matched by asset name.
    pub fn fit(&self, weights: &super::Allocation, prices: &Prices) -> Result<Orders> {
        let names = prices.panel().assets();
        let last = prices.panel().values();
        let last = last.row(last.nrows().saturating_sub(1));
        let mut p = Vec::with_capacity(weights.assets().len());
        for a in weights.assets() {
            let j = names.iter().position(|n| n == a).ok_or_else(|| Error::UnknownAsset {
                name: format!("{a} (a target asset with no price)"),
                available: names.to_vec(),
            })?;
            p.push(last[j]);
        }
        self.fit_weights(weights.assets(), weights.weights().as_slice().unwrap_or(&[]), &p)
    }

    /// Orders for target `weights` of `assets` at the latest `prices` (all
    /// in the same order).
    pub fn fit_weights(&self, assets: &[String], weights: &[f64], prices: &[f64]) -> Result<Orders> {
        let t0 = Instant::now();
        let p = self.check(assets, weights, prices)?;
        let (shares, proven) = match self.method {
            OrderMethod::Greedy => (greedy(&p), false),
            OrderMethod::Exact => exact(&p, self.seconds, self.gap)?,
        };
        let (distance, fees) = p.distance(&shares);
        Ok(Orders {
            assets: assets.to_vec(),
            target: Array1::from(weights.to_vec()),
            prices: Array1::from(prices.to_vec()),
            held: Array1::from(p.held.clone()),
            shares: Array1::from(shares),
            value: p.value,
            fees,
            distance,
            method: self.method,
            proven,
            seconds: t0.elapsed().as_secs_f64(),
        })
    }

    /// The problem, checked.
    fn check(&self, assets: &[String], weights: &[f64], prices: &[f64]) -> Result<Problem> {
        let n = assets.len();
        if weights.len() != n || prices.len() != n {
            return Err(Error::Shape(format!(
                "{} target weights and {} prices for {n} assets; give one of each per asset",
                weights.len(),
                prices.len()
            )));
        }
        for i in 0..n {
            if !(prices[i] > 0.0 && prices[i].is_finite()) {
                return Err(Error::param(
                    Param::Prices,
                    format!("{} has price {}; every target asset needs a positive latest price", assets[i], prices[i]),
                ));
            }
            if !(weights[i] >= 0.0 && weights[i].is_finite()) {
                return Err(Error::param(
                    Param::Weights,
                    format!("{} has target weight {}; orders are for long books (weights ≥ 0): allocate a short book as its own long book", assets[i], weights[i]),
                ));
            }
        }
        let total: f64 = weights.iter().sum();
        if total > 1.0 + 1e-9 {
            return Err(Error::param(Param::Weights, format!("sum to {total}, above 1")));
        }
        let lots = per_asset(Param::Lots, "lot size", &self.lots, assets, true)?;
        if let Some(i) = lots.iter().position(|l| *l <= 0.0) {
            return Err(Error::param(Param::Lots, format!("lot size of {} is 0; must be > 0", assets[i])));
        }
        let held = per_asset(Param::Holdings, "holdings", self.holdings.as_deref().unwrap_or(&[0.0]), assets, true)?;
        for (name, fee) in [(Param::PerShareFee, self.per_share), (Param::ProportionalFee, self.proportional)] {
            if !(fee >= 0.0 && fee.is_finite()) {
                return Err(Error::param(name, format!("must be ≥ 0 and finite, got {fee}")));
            }
        }
        let value = self.budget;
        if !(value > 0.0 && value.is_finite()) {
            return Err(Error::param(
                Param::Budget,
                format!("must be > 0 and finite, got {value}; set .budget(value)"),
            ));
        }
        let book: f64 = held.iter().zip(prices).map(|(h, p)| h * p).sum();
        if book > value * (1.0 + 1e-12) {
            return Err(Error::param(
                Param::Budget,
                format!("{value} is below the current book's value {book:.2}; the budget is the account's value, cash plus the book"),
            ));
        }
        let cheapest = (0..n).map(|i| prices[i] * lots[i]).fold(f64::INFINITY, f64::min);
        if book == 0.0 && value < cheapest {
            return Err(Error::param(
                Param::Budget,
                format!("{value} is below the cheapest lot ({cheapest:.2}); nothing can be bought"),
            ));
        }
        if self.method == OrderMethod::Exact && !(self.seconds > 0.0 && (0.0..1.0).contains(&self.gap)) {
            return Err(Error::param(
                Param::SearchLimits,
                format!("the time limit must be > 0 and the gap in [0, 1), got {} s and {}", self.seconds, self.gap),
            ));
        }
        let fee = prices.iter().map(|p| self.per_share + self.proportional * p).collect();
        Ok(Problem {
            target: weights.iter().map(|w| w * value).collect(),
            cash_target: (1.0 - total).max(0.0) * value,
            prices: prices.to_vec(),
            held,
            lots,
            fee,
            value,
        })
    }
}

/// A checked problem, in currency.
struct Problem {
    /// Target value per asset, $w_i V$.
    target: Vec<f64>,
    cash_target: f64,
    prices: Vec<f64>,
    held: Vec<f64>,
    lots: Vec<f64>,
    /// Fee per share traded.
    fee: Vec<f64>,
    value: f64,
}

impl Problem {
    /// The distance $J$ and the fees of holding `shares`.
    fn distance(&self, shares: &[f64]) -> (f64, f64) {
        let fees: f64 = (0..shares.len()).map(|i| self.fee[i] * (shares[i] - self.held[i]).abs()).sum();
        let invested: f64 = shares.iter().zip(&self.prices).map(|(x, p)| x * p).sum();
        let miss: f64 = (0..shares.len()).map(|i| (shares[i] * self.prices[i] - self.target[i]).abs()).sum();
        (miss + (self.value - invested - self.cash_target).abs() + fees, fees)
    }

    /// Cash left after holding `shares`, fees paid.
    fn leftover(&self, shares: &[f64]) -> f64 {
        let (_, fees) = self.distance(shares);
        self.value - shares.iter().zip(&self.prices).map(|(x, p)| x * p).sum::<f64>() - fees
    }
}

/// The greedy orders (see the module's docs).
fn greedy(p: &Problem) -> Vec<f64> {
    let n = p.held.len();
    // Every position within a lot of its target, from the book's side.
    let mut x: Vec<f64> = (0..n)
        .map(|i| {
            let want = p.target[i] / p.prices[i];
            let lots = ((want - p.held[i]).abs() / p.lots[i]).floor();
            p.held[i] + (want - p.held[i]).signum() * lots * p.lots[i]
        })
        .collect();
    let mut cash = p.leftover(&x);
    // Fees can leave the cash short: undo the buy lots that cost least
    // distance to undo until it is paid for.
    while cash < 0.0 {
        let undo = (0..n)
            .filter(|&i| x[i] - p.lots[i] >= p.held[i] - 1e-9)
            .map(|i| {
                let mut y = x.clone();
                y[i] -= p.lots[i];
                (i, p.distance(&y).0)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let Some((i, _)) = undo else { break };
        x[i] -= p.lots[i];
        cash = p.leftover(&x);
    }
    // One lot at a time while a move lowers the distance and is paid for.
    let invested: f64 = x.iter().zip(&p.prices).map(|(x, p)| x * p).sum();
    let mut uninvested = p.value - invested;
    let mut fees = p.value - invested - cash;
    let mut miss: Vec<f64> = (0..n).map(|i| x[i] * p.prices[i] - p.target[i]).collect();
    loop {
        let mut best: Option<(usize, f64, f64)> = None;
        for i in 0..n {
            for dir in [1.0, -1.0] {
                let step = dir * p.lots[i];
                if x[i] + step < -1e-9 {
                    continue;
                }
                let dv = step * p.prices[i];
                // The fee changes with the size of the trade from the book.
                let df = p.fee[i] * ((x[i] + step - p.held[i]).abs() - (x[i] - p.held[i]).abs());
                if uninvested - dv - fees - df < -1e-9 {
                    continue;
                }
                let dj = (miss[i] + dv).abs() - miss[i].abs() + (uninvested - dv - p.cash_target).abs()
                    - (uninvested - p.cash_target).abs()
                    + df;
                if dj < -1e-9 * p.value && best.is_none_or(|b| dj < b.2) {
                    best = Some((i, dir, dj));
                }
            }
        }
        let Some((i, dir, _)) = best else { break };
        let step = dir * p.lots[i];
        fees += p.fee[i] * ((x[i] + step - p.held[i]).abs() - (x[i] - p.held[i]).abs());
        x[i] += step;
        miss[i] += step * p.prices[i];
        uninvested -= step * p.prices[i];
    }
    x
}

/// The exact orders on HiGHS, and whether they are proven optimal.
#[cfg(feature = "milp")]
fn exact(p: &Problem, seconds: f64, gap: f64) -> Result<(Vec<f64>, bool)> {
    use highs::{HighsModelStatus, RowProblem, Sense};
    let n = p.held.len();
    let mut m = RowProblem::default();
    let pl: Vec<f64> = (0..n).map(|i| p.prices[i] * p.lots[i]).collect();
    // With no cash in the target the uninvested value V − book − Σ p_i L_i
    // k_i is its own miss (paying for the orders keeps it ≥ 0): a cost of
    // −p_i L_i per lot, up to a constant. Otherwise v ≥ |it − w_c V|.
    let direct = p.cash_target == 0.0;
    // k_i whole lots traded: x_i = h_i + L_i k_i ≥ 0, and at most what the
    // whole account buys.
    let k: Vec<_> = (0..n)
        .map(|i| {
            let lo = (-p.held[i] / p.lots[i]).ceil();
            let hi = ((p.value / p.prices[i] - p.held[i]) / p.lots[i]).floor().max(lo);
            m.add_integer_column(0.0, lo..=hi)
        })
        .collect();
    // u_i ≥ |p_i x_i − w_i V|; t_i ≥ |k_i| where a fee is charged.
    let u: Vec<_> = (0..n).map(|_| m.add_column(1.0, 0.0..)).collect();
    let mut paid: Vec<(highs::Col, f64)> = k.iter().copied().zip(pl.iter().copied()).collect();
    for i in 0..n {
        let base = p.prices[i] * p.held[i] - p.target[i];
        // miss = base + p_i L_i k_i: u − p_i L_i k ≥ base, u + p_i L_i k ≥ −base.
        m.add_row(base.., [(u[i], 1.0), (k[i], -pl[i])]);
        m.add_row(-base.., [(u[i], 1.0), (k[i], pl[i])]);
        if p.fee[i] > 0.0 {
            let t = m.add_column(p.fee[i] * p.lots[i], 0.0..);
            m.add_row(0.0.., [(t, 1.0), (k[i], -1.0)]);
            m.add_row(0.0.., [(t, 1.0), (k[i], 1.0)]);
            paid.push((t, p.fee[i] * p.lots[i]));
        }
    }
    let book: f64 = (0..n).map(|i| p.prices[i] * p.held[i]).sum();
    if direct {
        // r = V − book − Σ p_i L_i k_i ≥ fees ≥ 0, at cost 1.
        let rest = p.value - book;
        let r = m.add_column(1.0, 0.0..);
        m.add_row(rest..=rest, std::iter::once((r, 1.0)).chain(k.iter().copied().zip(pl.iter().copied())));
    } else {
        let v = m.add_column(1.0, 0.0..);
        let rest = p.value - book - p.cash_target;
        let ks = |s: f64| k.iter().zip(&pl).map(move |(c, a)| (*c, s * a));
        m.add_row(rest.., std::iter::once((v, 1.0)).chain(ks(1.0)));
        m.add_row(-rest.., std::iter::once((v, 1.0)).chain(ks(-1.0)));
    }
    // Paid for: Σ p_i L_i k_i + fees ≤ V − book.
    m.add_row(..=p.value - book, paid);
    let mut model = m.optimise(Sense::Minimise);
    model.make_quiet();
    // Proven to the gap asked for (not HiGHS's default 1e-4 relative), or
    // to a thousandth of a currency unit.
    model.set_option("mip_rel_gap", gap);
    model.set_option("mip_abs_gap", 1e-3);
    model.set_option("time_limit", seconds);
    let solved = model.try_solve().map_err(|e| Error::Solver {
        status: crate::error::SolverStatus::NumericalError,
        message: format!("HiGHS failed on the orders' program: {e:?}"),
    })?;
    let status = solved.status();
    let proven = status == HighsModelStatus::Optimal;
    if !(proven || status == HighsModelStatus::ReachedTimeLimit) {
        return Err(Error::Solver {
            status: crate::error::SolverStatus::NumericalError,
            message: format!("HiGHS stopped the orders' program with status {status:?}"),
        });
    }
    let sol = solved.get_solution();
    let cols = sol.columns();
    if cols.len() < n || cols[..n].iter().any(|v| !v.is_finite()) {
        return Err(Error::Solver {
            status: crate::error::SolverStatus::MaxTime,
            message: "HiGHS reached its time limit before any whole-lot orders; raise time_limit".into(),
        });
    }
    let shares = (0..n).map(|i| p.held[i] + p.lots[i] * cols[i].round()).collect();
    Ok((shares, proven))
}

#[cfg(not(feature = "milp"))]
fn exact(_: &Problem, _: f64, _: f64) -> Result<(Vec<f64>, bool)> {
    Err(Error::param(
        Param::Method,
        "the exact method needs the `milp` feature (HiGHS): build with --features milp, or use OrderMethod::Greedy",
    ))
}
