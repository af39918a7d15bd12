//! Portfolio constraints, checked for evident infeasibility and written
//! into a [`Program`].

use ndarray::Array1;

use super::problem::{Program, Row};
use crate::error::{Error, Result};

/// Constraints on the weights $w$.
///
/// Default ([`Constraints::long_only`]): $0 \le w_i \le 1$, $\sum_i w_i = 1$.
///
/// ```
/// use assetalloc::prelude::*;
/// let c = Constraints::long_only()
///     .bounds(0.0, 0.25)
///     .group("tech", &["AAPL", "MSFT", "AMD"], 0.0, 0.4)
///     .max_turnover(0.5)
///     .previous(vec![0.05; 20]);
/// # let _ = c;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Constraints {
    pub(crate) lower: Vec<f64>,
    pub(crate) upper: Vec<f64>,
    pub(crate) allow_cash: bool,
    pub(crate) groups: Vec<Group>,
    pub(crate) leverage: Option<f64>,
    pub(crate) previous: Option<Vec<f64>>,
    pub(crate) turnover: Option<f64>,
    pub(crate) cost_bps: f64,
    pub(crate) linear: Vec<Linear>,
    pub(crate) tracking: Option<(Benchmark, f64)>,
}

/// What a tracking-error cap measures against.
#[derive(Debug, Clone, PartialEq)]
pub enum Benchmark {
    /// Benchmark weights by asset name (assets not named weigh 0): the
    /// tracking error is $\sqrt{(w-b)^\top\Sigma(w-b)}$ with the
    /// moments' covariance.
    Weights(Vec<(String, f64)>),
    /// The benchmark's return in each scenario (same rows as the returns
    /// solved on): the tracking error is the standard deviation (ddof 1) of
    /// $r_s^\top w - y_s$.
    Returns(Vec<f64>),
}

/// How a linear constraint's left side relates to its right side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// $a^\top w \le b$.
    AtMost,
    /// $a^\top w = b$.
    Equal,
    /// $a^\top w \ge b$.
    AtLeast,
}

/// A named linear constraint $a^\top w \;(\le, =, \ge)\; b$ with
/// coefficients by asset name (assets not named have coefficient 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// Name shown in error messages, e.g. "beta to the index ≤ 1".
    pub name: String,
    /// Coefficients by asset name.
    pub coefficients: Vec<(String, f64)>,
    /// The relation.
    pub relation: Relation,
    /// The right-hand side.
    pub rhs: f64,
}

/// Bounds on the total weight of a set of assets.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Name shown in error messages.
    pub name: String,
    /// Member assets.
    pub members: Vec<String>,
    /// Least total weight.
    pub lower: f64,
    /// Greatest total weight.
    pub upper: f64,
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints::long_only()
    }
}

impl Constraints {
    /// $0 \le w_i \le 1$, fully invested.
    pub fn long_only() -> Self {
        Constraints {
            lower: vec![0.0],
            upper: vec![1.0],
            allow_cash: false,
            groups: Vec::new(),
            leverage: None,
            previous: None,
            turnover: None,
            cost_bps: 0.0,
            linear: Vec::new(),
            tracking: None,
        }
    }

    /// The same bounds for every asset (a negative lower bound allows shorts).
    pub fn bounds(mut self, lower: f64, upper: f64) -> Self {
        self.lower = vec![lower];
        self.upper = vec![upper];
        self
    }

    /// One lower and one upper bound per asset.
    pub fn asset_bounds(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.lower = lower;
        self.upper = upper;
        self
    }

    /// Allows a cash position: $\sum_i w_i \le 1$, cash $= 1 - \sum_i w_i$.
    pub fn allow_cash(mut self) -> Self {
        self.allow_cash = true;
        self
    }

    /// Bounds the total weight of `members`.
    pub fn group<S: AsRef<str>>(mut self, name: &str, members: &[S], lower: f64, upper: f64) -> Self {
        self.groups.push(Group {
            name: name.to_string(),
            members: members.iter().map(|m| m.as_ref().to_string()).collect(),
            lower,
            upper,
        });
        self
    }

