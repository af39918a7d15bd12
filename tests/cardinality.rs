//! Holding rules (at most K assets, in total and per group; a least
//! position when held) by branch and bound, against brute-force
//! enumeration of every admissible support on a small universe.

mod common;

use assetalloc::optimize::SearchStatus;
use assetalloc::parameter::Optimize as Param;
use assetalloc::prelude::*;

/// The first `n` S&P 500 assets over the last 750 days.
fn returns(n: usize) -> Returns {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(750).unwrap();
    let names: Vec<String> = r.assets()[..n].to_vec();
    r.select(&names).unwrap()
}

/// What each case minimises, computed from the allocation alone, so the
/// search and the enumeration are scored alike.
#[derive(Clone, Copy)]
enum Score {
    Variance,
    Cvar,
    NegSharpe,
}

impl Score {
    fn of(self, a: &Allocation) -> f64 {
        match self {
            Score::Variance => a.volatility().powi(2),
            Score::Cvar => a.risk().unwrap().1,
            Score::NegSharpe => -a.sharpe(),
        }
    }
}

/// The best score over every support of at most `k` assets (exactly `k`
/// when there is no threshold: a smaller support is one of its faces),
/// each held asset long, or either side where `lower` < 0, at least `t`
/// away from 0; `group` (members, most held) filters the supports.
#[allow(clippy::too_many_arguments)]
fn enumerate(
    opt: &Optimizer,
    base: &Constraints,
    r: &Returns,
    lower: f64,
    upper: f64,
    k: usize,
    t: f64,
    group: Option<(&[usize], usize)>,
    score: Score,
) -> (f64, usize) {
    let n = r.n_assets();
    let mut best = f64::INFINITY;
    let mut solved = 0;
    for mask in 1u32..(1 << n) {
        let size = mask.count_ones() as usize;
        if size > k || (t == 0.0 && size != k) {
            continue;
        }
        if let Some((members, most)) = group {
            if members.iter().filter(|&&i| mask >> i & 1 == 1).count() > most {
                continue;
            }
        }
        // Sign patterns: every subset of the support short, where shorts
        // are allowed and a threshold makes the side matter.
        let signs: Vec<u32> =
            if lower < 0.0 && t > 0.0 { (0..(1u32 << n)).filter(|s| s & !mask == 0).collect() } else { vec![0] };
        for short in signs {
            let (mut lo, mut hi) = (vec![0.0; n], vec![0.0; n]);
            for i in 0..n {
                if mask >> i & 1 == 1 {
                    if short >> i & 1 == 1 {
                        (lo[i], hi[i]) = (lower, -t);
                    } else if t > 0.0 {
                        (lo[i], hi[i]) = (t, upper);
                    } else {
                        (lo[i], hi[i]) = (lower, upper);
                    }
                }
            }
            if lo.iter().zip(&hi).any(|(l, h)| l > h) {
                continue;
            }
            let c = base.clone().asset_bounds(lo, hi);
            if let Ok(a) = opt.clone().constraints(c).solve_scenarios(r) {
                solved += 1;
                best = best.min(score.of(&a));
            }
        }
    }
    (best, solved)
}

/// Asserts the search proved its portfolio optimal, that it obeys the
/// rules, and that its score is the enumeration's to 1e-7 (relative).
#[allow(clippy::too_many_arguments)]
fn check(
    name: &str,
    opt: Optimizer,
    base: Constraints,
    rules: Constraints,
    r: &Returns,
    (lower, upper, k, t): (f64, f64, usize, f64),
    group: Option<(&[usize], usize)>,
    score: Score,
) {
    let a = opt.clone().constraints(rules).solve_scenarios(r).unwrap();
    let s = a.search().expect("a search ran");
    assert!(s.proven(), "{name}: {s}");
    let held: Vec<usize> = (0..r.n_assets()).filter(|&i| a.weights()[i].abs() > 1e-7).collect();
    assert!(held.len() <= k, "{name}: holds {held:?}");
    for &i in &held {
        assert!(a.weights()[i].abs() >= t - 1e-9, "{name}: weight {} below {t}", a.weights()[i]);
    }
    if let Some((members, most)) = group {
        assert!(held.iter().filter(|i| members.contains(i)).count() <= most, "{name}: group holds too many");
    }
    let (want, solved) = enumerate(&opt, &base, r, lower, upper, k, t, group, score);
    let got = score.of(&a);
    assert!(solved > 0, "{name}: no support solved");
    assert!(
        (got - want).abs() <= 1e-7 * want.abs(),
        "{name}: search {got} vs enumeration {want} ({solved} supports, {s})"
    );
}

