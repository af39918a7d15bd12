//! Minimum average drawdown and Ulcer index on a chain of candidate peaks,
//! exact, with a variable per peak instead of two per scenario.
//!
//! A drawdown is measured from the running peak $M_t = \max_{s \le t}
//! c_s$ of the cumulative return $c_t = C_t^\top w$ (`drawdown.rs`). The
//! peak only moves on record dates, and the portfolios near a minimum make
//! their records on a few hundred of the 8,312 bundled dates. Given a set
//! $P \ni 0$ of candidate record dates, the program keeps one variable per
//! candidate, $u_p \ge c_p$ and $u_p \ge u_{p^-}$ (its predecessor in $P$),
//! so $u$ is at least the running maximum over $P$, $R_t = \max_{p \in P,
//! p \le t} c_p \le M_t$, and every date's drawdown is $u_{p(t)} - c_t$ with
//! $p(t)$ the last candidate up to $t$:
//!
//! * the average drawdown is linear: $\frac1T \sum_p n_p u_p - \frac1T
//!   \bigl(\sum_t C_t\bigr)^\top w$, with $n_p$ the dates that $p$ covers;
//! * the Ulcer index's $\sum_t (u_{p(t)} - c_t)^2$ splits into
//!   $\sum_p n_p (u_p - \bar C_p^\top w)^2 + w^\top W w$, with $\bar C_p$
//!   the mean of $C_t$ over $p$'s dates and $W$ their scatter about it: a
//!   second-order cone of $|P| + n + 1$ entries, not $T + 1$.
//!
//! After each solve $c_t$ is evaluated on every date and each date not in
//! $P$ with $c_t \ge R_t - \epsilon$ (a record the chain missed, or a tie)
//! joins $P$; the rounds stop when none does. Then $R_t = M_t$ at the
//! solution $\tilde w$, so the reduced measure equals the true one there,
//! and every date outside $P$ has a drawdown above $\epsilon$, so near
//! $\tilde w$ the reduced drawdowns stay non-negative and below the true
//! ones: the reduced measure is below the true one near $\tilde w$ and
//! equal at it, and $\tilde w$, its global minimiser, is a local — hence,
//! by convexity, the global — minimiser of the true measure. The start is
//! the record dates of the minimum-variance portfolio.

use ndarray::{Array1, Array2, ArrayView2};

use super::reduce::{cumulative, minimise_model, square_root_entries, Model, Reduction, Region};
use crate::error::Result;
use crate::optimize::problem::{Affine, Block, Lin, Program, Solution};

/// Which measure the chain carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Aggregate {
    /// $\frac1T \sum_t d_t$.
    Average,
    /// $\sqrt{\frac1T \sum_t d_t^2}$.
    Ulcer,
    /// EDaR: the entropic risk of the drawdowns at confidence `beta`.
    Entropic { beta: f64 },
}

/// Rounds of adding missed records before the full chain is used instead.
const MAX_ROUNDS: usize = 40;

/// A drawdown measure in candidate-peak form.
pub(crate) struct Peaks {
    /// $C_0 = 0, C_1, \dots, C_T$: cumulative scenario returns.
    cumulative: Array2<f64>,
    aggregate: Aggregate,
}

impl Peaks {
    pub(crate) fn new(scenarios: ArrayView2<'_, f64>, aggregate: Aggregate) -> Self {
        Peaks { cumulative: cumulative(scenarios), aggregate }
    }

    /// The dates not in `peaks` (sorted) whose cumulative value `e` is a
    /// record: within `tol` of the running maximum of every earlier date.
    fn missed(e: &Array1<f64>, peaks: &[usize], tol: f64) -> Vec<usize> {
        let mut out = Vec::new();
        let (mut next, mut top) = (0, f64::NEG_INFINITY);
        for (t, &c) in e.iter().enumerate() {
            if next < peaks.len() && peaks[next] == t {
                next += 1;
            } else if c >= top - tol {
                out.push(t);
            }
            top = top.max(c);
        }
        out
    }