    /// A named linear constraint $a^\top w \;(\le, =, \ge)\; b$ with
    /// coefficients by asset name, e.g. a beta to an index at most 1:
    /// `.linear("beta ≤ 1", &[("AAPL", 1.2), ("KO", 0.6)], Relation::AtMost, 1.0)`.
    pub fn linear<S: AsRef<str>>(
        mut self,
        name: &str,
        coefficients: &[(S, f64)],
        relation: Relation,
        rhs: f64,
    ) -> Self {
        self.linear.push(Linear {
            name: name.to_string(),
            coefficients: coefficients.iter().map(|(a, c)| (a.as_ref().to_string(), *c)).collect(),
            relation,
            rhs,
        });
        self
    }

    /// Caps the tracking error against a [`Benchmark`] at `cap` (in the
    /// moments' units for benchmark weights — annualised when they are —
    /// and per period for a benchmark return series, solved on scenarios).
    /// Not available with the ratio objectives (maximum Sharpe, maximum
    /// ratio, maximum diversification) or risk parity.
    pub fn tracking_error(mut self, benchmark: Benchmark, cap: f64) -> Self {
        self.tracking = Some((benchmark, cap));
        self
    }

    /// Caps gross leverage $\sum_i |w_i| \le L$.
    pub fn max_leverage(mut self, gross: f64) -> Self {
        self.leverage = Some(gross);
        self
    }

    /// The current weights, for turnover and transaction costs.
    pub fn previous(mut self, weights: Vec<f64>) -> Self {
        self.previous = Some(weights);
        self
    }

    /// Caps turnover $\sum_i |w_i - w^{prev}_i| \le \tau$ (needs [`previous`](Self::previous)).
    pub fn max_turnover(mut self, tau: f64) -> Self {
        self.turnover = Some(tau);
        self
    }

    /// Proportional transaction cost in basis points of traded notional,
    /// subtracted from expected return in objectives that have one (needs
    /// [`previous`](Self::previous)).
    pub fn cost_bps(mut self, bps: f64) -> Self {
        self.cost_bps = bps;
        self
    }

    /// Whether turnover enters (a cap or a cost).
    pub(crate) fn trades(&self) -> bool {
        self.turnover.is_some() || self.cost_bps > 0.0
    }

    /// Per-asset bounds expanded to `n` and checked for evident infeasibility.
    pub(crate) fn resolve(&self, assets: &[String]) -> Result<Resolved> {
        let (lower, upper) = self.bounds_for(assets)?;
        let groups = self.groups_for(assets, &lower, &upper)?;
        if let Some(l) = self.leverage {
            if !(l >= 1.0) {
                return Err(Error::param(
                    "max_leverage",
                    format!("must be ≥ 1 for a fully invested portfolio, got {l}"),
                ));
            }
        }
        let linear = self.linear_for(assets, &lower, &upper)?;
        let tracking = self.tracking_for(assets)?;
        Ok(Resolved {
            lower,
            upper,
            allow_cash: self.allow_cash,
            groups,
            linear,
            tracking,
            leverage: self.leverage,
            previous: self.previous_for(assets.len())?,
            turnover: self.turnover,
            cost: self.cost_bps / 1e4,
        })
    }