#[test]
fn minimum_variance_with_three_assets_is_the_best_support() {
    let r = returns(12);
    let free = Optimizer::min_variance().solve_scenarios(&r).unwrap();
    let held = free.weights().iter().filter(|w| **w > 1e-7).count();
    assert!(held > 3, "the unconstrained minimum holds {held}, so the rule binds");
    let base = Constraints::long_only();
    let rules = base.clone().max_assets(3);
    check("min variance K=3", Optimizer::min_variance(), base, rules, &r, (0.0, 1.0, 3, 0.0), None, Score::Variance);
}

#[test]
fn minimum_cvar_with_a_buy_in_threshold_is_the_best_support() {
    let r = returns(12);
    let base = Constraints::long_only();
    let rules = base.clone().max_assets(4).min_position(0.15);
    let opt = Optimizer::min_cvar(0.95);
    check("min CVaR K=4, t=0.15", opt, base, rules, &r, (0.0, 1.0, 4, 0.15), None, Score::Cvar);
}

#[test]
fn maximum_sharpe_with_caps_and_three_assets_is_the_best_support() {
    let r = returns(12);
    let base = Constraints::long_only().bounds(0.0, 0.5);
    let rules = base.clone().max_assets(3);
    let opt = Optimizer::max_sharpe(0.0);
    check("max Sharpe K=3", opt, base, rules, &r, (0.0, 0.5, 3, 0.0), None, Score::NegSharpe);
}

#[test]
fn long_short_minimum_variance_with_thresholds_is_the_best_signed_support() {
    let r = returns(8);
    let base = Constraints::long_only().bounds(-0.3, 1.0).max_leverage(1.6);
    let rules = base.clone().max_assets(3).min_position(0.05);
    let opt = Optimizer::min_variance();
    check("long-short min variance K=3, t=0.05", opt, base, rules, &r, (-0.3, 1.0, 3, 0.05), None, Score::Variance);
}

#[test]
fn a_group_count_is_met_with_the_total_count_and_thresholds() {
    let r = returns(12);
    let members: Vec<String> = r.assets()[..6].to_vec();
    let base = Constraints::long_only().bounds(0.0, 0.4);
    let rules = base.clone().max_assets(4).group_max_assets("first six", &members, 1).min_position(0.05);
    let opt = Optimizer::min_variance();
    let group = [0usize, 1, 2, 3, 4, 5];
    check("group", opt, base, rules, &r, (0.0, 0.4, 4, 0.05), Some((&group, 1)), Score::Variance);
}

#[test]
fn a_node_limit_returns_the_best_found_marked_not_proven() {
    let r = returns(12);
    let opt = Optimizer::min_cvar(0.95).constraints(Constraints::long_only().max_assets(3).min_position(0.2));
    let full = opt.clone().solve_scenarios(&r).unwrap();
    let cut = opt.search_limits(1, 60.0).solve_scenarios(&r).unwrap();
    let s = cut.search().unwrap();
    assert_eq!(s.status(), SearchStatus::NodeLimit, "{s}");
    assert!(!s.proven() && s.nodes() == 1);
    assert!(s.bound() <= full.search().unwrap().value() + 1e-12, "the bound {s} is below the optimum");
    assert!(s.value() >= full.search().unwrap().value() - 1e-12);
    assert!(s.to_string().contains("NOT PROVEN"), "{s}");
    assert!(cut.weights().iter().filter(|w| w.abs() > 1e-7).count() <= 3);
}

