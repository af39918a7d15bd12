//! Optimising on scenarios with probabilities (`Optimizer::solve_pooled`)
//! against skfolio's MeanRisk on an entropy-pooled prior
//! (`tools/reference/weighted_scenarios.py`), and the measures computed
//! directly (`RiskMeasure::of_weighted`).

mod common;

use assetalloc::estimate::{Bound, EntropyPooled, EntropyPooling};
use assetalloc::optimize::Reduction;
use assetalloc::prelude::*;
use common::{fixture, floats, max_diff};

fn returns() -> Returns {
    datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(2000).unwrap()
}

const MEASURES: [(&str, RiskMeasure); 14] = [
    ("variance", RiskMeasure::Variance),
    ("std", RiskMeasure::StandardDeviation),
    ("mad", RiskMeasure::MeanAbsoluteDeviation),
    ("semi-deviation", RiskMeasure::SemiDeviation),
    ("semi-variance", RiskMeasure::SemiVariance),
    ("flpm", RiskMeasure::FirstLowerPartialMoment),
    ("cvar", RiskMeasure::Cvar { beta: 0.95 }),
    ("evar", RiskMeasure::Evar { beta: 0.95 }),
    ("worst", RiskMeasure::WorstRealization),
    ("max-drawdown", RiskMeasure::MaxDrawdown),
    ("average-drawdown", RiskMeasure::AverageDrawdown),
    ("cdar", RiskMeasure::Cdar { beta: 0.95 }),
    ("ulcer", RiskMeasure::UlcerIndex),
    ("edar", RiskMeasure::Edar { beta: 0.95 }),
];

/// skfolio's probabilities as the prior of a pooling without views: the
/// posterior is exactly them.
fn theirs(f: &serde_json::Value, r: &Returns) -> EntropyPooled {
    let p = floats(&f["probabilities"]);
    EntropyPooling::params().prior(&p).fit(r).unwrap()
}

#[test]
fn minimum_risk_on_pooled_scenarios_equals_skfolios() {
    let f = fixture("weighted_scenarios_reference.json");
    let r = returns();
    assert_eq!(r.dates()[0].to_string(), f["first"].as_str().unwrap());
    let pooled = theirs(&f, &r);
    let p = pooled.probabilities().to_vec();
    for (name, measure) in MEASURES {
        let case = &f["min_risk"][name];
        let a = Optimizer::min_risk(measure).solve_pooled(&pooled).unwrap();
        let w = a.weights();
        let their_w = floats(&case["weights"]);
        let ours = measure.of_weighted(&r.values().dot(w).to_vec(), &p).unwrap();
        let at_theirs = measure.of_weighted(&r.values().dot(&their_w).to_vec(), &p).unwrap();
        let value = case["value"].as_f64().unwrap();
        // Our definition of the measure is skfolio's: its value of its
        // weights, computed here.
        assert!((at_theirs - value).abs() <= 1e-9 * value, "{name}: {at_theirs} vs skfolio's {value}");
        // Never worse, and the same optimum.
        assert!(ours <= at_theirs * (1.0 + 1e-7), "{name}: {ours} > {at_theirs}");
        assert!((ours - at_theirs).abs() <= 1e-6 * at_theirs, "{name}: {ours} vs {at_theirs}");
        let dw = max_diff(w.as_slice().unwrap(), their_w.as_slice().unwrap());
        // A flat optimum (the worst realisation's, an LP with ties) leaves
        // the weights free along a face: there the value is what is pinned.
        if name != "worst" {
            assert!(dw < 1e-4, "{name}: weights differ by {dw:e}");
        }
        // The solver's value is the measure computed directly (variance
        // reports none).
        if let Some((_, v)) = a.risk() {
            assert!((v - ours).abs() <= 1e-6 * ours, "{name}: solver value {v} vs {ours}");
        }
    }
}