    /// Writes the chain over `peaks` and the measure of the weights `w`;
    /// returns the objective.
    ///
    /// The chain's variables are the candidates' own drawdowns
    /// $v_j = u_j - C_{p_j}^\top w \ge 0$, not the running maxima $u_j$:
    /// the links $u_j \ge u_{j-1}$ become
    /// $v_j - v_{j-1} + (C_{p_j} - C_{p_{j-1}})^\top w \ge 0$, and date $t$'s
    /// drawdown is $v_{p(t)} + (C_{p(t)} - C_t)^\top w$. Every coefficient is
    /// then a sum of returns since a candidate, not since the start: on the
    /// 8,312 bundled days the rows no longer take differences of cumulative
    /// sums near 10 to make drawdowns near 0.1, and the exponential cones of
    /// EDaR converge where they stalled.
    fn write(&self, p: &mut Program, w: Block, peaks: &[usize]) -> Lin {
        let n = w.len();
        let c = &self.cumulative;
        let dates = c.nrows() - 1;
        let v = p.vars(peaks.len());
        for (j, &k) in peaks.iter().enumerate() {
            p.ge(v.at(j), 0.0);
            if j > 0 {
                let step = &c.row(k) - &c.row(peaks[j - 1]);
                p.ge(v.at(j) - v.at(j - 1) + w.dot(&step), 0.0);
            }
        }
        // Each date's candidate (dates 1..=T: date 0 is the start, not a
        // scenario), each candidate's date count and mean C_p − C_t.
        let mut block = Vec::with_capacity(dates);
        let mut j = 0;
        for t in 1..=dates {
            while j + 1 < peaks.len() && peaks[j + 1] <= t {
                j += 1;
            }
            block.push(j);
        }
        let mut count = vec![0usize; peaks.len()];
        let mut mean = Array2::<f64>::zeros((peaks.len(), n));
        for (t, &j) in block.iter().enumerate() {
            count[j] += 1;
            let mut row = mean.row_mut(j);
            row += &(&c.row(peaks[j]) - &c.row(t + 1));
        }
        for (j, mut row) in mean.rows_mut().into_iter().enumerate() {
            row /= count[j].max(1) as f64;
        }
        let scale = 1.0 / dates as f64;
        match self.aggregate {
            Aggregate::Average => {
                // (1/T) Σ_p n_p (v_p + D̄_p·w), D̄_p the mean of C_p − C_t
                // over p's dates.
                let counts = Array1::from_iter(count.iter().map(|&m| m as f64));
                (v.dot(&counts) + w.dot(&mean.t().dot(&counts))) * scale
            }
            Aggregate::Ulcer => {
                let t = p.var();
                // ‖(…)/√T‖ ≤ t: entries scaled by 1/√T, which keeps the cone
                // well conditioned (Clarabel meets 1e-10 on it).
                let mut cone = vec![Affine::from(t)];
                for j in (0..peaks.len()).filter(|&j| count[j] > 0) {
                    // Entry √(n_p/T) (v_p + D̄_p·w).
                    let root = (count[j] as f64 * scale).sqrt();
                    cone.push(((v.at(j) + w.dot(mean.row(j))) * root).into());
                }
                // wᵀW w/T with W the scatter of C_p(t) − C_t about D̄_p(t), in n entries.
                let deviations = Array2::from_shape_fn((dates, n), |(t, i)| {
                    c[[peaks[block[t]], i]] - c[[t + 1, i]] - mean[[block[t], i]]
                });
                cone.extend(square_root_entries(w, deviations.view(), scale));
                p.soc(cone);
                t.into()
            }
            Aggregate::Entropic { beta } => super::evar::entropic(p, self.drawdowns(w, v, peaks, &block), beta, None),
        }
    }

