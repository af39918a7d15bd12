//! Risk terms: each writes its own epigraph or quadratic form into the
//! conic program, so an objective can minimise, penalise or cap any of
//! them. A new risk measure is a new file here.

mod cvar;
mod deviation;
mod drawdown;
mod evar;
mod owa;
mod peaks;
mod reduce;
mod rlvar;
mod sqp;
mod variance;

pub(crate) use cvar::Cvar;
pub(crate) use evar::optimum as evar_optimum;
pub(crate) use reduce::centred;
pub(crate) use variance::{add_quadratic, diagonal_share, volatility_entries, StdDev, Variance};

use crate::parameter::Optimize as Param;
use ndarray::{ArrayView1, ArrayView2};

use super::problem::{Block, Lin, Program};
use crate::error::{Error, Result};

/// A risk measure to minimise ([`Optimizer::min_risk`](super::Optimizer::min_risk)).
/// Every measure but variance is computed on return scenarios — the rows of
/// a returns panel, equally likely, in time order — so it is solved with
/// [`solve_scenarios`](super::Optimizer::solve_scenarios). With portfolio
/// returns $p_s = r_s^\top w$, their mean $\bar p$, and drawdowns
/// $d_s$ of the uncompounded cumulative returns from the start:
///
/// | measure | $\rho(w)$ |
/// |---|---|
/// | `Variance` | $w^\top\Sigma w$ (from the moments) |
/// | `StandardDeviation` | $\sqrt{w^\top\Sigma w}$ (from the moments) |
/// | `MeanAbsoluteDeviation` | $\frac1S\sum_s\lvert p_s - \bar p\rvert$ |
/// | `SemiDeviation` | $\sqrt{\frac{1}{S-1}\sum_s \min(p_s-\bar p, 0)^2}$ |
/// | `FirstLowerPartialMoment` | $\frac1S\sum_s \max(\bar p - p_s, 0)$ |
/// | `Cvar { beta }` | mean loss in the worst $1-\beta$ of scenarios |
/// | `Evar { beta }` | $\min_{z>0} z\ln\big(\frac{1}{(1-\beta)S}\sum_s e^{-p_s/z}\big)$ |
/// | `WorstRealization` | $\max_s(-p_s)$ |
/// | `MaxDrawdown` | $\max_s d_s$ |
/// | `AverageDrawdown` | $\frac1S\sum_s d_s$ |
/// | `Cdar { beta }` | mean drawdown in the worst $1-\beta$ of scenarios |
/// | `UlcerIndex` | $\sqrt{\frac1S\sum_s d_s^2}$ |
/// | `Edar { beta }` | $\min_{z>0} z\ln\big(\frac{1}{(1-\beta)S}\sum_s e^{d_s/z}\big)$ |
/// | `SemiVariance` | $\frac{1}{S-1}\sum_s \min(p_s-\bar p, 0)^2$ (a quadratic term, as variance) |
/// | `Flpm { mar }` | $\frac1S\sum_s \max(m - p_s, 0)$ below a minimum acceptable return $m$ |
/// | `Slpm { mar }` | $\sqrt{\frac{1}{S-1}\sum_s \max(m - p_s, 0)^2}$ below $m$ |
/// | `ValueAtRisk { beta }` | the smallest loss $\ell$ with $\frac1S\#\{s: -p_s \le \ell\} \ge \beta$ (measured, not optimised) |
/// | `DrawdownAtRisk { beta }` | the same quantile of the drawdowns (measured, not optimised) |
/// | `GiniMeanDifference` | $\frac{1}{S(S-1)}\sum_{s,t}\lvert p_s - p_t\rvert$ |
/// | `TailGini { beta }` | CVaR averaged over tail levels up to $1-\beta$ (Riskfolio-Lib's, 100 levels) |
/// | `Range` | $\max_s p_s - \min_s p_s$ |
/// | `CvarRange { beta }` | CVaR of the losses plus the mean of the best $1-\beta$ of returns |
/// | `TailGiniRange { beta }` | tail Gini of the losses plus that of the gains |
/// | `Rlvar { beta, kappa }` | EVaR with Kaniadakis' deformed logarithm (power cones; see `risk/rlvar.rs`) |
/// | `Rldar { beta, kappa }` | the same of the drawdowns |
///
/// The last five are ordered weighted averages of the returns, written
/// through one sorting network (see `risk/owa.rs`): their programs grow as
/// $S\log^2 S$, so they suit hundreds to a few thousand scenarios.
///
/// Value at risk and drawdown at risk are not convex in the weights: they
/// are measured ([`of`](Self::of)) and plotted, and an optimiser asked for
/// them answers with an error that points to CVaR and CDaR, their convex
/// upper bounds. A minimum acceptable return $m$ is per period and applies
/// to every asset, as skfolio's `min_acceptable_return`: the optimiser
/// prices the shortfall $\max((m\mathbf 1 - r_s)^\top w, 0)$, which is the
/// portfolio's below $m$ when the weights sum to 1 (what [`of`](Self::of)
/// measures on a return series).
///
/// On scenarios with probabilities (an entropy-pooled posterior,
/// [`solve_pooled`](super::Optimizer::solve_pooled)), the measures of
/// returns weigh each scenario by its probability and the drawdown measures
/// each date's drawdown along the path ([`of_weighted`](Self::of_weighted)
/// computes them), the OWA measures take their spectral forms (see
/// `risk/owa.rs`), and the relativistic measures do not take
/// probabilities.
///
/// `beta` is the confidence level (0.95 means the worst 5 %); `kappa`,
/// in (0, 1), deforms the relativistic measures from EVaR (EDaR) towards
/// the worst loss (the maximum drawdown).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum RiskMeasure {
    /// Variance of the moments' covariance.
    Variance,
    /// Standard deviation of the moments' covariance, $\sqrt{w^\top\Sigma w}$.
    StandardDeviation,
    /// Mean absolute deviation from the mean.
    MeanAbsoluteDeviation,
    /// Downside deviation below the mean (ddof 1).
    SemiDeviation,
    /// Mean shortfall below the mean.
    FirstLowerPartialMoment,
    /// Conditional value at risk at confidence `beta`.
    Cvar {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// Entropic value at risk at confidence `beta` (exponential cones).
    Evar {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// The largest loss of any scenario.
    WorstRealization,
    /// Largest drawdown of uncompounded cumulative returns.
    MaxDrawdown,
    /// Mean drawdown of uncompounded cumulative returns.
    AverageDrawdown,
    /// Conditional drawdown at risk at confidence `beta`.
    Cdar {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// Root mean square drawdown.
    UlcerIndex,
    /// Entropic drawdown at risk at confidence `beta`: EVaR of the
    /// drawdowns (exponential cones), between CDaR and the maximum drawdown.
    Edar {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// Downside variance below the mean (ddof 1): the square of the
    /// semi-deviation, a quadratic term as variance is.
    SemiVariance,
    /// First lower partial moment: mean shortfall below a minimum
    /// acceptable return `mar` (per period).
    Flpm {
        /// Minimum acceptable return per period.
        mar: f64,
    },
    /// Second lower partial moment: the semi-deviation below a minimum
    /// acceptable return `mar` (per period, ddof 1).
    Slpm {
        /// Minimum acceptable return per period.
        mar: f64,
    },
    /// Value at risk at confidence `beta`: measured, not optimised.
    ValueAtRisk {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// Drawdown at risk at confidence `beta`: measured, not optimised.
    DrawdownAtRisk {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// Gini mean difference: the mean absolute difference between two
    /// scenarios' returns.
    GiniMeanDifference,
    /// Tail Gini at confidence `beta`.
    TailGini {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// Range: the best scenario's return less the worst's.
    Range,
    /// CVaR range at confidence `beta` in both tails.
    CvarRange {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// Tail Gini range at confidence `beta` in both tails.
    TailGiniRange {
        /// Confidence level in (0, 1).
        beta: f64,
    },
    /// Relativistic value at risk at confidence `beta` (power cones):
    /// at least EVaR, at most the worst loss.
    Rlvar {
        /// Confidence level in (0, 1).
        beta: f64,
        /// Deformation in (0, 1).
        kappa: f64,
    },
    /// Relativistic drawdown at risk: RLVaR of the drawdowns, between
    /// EDaR and the maximum drawdown.
    Rldar {
        /// Confidence level in (0, 1).
        beta: f64,
        /// Deformation in (0, 1).
        kappa: f64,
    },
}

impl RiskMeasure {
    /// The names [`from_name`](Self::from_name) accepts.
    pub const NAMES: [&'static str; 24] = [
        "variance",
        "std",
        "mad",
        "semi-deviation",
        "flpm",
        "cvar",
        "evar",
        "worst",
        "max-drawdown",
        "average-drawdown",
        "cdar",
        "ulcer",
        "edar",
        "semi-variance",
        "slpm",
        "var",
        "dar",
        "gmd",
        "tail-gini",
        "range",
        "cvar-range",
        "tail-gini-range",
        "rlvar",
        "rldar",
    ];

    /// The deformation [`from_name`](Self::from_name) gives `rlvar` and
    /// `rldar`, Riskfolio-Lib's default.
    pub const KAPPA: f64 = 0.3;

    /// The measure called `name` (one of [`NAMES`](Self::NAMES)); tail
    /// measures (`cvar`, `cdar`) take the tail probability `alpha` in
    /// (0, 1), e.g. 0.05 for the worst 5 % (confidence β = 1 − α); so do
    /// `evar`, `edar`, `var`, `dar`, `tail-gini`, `cvar-range` and
    /// `tail-gini-range`, `rlvar` and `rldar` (at deformation
    /// [`KAPPA`](Self::KAPPA); [`with_kappa`](Self::with_kappa) sets
    /// another). `slpm` is below a minimum acceptable return of 0
    /// ([`with_mar`](Self::with_mar) sets another).
    pub fn from_name(name: &str, alpha: f64) -> Result<RiskMeasure> {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(Error::param(Param::Alpha, format!("must be in (0, 1), got {alpha}")));
        }
        let beta = 1.0 - alpha;
        Ok(match name {
            "variance" => RiskMeasure::Variance,
            "std" => RiskMeasure::StandardDeviation,
            "mad" => RiskMeasure::MeanAbsoluteDeviation,
            "semi-deviation" => RiskMeasure::SemiDeviation,
            "flpm" => RiskMeasure::FirstLowerPartialMoment,
            "cvar" => RiskMeasure::Cvar { beta },
            "evar" => RiskMeasure::Evar { beta },
            "worst" => RiskMeasure::WorstRealization,
            "max-drawdown" => RiskMeasure::MaxDrawdown,
            "average-drawdown" => RiskMeasure::AverageDrawdown,
            "cdar" => RiskMeasure::Cdar { beta },
            "ulcer" => RiskMeasure::UlcerIndex,
            "edar" => RiskMeasure::Edar { beta },
            "semi-variance" => RiskMeasure::SemiVariance,
            "slpm" => RiskMeasure::Slpm { mar: 0.0 },
            "var" => RiskMeasure::ValueAtRisk { beta },
            "dar" => RiskMeasure::DrawdownAtRisk { beta },
            "gmd" => RiskMeasure::GiniMeanDifference,
            "tail-gini" => RiskMeasure::TailGini { beta },
            "range" => RiskMeasure::Range,
            "cvar-range" => RiskMeasure::CvarRange { beta },
            "tail-gini-range" => RiskMeasure::TailGiniRange { beta },
            "rlvar" => RiskMeasure::Rlvar { beta, kappa: Self::KAPPA },
            "rldar" => RiskMeasure::Rldar { beta, kappa: Self::KAPPA },
            other => {
                return Err(Error::param(
                    Param::Measure,
                    format!("{other:?} is not a risk measure; choose one of {}", RiskMeasure::NAMES.join(", ")),
                ))
            }
        })
    }

    /// The ordered weighted average this measure is, if it is one.
    fn owa(&self) -> Option<owa::Kind> {
        Some(match *self {
            RiskMeasure::GiniMeanDifference => owa::Kind::GiniMeanDifference,
            RiskMeasure::TailGini { beta } => owa::Kind::TailGini { alpha: 1.0 - beta },
            RiskMeasure::Range => owa::Kind::Range,
            RiskMeasure::CvarRange { beta } => owa::Kind::CvarRange { alpha: 1.0 - beta },
            RiskMeasure::TailGiniRange { beta } => owa::Kind::TailGiniRange { alpha: 1.0 - beta },
            _ => return None,
        })
    }

    /// The lower partial moment below a minimum acceptable return `mar`
    /// (per period): the first moment for `FirstLowerPartialMoment` or
    /// `Flpm`, the second for `SemiDeviation` or `Slpm`. Other measures
    /// have no such threshold.
    pub fn with_mar(self, mar: f64) -> Result<RiskMeasure> {
        if !mar.is_finite() {
            return Err(Error::param(Param::Mar, format!("must be finite, got {mar}")));
        }
        match self {
            RiskMeasure::FirstLowerPartialMoment | RiskMeasure::Flpm { .. } => Ok(RiskMeasure::Flpm { mar }),
            RiskMeasure::SemiDeviation | RiskMeasure::Slpm { .. } => Ok(RiskMeasure::Slpm { mar }),
            other => Err(Error::param(
                Param::Mar,
                format!("applies to the lower partial moments (flpm, slpm, semi-deviation), not to {other:?}"),
            )),
        }
    }

    /// The relativistic measure (`Rlvar`, `Rldar`) at deformation `kappa`
    /// in (0, 1). Other measures have no deformation.
    pub fn with_kappa(self, kappa: f64) -> Result<RiskMeasure> {
        check_kappa(kappa)?;
        match self {
            RiskMeasure::Rlvar { beta, .. } => Ok(RiskMeasure::Rlvar { beta, kappa }),
            RiskMeasure::Rldar { beta, .. } => Ok(RiskMeasure::Rldar { beta, kappa }),
            other => Err(Error::param(
                Param::Kappa,
                format!("applies to the relativistic measures (rlvar, rldar), not to {other:?}"),
            )),
        }
    }

    /// The measure of portfolio returns whose scenarios have
    /// `probabilities` (≥ 0, summing to 1), computed directly, as
    /// [`Optimizer::solve_pooled`](super::Optimizer::solve_pooled) prices
    /// it: for the measures that weigh scenarios (see there) and the value
    /// at risk; others are an error, as are probabilities of another length
    /// or not summing to 1.
    pub fn of_weighted(&self, returns: &[f64], probabilities: &[f64]) -> Result<f64> {
        if !self.weighted() {
            return self.unweighted_error();
        }
        if probabilities.len() != returns.len() {
            return Err(Error::Shape(format!("{} probabilities for {} returns", probabilities.len(), returns.len())));
        }
        if probabilities.iter().any(|p| !(p.is_finite() && *p >= 0.0))
            || (probabilities.iter().sum::<f64>() - 1.0).abs() > 1e-9
        {
            return Err(Error::param(
                Param::Weights,
                "the scenario probabilities must be finite, ≥ 0 and sum to 1".to_string(),
            ));
        }
        let pr = || returns.iter().zip(probabilities);
        let mean: f64 = pr().map(|(r, p)| r * p).sum();
        let correction = (1.0 - probabilities.iter().map(|p| p * p).sum::<f64>()).max(f64::MIN_POSITIVE);
        let below = |m: f64, power: i32| pr().map(|(r, p)| p * (m - r).max(0.0).powi(power)).sum::<f64>();
        Ok(match *self {
            RiskMeasure::Variance => pr().map(|(r, p)| p * (r - mean).powi(2)).sum::<f64>() / correction,
            RiskMeasure::StandardDeviation => {
                (pr().map(|(r, p)| p * (r - mean).powi(2)).sum::<f64>() / correction).sqrt()
            }
            RiskMeasure::MeanAbsoluteDeviation => pr().map(|(r, p)| p * (r - mean).abs()).sum(),
            RiskMeasure::FirstLowerPartialMoment => below(mean, 1),
            RiskMeasure::Flpm { mar } => below(mar, 1),
            RiskMeasure::SemiVariance => below(mean, 2) / correction,
            RiskMeasure::SemiDeviation => (below(mean, 2) / correction).sqrt(),
            RiskMeasure::Slpm { mar } => (below(mar, 2) / correction).sqrt(),
            RiskMeasure::WorstRealization => {
                pr().filter(|(_, p)| **p > 0.0).map(|(r, _)| -r).fold(f64::NEG_INFINITY, f64::max)
            }
            RiskMeasure::Cvar { beta } => {
                // The worst 1 − β of probability, the last scenario in part.
                let alpha = 1.0 - beta;
                let mut order: Vec<usize> = (0..returns.len()).collect();
                order.sort_by(|&i, &j| returns[i].total_cmp(&returns[j]));
                let (mut mass, mut loss) = (0.0, 0.0);
                for i in order {
                    let take = probabilities[i].min(alpha - mass);
                    loss -= take * returns[i];
                    mass += take;
                    if mass >= alpha {
                        break;
                    }
                }
                loss / alpha
            }
            RiskMeasure::Evar { beta } => {
                let losses: Vec<f64> = returns.iter().map(|r| -r).collect();
                let worst = pr().filter(|(_, p)| **p > 0.0).map(|(r, _)| -r).fold(f64::NEG_INFINITY, f64::max);
                evar::optimum_weighted(&losses, probabilities, beta).0.min(worst)
            }
            RiskMeasure::ValueAtRisk { beta } => {
                // The smallest loss ℓ with P(loss ≤ ℓ) ≥ β: minus the first
                // return (ascending) at which the probability up to it exceeds
                // 1 − β. A sum within 1e-12 of 1 − β is a tie, and a tie takes
                // the lower loss, as the equally likely form does.
                let alpha = 1.0 - beta;
                let mut order: Vec<usize> = (0..returns.len()).filter(|&i| probabilities[i] > 0.0).collect();
                order.sort_by(|&i, &j| returns[i].total_cmp(&returns[j]));
                let mut mass = 0.0;
                let pick = order.iter().copied().find(|&i| {
                    mass += probabilities[i];
                    mass > alpha + 1e-12
                });
                -returns[pick.or(order.last().copied()).unwrap_or(0)]
            }
            RiskMeasure::GiniMeanDifference
            | RiskMeasure::TailGini { .. }
            | RiskMeasure::Range
            | RiskMeasure::CvarRange { .. }
            | RiskMeasure::TailGiniRange { .. } => {
                self.owa().expect("an ordered weighted average").of_weighted(returns, probabilities)
            }
            RiskMeasure::MaxDrawdown
            | RiskMeasure::AverageDrawdown
            | RiskMeasure::Cdar { .. }
            | RiskMeasure::UlcerIndex
            | RiskMeasure::Edar { .. } => {
                // Drawdowns along the path in time order, each date's
                // weighed by its probability (the maximum by none).
                let d = drawdowns(returns);
                let weighted = |f: fn(f64) -> f64| d.iter().zip(probabilities).map(|(d, p)| p * f(*d)).sum::<f64>();
                let gains: Vec<f64> = d.iter().map(|d| -d).collect();
                match *self {
                    RiskMeasure::MaxDrawdown => d.iter().copied().fold(0.0, f64::max),
                    RiskMeasure::AverageDrawdown => weighted(|d| d),
                    RiskMeasure::UlcerIndex => weighted(|d| d * d).sqrt(),
                    RiskMeasure::Cdar { beta } => RiskMeasure::Cvar { beta }.of_weighted(&gains, probabilities)?,
                    RiskMeasure::Edar { beta } => RiskMeasure::Evar { beta }.of_weighted(&gains, probabilities)?,
                    _ => return self.unweighted_error(),
                }
            }
            _ => return self.unweighted_error(),
        })
    }

    fn unweighted_error(&self) -> Result<f64> {
        Err(Error::param(
            Param::Measure,
            format!("{self:?} is not defined here on scenarios with probabilities; see Optimizer::solve_pooled"),
        ))
    }

    /// The measure of a series of portfolio returns (in time order),
    /// computed directly — what the optimiser's value is checked against.
    pub fn of(&self, returns: &[f64]) -> f64 {
        let s = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / s;
        let drawdowns = || drawdowns(returns);
        let tail_mean = |mut x: Vec<f64>, beta: f64| {
            // Rockafellar–Uryasev at the optimal α (an order statistic).
            x.sort_by(|a, b| b.total_cmp(a));
            let k = (1.0 - beta) * s;
            let whole = k.floor() as usize;
            let head: f64 = x[..whole.min(x.len())].iter().sum();
            let part = if whole < x.len() { (k - whole as f64) * x[whole] } else { 0.0 };
            (head + part) / k
        };
        match *self {
            RiskMeasure::Variance => returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (s - 1.0),
            RiskMeasure::StandardDeviation => RiskMeasure::Variance.of(returns).sqrt(),
            RiskMeasure::MeanAbsoluteDeviation => returns.iter().map(|r| (r - mean).abs()).sum::<f64>() / s,
            RiskMeasure::SemiDeviation => {
                (returns.iter().map(|r| (r - mean).min(0.0).powi(2)).sum::<f64>() / (s - 1.0)).sqrt()
            }
            RiskMeasure::FirstLowerPartialMoment => returns.iter().map(|r| (mean - r).max(0.0)).sum::<f64>() / s,
            RiskMeasure::Cvar { beta } => tail_mean(returns.iter().map(|r| -r).collect(), beta),
            RiskMeasure::Evar { beta } => evar::of(returns, beta),
            RiskMeasure::WorstRealization => returns.iter().map(|r| -r).fold(f64::NEG_INFINITY, f64::max),
            RiskMeasure::MaxDrawdown => drawdowns().into_iter().fold(0.0, f64::max),
            RiskMeasure::AverageDrawdown => drawdowns().iter().sum::<f64>() / s,
            RiskMeasure::Cdar { beta } => tail_mean(drawdowns(), beta),
            RiskMeasure::UlcerIndex => (drawdowns().iter().map(|d| d * d).sum::<f64>() / s).sqrt(),
            RiskMeasure::Edar { beta } => evar::of_losses(&drawdowns(), beta),
            RiskMeasure::SemiVariance => RiskMeasure::SemiDeviation.of(returns).powi(2),
            RiskMeasure::Flpm { mar } => returns.iter().map(|r| (mar - r).max(0.0)).sum::<f64>() / s,
            RiskMeasure::Slpm { mar } => {
                (returns.iter().map(|r| (mar - r).max(0.0).powi(2)).sum::<f64>() / (s - 1.0)).sqrt()
            }
            RiskMeasure::ValueAtRisk { beta } => quantile(returns.iter().map(|r| -r).collect(), beta),
            RiskMeasure::DrawdownAtRisk { beta } => quantile(drawdowns(), beta),
            RiskMeasure::GiniMeanDifference
            | RiskMeasure::TailGini { .. }
            | RiskMeasure::Range
            | RiskMeasure::CvarRange { .. }
            | RiskMeasure::TailGiniRange { .. } => owa::of(returns, self.owa().expect("an ordered weighted average")),
            RiskMeasure::Rlvar { beta, kappa } => rlvar::of(returns, beta, kappa),
            RiskMeasure::Rldar { beta, kappa } => rlvar::of_losses(&drawdowns(), beta, kappa),
        }
    }

    /// Each asset's contribution to the measure of the portfolio `weights`
    /// on the return `scenarios` (periods × assets, in time order): the
    /// Euler term $w_i\,\partial\rho/\partial w_i$, divided by 2 for
    /// variance, so the contributions sum to $\rho(w)$. Variance and
    /// standard deviation are taken on the scenarios' sample covariance.
    ///
    /// The derivative is a central difference with step $10^{-6}\sum_i|w_i|$,
    /// as Riskfolio-Lib and skfolio compute it. Where the measure has a kink
    /// at `weights` (ties at a piecewise-linear measure's breakpoints, as at
    /// a risk-budgeting optimum for CVaR or MAD), it returns the mean of
    /// the two one-sided derivatives: one element of the subdifferential,
    /// not necessarily the one the optimality conditions use.
    pub fn contributions(
        &self,
        scenarios: ArrayView2<'_, f64>,
        weights: ndarray::ArrayView1<'_, f64>,
    ) -> Result<ndarray::Array1<f64>> {
        let n = weights.len();
        if scenarios.ncols() != n {
            return Err(Error::Shape(format!("{} weights for scenarios of {} assets", n, scenarios.ncols())));
        }
        let scenarios = self.scenarios(Some(scenarios))?;
        if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
            return Err(Error::param(Param::Weights, format!("weight {i} is {}; give finite weights", weights[i])));
        }
        let h = 1e-6 * weights.iter().map(|w| w.abs()).sum::<f64>().max(f64::MIN_POSITIVE);
        let degree = if matches!(self, RiskMeasure::Variance | RiskMeasure::SemiVariance) { 2.0 } else { 1.0 };
        // A minimum acceptable return applies to every asset: m·Σw for the
        // portfolio, which keeps the measure homogeneous.
        let at = |w: &ndarray::Array1<f64>| {
            let m = match *self {
                RiskMeasure::Flpm { mar } => RiskMeasure::Flpm { mar: mar * w.sum() },
                RiskMeasure::Slpm { mar } => RiskMeasure::Slpm { mar: mar * w.sum() },
                other => other,
            };
            m.of(&scenarios.dot(w).to_vec())
        };
        let base = weights.to_owned();
        Ok((0..n)
            .map(|i| {
                let (mut up, mut down) = (base.clone(), base.clone());
                up[i] += h;
                down[i] -= h;
                weights[i] * (at(&up) - at(&down)) / (2.0 * h) / degree
            })
            .collect())
    }

    /// The measure's risk term on these scenarios (`None`: variance, from
    /// the moments).
    pub(crate) fn term<'a>(
        &self,
        m: &'a crate::estimate::Moments,
        scenarios: Option<ArrayView2<'a, f64>>,
        probabilities: Option<ArrayView1<'a, f64>>,
    ) -> Result<Option<Box<dyn Risk + 'a>>> {
        use deviation::{Deviation, Kind as D};
        use drawdown::{Drawdown, Kind as Dd};
        if probabilities.is_some() && !self.weighted() {
            return Err(Error::param(
                Param::Measure,
                format!(
                    "{self:?} is not defined here on scenarios with probabilities (no reference weighs the \
                     relativistic measures); choose variance, a deviation, a lower partial moment, CVaR, EVaR, \
                     the worst realisation, a drawdown measure or an ordered weighted average"
                ),
            ));
        }
        // Scenario measures read the scenarios, checked once here.
        let scenarios = || self.scenarios(scenarios);
        let dev = |kind| -> Result<Box<dyn Risk + 'a>> {
            Ok(Box::new(Deviation { scenarios: scenarios()?, probabilities, kind }))
        };
        let dd = |kind| -> Result<Box<dyn Risk + 'a>> {
            Ok(Box::new(Drawdown { scenarios: scenarios()?, probabilities, kind }))
        };
        Ok(Some(match *self {
            RiskMeasure::Variance => return Ok(None),
            RiskMeasure::StandardDeviation => Box::new(StdDev(m)),
            RiskMeasure::MeanAbsoluteDeviation => dev(D::MeanAbsolute)?,
            RiskMeasure::SemiDeviation => dev(D::Semi)?,
            RiskMeasure::FirstLowerPartialMoment => dev(D::LowerPartial)?,
            RiskMeasure::WorstRealization => dev(D::Worst)?,
            RiskMeasure::Cvar { beta } => Box::new(Cvar { scenarios: scenarios()?, probabilities, beta }),
            RiskMeasure::Evar { beta } => Box::new(evar::Evar { scenarios: scenarios()?, probabilities, beta }),
            RiskMeasure::MaxDrawdown => dd(Dd::Max)?,
            RiskMeasure::AverageDrawdown => dd(Dd::Average)?,
            RiskMeasure::Cdar { beta } => dd(Dd::Cdar { beta })?,
            RiskMeasure::UlcerIndex => dd(Dd::Ulcer)?,
            RiskMeasure::Edar { beta } => dd(Dd::Edar { beta })?,
            RiskMeasure::SemiVariance => dev(D::SemiVariance)?,
            RiskMeasure::Flpm { mar } => dev(D::LowerPartialAt { mar })?,
            RiskMeasure::Slpm { mar } => dev(D::SemiAt { mar })?,
            RiskMeasure::GiniMeanDifference
            | RiskMeasure::TailGini { .. }
            | RiskMeasure::Range
            | RiskMeasure::CvarRange { .. }
            | RiskMeasure::TailGiniRange { .. } => {
                let kind = self.owa().expect("an ordered weighted average");
                match probabilities {
                    None => Box::new(owa::Owa { scenarios: scenarios()?, kind }),
                    Some(probabilities) => Box::new(owa::WeightedOwa { scenarios: scenarios()?, probabilities, kind }),
                }
            }
            RiskMeasure::Rlvar { beta, kappa } => Box::new(rlvar::Rlvar { scenarios: scenarios()?, beta, kappa }),
            RiskMeasure::Rldar { beta, kappa } => dd(Dd::Rldar { beta, kappa })?,
            RiskMeasure::ValueAtRisk { .. } | RiskMeasure::DrawdownAtRisk { .. } => {
                return Err(Error::param(
                    Param::Measure,
                    format!(
                        "{self:?} is not convex in the weights, so it is measured (RiskMeasure::of), not optimised; \
                         optimise CVaR or CDaR, its convex upper bound, instead"
                    ),
                ))
            }
        }))
    }

    /// Whether the measure is defined on scenarios with probabilities.
    fn weighted(&self) -> bool {
        matches!(
            self,
            RiskMeasure::Variance
                | RiskMeasure::StandardDeviation
                | RiskMeasure::MeanAbsoluteDeviation
                | RiskMeasure::SemiDeviation
                | RiskMeasure::FirstLowerPartialMoment
                | RiskMeasure::WorstRealization
                | RiskMeasure::Cvar { .. }
                | RiskMeasure::Evar { .. }
                | RiskMeasure::SemiVariance
                | RiskMeasure::Flpm { .. }
                | RiskMeasure::Slpm { .. }
                | RiskMeasure::ValueAtRisk { .. }
                | RiskMeasure::MaxDrawdown
                | RiskMeasure::AverageDrawdown
                | RiskMeasure::Cdar { .. }
                | RiskMeasure::UlcerIndex
                | RiskMeasure::Edar { .. }
                | RiskMeasure::GiniMeanDifference
                | RiskMeasure::TailGini { .. }
                | RiskMeasure::Range
                | RiskMeasure::CvarRange { .. }
                | RiskMeasure::TailGiniRange { .. }
        )
    }

    /// The scenarios a scenario measure needs: present, at least two, and
    /// for a tail measure a valid β with at least 1/(1 − β) of them.
    fn scenarios<'a>(&self, scenarios: Option<ArrayView2<'a, f64>>) -> Result<ArrayView2<'a, f64>> {
        let scenarios = scenarios.ok_or_else(|| {
            Error::param(
                Param::MinRisk,
                "needs return scenarios: call .solve_scenarios(&returns) instead of .solve(&moments)",
            )
        })?;
        if let RiskMeasure::Cvar { beta }
        | RiskMeasure::Cdar { beta }
        | RiskMeasure::Evar { beta }
        | RiskMeasure::Edar { beta }
        | RiskMeasure::ValueAtRisk { beta }
        | RiskMeasure::DrawdownAtRisk { beta }
        | RiskMeasure::TailGini { beta }
        | RiskMeasure::CvarRange { beta }
        | RiskMeasure::TailGiniRange { beta }
        | RiskMeasure::Rlvar { beta, .. }
        | RiskMeasure::Rldar { beta, .. } = *self
        {
            if !(beta > 0.0 && beta < 1.0) {
                return Err(Error::param(Param::Beta, format!("must be in (0, 1), got {beta}")));
            }
            let needed = (1.0 / (1.0 - beta)).ceil() as usize;
            if scenarios.nrows() < needed {
                return Err(Error::TooFewRows {
                    operation: format!("a tail measure at confidence {beta} (at least 1/(1 − β) scenarios)"),
                    needed,
                    got: scenarios.nrows(),
                });
            }
        }
        if let RiskMeasure::Rlvar { kappa, .. } | RiskMeasure::Rldar { kappa, .. } = *self {
            check_kappa(kappa)?;
        }
        if scenarios.nrows() < 2 {
            return Err(Error::TooFewRows {
                operation: "a scenario risk measure".into(),
                needed: 2,
                got: scenarios.nrows(),
            });
        }
        Ok(scenarios)
    }
}

