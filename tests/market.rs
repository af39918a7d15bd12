//! Realistic markets: cost models and a changing universe against
//! cvxportfolio's MarketSimulator (tools/reference/market.py), hand-computed
//! per-share, fixed and borrow costs, delistings, survivorship, bad input.

use assetalloc::prelude::*;
use ndarray::{array, Array1, Array2, ArrayView1};
use serde_json::Value;

/// Holds fixed target weights, by asset name (assets out of the window get
/// none; the rest stay as given).
struct Fixed(Vec<(String, f64)>, &'static str);

impl Strategy for Fixed {
    fn name(&self) -> String {
        self.1.into()
    }
    fn decide(&mut self, window: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        Ok(Some(window.assets().iter().map(|a| self.0.iter().find(|(x, _)| x == a).map_or(0.0, |(_, w)| *w)).collect()))
    }
}

fn reference() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/market_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// Daily wealth equal to cvxportfolio's within 1e-8 relative: its first
/// value is the capital before the first trade.
fn assert_wealth(p: &Portfolio, want: &[f64], dates: &Value) {
    let got = p.wealth();
    assert_eq!(got.len() + 1, want.len(), "periods");
    assert_eq!(want[0], p.capital());
    for (k, (g, w)) in got.iter().zip(&want[1..]).enumerate() {
        let rel = (g - w).abs() / w;
        assert!(rel < 1e-8, "{}: {} ours {g} cvxportfolio {w} (rel {rel:.2e})", p.name, dates[k + 1]);
    }
    assert_eq!(p.dates.last().unwrap().to_string(), dates[want.len() - 1].as_str().unwrap());
}

fn named(assets: &[String], w: &[f64]) -> Vec<(String, f64)> {
    assets.iter().cloned().zip(w.iter().copied()).collect()
}

#[test]
fn fixed_weights_with_spread_and_impact_match_cvxportfolio() {
    let f = reference();
    let dow = datasets::dow_2014().unwrap();
    let case = &f["a"];
    let w = floats(&case["weights"]);
    let costs = CostModel::new()
        .proportional(AssetRates::constant(case["a"].as_f64().unwrap()))
        .impact(Impact::new(case["b"].as_f64().unwrap(), &dow.volumes).sigma_window(21).volume_window(1));
    let cmp = Backtest::params()
        .schedule(Schedule::Monthly)
        .lookback(21)
        .costs(costs)
        .capital(1e6)
        .cash_returns(&dow.cash)
        .run_returns(&dow.returns, strategies![Fixed(named(dow.returns.assets(), &w), "fixed")])
        .unwrap();
    let p = cmp.get("fixed").unwrap();
    assert_wealth(p, &floats(&case["wealth"]), &case["dates"]);
    // Both components were charged, and 1/N paid the same model.
    let c = p.costs_by_component();
    assert!(c[0] > 0.0 && c[3] > 0.0 && c[1] == 0.0 && c[4] == 0.0, "{c:?}");
    assert!(cmp.baseline().unwrap().costs_by_component()[3] > 0.0);
}

#[test]
fn long_short_book_with_borrow_fees_matches_cvxportfolio() {
    let f = reference();
    let dow = datasets::dow_2014().unwrap();
    let case = &f["b"];
    let assets = dow.returns.assets();
    let costs = CostModel::new()
        .proportional(AssetRates::per_asset(&named(assets, &floats(&case["a"]))))
        .borrow(AssetRates::per_asset(&named(assets, &floats(&case["short_fees"]))));
    let cmp = Backtest::params()
        .schedule(Schedule::Monthly)
        .lookback(21)
        .max_leverage(2.0)
        .costs(costs)
        .cash_returns(&dow.cash)
        .run_returns(&dow.returns, strategies![Fixed(named(assets, &floats(&case["weights"])), "long-short")])
        .unwrap();
    let p = cmp.get("long-short").unwrap();
    assert_wealth(p, &floats(&case["wealth"]), &case["dates"]);
    // Borrow fees are paid every day the shorts are held, not only on trades.
    let daily_borrow = p.cost_path().iter().filter(|c| c[4] > 0.0).count();
    assert_eq!(daily_borrow, p.net.len());
}

/// The Dow returns with the fixture's listings (first return row) and
/// delistings (last return row) blanked out.
fn changing_universe(f: &Value) -> Returns {
    let dow = datasets::dow_2014().unwrap();
    let mut v = dow.returns.values().to_owned();
    for (a, first) in f["listings"].as_object().unwrap() {
        let j = dow.returns.asset_index(a).unwrap();
        let first = first.as_u64().unwrap() as usize;
        v.column_mut(j).slice_mut(ndarray::s![..first]).fill(f64::NAN);
    }
    for (a, last) in f["delistings"].as_object().unwrap() {
        let j = dow.returns.asset_index(a).unwrap();
        let last = last.as_u64().unwrap() as usize;
        v.column_mut(j).slice_mut(ndarray::s![last + 1..]).fill(f64::NAN);
    }
    Returns::new(dow.returns.dates().to_vec(), dow.returns.assets().to_vec(), v, ReturnKind::Simple).unwrap()
}

#[test]
fn a_changing_universe_matches_cvxportfolio() {
    let f = reference();
    let dow = datasets::dow_2014().unwrap();
    let case = &f["c"];
    let r = changing_universe(case);
    let costs = CostModel::new()
        .proportional(AssetRates::constant(case["a"].as_f64().unwrap()))
        .impact(Impact::new(case["b"].as_f64().unwrap(), &dow.volumes).sigma_window(21));
    let cmp = Backtest::params()
        .schedule(Schedule::Every(1))
        .lookback(21)
        .costs(costs)
        .cash_returns(&dow.cash)
        .run_returns(&r, vec![])
        .unwrap();
    let ew = cmp.baseline().unwrap();
    assert_wealth(ew, &floats(&case["wealth"]), &case["dates"]);
    // The two delisted positions were sold into cash at their last value.
    let exits = ew.exits();
    assert_eq!(exits.len(), 2, "{exits:?}");
    for (a, last) in case["delistings"].as_object().unwrap() {
        let last = r.dates()[last.as_u64().unwrap() as usize];
        assert!(exits.iter().any(|(d, x, w, dl)| *x == a && *d == last && *w > 0.0 && *dl == 0.0), "{a}: {exits:?}");
    }
    // 1/N is over the tradable assets: 28 less the three not yet listed at
    // the start; a listed asset joins once it has 21 returns.
    let first = &ew.rebalances[0].weights;
    assert_eq!(first.iter().filter(|w| **w > 0.0).count(), 25);
    assert!(first.iter().all(|w| *w == 0.0 || (w - 1.0 / 25.0).abs() < 1e-15));
}

/// Three assets over six days; wealth 1,000 at prices 10, 20, 50.
fn tiny() -> (Prices, Returns) {
    let dates: Vec<NaiveDate> =
        (0..6).map(|i| "2024-01-01".parse::<NaiveDate>().unwrap() + chrono::Days::new(i)).collect();
    let p = array![
        [10.0, 20.0, 50.0],
        [10.0, 20.0, 50.0],
        [11.0, 20.0, 45.0],
        [11.0, 22.0, 45.0],
        [12.1, 22.0, 40.5],
        [12.1, 22.0, 40.5]
    ];
    let prices = Prices::new(dates, vec!["A".into(), "B".into(), "C".into()], p).unwrap();
    let r = prices.returns(ReturnKind::Simple).unwrap().with_periods_per_year(252.0).unwrap();
    (prices, r)
}

#[test]
fn per_share_fixed_and_borrow_costs_are_hand_computed() {
    let (prices, r) = tiny();
    // Buy 60 % A and 40 % B of 1,000 on the first decision (row 0, prices
    // 10 and 20): 60 and 20 shares. Per share 0.5 with a 25 minimum:
    // max(25, 30) + max(25, 10) = 55; plus 2 fixed per order.
    let costs = CostModel::new().per_share(0.5, 25.0, &prices).fixed(2.0);
    let cmp = Backtest::params()
        .schedule(Schedule::Every(100))
        .lookback(1)
        .capital(1000.0)
        .costs(costs)
        .run_returns(&r, strategies![Fixed(vec![("A".into(), 0.6), ("B".into(), 0.4)], "ab")])
        .unwrap();
    let p = cmp.get("ab").unwrap();
    let c = p.costs_by_component();
    assert!((c[1] - 55.0 / 1000.0).abs() < 1e-15 && (c[2] - 4.0 / 1000.0).abs() < 1e-15, "{c:?}");
    // Row 1 earns A's 10 %: 660 + 400 − 59 = 1,001.
    assert!((p.wealth()[0] - 1001.0).abs() < 1e-9, "{:?}", p.wealth());
    // A short: −50 % C, 150 % A held over 2024-01-02 → 01-03 (one
    // calendar day) at a 10 % annual fee: 500 · (1.1^(1/365.24) − 1).
    let costs = CostModel::new().borrow(AssetRates::per_asset(&[("A", 0.0), ("B", 0.0), ("C", 0.10)]));
    let cmp = Backtest::params()
        .schedule(Schedule::Every(100))
        .lookback(1)
        .max_leverage(2.0)
        .capital(1000.0)
        .costs(costs)
        .run_returns(&r, strategies![Fixed(vec![("A".into(), 1.5), ("C".into(), -0.5)], "short C")])
        .unwrap();
    let p = cmp.get("short C").unwrap();
    let fee = 500.0 * (1.1f64.powf(1.0 / 365.24) - 1.0);
    assert!((p.cost_path()[0][4] * 1000.0 - fee).abs() < 1e-12, "{:?}", p.cost_path()[0]);
    // Wealth: 1,500 · 1.1 − 500 · 0.9 + cash (1,000 − 1,000) − fee.
    assert!((p.wealth()[0] - (1650.0 - 450.0 - fee)).abs() < 1e-9, "{:?}", p.wealth());
}

#[test]
fn a_delisting_sells_at_the_last_price_or_at_a_delisting_return() {
    let (prices, _) = tiny();
    // C's last price is on day 3 (row 2 of returns): NaN after.
    let mut v = prices.values().to_owned();
    v[[4, 2]] = f64::NAN;
    v[[5, 2]] = f64::NAN;
    let prices = Prices::new(prices.dates().to_vec(), prices.assets().to_vec(), v).unwrap();
    let run = |bt: BacktestParams| {
        bt.schedule(Schedule::Every(100))
            .lookback(1)
            .capital(1000.0)
            .costs(CostModel::new())
            .run(&prices, strategies![Fixed(vec![("C".into(), 1.0)], "all C")])
            .unwrap()
    };
    // Bought at 50, 45 on day 2, still 45 on day 3, then sold at 45 into cash.
    let p = run(Backtest::params()).get("all C").unwrap().clone();
    assert_eq!(p.wealth(), vec![900.0, 900.0, 900.0, 900.0]);
    assert_eq!(p.exits().len(), 1);
    // With a −30 % delisting return, holders receive 70 % of 900.
    let p = run(Backtest::params().delisting_return("C", -0.3)).get("all C").unwrap().clone();
    let w = p.wealth();
    assert_eq!(p.exits()[0].3, -0.3, "{:?}", p.exits());
    assert!((w[2] - 630.0).abs() < 1e-9 && (w[3] - 630.0).abs() < 1e-9, "{w:?}");
}

#[test]
fn the_universe_calendar_never_looks_ahead_at_returns() {
    // Perturbing returns after a date changes no decision at or before it,
    // on a panel with a listing and a delisting.
    let f = reference();
    let r = changing_universe(&f["c"]);
    let cut = 150;
    let mut v = r.values().to_owned();
    for t in cut + 1..v.nrows() {
        for x in v.row_mut(t).iter_mut() {
            if x.is_finite() {
                *x = -*x * 3.0;
            }
        }
    }
    let perturbed = Returns::new(r.dates().to_vec(), r.assets().to_vec(), v, ReturnKind::Simple).unwrap();
    let bt = Backtest::params().schedule(Schedule::Every(5)).lookback(21).cost_bps(5.0);
    let a = bt.run_returns(&r, strategies![InverseVolatility::new(21), Momentum::new(21, 5)]).unwrap();
    let b = bt.run_returns(&perturbed, strategies![InverseVolatility::new(21), Momentum::new(21, 5)]).unwrap();
    let day = r.dates()[cut];
    for (x, y) in a.reports.iter().zip(&b.reports) {
        for (p, q) in x.rebalances.iter().zip(&y.rebalances).filter(|(p, _)| p.date <= day) {
            assert_eq!(p.weights, q.weights, "{} on {}", x.name, p.date);
        }
    }
}

#[test]
fn survivors_only_overstate_returns_on_a_market_with_delistings() {
    let m = Synthetic::params()
        .assets(40)
        .days(2520)
        .drift(0.0003)
        .vol(0.025)
        .lifecycle(Lifecycle { late_listings: 0.2, delist_drawdown: 0.6, delisting_return: -0.3 })
        .seed(11)
        .generate()
        .unwrap();
    assert!(m.delistings.len() >= 5, "{}", m.delistings.len());
    let bt = Backtest::params().lookback(63);
    let mut with_delistings = bt.clone();
    for (a, _, r) in &m.delistings {
        with_delistings = with_delistings.delisting_return(a, *r);
    }
    let full = with_delistings.run(&m.prices, vec![]).unwrap();
    let survivors = bt.run(&m.survivors().unwrap(), vec![]).unwrap();
    let d = survivors.reports[0].difference(&full.reports[0]).unwrap();
    assert!(d.annual_mean > 0.0 && d.t_stat() > 2.0, "{d}");
}

#[test]
fn every_builtin_strategy_runs_on_a_changing_universe() {
    let m = Synthetic::params()
        .assets(8)
        .days(900)
        .drift(0.0)
        .vol(0.03)
        .lifecycle(Lifecycle { late_listings: 0.3, delist_drawdown: 0.5, delisting_return: 0.0 })
        .seed(5)
        .generate()
        .unwrap();
    assert!(!m.delistings.is_empty());
    let cmp = Backtest::params()
        .lookback(126)
        .run(
            &m.prices,
            strategies![
                InverseVolatility::new(63),
                Momentum::new(63, 3),
                BuyAndHold::new(),
                Optimized::new("min variance", Optimizer::min_variance(), Moments::ledoit_wolf()),
                HierarchicalStrategy::new("HRP", Hierarchical::hrp()),
            ],
        )
        .unwrap();
    for p in &cmp.reports {
        assert!(p.net.iter().all(|x| x.is_finite()), "{}", p.name);
        // Nothing is held in an asset on a date it has no price.
        for b in &p.rebalances {
            let t = m.prices.dates().iter().position(|d| *d == b.date).unwrap();
            for (j, w) in b.weights.iter().enumerate() {
                assert!(*w == 0.0 || m.prices.values()[[t, j]].is_finite(), "{} holds {j} on {}", p.name, b.date);
            }
        }
    }
}

#[test]
fn bad_market_input_is_named() {
    let (prices, r) = tiny();
    let dow = datasets::dow_2014().unwrap();
    let bt = Backtest::params().schedule(Schedule::Every(1)).lookback(1);
    // A zero volume for a traded asset (A, rebalanced on 2024-01-03).
    let mut vols = Array2::from_elem((6, 3), 1e6);
    vols[[2, 0]] = 0.0;
    let volumes = Volumes::new(prices.dates().to_vec(), prices.assets().to_vec(), vols).unwrap();
    let e = bt.clone().costs(CostModel::new().impact(Impact::new(1.0, &volumes))).run_returns(&r, vec![]).unwrap_err();
    assert!(
        matches!(e.root(), Error::InvalidValue { asset, date, value, .. } if asset == "A" && date.to_string() == "2024-01-03" && *value == 0.0),
        "{e}"
    );
    // Volumes of other assets or dates.
    let e =
        bt.clone().costs(CostModel::new().impact(Impact::new(1.0, &dow.volumes))).run_returns(&r, vec![]).unwrap_err();
    assert!(
        e.is_invalid(assetalloc::parameter::Market::Impact) && e.to_string().contains("column for asset \"A\""),
        "{e}"
    );
    // A negative spread or fee.
    for model in [
        CostModel::new().proportional(AssetRates::constant(-0.001)),
        CostModel::new().borrow(AssetRates::per_asset(&[("A", 0.01), ("B", -0.01), ("C", 0.0)])),
    ] {
        let e = bt.clone().costs(model).run_returns(&r, vec![]).unwrap_err();
        assert!(e.to_string().contains("-0.01") || e.to_string().contains("-0.001"), "{e}");
    }
    // A rate for an asset the panel does not hold.
    let e = bt.clone().costs(CostModel::new().borrow(AssetRates::per_asset(&[("Z", 0.01)]))).run_returns(&r, vec![]);
    assert!(matches!(e, Err(Error::UnknownAsset { ref name, .. }) if name == "Z"), "{e:?}");
    // A negative volume when loading.
    let e = Load::bytes(b"date,A\n2024-01-01,-5\n").volumes().unwrap_err();
    assert!(matches!(e, Error::InvalidValue { ref asset, .. } if asset == "A"), "{e}");
    // An asset that reappears after leaving, undeclared.
    let mut v = prices.values().to_owned();
    v[[2, 0]] = f64::NAN;
    let gappy = Prices::new(prices.dates().to_vec(), prices.assets().to_vec(), v).unwrap();
    let e = bt.clone().run(&gappy, vec![]).unwrap_err();
    assert!(matches!(e, Error::InvalidValue { ref asset, .. } if asset == "A"), "{e}");
    assert!(bt.clone().suspended(&["A"]).run(&gappy, vec![]).is_ok());
    // A rebalance date on which no asset is tradable: A delists after day
    // 1, B and C list on day 3.
    let nan = f64::NAN;
    let v = array![
        [10.0, nan, nan],
        [10.0, nan, nan],
        [nan, nan, nan],
        [nan, 22.0, 45.0],
        [nan, 22.0, 40.5],
        [nan, 22.0, 40.5]
    ];
    let late = Prices::new(prices.dates().to_vec(), prices.assets().to_vec(), v).unwrap();
    let e = bt.clone().run(&late, vec![]).unwrap_err();
    assert!(e.to_string().contains("holds no asset") && e.to_string().contains("2024-01-02"), "{e}");
    // Cash returns that miss a date; a delisting return below −100 %.
    let short_cash = dow.cash.head(10).unwrap();
    let e = Backtest::params().lookback(21).cash_returns(&short_cash).run_returns(&dow.returns, vec![]).unwrap_err();
    assert!(e.is_invalid(assetalloc::parameter::Backtest::CashReturns), "{e}");
    let e = bt.clone().delisting_return("A", -1.5).run_returns(&r, vec![]).unwrap_err();
    assert!(e.is_invalid(assetalloc::parameter::Backtest::DelistingReturn), "{e}");
}