#[test]
fn the_maximum_cvar_ratio_on_pooled_scenarios_equals_skfolios() {
    let f = fixture("weighted_scenarios_reference.json");
    let r = returns();
    let pooled = theirs(&f, &r);
    let p = pooled.probabilities();
    let measure = RiskMeasure::Cvar { beta: 0.95 };
    let a = Optimizer::max_ratio(measure, 0.0).solve_pooled(&pooled).unwrap();
    let their_w = floats(&f["max_ratio_cvar"]["weights"]);
    let ratio = |w: &ndarray::Array1<f64>| {
        let y = r.values().dot(w);
        p.dot(&y) / measure.of_weighted(&y.to_vec(), &p.to_vec()).unwrap()
    };
    let (ours, at_theirs) = (ratio(&a.weights().to_owned()), ratio(&their_w));
    assert!(ours >= at_theirs * (1.0 - 1e-7), "{ours} < {at_theirs}");
    let dw = max_diff(a.weights().as_slice().unwrap(), their_w.as_slice().unwrap());
    assert!(dw < 1e-4, "weights differ by {dw:e}");
}

/// The mean/CVaR frontier on pooled scenarios: each point is skfolio's
/// minimum CVaR at that target return (the targets span the same range:
/// the minimum-CVaR portfolio's posterior mean to the highest), never
/// worse; the maximum-ratio portfolio and the assets' own risks are
/// reported on the probabilities too.
#[test]
fn the_pooled_cvar_frontier_equals_skfolios_points() {
    let f = fixture("weighted_scenarios_reference.json");
    let r = returns();
    let pooled = theirs(&f, &r);
    let p = pooled.probabilities().to_vec();
    let measure = RiskMeasure::Cvar { beta: 0.95 };
    let frontier = Frontier::params().points(5).measure(measure).solve_pooled(&pooled).unwrap();
    let cases = f["frontier_cvar"].as_array().unwrap();
    assert_eq!(frontier.points.len(), cases.len());
    let cvar = |w: &ndarray::Array1<f64>| measure.of_weighted(&r.values().dot(w).to_vec(), &p).unwrap();
    for (i, (a, case)) in frontier.points.iter().zip(cases).enumerate() {
        let target = case["target"].as_f64().unwrap();
        let ours_target = a.expected_return();
        assert!((ours_target - target).abs() <= 1e-6 * target.abs(), "point {i}: return {ours_target} vs {target}");
        let their_w = floats(&case["weights"]);
        let (ours, at_theirs) = (cvar(a.weights()), cvar(&their_w));
        assert!((at_theirs - case["value"].as_f64().unwrap()).abs() <= 1e-9 * at_theirs, "point {i}");
        assert!(ours <= at_theirs * (1.0 + 1e-6), "point {i}: {ours} > {at_theirs}");
        assert!((ours - at_theirs).abs() <= 1e-5 * at_theirs, "point {i}: {ours} vs {at_theirs}");
        let dw = max_diff(a.weights().as_slice().unwrap(), their_w.as_slice().unwrap());
        assert!(dw < 1e-4, "point {i}: weights differ by {dw:e}");
        let (_, reported) = a.risk().unwrap();
        assert!((reported - ours).abs() <= 1e-6 * ours, "point {i}: reported {reported} vs {ours}");
    }
    // The maximum ratio is skfolio's (tested above) and reports its
    // probability-weighted CVaR.
    let best = frontier.max_sharpe.as_ref().unwrap();
    let (_, v) = best.risk().unwrap();
    assert!((v - cvar(best.weights())).abs() <= 1e-12 * v);
    // A measure that does not weigh scenarios is named.
    let e = Frontier::params().measure(RiskMeasure::GiniMeanDifference).solve_pooled(&pooled).unwrap_err();
    assert!(e.to_string().contains("probabilities"), "{e}");
}

