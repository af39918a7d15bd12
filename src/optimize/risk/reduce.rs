//! Minimum of a piecewise-linear scenario measure by scenario reduction,
//! exact, on a program a fraction of the full epigraph's size.
//!
//! (EVaR, smooth, goes by sequential quadratic programs instead: see
//! `evar.rs`.)
//!
//! Every scenario measure but EVaR aggregates one convex piecewise-linear
//! term per scenario, $g_s(w) = \max_{p \in P_s} a_p^\top w$ (a loss, a
//! signed deviation, a drawdown from one of the earlier peaks, each less a
//! threshold $\alpha$ for CVaR and CDaR), by a sum, a maximum or a root mean
//! square. The full epigraph gives every scenario a variable and a row per
//! piece. Here each scenario keeps a subset $\tilde P_s$ of its pieces:
//!
//! * a scenario with one piece kept is linear: summed terms fold into one
//!   linear objective and squared ones into one $n \times n$ quadratic
//!   form, so it costs no variable and no row;
//! * only scenarios near a kink (two pieces close at the starting point)
//!   get a variable; for a maximum, scenarios far below it are left out.
//!
//! The reduced program is solved, every scenario's true $g_s$ is evaluated
//! at its solution $\tilde w$, and scenarios whose best piece was missing
//! get it; this repeats until none is missing. Then $\tilde g_s(\tilde w) =
//! g_s(\tilde w)$ for every scenario. For a sum or a maximum the reduced
//! measure is below the true one everywhere (fewer pieces), so $\tilde w$,
//! its minimiser, is the true minimiser. For a root mean square each kept
//! linear piece is also required to be strictly positive at $\tilde w$, so
//! the two measures agree near $\tilde w$, and a local minimum of a convex
//! function is its global one. The start is the minimum-variance portfolio
//! under the same constraints (for CDaR, the minimiser of CDaR on every
//! fourth date), which puts most scenarios on their final piece at once:
//! on the bundled S&P 500 (8,312 scenarios) the reduced programs hold a
//! few hundred of them. Sums are solved in a trust region that moves until
//! it no longer binds ([`minimise_model`]).
//!
//! Minimum CVaR, MAD, semi-deviation, first lower partial moment, worst
//! realisation, maximum drawdown and CDaR go this way (with scenario
//! probabilities, each sum's or root mean square's term weighed by its
//! scenario's probability, and the threshold started at the weighted
//! value at risk; the worst realisation keeps the full program); the average drawdown
//! and the Ulcer index go by a chain of candidate peaks (`peaks.rs`); every
//! other objective, whose risk term is priced against a return, keeps the
//! full epigraph.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::error::{Error, Result, SolverStatus};
use crate::optimize::problem::{Affine, Block, Lin, Program, Solution, Solve, Var};

/// An exact shortcut to a measure's minimum over a program on the
/// weights `w` (constraints and costs already written), started from `w0`:
/// `None` when it does not settle, and the caller then solves the full
/// epigraph.
pub(crate) trait Reduction {
    fn minimise(&self, base: &Program, w: Block, w0: &[f64]) -> Result<Option<Solution>>;
}

/// The reduced programs of one minimisation, solved in turn, their
/// solver time and iterations summed.
#[derive(Default)]
struct Rounds {
    seconds: f64,
    iterations: u32,
}

