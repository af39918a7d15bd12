//! Entropy pooling (Meucci 2008): the scenario probabilities $p$ closest
//! to the prior $q$ in relative entropy that satisfy the views,
//!
//! $$\min_p \sum_t p_t \ln\frac{p_t}{q_t}\quad\text{s.t.}\quad \sum_t p_t = 1,\ \ A_{eq}^\top p = b_{eq},\ \ A_{in}^\top p \le b_{in},$$
//!
//! with one column of $A$ per view over the $T$ scenarios. A view is on a
//! series $y_t = c^\top r_t$ (one asset, or a combination):
//!
//! * **mean**: the column $(y_t)_t$;
//! * **value at risk** $v$ at confidence $\beta$: the indicator of
//!   $y_t \le -v$, whose probability is set (or bounded) to $1-\beta$;
//! * **CVaR** $v$: for a level $\eta$, the column
//!   $((-y_t - \eta)^+/(1-\beta))_t$ with value $v - \eta$; $\eta$ is
//!   bisected until it is the posterior's $\beta$-quantile of the loss;
//! * **variance** about the mean $m$ after the first stage, which is then
//!   held fixed ($\sum_t p_t y_t = m$): the column $((y_t - m)^2)_t$;
//! * **skewness** and **kurtosis** about the mean $m$ and biased variance
//!   $v$ after the second stage, both then held fixed: the columns
//!   $(y_t^3 - m^3 - 3mv)/v^{3/2}$ and
//!   $(y_t^4 - 4my_t^3 + 6m^2y_t^2 - 3m^4)/v^2$;
//! * **correlation** $\rho$ of two series, likewise: the column
//!   $(y_t z_t)_t$ with value $m_y m_z + \rho\sqrt{v_y v_z}$.
//!
//! The three stages are skfolio's (means, VaR and CVaR; then variances;
//! then the rest), so the tests match its posteriors. Each pooling
//! solves the dual, a smooth convex problem in one multiplier per view,
//! $\min_x \sum_t q_t e^{-1-(Ax)_t} + b^\top x$ with the inequalities'
//! multipliers $\ge 0$, by projected Newton steps (Bertsekas 1982), to a
//! gradient of $10^{-13}$; then $p_t = q_t e^{-1-(Ax)_t}$. The posterior
//! reports its effective number of scenarios $e^{-\sum_t p_t\ln p_t}$ and
//! its relative entropy to the prior.

use ndarray::{Array1, Array2};

use super::Moments;
use crate::data::Returns;
use crate::error::{Error, Result};
use crate::parameter::Estimate as Param;

/// A view's relation and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// Equal to the value.
    Equal(f64),
    /// At most the value.
    AtMost(f64),
    /// At least the value.
    AtLeast(f64),
}

impl Bound {
    fn value(self) -> f64 {
        match self {
            Bound::Equal(v) | Bound::AtMost(v) | Bound::AtLeast(v) => v,
        }
    }

    /// The same relation at the value `v`.
    fn at(self, v: f64) -> Bound {
        match self {
            Bound::Equal(_) => Bound::Equal(v),
            Bound::AtMost(_) => Bound::AtMost(v),
            Bound::AtLeast(_) => Bound::AtLeast(v),
        }
    }
}

/// What a view is about: one asset's return, or a combination
/// $\sum_i c_i r_i$ of returns (`&[("AAPL", 1.0), ("MSFT", -1.0)]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ViewOn(Vec<(String, f64)>);

impl From<&str> for ViewOn {
    fn from(asset: &str) -> Self {
        ViewOn(vec![(asset.to_string(), 1.0)])
    }
}

impl From<&String> for ViewOn {
    fn from(asset: &String) -> Self {
        ViewOn::from(asset.as_str())
    }
}

impl From<String> for ViewOn {
    fn from(asset: String) -> Self {
        ViewOn(vec![(asset, 1.0)])
    }
}

impl From<&[(&str, f64)]> for ViewOn {
    fn from(weights: &[(&str, f64)]) -> Self {
        ViewOn(weights.iter().map(|(a, c)| (a.to_string(), *c)).collect())
    }
}

impl<const N: usize> From<&[(&str, f64); N]> for ViewOn {
    fn from(weights: &[(&str, f64); N]) -> Self {
        ViewOn::from(&weights[..])
    }
}

/// One view and the quantity it bounds.
#[derive(Debug, Clone, PartialEq)]
enum Opinion {
    Mean { on: ViewOn, bound: Bound },
    Variance { on: ViewOn, bound: Bound },
    Skew { on: ViewOn, bound: Bound },
    Kurtosis { on: ViewOn, bound: Bound },
    Correlation { on: (ViewOn, ViewOn), bound: Bound },
    ValueAtRisk { on: ViewOn, beta: f64, bound: Bound },
    Cvar { on: ViewOn, beta: f64, value: f64 },
}

