//! Convex portfolio optimisation on Clarabel, with no modelling layer: each
//! objective is written straight into Clarabel's
//! $\min \tfrac12 x^\top P x + q^\top x$ s.t. $Ax + s = b,\ s \in \mathcal K$.
//!
//! Each objective is one small formulation (`objective/`) that writes the
//! constraints' rows, its risk term and its linear part; each risk term
//! (`risk/`: variance, CVaR) writes its own quadratic form or epigraph, so
//! objectives and risk measures combine without a central `match`.
//!
//! Two steps make answers faster or more exact than one interior-point
//! solve. The minimum of a piecewise-linear scenario measure (CVaR, MAD,
//! semi-deviation, first lower partial moment, worst realisation, maximum
//! drawdown, CDaR) is found by exact scenario reduction (`risk/reduce.rs`):
//! a few programs that keep only the scenarios near a kink; that of the
//! average drawdown and the Ulcer index on a chain of the dates that can be
//! peaks (`risk/peaks.rs`), a variable each instead of two a date. And a program
//! with a variance term is polished on its active set after Clarabel, and a
//! linear program (every linear measure, in any objective) is moved onto
//! the vertex its active set defines, so their weights are the exact
//! optimum rather than a tolerance short of it. Risk budgets of a smooth
//! measure (variance, standard deviation, semideviation, EVaR) skip the
//! interior point: Newton's method on the log-barrier objective meets the
//! budgets to machine precision. The allocation's [`Provenance`] says
//! which path and finish were used.
//!
//! With expected returns $\mu$, covariance $\Sigma$ (from
//! [`crate::estimate`]) and the feasible set $\mathcal W$ of
//! [`Constraints`]:
//!
//! | objective | problem |
//! |---|---|
//! | [`Optimizer::min_variance`] | $\min_{w\in\mathcal W} w^\top\Sigma w$ |
//! | [`Optimizer::max_sharpe`] | $\max_{w\in\mathcal W} (\mu - r_f)^\top w / \sqrt{w^\top\Sigma w}$, solved in the homogenised form $\min y^\top\Sigma y$ s.t. $(\mu-r_f)^\top y = 1$, $y \in \kappa\mathcal W$, $\kappa \ge 0$, then $w = y/\kappa$ |
//! | [`Optimizer::mean_variance`] | $\max_{w\in\mathcal W} \mu^\top w - \tfrac{\lambda}{2} w^\top\Sigma w - c\lVert w - w^{prev}\rVert_1$ |
//! | [`Optimizer::target_return`] | $\min w^\top\Sigma w$ s.t. $\mu^\top w - c\lVert w - w^{prev}\rVert_1 \ge r^*$ |
//! | [`Optimizer::target_volatility`] | $\max \mu^\top w - c\lVert w - w^{prev}\rVert_1$ s.t. $\lVert L^\top w\rVert_2 \le \sigma^*$ ($\Sigma = LL^\top$, a second-order cone) |
//! | [`Optimizer::risk_parity`] | $\min \tfrac12 y^\top\Sigma y - \sum_i b_i \ln y_i$ (exponential cones), $w = y / \sum y$: risk contributions $w_i(\Sigma w)_i / w^\top\Sigma w = b_i$ |
//! | [`Optimizer::max_diversification`] | $\max \sigma^\top w/\sqrt{w^\top\Sigma w}$, homogenised like max-Sharpe |
//! | [`Optimizer::min_cvar`] | $\min_{w,\alpha,u} \alpha + \frac{1}{(1-\beta)S}\sum_s u_s$, $u_s \ge -r_s^\top w - \alpha$, $u \ge 0$ (Rockafellar–Uryasev LP over return scenarios $r_s$) |
//!
//! Holding rules — at most K assets in total or per group
//! ([`Constraints::max_assets`], [`Constraints::group_max_assets`]) and a
//! least position when held ([`Constraints::min_position`]) — make any of
//! these objectives but risk budgets mixed-integer: a branch and bound over
//! the convex relaxations (`branch.rs`; variance in its perspective form)
//! meets them, and the allocation's [`Search`] says whether its portfolio
//! is proven optimal or, stopped by a node or time limit, how far from it
//! it may be.
//!
//! [`Frontier`] traces minimum variance over target returns, reusing one
//! Clarabel solver and changing only the target in $b$ between points; with
//! per-asset bounds and full investment, [`CriticalLine`] (or
//! `Frontier::params().critical_line()`) gives the same frontier exactly
//! from its turning points, with no iterative solver.
//!
//! [`OutOfSample`] holds allocations through a later period beside 1/N.
//!
//! A solve returns an [`Allocation`] only when Clarabel reports `Solved`
//! (at tolerance 1e-10, or, when it stops just short of that, at its default
//! 1e-8 on a second attempt, which the allocation's status records);
//! otherwise an [`Error::Solver`] or [`Error::Infeasible`] names what to relax.

