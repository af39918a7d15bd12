//! Relativistic value at risk and drawdown at risk against Riskfolio-Lib
//! (tools/reference/relativistic.py): the measures of given portfolios,
//! the minimum-risk and maximum-ratio portfolios, the measures' place
//! between EVaR (EDaR) and the worst loss (maximum drawdown), and the
//! typed errors for a bad deformation.
#![cfg(feature = "optimize")]

mod common;

use assetalloc::prelude::*;
use common::{floats, sp500_sample};
use ndarray::Array1;

fn fixture() -> serde_json::Value {
    common::fixture("relativistic_reference.json")
}

fn measure(name: &str, fx: &serde_json::Value, kappa: f64) -> RiskMeasure {
    RiskMeasure::from_name(name, fx["alpha"].as_f64().unwrap()).unwrap().with_kappa(kappa).unwrap()
}

/// The direct computation (the maximisation over reweighted scenarios, by
/// its Lagrange conditions, whose duality gap `rlvar.rs` checks to 1e-9)
/// equals Riskfolio-Lib's definition solved by SCS at 1e-10, of the
/// equal-weight portfolio at each deformation and of Riskfolio-Lib's own
/// optimal portfolios: within 2e-5 (relative) where SCS reports
/// `optimal`, the accuracy it reaches here (8.5e-6 at RLDaR, κ = 0.1,
/// where our certified value is below SCS's), and 1e-3 where it reports
/// `optimal_inaccurate` (κ = 0.7; 3e-4 measured). SCS overshoots a
/// maximisation it stops short of, so ours is never the larger by more
/// than 1e-9. The optimiser's primal solve meets the direct value to 1e-8
/// (tests/risk_measures.rs), an independent check of both.
#[test]
fn values_are_riskfolios() {
    let fx = fixture();
    let r = sp500_sample(&fx);
    let equal: Vec<f64> = r.values().mean_axis(ndarray::Axis(1)).unwrap().to_vec();
    for name in ["rlvar", "rldar"] {
        for (kappa, entry) in fx["equal_weight"][name].as_object().unwrap() {
            let got = measure(name, &fx, kappa.parse().unwrap()).of(&equal);
            let want = entry["value"].as_f64().unwrap();
            let tolerance = if entry["status"] == "optimal" { 2e-5 } else { 1e-3 };
            println!("{name} κ {kappa}: {got:.12} vs {want:.12} (SCS {})", entry["status"]);
            assert!((got / want - 1.0).abs() < tolerance, "{name} κ {kappa}: {got} vs {want} ({})", entry["status"]);
            assert!(got <= want * (1.0 + 1e-9), "{name} κ {kappa}: {got} above SCS's {want}");
        }
        let m = measure(name, &fx, fx["kappa"].as_f64().unwrap());
        for key in ["min_risk", "max_ratio"] {
            let w = floats(&fx["measures"][name][key]["weights"]);
            let got = m.of(&r.values().dot(&w).to_vec());
            let want = fx["measures"][name][key]["value"].as_f64().unwrap();
            assert!((got / want - 1.0).abs() < 2e-5, "{name} {key}: {got} vs {want}");
        }
    }
}

/// Our minimum and maximum ratio are Riskfolio-Lib's: no worse within
/// 1e-6 (relative), weights within 1e-4, and the reported minimum is the
/// measure of the weights within 1e-8.
#[test]
fn optima_match_riskfolio() {
    let fx = fixture();
    let r = sp500_sample(&fx);
    let mu = r.values().mean_axis(ndarray::Axis(0)).unwrap();
    let gap = |a: &Array1<f64>, b: &Array1<f64>| (a - b).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
    for name in ["rlvar", "rldar"] {
        let m = measure(name, &fx, fx["kappa"].as_f64().unwrap());
        let risk = |w: &Array1<f64>| m.of(&r.values().dot(w).to_vec());
        let theirs = floats(&fx["measures"][name]["min_risk"]["weights"]);
        let a = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
        let (ours, other) = (risk(a.weights()), risk(&theirs));
        let (_, reported) = a.risk().unwrap();
        println!("{name} minimum {ours:.10} vs {other:.10}, max |Δw| {:.1e}", gap(a.weights(), &theirs));
        assert!((reported - ours).abs() <= 1e-8 * ours, "{name}: reported {reported} vs measured {ours}");
        assert!(ours <= other * (1.0 + 1e-6), "{name}: minimum {ours} above Riskfolio-Lib's {other}");
        assert!(gap(a.weights(), &theirs) < 1e-4, "{name}: weights apart by {}", gap(a.weights(), &theirs));
        let theirs = floats(&fx["measures"][name]["max_ratio"]["weights"]);
        let a = Optimizer::max_ratio(m, 0.0).solve_scenarios(&r).unwrap();
        let ratio = |w: &Array1<f64>| mu.dot(w) / risk(w);
        let (ours, other) = (ratio(a.weights()), ratio(&theirs));
        println!("{name} ratio   {ours:.10} vs {other:.10}, max |Δw| {:.1e}", gap(a.weights(), &theirs));
        assert!(ours >= other * (1.0 - 1e-6), "{name}: ratio {ours} below Riskfolio-Lib's {other}");
        assert!(gap(a.weights(), &theirs) < 1e-4, "{name}: weights apart by {}", gap(a.weights(), &theirs));
    }
}