/// Builder for [`EntropyPooled`] probabilities.
///
/// Views are on one asset or on a combination of assets ([`ViewOn`]), per
/// period, as equalities or bounds ([`Bound`]). They are pooled in three
/// stages, as skfolio does, so that each stays linear in $p$:
///
/// 1. means and values at risk (and CVaR);
/// 2. variances, about the stage-1 mean, which is then held fixed;
/// 3. correlations, skewness and kurtosis, about the stage-2 mean and
///    (biased) variance, which are then held fixed.
///
/// A CVaR view is not linear in $p$: for a trial level $\eta$ the
/// Rockafellar–Uryasev form $\eta + \sum_t p_t (\ell_t - \eta)^+ / (1-\beta) = v$
/// is, and $\eta$ is then moved by bisection until it is the posterior's
/// $\beta$-quantile of the loss $\ell$, where that form is the CVaR.
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::estimate::{Bound, EntropyPooling};
/// let r = Synthetic::params().assets(3).days(500).seed(1).generate()?.prices.returns(ReturnKind::Simple)?;
/// let (a, b) = (r.assets()[0].clone(), r.assets()[1].clone());
/// let pooled = EntropyPooling::params()
///     .mean(&a, Bound::Equal(0.001))
///     .volatility(&a, Bound::AtMost(0.008))
///     .correlation(&a, &b, Bound::AtLeast(0.5))
///     .fit(&r)?;
/// let m = pooled.moments();
/// assert!((m.mean()[0] - 0.001).abs() < 1e-12);
/// assert!(pooled.effective_scenarios() < 500.0);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntropyPoolingParams {
    views: Vec<Opinion>,
    prior: Option<Array1<f64>>,
}

/// Entropy pooling: see [`EntropyPoolingParams`].
pub struct EntropyPooling;

impl EntropyPooling {
    /// No views yet (the posterior is the prior).
    pub fn params() -> EntropyPoolingParams {
        EntropyPoolingParams::default()
    }
}

/// Posterior scenario probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct EntropyPooled {
    assets: Vec<String>,
    scenarios: Array2<f64>,
    probabilities: Array1<f64>,
    prior: Array1<f64>,
    periods_per_year: f64,
}

/// The square of a volatility bound, as a variance bound.
fn squared(bound: Bound) -> Bound {
    let v = bound.value();
    bound.at(v.signum() * v * v)
}

impl EntropyPoolingParams {
    /// A view on the mean return of an asset or a combination.
    pub fn mean(mut self, on: impl Into<ViewOn>, bound: Bound) -> Self {
        self.views.push(Opinion::Mean { on: on.into(), bound });
        self
    }

    /// A view on a combination $\sum_i c_i\mu_i$ of mean returns, e.g.
    /// `[("AAPL", 1.0), ("MSFT", -1.0)]` with `Bound::AtLeast(0.0)` for
    /// "AAPL outperforms MSFT".
    pub fn mean_of(self, weights: &[(&str, f64)], bound: Bound) -> Self {
        self.mean(weights, bound)
    }

    /// A view on the variance of an asset or a combination.
    pub fn variance(mut self, on: impl Into<ViewOn>, bound: Bound) -> Self {
        self.views.push(Opinion::Variance { on: on.into(), bound });
        self
    }

    /// A view on a volatility: its variance's view at the square of the
    /// value.
    pub fn volatility(self, on: impl Into<ViewOn>, bound: Bound) -> Self {
        self.variance(on, squared(bound))
    }

    /// A view on the skewness $E[(r-\mu)^3]/\sigma^3$.
    pub fn skew(mut self, on: impl Into<ViewOn>, bound: Bound) -> Self {
        self.views.push(Opinion::Skew { on: on.into(), bound });
        self
    }

    /// A view on the kurtosis $E[(r-\mu)^4]/\sigma^4$ (3 for a normal
    /// distribution).
    pub fn kurtosis(mut self, on: impl Into<ViewOn>, bound: Bound) -> Self {
        self.views.push(Opinion::Kurtosis { on: on.into(), bound });
        self
    }

    /// A view on the correlation of two assets or combinations (in
    /// $[-1, 1]$).
    pub fn correlation(mut self, a: impl Into<ViewOn>, b: impl Into<ViewOn>, bound: Bound) -> Self {
        self.views.push(Opinion::Correlation { on: (a.into(), b.into()), bound });
        self
    }

    /// A view on the value at risk at confidence `beta` (e.g. 0.95), as a
    /// loss > 0: `Equal(v)` puts probability $1-\beta$ on the scenarios
    /// that lose at least $v$; `AtMost(v)` at most that, `AtLeast(v)` at
    /// least.
    pub fn value_at_risk(mut self, on: impl Into<ViewOn>, beta: f64, bound: Bound) -> Self {
        self.views.push(Opinion::ValueAtRisk { on: on.into(), beta, bound });
        self
    }

    /// A view that the CVaR at confidence `beta` (the mean loss in the
    /// worst $1-\beta$ of outcomes) equals `value` > 0. At most one CVaR
    /// view per pooling.
    pub fn cvar(mut self, on: impl Into<ViewOn>, beta: f64, value: f64) -> Self {
        self.views.push(Opinion::Cvar { on: on.into(), beta, value });
        self
    }