mod allocation;
mod branch;
mod cla;
mod constraints;
mod evaluate;
mod frontier;
mod multi_period;
mod objective;
mod orders;
mod pooled;
pub(crate) mod problem;
mod risk;
mod trading;
mod uncertainty;

pub use allocation::{Allocation, Provenance};
pub use branch::{Search, SearchStatus};
pub use cla::{CriticalLine, TurningPoint};
pub use constraints::{Benchmark, Constraints, Group, Linear, Relation};
pub use evaluate::OutOfSample;
pub use frontier::Frontier;
pub use multi_period::{MultiPeriod, Plan};
pub use orders::{OrderMethod, Orders, OrdersParams};
pub use pooled::{ProfileRow, ScenarioProfile};
pub use problem::Finish;
pub use risk::RiskMeasure;
pub use uncertainty::{CovarianceUncertainty, MeanUncertainty};

use crate::data::Returns;
use crate::error::{Error, Result, SolverStatus};
use crate::estimate::Moments;
use constraints::Resolved;
use objective::{Inputs, Readout};

/// What to optimise: three objectives, each over any [`RiskMeasure`],
/// and maximum diversification. The familiar problems are shortcuts on
/// [`Optimizer`] that say which of these they are (`min_variance` is
/// `MinRisk` of variance, `max_sharpe` the maximum ratio to volatility,
/// `risk_parity` risk budgets of variance, …), and each parameter means
/// what its variant's docs say.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Objective {
    /// Minimum of a risk measure (scenario measures need
    /// [`Optimizer::solve_scenarios`]).
    MinRisk {
        /// The measure.
        measure: RiskMeasure,
    },
    /// Mean against a risk measure: maximum ratio, maximum utility,
    /// minimum risk at a target return, or maximum return under a risk cap.
    MeanRisk {
        /// The measure.
        measure: RiskMeasure,
        /// What to optimise.
        goal: MeanRiskGoal,
    },
    /// Risk contributions in proportion to budgets (equal: risk parity).
    RiskBudget {
        /// The measure whose contributions are budgeted.
        measure: RiskMeasure,
        /// Risk budgets (default equal), positive, normalised to sum to 1.
        budgets: Option<Vec<f64>>,
    },
    /// Maximum diversification ratio $\sigma^\top w / \sqrt{w^\top\Sigma w}$
    /// (a ratio whose numerator is the assets' volatilities, not the mean).
    MaxDiversification,
    /// Maximum mean − ρ·CVaR at its worst over the distributions within a
    /// Wasserstein ball of the scenarios' (see
    /// [`Optimizer::dr_cvar`]).
    DistributionallyRobustCvar {
        /// CVaR's confidence level in (0, 1).
        beta: f64,
        /// ρ ≥ 0.
        risk_aversion: f64,
        /// The ball's radius ε ≥ 0 (in returns, 1-norm).
        radius: f64,
    },
}

/// What a mean–risk objective optimises (see [`Optimizer::max_ratio`] and
/// its siblings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MeanRiskGoal {
    /// Maximum (mean − risk-free) / risk; for variance, over its square
    /// root, the volatility (the Sharpe ratio: a ratio to the variance
    /// would change with the weights' scale).
    MaxRatio {
        /// Risk-free rate per period.
        risk_free: f64,
    },
    /// Maximum mean − λ · risk (for variance, mean − λ·wᵀΣw).
    MaxUtility {
        /// λ ≥ 0.
        risk_aversion: f64,
    },
    /// Minimum risk at a mean return of at least `target`.
    MinRiskAtReturn {
        /// Per-period target.
        target: f64,
    },
    /// Maximum mean return with risk at most `cap` (for variance a cap on
    /// the variance, for the standard deviation on the volatility).
    MaxReturnAtRisk {
        /// The cap, in the measure's units.
        cap: f64,
    },
}

