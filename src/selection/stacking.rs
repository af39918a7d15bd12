//! Stacking: an outer optimiser over the out-of-sample returns of several
//! inner allocations.
//!
//! Each inner allocation $k$ is cross-validated on the data (the
//! [`CrossValidation`](super::CrossValidation) of this module, by default
//! five consecutive folds each tested once, trading daily back to its
//! weights, without costs): on every split it decides on the training rows
//! and holds its weights $w_k$ through the test rows, so its return on a
//! test row, $r_{k,t} = w_k^\top R_t$, comes from weights that never saw
//! row $t$. When the splitter makes several paths, the path whose Sharpe
//! ratio sits at a quantile (the median by default) is taken. The outer
//! optimiser allocates over these $K$ series as if they were assets, with
//! weights $\alpha$, and every inner allocation then decides once on all
//! the data, $W = [w_1 \dots w_K]$. The stack holds
//!
//! $$ w = W \alpha. $$
//!
//! Since the series are fixed-mix returns, the outer optimiser sees what
//! the stack itself would have earned: $R_t^\top W \alpha = \sum_k
//! \alpha_k r_{k,t}$. The outer step never sees an inner allocation's
//! in-sample returns (skfolio's `StackingOptimization`; the tests match
//! its weights).
//!
//! In the walk-forward, [`StackingParams::strategy`] does all of this on
//! each decision's window. Inner allocations decide as if from cash; the
//! engine charges the stack's own trades.

use crate::parameter::Selection as Param;
use ndarray::{Array1, Array2, ArrayView1};

use super::{Candidate, CombinatorialPurged, CrossValidationParams};
use crate::backtest::{Backtest, Schedule, Strategy, Window};
use crate::data::{Panel, ReturnKind, Returns};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::estimate::MomentsParams;
use crate::optimize::{Allocation, Optimizer};

/// Stacking: start from [`Stacking::params`].
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::selection::{Candidate, Stacking};
/// let returns = Synthetic::gaussian(6, 600, 1)?.returns(ReturnKind::Simple)?;
/// let stack = Stacking::params()
///     .inner(vec![
///         Candidate::new(|| InverseVolatility::new(10_000)),
///         Candidate::new(|| Optimized::new("min variance", Optimizer::min_variance(), Moments::sample())),
///     ])
///     .fit(&returns)?;
/// assert!((stack.weights().sum() - 1.0).abs() < 1e-6);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Stacking;

impl Stacking {
    /// No inner allocations yet; the outer optimiser is minimum variance
    /// on sample moments; cross-validation over five folds each tested
    /// once, rebalanced daily without costs; the median path.
    pub fn params() -> StackingParams {
        StackingParams {
            inner: Vec::new(),
            outer: Optimizer::min_variance(),
            estimator: crate::estimate::Moments::sample(),
            cv: super::CrossValidation::params()
                .splitter(CombinatorialPurged::params().folds(5).test_folds(1))
                .backtest(Backtest::params().schedule(Schedule::Every(1)).cost_bps(0.0)),
            quantile: 0.5,
        }
    }
}

/// The settings of a stack (see [`Stacking::params`]).
#[derive(Debug, Clone)]
pub struct StackingParams {
    inner: Vec<Candidate>,
    outer: Optimizer,
    estimator: MomentsParams,
    cv: CrossValidationParams,
    quantile: f64,
}

impl StackingParams {
    /// The inner allocations (at least two, with different names).
    pub fn inner(mut self, candidates: Vec<Candidate>) -> Self {
        self.inner = candidates;
        self
    }

    /// The outer optimiser, over the inner allocations' returns.
    pub fn outer(mut self, optimizer: Optimizer) -> Self {
        self.outer = optimizer;
        self
    }

    /// The moments the outer optimiser is given (annualised), where its
    /// objective needs moments rather than scenarios.
    pub fn estimator(mut self, estimator: MomentsParams) -> Self {
        self.estimator = estimator;
        self
    }

    /// How the inner allocations are cross-validated: the splitter, and
    /// the costs and schedule within a test block.
    pub fn cross_validation(mut self, cv: CrossValidationParams) -> Self {
        self.cv = cv;
        self
    }

    /// Where several paths are made, the quantile (0 to 1) of their Sharpe
    /// ratios whose path is taken for each inner allocation.
    pub fn quantile(mut self, q: f64) -> Self {
        self.quantile = q;
        self
    }

    /// The stack as a walk-forward strategy named `name`.
    pub fn strategy(self, name: &str) -> Stacked {
        Stacked { name: name.to_string(), params: self }
    }

    fn validate(&self) -> Result<()> {
        if self.inner.len() < 2 {
            return Err(Error::param(
                Param::Inner,
                format!("a stack needs at least two inner allocations, got {}", self.inner.len()),
            ));
        }
        if !(0.0..=1.0).contains(&self.quantile) {
            return Err(Error::param(Param::Quantile, format!("must be in [0, 1], got {}", self.quantile)));
        }
        Ok(())
    }

