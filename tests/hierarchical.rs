//! Hierarchical allocation: the tree equals SciPy's linkage, HRP, HERC and
//! NCO equal skfolio's (fixtures from tools/reference/hierarchical.py) and
//! PyPortfolioOpt's HRP, bounds hold, planted blocks are found, bad input is
//! refused with typed errors.
#![cfg(feature = "optimize")]

use assetalloc::hierarchy::Merge;
use assetalloc::parameter;
use assetalloc::prelude::*;
use ndarray::Array2;
use serde_json::Value;

mod common;
use common::max_diff;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/hierarchical_reference.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn returns() -> Returns {
    datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap()
}

fn linkage(name: &str) -> Linkage {
    Linkage::from_name(name).unwrap()
}

#[test]
fn the_tree_equals_scipys_linkage_for_every_method() {
    let (f, r) = (fixtures(), returns());
    assert_eq!(r.len(), f["rows"].as_u64().unwrap() as usize);
    for name in Linkage::NAMES {
        let tree = Hierarchy::params().linkage(linkage(name)).fit(&r).unwrap();
        let theirs: Vec<Vec<f64>> = f["linkages"][name]["linkage"].as_array().unwrap().iter().map(floats).collect();
        for (m, t) in tree.merges().iter().zip(&theirs) {
            let Merge { left, right, height, size } = *m;
            assert_eq!((left as f64, right as f64, size as f64), (t[0], t[1], t[3]), "{name}: merge {m:?} vs {t:?}");
            assert!((height - t[2]).abs() < 1e-12, "{name}: height {height} vs {}", t[2]);
        }
        let leaves: Vec<usize> =
            f["linkages"][name]["leaves"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(tree.order(), leaves.as_slice(), "{name}: leaf order");
    }
}

#[test]
fn hrp_equals_skfolio_and_pyportfolioopt() {
    let (f, r) = (fixtures(), returns());
    for name in Linkage::NAMES {
        for (label, measure) in [
            ("variance", RiskMeasure::Variance),
            ("std", RiskMeasure::StandardDeviation),
            ("cvar", RiskMeasure::Cvar { beta: 0.95 }),
        ] {
            let ours = Hierarchical::hrp().linkage(linkage(name)).measure(measure).solve(&r).unwrap();
            let d = max_diff(ours.weights().as_slice().unwrap(), &floats(&f["linkages"][name]["hrp"][label]));
            assert!(d < 1e-8, "HRP {name} {label}: max weight difference {d:e}");
        }
    }
    let ours = Hierarchical::hrp().linkage(Linkage::Single).solve(&r).unwrap();
    let d = max_diff(ours.weights().as_slice().unwrap(), &floats(&f["pypfopt_hrp_single"]));
    assert!(d < 1e-8, "HRP single vs PyPortfolioOpt: {d:e}");
}

#[test]
fn herc_and_nco_equal_skfolio() {
    let (f, r) = (fixtures(), returns());
    for name in Linkage::NAMES {
        let fx = &f["linkages"][name];
        let tree = Hierarchy::params().linkage(linkage(name)).fit(&r).unwrap();
        assert_eq!(tree.optimal_clusters(), fx["herc_gap_clusters"].as_u64().unwrap() as usize, "{name}: gap rule");
        let four = Hierarchical::herc().linkage(linkage(name)).clusters(4).solve(&r).unwrap();
        let d = max_diff(four.weights().as_slice().unwrap(), &floats(&fx["herc_4"]));
        assert!(d < 1e-8, "HERC {name}, 4 clusters: {d:e}");
        let gap = Hierarchical::herc().linkage(linkage(name)).solve(&r).unwrap();
        let d = max_diff(gap.weights().as_slice().unwrap(), &floats(&fx["herc_gap"]));
        assert!(d < 1e-8, "HERC {name}, gap rule: {d:e}");
        let nco = Hierarchical::nco(Optimizer::min_variance(), Optimizer::min_variance())
            .linkage(linkage(name))
            .clusters(4)
            .solve(&r)
            .unwrap();
        // The reference's cluster solves are interior points, ours finished
        // on the active set: measured at most 2.2e-5 (single linkage), and
        // ours is never the worse of the two (asserted below).
        let theirs = ndarray::Array1::from(floats(&fx["nco_4"]));
        let d = max_diff(nco.weights().as_slice().unwrap(), theirs.as_slice().unwrap());
        assert!(d < 3e-5, "NCO {name}, 4 clusters: {d:e}");
        let cov = Moments::sample().fit(&r).unwrap().cov().clone();
        let var = |w: &ndarray::Array1<f64>| w.dot(&cov.dot(w));
        assert!(var(nco.weights()) <= var(&theirs) * (1.0 + 1e-7), "NCO {name}: variance above skfolio's");
    }
}

#[test]
fn variation_of_information_equals_skfolio() {
    let (f, r) = (fixtures(), returns());
    let tree = Hierarchy::params().distance(Distance::VariationOfInformation { bins: Some(10) }).fit(&r).unwrap();
    let theirs: Vec<f64> = f["variation_of_information_10_bins"].as_array().unwrap().iter().flat_map(floats).collect();
    let d = max_diff(tree.distances().as_slice().unwrap(), &theirs);
    assert!(d < 1e-9, "variation of information: {d:e}");
}

#[test]
fn weights_stay_within_bounds_and_loose_bounds_change_nothing() {
    let r = returns();
    for method in [Hierarchical::hrp(), Hierarchical::herc().clusters(4)] {
        let free = method.clone().solve(&r).unwrap();
        let loose = method.clone().bounds(0.0, 0.9).solve(&r).unwrap();
        assert!(max_diff(free.weights().as_slice().unwrap(), loose.weights().as_slice().unwrap()) < 1e-12);
        let (lo, hi) = (0.02, 0.08);
        let w = method.clone().bounds(lo, hi).bound("AAPL", 0.05, 0.06).solve(&r).unwrap();
        assert!((w.weights().sum() - 1.0).abs() < 1e-9, "{}", w.weights().sum());
        for (a, &x) in w.assets().iter().zip(w.weights()) {
            let (l, h) = if a == "AAPL" { (0.05, 0.06) } else { (lo, hi) };
            assert!(x >= l - 1e-7 && x <= h + 1e-7, "{}: {a} = {x} outside [{l}, {h}]", method.label());
        }
        assert!(
            max_diff(free.weights().as_slice().unwrap(), w.weights().as_slice().unwrap()) > 1e-3,
            "the bounds bind"
        );
    }
}

#[test]
fn planted_blocks_are_recovered() {
    // Three blocks of four assets: one factor per block, independent noise.
    let (t, k, per) = (1500, 3, 4);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(5);
    let normal =
        |rng: &mut rand::rngs::StdRng| -> f64 { rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng) };
    let mut values = Array2::<f64>::zeros((t, k * per));
    for row in 0..t {
        for b in 0..k {
            let f = normal(&mut rng);
            for j in 0..per {
                values[[row, b * per + j]] = 0.01 * (f + 0.6 * normal(&mut rng));
            }
        }
    }
    let assets: Vec<String> = (0..k * per).map(|i| format!("B{}_{}", i / per, i % per)).collect();
    let dates: Vec<chrono::NaiveDate> =
        (0..t).map(|d| chrono::NaiveDate::from_ymd_opt(2000, 1, 3).unwrap() + chrono::Days::new(d as u64)).collect();
    let r = Returns::new(dates, assets, values, ReturnKind::Simple).unwrap();
    for name in Linkage::NAMES {
        let tree = Hierarchy::params().linkage(linkage(name)).fit(&r).unwrap();
        let labels = tree.clusters(3).unwrap();
        for i in 0..k * per {
            assert_eq!(labels[i], labels[(i / per) * per], "{name}: asset {i} in its block: {labels:?}");
        }
        assert_ne!(labels[0], labels[per]);
        assert_ne!(labels[per], labels[2 * per]);
    }
}