/// A relativistic measure's deformation, in (0, 1).
fn check_kappa(kappa: f64) -> Result<()> {
    if kappa > 0.0 && kappa < 1.0 {
        Ok(())
    } else {
        Err(Error::param(Param::Kappa, format!("must be in (0, 1), got {kappa}")))
    }
}

/// The drawdowns $d_s = u_s - c_s \ge 0$ of returns in time order, on
/// uncompounded cumulative returns $c_s$ with the running peak $u_s$ (the
/// start, 0, counts as a peak).
fn drawdowns(returns: &[f64]) -> Vec<f64> {
    let (mut c, mut peak) = (0.0f64, 0.0f64);
    returns
        .iter()
        .map(|r| {
            c += r;
            peak = peak.max(c);
            peak - c
        })
        .collect()
}

/// The empirical β-quantile of `x`: the smallest value $v$ with at least a
/// share β of `x` at or below it. $\beta S$ within $10^{-9}$ of an integer
/// counts as that integer, so 0.95 of 100 is the 95th value, not the 96th.
fn quantile(mut x: Vec<f64>, beta: f64) -> f64 {
    x.sort_by(f64::total_cmp);
    let k = (beta * x.len() as f64 - 1e-9).ceil().clamp(1.0, x.len() as f64) as usize;
    x[k - 1]
}