#[test]
fn bad_holding_rules_are_typed_errors() {
    let r = returns(12);
    let e = |c: Constraints| Optimizer::min_variance().constraints(c).solve_scenarios(&r).unwrap_err();
    for k in [0, 13] {
        let err = e(Constraints::long_only().max_assets(k));
        assert!(err.is_invalid(Param::MaxAssets), "{err}");
        assert!(err.to_string().contains(&format!("got {k}")), "{err}");
    }
    let err = e(Constraints::long_only().bounds(0.0, 0.25).min_position(0.3));
    assert!(err.is_invalid(Param::MinPosition) && err.to_string().contains("0.3 exceeds"), "{err}");
    for t in [0.0, f64::NAN] {
        assert!(e(Constraints::long_only().min_position(t)).is_invalid(Param::MinPosition));
    }
    let err = e(Constraints::long_only().bounds(0.0, 0.3).max_assets(3));
    assert!(matches!(err, Error::Infeasible { .. }) && err.to_string().contains("0.9000"), "{err}");
    let names = [r.assets()[0].clone()];
    assert!(e(Constraints::long_only().group_max_assets("one", &names, 2)).is_invalid(Param::GroupMaxAssets));
    let err = e(Constraints::long_only().group_max_assets("x", &["NOPE"], 1));
    assert!(matches!(err, Error::UnknownAsset { .. }), "{err}");
    let err = Optimizer::risk_parity().constraints(Constraints::long_only().max_assets(3)).solve_scenarios(&r);
    assert!(err.unwrap_err().is_invalid(Param::MaxAssets));
    let err = Optimizer::min_variance()
        .constraints(Constraints::long_only().max_assets(3))
        .search_limits(0, 1.0)
        .solve_scenarios(&r)
        .unwrap_err();
    assert!(err.is_invalid(Param::SearchLimits), "{err}");
    let m = Moments::sample().fit(&r).unwrap();
    let err = Frontier::params().constraints(Constraints::long_only().max_assets(3)).solve(&m).unwrap_err();
    assert!(err.is_invalid(Param::Constraints) && err.to_string().contains("holding rules"), "{err}");
    // Every support breaks another constraint: the first six must weigh
    // 0.8 together, but at most one of them, capped at 0.5, may be held.
    let six: Vec<String> = r.assets()[..6].to_vec();
    let err =
        e(Constraints::long_only().bounds(0.0, 0.5).group("six", &six, 0.8, 1.0).group_max_assets("six", &six, 1));
    assert!(matches!(err, Error::Infeasible { .. }) && err.to_string().contains("holding rules"), "{err}");
}

/// A factored covariance's perspective form uses its specific variances:
/// the search equals enumeration on the factor model's moments, and
/// mean–variance takes the rules too.
#[test]
fn factored_moments_and_mean_variance_meet_the_rules_exactly() {
    use assetalloc::estimate::{Components, FactorModel};
    let r = returns(10);
    let model = FactorModel::pca(Components::Count(2)).fit(&r).unwrap();
    let m = model.moments();
    assert!(m.factored().is_some());
    for (name, opt) in [("min variance", Optimizer::min_variance()), ("mean-variance", Optimizer::mean_variance(50.0))]
    {
        let a = opt.clone().constraints(Constraints::long_only().max_assets(3)).solve(m).unwrap();
        let s = a.search().unwrap();
        assert!(s.proven(), "{name}: {s}");
        let score = |a: &Allocation| a.volatility().powi(2) * 25.0 - a.expected_return();
        let mut best = f64::INFINITY;
        for mask in 1u32..(1 << 10) {
            if mask.count_ones() != 3 {
                continue;
            }
            let upper: Vec<f64> = (0..10).map(|i| if mask >> i & 1 == 1 { 1.0 } else { 0.0 }).collect();
            let c = Constraints::long_only().asset_bounds(vec![0.0; 10], upper);
            if let Ok(b) = opt.clone().constraints(c).solve(m) {
                best = best.min(if name == "min variance" { b.volatility().powi(2) } else { score(&b) });
            }
        }
        let got = if name == "min variance" { a.volatility().powi(2) } else { score(&a) };
        assert!((got - best).abs() <= 1e-7 * best.abs(), "{name}: search {got} vs enumeration {best}");
    }
}

/// Cardinality-10 and -4 minimum CVaR on all 8,312 days: never worse than
/// skfolio's mixed-integer program on HiGHS (tools/reference/cardinality.py),
/// and equal to it (1e-9 relative; the weights to 1e-6).
#[test]
fn minimum_cvar_with_few_assets_is_skfolios_milp_optimum() {
    let fx = common::fixture("cardinality_reference.json");
    let r = common::sp500_sample(&fx);
    let measure = RiskMeasure::Cvar { beta: 0.95 };
    for case in fx["cases"].as_array().unwrap() {
        let k = case["k"].as_u64().unwrap() as usize;
        let a =
            Optimizer::min_cvar(0.95).constraints(Constraints::long_only().max_assets(k)).solve_scenarios(&r).unwrap();
        assert!(a.search().unwrap().proven(), "K = {k}: {}", a.search().unwrap());
        let theirs = common::floats(&case["weights"]);
        let value = |w: &ndarray::Array1<f64>| measure.of(&r.values().dot(w).to_vec());
        let (ours, want) = (value(a.weights()), value(&theirs));
        assert!((want - case["cvar"].as_f64().unwrap()).abs() < 1e-12, "the measure is the fixture's");
        assert!(ours <= want * (1.0 + 1e-9), "K = {k}: ours {ours} vs skfolio {want}");
        let diff = (a.weights() - &theirs).mapv(f64::abs).fold(0.0f64, |m, v| m.max(*v));
        assert!(diff < 1e-6, "K = {k}: weights differ by {diff:e}");
    }
}