    /// The prior probabilities of the scenarios (default: equal), e.g. an
    /// exponential decay; non-negative, summing to 1.
    pub fn prior(mut self, probabilities: &Array1<f64>) -> Self {
        self.prior = Some(probabilities.clone());
        self
    }

    /// The posterior probabilities of the returns' dates.
    pub fn fit(&self, returns: &Returns) -> Result<EntropyPooled> {
        let simple = returns.as_simple();
        let x = simple.values();
        let t = x.nrows();
        if t < 2 {
            return Err(Error::TooFewRows { operation: "entropy pooling".into(), needed: 2, got: t });
        }
        crate::data::require_complete(
            x,
            returns.dates(),
            returns.assets(),
            "entropy pooling needs every asset on every date",
        )?;
        let prior = match &self.prior {
            None => Array1::from_elem(t, 1.0 / t as f64),
            Some(q) => checked_prior(q, t)?,
        };
        let assets = returns.assets();
        // Each view's series, Σ_i c_i r_ti, with its coefficients.
        let series = |k: usize, on: &ViewOn| -> Result<(Array1<f64>, Array1<f64>)> {
            let mut c = Array1::<f64>::zeros(assets.len());
            for (a, w) in &on.0 {
                let i = assets
                    .iter()
                    .position(|x| x == a)
                    .ok_or_else(|| Error::UnknownAsset { name: a.clone(), available: assets.to_vec() })?;
                c[i] += w;
            }
            if !c.iter().any(|&w| w != 0.0) || c.iter().any(|w| !w.is_finite()) {
                return Err(view_error(k, "needs finite weights, not all zero, on some asset".into()));
            }
            Ok((x.dot(&c), c))
        };
        let n_views = self.views.len();
        let mut system = Views::new(t);
        let mut cvar: Option<(Array1<f64>, f64, f64)> = None;
        // The CVaR view's level, carried from one stage to the next.
        let mut guess: Option<f64> = None;

        // Stage 1: means, values at risk, CVaR.
        for (k, v) in self.views.iter().enumerate() {
            match v {
                Opinion::Mean { on, bound } => {
                    check_value(k, bound.value())?;
                    system.add(series(k, on)?.0, *bound);
                }
                Opinion::ValueAtRisk { on, beta, bound } => {
                    let (y, _) = series(k, on)?;
                    check_beta(k, *beta)?;
                    let v = bound.value();
                    if !(v > 0.0 && v.is_finite()) {
                        return Err(view_error(k, format!("puts a value at risk at {v}; it is a loss, > 0")));
                    }
                    let tail = y.mapv(|r| if r <= -v { 1.0 } else { 0.0 });
                    if tail.sum() == 0.0 {
                        return Err(view_error(
                            k,
                            format!("puts a value at risk at {v}, beyond every scenario's loss; lower it"),
                        ));
                    }
                    let level = 1.0 - beta;
                    system.add(tail, bound.at(level));
                }
                Opinion::Cvar { on, beta, value } => {
                    let (y, _) = series(k, on)?;
                    check_beta(k, *beta)?;
                    if cvar.is_some() {
                        return Err(view_error(k, "is a second CVaR view; pool one CVaR view at a time".into()));
                    }
                    let worst = -y.iter().copied().fold(f64::INFINITY, f64::min);
                    if !(*value > 0.0 && *value < worst) {
                        return Err(view_error(
                            k,
                            format!("puts a CVaR at {value}; it must be > 0 and below the worst loss {worst}"),
                        ));
                    }
                    cvar = Some((y.mapv(|r| -r), *beta, *value));
                }
                _ => {}
            }
        }
        let mut p = solve_with_cvar(&system, cvar.as_ref(), &prior, n_views, &mut guess)?;

        // Stage 2: variances about the stage-1 mean, held fixed.
        let mut fixed_mean: Vec<Array1<f64>> = Vec::new();
        let mut fixed_variance: Vec<Array1<f64>> = Vec::new();
        if self.views.iter().any(|v| matches!(v, Opinion::Variance { .. })) {
            let mut fix = Vec::new();
            for (k, v) in self.views.iter().enumerate() {
                if let Opinion::Variance { on, bound } = v {
                    check_value(k, bound.value())?;
                    if bound.value() < 0.0 {
                        return Err(view_error(k, format!("puts a variance at {}; a variance is ≥ 0", bound.value())));
                    }
                    let (y, c) = series(k, on)?;
                    let m = p.dot(&y);
                    system.add(y.mapv(|r| (r - m).powi(2)), *bound);
                    fix.push((y, c, m));
                }
            }
            for (y, c, m) in fix {
                fix_once(&mut system, &mut fixed_mean, c, y, m);
            }
            p = solve_with_cvar(&system, cvar.as_ref(), &prior, n_views, &mut guess)?;
        }

        // Stage 3: correlations, skewness, kurtosis about the stage-2 mean
        // and variance, both held fixed.
        let third =
            |v: &Opinion| matches!(v, Opinion::Skew { .. } | Opinion::Kurtosis { .. } | Opinion::Correlation { .. });
        if self.views.iter().any(third) {
            let moments = |y: &Array1<f64>| {
                let m = p.dot(y);
                (m, p.dot(&y.mapv(|r| (r - m).powi(2))))
            };
            let mut fix = Vec::new();
            for (k, v) in self.views.iter().enumerate() {
                match v {
                    Opinion::Skew { on, bound } | Opinion::Kurtosis { on, bound } => {
                        check_value(k, bound.value())?;
                        let (y, c) = series(k, on)?;
                        let (m, var) = moments(&y);
                        if !(var > 0.0) {
                            return Err(view_error(k, "is on a series without variance".into()));
                        }
                        let column = if matches!(v, Opinion::Skew { .. }) {
                            y.mapv(|r| (r.powi(3) - m.powi(3) - 3.0 * m * var) / var.powf(1.5))
                        } else {
                            if bound.value() < 0.0 {
                                return Err(view_error(k, format!("puts a kurtosis at {}; it is ≥ 0", bound.value())));
                            }
                            y.mapv(|r| {
                                (r.powi(4) - 4.0 * m * r.powi(3) + 6.0 * m * m * r * r - 3.0 * m.powi(4)) / (var * var)
                            })
                        };
                        system.add(column, *bound);
                        fix.push((y, c, m, var));
                    }
                    Opinion::Correlation { on: (a, b), bound } => {
                        let rho = bound.value();
                        if !(-1.0..=1.0).contains(&rho) {
                            return Err(view_error(k, format!("puts a correlation at {rho}; it is in [-1, 1]")));
                        }
                        let ((ya, ca), (yb, cb)) = (series(k, a)?, series(k, b)?);
                        let ((ma, va), (mb, vb)) = (moments(&ya), moments(&yb));
                        if !(va > 0.0 && vb > 0.0) {
                            return Err(view_error(k, "is on a series without variance".into()));
                        }
                        let target = ma * mb + rho * (va * vb).sqrt();
                        let column = &ya * &yb;
                        system.add(column, bound.at(target));
                        fix.push((ya, ca, ma, va));
                        fix.push((yb, cb, mb, vb));
                    }
                    _ => {}
                }
            }
            for (y, c, m, var) in fix {
                let deviations = y.mapv(|r| (r - m).powi(2));
                fix_once(&mut system, &mut fixed_mean, c.clone(), y, m);
                fix_once(&mut system, &mut fixed_variance, c, deviations, var);
            }
            p = solve_with_cvar(&system, cvar.as_ref(), &prior, n_views, &mut guess)?;
        }
        Ok(EntropyPooled {
            assets: assets.to_vec(),
            scenarios: x.to_owned(),
            probabilities: p,
            prior,
            periods_per_year: returns.periods_per_year(),
        })
    }
}

