//! Small descriptive statistics shared by every stage.
//!
//! All functions skip `NaN` entries (an asset that has not started yet) and
//! return `NaN` when too few observations remain, so callers decide how to
//! report it. Moments use the sample definitions:
//!
//! * mean $\bar x = \frac1n\sum x_i$, standard deviation with $n-1$;
//! * skewness $g_1 = m_3 / m_2^{3/2}$ and excess kurtosis
//!   $g_2 = m_4 / m_2^2 - 3$, with $m_k = \frac1n \sum (x_i-\bar x)^k$
//!   (the biased, population-moment form that `scipy.stats.skew` and
//!   `scipy.stats.kurtosis` return by default);
//! * maximum drawdown $\max_t \left(1 - W_t / \max_{s\le t} W_s\right)$ of a
//!   wealth path $W$.

/// Values that are not `NaN`.
fn finite(x: &[f64]) -> impl Iterator<Item = f64> + '_ {
    x.iter().copied().filter(|v| !v.is_nan())
}

/// Mean of the non-`NaN` values.
pub fn mean(x: &[f64]) -> f64 {
    let (s, n) = finite(x).fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// Central moments $m_2, m_3, m_4$ (divided by $n$) and the count.
fn central_moments(x: &[f64]) -> (f64, f64, f64, usize) {
    let m = mean(x);
    let (mut m2, mut m3, mut m4, mut n) = (0.0, 0.0, 0.0, 0usize);
    for v in finite(x) {
        let d = v - m;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
        n += 1;
    }
    let nf = n as f64;
    (m2 / nf, m3 / nf, m4 / nf, n)
}

/// Sample standard deviation (divisor $n-1$).
pub fn std(x: &[f64]) -> f64 {
    let (m2, _, _, n) = central_moments(x);
    if n < 2 {
        f64::NAN
    } else {
        (m2 * n as f64 / (n as f64 - 1.0)).sqrt()
    }
}

/// Skewness $m_3 / m_2^{3/2}$.
pub fn skew(x: &[f64]) -> f64 {
    let (m2, m3, _, n) = central_moments(x);
    if n < 3 || m2 == 0.0 {
        f64::NAN
    } else {
        m3 / m2.powf(1.5)
    }
}

/// Excess kurtosis $m_4 / m_2^2 - 3$ (0 for a normal distribution).
pub fn excess_kurtosis(x: &[f64]) -> f64 {
    let (m2, _, m4, n) = central_moments(x);
    if n < 4 || m2 == 0.0 {
        f64::NAN
    } else {
        m4 / (m2 * m2) - 3.0
    }
}

/// Pearson correlation over the positions where both are not `NaN`.
pub fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> =
        x.iter().zip(y).filter(|(a, b)| !a.is_nan() && !b.is_nan()).map(|(a, b)| (*a, *b)).collect();
    let n = pairs.len();
    if n < 2 {
        return f64::NAN;
    }
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in pairs {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        f64::NAN
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Indices of `x` from its largest value to its smallest; ties keep their
/// order (the sort is stable).
pub fn descending(x: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[b].total_cmp(&x[a]));
    idx
}

/// Average ranks, 1-based: tied values share the mean of the ranks they
/// span (the convention of Spearman's coefficient). `NaN`s sort last.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            out[k] = r;
        }
        i = j + 1;
    }
    out
}

/// Spearman's rank correlation: Pearson's correlation of the average ranks
/// (ties handled), over the positions where both are not `NaN`. `NaN` when
/// fewer than two pairs remain or either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (a, b): (Vec<f64>, Vec<f64>) = x.iter().zip(y).filter(|(a, b)| !a.is_nan() && !b.is_nan()).unzip();
    correlation(&ranks(&a), &ranks(&b))
}

/// Maximum drawdown of a wealth path, as a positive fraction, with the
/// indices of the peak and the trough. `NaN` entries are skipped.
/// Returns `(0.0, None)` when the path never falls.
pub fn max_drawdown(wealth: &[f64]) -> (f64, Option<(usize, usize)>) {
    let mut peak = f64::NAN;
    let mut peak_at = 0;
    let mut worst = 0.0;
    let mut at = None;
    for (i, &w) in wealth.iter().enumerate() {
        if w.is_nan() {
            continue;
        }
        if peak.is_nan() || w > peak {
            peak = w;
            peak_at = i;
        }
        let dd = 1.0 - w / peak;
        if dd > worst {
            worst = dd;
            at = Some((peak_at, i));
        }
    }
    (worst, at)
}

