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
//!
//! The network's program fills in badly when it is factored (every output
//! depends on every input): on 1,000 scenarios a minimum took minutes. The
//! minimum risk and the risk budgets therefore go by cutting planes
//! instead ([`Owa::reduced`]): the OWA is the largest of the linear
//! functions $\sum_k c_k\, r_{\sigma(k)}^\top w$ over orderings $\sigma$ of
//! the scenarios, and the one of the ordering that sorts $Rw$ touches it at
//! $w$. A model keeps the functions of the points seen so far, is below
//! the measure everywhere and equal to it at those points; it is minimised
//! in a trust region ([`reduce::minimise_model`]), the function of its
//! minimiser's ordering joins it, and this repeats until the model equals
//! the measure at its own minimiser, which then minimises the measure. An
//! interior point stops short of a vertex, and the OWAs are flat enough
//! near theirs that this leaves weights 1e-4 apart, so the answer is
//! finished exactly on a small local program ([`Owa::local`]). On all
//! 8,312 days of the S&P 500 the minima take 4 ms (range) to 16 s (Gini
//! mean difference, 869 planes; its vertex is degenerate and it stays at
//! the interior point). The whole network stays for the objectives that
//! price the measure against a return, up to [`NETWORK_MAX_SCENARIOS`],
//! except for the range and the CVaR range: the largest loss plus the
//! largest gain, or two CVaRs, a linear program of the scenarios' size
//! ([`WeightedOwa`] at equal probabilities) at any size.

use ndarray::{Array1, ArrayView2};

use super::reduce::{self, Model, Reduction};
use super::Risk;
use crate::error::{Error, Result};
use crate::optimize::problem::{Block, Lin, Program, Solution, Solve, Var};
use crate::parameter::Optimize as Param;

/// Cutting-plane rounds before the network's program is used instead.
const MAX_CUT_ROUNDS: usize = 3000;
/// Nearest neighbours per weight that the exact finish joins into groups
/// at first.
const LOCAL_TIES: usize = 4;
/// The most scenarios written as a whole sorting network (57,041
/// comparators): on all 8,312 days of the S&P 500 (377,238) the factor
/// alone asked for 10.7 GB, and 1,000 days (23,521) took four minutes.
const NETWORK_MAX_SCENARIOS: usize = 2000;
/// Exact finishes tried, each from the last one's minimiser.
const LOCAL_ATTEMPTS: u32 = 4;

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
    let mut c = vec![0.0; s];
    for (level, o) in tail_gini_levels(alpha) {
        for (ck, v) in c.iter_mut().zip(cvar(s, level)) {
            *ck += o * v;
        }
    }
    c
}

/// The tail levels tail Gini at `alpha` averages CVaR over, each with its
/// weight.
fn tail_gini_levels(alpha: f64) -> Vec<(f64, f64)> {
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
    levels.into_iter().zip(omega).collect()
}