/// HRP and HERC on pooled scenarios: skfolio's weights on its
/// EntropyPooling prior (the tree from the probability-weighted
/// correlations, the risks weighed by the probabilities), and not the
/// equally-likely ones.
#[test]
fn hierarchical_allocations_on_pooled_scenarios_equal_skfolios() {
    let f = fixture("weighted_scenarios_reference.json");
    let r = returns();
    let pooled = theirs(&f, &r);
    let cvar = RiskMeasure::Cvar { beta: 0.95 };
    let cases = [
        ("hrp_variance", Hierarchical::hrp()),
        ("hrp_cvar", Hierarchical::hrp().measure(cvar)),
        ("hrp_semi-deviation", Hierarchical::hrp().measure(RiskMeasure::SemiDeviation)),
        ("herc_variance", Hierarchical::herc().clusters(4)),
        ("herc_cvar", Hierarchical::herc().clusters(4).measure(cvar)),
    ];
    for (name, method) in cases {
        let ours = method.solve_pooled(&pooled).unwrap();
        let their_w = floats(&f["hierarchical"][name]);
        let d = max_diff(ours.weights().as_slice().unwrap(), their_w.as_slice().unwrap());
        assert!(d < 1e-12, "{name}: weights differ by {d:e}");
        let unweighted = method.solve(&r).unwrap();
        let moved = max_diff(ours.weights().as_slice().unwrap(), unweighted.weights().as_slice().unwrap());
        assert!(moved > 1e-4, "{name}: the probabilities move the weights (by {moved:e})");
    }
    let rlvar = RiskMeasure::Rlvar { beta: 0.95, kappa: 0.3 };
    let e = Hierarchical::hrp().measure(rlvar).solve_pooled(&pooled).unwrap_err();
    assert!(e.to_string().contains("probabilities"), "{e}");
    // The ordered weighted averages weigh the scenarios (their weighted
    // forms are held to references in weighted_ordered_averages_equal_their_definitions).
    let gmd = Hierarchical::hrp().measure(RiskMeasure::GiniMeanDifference);
    let moved = max_diff(
        gmd.solve_pooled(&pooled).unwrap().weights().as_slice().unwrap(),
        gmd.solve(&r).unwrap().weights().as_slice().unwrap(),
    );
    assert!(moved > 1e-4, "the probabilities move HRP's Gini mean difference weights (by {moved:e})");
    let inner = Optimizer::min_risk(cvar);
    let e = Hierarchical::nco(inner.clone(), inner).solve_pooled(&pooled).unwrap_err();
    assert!(e.to_string().contains("NCO"), "{e}");
}

/// A portfolio's measures on pooled scenarios equal skfolio's Portfolio
/// with the probabilities as sample weights, and without them.
#[test]
fn a_portfolios_pooled_profile_equals_skfolios_measures() {
    let f = fixture("weighted_scenarios_reference.json");
    let r = returns();
    let pooled = theirs(&f, &r);
    let case = &f["profile"];
    let profile = pooled.profile(&floats(&case["weights"])).unwrap();
    let names = [
        ("mean", "mean"),
        ("volatility", "standard_deviation"),
        ("semi-deviation", "semi_deviation"),
        ("mean absolute deviation", "mean_absolute_deviation"),
        ("VaR 95 %", "value_at_risk"),
        ("CVaR 95 %", "cvar"),
        ("EVaR 95 %", "evar"),
        ("worst realisation", "worst_realization"),
        ("skewness", "skew"),
        ("kurtosis", "kurtosis"),
        ("Sharpe ratio", "sharpe_ratio"),
        ("Sortino ratio", "sortino_ratio"),
    ];
    assert_eq!(profile.rows.len(), names.len());
    for (ours, theirs) in names {
        let row = profile.get(ours).unwrap();
        for (value, column) in [(row.posterior, "posterior"), (row.equally_likely, "equal")] {
            let reference = case[column][theirs].as_f64().unwrap();
            assert!((value - reference).abs() <= 1e-9 * reference.abs(), "{ours} ({column}): {value} vs {reference}");
        }
    }
    // The views move the tail: GE's CVaR view reaches the portfolio.
    let cvar = profile.get("CVaR 95 %").unwrap();
    assert!((cvar.posterior - cvar.equally_likely).abs() > 1e-4, "{cvar:?}");
    let html = profile.table().to_html();
    assert!(html.contains("CVaR 95 %") && html.contains("effective"), "{html}");
    // Bad portfolios are named.
    let e = pooled.profile(&ndarray::Array1::zeros(3)).unwrap_err();
    assert!(e.to_string().contains("3 weights for 20 assets"), "{e}");
    let mut w = floats(&case["weights"]);
    w[2] = f64::NAN;
    assert!(pooled.profile(&w).unwrap_err().to_string().contains("asset 2 is NaN"));
    let e = pooled.profile(&ndarray::Array1::zeros(20)).unwrap_err();
    assert!(e.to_string().contains("undefined"), "{e}");
}

