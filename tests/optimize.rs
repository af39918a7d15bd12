//! Estimators and optimisers against independent reference figures
//! (numpy, scikit-learn, cvxpy + Clarabel, PyPortfolioOpt; see
//! tools/reference/optimize.py) on the bundled S&P 500 panel, plus
//! optimality checks that need no reference, constraints in action, and
//! bad input.
#![cfg(feature = "optimize")]

use assetalloc::parameter;
use assetalloc::prelude::*;
use ndarray::{Array1, Array2};
use serde_json::Value;

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/optimize_reference.json"))
        .expect("reference fixture");
    serde_json::from_str(&text).expect("valid JSON")
}

fn vec_of(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn mat_of(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().expect("array").iter().map(vec_of).collect();
    let n = rows.len();
    Array2::from_shape_fn((n, rows[0].len()), |(i, j)| rows[i][j])
}

fn returns() -> Returns {
    datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap()
}

fn annual_sample() -> Moments {
    Moments::sample().fit(&returns()).unwrap().annualized()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < tol, "{what}: max |difference| {worst:e} ≥ {tol:e}\n got  {got:?}\n want {want:?}");
}

/// Relative closeness for matrices with entries ~1e-4.
fn assert_mat_close(what: &str, got: &Array2<f64>, want: &Array2<f64>, rel: f64) {
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = got.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < rel * scale, "{what}: max |difference| {worst:e} vs scale {scale:e}");
}

// ---------- estimators ----------

#[test]
fn estimators_match_numpy_and_scikit_learn() {
    let r = reference();
    let ret = returns();
    let s = Moments::sample().fit(&ret).unwrap();
    assert_close("sample mean", s.mean().as_slice().unwrap(), &vec_of(&r["sample_mean"]), 1e-15);
    assert_mat_close("sample cov", s.cov(), &mat_of(&r["sample_cov"]), 1e-12);

    let lw = Moments::ledoit_wolf().fit(&ret).unwrap();
    assert_mat_close("Ledoit–Wolf identity", lw.cov(), &mat_of(&r["ledoit_wolf_identity"]["cov"]), 1e-10);
    let delta = r["ledoit_wolf_identity"]["shrinkage"].as_f64().unwrap();
    assert!(lw.method().contains(&format!("{delta:.3}")), "{} vs {delta}", lw.method());

    let cc = Moments::ledoit_wolf_constant_correlation().fit(&ret).unwrap();
    assert_mat_close(
        "Ledoit–Wolf constant correlation",
        cc.cov(),
        &mat_of(&r["ledoit_wolf_constant_correlation"]["cov"]),
        1e-10,
    );

    let ew = Moments::ewma(63.0).fit(&ret).unwrap();
    assert_close("EWMA mean", ew.mean().as_slice().unwrap(), &vec_of(&r["ewma_halflife_63"]["mean"]), 1e-14);
    assert_mat_close("EWMA cov", ew.cov(), &mat_of(&r["ewma_halflife_63"]["cov"]), 1e-10);

    let a = s.annualized();
    assert!((a.cov()[[0, 0]] - 252.0 * s.cov()[[0, 0]]).abs() < 1e-15);
    assert!(a.is_annualized() && !s.is_annualized());
}

