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
//! | $\lvert z_i\rvert^{3/2}$ | $u_i$ | $(u_i, s, z_i)$ in the power cone $u^{2/3}s^{1/3} \ge \lvert z\rvert$, so $\lvert z_i\rvert^{3/2} = \sqrt{s}\,u_i$ |
//! | $\max(-w_i, 0)$ | $v_i$ | $-w_i \le v_i$, $0 \le v_i$ |
//!
//! The cone's constant is a typical weight, $s = 1/n$, not 1: trades are
//! of the size of weights, so the three entries are of one size. With
//! $s = 1$ they differ by orders of magnitude among hundreds of assets
//! ($u \approx 10^{-5}$ beside 1) and the interior point stalls short of
//! its tolerance.
//!
//! In a homogenised program (the maximum ratio, $y = \kappa w$) the
//! constant $s$ and $w^{cur}$ scale with $\kappa$, so the cone is the
//! perspective $\sqrt{s}\,u_i \ge \lvert z_i\rvert^{3/2}/\kappa^{1/2}$ and
//! every term stays exact.

use ndarray::Array1;

use super::problem::{Affine, Block, Lin, Program};

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
/// plan holds after the previous period.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start<'a> {
    Held(&'a Array1<f64>),
    Planned(Block),
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

    /// Writes the trade $z = w - \text{start}$ of the weights `w`.
    pub fn write(&self, p: &mut Program, w: Block, start: Start<'_>) -> TradeVars {
        let z = |i: usize| -> Affine {
            match start {
                Start::Held(current) => Lin::from(w.at(i)).plus(-current[i]),
                Start::Planned(from) => (w.at(i) - from.at(i)).into(),
            }
        };
        let n = w.len();
        let mut vars = TradeVars::default();
        let needs_abs = self.linear.iter().any(|&a| a != 0.0) || self.turnover.is_some() || self.max_trade.is_some();
        if needs_abs {
            // |z_i| ≤ t_i.
            let t = p.vars(n);
            for (i, ti) in t.vars().enumerate() {
                let Affine { lin, constant } = z(i);
                p.le(lin.clone() - ti, -constant);
                p.ge(lin + ti, -constant);
            }
            if let Some(tau) = self.turnover {
                p.le(t.sum(), tau);
            }
            if let Some(m) = &self.max_trade {
                for (ti, &cap) in t.vars().zip(m) {
                    p.le(ti, cap);
                }
            }
            vars.abs = Some(t);
        }
        if self.impact.iter().any(|&c| c != 0.0) {
            // √s·u_i ≥ |z_i|^{3/2}: u_i^{2/3} s^{1/3} ≥ |z_i|.
            let u = p.vars(n);
            for (i, ui) in u.vars().enumerate() {
                if self.impact[i] != 0.0 {
                    p.pow([ui.into(), impact_unit(n).into(), z(i)], 2.0 / 3.0);
                }
            }
            vars.impact = Some(u);
        }
        if self.borrow.iter().any(|&s| s != 0.0) {
            // v_i ≥ max(−w_i, 0), the short position.
            let v = p.vars(n);
            for (wi, vi) in w.vars().zip(v.vars()) {
                p.ge(wi + vi, 0.0);
                p.ge(vi, 0.0);
            }
            vars.short = Some(v);
        }
        vars
    }

    /// The cost of the written trade.
    pub fn cost(&self, v: TradeVars) -> Lin {
        let mut cost = Lin::zero();
        // |z|^{3/2} = √s·u.
        let root = impact_unit(self.current.len()).sqrt();
        let impact: Vec<f64> = self.impact.iter().map(|c| c * root).collect();
        for (var, coefficients) in [(v.abs, &self.linear), (v.impact, &impact), (v.short, &self.borrow)] {
            if let Some(block) = var {
                if !coefficients.is_empty() {
                    cost += block.dot(coefficients);
                }
            }
        }
        cost
    }
}

/// The power cone's constant $s$ for `n` assets: a typical weight.
fn impact_unit(n: usize) -> f64 {
    1.0 / n.max(1) as f64
}
