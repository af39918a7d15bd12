//! The critical line algorithm against PyPortfolioOpt's CLA turning points
//! (fixture from tools/reference/cla.py) and against Clarabel's frontier,
//! plus bad input.
#![cfg(feature = "optimize")]

use assetalloc::optimize::CriticalLine;
use assetalloc::parameter;
use assetalloc::prelude::*;
use ndarray::{Array1, Array2};
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cla_reference.json"))
        .expect("cla fixture");
    serde_json::from_str(&text).unwrap()
}

fn vec_of(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn moments(fx: &Value) -> (Array1<f64>, Array2<f64>) {
    let mean = Array1::from(vec_of(&fx["mean"]));
    let rows: Vec<Vec<f64>> = fx["cov"].as_array().unwrap().iter().map(vec_of).collect();
    let n = rows.len();
    (mean, Array2::from_shape_vec((n, n), rows.concat()).unwrap())
}

/// The fixture's moments as `Moments` (one period a year: the figures
/// are used as they are).
fn fixture_moments(fx: &Value) -> Moments {
    let (mean, cov) = moments(fx);
    let assets = fx["assets"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    Moments::new(assets, mean, cov, 1.0).unwrap()
}

fn bounds(case: &Value, n: usize) -> (Vec<f64>, Vec<f64>) {
    (vec![case["lower"].as_f64().unwrap(); n], vec![case["upper"].as_f64().unwrap(); n])
}

/// Each fixture case: its name and bounds, and our turning points.
struct Case {
    name: String,
    lo: Vec<f64>,
    hi: Vec<f64>,
    cla: CriticalLine,
    fixture: Value,
}

fn cases(fx: &Value) -> Vec<Case> {
    let (mean, cov) = moments(fx);
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let (lo, hi) = bounds(case, mean.len());
            let cla = CriticalLine::solve(&mean, &cov, &lo, &hi).unwrap();
            Case { name: case["name"].as_str().unwrap().to_string(), lo, hi, cla, fixture: case.clone() }
        })
        .collect()
}

#[test]
fn turning_points_equal_pyportfolioopts() {
    // PyPortfolioOpt drops the turning points it computes with weights that
    // do not sum to 1 (its own purge): on these data the long-only point at
    // λ = 0.1421, where an asset leaves (its weights sum to 0.9997 there),
    // so it lists one point fewer and one other point twice. Each of its
    // points is one of ours; ours are checked for optimality below.
    for Case { name, cla, fixture: case, .. } in cases(&fixture()) {
        let want = case["weights"].as_array().unwrap();
        let mut matched = std::collections::BTreeSet::new();
        for (k, w) in want.iter().enumerate() {
            let l = case["lambdas"][k].as_f64().unwrap_or(f64::INFINITY);
            let (i, p) = cla
                .turning_points
                .iter()
                .enumerate()
                .find(|(_, p)| p.lambda == l || (p.lambda - l).abs() <= 1e-8 * l.abs().max(1.0))
                .unwrap_or_else(|| panic!("{name}: PyPortfolioOpt's turning point {k} at λ = {l} is not one of ours"));
            let diff = p.weights.iter().zip(vec_of(w)).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(diff <= 1e-8, "{name}, turning point {k} (λ = {l}): weights differ by {diff:e}");
            matched.insert(i);
        }
        assert!(
            matched.len() + 2 >= cla.turning_points.len(),
            "{name}: {} of ours unmatched",
            cla.turning_points.len() - matched.len()
        );
        // Returns and λ fall from the maximum return to the minimum variance.
        let r = cla.returns();
        assert!(r.windows(2).all(|x| x[1] <= x[0] + 1e-12 * x[0].abs()), "{name}: returns must fall");
        assert!(cla.turning_points.windows(2).all(|p| p[1].lambda < p[0].lambda));
        assert_eq!(cla.turning_points.last().unwrap().lambda, 0.0);
    }
}

#[test]
fn every_turning_point_satisfies_the_optimality_conditions() {
    // At λ, with γ the budget's multiplier, the gradient g = Σw − λμ − γ1
    // is 0 on the free assets, ≥ 0 at a lower bound and ≤ 0 at an upper
    // one; the weights sum to 1 within the bounds.
    let fx = fixture();
    let (mean, cov) = moments(&fx);
    for Case { name, lo, hi, cla, .. } in cases(&fx) {
        for (k, p) in cla.turning_points.iter().enumerate().skip(1) {
            let w = &p.weights;
            assert!((w.sum() - 1.0).abs() < 1e-12, "{name} {k}: sum {}", w.sum());
            assert!(w.iter().zip(&lo).zip(&hi).all(|((w, l), h)| *w >= l - 1e-12 && *w <= h + 1e-12));
            let raw = cov.dot(w) - &mean * p.lambda;
            let gamma = raw[p.free[0]];
            for i in 0..mean.len() {
                let g = raw[i] - gamma;
                let scale = 1e-9 * raw.iter().fold(1e-3, |m: f64, v| m.max(v.abs()));
                if p.free.contains(&i) {
                    assert!(g.abs() <= scale, "{name} {k}: free asset {i} has gradient {g:e}");
                } else if w[i] <= lo[i] + 1e-12 {
                    assert!(g >= -scale, "{name} {k}: asset {i} at its lower bound has gradient {g:e}");
                } else {
                    assert!(g <= scale, "{name} {k}: asset {i} at its upper bound has gradient {g:e}");
                }
            }
        }
    }
}