    /// Each date's drawdown $v_{p(t)} + (C_{p(t)} - C_t)^\top w$ from its
    /// candidate `block[t - 1]`, for the measures that take every date's
    /// own.
    fn drawdowns(&self, w: Block, v: Block, peaks: &[usize], block: &[usize]) -> Vec<Lin> {
        let c = &self.cumulative;
        block.iter().enumerate().map(|(t, &j)| v.at(j) + w.dot(&(&c.row(peaks[j]) - &c.row(t + 1)))).collect()
    }
}

/// The chain's candidate record dates, sorted, the first the start (0).
struct Chain<'a> {
    peaks: &'a Peaks,
    candidates: Vec<usize>,
}

impl Model for Chain<'_> {
    fn write(&mut self, p: &mut Program, w: Block) -> Lin {
        self.peaks.write(p, w, &self.candidates)
    }

    fn refine(&mut self, x: &[f64], w: Block) -> bool {
        let e = self.peaks.cumulative.dot(&Array1::from(w.values(x)));
        let missed = Peaks::missed(&e, &self.candidates, tie_tolerance(&e));
        self.candidates.extend(&missed);
        self.candidates.sort_unstable();
        !missed.is_empty()
    }
}

/// Within what of the running maximum a date counts as a record: 1e-10
/// of the range of the cumulative values.
fn tie_tolerance(e: &Array1<f64>) -> f64 {
    let (lo, hi) = e.iter().fold((0.0f64, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    1e-10 * (hi - lo).max(f64::MIN_POSITIVE)
}

impl Reduction for Peaks {
    /// Starts from the records of `w0`; the chain, exact near any point
    /// where it misses no record, needs no trust region.
    fn minimise(&self, base: &Program, w: Block, w0: &[f64]) -> Result<Option<Solution>> {
        let e0 = self.cumulative.dot(&ndarray::ArrayView1::from(w0));
        let mut candidates = vec![0];
        candidates.extend(Self::missed(&e0, &[0], tie_tolerance(&e0)));
        let last = minimise_model(&mut Chain { peaks: self, candidates }, base, w, w0, Region::Whole, MAX_ROUNDS)?;
        Ok(last.map(|(sol, p)| p.polished(sol)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::RiskMeasure;
    use ndarray::array;

    #[test]
    fn records_not_yet_kept_are_found_ties_included() {
        let e = array![0.0, 1.0, 1.0, 0.5, 2.0];
        assert_eq!(Peaks::missed(&e, &[], 0.0), vec![0, 1, 2, 4]);
        assert_eq!(Peaks::missed(&e, &[0, 1], 0.0), vec![2, 4]);
        // Within the tolerance of the running maximum counts as a record.
        assert_eq!(Peaks::missed(&e, &[0, 1], 0.6), vec![2, 3, 4]);
    }

    /// The average drawdown of two assets over three dates is piecewise
    /// linear in $a$ ($w = (a, 1-a)$): the chain's minimiser is no worse
    /// than any point of a fine grid, and the grid comes within its step.
    #[test]
    fn the_chain_finds_the_average_drawdowns_minimum() {
        let r = array![[0.01, -0.01], [-0.02, 0.01], [0.01, 0.01], [-0.01, 0.005]];
        let (mut base, w) = Program::with_weights(2);
        base.eq(w.sum(), 1.0);
        base.ge(w.at(0), 0.0);
        base.ge(w.at(1), 0.0);
        let chain = Peaks::new(r.view(), Aggregate::Average);
        let sol = chain.minimise(&base, w, &[0.5, 0.5]).unwrap().unwrap();
        let add = |a: f64| RiskMeasure::AverageDrawdown.of(&r.dot(&array![a, 1.0 - a]).to_vec());
        let ours = add(w.values(&sol.x)[0]);
        let grid = (0..=100_000).map(|k| add(k as f64 / 100_000.0)).fold(f64::INFINITY, f64::min);
        assert!(ours <= grid + 1e-12 && grid - ours < 1e-6, "ours {ours} vs grid {grid}");
        assert!((sol.objective - ours).abs() < 1e-10, "{} vs {ours}", sol.objective);
    }
}