#[test]
fn estimator_bad_input() {
    // A half-life so short that fewer effective observations than assets
    // remain: singular (or 0/0, reported as overflowing returns) before.
    for h in [1.0, 1e-300] {
        let e = Moments::ewma(h).fit(&returns()).unwrap_err();
        assert!(e.is_invalid(parameter::Estimate::Halflife), "{h}: {e}");
    }
    let names2: Vec<String> = vec!["a".into(), "b".into()];
    let e = Moments::new(names2.clone(), Array1::zeros(2), Array2::eye(2), 0.0).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::PeriodsPerYear), "{e}");
    let e = Moments::new(vec!["a".into(), "a".into()], Array1::zeros(2), Array2::eye(2), 252.0).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Assets), "{e}");
    let short = returns().head(10).unwrap(); // 10 rows, 20 assets
    let e = Moments::sample().fit(&short).unwrap_err();
    assert!(matches!(e, Error::TooFewRows { needed: 21, got: 10, .. }), "{e}");
    assert!(Moments::ledoit_wolf().fit(&short).is_ok(), "shrinkage works with T < N");
    assert!(matches!(Moments::ewma(0.0).fit(&returns()), Err(Error::InvalidParameter { .. })));
    let names: Vec<String> = vec!["a".into(), "b".into()];
    let bad = ndarray::array![[1.0, 2.0], [2.0, 1.0]]; // eigenvalues 3, −1
    let e = Moments::new(names.clone(), Array1::zeros(2), bad, 252.0).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Covariance), "{e}");
    let asym = ndarray::array![[1.0, 0.2], [0.1, 1.0]];
    let e = Moments::new(names.clone(), Array1::zeros(2), asym, 252.0).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Covariance), "{e}");
    // EWMA, like the sample covariance, is singular with T ≤ N.
    let e = Moments::ewma(5.0).fit(&short).unwrap_err();
    assert!(matches!(e, Error::TooFewRows { needed: 21, got: 10, .. }), "{e}");
    // Returns too large to square: an error, not an infinite covariance.
    let huge = Returns::new(
        short.dates().to_vec(),
        vec!["a".into(), "b".into()],
        Array2::from_shape_fn((10, 2), |(i, j)| if j == 0 { 1e200 * (i as f64 + 1.0) } else { 0.01 * i as f64 }),
        ReturnKind::Simple,
    )
    .unwrap();
    for est in [Moments::sample(), Moments::ewma(5.0), Moments::ledoit_wolf()] {
        let e = est.fit(&huge).unwrap_err();
        assert!(e.is_invalid(parameter::Estimate::Returns), "{e}");
    }
    // A constant asset: the constant-correlation target is undefined (0/0), and says so.
    let flat = Returns::new(
        short.dates().to_vec(),
        vec!["a".into(), "b".into()],
        Array2::from_shape_fn((10, 2), |(i, j)| if j == 0 { 0.0 } else { 0.01 * (i % 3) as f64 }),
        ReturnKind::Simple,
    )
    .unwrap();
    let e = Moments::ledoit_wolf_constant_correlation().fit(&flat).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Returns), "{e}");
    let nan = Array1::from(vec![f64::NAN, 0.0]);
    assert!(Moments::new(names.clone(), nan, Array2::eye(2), 252.0).is_err());
    assert!(matches!(Moments::new(names, Array1::zeros(3), Array2::eye(2), 252.0), Err(Error::Shape(_))));
    let m = annual_sample();
    assert!(matches!(m.with_mean(Array1::zeros(3)), Err(Error::Shape(_))));
}

// ---------- objectives against the reference ----------

#[test]
fn min_variance_matches_cvxpy() {
    let a = Optimizer::min_variance().solve(&annual_sample()).unwrap();
    assert_close("min variance", a.weights().as_slice().unwrap(), &vec_of(&reference()["min_variance"]), 1e-5);
    assert_eq!(a.status(), Some(SolverStatus::Solved));
    assert!(a.tolerance().unwrap() <= 1e-8);
}

#[test]
fn max_sharpe_matches_cvxpy_and_pyportfolioopt() {
    let r = reference();
    let a = Optimizer::max_sharpe(0.0).solve(&annual_sample()).unwrap();
    let w = a.weights().as_slice().unwrap();
    assert_close("max Sharpe vs cvxpy", w, &vec_of(&r["max_sharpe"]), 1e-5);
    assert_close("max Sharpe vs PyPortfolioOpt", w, &vec_of(&r["max_sharpe_pypfopt"]), 1e-5);
}

#[test]
fn mean_variance_matches_cvxpy_for_three_risk_aversions() {
    let r = reference();
    let m = annual_sample();
    for lam in [1.0, 10.0, 100.0] {
        let a = Optimizer::mean_variance(lam).solve(&m).unwrap();
        let want = vec_of(&r["mean_variance"][format!("{lam:.1}")]);
        assert_close(&format!("mean-variance λ = {lam}"), a.weights().as_slice().unwrap(), &want, 1e-5);
    }
}

#[test]
fn target_return_points_match_cvxpy_frontier() {
    let r = reference();
    let m = annual_sample();
    for p in r["frontier"].as_array().unwrap() {
        let target = p["target"].as_f64().unwrap();
        let a = Optimizer::target_return(target).solve(&m).unwrap();
        assert_close(&format!("target {target}"), a.weights().as_slice().unwrap(), &vec_of(&p["weights"]), 1e-5);
    }
}

// ---------- optimality without a reference ----------

