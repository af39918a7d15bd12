//! Hierarchical risk parity, hierarchical equal risk contribution and nested
//! clustered optimisation on an asset tree.

use crate::parameter::Hierarchy as Param;
use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1};

use super::tree::{Distance, Hierarchy, Linkage};
use crate::backtest::{Strategy, Window};
use crate::data::Returns;
use crate::error::{Error, Result};
use crate::estimate::{Moments, MomentsParams};
use crate::optimize::problem::Program;
use crate::optimize::{Allocation, Optimizer, RiskMeasure};

#[derive(Debug, Clone)]
enum Method {
    Hrp,
    Herc,
    Nco { inner: Box<Optimizer>, outer: Box<Optimizer> },
}

/// An allocation on an asset tree (see the [module docs](super)): built
/// from its method — [`hrp`](Self::hrp), [`herc`](Self::herc),
/// [`nco`](Self::nco) — with the tree, the risk measure, the covariance
/// estimator, the cluster count and weight bounds as settings; solved on a
/// returns panel.
#[derive(Debug, Clone)]
pub struct Hierarchical {
    method: Method,
    tree: super::tree::HierarchyParams,
    measure: RiskMeasure,
    estimator: MomentsParams,
    clusters: Option<usize>,
    bounds: (f64, f64),
    asset_bounds: Vec<(String, f64, f64)>,
}

impl Hierarchical {
    fn with(method: Method) -> Self {
        Hierarchical {
            method,
            tree: Hierarchy::params(),
            measure: RiskMeasure::Variance,
            estimator: Moments::sample(),
            clusters: None,
            bounds: (0.0, 1.0),
            asset_bounds: Vec::new(),
        }
    }

    /// Hierarchical risk parity (López de Prado 2016): assets in the tree's
    /// leaf order, split in halves recursively; each half gets a share of
    /// its parent's weight inversely proportional to its risk, the risk of a
    /// half being that of its inverse-risk portfolio.
    pub fn hrp() -> Self {
        Hierarchical::with(Method::Hrp)
    }

    /// Hierarchical equal risk contribution (Raffinot 2018): the tree cut
    /// into clusters; inverse-risk weights inside each cluster; down the
    /// tree above the cut, each branch gets a share inversely proportional
    /// to the summed risk of the clusters under it.
    pub fn herc() -> Self {
        Hierarchical::with(Method::Herc)
    }

    /// Nested clustered optimisation (López de Prado 2019): `inner` solved
    /// on each cluster's moments (or its return scenarios, for a scenario
    /// objective), then `outer` on the clusters as assets (means
    /// $W^\top\mu$, covariance $W^\top\Sigma W$ of the inner portfolios
    /// $W$, or their return series).
    pub fn nco(inner: Optimizer, outer: Optimizer) -> Self {
        Hierarchical::with(Method::Nco { inner: Box::new(inner), outer: Box::new(outer) })
    }

    /// The linkage of the tree (default Ward).
    pub fn linkage(mut self, l: Linkage) -> Self {
        self.tree = self.tree.linkage(l);
        self
    }

    /// The distance between assets (default [`Distance::Pearson`]).
    pub fn distance(mut self, d: Distance) -> Self {
        self.tree = self.tree.distance(d);
        self
    }

    /// The risk of a (sub-)portfolio for HRP and HERC (default variance):
    /// variance and standard deviation from the estimated covariance, every
    /// other measure on the window's return scenarios.
    pub fn measure(mut self, m: RiskMeasure) -> Self {
        self.measure = m;
        self
    }

    /// The covariance (and mean) estimator (default sample).
    pub fn estimator(mut self, e: MomentsParams) -> Self {
        self.estimator = e;
        self
    }

    /// The number of clusters for HERC and NCO (default: the two-order
    /// difference gap rule, [`Hierarchy::optimal_clusters`]).
    pub fn clusters(mut self, k: usize) -> Self {
        self.clusters = Some(k);
        self
    }

