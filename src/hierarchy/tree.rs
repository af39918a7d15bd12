//! The asset tree: a distance between assets from their co-movement, a
//! linkage on kodama, the leaf order, cuts into clusters.

use crate::parameter::Hierarchy as Param;
use ndarray::{Array2, ArrayView2};
use plotly::Plot;

use crate::data::Returns;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::estimate::{Moments, MomentsParams};

/// How clusters are merged (kodama's implementations of fastcluster's
/// algorithms; the same merges and heights as SciPy's `linkage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linkage {
    /// Nearest pair: $d(A, B) = \min_{a \in A, b \in B} d(a, b)$.
    Single,
    /// Farthest pair: $d(A, B) = \max_{a, b} d(a, b)$.
    Complete,
    /// Mean over pairs: $d(A, B) = \frac{1}{|A||B|}\sum_{a, b} d(a, b)$.
    Average,
    /// Ward's minimum-variance merge (Lance–Williams on squared distances).
    Ward,
}

impl Linkage {
    /// The names [`from_name`](Self::from_name) accepts.
    pub const NAMES: [&'static str; 4] = ["single", "complete", "average", "ward"];

    /// The linkage called `name`.
    pub fn from_name(name: &str) -> Result<Linkage> {
        Ok(match name {
            "single" => Linkage::Single,
            "complete" => Linkage::Complete,
            "average" => Linkage::Average,
            "ward" => Linkage::Ward,
            other => {
                return Err(Error::param(
                    Param::Linkage,
                    format!("{other:?} is not a linkage; choose one of {}", Linkage::NAMES.join(", ")),
                ))
            }
        })
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        match self {
            Linkage::Single => "single",
            Linkage::Complete => "complete",
            Linkage::Average => "average",
            Linkage::Ward => "ward",
        }
    }

    fn method(self) -> kodama::Method {
        match self {
            Linkage::Single => kodama::Method::Single,
            Linkage::Complete => kodama::Method::Complete,
            Linkage::Average => kodama::Method::Average,
            Linkage::Ward => kodama::Method::Ward,
        }
    }
}

/// The distance between two assets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// $\sqrt{\tfrac12(1-\rho)}$ (López de Prado): 0 for perfectly
    /// correlated assets, 1 for perfectly anti-correlated ones.
    Pearson,
    /// $\sqrt{1-|\rho|}$: anti-correlated assets are as close as correlated ones.
    AbsolutePearson,
    /// Variation of information of the binned returns, normalised by their
    /// joint entropy: $1 - I(X;Y)/H(X,Y)$, in [0, 1]. `bins` per axis, or
    /// Hacine-Gharbi and Ravier's rule for the pair when `None`:
    /// $\operatorname{round}\big(\tfrac{1}{\sqrt2}\sqrt{1+\sqrt{1+24T/(1-\rho^2)}}\big)$.
    VariationOfInformation {
        /// Bins per axis (`None`: the rule above).
        bins: Option<usize>,
    },
}

/// One merge of the tree, numbered as SciPy numbers them: leaves are
/// `0..n`, the cluster made by merge `k` is `n + k`; `left < right`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Merge {
    /// The cluster with the smaller number.
    pub left: usize,
    /// The other cluster.
    pub right: usize,
    /// The linkage distance at which they merge.
    pub height: f64,
    /// Assets in the merged cluster.
    pub size: usize,
}

/// Settings of the tree; build with [`Hierarchy::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct HierarchyParams {
    linkage: Linkage,
    distance: Distance,
    estimator: MomentsParams,
}

impl HierarchyParams {
    /// How clusters merge (default Ward, as skfolio).
    pub fn linkage(mut self, l: Linkage) -> Self {
        self.linkage = l;
        self
    }

    /// The distance between assets (default [`Distance::Pearson`]).
    pub fn distance(mut self, d: Distance) -> Self {
        self.distance = d;
        self
    }

    /// The covariance estimator the correlations come from (default sample).
    pub fn estimator(mut self, e: MomentsParams) -> Self {
        self.estimator = e;
        self
    }

    /// The linkage set.
    pub fn linkage_method(&self) -> Linkage {
        self.linkage
    }

    /// The tree of `returns`' assets (every asset on every date).
    pub fn fit(&self, returns: &Returns) -> Result<Hierarchy> {
        let m = self.estimator.fit(returns)?;
        self.fit_with(returns, &m)
    }