#[test]
fn min_variance_satisfies_its_kkt_conditions() {
    // Long-only, fully invested: with g = 2Σw, optimality means g_i = ν for
    // every held asset and g_i ≥ ν for every asset at zero (ν the budget
    // multiplier). Checked on the weights alone, no solver duals needed.
    let m = annual_sample();
    let a = Optimizer::min_variance().solve(&m).unwrap();
    let w = a.weights();
    let g = m.cov().dot(w) * 2.0;
    let held: Vec<usize> = (0..20).filter(|&i| w[i] > 1e-6).collect();
    let nu = held.iter().map(|&i| g[i]).sum::<f64>() / held.len() as f64;
    for i in 0..20 {
        if w[i] > 1e-6 {
            assert!((g[i] - nu).abs() < 1e-6 * nu.abs().max(1e-3), "stationarity at {i}: {} vs {nu}", g[i]);
        } else {
            assert!(g[i] >= nu - 1e-6, "dual feasibility at {i}: {} < {nu}", g[i]);
        }
        assert!(w[i] >= -1e-9, "primal feasibility");
    }
    assert!((w.sum() - 1.0).abs() < 1e-9);
}

#[test]
fn risk_parity_equalises_risk_contributions() {
    let m = annual_sample();
    let a = Optimizer::risk_parity().solve(&m).unwrap();
    let rc = a.risk_contributions();
    for v in rc {
        assert!((v - 0.05).abs() < 1e-6, "risk contribution {v}");
    }
    assert!((a.weights().sum() - 1.0).abs() < 1e-9);
    // Budgets: the first asset carries twice the risk of each other one.
    let mut b = vec![1.0; 20];
    b[0] = 2.0;
    let a = Optimizer::risk_budgeting(b).solve(&m).unwrap();
    let rc = a.risk_contributions();
    assert!((rc[0] - 2.0 / 21.0).abs() < 1e-6 && (rc[1] - 1.0 / 21.0).abs() < 1e-6, "{rc}");
}

#[test]
fn frontier_is_dominated_by_max_sharpe_and_starts_at_min_variance() {
    let m = annual_sample();
    let f = Frontier::params().points(50).solve(&m).unwrap();
    assert_eq!(f.points.len(), 50);
    let best = f.max_sharpe.as_ref().unwrap().sharpe();
    let mv = f.min_variance.volatility();
    for p in &f.points {
        assert!(p.sharpe() <= best + 1e-7, "frontier point Sharpe {} > tangency {best}", p.sharpe());
        assert!(p.volatility() >= mv - 1e-7);
    }
    // Returns increase and volatility never decreases along the frontier.
    for w in f.points.windows(2) {
        assert!(w[1].expected_return() > w[0].expected_return());
        assert!(w[1].volatility() >= w[0].volatility() - 1e-9);
    }
    assert!((f.points[0].volatility() - mv).abs() < 1e-6);
    let div = Optimizer::max_diversification().solve(&m).unwrap();
    let ratio = |a: &Allocation| m.volatility().dot(a.weights()) / a.volatility();
    for p in f.points.iter().step_by(7) {
        assert!(ratio(&div) >= ratio(p) - 1e-7);
    }
}

#[test]
fn target_volatility_binds_and_beats_the_min_variance_return() {
    let m = annual_sample();
    let mv = Optimizer::min_variance().solve(&m).unwrap();
    let target = mv.volatility() * 1.3;
    let a = Optimizer::target_volatility(target).solve(&m).unwrap();
    assert!((a.volatility() - target).abs() < 1e-6, "{} vs {target}", a.volatility());
    let same = Optimizer::target_return(a.expected_return()).solve(&m).unwrap();
    // Both are finished on their active sets (measured: 2.5e-11 apart).
    assert!((same.volatility() - target).abs() < 1e-9, "dual problems agree");
    let e = Optimizer::target_volatility(mv.volatility() * 0.5).solve(&m).unwrap_err();
    assert!(matches!(e, Error::Infeasible { .. }), "{e}");
}

