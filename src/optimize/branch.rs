//! Branch and bound over convex relaxations, for the rules on which assets
//! are held (at most K assets, in total and per group; a least position
//! when held): $w_i \in \{0\} \cup [t_i, u_i] \cup [l_i, -t_i]$.
//!
//! A node fixes some assets out ($w_i = 0$) and some in, long ($w_i \ge
//! t_i$) or short ($w_i \le -t_i$); its relaxation is the whole convex
//! program with those bounds and the rest free within their own bounds, so
//! every objective and risk measure branches the same way, each node
//! solved and finished as a plain solve is. A node's relaxed optimum bounds
//! every portfolio below it. Where the relaxed weights already obey the
//! rules (weights below [`ZERO`] count as not held), the node is closed by
//! one solve with that support fixed; otherwise it branches on the free
//! asset with the largest weight that breaks a count (out; in), or on a
//! held weight below its threshold (out; long; short). Nodes are explored
//! best bound first, and each is also rounded to a feasible support (its
//! largest weights) for an early incumbent. The search ends when no open
//! node can beat the incumbent by more than [`GAP`] (relative): proven
//! optimal; or at a node or time limit, with the best portfolio found and
//! its proven gap.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::constraints::{HoldingRules, Relaxation, Resolved};
use crate::error::{Error, Result, SolverStatus};

/// A weight at most this (in absolute value) counts as not held.
pub(crate) const ZERO: f64 = 1e-7;

/// The relative gap at which a node is pruned or closed, so the largest
/// gap of a search proven optimal: the relaxations are solved to about
/// 1e-10, and weights below [`ZERO`] left out of a support move the
/// objective by about as much as they weigh.
pub(crate) const GAP: f64 = 1e-7;

/// Every one of the first nodes is rounded to a feasible support, and then
/// every this many: the first roundings find the incumbent, later ones
/// rarely improve it.
const ROUND_FIRST: usize = 50;
const ROUND_EVERY: usize = 20;

/// How a branch and bound ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchStatus {
    /// No open node can improve on the portfolio by more than the gap
    /// tolerance (1e-7 relative): optimal.
    Optimal,
    /// The node limit stopped it: the best portfolio found, not proven.
    NodeLimit,
    /// The time limit stopped it: the best portfolio found, not proven.
    TimeLimit,
}

/// What a branch and bound did: how it ended, the best value found and the
/// best bound proven, in the program's own objective (minimised; for a
/// ratio, its homogenised form).
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    status: SearchStatus,
    nodes: usize,
    solves: usize,
    value: f64,
    bound: f64,
    held: usize,
    seconds: f64,
}

impl Search {
    /// How the search ended.
    pub fn status(&self) -> SearchStatus {
        self.status
    }

    /// Whether the portfolio is proven optimal.
    pub fn proven(&self) -> bool {
        self.status == SearchStatus::Optimal
    }

    /// Nodes explored.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Convex programs solved (relaxations, roundings and closings).
    pub fn solves(&self) -> usize {
        self.solves
    }

    /// The proven gap: how much better than the portfolio any portfolio
    /// could still be, relative to its objective value (0 when optimal).
    pub fn gap(&self) -> f64 {
        ((self.value - self.bound) / self.value.abs().max(f64::MIN_POSITIVE)).max(0.0)
    }

    /// The portfolio's objective value, as the program minimises it.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The best lower bound proven on the objective.
    pub fn bound(&self) -> f64 {
        self.bound
    }

    /// Assets the portfolio holds.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Wall time, seconds.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }
}

impl std::fmt::Display for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.status {
            SearchStatus::Optimal => "optimal".to_string(),
            SearchStatus::NodeLimit => format!("NOT PROVEN: node limit, gap {:.2e}", self.gap()),
            SearchStatus::TimeLimit => format!("NOT PROVEN: time limit, gap {:.2e}", self.gap()),
        };
        write!(
            f,
            "branch and bound: {how}; {} held, {} nodes, {} solves, {:.2} s",
            self.held, self.nodes, self.solves, self.seconds
        )
    }
}

/// The node and time limits of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limits {
    pub nodes: usize,
    pub seconds: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { nodes: 10_000, seconds: 600.0 }
    }
}

/// One solved relaxation: the weights, the objective value and what the
/// caller keeps of it.
pub(crate) struct Relaxed<T> {
    pub weights: Vec<f64>,
    pub value: f64,
    pub payload: T,
}