/// Holds `Σ_t p_t column_t = value` unless the series with coefficients
/// `c` is already held (by a previous stage or view).
fn fix_once(system: &mut Views, fixed: &mut Vec<Array1<f64>>, c: Array1<f64>, column: Array1<f64>, value: f64) {
    if fixed.contains(&c) {
        return;
    }
    system.add(column, Bound::Equal(value));
    fixed.push(c);
}

/// The prior probabilities, checked: one per scenario, ≥ 0, summing to 1.
fn checked_prior(q: &Array1<f64>, t: usize) -> Result<Array1<f64>> {
    let bad = |m: String| Error::param(Param::Probabilities, m);
    if q.len() != t {
        return Err(bad(format!("need one per scenario ({t}), got {}", q.len())));
    }
    if let Some((i, v)) = q.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
        return Err(bad(format!("must be finite and ≥ 0, got {v} for scenario {i}")));
    }
    let s = q.sum();
    if (s - 1.0).abs() > 1e-9 {
        return Err(bad(format!("must sum to 1, got {s}")));
    }
    Ok(q.clone())
}

fn view_error(k: usize, message: String) -> Error {
    Error::param(Param::Views, format!("number {} {message}", k + 1))
}

fn check_value(k: usize, value: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(view_error(k, format!("needs a finite value, got {value}")));
    }
    Ok(())
}

fn check_beta(k: usize, beta: f64) -> Result<()> {
    if !(beta > 0.0 && beta < 1.0) {
        return Err(view_error(k, format!("needs a confidence level in (0, 1), got {beta}")));
    }
    Ok(())
}

