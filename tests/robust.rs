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

fn sets(fx: &serde_json::Value, r: &Returns) -> [(&'static str, MeanUncertainty); 2] {
    let c = &fx["confidence"];
    [
        ("box", MeanUncertainty::box_from(r, c["box"].as_f64().unwrap()).unwrap()),
        ("ellip", MeanUncertainty::ellipsoid_from(r, c["ellip"].as_f64().unwrap()).unwrap()),
    ]
}

/// The sets built from data are the fixture's (scipy's normal and
/// chi-square quantiles) to 1e-12 and 1e-10; the worst-case maximum Sharpe
/// ratio and utility are Riskfolio-Lib's `wc_optimization` on them:
/// weights within 1e-4 (measured 7e-7 to 1e-6), and our worst-case
/// objective never worse beyond 1e-9 relative or 1e-12 absolute.
#[test]
fn robust_mean_matches_riskfolio() {
    let fx = common::fixture("robust_mean_reference.json");
    let r = sp500_sample(&fx);
    let m = Moments::sample().fit(&r).unwrap();
    for q in fx["chi2"].as_array().unwrap() {
        let (p, k, want) = (q["p"].as_f64().unwrap(), q["k"].as_f64().unwrap(), q["quantile"].as_f64().unwrap());
        let radius = |n: usize| {
            let cols: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
            let v = ndarray::Array2::from_shape_fn((30, n), |(t, j)| ((t * 7 + j * 3) % 11) as f64 * 1e-3);
            let dates = r.dates()[..30].to_vec();
            let x = Returns::new(dates, cols, v, ReturnKind::Simple).unwrap();
            match MeanUncertainty::ellipsoid_from(&x, p).unwrap() {
                MeanUncertainty::Ellipsoid { radius, .. } => radius,
                _ => unreachable!(),
            }
        };
        if k <= 20.0 {
            let got = radius(k as usize).powi(2);
            assert!((got / want - 1.0).abs() < 1e-10, "χ² {p} with {k}: {got} vs {want}");
        }
    }
    let [(_, boxed), (_, ellip)] = sets(&fx, &r);
    match (&boxed, &ellip) {
        (MeanUncertainty::Box { half_widths }, MeanUncertainty::Ellipsoid { radius, .. }) => {
            let want = floats(&fx["half_widths"]);
            assert!(gap(half_widths, &want) < 1e-12 * want.iter().cloned().fold(0.0, f64::max));
            assert!((radius / fx["radius"].as_f64().unwrap() - 1.0).abs() < 1e-10);
        }
        _ => unreachable!(),
    }
    let cov = m.cov();
    for case in fx["cases"].as_array().unwrap() {
        let set = if case["set"] == "box" { boxed.clone() } else { ellip.clone() };
        let theirs = floats(&case["weights"]);
        let sharpe = case["objective"] == "Sharpe";
        let l = case["risk_aversion"].as_f64().unwrap();
        let score = |w: &Array1<f64>| {
            let (worst, variance) = (set.worst_mean(m.mean(), w), w.dot(&cov.dot(w)));
            if sharpe {
                worst / variance.sqrt()
            } else {
                worst - l * variance
            }
        };
        let opt = if sharpe { Optimizer::max_sharpe(0.0) } else { Optimizer::max_utility(RiskMeasure::Variance, l) };
        let a = opt.robust_mean(set.clone()).solve(&m).unwrap();
        let (ours, other) = (score(a.weights()), score(&theirs));
        println!(
            "{} {}: worst case {ours:.10e} vs {other:.10e}, max |Δw| {:.1e}",
            case["set"],
            case["objective"],
            gap(a.weights(), &theirs)
        );
        // Never worse beyond 1e-9 relative or 1e-12 absolute (the daily
        // ellipsoid utility is 6.3e-6; Clarabel's absolute gap is 1e-10).
        let slack = (1e-9 * other.abs()).max(1e-12);
        assert!(ours >= other - slack, "{} {}: {ours} below {other}", case["set"], case["objective"]);
        assert!(
            gap(a.weights(), &theirs) < 1e-4,
            "{} {}: weights apart by {}",
            case["set"],
            case["objective"],
            gap(a.weights(), &theirs)
        );
    }
}

/// The robust portfolio is the best on the worst case and the nominal one
/// on the estimate, for a scenario measure too; a set of zero width gives
/// the nominal portfolio.
#[test]
fn robust_and_nominal_each_win_on_their_own_objective() {
    let fx = common::fixture("robust_mean_reference.json");
    let r = sp500_sample(&fx);
    let mu = r.values().mean_axis(ndarray::Axis(0)).unwrap();
    for (name, set) in sets(&fx, &r) {
        let cvar = RiskMeasure::Cvar { beta: 0.95 };
        let risk = |w: &Array1<f64>| cvar.of(&r.values().dot(w).to_vec());
        let nominal = Optimizer::max_ratio(cvar, 0.0).solve_scenarios(&r).unwrap();
        let robust = Optimizer::max_ratio(cvar, 0.0).robust_mean(set.clone()).solve_scenarios(&r).unwrap();
        let worst = |w: &Array1<f64>| set.worst_mean(&mu, w) / risk(w);
        let plain = |w: &Array1<f64>| mu.dot(w) / risk(w);
        assert!(worst(robust.weights()) >= worst(nominal.weights()) - 1e-9, "{name}");
        assert!(plain(nominal.weights()) >= plain(robust.weights()) - 1e-9, "{name}");
        assert!(gap(robust.weights(), nominal.weights()) > 1e-3, "{name}: the set changes nothing");
    }
    let zero = MeanUncertainty::Box { half_widths: Array1::zeros(r.n_assets()) };
    let m = Moments::sample().fit(&r).unwrap();
    let a = Optimizer::max_sharpe(0.0).robust_mean(zero).solve(&m).unwrap();
    let b = Optimizer::max_sharpe(0.0).solve(&m).unwrap();
    assert!(gap(a.weights(), b.weights()) < 1e-6, "{}", gap(a.weights(), b.weights()));
}

/// A set wider than the data supports, a malformed set, a confidence out
/// of range, and a set given to an objective that does not read the mean
/// are typed errors naming the value.
#[test]
fn bad_uncertainty_sets_are_named() {
    let fx = common::fixture("robust_mean_reference.json");
    let r = sp500_sample(&fx);
    let short = r.tail(250).unwrap();
    let m = Moments::sample().fit(&short).unwrap();
    let wide = MeanUncertainty::box_from(&short, 0.99).unwrap();
    let e = Optimizer::max_sharpe(0.0).robust_mean(wide.clone()).solve(&m).unwrap_err();
    assert!(e.is_invalid(Param::MeanUncertainty) && e.to_string().contains("larger than the data supports"), "{e}");
    let e = Optimizer::min_variance().robust_mean(wide).solve(&m).unwrap_err();
    assert!(e.is_invalid(Param::MeanUncertainty), "{e}");
    let mut negative = Array1::from_elem(r.n_assets(), 1e-4);
    negative[3] = -1e-4;
    let e =
        Optimizer::max_sharpe(0.0).robust_mean(MeanUncertainty::Box { half_widths: negative }).solve(&m).unwrap_err();
    assert!(e.is_invalid(Param::MeanUncertainty) && e.to_string().contains("half-width 3"), "{e}");
    let e = Optimizer::max_sharpe(0.0)
        .robust_mean(MeanUncertainty::Box { half_widths: Array1::zeros(3) })
        .solve(&m)
        .unwrap_err();
    assert!(matches!(e, assetalloc::Error::Shape(_)), "{e}");
    let mut shape = ndarray::Array2::<f64>::eye(r.n_assets());
    shape[[0, 0]] = -1.0;
    let e = Optimizer::max_sharpe(0.0)
        .robust_mean(MeanUncertainty::Ellipsoid { radius: 1.0, shape })
        .solve(&m)
        .unwrap_err();
    assert!(e.is_invalid(Param::MeanUncertainty) && e.to_string().contains("semidefinite"), "{e}");
    for c in [0.0, 1.0, f64::NAN] {
        let e = MeanUncertainty::box_from(&r, c).unwrap_err();
        assert!(e.is_invalid(Param::Confidence), "{e}");
    }
}

/// The box of the fixture around the sample covariance: S ± width·ss'.
fn covariance_box(m: &Moments, width: f64) -> CovarianceUncertainty {
    CovarianceUncertainty::proportional(m.cov(), width).unwrap()
}

/// For long-only weights the worst case over the box is its upper bound:
/// Riskfolio-Lib's semidefinite program (`wc_optimization`, Ucov "box")
/// finds the same minimum worst-case variance (weights within 1e-4,
/// measured 2.2e-7), and its maximum worst-case Sharpe ratio is never
/// better than ours (its SDP stops 7.3 % short); that maximum is cvxpy's
/// direct solve on the upper bound, weights within 1e-4.
#[test]
fn robust_covariance_matches_riskfolios_semidefinite_program() {
    let fx = common::fixture("robust_covariance_reference.json");
    let r = sp500_sample(&fx);
    let m = Moments::sample().fit(&r).unwrap();
    let set = covariance_box(&m, fx["width"].as_f64().unwrap());
    let worst = |w: &Array1<f64>| w.dot(&set.upper.dot(w));
    for case in fx["cases"].as_array().unwrap() {
        let (theirs, best) = if case["objective"] == "MinRisk" {
            (floats(&case["weights"]), floats(&case["weights"]))
        } else {
            (floats(&case["weights"]), floats(&fx["direct_sharpe"]))
        };
        let min_risk = case["objective"] == "MinRisk";
        let score = |w: &Array1<f64>| if min_risk { -worst(w) } else { m.mean().dot(w) / worst(w).sqrt() };
        let opt = if min_risk { Optimizer::min_variance() } else { Optimizer::max_sharpe(0.0) };
        let a = opt.robust_covariance(set.clone()).solve(&m).unwrap();
        let (ours, other) = (score(a.weights()), score(&theirs));
        println!("{}: {ours:.10e} vs {other:.10e}, max |Δw| {:.1e}", case["objective"], gap(a.weights(), &best));
        assert!(ours >= other - 1e-9 * other.abs(), "{}: {ours} below {other}", case["objective"]);
        assert!(gap(a.weights(), &best) < 1e-4, "{}: weights apart by {}", case["objective"], gap(a.weights(), &best));
        assert!(
            (a.volatility() - worst(a.weights()).sqrt()).abs() < 1e-12,
            "the reported volatility is the worst case's"
        );
        let nominal =
            if case["objective"] == "MinRisk" { Optimizer::min_variance() } else { Optimizer::max_sharpe(0.0) };
        assert!(gap(a.weights(), nominal.solve(&m).unwrap().weights()) > 1e-3, "the box changes nothing");
    }
}

/// With short positions (−0.2 ≤ w ≤ 1, gross leverage ≤ 1.6, on a box of
/// width 0.02) the worst case is the cone form w'Cw + |w|'R|w|, exact for
/// the box's PSD centre and half-width: the minimum equals Riskfolio-Lib's
/// semidefinite program and cvxpy's SDP dual (weights within 1e-4,
/// measured 5e-8 and 8e-7), and the maximum worst-case Sharpe ratio is
/// cvxpy's cone program (within 1e-4) and never below Riskfolio-Lib's
/// (its SDP stops 6.5 % short). The reported volatility is the worst
/// case's, and its risk contributions add up to one.
#[test]
fn robust_covariance_with_short_positions_is_a_cone_program() {
    let fx = common::fixture("robust_covariance_reference.json");
    let short = &fx["short"];
    let r = sp500_sample(&fx);
    let m = Moments::sample().fit(&r).unwrap();
    let set = covariance_box(&m, short["width"].as_f64().unwrap());
    let (c, h) = (m.cov(), (&set.upper - &set.lower) * 0.5);
    let worst = |w: &Array1<f64>| {
        let a = w.mapv(f64::abs);
        w.dot(&c.dot(w)) + a.dot(&h.dot(&a))
    };
    let bounds = Constraints::long_only()
        .bounds(short["lower"].as_f64().unwrap(), short["upper"].as_f64().unwrap())
        .max_leverage(short["leverage"].as_f64().unwrap());
    for case in short["cases"].as_array().unwrap() {
        let min_risk = case["objective"] == "MinRisk";
        let theirs = floats(&case["weights"]);
        let best = if min_risk { floats(&short["sdp_min"]["weights"]) } else { floats(&short["cone_sharpe"]) };
        let score = |w: &Array1<f64>| if min_risk { -worst(w) } else { m.mean().dot(w) / worst(w).sqrt() };
        let opt = if min_risk { Optimizer::min_variance() } else { Optimizer::max_sharpe(0.0) };
        let a = opt.constraints(bounds.clone()).robust_covariance(set.clone()).solve(&m).unwrap();
        let (ours, other) = (score(a.weights()), score(&theirs));
        println!(
            "{}: {ours:.10e} vs {other:.10e}, max |Δw| {:.1e} from the best, {:.1e} from Riskfolio-Lib, smallest weight {:.3}; {}",
            case["objective"],
            gap(a.weights(), &best),
            gap(a.weights(), &theirs),
            a.weights().fold(f64::INFINITY, |x, y| x.min(*y)),
            a.provenance()
        );
        assert!(ours >= other - 1e-9 * other.abs(), "{}: {ours} below {other}", case["objective"]);
        assert!(gap(a.weights(), &best) < 1e-4, "{}: weights apart by {}", case["objective"], gap(a.weights(), &best));
        assert!(a.weights().iter().any(|w| *w < -1e-3), "the optimum holds no short position");
        assert!(
            (a.volatility() - worst(a.weights()).sqrt()).abs() < 1e-12,
            "the reported volatility is the worst case's"
        );
        assert!((a.risk_contributions().sum() - 1.0).abs() < 1e-12, "contributions add up to one");
        if min_risk {
            let sdp = short["sdp_min"]["value"].as_f64().unwrap();
            assert!((worst(a.weights()) - sdp).abs() < 1e-6 * sdp, "{} against the SDP's {sdp}", worst(a.weights()));
        }
    }
}

/// An upper bound that is not a covariance, with short positions a
/// half-width that is not positive semidefinite, a box that misses the
/// estimate, and a set given to a measure other than variance are typed
/// errors naming the set.
#[test]
fn bad_covariance_boxes_are_named() {
    let fx = common::fixture("robust_covariance_reference.json");
    let r = sp500_sample(&fx);
    let m = Moments::sample().fit(&r).unwrap();
    let set = covariance_box(&m, 0.2);
    let check = |o: Optimizer, set: CovarianceUncertainty, says: &str| {
        let e = o.robust_covariance(set).solve(&m).unwrap_err();
        assert!(e.is_invalid(Param::CovarianceUncertainty) && e.to_string().contains(says), "{e}");
    };
    let mut skew = set.clone();
    for (i, j) in [(0, 1), (1, 0)] {
        skew.upper[[i, j]] += 0.5 * m.cov()[[0, 0]];
        skew.lower[[i, j]] -= 0.5 * m.cov()[[0, 0]];
    }
    check(
        Optimizer::min_variance().constraints(Constraints::long_only().bounds(-0.2, 1.0)),
        skew,
        "half-width (upper − lower) / 2",
    );
    let mut indefinite = set.clone();
    indefinite.upper[[0, 1]] += 1.0;
    indefinite.upper[[1, 0]] += 1.0;
    check(Optimizer::min_variance(), indefinite, "not positive semidefinite");
    let mut missing = set.clone();
    missing.lower[[2, 2]] = m.cov()[[2, 2]] * 1.1;
    missing.upper[[2, 2]] = m.cov()[[2, 2]] * 1.2;
    check(Optimizer::min_variance(), missing, "does not hold the estimate");
    for width in [-0.1, f64::NAN] {
        let e = CovarianceUncertainty::proportional(m.cov(), width).unwrap_err();
        assert!(e.is_invalid(Param::CovarianceUncertainty) && e.to_string().contains("width"), "{e}");
    }
    let e = Optimizer::min_cvar(0.95).robust_covariance(set).solve_scenarios(&r).unwrap_err();
    assert!(e.is_invalid(Param::CovarianceUncertainty), "{e}");
}
