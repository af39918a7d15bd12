//! Performance metrics of a periodic return series, with the Sharpe ratio's
//! significance.
//!
//! With periodic net returns $r_1..r_T$, $k$ periods per year and a
//! risk-free rate $r_f$ per year ($r_f/k$ per period):
//!
//! * CAGR $= W_T^{k/T} - 1$, $W_T = \prod (1 + r_t)$; volatility
//!   $= \sqrt{k}\,s_r$;
//! * Sharpe $= \sqrt{k}\,\overline{(r - r_f/k)} / s_r$; Sortino $= \sqrt{k}\,
//!   \overline{(r - r_f/k)} / \sqrt{\tfrac1T\sum \min(r_t - r_f/k, 0)^2}$;
//! * maximum drawdown of $W$ with its dates; Calmar $=$ CAGR / max drawdown;
//! * hit rate: share of periods with $r_t > 0$; skewness and excess
//!   kurtosis as in [`crate::stats`]; historical 95 % VaR (the 5th
//!   percentile, interpolated) and CVaR (mean of the worst
//!   $\lfloor 0.05(T-1)\rfloor + 1$ returns), both as positive losses per
//!   period;
//! * the standard error of the periodic Sharpe ratio $\hat{SR}$ under
//!   non-normal, i.i.d. returns (Mertens 2002, as used by Lo 2002 and
//!   Bailey & López de Prado 2012):
//!   $\sigma(\hat{SR}) = \sqrt{(1 - \gamma_3 \hat{SR} + \tfrac{\gamma_4 - 1}{4}\hat{SR}^2)/(T-1)}$
//!   with $\gamma_3$ the skewness and $\gamma_4$ the (non-excess) kurtosis;
//! * the probabilistic Sharpe ratio against a benchmark $SR^*$:
//!   $PSR = \Phi\big((\hat{SR} - SR^*)/\sigma(\hat{SR})\big)$;
//! * the deflated Sharpe ratio given $N$ strategies tried, whose Sharpe
//!   ratios have variance $V$: $PSR$ with
//!   $SR^* = \sqrt{V}\,\big((1-\gamma)\Phi^{-1}(1 - 1/N) + \gamma\,\Phi^{-1}(1 - 1/(Ne))\big)$,
//!   $\gamma \approx 0.5772$ (Bailey & López de Prado 2014).

use chrono::NaiveDate;

use crate::stats;

/// Metrics of one return series. Ratios are annualised; VaR/CVaR, Sharpe
/// standard error and PSR refer to periodic returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Number of periods.
    pub periods: usize,
    /// Annualised arithmetic mean return, $k\,\bar r$.
    pub mean: f64,
    /// Compound annual growth rate.
    pub cagr: f64,
    /// Annualised volatility.
    pub volatility: f64,
    /// Annualised Sharpe ratio over the risk-free rate.
    pub sharpe: f64,
    /// Annualised Sortino ratio.
    pub sortino: f64,
    /// Maximum drawdown (positive fraction).
    pub max_drawdown: f64,
    /// Peak and trough dates of the maximum drawdown.
    pub drawdown_dates: Option<(NaiveDate, NaiveDate)>,
    /// CAGR / maximum drawdown.
    pub calmar: f64,
    /// Share of periods with a positive return.
    pub hit_rate: f64,
    /// Skewness of periodic returns.
    pub skew: f64,
    /// Excess kurtosis of periodic returns.
    pub kurtosis: f64,
    /// Historical 95 % value at risk (a positive loss per period).
    pub var95: f64,
    /// Historical 95 % conditional value at risk (a positive loss per period).
    pub cvar95: f64,
    /// Periodic (not annualised) Sharpe ratio.
    pub sharpe_periodic: f64,
    /// Standard error of the periodic Sharpe ratio (Mertens).
    pub sharpe_se: f64,
}

/// Standard normal CDF, $\Phi(x) = \tfrac12\operatorname{erfc}(-x/\sqrt2)$.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Inverse standard normal CDF (Acklam's rational approximation refined by
/// one Newton step).
pub fn normal_quantile(p: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return if p <= 0.0 { f64::NEG_INFINITY } else { f64::INFINITY };
    }
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let pl = 0.02425;
    let x = if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Newton step on Φ(x) − p.
    let e = normal_cdf(x) - p;
    let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    x - e / pdf
}

impl Metrics {
    /// Computes the metrics of `returns` (periodic simple returns, one per
    /// date in `dates`), with `periods_per_year` (> 0) and an annual
    /// `risk_free`. Figures that do not exist for these returns are NaN:
    /// all of them for an empty series, the Sortino ratio without a losing
    /// period, the Calmar ratio without a drawdown.
    pub fn compute(returns: &[f64], dates: &[NaiveDate], periods_per_year: f64, risk_free: f64) -> Metrics {
        Metrics::compute_from(returns, dates, None, periods_per_year, risk_free)
    }