/// Compounding of a return series: CAGR and maximum drawdown of the wealth
/// path $W_0 = 1$, $W_i = \prod_{s \le i}(1 + r_s)$.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// $W_n^{k/n} - 1$ for $n$ returns and $k$ periods a year (`NaN` if $n = 0$).
    pub cagr: f64,
    /// Maximum drawdown of $W$ (positive fraction).
    pub max_drawdown: f64,
    /// Peak and trough as indices into $W$: index 0 is before the first
    /// return, index $i \ge 1$ is after return $i - 1$.
    pub peak_trough: Option<(usize, usize)>,
}

/// [`Growth`] of periodic simple returns with `periods_per_year`.
pub fn growth(returns: &[f64], periods_per_year: f64) -> Growth {
    let mut wealth = Vec::with_capacity(returns.len() + 1);
    let mut w = 1.0;
    wealth.push(w);
    for r in returns {
        w *= 1.0 + r;
        wealth.push(w);
    }
    let n = returns.len();
    let (max_drawdown, peak_trough) = max_drawdown(&wealth);
    Growth { cagr: if n > 0 { w.powf(periods_per_year / n as f64) - 1.0 } else { f64::NAN }, max_drawdown, peak_trough }
}

/// Median of the non-`NaN` values.
pub fn median(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = finite(x).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_match_hand_computed_values() {
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!((mean(&x) - 4.0).abs() < 1e-15);
        // deviations -3,-2,-1,0,6: sum sq = 50, /4 = 12.5
        assert!((std(&x) - 12.5f64.sqrt()).abs() < 1e-15);
        // m2 = 10, m3 = (-27-8-1+0+216)/5 = 36, m4 = (81+16+1+0+1296)/5 = 278.8
        assert!((skew(&x) - 36.0 / 10f64.powf(1.5)).abs() < 1e-12);
        assert!((excess_kurtosis(&x) - (278.8 / 100.0 - 3.0)).abs() < 1e-12);
    }

    #[test]
    fn nan_is_skipped_and_short_input_is_nan() {
        assert!((mean(&[f64::NAN, 1.0, 3.0]) - 2.0).abs() < 1e-15);
        assert!(std(&[1.0]).is_nan());
        assert!(mean(&[]).is_nan());
    }

    #[test]
    fn drawdown_finds_peak_and_trough() {
        let w = [1.0, 1.2, 0.9, 1.1, 0.6, 1.5];
        let (dd, at) = max_drawdown(&w);
        assert!((dd - 0.5).abs() < 1e-15);
        assert_eq!(at, Some((1, 4)));
        assert_eq!(max_drawdown(&[1.0, 2.0, 3.0]), (0.0, None));
    }

    #[test]
    fn correlation_of_linear_pair_is_one() {
        let x = [1.0, 2.0, 3.0, f64::NAN];
        let y = [2.0, 4.0, 6.0, 1.0];
        assert!((correlation(&x, &y) - 1.0).abs() < 1e-15);
        assert!((median(&[3.0, 1.0, 2.0, 10.0]) - 2.5).abs() < 1e-15);
    }

    #[test]
    fn ranks_average_ties_and_spearman_matches_the_textbook_formula() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 5.0]), vec![2.5, 4.0, 2.5, 1.0]);
        assert_eq!(descending(&[10.0, 20.0, 10.0, 5.0]), vec![1, 0, 2, 3]);
        // Without ties ρ = 1 − 6 Σd² / (n(n² − 1)).
        let x = [1.0, 5.0, 3.0, 2.0, 4.0];
        let y = [2.0, 4.0, 5.0, 1.0, 3.0];
        let d2: f64 = ranks(&x).iter().zip(ranks(&y)).map(|(a, b)| (a - b) * (a - b)).sum();
        let textbook = 1.0 - 6.0 * d2 / (5.0 * 24.0);
        assert!((spearman(&x, &y) - textbook).abs() < 1e-14);
        // A monotone transform does not change it; a constant side gives NaN.
        let cubed: Vec<f64> = x.iter().map(|v| v * v * v).collect();
        assert!((spearman(&cubed, &y) - textbook).abs() < 1e-14);
        assert!(spearman(&x, &[1.0; 5]).is_nan());
    }
}