#[test]
fn min_cvar_beats_min_variance_on_cvar() {
    let r = returns().tail(1000).unwrap();
    let a = Optimizer::min_cvar(0.95).solve_scenarios(&r).unwrap();
    let cvar = |w: &Array1<f64>| {
        let x = r.values();
        let mut losses: Vec<f64> = (0..x.nrows()).map(|t| -x.row(t).dot(w)).collect();
        losses.sort_by(|a, b| b.total_cmp(a));
        let k = (0.05 * losses.len() as f64).round() as usize;
        losses[..k].iter().sum::<f64>() / k as f64
    };
    let mv = Optimizer::min_variance().solve(&Moments::sample().fit(&r).unwrap()).unwrap();
    assert!(cvar(a.weights()) <= cvar(mv.weights()) + 1e-9);
    assert!((a.cvar().unwrap() - cvar(a.weights())).abs() < 1e-6, "{} vs {}", a.cvar().unwrap(), cvar(a.weights()));
}

// ---------- constraints in action ----------

#[test]
fn bounds_groups_cash_turnover_and_leverage_hold() {
    let m = annual_sample();
    let assets = m.assets().to_vec();
    let a = Optimizer::max_sharpe(0.0).constraints(Constraints::long_only().bounds(0.0, 0.1)).solve(&m).unwrap();
    assert!(a.weights().iter().all(|&w| w <= 0.1 + 1e-8));
    let tech = ["AAPL", "MSFT", "AMD"];
    let a = Optimizer::max_sharpe(0.0)
        .constraints(Constraints::long_only().group("tech", &tech, 0.0, 0.2))
        .solve(&m)
        .unwrap();
    let g: f64 = tech.iter().map(|t| a.weight(t).unwrap()).sum();
    assert!(g <= 0.2 + 1e-8, "tech weight {g}");
    // Cash: with a high risk aversion some money stays out of the market.
    let a = Optimizer::mean_variance(1e4).constraints(Constraints::long_only().allow_cash()).solve(&m).unwrap();
    assert!(a.cash() > 0.1, "cash {}", a.cash());
    // Turnover cap against an equal-weight start.
    let prev = vec![1.0 / 20.0; 20];
    let a = Optimizer::max_sharpe(0.0)
        .constraints(Constraints::long_only().previous(prev.clone()).max_turnover(0.3))
        .solve(&m)
        .unwrap();
    assert!(a.turnover().unwrap() <= 0.3 + 1e-7);
    // Costs shrink turnover.
    let free =
        Optimizer::mean_variance(10.0).constraints(Constraints::long_only().previous(prev.clone())).solve(&m).unwrap();
    let costly = Optimizer::mean_variance(10.0)
        .constraints(Constraints::long_only().previous(prev).cost_bps(500.0))
        .solve(&m)
        .unwrap();
    assert!(costly.turnover().unwrap() < free.turnover().unwrap() - 0.01);
    // Shorts with a gross leverage cap of 1.5.
    let a = Optimizer::mean_variance(5.0)
        .constraints(Constraints::long_only().bounds(-0.3, 1.0).max_leverage(1.5))
        .solve(&m)
        .unwrap();
    let gross: f64 = a.weights().iter().map(|w| w.abs()).sum();
    assert!(gross <= 1.5 + 1e-7 && a.weights().iter().any(|&w| w < -1e-4), "gross {gross}");
    assert_eq!(a.assets(), assets.as_slice());
}

// ---------- bad input ----------

#[test]
fn infeasible_constraints_are_named() {
    let m = annual_sample();
    let e = Optimizer::min_variance().constraints(Constraints::long_only().bounds(0.0, 0.04)).solve(&m).unwrap_err();
    assert!(matches!(e, Error::Infeasible { ref constraint, .. } if constraint == "bounds"), "{e}");
    let e = Optimizer::min_variance()
        .constraints(Constraints::long_only().group("a", &["AAPL", "MSFT"], 0.5, 1.0).group(
            "b",
            &["AAPL", "MSFT"],
            0.0,
            0.3,
        ))
        .solve(&m)
        .unwrap_err();
    assert!(matches!(e, Error::Infeasible { ref constraint, .. } if constraint == "group a"), "{e}");
    // Contradictions the pre-checks cannot see reach the solver, which says so.
    let e = Optimizer::min_variance()
        .constraints(
            Constraints::long_only()
                .group("a", &["AAPL", "MSFT"], 0.6, 1.0)
                .group("b", &["AAPL", "AMD"], 0.0, 0.1)
                .group("c", &["MSFT", "AMD"], 0.0, 0.1),
        )
        .solve(&m)
        .unwrap_err();
    assert!(matches!(e, Error::Solver { status, .. } if status.is_infeasible()), "{e}");
    let e = Optimizer::min_variance().constraints(Constraints::long_only().group("g", &["ZZZ"], 0.0, 1.0)).solve(&m);
    assert!(matches!(e, Err(Error::UnknownAsset { .. })));
    let e = Optimizer::target_return(10.0).solve(&m).unwrap_err();
    assert!(matches!(e, Error::Infeasible { ref constraint, .. } if constraint == "target return"), "{e}");
    let e =
        Optimizer::mean_variance(1.0).constraints(Constraints::long_only().max_turnover(0.1)).solve(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::Previous), "{e}");
}

