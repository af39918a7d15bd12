//! Assembling a conic problem for Clarabel:
//! $\min \tfrac12 x^\top P x + q^\top x$ s.t. $Ax + s = b$, $s \in \mathcal K$,
//! with $\mathcal K$ a product of the zero cone (equalities), the
//! non-negative orthant (inequalities), second-order cones and exponential
//! cones, in that order. Clarabel's types stay inside this file.

use std::sync::Arc;
use std::time::Instant;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettings, DefaultSettingsBuilder, DefaultSolver, IPSolver, SupportedConeT};

use crate::error::{Error, Result, SolverStatus};

mod expr;
pub(crate) use expr::{Affine, Block, Lin, Var};

/// A sparse row $a^\top x$ as (variable index, coefficient) pairs: what
/// Clarabel's matrices are assembled from, never seen outside this file.
type Row = Vec<(usize, f64)>;

/// Clarabel's (P, q, A, b, cones).
type Assembled = (CscMatrix<f64>, Vec<f64>, CscMatrix<f64>, Vec<f64>, Vec<SupportedConeT<f64>>);

/// A conic program under construction.
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {
    n: usize,
    p: Vec<(usize, usize, f64)>,
    q: Vec<f64>,
    eq: Vec<(Row, f64)>,
    le: Vec<(Row, f64)>,
    soc: Vec<Vec<(Row, f64)>>,
    exp: Vec<[(Row, f64); 3]>,
    /// Power cones with their exponent.
    pow: Vec<([(Row, f64); 3], f64)>,
    /// In a homogenised program, constraint right-hand sides multiply this
    /// scale variable: $a^\top x \le b$ becomes $a^\top x - b\kappa \le 0$.
    kappa: Option<usize>,
    /// Whether the solution is polished on its active set ([`Program::polish`]).
    polish: bool,
    /// Each weight's held-or-not indicator in a relaxation of holding
    /// rules, where one is written, with the variance's diagonal share for
    /// its perspective form where there is one.
    indicators: Option<(Block, Option<Arc<Vec<f64>>>)>,
}

/// What Clarabel returned.
#[derive(Debug, Clone)]
pub(crate) struct Solution {
    pub x: Vec<f64>,
    pub status: SolverStatus,
    /// The gap and feasibility tolerance the solve met.
    pub tolerance: f64,
    pub iterations: u32,
    pub seconds: f64,
    pub objective: f64,
    /// Clarabel's dual variables, one per row (equalities, then
    /// inequalities, then cones).
    pub duals: Vec<f64>,
    /// How the interior point was finished.
    pub finish: Finish,
    /// Newton's method produced it instead (its steps are `iterations`,
    /// the contributions' distance from their budgets `tolerance`).
    pub newton: bool,
}

/// How an interior-point solution was finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// As the interior-point solver left it: a tolerance short of the
    /// optimum.
    Interior,
    /// Re-solved exactly on its active set: a quadratic program directly,
    /// a log-barrier one (risk budgets) by Newton steps.
    ActiveSet,
    /// Moved onto the optimal face its active set defines (a linear
    /// program): at the vertex where the active set pins the variables.
    Vertex,
}

impl std::fmt::Display for Finish {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Finish::Interior => "interior point",
            Finish::ActiveSet => "finished on its active set",
            Finish::Vertex => "finished at its vertex",
        })
    }
}

impl Program {
    /// A program with the weights of `n` assets as its first variables.
    pub fn with_weights(n: usize) -> (Self, Block) {
        let mut p = Program::default();
        let w = p.vars(n);
        (p, w)
    }

    /// Adds a variable.
    pub fn var(&mut self) -> Var {
        self.n += 1;
        self.q.push(0.0);
        Var(self.n - 1)
    }

    /// Adds `count` variables as one [`Block`].
    pub fn vars(&mut self, count: usize) -> Block {
        let first = self.n;
        for _ in 0..count {
            self.var();
        }
        Block { first, len: count }
    }

    /// Records the weights' indicators of a relaxation of holding rules,
    /// and the variance's diagonal share for its perspective form.
    pub fn set_indicators(&mut self, z: Block, diagonal: Option<Arc<Vec<f64>>>) {
        self.indicators = Some((z, diagonal));
    }

    /// The weights' indicators and the diagonal share, where a relaxation
    /// wrote them.
    pub fn indicators(&self) -> Option<(Block, Option<Arc<Vec<f64>>>)> {
        self.indicators.clone()
    }

    /// Makes the program homogeneous in `kappa` (see the field's docs).
    pub fn homogenize(&mut self, kappa: Var) {
        self.kappa = Some(kappa.0);
    }