    /// Bounds on every weight (default 0 and 1), for HRP and HERC.
    pub fn bounds(mut self, min: f64, max: f64) -> Self {
        self.bounds = (min, max);
        self
    }

    /// Bounds on one asset's weight, overriding [`bounds`](Self::bounds).
    pub fn bound(mut self, asset: &str, min: f64, max: f64) -> Self {
        self.asset_bounds.push((asset.to_string(), min, max));
        self
    }

    /// The method's name.
    pub fn label(&self) -> String {
        match &self.method {
            Method::Hrp => format!("HRP ({} linkage)", self.tree.linkage_method().name()),
            Method::Herc => format!("HERC ({} linkage)", self.tree.linkage_method().name()),
            Method::Nco { .. } => format!("NCO ({} linkage)", self.tree.linkage_method().name()),
        }
    }

    /// The tree these settings build on `returns`.
    pub fn tree(&self, returns: &Returns) -> Result<Hierarchy> {
        self.tree.clone().estimator(self.estimator.clone()).fit(returns)
    }

    /// The allocation on `returns` (every asset on every date); moments in
    /// the allocation are annualised.
    pub fn solve(&self, returns: &Returns) -> Result<Allocation> {
        let start = Instant::now();
        crate::data::require_complete(returns.values(), returns.dates(), returns.assets(), "hierarchical allocation")?;
        let m = self.estimator.fit(returns)?;
        let tree = self.tree.clone().estimator(self.estimator.clone()).fit_with(returns, &m)?;
        let risk = Risk { measure: self.measure, cov: m.cov(), scenarios: returns.values(), probabilities: None };
        self.allocate(&m, &tree, &risk, Some(returns), start)
    }

    /// HRP or HERC on the scenarios of an entropy pooling: the tree from
    /// the posterior's correlations (a correlation distance), variance from
    /// the posterior covariance and every other measure on the scenarios
    /// weighed by their probabilities (the measures
    /// [`Optimizer::solve_pooled`] takes). The covariance estimator set
    /// here is not used; NCO, the variation of information and measures
    /// that do not weigh scenarios are typed errors. Equally likely
    /// scenarios give [`solve`](Self::solve)'s allocation with the sample
    /// estimator, to the bit.
    pub fn solve_pooled(&self, pooled: &crate::estimate::EntropyPooled) -> Result<Allocation> {
        let start = Instant::now();
        let m = pooled.moments();
        let tree = self.tree.fit_moments(&m)?;
        // A measure that does not weigh scenarios says so at the first risk;
        // equally likely scenarios are measured as solve measures them.
        let probabilities = (!pooled.equally_likely()).then(|| pooled.probabilities().view());
        let risk = Risk { measure: self.measure, cov: m.cov(), scenarios: pooled.scenarios(), probabilities };
        self.allocate(&m, &tree, &risk, None, start)
    }

    /// The weights on `tree` by this method, as an allocation on the
    /// moments `m` annualised.
    fn allocate(
        &self,
        m: &Moments,
        tree: &Hierarchy,
        risk: &Risk<'_>,
        returns: Option<&Returns>,
        start: Instant,
    ) -> Result<Allocation> {
        let annual = m.annualized();
        let n = m.n_assets();
        let (lo, hi) = self.resolved_bounds(m.assets())?;
        let weights = match (&self.method, returns) {
            (Method::Hrp, _) => hrp(tree, risk, &lo, &hi, m.assets())?,
            (Method::Herc, _) => {
                let w = herc(tree, risk, self.cluster_count(tree), m.assets())?;
                within_bounds(w, &lo, &hi)?
            }
            (Method::Nco { inner, outer }, Some(returns)) => {
                nco(tree, &annual, returns, self.cluster_count(tree), inner, outer)?
            }
            (Method::Nco { .. }, None) => return Err(Error::param(
                Param::Inner,
                "NCO solves its clusters on returns; on pooled scenarios use HRP or HERC, or Optimizer::solve_pooled",
            )),
        };
        debug_assert_eq!(weights.len(), n);
        Ok(Allocation::new(
            self.label(),
            &annual,
            weights,
            0.0,
            None,
            crate::optimize::Provenance::Hierarchical { method: self.label(), seconds: start.elapsed().as_secs_f64() },
        ))
    }

