//! Distributionally robust mean–CVaR (Esfahani and Kuhn 2018, as skfolio's
//! `DistributionallyRobustCVaR`): the utility
//! $\mathbb E_Q[r^\top w] - \rho\,\mathrm{CVaR}_{\beta,Q}(w)$ at its worst over
//! every distribution $Q$ within Wasserstein distance $\varepsilon$ (with the
//! 1-norm on returns) of the scenarios' empirical one, on the support
//! $r \ge -1$. The loss is the larger of two affine pieces in the returns,
//! $\ell_k = a_k\,r^\top w + b_k\tau$ with $(a_1, b_1) = (-1, \rho)$ and
//! $(a_2, b_2) = (-1 - \frac{\rho}{1-\beta}, \rho(1 - \frac{1}{1-\beta}))$,
//! and the worst case is the linear program
//!
//! $$ \min\ \varepsilon\lambda + \frac1S\sum_s \sigma_s \quad\text{s.t.}\quad
//! b_k\tau + a_k\,r_s^\top w + u_k^\top(\mathbf 1 + r_s) \le \sigma_s,\quad
//! \lVert u_k + a_k w\rVert_\infty \le \lambda,\quad u_k \ge 0. $$
//!
//! Esfahani and Kuhn write one multiplier $u_{sk}$ per scenario; since
//! $\mathbf 1 + r_s \ge 0$, each is smallest at the lower end of the same
//! box, $\max(0, -a_k w - \lambda)$, so one per piece is exact and the
//! program has $S + 2n + 2$ variables instead of $2Sn$. At $\varepsilon = 0$
//! it is the mean–CVaR utility.

use super::{constrained, Built, Constrained, Formulation, Inputs};
use crate::error::{Error, Result};
use crate::optimize::constraints::Resolved;
use crate::parameter::Optimize as Param;

pub(crate) struct DrCvar {
    pub beta: f64,
    pub risk_aversion: f64,
    pub radius: f64,
}

impl DrCvar {
    /// The settings, checked: β in (0, 1), ρ ≥ 0, ε ≥ 0, all finite.
    pub(crate) fn check(&self) -> Result<()> {
        if !(self.beta > 0.0 && self.beta < 1.0) {
            return Err(Error::param(Param::Beta, format!("must be in (0, 1), got {}", self.beta)));
        }
        if !(self.risk_aversion.is_finite() && self.risk_aversion >= 0.0) {
            return Err(Error::param(
                Param::RiskAversion,
                format!("must be ≥ 0 and finite, got {}", self.risk_aversion),
            ));
        }
        if !(self.radius.is_finite() && self.radius >= 0.0) {
            return Err(Error::param(
                Param::Radius,
                format!("must be ≥ 0 and finite (a Wasserstein distance in returns), got {}", self.radius),
            ));
        }
        Ok(())
    }
}

impl Formulation for DrCvar {
    fn label(&self) -> String {
        format!(
            "distributionally robust CVaR ({:.0} %, ρ = {}, ε = {})",
            self.beta * 100.0,
            self.risk_aversion,
            self.radius
        )
    }

    fn reports_worst_case(&self) -> bool {
        true
    }

    /// The settings were checked when the formulation was made
    /// (`objective::formulation`).
    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built> {
        let r = x.scenarios.ok_or_else(|| {
            Error::param(
                Param::Radius,
                "needs return scenarios: call .solve_scenarios(&returns) instead of .solve(&moments)",
            )
        })?;
        let s = r.nrows();
        let needed = (1.0 / (1.0 - self.beta)).ceil() as usize;
        if s < needed.max(2) {
            return Err(Error::TooFewRows {
                operation: format!(
                    "distributionally robust CVaR at confidence {} (at least 1/(1 − β) scenarios)",
                    self.beta
                ),
                needed: needed.max(2),
                got: s,
            });
        }
        if let Some(((i, j), v)) = r.indexed_iter().find(|(_, v)| !(**v >= -1.0)) {
            return Err(Error::param(
                Param::Radius,
                format!("needs simple returns of at least −1 (the support), got {v} at scenario {i}, asset {j}"),
            ));
        }
        let (rho, tail) = (self.risk_aversion, 1.0 / (1.0 - self.beta));
        let pieces = [(-1.0, rho), (-1.0 - rho * tail, rho * (1.0 - tail))];
        let Constrained { program: mut p, weights: w, trade: t } = constrained(x, c)?;
        let tau = p.var();
        let lambda = p.var();
        let sigma = p.vars(s);
        for (a, b) in pieces {
            // u ≥ 0 and |u_j + a w_j| ≤ λ.
            let u = p.vars(w.len());
            for (uj, wj) in u.vars().zip(w.vars()) {
                p.ge(uj, 0.0);
                p.le(uj + wj * a - lambda, 0.0);
                p.ge(uj + wj * a + lambda, 0.0);
            }
            for (k, row) in r.rows().into_iter().enumerate() {
                let shifted: Vec<f64> = row.iter().map(|v| 1.0 + v).collect();
                p.le(tau * b + w.dot(row) * a + u.dot(&shifted) - sigma.at(k), 0.0);
            }
        }
        p.minimise(lambda * self.radius + sigma.sum() * (1.0 / s as f64) + c.cost(t));
        Ok(Built::direct(p, w))
    }
}