/// The spectral form of an OWA on returns sorted ascending, for scenarios
/// with probabilities: the weight of the return at the $k$-th place is
/// $\Phi(P_k) - \Phi(P_{k-1})$, $P_k$ the probability of it and all lower
/// returns, and $\Phi$ the measure's weight function integrated:
///
/// | measure | $\Phi(u)$ |
/// |---|---|
/// | CVaR at tail $\alpha$ | $-\min(u, \alpha)/\alpha$ |
/// | tail Gini | $\sum_j \omega_j \Phi^{\mathrm{CVaR}}_{\alpha_j}(u)$ |
/// | Gini mean difference | $2(u^2 - u)/(1 - \sum_s p_s^2)$ |
/// | the gains' side of a range | $\Phi(1 - u) - \Phi(1)$ |
///
/// With equal probabilities $1/S$ these are the weights above (the CVaR's
/// last tail scenario taking its share), and the Gini mean difference is
/// $\sum_{s \ne t} p_s p_t \lvert x_s - x_t\rvert / (1 - \sum_s p_s^2)$.
/// The range is the highest less the lowest return of positive
/// probability.
impl Kind {
    /// The weights on returns sorted ascending whose probabilities, in
    /// that order, are `sorted` (≥ 0, summing to 1).
    pub fn weights_weighted(self, sorted: &[f64]) -> Vec<f64> {
        let s = sorted.len();
        if self == Kind::Range {
            let mut c = vec![0.0; s];
            if let (Some(first), Some(last)) =
                (sorted.iter().position(|p| *p > 0.0), sorted.iter().rposition(|p| *p > 0.0))
            {
                c[first] -= 1.0;
                c[last] += 1.0;
            }
            return c;
        }
        // The tail levels and weights of the CVaRs the measure sums, found
        // once: Φ is read at every scenario.
        let levels = match self {
            Kind::CvarRange { alpha } => vec![(alpha, 1.0)],
            Kind::TailGini { alpha } | Kind::TailGiniRange { alpha } => tail_gini_levels(alpha),
            Kind::GiniMeanDifference | Kind::Range => Vec::new(),
        };
        let tails = |u: f64| levels.iter().map(|&(l, o)| o * (-u.min(l) / l)).sum::<f64>();
        let whole = tails(1.0);
        let squares = 1.0 - sorted.iter().map(|p| p * p).sum::<f64>();
        let phi = |u: f64| -> f64 {
            match self {
                Kind::GiniMeanDifference => 2.0 * (u * u - u) / squares,
                Kind::TailGini { .. } => tails(u),
                // The losses' tails and the gains': Φ(1 − u) − Φ(1).
                Kind::CvarRange { .. } | Kind::TailGiniRange { .. } => tails(u) + (tails(1.0 - u) - whole),
                Kind::Range => 0.0,
            }
        };
        let mut below = 0.0f64;
        let mut previous = phi(0.0);
        sorted
            .iter()
            .map(|p| {
                below = (below + p).min(1.0);
                let next = phi(below);
                let c = if *p > 0.0 { next - previous } else { 0.0 };
                previous = next;
                c
            })
            .collect()
    }

    /// The OWA of `returns` whose scenarios have `probabilities`, by
    /// sorting.
    pub fn of_weighted(self, returns: &[f64], probabilities: &[f64]) -> f64 {
        let mut order: Vec<usize> = (0..returns.len()).collect();
        order.sort_by(|&a, &b| returns[a].total_cmp(&returns[b]));
        let sorted: Vec<f64> = order.iter().map(|&i| probabilities[i]).collect();
        self.weights_weighted(&sorted).iter().zip(&order).map(|(c, &i)| c * returns[i]).sum()
    }
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

/// The relaxed sorting network on `wires` written into `p`: its outputs,
/// which stand for the wires sorted ascending.
fn sorted_wires(p: &mut Program, mut wires: Vec<Lin>) -> Vec<Lin> {
    for (i, j) in network(wires.len()) {
        let (lo, hi) = (p.var(), p.var());
        let (a, b) = (wires[i].clone(), wires[j].clone());
        // ℓ + h = a + b, ℓ ≤ a, ℓ ≤ b.
        p.eq(lo + hi - a.clone() - b.clone(), 0.0);
        p.le(lo - a, 0.0);
        p.le(lo - b, 0.0);
        wires[i] = lo.into();
        wires[j] = hi.into();
    }
    wires
}

/// An OWA measure of scenario returns (rows of simple returns).
#[derive(Clone, Copy)]
pub(crate) struct Owa<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    pub kind: Kind,
}