/// The pooled probabilities, with a CVaR view when there is one.
///
/// For a level η the view is linear: $\eta + \sum_t p_t(\ell_t-\eta)^+/(1-\beta) = v$.
/// The view is the CVaR when η is the posterior's β-quantile of the loss,
/// where $f(\eta) = P_{p(\eta)}(\ell > \eta) - (1-\beta)$ changes sign.
/// $p(\eta)$ is continuous; $f$ jumps down where η crosses a scenario's
/// loss. So the root is bracketed first between two consecutive losses
/// (galloping out from a guess — the previous stage's level, or the
/// prior's quantile — then bisecting over the sorted losses), then found
/// inside that interval,
/// where the tail is one fixed set of scenarios, by regula falsi (Illinois)
/// — or it is the interval's end, where $f$ jumps across zero. Each
/// solve starts from the previous one's multipliers.
fn solve_with_cvar(
    system: &Views,
    cvar: Option<&(Array1<f64>, f64, f64)>,
    prior: &Array1<f64>,
    views: usize,
    guess: &mut Option<f64>,
) -> Result<Array1<f64>> {
    let Some((loss, beta, value)) = cvar else {
        return system.solve(prior, views);
    };
    let level = 1.0 - beta;
    let mut warm: Option<Array1<f64>> = None;
    let mut at = |eta: f64| -> Result<Array1<f64>> {
        let mut s = system.clone();
        s.add(loss.mapv(|l| (l - eta).max(0.0) / level), Bound::Equal(value - eta));
        // A start far from this level's multipliers can leave Newton's
        // region: then from zeros.
        let (p, x) = match s.solve_from(prior, views, warm.as_ref()) {
            Ok(solved) => solved,
            Err(_) if warm.is_some() => s.solve_from(prior, views, None)?,
            Err(e) => return Err(e),
        };
        warm = Some(x);
        Ok(p)
    };
    // The probability above `eta`, less 1 − β.
    let excess = |p: &Array1<f64>, eta: f64| -> f64 {
        loss.iter().zip(p).filter(|(l, _)| **l > eta).map(|(_, p)| p).sum::<f64>() - level
    };
    // The candidate levels: 0, the scenarios' losses in between, and just
    // below the view (where no tail can carry the view any more).
    let top = value * (1.0 - 1e-9);
    let mut levels: Vec<f64> = loss.iter().copied().filter(|l| *l > 0.0 && *l < top).collect();
    levels.push(0.0);
    levels.push(top);
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    // Bracket the root between two consecutive levels, galloping out from
    // the guess (the previous stage's level, or the prior's quantile),
    // then bisecting.
    let start = guess.map_or_else(
        || {
            let p = prior_quantile(loss, prior, level);
            levels.partition_point(|l| *l < p)
        },
        |g| levels.partition_point(|l| *l < g),
    );
    let n = levels.len();
    let mut probe = |i: usize| -> Result<(bool, Array1<f64>)> {
        let p = at(levels[i])?;
        Ok((excess(&p, levels[i]) > 0.0, p))
    };
    let i0 = start.min(n - 1);
    let (above, p0) = probe(i0)?;
    // The solves at levels[a] and levels[b], kept for the search inside.
    let (mut a, mut b, mut p_lo, mut p_hi);
    if above {
        // The root is above levels[i0]: gallop up.
        let (mut lo_i, mut step) = (i0, 1usize);
        p_lo = p0;
        loop {
            let i = (lo_i + step).min(n - 1);
            let (above, p) = probe(i)?;
            if !above {
                (a, b, p_hi) = (lo_i, i, p);
                break;
            }
            if i == n - 1 {
                return Err(Error::param(
                    Param::Views,
                    format!("the CVaR view of {value} cannot hold on these scenarios; lower it"),
                ));
            }
            (lo_i, p_lo) = (i, p);
            step *= 2;
        }
    } else {
        let (mut hi_i, mut step) = (i0, 1usize);
        p_hi = p0;
        loop {
            if hi_i == 0 {
                // Even at level 0 the tail holds at most 1 − β.
                return Ok(p_hi);
            }
            let i = hi_i.saturating_sub(step);
            let (above, p) = probe(i)?;
            if above {
                (a, b, p_lo) = (i, hi_i, p);
                break;
            }
            (hi_i, p_hi) = (i, p);
            step *= 2;
        }
    }
    while b - a > 1 {
        let mid = (a + b) / 2;
        let (above, p) = probe(mid)?;
        if above {
            (a, p_lo) = (mid, p);
        } else {
            (b, p_hi) = (mid, p);
        }
    }
    let (mut lo, mut hi) = (levels[a], levels[b]);
    *guess = Some(hi);
    // On [lo, hi] the tail is the scenarios losing ≥ hi: g is f with that
    // tail, continuous. If it is still > 0 at hi, f jumps across 0 there.
    let edge = hi;
    let g = |p: &Array1<f64>| -> f64 {
        loss.iter().zip(p).filter(|(l, _)| **l >= edge).map(|(_, p)| p).sum::<f64>() - level
    };
    let g_hi = g(&p_hi);
    if g_hi > 0.0 {
        return Ok(p_hi);
    }
    let mut g_lo = g(&p_lo);
    let mut g_hi = g_hi;
    let mut side = 0i8;
    for _ in 0..100 {
        if hi - lo <= 1e-15 * hi {
            break;
        }
        let eta = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
        let eta = if eta > lo && eta < hi { eta } else { 0.5 * (lo + hi) };
        let p = at(eta)?;
        let ge = g(&p);
        if ge == 0.0 {
            return Ok(p);
        }
        if ge > 0.0 {
            (lo, g_lo) = (eta, ge);
            if side == 1 {
                g_hi *= 0.5;
            }
            side = 1;
        } else {
            (hi, g_hi, p_hi) = (eta, ge, p);
            if side == -1 {
                g_lo *= 0.5;
            }
            side = -1;
        }
        if g_hi.abs() <= 1e-15 {
            break;
        }
    }
    Ok(p_hi)
}

