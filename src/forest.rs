//! linfa's random forest (linfa-ensemble over linfa-trees), with what the
//! selection and ranking stages need on top: a seeded fit split over the
//! cores, the vote-weighted expected class as a continuous score, and
//! per-tree impurity importance mapped back to the original features.

use crate::parameter::Forest as Param;
use linfa::prelude::{Fit, Predict};
use linfa::DatasetBase;
use linfa_ensemble::{EnsembleLearner, EnsembleLearnerParams};
use linfa_trees::{DecisionTree, TreeNode};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::error::{Error, Result};

/// Forest settings shared by [`Selector`](crate::features::Selector) and the
/// ranking stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ForestParams {
    pub trees: usize,
    pub max_depth: usize,
    pub min_leaf: f32,
    /// Share of the features each tree sees (drawn with replacement by linfa).
    pub feature_fraction: f64,
    /// Bootstrap sample size as a share of the training rows.
    pub sample_fraction: f64,
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams { trees: 100, max_depth: 6, min_leaf: 20.0, feature_fraction: 0.5, sample_fraction: 0.5, seed: 42 }
    }
}

impl ForestParams {
    pub fn check(&self) -> Result<()> {
        if self.trees == 0 {
            return Err(Error::param(Param::Trees, "must be ≥ 1, got 0"));
        }
        if self.max_depth == 0 {
            return Err(Error::param(Param::MaxDepth, "must be ≥ 1, got 0"));
        }
        for (name, v) in
            [(Param::FeatureFraction, self.feature_fraction), (Param::SampleFraction, self.sample_fraction)]
        {
            if !(v > 0.0 && v <= 1.0) {
                return Err(Error::param(name, format!("must be in (0, 1], got {v}")));
            }
        }
        if !(self.min_leaf >= 1.0) {
            return Err(Error::param(Param::MinLeaf, format!("must be ≥ 1, got {}", self.min_leaf)));
        }
        Ok(())
    }

    /// Fits on rows `x` with class labels `y` (0..k). The trees are grown in
    /// two seeded halves on two threads (seeds `seed` and `seed + 1`), and
    /// linfa-trees is patched to count classes in an ordered map
    /// (vendor/README.md), so the same seed gives the same bits in any
    /// process on any machine with the same core count.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: &[usize]) -> Result<Forest> {
        self.check()?;
        if x.nrows() != y.len() || x.nrows() == 0 {
            return Err(Error::Shape(format!("{} feature rows for {} labels", x.nrows(), y.len())));
        }
        if let Some((r, _)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::param(Param::Features, format!("row {} has a non-finite value", r.0)));
        }
        let halves: Vec<(u64, usize)> =
            [(self.seed, self.trees.div_ceil(2)), (self.seed.wrapping_add(1), self.trees / 2)]
                .into_iter()
                .filter(|h| h.1 > 0)
                .collect();
        let data = DatasetBase::new(x.to_owned(), Array1::from(y.to_vec()));
        let parts = crate::parallel::map("random forest", halves, |(seed, size)| {
            let tree = DecisionTree::params().max_depth(Some(self.max_depth)).min_weight_leaf(self.min_leaf);
            EnsembleLearnerParams::new_fixed_rng(tree, StdRng::seed_from_u64(seed))
                .ensemble_size(size)
                .bootstrap_proportion(self.sample_fraction)
                .feature_proportion(self.feature_fraction)
                .fit(&data)
                .map_err(|e| Error::param(Param::Forest, e.to_string()))
        })?;
        let mut model = EnsembleLearner { models: Vec::new(), model_features: Vec::new() };
        for p in parts {
            model.models.extend(p.models);
            model.model_features.extend(p.model_features);
        }
        Ok(Forest { model, n_features: x.ncols() })
    }
}

/// The forest's builder setters, for a settings type with a `forest:
/// ForestParams` field (the selector and the ranker share them).
macro_rules! forest_setters {
    () => {
        /// Number of trees.
        pub fn trees(mut self, n: usize) -> Self {
            self.forest.trees = n;
            self
        }
        /// Maximum tree depth.
        pub fn max_depth(mut self, d: usize) -> Self {
            self.forest.max_depth = d;
            self
        }
        /// Minimum rows per leaf.
        pub fn min_leaf(mut self, rows: f32) -> Self {
            self.forest.min_leaf = rows;
            self
        }
        /// Share of the features each tree sees (drawn with replacement).
        pub fn feature_fraction(mut self, f: f64) -> Self {
            self.forest.feature_fraction = f;
            self
        }
        /// Bootstrap size per tree as a share of the training rows.
        pub fn sample_fraction(mut self, f: f64) -> Self {
            self.forest.sample_fraction = f;
            self
        }
        /// Seed of the bootstraps (and of any shuffles).
        pub fn seed(mut self, seed: u64) -> Self {
            self.forest.seed = seed;
            self
        }
    };
}
pub(crate) use forest_setters;