/// What a node fixes about an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    Free,
    Out,
    /// Held: long, at least its threshold.
    Long,
    /// Held: short, at most minus its threshold.
    Short,
    /// Held, either side (no threshold).
    In,
}

struct Node<T> {
    fix: Vec<Fix>,
    bound: f64,
    depth: usize,
    /// The parent's relaxation, which is this node's too when its weights
    /// lie within this node's bounds.
    parent: Option<Rc<Relaxed<T>>>,
}

impl<T> PartialEq for Node<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Node<T> {}
impl<T> PartialOrd for Node<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Node<T> {
    /// The heap pops the lowest bound first, the deepest among equals.
    fn cmp(&self, other: &Self) -> Ordering {
        other.bound.total_cmp(&self.bound).then(self.depth.cmp(&other.depth))
    }
}

/// Minimises over the supports `rules` allow: `solve` returns a
/// relaxation's optimum under the given bounds, or `None` when they admit
/// no portfolio. The best portfolio's relaxation and the search.
pub(crate) fn search<T>(
    base: &Resolved,
    rules: &HoldingRules,
    limits: Limits,
    strengthen: bool,
    diagonal: Option<Arc<Vec<f64>>>,
    mut solve: impl FnMut(&Resolved) -> Result<Option<Relaxed<T>>>,
) -> Result<(Rc<Relaxed<T>>, Search)> {
    let t0 = Instant::now();
    let n = base.lower.len();
    let rules = Rules { base, rules, strengthen, diagonal };
    let mut solves = 0usize;
    let mut solve_fixed = |fix: &[Fix]| -> Result<Option<Rc<Relaxed<T>>>> {
        solves += 1;
        Ok(solve(&rules.bounded(fix))?.map(Rc::new))
    };
    let mut best: Option<Rc<Relaxed<T>>> = None;
    let mut heap = BinaryHeap::new();
    let root = rules.propagate(vec![Fix::Free; n]);
    heap.push(Node { fix: root, bound: f64::NEG_INFINITY, depth: 0, parent: None });
    let mut nodes = 0usize;
    let mut stopped = None;
    // The least bound of the nodes set aside within the gap tolerance.
    let mut floor = f64::INFINITY;
    let beats = |v: f64, best: &Option<Rc<Relaxed<T>>>| best.as_ref().is_none_or(|b| v < b.value - GAP * b.value.abs());
    while let Some(node) = heap.pop() {
        if !beats(node.bound, &best) {
            floor = floor.min(node.bound);
            continue;
        }
        if nodes >= limits.nodes {
            stopped = Some((SearchStatus::NodeLimit, node.bound));
            break;
        }
        if t0.elapsed().as_secs_f64() > limits.seconds {
            stopped = Some((SearchStatus::TimeLimit, node.bound));
            break;
        }
        nodes += 1;
        let relaxed = match node.parent.filter(|p| !strengthen && rules.within(&node.fix, &p.weights)) {
            Some(p) => p,
            None => match solve_fixed(&node.fix)? {
                Some(r) => r,
                None => continue,
            },
        };
        if !beats(relaxed.value, &best) {
            floor = floor.min(relaxed.value);
            continue;
        }
        let w = &relaxed.weights;
        if rules.obeyed(&node.fix, w) {
            // Close the node on the support its weights hold.
            let leaf = rules.held_by(&node.fix, w);
            let closed = if leaf == node.fix { Some(relaxed.clone()) } else { solve_fixed(&leaf)? };
            if let Some(c) = closed {
                let exact = c.value <= relaxed.value + GAP * relaxed.value.abs();
                if beats(c.value, &best) {
                    best = Some(c);
                }
                if exact {
                    floor = floor.min(relaxed.value);
                    continue;
                }
            }
        } else if nodes <= ROUND_FIRST || nodes % ROUND_EVERY == 0 {
            // An early incumbent: the largest weights, as many as allowed.
            let rounded = rules.support(&node.fix, w, rules.rules.max_assets);
            if rules.counts_obeyed(&rounded) && rounded != node.fix {
                if let Some(r) = solve_fixed(&rounded)? {
                    if beats(r.value, &best) {
                        best = Some(r);
                    }
                }
            }
        }
        for fix in rules.children(&node.fix, w) {
            heap.push(Node { fix, bound: relaxed.value, depth: node.depth + 1, parent: Some(relaxed.clone()) });
        }
    }
    let Some(best) = best else {
        return Err(match stopped {
            None => Error::infeasible(
                "max_assets / min_position",
                "no set of assets within the holding rules admits a portfolio that meets the other constraints; allow more assets or lower the minimum position",
            ),
            Some((status, _)) => Error::Solver {
                status: if status == SearchStatus::TimeLimit { SolverStatus::MaxTime } else { SolverStatus::MaxIterations },
                message: format!(
                    "branch and bound stopped at its {} before any portfolio met the holding rules; raise the limit with Optimizer::search_limits",
                    if status == SearchStatus::TimeLimit { "time limit" } else { "node limit" }
                ),
            },
        });
    };
    // The proven bound: the lowest of the open nodes', of those set aside
    // within the tolerance and of the incumbent's own.
    let (status, open) = match stopped {
        Some((status, first)) => (status, heap.iter().map(|n| n.bound).fold(first, f64::min)),
        None => (SearchStatus::Optimal, f64::INFINITY),
    };
    let bound = best.value.min(floor).min(open);
    let held = best.weights.iter().filter(|v| v.abs() > ZERO).count();
    let s = Search { status, nodes, solves, value: best.value, bound, held, seconds: t0.elapsed().as_secs_f64() };
    Ok((best, s))
}