impl Rounds {
    /// Solves `p`; `None` when it is unsolved but not infeasible: a reduced
    /// program can be unbounded where the full one is not (too little of it
    /// kept), and the caller leaves it to the full one.
    fn solve(&mut self, p: &Program, how: Solve) -> Result<Option<Solution>> {
        match p.solve_as(how) {
            Ok(sol) => {
                self.seconds += sol.seconds;
                self.iterations += sol.iterations;
                Ok(Some(sol))
            }
            Err(Error::Solver { status, .. }) if !status.is_infeasible() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The last solution, with the time and iterations of every round.
    fn last(&self, mut sol: Solution) -> Solution {
        sol.seconds = self.seconds;
        sol.iterations = self.iterations;
        sol
    }
}

/// What [`Reduced::write`] wrote: the objective, and the variables of the
/// threshold (CVaR, CDaR) and of the maximum (a maximum measure), where the
/// measure has them.
struct Written {
    objective: Lin,
    threshold: Option<Var>,
    maximum: Option<Var>,
}

/// One affine piece of a scenario's term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Piece {
    /// The constant 0 (a hinge's flat side).
    Zero,
    /// For [`Family::Rows`], `signs[k]` times the scenario's row; for
    /// [`Family::Drawdown`], the drawdown from peak `k` (cumulative index).
    Lin(usize),
}

/// Where the pieces' coefficients come from.
pub(crate) enum Family {
    /// Piece `Lin(k)` of scenario `s` is $\text{signs}_k\, v_s^\top w$.
    Rows { vectors: Array2<f64>, signs: &'static [f64] },
    /// Piece `Lin(j)` of scenario `s`, $j \le s + 1$, is $(C_j - C_{s+1})^\top
    /// w$ with $C$ the cumulative scenario returns ($C_0 = 0$, the start);
    /// $j = s + 1$ is the zero drawdown.
    Drawdown { cumulative: Array2<f64> },
}

/// How the scenarios' terms combine.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Aggregate {
    /// $\sum_s \kappa\, g_s$ (plus $\alpha$ with a threshold).
    Sum(f64),
    /// $\max_s g_s$.
    Max,
    /// $\sqrt{c \sum_s g_s^2}$.
    Rms(f64),
}

/// A scenario measure in reducible form.
pub(crate) struct Reduced {
    pub family: Family,
    pub aggregate: Aggregate,
    /// Whether [`Piece::Zero`] is a piece of every scenario.
    pub zero: bool,
    /// Whether linear pieces are less a free threshold $\alpha$, which the
    /// objective adds once (CVaR and CDaR in Rockafellar–Uryasev form).
    pub threshold: bool,
    /// Each scenario's multiplier $m_s$ in a sum ($\kappa \sum_s m_s g_s$)
    /// or a root mean square ($\sqrt{c \sum_s m_s g_s^2}$): its
    /// probability; `None` when the scenarios are equally likely (every
    /// $m_s = 1$, $\kappa$ and $c$ carrying the $1/S$).
    pub probabilities: Option<Array1<f64>>,
}

/// One date in this many makes the coarse CDaR that gives its start.
const COARSE: usize = 4;
/// The fewest dates worth a coarse start.
const COARSE_FROM: usize = 1000;
/// The share of scenarios given two pieces at the start.
const NEAR_KINK: f64 = 0.01;
/// Rounds of adding missing pieces before the full program is used instead.
const MAX_ROUNDS: usize = 60;
/// The trust region's first radius, in the 1-norm of a weight change (a
/// move from one fully invested portfolio to another is at most 2).
const TRUST_RADIUS: f64 = 0.1;
/// The share of the radius beyond which the trust region counts as binding.
const BINDING: f64 = 0.99;

impl Reduced {
    /// CDaR on every [`COARSE`]-th date, its weights scaled to the same
    /// total, when there are enough dates for it to pay: its minimiser is a
    /// start near the full one's, far nearer than the minimum-variance
    /// portfolio, whose path to the optimum crosses the peak and tail of
    /// thousands of dates. (Measured on the S&P 500 and its sub-windows, the
    /// coarse start made CDaR 1.3–3× faster, and every other scenario
    /// measure slower: their paths are short already.)
    fn coarse(&self) -> Option<Reduced> {
        let t = self.scenarios();
        match (&self.family, self.aggregate) {
            (Family::Drawdown { cumulative }, Aggregate::Sum(kappa))
                if t >= COARSE_FROM && self.probabilities.is_none() =>
            {
                let rows: Vec<usize> = (0..=t).step_by(COARSE).collect();
                let kept = rows.len() - 1;
                Some(Reduced {
                    family: Family::Drawdown { cumulative: cumulative.select(Axis(0), &rows) },
                    aggregate: Aggregate::Sum(kappa * t as f64 / kept as f64),
                    zero: self.zero,
                    threshold: self.threshold,
                    probabilities: None,
                })
            }
            _ => None,
        }
    }

    /// Scenario `s`'s multiplier $m_s$ (1 when equally likely).
    fn multiplier(&self, s: usize) -> f64 {
        self.probabilities.as_ref().map_or(1.0, |p| p[s])
    }

    fn scenarios(&self) -> usize {
        match &self.family {
            Family::Rows { vectors, .. } => vectors.nrows(),
            Family::Drawdown { cumulative } => cumulative.nrows() - 1,
        }
    }

    /// The vectors whose products with the weights make the pieces: the
    /// scenarios' rows $v_s$, or the cumulative returns $C_j$.
    fn vectors(&self) -> &Array2<f64> {
        match &self.family {
            Family::Rows { vectors, .. } => vectors,
            Family::Drawdown { cumulative } => cumulative,
        }
    }

    /// The family's products with `w`: $v_s^\top w$, or $C_j^\top w$.
    fn products(&self, w: &[f64]) -> Array1<f64> {
        self.vectors().dot(&ndarray::ArrayView1::from(w))
    }