impl Objective {
    /// The risk measure the objective is about, if it names one.
    pub(crate) fn measure(&self) -> Option<RiskMeasure> {
        match self {
            Objective::MinRisk { measure }
            | Objective::MeanRisk { measure, .. }
            | Objective::RiskBudget { measure, .. } => Some(*measure),
            Objective::DistributionallyRobustCvar { beta, .. } => Some(RiskMeasure::Cvar { beta: *beta }),
            Objective::MaxDiversification => None,
        }
    }

    /// Whether the objective can price trades from current weights (risk
    /// budgeting and maximum diversification rescale their solutions
    /// after the solve, so they cannot).
    pub(crate) fn prices_trades(&self) -> bool {
        !matches!(self, Objective::RiskBudget { .. } | Objective::MaxDiversification)
    }

    /// Whether the objective is computed on return scenarios (solve it with
    /// [`Optimizer::solve_scenarios`]) rather than on moments alone.
    pub fn needs_scenarios(&self) -> bool {
        self.measure().is_some_and(|m| !matches!(m, RiskMeasure::Variance | RiskMeasure::StandardDeviation))
    }
}

/// An objective with constraints, ready to solve.
///
/// ```
/// use assetalloc::prelude::*;
/// let r = Synthetic::params().assets(4).days(750).seed(3).generate()?.prices.returns(ReturnKind::Simple)?;
/// let m = Moments::sample().fit(&r)?.annualized();
/// let w = Optimizer::min_variance().solve(&m)?;
/// assert!((w.weights().sum() - 1.0).abs() < 1e-8);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Optimizer {
    objective: Objective,
    constraints: Constraints,
    reduction: Reduction,
    // Boxed: rarely set, and they would double the size of every optimiser.
    mean_set: Option<Box<MeanUncertainty>>,
    cov_set: Option<Box<CovarianceUncertainty>>,
    limits: branch::Limits,
}

/// Whether minimum risk and risk budgets of a piecewise-linear scenario
/// measure (CVaR, MAD, semi-deviation, FLPM, worst realisation, the
/// drawdowns) are solved by exact scenario reduction (`risk/reduce.rs`,
/// `risk/peaks.rs`), and minimum EVaR by sequential quadratic programs
/// (`risk/evar.rs`), or on the full epigraph. Both reach the same optimum;
/// the reduction is faster on long samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// Reduce where the measure allows it (the default).
    #[default]
    Auto,
    /// Always write the full program: every scenario a variable.
    Off,
}

impl Optimizer {
    fn with(objective: Objective) -> Self {
        Optimizer {
            objective,
            constraints: Constraints::long_only(),
            reduction: Reduction::Auto,
            mean_set: None,
            cov_set: None,
            limits: branch::Limits::default(),
        }
    }

    /// The node and time limits of the branch and bound that holding rules
    /// ([`Constraints::max_assets`], [`Constraints::min_position`]) need
    /// (default 10,000 nodes, 600 s). A search stopped by either returns
    /// the best portfolio found, its [`Search`] marked not proven with its
    /// gap; with none found yet, an error.
    pub fn search_limits(mut self, nodes: usize, seconds: f64) -> Self {
        self.limits = branch::Limits { nodes, seconds };
        self
    }

    /// Prices the mean at its worst over `set` (robust mean–risk): the
    /// maximum ratio, the utility, the minimum risk at a target return and
    /// the maximum return under a risk cap all read
    /// $\min_{\mu\in U}\mu^\top w$ instead of $\hat\mu^\top w$
    /// (`optimize/uncertainty.rs`). Objectives that do not read the mean
    /// refuse it. The set must be in the units of the moments solved on.
    pub fn robust_mean(mut self, set: MeanUncertainty) -> Self {
        self.mean_set = Some(Box::new(set));
        self
    }

    /// Prices the variance at its worst over the covariance box `set`
    /// (`optimize/uncertainty.rs`): minimum variance, the maximum Sharpe
    /// ratio, mean–variance, a target return or a volatility cap on
    /// variance or the standard deviation. For weights that cannot be
    /// negative the worst case is the box's upper bound; with short
    /// positions it is $w^\top C w + \lvert w\rvert^\top R\lvert w\rvert$ on
    /// the box's centre and half-width, exact when both are positive
    /// semidefinite (as for $\Sigma \pm \epsilon\,ss^\top$). The
    /// allocation's volatility and risk contributions are then the worst
    /// case's.
    pub fn robust_covariance(mut self, set: CovarianceUncertainty) -> Self {
        self.cov_set = Some(Box::new(set));
        self
    }

