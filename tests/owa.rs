//! Ordered-weighted-average risk measures (Gini mean difference, tail Gini,
//! range, CVaR range, tail Gini range) against Riskfolio-Lib's definitions
//! and HiGHS's exact optima (tools/reference/owa.py).

mod common;

use assetalloc::optimize::{Finish, Provenance, Reduction};
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

/// The minimum (by cutting planes and the exact local finish) and the
/// sorting network's maximum ratio are HiGHS's exact optima of the
/// assignment-dual linear program: ours no worse within 1e-6 (relative),
/// the minimum's weights within 1e-9 (measured at most 3.2e-12), and so is
/// the whole network's minimum; the ratio's weights within 1e-4. The
/// reported minimum is the measure of the weights.
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
        assert!(gap(a.weights(), &theirs) < 1e-9, "{name}: weights apart by {}", gap(a.weights(), &theirs));
        let network = Optimizer::min_risk(m).reduction(Reduction::Off).solve_scenarios(&r).unwrap();
        assert!(gap(network.weights(), &theirs) < 1e-9, "{name}: the network's minimum is elsewhere");
        let theirs = floats(&fx["measures"][name]["max_ratio"]["weights"]);
        let a = Optimizer::max_ratio(m, 0.0).solve_scenarios(&r).unwrap();
        let ratio = |w: &Array1<f64>| mu.dot(w) / risk(w);
        let (ours, exact) = (ratio(a.weights()), ratio(&theirs));
        println!("{name:16} ratio   {ours:.10} vs {exact:.10}, max |Δw| {:.1e}", gap(a.weights(), &theirs));
        assert!(ours >= exact * (1.0 - 1e-6), "{name}: ratio {ours} below HiGHS's {exact}");
        assert!(gap(a.weights(), &theirs) < 1e-4, "{name}: weights apart by {}", gap(a.weights(), &theirs));
    }
}

/// On all 8,312 days the minima solve by cutting planes and finish at
/// their vertex, their reported value is the measure of their weights
/// (1e-10, relative) and no higher than 1/N's or the minimum variance's;
/// an objective that needs the whole sorting network is refused past its
/// size with an error naming the scenarios, not left to exhaust memory;
/// the range and CVaR range, linear programs without one, are not.
#[test]
fn minima_solve_on_every_day_and_the_whole_network_is_refused() {
    let r = assetalloc::data::datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let equal = Array1::from_elem(20, 0.05);
    let min_var = Optimizer::min_variance().solve_scenarios(&r).unwrap();
    for (name, m) in measures(0.05).into_iter().filter(|(name, _)| *name != "gmd" && *name != "tail-gini-range") {
        let risk = |w: &Array1<f64>| m.of(&r.values().dot(w).to_vec());
        let a = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
        let (_, reported) = a.risk().unwrap();
        println!("{name:16} minimum {reported:.10} on {} days; {}", r.len(), a.provenance());
        assert!(
            matches!(a.provenance(), Provenance::Solver { finish: Finish::Vertex, .. }),
            "{name}: {}",
            a.provenance()
        );
        assert!((reported - risk(a.weights())).abs() <= 1e-10 * reported, "{name}: reported {reported}");
        assert!(reported <= risk(&equal) && reported <= risk(min_var.weights()), "{name}: not a minimum");
    }
    let e = Optimizer::max_ratio(RiskMeasure::GiniMeanDifference, 0.0).solve_scenarios(&r).unwrap_err();
    assert!(e.is_invalid(assetalloc::parameter::Optimize::Measure) && e.to_string().contains("8312"), "{e}");
    // The range and the CVaR range need no network (two maxima, two
    // CVaRs): their maximum ratio solves on every day, and no vertex of
    // the simplex, 1/N or the minimum beats its ratio.
    let mu = r.values().mean_axis(ndarray::Axis(0)).unwrap();
    for (name, m) in measures(0.05).into_iter().filter(|(name, _)| *name == "range" || *name == "cvar-range") {
        let risk = |w: &Array1<f64>| m.of(&r.values().dot(w).to_vec());
        let ratio = |w: &Array1<f64>| mu.dot(w) / risk(w);
        let a = Optimizer::max_ratio(m, 0.0).solve_scenarios(&r).unwrap();
        let best = ratio(a.weights());
        println!("{name:16} maximum ratio {best:.10} on {} days; {}", r.len(), a.provenance());
        let minimum = Optimizer::min_risk(m).solve_scenarios(&r).unwrap();
        let vertices = (0..20).map(|i| Array1::from_shape_fn(20, |j| f64::from(u8::from(i == j))));
        for w in vertices.chain([equal.clone(), minimum.weights().clone()]) {
            assert!(ratio(&w) <= best * (1.0 + 1e-9), "{name}: {w} has ratio {} above {best}", ratio(&w));
        }
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
