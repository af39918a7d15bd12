//! Minimum-risk portfolios for every scenario risk measure: the optimiser's
//! value equals the measure computed directly on the optimal portfolio's
//! returns, no random long-only portfolio does better, and bad settings are
//! refused with typed errors.
#![cfg(feature = "optimize")]

mod common;

use assetalloc::optimize::{Finish, Provenance};
use assetalloc::parameter;
use assetalloc::prelude::*;
use ndarray::Array1;
use rand::{Rng, SeedableRng};

const MEASURES: [RiskMeasure; 16] = [
    RiskMeasure::MeanAbsoluteDeviation,
    RiskMeasure::SemiDeviation,
    RiskMeasure::FirstLowerPartialMoment,
    RiskMeasure::Cvar { beta: 0.95 },
    RiskMeasure::Evar { beta: 0.95 },
    RiskMeasure::WorstRealization,
    RiskMeasure::MaxDrawdown,
    RiskMeasure::AverageDrawdown,
    RiskMeasure::Cdar { beta: 0.95 },
    RiskMeasure::UlcerIndex,
    RiskMeasure::Edar { beta: 0.95 },
    RiskMeasure::SemiVariance,
    RiskMeasure::Flpm { mar: 0.0003 },
    RiskMeasure::Slpm { mar: 0.0003 },
    RiskMeasure::Rlvar { beta: 0.95, kappa: 0.3 },
    RiskMeasure::Rldar { beta: 0.95, kappa: 0.3 },
];

fn returns() -> Returns {
    datasets::sp500().unwrap().tail(1001).unwrap().returns(ReturnKind::Simple).unwrap()
}

fn portfolio(r: &Returns, w: &Array1<f64>) -> Vec<f64> {
    r.values().dot(w).to_vec()
}

#[test]
fn every_measure_reports_its_own_value_and_nothing_random_beats_it() {
    let r = returns();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let random: Vec<Array1<f64>> = (0..200)
        .map(|_| {
            let x: Array1<f64> = (0..r.n_assets()).map(|_| -rng.gen::<f64>().ln()).collect();
            let s = x.sum();
            x / s
        })
        .collect();
    for m in MEASURES {
        let a = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
        let w = a.weights();
        assert!((w.sum() - 1.0).abs() < 1e-8 && w.iter().all(|v| *v > -1e-8), "{m:?}: {w}");
        let (_, reported) = a.risk().unwrap();
        let direct = m.of(&portfolio(&r, w));
        assert!((reported - direct).abs() <= 1e-8, "{m:?}: solver {reported} vs direct {direct} ({})", a.provenance());
        let best_random = random.iter().map(|x| m.of(&portfolio(&r, x))).fold(f64::INFINITY, f64::min);
        assert!(direct <= best_random + 1e-12, "{m:?}: optimum {direct} vs a random portfolio's {best_random}");
        let one_asset = (0..r.n_assets()).map(|j| m.of(&r.values().column(j).to_vec())).fold(f64::INFINITY, f64::min);
        assert!(direct <= one_asset + 1e-12, "{m:?}: optimum {direct} vs the best single asset's {one_asset}");
    }
}

#[test]
fn min_risk_cvar_equals_min_cvar_and_variance_is_min_variance() {
    let r = returns();
    let a = Optimizer::min_risk(RiskMeasure::Cvar { beta: 0.95 }).solve_scenarios(&r).unwrap();
    let b = Optimizer::min_cvar(0.95).solve_scenarios(&r).unwrap();
    assert!((a.weights() - b.weights()).mapv(f64::abs).sum() < 1e-9);
    assert_eq!(a.cvar(), b.cvar());
    let m = Moments::sample().fit(&r).unwrap();
    let v = Optimizer::min_risk(RiskMeasure::Variance).solve(&m).unwrap();
    let mv = Optimizer::min_variance().solve(&m).unwrap();
    assert_eq!(v.weights(), mv.weights());
}

#[test]
fn drawdown_measures_follow_the_uncompounded_definition() {
    // Cumulative 0.1, 0.05, 0.15, −0.05, 0.0: peaks 0.1, 0.1, 0.15, 0.15, 0.15.
    let p = [0.1, -0.05, 0.1, -0.2, 0.05];
    let dd = [0.0, 0.05, 0.0, 0.2, 0.15];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(RiskMeasure::MaxDrawdown.of(&p), 0.2));
    assert!(close(RiskMeasure::AverageDrawdown.of(&p), dd.iter().sum::<f64>() / 5.0));
    assert!(close(RiskMeasure::UlcerIndex.of(&p), (dd.iter().map(|d| d * d).sum::<f64>() / 5.0).sqrt()));
    // CDaR at 60 %: the mean of the worst 40 % (two of five) drawdowns.
    assert!(close(RiskMeasure::Cdar { beta: 0.6 }.of(&p), (0.2 + 0.15) / 2.0));
    // A fall from the start counts: the start is a peak.
    assert!(close(RiskMeasure::MaxDrawdown.of(&[-0.1, 0.05]), 0.1));
    assert!(close(RiskMeasure::WorstRealization.of(&p), 0.2));
    // EDaR at 60 %: min over z of z ln(Σ e^{d/z} / (0.4·5)), by a grid over
    // ln z (an upper bound on the minimum, close to it); between CDaR and
    // the maximum drawdown.
    let edar = RiskMeasure::Edar { beta: 0.6 }.of(&p);
    let grid = (0..200_001)
        .map(|k| (-12.0 + 16.0 * k as f64 / 200_000.0f64).exp())
        .map(|z| z * (dd.iter().map(|d| (d / z).exp()).sum::<f64>() / 2.0).ln())
        .fold(f64::INFINITY, f64::min);
    assert!(edar <= grid + 1e-15 && grid - edar < 1e-9, "EDaR {edar} vs grid {grid}");
    assert!(edar > (0.2 + 0.15) / 2.0 && edar < 0.2, "{edar}");
}

