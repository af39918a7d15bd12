//! Discrete allocation: whole-lot orders from target weights and the
//! current book, against PyPortfolioOpt's DiscreteAllocation
//! (tools/reference/discrete_allocation.py) and brute-force enumeration.

mod common;

use assetalloc::parameter::Optimize as Param;
use assetalloc::prelude::*;
use common::floats;

fn fixture() -> serde_json::Value {
    common::fixture("discrete_allocation_reference.json")
}

fn assets(fx: &serde_json::Value) -> Vec<String> {
    fx["assets"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()
}

/// PyPortfolioOpt's lp objective of `shares`: each position's miss plus
/// the leftover cash.
fn lp_objective(w: &[f64], p: &[f64], value: f64, shares: &[f64]) -> f64 {
    let invested: f64 = shares.iter().zip(p).map(|(x, p)| x * p).sum();
    (0..w.len()).map(|i| (p[i] * shares[i] - w[i] * value).abs()).sum::<f64>() + value - invested
}

/// One of PyPortfolioOpt's cases solved by `method`: the case, the target
/// weights, the prices, the account's value, the orders and their lp
/// objective.
struct Solved {
    case: serde_json::Value,
    w: Vec<f64>,
    p: Vec<f64>,
    value: f64,
    orders: Orders,
    ours: f64,
}

fn solved_cases(method: OrderMethod) -> Vec<Solved> {
    let fx = fixture();
    let names = assets(&fx);
    let p = floats(&fx["prices"]).to_vec();
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let value = case["value"].as_f64().unwrap();
            let w = floats(&case["weights"]).to_vec();
            let orders = Orders::params().budget(value).method(method).fit_weights(&names, &w, &p).unwrap();
            let ours = lp_objective(&w, &p, value, orders.shares().as_slice().unwrap());
            Solved { case: case.clone(), w, p: p.clone(), value, orders, ours }
        })
        .collect()
}

/// Greedy orders obey their documented bound, and on PyPortfolioOpt's
/// cases (no book, no fees, lots of one share) they are no further from
/// the target than PyPortfolioOpt's greedy_portfolio.
#[test]
fn greedy_orders_meet_their_bound_and_pyportfolioopts_greedy() {
    for Solved { case, w, p, value, orders: o, ours } in solved_cases(OrderMethod::Greedy) {
        // Each position misses its target by less than a lot (one share).
        for (i, reached) in o.weights().iter().enumerate() {
            assert!(
                (reached - w[i]).abs() * value < p[i],
                "{}: position {i} misses by more than a share",
                case["target"]
            );
        }
        assert!((ours - o.distance()).abs() < 1e-6 * value, "the distance is the lp objective without fees");
        let bound: f64 = 2.0 * p.iter().sum::<f64>();
        assert!(o.distance() < bound, "{}: {} ≥ bound {bound}", case["target"], o.distance());
        let theirs = case["greedy"]["objective"].as_f64().unwrap();
        assert!(ours <= theirs + 1e-6, "{} {value}: ours {ours} vs PyPortfolioOpt's greedy {theirs}", case["target"]);
        assert!(o.leftover() >= -1e-9 && o.shares().iter().all(|s| *s >= 0.0 && s.fract() == 0.0));
    }
}

/// With a book, lots and fees, the greedy orders stay within their bound
/// and pay for themselves.
#[test]
fn greedy_orders_from_a_book_with_lots_and_fees_stay_within_the_bound() {
    let fx = fixture();
    let names = assets(&fx);
    let p = floats(&fx["prices"]).to_vec();
    let case = &fx["cases"][0];
    let w = floats(&case["weights"]).to_vec();
    let held: Vec<f64> = (0..names.len()).map(|i| ((i * 7) % 5 * 10) as f64).collect();
    let lots: Vec<f64> = (0..names.len()).map(|i| if i % 3 == 0 { 10.0 } else { 1.0 }).collect();
    let value = 100_000.0;
    let o = Orders::params()
        .budget(value)
        .holdings(held.clone())
        .lots(lots.clone())
        .per_share_fee(0.01)
        .proportional_fee(0.001)
        .fit_weights(&names, &w, &p)
        .unwrap();
    let fee = |i: usize| 0.01 + 0.001 * p[i];
    let bound: f64 = (0..p.len()).map(|i| 2.0 * lots[i] * p[i] + fee(i) * (w[i] * value / p[i] - held[i]).abs()).sum();
    assert!(o.distance() < bound, "{} ≥ {bound}", o.distance());
    assert!(o.leftover() >= -1e-9, "leftover {}", o.leftover());
    let trades = o.trades();
    for i in 0..p.len() {
        let lots_traded = trades[i] / lots[i];
        assert!(
            (lots_traded - lots_traded.round()).abs() < 1e-9,
            "{} trades {} with lot {}",
            names[i],
            trades[i],
            lots[i]
        );
    }
    let fees: f64 = (0..p.len()).map(|i| fee(i) * trades[i].abs()).sum();
    assert!((fees - o.fees()).abs() < 1e-9 * fees.max(1.0));
    assert!(o.table().to_html().contains("leftover cash"));
}

