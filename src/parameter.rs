//! What an [`Error::InvalidParameter`](crate::Error::InvalidParameter)
//! names: one enum per stage, each variant a setter or an argument of that
//! stage, displayed as the setter's name. Match on the variant, not on the
//! text, so that a renamed parameter breaks at compile time:
//!
//! ```
//! use assetalloc::prelude::*;
//! use assetalloc::parameter;
//!
//! let e = Backtest::params().cost_bps(-1.0).run_returns(&datasets::sp500()?.returns(ReturnKind::Simple)?, vec![]);
//! let e = e.unwrap_err();
//! assert!(matches!(&e, Error::InvalidParameter { parameter: p, .. } if *p == parameter::Backtest::CostBps));
//! assert!(e.is_invalid(parameter::Backtest::CostBps));
//! assert_eq!(e.to_string(), "cost_bps must be ≥ 0, got -1");
//! # Ok::<(), Error>(())
//! ```

use std::fmt;

macro_rules! stages {
    ($(
        $(#[$meta:meta])*
        $Stage:ident {
            $( $(#[$vmeta:meta])* $Variant:ident = $name:literal, )*
        }
    )*) => {
        /// The parameter an invalid-parameter error names, by stage.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Parameter {
            $(
                #[doc = concat!("A parameter of [`", stringify!($Stage), "`].")]
                $Stage($Stage),
            )*
        }

        impl fmt::Display for Parameter {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self { $( Parameter::$Stage(p) => p.fmt(f), )* }
            }
        }

        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            #[non_exhaustive]
            pub enum $Stage {
                $( $(#[$vmeta])* $Variant, )*
            }

            impl $Stage {
                /// The name an error message shows: the setter's or the
                /// argument's.
                pub const fn name(self) -> &'static str {
                    match self { $( $Stage::$Variant => $name, )* }
                }
            }

            impl fmt::Display for $Stage {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(self.name())
                }
            }

            impl From<$Stage> for Parameter {
                fn from(p: $Stage) -> Parameter {
                    Parameter::$Stage(p)
                }
            }

            impl PartialEq<$Stage> for Parameter {
                fn eq(&self, other: &$Stage) -> bool {
                    matches!(self, Parameter::$Stage(p) if p == other)
                }
            }
        )*
    };
}

