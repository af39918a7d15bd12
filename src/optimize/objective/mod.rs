//! One formulation per objective. Each builds its whole conic program —
//! the constraints' rows, its risk term (from [`super::risk`]) and its
//! linear part — and says how the solution maps back to weights, so a new
//! objective is a new file, not another arm of a long `match`.

mod budget_newton;
mod dr_cvar;
mod max_ratio;
mod mean_risk;
mod min_risk;
mod risk_parity;
mod target_return;
mod target_volatility;
mod utility;

use crate::parameter::Optimize as Param;
use ndarray::{Array1, ArrayView2};

use super::constraints::{Resolved, Tracking};
use super::problem::{Affine, Block, Lin, Program, Solution, Var};
use super::risk::{RiskMeasure, Variance};
use super::trading::TradeVars;
use super::{Constraints, MeanRiskGoal, Objective};
use crate::error::{Error, Result};
use crate::estimate::Moments;

/// What an objective is solved on: moments, and return scenarios (rows of
/// simple returns) for scenario-based risk measures.
pub(crate) struct Inputs<'a> {
    pub moments: &'a Moments,
    pub scenarios: Option<ArrayView2<'a, f64>>,
    /// The scenarios' probabilities, when they are not equally likely.
    pub probabilities: Option<ndarray::ArrayView1<'a, f64>>,
    /// Whether scenario reduction may be used.
    pub reduction: super::Reduction,
    /// The mean's uncertainty set, where the mean is priced at its worst.
    pub mean_set: Option<&'a super::uncertainty::Resolved>,
}

/// How the solution vector maps to weights.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Readout {
    /// The weights are these variables.
    Direct(Block),
    /// A homogenised program: $w = y / \kappa$.
    Scaled { y: Block, kappa: Var },
    /// These variables normalised to sum to 1.
    Normalized(Block),
}

impl Readout {
    pub(crate) fn weights(self, x: &[f64]) -> Array1<f64> {
        match self {
            Readout::Direct(w) => Array1::from(w.values(x)),
            Readout::Scaled { y, kappa } => y.values(x).iter().map(|v| v / kappa.value(x)).collect(),
            Readout::Normalized(y) => {
                let v = y.values(x);
                let s: f64 = v.iter().sum();
                v.iter().map(|v| v / s).collect()
            }
        }
    }
}

/// A program ready to solve.
pub(crate) struct Built {
    pub program: Program,
    pub readout: Readout,
    /// The optimal objective value is the risk measure itself (reported
    /// with the allocation, as minimum CVaR does).
    pub objective_is_risk: bool,
}

impl Built {
    fn direct(program: Program, weights: Block) -> Built {
        Built { program, readout: Readout::Direct(weights), objective_is_risk: false }
    }

    /// Solves the program.
    fn solve(self) -> Result<Solved> {
        Ok(Solved { solution: self.program.solve()?, readout: self.readout, objective_is_risk: self.objective_is_risk })
    }
}

/// A solved objective: the solution, how it maps to weights, and whether
/// its value is the risk measure.
pub(crate) struct Solved {
    pub solution: Solution,
    pub readout: Readout,
    pub objective_is_risk: bool,
}

/// An objective's formulation.
pub(crate) trait Formulation {
    /// The objective's name in tables.
    fn label(&self) -> String;

    /// The risk-free rate the allocation's Sharpe ratio is measured against.
    fn risk_free(&self) -> f64 {
        0.0
    }

    /// The name of the risk measure the objective's value is, when it is one.
    fn risk_name(&self) -> String {
        String::new()
    }

    /// Whether the program's optimal value is a worst case the allocation
    /// reports ([`Allocation::worst_case`](crate::optimize::Allocation::worst_case)).
    fn reports_worst_case(&self) -> bool {
        false
    }