    fn value(&self, e: &Array1<f64>, s: usize, piece: Piece, alpha: f64) -> f64 {
        match piece {
            Piece::Zero => 0.0,
            Piece::Lin(k) => {
                let v = match &self.family {
                    Family::Rows { signs, .. } => signs[k] * e[s],
                    Family::Drawdown { .. } => e[k] - e[s + 1],
                };
                if self.threshold {
                    v - alpha
                } else {
                    v
                }
            }
        }
    }

    /// The constant piece 0, if the scenarios have it.
    fn zero_piece(&self) -> Option<Piece> {
        self.zero.then_some(Piece::Zero)
    }

    /// Every scenario's best piece and runner-up (if any) with their values.
    fn ranked(&self, e: &Array1<f64>, alpha: f64) -> Vec<[(Piece, f64); 2]> {
        let none = (Piece::Zero, f64::NEG_INFINITY);
        let push = |top: &mut [(Piece, f64); 2], c: (Piece, f64)| {
            if c.1 > top[0].1 {
                top[1] = top[0];
                top[0] = c;
            } else if c.1 > top[1].1 {
                top[1] = c;
            }
        };
        let t = self.scenarios();
        let mut out = Vec::with_capacity(t);
        // Drawdown peaks: the two highest cumulative values so far (the
        // start, then none yet).
        let mut peaks: [Option<(usize, f64)>; 2] = [Some((0, e[0])), None];
        for s in 0..t {
            let mut top = [none, none];
            match &self.family {
                Family::Rows { signs, .. } => {
                    for k in 0..signs.len() {
                        push(&mut top, (Piece::Lin(k), self.value(e, s, Piece::Lin(k), alpha)));
                    }
                }
                Family::Drawdown { .. } => {
                    let c = e[s + 1];
                    let height = |p: Option<(usize, f64)>| p.map_or(f64::NEG_INFINITY, |(_, h)| h);
                    if c > height(peaks[0]) {
                        peaks = [Some((s + 1, c)), peaks[0]];
                    } else if c > height(peaks[1]) {
                        peaks[1] = Some((s + 1, c));
                    }
                    for (j, _) in peaks.iter().flatten() {
                        push(&mut top, (Piece::Lin(*j), self.value(e, s, Piece::Lin(*j), alpha)));
                    }
                    // The zero drawdown is always a candidate (a peak at s).
                    if !peaks.iter().flatten().any(|&(j, _)| j == s + 1) {
                        push(&mut top, (Piece::Lin(s + 1), self.value(e, s, Piece::Lin(s + 1), alpha)));
                    }
                }
            }
            if self.zero {
                push(&mut top, (Piece::Zero, 0.0));
            }
            out.push(top);
        }
        out
    }

    /// Adds `scale` times a piece's coefficients over the weights (its
    /// products, signed and summed) to `out`.
    fn add_piece(&self, s: usize, piece: Piece, scale: f64, out: &mut [f64]) {
        let products = self.products_of(s, piece);
        for (i, o) in out.iter_mut().enumerate() {
            let v: f64 = products.clone().map(|(key, sign)| sign * self.vectors()[[key, i]]).sum();
            *o += scale * v;
        }
    }