impl Owa<'_> {
    /// The scenario returns at the weights `w` and the ordering that sorts
    /// them ascending.
    fn sorted(&self, w: &[f64]) -> (Array1<f64>, Vec<usize>) {
        let p = self.scenarios.dot(&ndarray::ArrayView1::from(w));
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
        (p, order)
    }

    /// The linear function of an ordering: its coefficients over the
    /// weights, $\sum_k c_k r_{\sigma(k)}$.
    fn cut(&self, order: &[usize], c: &[f64]) -> Array1<f64> {
        let mut cut = Array1::zeros(self.scenarios.ncols());
        for (&s, &ck) in order.iter().zip(c) {
            if ck != 0.0 {
                cut.scaled_add(ck, &self.scenarios.row(s));
            }
        }
        cut
    }

    /// The weighted sum $\sum_k c_k p_{\sigma(k)}$ of the returns `p` in the
    /// ordering `order` (the OWA when it sorts them), and the sum of its
    /// terms' sizes, which scales its tolerance.
    fn weighted(p: &Array1<f64>, order: &[usize], c: &[f64]) -> (f64, f64) {
        let terms = || order.iter().zip(c).map(|(&s, ck)| ck * p[s]);
        (terms().sum(), terms().map(f64::abs).sum::<f64>().max(f64::MIN_POSITIVE))
    }

    /// The exact minimum near the cutting planes' answer `at`: positions in
    /// the order there whose returns are nearest (`ties` × N closest
    /// neighbours whose weights differ) are joined into groups; a
    /// group is sorted by a small network, every other scenario keeps its
    /// position as a linear term. That is the largest of the orderings
    /// within the groups, below the OWA everywhere and equal to it wherever
    /// no scenario leaves its group's place, so a minimiser at which it
    /// equals the OWA minimises the OWA. Its program is a linear one of
    /// the network's size on a few hundred scenarios at most, finished at
    /// its vertex. Its solution (`None` when it does not solve), and
    /// whether it equals the OWA at its minimiser.
    fn local(&self, base: &Program, w: Block, at: &[f64], c: &[f64], ties: usize) -> Result<(Option<Solution>, bool)> {
        let (p, order) = self.sorted(at);
        let s = order.len();
        let gap = |k: usize| p[order[k + 1]] - p[order[k]];
        let mut near: Vec<usize> = (0..s.saturating_sub(1)).filter(|&k| c[k] != c[k + 1]).collect();
        let keep = (ties * at.len()).min(near.len());
        if keep > 0 {
            near.select_nth_unstable_by(keep - 1, |&a, &b| gap(a).total_cmp(&gap(b)));
        }
        let mut joined = vec![false; s];
        for &k in &near[..keep] {
            joined[k] = true;
        }
        // Runs of positions joined to the next: [start, end].
        let mut groups = Vec::new();
        let mut start = 0;
        for (k, _) in joined.iter().enumerate().filter(|(_, j)| !**j) {
            groups.push((start, k));
            start = k + 1;
        }
        let mut prog = base.clone();
        let mut fixed = Array1::<f64>::zeros(at.len());
        let mut objective = Lin::zero();
        for &(a, b) in &groups {
            if a == b {
                fixed.scaled_add(c[a], &self.scenarios.row(order[a]));
                continue;
            }
            let wires = order[a..=b].iter().map(|&m| w.dot(self.scenarios.row(m))).collect();
            for (y, ck) in sorted_wires(&mut prog, wires).into_iter().zip(&c[a..=b]) {
                objective += y * *ck;
            }
        }
        prog.minimise(objective + w.dot(&fixed));
        let Ok(sol) = prog.solve_as(Solve::EXACT) else { return Ok((None, false)) };
        // The OWA against the groups' own orderings at the minimiser.
        let x = w.values(&sol.x);
        let (q, global) = self.sorted(&x);
        let (owa, scale) = Owa::weighted(&q, &global, c);
        let mut local = 0.0;
        for &(a, b) in &groups {
            let mut values: Vec<f64> = order[a..=b].iter().map(|&m| q[m]).collect();
            values.sort_by(f64::total_cmp);
            local += values.iter().zip(&c[a..=b]).map(|(v, ck)| ck * v).sum::<f64>();
        }
        let exact = owa <= local + 1e-12 * scale;
        Ok((Some(sol), exact))
    }
}

/// The cutting-plane model of an OWA: $t \ge g_j^\top w$ for every kept
/// function $g_j$.
struct Cuts<'a, 'b> {
    owa: &'a Owa<'b>,
    weights: Vec<f64>,
    cuts: Vec<Array1<f64>>,
}

impl Model for Cuts<'_, '_> {
    fn write(&mut self, p: &mut Program, w: Block) -> Lin {
        let t: Var = p.var();
        for g in &self.cuts {
            p.ge(t - w.dot(g), 0.0);
        }
        t.into()
    }