    /// As [`compute`](Self::compute), with the date of the wealth before the
    /// first return (`start`; the first return's date when `None`), so that
    /// a drawdown from the very start is dated from it.
    pub(crate) fn compute_from(
        returns: &[f64],
        dates: &[NaiveDate],
        start: Option<NaiveDate>,
        periods_per_year: f64,
        risk_free: f64,
    ) -> Metrics {
        let k = periods_per_year;
        let n = returns.len();
        let rf = risk_free / k;
        let excess: Vec<f64> = returns.iter().map(|r| r - rf).collect();
        let sd = stats::std(returns);
        let mean_ex = stats::mean(&excess);
        let downside = (excess.iter().map(|e| e.min(0.0).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt();
        let g = stats::growth(returns, k);
        let (cagr, mdd) = (g.cagr, g.max_drawdown);
        // wealth[i] is after returns[i-1]; index 0 is before the first return.
        let date_of = |i: usize| if i == 0 { start.or(dates.first().copied()) } else { dates.get(i - 1).copied() };
        let drawdown_dates = g.peak_trough.and_then(|(p, t)| Some((date_of(p)?, date_of(t)?)));
        let mut sorted: Vec<f64> = returns.iter().copied().filter(|r| r.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        // The worst ⌊0.05 (n − 1)⌋ + 1 returns (empyrical's convention).
        let tail = (((sorted.len().max(1) - 1) as f64 * 0.05).floor() as usize + 1).min(sorted.len());
        let var95 = if sorted.is_empty() { f64::NAN } else { -quantile_sorted(&sorted, 0.05) };
        let cvar95 = if sorted.is_empty() { f64::NAN } else { -stats::mean(&sorted[..tail]) };
        let sr = mean_ex / sd;
        let g3 = stats::skew(returns);
        let g4 = stats::excess_kurtosis(returns) + 3.0;
        let se = ((1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr * sr) / (n as f64 - 1.0)).sqrt();
        Metrics {
            periods: n,
            mean: stats::mean(returns) * k,
            cagr,
            volatility: sd * k.sqrt(),
            sharpe: sr * k.sqrt(),
            sortino: if downside > 0.0 { mean_ex / downside * k.sqrt() } else { f64::NAN },
            max_drawdown: mdd,
            drawdown_dates,
            calmar: if mdd > 0.0 { cagr / mdd } else { f64::NAN },
            hit_rate: returns.iter().filter(|r| **r > 0.0).count() as f64 / n.max(1) as f64,
            skew: g3,
            kurtosis: g4 - 3.0,
            var95,
            cvar95,
            sharpe_periodic: sr,
            sharpe_se: se,
        }
    }

    /// Probabilistic Sharpe ratio: the probability that the true periodic
    /// Sharpe ratio exceeds `benchmark_periodic`, given the estimate and its
    /// standard error.
    pub fn psr(&self, benchmark_periodic: f64) -> f64 {
        normal_cdf((self.sharpe_periodic - benchmark_periodic) / self.sharpe_se)
    }

    /// Deflated Sharpe ratio: the PSR against the Sharpe ratio expected from
    /// the best of `trials` strategies with no skill, whose periodic Sharpe
    /// ratios vary with `trial_variance`.
    pub fn dsr(&self, trials: usize, trial_variance: f64) -> f64 {
        self.psr(expected_max_sharpe(trials, trial_variance))
    }
}

/// Expected maximum of `trials` periodic Sharpe ratios with variance
/// `variance` under no skill (Bailey & López de Prado 2014).
pub fn expected_max_sharpe(trials: usize, variance: f64) -> f64 {
    if trials < 2 {
        return 0.0;
    }
    const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
    let n = trials as f64;
    variance.max(0.0).sqrt()
        * ((1.0 - EULER_GAMMA) * normal_quantile(1.0 - 1.0 / n)
            + EULER_GAMMA * normal_quantile(1.0 - 1.0 / (n * std::f64::consts::E)))
}

/// Linear-interpolation quantile of sorted data (numpy's default).
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_functions_match_tabulated_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-9);
        assert!((normal_cdf(1.96) - 0.975_002_104_851_780).abs() < 1e-14);
        assert!((normal_cdf(-1.0) - 0.158_655_253_931_457).abs() < 1e-14);
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_quantile(0.01) + 2.326_347_874_040_841).abs() < 1e-12);
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        // numpy.quantile([1, 2, 3, 4], 0.05) = 1.15
        assert!((quantile_sorted(&[1.0, 2.0, 3.0, 4.0], 0.05) - 1.15).abs() < 1e-12);
    }
}
