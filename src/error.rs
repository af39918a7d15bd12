//! The crate's one error type.
//!
//! Every fallible call returns [`Result<T>`]. Messages are written for the
//! person at the notebook: evcxr prints them with `Display`, so each names
//! the offending column, date or parameter and, where there is one, the fix.

use crate::parameter::Parameter;
use std::path::PathBuf;

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `assetalloc`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The path that was tried.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },

    /// A model weights file is unreadable, unwritable or does not fit the model.
    #[error("model file {path}: {}{message}", tensor.as_ref().map_or(String::new(), |t| format!("tensor {t:?} ")))]
    ModelFile {
        /// The file.
        path: PathBuf,
        /// The tensor at fault, when one is.
        tensor: Option<String>,
        /// What is wrong.
        message: String,
    },

    /// The CSV reader or a DataFrame operation failed.
    #[error("cannot read the table: {source}")]
    Table {
        /// polars' error.
        #[from]
        source: polars::error::PolarsError,
    },

    /// The date column is absent.
    #[error("no date column {expected:?}; the columns are {found:?} (name it with .date_column(..))")]
    MissingDateColumn {
        /// The column that was looked for.
        expected: String,
        /// The columns that exist.
        found: Vec<String>,
    },

    /// A date could not be parsed.
    #[error("cannot parse {value:?} in column {column:?} (row {row}) as a date with format {format:?}; set .date_format(..)")]
    BadDate {
        /// The date column.
        column: String,
        /// Zero-based data row.
        row: usize,
        /// The text found.
        value: String,
        /// The format tried.
        format: String,
    },

    /// The same date appears twice.
    #[error("date {date} appears more than once (rows {first} and {second}); each date must be unique")]
    DuplicateDate {
        /// The repeated date.
        date: chrono::NaiveDate,
        /// Zero-based row of the first occurrence (after sorting).
        first: usize,
        /// Zero-based row of the second occurrence (after sorting).
        second: usize,
    },

    /// The CSV text itself is malformed.
    #[error("malformed CSV at line {line}: {message}")]
    MalformedCsv {
        /// 1-based line, the header being line 1.
        line: usize,
        /// What is wrong.
        message: String,
    },

    /// Two columns share a name (a spreadsheet export with a repeated
    /// header, say); nothing is renamed silently.
    #[error("column {column:?} appears twice (columns {first} and {second}, counting from 0); rename one")]
    DuplicateColumn {
        /// The repeated name.
        column: String,
        /// Position of its first occurrence.
        first: usize,
        /// Position of the second.
        second: usize,
    },

    /// A value column is not numeric.
    #[error("column {column:?} is not numeric: {detail}; drop or clean it before loading")]
    NonNumeric {
        /// The column.
        column: String,
        /// What was found (the type, or the first value that is not a number).
        detail: String,
    },

    /// A column holds no observation at all.
    #[error("asset {asset:?} has no values (every row is missing or NaN)")]
    EmptyAsset {
        /// The asset.
        asset: String,
    },

    /// Missing values were found and the chosen policy does not allow them.
    #[error("asset {asset:?} has {count} missing value(s), the first on {first}; {hint}")]
    MissingValues {
        /// The asset.
        asset: String,
        /// How many are missing.
        count: usize,
        /// The first missing date.
        first: chrono::NaiveDate,
        /// What to do about it.
        hint: String,
    },

    /// A price is zero or negative (returns would be undefined).
    #[error("asset {asset:?} has a non-positive price {value} on {date}; prices must be > 0")]
    NonPositivePrice {
        /// The asset.
        asset: String,
        /// The date.
        date: chrono::NaiveDate,
        /// The price found.
        value: f64,
    },

    /// A value is infinite, or a return is ≤ −100 %.
    #[error("asset {asset:?} has an invalid value {value} on {date}: {reason}")]
    InvalidValue {
        /// The asset.
        asset: String,
        /// The date.
        date: chrono::NaiveDate,
        /// The value found.
        value: f64,
        /// Why it is invalid.
        reason: String,
    },

    /// An operation needs more rows than the panel has.
    #[error("{operation} needs at least {needed} rows, the panel has {got}")]
    TooFewRows {
        /// What was attempted.
        operation: String,
        /// Rows needed.
        needed: usize,
        /// Rows available.
        got: usize,
    },

    /// An asset name is not in the panel.
    #[error("unknown asset {name:?}; the panel has {available:?}")]
    UnknownAsset {
        /// The name asked for.
        name: String,
        /// The names available.
        available: Vec<String>,
    },

    /// A parameter is out of its allowed range.
    #[error("{parameter} {message}")]
    InvalidParameter {
        /// The parameter, by stage: match on it, not on the message.
        parameter: Parameter,
        /// The bound and the value received, e.g. "must be ≥ 2, got 1".
        message: String,
    },

    /// The optimiser did not reach a solution.
    #[error("the optimiser stopped with status {status}: {message}")]
    Solver {
        /// The solver's status.
        status: SolverStatus,
        /// What it means and what to relax.
        message: String,
    },

    /// A strategy failed on a rebalance day of a backtest.
    #[error("strategy {name:?} failed on {date}: {source}")]
    Strategy {
        /// The strategy's name.
        name: String,
        /// The decision date.
        date: chrono::NaiveDate,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },

    /// Code run for the user (a strategy, a worker) panicked; the panic was
    /// caught and its message kept.
    #[error("{what} panicked: {message}")]
    Panicked {
        /// What panicked.
        what: String,
        /// The panic's message.
        message: String,
    },

    /// A tensor operation failed on the compute device.
    #[error("the compute device failed: {0}")]
    Device(String),

    /// A CUDA GPU was asked for where it cannot work.
    #[error("CUDA GPU {ordinal} is unavailable: {reason}")]
    CudaUnavailable {
        /// The GPU asked for.
        ordinal: usize,
        /// Why, with what to do.
        reason: CudaUnavailable,
    },

    /// The problem cannot have a solution: found before solving, or
    /// explained after the solver certified it.
    #[error("infeasible {constraint}: {message}")]
    Infeasible {
        /// The constraint or target at fault (e.g. "bounds", "group tech",
        /// "target return").
        constraint: String,
        /// Why, with the figures involved.
        message: String,
    },

    /// A data source could not deliver a symbol: the network failed, the
    /// provider answered with an error, or its answer is malformed.
    #[error("{provider} could not deliver {symbol:?}: {reason}")]
    Fetch {
        /// The provider (`yahoo`, `fred`, or a custom source's name).
        provider: String,
        /// The symbol asked for.
        symbol: String,
        /// What went wrong, with the status or the part of the body at fault.
        reason: String,
    },

    /// A cache file of a data source is unreadable or inconsistent.
    #[error("cache file {path}: {reason}; delete it (or fetch with Corrupt::Refetch) to download the history again")]
    Cache {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Two inputs disagree in shape.
    #[error("shape mismatch: {0}")]
    Shape(String),

    /// Training produced a non-finite loss or gradient.
    #[error("training diverged in epoch {epoch}: the loss became {loss} (lower the learning rate, clip gradients or scale the inputs)")]
    Diverged {
        /// 1-based epoch in which it happened.
        epoch: usize,
        /// The loss seen (NaN or ±inf; NaN also for a non-finite gradient).
        loss: f64,
    },
}