    /// Adds $\tfrac12 v\,x y$ (and its mirror) to the objective.
    pub fn quad(&mut self, x: Var, y: Var, v: f64) {
        let (a, b) = if x.0 <= y.0 { (x.0, y.0) } else { (y.0, x.0) };
        self.p.push((a, b, v));
    }

    /// Whether the program has cones beyond the nonnegative orthant.
    pub fn has_cones(&self) -> bool {
        !(self.soc.is_empty() && self.exp.is_empty() && self.pow.is_empty())
    }

    /// The objective $q^\top x + \tfrac12 x^\top P x$ at `x`.
    pub fn objective_at(&self, x: &[f64]) -> f64 {
        let linear: f64 = self.q.iter().zip(x).map(|(q, v)| q * v).sum();
        let quadratic: f64 =
            self.p.iter().map(|&(a, b, v)| if a == b { 0.5 * v * x[a] * x[a] } else { v * x[a] * x[b] }).sum();
        linear + quadratic
    }

    /// Adds the linear expression `e` to the objective.
    pub fn minimise(&mut self, e: impl Into<Lin>) {
        for (j, c) in e.into().0 {
            self.q[j] += c;
        }
    }

    fn scaled(&self, mut row: Row, rhs: f64) -> (Row, f64) {
        match self.kappa {
            Some(k) if rhs != 0.0 => {
                row.push((k, -rhs));
                (row, 0.0)
            }
            _ => (row, rhs),
        }
    }

    /// $e = b$ (homogenised if the program is).
    pub fn eq(&mut self, e: impl Into<Lin>, rhs: f64) {
        let r = self.scaled(e.into().0, rhs);
        self.eq.push(r);
    }

    /// $e = b$, never homogenised (a normalisation).
    pub fn eq_raw(&mut self, e: impl Into<Lin>, rhs: f64) {
        self.eq.push((e.into().0, rhs));
    }

    /// $e \le b$ (homogenised if the program is).
    pub fn le(&mut self, e: impl Into<Lin>, rhs: f64) -> Ineq {
        let r = self.scaled(e.into().0, rhs);
        self.le.push(r);
        Ineq(self.le.len() - 1)
    }

    /// $e \ge b$ (homogenised if the program is).
    pub fn ge(&mut self, e: impl Into<Lin>, rhs: f64) -> Ineq {
        self.le(-e.into(), -rhs)
    }

    /// $s_0 \ge \lVert (s_1, s_2, \dots) \rVert_2$: the entries in a
    /// second-order cone.
    pub fn soc(&mut self, entries: Vec<Affine>) {
        self.soc.push(entries.into_iter().map(clarabel_row).collect());
    }

    /// $s_2 e^{s_1/s_2} \le s_3$: the entries in the exponential cone.
    pub fn exp(&mut self, entries: [Affine; 3]) {
        self.exp.push(entries.map(clarabel_row));
    }

    /// $s_1^\alpha s_2^{1-\alpha} \ge \lvert s_3\rvert$, $s_1, s_2 \ge 0$:
    /// the entries in the power cone (homogenised if the program is, as
    /// [`le`](Self::le) is).
    pub fn pow(&mut self, entries: [Affine; 3], alpha: f64) {
        let rows = entries.map(|e| {
            let (row, rhs) = clarabel_row(e);
            self.scaled(row, rhs)
        });
        self.pow.push((rows, alpha));
    }

    /// The position in Clarabel's `b` of inequality `k`.
    pub fn le_position(&self, k: Ineq) -> usize {
        self.eq.len() + k.0
    }

    fn assemble(&self) -> Assembled {
        let n = self.n;
        let (pi, pj, pv) = triplets(self.p.iter().map(|&(i, j, v)| (i, j, v)));
        let p = CscMatrix::new_from_triplets(n, n, pi, pj, pv);
        let mut rows: Vec<&(Row, f64)> = Vec::new();
        rows.extend(self.eq.iter());
        rows.extend(self.le.iter());
        for block in &self.soc {
            rows.extend(block.iter());
        }
        for block in &self.exp {
            rows.extend(block.iter());
        }
        for (block, _) in &self.pow {
            rows.extend(block.iter());
        }
        let m = rows.len();
        let mut entries = Vec::new();
        let mut b = Vec::with_capacity(m);
        for (r, (row, rhs)) in rows.iter().enumerate() {
            for &(j, v) in row {
                entries.push((r, j, v));
            }
            b.push(*rhs);
        }
        let (ai, aj, av) = triplets(entries.into_iter());
        let a = CscMatrix::new_from_triplets(m, n, ai, aj, av);
        let mut cones = Vec::new();
        if !self.eq.is_empty() {
            cones.push(SupportedConeT::ZeroConeT(self.eq.len()));
        }
        if !self.le.is_empty() {
            cones.push(SupportedConeT::NonnegativeConeT(self.le.len()));
        }
        for block in &self.soc {
            cones.push(SupportedConeT::SecondOrderConeT(block.len()));
        }
        for _ in &self.exp {
            cones.push(SupportedConeT::ExponentialConeT());
        }
        for (_, alpha) in &self.pow {
            cones.push(SupportedConeT::PowerConeT(*alpha));
        }
        (p, self.q.clone(), a, b, cones)
    }