    /// Writes the reduced epigraph over the weights `w`: its objective and
    /// the variables it reads back.
    fn write(&self, p: &mut Program, w: Block, active: &[Vec<Piece>]) -> Written {
        let n = w.len();
        let alpha = self.threshold.then(|| p.var());
        let mut value = alpha.map_or_else(Lin::zero, Lin::from);
        let mut top = None;
        let mut above: Vec<(usize, &[Piece], Var)> = Vec::new();
        match self.aggregate {
            Aggregate::Sum(kappa) => {
                // κ Σ_s g_s: one piece folds into the weights' coefficients
                // (less κα with a threshold), several need a variable.
                let mut fixed = vec![0.0; n];
                for (s, pieces) in active.iter().enumerate() {
                    match pieces.as_slice() {
                        [] | [Piece::Zero] => {}
                        [piece] => {
                            let k = kappa * self.multiplier(s);
                            self.add_piece(s, *piece, k, &mut fixed);
                            if let Some(a) = alpha {
                                value -= a * k;
                            }
                        }
                        many => {
                            let v = p.var();
                            value += v * (kappa * self.multiplier(s));
                            above.push((s, many, v));
                        }
                    }
                }
                value += w.dot(&fixed);
            }
            Aggregate::Max => {
                // z ≥ g_s for every scenario.
                let z = p.var();
                value += z;
                top = Some(z);
                for (s, pieces) in active.iter().enumerate() {
                    above.push((s, pieces, z));
                }
            }
            Aggregate::Rms(c) => {
                // t/√c ≥ ‖(g_s)_s‖₂, the linear scenarios' part in n entries.
                let t = p.var();
                value += t;
                let mut linear: Vec<Vec<f64>> = Vec::new();
                let mut cone = vec![Affine::from(t * (1.0 / c.sqrt()))];
                for (s, pieces) in active.iter().enumerate() {
                    match pieces.as_slice() {
                        [] | [Piece::Zero] => {}
                        [piece] => {
                            let mut row = vec![0.0; n];
                            self.add_piece(s, *piece, self.multiplier(s).sqrt(), &mut row);
                            linear.push(row);
                        }
                        many => {
                            let v = p.var();
                            above.push((s, many, v));
                            cone.push((v * self.multiplier(s).sqrt()).into());
                        }
                    }
                }
                // Σ (a_s·w)² over the linear scenarios, in n entries.
                if !linear.is_empty() {
                    let a = Array2::from_shape_fn((linear.len(), n), |(r, i)| linear[r][i]);
                    cone.extend(square_root_entries(w, a.view(), 1.0));
                }
                p.soc(cone);
            }
        }
        self.write_above(p, w, alpha, &above);
        Written { objective: value, threshold: alpha, maximum: top }
    }

    /// The products with the weights that a piece's row holds, with their
    /// signs: a scenario's row ([`Family::Rows`]), or a peak's and the
    /// scenario's cumulative return ([`Family::Drawdown`]; $C_0 = 0$ has
    /// none).
    fn products_of(&self, s: usize, piece: Piece) -> impl Iterator<Item = (usize, f64)> + Clone {
        let products = match (piece, &self.family) {
            (Piece::Zero, _) => [None, None],
            (Piece::Lin(k), Family::Rows { signs, .. }) => [Some((s, signs[k])), None],
            (Piece::Lin(j), Family::Drawdown { .. }) => [(j != 0).then_some((j, 1.0)), Some((s + 1, -1.0))],
        };
        products.into_iter().flatten()
    }

    /// Writes `bound ≥ piece` for every (scenario, pieces, bound) of
    /// `rows`. For a sum or a root mean square, a product that two or more
    /// rows share becomes a variable of its own, defined once by an
    /// equality: the rows then hold it instead of $n$ weights. A peak's
    /// cumulative return is shared by every scenario of its drawdown, a
    /// scenario's row by both signs of a deviation.
    fn write_above(&self, p: &mut Program, w: Block, alpha: Option<Var>, rows: &[(usize, &[Piece], Var)]) {
        let mut uses = std::collections::BTreeMap::<usize, usize>::new();
        for &(s, pieces, _) in rows {
            for &piece in pieces {
                for (key, _) in self.products_of(s, piece) {
                    *uses.entry(key).or_default() += 1;
                }
            }
        }
        let mut shared = std::collections::BTreeMap::<usize, Var>::new();
        // A maximum's rows stay dense: sharing left its solves as fast and
        // added setup time to the S&P 500 maximum drawdown.
        let share = !matches!(self.aggregate, Aggregate::Max);
        for (&key, _) in uses.iter().filter(|(_, &count)| share && count > 1) {
            // e = v_key·w.
            let e = p.var();
            p.eq_raw(w.dot(self.vectors().row(key)) - e, 0.0);
            shared.insert(key, e);
        }
        for &(s, pieces, bound) in rows {
            for &piece in pieces {
                // bound ≥ piece (− α for a thresholded linear piece).
                let mut piece_value = Lin::zero();
                if piece != Piece::Zero {
                    if let Some(a) = alpha {
                        piece_value -= a;
                    }
                }
                for (key, sign) in self.products_of(s, piece) {
                    piece_value += match shared.get(&key) {
                        Some(&e) => e * sign,
                        None => w.dot(self.vectors().row(key)) * sign,
                    };
                }
                p.ge(bound - piece_value, 0.0);
            }
        }
    }

