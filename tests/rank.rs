//! Walk-forward learning to rank.
#![cfg(feature = "ml")]
use assetalloc::parameter;
use assetalloc::prelude::*;
use assetalloc::stats::spearman;

fn market(signal: Option<Signal>, seed: u64, days: usize) -> Prices {
    let mut p = Synthetic::params().assets(12).days(days).seed(seed);
    if let Some(s) = signal {
        p = p.signal(s);
    }
    p.generate().unwrap().prices
}

fn ranker() -> assetalloc::rank::RankerParams {
    Ranker::params().horizon(1).stride(2).refit_every(125).min_train(250).trees(30).max_depth(4).seed(5)
}

fn features(p: &Prices) -> FeatureSet {
    Features::params().windows(&[5, 21]).kinds(&[Feature::Mean, Feature::Std, Feature::Momentum]).compute(p).unwrap()
}

/// Spearman with ties from its definition: average ranks by counting, then
/// Pearson's formula.
fn direct_spearman(x: &[f64], y: &[f64]) -> f64 {
    let rank = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .map(|a| {
                let below = v.iter().filter(|b| *b < a).count() as f64;
                let equal = v.iter().filter(|b| *b == a).count() as f64;
                below + (equal + 1.0) / 2.0
            })
            .collect()
    };
    let (rx, ry) = (rank(x), rank(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn spearman_with_ties_equals_the_direct_definition() {
    let x = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0, 5.0, 0.5];
    let y = [0.1, 0.3, 0.2, 0.2, 0.9, 0.1, 0.4, 0.0];
    assert!((spearman(&x, &y) - direct_spearman(&x, &y)).abs() < 1e-14);
    assert!((spearman(&y, &x) - direct_spearman(&x, &y)).abs() < 1e-14);
}

#[test]
fn planted_cross_sectional_signal_gives_a_significant_ic_and_noise_does_not() {
    let planted = market(Some(Signal::CrossSectionalMomentum { ic: 0.15, lookback: 5 }), 3, 900);
    let r = ranker().fit(&features(&planted), &planted).unwrap();
    let m = r.metrics();
    assert!(m.t_stat > 3.0 && m.mean_ic > 0.0, "planted: {}", r.table().to_text());
    assert_eq!(m.ic.len(), r.dates().len() - 1, "every scored date but the last has a realised return");
    // The per-date IC is the direct Spearman of score and forward return.
    let d = 17;
    let direct = direct_spearman(&r.scores().row(d).to_vec(), &r.forward().row(d).to_vec());
    assert!((m.ic[d] - direct).abs() < 1e-12);
    assert!(m.spread > 0.0);

    // Bound: on pure noise |t| < 3 for the forest's mean IC.
    let noise = market(None, 4, 900);
    let r = ranker().fit(&features(&noise), &noise).unwrap();
    assert!(r.metrics().t_stat.abs() < 3.0, "noise: {}", r.table().to_text());
}

#[test]
fn walk_forward_never_trains_on_the_future() {
    let prices = market(Some(Signal::CrossSectionalMomentum { ic: 0.1, lookback: 5 }), 6, 800);
    let cut = 600; // perturb every price after this index
    let mut v = prices.values().to_owned();
    for t in cut + 1..800 {
        for i in 0..12 {
            v[[t, i]] *= 1.0 + 0.2 * ((t + 3 * i) as f64).cos();
        }
    }
    let other = Prices::new(prices.dates().to_vec(), prices.assets().to_vec(), v).unwrap();
    let (a, b) = (ranker().fit(&features(&prices), &prices).unwrap(), ranker().fit(&features(&other), &other).unwrap());
    let cut_date = prices.dates()[cut];
    let mut same = 0;
    for (ra, rb) in a.refits().iter().zip(b.refits()) {
        assert!(ra.label_end <= ra.predict_from, "{ra:?}");
        assert!(ra.train_to < ra.predict_from);
        if ra.predict_to <= cut_date {
            assert_eq!(ra.fingerprint, rb.fingerprint, "a fit scoring dates up to {cut_date} saw later prices");
            same += 1;
        } else {
            assert_ne!(ra.fingerprint, rb.fingerprint, "the perturbation must reach later fits");
        }
    }
    assert!(same >= 2, "the test must cover fits before the cut ({same})");
}

#[test]
fn strategies_trade_the_scores_in_the_backtest() {
    let prices = market(Some(Signal::CrossSectionalMomentum { ic: 0.15, lookback: 5 }), 3, 900);
    let r = ranker().fit(&features(&prices), &prices).unwrap();
    let w = r.strategy(RankPortfolio::TopK(3)).weights(r.scores().row(0)).unwrap();
    assert_eq!(w.iter().filter(|v| **v > 0.0).count(), 3);
    assert!((w.sum() - 1.0).abs() < 1e-15);
    let tilt = r.strategy(RankPortfolio::Tilted).weights(r.scores().row(0)).unwrap();
    assert!(tilt.iter().all(|v| *v >= 0.0) && (tilt.sum() - 1.0).abs() < 1e-12);
    let best = (0..12).max_by(|&a, &b| r.scores()[[0, a]].total_cmp(&r.scores()[[0, b]])).unwrap();
    assert!(tilt[best] > 1.0 / 12.0);
    assert!(r.strategy(RankPortfolio::TopK(13)).weights(r.scores().row(0)).is_err());

    let p0 = prices.dates().iter().position(|d| *d == r.dates()[0]).unwrap();
    let lookback = 21;
    let bt_prices = prices.between(Some(prices.dates()[p0 - lookback]), None).unwrap();
    let cmp = Backtest::params()
        .schedule(Schedule::Every(5))
        .lookback(lookback)
        .cost_bps(10.0)
        .run(&bt_prices, strategies![r.strategy(RankPortfolio::TopK(3)), r.baseline_strategy(RankPortfolio::TopK(3)),])
        .unwrap();
    assert_eq!(cmp.reports.len(), 3);
    assert_eq!(cmp.reports[1].rebalances[0].date, r.dates()[0]);
    // Starting before the first score is an error naming the date.
    let early = Backtest::params()
        .schedule(Schedule::Every(5))
        .lookback(lookback)
        .run(&prices, strategies![r.strategy(RankPortfolio::TopK(3))])
        .unwrap_err();
    assert!(early.root().is_invalid(parameter::Rank::Ranking), "{early}");
    assert!(matches!(early, Error::Strategy { date, .. } if date < r.dates()[0]), "{early}");
    // The same assets in another order trade the same names: weights follow
    // the names, not the positions.
    let mut swapped: Vec<String> = prices.assets().to_vec();
    swapped.swap(0, 1);
    let bt = Backtest::params().schedule(Schedule::Every(5)).lookback(1);
    let other = prices.select(&swapped).unwrap().between(r.dates()[0], None).unwrap();
    let straight = prices.between(r.dates()[0], None).unwrap();
    let a = bt.run(&other, strategies![r.strategy(RankPortfolio::TopK(3))]).unwrap();
    let b = bt.run(&straight, strategies![r.strategy(RankPortfolio::TopK(3))]).unwrap();
    let (wa, wb) = (&a.reports[1].rebalances[0].weights, &b.reports[1].rebalances[0].weights);
    assert_eq!((wa[0], wa[1]), (wb[1], wb[0]));
    assert!((a.reports[1].equity().last().unwrap() - b.reports[1].equity().last().unwrap()).abs() < 1e-12);
    // An asset the ranking did not score is refused, by name.
    let mut renamed = straight.assets().to_vec();
    renamed[0] = "ZZZ".into();
    let unknown = Prices::new(straight.dates().to_vec(), renamed, straight.values().to_owned()).unwrap();
    let e = bt.run(&unknown, strategies![r.strategy(RankPortfolio::TopK(3))]).unwrap_err();
    assert!(matches!(e.root(), Error::Shape(m) if m.contains("ZZZ")), "{e}");
}

#[test]
fn bad_input_is_named() {
    let prices = market(None, 1, 400);
    let fs = features(&prices);
    let e = ranker().classes(13).fit(&fs, &prices).unwrap_err();
    assert!(e.is_invalid(parameter::Features::Classes), "{e}");
    let e = ranker().min_train(500).fit(&fs, &prices).unwrap_err();
    assert!(matches!(e, Error::TooFewRows { .. }), "{e}");
    let e = ranker().refit_every(0).fit(&fs, &prices).unwrap_err();
    assert!(e.is_invalid(parameter::Rank::RefitEvery), "{e}");
    // A horizon of 0 was reported as a stride of 0 (the stride defaults to it).
    let e = Ranker::params().horizon(0).fit(&fs, &prices).unwrap_err();
    assert!(e.is_invalid(parameter::Rank::Horizon), "{e}");
    let e = ranker().baseline("nope").fit(&fs, &prices).unwrap_err();
    assert!(e.is_invalid(parameter::Rank::Baseline), "{e}");
    let shorter = prices.tail(300).unwrap();
    let e = ranker().fit(&fs, &shorter).unwrap_err();
    assert!(e.is_invalid(parameter::Features::Dates), "{e}");
    let flat =
        Prices::new(prices.dates().to_vec(), prices.assets().to_vec(), ndarray::Array2::ones((400, 12))).unwrap();
    let e = ranker().fit(&features(&flat), &flat).unwrap_err();
    assert!(e.is_invalid(parameter::Features::ForwardReturns), "{e}");
}

#[test]
fn the_ranker_learns_and_trades_on_a_changing_universe() {
    // Assets list late and delist after a decline; features, labels and
    // scores exist only while an asset is in the universe (and past its
    // features' warm-up), and the strategy trades only what it can.
    let m = Synthetic::params()
        .assets(12)
        .days(1200)
        .drift(0.0003)
        .vol(0.02)
        .signal(Signal::CrossSectionalMomentum { ic: 0.15, lookback: 5 })
        .lifecycle(Lifecycle { late_listings: 0.3, delist_drawdown: 0.5, delisting_return: 0.0 })
        .seed(3)
        .generate()
        .unwrap();
    assert!(!m.delistings.is_empty());
    let p = &m.prices;
    let fs = features(p);
    let r = ranker().fit(&fs, p).unwrap();
    // A score only where the asset has a price and 21 days of history.
    let offset = p.dates().iter().position(|d| *d == r.dates()[0]).unwrap();
    for (d, row) in r.scores().rows().into_iter().enumerate() {
        for (i, s) in row.iter().enumerate() {
            let t = offset + d;
            let listed = (t.saturating_sub(21)..=t).all(|u| p.values()[[u, i]].is_finite());
            assert_eq!(s.is_finite(), listed, "asset {i} on {}", r.dates()[d]);
        }
    }
    let metrics = r.metrics();
    assert!(metrics.mean_ic.is_finite() && metrics.quantile_returns.iter().all(|q| q.is_finite()));
    assert!(metrics.t_stat > 2.0, "the planted signal survives the changing universe: {}", r.table().to_text());
    let cmp = Backtest::params()
        .schedule(Schedule::Every(5))
        .lookback(21)
        .run(&p.between(r.dates()[0], None).unwrap(), strategies![r.strategy(RankPortfolio::TopK(3))])
        .unwrap();
    let ranked = &cmp.reports[1];
    assert!(ranked.net.iter().all(|x| x.is_finite()));
    for b in &ranked.rebalances {
        let t = p.dates().iter().position(|d| *d == b.date).unwrap();
        for (i, w) in b.weights.iter().enumerate() {
            assert!(
                *w == 0.0 || p.values()[[t + 1, i]].is_finite(),
                "holds asset {i} past its delisting on {}",
                b.date
            );
        }
    }
    // Feature selection still asks for a complete panel, naming what is missing.
    let e = Selector::params().horizon(1).fit(&fs, p).unwrap_err();
    assert!(matches!(e, Error::InvalidValue { .. }), "{e}");
}