    /// The tree of moments estimated elsewhere (a factor model's, a
    /// Black–Litterman posterior's, …): correlation distances only, as the
    /// variation of information needs the returns themselves.
    pub fn fit_moments(&self, m: &Moments) -> Result<Hierarchy> {
        let corr = correlation(m)?;
        let distance = match self.distance {
            Distance::Pearson => corr.mapv(|r| (0.5 * (1.0 - r)).max(0.0).sqrt()),
            Distance::AbsolutePearson => corr.mapv(|r| (1.0 - r.abs()).max(0.0).sqrt()),
            Distance::VariationOfInformation { .. } => {
                return Err(Error::param(
                    Param::Distance,
                    "the variation of information needs the returns: use .fit(&returns)",
                ))
            }
        };
        Hierarchy::from_distance(m.assets().to_vec(), corr, distance, self.linkage)
    }

    /// The tree from moments already estimated on `returns`.
    pub(crate) fn fit_with(&self, returns: &Returns, m: &Moments) -> Result<Hierarchy> {
        let n = m.n_assets();
        if n < 2 {
            return Err(Error::param(Param::Assets, format!("a tree needs at least 2 assets, got {n}")));
        }
        match self.distance {
            Distance::VariationOfInformation { bins } => {
                let corr = correlation(m)?;
                let distance = variation_of_information(returns.values(), corr.view(), bins)?;
                Hierarchy::from_distance(m.assets().to_vec(), corr, distance, self.linkage)
            }
            _ => self.fit_moments(m),
        }
    }
}

/// Pearson correlations from a covariance, naming a zero-variance asset.
fn correlation(m: &Moments) -> Result<Array2<f64>> {
    let cov = m.cov();
    let sd: Vec<f64> = cov.diag().iter().map(|v| v.max(0.0).sqrt()).collect();
    if let Some(j) = sd.iter().position(|s| !(*s > 0.0)) {
        return Err(Error::param(
            Param::Returns,
            format!("asset {} has zero variance, so it has no correlation to cluster by; drop it", m.assets()[j]),
        ));
    }
    let n = sd.len();
    let corr =
        Array2::from_shape_fn(
            (n, n),
            |(i, j)| if i == j { 1.0 } else { (cov[[i, j]] / (sd[i] * sd[j])).clamp(-1.0, 1.0) },
        );
    if let Some(((i, j), _)) = corr.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::param(
            Param::Correlation,
            format!("between {} and {} is not finite (NaN in the covariance?)", m.assets()[i], m.assets()[j]),
        ));
    }
    Ok(corr)
}

/// Normalised variation of information between every pair of columns.
fn variation_of_information(
    r: ArrayView2<'_, f64>,
    corr: ArrayView2<'_, f64>,
    bins: Option<usize>,
) -> Result<Array2<f64>> {
    let (t, n) = r.dim();
    if bins == Some(0) {
        return Err(Error::param(Param::Bins, "must be ≥ 1, got 0"));
    }
    let mut d = Array2::zeros((n, n));
    for i in 0..n {
        for j in i + 1..n {
            let rho = corr[[i, j]];
            let k = bins.unwrap_or_else(|| {
                let z = 1.0 + (1.0 + 24.0 * t as f64 / (1.0 - rho * rho).max(1e-12)).sqrt();
                ((z.sqrt() / std::f64::consts::SQRT_2).round() as usize).max(1)
            });
            let v = normalised_vi(r.column(i), r.column(j), k);
            d[[i, j]] = v;
            d[[j, i]] = v;
        }
    }
    Ok(d)
}

fn bin_of(x: f64, lo: f64, hi: f64, k: usize) -> usize {
    if hi <= lo {
        return 0;
    }
    (((x - lo) / (hi - lo) * k as f64) as usize).min(k - 1)
}

fn normalised_vi(x: ndarray::ArrayView1<'_, f64>, y: ndarray::ArrayView1<'_, f64>, k: usize) -> f64 {
    let range = |v: &ndarray::ArrayView1<'_, f64>| {
        v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &e| (a.min(e), b.max(e)))
    };
    let ((xl, xh), (yl, yh)) = (range(&x), range(&y));
    let mut joint = vec![0.0f64; k * k];
    for (&a, &b) in x.iter().zip(y.iter()) {
        joint[bin_of(a, xl, xh, k) * k + bin_of(b, yl, yh, k)] += 1.0;
    }
    let t = x.len() as f64;
    let entropy = |counts: &mut dyn Iterator<Item = f64>| -> f64 {
        counts.filter(|&c| c > 0.0).map(|c| -(c / t) * (c / t).ln()).sum()
    };
    let hx = entropy(&mut (0..k).map(|a| (0..k).map(|b| joint[a * k + b]).sum()));
    let hy = entropy(&mut (0..k).map(|b| (0..k).map(|a| joint[a * k + b]).sum()));
    let hxy = entropy(&mut joint.iter().copied());
    if hxy <= 0.0 {
        return 0.0;
    }
    let mutual = hx + hy - hxy;
    (1.0 - mutual / hxy).clamp(0.0, 1.0)
}

