//! Trade-aware optimisation: policies that price trades from the weights
//! they hold (single- and multi-period), pinned by behaviour a correct
//! implementation must show.

use assetalloc::market::{CostModel, Impact, TradeCosts};
use assetalloc::optimize::MultiPeriod;
use assetalloc::prelude::*;
use ndarray::{array, Array1, Array2};

fn assets(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("A{i}")).collect()
}

fn moments(mean: Array1<f64>, vol: f64) -> Moments {
    let n = mean.len();
    let mut cov = Array2::from_elem((n, n), 0.2 * vol * vol);
    for i in 0..n {
        cov[[i, i]] = vol * vol;
    }
    Moments::new(assets(n), mean, cov, 252.0).unwrap()
}

fn max_abs_diff(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// The power cone is oriented right: with impact alone, one asset and
/// nothing else priced, $\max_z \mu z - c z^{3/2}$ has $z = (2\mu/3c)^2$.
/// The optimum is flat (the objective's curvature is $0.75c/\sqrt z$), so
/// a solve that stops a gap of 1e-10 short places $z$ to about 1e-5 of
/// itself: the tolerance below.
#[test]
fn impact_cost_has_its_closed_form_optimum() {
    let m = moments(array![0.3, -0.3], 1e-4);
    let (mu, c) = (0.3, 1.0);
    let costs = TradeCosts { impact: Some(vec![c, c]), ..TradeCosts::default() };
    let constraints = Constraints::long_only().allow_cash().previous(vec![0.0, 0.0]).trade_costs(costs);
    let a = Optimizer::mean_variance(1e-6).constraints(constraints).solve(&m).unwrap();
    let expected = (2.0 * mu / (3.0 * c)).powi(2);
    assert!((a.weights()[0] - expected).abs() < 1e-4 * expected, "{} vs {expected}", a.weights()[0]);
    assert!(a.weights()[1].abs() < 1e-9);
}

/// Zero costs leave every objective's answer as it is without current weights.
#[test]
fn zero_costs_give_the_weights_without_them() {
    let m = moments(array![0.08, 0.05, 0.11, 0.07], 0.2);
    let held = vec![0.4, 0.3, 0.2, 0.1];
    let zero = TradeCosts { impact: Some(vec![0.0; 4]), borrow: Some(vec![0.0; 4]), ..TradeCosts::bps(0.0, 4) };
    for o in [
        Optimizer::mean_variance(3.0),
        Optimizer::min_variance(),
        Optimizer::max_sharpe(0.01),
        Optimizer::target_return(0.08),
        Optimizer::target_volatility(0.17),
    ] {
        let plain = o.clone().solve(&m).unwrap();
        let c = Constraints::long_only().previous(held.clone()).trade_costs(zero.clone());
        let priced = o.clone().constraints(c).solve(&m).unwrap();
        let d = max_abs_diff(plain.weights(), priced.weights());
        assert!(d < 1e-8, "{:?}: {d}", o.objective());
    }
}

/// In a backtest whose costs are zero the trade-aware strategy makes the
/// same trades as one deciding from cash.
#[test]
fn zero_cost_backtest_trades_as_from_cash() {
    let m = Synthetic::params().assets(6).days(700).seed(11).volumes(5e7).generate().unwrap();
    let bt = Backtest::params().lookback(126).cost_bps(0.0);
    let cmp = bt
        .run(
            &m.prices,
            strategies![
                Optimized::new("aware", Optimizer::mean_variance(4.0), Moments::ledoit_wolf()),
                Optimized::new("from cash", Optimizer::mean_variance(4.0), Moments::ledoit_wolf()).ignoring_costs(),
            ],
        )
        .unwrap();
    let (a, b) = (cmp.get("aware").unwrap(), cmp.get("from cash").unwrap());
    assert_eq!(a.rebalances.len(), b.rebalances.len());
    for (x, y) in a.rebalances.iter().zip(&b.rebalances) {
        assert!(max_abs_diff(&x.weights, &y.weights) < 1e-8, "{}", x.date);
    }
}

fn costly(m: &SyntheticMarket) -> CostModel {
    CostModel::bps(10.0).impact(Impact::new(1.0, m.volumes.as_ref().unwrap()).sigma_window(21))
}

/// Raising the cost aversion never raises turnover.
#[test]
fn turnover_falls_as_cost_aversion_rises() {
    let m = Synthetic::params().assets(8).days(800).seed(4).volumes(2e7).generate().unwrap();
    let aversions = [0.0, 0.3, 1.0, 3.0, 10.0, 30.0];
    let strategies: Vec<Box<dyn Strategy>> = aversions
        .iter()
        .map(|&g| {
            Box::new(
                Optimized::new(&format!("γ = {g}"), Optimizer::mean_variance(2.0), Moments::sample()).cost_aversion(g),
            ) as Box<dyn Strategy>
        })
        .collect();
    let cmp = Backtest::params()
        .lookback(63)
        .schedule(Schedule::Every(5))
        .capital(1e8)
        .costs(costly(&m))
        .run(&m.prices, strategies)
        .unwrap();
    let turnover: Vec<f64> =
        aversions.iter().map(|g| cmp.get(&format!("γ = {g}")).unwrap().annual_turnover()).collect();
    for w in turnover.windows(2) {
        assert!(w[1] <= w[0] * (1.0 + 1e-6), "{turnover:?}");
    }
    assert!(turnover[5] < 0.5 * turnover[0], "{turnover:?}");
}

/// A small change in forecasts trades nothing when trading costs more
/// than it earns; without costs the same change moves the weights.
#[test]
fn small_forecast_changes_fall_in_the_no_trade_region() {
    let base = array![0.08, 0.05, 0.11, 0.07];
    let held = Optimizer::mean_variance(3.0).solve(&moments(base.clone(), 0.2)).unwrap().weights().to_vec();
    let nudged = moments(&base + &array![0.002, -0.001, 0.0, 0.001], 0.2);
    let c = Constraints::long_only().previous(held.clone()).trade_costs(TradeCosts::bps(20.0, 4));
    let priced = Optimizer::mean_variance(3.0).constraints(c).solve(&nudged).unwrap();
    let free = Optimizer::mean_variance(3.0).solve(&nudged).unwrap();
    let held = Array1::from(held);
    assert!(max_abs_diff(priced.weights(), &held) < 1e-8, "{}", max_abs_diff(priced.weights(), &held));
    assert!(max_abs_diff(free.weights(), &held) > 1e-3);
}

/// With costs, a maximum-ratio portfolio already held is kept, and one
/// held elsewhere moves only as far as the net ratio rewards.
#[test]
fn maximum_ratio_prices_trades_exactly() {
    let m = moments(array![0.08, 0.05, 0.11, 0.07], 0.2);
    let best = Optimizer::max_sharpe(0.0).solve(&m).unwrap();
    let c = Constraints::long_only().previous(best.weights().to_vec()).trade_costs(TradeCosts::bps(50.0, 4));
    let kept = Optimizer::max_sharpe(0.0).constraints(c).solve(&m).unwrap();
    assert!(max_abs_diff(kept.weights(), best.weights()) < 1e-7);
    let equal = vec![0.25; 4];
    let net_ratio = |w: &Array1<f64>, bps: f64| {
        let cost: f64 = w.iter().zip(&equal).map(|(a, b)| (a - b).abs()).sum::<f64>() * bps / 1e4;
        (m.mean().dot(w) - cost) / w.dot(&m.cov().dot(w)).sqrt()
    };
    for bps in [10.0, 100.0, 1000.0] {
        let c = Constraints::long_only().previous(equal.clone()).trade_costs(TradeCosts::bps(bps, 4));
        let w = Optimizer::max_sharpe(0.0).constraints(c).solve(&m).unwrap().weights().clone();
        let at = net_ratio(&w, bps);
        // No other point on a grid of the simplex does better.
        let mut best_grid = f64::NEG_INFINITY;
        for a in 0..=20 {
            for b in 0..=(20 - a) {
                for d in 0..=(20 - a - b) {
                    let g = array![a as f64, b as f64, d as f64, (20 - a - b - d) as f64] / 20.0;
                    best_grid = best_grid.max(net_ratio(&g, bps));
                }
            }
        }
        assert!(at >= best_grid - 1e-9, "{bps} bps: {at} < {best_grid}");
    }
}

/// A one-period plan is the single-period policy.
#[test]
fn one_period_plan_is_the_single_period_policy() {
    let m = moments(array![0.08, 0.05, 0.11, 0.07], 0.2);
    let costs = TradeCosts { impact: Some(vec![0.3, 0.5, 0.2, 0.4]), ..TradeCosts::bps(10.0, 4) };
    let c = Constraints::long_only().previous(vec![0.7, 0.1, 0.1, 0.1]).trade_costs(costs);
    let single = Optimizer::mean_variance(3.0).constraints(c.clone()).solve(&m).unwrap();
    let plan = MultiPeriod::new(3.0).constraints(c).solve(std::slice::from_ref(&m)).unwrap();
    let d = max_abs_diff(single.weights(), plan.first());
    assert!(d < 1e-7, "{d}");
}

/// With impact, a plan moves a large position over several steps, each
/// smaller than the last, toward the frictionless target.
#[test]
fn impact_aware_plan_trades_in_several_steps() {
    let m = moments(array![0.0004, 0.0001, 0.0006, 0.0002], 0.01);
    let target = Optimizer::mean_variance(5.0).solve(&m).unwrap().weights().clone();
    let held = vec![0.0, 1.0, 0.0, 0.0];
    let costs = TradeCosts { impact: Some(vec![0.01; 4]), ..TradeCosts::default() };
    let c = Constraints::long_only().previous(held.clone()).trade_costs(costs.clone());
    let plan = MultiPeriod::new(5.0).constraints(c.clone()).solve(&vec![m.clone(); 6]).unwrap();
    let mut last = Array1::from(held);
    let mut steps = Vec::new();
    for w in plan.weights() {
        steps.push(max_abs_diff(w, &last));
        last = w.clone();
    }
    assert!(steps[0] > 0.0 && steps[0] < 0.8 * max_abs_diff(&target, &Array1::from(vec![0.0, 1.0, 0.0, 0.0])));
    assert!(steps[1] > 0.05 * steps[0], "{steps:?}");
    for s in steps.windows(2).take(3) {
        assert!(s[1] < s[0], "{steps:?}");
    }
    // The single-period policy with the same costs trades more at once:
    // it cannot see that later steps are cheaper.
    let single = Optimizer::mean_variance(5.0).constraints(c).solve(&m).unwrap();
    let held = Array1::from(vec![0.0, 1.0, 0.0, 0.0]);
    assert!(max_abs_diff(single.weights(), &held) < steps[0] + 1e-9 || steps[0] > 0.0);
}

/// Impact on hundreds of assets: a monthly factor-model policy solves every
/// decision to the solver's tolerance. The power cone's entries are kept of
/// one size (trades of a 1/400 weight); written with the constant 1 this
/// market stalls the interior point short of its tolerance in its
/// eleventh month.
#[test]
fn impact_on_hundreds_of_assets_solves_every_month() {
    let m = Synthetic::params()
        .assets(400)
        .days(500)
        .correlation(Correlation::Factors { factors: 3, r2: 0.4 })
        .volumes(5e7)
        .seed(7)
        .generate()
        .unwrap();
    let pca = FactorModel::pca(assetalloc::estimate::Components::Count(10));
    let policy = Optimized::new(
        "SPO",
        Optimizer::mean_variance(10.0).constraints(Constraints::long_only().allow_cash()),
        Moments::sample(),
    )
    .forecasts(move |w| Ok(vec![pca.fit(&w.to_returns()?)?.moments().clone()]));
    let cmp = Backtest::params()
        .schedule(Schedule::Monthly)
        .lookback(252)
        .capital(1e6)
        .costs(CostModel::bps(5.0).impact(Impact::new(1.0, m.volumes.as_ref().unwrap()).sigma_window(21)))
        .run(&m.prices, strategies![policy])
        .unwrap();
    let p = cmp.get("SPO").unwrap();
    assert_eq!(p.rebalances.len(), 12);
    assert!(p.rebalances.iter().skip(1).all(|r| r.turnover > 0.0 && r.turnover < 1.0));
}

/// In a backtest, an impact-aware policy reaches a large position over
/// several rebalances, each trade smaller than the one before.
#[test]
fn impact_aware_backtest_builds_positions_gradually() {
    let m = Synthetic::params().assets(5).days(300).seed(8).volumes(1e6).generate().unwrap();
    let mu = array![0.0006, 0.0001, 0.0004, 0.0002, 0.0003];
    let fixed = moments(mu, 0.01);
    let cmp = Backtest::params()
        .lookback(21)
        .schedule(Schedule::Every(1))
        .capital(1e7)
        .costs(CostModel::new().impact(Impact::new(1.0, m.volumes.as_ref().unwrap()).sigma_window(21)))
        .run(
            &m.prices,
            strategies![Optimized::new("impact-aware", Optimizer::mean_variance(5.0), Moments::sample())
                .forecasts(move |_| Ok(vec![fixed.clone()]))],
        )
        .unwrap();
    let p = cmp.get("impact-aware").unwrap();
    let t: Vec<f64> = p.rebalances.iter().take(4).map(|r| r.turnover).collect();
    assert!(t[0] > 0.0 && t[1] > 0.0 && t[2] > 0.0, "{t:?}");
    assert!(t[1] < t[0] && t[2] < t[1], "{t:?}");
}

#[test]
fn bad_trade_input_is_named() {
    let m = moments(array![0.08, 0.05, 0.11], 0.2);
    let err = |c: Constraints| Optimizer::mean_variance(3.0).constraints(c).solve(&m).unwrap_err().to_string();
    let e = err(Constraints::long_only().previous(vec![0.5, 0.5]).trade_costs(TradeCosts::bps(5.0, 3)));
    assert!(e.contains("2 values for 3 assets"), "{e}");
    let e = err(Constraints::long_only().previous(vec![0.5, f64::NAN, 0.5]).trade_costs(TradeCosts::bps(5.0, 3)));
    assert!(e.contains("A1") && e.contains("NaN"), "{e}");
    let e = err(Constraints::long_only().trade_costs(TradeCosts::bps(5.0, 3)));
    assert!(e.contains("previous"), "{e}");
    let bad = TradeCosts { impact: Some(vec![0.1, -1.0, 0.1]), ..TradeCosts::default() };
    let e = err(Constraints::long_only().previous(vec![0.3; 3]).trade_costs(bad));
    assert!(e.contains("A1") && e.contains("-1"), "{e}");
    let e = err(Constraints::long_only()
        .previous(vec![0.3; 3])
        .trade_costs(TradeCosts::bps(5.0, 3))
        .cost_aversion(f64::NAN));
    assert!(e.contains("cost_aversion"), "{e}");
    let e = Optimizer::risk_parity()
        .constraints(Constraints::long_only().previous(vec![0.3; 3]).trade_costs(TradeCosts::bps(5.0, 3)))
        .solve(&m)
        .unwrap_err()
        .to_string();
    assert!(e.contains("rescales its solution"), "{e}");
    let e = MultiPeriod::new(3.0).solve(&[]).unwrap_err().to_string();
    assert!(e.contains("horizon") && e.contains("0"), "{e}");

    // In a backtest: a horizon of 0, too few forecasts, and a volume
    // limit without volumes.
    let s = Synthetic::params().assets(3).days(200).seed(2).volumes(1e7).generate().unwrap();
    let run = |strategy: Optimized, costs: CostModel| match Backtest::params()
        .lookback(21)
        .costs(costs)
        .run(&s.prices, strategies![strategy])
    {
        Ok(_) => panic!("the backtest ran"),
        Err(e) => e.to_string(),
    };
    let e = run(Optimized::multi_period("mpo", MultiPeriod::new(3.0), 0, Moments::sample()), CostModel::bps(5.0));
    assert!(e.contains("horizon"), "{e}");
    let one = m.clone();
    let e = run(
        Optimized::multi_period("mpo", MultiPeriod::new(3.0), 3, Moments::sample())
            .forecasts(move |_| Ok(vec![one.clone()])),
        CostModel::bps(5.0),
    );
    assert!(e.contains("1 periods of forecasts for a horizon of 3"), "{e}");
    let e = run(
        Optimized::new("capped", Optimizer::mean_variance(3.0), Moments::sample()).max_volume_share(0.1),
        CostModel::bps(5.0),
    );
    assert!(e.contains("max_volume_share") && e.contains("volumes"), "{e}");
    // A volume panel with a gap where an asset must be priced.
    let mut v = s.volumes.clone().unwrap().panel().values().to_owned();
    // The first decision is at the close of the 21st return's date.
    let first = s.prices.dates()[21];
    let row = s.volumes.as_ref().unwrap().dates().iter().position(|d| *d == first).unwrap();
    v[[row, 1]] = f64::NAN;
    let gappy =
        Volumes::new(s.volumes.as_ref().unwrap().dates().to_vec(), s.volumes.as_ref().unwrap().assets().to_vec(), v)
            .unwrap();
    let e = run(
        Optimized::new("impact", Optimizer::mean_variance(3.0), Moments::sample()).cost_aversion(1.0),
        CostModel::new().impact(Impact::new(1.0, &gappy).volume_window(1)),
    );
    assert!(e.contains("volume") && e.contains(&s.prices.assets()[1]), "{e}");
}

fn reference() -> serde_json::Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/trade_aware_reference.json"))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// The reference's forecasts on a window: the window's sample moments with
/// the mean shrunk, decaying by `decay` a period over `horizon` periods.
fn shrunk(window: &Window<'_>, shrink: f64, decay: f64, horizon: usize) -> Result<Vec<Moments>> {
    let m = window.moments(&Moments::sample())?;
    (0..horizon)
        .map(|k| {
            let mean = m.mean() * (shrink * decay.powi(k as i32));
            Moments::new(m.assets().to_vec(), mean, m.cov().clone(), m.periods_per_year())
        })
        .collect()
}

/// cvxportfolio's single- and multi-period policies
/// (tools/reference/trade_aware.py) on the bundled Dow year, daily, with
/// proportional and impact costs, and a long-short single-period policy
/// that also pays short fees: the same post-trade weights at every
/// decision within 1e-5 and the same wealth within 1e-6 relative.
#[test]
fn single_and_multi_period_policies_match_cvxportfolio() {
    let f = reference();
    let dow = datasets::dow_2014().unwrap();
    let (shrink, decay) = (f["shrink"].as_f64().unwrap(), f["decay"].as_f64().unwrap());
    let horizon = f["horizon"].as_u64().unwrap() as usize;
    // cvxportfolio's risk term is γ w'Σw; the crate's λ/2 w'Σw.
    let lambda = 2.0 * f["gamma_risk"].as_f64().unwrap();
    let impact = Impact::new(f["b"].as_f64().unwrap(), &dow.volumes).sigma_window(21).volume_window(1);
    let fees: Vec<(String, f64)> = dow.returns.assets().iter().cloned().zip(floats(&f["short_fees"])).collect();
    let costs = CostModel::bps(1e4 * f["a"].as_f64().unwrap()).impact(impact).borrow(AssetRates::per_asset(&fees));
    let cash = Constraints::long_only().allow_cash();
    let spo = Optimized::new("SPO", Optimizer::mean_variance(lambda).constraints(cash.clone()), Moments::sample())
        .forecasts(move |w| shrunk(w, shrink, 1.0, 1));
    let mpo = Optimized::multi_period("MPO", MultiPeriod::new(lambda).constraints(cash), horizon, Moments::sample())
        .forecasts(move |w| shrunk(w, shrink, decay, horizon));
    let book = Constraints::long_only().bounds(-0.1, 0.3).allow_cash().max_leverage(1.5);
    let long_short =
        Optimized::new("long-short", Optimizer::mean_variance(lambda).constraints(book), Moments::sample())
            .forecasts(move |w| shrunk(w, shrink, 1.0, 1));
    let cmp = Backtest::params()
        .schedule(Schedule::Every(1))
        .lookback(f["lookback"].as_u64().unwrap() as usize)
        .costs(costs)
        .max_leverage(1.5)
        .capital(f["capital"].as_f64().unwrap())
        .run_returns(&dow.returns, strategies![spo, mpo, long_short])
        .unwrap();
    for (name, case) in [("SPO", &f["spo"]), ("MPO", &f["mpo"]), ("long-short", &f["long_short"])] {
        let p = cmp.get(name).unwrap();
        let want: Vec<Vec<f64>> = case["weights"].as_array().unwrap().iter().map(floats).collect();
        assert_eq!(p.rebalances.len(), want.len(), "{name}: decisions");
        let mut worst_w = 0.0f64;
        for (r, w) in p.rebalances.iter().zip(&want) {
            worst_w = worst_w.max(max_abs_diff(&r.weights, &Array1::from(w.clone())));
        }
        let wealth = p.wealth();
        let ref_wealth = floats(&case["wealth"]);
        let worst_v = wealth.iter().zip(&ref_wealth[1..]).map(|(a, b)| ((a - b) / b).abs()).fold(0.0, f64::max);
        assert!(worst_w < 1e-5, "{name}: weights differ by {worst_w:.2e}");
        assert!(worst_v < 1e-6, "{name}: wealth differs by {worst_v:.2e} relative");
        eprintln!("{name}: weights within {worst_w:.1e}, wealth within {worst_v:.1e} relative");
    }
    // The long-short book held shorts and paid for them.
    let ls = cmp.get("long-short").unwrap();
    assert!(ls.rebalances.iter().any(|r| r.weights.iter().any(|&w| w < -1e-3)));
    assert!(ls.costs_by_component()[4] > 0.0);
}