    /// Whether a piecewise-linear scenario measure is minimised by scenario
    /// reduction ([`Reduction::Auto`], the default) or on its full program
    /// ([`Reduction::Off`]: to check one against the other, or to time
    /// them).
    pub fn reduction(mut self, r: Reduction) -> Self {
        self.reduction = r;
        self
    }

    /// Minimum variance: [`min_risk`](Self::min_risk) of variance.
    pub fn min_variance() -> Self {
        Optimizer::min_risk(RiskMeasure::Variance)
    }

    /// Maximum Sharpe ratio (the tangency portfolio) over `risk_free`:
    /// [`max_ratio`](Self::max_ratio) of variance, a ratio to volatility.
    pub fn max_sharpe(risk_free: f64) -> Self {
        Optimizer::max_ratio(RiskMeasure::Variance, risk_free)
    }

    /// Mean-variance utility $\mu^\top w - \frac{\lambda}{2} w^\top\Sigma w$
    /// with risk aversion $\lambda \ge 0$: [`max_utility`](Self::max_utility)
    /// of variance with aversion $\lambda/2$, which its objective shows.
    pub fn mean_variance(risk_aversion: f64) -> Self {
        Optimizer::max_utility(RiskMeasure::Variance, 0.5 * risk_aversion)
    }

    /// Minimum variance for an expected return of at least `target`:
    /// [`min_risk_at_return`](Self::min_risk_at_return) of variance.
    pub fn target_return(target: f64) -> Self {
        Optimizer::min_risk_at_return(RiskMeasure::Variance, target)
    }

    /// Maximum expected return for a volatility of at most `target`:
    /// [`max_return_at_risk`](Self::max_return_at_risk) of the standard
    /// deviation.
    pub fn target_volatility(target: f64) -> Self {
        Optimizer::max_return_at_risk(RiskMeasure::StandardDeviation, target)
    }

    /// Equal risk contributions to variance.
    pub fn risk_parity() -> Self {
        Optimizer::with(Objective::RiskBudget { measure: RiskMeasure::Variance, budgets: None })
    }

    /// Risk contributions to variance proportional to `budgets`.
    pub fn risk_budgeting(budgets: Vec<f64>) -> Self {
        Optimizer::with(Objective::RiskBudget { measure: RiskMeasure::Variance, budgets: Some(budgets) })
    }

    /// Maximum diversification ratio.
    pub fn max_diversification() -> Self {
        Optimizer::with(Objective::MaxDiversification)
    }

    /// Minimum CVaR at confidence `confidence`: [`min_risk`](Self::min_risk)
    /// of CVaR; solve with [`solve_scenarios`](Self::solve_scenarios).
    pub fn min_cvar(confidence: f64) -> Self {
        Optimizer::min_risk(RiskMeasure::Cvar { beta: confidence })
    }

    /// Minimum of any [`RiskMeasure`]: variance from moments
    /// ([`solve`](Self::solve)), every other measure from return scenarios
    /// ([`solve_scenarios`](Self::solve_scenarios)).
    ///
    /// ```
    /// use assetalloc::prelude::*;
    /// let r = Synthetic::params().assets(4).days(500).seed(3).generate()?.prices.returns(ReturnKind::Simple)?;
    /// let a = Optimizer::min_risk(RiskMeasure::Cdar { beta: 0.95 }).solve_scenarios(&r)?;
    /// let (name, cdar) = a.risk().expect("the minimum is reported");
    /// assert_eq!(name, "CDaR (95 %)");
    /// assert!(cdar > 0.0);
    /// # Ok::<(), assetalloc::Error>(())
    /// ```
    pub fn min_risk(measure: RiskMeasure) -> Self {
        Optimizer::with(Objective::MinRisk { measure })
    }

    /// Risk contributions to `measure` in proportion to `budgets` (equal
    /// when `None`: risk parity), long-only and fully invested, by the
    /// log-barrier program; scenario measures need
    /// [`solve_scenarios`](Self::solve_scenarios).
    pub fn risk_budgeting_for(measure: RiskMeasure, budgets: Option<Vec<f64>>) -> Self {
        Optimizer::with(Objective::RiskBudget { measure, budgets })
    }

