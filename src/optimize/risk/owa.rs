//! Ordered weighted averages (OWA) of the portfolio's scenario returns:
//! with the returns sorted ascending, $p_{(1)} \le \dots \le p_{(S)}$,
//!
//! $$ \rho(w) = \sum_{k=1}^{S} c_k\, p_{(k)}, $$
//!
//! convex in $w$ when the weights $c$ are non-decreasing (a maximum over
//! permutations of linear functions). The measures here are OWAs with
//! Riskfolio-Lib's weights (Cajas 2021):
//!
//! | measure | $c$ |
//! |---|---|
//! | Gini mean difference | $c_k = 2(2k - 1 - S)/(S(S-1))$ |
//! | CVaR at tail $\alpha$ | $-1/(\alpha S)$ on the $\lceil\alpha S\rceil - 1$ worst, the rest of $-1$ on the next, 0 after |
//! | tail Gini at $\alpha$ | $\sum_j \omega_j\, c^{\mathrm{CVaR}}(\alpha_j)$ over 100 levels $\alpha_j$ from $10^{-4}$ to $\alpha$ |
//! | range | $c_1 = -1$, $c_S = 1$ |
//! | CVaR range | $c^{\mathrm{CVaR}}(\alpha) - \text{reversed}\ c^{\mathrm{CVaR}}(\alpha)$ |
//! | tail Gini range | $c^{\mathrm{TG}}(\alpha) - \text{reversed}\ c^{\mathrm{TG}}(\alpha)$ |
//!
//! Written without sorting in the program: the returns enter a sorting
//! network (Batcher's odd–even merge sort, $O(S\log^2 S)$ comparators),
//! each comparator of inputs $a, b$ relaxed to outputs $\ell + h = a + b$,
//! $\ell \le a$, $\ell \le b$, and the objective is $\sum_k c_k y_k$ on the
//! network's outputs $y$. Each relaxed comparator spreads its pair
//! (majorisation), which with non-decreasing $c$ can only raise
//! $\sum_k c_k y_k$; the exact comparator ($\ell = \min$, $h = \max$) is
//! feasible and gives the sorted returns, so the minimum is the OWA itself.
//! Every row is homogeneous, so the maximum ratio stays exact.

use ndarray::ArrayView2;

use super::Risk;
use crate::error::Result;
use crate::optimize::problem::{Block, Lin, Program};

/// The levels Riskfolio-Lib's tail Gini averages CVaR over.
const TAIL_GINI_LEVELS: usize = 100;

/// Which ordered weighted average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    GiniMeanDifference,
    TailGini { alpha: f64 },
    Range,
    CvarRange { alpha: f64 },
    TailGiniRange { alpha: f64 },
}

impl Kind {
    /// The weights $c$ on $S$ returns sorted ascending.
    pub fn weights(self, s: usize) -> Vec<f64> {
        let reversed = |c: Vec<f64>| c.into_iter().rev().map(|v| -v).collect::<Vec<f64>>();
        match self {
            Kind::GiniMeanDifference => {
                let t = s as f64;
                (1..=s).map(|k| 2.0 * (2.0 * k as f64 - 1.0 - t) / (t * (t - 1.0))).collect()
            }
            Kind::TailGini { alpha } => tail_gini(s, alpha),
            Kind::Range => {
                let mut c = vec![0.0; s];
                c[0] -= 1.0;
                c[s - 1] += 1.0;
                c
            }
            Kind::CvarRange { alpha } => add(cvar(s, alpha), reversed(cvar(s, alpha))),
            Kind::TailGiniRange { alpha } => add(tail_gini(s, alpha), reversed(tail_gini(s, alpha))),
        }
    }
}

fn add(a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    a.into_iter().zip(b).map(|(x, y)| x + y).collect()
}

/// CVaR at tail probability `alpha` as OWA weights.
fn cvar(s: usize, alpha: f64) -> Vec<f64> {
    let t = s as f64;
    let k = ((t * alpha).ceil() as usize).clamp(1, s) - 1;
    let mut c = vec![0.0; s];
    for v in &mut c[..k] {
        *v = -1.0 / (t * alpha);
    }
    c[k] = -1.0 - c[..k].iter().sum::<f64>();
    c
}

/// Tail Gini at `alpha`: CVaR weights averaged over levels from
/// $10^{-4}$ to `alpha` (Riskfolio-Lib's `owa_tg` with 100 levels).
fn tail_gini(s: usize, alpha: f64) -> Vec<f64> {
    let m = TAIL_GINI_LEVELS;
    let low = 1e-4;
    // Ascending levels, as linspace(alpha, 1e-4, m) read backwards.
    let levels: Vec<f64> = (0..m).rev().map(|i| alpha + (low - alpha) * i as f64 / (m - 1) as f64).collect();
    let top = levels[m - 1];
    let mut omega = vec![levels[1] * levels[0] / (top * top)];
    for i in 1..m - 1 {
        omega.push((levels[i + 1] - levels[i - 1]) * levels[i] / (top * top));
    }
    omega.push((levels[m - 1] - levels[m - 2]) / top);
    let mut c = vec![0.0; s];
    for (level, o) in levels.iter().zip(omega) {
        for (ck, v) in c.iter_mut().zip(cvar(s, *level)) {
            *ck += o * v;
        }
    }
    c
}