#[test]
fn bad_settings_are_named() {
    let r = returns();
    for beta in [0.0, 1.0, -0.5, f64::NAN] {
        for m in [RiskMeasure::Cvar { beta }, RiskMeasure::Cdar { beta }] {
            assert!(
                Optimizer::min_risk(m).solve_scenarios(&r).unwrap_err().is_invalid(parameter::Optimize::Beta),
                "{m:?}"
            );
        }
    }
    let m = Moments::sample().fit(&r).unwrap();
    assert!(Optimizer::min_risk(RiskMeasure::MaxDrawdown)
        .solve(&m)
        .unwrap_err()
        .is_invalid(parameter::Optimize::MinRisk));
    for name in RiskMeasure::NAMES {
        assert!(RiskMeasure::from_name(name, 0.05).is_ok(), "{name}");
    }
    assert_eq!(RiskMeasure::from_name("cdar", 0.05).unwrap(), RiskMeasure::Cdar { beta: 0.95 });
    assert!(RiskMeasure::from_name("value-at-risk", 0.05).unwrap_err().is_invalid(parameter::Optimize::Measure));
    for alpha in [0.0, 1.0, f64::NAN] {
        assert!(RiskMeasure::from_name("cvar", alpha).unwrap_err().is_invalid(parameter::Optimize::Alpha));
    }
    // A minimum acceptable return: finite, and only for a lower partial moment.
    assert_eq!(RiskMeasure::SemiDeviation.with_mar(0.001).unwrap(), RiskMeasure::Slpm { mar: 0.001 });
    assert!(RiskMeasure::Slpm { mar: 0.0 }.with_mar(f64::NAN).unwrap_err().is_invalid(parameter::Optimize::Mar));
    assert!(RiskMeasure::Cvar { beta: 0.95 }.with_mar(0.0).unwrap_err().is_invalid(parameter::Optimize::Mar));
    // Semi-variance has no linear epigraph to cap.
    let e = Optimizer::max_return_at_risk(RiskMeasure::SemiVariance, 1e-4).solve_scenarios(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::Measure), "{e}");
    let few = r.tail(50).unwrap();
    let e = Optimizer::min_risk(RiskMeasure::Cvar { beta: 0.99 }).solve_scenarios(&few).unwrap_err();
    assert!(matches!(e, Error::TooFewRows { needed: 100, got: 50, .. }), "{e}");
}

/// skfolio's MeanRisk(MINIMIZE_RISK) on all 8,312 S&P 500 returns
/// (tools/reference/risk_measures.py): the same weights within 1e-4 and the
/// same minimum within 1e-6 (relative). Where skfolio flags its own
/// solution as inaccurate, ours must be at least as good.
#[test]
fn minimum_risk_matches_skfolio() {
    let fx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/risk_measures_reference.json").unwrap()).unwrap();
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    assert_eq!(r.len() as u64, fx["rows"].as_u64().unwrap());
    let names: Vec<&str> = fx["assets"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(r.assets(), names.as_slice());
    let by_name = [
        ("mad", RiskMeasure::MeanAbsoluteDeviation),
        ("semi-deviation", RiskMeasure::SemiDeviation),
        ("flpm", RiskMeasure::FirstLowerPartialMoment),
        ("cvar", RiskMeasure::Cvar { beta: 0.95 }),
        ("evar", RiskMeasure::Evar { beta: 0.95 }),
        ("worst", RiskMeasure::WorstRealization),
        ("max-drawdown", RiskMeasure::MaxDrawdown),
        ("average-drawdown", RiskMeasure::AverageDrawdown),
        ("cdar", RiskMeasure::Cdar { beta: 0.95 }),
        ("ulcer", RiskMeasure::UlcerIndex),
        ("edar", RiskMeasure::Edar { beta: 0.95 }),
        ("semi-variance", RiskMeasure::SemiVariance),
    ];
    for (name, m) in by_name {
        let want = &fx["measures"][name];
        let theirs: Array1<f64> = want["weights"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        // EDaR's on the last 2,000 days (the script says why).
        let r = r.tail(want["rows"].as_u64().unwrap() as usize).unwrap();
        let a = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
        let ours = m.of(&portfolio(&r, a.weights()));
        let their_value = m.of(&portfolio(&r, &theirs));
        assert!(
            (their_value - want["value"].as_f64().unwrap()).abs() <= 1e-9 * their_value,
            "{name}: our measure of skfolio's weights {their_value} vs skfolio's {}",
            want["value"]
        );
        let dw = (a.weights() - &theirs).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
        let rel = (ours - their_value) / their_value;
        println!("{name:18} max |Δw| {dw:.1e}  value {ours:.10} vs {their_value:.10} ({rel:+.1e})");
        assert!(rel <= 1e-6, "{name}: our minimum {ours} is above skfolio's {their_value}");
        // skfolio's answers are interior points, a tolerance short of the
        // optimum (ours is no worse in value, asserted above; the exact
        // vertices are checked against HiGHS below): measured at most
        // 5.0e-6 (EVaR), 3.0e-6 (semideviation), 1e-7 elsewhere.
        if rel > -1e-6 {
            assert!(dw < 1e-5, "{name}: same minimum, weights apart by {dw}");
        }
    }
}

/// Minimum EDaR on all 8,312 days, where skfolio's program is flagged
/// inaccurate: held to the drawdowns' recursion program in cvxpy and
/// Clarabel at 1e-10 (tools/reference/risk_measures.py). Ours comes from
/// the chain of candidate peaks; its value is never above the
/// reference's (measured: 7.2e-8 below, relative) and the weights are
/// within 1e-5 (measured: 7.2e-6).
#[test]
fn edar_minimum_on_all_days_matches_the_reference() {
    let fx = common::fixture("risk_measures_reference.json");
    let want = &fx["edar_all_days"];
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    assert_eq!(r.len() as u64, want["rows"].as_u64().unwrap());
    let m = RiskMeasure::Edar { beta: 0.95 };
    let a = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
    let theirs = common::floats(&want["weights"]);
    let ours = m.of(&portfolio(&r, a.weights()));
    let their_value = want["value"].as_f64().unwrap();
    let rel = (ours - their_value) / their_value;
    let dw = common::max_diff(a.weights().as_slice().unwrap(), theirs.as_slice().unwrap());
    println!(
        "EDaR on {} days: max |Δw| {dw:.1e}, value {ours:.10} vs {their_value:.10} ({rel:+.1e}); {}, {:?}",
        r.len(),
        a.provenance(),
        a.risk()
    );
    assert!(rel <= 1e-9, "our minimum {ours} is above the reference's {their_value}");
    // The last chain's program meets Clarabel's 1e-8, not 1e-10: the value
    // it reports is 5.0e-7 below the measure of its weights (relative).
    assert!((a.risk().unwrap().1 / ours - 1.0).abs() < 1e-6, "the solver's value {:?} vs {ours}", a.risk());
    assert!(dw < 1e-5, "weights apart by {dw}");
}

fn random_portfolios(n: usize, count: usize, seed: u64) -> Vec<Array1<f64>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let x: Array1<f64> = (0..n).map(|_| -rng.gen::<f64>().ln()).collect();
            let s = x.sum();
            x / s
        })
        .collect()
}