    /// The cluster count set, or the gap rule's; [`Hierarchy::clusters`]
    /// checks it.
    fn cluster_count(&self, tree: &Hierarchy) -> usize {
        self.clusters.unwrap_or_else(|| tree.optimal_clusters())
    }

    fn resolved_bounds(&self, assets: &[String]) -> Result<(Array1<f64>, Array1<f64>)> {
        let n = assets.len();
        let valid = |lo: f64, hi: f64| lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo <= hi;
        let (a, b) = self.bounds;
        if !valid(a, b) {
            return Err(Error::param(
                Param::Bounds,
                format!("(every asset's) need 0 ≤ min ≤ max and both finite, got min {a} and max {b}"),
            ));
        }
        let mut lo = Array1::from_elem(n, a);
        let mut hi = Array1::from_elem(n, b);
        for (name, a, b) in &self.asset_bounds {
            let i = assets.iter().position(|x| x == name).ok_or_else(|| {
                Error::param(Param::Bounds, format!("{name:?} is not one of the assets ({})", assets.join(", ")))
            })?;
            lo[i] = *a;
            hi[i] = *b;
        }
        for i in 0..n {
            if !valid(lo[i], hi[i]) {
                return Err(Error::param(
                    Param::Bounds,
                    format!(
                        "of {}: need 0 ≤ min ≤ max and both finite, got min {} and max {}",
                        assets[i], lo[i], hi[i]
                    ),
                ));
            }
        }
        // Sums rounded to what matters: 0.4, not 0.4000000000000001.
        let (sl, sh) = (crate::plot::round6(lo.sum()), crate::plot::round6(hi.sum()));
        if sl > 1.0 + 1e-12 || sh < 1.0 - 1e-12 {
            return Err(Error::Infeasible {
                constraint: "bounds".into(),
                message: format!("the minimum weights sum to {sl} and the maximum weights to {sh}; fully invested weights need min sum ≤ 1 ≤ max sum"),
            });
        }
        Ok((lo, hi))
    }
}

/// The risk of a portfolio by the chosen measure.
struct Risk<'a> {
    measure: RiskMeasure,
    cov: &'a Array2<f64>,
    scenarios: ndarray::ArrayView2<'a, f64>,
    /// The scenarios' probabilities; equally likely when `None`.
    probabilities: Option<ndarray::ArrayView1<'a, f64>>,
}

impl Risk<'_> {
    /// The risk of weights `w` on assets `idx` (the other weights zero).
    fn of(&self, idx: &[usize], w: &[f64]) -> Result<f64> {
        match self.measure {
            RiskMeasure::Variance | RiskMeasure::StandardDeviation => {
                let mut v = 0.0;
                for (a, &i) in idx.iter().enumerate() {
                    for (b, &j) in idx.iter().enumerate() {
                        v += w[a] * w[b] * self.cov[[i, j]];
                    }
                }
                Ok(if self.measure == RiskMeasure::Variance { v } else { v.max(0.0).sqrt() })
            }
            m => {
                let r: Vec<f64> = self
                    .scenarios
                    .rows()
                    .into_iter()
                    .map(|row| idx.iter().zip(w).map(|(&i, wi)| row[i] * wi).sum())
                    .collect();
                match self.probabilities {
                    Some(p) => m.of_weighted(&r, &p.to_vec()),
                    None => Ok(m.of(&r)),
                }
            }
        }
    }

    /// Each asset's own risk, naming an asset without any.
    fn unitary(&self, assets: &[String]) -> Result<Vec<f64>> {
        (0..assets.len())
            .map(|i| {
                let r = self.of(&[i], &[1.0])?;
                if r.is_finite() && r > 0.0 {
                    Ok(r)
                } else {
                    Err(Error::param(
                        Param::Returns,
                        format!(
                            "asset {} has risk {r} by this measure; risk parity needs positive risk: drop it",
                            assets[i]
                        ),
                    ))
                }
            })
            .collect()
    }

    /// The risk of the inverse-risk portfolio of `idx`, and its weights.
    fn inverse_risk(&self, idx: &[usize], unit: &[f64]) -> Result<(f64, Vec<f64>)> {
        let inv: Vec<f64> = idx.iter().map(|&i| 1.0 / unit[i]).collect();
        let total: f64 = inv.iter().sum();
        let w: Vec<f64> = inv.iter().map(|v| v / total).collect();
        Ok((self.of(idx, &w)?, w))
    }
}