    /// The function of the ordering at `x` joins the model if the model
    /// is below the measure there.
    fn refine(&mut self, x: &[f64], w: Block) -> bool {
        let at = w.values(x);
        let (p, order) = self.owa.sorted(&at);
        let c = &self.weights;
        let (value, scale) = Owa::weighted(&p, &order, c);
        let dot = |g: &Array1<f64>| g.iter().zip(&at).map(|(a, b)| a * b).sum::<f64>();
        let model = self.cuts.iter().map(dot).fold(f64::NEG_INFINITY, f64::max);
        let missing = value > model + 1e-12 * scale;
        if missing {
            self.cuts.push(self.owa.cut(&order, c));
        }
        missing
    }
}

impl Reduction for Owa<'_> {
    /// Minimises the OWA over `base` by cutting planes from `w0`: `None`
    /// when the rounds run out.
    fn minimise(&self, base: &Program, w: Block, w0: &[f64]) -> Result<Option<Solution>> {
        let weights = self.kind.weights(self.scenarios.nrows());
        let first = self.cut(&self.sorted(w0).1, &weights);
        let mut model = Cuts { owa: self, weights, cuts: vec![first] };
        let solved = reduce::minimise_model(&mut model, base, w, w0, reduce::Region::Trust, MAX_CUT_ROUNDS)?;
        let Some((sol, p)) = solved else { return Ok(None) };
        // Each local program that misses starts the next from its own
        // minimiser, with twice the neighbours joined.
        let (mut at, mut seconds, mut iterations) = (w.values(&sol.x), sol.seconds, sol.iterations);
        for attempt in 0..LOCAL_ATTEMPTS {
            let (local, exact) = self.local(base, w, &at, &model.weights, LOCAL_TIES << attempt)?;
            let Some(local) = local else { break };
            seconds += local.seconds;
            iterations += local.iterations;
            if exact {
                return Ok(Some(Solution { seconds, iterations, ..local }));
            }
            at = w.values(&local.x);
        }
        Ok(Some(p.polished(sol)))
    }
}

impl Risk for Owa<'_> {
    fn reduced(&self) -> Option<Box<dyn Reduction + '_>> {
        Some(Box::new(*self))
    }

    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        let s = self.scenarios.nrows();
        if matches!(self.kind, Kind::Range | Kind::CvarRange { .. }) {
            // Two CVaRs or two maxima: a linear program of the scenarios'
            // size, no sorting network.
            let equal = Array1::from_elem(s, 1.0 / s as f64);
            let weighted =
                WeightedOwa { scenarios: self.scenarios.view(), probabilities: equal.view(), kind: self.kind };
            return weighted.epigraph(p, w);
        }
        if s > NETWORK_MAX_SCENARIOS {
            return Err(Error::param(
                Param::Measure,
                format!(
                    "the {} of {s} scenarios, priced against a return, needs a sorting network of {} comparators, \
                     too large to factor; its minimum and risk budgets solve at any size, other objectives on at \
                     most {NETWORK_MAX_SCENARIOS} scenarios (use a shorter window)",
                    self.name(),
                    network(s).len()
                ),
            ));
        }
        let wires = self.scenarios.rows().into_iter().map(|r| w.dot(r)).collect();
        let c = self.kind.weights(s);
        Ok(sorted_wires(p, wires).into_iter().zip(c).map(|(y, ck)| y * ck).sum())
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

/// The most auxiliary variables the program of an OWA on scenarios with
/// probabilities may take (tail Gini on 2,000 scenarios, or the Gini mean
/// difference's pairs of 700).
const WEIGHTED_MAX_VARIABLES: usize = 250_000;