/// A fitted asset tree: the correlations and distances it came from, its
/// merges, and the order of its leaves (left branch first, as SciPy's
/// `leaves_list`): the quasi-diagonal order of hierarchical risk parity.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    assets: Vec<String>,
    linkage: Linkage,
    correlation: Array2<f64>,
    distance: Array2<f64>,
    merges: Vec<Merge>,
    order: Vec<usize>,
}

impl Hierarchy {
    /// Settings: Ward linkage on the Pearson distance of sample correlations.
    pub fn params() -> HierarchyParams {
        HierarchyParams { linkage: Linkage::Ward, distance: Distance::Pearson, estimator: Moments::sample() }
    }

    /// The tree of a given distance matrix (symmetric, zero diagonal,
    /// finite, non-negative).
    pub fn from_distance(
        assets: Vec<String>,
        correlation: Array2<f64>,
        distance: Array2<f64>,
        linkage: Linkage,
    ) -> Result<Hierarchy> {
        let n = assets.len();
        if n < 2 {
            return Err(Error::param(Param::Assets, format!("a tree needs at least 2 assets, got {n}")));
        }
        if distance.dim() != (n, n) || correlation.dim() != (n, n) {
            return Err(Error::Shape(format!("{n} assets but a {:?} distance matrix", distance.dim())));
        }
        let mut condensed = Vec::with_capacity(n * (n - 1) / 2);
        for i in 0..n {
            for j in i + 1..n {
                let d = distance[[i, j]];
                if !(d.is_finite() && d >= 0.0) {
                    return Err(Error::param(
                        Param::Distance,
                        format!("between {} and {} is {d}; distances must be finite and ≥ 0", assets[i], assets[j]),
                    ));
                }
                condensed.push(d);
            }
        }
        let tree = kodama::linkage(&mut condensed, n, linkage.method());
        let merges: Vec<Merge> = tree
            .steps()
            .iter()
            .map(|s| Merge { left: s.cluster1, right: s.cluster2, height: s.dissimilarity, size: s.size })
            .collect();
        let order = leaves(&merges, n);
        Ok(Hierarchy { assets, linkage, correlation, distance, merges, order })
    }

    /// Asset names.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// The linkage used.
    pub fn linkage(&self) -> Linkage {
        self.linkage
    }

    /// The correlations.
    pub fn correlation(&self) -> &Array2<f64> {
        &self.correlation
    }

    /// The distances the tree was built on.
    pub fn distances(&self) -> &Array2<f64> {
        &self.distance
    }

    /// The merges, lowest first.
    pub fn merges(&self) -> &[Merge] {
        &self.merges
    }

    /// Asset indices in leaf order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Asset names in leaf order.
    pub fn leaves(&self) -> Vec<&str> {
        self.order.iter().map(|&i| self.assets[i].as_str()).collect()
    }

    /// The assets under cluster `node` (a leaf `< n` or `n + merge`), in leaf order.
    pub fn members(&self, node: usize) -> Vec<usize> {
        let n = self.assets.len();
        if node < n {
            return vec![node];
        }
        let m = self.merges[node - n];
        let mut v = self.members(m.left);
        v.extend(self.members(m.right));
        v
    }

    /// The two children of cluster `node` (`None` for a leaf).
    pub fn children(&self, node: usize) -> Option<(usize, usize)> {
        let n = self.assets.len();
        (node >= n).then(|| (self.merges[node - n].left, self.merges[node - n].right))
    }

    /// The root cluster.
    pub fn root(&self) -> usize {
        2 * self.assets.len() - 2
    }

    /// The tree cut into `k` clusters (the last `k − 1` merges undone):
    /// each asset's cluster, numbered by first appearance in asset order.
    pub fn clusters(&self, k: usize) -> Result<Vec<usize>> {
        let n = self.assets.len();
        if k == 0 || k > n {
            return Err(Error::param(Param::Clusters, format!("must be in [1, {n}] for {n} assets, got {k}")));
        }
        let mut parent: Vec<usize> = (0..2 * n - 1).collect();
        for (s, m) in self.merges.iter().enumerate().take(n - k) {
            parent[m.left] = n + s;
            parent[m.right] = n + s;
        }
        let top = |mut x: usize| {
            while parent[x] != x {
                x = parent[x];
            }
            x
        };
        let mut labels = Vec::with_capacity(n);
        let mut seen: Vec<usize> = Vec::new();
        for i in 0..n {
            let r = top(i);
            let label = seen.iter().position(|&x| x == r).unwrap_or_else(|| {
                seen.push(r);
                seen.len() - 1
            });
            labels.push(label);
        }
        Ok(labels)
    }