/// Recursive bisection of the leaf order, with skfolio's (and
/// Riskfolio-Lib's) treatment of bounds: each split factor is clipped so
/// that a half's total stays within the sums of its members' bounds.
fn hrp(
    tree: &Hierarchy,
    risk: &Risk<'_>,
    lo: &Array1<f64>,
    hi: &Array1<f64>,
    assets: &[String],
) -> Result<Array1<f64>> {
    let unit = risk.unitary(assets)?;
    let mut w = Array1::<f64>::ones(assets.len());
    let mut items: Vec<Vec<usize>> = vec![tree.order().to_vec()];
    while !items.is_empty() {
        let mut next = Vec::new();
        for item in items.iter().filter(|i| i.len() > 1) {
            let (left, right) = item.split_at(item.len() / 2);
            let (rl, rr) = (risk.inverse_risk(left, &unit)?.0, risk.inverse_risk(right, &unit)?.0);
            if !(rl.is_finite() && rr.is_finite() && rl + rr > 0.0) {
                return Err(Error::param(Param::Returns, format!("clusters with risks {rl} and {rr} cannot be split")));
            }
            let parent = w[left[0]];
            let sum = |idx: &[usize], b: &Array1<f64>| idx.iter().map(|&i| b[i]).sum::<f64>();
            let mut alpha = 1.0 - rl / (rl + rr);
            alpha = (sum(left, hi) / parent).min((sum(left, lo) / parent).max(alpha));
            alpha = 1.0 - (sum(right, hi) / parent).min((sum(right, lo) / parent).max(1.0 - alpha));
            for &i in left {
                w[i] *= alpha;
            }
            for &i in right {
                w[i] *= 1.0 - alpha;
            }
            next.push(left.to_vec());
            next.push(right.to_vec());
        }
        items = next;
    }
    Ok(w)
}

fn herc(tree: &Hierarchy, risk: &Risk<'_>, k: usize, assets: &[String]) -> Result<Array1<f64>> {
    let unit = risk.unitary(assets)?;
    let labels = tree.clusters(k)?;
    let mut w = Array1::<f64>::zeros(assets.len());
    let mut cluster_risk = vec![0.0; k];
    for (c, cr) in cluster_risk.iter_mut().enumerate() {
        let idx: Vec<usize> = (0..assets.len()).filter(|&i| labels[i] == c).collect();
        let (r, inner) = risk.inverse_risk(&idx, &unit)?;
        *cr = r;
        for (&i, v) in idx.iter().zip(inner) {
            w[i] = v;
        }
    }
    let mut share = vec![1.0; k];
    let distinct = |node: usize| {
        let mut l: Vec<usize> = tree.members(node).into_iter().map(|i| labels[i]).collect();
        l.sort_unstable();
        l.dedup();
        l
    };
    let mut stack = vec![tree.root()];
    while let Some(node) = stack.pop() {
        if distinct(node).len() <= 1 {
            continue;
        }
        // A node holding two clusters holds two assets or more: not a leaf.
        let (a, b) = tree
            .children(node)
            .ok_or_else(|| Error::Shape(format!("cluster node {node} holds several clusters but has no children")))?;
        let (la, lb) = (distinct(a), distinct(b));
        let (ra, rb): (f64, f64) =
            (la.iter().map(|&c| cluster_risk[c]).sum(), lb.iter().map(|&c| cluster_risk[c]).sum());
        let alpha = 1.0 - ra / (ra + rb);
        for &c in &la {
            share[c] *= alpha;
        }
        for &c in &lb {
            share[c] *= 1.0 - alpha;
        }
        stack.push(a);
        stack.push(b);
    }
    for i in 0..assets.len() {
        w[i] *= share[labels[i]];
    }
    Ok(w)
}