    /// Maximum (mean − `risk_free`) / `measure` ratio, solved exactly in the
    /// homogenised form (for variance: the maximum Sharpe ratio).
    pub fn max_ratio(measure: RiskMeasure, risk_free: f64) -> Self {
        Optimizer::with(Objective::MeanRisk { measure, goal: MeanRiskGoal::MaxRatio { risk_free } })
    }

    /// Maximum mean − `risk_aversion` × `measure` (for variance:
    /// mean − λ·wᵀΣw).
    pub fn max_utility(measure: RiskMeasure, risk_aversion: f64) -> Self {
        Optimizer::with(Objective::MeanRisk { measure, goal: MeanRiskGoal::MaxUtility { risk_aversion } })
    }

    /// Distributionally robust mean–CVaR (skfolio's
    /// `DistributionallyRobustCVaR`): maximum mean − `risk_aversion` ×
    /// CVaR at confidence `beta`, both at their worst over every return
    /// distribution within Wasserstein distance `radius` (1-norm, per
    /// period) of the scenarios, on the support $r \ge -1$. A linear
    /// program of $S + 2n$ variables (`objective/dr_cvar.rs`); radius 0 is
    /// [`max_utility`](Self::max_utility) of CVaR. Needs
    /// [`solve_scenarios`](Self::solve_scenarios).
    pub fn dr_cvar(beta: f64, risk_aversion: f64, radius: f64) -> Self {
        Optimizer::with(Objective::DistributionallyRobustCvar { beta, risk_aversion, radius })
    }

    /// Minimum `measure` at a mean return of at least `target` per period.
    pub fn min_risk_at_return(measure: RiskMeasure, target: f64) -> Self {
        Optimizer::with(Objective::MeanRisk { measure, goal: MeanRiskGoal::MinRiskAtReturn { target } })
    }

    /// Maximum mean return with `measure` at most `cap` (for variance, a
    /// cap on the variance: volatility ≤ √cap).
    pub fn max_return_at_risk(measure: RiskMeasure, cap: f64) -> Self {
        Optimizer::with(Objective::MeanRisk { measure, goal: MeanRiskGoal::MaxReturnAtRisk { cap } })
    }

    /// Sets the constraints (default long-only, fully invested).
    pub fn constraints(mut self, c: Constraints) -> Self {
        self.constraints = c;
        self
    }

    /// The constraints.
    pub(crate) fn constraints_ref(&self) -> &Constraints {
        &self.constraints
    }

    /// The objective.
    pub fn objective(&self) -> &Objective {
        &self.objective
    }

    /// Solves for the given moments.
    pub fn solve(&self, m: &Moments) -> Result<Allocation> {
        let worst = self.worst_moments(m)?;
        let m = worst.as_ref().unwrap_or(m);
        let set = self.mean_set(m)?;
        self.solve_on(&Inputs {
            moments: m,
            scenarios: None,
            probabilities: None,
            reduction: self.reduction,
            mean_set: set.as_ref(),
        })
    }

    /// Solves on historical scenarios: each row of `returns` (converted to
    /// simple returns) is one equally likely scenario for scenario-based
    /// risk measures (minimum CVaR); the allocation reports sample moments
    /// of the same returns, and objectives of moments alone use them.
    pub fn solve_scenarios(&self, returns: &Returns) -> Result<Allocation> {
        let m = Moments::sample().fit(returns)?;
        let m = self.worst_moments(&m)?.unwrap_or(m);
        let simple = returns.as_simple();
        let set = self.mean_set(&m)?;
        self.solve_on(&Inputs {
            moments: &m,
            scenarios: Some(simple.values()),
            probabilities: None,
            reduction: self.reduction,
            mean_set: set.as_ref(),
        })
    }