#[test]
fn mean_risk_objectives_beat_every_feasible_alternative() {
    let r = returns();
    let mu = r.values().mean_axis(ndarray::Axis(0)).unwrap();
    let others = random_portfolios(r.n_assets(), 300, 5);
    for m in [
        RiskMeasure::Cvar { beta: 0.95 },
        RiskMeasure::Cdar { beta: 0.95 },
        RiskMeasure::MeanAbsoluteDeviation,
        RiskMeasure::UlcerIndex,
        RiskMeasure::Edar { beta: 0.95 },
        RiskMeasure::Slpm { mar: 0.0003 },
    ] {
        let risk = |w: &Array1<f64>| m.of(&portfolio(&r, w));
        // Maximum ratio: no random portfolio, and not the minimum-risk one, has a higher ratio.
        let best = Optimizer::max_ratio(m, 0.0).solve_scenarios(&r).unwrap();
        let ratio = |w: &Array1<f64>| mu.dot(w) / risk(w);
        let top = ratio(best.weights());
        let min_risk = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
        assert!(top >= ratio(min_risk.weights()) - 1e-9, "{m:?}");
        for w in &others {
            assert!(top >= ratio(w) - 1e-9, "{m:?}: a random portfolio's ratio {} beats {top}", ratio(w));
        }
        // Maximum utility at λ = 2.
        let u = Optimizer::max_utility(m, 2.0).solve_scenarios(&r).unwrap();
        let utility = |w: &Array1<f64>| mu.dot(w) - 2.0 * risk(w);
        for w in others.iter().chain([min_risk.weights(), best.weights()]) {
            assert!(utility(u.weights()) >= utility(w) - 1e-10, "{m:?}");
        }
        // Minimum risk at a target return halfway to the best asset's: the target binds.
        let target = 0.5 * (mu.dot(min_risk.weights()) + mu.iter().cloned().fold(f64::MIN, f64::max));
        let at = Optimizer::min_risk_at_return(m, target).solve_scenarios(&r).unwrap();
        assert!(
            (mu.dot(at.weights()) - target).abs() < 1e-8,
            "{m:?}: return {} vs target {target}",
            mu.dot(at.weights())
        );
        assert!((at.risk().unwrap().1 - risk(at.weights())).abs() < 1e-8);
        for w in others.iter().filter(|w| mu.dot(*w) >= target) {
            assert!(risk(at.weights()) <= risk(w) + 1e-10, "{m:?}");
        }
        // Maximum return under a cap halfway between the minimum and the target portfolio's risk: the cap binds.
        let cap = 0.5 * (risk(min_risk.weights()) + risk(at.weights()));
        let capped = Optimizer::max_return_at_risk(m, cap).solve_scenarios(&r).unwrap();
        // Binding up to the interior-point tolerance (the Ulcer index is a cone).
        assert!((risk(capped.weights()) - cap).abs() < 1e-7, "{m:?}: risk {} vs cap {cap}", risk(capped.weights()));
        for w in others.iter().filter(|w| risk(w) <= cap) {
            assert!(mu.dot(capped.weights()) >= mu.dot(w) - 1e-10, "{m:?}");
        }
    }
}

#[test]
fn mean_risk_with_variance_is_the_classic_problem_and_bad_targets_are_named() {
    let r = returns();
    let m = Moments::sample().fit(&r).unwrap();
    let a = Optimizer::max_ratio(RiskMeasure::Variance, 0.0).solve(&m).unwrap();
    let b = Optimizer::max_sharpe(0.0).solve(&m).unwrap();
    assert_eq!(a.weights(), b.weights());
    let e = Optimizer::min_risk_at_return(RiskMeasure::Cdar { beta: 0.95 }, 1.0).solve_scenarios(&r).unwrap_err();
    assert!(matches!(e, Error::Infeasible { ref constraint, .. } if constraint == "target return"), "{e}");
    let e = Optimizer::max_return_at_risk(RiskMeasure::MaxDrawdown, 1e-6).solve_scenarios(&r).unwrap_err();
    assert!(matches!(e, Error::Infeasible { ref constraint, .. } if constraint == "risk cap"), "{e}");
    let e = Optimizer::max_return_at_risk(RiskMeasure::MaxDrawdown, -1.0).solve_scenarios(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::RiskCap), "{e}");
    let e = Optimizer::max_utility(RiskMeasure::Cvar { beta: 0.95 }, f64::NAN).solve_scenarios(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::RiskAversion), "{e}");
}