#[test]
fn bad_orders_are_typed_errors() {
    let names: Vec<String> = ["A", "B"].iter().map(|s| s.to_string()).collect();
    let w = [0.5, 0.5];
    let p = [10.0, 20.0];
    let e = |o: assetalloc::optimize::OrdersParams, w: &[f64], p: &[f64]| o.fit_weights(&names, w, p).unwrap_err();
    let err = e(Orders::params(), &w, &p);
    assert!(err.is_invalid(Param::Budget), "{err}");
    let err = e(Orders::params().budget(5.0), &w, &p);
    assert!(err.is_invalid(Param::Budget) && err.to_string().contains("cheapest lot"), "{err}");
    for bad in [0.0, -1.0, f64::NAN] {
        let err = e(Orders::params().budget(1000.0), &w, &[bad, 20.0]);
        assert!(err.is_invalid(Param::Prices) && err.to_string().contains("A has price"), "{err}");
    }
    assert!(e(Orders::params().budget(1000.0), &[0.7, -0.2], &p).is_invalid(Param::Weights));
    assert!(e(Orders::params().budget(1000.0), &[0.7, 0.5], &p).is_invalid(Param::Weights));
    assert!(e(Orders::params().budget(1000.0).lots(vec![0.0]), &w, &p).is_invalid(Param::Lots));
    assert!(e(Orders::params().budget(1000.0).per_share_fee(-1.0), &w, &p).is_invalid(Param::PerShareFee));
    let err = e(Orders::params().budget(100.0).holdings(vec![10.0, 10.0]), &w, &p);
    assert!(err.is_invalid(Param::Budget) && err.to_string().contains("book"), "{err}");
    assert!(matches!(e(Orders::params().budget(1000.0), &[1.0], &p), Error::Shape(_)));
    // A price missing from the panel for a target asset.
    let r = datasets::sp500().unwrap();
    let a = Optimizer::min_variance().solve_scenarios(&r.returns(ReturnKind::Simple).unwrap()).unwrap();
    let names = r.panel().assets()[1..].to_vec();
    let fewer = r.select(&names).unwrap();
    let err = Orders::params().budget(1e5).fit(&a, &fewer).unwrap_err();
    assert!(matches!(err, Error::UnknownAsset { .. }), "{err}");
    #[cfg(not(feature = "milp"))]
    {
        let err = e(Orders::params().budget(1000.0).method(OrderMethod::Exact), &w, &p);
        assert!(err.is_invalid(Param::Method) && err.to_string().contains("milp"), "{err}");
    }
}

/// The exact orders equal PyPortfolioOpt's lp_portfolio where both apply
/// and are never further from the target.
#[cfg(feature = "milp")]
#[test]
fn exact_orders_are_pyportfolioopts_lp_or_better() {
    let names = assets(&fixture());
    for Solved { case, w, p, value, orders: o, ours } in solved_cases(OrderMethod::Exact) {
        assert!(o.proven());
        let theirs = case["lp"]["objective"].as_f64().unwrap();
        assert!(ours <= theirs + 1e-6, "{} {value}: ours {ours} vs PyPortfolioOpt's {theirs}", case["target"]);
        let greedy = Orders::params().budget(value).fit_weights(&names, &w, &p).unwrap();
        assert!(o.distance() <= greedy.distance() + 1e-6);
        if theirs - ours < 1e-3 {
            let want = floats(&case["lp"]["shares"]);
            assert_eq!(o.shares(), &want, "{} {value}: the same optimum", case["target"]);
        }
    }
}

/// The exact orders from a book with lots and fees are the best of every
/// whole-lot trade, by enumeration on three assets.
#[cfg(feature = "milp")]
#[test]
fn exact_orders_from_a_book_are_the_enumerated_optimum() {
    let names: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
    let p = [37.3, 112.9, 8.45];
    let w = [0.5, 0.3, 0.15];
    let held = [40.0, 3.0, 100.0];
    let lots = [5.0, 1.0, 25.0];
    let value = 5_000.0;
    let params = Orders::params()
        .budget(value)
        .holdings(held.to_vec())
        .lots(lots.to_vec())
        .per_share_fee(0.02)
        .proportional_fee(0.002);
    let o = params.clone().method(OrderMethod::Exact).fit_weights(&names, &w, &p).unwrap();
    let fee = |i: usize| 0.02 + 0.002 * p[i];
    let mut best = f64::INFINITY;
    for a in -8i32..=12 {
        for b in -3i32..=12 {
            for c in -4i32..=4 {
                let k = [a as f64, b as f64, c as f64];
                let x: Vec<f64> = (0..3).map(|i| held[i] + lots[i] * k[i]).collect();
                if x.iter().any(|v| *v < 0.0) {
                    continue;
                }
                let fees: f64 = (0..3).map(|i| fee(i) * (lots[i] * k[i]).abs()).sum();
                let invested: f64 = (0..3).map(|i| x[i] * p[i]).sum();
                if invested + fees > value {
                    continue;
                }
                let miss: f64 = (0..3).map(|i| (x[i] * p[i] - w[i] * value).abs()).sum();
                best = best.min(miss + (value - invested - 0.05 * value).abs() + fees);
            }
        }
    }
    assert!((o.distance() - best).abs() < 1e-6, "exact {} vs enumeration {best}", o.distance());
    let greedy = params.fit_weights(&names, &w, &p).unwrap();
    assert!(greedy.distance() >= best - 1e-9, "greedy {} below the optimum {best}", greedy.distance());
}