/// Why a CUDA device cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CudaUnavailable {
    /// This build has no `cuda` feature.
    FeatureOff,
    /// The driver did not initialise (no NVIDIA driver, or no GPU visible).
    NoDriver {
        /// The driver's error name, e.g. `CUDA_ERROR_NO_DEVICE`.
        code: String,
    },
    /// No GPU with this ordinal.
    NoSuchDevice {
        /// The ordinal asked for.
        ordinal: usize,
        /// GPUs the driver sees.
        count: usize,
    },
    /// The driver is older than the toolkit the kernels were compiled with.
    DriverTooOld {
        /// The driver's CUDA version, e.g. "12.4".
        driver: String,
        /// The toolkit's version, e.g. "13.0" ("newer" where the build did
        /// not record it).
        toolkit: String,
    },
    /// The device answered but a first operation on it failed.
    Failed {
        /// The driver's or cuBLAS's error.
        message: String,
    },
}

impl std::fmt::Display for CudaUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CudaUnavailable::FeatureOff => write!(
                f,
                "this build has no `cuda` feature (build with `--features cuda`; tools/cuda.sh builds it without a GPU)"
            ),
            CudaUnavailable::NoDriver { code } => write!(
                f,
                "the CUDA driver did not start ({code}): no NVIDIA driver or no GPU visible to this process (check `nvidia-smi` and CUDA_VISIBLE_DEVICES)"
            ),
            CudaUnavailable::NoSuchDevice { ordinal, count } => write!(
                f,
                "there is no GPU {ordinal}: the driver sees {count} (ordinals 0..{count}); pass an ordinal below {count}"
            ),
            CudaUnavailable::DriverTooOld { driver, toolkit } => write!(
                f,
                "the driver supports CUDA {driver} but the kernels were compiled with CUDA {toolkit}: update the NVIDIA driver or build with an older toolkit"
            ),
            CudaUnavailable::Failed { message } => write!(f, "the GPU answered but a first operation failed: {message}"),
        }
    }
}