/// A fitted forest.
pub(crate) struct Forest {
    model: EnsembleLearner<DecisionTree<f64, usize>>,
    n_features: usize,
}

impl std::fmt::Debug for Forest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Forest({} trees, {} features)", self.n_trees(), self.n_features)
    }
}

impl Forest {
    pub fn n_trees(&self) -> usize {
        self.model.models.len()
    }

    /// Class predicted by tree `k` for every row.
    pub fn tree_predict(&self, k: usize, x: ArrayView2<'_, f64>) -> Array1<usize> {
        let sub = x.select(Axis(1), &self.model.model_features[k]);
        self.model.models[k].predict(&sub)
    }

    /// Per-tree predictions as a `[tree, row]` matrix of classes (as f64).
    pub fn votes(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut out = Array2::zeros((self.n_trees(), x.nrows()));
        for k in 0..self.n_trees() {
            out.row_mut(k).assign(&self.tree_predict(k, x).mapv(|c| c as f64));
        }
        out
    }

    /// Whether tree `k` splits on original feature `f` anywhere.
    pub fn tree_uses(&self, k: usize, f: usize) -> bool {
        let sub = &self.model.model_features[k];
        self.model.models[k].features().iter().any(|&j| sub[j] == f)
    }

    /// Impurity importance per tree, mapped to the original features:
    /// $\sum_{\text{nodes splitting on } f} \frac{n_\text{node}}{n}\,\Delta_\text{node}$,
    /// normalised to sum to 1 within each tree (scikit-learn's mean
    /// decrease in impurity), where $n_\text{node}$ counts the rows of `x`
    /// (the training rows) that reach the node. linfa's own
    /// `feature_importance` averages the unweighted node decreases, which
    /// rewards deep splits on a handful of rows: on planted-signal data it
    /// ranks noise features above the signal. A feature drawn twice into a
    /// tree's subset adds up; one not drawn counts 0. Returns `[tree, feature]`.
    pub fn impurity_by_tree(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut out = Array2::zeros((self.n_trees(), self.n_features));
        let n = x.nrows().max(1) as f64;
        for (k, tree) in self.model.models.iter().enumerate() {
            let sub = &self.model.model_features[k];
            let xs = x.select(Axis(1), sub);
            let mut acc = vec![0.0; sub.len()];
            walk(tree.root_node(), (0..x.nrows()).collect(), &xs, n, &mut acc);
            let total: f64 = acc.iter().sum();
            if total > 0.0 {
                for (j, v) in acc.into_iter().enumerate() {
                    out[[k, sub[j]]] += v / total;
                }
            }
        }
        out
    }
}

fn walk(node: &TreeNode<f64, usize>, rows: Vec<usize>, x: &Array2<f64>, n: f64, acc: &mut [f64]) {
    if node.is_leaf() || rows.is_empty() {
        return;
    }
    let (f, split, decrease) = node.split();
    acc[f] += rows.len() as f64 / n * decrease;
    let (left, right): (Vec<usize>, Vec<usize>) = rows.into_iter().partition(|&r| x[[r, f]] < split);
    let children = node.children();
    if let Some(Some(l)) = children.first() {
        walk(l, left, x, n, acc);
    }
    if let Some(Some(r)) = children.get(1) {
        walk(r, right, x, n, acc);
    }
}

/// Standardises every column of `train` with its own mean and standard
/// deviation and applies the same map to `other` (later rows). linfa's trees
/// treat neighbouring values closer than 1e-5 as ties, so raw daily returns
/// (≈1e-3 apart) would barely split: columns become z-scores × 1000.
pub(crate) fn standardize(train: &mut Array2<f64>, other: &mut Array2<f64>) {
    let scaler = Scaler::fit(train.view());
    scaler.apply(train);
    scaler.apply(other);
}

/// The per-column map of [`standardize`], kept to apply to later rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scaler {
    /// (mean, factor) per column.
    columns: Vec<(f64, f64)>,
}

impl Scaler {
    /// Each column's mean and 1000 / standard deviation (1 for a constant column).
    pub(crate) fn fit(train: ndarray::ArrayView2<'_, f64>) -> Scaler {
        let columns = train
            .columns()
            .into_iter()
            .map(|col| {
                let m = col.mean().unwrap_or(0.0);
                let sd = col.std(0.0);
                (m, if sd > 0.0 { 1000.0 / sd } else { 1.0 })
            })
            .collect();
        Scaler { columns }
    }

    /// Maps `x`'s columns in place.
    pub(crate) fn apply(&self, x: &mut Array2<f64>) {
        for (k, &(m, s)) in self.columns.iter().enumerate() {
            x.column_mut(k).mapv_inplace(|v| (v - m) * s);
        }
    }
}

/// The vote-weighted expected class $\frac1K\sum_k \hat c_k(x)$ from a
/// `[tree, row]` vote matrix: a continuous score where linfa's own
/// `predict` returns the majority class only.
pub(crate) fn score_of(votes: &Array2<f64>) -> Array1<f64> {
    votes.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(votes.ncols()))
}