    /// Every scenario's ranked pieces at the start `w0`, with the threshold
    /// at the value-at-risk of the unthresholded terms (their (1/κ)-th
    /// largest).
    fn start(&self, w0: &[f64]) -> Vec<[(Piece, f64); 2]> {
        let e = self.products(w0);
        let alpha = match (self.threshold, self.aggregate) {
            (true, Aggregate::Sum(kappa)) => {
                let mut g: Vec<f64> = self.ranked(&e, 0.0).iter().map(|top| top[0].1).collect();
                match &self.probabilities {
                    None => {
                        let rank = ((1.0 / kappa).floor() as usize).min(g.len() - 1);
                        g.select_nth_unstable_by(rank, |a, b| b.total_cmp(a));
                        g[rank]
                    }
                    Some(prob) => {
                        // The largest term whose scenarios from the top
                        // carry 1/κ of the probability.
                        let mut order: Vec<usize> = (0..g.len()).collect();
                        order.sort_by(|&a, &b| g[b].total_cmp(&g[a]));
                        let mut mass = 0.0;
                        let at = order.iter().position(|&s| {
                            mass += kappa * prob[s];
                            mass >= 1.0
                        });
                        g[order[at.unwrap_or(order.len() - 1)]]
                    }
                }
            }
            _ => 0.0,
        };
        self.ranked(&e, alpha)
    }

    /// Adds to `active` what the scenarios need at a point whose pieces are
    /// `ranked`: each its best piece (for a sum or a root mean square) and
    /// the share nearest a kink its runner-up as well (for a maximum: the
    /// share nearest the maximum, both pieces).
    fn seed(&self, ranked: &[[(Piece, f64); 2]], active: &mut [Vec<Piece>]) {
        let t = ranked.len();
        let near = ((NEAR_KINK * t as f64).ceil() as usize).max(64).min(t);
        let highest = ranked.iter().map(|top| top[0].1).fold(f64::NEG_INFINITY, f64::max);
        // How far each scenario is from changing its piece (or, for a
        // maximum, from being the maximum).
        let gap: Vec<f64> = ranked
            .iter()
            .map(|top| match self.aggregate {
                Aggregate::Max => highest - top[0].1,
                _ => top[0].1 - top[1].1,
            })
            .collect();
        let mut order: Vec<usize> = (0..t).collect();
        order.select_nth_unstable_by(near - 1, |&a, &b| gap[a].total_cmp(&gap[b]));
        let mut keep = |s: usize, piece: Piece| {
            if !active[s].contains(&piece) {
                active[s].push(piece);
            }
        };
        if !matches!(self.aggregate, Aggregate::Max) {
            for (s, top) in ranked.iter().enumerate() {
                keep(s, top[0].0);
            }
        }
        for &s in &order[..near] {
            for c in ranked[s].iter().filter(|c| c.1.is_finite()) {
                keep(s, c.0);
            }
        }
    }
}

/// Where each round of [`minimise_model`] may move the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    /// Within a trust region around a centre that moves while it binds.
    Trust,
    /// Anywhere the program allows.
    Whole,
}

/// A model of a measure that is exact at some points and refined round
/// by round until it is exact at its own minimiser (see [`Model::refine`]).
pub(crate) trait Model {
    /// Writes the model of the weights `w` into `p`; returns the
    /// objective.
    fn write(&mut self, p: &mut Program, w: Block) -> Lin;
    /// Checks the model at the solution `x` of the program it wrote, and
    /// adds what it missed: `true` when it did not equal the measure in a
    /// neighbourhood of the weights `w` there. It may also add what it
    /// expects to need next.
    fn refine(&mut self, x: &[f64], w: Block) -> bool;
}