#[test]
fn risk_parity_refuses_an_asset_without_variance() {
    let names: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
    let cov = ndarray::array![[0.04, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.09]];
    let m = Moments::new(names, Array1::zeros(3), cov, 252.0).unwrap();
    let e = Optimizer::risk_parity().solve(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::Covariance), "{e}");
}

#[test]
fn max_sharpe_explains_when_nothing_beats_the_risk_free_rate() {
    let m = annual_sample();
    let e = Optimizer::max_sharpe(5.0).solve(&m).unwrap_err();
    assert!(matches!(e, Error::Infeasible { ref constraint, .. } if constraint == "risk-free rate"), "{e}");
}

#[test]
fn allocation_renders_weights_and_statistics() {
    let a = Optimizer::min_variance().solve(&annual_sample()).unwrap();
    let h = a.to_html();
    assert!(h.contains("minimum variance") && h.contains("Clarabel Solved"));
    assert_eq!(h.matches("<tr>").count(), 21);
    assert!(a.plot_weights().to_json().contains("\"type\":\"bar\""));
    let f = Frontier::params().points(10).solve(&annual_sample()).unwrap();
    assert!(f.plot_frontier().to_json().contains("maximum Sharpe"));
}

#[test]
fn out_of_sample_holding_matches_hand_computation_and_includes_1_over_n() {
    let r = returns();
    let (train, test) = r.split(Split::AfterDate("2015-12-31".parse().unwrap())).unwrap();
    let m = Moments::ledoit_wolf().fit(&train).unwrap().annualized();
    let mv = Optimizer::min_variance().solve(&m).unwrap();
    let oos = OutOfSample::hold(&[&mv], &test).unwrap();
    assert_eq!(oos.reports[0].name, "1/N (equal weight)");
    assert_eq!(oos.reports[1].dates, test.dates());
    assert_eq!(oos.reports[1].rebalances.len(), 1, "bought once, never traded again");
    // Final wealth of the held min-variance portfolio, by hand.
    let x = test.values();
    let hand: f64 =
        (0..20).map(|i| mv.weights()[i] * x.column(i).iter().map(|v| 1.0 + v).product::<f64>()).sum::<f64>();
    let got: f64 = *oos.reports[1].equity().last().unwrap();
    assert!((hand / mv.weights().sum() - got).abs() < 1e-9, "{hand} vs {got}");
    assert!(oos.to_html().contains("Out of sample"));
}