/// The weights closest to `w` in relative terms, $\min \sum_i (x_i/w_i - 1)^2$
/// subject to the bounds and $\sum_i x_i = 1$ (on Clarabel); `w` itself when
/// it is within them already.
fn within_bounds(w: Array1<f64>, lo: &Array1<f64>, hi: &Array1<f64>) -> Result<Array1<f64>> {
    let eps = 1e-12;
    if w.iter().zip(lo.iter().zip(hi)).all(|(x, (a, b))| *x >= a - eps && *x <= b + eps) {
        return Ok(w);
    }
    let (mut p, x) = Program::with_weights(w.len());
    for (i, xi) in x.vars().enumerate() {
        // (x_i/w_i − 1)² = x_i²/w_i² − 2 x_i/w_i + 1.
        let s = 1.0 / w[i];
        p.quad(xi, xi, 2.0 * s * s);
        p.minimise(xi * (-2.0 * s));
        p.le(xi, hi[i]);
        p.ge(xi, lo[i]);
    }
    p.eq(x.sum(), 1.0);
    let sol = p.solve()?;
    Ok(Array1::from(x.values(&sol.x)))
}

fn nco(
    tree: &Hierarchy,
    m: &Moments,
    returns: &Returns,
    k: usize,
    inner: &Optimizer,
    outer: &Optimizer,
) -> Result<Array1<f64>> {
    let n = m.n_assets();
    let labels = tree.clusters(k)?;
    let mut within = Array2::<f64>::zeros((n, k));
    for c in 0..k {
        let idx: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
        if idx.len() == 1 {
            within[[idx[0], c]] = 1.0;
            continue;
        }
        let sub = m.subset(&idx);
        let a = solve_on(inner, &sub, || returns.select(sub.assets()))
            .map_err(|e| Error::param(Param::Inner, format!("cluster {} ({}): {e}", c + 1, sub.assets().join(", "))))?;
        for (&i, &v) in idx.iter().zip(a.weights().iter()) {
            within[[i, c]] = v;
        }
    }
    let names: Vec<String> = (1..=k).map(|c| format!("cluster {c}")).collect();
    let reduced = m.reduced(names.clone(), within.t().dot(m.mean()), within.t().dot(m.cov()).dot(&within));
    // The clusters' portfolios as assets: their return series for
    // scenario objectives, their moments otherwise.
    let a = solve_on(outer, &reduced, || {
        Returns::new(returns.dates().to_vec(), names.clone(), returns.values().dot(&within), returns.kind())
    })
    .map_err(|e| Error::param(Param::Outer, e.to_string()))?;
    Ok(within.dot(a.weights()))
}

/// `o` solved on the moments, or on the scenarios `scenarios()` builds when
/// its objective reads return scenarios (CVaR, drawdowns, …).
fn solve_on(o: &Optimizer, m: &Moments, scenarios: impl FnOnce() -> Result<Returns>) -> Result<Allocation> {
    if o.objective().needs_scenarios() {
        o.solve_scenarios(&scenarios()?)
    } else {
        o.solve(m)
    }
}

/// A hierarchical allocation re-solved on every rebalance on the window's
/// returns.
#[derive(Debug, Clone)]
pub struct HierarchicalStrategy {
    name: String,
    method: Hierarchical,
}

impl HierarchicalStrategy {
    /// A named strategy.
    pub fn new(name: &str, method: Hierarchical) -> Self {
        HierarchicalStrategy { name: name.to_string(), method }
    }
}

impl Strategy for HierarchicalStrategy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        // A tree needs two leaves; a universe of one asset holds it whole.
        if window.assets().len() == 1 {
            return Ok(Some(Array1::ones(1)));
        }
        Ok(Some(self.method.solve(&window.to_returns()?)?.weights().clone()))
    }
}
