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
//! ## The contract
//!
//! Every stage has the same shape, so a method learnt in one reads the same
//! in the next:
//!
//! * **Builders.** Each configurable thing is `Thing::params()`, returning
//!   a `ThingParams` builder with documented defaults and no public fields.
//!   Parameters are checked once, when the verb runs; a bad one is an
//!   [`Error::InvalidParameter`] naming the parameter (a variant of its
//!   stage's enum in [`parameter`]), the bound and the value received.
//! * **Verbs.** `fit` learns from data and returns the fitted model, named
//!   for what it is ([`Moments`](estimate::Moments),
//!   `Selection`, `Ranking`, `Forecaster`, `DeepAllocator`); `solve` runs
//!   an optimiser and learns nothing (`Allocation`, `Frontier`); `run` walks
//!   strategies forward ([`Population`](portfolio::Population)); `compute`
//!   and `generate` build data (features, synthetic markets).
//! * **One name per concept**: `lookback` is the history a model or
//!   strategy reads, `horizon` the periods ahead it is judged on,
//!   `schedule` when the backtest rebalances.
//! * **Strategies.** Every allocation method implements
//!   [`Strategy`](backtest::Strategy) and enters a backtest through
//!   [`strategies!`]`[..]`, no casts. A walk-forward, or an allocation bought
//!   and held, is a [`Portfolio`](portfolio::Portfolio) measured by one set
//!   of [`Metrics`](portfolio::Metrics); a
//!   [`Population`](portfolio::Population) of them states its
//!   [`verdicts`](portfolio::Population::verdicts) against 1/N.
//! * **Results render themselves**: HTML tables in the notebook, text in a
//!   terminal, `plot_*` methods returning a `plotly::Plot`.
//! * **Failures are typed** ([`Error`]): a strategy's failure names the
//!   strategy and the date ([`Error::Strategy`]), a solver's outcome is a
//!   [`SolverStatus`], an infeasible constraint is named
//!   ([`Error::Infeasible`]); nothing reachable from user input panics.
//! * **No lookahead**: anything at date $t$ uses data up to $t$; targets
//!   start at $t+1$; a backtest trades at $t$'s close and earns from $t+1$.
//!   Tests replace the future and check nothing at or before $t$ moves.
//!
//! One example per stage (each builder's docs hold a runnable one):
//!
//! ```
//! use assetalloc::prelude::*;
//! // data: a bundled panel, returns, a split in time
//! let prices = datasets::sp500()?;
//! let returns = prices.returns(ReturnKind::Log)?;
//! let (train, test) = returns.split(Split::Fraction(0.7))?;
//! assert!(train.end() < test.start());
//! // features: causal rolling statistics
//! let features = Features::params().windows(&[21, 63]).compute(&prices)?;
//! assert_eq!(features.assets().len(), 20);
//! # #[cfg(feature = "optimize")] {
//! // optimise on moments fitted to the training block, hold through the test block
//! let m = Moments::ledoit_wolf().fit(&train)?.annualized();
//! let min_var = Optimizer::min_variance().solve(&m)?;
//! let held = OutOfSample::hold(&[&min_var], &test)?;
//! assert_eq!(held.verdicts().rows.len(), 1);
//! // backtest: any strategies, beside 1/N, net of costs
//! let recent = prices.between("2019-01-01", None)?;
//! let cmp = Backtest::params().lookback(126).cost_bps(10.0).run(&recent, strategies![
//!     InverseVolatility::new(63),
//!     Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf()),
//! ])?;
//! assert_eq!(cmp.reports.len(), 3);
//! # }
//! # Ok::<(), assetalloc::Error>(())
//! ```
//!
//! Forecasting ([`Forecaster::params`](forecast::Forecaster::params)), deep
//! allocation ([`DeepAllocator::params`](deep::DeepAllocator::params)),
//! feature selection (`Selector::params`) and ranking (`Ranker::params`)
//! show theirs on their builders.
//!
//! ## Failure model
//!
//! * **Bad input** (a parameter out of range, a NaN where a number is
//!   needed, too few rows, an unknown asset, a malformed CSV or weights
//!   file) is an [`Error`] returned before any work is done: the variant
//!   says what kind of problem it is ([`Error::InvalidParameter`] with the
//!   [`Parameter`], [`Error::TooFewRows`] with the rows needed,
//!   [`Error::MissingValues`] / [`Error::InvalidValue`] with asset and date,
//!   [`Error::DuplicateColumn`], [`Error::ModelFile`] with the tensor, …)
//!   and its message what to do. Nothing reachable from user input panics;
//!   a panic inside a user's strategy is caught and reported as
//!   [`Error::Panicked`] under [`Error::Strategy`]. Names are matched as
//!   text, so assets, strategies, features and market weights must be
//!   unique and non-empty.
//! * **Results are finite or absent.** A quantity that does not exist is
//!   `None` (a validation loss without a validation block) or an error,
//!   never a NaN standing in for it. The exceptions are documented ratios
//!   of a zero denominator in reports — a Sortino ratio without a losing
//!   period, the correlation of an asset without variance — which are NaN
//!   and shown as empty cells, as empyrical and pandas show them.
//! * **Solver outcomes** are [`SolverStatus`] values: only a solved
//!   problem gives an allocation; constraints that cannot hold are
//!   [`Error::Infeasible`] naming the constraint (found before solving
//!   where possible, explained after the solver certifies it otherwise),
//!   other stops are [`Error::Solver`] with the status.
//! * **Strategies** that fail stop the backtest with [`Error::Strategy`]
//!   (name, date, cause), or keep their weights under
//!   `OnFailure::KeepPrevious`, the failures listed in the result.
//! * **Losses beyond the capital**: the backtest is long-only unless a
//!   gross leverage cap allows shorts; costs are at most 100 % of the
//!   notional traded; ruin (wealth reaching zero) ends a strategy's run at
//!   zero with its date recorded — never a negative wealth or a NaN.
//! * **Training** that produces a non-finite loss or gradient stops with
//!   [`Error::Diverged`] naming the epoch.
//! * **Look-ahead** is checked, not assumed: [`selection::Audit`] rewrites
//!   the future after cut dates and names any strategy whose earlier
//!   decisions move (or that is not reproducible on the same data).
//!
//! ## Stages
//!
//! * [`data`]: price and return panels ([`Prices`](data::Prices),
//!   [`Returns`](data::Returns)) loaded from CSV or polars with an explicit
//!   missing-data policy; return maths; slicing, resampling, train/test
//!   splits; per-asset summaries; the bundled real [`datasets`]; a
//!   [`Synthetic`](data::Synthetic) market generator with planted signals;
//!   Parquet panels (feature `parquet`); Yahoo Finance and FRED sources
//!   with a per-symbol Parquet cache (feature `sources`).
//! * [`estimate`]: sample, EWMA and Ledoit–Wolf moments.
//! * [`features`]: rolling features and forward-return targets without
//!   lookahead; random-forest feature selection on linfa (feature `ml`).
//! * `rank` (feature `ml`): walk-forward learning to rank assets on linfa
//!   random forests, with IC metrics, a momentum baseline and strategies;
//!   the ranker as a model that learns on any cross-validation split.
//! * `optimize` (feature `optimize`): one formulation per objective on
//!   Clarabel — minimum variance or CVaR, maximum Sharpe, mean-variance,
//!   target return/volatility, risk parity, maximum diversification — with
//!   constraints, the efficient frontier, and out-of-sample holding.
//! * `hierarchy` (feature `optimize`): asset trees on kodama and the
//!   allocations on them — HRP, HERC, NCO — with weight bounds.
//! * `nn` (feature `nn`): the network toolkit on dfdx — the training
//!   [`Device`](nn::Device) (CPU, or CUDA with `cuda`), the device trait and
//!   fused CPU LSTM recurrence, LSTM (equal to PyTorch's `nn.LSTM`), Dense,
//!   Conv1d, safetensors under PyTorch's names, Adam, training loop.
//! * `forecast` (feature `nn`): the LSTM return forecaster judged against
//!   naive forecasts, and its mean-variance strategy.
//! * `deep` (feature `nn`): an end-to-end CNN+LSTM allocator trained on a
//!   Markowitz or Sharpe objective, and its walk-forward strategy.
//! * [`market`]: the market traded in — cost models (proportional per
//!   asset and date, per share with a minimum, fixed, market impact, borrow
//!   fees) charged in currency, and a universe that changes with listings,
//!   delistings and suspensions.
//! * [`backtest`]: the walk-forward engine every strategy is scored by:
//!   wealth in currency, each cost component reported, a changing universe
//!   with delisted positions sold, never lost.
//! * [`selection`]: model selection — walk-forward and combinatorial purged
//!   cross-validation, hyper-parameter search with a deflated Sharpe ratio
//!   over the trials made, the look-ahead audit, the planted-signal power
//!   study.
//! * [`portfolio`]: one result for any allocation — its path, measures and
//!   verdicts against 1/N.
//! * [`display`]: every result renders in the notebook as an HTML table
//!   (and as text in a terminal); [`plot`]: charts as `plotly::Plot`.
//!
//! Heavy stages sit behind Cargo features so a notebook compiles only what
//! it uses: `optimize` (Clarabel), `ml` (linfa), `nn` (dfdx) are on by
//! default; `cuda` is opt-in, and so is `faer`, Clarabel's supernodal
//! factorisation, which it then picks for dense programs (hundreds of
//! assets on a dense covariance: minimum variance on 500 in about half the
//! time). The faer crate itself is always built (the symmetric eigensolver);
//! the feature adds Clarabel's use of it. The data stage needs none of
//! them:
//!
//! ```text
//! :dep assetalloc = { path = "..", default-features = false }
//! use assetalloc::prelude::*;
//! ```
#![warn(missing_docs)]
// Parameter checks are written `!(x > 0.0)` on purpose: unlike `x <= 0.0`,
// they also reject NaN.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

/// The ndarray the crate speaks (0.16), for strategies written in a
/// notebook: `use assetalloc::ndarray::{Array1, ArrayView1};`.
pub use ndarray;

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
#[cfg(feature = "optimize")]
pub mod hierarchy;
mod linalg;
pub mod market;
#[cfg(feature = "nn")]
pub mod nn;
#[cfg(feature = "optimize")]
pub mod optimize;
mod parallel;
pub mod parameter;
pub mod plot;
pub mod portfolio;
pub mod prelude;
#[cfg(feature = "ml")]
pub mod rank;
pub mod selection;
pub mod stats;

pub use data::datasets;
pub use error::{Error, Result, SolverStatus};
pub use parameter::Parameter;

/// The README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