#[test]
fn hierarchical_strategies_see_only_the_past() {
    let r = returns().tail(900).unwrap();
    let bt = Backtest::params().schedule(Schedule::Every(21)).lookback(252).cost_bps(10.0);
    for name in ["HRP", "HERC", "NCO"] {
        let make = || -> Vec<Box<dyn Strategy>> {
            let method = match name {
                "HRP" => Hierarchical::hrp(),
                "HERC" => Hierarchical::herc(),
                _ => Hierarchical::nco(Optimizer::min_variance(), Optimizer::min_variance()),
            };
            strategies![HierarchicalStrategy::new(name, method)]
        };
        common::assert_decisions_ignore_the_future(&bt, &r, 600, name, make);
    }
}

#[test]
fn bad_input_is_named() {
    let r = returns();
    let one = r.select(&["AAPL"]).unwrap();
    let e = Hierarchical::hrp().solve(&one).unwrap_err();
    assert!(e.is_invalid(parameter::Hierarchy::Assets), "{e}");
    let e = Linkage::from_name("centroid").unwrap_err();
    assert!(e.to_string().contains("single, complete, average, ward"), "{e}");
    let e = Hierarchical::herc().clusters(21).solve(&r).unwrap_err();
    assert!(e.to_string().contains("[1, 20]"), "{e}");
    let e = Hierarchical::herc().clusters(0).solve(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Hierarchy::Clusters), "{e}");
    let e = Hierarchical::hrp().bounds(0.0, 0.04).solve(&r).unwrap_err();
    assert!(matches!(&e, Error::Infeasible { constraint, .. } if constraint == "bounds"), "{e}");
    let e = Hierarchical::hrp().bounds(0.06, 1.0).solve(&r).unwrap_err();
    assert!(matches!(&e, Error::Infeasible { .. }), "{e}");
    let e = Hierarchical::hrp().bound("XYZ", 0.0, 0.1).solve(&r).unwrap_err();
    assert!(e.to_string().contains("\"XYZ\""), "{e}");
    // A constant asset has no correlation to cluster by.
    let mut values = r.values().to_owned();
    values.column_mut(3).fill(0.0);
    let flat = Returns::new(r.dates().to_vec(), r.assets().to_vec(), values, ReturnKind::Simple).unwrap();
    let e = Hierarchical::hrp().solve(&flat).unwrap_err();
    assert!(e.to_string().contains(&r.assets()[3]), "{e}");
}