/// The pooling's linear system: one column per constraint, scaled to unit
/// norm (which leaves the optimum unchanged and the Newton system better
/// conditioned), with its relation.
#[derive(Clone)]
struct Views {
    columns: Vec<Array1<f64>>,
    targets: Vec<f64>,
    inequality: Vec<bool>,
}

impl Views {
    fn new(t: usize) -> Views {
        // Σ p = 1.
        let one = 1.0 / (t as f64).sqrt();
        Views { columns: vec![Array1::from_elem(t, one)], targets: vec![one], inequality: vec![false] }
    }

    /// `Σ_t p_t a_t` bounded as `bound` says (≥ as ≤ of the negation).
    fn add(&mut self, a: Array1<f64>, bound: Bound) {
        let (a, b, ineq) = match bound {
            Bound::Equal(v) => (a, v, false),
            Bound::AtMost(v) => (a, v, true),
            Bound::AtLeast(v) => (-a, -v, true),
        };
        let norm = a.dot(&a).sqrt().max(f64::MIN_POSITIVE);
        self.columns.push(a / norm);
        self.targets.push(b / norm);
        self.inequality.push(ineq);
    }

    /// The probabilities minimising relative entropy to `q` under the
    /// constraints; `views` counts the user's views for messages.
    fn solve(&self, q: &Array1<f64>, views: usize) -> Result<Array1<f64>> {
        self.solve_from(q, views, None).map(|(p, _)| p)
    }

    /// [`solve`](Self::solve) from the multipliers `start` (zeros when
    /// `None` or of another length), returning the multipliers too.
    fn solve_from(
        &self,
        q: &Array1<f64>,
        views: usize,
        start: Option<&Array1<f64>>,
    ) -> Result<(Array1<f64>, Array1<f64>)> {
        let k = self.columns.len();
        let t = q.len();
        let a = Array2::from_shape_fn((t, k), |(s, j)| self.columns[j][s]);
        let b = Array1::from(self.targets.clone());
        let weights = |x: &Array1<f64>| -> Array1<f64> {
            let e = a.dot(x);
            Array1::from_iter(q.iter().zip(&e).map(|(q, e)| q * (-1.0 - e).exp()))
        };
        let value = |x: &Array1<f64>, z: &Array1<f64>| z.sum() + x.dot(&b);
        let mut x = start.filter(|s| s.len() == k).cloned().unwrap_or_else(|| Array1::zeros(k));
        let mut z = weights(&x);
        for _ in 0..200 {
            let g = &b - &a.t().dot(&z);
            // Projected gradient: an inequality multiplier at 0 whose
            // gradient pushes it below 0 stays there.
            let at_bound: Vec<bool> = (0..k).map(|j| self.inequality[j] && x[j] <= 1e-14 && g[j] > 0.0).collect();
            let projected = (0..k).filter(|&j| !at_bound[j]).map(|j| g[j].abs()).fold(0.0, f64::max);
            if projected <= 1e-13 {
                return Ok((normalised(z), x));
            }

            // Newton on the free multipliers: H = Aᵀ diag(z) A.
            let free: Vec<usize> = (0..k).filter(|&j| !at_bound[j]).collect();
            let m = free.len();
            let full = a.t().dot(&(&a * &z.view().insert_axis(ndarray::Axis(1))));
            let h = nalgebra::DMatrix::from_fn(m, m, |r, c| full[[free[r], free[c]]]);
            let rhs = nalgebra::DVector::from_fn(m, |r, _| -g[free[r]]);
            // Views that repeat one another make H singular but consistent:
            // a ridge of rounding size then picks one of the equal steps.
            let ridge = 1e-14 * (0..m).map(|r| h[(r, r)]).fold(0.0f64, f64::max);
            let regular = h.clone() + nalgebra::DMatrix::identity(m, m) * ridge;
            let Some(step) = h.cholesky().or_else(|| regular.cholesky()).map(|c| c.solve(&rhs)) else {
                break;
            };
            let here = value(&x, &z);
            let slope: f64 = (0..m).map(|r| g[free[r]] * step[r]).sum();
            // Within Newton's quadratic region the decrease a step makes is
            // below what the dual's value can show in floating point: take
            // full steps until they no longer move the multipliers.
            if -slope <= 1e-12 {
                let mut largest = 0.0f64;
                for (r, &j) in free.iter().enumerate() {
                    let next = if self.inequality[j] { (x[j] + step[r]).max(0.0) } else { x[j] + step[r] };
                    largest = largest.max((next - x[j]).abs());
                    x[j] = next;
                }
                z = weights(&x);
                if largest <= 1e-15 * (1.0 + x.iter().fold(0.0f64, |m, v| m.max(v.abs()))) {
                    return Ok((normalised(z), x));
                }
                continue;
            }
            let mut alpha = 1.0;
            let mut moved = false;
            for _ in 0..60 {
                let mut next = x.clone();
                for (r, &j) in free.iter().enumerate() {
                    next[j] += alpha * step[r];
                    if self.inequality[j] && next[j] < 0.0 {
                        next[j] = 0.0;
                    }
                }
                let zn = weights(&next);
                let there = value(&next, &zn);
                let actual: f64 = (0..k).map(|j| g[j] * (next[j] - x[j])).sum();
                if there.is_finite() && there <= here + 1e-4 * actual.min(alpha * slope).min(0.0) {
                    x = next;
                    z = zn;
                    moved = true;
                    break;
                }
                alpha *= 0.5;
            }
            if !moved {
                break;
            }
        }
        Err(Error::param(
            Param::Views,
            format!(
                "cannot all hold on these scenarios (the pooling of {views} view{} did not settle); \
                 soften the most extreme view or check them for a contradiction",
                if views == 1 { "" } else { "s" }
            ),
        ))
    }
}