/// Why the convex solver stopped: the crate's own copy of the solver's
/// status, so no solver type leaks out of `optimize` and statuses are
/// compared as values, never as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SolverStatus {
    /// Solved to the requested tolerance.
    Solved,
    /// Solved only to a looser tolerance.
    AlmostSolved,
    /// The constraints admit no portfolio.
    PrimalInfeasible,
    /// Nearly infeasible: the constraints admit (almost) no portfolio.
    AlmostPrimalInfeasible,
    /// The objective is unbounded over the constraints.
    DualInfeasible,
    /// Nearly unbounded.
    AlmostDualInfeasible,
    /// The iteration limit was reached.
    MaxIterations,
    /// The time limit was reached.
    MaxTime,
    /// The solver hit a numerical error.
    NumericalError,
    /// The solver stopped making progress.
    InsufficientProgress,
    /// The problem could not be set up (bad settings or data).
    SetupError,
}

impl SolverStatus {
    /// Solved, to the requested or a looser tolerance.
    pub fn is_solved(self) -> bool {
        matches!(self, SolverStatus::Solved | SolverStatus::AlmostSolved)
    }

    /// No portfolio satisfies the constraints (certified or nearly so).
    pub fn is_infeasible(self) -> bool {
        matches!(self, SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible)
    }

    /// The objective is unbounded (certified or nearly so).
    pub fn is_unbounded(self) -> bool {
        matches!(self, SolverStatus::DualInfeasible | SolverStatus::AlmostDualInfeasible)
    }
}

impl std::fmt::Display for SolverStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// A date that does not parse (`"2015-13-01".parse::<NaiveDate>()?`) is a
/// parameter error, so `?` works on date literals in notebooks and doctests.
impl From<chrono::format::ParseError> for Error {
    fn from(e: chrono::format::ParseError) -> Self {
        Error::param(crate::parameter::Data::Date, format!("must be a date like 2020-01-31: {e}"))
    }
}

impl Error {
    /// Shorthand for [`Error::Infeasible`].
    #[cfg(feature = "optimize")]
    pub(crate) fn infeasible(constraint: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Infeasible { constraint: constraint.into(), message: message.into() }
    }

    /// The error behind a strategy's failure ([`Error::Strategy`]'s
    /// source), or the error itself.
    pub fn root(&self) -> &Error {
        match self {
            Error::Strategy { source, .. } => source.root(),
            e => e,
        }
    }

    /// Whether this is an [`Error::InvalidParameter`] naming `parameter`
    /// (`e.is_invalid(parameter::Optimize::RiskFree)`).
    pub fn is_invalid(&self, parameter: impl Into<Parameter>) -> bool {
        matches!(self, Error::InvalidParameter { parameter: p, .. } if *p == parameter.into())
    }

    /// Shorthand for [`Error::InvalidParameter`].
    pub(crate) fn param(parameter: impl Into<Parameter>, message: impl Into<String>) -> Self {
        Error::InvalidParameter { parameter: parameter.into(), message: message.into() }
    }

    /// `Ok` when `v` is finite, else an invalid `name`.
    pub(crate) fn finite(name: impl Into<Parameter>, v: f64) -> Result<()> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(Error::param(name, format!("must be finite, got {v}")))
        }
    }

    /// `Ok` when `v` is finite and above zero, else an invalid `name`.
    pub(crate) fn positive(name: impl Into<Parameter>, v: f64) -> Result<()> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(Error::param(name, format!("must be > 0 and finite, got {v}")))
        }
    }

    /// `Ok` when no name repeats, else an invalid `what` naming the first
    /// repeated one (names are matched by text, so a repeat would shadow).
    pub(crate) fn unique<S: AsRef<str>>(what: impl Into<Parameter>, names: impl IntoIterator<Item = S>) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for n in names {
            if !seen.insert(n.as_ref().to_string()) {
                return Err(Error::param(what, format!("must be unique, {:?} appears twice", n.as_ref())));
            }
        }
        Ok(())
    }
}
