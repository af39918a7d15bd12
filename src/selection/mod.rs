//! Model selection: how good is a strategy out of sample, over many paths
//! rather than one, with its parameters chosen honestly, and does it look
//! ahead?
//!
//! * **Splitters** ([`split`]): the walk-forward ([`WalkForward`]) and
//!   combinatorial purged cross-validation ([`CombinatorialPurged`],
//!   López de Prado 2018): $N$ folds, every choice of $k$ test folds is a
//!   split, and the test blocks recombine into $\binom{N-1}{k-1}$ complete
//!   out-of-sample paths; purge and embargo keep training rows away from
//!   the test blocks.
//! * **Cross-validated evaluation** ([`CrossValidation`]): any strategy
//!   (through a [`Candidate`], a recipe for a fresh one per split) decides
//!   on each split's training rows and holds its weights through the test
//!   blocks, net of costs; the result is one [`Portfolio`](crate::portfolio::Portfolio)
//!   per path, beside 1/N on the same paths, and the distribution of
//!   their Sharpe ratios.
//! * **Hyper-parameter search** ([`Search`]): a [`Grid`] searched whole or
//!   by a seeded random sample, every trial scored by cross-validation over
//!   the cores, shardable (`shard(i, n)`, CSV out and back), with the
//!   winner's deflated Sharpe ratio counting every trial made
//!   ([`SearchResult::deflated_sharpe`]).
//! * **Look-ahead audit** ([`Audit`]): the future after each cut is
//!   permuted, replaced by noise and reversed; any decision at or before
//!   the cut that moves names the strategy, the date and the assets.
//! * **Asset pre-selection** ([`Preselection`]): drop assets with an
//!   incomplete history or highly correlated, keep the $K$ best by a
//!   measure or the non-dominated ones; in front of any optimiser
//!   ([`Preselected::apply`]) or any strategy in the walk-forward
//!   ([`Screened`]), decided on each window.
//! * **Stacking** ([`Stacking`]): an outer optimiser over the
//!   cross-validated out-of-sample returns of several inner allocations,
//!   holding their combination (skfolio's `StackingOptimization`).
//! * **Power study** ([`PowerStudy`]): many synthetic markets with a planted
//!   signal of known strength; the detection rate of a pipeline (PSR of its
//!   active return against 1/N ≥ 95 %) as a function of strength, and its
//!   false-positive rate at zero.

mod audit;
mod evaluate;
mod power;
mod preselect;
mod search;
pub mod split;
#[cfg(feature = "optimize")]
mod stacking;

pub use audit::{Audit, AuditLine, AuditParams, AuditReport, Perturbation, TOLERANCE};
pub use evaluate::{Candidate, CrossValidated, CrossValidation, CrossValidationParams};
pub use power::{PowerCurve, PowerRow, PowerStudy, PowerStudyParams};
pub use preselect::{AssetMeasure, Dropped, Preselected, Preselection, PreselectionParams, Screened};
pub use search::{Grid, Scored, Search, SearchParams, SearchResult, Trial, TrialScore, Value};
pub use split::{
    CombinatorialPurged, CombinatorialPurgedParams, Fold, Splits, Splitter, WalkForward, WalkForwardParams,
};
#[cfg(feature = "optimize")]
pub use stacking::{Stack, Stacked, Stacking, StackingParams};