    /// Checks the objective's parameters and writes its program.
    fn build(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Built>;

    /// Solves: the program [`build`](Self::build) writes, unless the
    /// objective has a faster exact way.
    fn solve(&self, x: &Inputs<'_>, c: &Resolved) -> Result<Solved> {
        self.build(x, c)?.solve()
    }

    /// Turns a solver failure into a message that says what to relax, where
    /// the objective knows better than the solver.
    fn explain(&self, e: Error, _: &Inputs<'_>, _: &Constraints) -> Error {
        e
    }
}

/// The formulation of `objective` on these inputs.
pub(crate) fn formulation<'a>(objective: &Objective, x: &Inputs<'a>) -> Result<Box<dyn Formulation + 'a>> {
    check_parameters(objective)?;
    let m = x.moments;
    Ok(match objective {
        Objective::MinRisk { measure } => min_risk(*measure, x)?,
        Objective::MeanRisk { measure, goal } => match (measure.term(m, x.scenarios, x.probabilities)?, *goal) {
            // Variance has its own formulations: the homogenised ratio to
            // volatility, the quadratic form (whose λ halves its term), the
            // minimum at a target and the volatility cap.
            (None, MeanRiskGoal::MaxRatio { risk_free }) => Box::new(max_ratio::MaxSharpe { risk_free }),
            (None, MeanRiskGoal::MaxUtility { risk_aversion }) => {
                Box::new(utility::MeanVariance { risk_aversion: 2.0 * risk_aversion })
            }
            (None, MeanRiskGoal::MinRiskAtReturn { target }) => Box::new(target_return::TargetReturn { target }),
            (None, MeanRiskGoal::MaxReturnAtRisk { cap }) => {
                Box::new(target_volatility::TargetVolatility { target: cap.sqrt() })
            }
            // A volatility cap is the same cone without the square root.
            (Some(_), MeanRiskGoal::MaxReturnAtRisk { cap }) if matches!(measure, RiskMeasure::StandardDeviation) => {
                Box::new(target_volatility::TargetVolatility { target: cap })
            }
            (Some(risk), goal) => Box::new(mean_risk::MeanRisk { measure: *measure, risk, goal }),
        },
        Objective::MaxDiversification => Box::new(max_ratio::MaxDiversification),
        &Objective::DistributionallyRobustCvar { beta, risk_aversion, radius } => {
            let f = dr_cvar::DrCvar { beta, risk_aversion, radius };
            f.check()?;
            Box::new(f)
        }
        Objective::RiskBudget { measure, budgets } => {
            let risk = measure.term(m, x.scenarios, x.probabilities)?;
            let measure = (!matches!(measure, RiskMeasure::Variance)).then_some(*measure);
            Box::new(risk_parity::RiskParity { budgets: budgets.clone(), risk, measure })
        }
    })
}

/// The objective's own numbers, checked before anything is built: a NaN
/// target or risk-free rate would otherwise reach the solver, which either
/// fails with a numerical status or returns weights that satisfy nothing.
fn check_parameters(objective: &Objective) -> Result<()> {
    match *objective {
        Objective::MeanRisk { goal: MeanRiskGoal::MaxRatio { risk_free }, .. } => {
            Error::finite(Param::RiskFree, risk_free)
        }
        Objective::MeanRisk { goal: MeanRiskGoal::MinRiskAtReturn { target }, .. } => {
            Error::finite(Param::TargetReturn, target)
        }
        Objective::MeanRisk {
            measure: RiskMeasure::StandardDeviation,
            goal: MeanRiskGoal::MaxReturnAtRisk { cap },
        } => Error::positive(Param::TargetVolatility, cap),
        Objective::MeanRisk { goal: MeanRiskGoal::MaxReturnAtRisk { cap }, .. } => Error::positive(Param::RiskCap, cap),
        Objective::MeanRisk { goal: MeanRiskGoal::MaxUtility { risk_aversion }, .. } => {
            if risk_aversion.is_finite() && risk_aversion >= 0.0 {
                Ok(())
            } else {
                Err(Error::param(Param::RiskAversion, format!("must be ≥ 0 and finite, got {risk_aversion}")))
            }
        }
        _ => Ok(()),
    }
}

/// Minimum of `measure`: the quadratic form for variance, else the
/// measure's term, whose value the allocation reports.
fn min_risk<'a>(measure: RiskMeasure, x: &Inputs<'a>) -> Result<Box<dyn Formulation + 'a>> {
    Ok(match measure.term(x.moments, x.scenarios, x.probabilities)? {
        None => Box::new(min_risk::MinRisk::new(Variance(x.moments))),
        Some(term) => Box::new(min_risk::MinRisk::new(term).reporting_risk()),
    })
}