/// The OWA of a series of returns, computed directly by sorting.
pub(crate) fn of(returns: &[f64], kind: Kind) -> f64 {
    let mut p = returns.to_vec();
    p.sort_by(f64::total_cmp);
    kind.weights(p.len()).iter().zip(&p).map(|(c, v)| c * v).sum()
}

/// Batcher's odd–even merge sort on `n` wires: comparators $(i, j)$,
/// $i < j$, that leave the smaller value on $i$. Built for the next power
/// of two with comparators past `n` left out (as if those wires held
/// $+\infty$, which never moves).
pub(crate) fn network(n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut p = 1;
    while p < n {
        let mut k = p;
        while k >= 1 {
            let mut j = k % p;
            while j + k < n {
                for i in 0..k.min(n - j - k) {
                    if (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                        out.push((i + j, i + j + k));
                    }
                }
                j += 2 * k;
            }
            k /= 2;
        }
        p *= 2;
    }
    out
}

/// An OWA measure of scenario returns (rows of simple returns).
pub(crate) struct Owa<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    pub kind: Kind,
}

impl Risk for Owa<'_> {
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        let s = self.scenarios.nrows();
        // The wires: each scenario's return, then each comparator's outputs.
        let mut wires: Vec<Lin> = self.scenarios.rows().into_iter().map(|r| w.dot(r)).collect();
        for (i, j) in network(s) {
            let (lo, hi) = (p.var(), p.var());
            let (a, b) = (wires[i].clone(), wires[j].clone());
            // ℓ + h = a + b, ℓ ≤ a, ℓ ≤ b.
            p.eq(lo + hi - a.clone() - b.clone(), 0.0);
            p.le(lo - a, 0.0);
            p.le(lo - b, 0.0);
            wires[i] = lo.into();
            wires[j] = hi.into();
        }
        let c = self.kind.weights(s);
        Ok(wires.into_iter().zip(c).map(|(y, ck)| y * ck).sum())
    }

    fn name(&self) -> String {
        let pct = |alpha: f64| (1.0 - alpha) * 100.0;
        match self.kind {
            Kind::GiniMeanDifference => "Gini mean difference".into(),
            Kind::TailGini { alpha } => format!("tail Gini ({:.0} %)", pct(alpha)),
            Kind::Range => "range".into(),
            Kind::CvarRange { alpha } => format!("CVaR range ({:.0} %)", pct(alpha)),
            Kind::TailGiniRange { alpha } => format!("tail Gini range ({:.0} %)", pct(alpha)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_network_sorts_every_length() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for n in 1..=70 {
            let net = network(n);
            for _ in 0..20 {
                let mut x: Vec<f64> = (0..n).map(|_| rng.gen::<f64>()).collect();
                let mut want = x.clone();
                want.sort_by(f64::total_cmp);
                for &(i, j) in &net {
                    assert!(i < j && j < n);
                    if x[i] > x[j] {
                        x.swap(i, j);
                    }
                }
                assert_eq!(x, want, "n = {n}");
            }
        }
    }

    #[test]
    fn weights_are_non_decreasing_and_known_cases_hold() {
        for s in [2, 7, 100, 253] {
            for kind in [
                Kind::GiniMeanDifference,
                Kind::TailGini { alpha: 0.05 },
                Kind::Range,
                Kind::CvarRange { alpha: 0.05 },
                Kind::TailGiniRange { alpha: 0.1 },
            ] {
                let c = kind.weights(s);
                assert!(c.windows(2).all(|p| p[1] >= p[0] - 1e-15), "{kind:?} on {s}: {c:?}");
            }
        }
        // Gini mean difference: the mean absolute difference over pairs.
        let x: [f64; 5] = [0.03, -0.01, 0.02, -0.04, 0.0];
        let pairs: f64 = x.iter().flat_map(|a| x.iter().map(move |b| (a - b).abs())).sum();
        assert!((of(&x, Kind::GiniMeanDifference) - pairs / 20.0).abs() < 1e-15);
        assert!((of(&x, Kind::Range) - 0.07).abs() < 1e-15);
        // CVaR at 40 % of five: the mean of the two worst losses.
        assert!((cvar(5, 0.4).iter().zip([-0.04, -0.01]).map(|(c, v)| c * v).sum::<f64>() - 0.025).abs() < 1e-15);
    }
}