    /// Asks for the solution to be polished on its active set: for a
    /// strictly convex quadratic program (a variance with linear
    /// constraints) whose optimum is unique.
    pub fn polish_on_active_set(&mut self) {
        self.polish = true;
    }

    /// The solution re-solved exactly on its active set, as OSQP polishes:
    /// the inequalities whose slack is below their dual are taken as
    /// equalities with the equalities, and the KKT system
    /// $\begin{pmatrix}P & A_E^\top\\ A_E & 0\end{pmatrix}\binom{x}{\nu} =
    /// \binom{-q}{b_E}$ is solved directly. An interior-point solution stops
    /// a tolerance short of the optimum, which on a flat optimum leaves
    /// weights off by up to 1e-5; the polished one is exact to rounding.
    /// `None` (keep Clarabel's) unless the result is feasible, its
    /// multipliers have the right sign and its objective is no worse.
    fn polish(&self, sol: &Solution) -> Option<(Vec<f64>, f64)> {
        if !self.soc.is_empty()
            || !self.exp.is_empty()
            || !self.pow.is_empty()
            || sol.duals.len() != self.eq.len() + self.le.len()
        {
            return None;
        }
        let m_eq = self.eq.len();
        let dual_scale = sol.duals.iter().fold(f64::MIN_POSITIVE, |m, v| m.max(v.abs()));
        let mut active: Vec<usize> =
            (0..self.le.len()).filter(|&i| self.le[i].1 - dot(&self.le[i].0, &sol.x) < sol.duals[m_eq + i]).collect();
        // A bound met with a near-zero multiplier can land on the wrong
        // side: a few active-set corrections (drop the most negative
        // multiplier, or add the most violated row) settle it.
        for _ in 0..POLISH_ROUNDS {
            let (x, nu) = self.kkt_solve(&active, &sol.x)?;
            if !self.correct(&mut active, &nu[m_eq..], &x, dual_scale) {
                let equal = self.eq.iter().all(|(row, b)| (dot(row, &x) - b).abs() <= tol(*b));
                let objective = self
                    .p
                    .iter()
                    .map(|&(a, b, v)| if a == b { 0.5 * v * x[a] * x[a] } else { v * x[a] * x[b] })
                    .sum::<f64>()
                    + self.q.iter().zip(&x).map(|(q, x)| q * x).sum::<f64>();
                let no_worse = objective <= sol.objective + 1e-9 * sol.objective.abs().max(1e-12);
                return (equal && no_worse).then_some((x, objective));
            }
        }
        None
    }

    /// Solves the KKT system with the equalities and the inequalities
    /// `active` held as equalities: the point and the multipliers. A
    /// variable in neither the quadratic form nor any of those rows (the
    /// bound on a slack inequality, such as a leverage cap's $|w_i| \le u_i$
    /// when the cap is not met) would leave the system singular: it keeps
    /// its value in `start`, and the active-set corrections see to the
    /// rows it is in.
    fn kkt_solve(&self, active: &[usize], start: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
        let n = self.n;
        let k = n + self.eq.len() + active.len();
        if k > POLISH_MAX {
            return None;
        }
        let mut kkt = nalgebra::DMatrix::<f64>::zeros(k, k);
        let mut rhs = nalgebra::DVector::<f64>::zeros(k);
        let mut idle = vec![true; n];
        for &(a, b, v) in &self.p {
            kkt[(a, b)] += v;
            if a != b {
                kkt[(b, a)] += v;
            }
            idle[a] = false;
            idle[b] = false;
        }
        for j in 0..n {
            rhs[j] = -self.q[j];
        }
        for (r, (row, b)) in self.eq.iter().chain(active.iter().map(|&i| &self.le[i])).enumerate() {
            for &(j, v) in row {
                kkt[(n + r, j)] += v;
                kkt[(j, n + r)] += v;
                idle[j] = false;
            }
            rhs[n + r] = *b;
        }
        for j in (0..n).filter(|&j| idle[j]) {
            kkt[(j, j)] = 1.0;
            rhs[j] = start[j];
        }
        let z = kkt.lu().solve(&rhs)?;
        if z.iter().any(|v| !v.is_finite()) {
            return None;
        }
        Some((z.iter().take(n).copied().collect(), z.iter().skip(n).copied().collect()))
    }

