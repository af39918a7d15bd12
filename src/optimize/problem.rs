//! Assembling a conic problem for Clarabel:
//! $\min \tfrac12 x^\top P x + q^\top x$ s.t. $Ax + s = b$, $s \in \mathcal K$,
//! with $\mathcal K$ a product of the zero cone (equalities), the
//! non-negative orthant (inequalities), second-order cones and exponential
//! cones, in that order. Clarabel's types stay inside this file.

use std::time::Instant;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{DefaultSettings, DefaultSettingsBuilder, DefaultSolver, IPSolver, SupportedConeT};

use crate::error::{Error, Result, SolverStatus};

/// A sparse row $a^\top x$ as (variable, coefficient) pairs.
pub(crate) type Row = Vec<(usize, f64)>;

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
    /// In a homogenised program, constraint right-hand sides multiply this
    /// scale variable: $a^\top x \le b$ becomes $a^\top x - b\kappa \le 0$.
    kappa: Option<usize>,
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
}

impl Program {
    /// A program with `n` variables.
    pub fn new(n: usize) -> Self {
        Program { n, q: vec![0.0; n], ..Program::default() }
    }

    /// Adds a variable and returns its index.
    pub fn var(&mut self) -> usize {
        self.n += 1;
        self.q.push(0.0);
        self.n - 1
    }

    /// Adds `count` variables; returns the first index.
    pub fn vars(&mut self, count: usize) -> usize {
        let first = self.n;
        for _ in 0..count {
            self.var();
        }
        first
    }

    /// Makes the program homogeneous in `kappa` (see the field's docs).
    pub fn homogenize(&mut self, kappa: usize) {
        self.kappa = Some(kappa);
    }

    /// Adds $\tfrac12 v x_i x_j$ (and its mirror) to the objective.
    pub fn quad(&mut self, i: usize, j: usize, v: f64) {
        let (a, b) = if i <= j { (i, j) } else { (j, i) };
        self.p.push((a, b, v));
    }

    /// Adds $c\,x_i$ to the objective.
    pub fn lin(&mut self, i: usize, c: f64) {
        self.q[i] += c;
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

    /// $a^\top x = b$ (homogenised if the program is).
    pub fn eq(&mut self, row: Row, rhs: f64) -> usize {
        let r = self.scaled(row, rhs);
        self.eq.push(r);
        self.eq.len() - 1
    }

    /// $a^\top x = b$, never homogenised (a normalisation).
    pub fn eq_raw(&mut self, row: Row, rhs: f64) {
        self.eq.push((row, rhs));
    }

    /// $a^\top x \le b$ (homogenised if the program is); returns its position
    /// among the inequalities.
    pub fn le(&mut self, row: Row, rhs: f64) -> usize {
        let r = self.scaled(row, rhs);
        self.le.push(r);
        self.le.len() - 1
    }

    /// $(b_0 - a_0^\top x,\ b_1 - a_1^\top x, \dots) \in$ second-order cone.
    pub fn soc(&mut self, rows: Vec<(Row, f64)>) {
        self.soc.push(rows);
    }

    /// $(b_k - a_k^\top x)_{k=1..3} \in K_{\exp}$, i.e. $s_2 e^{s_1/s_2} \le s_3$.
    pub fn exp(&mut self, rows: [(Row, f64); 3]) {
        self.exp.push(rows);
    }

    /// The position in Clarabel's `b` of inequality `k` (as returned by [`le`](Self::le)).
    pub fn le_position(&self, k: usize) -> usize {
        self.eq.len() + k
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
        (p, self.q.clone(), a, b, cones)
    }

    /// Solves once, at tight tolerances; if Clarabel stops just short of
    /// them (`AlmostSolved`), solves again at its default tolerances (1e-8)
    /// and says so in the status.
    pub fn solve(&self) -> Result<Solution> {
        match Session::new(self)?.solve() {
            Err(Error::Solver { status: SolverStatus::AlmostSolved, .. }) => {
                let mut relaxed = Session::with_settings(self, default_settings()?)?;
                let mut sol = relaxed.solve()?;
                sol.tolerance = DEFAULT_TOLERANCE;
                Ok(sol)
            }
            other => other,
        }
    }
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

/// The tolerance every solve asks for first.
pub(crate) const TOLERANCE: f64 = 1e-10;
/// Clarabel's default tolerance, the fallback when the first attempt stops
/// just short of [`TOLERANCE`].
pub(crate) const DEFAULT_TOLERANCE: f64 = 1e-8;

fn default_settings() -> Result<DefaultSettings<f64>> {
    DefaultSettingsBuilder::default()
        .verbose(false)
        .build()
        .map_err(|e| Error::Solver { status: SolverStatus::SetupError, message: e.to_string() })
}

fn settings() -> Result<DefaultSettings<f64>> {
    // Tighter than Clarabel's defaults (1e-8): portfolio problems are flat
    // near the optimum, and 1e-8 leaves weights off by up to 1e-4; with
    // 1e-10 they agree with cvxpy and PyPortfolioOpt to 1e-5
    // (tests/optimize.rs), for one or two more iterations.
    DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(TOLERANCE)
        .tol_gap_rel(TOLERANCE)
        .tol_feas(TOLERANCE)
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
        let t0 = Instant::now();
        self.solver.solve();
        let seconds = t0.elapsed().as_secs_f64();
        let sol = &self.solver.solution;
        let status = status_of(sol.status);
        match status {
            SolverStatus::Solved => Ok(Solution {
                x: sol.x.clone(),
                status,
                tolerance: TOLERANCE,
                iterations: sol.iterations,
                seconds,
                objective: sol.obj_val,
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