/// The holding rules with the bounds they refine.
struct Rules<'a> {
    base: &'a Resolved,
    rules: &'a HoldingRules,
    /// Whether a node with free assets writes the rules' relaxation
    /// ([`Relaxation`]) into its program; else its relaxation only drops
    /// the rules, and a child inherits its parent's optimum when that lies
    /// within its bounds.
    strengthen: bool,
    /// The variance's diagonal share for its perspective form (see
    /// `risk/variance.rs`), computed once for the whole search.
    diagonal: Option<Arc<Vec<f64>>>,
}

impl Rules<'_> {
    fn held(fix: Fix) -> bool {
        matches!(fix, Fix::Long | Fix::Short | Fix::In)
    }

    /// The constraints with a node's fixes as bounds.
    fn bounded(&self, fix: &[Fix]) -> Resolved {
        let mut c = self.base.clone();
        if self.strengthen && fix.contains(&Fix::Free) {
            let (z_lower, z_upper) = fix
                .iter()
                .map(|f| match f {
                    Fix::Free => (0.0, 1.0),
                    Fix::Out => (0.0, 0.0),
                    _ => (1.0, 1.0),
                })
                .unzip();
            c.relaxation = Some(Relaxation { z_lower, z_upper, diagonal: self.diagonal.clone() });
        }
        for (i, f) in fix.iter().enumerate() {
            let t = self.rules.threshold[i];
            match f {
                Fix::Free | Fix::In => {}
                Fix::Out => {
                    c.lower[i] = 0.0;
                    c.upper[i] = 0.0;
                }
                Fix::Long => c.lower[i] = c.lower[i].max(t),
                Fix::Short => c.upper[i] = c.upper[i].min(-t),
            }
        }
        c
    }

    /// Whether `w` lies within a node's bounds (so the parent's relaxation
    /// is the node's).
    fn within(&self, fix: &[Fix], w: &[f64]) -> bool {
        fix.iter().zip(w).zip(&self.rules.threshold).all(|((f, &v), &t)| match f {
            Fix::Free | Fix::In => true,
            Fix::Out => v == 0.0,
            Fix::Long => v >= t,
            Fix::Short => v <= -t,
        })
    }

    /// Fixes what the counts force: once a group (or the whole book) holds
    /// its most, its free assets are out.
    fn propagate(&self, mut fix: Vec<Fix>) -> Vec<Fix> {
        if fix.iter().filter(|f| Self::held(**f)).count() >= self.rules.max_assets {
            for f in fix.iter_mut().filter(|f| **f == Fix::Free) {
                *f = Fix::Out;
            }
        }
        for (_, members, k) in &self.rules.groups {
            if members.iter().filter(|&&i| Self::held(fix[i])).count() >= *k {
                for &i in members {
                    if fix[i] == Fix::Free {
                        fix[i] = Fix::Out;
                    }
                }
            }
        }
        fix
    }

    /// Whether fixes that hold these assets keep every count.
    fn counts_obeyed(&self, fix: &[Fix]) -> bool {
        fix.iter().filter(|f| Self::held(**f)).count() <= self.rules.max_assets
            && self.rules.groups.iter().all(|(_, m, k)| m.iter().filter(|&&i| Self::held(fix[i])).count() <= *k)
    }

    /// Whether weights `w` obey the rules: the counts of held weights, and
    /// each held weight's threshold.
    fn obeyed(&self, fix: &[Fix], w: &[f64]) -> bool {
        self.counts_obeyed(&self.held_by(fix, w))
            && w.iter().zip(&self.rules.threshold).all(|(&v, &t)| v.abs() <= ZERO || v.abs() >= t - ZERO)
    }

    /// The node's fixes with each free asset held on its weight's side
    /// where the weight is not zero, out where it is: what the weights
    /// hold, whatever the counts allow.
    fn held_by(&self, fix: &[Fix], w: &[f64]) -> Vec<Fix> {
        (0..fix.len())
            .map(|i| match fix[i] {
                Fix::Free if w[i].abs() > ZERO => self.side(i, w[i]),
                Fix::Free => Fix::Out,
                f => f,
            })
            .collect()
    }

    /// The fixes that hold the node's held assets and its free assets with
    /// the largest weights, at most `most` held in all (and no more than a
    /// group allows), each on its weight's side; the rest out.
    fn support(&self, fix: &[Fix], w: &[f64], most: usize) -> Vec<Fix> {
        let mut out: Vec<Fix> = fix.iter().map(|&f| if f == Fix::Free { Fix::Out } else { f }).collect();
        let mut free: Vec<usize> = (0..fix.len()).filter(|&i| fix[i] == Fix::Free && w[i].abs() > ZERO).collect();
        free.sort_by(|&a, &b| w[b].abs().total_cmp(&w[a].abs()));
        let mut held = fix.iter().filter(|f| Self::held(**f)).count();
        for i in free {
            if held >= most {
                break;
            }
            let side = self.side(i, w[i]);
            out[i] = side;
            if !self.counts_obeyed(&out) {
                out[i] = Fix::Out;
                continue;
            }
            held += 1;
        }
        out
    }

    /// How asset `i` is held at weight `v`.
    fn side(&self, i: usize, v: f64) -> Fix {
        match (self.rules.threshold[i] > 0.0, v >= 0.0) {
            (false, _) => Fix::In,
            (true, true) => Fix::Long,
            (true, false) => Fix::Short,
        }
    }

    /// The children of a node whose weights `w` break a rule: on the held
    /// weight furthest below its threshold (out, long, short, as its
    /// bounds allow), else on the free asset with the largest weight among
    /// those a broken count covers (in, out).
    fn children(&self, fix: &[Fix], w: &[f64]) -> Vec<Vec<Fix>> {
        let th = &self.rules.threshold;
        let below = (0..fix.len())
            .filter(|&i| fix[i] == Fix::Free && w[i].abs() > ZERO && w[i].abs() < th[i] - ZERO)
            .max_by(|&a, &b| (th[a] - w[a].abs()).total_cmp(&(th[b] - w[b].abs())));
        let mut kids = Vec::new();
        let mut with = |i: usize, f: Fix| {
            let mut c = fix.to_vec();
            c[i] = f;
            kids.push(self.propagate(c));
        };
        if let Some(i) = below {
            with(i, Fix::Out);
            if self.base.upper[i] >= th[i] {
                with(i, Fix::Long);
            }
            if self.base.lower[i] <= -th[i] {
                with(i, Fix::Short);
            }
            return kids;
        }
        let support = self.held_by(fix, w);
        let total = support.iter().filter(|f| Self::held(**f)).count() > self.rules.max_assets;
        let mut covered = vec![total; fix.len()];
        for (_, members, k) in &self.rules.groups {
            if members.iter().filter(|&&i| Self::held(support[i])).count() > *k {
                for &i in members {
                    covered[i] = true;
                }
            }
        }
        let pick = (0..fix.len())
            .filter(|&i| covered[i] && fix[i] == Fix::Free && w[i].abs() > ZERO)
            .max_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs()));
        if let Some(i) = pick {
            with(i, self.side(i, w[i]));
            with(i, Fix::Out);
        } else if let Some(i) =
            (0..fix.len()).filter(|&i| fix[i] == Fix::Free).max_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs()))
        {
            // The weights obey the rules but fixing their support cost
            // more than the gap (weights below ZERO mattered): branch on
            // the largest free one.
            with(i, self.side(i, w[i]));
            with(i, Fix::Out);
        }
        kids
    }
}