    /// Solves as a user's problem is solved ([`Solve::EXACT`]).
    pub fn solve(&self) -> Result<Solution> {
        self.solve_as(Solve::EXACT)
    }

    /// `sol` polished on its active set if the program is marked for it
    /// (see [`polish`](Self::polish)), else as it is.
    pub fn polished(&self, mut sol: Solution) -> Solution {
        let t0 = Instant::now();
        if self.polish {
            if let Some((x, objective)) = self.polish(&sol) {
                sol.x = x;
                sol.objective = objective;
                sol.finish = Finish::ActiveSet;
            }
        } else if let Some((x, objective)) = self.vertex(&sol) {
            sol.x = x;
            sol.objective = objective;
            sol.finish = Finish::Vertex;
        } else if let Some((x, objective)) = self.barrier_finish(&sol) {
            sol.x = x;
            sol.objective = objective;
            sol.finish = Finish::ActiveSet;
        }
        sol.seconds += t0.elapsed().as_secs_f64();
        sol
    }

    /// A linear program's solution moved onto its active set: the
    /// inequalities whose slack is below their dual are held as equalities
    /// with the equalities, and the interior point is projected onto that
    /// affine set, $\min \lVert x - x^*\rVert^2$ s.t. $A_{act}x = b_{act}$ —
    /// one sparse linear solve by Clarabel, not another run of the program.
    /// Where the active set pins a variable (the weights, at a vertex) the
    /// projection puts it exactly there; variables the optimum leaves free
    /// (a face of optima, e.g. a drawdown's peak outside the tail) stay near
    /// the interior point. A wrong guess can land on a feasible point that
    /// is not optimal, so where a slack and its dual are close the guess is
    /// made three ways ([`VERTEX_RATIOS`]) and the feasible point (every
    /// row to 1e-9, relative) with the lowest objective is kept, if it is no
    /// worse than the interior point's by more than 1e-7 (relative: the
    /// interior point is feasible only to its tolerance); otherwise `None`.
    fn vertex(&self, sol: &Solution) -> Option<(Vec<f64>, f64)> {
        let linear = self.p.is_empty()
            && self.soc.is_empty()
            && self.exp.is_empty()
            && self.pow.is_empty()
            && !self.le.is_empty();
        if !linear || sol.duals.len() != self.eq.len() + self.le.len() {
            return None;
        }
        let m_eq = self.eq.len();
        let slack: Vec<f64> = self.le.iter().map(|(row, b)| b - dot(row, &sol.x)).collect();
        let mut best: Option<(Vec<f64>, f64)> = None;
        for ratio in VERTEX_RATIOS {
            // ½‖x‖² − x*·x on the active set.
            let mut system = Program {
                n: self.n,
                p: (0..self.n).map(|i| (i, i, 1.0)).collect(),
                q: sol.x.iter().map(|v| -v).collect(),
                eq: self.eq.clone(),
                ..Program::default()
            };
            for (i, (row, b)) in self.le.iter().enumerate() {
                if slack[i] < ratio * sol.duals[m_eq + i] {
                    system.eq.push((row.clone(), *b));
                }
            }
            let Some(x) = Session::with_settings(&system, default_settings().ok()?)
                .ok()
                .and_then(|mut s| s.solve().ok())
                .map(|s| s.x)
            else {
                continue;
            };
            let feasible = self.eq.iter().all(|(row, b)| (dot(row, &x) - b).abs() <= tol(*b))
                && self.le.iter().all(|(row, b)| dot(row, &x) - b <= tol(*b));
            let objective = self.q.iter().zip(&x).map(|(q, x)| q * x).sum::<f64>();
            // An exactly feasible point may cost a little more than the
            // interior point, which is feasible only to the tolerance.
            let bar = best.as_ref().map_or(sol.objective + 1e-7 * sol.objective.abs().max(1e-12), |b| b.1);
            if feasible && objective <= bar {
                best = Some((x, objective));
            }
        }
        best
    }