#[test]
fn every_point_between_turning_points_equals_clarabels() {
    let fx = fixture();
    let (mean, cov) = moments(&fx);
    let m = fixture_moments(&fx);
    for case in fx["cases"].as_array().unwrap() {
        let (lo, hi) = bounds(case, mean.len());
        let cla = CriticalLine::solve(&mean, &cov, &lo, &hi).unwrap();
        let r = cla.returns();
        let (top, bottom) = (r[0], r[r.len() - 1]);
        let c = Constraints::long_only().bounds(lo[0], hi[0]);
        let mut worst: f64 = 0.0;
        for i in 0..25 {
            // Inside the ends, where the target row is strictly feasible.
            let target = bottom + (top - bottom) * (0.001 + 0.998 * i as f64 / 24.0);
            let exact = cla.at_return(target).unwrap();
            assert!((exact.dot(&mean) - target).abs() < 1e-12);
            let clarabel = Optimizer::target_return(target).constraints(c.clone()).solve(&m).unwrap();
            let d = exact.iter().zip(clarabel.weights()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            worst = worst.max(d);
            // Exact: never above the interior-point solution's variance.
            let var = |w: &Array1<f64>| w.dot(&cov.dot(w));
            assert!(var(&exact) <= var(clarabel.weights()) * (1.0 + 1e-12), "target {target}");
        }
        // Clarabel's solution polished on its active set is exact; the
        // interior point alone (tolerance 1e-10) was 3.6e-6 off here.
        assert!(worst <= 1e-12, "{}: largest weight difference to Clarabel {worst:e}", case["name"]);
        // The last turning point is Clarabel's minimum variance.
        let mv = Optimizer::min_variance().constraints(c).solve(&m).unwrap();
        let last = &cla.turning_points.last().unwrap().weights;
        assert!(
            last.iter().zip(mv.weights()).all(|(a, b)| (a - b).abs() <= 1e-12),
            "min variance vs the last turning point"
        );
    }
}

#[test]
fn bad_input_is_named() {
    let fx = fixture();
    let (mean, cov) = moments(&fx);
    let n = mean.len();
    // Upper bounds that cannot hold a fully invested portfolio.
    let e = CriticalLine::solve(&mean, &cov, &vec![0.0; n], &vec![0.04; n]).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { parameter: p, message } if *p == parameter::Optimize::Bounds && message.contains("0.8")),
        "{e}"
    );
    let e = CriticalLine::solve(&mean, &cov, &vec![0.0; n], &vec![1.0; n - 1]).unwrap_err();
    assert!(matches!(e, Error::Shape(_)), "{e}");
    let mut lo = vec![0.0; n];
    lo[3] = 0.5;
    let mut hi = vec![1.0; n];
    hi[3] = 0.2;
    let e = CriticalLine::solve(&mean, &cov, &lo, &hi).unwrap_err();
    assert!(e.to_string().contains("asset 3"), "{e}");
    let mut nan = mean.clone();
    nan[0] = f64::NAN;
    assert!(CriticalLine::solve(&nan, &cov, &vec![0.0; n], &vec![1.0; n]).is_err());
    // A riskless asset makes the covariance singular once it is free.
    let e = CriticalLine::solve(
        &Array1::from(vec![0.1, 0.02]),
        &ndarray::array![[0.04, 0.0], [0.0, 0.0]],
        &[0.0; 2],
        &[1.0; 2],
    )
    .unwrap_err();
    assert!(matches!(e, Error::Solver { .. }), "{e}");
    let cla = CriticalLine::solve(&mean, &cov, &vec![0.0; n], &vec![1.0; n]).unwrap();
    let r = cla.returns();
    let e = cla.at_return(r[0] + 0.01).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::Target), "{e}");
}

#[test]
fn the_frontier_by_the_critical_line_equals_clarabels() {
    let m = fixture_moments(&fixture());
    let assets = m.assets().to_vec();
    for c in [Constraints::long_only(), Constraints::long_only().bounds(0.0, 0.15)] {
        let exact = Frontier::params().points(25).constraints(c.clone()).critical_line().solve(&m).unwrap();
        let clarabel = Frontier::params().points(25).constraints(c).solve(&m).unwrap();
        assert_eq!(exact.points.len(), 25);
        // The same curve: Clarabel's points, polished on their active sets,
        // equal the exact ones but for the top point, which Clarabel's path
        // stops 1e-9 (relative) short of the maximum return (unpolished
        // they were 7e-6 off, the first return 2e-5 from the exact one).
        for (a, b) in exact.points.iter().zip(&clarabel.points) {
            assert!(
                (a.expected_return() - b.expected_return()).abs() <= 1e-9 * b.expected_return().abs(),
                "{} vs {}",
                a.expected_return(),
                b.expected_return()
            );
            let d = a.weights().iter().zip(b.weights()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            assert!(d <= 1e-8, "weights differ by {d:e}");
        }
        // Equally spaced returns from the exact minimum variance to the top.
        let r: Vec<f64> = exact.points.iter().map(|p| p.expected_return()).collect();
        let step = (r[24] - r[0]) / 24.0;
        assert!(r.windows(2).all(|x| ((x[1] - x[0]) - step).abs() <= 1e-12));
    }
    // Constraints beyond bounds are named; so is a scenario measure.
    let grouped = Constraints::long_only().group("banks", &assets[..3], 0.0, 0.2);
    let e = Frontier::params().constraints(grouped).critical_line().solve(&m).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { parameter: p, message } if *p == parameter::Optimize::CriticalLine && message.contains("groups")),
        "{e}"
    );
    let r = Prices::read_csv(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sp500.csv"))
        .unwrap()
        .returns(ReturnKind::Simple)
        .unwrap();
    let e =
        Frontier::params().measure(RiskMeasure::Cvar { beta: 0.95 }).critical_line().solve_scenarios(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::CriticalLine), "{e}");
}
