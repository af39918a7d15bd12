//! Ordered-weighted-average risk measures (Gini mean difference, tail Gini,
//! range, CVaR range, tail Gini range) against Riskfolio-Lib's definitions
//! and HiGHS's exact optima (tools/reference/owa.py).

mod common;

use assetalloc::prelude::*;
use common::{floats, sp500_sample};
use ndarray::Array1;

fn fixture() -> serde_json::Value {
    common::fixture("owa_reference.json")
}

fn measures(alpha: f64) -> Vec<(&'static str, RiskMeasure)> {
    ["gmd", "tail-gini", "range", "cvar-range", "tail-gini-range"]
        .into_iter()
        .map(|name| (name, RiskMeasure::from_name(name, alpha).unwrap()))
        .collect()
}

/// Each measure of a portfolio's returns is Riskfolio-Lib's (RiskFunctions
/// on its OWA weights) to 1e-12, relative.
#[test]
fn values_are_riskfolios() {
    let fx = fixture();
    let r = sp500_sample(&fx);
    let equal: Vec<f64> = r.values().mean_axis(ndarray::Axis(1)).unwrap().to_vec();
    for (name, m) in measures(fx["alpha"].as_f64().unwrap()) {
        let want = fx["equal_weight"][name].as_f64().unwrap();
        assert!((m.of(&equal) / want - 1.0).abs() < 1e-12, "{name}: {} vs {want}", m.of(&equal));
        for key in ["min_risk", "max_ratio"] {
            let w = floats(&fx["measures"][name][key]["weights"]);
            let got = m.of(&r.values().dot(&w).to_vec());
            let want = fx["measures"][name][key]["value"].as_f64().unwrap();
            assert!((got / want - 1.0).abs() < 1e-12, "{name} {key}: {got} vs {want}");
        }
    }
}

/// The sorting network's minimum and maximum ratio are HiGHS's exact
/// optima of the assignment-dual linear program: ours no worse within
/// 1e-6 (relative), the weights within 1e-4, and the reported minimum is
/// the measure of the weights.
#[test]
fn optima_match_the_exact_linear_program() {
    let fx = fixture();
    let r = sp500_sample(&fx);
    let mu = r.values().mean_axis(ndarray::Axis(0)).unwrap();
    for (name, m) in measures(fx["alpha"].as_f64().unwrap()) {
        let risk = |w: &Array1<f64>| m.of(&r.values().dot(w).to_vec());
        let gap = |a: &Array1<f64>, b: &Array1<f64>| (a - b).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y));
        let theirs = floats(&fx["measures"][name]["min_risk"]["weights"]);
        let a = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
        let (ours, exact) = (risk(a.weights()), risk(&theirs));
        let (_, reported) = a.risk().unwrap();
        println!("{name:16} minimum {ours:.10} vs {exact:.10}, max |Δw| {:.1e}", gap(a.weights(), &theirs));
        assert!((reported - ours).abs() <= 1e-8 * ours, "{name}: reported {reported} vs measured {ours}");
        assert!(ours <= exact * (1.0 + 1e-6), "{name}: minimum {ours} above HiGHS's {exact}");
        assert!(gap(a.weights(), &theirs) < 1e-4, "{name}: weights apart by {}", gap(a.weights(), &theirs));
        let theirs = floats(&fx["measures"][name]["max_ratio"]["weights"]);
        let a = Optimizer::max_ratio(m, 0.0).solve_scenarios(&r).unwrap();
        let ratio = |w: &Array1<f64>| mu.dot(w) / risk(w);
        let (ours, exact) = (ratio(a.weights()), ratio(&theirs));
        println!("{name:16} ratio   {ours:.10} vs {exact:.10}, max |Δw| {:.1e}", gap(a.weights(), &theirs));
        assert!(ours >= exact * (1.0 - 1e-6), "{name}: ratio {ours} below HiGHS's {exact}");
        assert!(gap(a.weights(), &theirs) < 1e-4, "{name}: weights apart by {}", gap(a.weights(), &theirs));
    }
}

/// A tail level is checked as the other tail measures' are.
#[test]
fn tail_levels_are_checked() {
    let fx = fixture();
    let r = sp500_sample(&fx);
    for m in [RiskMeasure::TailGini { beta: 1.0 }, RiskMeasure::CvarRange { beta: f64::NAN }] {
        let e = Optimizer::min_risk(m).solve_scenarios(&r).unwrap_err();
        assert!(e.is_invalid(assetalloc::parameter::Optimize::Beta), "{e}");
    }
}
