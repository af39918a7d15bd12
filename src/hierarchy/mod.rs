//! Hierarchical allocation: an asset tree from co-movement (distance on
//! correlations or on the variation of information, single, complete,
//! average or Ward linkage on kodama), and three allocations on it —
//! hierarchical risk parity ([`Hierarchical::hrp`]), hierarchical equal
//! risk contribution ([`Hierarchical::herc`]) and nested clustered
//! optimisation ([`Hierarchical::nco`]) with any [`Optimizer`](crate::optimize::Optimizer)
//! inside and outside the clusters.
//!
//! ```
//! use assetalloc::prelude::*;
//! let returns = datasets::sp500()?.returns(ReturnKind::Simple)?;
//! let tree = Hierarchy::params().linkage(Linkage::Single).fit(&returns)?;
//! let hrp = Hierarchical::hrp().linkage(Linkage::Single).solve(&returns)?;
//! assert_eq!(tree.leaves().len(), 20);
//! assert!((hrp.weights().sum() - 1.0).abs() < 1e-12);
//! # Ok::<(), assetalloc::Error>(())
//! ```
//!
//! The tree and HRP follow López de Prado (2016): the quasi-diagonal order
//! is the linkage's leaf order, left branch first (SciPy's `leaves_list`);
//! skfolio reorders leaves optimally by default (`optimal_ordering=True`),
//! the tests compare with it switched off and with PyPortfolioOpt's
//! `HRPOpt`, which does not reorder.

mod allocate;
mod tree;

pub use allocate::{Hierarchical, HierarchicalStrategy};
pub use tree::{Distance, Hierarchy, HierarchyParams, Linkage, Merge};
