//! How the allocation network's scores become weights.

use dfdx::prelude::*;
use ndarray::{Array2, ArrayView2};

#[cfg(feature = "optimize")]
use super::MarkowitzLayer;
use crate::error::{Error, Result};
use crate::nn::{softmax, sparsemax, Backend, Matrix};
use crate::parameter::Deep;

/// The last step of the allocation network: its scores (the dense layer's
/// outputs through tanh, in $[-1, 1]$) → long-only weights summing to 1.
#[derive(Debug, Clone, PartialEq)]
pub enum AllocationHead {
    /// A softmax with this temperature (the study's head at 1: every
    /// asset held, concentration capped by the tanh).
    Softmax(f32),
    /// Sparsemax: the scores' projection onto the simplex, so assets can
    /// be left out entirely.
    Sparsemax,
    /// The scores as predicted means in a [`MarkowitzLayer`]: its program
    /// with its constraints, solved on every sample, with the covariance of
    /// the sample's own input window (scaled returns, shrunk by
    /// [`WINDOW_SHRINKAGE`] toward its diagonal). Where the layer caps
    /// turnover, training samples start from equal weights and the
    /// walk-forward from the weights held at the decision date (equal
    /// weights when starting from cash).
    #[cfg(feature = "optimize")]
    Markowitz(MarkowitzLayer),
}

/// The share of a window's covariance moved to its diagonal before the
/// Markowitz head uses it: a window of 20 days of 20 assets has a singular
/// sample covariance, the shrunk one is positive definite.
pub const WINDOW_SHRINKAGE: f64 = 0.2;

impl Default for AllocationHead {
    fn default() -> Self {
        AllocationHead::Softmax(1.0)
    }
}

impl AllocationHead {
    /// A short name for tables.
    pub fn label(&self) -> String {
        match self {
            AllocationHead::Softmax(t) if *t == 1.0 => "softmax".into(),
            AllocationHead::Softmax(t) => format!("softmax (T = {t})"),
            AllocationHead::Sparsemax => "sparsemax".into(),
            #[cfg(feature = "optimize")]
            AllocationHead::Markowitz(l) => format!("Markowitz layer (γ = {})", l.risk_aversion()),
        }
    }

    pub(crate) fn check(&self, assets: usize) -> Result<()> {
        match self {
            AllocationHead::Softmax(t) if !(t.is_finite() && *t > 0.0) => {
                Err(Error::param(Deep::Temperature, format!("must be > 0, got {t}")))
            }
            #[cfg(feature = "optimize")]
            AllocationHead::Markowitz(l) if l.assets() != assets => Err(Error::param(
                Deep::Head,
                format!("a Markowitz layer for {} assets on returns of {assets}: build it for {assets}", l.assets()),
            )),
            _ => Ok(()),
        }
    }

    /// Whether the head needs each sample's input window (its covariance).
    pub(crate) fn needs_windows(&self) -> bool {
        #[cfg(feature = "optimize")]
        if let AllocationHead::Markowitz(_) = self {
            return true;
        }
        false
    }

    /// Weights for `scores` `[B, N]`; `windows` are the samples' input
    /// windows (`[lookback, N]`, scaled returns) where the head needs them,
    /// `previous` the weights each sample starts from (equal weights where
    /// `None`).
    pub(crate) fn apply<D: Backend, T: Tape<f32, D> + Merge<T> + Merge<NoneTape>>(
        &self,
        scores: Matrix<D, T>,
        windows: &[ArrayView2<'_, f32>],
        previous: Option<ArrayView2<'_, f64>>,
    ) -> Result<Matrix<D, T>> {
        match self {
            AllocationHead::Softmax(t) => softmax(scores, *t),
            AllocationHead::Sparsemax => sparsemax(scores),
            #[cfg(feature = "optimize")]
            AllocationHead::Markowitz(layer) => {
                let (b, n) = *scores.shape();
                let covs: Vec<Array2<f64>> = windows.iter().map(|w| window_covariance(*w)).collect();
                let start = previous.map_or_else(|| Array2::from_elem((b, n), 1.0 / n as f64), |p| p.to_owned());
                layer.weights(scores, &covs, layer.has_turnover().then(|| start.view()))
            }
        }
    }
}

/// The sample covariance of a window (rows are days), shrunk by
/// [`WINDOW_SHRINKAGE`] toward its diagonal.
pub(crate) fn window_covariance(window: ArrayView2<'_, f32>) -> Array2<f64> {
    let (_, s) = crate::linalg::sample_moments(window.mapv(f64::from).view());
    let n = s.nrows();
    Array2::from_shape_fn((n, n), |(i, j)| if i == j { s[[i, j]] } else { (1.0 - WINDOW_SHRINKAGE) * s[[i, j]] })
}