#[test]
fn named_linear_constraints_hold_in_every_objective() {
    let m = annual_sample();
    let w = |a: &Allocation, name: &str| a.weight(name).unwrap();
    let free = Optimizer::min_variance().solve(&m).unwrap();
    assert!(w(&free, "AAPL") + w(&free, "MSFT") < 0.3, "the constraint below must bind");
    let tilted =
        Constraints::long_only().linear("tech ≥ 30 %", &[("AAPL", 1.0), ("MSFT", 1.0)], Relation::AtLeast, 0.3);
    let a = Optimizer::min_variance().constraints(tilted).solve(&m).unwrap();
    assert!((w(&a, "AAPL") + w(&a, "MSFT") - 0.3).abs() < 1e-8, "binding at the optimum");
    let fixed = Constraints::long_only().linear("AAPL at 10 %", &[("AAPL", 1.0)], Relation::Equal, 0.1);
    let a = Optimizer::max_sharpe(0.0).constraints(fixed).solve(&m).unwrap();
    assert!((w(&a, "AAPL") - 0.1).abs() < 1e-8, "held in the homogenised max-Sharpe program too");
    // A beta-like exposure cap with a scenario measure.
    let r = returns().tail(750).unwrap();
    let capped = Constraints::long_only().linear(
        "exposure ≤ 0.8",
        &[("AAPL", 2.0), ("AMD", 2.0), ("KO", 0.5)],
        Relation::AtMost,
        0.8,
    );
    let a = Optimizer::min_risk(RiskMeasure::Cvar { beta: 0.95 }).constraints(capped).solve_scenarios(&r).unwrap();
    assert!(2.0 * w(&a, "AAPL") + 2.0 * w(&a, "AMD") + 0.5 * w(&a, "KO") <= 0.8 + 1e-8);
    // Impossible within the bounds: named before solving.
    let e = Optimizer::min_variance()
        .constraints(Constraints::long_only().bounds(0.0, 0.2).linear(
            "AAPL ≥ 50 %",
            &[("AAPL", 1.0)],
            Relation::AtLeast,
            0.5,
        ))
        .solve(&m)
        .unwrap_err();
    assert!(
        matches!(e, Error::Infeasible { ref constraint, .. } if constraint == "linear constraint AAPL ≥ 50 %"),
        "{e}"
    );
    let e = Optimizer::min_variance()
        .constraints(Constraints::long_only().linear("x", &[("ZZZ", 1.0)], Relation::AtMost, 1.0))
        .solve(&m)
        .unwrap_err();
    assert!(matches!(e, Error::UnknownAsset { .. }), "{e}");
    let e = Optimizer::min_variance()
        .constraints(Constraints::long_only().linear("nan", &[("AAPL", f64::NAN)], Relation::AtMost, 1.0))
        .solve(&m)
        .unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::Linear), "{e}");
}

#[test]
fn tracking_error_caps_hold_bind_and_collapse_to_the_benchmark() {
    let m = annual_sample();
    let names = m.assets().to_vec();
    let bench: Vec<(String, f64)> = names.iter().map(|a| (a.clone(), 1.0 / names.len() as f64)).collect();
    let b = Array1::from_elem(names.len(), 1.0 / names.len() as f64);
    let te = |w: &Array1<f64>| {
        let d = w - &b;
        d.dot(&m.cov().dot(&d)).sqrt()
    };
    let free = Optimizer::mean_variance(5.0).solve(&m).unwrap();
    assert!(te(free.weights()) > 0.03, "the cap below must bind");
    let capped = Optimizer::mean_variance(5.0)
        .constraints(Constraints::long_only().tracking_error(Benchmark::Weights(bench.clone()), 0.03))
        .solve(&m)
        .unwrap();
    assert!((te(capped.weights()) - 0.03).abs() < 1e-7, "binds: {}", te(capped.weights()));
    // A cap of 0: the benchmark itself.
    let zero = Optimizer::min_variance()
        .constraints(Constraints::long_only().tracking_error(Benchmark::Weights(bench.clone()), 0.0))
        .solve(&m)
        .unwrap();
    // Measured: 2.2e-12.
    assert!((zero.weights() - &b).mapv(f64::abs).fold(0.0f64, |a, x| a.max(*x)) < 1e-9, "{}", zero.weights());
    // Against a benchmark return series, on scenarios: 1/N's own daily returns.
    let r = returns().tail(750).unwrap();
    let y: Vec<f64> = r.values().dot(&b).to_vec();
    let daily = |w: &Array1<f64>| {
        let d: Vec<f64> = r.values().dot(w).iter().zip(&y).map(|(p, q)| p - q).collect();
        sample_std(&d)
    };
    let cap = 0.002;
    let a = Optimizer::min_risk(RiskMeasure::Cvar { beta: 0.95 })
        .constraints(Constraints::long_only().tracking_error(Benchmark::Returns(y.clone()), cap))
        .solve_scenarios(&r)
        .unwrap();
    assert!(daily(a.weights()) <= cap + 1e-8, "{}", daily(a.weights()));
    let free = Optimizer::min_risk(RiskMeasure::Cvar { beta: 0.95 }).solve_scenarios(&r).unwrap();
    assert!(daily(free.weights()) > cap, "the cap binds");
    // Bad input, each named.
    let e = Optimizer::min_variance()
        .constraints(Constraints::long_only().tracking_error(Benchmark::Weights(vec![("ZZZ".into(), 1.0)]), 0.1))
        .solve(&m)
        .unwrap_err();
    assert!(matches!(e, Error::UnknownAsset { .. }), "{e}");
    let e = Optimizer::min_risk(RiskMeasure::MaxDrawdown)
        .constraints(Constraints::long_only().tracking_error(Benchmark::Returns(y[..10].to_vec()), 0.1))
        .solve_scenarios(&r)
        .unwrap_err();
    assert!(matches!(e, Error::Shape(_)), "{e}");
    let e = Optimizer::max_sharpe(0.0)
        .constraints(Constraints::long_only().tracking_error(Benchmark::Weights(bench.clone()), 0.1))
        .solve(&m)
        .unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::TrackingError), "{e}");
    let e = Optimizer::min_variance()
        .constraints(Constraints::long_only().tracking_error(Benchmark::Weights(bench), -0.1))
        .solve(&m)
        .unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::TrackingError), "{e}");
}