    /// Cross-validates the inner allocations, fits the outer optimiser on
    /// their out-of-sample returns and combines the inner allocations
    /// decided on all of `returns`.
    pub fn fit(&self, returns: &Returns) -> Result<Stack> {
        self.validate()?;
        let data = self.cv.prepare(returns)?;
        let simple = &data.returns;
        // Fresh strategies, named here and decided on all the rows at the
        // end (each split builds its own).
        let mut fresh = self.inner.iter().map(|c| c.build(simple)).collect::<Result<Vec<_>>>()?;
        let names: Vec<String> = fresh.iter().map(|s| s.name()).collect();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Error::param(
                    Param::Inner,
                    format!("two inner allocations are named \"{n}\"; give each its own name"),
                ));
            }
        }
        let paths = self.cv.paths_of(&data, &self.inner)?;
        // Each inner allocation's path at the quantile of their Sharpe ratios.
        let chosen: Vec<usize> = paths
            .iter()
            .map(|p| {
                let mut order: Vec<usize> = (0..p.len()).collect();
                let sharpe: Vec<f64> = p.iter().map(|q| q.metrics().sharpe).collect();
                order.sort_by(|&a, &b| sharpe[a].total_cmp(&sharpe[b]));
                order[((p.len() - 1) as f64 * self.quantile).round() as usize]
            })
            .collect();
        let first = &paths[0][chosen[0]];
        let mut oos = Array2::zeros((first.dates.len(), names.len()));
        for (k, (p, &c)) in paths.iter().zip(&chosen).enumerate() {
            oos.column_mut(k).assign(&ArrayView1::from(&p[c].net));
        }
        let oos = Returns::from_panel(
            Panel::from_parts(first.dates.clone(), names.clone(), oos)
                .with_periods_per_year(simple.periods_per_year())?,
            ReturnKind::Simple,
        );
        let outer = if self.outer.objective().needs_scenarios() {
            self.outer.solve_scenarios(&oos)?
        } else {
            self.outer.solve(&self.estimator.fit(&oos)?.annualized())?
        };
        // Every inner allocation on all the rows.
        let r = simple.values();
        let window = Window::new(simple.dates(), simple.assets(), r, simple.periods_per_year());
        let n = simple.assets().len();
        let mut inner = Array2::zeros((n, names.len()));
        for (k, s) in fresh.iter_mut().enumerate() {
            s.learn(&window)?;
            inner.column_mut(k).assign(&self.cv.decide(s.as_mut(), &window)?);
        }
        let weights = inner.dot(outer.weights());
        Ok(Stack { assets: simple.assets().to_vec(), names, inner, outer, weights, oos })
    }
}

/// A fitted stack: the inner allocations' weights, the outer allocation
/// over them and the stack's weights.
#[derive(Debug, Clone)]
pub struct Stack {
    assets: Vec<String>,
    names: Vec<String>,
    inner: Array2<f64>,
    outer: Allocation,
    weights: Array1<f64>,
    oos: Returns,
}

impl Stack {
    /// The stack's weights, $W\alpha$, over the panel's assets.
    pub fn weights(&self) -> &Array1<f64> {
        &self.weights
    }

    /// The assets.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// The inner allocations' names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The inner allocations' weights fitted on all the data, assets × inner.
    pub fn inner_weights(&self) -> &Array2<f64> {
        &self.inner
    }

    /// The outer allocation, over the inner allocations.
    pub fn outer(&self) -> &Allocation {
        &self.outer
    }

    /// The inner allocations' out-of-sample returns the outer optimiser saw.
    pub fn out_of_sample(&self) -> &Returns {
        &self.oos
    }

    /// Per asset: the stack's weight and each inner allocation's.
    pub fn table(&self) -> Table {
        let alpha: Vec<String> =
            self.names.iter().zip(self.outer.weights()).map(|(n, a)| format!("{n} {:.1} %", 100.0 * a)).collect();
        let mut head = vec!["asset".to_string(), "stack".to_string()];
        head.extend(self.names.iter().cloned());
        let mut t = Table::new(head).caption(format!(
            "Stack of {} allocations, outer weights: {} (fitted on {} out-of-sample rows)",
            self.names.len(),
            alpha.join(", "),
            self.oos.len()
        ));
        for (i, a) in self.assets.iter().enumerate() {
            let mut row = vec![Cell::Text(a.clone()), Cell::Pct(self.weights[i], 1)];
            row.extend(self.inner.row(i).iter().map(|&w| Cell::Pct(w, 1)));
            t.push(row);
        }
        t.capped(40)
    }
}

crate::shows_as_table!(Stack);

/// A stack decided afresh on each walk-forward window (see
/// [`StackingParams::strategy`]).
#[derive(Debug, Clone)]
pub struct Stacked {
    name: String,
    params: StackingParams,
}

impl Strategy for Stacked {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        Ok(Some(self.params.fit(&window.to_returns()?)?.weights))
    }
}
