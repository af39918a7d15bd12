//! # assetalloc
//!
//! From prices to an honest, out-of-sample verdict on an allocation
//! strategy, in a Rust notebook (the evcxr Jupyter kernel).
//!
//! ```text
//!  data ──► features ──► selection ──► optimize ──► backtest
//!  (panels,  (rolling     (random      (Clarabel:    (walk-forward,
//!   CSV,      stats,       forest)      max-Sharpe,   costs, metrics,
//!   bundled,  momentum)                 min-var, …)   1/N baseline)
//!   synthetic)     └──► forecast (LSTM) ──┘   ▲
//!                  └──► rank (random forest) ─┤
//!                  └──► deep (CNN+LSTM allocator)
//! ```
//!
//! Implemented so far:
//!
//! * [`data`]: price and return panels ([`Prices`](data::Prices),
//!   [`Returns`](data::Returns)) loaded from CSV or polars with an explicit
//!   missing-data policy; return maths; slicing, resampling, train/test
//!   splits; per-asset summaries; the bundled real [`datasets`]; a
//!   [`Synthetic`](data::Synthetic) market generator with planted signals.
//! * [`estimate`]: sample, EWMA and Ledoit–Wolf moments.
//! * [`features`]: rolling features and forward-return targets without
//!   lookahead; random-forest feature selection on linfa (feature `ml`).
//! * `rank` (feature `ml`): walk-forward learning to rank assets on linfa
//!   random forests, with IC metrics, a momentum baseline and strategies.
//! * `optimize` (feature `optimize`): minimum variance, true maximum Sharpe,
//!   mean-variance, target return/volatility, risk parity, maximum
//!   diversification and minimum CVaR on Clarabel, with constraints, the
//!   efficient frontier, and out-of-sample holding beside 1/N.
//! * `forecast` (feature `nn`): an LSTM on dfdx equal to PyTorch's
//!   `nn.LSTM`, a return forecaster judged against naive forecasts, and its
//!   mean-variance strategy.
//! * `deep` (feature `nn`): an end-to-end CNN+LSTM allocator trained on a
//!   Markowitz or Sharpe objective, and its walk-forward strategy.
//! * [`backtest`]: the walk-forward engine every strategy is scored by, net
//!   of costs, with significance-aware metrics.
//! * [`display`]: every result renders in the notebook as an HTML table
//!   (and as text in a terminal); [`plot`]: charts as `plotly::Plot`.
//!
//! Heavy stages sit behind Cargo features so a notebook compiles only what
//! it uses: `optimize` (Clarabel), `ml` (linfa), `nn` (dfdx) are on by
//! default; `cuda` is opt-in. The data stage needs none of them:
//!
//! ```text
//! :dep assetalloc = { path = "..", default-features = false }
//! use assetalloc::prelude::*;
//! ```
//!
//! ```
//! use assetalloc::prelude::*;
//! let prices = datasets::sp500()?;
//! let returns = prices.returns(ReturnKind::Log)?;
//! let (train, test) = returns.split(Split::Fraction(0.7))?;
//! assert!(train.end() < test.start());
//! # Ok::<(), assetalloc::Error>(())
//! ```
#![warn(missing_docs)]
// Parameter checks are written `!(x > 0.0)` on purpose: unlike `x <= 0.0`,
// they also reject NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

pub mod backtest;
pub mod data;
#[cfg(feature = "nn")]
pub mod deep;
pub mod display;
mod error;
pub mod estimate;
pub mod features;
#[cfg(feature = "nn")]
pub mod forecast;
#[cfg(feature = "ml")]
mod forest;
mod linalg;
#[cfg(feature = "nn")]
pub mod nn;
#[cfg(feature = "optimize")]
pub mod optimize;
mod parallel;
pub mod plot;
pub mod portfolio;
pub mod prelude;
#[cfg(feature = "ml")]
pub mod rank;
pub mod stats;

pub use data::datasets;
pub use error::{Error, Result, SolverStatus};