    /// Lower and upper bounds, one per asset, checked against each other
    /// and against the budget.
    fn bounds_for(&self, assets: &[String]) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = assets.len();
        let expand = |name: &str, v: &[f64]| -> Result<Vec<f64>> {
            match v.len() {
                1 => Ok(vec![v[0]; n]),
                k if k == n => Ok(v.to_vec()),
                k => Err(Error::Shape(format!("{name} bounds have {k} values for {n} assets"))),
            }
        };
        let lower = expand("lower", &self.lower)?;
        let upper = expand("upper", &self.upper)?;
        for i in 0..n {
            if !(lower[i].is_finite() && upper[i].is_finite()) {
                return Err(Error::param(
                    "bounds",
                    format!("must be finite, got [{}, {}] for {}", lower[i], upper[i], assets[i]),
                ));
            }
            if lower[i] > upper[i] {
                return Err(Error::infeasible(
                    format!("bounds of {}", assets[i]),
                    format!("lower bound {} is above upper bound {}", lower[i], upper[i]),
                ));
            }
        }
        let (lo_sum, hi_sum) = (lower.iter().sum::<f64>(), upper.iter().sum::<f64>());
        if !self.allow_cash && hi_sum < 1.0 - 1e-12 {
            return Err(Error::infeasible(
                "bounds",
                format!("the upper bounds sum to {hi_sum:.4} < 1, so the portfolio cannot be fully invested; raise them or allow cash"),
            ));
        }
        if lo_sum > 1.0 + 1e-12 {
            return Err(Error::infeasible("bounds", format!("the lower bounds sum to {lo_sum:.4} > 1")));
        }
        Ok((lower, upper))
    }

    /// Each group's member indices and bounds, checked against the members'
    /// bounds and against the groups that contain it.
    fn groups_for(&self, assets: &[String], lower: &[f64], upper: &[f64]) -> Result<Vec<(Vec<usize>, f64, f64)>> {
        let mut groups = Vec::new();
        for g in &self.groups {
            let idx = g
                .members
                .iter()
                .map(|m| {
                    assets.iter().position(|a| a == m).ok_or_else(|| Error::UnknownAsset {
                        name: format!("{m} (in group {})", g.name),
                        available: assets.to_vec(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let name = format!("group {}", g.name);
            if g.lower > g.upper {
                return Err(Error::infeasible(
                    name,
                    format!("lower bound {} is above upper bound {}", g.lower, g.upper),
                ));
            }
            let cap: f64 = idx.iter().map(|&i| upper[i]).sum();
            let floor: f64 = idx.iter().map(|&i| lower[i]).sum();
            if g.lower > cap + 1e-12 {
                return Err(Error::infeasible(
                    name,
                    format!("needs at least {} but its members' upper bounds sum to {cap:.4}", g.lower),
                ));
            }
            if g.upper < floor - 1e-12 {
                return Err(Error::infeasible(
                    name,
                    format!("allows at most {} but its members' lower bounds sum to {floor:.4}", g.upper),
                ));
            }
            groups.push((idx, g.lower, g.upper));
        }
        // A group nested in another cannot need more than the outer allows.
        for (a, ga) in self.groups.iter().enumerate() {
            for (b, gb) in self.groups.iter().enumerate() {
                let nested = a != b && ga.members.iter().all(|m| gb.members.contains(m));
                if nested && ga.lower > gb.upper + 1e-12 {
                    return Err(Error::infeasible(
                        format!("group {}", ga.name),
                        format!(
                            "needs at least {} but it lies inside group {}, which allows at most {}",
                            ga.lower, gb.name, gb.upper
                        ),
                    ));
                }
            }
        }
        Ok(groups)
    }

    /// Each linear constraint as a dense row with its relation and bound,
    /// checked against what the per-asset bounds allow.
    fn linear_for(&self, assets: &[String], lower: &[f64], upper: &[f64]) -> Result<Vec<(Vec<f64>, Relation, f64)>> {
        let mut out = Vec::new();
        for l in &self.linear {
            let mut a = vec![0.0; assets.len()];
            for (name, c) in &l.coefficients {
                let j = assets.iter().position(|x| x == name).ok_or_else(|| Error::UnknownAsset {
                    name: format!("{name} (in linear constraint {})", l.name),
                    available: assets.to_vec(),
                })?;
                if !c.is_finite() {
                    return Err(Error::param("linear constraint", format!("{}: coefficient of {name} is {c}", l.name)));
                }
                a[j] += c;
            }
            if !l.rhs.is_finite() {
                return Err(Error::param("linear constraint", format!("{}: right-hand side is {}", l.name, l.rhs)));
            }
            // The range a·w can take within the per-asset bounds alone.
            let lo: f64 = a.iter().zip(lower.iter().zip(upper)).map(|(c, (l, u))| (c * l).min(c * u)).sum();
            let hi: f64 = a.iter().zip(lower.iter().zip(upper)).map(|(c, (l, u))| (c * l).max(c * u)).sum();
            let tol = 1e-12 * (1.0 + l.rhs.abs());
            let impossible = match l.relation {
                Relation::AtMost => lo > l.rhs + tol,
                Relation::AtLeast => hi < l.rhs - tol,
                Relation::Equal => lo > l.rhs + tol || hi < l.rhs - tol,
            };
            if impossible {
                return Err(Error::infeasible(
                    format!("linear constraint {}", l.name),
                    format!("within the weight bounds the left side ranges over [{lo:.6}, {hi:.6}], which cannot meet {:?} {}", l.relation, l.rhs),
                ));
            }
            out.push((a, l.relation, l.rhs));
        }
        Ok(out)
    }

    /// The benchmark resolved against the assets, and the cap.
    fn tracking_for(&self, assets: &[String]) -> Result<Option<(Tracking, f64)>> {
        let Some((benchmark, cap)) = &self.tracking else { return Ok(None) };
        if !(cap.is_finite() && *cap >= 0.0) {
            return Err(Error::param("tracking error", format!("the cap must be ≥ 0 and finite, got {cap}")));
        }
        let resolved = match benchmark {
            Benchmark::Weights(w) => {
                let mut b = Array1::zeros(assets.len());
                for (name, v) in w {
                    let j = assets.iter().position(|a| a == name).ok_or_else(|| Error::UnknownAsset {
                        name: format!("{name} (in the tracking-error benchmark)"),
                        available: assets.to_vec(),
                    })?;
                    if !v.is_finite() {
                        return Err(Error::param("tracking error", format!("benchmark weight of {name} is {v}")));
                    }
                    b[j] += v;
                }
                Tracking::Weights(b)
            }
            Benchmark::Returns(y) => {
                if let Some(v) = y.iter().find(|v| !v.is_finite()) {
                    return Err(Error::param("tracking error", format!("benchmark return {v} is not finite")));
                }
                Tracking::Returns(y.clone())
            }
        };
        Ok(Some((resolved, *cap)))
    }

    /// The previous weights, required when turnover is capped or costed.
    fn previous_for(&self, n: usize) -> Result<Option<Array1<f64>>> {
        if self.cost_bps < 0.0 || !self.cost_bps.is_finite() {
            return Err(Error::param("cost_bps", format!("must be ≥ 0, got {}", self.cost_bps)));
        }
        if let Some(t) = self.turnover {
            if !(t >= 0.0) {
                return Err(Error::param("max_turnover", format!("must be ≥ 0, got {t}")));
            }
        }
        match (&self.previous, self.trades()) {
            (Some(p), _) if p.len() != n => {
                Err(Error::Shape(format!("previous weights have {} values for {n} assets", p.len())))
            }
            (Some(p), _) => Ok(Some(Array1::from(p.clone()))),
            (None, true) => Err(Error::param(
                "previous",
                "weights are needed for a turnover cap or transaction costs; set .previous(weights)",
            )),
            (None, false) => Ok(None),
        }
    }
}

/// A benchmark resolved against the assets.
#[derive(Debug, Clone)]
pub(crate) enum Tracking {
    Weights(Array1<f64>),
    Returns(Vec<f64>),
}

/// Constraints with indices and per-asset bounds.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub allow_cash: bool,
    pub groups: Vec<(Vec<usize>, f64, f64)>,
    pub linear: Vec<(Vec<f64>, Relation, f64)>,
    pub tracking: Option<(Tracking, f64)>,
    pub leverage: Option<f64>,
    pub previous: Option<Array1<f64>>,
    pub turnover: Option<f64>,
    /// Cost per unit of traded notional.
    pub cost: f64,
}

impl Resolved {
    /// The constraints beyond per-asset bounds and full investment, by
    /// name (what the critical line algorithm cannot take).
    pub fn beyond_bounds(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (name, present) in [
            ("cash", self.allow_cash),
            ("groups", !self.groups.is_empty()),
            ("linear constraints", !self.linear.is_empty()),
            ("a tracking-error cap", self.tracking.is_some()),
            ("a leverage cap", self.leverage.is_some()),
            ("a turnover cap", self.turnover.is_some()),
            ("trading costs", self.cost != 0.0 && self.previous.is_some()),
        ] {
            if present {
                v.push(name);
            }
        }
        v
    }

    /// Writes the constraints on weights `w = x[0..n]`; returns the index
    /// of the first trade variable $t_i \ge |w_i - w^{prev}_i|$ when trading
    /// enters, so objectives can charge costs on it.
    pub fn write(&self, prog: &mut Program, n: usize) -> Option<usize> {
        let all: Row = (0..n).map(|i| (i, 1.0)).collect();
        if self.allow_cash {
            prog.le(all, 1.0);
        } else {
            prog.eq(all, 1.0);
        }
        // With Σw = 1 and w ≥ 0, an upper bound ≥ 1 is implied: leaving it
        // out keeps the KKT system smaller (n fewer rows).
        let implied_cap = !self.allow_cash && self.lower.iter().all(|&l| l >= 0.0);
        for i in 0..n {
            if !(implied_cap && self.upper[i] >= 1.0) {
                prog.le(vec![(i, 1.0)], self.upper[i]);
            }
            prog.le(vec![(i, -1.0)], -self.lower[i]);
        }
        for (idx, lo, hi) in &self.groups {
            prog.le(idx.iter().map(|&i| (i, 1.0)).collect(), *hi);
            prog.le(idx.iter().map(|&i| (i, -1.0)).collect(), -*lo);
        }
        for (a, relation, rhs) in &self.linear {
            let row = || a.iter().enumerate().filter(|(_, c)| **c != 0.0).map(|(i, c)| (i, *c));
            match relation {
                Relation::AtMost => {
                    prog.le(row().collect(), *rhs);
                }
                Relation::AtLeast => {
                    prog.le(row().map(|(i, c)| (i, -c)).collect(), -*rhs);
                }
                Relation::Equal => {
                    prog.eq(row().collect(), *rhs);
                }
            }
        }
        if let Some(l) = self.leverage {
            let u = prog.vars(n);
            for i in 0..n {
                prog.le(vec![(i, 1.0), (u + i, -1.0)], 0.0);
                prog.le(vec![(i, -1.0), (u + i, -1.0)], 0.0);
            }
            prog.le((0..n).map(|i| (u + i, 1.0)).collect(), l);
        }
        let prev = self.previous.as_ref()?;
        if self.turnover.is_none() && self.cost == 0.0 {
            return None;
        }
        let t = prog.vars(n);
        for i in 0..n {
            prog.le(vec![(i, 1.0), (t + i, -1.0)], prev[i]);
            prog.le(vec![(i, -1.0), (t + i, -1.0)], -prev[i]);
        }
        if let Some(tau) = self.turnover {
            prog.le((0..n).map(|i| (t + i, 1.0)).collect(), tau);
        }
        Some(t)
    }

    /// Whether these are the default long-only, fully invested constraints.
    pub fn is_long_only_default(&self) -> bool {
        !self.allow_cash
            && self.groups.is_empty()
            && self.linear.is_empty()
            && self.tracking.is_none()
            && self.leverage.is_none()
            && self.turnover.is_none()
            && self.cost == 0.0
            && self.lower.iter().all(|&l| l == 0.0)
            && self.upper.iter().all(|&u| u >= 1.0)
    }
}
