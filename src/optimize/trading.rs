//! Trades priced from where the portfolio stands: the trade
//! $z = w - w^{cur}$ and the cost of making it, written into a program.
//!
//! With cost aversion $\gamma$ and holding-cost aversion $\gamma_h$, an
//! objective is charged
//! $$\gamma\sum_i \big(a_i\lvert z_i\rvert + c_i\lvert z_i\rvert^{3/2}\big) + \gamma_h \sum_i s_i \max(-w_i, 0)$$
//! ([`TradeCosts`](crate::market::TradeCosts)), under an optional turnover
//! cap $\sum_i\lvert z_i\rvert \le \tau$ and per-asset trade limits
//! $\lvert z_i\rvert \le m_i$. Each term is written only where it costs
//! something:
//!
//! | term | variables | rows |
//! |---|---|---|
//! | $\lvert z_i\rvert$ | $t_i$ | $z_i \le t_i$, $-z_i \le t_i$ |
//! | $\lvert z_i\rvert^{3/2}$ | $u_i$ | $(u_i, 1, z_i)$ in the power cone $u^{2/3}1^{1/3} \ge \lvert z\rvert$ |
//! | $\max(-w_i, 0)$ | $v_i$ | $-w_i \le v_i$, $0 \le v_i$ |
//!
//! In a homogenised program (the maximum ratio, $y = \kappa w$) the
//! constant 1 and $w^{cur}$ scale with $\kappa$, so the cone is the
//! perspective $u_i \ge \lvert z_i\rvert^{3/2}/\kappa^{1/2}$ and every term
//! stays exact.

use ndarray::Array1;

use super::problem::{Block, Program, Row};

/// The trade of one period, resolved against the assets (cost
/// coefficients already multiplied by their aversions).
#[derive(Debug, Clone)]
pub(crate) struct Trade {
    /// The current weights $w^{cur}$.
    pub current: Array1<f64>,
    /// $\gamma a_i$ (empty: none).
    pub linear: Vec<f64>,
    /// $\gamma c_i$ (empty: none).
    pub impact: Vec<f64>,
    /// $\gamma_h s_i$ (empty: none).
    pub borrow: Vec<f64>,
    pub turnover: Option<f64>,
    pub max_trade: Option<Vec<f64>>,
}

/// Where a period's trade starts: the current weights, or the weights a
/// plan holds after the previous period (variables from this index).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start<'a> {
    Held(&'a Array1<f64>),
    Planned(usize),
}

/// The variables of a written trade, for the objective to charge.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TradeVars {
    abs: Option<Block>,
    impact: Option<Block>,
    short: Option<Block>,
}

impl Trade {
    /// Whether the trade enters the program at all: a cost, a cap or a limit.
    pub fn is_priced(&self) -> bool {
        let any = |v: &[f64]| v.iter().any(|&x| x != 0.0);
        any(&self.linear)
            || any(&self.impact)
            || any(&self.borrow)
            || self.turnover.is_some()
            || self.max_trade.is_some()
    }

    /// Writes the trade $z = w - \text{start}$ of the weights at
    /// `x[at..at + n]`.
    pub fn write(&self, p: &mut Program, n: usize, at: usize, start: Start<'_>) -> TradeVars {
        // z_i = row · x − constant.
        let z = |i: usize| -> (Row, f64) {
            match start {
                Start::Held(w) => (vec![(at + i, 1.0)], w[i]),
                Start::Planned(from) => (vec![(at + i, 1.0), (from + i, -1.0)], 0.0),
            }
        };
        let mut vars = TradeVars::default();
        let needs_abs = self.linear.iter().any(|&a| a != 0.0) || self.turnover.is_some() || self.max_trade.is_some();
        if needs_abs {
            let t = p.vars(n);
            for i in 0..n {
                let (row, c) = z(i);
                let mut up = row.clone();
                up.push((t.at(i), -1.0));
                p.le(up, c);
                let mut down: Row = row.iter().map(|&(j, v)| (j, -v)).collect();
                down.push((t.at(i), -1.0));
                p.le(down, -c);
            }
            if let Some(tau) = self.turnover {
                p.le(t.row(|_| 1.0), tau);
            }
            if let Some(m) = &self.max_trade {
                for (i, &cap) in m.iter().enumerate() {
                    p.le(vec![(t.at(i), 1.0)], cap);
                }
            }
            vars.abs = Some(t);
        }
        if self.impact.iter().any(|&c| c != 0.0) {
            let u = p.vars(n);
            for i in 0..n {
                if self.impact[i] == 0.0 {
                    continue;
                }
                let (row, c) = z(i);
                let minus: Row = row.iter().map(|&(j, v)| (j, -v)).collect();
                p.pow([(vec![(u.at(i), -1.0)], 0.0), (vec![], 1.0), (minus, -c)], 2.0 / 3.0);
            }
            vars.impact = Some(u);
        }
        if self.borrow.iter().any(|&s| s != 0.0) {
            let v = p.vars(n);
            for i in 0..n {
                p.le(vec![(at + i, -1.0), (v.at(i), -1.0)], 0.0);
                p.le(vec![(v.at(i), -1.0)], 0.0);
            }
            vars.short = Some(v);
        }
        vars
    }

    /// The cost of the written trade as linear coefficients.
    pub fn cost(&self, v: TradeVars, n: usize) -> Row {
        let mut row = Row::new();
        for (var, coefficients) in [(v.abs, &self.linear), (v.impact, &self.impact), (v.short, &self.borrow)] {
            if let Some(block) = var {
                row.extend(
                    (0..n)
                        .filter(|&i| coefficients.get(i).is_some_and(|&c| c != 0.0))
                        .map(|i| (block.at(i), coefficients[i])),
                );
            }
        }
        row
    }
}