#[test]
fn the_split_covariance_of_a_large_panel_equals_the_plain_product() {
    // 500 assets × 600 days: above the size where the product is split.
    let r = Synthetic::params()
        .assets(500)
        .days(601)
        .seed(3)
        .generate()
        .unwrap()
        .prices
        .returns(ReturnKind::Simple)
        .unwrap();
    let x = r.values();
    let xc = &x - &x.mean_axis(ndarray::Axis(0)).unwrap();
    let plain = xc.t().dot(&xc) / (x.nrows() as f64 - 1.0);
    let cov = Moments::sample().fit(&r).unwrap().cov().clone();
    let worst = (&cov - &plain).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
    assert!(worst <= 1e-15 * plain.mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b)), "{worst:e}");
    assert_eq!(cov, cov.t(), "exactly symmetric");
}

#[test]
fn nco_takes_scenario_objectives_inside_and_outside() {
    let r = returns().tail(1001).unwrap();
    let cvar = Optimizer::min_risk(RiskMeasure::Cvar { beta: 0.95 });
    let a = Hierarchical::nco(cvar.clone(), cvar).clusters(4).solve(&r).unwrap();
    let b = Hierarchical::nco(Optimizer::min_variance(), Optimizer::min_variance()).clusters(4).solve(&r).unwrap();
    assert!((a.weights().sum() - 1.0).abs() < 1e-8 && a.weights().iter().all(|w| *w >= -1e-9));
    assert!(max_diff(a.weights().as_slice().unwrap(), b.weights().as_slice().unwrap()) > 1e-3, "CVaR is not variance");
}

#[test]
fn a_tree_grows_from_moments_too() {
    let r = returns();
    let from_returns = Hierarchy::params().linkage(Linkage::Average).fit(&r).unwrap();
    let from_moments =
        Hierarchy::params().linkage(Linkage::Average).fit_moments(&Moments::sample().fit(&r).unwrap()).unwrap();
    assert_eq!(from_returns.merges(), from_moments.merges());
    let e = Hierarchy::params()
        .distance(Distance::VariationOfInformation { bins: None })
        .fit_moments(&Moments::sample().fit(&r).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("needs the returns"), "{e}");
}

/// A hierarchical allocation says what produced it, and claims no solver;
/// a solved one and a critical-line frontier point say theirs.
#[test]
fn allocations_report_their_own_provenance() {
    let r = returns();
    let hrp = Hierarchical::hrp().solve(&r).unwrap();
    assert!(matches!(hrp.provenance(), assetalloc::optimize::Provenance::Hierarchical { .. }));
    assert_eq!((hrp.status(), hrp.tolerance(), hrp.iterations()), (None, None, None));
    let caption = hrp.table().to_html();
    assert!(!caption.contains("Clarabel") && caption.contains("HRP"), "{caption}");
    let m = Moments::sample().fit(&r).unwrap().annualized();
    let solved = Optimizer::min_variance().solve(&m).unwrap();
    assert_eq!(solved.status(), Some(SolverStatus::Solved));
    assert!(solved.iterations().unwrap() > 0);
    assert!(solved.table().to_html().contains("Clarabel Solved"));
    let frontier = Frontier::params().points(3).critical_line().solve(&m).unwrap();
    let point = &frontier.points[1];
    assert!(
        matches!(point.provenance(), assetalloc::optimize::Provenance::CriticalLine { turning_points, .. } if *turning_points > 1)
    );
    assert!(point.table().to_html().contains("critical line, exact"));
}

/// A bound set for every asset is named so, and sums read as numbers a
/// person would write.
#[test]
fn bound_errors_name_what_was_set_and_round_their_sums() {
    let r = returns();
    let e = Hierarchical::hrp().bounds(0.5, 0.1).solve(&r).unwrap_err().to_string();
    assert!(e.contains("every asset") && !e.contains(&r.assets()[0]), "{e}");
    let e = Hierarchical::hrp().bounds(0.0, 0.02).solve(&r).unwrap_err().to_string();
    assert!(e.contains("maximum weights to 0.4;"), "{e}");
    let e = Optimizer::min_variance()
        .constraints(Constraints::long_only().bounds(0.3, 0.1))
        .solve(&Moments::sample().fit(&r).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("every asset") && !e.contains(&r.assets()[0]), "{e}");
}

/// The largest weights, in order, and as a table of several allocations.
#[test]
fn largest_weights_come_first() {
    let r = returns();
    let hrp = Hierarchical::hrp().solve(&r).unwrap();
    let top = hrp.largest(3);
    assert_eq!(top.len(), 3);
    let max = hrp.weights().iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(top[0].1, max);
    assert!(top[0].1 >= top[1].1 && top[1].1 >= top[2].1);
    assert_eq!(hrp.weight(top[1].0), Some(top[1].1));
    let html = Allocation::largest_table(&[&hrp], 2).to_html();
    assert!(html.contains(top[0].0) && html.contains(&format!("{:.1} %", 100.0 * top[0].1)), "{html}");
}