    /// One correction of an active-set guess after a solve on `active`
    /// with these `multipliers` (one per active row) and point `x`: the
    /// row with the most negative multiplier leaves, or else the most
    /// violated inactive row joins. `false` when neither is needed: the
    /// guess was right.
    fn correct(&self, active: &mut Vec<usize>, multipliers: &[f64], x: &[f64], dual_scale: f64) -> bool {
        let worst_dual = (0..active.len())
            .map(|r| (r, multipliers[r]))
            .filter(|&(_, v)| v < -1e-9 * dual_scale)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let worst_row = (0..self.le.len())
            .map(|i| (i, dot(&self.le[i].0, x) - self.le[i].1 - tol(self.le[i].1)))
            .filter(|&(_, v)| v > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match (worst_dual, worst_row) {
            (Some((r, _)), _) => {
                active.remove(r);
                true
            }
            (None, Some((i, _))) => {
                active.push(i);
                true
            }
            (None, None) => false,
        }
    }

    /// The log terms of a program that is linear but for them: exponential
    /// cones $(t, 1, y)$, i.e. $t \le \ln y$, whose $t$ has a negative cost
    /// and appears in no other row, so $t = \ln y$ at the optimum. Each as
    /// $(t, y, c)$ with the objective's term $-c\ln y$; `None` if the
    /// program has any other cone or a quadratic term.
    fn log_terms(&self) -> Option<Vec<(usize, usize, f64)>> {
        if self.exp.is_empty() || !self.p.is_empty() || !self.soc.is_empty() || !self.pow.is_empty() {
            return None;
        }
        let mut used = vec![false; self.n];
        for (row, _) in self.eq.iter().chain(&self.le) {
            for &(j, _) in row {
                used[j] = true;
            }
        }
        self.exp
            .iter()
            .map(|[(first, a), (second, one), (third, c)]| match (first.as_slice(), third.as_slice()) {
                ([(t, -1.0)], [(y, -1.0)])
                    if *a == 0.0 && *c == 0.0 && second.is_empty() && *one == 1.0 && !used[*t] && self.q[*t] < 0.0 =>
                {
                    Some((*t, *y, -self.q[*t]))
                }
                _ => None,
            })
            .collect()
    }

    /// A log-barrier program's solution finished on its active set: with
    /// the inequalities whose slack is below their dual held as equalities,
    /// the smooth problem $\min q^\top x - \sum_i c_i\ln y_i$ s.t.
    /// $A_{act}x = b_{act}$ is solved by Newton's method, each step an
    /// equality-constrained quadratic program (one sparse solve by
    /// Clarabel, as [`vertex`](Self::vertex) projects). Its multipliers then
    /// say whether the guess was right: an active row with a negative one
    /// is dropped, a violated inactive row added, for a few rounds. The
    /// interior point of such a program (risk budgets of a piecewise-linear
    /// measure) stops with its weights at the square root of its gap from
    /// the optimum, a kink; this puts them on it. `None` (keep Clarabel's)
    /// unless the result is feasible (every row to 1e-9, relative) and no
    /// worse.
    fn barrier_finish(&self, sol: &Solution) -> Option<(Vec<f64>, f64)> {
        let logs = self.log_terms()?;
        let m_eq = self.eq.len();
        if sol.duals.len() < m_eq + self.le.len() {
            return None;
        }
        let mut is_log = vec![false; self.n];
        for &(t, _, _) in &logs {
            is_log[t] = true;
        }
        // The objective with t = ln y, over every other variable.
        let value = |x: &[f64]| -> f64 {
            (0..self.n).filter(|&j| !is_log[j]).map(|j| self.q[j] * x[j]).sum::<f64>()
                - logs.iter().map(|&(_, y, c)| c * x[y].ln()).sum::<f64>()
        };
        let start = value(&sol.x);
        if logs.iter().any(|&(_, y, _)| !(sol.x[y] > 0.0)) || !start.is_finite() {
            return None;
        }
        let dual_scale = sol.duals[..m_eq + self.le.len()].iter().fold(f64::MIN_POSITIVE, |m, v| m.max(v.abs()));
        let mut active: Vec<usize> =
            (0..self.le.len()).filter(|&i| self.le[i].1 - dot(&self.le[i].0, &sol.x) < sol.duals[m_eq + i]).collect();
        let mut x = sol.x.clone();
        for _ in 0..POLISH_ROUNDS {
            let mut multipliers = Vec::new();
            for _ in 0..NEWTON_STEPS {
                // ½ dᵀH d + gᵀd s.t. A d = b − A x: H = c/y² on the y's (and
                // 1 on the t's, which no row holds, so they stay put).
                let q = self.q.iter().zip(&is_log).map(|(q, log)| if *log { 0.0 } else { *q }).collect();
                let mut step = Program { n: self.n, q, ..Program::default() };
                for &(t, y, c) in &logs {
                    step.p.push((y, y, c / (x[y] * x[y])));
                    step.p.push((t, t, 1.0));
                    step.q[y] -= c / x[y];
                }
                let mut off = 0.0f64;
                for (row, b) in self.eq.iter().chain(active.iter().map(|&i| &self.le[i])) {
                    let r = b - dot(row, &x);
                    off = off.max(r.abs() / tol(*b));
                    step.eq.push((row.clone(), r));
                }
                let solved = Session::with_settings(&step, settings().ok()?).ok()?.solve().ok()?;
                let d = solved.x;
                multipliers = solved.duals[m_eq..m_eq + active.len()].to_vec();
                let slope: f64 = (0..self.n).map(|j| step.q[j] * d[j]).sum();
                let here = value(&x);
                // Converged when Newton's step predicts no decrease left at
                // working precision (the step itself then only carries the
                // linear solve's rounding).
                if off <= 1e-3 && -slope <= 1e-13 * here.abs().max(f64::MIN_POSITIVE) {
                    break;
                }
                match backtrack(&x, &d, logs.iter().map(|&(_, y, _)| y), here, slope, value) {
                    Some(next) => x = next,
                    None => break,
                }
            }
            multipliers.resize(active.len(), 0.0);
            if self.correct(&mut active, &multipliers, &x, dual_scale) {
                x = sol.x.clone();
                continue;
            }
            let equal = self.eq.iter().all(|(row, b)| (dot(row, &x) - b).abs() <= tol(*b));
            if !(equal && value(&x) <= start + 1e-12 * start.abs()) {
                return None;
            }
            for &(t, y, _) in &logs {
                x[t] = x[y].ln();
            }
            let objective = self.q.iter().zip(&x).map(|(q, v)| q * v).sum::<f64>();
            return Some((x, objective));
        }
        None
    }

    /// Changes the right-hand side of inequality `k`, as a [`Session`]
    /// does with `set_b`.
    pub fn set_le_rhs(&mut self, k: Ineq, rhs: f64) {
        self.le[k.0].1 = rhs;
    }

    /// Solves as `how` says: the tolerances, whether a stop just short of
    /// them is a solution, and whether the interior point is finished
    /// ([`polished`](Self::polished)).
    pub(crate) fn solve_as(&self, how: Solve) -> Result<Solution> {
        let sol = match how.tolerance {
            Tolerance::Tight => {
                let mut first = Session::new(self)?;
                let t0 = Instant::now();
                let attempt = match first.solve_accepting(how.accept_almost) {
                    Err(Error::Solver { status: SolverStatus::InsufficientProgress, .. }) => {
                        // Again with shorter steps: on power cones (the
                        // relativistic measures on hundreds to thousands of
                        // scenarios) the default 0.99 of the way to the
                        // boundary can stall where 0.8 converges.
                        let spent = t0.elapsed().as_secs_f64();
                        let mut second = Session::with_settings(self, settings_stepping(SHORT_STEP)?)?;
                        second.solve_accepting(how.accept_almost).map(|mut sol| {
                            sol.seconds += spent;
                            sol.iterations += first.solver.solution.iterations;
                            sol
                        })
                    }
                    other => other,
                };
                match attempt {
                    Err(Error::Solver { status: SolverStatus::AlmostSolved, .. }) => {
                        // Again at Clarabel's defaults; the solver's time and
                        // iterations count both attempts.
                        let spent = t0.elapsed().as_secs_f64();
                        let mut sol = self.solve_as(Solve { tolerance: Tolerance::Default, finish: false, ..how })?;
                        sol.seconds += spent;
                        sol.iterations += first.solver.solution.iterations;
                        sol
                    }
                    other => other?,
                }
            }
            Tolerance::TightOnly => Session::new(self)?.solve_accepting(how.accept_almost)?,
            Tolerance::Default => {
                let mut sol = Session::with_settings(self, default_settings()?)?.solve_accepting(how.accept_almost)?;
                if sol.status == SolverStatus::Solved {
                    sol.tolerance = DEFAULT_TOLERANCE;
                }
                sol
            }
        };
        Ok(if how.finish { self.polished(sol) } else { sol })
    }
}

/// An inequality of a program ([`Program::le`]), to change its right-hand
/// side later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ineq(usize);

/// A cone entry $s = a^\top x + c$ as Clarabel holds it, $s = b - A x$.
fn clarabel_row(e: Affine) -> (Row, f64) {
    (e.lin.0.into_iter().map(|(j, v)| (j, -v)).collect(), e.constant)
}

/// $a^\top x$ for a row $a$.
fn dot(row: &Row, x: &[f64]) -> f64 {
    row.iter().map(|&(j, v)| v * x[j]).sum()
}

/// How far a finished point may miss a row with right-hand side `b`:
/// 1e-9, relative where `b` is above 1.
fn tol(b: f64) -> f64 {
    1e-9 * b.abs().max(1.0)
}

/// A damped Newton step: from `x` along `d`, starting at the longest step
/// (at most 1) that keeps the variables `positive` positive (0.99 of the
/// way to their bound), halved until `value` falls by at least 1e-4 of the
/// predicted decrease `slope` (Armijo; rounding of `here` forgiven). `None`
/// when no step of at least 1e-14 does: no decrease is left at working
/// precision.
pub(crate) fn backtrack(
    x: &[f64],
    d: &[f64],
    positive: impl Iterator<Item = usize>,
    here: f64,
    slope: f64,
    value: impl Fn(&[f64]) -> f64,
) -> Option<Vec<f64>> {
    let mut t = positive.filter(|&j| d[j] < 0.0).map(|j| -0.99 * x[j] / d[j]).fold(1.0, f64::min);
    while t >= 1e-14 {
        let next: Vec<f64> = x.iter().zip(d).map(|(a, b)| a + t * b).collect();
        if value(&next) <= here + 1e-4 * t * slope.min(0.0) + 1e-15 * here.abs() {
            return Some(next);
        }
        t *= 0.5;
    }
    None
}

/// Sums duplicate (row, col) entries and drops zeros.
fn triplets(it: impl Iterator<Item = (usize, usize, f64)>) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let mut v: Vec<(usize, usize, f64)> = it.collect();
    v.sort_by_key(|&(i, j, _)| (j, i));
    let mut out: Vec<(usize, usize, f64)> = Vec::with_capacity(v.len());
    for (i, j, x) in v {
        match out.last_mut() {
            Some(last) if last.0 == i && last.1 == j => last.2 += x,
            _ => out.push((i, j, x)),
        }
    }
    out.retain(|e| e.2 != 0.0);
    let i = out.iter().map(|e| e.0).collect();
    let j = out.iter().map(|e| e.1).collect();
    let x = out.iter().map(|e| e.2).collect();
    (i, j, x)
}