impl<R: Risk + ?Sized> Risk for Box<R> {
    fn add(&self, p: &mut Program, w: Block, scale: f64) -> Result<()> {
        (**self).add(p, w, scale)
    }
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        (**self).epigraph(p, w)
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn reduced(&self) -> Option<Box<dyn reduce::Reduction + '_>> {
        (**self).reduced()
    }
}

/// A convex risk measure of the weights `w`.
pub(crate) trait Risk {
    /// Adds $\text{scale} \cdot \rho(w)$ to the objective (auxiliary
    /// variables and rows as the measure needs).
    fn add(&self, p: &mut Program, w: Block, scale: f64) -> Result<()> {
        let value = self.epigraph(p, w)?;
        p.minimise(value * scale);
        Ok(())
    }

    /// Writes the measure's auxiliary variables and rows, and returns a
    /// linear expression $e^\top x$ with $e^\top x \ge \rho(w)$ at every
    /// feasible point and equality at some, so minimising or capping it
    /// minimises or caps $\rho$. Variance, a quadratic form, has none.
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin>;

    /// The measure's name in labels and messages.
    fn name(&self) -> String;

    /// The measure as per-scenario piecewise-linear terms, when it is one,
    /// for the exact scenario reduction of its minimum ([`reduce`]).
    fn reduced(&self) -> Option<Box<dyn reduce::Reduction + '_>> {
        None
    }
}