/// Equal probabilities give the equally-likely programs' answers to the
/// bit (every measure, the frontier, HRP), and the views move the
/// minimum-CVaR portfolio.
#[test]
fn equal_probabilities_give_the_unweighted_answers() {
    let r = returns();
    let equal = EntropyPooling::params().fit(&r).unwrap();
    assert!(equal.equally_likely());
    let sample = Moments::sample().fit(&r).unwrap();
    assert_eq!((equal.moments().mean(), equal.moments().cov()), (sample.mean(), sample.cov()));
    let measures = MEASURES.iter().map(|(_, m)| *m).chain([RiskMeasure::GiniMeanDifference]);
    for measure in measures {
        let a = Optimizer::min_risk(measure).solve_pooled(&equal).unwrap();
        let b = Optimizer::min_risk(measure).solve_scenarios(&r).unwrap();
        assert_eq!(a.weights(), b.weights(), "{measure:?}");
        assert_eq!(a.risk(), b.risk(), "{measure:?}");
    }
    let cvar = RiskMeasure::Cvar { beta: 0.95 };
    let frontier = Frontier::params().points(4).measure(cvar);
    let (a, b) = (frontier.solve_pooled(&equal).unwrap(), frontier.solve_scenarios(&r).unwrap());
    for (x, y) in a.points.iter().zip(&b.points) {
        assert_eq!(x.weights(), y.weights());
    }
    for method in [Hierarchical::hrp().measure(cvar), Hierarchical::herc().clusters(4)] {
        assert_eq!(method.solve_pooled(&equal).unwrap().weights(), method.solve(&r).unwrap().weights());
    }
    // Stressing the tail of the largest holding lowers its weight.
    let calm = Optimizer::min_risk(cvar).solve_pooled(&equal).unwrap();
    let (i, top) = calm.weights().iter().enumerate().fold((0, 0.0), |b, (i, &w)| if w > b.1 { (i, w) } else { b });
    let name = r.assets()[i].clone();
    let own = cvar.of(&r.values().column(i).to_vec());
    let stressed = EntropyPooling::params().cvar(name.as_str(), 0.95, 1.25 * own).fit(&r).unwrap();
    let moved = Optimizer::min_risk(cvar).solve_pooled(&stressed).unwrap();
    let after = moved.weight(&name).unwrap_or(0.0);
    assert!(after < top - 0.01, "stressing {name}'s tail lowers its weight: {after} vs {top}");
}