/// Minimises `model` over `base` from `w0` until it is exact at its
/// minimiser: the last round's solution and program (for the caller to
/// finish), or `None` when `max_rounds` do not settle.
///
/// With [`Region::Trust`], each round is solved inside a trust region $\lVert w -
/// c\rVert_1 \le \Delta$ around a centre $c$: with most terms linear, an
/// unbounded step would run to a far vertex and change the piece of
/// thousands of terms. When a round's solution lies on the region's edge,
/// the centre moves to it and $\Delta$ doubles. The last round is one
/// whose model missed nothing and whose region did not bind: the model
/// equals the measure near its solution, which is a local, hence (the
/// measure being convex) the global, minimiser of the measure.
pub(crate) fn minimise_model(
    model: &mut dyn Model,
    base: &Program,
    w: Block,
    w0: &[f64],
    region: Region,
    max_rounds: usize,
) -> Result<Option<(Solution, Program)>> {
    let trust = region == Region::Trust;
    let (mut centre, mut radius) = (w0.to_vec(), TRUST_RADIUS);
    let mut rounds = Rounds::default();
    for _ in 0..max_rounds {
        let mut p = base.clone();
        let objective = model.write(&mut p, w);
        p.minimise(objective);
        if trust {
            // |w_i − c_i| ≤ y_i, Σ y_i ≤ Δ.
            let y = p.vars(w.len());
            for ((wi, yi), &c) in w.vars().zip(y.vars()).zip(&centre) {
                p.le(wi - yi, c);
                p.ge(wi + yi, c);
            }
            p.le(y.sum(), radius);
        }
        // An interior-point solution on the region's edge stops short of
        // it by up to ~1e-7 of the radius, so "binding" is judged with a
        // wide margin: a solution truly inside at 99 % of the radius
        // costs one more round, no more.
        let binds =
            |w: &[f64]| trust && w.iter().zip(&centre).map(|(x, c)| (x - c).abs()).sum::<f64>() > radius * BINDING;
        let Some(mut sol) = rounds.solve(&p, Solve::GUIDE)? else { return Ok(None) };
        let mut missing = model.refine(&sol.x, w);
        if sol.status == SolverStatus::AlmostSolved && !missing && !binds(&w.values(&sol.x)) {
            // A solution short of the tight tolerances guides the next
            // round as well as a full one, but the last round must be
            // solved: at Clarabel's default tolerances, as any program
            // whose tight solve stops short.
            let Some(full) = rounds.solve(&p, Solve::RELAXED)? else { return Ok(None) };
            sol = full;
            missing = model.refine(&sol.x, w);
        }
        let weights = w.values(&sol.x);
        // The centre moves even when the model missed pieces: its solution
        // is a better centre than the last one (on the S&P 500 this halves
        // the rounds of MAD, FLPM and CDaR).
        let binding = binds(&weights);
        if binding {
            centre = weights;
            radius *= 2.0;
        }
        if !missing && !binding {
            return Ok(Some((rounds.last(sol), p)));
        }
    }
    Ok(None)
}

/// The pieces a [`Reduced`] measure keeps per scenario, and the variables
/// of the threshold and (for a maximum) of the maximum in the program last
/// written.
struct Pieces<'a> {
    measure: &'a Reduced,
    active: Vec<Vec<Piece>>,
    alpha: Option<Var>,
    top: Option<Var>,
}

impl Model for Pieces<'_> {
    fn write(&mut self, p: &mut Program, w: Block) -> Lin {
        let written = self.measure.write(p, w, &self.active);
        (self.alpha, self.top) = (written.threshold, written.maximum);
        written.objective
    }

    /// Every scenario's best piece at `x` joins its kept ones if it beat
    /// them; the scenarios nearest a kink there, the likeliest to switch
    /// next, bring their runner-ups as well.
    fn refine(&mut self, x: &[f64], w: Block) -> bool {
        let m = self.measure;
        let a = self.alpha.map_or(0.0, |a| a.value(x));
        let e = m.products(&w.values(x));
        let ranked = m.ranked(&e, a);
        let scale = ranked.iter().map(|top| top[0].1.abs()).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        let tol = 1e-10 * scale;
        let mut missing = false;
        for (s, top) in ranked.iter().enumerate() {
            let active = &mut self.active[s];
            let (best, best_value) = top[0];
            let kept = active.iter().map(|&q| m.value(&e, s, q, a)).fold(f64::NEG_INFINITY, f64::max);
            let short = match m.aggregate {
                Aggregate::Max => best_value > self.top.map_or(f64::NEG_INFINITY, |z| z.value(x)) + tol,
                _ => best_value > kept + tol,
            };
            // A squared linear piece must stay positive (see the module docs).
            let sign = matches!(m.aggregate, Aggregate::Rms(_))
                && matches!(active.as_slice(), [q] if Some(*q) != m.zero_piece() && kept <= tol);
            if short && !active.contains(&best) {
                active.push(best);
                missing = true;
            }
            if let Some(z) = m.zero_piece().filter(|z| sign && !active.contains(z)) {
                active.push(z);
                missing = true;
            }
        }
        m.seed(&ranked, &mut self.active);
        missing
    }
}

impl Reduction for Reduced {
    /// Minimises the measure over the program `base`, a sum or root mean
    /// square in a trust region ([`minimise_model`]): `None` when the
    /// rounds run out. CDaR starts from its [`coarse`](Reduced::coarse)
    /// minimiser, whose solver time counts with the rest.
    fn minimise(&self, base: &Program, w: Block, w0: &[f64]) -> Result<Option<Solution>> {
        let (mut seconds, mut iterations) = (0.0, 0);
        let mut start = w0.to_vec();
        // The coarse minimiser is only a start: it is not polished.
        if let Some((sol, _)) = self.coarse().map(|c| c.minimise_unpolished(base, w, w0)).transpose()?.flatten() {
            start = w.values(&sol.x);
            (seconds, iterations) = (sol.seconds, sol.iterations);
        }
        Ok(self.minimise_unpolished(base, w, &start)?.map(|(sol, p)| {
            let mut sol = p.polished(sol);
            sol.seconds += seconds;
            sol.iterations += iterations;
            sol
        }))
    }
}