/// The largest KKT system polished (variables, equalities and active
/// inequalities): a dense factorisation, cheap below this size. (At 500
/// assets it added 38 ms, a sixth, to the minimum variance.)
const POLISH_MAX: usize = 300;
/// An inequality is guessed active where its slack is below this times its
/// dual (see [`Program::vertex`]).
const VERTEX_RATIOS: [f64; 3] = [1.0, 0.1, 10.0];
/// Active-set corrections tried while polishing.
const POLISH_ROUNDS: usize = 8;
/// Newton steps on one active set of a log-barrier program.
const NEWTON_STEPS: usize = 30;

/// How a program is solved: one description instead of a family of
/// methods and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Solve {
    /// The tolerances asked for.
    pub tolerance: Tolerance,
    /// Whether a stop just short of them (`AlmostSolved`) is returned as a
    /// solution, its status saying so, instead of an error.
    pub accept_almost: bool,
    /// Whether the interior point is finished: polished on its active set,
    /// moved to its vertex, or settled by Newton steps on its log terms
    /// ([`Program::polished`]).
    pub finish: bool,
}

/// The tolerances a solve asks Clarabel for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tolerance {
    /// [`TOLERANCE`]; where Clarabel stops just short of it, again at its
    /// defaults ([`DEFAULT_TOLERANCE`]), the result saying which was met.
    Tight,
    /// [`TOLERANCE`] only.
    TightOnly,
    /// Clarabel's defaults only.
    Default,
}