/// An OWA measure of scenarios with probabilities, written in a finite
/// form whose minimum is the measure: the range as the largest loss plus
/// the largest gain; CVaR's (Rockafellar–Uryasev with probabilities) and
/// tail Gini's as the weighted sum of CVaRs at its levels, for the losses
/// and, in a range, for the gains; the Gini mean difference as
/// $\sum_{s<t} 2p_sp_t d_{st}/(1-\sum_s p_s^2)$ with
/// $d_{st} \ge \pm(r_s - r_t)^\top w$. Each equals the spectral form
/// [`Kind::weights_weighted`] (CVaR's scenario at the edge of its tail
/// counting in part), and every row is homogeneous.
pub(crate) struct WeightedOwa<'a> {
    pub scenarios: ArrayView2<'a, f64>,
    pub probabilities: ndarray::ArrayView1<'a, f64>,
    pub kind: Kind,
}

impl WeightedOwa<'_> {
    /// The scenarios of positive probability.
    fn likely(&self) -> Vec<usize> {
        (0..self.scenarios.nrows()).filter(|&s| self.probabilities[s] > 0.0).collect()
    }

    /// Auxiliary variables of the program.
    fn variables(&self) -> usize {
        let s = self.likely().len();
        match self.kind {
            Kind::Range => 2,
            Kind::CvarRange { .. } => 2 * (self.scenarios.nrows() + 1),
            Kind::TailGini { .. } => TAIL_GINI_LEVELS * (self.scenarios.nrows() + 1),
            Kind::TailGiniRange { .. } => 2 * TAIL_GINI_LEVELS * (self.scenarios.nrows() + 1),
            Kind::GiniMeanDifference => s * s.saturating_sub(1) / 2,
        }
    }

    /// $\sum_j \omega_j\,\mathrm{CVaR}_{\alpha_j}$ of the losses of `scenarios`.
    fn cvars(&self, p: &mut Program, w: Block, scenarios: ArrayView2<'_, f64>, levels: &[(f64, f64)]) -> Result<Lin> {
        let mut sum = Lin::zero();
        for &(alpha, omega) in levels {
            let cvar = super::cvar::Cvar {
                scenarios: scenarios.view(),
                probabilities: Some(self.probabilities.view()),
                beta: 1.0 - alpha,
            };
            sum += cvar.epigraph(p, w)? * omega;
        }
        Ok(sum)
    }
}

