//! One-pass rolling statistics over a single price series.
//!
//! Every function takes the price series `p[0..T]` of one asset and a window
//! $w$ and returns a vector of length $T$ whose entry $t$ uses only
//! $p_0,\dots,p_t$; entries $t < w$ (the warm-up) are `NaN`. The running
//! sums make each statistic $O(T)$ whatever the window.

/// Simple returns $r_t = p_t/p_{t-1} - 1$, with $r_0$ = NaN.
pub(crate) fn returns(p: &[f64]) -> Vec<f64> {
    let mut r = vec![f64::NAN; p.len()];
    for t in 1..p.len() {
        r[t] = p[t] / p[t - 1] - 1.0;
    }
    r
}

/// Sliding sums of `f(r_t)` over `r_{t-w+1..=t}`, for `t ≥ w` (so the window
/// never reaches the undefined $r_0$).
fn sliding_sum(r: &[f64], w: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    let n = r.len();
    let mut out = vec![f64::NAN; n];
    if w >= n {
        return out;
    }
    let mut s: f64 = r[1..=w].iter().map(|&v| f(v)).sum();
    out[w] = s;
    for t in w + 1..n {
        s += f(r[t]) - f(r[t - w]);
        out[t] = s;
    }
    out
}

/// Rolling mean of returns over the last `w` returns.
pub(crate) fn mean(r: &[f64], w: usize) -> Vec<f64> {
    sliding_sum(r, w, |v| v).into_iter().map(|s| s / w as f64).collect()
}

/// Rolling sample standard deviation (ddof 1) of the last `w` returns.
///
/// Sums of deviations from the window's first return keep the
/// $\sum r^2 - (\sum r)^2/w$ form free of cancellation.
pub(crate) fn std(r: &[f64], w: usize) -> Vec<f64> {
    let n = r.len();
    let mut out = vec![f64::NAN; n];
    if w >= n {
        return out;
    }
    // Shift by a fixed reference (the mean of the first window): variance is
    // shift-invariant and the sums stay small.
    let c = r[1..=w].iter().sum::<f64>() / w as f64;
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in &r[1..=w] {
        s1 += v - c;
        s2 += (v - c) * (v - c);
    }
    let wf = w as f64;
    let var = |s1: f64, s2: f64| ((s2 - s1 * s1 / wf) / (wf - 1.0)).max(0.0);
    out[w] = var(s1, s2).sqrt();
    for t in w + 1..n {
        let (a, b) = (r[t] - c, r[t - w] - c);
        s1 += a - b;
        s2 += a * a - b * b;
        out[t] = var(s1, s2).sqrt();
    }
    out
}

/// Downside deviation $\sqrt{\frac1w\sum \min(r,0)^2}$ over the last `w` returns.
/// A window without a negative return gives exactly 0 (the running sum's
/// rounding residue is not reported as a tiny deviation).
pub(crate) fn downside(r: &[f64], w: usize) -> Vec<f64> {
    let sums = sliding_sum(r, w, |v| v.min(0.0) * v.min(0.0));
    let negatives = sliding_sum(r, w, |v| if v < 0.0 { 1.0 } else { 0.0 });
    sums.into_iter()
        .zip(negatives)
        .map(|(s, k)| {
            if k.is_nan() {
                f64::NAN
            } else if k < 0.5 {
                0.0
            } else {
                (s.max(0.0) / w as f64).sqrt()
            }
        })
        .collect()
}

/// EWMA volatility with span `w` ($\alpha = 2/(w+1)$):
/// $\sigma^2_w = \frac1w\sum_{s=1}^{w} r_s^2$, then
/// $\sigma^2_t = \alpha r_t^2 + (1-\alpha)\sigma^2_{t-1}$.
pub(crate) fn ewma_vol(r: &[f64], w: usize) -> Vec<f64> {
    let n = r.len();
    let mut out = vec![f64::NAN; n];
    if w >= n {
        return out;
    }
    let alpha = 2.0 / (w as f64 + 1.0);
    let mut v = r[1..=w].iter().map(|x| x * x).sum::<f64>() / w as f64;
    out[w] = v.sqrt();
    for t in w + 1..n {
        v = alpha * r[t] * r[t] + (1.0 - alpha) * v;
        out[t] = v.sqrt();
    }
    out
}

/// Momentum as a ratio, $p_t/p_{t-w} - 1$.
pub(crate) fn momentum(p: &[f64], w: usize) -> Vec<f64> {
    (0..p.len()).map(|t| if t >= w { p[t] / p[t - w] - 1.0 } else { f64::NAN }).collect()
}

/// Momentum as a price difference, $p_t - p_{t-w}$ (the prototype's form).
pub(crate) fn momentum_diff(p: &[f64], w: usize) -> Vec<f64> {
    (0..p.len()).map(|t| if t >= w { p[t] - p[t - w] } else { f64::NAN }).collect()
}

/// Distance from the moving average, $p_t / \bar p_{t-w+1..t} - 1$.
pub(crate) fn ma_distance(p: &[f64], w: usize) -> Vec<f64> {
    let n = p.len();
    let mut out = vec![f64::NAN; n];
    if w >= n {
        return out;
    }
    // Prices relative to the first one keep the running sum well scaled.
    let base = p[0];
    let mut s: f64 = p[1..=w].iter().map(|v| v / base).sum();
    out[w] = p[w] / base / (s / w as f64) - 1.0;
    for t in w + 1..n {
        s += (p[t] - p[t - w]) / base;
        out[t] = p[t] / base / (s / w as f64) - 1.0;
    }
    out
}