impl Solve {
    /// A user's problem: tight tolerances (Clarabel's defaults where it
    /// stops just short of them), finished.
    pub const EXACT: Solve = Solve { tolerance: Tolerance::Tight, accept_almost: false, finish: true };
    /// A program whose solution only guides the next one: tight, a stop
    /// just short accepted as it is, not finished.
    pub const GUIDE: Solve = Solve { tolerance: Tolerance::TightOnly, accept_almost: true, finish: false };
    /// One round of several at Clarabel's defaults, not finished (the
    /// caller finishes the last round's program).
    pub const RELAXED: Solve = Solve { tolerance: Tolerance::Default, accept_almost: false, finish: false };
}

/// The tolerance every solve asks for first.
pub(crate) const TOLERANCE: f64 = 1e-10;
/// Clarabel's default tolerance, the fallback when the first attempt stops
/// just short of [`TOLERANCE`].
pub(crate) const DEFAULT_TOLERANCE: f64 = 1e-8;
/// The feasibility tolerance an `AlmostSolved` stop meets (Clarabel's
/// default `reduced_tol_feas`; its reduced gap tolerances are 5e-5).
const REDUCED_TOLERANCE: f64 = 1e-4;

fn default_settings() -> Result<DefaultSettings<f64>> {
    DefaultSettingsBuilder::default()
        .verbose(false)
        .build()
        .map_err(|e| Error::Solver { status: SolverStatus::SetupError, message: e.to_string() })
}