impl Reduced {
    /// The last round's solution and program, before any finish.
    fn minimise_unpolished(&self, base: &Program, w: Block, w0: &[f64]) -> Result<Option<(Solution, Program)>> {
        let mut active = vec![Vec::new(); self.scenarios()];
        self.seed(&self.start(w0), &mut active);
        let mut pieces = Pieces { measure: self, active, alpha: None, top: None };
        // A maximum's reduced model is below it everywhere, so its
        // minimiser needs no region.
        let region = if matches!(self.aggregate, Aggregate::Max) { Region::Whole } else { Region::Trust };
        minimise_model(&mut pieces, base, w, w0, region, MAX_ROUNDS)
    }
}

/// Second-order-cone entries over the weights `w` whose squares sum to
/// $\text{scale}\,\lVert a w\rVert^2$: with $a^\top a = V\Lambda V^\top$,
/// one entry $\sqrt{\text{scale}\,\lambda_k}\, v_k^\top w$ per eigenvalue
/// above rounding (at most $n$ entries however many rows `a` has).
pub(crate) fn square_root_entries(w: Block, a: ArrayView2<'_, f64>, scale: f64) -> Vec<Affine> {
    let (values, vectors) = crate::linalg::symmetric_eigen(&crate::linalg::gram(a));
    let floor = values.first().copied().unwrap_or(0.0).max(0.0) * 1e-14;
    values
        .iter()
        .enumerate()
        .filter(|(_, &l)| l > floor)
        .map(|(k, &l)| (w.dot(vectors.column(k)) * (l * scale).sqrt()).into())
        .collect()
}

/// $C_0 = 0$ and $C_{s+1} = \sum_{k \le s} r_k$: cumulative scenario returns.
pub(crate) fn cumulative(scenarios: ArrayView2<'_, f64>) -> Array2<f64> {
    let (t, n) = scenarios.dim();
    let mut c = Array2::<f64>::zeros((t + 1, n));
    for s in 0..t {
        let next = &c.row(s) + &scenarios.row(s);
        c.row_mut(s + 1).assign(&next);
    }
    c
}