/// skfolio's minimum first and second lower partial moments below a
/// minimum acceptable return (same fixture): ours no worse within 1e-6
/// (relative), the weights within 1e-5; and its value at risk and drawdown
/// at risk of a portfolio's returns, to the last digit.
#[test]
fn lower_partial_moments_and_quantiles_match_skfolio() {
    let fx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/risk_measures_reference.json").unwrap()).unwrap();
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let mar = fx["mar"]["mar"].as_f64().unwrap();
    for name in ["flpm", "slpm"] {
        let m = RiskMeasure::from_name(name, 0.05).unwrap().with_mar(mar).unwrap();
        let want = &fx["mar"][name];
        let theirs: Array1<f64> = want["weights"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let their_value = m.of(&portfolio(&r, &theirs));
        assert!((their_value / want["value"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{name}: {their_value}");
        let a = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
        let ours = m.of(&portfolio(&r, a.weights()));
        let dw = (a.weights() - &theirs).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
        println!("{name} below {mar}: max |Δw| {dw:.1e}, value {ours:.10} vs {their_value:.10}");
        assert!(ours <= their_value * (1.0 + 1e-6), "{name}: {ours} above skfolio's {their_value}");
        assert!(dw < 1e-5, "{name}: weights apart by {dw}");
    }
    let cvar: Array1<f64> =
        fx["measures"]["cvar"]["weights"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let p = portfolio(&r, &cvar);
    for q in fx["quantiles"].as_array().unwrap() {
        let rows = q["rows"].as_u64().unwrap() as usize;
        let beta = q["beta"].as_f64().unwrap();
        let var = RiskMeasure::ValueAtRisk { beta }.of(&p[..rows]);
        let dar = RiskMeasure::DrawdownAtRisk { beta }.of(&p[..rows]);
        assert_eq!(var, q["var"].as_f64().unwrap(), "VaR on {rows} rows");
        assert!((dar - q["dar"].as_f64().unwrap()).abs() < 1e-15, "DaR on {rows} rows: {dar} vs {}", q["dar"]);
    }
    // Neither is convex: an optimiser asked for them names the measure.
    for m in [RiskMeasure::ValueAtRisk { beta: 0.95 }, RiskMeasure::DrawdownAtRisk { beta: 0.95 }] {
        let e = Optimizer::min_risk(m).solve_scenarios(&r).unwrap_err();
        assert!(e.is_invalid(parameter::Optimize::Measure), "{e}");
    }
}

/// skfolio's maximum ratio and minimum risk at a target return for
/// variance, CVaR and CDaR, and the maximum ratio for EDaR (same fixture;
/// skfolio's EDaR solve at a target fails at its tight tolerances): judged by the objective each
/// solves, ours at least as good within 1e-6 (relative), and the weights
/// within 1e-4 where the optimum is the same.
#[test]
fn max_ratio_and_target_return_match_skfolio() {
    let fx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/risk_measures_reference.json").unwrap()).unwrap();
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let m = Moments::sample().fit(&r).unwrap();
    let mu = m.mean().clone();
    let weights =
        |v: &serde_json::Value| -> Array1<f64> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
    for (name, measure) in [
        ("variance", RiskMeasure::Variance),
        ("cvar", RiskMeasure::Cvar { beta: 0.95 }),
        ("cdar", RiskMeasure::Cdar { beta: 0.95 }),
        ("edar", RiskMeasure::Edar { beta: 0.95 }),
    ] {
        let risk = |w: &Array1<f64>| match measure {
            RiskMeasure::Variance => w.dot(&m.cov().dot(w)).sqrt(),
            _ => measure.of(&portfolio(&r, w)),
        };
        let solve = |o: Optimizer| if measure == RiskMeasure::Variance { o.solve(&m) } else { o.solve_scenarios(&r) };
        // Maximum ratio (for variance, the Sharpe ratio: mean over volatility).
        let ours = solve(Optimizer::max_ratio(measure, 0.0)).unwrap();
        let theirs = weights(&fx["ratio"][name]);
        let ratio = |w: &Array1<f64>| mu.dot(w) / risk(w);
        let (a, b) = (ratio(ours.weights()), ratio(&theirs));
        let dw = (ours.weights() - &theirs).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
        println!("{name:9} max ratio  {a:.10} vs {b:.10}, max |Δw| {dw:.1e}, {}", ours.provenance());
        assert!(a >= b * (1.0 - 1e-6), "{name}: our ratio {a} below skfolio's {b}");
        // skfolio's answer is an interior point too (measured: 5.5e-6 from
        // our active-set answer for variance, 2.1e-9 or less for the
        // linear measures); the exact vertex is checked in
        // max_ratio_for_linear_measures_is_the_exact_vertex.
        assert!(dw < 1e-5, "{name}: weights apart by {dw}");
        if fx["target"][name].is_null() {
            continue;
        }
        // Minimum risk at a target mean return.
        let target = fx["target"][name]["target"].as_f64().unwrap();
        let theirs = weights(&fx["target"][name]["weights"]);
        let ours = solve(Optimizer::min_risk_at_return(measure, target)).unwrap();
        let (a, b) = (risk(ours.weights()), risk(&theirs));
        let dw = (ours.weights() - &theirs).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
        println!("{name:9} at target  {a:.10} vs {b:.10}, max |Δw| {dw:.1e}");
        assert!(mu.dot(ours.weights()) >= target - 1e-10);
        assert!(a <= b * (1.0 + 1e-6), "{name}: our risk {a} above skfolio's {b}");
        // Measured at most 6.1e-7 (variance), as above.
        assert!(dw < 1e-5, "{name}: weights apart by {dw}");
    }
}

#[test]
fn frontiers_for_scenario_measures() {
    let r = returns();
    let mu = r.values().mean_axis(ndarray::Axis(0)).unwrap();
    for m in [RiskMeasure::Cvar { beta: 0.95 }, RiskMeasure::Cdar { beta: 0.95 }] {
        let f = Frontier::params().points(8).measure(m).solve_scenarios(&r).unwrap();
        assert_eq!(f.points.len(), 8);
        let risk = |a: &Allocation| a.risk().unwrap().1;
        let floor = risk(&f.min_variance);
        let best = f.max_sharpe.as_ref().expect("a maximum ratio portfolio");
        let best_ratio = mu.dot(best.weights()) / risk(best);
        let mut last_mean = f64::NEG_INFINITY;
        for a in &f.points {
            let mean = mu.dot(a.weights());
            assert!(
                mean > last_mean - 1e-12 && risk(a) >= floor - 1e-10,
                "{m:?}: mean {mean} after {last_mean}, risk {} vs floor {floor}",
                risk(a)
            );
            last_mean = mean;
            assert!((risk(a) - m.of(&portfolio(&r, a.weights()))).abs() < 1e-8, "{m:?}: the point's reported risk");
            assert!(mean / risk(a) <= best_ratio + 1e-9, "{m:?}: a frontier point beats the maximum ratio");
        }
        // The points span the means from the minimum-risk portfolio's to the best asset's.
        let top = mu.iter().cloned().fold(f64::MIN, f64::max);
        let first = mu.dot(f.points[0].weights());
        assert!(
            (mu.dot(f.points[7].weights()) - top).abs() < 1e-6 * top.abs(),
            "{m:?}: the last point reaches the top"
        );
        assert!((first - mu.dot(f.min_variance.weights())).abs() < 1e-9, "{m:?}");
        for (i, a) in f.points.iter().enumerate() {
            let want = first + (top - first) * i as f64 / 7.0;
            assert!((mu.dot(a.weights()) - want).abs() < 1e-6 * top.abs(), "{m:?}: point {i} misses its target");
        }
        // A point equals the minimum risk at its target, solved on its own.
        let k = 5;
        let target = mu.dot(f.points[k].weights());
        let alone = Optimizer::min_risk_at_return(m, target - 1e-12).solve_scenarios(&r).unwrap();
        assert!((risk(&alone) - risk(&f.points[k])).abs() < 1e-8, "{m:?}");
        assert!(f.to_html().contains("Mean–") && f.plot_frontier().to_json().contains("in-sample scenarios"));
    }
    let e =
        Frontier::params().measure(RiskMeasure::MaxDrawdown).solve(&Moments::sample().fit(&r).unwrap()).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::MinRisk), "{e}");
}

#[test]
fn standard_deviation_is_the_classic_problem_through_a_cone() {
    let r = returns();
    let m = Moments::sample().fit(&r).unwrap();
    let close =
        |a: &Allocation, b: &Allocation| (a.weights() - b.weights()).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
    // The standard deviation goes through a second-order cone and is not
    // finished on an active set as the variance is: its weights are an
    // interior point's, measured 1.4e-8 from minimum variance's and 1.4e-6
    // from the maximum Sharpe ratio's (whose optimum is flatter).
    let sd = Optimizer::min_risk(RiskMeasure::StandardDeviation).solve(&m).unwrap();
    let mv = Optimizer::min_variance().solve(&m).unwrap();
    assert!(close(&sd, &mv) < 1e-7, "{}", close(&sd, &mv));
    assert!((sd.risk().unwrap().1 - mv.volatility()).abs() < 1e-9);
    let ratio = Optimizer::max_ratio(RiskMeasure::StandardDeviation, 0.0).solve(&m).unwrap();
    let sharpe = Optimizer::max_sharpe(0.0).solve(&m).unwrap();
    assert!(close(&ratio, &sharpe) < 1e-5, "{}", close(&ratio, &sharpe));
    assert!((ratio.sharpe() - sharpe.sharpe()).abs() < 1e-9 * sharpe.sharpe().abs());
    // Risk parity is not flat: both are solved by Newton's method to the
    // budgets' exact equality.
    let parity = Optimizer::risk_budgeting_for(RiskMeasure::StandardDeviation, None).solve(&m).unwrap();
    let classic = Optimizer::risk_parity().solve(&m).unwrap();
    assert!(close(&parity, &classic) < 1e-12, "{}", close(&parity, &classic));
    // A volatility cap (per period) binds.
    let cap = 1.2 * mv.volatility();
    let capped = Optimizer::max_return_at_risk(RiskMeasure::StandardDeviation, cap).solve(&m).unwrap();
    assert!((capped.volatility() - cap).abs() < 1e-9, "{} vs {cap}", capped.volatility());
}

#[test]
fn cvar_risk_budgets_are_met_by_euler_contributions() {
    let r = returns();
    let beta = 0.95;
    let budgets = vec![2.0; 5].into_iter().chain(vec![1.0; 15]).collect::<Vec<f64>>();
    let total: f64 = budgets.iter().sum();
    let a =
        Optimizer::risk_budgeting_for(RiskMeasure::Cvar { beta }, Some(budgets.clone())).solve_scenarios(&r).unwrap();
    let w = a.weights();
    assert!((w.sum() - 1.0).abs() < 1e-9 && w.iter().all(|v| *v > 0.0));
    for (i, share) in cvar_shares(&r, w, beta).into_iter().enumerate() {
        assert!((share - budgets[i] / total).abs() < 1e-4, "asset {i}: share {share} vs budget {}", budgets[i] / total);
    }
}

/// Contributions sum to the measure (half the Euler sum for variance), and
/// bad input is named.
#[test]
fn contributions_sum_to_the_measure_and_bad_input_is_named() {
    let r = returns();
    let w = Array1::from_elem(20, 0.05);
    for m in MEASURES.into_iter().chain([RiskMeasure::Variance, RiskMeasure::StandardDeviation]) {
        let c = m.contributions(r.values(), w.view()).unwrap();
        let rho = m.of(&portfolio(&r, &w));
        // Exact for measures smooth at 1/N; a kink within the difference
        // step moves the sum by a step's share of one scenario.
        assert!((c.sum() - rho).abs() < 1e-6 * rho.abs(), "{m:?}: {} vs {rho}", c.sum());
    }
    let short = Array1::from_elem(3, 1.0 / 3.0);
    assert!(matches!(RiskMeasure::Cvar { beta: 0.95 }.contributions(r.values(), short.view()), Err(Error::Shape(_))));
    let mut nan = w.clone();
    nan[4] = f64::NAN;
    let e = RiskMeasure::MeanAbsoluteDeviation.contributions(r.values(), nan.view()).unwrap_err();
    assert!(e.to_string().contains("weight 4 is NaN"), "{e}");
}

/// Each asset's share of the CVaR at `beta` of the weights `w`, from the
/// Euler contribution $w_i\,\partial\mathrm{CVaR}/\partial w_i$ with the
/// sorted tail's subgradient: the mean of $-r_i$ over the worst
/// $(1-\beta)S$ scenarios (the boundary one in part).
fn cvar_shares(r: &Returns, w: &Array1<f64>, beta: f64) -> Vec<f64> {
    let p = portfolio(r, w);
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let k = (1.0 - beta) * p.len() as f64;
    let whole = k.floor() as usize;
    let x = r.values();
    let cvar = RiskMeasure::Cvar { beta }.of(&p);
    (0..w.len())
        .map(|i| {
            let mut g: f64 = order[..whole].iter().map(|&s| -x[[s, i]]).sum();
            g += (k - whole as f64) * -x[[order[whole], i]];
            w[i] * g / k / cvar
        })
        .collect()
}

/// Minimum risk goes through the scenario reduction (`risk::reduce`) for
/// the piecewise-linear measures, the chain of candidate peaks
/// (`risk::peaks`) for the average drawdown and the Ulcer index, and
/// sequential quadratic programs for EVaR and RLVaR (`risk::sqp`);
/// `Reduction::Off` solves the same problem on the full epigraph. On the
/// whole S&P 500 panel (8,312 scenarios)
/// and its last 1,000, long-only and then with 0–15 % bounds, a group cap,
/// a previous portfolio, a turnover cap and costs, the reduced value is not
/// above the full one's (to the solver's accuracy), the reported value is
/// the measure of the realised returns (plus the costs), and the weights
/// agree (to 1e-9 where both are finished at the vertex). (The last 1,000 caught a trust region that bound
/// unnoticed: a CVaR 9e-6 and a semi-deviation 9e-4 above the minimum.)
#[test]
fn reduced_minimum_risk_equals_the_full_epigraph() {
    for r in [datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap(), returns()] {
        reduced_equals_full(&r);
    }
}

fn reduced_equals_full(r: &Returns) {
    let r = r.clone();
    let n = r.n_assets();
    let assets = r.assets().to_vec();
    let mut previous = vec![0.0; n];
    previous[0] = 0.5;
    previous[1] = 0.5;
    let constrained = Constraints::long_only()
        .bounds(0.0, 0.15)
        .group("first five", &assets[..5], 0.0, 0.3)
        .previous(previous)
        .max_turnover(1.6)
        .cost_bps(10.0);
    for constraints in [Constraints::long_only(), constrained] {
        for m in [
            RiskMeasure::MeanAbsoluteDeviation,
            RiskMeasure::SemiDeviation,
            RiskMeasure::FirstLowerPartialMoment,
            RiskMeasure::Cvar { beta: 0.95 },
            RiskMeasure::WorstRealization,
            RiskMeasure::MaxDrawdown,
            RiskMeasure::Cdar { beta: 0.95 },
            RiskMeasure::AverageDrawdown,
            RiskMeasure::UlcerIndex,
            RiskMeasure::Flpm { mar: 0.0003 },
            RiskMeasure::Slpm { mar: 0.0003 },
            RiskMeasure::Evar { beta: 0.95 },
            RiskMeasure::Rlvar { beta: 0.95, kappa: 0.3 },
        ] {
            // RLVaR's power-cone program takes 4.4 s on all 8,312 days and
            // stops short (InsufficientProgress) under the constraints: it
            // is compared on the last 1,000.
            if matches!(m, RiskMeasure::Rlvar { .. }) && r.len() > 1000 {
                continue;
            }
            let reduced = Optimizer::min_risk(m).constraints(constraints.clone()).solve_scenarios(&r).unwrap();
            let full = Optimizer::min_risk(m)
                .reduction(Reduction::Off)
                .constraints(constraints.clone())
                .solve_scenarios(&r)
                .unwrap();
            let value = |a: &Allocation| m.of(&portfolio(&r, a.weights()));
            let (a, b) = (value(&reduced), value(&full));
            // Both solves are exact to the tolerance Clarabel reached (1e-10,
            // or its default 1e-8 when it stops just short): 10 times that.
            // Both values are the measure of realised weights, so neither is
            // below the minimum; the reduced one must not be above the full
            // one's. (It may be below: the full chain carries Clarabel's
            // feasibility error along 8,312 links of cumulative returns,
            // 1.7e-7 of the constrained Ulcer index at its 1e-8 tolerance.)
            let tol = 10.0 * reduced.tolerance().unwrap().max(full.tolerance().unwrap());
            assert!(a - b <= tol * b, "{m:?}: reduced {a} vs full {b} (tolerance {tol:e})");
            let (_, reported) = reduced.risk().unwrap();
            let charged = reduced.turnover().unwrap_or(0.0) * 10.0 / 1e4;
            assert!((reported - (a + charged)).abs() <= 1e-8, "{m:?}: reported {reported} vs realised {a} + costs");
            let gap = (reduced.weights() - full.weights()).iter().fold(0.0f64, |g, d| g.max(d.abs()));
            // Both finished at the vertex (the linear measures): the same
            // point, measured at most 3.1e-10 apart. Otherwise (the
            // semi-deviation and the Ulcer index, second-order cones) two
            // interior points, measured at most 3.0e-6 apart. EVaR's
            // constrained minimum is flat along the turnover cap: its last
            // quadratic program and the exponential-cone program are both
            // interior points there, measured 1.3e-5 apart in weights and
            // 5e-10 apart in objective (long-only, finished on the active
            // set, 8.1e-7, and 8e-11 lower than the cone program's).
            let vertex = |a: &Allocation| matches!(a.provenance(), Provenance::Solver { finish: Finish::Vertex, .. });
            let tol = match m {
                _ if vertex(&reduced) && vertex(&full) => 1e-9,
                RiskMeasure::Evar { .. } | RiskMeasure::Rlvar { .. } => 3e-5,
                _ => 1e-5,
            };
            assert!(gap < tol, "{m:?}: weights differ by {gap:e}");
        }
    }
}

/// For each case `{prefix}{name}_{length}` of tools/reference/exact_lp.py's
/// fixture (HiGHS's dual simplex: the exact vertex) on the first 1,000,
/// 4,000 and all 8,312 S&P 500 rows, `solve` on the same rows (given the
/// case, for its target) lands within 1e-8 of the vertex and says it was
/// finished there.
fn on_the_vertex(
    prefix: &str,
    measures: impl Fn(f64) -> Vec<(&'static str, RiskMeasure)>,
    solve: impl Fn(RiskMeasure, &Returns, &serde_json::Value) -> Allocation,
) {
    let fx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/exact_lp_reference.json").unwrap()).unwrap();
    let all = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    for length in [1000, 4000, 8312] {
        let r = all.head(length).unwrap();
        for (name, measure) in measures(fx["beta"].as_f64().unwrap()) {
            let case = &fx[format!("{prefix}{name}_{length}")];
            let want: Array1<f64> =
                case.get("weights").unwrap_or(case).as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            let ours = solve(measure, &r, case);
            let dw = (ours.weights() - &want).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
            println!("{prefix}{name:16} {length:5} rows: max |Δw| {dw:.1e}, {}", ours.provenance());
            assert!(dw < 1e-8, "{prefix}{name} on {length} rows: {dw:e} from the vertex");
            assert!(matches!(ours.provenance(), Provenance::Solver { finish: Finish::Vertex, .. }));
        }
    }
}

/// Every linear measure the exact-LP fixture holds minima of.
fn linear_measures(beta: f64) -> Vec<(&'static str, RiskMeasure)> {
    vec![
        ("mad", RiskMeasure::MeanAbsoluteDeviation),
        ("flpm", RiskMeasure::FirstLowerPartialMoment),
        ("worst", RiskMeasure::WorstRealization),
        ("cvar", RiskMeasure::Cvar { beta }),
        ("max_drawdown", RiskMeasure::MaxDrawdown),
        ("average_drawdown", RiskMeasure::AverageDrawdown),
        ("cdar", RiskMeasure::Cdar { beta }),
    ]
}

/// The maximum ratio of mean to a linear risk measure is a linear program
/// whose optimum is a vertex: for CVaR, CDaR and the maximum drawdown our
/// weights sit on it (measured: at most 1e-11; before the vertex finish,
/// up to 1.0e-6 away; before the cumulative returns were written as one
/// block, 6e-4).
#[test]
fn max_ratio_for_linear_measures_is_the_exact_vertex() {
    on_the_vertex(
        "",
        |beta| {
            vec![
                ("cvar", RiskMeasure::Cvar { beta }),
                ("cdar", RiskMeasure::Cdar { beta }),
                ("max_drawdown", RiskMeasure::MaxDrawdown),
            ]
        },
        |m, r, _| Optimizer::max_ratio(m, 0.0).solve_scenarios(r).unwrap(),
    );
}

/// Equal risk budgets for `m` on `r`, held to the fixture's references
/// for the case: the log-barrier program (cvxpy) and Riskfolio-Lib's
/// rp_optimization, where each has weights. On the scale-free objective
/// the budgets minimise, $\ln\rho(w)/d - \frac1N\sum_i\ln w_i$ for a
/// measure homogeneous of degree $d$, ours is never above a reference's
/// by more than `exact` where it was finished (Newton's method, the
/// active-set finish) and by `interior` where it stays at the interior
/// point; the weights are within 1e-8
/// plus the square root of the objectives' gap (the objective grows
/// quadratically away from its minimum, so a reference that stopped
/// short of it may hold weights off by about the square root of its
/// shortfall). Returns our allocation.
fn budgets_match_references(
    case: &serde_json::Value,
    name: &str,
    m: RiskMeasure,
    r: &Returns,
    (exact, interior): (f64, f64),
) -> Allocation {
    let a = Optimizer::risk_budgeting_for(m, None).solve_scenarios(r).unwrap();
    let w = a.weights();
    let n = w.len() as f64;
    // A measure homogeneous of degree 2 (a variance) enters as its root.
    let degree = if matches!(m, RiskMeasure::Variance | RiskMeasure::SemiVariance) { 2.0 } else { 1.0 };
    let objective = |w: &Array1<f64>| m.of(&portfolio(r, w)).ln() / degree - w.mapv(f64::ln).sum() / n;
    let references: Vec<(&str, Array1<f64>)> =
        [("log-barrier", &case["log_barrier"]["weights"]), ("Riskfolio-Lib", &case["riskfolio"]["weights"])]
            .into_iter()
            .filter_map(|(who, v)| {
                Some((who, Array1::from(v.as_array()?.iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>())))
            })
            .collect();
    assert!(!references.is_empty(), "{name}: no reference");
    let finished =
        matches!(a.provenance(), Provenance::Newton { .. } | Provenance::Solver { finish: Finish::ActiveSet, .. });
    for (who, theirs) in &references {
        let dw = common::max_diff(w.as_slice().unwrap(), theirs.as_slice().unwrap());
        let dobj = objective(w) - objective(theirs);
        println!("{name}: {dw:.1e} in weights and {dobj:.1e} in the objective from {who}; {}", a.provenance());
        let bar = if finished { exact } else { interior };
        assert!(dobj < bar, "{name}: objective {dobj:e} above {who}'s");
        let tol = 1e-8 + dobj.abs().sqrt();
        assert!(dw < tol, "{name}: weights {dw:e} from {who}'s");
    }
    a
}

/// Equal risk budgets for every measure on all 8,312 days, the tail
/// measures at α = 10 %, 5 % and 1 % (β = 0.90, 0.95, 0.99): each solves,
/// and each is held to the references of tools/reference/risk_budgets.py —
/// the log-barrier program in cvxpy and Clarabel at 1e-10 (semideviation
/// and EVaR: scipy's L-BFGS-B from exact gradients), and Riskfolio-Lib's
/// rp_optimization where it has the measure and finds a solution.
///
/// The check is on the scale-free objective the budgets minimise,
/// $\ln\rho(w) - \frac1N\sum_i\ln w_i$. Every answer finished exactly
/// (Newton's method for the smooth measures, the active-set finish for the
/// piecewise-linear ones) is never above a reference's by more than 1e-12
/// (measured: never above at all); the one left at an interior point (the
/// ulcer index, a second-order cone) by 1e-9 (measured 5.2e-10). The
/// weights are within 1e-8 plus the square root of the objectives' gap of
/// every reference: Riskfolio-Lib's to 6.2e-9 (MAD) and the scipy ones to
/// 1.8e-9 where they reach our objective, while a cvxpy program that
/// stopped at its tolerance (1e-8 to 1e-10), up to 4.5e-8 above our
/// objective, is up to 2.1e-5 away (the maximum drawdown). The
/// smooth measures' contributions equal 1/20 of the measure to 1e-8 (the
/// central difference's own accuracy; measured at most 2.6e-9); CVaR's,
/// read with the sorted tail's subgradient at a kink, are within one
/// scenario's share (1/k of the tail) of equal.
#[test]
fn risk_budgets_solve_for_every_measure_on_the_full_sample() {
    let fx = common::fixture("risk_budgets_reference.json");
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let mut cases = vec![
        ("std", RiskMeasure::StandardDeviation),
        ("mad", RiskMeasure::MeanAbsoluteDeviation),
        ("semi_deviation", RiskMeasure::SemiDeviation),
        ("flpm", RiskMeasure::FirstLowerPartialMoment),
        ("worst", RiskMeasure::WorstRealization),
        ("max_drawdown", RiskMeasure::MaxDrawdown),
        ("average_drawdown", RiskMeasure::AverageDrawdown),
        ("ulcer", RiskMeasure::UlcerIndex),
    ];
    for (alpha, key) in [(0.1, "0.1"), (0.05, "0.05"), (0.01, "0.01")] {
        let beta = 1.0 - alpha;
        cases.push((["cvar_", key].concat().leak(), RiskMeasure::Cvar { beta }));
        cases.push((["evar_", key].concat().leak(), RiskMeasure::Evar { beta }));
        cases.push((["cdar_", key].concat().leak(), RiskMeasure::Cdar { beta }));
    }
    for (name, m) in cases {
        let a = budgets_match_references(&fx["cases"][name], name, m, &r, (1e-12, 1e-9));
        let w = a.weights();
        if matches!(a.provenance(), Provenance::Newton { .. }) {
            let c = m.contributions(r.values(), w.view()).unwrap();
            let spread = c.iter().fold(0.0f64, |x, ci| x.max((ci / c.mean().unwrap() - 1.0).abs()));
            assert!(spread < 1e-8, "{name}: contributions {spread:e} from equal");
        } else if let RiskMeasure::Cvar { beta } = m {
            let k = (1.0 - beta) * r.len() as f64;
            let worst = cvar_shares(&r, w, beta).iter().fold(0.0f64, |x, share| x.max((share / 0.05 - 1.0).abs()));
            assert!(worst < 2.0 / k, "{name}: contributions {worst:e} from equal");
        }
    }
    // The smooth measures are the ones Newton's method solves.
    for m in [RiskMeasure::StandardDeviation, RiskMeasure::SemiDeviation, RiskMeasure::Evar { beta: 0.95 }] {
        let a = Optimizer::risk_budgeting_for(m, None).solve_scenarios(&r).unwrap();
        assert!(
            matches!(a.provenance(), Provenance::Newton { residual, .. } if *residual < 1e-12),
            "{}",
            a.provenance()
        );
    }
}

/// Equal risk budgets for the measures added after the first twelve, each
/// held to the references of tools/reference/risk_budgets.py as above: on
/// all 8,312 days EDaR (α = 5 %) and the lower partial moments below 0
/// (Riskfolio-Lib's r_f); the ordered weighted averages on the last 250
/// days (the log-barrier program's exact OWA; Riskfolio-Lib's power-cone
/// approximation of them lands 1e-4 to 2e-3 away in weights and above our
/// objective); the relativistic measures (κ = 0.3) on the last 1,000
/// against Riskfolio-Lib alone. The semivariance, homogeneous of degree
/// 2, has the semideviation's budgets and is held to its references.
/// Ours is never above a reference's objective by more than 2e-11 where
/// it was finished (measured: 1.1e-11, the CVaR range against
/// Riskfolio-Lib, whose weights are 2.1e-8 from ours) and 1e-10 at an
/// interior point (measured: 2.8e-11, EDaR); below the log-barrier
/// program's by up to 2.3e-9 and Riskfolio-Lib's OWA approximations by up
/// to 3.6e-5.
#[test]
fn risk_budgets_for_the_added_measures_match_the_references() {
    let fx = common::fixture("risk_budgets_reference.json");
    let all = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let cases = [
        ("edar_0.05", RiskMeasure::Edar { beta: 0.95 }),
        ("slpm", RiskMeasure::Slpm { mar: 0.0 }),
        ("flpm_zero", RiskMeasure::Flpm { mar: 0.0 }),
        ("gmd", RiskMeasure::GiniMeanDifference),
        ("tail_gini_0.05", RiskMeasure::TailGini { beta: 0.95 }),
        ("range", RiskMeasure::Range),
        ("cvar_range_0.05", RiskMeasure::CvarRange { beta: 0.95 }),
        ("tail_gini_range_0.05", RiskMeasure::TailGiniRange { beta: 0.95 }),
        ("rlvar_0.05", RiskMeasure::Rlvar { beta: 0.95, kappa: 0.3 }),
        ("rldar_0.05", RiskMeasure::Rldar { beta: 0.95, kappa: 0.3 }),
        ("semi_deviation", RiskMeasure::SemiVariance),
    ];
    for (name, m) in cases {
        let case = &fx["cases"][name];
        let r = match case["rows"].as_u64() {
            Some(rows) => all.tail(rows as usize).unwrap(),
            None => all.clone(),
        };
        let a = budgets_match_references(case, name, m, &r, (2e-11, 1e-10));
        if matches!(a.provenance(), Provenance::Newton { .. }) {
            let c = m.contributions(r.values(), a.weights().view()).unwrap();
            let spread = c.iter().fold(0.0f64, |x, ci| x.max((ci / c.mean().unwrap() - 1.0).abs()));
            println!("{name}: contributions within {spread:.1e} of equal");
            assert!(spread < 1e-8, "{name}: contributions {spread:e} from equal");
        }
    }
    // The semivariance and the second lower partial moment are smooth:
    // Newton's method budgets them, as it does the semideviation.
    for m in [RiskMeasure::SemiVariance, RiskMeasure::Slpm { mar: 0.0 }, RiskMeasure::Slpm { mar: 2e-4 }] {
        let a = Optimizer::risk_budgeting_for(m, None).solve_scenarios(&all).unwrap();
        assert!(
            matches!(a.provenance(), Provenance::Newton { residual, .. } if *residual < 1e-12),
            "{}",
            a.provenance()
        );
    }
}

/// Every frontier point of a linear measure is finished at its vertex, as
/// the same minimum at its target solved alone is (that one is held to
/// HiGHS's exact solve in `min_risk_at_a_target_is_the_exact_vertex`): the
/// weights agree to 1e-9 (measured: at most 1.1e-10).
#[test]
fn frontier_points_for_linear_measures_are_exact_vertices() {
    let r = returns();
    for (name, m) in linear_measures(0.95) {
        let f = Frontier::params().points(6).measure(m).solve_scenarios(&r).unwrap();
        let mut worst = 0.0f64;
        for a in &f.points {
            assert!(
                matches!(a.provenance(), Provenance::Solver { finish: Finish::Vertex, .. }),
                "{name}: {}",
                a.provenance()
            );
            let target = a.expected_return();
            let alone = Optimizer::min_risk_at_return(m, target).solve_scenarios(&r).unwrap();
            worst = worst.max((a.weights() - alone.weights()).mapv(f64::abs).fold(0.0, |x, y| x.max(*y)));
        }
        println!("{name}: frontier points within {worst:.1e} of the vertices solved alone");
        assert!(worst < 1e-9, "{name}: {worst:e}");
    }
}

/// Minimum risk for every linear measure is a linear program with a
/// vertex optimum: our weights sit on it (measured: at most 2e-11),
/// finished at the vertex after the scenario reduction.
#[test]
fn min_risk_for_linear_measures_is_the_exact_vertex() {
    on_the_vertex("min_", linear_measures, |m, r, _| Optimizer::min_risk(m).solve_scenarios(r).unwrap());
}

/// Minimum risk at a target mean return (halfway from the minimum's to the
/// best asset's) for every linear measure: the full epigraph with the
/// return row, finished at the vertex (measured: at most 1.6e-11).
#[test]
fn min_risk_at_a_target_is_the_exact_vertex() {
    on_the_vertex("target_", linear_measures, |m, r, case| {
        Optimizer::min_risk_at_return(m, case["target"].as_f64().unwrap()).solve_scenarios(r).unwrap()
    });
}

/// Semi-variance is the square of the semi-deviation: the same minimum,
/// and its maximum ratio is the semi-deviation's (the ratio to a quadratic
/// measure is the ratio to its root, as for variance and volatility).
#[test]
fn semi_variance_is_the_squared_semi_deviation() {
    let r = returns();
    let gap =
        |a: &Allocation, b: &Allocation| (a.weights() - b.weights()).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
    let (sv, sd) = (RiskMeasure::SemiVariance, RiskMeasure::SemiDeviation);
    let a = Optimizer::min_risk(sv).solve_scenarios(&r).unwrap();
    let b = Optimizer::min_risk(sd).solve_scenarios(&r).unwrap();
    assert!(gap(&a, &b) < 1e-5, "minimum: {}", gap(&a, &b));
    assert!((sv.of(&portfolio(&r, a.weights())) - sd.of(&portfolio(&r, a.weights())).powi(2)).abs() < 1e-15);
    let a = Optimizer::max_ratio(sv, 0.0).solve_scenarios(&r).unwrap();
    let b = Optimizer::max_ratio(sd, 0.0).solve_scenarios(&r).unwrap();
    assert!(gap(&a, &b) < 1e-5, "maximum ratio: {}", gap(&a, &b));
    assert!(a.objective().contains("semi-deviation"), "{}", a.objective());
}

/// The sequential quadratic programs for EVaR and RLVaR (`risk::sqp`) on
/// the last 1,000 days, long-short (weights in [−0.3, 0.6]) and capped at
/// 10 %, at two confidences: never above the conic program's value by more
/// than 1e-9 (relative). At 99 % long-short the tilt concentrates on a few
/// scenarios and no step of the model falls; there the conic program
/// answers (the case that once stopped 0.56 % above the minimum).
#[test]
fn sequential_quadratic_programs_reach_the_conic_minimum() {
    let r = returns();
    let measures = [
        RiskMeasure::Evar { beta: 0.95 },
        RiskMeasure::Evar { beta: 0.99 },
        RiskMeasure::Rlvar { beta: 0.95, kappa: 0.3 },
    ];
    for m in measures {
        for c in [Constraints::long_only().bounds(-0.3, 0.6), Constraints::long_only().bounds(0.0, 0.1)] {
            let a = Optimizer::min_risk(m).constraints(c.clone()).solve_scenarios(&r).unwrap();
            let b = Optimizer::min_risk(m).constraints(c).reduction(Reduction::Off).solve_scenarios(&r).unwrap();
            let value = |x: &Allocation| m.of(&portfolio(&r, x.weights()));
            let (ours, cone) = (value(&a), value(&b));
            assert!(ours <= cone * (1.0 + 1e-9), "{m:?}: {ours} above the conic program's {cone}");
        }
    }
}