fn settings() -> Result<DefaultSettings<f64>> {
    settings_stepping(0.99)
}

/// The fraction of the way to the cone's boundary a retry after
/// `InsufficientProgress` steps (Clarabel's default is 0.99).
const SHORT_STEP: f64 = 0.8;

/// The tight settings with interior-point steps of at most `fraction` of
/// the way to the boundary.
fn settings_stepping(fraction: f64) -> Result<DefaultSettings<f64>> {
    // Tighter than Clarabel's defaults (1e-8): portfolio problems are flat
    // near the optimum, and 1e-8 leaves weights off by up to 1e-4; with
    // 1e-10 they agree with cvxpy and PyPortfolioOpt to 1e-5
    // (tests/optimize.rs), for one or two more iterations.
    DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(TOLERANCE)
        .tol_gap_rel(TOLERANCE)
        .tol_feas(TOLERANCE)
        .max_step_fraction(fraction)
        .max_iter(500)
        .build()
        .map_err(|e| Error::Solver { status: SolverStatus::SetupError, message: e.to_string() })
}

/// A Clarabel solver kept alive so that `b` can change between solves
/// (the efficient frontier reuses the factorisation structure).
pub(crate) struct Session {
    solver: DefaultSolver<f64>,
    b: Vec<f64>,
}

impl Session {
    pub fn new(prog: &Program) -> Result<Self> {
        Session::with_settings(prog, settings()?)
    }

    fn with_settings(prog: &Program, settings: DefaultSettings<f64>) -> Result<Self> {
        let (p, q, a, b, cones) = prog.assemble();
        let solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings)
            .map_err(|e| Error::Solver { status: SolverStatus::SetupError, message: format!("{e:?}") })?;
        Ok(Session { solver, b })
    }

    /// Changes entry `pos` of `b` before the next solve.
    pub fn set_b(&mut self, pos: usize, value: f64) -> Result<()> {
        self.b[pos] = value;
        self.solver
            .update_b(&self.b)
            .map_err(|e| Error::Solver { status: SolverStatus::SetupError, message: format!("updating b: {e:?}") })
    }

    pub fn solve(&mut self) -> Result<Solution> {
        self.solve_accepting(false)
    }

    /// Solves; with `almost`, a stop just short of the tolerances
    /// (`AlmostSolved`) is returned as a solution with that status instead
    /// of an error.
    fn solve_accepting(&mut self, almost: bool) -> Result<Solution> {
        let t0 = Instant::now();
        self.solver.solve();
        let seconds = t0.elapsed().as_secs_f64();
        let sol = &self.solver.solution;
        let status = status_of(sol.status);
        match status {
            s if s == SolverStatus::Solved || (almost && s == SolverStatus::AlmostSolved) => Ok(Solution {
                x: sol.x.clone(),
                status,
                tolerance: if s == SolverStatus::Solved { TOLERANCE } else { REDUCED_TOLERANCE },
                iterations: sol.iterations,
                seconds,
                objective: sol.obj_val,
                duals: sol.z.clone(),
                finish: Finish::Interior,
                newton: false,
            }),
            s if s.is_infeasible() => Err(Error::Solver {
                status,
                message: "no portfolio satisfies all the constraints at once; relax the bounds, group limits, turnover cap or target".into(),
            }),
            s if s.is_unbounded() => Err(Error::Solver {
                status,
                message: "the objective is unbounded; add weight bounds or a leverage cap".into(),
            }),
            _ => Err(Error::Solver {
                status,
                message: "the solver did not converge to full accuracy; check the covariance's conditioning (try Ledoit–Wolf shrinkage) or loosen constraints".into(),
            }),
        }
    }
}

/// Clarabel's status as the crate's own [`SolverStatus`].
fn status_of(s: clarabel::solver::SolverStatus) -> SolverStatus {
    use clarabel::solver::SolverStatus as C;
    match s {
        C::Solved => SolverStatus::Solved,
        C::AlmostSolved => SolverStatus::AlmostSolved,
        C::PrimalInfeasible => SolverStatus::PrimalInfeasible,
        C::AlmostPrimalInfeasible => SolverStatus::AlmostPrimalInfeasible,
        C::DualInfeasible => SolverStatus::DualInfeasible,
        C::AlmostDualInfeasible => SolverStatus::AlmostDualInfeasible,
        C::MaxIterations => SolverStatus::MaxIterations,
        C::MaxTime => SolverStatus::MaxTime,
        C::NumericalError => SolverStatus::NumericalError,
        C::InsufficientProgress => SolverStatus::InsufficientProgress,
        _ => SolverStatus::SetupError,
    }
}