    /// Solves on scenarios with probabilities: the returns an
    /// [`EntropyPooled`](crate::estimate::EntropyPooled) posterior (or an
    /// [`OpinionPooling`](crate::estimate::OpinionPooling)) reweighted.
    /// Scenario measures weigh each scenario by its probability, as
    /// skfolio's do with sample weights: CVaR $\alpha + \sum_s p_s u_s/(1-\beta)$,
    /// EVaR $\min_z z\ln(\sum_s p_s e^{L_s/z}/(1-\beta))$, deviations about the
    /// weighted mean, with the semi-deviation's correction
    /// $1/\sqrt{1-\sum_s p_s^2}$ in place of $1/\sqrt{S-1}$; the worst
    /// realisation is over the scenarios with $p_s > 0$. Drawdowns follow
    /// the scenarios' time order and weigh each date's drawdown by its
    /// probability (average, CDaR, Ulcer index, EDaR; the maximum weighs
    /// none). The ordered weighted averages take their spectral forms: each
    /// return's weight is the measure's weight function integrated over its
    /// share of the cumulative probability (CVaR's tails, tail Gini as a sum
    /// of CVaRs, the Gini mean difference as $\sum_{s \ne t} p_sp_t
    /// \lvert x_s - x_t\rvert/(1 - \sum_s p_s^2)$, the range over the
    /// scenarios with $p_s > 0$; see `risk/owa.rs`), written as linear
    /// programs of limited size. Mean and covariance are the posterior's.
    /// Minimum risk and the mean–risk objectives take these measures and
    /// variance; RLVaR and RLDaR, risk budgets and the distributionally
    /// robust CVaR are errors here. Equally likely
    /// probabilities ([`EntropyPooled::equally_likely`](crate::estimate::EntropyPooled::equally_likely))
    /// are [`solve_scenarios`](Self::solve_scenarios)' program: the same
    /// numbers to the bit, for every measure. Otherwise the minima of CVaR,
    /// MAD, the lower partial moments, the semi-deviation, the maximum
    /// drawdown and CDaR go by the exact scenario reductions, each
    /// scenario's term weighed by its probability; the other measures
    /// write the full program.
    pub fn solve_pooled(&self, pooled: &crate::estimate::EntropyPooled) -> Result<Allocation> {
        if !matches!(self.objective, Objective::MinRisk { .. } | Objective::MeanRisk { .. }) {
            return Err(Error::param(
                crate::parameter::Optimize::Objective,
                format!(
                    "{:?} does not take scenario probabilities; pooled scenarios go to minimum risk or a mean–risk objective",
                    self.objective
                ),
            ));
        }
        let m = pooled.moments();
        let m = self.worst_moments(&m)?.unwrap_or(m);
        let set = self.mean_set(&m)?;
        // Equally likely scenarios are solve_scenarios' program; the exact
        // reductions weigh the scenarios where they take probabilities.
        let equal = pooled.equally_likely();
        self.solve_on(&Inputs {
            moments: &m,
            scenarios: Some(pooled.scenarios()),
            probabilities: (!equal).then(|| pooled.probabilities().view()),
            reduction: self.reduction,
            mean_set: set.as_ref(),
        })
    }

    /// The moments with the covariance at its worst over the covariance
    /// box, where one is given (and the objective is about variance).
    fn worst_moments(&self, m: &Moments) -> Result<Option<Moments>> {
        let Some(set) = &self.cov_set else { return Ok(None) };
        let variance = matches!(
            self.objective,
            Objective::MinRisk { measure: RiskMeasure::Variance | RiskMeasure::StandardDeviation }
                | Objective::MeanRisk { measure: RiskMeasure::Variance | RiskMeasure::StandardDeviation, .. }
        );
        if !variance {
            return Err(Error::param(
                crate::parameter::Optimize::CovarianceUncertainty,
                format!(
                    "applies to variance and the standard deviation in minimum risk and the mean–risk objectives, not to {:?}",
                    self.objective
                ),
            ));
        }
        let long_only = self.constraints.resolve(m.assets())?.long_only();
        set.worst_case(m, long_only).map(Some)
    }

    /// The mean's uncertainty set checked against the moments, where the
    /// objective reads the mean.
    fn mean_set(&self, m: &Moments) -> Result<Option<uncertainty::Resolved>> {
        let Some(set) = &self.mean_set else { return Ok(None) };
        if !matches!(self.objective, Objective::MeanRisk { .. }) {
            return Err(Error::param(
                crate::parameter::Optimize::MeanUncertainty,
                format!(
                    "applies to objectives that read the mean (maximum ratio, utility, a target return, a risk cap), not to {:?}",
                    self.objective
                ),
            ));
        }
        set.resolve(m.n_assets()).map(Some)
    }

