//! Everything a notebook needs: `use assetalloc::prelude::*;`.

pub use crate::backtest::{
    Backtest, BacktestParams, BuyAndHold, EqualWeight, InverseVolatility, Momentum, OnFailure, Schedule, Strategy,
    Window,
};
#[cfg(feature = "optimize")]
pub use crate::backtest::{BlackLittermanStrategy, Optimized};
#[cfg(feature = "sources")]
pub use crate::data::sources::{Corrupt, Fetch, FetchParams, Fetched, Fred, Yahoo};
pub use crate::data::synthetic::Correlation;
pub use crate::data::{
    datasets, AssetStats, Frequency, Innovations, Lifecycle, Load, Missing, Panel, Prices, Regimes, ReturnKind,
    Returns, Signal, Split, Summary, Synthetic, SyntheticMarket, SyntheticParams, Volumes,
};
#[cfg(all(feature = "nn", feature = "optimize"))]
pub use crate::deep::MarkowitzLayer;
#[cfg(feature = "nn")]
pub use crate::deep::{AllocationHead, Architecture, DeepAllocator, DeepAllocatorParams, DeepStrategy, PortfolioLoss};
pub use crate::display::{Render, Table};
pub use crate::error::{Error, Result, SolverStatus};
pub use crate::estimate::{
    BlackLitterman, Estimator, FactorModel, ImpliedVolatility, MeanEstimator, Moments, MomentsParams, View,
    ViewUncertainty,
};
pub use crate::features::{CrossSection, Feature, FeatureSet, Features, Targets};
#[cfg(feature = "ml")]
pub use crate::features::{Selection, Selector};
#[cfg(all(feature = "nn", feature = "optimize"))]
pub use crate::forecast::LstmStrategy;
#[cfg(feature = "nn")]
pub use crate::forecast::{Forecaster, ForecasterParams, Loss};
#[cfg(feature = "optimize")]
pub use crate::hierarchy::{Distance, Hierarchical, HierarchicalStrategy, Hierarchy, Linkage};
pub use crate::market::{AssetRates, CostModel, Impact, TradeCosts};
#[cfg(feature = "nn")]
pub use crate::nn::Device;
#[cfg(feature = "optimize")]
pub use crate::optimize::{
    Allocation, Benchmark, Constraints, CovarianceUncertainty, Frontier, MeanRiskGoal, MeanUncertainty, MultiPeriod,
    Objective, Optimizer, OrderMethod, Orders, OutOfSample, Reduction, Relation, RiskMeasure,
};
pub use crate::portfolio::{Difference, Metrics, Population, Portfolio, Verdict, Verdicts, Weights};
#[cfg(feature = "ml")]
pub use crate::rank::{RankModel, RankPortfolio, Ranker, Ranking, TrainWindow};
#[cfg(feature = "optimize")]
pub use crate::selection::Stacking;
pub use crate::selection::{
    AssetMeasure, Audit, Candidate, CombinatorialPurged, CrossValidation, Grid, PowerStudy, Preselection, Search,
    Splitter, Trial, WalkForward,
};
pub use crate::strategies;
pub use chrono::{Datelike, NaiveDate};
pub use plotly::Plot;