/// The ordered weighted averages on scenarios with probabilities (the
/// last 250 days, half-lives of 60 days) against their definitions
/// written out in cvxpy (`tools/reference/weighted_owa.py`: pairs for the
/// Gini mean difference, CVaRs for the tails, no sorting): the minimum of
/// each and the maximum mean/tail Gini and mean/GMD ratios, values within
/// 1e-6 relative and never worse, weights within 1e-4; the solver's value
/// is the measure computed directly by sorting.
#[test]
fn weighted_ordered_averages_equal_their_definitions() {
    let f = fixture("weighted_owa_reference.json");
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(250).unwrap();
    assert_eq!(r.dates()[0].to_string(), f["first"].as_str().unwrap());
    let p = floats(&f["probabilities"]);
    let pooled = EntropyPooling::params().prior(&p).fit(&r).unwrap();
    assert!(!pooled.equally_likely());
    let p = p.to_vec();
    let measures = [
        ("gmd", RiskMeasure::GiniMeanDifference),
        ("tail_gini", RiskMeasure::TailGini { beta: 0.95 }),
        ("range", RiskMeasure::Range),
        ("cvar_range", RiskMeasure::CvarRange { beta: 0.95 }),
        ("tail_gini_range", RiskMeasure::TailGiniRange { beta: 0.95 }),
    ];
    let of = |m: RiskMeasure, w: &ndarray::Array1<f64>| m.of_weighted(&r.values().dot(w).to_vec(), &p).unwrap();
    for (name, measure) in measures {
        let case = &f["min_risk"][name];
        let start = std::time::Instant::now();
        let a = Optimizer::min_risk(measure).solve_pooled(&pooled).unwrap();
        let seconds = start.elapsed().as_secs_f64();
        let their_w = floats(&case["weights"]);
        let (ours, at_theirs) = (of(measure, a.weights()), of(measure, &their_w));
        let value = case["value"].as_f64().unwrap();
        assert!((at_theirs - value).abs() <= 1e-8 * value, "{name}: {at_theirs} vs the reference's {value}");
        assert!(ours <= at_theirs * (1.0 + 1e-7), "{name}: {ours} > {at_theirs}");
        assert!((ours - at_theirs).abs() <= 1e-6 * at_theirs, "{name}: {ours} vs {at_theirs}");
        let dw = max_diff(a.weights().as_slice().unwrap(), their_w.as_slice().unwrap());
        assert!(dw < 1e-4, "{name}: weights differ by {dw:e}");
        let (_, v) = a.risk().unwrap();
        assert!((v - ours).abs() <= 1e-7 * ours, "{name}: solver value {v} vs {ours}");
        println!("minimum {name}: {ours:.10} (reference {value:.10}), weights within {dw:.1e}, {seconds:.2} s");
    }
    let mean = pooled.moments().mean().clone();
    for (name, measure) in [("tail_gini", measures[1].1), ("gmd", measures[0].1)] {
        let a = Optimizer::max_ratio(measure, 0.0).solve_pooled(&pooled).unwrap();
        let their_w = floats(&f["max_ratio"][name]["weights"]);
        let ratio = |w: &ndarray::Array1<f64>| mean.dot(w) / of(measure, w);
        let (ours, at_theirs) = (ratio(a.weights()), ratio(&their_w));
        let reference = f["max_ratio"][name]["ratio"].as_f64().unwrap();
        assert!((at_theirs - reference).abs() <= 1e-7 * reference, "{name}: {at_theirs} vs {reference}");
        assert!(ours >= at_theirs * (1.0 - 1e-7), "{name}: {ours} < {at_theirs}");
        let dw = max_diff(a.weights().as_slice().unwrap(), their_w.as_slice().unwrap());
        assert!(dw < 1e-4, "{name}: weights differ by {dw:e}");
        println!("maximum mean/{name}: {ours:.10} (reference {at_theirs:.10}), weights within {dw:.1e}");
    }
}

#[test]
fn measures_and_objectives_without_probabilities_are_named() {
    let r = returns();
    let pooled = EntropyPooling::params().mean("AAPL", Bound::Equal(0.001)).fit(&r).unwrap();
    let rlvar = RiskMeasure::Rlvar { beta: 0.95, kappa: 0.3 };
    let e = Optimizer::min_risk(rlvar).solve_pooled(&pooled).unwrap_err();
    assert!(e.to_string().contains("Rlvar") && e.to_string().contains("probabilities"), "{e}");
    // The Gini mean difference's pairs of 2,000 scenarios are too many.
    let e = Optimizer::min_risk(RiskMeasure::GiniMeanDifference).solve_pooled(&pooled).unwrap_err();
    assert!(e.to_string().contains("1999000 auxiliary variables"), "{e}");
    let e = Optimizer::risk_budgeting_for(RiskMeasure::Cvar { beta: 0.95 }, None).solve_pooled(&pooled).unwrap_err();
    assert!(e.to_string().contains("does not take scenario probabilities"), "{e}");
    let bench: Vec<f64> = r.values().column(0).to_vec();
    let tracked = Optimizer::min_risk(RiskMeasure::Cvar { beta: 0.95 })
        .constraints(Constraints::long_only().tracking_error(Benchmark::Returns(bench), 0.01));
    let e = tracked.solve_pooled(&pooled).unwrap_err();
    assert!(e.to_string().contains("weighs every scenario equally"), "{e}");
    let y = vec![0.01, -0.02, 0.0];
    let e = RiskMeasure::Cvar { beta: 0.5 }.of_weighted(&y, &[0.5, 0.5]).unwrap_err();
    assert!(e.to_string().contains("2 probabilities for 3 returns"), "{e}");
    let e = RiskMeasure::Cvar { beta: 0.5 }.of_weighted(&y, &[0.5, 0.6, -0.1]).unwrap_err();
    assert!(e.to_string().contains("≥ 0 and sum to 1"), "{e}");
    assert!(rlvar.of_weighted(&y, &[0.2, 0.3, 0.5]).is_err());
    // The range of the likely scenarios only.
    assert!((RiskMeasure::Range.of_weighted(&y, &[0.0, 0.5, 0.5]).unwrap() - 0.02).abs() < 1e-15);
    // Worked drawdowns: the path 1 %, −1 %, −2 % has drawdowns 0, 1 %, 3 %.
    let path = vec![0.01, -0.01, -0.02];
    let of = |m: RiskMeasure| m.of_weighted(&path, &[0.2, 0.3, 0.5]).unwrap();
    assert!((of(RiskMeasure::MaxDrawdown) - 0.03).abs() < 1e-15);
    assert!((of(RiskMeasure::AverageDrawdown) - (0.3 * 0.01 + 0.5 * 0.03)).abs() < 1e-15);
    assert!((of(RiskMeasure::UlcerIndex) - (0.3f64 * 1e-4 + 0.5 * 9e-4).sqrt()).abs() < 1e-15);
    // The worst 60 % of probability: 3 % (0.5) and 0.1 of the 1 %.
    let v = of(RiskMeasure::Cdar { beta: 0.4 });
    assert!((v - (0.5 * 0.03 + 0.1 * 0.01) / 0.6).abs() < 1e-15, "{v}");
    // A worked CVaR: the worst half of the probability is the −2 % scenario
    // (0.3) and 0.2 of the 0 % one.
    let v = RiskMeasure::Cvar { beta: 0.5 }.of_weighted(&y, &[0.5, 0.3, 0.2]).unwrap();
    assert!((v - (0.3 * 0.02) / 0.5).abs() < 1e-15, "{v}");
}