/// RLVaR lies between EVaR and the worst loss and grows with κ; RLDaR
/// between EDaR and the maximum drawdown, likewise.
#[test]
fn the_deformation_moves_from_the_entropic_measure_to_the_worst_case() {
    let fx = fixture();
    let r = sp500_sample(&fx);
    let p: Vec<f64> = r.values().column(0).to_vec();
    for (name, entropic, worst) in [
        ("rlvar", RiskMeasure::Evar { beta: 0.95 }, RiskMeasure::WorstRealization),
        ("rldar", RiskMeasure::Edar { beta: 0.95 }, RiskMeasure::MaxDrawdown),
    ] {
        let (low, high) = (entropic.of(&p), worst.of(&p));
        let mut last = low;
        for kappa in [1e-4, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999] {
            let v = measure(name, &fx, kappa).of(&p);
            assert!(v >= last - 1e-12 && v <= high + 1e-12, "{name} κ {kappa}: {v} outside [{last}, {high}]");
            last = v;
        }
        let near_zero = measure(name, &fx, 1e-4).of(&p);
        assert!((near_zero / low - 1.0).abs() < 1e-3, "{name}: κ → 0 gives {near_zero}, the entropic {low}");
        assert!(last > 0.9 * high, "{name}: κ → 1 gives {last}, the worst {high}");
    }
}

/// The minima solve on one to four years of days, where Clarabel's
/// default steps stall on the power cones in half the cases (the retry with
/// shorter steps in `problem.rs`), and report the measure of their weights.
#[test]
fn minima_solve_across_windows() {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    for (from, to) in [
        ("2015-01-01", "2015-12-31"),
        ("2014-01-01", "2015-12-31"),
        ("2012-01-01", "2015-12-31"),
        ("2019-01-01", "2019-12-31"),
    ] {
        let s = r.between(from, to).unwrap();
        for m in [RiskMeasure::Rlvar { beta: 0.95, kappa: 0.3 }, RiskMeasure::Rldar { beta: 0.95, kappa: 0.3 }] {
            let a = Optimizer::min_risk(m).solve_scenarios(&s).unwrap_or_else(|e| panic!("{from}–{to} {m:?}: {e}"));
            let direct = m.of(&s.values().dot(a.weights()).to_vec());
            let (_, reported) = a.risk().unwrap();
            assert!((reported / direct - 1.0).abs() < 1e-6, "{from}–{to} {m:?}: {reported} vs {direct}");
        }
    }
}

/// A deformation outside (0, 1), or asked of another measure, is refused.
#[test]
fn a_bad_deformation_is_a_typed_error() {
    let fx = fixture();
    let r = sp500_sample(&fx);
    for kappa in [0.0, 1.0, f64::NAN, -0.3] {
        let e = RiskMeasure::from_name("rlvar", 0.05).unwrap().with_kappa(kappa).unwrap_err();
        assert!(e.is_invalid(assetalloc::parameter::Optimize::Kappa), "{e}");
        let e = Optimizer::min_risk(RiskMeasure::Rldar { beta: 0.95, kappa }).solve_scenarios(&r).unwrap_err();
        assert!(e.is_invalid(assetalloc::parameter::Optimize::Kappa), "{e}");
    }
    let e = RiskMeasure::Cvar { beta: 0.95 }.with_kappa(0.3).unwrap_err();
    assert!(e.is_invalid(assetalloc::parameter::Optimize::Kappa), "{e}");
}