/// The scenarios less their mean, times `sign`.
pub(crate) fn centred(scenarios: ArrayView2<'_, f64>, sign: f64) -> Array2<f64> {
    let mean = scenarios.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(scenarios.ncols()));
    (&scenarios - &mean) * sign
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimize::RiskMeasure;
    use ndarray::array;

    /// Two assets, long-only and fully invested.
    fn simplex() -> (Program, Block) {
        let (mut p, w) = Program::with_weights(2);
        p.eq(w.sum(), 1.0);
        p.ge(w.at(0), 0.0);
        p.ge(w.at(1), 0.0);
        (p, w)
    }

    fn rows(vectors: Array2<f64>, aggregate: Aggregate, zero: bool, threshold: bool) -> Reduced {
        Reduced { family: Family::Rows { vectors, signs: &[1.0] }, aggregate, zero, threshold, probabilities: None }
    }

    /// Four scenarios of two assets: with $w = (a, 1-a)$ the losses are
    /// $0.01 - 0.03a$, $-0.01 + 0.04a$, $-0.01a$ and $-0.02 + 0.03a$.
    fn returns() -> Array2<f64> {
        array![[0.02, -0.01], [-0.03, 0.01], [0.01, 0.0], [-0.01, 0.02]]
    }

    #[test]
    fn each_scenario_ranks_its_best_piece_then_its_runner_up() {
        // A mean-absolute-deviation-like term: max(v_s·w, 0).
        let m = rows(array![[1.0, 0.0], [0.0, -1.0], [1.0, -1.0]], Aggregate::Sum(1.0), true, false);
        let ranked = m.ranked(&m.products(&[0.5, 0.5]), 0.0);
        assert_eq!(ranked[0], [(Piece::Lin(0), 0.5), (Piece::Zero, 0.0)]);
        assert_eq!(ranked[1], [(Piece::Zero, 0.0), (Piece::Lin(0), -0.5)]);
        // A tie at the kink: the first piece written stays best, the other
        // is its runner-up, both at 0.
        assert_eq!(ranked[2], [(Piece::Lin(0), 0.0), (Piece::Zero, 0.0)]);
    }

    #[test]
    fn a_drawdown_ranks_the_peaks_so_far() {
        // One asset returning 1, −2, 0.5, 3: cumulative 0 (the start), 1,
        // −1, −0.5, 2.5, so drawdowns 0, 2, 1.5, 0.
        let m = Reduced {
            family: Family::Drawdown { cumulative: cumulative(array![[1.0], [-2.0], [0.5], [3.0]].view()) },
            aggregate: Aggregate::Max,
            zero: false,
            threshold: false,
            probabilities: None,
        };
        let ranked = m.ranked(&m.products(&[1.0]), 0.0);
        let best: Vec<(Piece, f64)> = ranked.iter().map(|top| top[0]).collect();
        assert_eq!(best, vec![(Piece::Lin(1), 0.0), (Piece::Lin(1), 2.0), (Piece::Lin(1), 1.5), (Piece::Lin(4), 0.0)]);
        // Runner-ups: the start as a peak, then the previous record.
        assert_eq!(ranked[1][1], (Piece::Lin(0), 1.0));
        assert_eq!(ranked[3][1], (Piece::Lin(1), -1.5));
    }

    /// The worst loss is smallest where the first two cross:
    /// $0.01 - 0.03a = -0.01 + 0.04a$ at $a = 2/7$, a loss of $1/700$.
    #[test]
    fn the_worst_realisation_reduces_to_its_crossing() {
        let m = rows(returns().mapv(|v| -v), Aggregate::Max, false, false);
        let (base, w) = simplex();
        let sol = m.minimise(&base, w, &[0.5, 0.5]).unwrap().unwrap();
        assert!((w.values(&sol.x)[0] - 2.0 / 7.0).abs() < 1e-12, "{:?}", w.values(&sol.x));
        assert!((sol.objective - 1.0 / 700.0).abs() < 1e-12, "{}", sol.objective);
    }

    /// CVaR at 50 % of four scenarios (the mean of the worst two losses),
    /// with a free threshold and the zero piece: its minimum over $a$ lies
    /// at a crossing of two losses or an end, so the best of those points,
    /// measured directly, is the exact minimum.
    #[test]
    fn cvar_with_its_threshold_reduces_to_the_exact_minimum() {
        let r = returns();
        let m = rows(r.mapv(|v| -v), Aggregate::Sum(1.0 / (0.5 * 4.0)), true, true);
        let (base, w) = simplex();
        let sol = m.minimise(&base, w, &[0.5, 0.5]).unwrap().unwrap();
        let cvar = |a: f64| RiskMeasure::Cvar { beta: 0.5 }.of(&r.dot(&array![a, 1.0 - a]).to_vec());
        let loss = |s: usize| (-r[[s, 1]], -(r[[s, 0]] - r[[s, 1]]));
        let mut candidates = vec![0.0, 1.0];
        for i in 0..4 {
            for j in 0..i {
                let ((ci, di), (cj, dj)) = (loss(i), loss(j));
                if di != dj {
                    candidates.push(((cj - ci) / (di - dj)).clamp(0.0, 1.0));
                }
            }
        }
        let best = candidates.iter().map(|&a| cvar(a)).fold(f64::INFINITY, f64::min);
        let a = w.values(&sol.x)[0];
        assert!((cvar(a) - best).abs() < 1e-12, "{} vs {best}", cvar(a));
        assert!((sol.objective - best).abs() < 1e-12, "{} vs {best}", sol.objective);
    }

    /// A model that only pulls weight into the first asset, exact
    /// everywhere: from 1/2 the trust region (first radius 0.1) binds at
    /// 0.55, 0.65 and 0.85 as it doubles, and the fourth round (radius 0.8)
    /// reaches the vertex (1, 0) inside it.
    #[test]
    fn the_trust_region_moves_and_doubles_while_it_binds() {
        struct Pull {
            writes: usize,
        }
        impl Model for Pull {
            fn write(&mut self, _: &mut Program, w: Block) -> Lin {
                self.writes += 1;
                -w.at(0)
            }
            fn refine(&mut self, _: &[f64], _: Block) -> bool {
                false
            }
        }
        let mut pull = Pull { writes: 0 };
        let (base, w) = simplex();
        let (sol, _) = minimise_model(&mut pull, &base, w, &[0.5, 0.5], Region::Trust, 10).unwrap().unwrap();
        assert!((w.values(&sol.x)[0] - 1.0).abs() < 1e-8, "{:?}", w.values(&sol.x));
        assert_eq!(pull.writes, 4);
        // Too few rounds: no answer, and the caller solves the full program.
        let mut short = Pull { writes: 0 };
        assert!(minimise_model(&mut short, &base, w, &[0.5, 0.5], Region::Trust, 3).unwrap().is_none());
    }
}