/// The loss exceeded with probability `level` under `prior`.
fn prior_quantile(loss: &Array1<f64>, prior: &Array1<f64>, level: f64) -> f64 {
    let mut order: Vec<usize> = (0..loss.len()).collect();
    order.sort_by(|&i, &j| loss[j].total_cmp(&loss[i]));
    let mut mass = 0.0;
    for i in order {
        mass += prior[i];
        if mass >= level {
            return loss[i];
        }
    }
    0.0
}

/// Opinion pooling: several experts' posteriors (each an
/// [`EntropyPooled`] over the same scenarios) combined into one, each
/// with an opinion probability $\alpha_k$; when these sum to less than 1
/// the prior takes the rest. **Linear** pooling averages the
/// probabilities, $p = \sum_k \alpha_k p_k$; **logarithmic** pooling their
/// logarithms, $p \propto \prod_k p_k^{\alpha_k}$, so a scenario any
/// expert rules out stays out. A **divergence penalty** $\lambda$ trusts
/// less an expert far from the consensus $\bar p = \sum_k \alpha_k p_k$:
/// $\alpha_k \propto \alpha_k e^{-\lambda\, D(p_k\,\|\,\bar p)}$ with
/// $D$ the relative entropy. skfolio's `OpinionPooling`; the tests match
/// its probabilities. One expert with probability $c$ is Meucci's
/// confidence blending of a posterior with its prior, $p = c\,p_{post} +
/// (1 - c)\,q$ (linear) or $p \propto p_{post}^c\, q^{1-c}$ (logarithmic).
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::estimate::{Bound, EntropyPooling, OpinionPooling};
/// let r = Synthetic::params().assets(3).days(500).seed(1).generate()?.prices.returns(ReturnKind::Simple)?;
/// let a = r.assets()[0].clone();
/// let bull = EntropyPooling::params().mean(&a, Bound::AtLeast(0.002)).fit(&r)?;
/// let calm = EntropyPooling::params().volatility(&a, Bound::AtMost(0.008)).fit(&r)?;
/// let pooled = OpinionPooling::params().expert(&bull, 0.4).expert(&calm, 0.4).fit()?;
/// assert!((pooled.probabilities().sum() - 1.0).abs() < 1e-12);
/// # Ok::<(), assetalloc::Error>(())
/// ```
pub struct OpinionPooling;

impl OpinionPooling {
    /// No experts yet; linear pooling without a divergence penalty.
    pub fn params() -> OpinionPoolingParams {
        OpinionPoolingParams::default()
    }
}

/// The experts and how they are pooled (see [`OpinionPooling`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpinionPoolingParams {
    experts: Vec<(EntropyPooled, f64)>,
    logarithmic: bool,
    penalty: f64,
}

impl OpinionPoolingParams {
    /// An expert's posterior and the probability that its opinion is right
    /// (0 to 1; the experts' together at most 1).
    pub fn expert(mut self, posterior: &EntropyPooled, probability: f64) -> Self {
        self.experts.push((posterior.clone(), probability));
        self
    }

    /// Pools the logarithms of the probabilities (default: the
    /// probabilities).
    pub fn logarithmic(mut self) -> Self {
        self.logarithmic = true;
        self
    }

    /// Shrinks the opinion probability of an expert far from the
    /// consensus (≥ 0; default 0, none).
    pub fn divergence_penalty(mut self, penalty: f64) -> Self {
        self.penalty = penalty;
        self
    }

