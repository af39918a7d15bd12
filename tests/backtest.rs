//! Backtest engine: hand-computed drift, costs and cash; metrics against
//! empyrical-reloaded (tools/reference/metrics.py); no lookahead for every
//! built-in strategy; bad input.

use assetalloc::parameter::{self, Parameter};
use assetalloc::portfolio::Metrics;
use assetalloc::portfolio::Rebalance;
use assetalloc::prelude::*;
use ndarray::{array, Array1, Array2, ArrayView1};
use serde_json::Value;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn returns_panel(values: Array2<f64>) -> Returns {
    let dates: Vec<NaiveDate> = (0..values.nrows()).map(|i| d("2024-01-01") + chrono::Days::new(i as u64)).collect();
    let names = (0..values.ncols()).map(|j| format!("A{j}")).collect();
    Returns::new(dates, names, values, ReturnKind::Simple).unwrap().with_periods_per_year(252.0).unwrap()
}

/// Holds fixed target weights given at construction.
struct Fixed(Array1<f64>, &'static str);

impl Strategy for Fixed {
    fn name(&self) -> String {
        self.1.into()
    }
    fn decide(&mut self, _: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        Ok(Some(self.0.clone()))
    }
}

#[test]
fn drift_and_costs_match_hand_computation() {
    // Two assets; decisions at rows 0 and 2 (every 2, lookback 1).
    let r = returns_panel(array![[0.00, 0.00], [0.10, -0.10], [0.20, 0.00], [0.00, 0.10], [0.05, 0.05]]);
    let cmp =
        Backtest::params().schedule(Schedule::Every(2)).lookback(1).cost_bps(100.0).run_returns(&r, vec![]).unwrap();
    let ew = cmp.get("1/N (equal weight)").unwrap();
    // Wealth 1. Row 0: buy 0.5 and 0.5 from cash (turnover 1) and pay the
    // 1 % cost from cash, which stands at −0.01.
    // Row 1 earns 0.5·0.10 + 0.5·(−0.10) = 0 gross; wealth 0.99, net −1 %.
    assert!((ew.gross[0] - 0.0).abs() < 1e-15);
    assert!((ew.net[0] - (-0.01)).abs() < 1e-15);
    // Holdings 0.55 and 0.45. Row 2 earns 0.55·0.2 = 0.11 on wealth 0.99.
    assert!((ew.gross[1] - 0.11 / 0.99).abs() < 1e-15);
    // Row 2 is a decision: holdings 0.66 and 0.45, cash −0.01, wealth 1.10;
    // back to 1/N of 1.10, paying 1 % of the value traded.
    let (a, b) = (0.66 / 1.10, 0.45 / 1.10);
    let turnover = (a - 0.5f64).abs() + (b - 0.5f64).abs();
    assert!((ew.rebalances[1].turnover - turnover).abs() < 1e-14);
    // Row 3 earns 0.55·0.1 on 1.10 (5 %) less the cost 0.01·turnover.
    assert!((ew.net[2] - (0.05 - 0.01 * turnover)).abs() < 1e-14);
    assert_eq!(ew.dates[0], d("2024-01-02"));
    assert_eq!(ew.rebalances.len(), 2);
    assert!((ew.total_cost() - (0.01 + 0.01 * turnover)).abs() < 1e-15);
}

#[test]
fn cash_earns_the_risk_free_rate() {
    let r = returns_panel(array![[0.0, 0.0], [0.02, 0.04], [0.02, 0.04]]);
    let half = Fixed(array![0.5, 0.0], "half in A0");
    let cmp = Backtest::params()
        .schedule(Schedule::Every(1))
        .lookback(1)
        .cost_bps(0.0)
        .risk_free(0.0252)
        .run_returns(&r, vec![Box::new(half)])
        .unwrap();
    let h = cmp.get("half in A0").unwrap();
    // 0.5 · 0.02 + 0.5 · 0.0252 / 252 on the first earning day.
    assert!((h.net[0] - (0.01 + 0.5 * 0.0001)).abs() < 1e-15);
    // Fixed cost: 100 per traded asset on 1,000,000 of capital.
    let cmp = Backtest::params()
        .schedule(Schedule::Every(100))
        .lookback(1)
        .cost_bps(0.0)
        .fixed_cost(100.0, 1e6)
        .run_returns(&r, vec![])
        .unwrap();
    let ew = &cmp.reports[0];
    assert!((ew.rebalances[0].cost - 2.0 * 100.0 / 1e6).abs() < 1e-15);
}

fn reference() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn metrics_match_empyrical() {
    let p = datasets::sp500_index().unwrap();
    let r = p.returns(ReturnKind::Simple).unwrap();
    let x: Vec<f64> = r.values().column(0).to_vec();
    let reference = reference();
    for (key, rf) in [("rf_0.0", 0.0), ("rf_0.02", 0.02)] {
        let m = Metrics::compute(&x, r.dates(), 252.0, rf);
        let want = &reference[key];
        let check = |name: &str, got: f64| {
            let w = want[name].as_f64().unwrap();
            assert!((got - w).abs() < 1e-9, "{key} {name}: {got} vs {w}");
        };
        check("cagr", m.cagr);
        check("volatility", m.volatility);
        check("sharpe", m.sharpe);
        check("sortino", m.sortino);
        check("max_drawdown", m.max_drawdown);
        check("calmar", m.calmar);
        check("var95", m.var95);
        check("cvar95", m.cvar95);
        check("skew", m.skew);
        check("kurtosis", m.kurtosis);
        check("hit_rate", m.hit_rate);
    }
}

#[test]
fn sharpe_significance_behaves() {
    // Pure noise with zero mean: PSR against 0 is near one half, and the
    // deflated Sharpe ratio with many trials is lower than the PSR.
    let m = Synthetic::params().assets(1).days(5000).drift(0.0).seed(3).generate().unwrap();
    let r = m.prices.returns(ReturnKind::Simple).unwrap();
    let x = r.values().column(0).to_vec();
    let mt = Metrics::compute(&x, r.dates(), 252.0, 0.0);
    assert!((mt.psr(0.0) - 0.5).abs() < 0.45);
    assert!(mt.dsr(20, 0.001) < mt.psr(0.0));
    // Normal returns: s.e. ≈ sqrt((1 + SR²/2) / (T − 1)).
    let expect = ((1.0 + mt.sharpe_periodic.powi(2) / 2.0) / (x.len() as f64 - 1.0)).sqrt();
    assert!((mt.sharpe_se / expect - 1.0).abs() < 0.02, "{} vs {expect}", mt.sharpe_se);
    // A strong planted edge is significant.
    let m = Synthetic::params().assets(1).days(5000).drift(0.002).vol(0.01).seed(3).generate().unwrap();
    let r = m.prices.returns(ReturnKind::Simple).unwrap();
    let mt = Metrics::compute(&r.values().column(0).to_vec(), r.dates(), 252.0, 0.0);
    assert!(mt.psr(0.0) > 0.999);
}

fn built_ins() -> Vec<Box<dyn Strategy>> {
    #[cfg_attr(not(feature = "optimize"), allow(unused_mut))]
    let mut v: Vec<Box<dyn Strategy>> =
        vec![Box::new(EqualWeight), Box::new(BuyAndHold::new()), Box::new(InverseVolatility::new(63))];
    #[cfg(feature = "optimize")]
    {
        v.push(Box::new(Optimized::new("min variance", Optimizer::min_variance(), Moments::ledoit_wolf())));
        v.push(Box::new(Optimized::new("max Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf())));
    }
    v
}

#[test]
fn perturbing_the_future_changes_nothing_before_it() {
    let r = datasets::sp500()
        .unwrap()
        .returns(ReturnKind::Simple)
        .unwrap()
        .tail(900)
        .unwrap()
        .select(&["AAPL", "JNJ", "KO", "XOM", "WMT"])
        .unwrap();
    let t = 600; // rows after t are replaced
    let mut v = r.values().to_owned();
    for i in t + 1..v.nrows() {
        for j in 0..v.ncols() {
            v[[i, j]] = -0.5 * v[[i, j]] + 0.01 * ((i + j) % 3) as f64;
        }
    }
    let r2 = Returns::new(r.dates().to_vec(), r.assets().to_vec(), v, ReturnKind::Simple).unwrap();
    let bt = Backtest::params().schedule(Schedule::Every(21)).lookback(252).cost_bps(10.0);
    let a = bt.run_returns(&r, built_ins()).unwrap();
    let b = bt.run_returns(&r2, built_ins()).unwrap();
    let cut = r.dates()[t];
    for (x, y) in a.reports.iter().zip(&b.reports) {
        let before = |rep: &Portfolio| -> (Vec<Rebalance>, Vec<f64>) {
            let n = rep.dates.iter().filter(|d| **d <= cut).count();
            (rep.rebalances.iter().filter(|b| b.date <= cut).cloned().collect(), rep.net[..n].to_vec())
        };
        let (wx, nx) = before(x);
        let (wy, ny) = before(y);
        assert!(!wx.is_empty(), "{} decided something before the cut", x.name);
        assert_eq!(wx, wy, "{}: weights decided up to {cut} changed", x.name);
        assert_eq!(nx, ny, "{}: returns earned up to {cut} changed", x.name);
        assert_ne!(x.net, y.net, "{}: the perturbation reached later returns", x.name);
    }
}

struct Broken(f64);

impl Strategy for Broken {
    fn name(&self) -> String {
        "broken".into()
    }
    fn decide(&mut self, w: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        Ok(Some(Array1::from_elem(w.assets().len(), self.0)))
    }
}

struct Panics;

impl Strategy for Panics {
    fn name(&self) -> String {
        "panics".into()
    }
    fn decide(&mut self, _: &Window<'_>, _: ArrayView1<'_, f64>) -> Result<Option<Array1<f64>>> {
        panic!("index out of bounds in user code")
    }
}

fn param_named(e: &Error, want: impl Into<Parameter>) -> bool {
    e.is_invalid(want)
}

fn strategy_failed(e: &Error, who: &str, when: &str) -> bool {
    matches!(e, Error::Strategy { name, date, .. } if name == who && date.to_string() == when)
}

#[test]
fn bad_input_is_named() {
    let r = returns_panel(Array2::from_elem((30, 3), 0.001));
    let bt = Backtest::params().schedule(Schedule::Every(5)).lookback(10);
    // A strategy named like the 1/N baseline would take its row and every
    // verdict would be judged against it: refused, by name. The engine's
    // own EqualWeight, passed explicitly, is the baseline once.
    let e = bt.run_returns(&r, strategies![Fixed(array![1.0, 0.0, 0.0], "1/N (equal weight)")]).unwrap_err();
    assert!(param_named(&e, parameter::Backtest::Strategies) && e.to_string().contains("baseline"), "{e}");
    assert_eq!(bt.run_returns(&r, strategies![EqualWeight, BuyAndHold::new()]).unwrap().reports.len(), 2);
    let e = CrossValidation::params()
        .evaluate(&r, vec![Candidate::new(|| Fixed(array![1.0, 0.0, 0.0], "1/N (equal weight)"))])
        .unwrap_err();
    assert!(param_named(&e, parameter::Backtest::Strategies), "{e}");
    let e = Backtest::params().lookback(40).run_returns(&r, vec![]).unwrap_err();
    assert!(matches!(e, Error::TooFewRows { .. }), "{e}");
    let e = bt.clone().schedule(Schedule::Every(0)).run_returns(&r, vec![]).unwrap_err();
    assert!(param_named(&e, parameter::Backtest::Schedule), "{e}");
    let e = bt.clone().cost_bps(-1.0).run_returns(&r, vec![]).unwrap_err();
    assert!(param_named(&e, parameter::Backtest::CostBps), "{e}");
    // Cash at −100 % a year or less was accepted (a Sharpe ratio of 18 on
    // a flat market at −200 %).
    for rf in [-1.0, -2.0, f64::NAN] {
        let e = bt.clone().risk_free(rf).run_returns(&r, vec![]).unwrap_err();
        assert!(param_named(&e, parameter::Backtest::RiskFree), "{rf}: {e}");
    }
    let e = Weights::new(vec!["a".into()], ndarray::array![f64::NAN]).unwrap_err();
    assert!(param_named(&e, parameter::Portfolio::Weights), "{e}");
    let e = Weights::new(vec!["a".into(), "a".into()], ndarray::array![0.5, 0.5]).unwrap_err();
    assert!(param_named(&e, parameter::Portfolio::Weights), "{e}");
    // A strategy's failure names the strategy and the date, and keeps its cause.
    let e = bt.run_returns(&r, strategies![Broken(f64::NAN)]).unwrap_err();
    assert!(strategy_failed(&e, "broken", "2024-01-10"), "{e}");
    assert!(param_named(e.root(), parameter::Backtest::Weights), "{e}");
    let e = bt.run_returns(&r, strategies![Broken(0.5)]).unwrap_err();
    assert!(strategy_failed(&e, "broken", "2024-01-10") && param_named(e.root(), parameter::Backtest::Weights), "{e}");
    assert!(std::error::Error::source(&e).is_some(), "the cause is chained");
    let e = bt.run_returns(&r, strategies![Panics]).unwrap_err();
    assert!(strategy_failed(&e, "panics", "2024-01-10"), "{e}");
    assert!(
        matches!(e.root(), Error::Panicked { message, .. } if message == "index out of bounds in user code"),
        "{e}"
    );
    let kept = bt.clone().on_failure(OnFailure::KeepPrevious).run_returns(&r, strategies![Broken(0.5)]).unwrap();
    let b = kept.get("broken").unwrap();
    // Decisions at rows 9, 14, 19, 24 (row 29 has nothing left to earn).
    assert_eq!(b.failures.len(), 4);
    assert!(b.rebalances.is_empty() && b.net.iter().all(|x| *x == 0.0), "stays in cash");
    let e = bt.run_returns(&r, strategies![EqualWeight]).map(|c| c.reports.len());
    assert_eq!(e.unwrap(), 1, "1/N is not added twice");
    let e = bt.run_returns(&r, strategies![Broken(0.1), Broken(0.2)]).unwrap_err();
    assert!(param_named(&e, parameter::Backtest::Strategies), "{e}");
}

#[test]
fn comparison_renders_and_plots() {
    let prices = datasets::factors().unwrap();
    let cmp = Backtest::params().run(&prices, strategies![InverseVolatility::new(63), BuyAndHold::new()]).unwrap();
    let h = cmp.to_html();
    assert!(h.contains("1/N (equal weight)") && h.contains("PSR vs 1/N") && h.contains("DSR"));
    assert!(cmp.plot_equity().to_json().contains("\"type\":\"log\""));
    assert!(cmp.plot_weights("inverse volatility (63)").unwrap().to_json().contains("stackgroup"));
    match cmp.plot_weights("nope") {
        Err(e) => assert!(param_named(&e, parameter::Portfolio::Strategy), "{e}"),
        Ok(_) => panic!("an unknown strategy must be an error"),
    }
    assert!(cmp.plot_drawdowns().to_json().contains("Drawdown"));
    assert!(cmp.plot_rolling_sharpe(252).to_json().contains("Rolling"));
    // Monthly schedule: after the first decision, every rebalance is on a
    // month's last trading day, and every month end is one.
    let ew = &cmp.reports[0];
    use chrono::Datelike;
    for b in &ew.rebalances[1..] {
        let next = ew.dates.iter().find(|d| **d > b.date).unwrap();
        assert_ne!(next.month(), b.date.month(), "{} is not a month end", b.date);
    }
    let month_ends = ew.dates.windows(2).filter(|w| w[0].month() != w[1].month()).count();
    assert_eq!(ew.rebalances.len() - 1, month_ends);
    assert_eq!(cmp.get("buy and hold (1/N at start)").unwrap().rebalances.len(), 1);
    // Verdicts: one per strategy but 1/N, from the PSR against 1/N's Sharpe ratio.
    let v = cmp.verdicts();
    assert_eq!(v.rows.len(), 2);
    let bench = cmp.baseline().unwrap().metrics();
    for row in &v.rows {
        let psr = cmp.get(&row.name).unwrap().metrics().psr(bench.sharpe_periodic);
        assert_eq!(row.psr, psr);
        assert_eq!(row.verdict, Verdict::from_psr(psr));
    }
    assert!(v.to_html().contains("verdict"));
}

#[test]
fn leverage_costs_and_ruin_are_modelled() {
    let mut x = Array2::from_elem((60, 3), 0.0);
    for t in 0..60 {
        x[[t, 0]] = if t % 2 == 0 { 0.03 } else { -0.03 };
        x[[t, 1]] = if t % 2 == 0 { -0.02 } else { 0.025 };
    }
    let r = returns_panel(x);
    let bt = Backtest::params().schedule(Schedule::Every(5)).lookback(5);
    // A short position is refused by the long-only default, naming the limit.
    let short = || Fixed(array![-50.0, 51.0, 0.0], "levered");
    let e = bt.run_returns(&r, strategies![short()]).unwrap_err();
    assert!(strategy_failed(&e, "levered", "2024-01-05") && param_named(e.root(), parameter::Backtest::Weights), "{e}");
    let e = bt.clone().max_leverage(50.0).run_returns(&r, strategies![short()]).unwrap_err();
    assert!(param_named(e.root(), parameter::Backtest::Weights), "gross 101 > 50: {e}");
    // Allowed, it loses more than the capital: ruin, at zero, never below.
    let cmp = bt.clone().max_leverage(101.0).run_returns(&r, strategies![short()]).unwrap();
    let p = cmp.get("levered").unwrap();
    let ruin = p.ruin().expect("wealth reached zero");
    let equity = p.equity();
    let at = p.dates.iter().position(|d| *d == ruin).unwrap();
    assert!(equity[..at].iter().all(|w| *w > 0.0) && equity[at..].iter().all(|w| *w == 0.0), "{equity:?}");
    assert!(p.net.iter().all(|v| v.is_finite() && *v >= -1.0));
    let m = p.metrics();
    assert_eq!((m.cagr, m.max_drawdown), (-1.0, 1.0));
    assert!(p.rebalances.iter().all(|b| b.date <= ruin), "no trade after ruin");
    assert!(cmp.to_html().contains("ruined"));
    // Costs: at most 100 % of the notional traded; 100 % of a full purchase is ruin.
    let e = bt.clone().cost_bps(15_000.0).run_returns(&r, vec![]).unwrap_err();
    assert!(param_named(&e, parameter::Backtest::CostBps), "{e}");
    let all =
        bt.clone().cost_bps(10_000.0).run_returns(&r, strategies![Fixed(array![1.0, 0.0, 0.0], "all in")]).unwrap();
    let p = all.get("all in").unwrap();
    assert_eq!(p.ruin(), Some(p.dates[0]));
    assert!(p.net.iter().all(|v| v.is_finite()));
    // A fixed cost above the wealth is ruin too, not a negative wealth.
    let fixed = bt.fixed_cost(2e6, 1e6).run_returns(&r, vec![]).unwrap();
    assert_eq!(fixed.reports[0].ruin(), Some(fixed.reports[0].dates[0]));
    let e = Backtest::params().lookback(5).max_leverage(0.5).run_returns(&r, vec![]).unwrap_err();
    assert!(param_named(&e, parameter::Backtest::MaxLeverage), "{e}");
}

#[test]
fn verdicts_follow_the_psr_thresholds() {
    assert_eq!(Verdict::from_psr(0.95), Verdict::Beats);
    assert_eq!(Verdict::from_psr(0.949), Verdict::Indistinguishable);
    assert_eq!(Verdict::from_psr(0.051), Verdict::Indistinguishable);
    assert_eq!(Verdict::from_psr(0.05), Verdict::Worse);
    assert_eq!(Verdict::from_psr(f64::NAN), Verdict::Indistinguishable);
    // A strategy holding only the asset that earns 1 % a day beats 1/N;
    // one holding only the asset that loses is worse.
    let mut x = Array2::from_elem((300, 2), 0.0);
    for t in 0..300 {
        let noise = if t % 2 == 0 { 0.002 } else { -0.002 };
        x[[t, 0]] = 0.01 + noise;
        x[[t, 1]] = -0.01 + noise;
    }
    let r = returns_panel(x);
    let cmp = Backtest::params()
        .lookback(5)
        .run_returns(&r, strategies![BuyAndHold::asset("A0"), BuyAndHold::asset("A1")])
        .unwrap();
    let v = cmp.verdicts();
    assert_eq!(v.get("buy and hold A0").unwrap().verdict, Verdict::Beats);
    assert_eq!(v.get("buy and hold A1").unwrap().verdict, Verdict::Worse);
}

#[test]
fn drift_schedule_trades_only_when_weights_wander() {
    let prices = datasets::sp500().unwrap().select(&["AAPL", "XOM"]).unwrap().tail(1500).unwrap();
    let tight = Backtest::params().schedule(Schedule::Drift(0.02)).lookback(20).run(&prices, vec![]).unwrap();
    let loose = Backtest::params().schedule(Schedule::Drift(0.30)).lookback(20).run(&prices, vec![]).unwrap();
    let (t, l) = (&tight.reports[0], &loose.reports[0]);
    assert!(
        t.rebalances.len() > l.rebalances.len() && l.rebalances.len() > 1,
        "{} vs {}",
        t.rebalances.len(),
        l.rebalances.len()
    );
    // Every trade after the first happens when the drift exceeded the threshold.
    for b in &t.rebalances[1..] {
        assert!(b.turnover > 0.02, "{} traded {}", b.date, b.turnover);
    }
    let e = Backtest::params().schedule(Schedule::Drift(0.0)).lookback(20).run(&prices, vec![]).unwrap_err();
    assert!(param_named(&e, parameter::Backtest::Schedule), "{e}");
}

#[test]
fn buy_and_hold_of_one_asset_earns_its_returns_and_gross_exceeds_net() {
    let r = returns_panel(array![[0.0, 0.0], [0.10, -0.10], [0.20, 0.00], [-0.05, 0.10], [0.05, 0.05]]);
    let cmp = Backtest::params()
        .schedule(Schedule::Every(1))
        .lookback(1)
        .cost_bps(100.0)
        .run_returns(&r, vec![Box::new(BuyAndHold::asset("A1"))])
        .unwrap();
    let bh = cmp.get("buy and hold A1").unwrap();
    // Bought once (turnover 1, cost 1 %), never traded again.
    assert_eq!(bh.rebalances.len(), 1);
    assert_eq!(bh.rebalances[0].weights.to_vec(), vec![0.0, 1.0]);
    // The position is the whole pre-trade wealth and the cost is paid from
    // cash: wealth is the asset's growth less the 1 % paid, cash at 0 %.
    assert!((bh.gross[0] - (-0.10)).abs() < 1e-15, "{:?}", bh.gross);
    let mut growth = 1.0;
    for (e, (got, r)) in bh.equity().iter().zip([-0.10, 0.0, 0.10, 0.05]).enumerate() {
        growth *= 1.0 + r;
        assert!((got - (growth - 0.01)).abs() < 1e-14, "row {e}: {:?}", bh.equity());
    }
    assert!(bh.gross_metrics().cagr > bh.metrics().cagr);
    let t = cmp.gross_net_table().to_html();
    assert!(t.contains("buy and hold A1") && t.contains("Sharpe gross"), "{t}");
    let e = Backtest::params()
        .lookback(1)
        .schedule(Schedule::Every(1))
        .run_returns(&r, vec![Box::new(BuyAndHold::asset("ZZZ"))])
        .unwrap_err();
    assert!(matches!(e.root(), Error::UnknownAsset { name, .. } if name == "ZZZ"), "{e}");
}
