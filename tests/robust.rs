//! Robust allocation: distributionally robust mean–CVaR against skfolio
//! (tools/reference/dr_cvar.py), its limit at radius 0, and typed errors
//! for bad settings.
#![cfg(feature = "optimize")]

mod common;

use assetalloc::parameter::Optimize as Param;
use assetalloc::prelude::*;
use common::{floats, sp500_sample};
use ndarray::Array1;

fn gap(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    (a - b).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y))
}

/// skfolio's weights within 1e-4 and its optimal worst case within 1e-6
/// (relative) at every radius; the worst case grows with the radius.
#[test]
fn dr_cvar_matches_skfolio() {
    let fx = common::fixture("dr_cvar_reference.json");
    let r = sp500_sample(&fx);
    let (beta, rho) = (fx["beta"].as_f64().unwrap(), fx["risk_aversion"].as_f64().unwrap());
    let mut last = f64::NEG_INFINITY;
    for case in fx["radii"].as_array().unwrap() {
        let radius = case["radius"].as_f64().unwrap();
        let a = Optimizer::dr_cvar(beta, rho, radius).solve_scenarios(&r).unwrap();
        let theirs = floats(&case["weights"]);
        let (ours, want) = (a.worst_case().unwrap(), case["objective"].as_f64().unwrap());
        println!("ε {radius}: worst case {ours:.10} vs {want:.10}, max |Δw| {:.1e}", gap(a.weights(), &theirs));
        assert!((ours / want - 1.0).abs() < 1e-6, "ε {radius}: {ours} vs skfolio's {want}");
        assert!(gap(a.weights(), &theirs) < 1e-4, "ε {radius}: weights apart by {}", gap(a.weights(), &theirs));
        assert!(ours > last, "ε {radius}: the worst case {ours} does not grow");
        last = ours;
    }
}

/// At radius 0 the worst case is the empirical one: the maximum mean −
/// ρ·CVaR utility, with the same value measured directly.
#[test]
fn dr_cvar_at_radius_zero_is_the_cvar_utility() {
    let fx = common::fixture("dr_cvar_reference.json");
    let r = sp500_sample(&fx);
    let rho = 2.0;
    let a = Optimizer::dr_cvar(0.95, rho, 0.0).solve_scenarios(&r).unwrap();
    let u = Optimizer::max_utility(RiskMeasure::Cvar { beta: 0.95 }, rho).solve_scenarios(&r).unwrap();
    assert!(gap(a.weights(), u.weights()) < 1e-6, "weights apart by {}", gap(a.weights(), u.weights()));
    let p = r.values().dot(a.weights()).to_vec();
    let mean = p.iter().sum::<f64>() / p.len() as f64;
    let direct = -mean + rho * RiskMeasure::Cvar { beta: 0.95 }.of(&p);
    assert!((a.worst_case().unwrap() - direct).abs() < 1e-9, "{} vs {direct}", a.worst_case().unwrap());
    assert!(u.worst_case().is_none());
}

/// A radius, confidence or aversion out of range is a typed error naming it.
#[test]
fn dr_cvar_settings_are_checked() {
    let fx = common::fixture("dr_cvar_reference.json");
    let r = sp500_sample(&fx);
    for (o, p) in [
        (Optimizer::dr_cvar(0.95, 1.0, -0.01), Param::Radius),
        (Optimizer::dr_cvar(0.95, 1.0, f64::NAN), Param::Radius),
        (Optimizer::dr_cvar(1.0, 1.0, 0.01), Param::Beta),
        (Optimizer::dr_cvar(0.95, -1.0, 0.01), Param::RiskAversion),
    ] {
        let e = o.solve_scenarios(&r).unwrap_err();
        assert!(e.is_invalid(p), "{e}");
    }
}