stages! {
    /// Panels, loading, calendars and synthetic markets (`data`).
    Data {
        /// The asset columns: their number, names or uniqueness.
        Assets = "assets",
        /// The dates: order, range or a date string.
        Dates = "dates",
        /// A date that does not parse.
        Date = "date",
        /// The start of a date range.
        From = "from",
        /// The end of a date range.
        To = "to",
        /// A date range that holds no dates.
        Between = "between",
        /// Periods per year of a panel.
        PeriodsPerYear = "periods_per_year",
        /// A train/test split.
        Split = "split",
        /// Rows of a panel.
        Rows = "rows",
        /// The base price of prices built from returns.
        Base = "base",
        /// A CSV file's text encoding.
        Encoding = "encoding",
        /// The symbols asked of a data source.
        Symbols = "symbols",
        /// Rows a data source fetches again before a cache's last date.
        Overlap = "overlap",
        /// Days of a synthetic market.
        Days = "days",
        /// Drift of a synthetic market.
        Drift = "drift",
        /// Volatility of a synthetic market.
        Vol = "vol",
        /// Student-t shocks' degrees of freedom.
        StudentT = "student_t",
        /// GARCH(1, 1) volatility.
        Garch = "garch",
        /// Daily probability of entering the stressed regime.
        EnterStress = "enter_stress",
        /// Daily probability of leaving the stressed regime.
        LeaveStress = "leave_stress",
        /// Volatility multiplier of the stressed regime.
        VolMultiplier = "vol_multiplier",
        /// Drift shift of the stressed regime.
        DriftShift = "drift_shift",
        /// A planted signal.
        Signal = "signal",
        /// Share of assets listed late.
        LateListings = "late_listings",
        /// Drawdown at which an asset delists.
        DelistDrawdown = "delist_drawdown",
        /// Return on the delisting day.
        DelistingReturn = "delisting_return",
        /// Traded volumes.
        Volumes = "volumes",
        /// The correlation of the shocks.
        Correlation = "correlation",
        /// Factor structure of the shocks.
        Factors = "factors",
    }

    /// Feature building and selection (`features`).
    Features {
        /// The feature families.
        Features = "features",
        /// A rolling window.
        Window = "window",
        /// A feature's name.
        Feature = "feature",
        /// The feature dates.
        Dates = "dates",
        /// A feature's values.
        Values = "values",
        /// The assets of features and prices.
        Assets = "assets",
        /// The forecast horizon of labels.
        Horizon = "horizon",
        /// Classes of ranked labels.
        Classes = "classes",
        /// Forward returns behind labels.
        ForwardReturns = "forward_returns",
        /// Held-out share of the selection.
        Holdout = "holdout",
        /// Repeats of permutation importance.
        Repeats = "repeats",
        /// Step between training dates.
        Stride = "stride",
        /// The number of features kept.
        K = "k",
    }

    /// Random forests, as features and ranking use them.
    Forest {
        /// Trees of the forest.
        Trees = "trees",
        /// Depth of each tree.
        MaxDepth = "max_depth",
        /// Share of features each tree sees.
        FeatureFraction = "feature_fraction",
        /// Share of rows each tree sees.
        SampleFraction = "sample_fraction",
        /// Smallest leaf.
        MinLeaf = "min_leaf",
        /// The training features.
        Features = "features",
        /// The fitted forest.
        Forest = "forest",
    }

    /// Moments, factor models and Black–Litterman (`estimate`).
    Estimate {
        /// The assets.
        Assets = "assets",
        /// Periods per year.
        PeriodsPerYear = "periods_per_year",
        /// The mean.
        Mean = "mean",
        /// The covariance.
        Covariance = "covariance",
        /// EWMA half-life.
        Halflife = "halflife",
        /// The returns.
        Returns = "returns",
        /// The factor returns.
        Factors = "factors",
        /// Variance share a PCA model explains.
        Explained = "explained",
        /// PCA components.
        Components = "components",
        /// Black–Litterman's τ.
        Tau = "tau",
        /// Risk aversion δ.
        RiskAversion = "risk_aversion",
        /// The risk-free rate.
        RiskFree = "risk_free",
        /// The market weights or market returns.
        Market = "market",
        /// Prior probabilities of scenarios.
        Probabilities = "probabilities",
        /// The views.
        Views = "views",
        /// An expert of an opinion pooling.
        Expert = "expert",
        /// An opinion pooling's divergence penalty.
        DivergencePenalty = "divergence_penalty",
        /// A view's confidence.
        Confidence = "confidence",
        /// The views' uncertainty Ω.
        Omega = "omega",
        /// A shrinkage intensity.
        Shrinkage = "shrinkage",
        /// The Gerber statistic's threshold.
        Threshold = "threshold",
        /// Market modes a detoned correlation removes.
        Markets = "markets",
        /// The graphical lasso's penalty.
        Penalty = "penalty",
        /// Implied volatilities.
        ImpliedVolatility = "implied_volatility",
        /// The windows of the implied-to-realised volatility regression.
        VolatilityWindow = "volatility_window",
        /// A volatility risk premium (implied over realised volatility).
        VolatilityPremium = "volatility_premium",
    }

    /// The optimiser: objectives, measures and constraints (`optimize`).
    Optimize {
        /// The objective.
        Objective = "objective",
        /// Whether cash may be held in a ratio objective.
        AllowCash = "allow_cash",
        /// A tail measure's α.
        Alpha = "alpha",
        /// A tail measure's β.
        Beta = "beta",
        /// A lower partial moment's minimum acceptable return.
        Mar = "mar",
        /// A relativistic measure's deformation κ.
        Kappa = "kappa",
        /// A Wasserstein ball's radius.
        Radius = "radius",
        /// An uncertainty set for the mean.
        MeanUncertainty = "mean_uncertainty",
        /// An uncertainty set for the covariance.
        CovarianceUncertainty = "covariance_uncertainty",
        /// An uncertainty set's confidence level.
        Confidence = "confidence",
        /// The risk measure.
        Measure = "measure",
        /// Portfolio weights.
        Weights = "weights",
        /// Minimum risk of a ratio objective.
        MinRisk = "min_risk",
        /// The covariance.
        Covariance = "covariance",
        /// Constraints an objective does not take.
        Constraints = "constraints",
        /// Risk budgets.
        RiskBudgets = "risk_budgets",
        /// Gross-exposure cap.
        MaxLeverage = "max_leverage",
        /// Per-asset bounds.
        Bounds = "bounds",
        /// A linear constraint.
        Linear = "linear",
        /// Tracking-error cap and benchmark.
        TrackingError = "tracking_error",
        /// The current weights.
        Previous = "previous",
        /// A flat trading cost.
        CostBps = "cost_bps",
        /// Turnover cap.
        MaxTurnover = "max_turnover",
        /// Cost-aversion multiplier.
        CostAversion = "cost_aversion",
        /// Holding-cost aversion multiplier.
        HoldingAversion = "holding_aversion",
        /// Per-asset trade limit.
        MaxTrade = "max_trade",
        /// Most assets held.
        MaxAssets = "max_assets",
        /// Most assets held within a group.
        GroupMaxAssets = "group_max_assets",
        /// Least weight of a held asset.
        MinPosition = "min_position",
        /// Branch and bound's node and time limits.
        SearchLimits = "search_limits",
        /// An account's value to allocate.
        Budget = "budget",
        /// Latest prices.
        Prices = "prices",
        /// Current shares.
        Holdings = "holdings",
        /// Lot sizes.
        Lots = "lots",
        /// A fee per share traded.
        PerShareFee = "per_share_fee",
        /// A fee proportional to the value traded.
        ProportionalFee = "proportional_fee",
        /// A method.
        Method = "method",
        /// Trading costs.
        TradingCosts = "trading_costs",
        /// The critical line algorithm's inputs.
        CriticalLine = "critical_line",
        /// Points of a frontier.
        Points = "points",
        /// The risk-free rate.
        RiskFree = "risk_free",
        /// A target on the critical line.
        Target = "target",
        /// The moments.
        Moments = "moments",
        /// A target return.
        TargetReturn = "target_return",
        /// A target volatility.
        TargetVolatility = "target_volatility",
        /// A risk cap.
        RiskCap = "risk_cap",
        /// Risk aversion.
        RiskAversion = "risk_aversion",
        /// A plan's horizon.
        Horizon = "horizon",
        /// Per-period forecasts.
        Forecasts = "forecasts",
    }

    /// Hierarchical clustering and allocation (`hierarchy`).
    Hierarchy {
        /// Weight bounds.
        Bounds = "bounds",
        /// The returns.
        Returns = "returns",
        /// NCO's optimiser within clusters.
        Inner = "inner",
        /// NCO's optimiser across clusters.
        Outer = "outer",
        /// The linkage.
        Linkage = "linkage",
        /// The distance.
        Distance = "distance",
        /// The assets.
        Assets = "assets",
        /// The correlation.
        Correlation = "correlation",
        /// Histogram bins of the variation of information.
        Bins = "bins",
        /// Clusters to cut the tree into.
        Clusters = "clusters",
    }

    /// Network layers and training (`nn`).
    Training {
        /// Passes over the data.
        Epochs = "epochs",
        /// Samples a step.
        BatchSize = "batch_size",
        /// Step size.
        LearningRate = "learning_rate",
        /// Gradient clipping norm.
        ClipNorm = "clip_norm",
        /// Early-stopping patience.
        Patience = "patience",
        /// The model.
        Model = "model",
        /// The training samples.
        Samples = "samples",
        /// An LSTM's sizes.
        Lstm = "lstm",
        /// A 1-D convolution's sizes.
        Conv1d = "conv1d",
    }

    /// Return forecasting (`forecast`).
    Forecast {
        /// Outputs of the model.
        Outputs = "outputs",
        /// The returns.
        Returns = "returns",
        /// The held-out test block.
        Test = "test",
        /// The Huber loss's δ.
        Huber = "huber",
        /// Input window.
        Lookback = "lookback",
        /// Train/validation/test split.
        Split = "split",
    }

    /// The end-to-end allocator (`deep`).
    Deep {
        /// Days the objective spans.
        Horizon = "horizon",
        /// Step between samples.
        Stride = "stride",
        /// Input scale.
        Scale = "scale",
        /// Validation share.
        Validation = "validation",
        /// The returns.
        Returns = "returns",
        /// Input window.
        Lookback = "lookback",
        /// Filters of the convolution.
        Filters = "filters",
        /// Kernel of the convolution.
        Kernel = "kernel",
        /// Pooling width.
        Pool = "pool",
        /// First LSTM's width.
        Hidden1 = "hidden1",
        /// Second LSTM's width.
        Hidden2 = "hidden2",
        /// Risk aversion of the objective.
        RiskAversion = "risk_aversion",
        /// The allocation head.
        Head = "head",
        /// A softmax head's temperature.
        Temperature = "temperature",
        /// An allocation layer's weight bounds.
        Bounds = "bounds",
        /// An allocation layer's group limits.
        Group = "group",
        /// An allocation layer's turnover cap.
        Turnover = "turnover",
        /// The slack below which a constraint counts as active.
        ActiveThreshold = "active_threshold",
        /// Previous weights handed to an allocation layer.
        Previous = "previous",
        /// Predicted means handed to an allocation layer.
        Mean = "mean",
        /// Covariances handed to an allocation layer.
        Covariance = "covariance",
        /// Weight decay.
        L2 = "l2",
    }

    /// Learning to rank (`rank`).
    Rank {
        /// Periods ahead.
        Horizon = "horizon",
        /// Dates between refits.
        RefitEvery = "refit_every",
        /// Step between training dates.
        Stride = "stride",
        /// Dates before the first fit.
        MinTrain = "min_train",
        /// Training window.
        Window = "window",
        /// Baseline feature.
        Baseline = "baseline",
        /// A date to score.
        Date = "date",
        /// Assets held.
        TopK = "top_k",
        /// The scores.
        Scores = "scores",
        /// The out-of-sample ranking.
        Ranking = "ranking",
        /// The ranker's model.
        Model = "model",
        /// The features.
        Features = "features",
    }

    /// Trading costs (`market`).
    Market {
        /// Proportional costs.
        Proportional = "proportional",
        /// Borrow fees.
        Borrow = "borrow",
        /// Fixed cost per order.
        Fixed = "fixed",
        /// Per-share commission.
        PerShare = "per_share",
        /// Market impact.
        Impact = "impact",
        /// Portfolio value an impact cost is priced at.
        PortfolioValue = "portfolio_value",
    }

    /// The walk-forward backtest and its strategies (`backtest`).
    Backtest {
        /// Strategies' names.
        Strategies = "strategies",
        /// Look-back window.
        Lookback = "lookback",
        /// Rebalancing schedule.
        Schedule = "schedule",
        /// Flat trading cost.
        CostBps = "cost_bps",
        /// Gross-exposure cap.
        MaxLeverage = "max_leverage",
        /// Starting capital.
        Capital = "capital",
        /// The risk-free rate.
        RiskFree = "risk_free",
        /// Cash returns.
        CashReturns = "cash_returns",
        /// Return on delisting.
        DelistingReturn = "delisting_return",
        /// The tradable universe.
        Universe = "universe",
        /// A strategy's weights.
        Weights = "weights",
        /// Inverse-volatility strategy.
        InverseVolatility = "inverse_volatility",
        /// Momentum strategy.
        Momentum = "momentum",
        /// A strategy's forecasts.
        Forecasts = "forecasts",
        /// Trade cap as a share of volume.
        MaxVolumeShare = "max_volume_share",
    }

    /// Portfolios and their reports (`portfolio`).
    Portfolio {
        /// A strategy's name.
        Strategy = "strategy",
        /// Weights.
        Weights = "weights",
        /// Attribution of a difference.
        Difference = "difference",
    }

    /// Validation, search and audits (`selection`).
    Selection {
        /// The audit's cut date.
        Cut = "cut",
        /// Perturbations of the audit.
        Perturbations = "perturbations",
        /// The returns.
        Returns = "returns",
        /// A strategy.
        Strategy = "strategy",
        /// Noise of the audit.
        Noise = "noise",
        /// A split.
        Split = "split",
        /// A cross-validation path.
        Path = "path",
        /// Signal strengths of a power study.
        Strengths = "strengths",
        /// Markets of a power study.
        Markets = "markets",
        /// Significance level.
        Level = "level",
        /// A search grid or one of its parameters.
        Grid = "grid",
        /// Trials of a search.
        Trials = "trials",
        /// A shard of a search.
        Shard = "shard",
        /// A search's CSV.
        Csv = "csv",
        /// A search's result.
        Search = "search",
        /// Shards of a search to merge.
        Shards = "shards",
        /// Folds.
        Folds = "folds",
        /// Test folds.
        TestFolds = "test_folds",
        /// Purge and embargo.
        Purge = "purge",
        /// Training block.
        Train = "train",
        /// Test block.
        Test = "test",
        /// A pre-selection's correlation threshold.
        DropCorrelated = "drop_correlated",
        /// A pre-selection's number of best assets.
        KeepBest = "keep_best",
        /// A pre-selection's least number of non-dominated assets.
        KeepNonDominated = "keep_non_dominated",
        /// The weights a pre-selection expands.
        Expand = "expand",
        /// A stack's inner allocations.
        Inner = "inner",
        /// The quantile of the path a stack takes.
        Quantile = "quantile",
    }
}