/// Sample standard deviation (ddof 1).
fn sample_std(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

#[test]
fn objective_numbers_are_checked_before_solving() {
    let m = annual_sample();
    // A NaN target reached Clarabel and came back solved, weights summing to 0.
    for o in [Optimizer::target_return(f64::NAN), Optimizer::min_risk_at_return(RiskMeasure::Variance, f64::NAN)] {
        let e = o.solve(&m).unwrap_err();
        assert!(e.is_invalid(parameter::Optimize::TargetReturn), "{e}");
    }
    // A NaN risk-free rate was reported as the solver's numerical failure.
    for o in [Optimizer::max_sharpe(f64::NAN), Optimizer::max_ratio(RiskMeasure::Variance, f64::INFINITY)] {
        let e = o.solve(&m).unwrap_err();
        assert!(e.is_invalid(parameter::Optimize::RiskFree), "{e}");
    }
    let e = Frontier::params().risk_free(f64::NAN).solve(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::RiskFree), "{e}");
    // A negative variance cap was reported as a volatility target of 0.
    let e = Optimizer::max_return_at_risk(RiskMeasure::Variance, -1.0).solve(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Optimize::RiskCap) && e.to_string().contains("-1"), "{e}");
    // Zero risk aversion is the maximum return, for variance as for any measure.
    let a = Optimizer::max_utility(RiskMeasure::Variance, 0.0).solve(&m).unwrap();
    let best = m.mean().iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    assert!((a.expected_return() - best).abs() < 1e-6, "{} vs {best}", a.expected_return());
}

/// The familiar problems are shortcuts to the three objectives, and each
/// parameter means what its objective's docs say: mean–variance's λ halves
/// the variance term (its objective shows λ/2), a volatility cap is the
/// standard deviation's cap and the square root of variance's.
#[test]
fn shortcuts_are_the_three_objectives_in_one_convention() {
    use assetalloc::optimize::MeanRiskGoal::*;
    let m = annual_sample();
    let v = RiskMeasure::Variance;
    let cases = [
        (Optimizer::min_variance(), Objective::MinRisk { measure: v }),
        (Optimizer::max_sharpe(0.01), Objective::MeanRisk { measure: v, goal: MaxRatio { risk_free: 0.01 } }),
        (Optimizer::mean_variance(4.0), Objective::MeanRisk { measure: v, goal: MaxUtility { risk_aversion: 2.0 } }),
        (Optimizer::target_return(0.1), Objective::MeanRisk { measure: v, goal: MinRiskAtReturn { target: 0.1 } }),
        (
            Optimizer::target_volatility(0.2),
            Objective::MeanRisk { measure: RiskMeasure::StandardDeviation, goal: MaxReturnAtRisk { cap: 0.2 } },
        ),
        (Optimizer::risk_parity(), Objective::RiskBudget { measure: v, budgets: None }),
        (Optimizer::min_cvar(0.95), Objective::MinRisk { measure: RiskMeasure::Cvar { beta: 0.95 } }),
    ];
    for (shortcut, objective) in cases {
        assert_eq!(shortcut.objective(), &objective);
    }
    let same = |a: Optimizer, b: Optimizer| {
        let (a, b) = (a.solve(&m).unwrap(), b.solve(&m).unwrap());
        (a.weights() - b.weights()).mapv(f64::abs).fold(0.0f64, |x, y| x.max(*y))
    };
    assert_eq!(same(Optimizer::mean_variance(4.0), Optimizer::max_utility(v, 2.0)), 0.0);
    let vol = 1.2 * Optimizer::min_variance().solve(&m).unwrap().volatility();
    assert!(same(Optimizer::target_volatility(vol), Optimizer::max_return_at_risk(v, vol * vol)) < 1e-9);
}