/// A program over the weights with the constraints written: the weights'
/// variables and the trade's, for the objective to use.
pub(crate) struct Constrained {
    pub program: Program,
    pub weights: Block,
    pub trade: TradeVars,
}

/// A program over the weights with the constraints written — the
/// tracking-error cap too, which needs the moments or the scenarios.
pub(crate) fn constrained(x: &Inputs<'_>, c: &Resolved) -> Result<Constrained> {
    let n = x.moments.n_assets();
    let (mut p, w) = Program::with_weights(n);
    let trade = c.write(&mut p, w);
    if let Some((benchmark, cap)) = &c.tracking {
        let cone = match benchmark {
            Tracking::Weights(b) => {
                // cap ≥ ‖Σ^{1/2}(w − b)‖₂.
                let mut cone = vec![Affine::from(*cap)];
                cone.extend(super::risk::volatility_entries(&mut p, x.moments, w, Some(b))?);
                cone
            }
            Tracking::Returns(y) => {
                if x.probabilities.is_some() {
                    return Err(Error::param(
                        Param::TrackingError,
                        "against a return series weighs every scenario equally; with scenario probabilities \
                         (solve_pooled) cap the tracking error against benchmark weights instead",
                    ));
                }
                let r = x.scenarios.ok_or_else(|| {
                    Error::param(
                        Param::TrackingError,
                        "against a return series needs scenarios: call .solve_scenarios(&returns)",
                    )
                })?;
                let s = r.nrows();
                if y.len() != s || s < 2 {
                    return Err(Error::Shape(format!(
                        "the tracking-error benchmark has {} returns for {s} scenarios (at least 2)",
                        y.len()
                    )));
                }
                // cap √(S − 1) ≥ ‖((r_s − r̄)·w − (y_s − ȳ))_s‖₂.
                let centred = super::risk::centred(r, 1.0);
                let y_mean = y.iter().sum::<f64>() / s as f64;
                let mut cone = vec![Affine::from(cap * ((s - 1) as f64).sqrt())];
                cone.extend(centred.rows().into_iter().zip(y).map(|(row, ys)| w.dot(row).plus(-(ys - y_mean))));
                cone
            }
        };
        p.soc(cone);
    }
    Ok(Constrained { program: p, weights: w, trade })
}

/// Refuses a tracking-error cap where the program cannot hold it.
pub(crate) fn no_tracking(c: &Resolved, what: &str) -> Result<()> {
    if c.tracking.is_some() {
        return Err(Error::param(
            Param::TrackingError,
            format!("a cap is not supported with {what}; use a mean–risk or minimum-risk objective"),
        ));
    }
    Ok(())
}

/// Refuses priced trades for an objective whose solution is rescaled
/// after the solve, where a trade's cost has no place.
pub(crate) fn no_costs(c: &Resolved, what: &str) -> Result<()> {
    if c.trade.is_some() {
        return Err(Error::param(
            Param::TradingCosts,
            format!("{what} rescales its solution after solving, so trades cannot be priced or capped in it; use a mean–risk or minimum-risk objective"),
        ));
    }
    Ok(())
}

/// $-\mu^\top w + \text{cost}$, the expected net return's negative (for
/// "expected net return ≥ target"); with an uncertainty set, the worst
/// case's: plus the shortfall it writes.
pub(crate) fn net_loss(p: &mut Program, x: &Inputs<'_>, c: &Resolved, w: Block, t: TradeVars) -> Lin {
    let loss = c.cost(t) - w.dot(x.moments.mean());
    match x.mean_set {
        Some(set) => loss + set.shortfall(p, w, c.long_only()),
        None => loss,
    }
}

/// The highest expected return reachable under the constraints (an LP).
pub(crate) fn max_return(x: &Inputs<'_>, constraints: &Constraints) -> Result<f64> {
    let m = x.moments;
    let c = constraints.resolve(m.assets())?;
    let Constrained { program: mut p, weights: w, trade: t } = constrained(x, &c)?;
    let loss = net_loss(&mut p, x, &c, w, t);
    p.minimise(loss);
    Ok(-p.solve()?.objective)
}