    /// The cluster count by the two-order difference of the within-cluster
    /// dispersion (Yue, Wang and Wei 2009), over 1 ..= max(8, √n) clusters:
    /// $\arg\max_k W_{k+2} + W_k - 2W_{k+1}$, with $W_k$ the sum over the
    /// $k$ clusters of their mean pairwise distance (as skfolio computes it).
    pub fn optimal_clusters(&self) -> usize {
        let n = self.assets.len();
        if n <= 2 {
            return n;
        }
        let most = n.min(8usize.max((n as f64).sqrt().round() as usize));
        let w: Vec<f64> = (1..=most)
            .map(|k| {
                let labels = self.clusters(k).expect("k in range");
                (0..k)
                    .map(|c| {
                        let idx: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
                        let pairs = idx.len() * (idx.len().saturating_sub(1)) / 2;
                        if pairs == 0 {
                            return 0.0;
                        }
                        let mut s = 0.0;
                        for (a, &i) in idx.iter().enumerate() {
                            for &j in &idx[a + 1..] {
                                s += self.distance[[i, j]];
                            }
                        }
                        s / pairs as f64
                    })
                    .sum()
            })
            .collect();
        let gaps: Vec<f64> = (0..w.len().saturating_sub(2)).map(|k| w[k + 2] + w[k] - 2.0 * w[k + 1]).collect();
        let best = gaps.iter().enumerate().fold((0, f64::NEG_INFINITY), |b, (k, &g)| if g > b.1 { (k, g) } else { b });
        best.0 + 2
    }

    /// The dendrogram, leaves in tree order.
    pub fn dendrogram(&self) -> Plot {
        use plotly::common::{Line, Mode};
        use plotly::{Layout, Scatter};
        let n = self.assets.len();
        let pos_of_leaf: Vec<usize> = {
            let mut p = vec![0; n];
            for (k, &i) in self.order.iter().enumerate() {
                p[i] = k;
            }
            p
        };
        // x position and height of every node.
        let mut x = vec![0.0; 2 * n - 1];
        let mut h = vec![0.0; 2 * n - 1];
        for i in 0..n {
            x[i] = pos_of_leaf[i] as f64;
        }
        let mut plot = Plot::new();
        for (s, m) in self.merges.iter().enumerate() {
            let node = n + s;
            x[node] = 0.5 * (x[m.left] + x[m.right]);
            h[node] = m.height;
            let xs = vec![x[m.left], x[m.left], x[m.right], x[m.right]];
            let ys = vec![h[m.left], m.height, m.height, h[m.right]];
            plot.add_trace(
                Scatter::new(xs, ys)
                    .mode(Mode::Lines)
                    .line(Line::new().color("#1f77b4"))
                    .show_legend(false)
                    .hover_info(plotly::common::HoverInfo::Skip),
            );
        }
        let ticks: Vec<f64> = (0..n).map(|k| k as f64).collect();
        let labels: Vec<String> = self.leaves().iter().map(|s| s.to_string()).collect();
        plot.set_layout(
            Layout::new()
                .title(format!("Dendrogram ({} linkage)", self.linkage.name()))
                .x_axis(plotly::layout::Axis::new().tick_values(ticks).tick_text(labels).tick_angle(-45.0))
                .y_axis(plotly::layout::Axis::new().title("distance")),
        );
        plot
    }

    /// The correlation matrix as a heatmap, assets in leaf order (the
    /// clusters show as blocks on the diagonal).
    pub fn heatmap(&self) -> Plot {
        let names: Vec<String> = self.leaves().iter().map(|s| s.to_string()).collect();
        let ordered = self.correlation.select(ndarray::Axis(0), &self.order).select(ndarray::Axis(1), &self.order);
        crate::plot::heatmap("Correlations in leaf order", &names, ordered.view())
    }

    /// The merges as a table.
    pub fn table(&self) -> Table {
        let name = |c: usize| {
            if c < self.assets.len() {
                self.assets[c].clone()
            } else {
                format!("cluster {c}")
            }
        };
        let mut t = Table::new(["cluster", "merges", "with", "distance", "assets"]).caption(format!(
            "{} linkage; leaves in order: {}",
            self.linkage.name(),
            self.leaves().join(", ")
        ));
        for (s, m) in self.merges.iter().enumerate() {
            t.push(vec![
                Cell::Int((self.assets.len() + s) as i64),
                Cell::Text(name(m.left)),
                Cell::Text(name(m.right)),
                Cell::Num(m.height, 4),
                Cell::Int(m.size as i64),
            ]);
        }
        t
    }
}

crate::shows_as_table!(Hierarchy);

/// Leaves under the root, left branch first.
fn leaves(merges: &[Merge], n: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(n);
    let mut stack = vec![2 * n - 2];
    while let Some(node) = stack.pop() {
        if node < n {
            out.push(node);
        } else {
            let m = merges[node - n];
            stack.push(m.right);
            stack.push(m.left);
        }
    }
    out
}