impl Risk for WeightedOwa<'_> {
    fn epigraph(&self, p: &mut Program, w: Block) -> Result<Lin> {
        let variables = self.variables();
        if variables > WEIGHTED_MAX_VARIABLES {
            return Err(Error::param(
                Param::Measure,
                format!(
                    "the {} of {} scenarios with probabilities needs {variables} auxiliary variables, more than \
                     {WEIGHTED_MAX_VARIABLES}; use fewer scenarios",
                    self.name(),
                    self.scenarios.nrows()
                ),
            ));
        }
        let gains = || self.scenarios.mapv(|v| -v);
        Ok(match self.kind {
            Kind::Range => {
                // Largest loss ℓ ≥ −r·w and largest gain g ≥ r·w.
                let (loss, gain) = (p.var(), p.var());
                for s in self.likely() {
                    let r = self.scenarios.row(s);
                    p.ge(loss + w.dot(r), 0.0);
                    p.ge(gain - w.dot(r), 0.0);
                }
                loss + gain
            }
            Kind::CvarRange { alpha } => {
                self.cvars(p, w, self.scenarios, &[(alpha, 1.0)])?
                    + self.cvars(p, w, gains().view(), &[(alpha, 1.0)])?
            }
            Kind::TailGini { alpha } => self.cvars(p, w, self.scenarios, &tail_gini_levels(alpha))?,
            Kind::TailGiniRange { alpha } => {
                let levels = tail_gini_levels(alpha);
                self.cvars(p, w, self.scenarios, &levels)? + self.cvars(p, w, gains().view(), &levels)?
            }
            Kind::GiniMeanDifference => {
                let likely = self.likely();
                let squares = 1.0 - self.probabilities.iter().map(|q| q * q).sum::<f64>();
                let mut sum = Lin::zero();
                for (k, &a) in likely.iter().enumerate() {
                    for &b in &likely[k + 1..] {
                        let d = p.var();
                        let diff = &self.scenarios.row(a) - &self.scenarios.row(b);
                        p.ge(d - w.dot(&diff), 0.0);
                        p.ge(d + w.dot(&diff), 0.0);
                        sum += d * (2.0 * self.probabilities[a] * self.probabilities[b] / squares);
                    }
                }
                sum
            }
        })
    }

    fn name(&self) -> String {
        Owa { scenarios: self.scenarios, kind: self.kind }.name()
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

    const KINDS: [Kind; 5] = [
        Kind::GiniMeanDifference,
        Kind::TailGini { alpha: 0.05 },
        Kind::Range,
        Kind::CvarRange { alpha: 0.05 },
        Kind::TailGiniRange { alpha: 0.1 },
    ];

    #[test]
    fn equal_probabilities_give_the_equal_weights() {
        for s in [2, 7, 100, 253] {
            let equal = vec![1.0 / s as f64; s];
            for kind in KINDS {
                let (a, b) = (kind.weights(s), kind.weights_weighted(&equal));
                let d = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
                assert!(d < 1e-13, "{kind:?} on {s}: {d:e}");
            }
        }
    }

    #[test]
    fn weighted_forms_equal_their_definitions() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for s in [3, 40, 301] {
            let x: Vec<f64> = (0..s).map(|_| rng.gen::<f64>() - 0.5).collect();
            let mut p: Vec<f64> = (0..s).map(|k| if k % 7 == 3 { 0.0 } else { rng.gen::<f64>() }).collect();
            let total: f64 = p.iter().sum();
            p.iter_mut().for_each(|v| *v /= total);
            // Convex: the weights per unit of probability rise along the
            // sorted returns.
            for kind in KINDS {
                let mut order: Vec<usize> = (0..s).collect();
                order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
                let sorted: Vec<f64> = order.iter().map(|&i| p[i]).collect();
                let c: Vec<f64> = kind
                    .weights_weighted(&sorted)
                    .into_iter()
                    .zip(&sorted)
                    .filter(|(_, q)| **q > 0.0)
                    .map(|(c, q)| c / q)
                    .collect();
                // Differences of Φ divided by small probabilities: to 1e-9.
                let scale = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(c.windows(2).all(|w| w[1] >= w[0] - 1e-9 * scale), "{kind:?}: {c:?}");
            }
            // The Gini mean difference over pairs.
            let squares = 1.0 - p.iter().map(|q| q * q).sum::<f64>();
            let mut pairs = 0.0;
            for a in 0..s {
                for b in 0..s {
                    pairs += p[a] * p[b] * (x[a] - x[b]).abs();
                }
            }
            let gmd = Kind::GiniMeanDifference.of_weighted(&x, &p);
            assert!((gmd - pairs / squares).abs() < 1e-13, "{gmd} vs {}", pairs / squares);
            // CVaR of the losses and of the gains, each the worst α of
            // probability (the edge scenario in part).
            let cvar = |y: &[f64], alpha: f64| -> f64 {
                let mut order: Vec<usize> = (0..s).collect();
                order.sort_by(|&a, &b| y[a].total_cmp(&y[b]));
                let (mut mass, mut sum) = (0.0, 0.0);
                for i in order {
                    let take = p[i].min(alpha - mass).max(0.0);
                    sum -= take * y[i];
                    mass += take;
                }
                sum / alpha
            };
            let neg: Vec<f64> = x.iter().map(|v| -v).collect();
            let cvr = Kind::CvarRange { alpha: 0.2 }.of_weighted(&x, &p);
            assert!((cvr - cvar(&x, 0.2) - cvar(&neg, 0.2)).abs() < 1e-13);
            let tg: f64 = tail_gini_levels(0.2).iter().map(|&(l, o)| o * cvar(&x, l)).sum();
            assert!((Kind::TailGini { alpha: 0.2 }.of_weighted(&x, &p) - tg).abs() < 1e-12);
            let likely = || x.iter().zip(&p).filter(|(_, q)| **q > 0.0).map(|(v, _)| *v);
            let range = likely().fold(f64::NEG_INFINITY, f64::max) - likely().fold(f64::INFINITY, f64::min);
            assert!((Kind::Range.of_weighted(&x, &p) - range).abs() < 1e-15);
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