    fn solve_on(&self, x: &Inputs<'_>) -> Result<Allocation> {
        let c = self.constraints.resolve(x.moments.assets())?;
        let f = objective::formulation(&self.objective, x)?;
        let Some(rules) = &c.holdings else {
            let solved = f.solve(x, &c).map_err(|e| f.explain(e, x, &self.constraints))?;
            return self.allocate(f.as_ref(), x, &c, solved, &[]);
        };
        if matches!(self.objective, Objective::RiskBudget { .. }) {
            return Err(Error::param(
                crate::parameter::Optimize::MaxAssets,
                "risk budgets hold every asset; choose the assets first (pre-selection) and budget those",
            ));
        }
        let limits = self.limits;
        if !(limits.nodes >= 1 && limits.seconds > 0.0) {
            return Err(Error::param(
                crate::parameter::Optimize::SearchLimits,
                format!(
                    "need at least 1 node and a positive time, got {} nodes and {} s",
                    limits.nodes, limits.seconds
                ),
            ));
        }
        // The variance's perspective relaxation (and the indicators it
        // needs) applies where the program is not homogenised.
        let strengthen = self.cov_set.is_none()
            && matches!(
                self.objective,
                Objective::MinRisk { measure: RiskMeasure::Variance }
                    | Objective::MeanRisk {
                        measure: RiskMeasure::Variance,
                        goal: MeanRiskGoal::MaxUtility { .. } | MeanRiskGoal::MinRiskAtReturn { .. }
                    }
            );
        let diagonal = if strengthen { risk::diagonal_share(x.moments).map(std::sync::Arc::new) } else { None };
        let (best, search) = branch::search(&c, rules, limits, strengthen, diagonal, |node| match f.solve(x, node) {
            Ok(s) => {
                let weights = s.readout.weights(&s.solution.x).to_vec();
                Ok(Some(branch::Relaxed { weights, value: s.solution.objective, payload: s }))
            }
            Err(Error::Infeasible { .. }) => Ok(None),
            Err(Error::Solver { status, .. }) if status.is_infeasible() => Ok(None),
            Err(e) => Err(e),
        })?;
        let best = std::rc::Rc::try_unwrap(best).map_err(|_| Error::Solver {
            status: SolverStatus::NumericalError,
            message: "branch and bound kept a reference to its best node".into(),
        })?;
        // The assets the search left out hold exactly nothing (the solver
        // leaves them at rounding, ~1e-16).
        let out: Vec<usize> = (0..best.weights.len()).filter(|&i| best.weights[i].abs() <= branch::ZERO).collect();
        let mut a = self.allocate(f.as_ref(), x, &c, best.payload, &out)?;
        a.set_search(search);
        Ok(a)
    }

    /// The allocation of a solved formulation.
    fn allocate(
        &self,
        f: &dyn objective::Formulation,
        x: &Inputs<'_>,
        c: &Resolved,
        solved: objective::Solved,
        zero: &[usize],
    ) -> Result<Allocation> {
        let objective::Solved { solution: sol, readout, objective_is_risk } = solved;
        let mut a = finish(f.label(), x.moments, &sol, c, f.risk_free(), readout, zero)?;
        if let (true, Some(measure)) = (objective_is_risk, self.objective.measure()) {
            a.set_risk(measure, f.risk_name(), sol.objective);
        }
        if f.reports_worst_case() {
            a.set_worst_case(sol.objective);
        }
        Ok(a)
    }
}

/// The allocation of a solved program, with the weights `zero` set to 0,
/// refused if any weight is not finite.
fn finish(
    label: String,
    m: &Moments,
    sol: &problem::Solution,
    c: &Resolved,
    risk_free: f64,
    readout: Readout,
    zero: &[usize],
) -> Result<Allocation> {
    let mut w = readout.weights(&sol.x);
    for &i in zero {
        w[i] = 0.0;
    }
    if w.iter().any(|v| !v.is_finite()) {
        return Err(Error::Solver {
            status: SolverStatus::NumericalError,
            message: "the solution holds non-finite weights".into(),
        });
    }
    Ok(Allocation::new(
        label,
        m,
        w,
        risk_free,
        c.previous.clone(),
        if sol.newton {
            Provenance::Newton { steps: sol.iterations, residual: sol.tolerance, seconds: sol.seconds }
        } else {
            Provenance::Solver {
                status: sol.status,
                tolerance: sol.tolerance,
                iterations: sol.iterations,
                seconds: sol.seconds,
                finish: sol.finish,
            }
        },
    ))
}