/// The exact scenario reductions weigh the scenarios too: minimum CVaR,
/// MAD, first lower partial moment (below the mean and below 0),
/// semideviation and CDaR on all 8,312 days under a stressed posterior
/// equal the full weighted program's answers — the same optimal vertex
/// (weights within 1e-7, the semideviation's interior points within
/// 1e-6; values within 1e-9 relative, never worse). The reductions are
/// what makes them fast; their times are printed.
#[test]
fn weighted_reductions_equal_the_full_programs() {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let own = RiskMeasure::Cvar { beta: 0.95 }.of(&r.values().column(0).to_vec());
    let name = r.assets()[0].clone();
    let pooled = EntropyPooling::params().cvar(name.as_str(), 0.95, 1.25 * own).fit(&r).unwrap();
    let p = pooled.probabilities().to_vec();
    for measure in [
        RiskMeasure::Cvar { beta: 0.95 },
        RiskMeasure::MeanAbsoluteDeviation,
        RiskMeasure::FirstLowerPartialMoment,
        RiskMeasure::Flpm { mar: 0.0 },
        RiskMeasure::SemiDeviation,
        RiskMeasure::Cdar { beta: 0.95 },
    ] {
        let t0 = std::time::Instant::now();
        let reduced = Optimizer::min_risk(measure).solve_pooled(&pooled).unwrap();
        let fast = t0.elapsed().as_secs_f64();
        let t0 = std::time::Instant::now();
        let full = Optimizer::min_risk(measure).reduction(Reduction::Off).solve_pooled(&pooled).unwrap();
        let slow = t0.elapsed().as_secs_f64();
        let value = |a: &Allocation| measure.of_weighted(&r.values().dot(a.weights()).to_vec(), &p).unwrap();
        let (ours, theirs) = (value(&reduced), value(&full));
        let dw = max_diff(reduced.weights().as_slice().unwrap(), full.weights().as_slice().unwrap());
        println!("{measure:?}: {fast:.3} s reduced, {slow:.3} s full; |Δw| {dw:.1e}, value {ours:.12} vs {theirs:.12}");
        assert!(ours <= theirs * (1.0 + 1e-9), "{measure:?}: {ours} > {theirs}");
        assert!((ours - theirs).abs() <= 1e-9 * theirs, "{measure:?}: {ours} vs {theirs}");
        // The semideviation's optimum is no vertex: both stop at their
        // interior points.
        let tol = if measure == RiskMeasure::SemiDeviation { 1e-6 } else { 1e-7 };
        assert!(dw < tol, "{measure:?}: weights differ by {dw:e}");
    }
}