    /// The pooled probabilities, over the experts' scenarios.
    pub fn fit(&self) -> Result<EntropyPooled> {
        let Some((first, _)) = self.experts.first() else {
            return Err(Error::param(Param::Expert, "an opinion pooling needs at least one expert, got none"));
        };
        for (k, (e, a)) in self.experts.iter().enumerate() {
            if !(0.0..=1.0).contains(a) {
                return Err(Error::param(
                    Param::Expert,
                    format!("expert {k}'s opinion probability must be in [0, 1], got {a}"),
                ));
            }
            if e.assets != first.assets || e.scenarios != first.scenarios {
                return Err(Error::param(
                    Param::Expert,
                    format!("expert {k} pooled other scenarios than expert 0; fit every expert on the same returns"),
                ));
            }
        }
        if !(self.penalty >= 0.0 && self.penalty.is_finite()) {
            return Err(Error::param(
                Param::DivergencePenalty,
                format!("must be ≥ 0 and finite, got {}", self.penalty),
            ));
        }
        let mut alpha: Vec<f64> = self.experts.iter().map(|(_, a)| *a).collect();
        let mut dists: Vec<&Array1<f64>> = self.experts.iter().map(|(e, _)| &e.probabilities).collect();
        let total: f64 = alpha.iter().sum();
        if total > 1.0 + 1e-9 {
            return Err(Error::param(
                Param::Expert,
                format!("the opinion probabilities sum to {total}, more than 1; lower them"),
            ));
        }
        if (total - 1.0).abs() <= 1e-8 + 1e-5 {
            alpha.iter_mut().for_each(|a| *a /= total);
        } else {
            alpha.push(1.0 - total);
            dists.push(&first.prior);
        }
        let mix = |alpha: &[f64]| -> Array1<f64> {
            dists.iter().zip(alpha).fold(Array1::zeros(first.prior.len()), |acc, (p, a)| acc + *p * *a)
        };
        if self.penalty > 0.0 {
            let consensus = mix(&alpha);
            let divergence = |p: &Array1<f64>| -> f64 {
                p.iter().zip(&consensus).filter(|(x, _)| **x > 0.0).map(|(x, c)| x * (x / c).ln()).sum()
            };
            alpha = alpha.iter().zip(&dists).map(|(a, p)| a * (-self.penalty * divergence(p)).exp()).collect();
            let s: f64 = alpha.iter().sum();
            alpha.iter_mut().for_each(|a| *a /= s);
        }
        let probabilities = if self.logarithmic {
            // ln p = Σ α_k ln p_k up to a constant; an expert with α_k = 0
            // has no say, a zero probability with α_k > 0 stays zero.
            let u: Array1<f64> = (0..first.prior.len())
                .map(|t| dists.iter().zip(&alpha).filter(|(_, a)| **a > 0.0).map(|(p, a)| a * p[t].ln()).sum())
                .collect();
            let top = u.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            normalised(u.mapv(|x| (x - top).exp()))
        } else {
            mix(&alpha)
        };
        Ok(EntropyPooled { probabilities, ..first.clone() })
    }
}

/// `z` scaled to sum to 1.
fn normalised(mut z: Array1<f64>) -> Array1<f64> {
    let s = z.sum();
    z /= s;
    z
}

impl EntropyPooled {
    /// The posterior probability of each scenario (date), summing to 1.
    pub fn probabilities(&self) -> &Array1<f64> {
        &self.probabilities
    }

    /// The scenarios (dates × assets, simple returns) the probabilities
    /// weigh.
    pub fn scenarios(&self) -> ndarray::ArrayView2<'_, f64> {
        self.scenarios.view()
    }

    /// The prior's probabilities.
    pub fn prior(&self) -> &Array1<f64> {
        &self.prior
    }

    /// $e^{-\sum_t p_t\ln p_t}$: how many equally likely scenarios the
    /// posterior is worth ($T$ for the prior).
    pub fn effective_scenarios(&self) -> f64 {
        let h: f64 = self.probabilities.iter().filter(|&&p| p > 0.0).map(|p| -p * p.ln()).sum();
        h.exp()
    }

    /// Whether every scenario has exactly the same probability (as a
    /// pooling without views from the uniform prior gives): then the
    /// moments, and the optimisers' `solve_pooled`, are the equally likely
    /// scenarios' own, computed as those are, to the bit.
    pub fn equally_likely(&self) -> bool {
        let first = self.probabilities[0];
        self.probabilities.iter().all(|&p| p == first)
    }

    /// $\sum_t p_t\ln(p_t/q_t)$.
    pub fn relative_entropy(&self) -> f64 {
        self.probabilities.iter().zip(&self.prior).filter(|(p, _)| **p > 0.0).map(|(p, q)| p * (p / q).ln()).sum()
    }

    /// The posterior's moments: the probability-weighted mean and the
    /// unbiased weighted covariance
    /// $\sum_t p_t (r_t - \mu)(r_t - \mu)^\top / (1 - \sum_t p_t^2)$; with
    /// equally likely scenarios, the sample mean and covariance as
    /// [`Moments::sample`] computes them.
    pub fn moments(&self) -> Moments {
        let p = &self.probabilities;
        let (mean, cov) = if self.equally_likely() {
            crate::linalg::sample_moments(self.scenarios.view())
        } else {
            super::weighted_moments(self.scenarios.view(), p)
        };
        Moments {
            assets: self.assets.clone(),
            mean,
            cov,
            periods_per_year: self.periods_per_year,
            annualized: false,
            method: format!("entropy pooling ({:.0} effective scenarios of {})", self.effective_scenarios(), p.len()),
            factors: None,
            spread: None,
        }
    }
}
