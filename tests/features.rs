//! Features, targets and random-forest selection.
use assetalloc::parameter::{self, Parameter};
use assetalloc::prelude::*;
use ndarray::Array2;

fn random_prices(assets: usize, days: usize, seed: u64) -> Prices {
    Synthetic::params().assets(assets).days(days).seed(seed).generate().unwrap().prices
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-10 * (1.0 + a.abs().max(b.abs()))
}

/// Naive O(T·w) definitions, written from the module docs.
fn naive(kind: Feature, p: &[f64], t: usize, w: usize) -> f64 {
    let r: Vec<f64> = (t + 1 - w..=t).map(|s| p[s] / p[s - 1] - 1.0).collect();
    let m = r.iter().sum::<f64>() / w as f64;
    match kind {
        Feature::Mean => m,
        Feature::Std => (r.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (w as f64 - 1.0)).sqrt(),
        Feature::Momentum => p[t] / p[t - w] - 1.0,
        Feature::MomentumDiff => p[t] - p[t - w],
        Feature::DownsideVol => (r.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / w as f64).sqrt(),
        Feature::MaDistance => p[t] / ((t + 1 - w..=t).map(|s| p[s]).sum::<f64>() / w as f64) - 1.0,
        Feature::EwmaVol => {
            // Closed form of the recursion: weights α(1−α)^(t−s) on r_s² for
            // s = w+1..t, and (1−α)^(t−w) on the seed mean of r_1..r_w.
            let a = 2.0 / (w as f64 + 1.0);
            let seed = (1..=w).map(|s| (p[s] / p[s - 1] - 1.0).powi(2)).sum::<f64>() / w as f64;
            let mut v = (1.0 - a).powi((t - w) as i32) * seed;
            for s in w + 1..=t {
                v += a * (1.0 - a).powi((t - s) as i32) * (p[s] / p[s - 1] - 1.0).powi(2);
            }
            v.sqrt()
        }
    }
}

#[test]
fn rolling_features_equal_naive_loops() {
    let prices = random_prices(3, 400, 11);
    let windows = [2, 5, 21, 63];
    let fs = Features::params().windows(&windows).compute(&prices).unwrap();
    assert_eq!(fs.warmup(), 63);
    assert_eq!(fs.dates().len(), 400 - 63);
    assert_eq!(fs.dates()[0], prices.dates()[63]);
    let v = prices.values();
    let mut checked = 0;
    for (wi, &w) in windows.iter().enumerate() {
        for (ki, &kind) in Feature::ALL.iter().enumerate() {
            let f = wi * Feature::ALL.len() + ki;
            assert_eq!(fs.names()[f], format!("{}_{w}", kind.short()));
            for i in 0..3 {
                let p = v.column(i).to_vec();
                for d in 0..fs.dates().len() {
                    let got = fs.values()[[d, i, f]];
                    let want = naive(kind, &p, d + 63, w);
                    assert!(close(got, want), "{} asset {i} date {d}: {got} vs {want}", fs.names()[f]);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 4 * 7 * 3 * 337);
}

#[test]
fn cross_sectional_rank_and_zscore() {
    let prices = random_prices(5, 100, 3);
    let fs = Features::params()
        .windows(&[10])
        .kinds(&[Feature::Momentum])
        .cross_section(&[CrossSection::Rank, CrossSection::ZScore])
        .compute(&prices)
        .unwrap();
    assert_eq!(fs.names(), ["mom_10", "rank(mom_10)", "z(mom_10)"]);
    for d in [0, 50, 89] {
        let x: Vec<f64> = (0..5).map(|i| fs.values()[[d, i, 0]]).collect();
        let rank: Vec<f64> = (0..5).map(|i| fs.values()[[d, i, 1]]).collect();
        let z: Vec<f64> = (0..5).map(|i| fs.values()[[d, i, 2]]).collect();
        let argmax = (0..5).max_by(|&a, &b| x[a].total_cmp(&x[b])).unwrap();
        assert_eq!(rank[argmax], 1.0);
        let mut sorted = rank.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(sorted, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let m = x.iter().sum::<f64>() / 5.0;
        let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 5.0).sqrt();
        for i in 0..5 {
            assert!(close(z[i], (x[i] - m) / sd));
        }
    }
}

#[test]
fn design_matrix_frame_and_selection_agree() {
    let prices = random_prices(4, 60, 5);
    let fs = Features::params().windows(&[5, 10]).compute(&prices).unwrap();
    let x = fs.design();
    assert_eq!(x.dim(), (50 * 4, 14));
    // Row r is date r / 4, asset r % 4.
    assert_eq!(x[[4 * 7 + 2, 3]], fs.values()[[7, 2, 3]]);
    let df = fs.to_dataframe().unwrap();
    assert_eq!(df.shape(), (200, 16));
    assert_eq!(df.get_column_names()[2].as_str(), "mean_5");
    let sub = fs.select(&["std_10", "mom_5"]).unwrap();
    assert_eq!(sub.names(), ["std_10", "mom_5"]);
    assert_eq!(sub.values()[[9, 1, 0]], fs.values()[[9, 1, 8]]);
    assert!(param_named(&fs.select(&["nope"]).unwrap_err(), parameter::Features::Feature));
    let html = fs.to_html();
    assert!(html.contains("10 warm-up dates dropped"));
    let corr = fs.correlation();
    assert!((corr[[0, 0]] - 1.0).abs() < 1e-15 && (corr[[2, 3]] - corr[[3, 2]]).abs() < 1e-15);
}

#[test]
fn forward_targets_and_classes() {
    let prices = random_prices(5, 30, 9);
    let t = Targets::forward(&prices, 3).unwrap();
    assert_eq!(t.dates().len(), 27);
    let v = prices.values();
    assert!(close(t.values()[[4, 2]], v[[7, 2]] / v[[4, 2]] - 1.0));
    let c = t.classes(5).unwrap();
    for d in 0..27 {
        let mut row: Vec<usize> = c.row(d).to_vec();
        row.sort();
        assert_eq!(row, vec![0, 1, 2, 3, 4]);
        let best = (0..5).max_by(|&a, &b| t.values()[[d, a]].total_cmp(&t.values()[[d, b]])).unwrap();
        assert_eq!(c[[d, best]], 4);
    }
    assert!(param_named(&t.classes(6).unwrap_err(), parameter::Features::Classes));
}

#[test]
fn features_and_targets_never_see_the_future() {
    let prices = random_prices(4, 300, 21);
    let cut = 150; // price index t
    let mut v = prices.values().to_owned();
    for t in cut + 1..300 {
        for i in 0..4 {
            v[[t, i]] *= 1.0 + 0.1 * ((t * 7 + i) as f64).sin();
        }
    }
    let other = Prices::new(prices.dates().to_vec(), prices.assets().to_vec(), v).unwrap();
    let params = Features::params().windows(&[5, 21, 63]).cross_section(&[CrossSection::Rank, CrossSection::ZScore]);
    let (a, b) = (params.compute(&prices).unwrap(), params.compute(&other).unwrap());
    let upto = cut - a.warmup();
    for d in 0..=upto {
        for i in 0..4 {
            for f in 0..a.n_features() {
                assert_eq!(a.values()[[d, i, f]].to_bits(), b.values()[[d, i, f]].to_bits());
            }
        }
    }
    assert_ne!(a.values()[[upto + 1, 0, 2]], b.values()[[upto + 1, 0, 2]], "the perturbation must reach t + 1");
    let h = 5;
    let (ta, tb) = (Targets::forward(&prices, h).unwrap(), Targets::forward(&other, h).unwrap());
    for d in 0..=cut - h {
        for i in 0..4 {
            assert_eq!(ta.values()[[d, i]].to_bits(), tb.values()[[d, i]].to_bits());
        }
    }
    assert_ne!(ta.values()[[cut - h + 1, 0]], tb.values()[[cut - h + 1, 0]]);
}

/// The error is a parameter error naming `want`.
fn param_named(e: &Error, want: impl Into<Parameter>) -> bool {
    e.is_invalid(want)
}

#[test]
fn bad_input_is_named() {
    let prices = random_prices(3, 50, 1);
    let e = Features::params().windows(&[1]).compute(&prices).unwrap_err();
    assert!(param_named(&e, parameter::Features::Window), "{e}");
    // A repeated window named two features alike.
    let e = Features::params().windows(&[5, 5]).compute(&prices).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidParameter { parameter: p, message } if *p == parameter::Features::Feature && message.contains("\"mean_5\"")),
        "{e}"
    );
    let e = Features::params().kinds(&[Feature::Mean, Feature::Mean]).compute(&prices).unwrap_err();
    assert!(e.is_invalid(parameter::Features::Feature), "{e}");
    let e = Features::params().windows(&[10, 50]).compute(&prices).unwrap_err();
    assert!(matches!(e, Error::TooFewRows { needed: 51, got: 50, .. }), "{e}");
    let e = Targets::forward(&prices, 0).unwrap_err();
    assert!(param_named(&e, parameter::Features::Horizon), "{e}");
    let mut csv = String::from("date,A,B\n");
    for d in 0..30 {
        let b = if d < 3 { String::new() } else { format!("{}", 50.0 + d as f64) };
        csv.push_str(&format!("2020-01-{:02},{},{b}\n", d + 1, 100.0 + d as f64));
    }
    // An asset that lists late has features once it has a window of its
    // own prices, and none before (it is not in the universe).
    let late = Load::bytes(csv.as_bytes()).missing(Missing::KeepStart { fill_limit: 0 }).prices().unwrap();
    let fs = Features::params().windows(&[5]).compute(&late).unwrap();
    for (d, date) in fs.dates().iter().enumerate() {
        let t = late.dates().iter().position(|x| x == date).unwrap();
        assert!(fs.values().slice(ndarray::s![d, 0, ..]).iter().all(|v| v.is_finite()));
        let b = fs.values().slice(ndarray::s![d, 1, ..]).to_owned();
        assert_eq!(b.iter().all(|v| v.is_finite()), t >= 3 + 5, "B on {date}: {b}");
        assert!(b.iter().all(|v| v.is_finite()) || b.iter().all(|v| v.is_nan()));
    }
    let same = Prices::new(prices.dates().to_vec(), prices.assets().to_vec(), Array2::ones((50, 3))).unwrap();
    let e = Targets::forward(&same, 1).unwrap().classes(2).unwrap_err();
    assert!(param_named(&e, parameter::Features::ForwardReturns), "{e}");
}

#[cfg(feature = "ml")]
mod selection {
    use super::*;

    fn planted(ic: f64, seed: u64) -> (Prices, FeatureSet) {
        let m = Synthetic::params()
            .assets(10)
            .days(1500)
            .signal(Signal::LaggedFeature { ic })
            .seed(seed)
            .generate()
            .unwrap();
        let fs = Features::params()
            .windows(&[5, 21])
            .compute(&m.prices)
            .unwrap()
            .with_panel("signal", m.signal_feature().unwrap())
            .unwrap();
        (m.prices, fs)
    }

    fn selector() -> assetalloc::features::SelectorParams {
        Selector::params().horizon(1).trees(40).repeats(3).max_depth(5).seed(3)
    }

    #[test]
    fn planted_signal_ranks_first_by_both_importances() {
        let (prices, fs) = planted(0.2, 8);
        let s = selector().fit(&fs, &prices).unwrap();
        let signal = s.names.iter().position(|n| n == "signal").unwrap();
        assert_eq!(s.order()[0], signal, "{}", s.table().to_text());
        assert_eq!(s.order_by_permutation()[0], signal, "{}", s.table().to_text());
        assert!(s.permutation[signal] > 3.0 * s.holdout_ic_se, "{}", s.table().to_text());
        assert!(s.holdout_ic > 3.0 * s.holdout_ic_se);
        assert_eq!(s.select_top(1).unwrap(), vec!["signal".to_string()]);
        assert!(s.select_top(0).is_err() && s.select_top(16).is_err());
        assert_eq!(s.select_top(15).unwrap().len(), 15);
    }

    /// Bound: on pure noise every permutation importance lies within 3
    /// standard errors of the forest's held-out IC.
    #[test]
    fn on_noise_permutation_importance_is_indistinguishable_from_zero() {
        let (prices, fs) = planted(0.0, 9);
        let s = selector().fit(&fs, &prices).unwrap();
        for (k, p) in s.permutation.iter().enumerate() {
            assert!(
                p.abs() < 3.0 * s.holdout_ic_se,
                "{}: {p} vs se {}\n{}",
                s.names[k],
                s.holdout_ic_se,
                s.table().to_text()
            );
        }
        assert!(s.holdout_ic.abs() < 3.0 * s.holdout_ic_se);
    }

    /// The bootstraps and shuffles are seeded and the trees count classes
    /// in an ordered map (vendor/linfa-trees): two fits with one seed are
    /// bit-identical.
    #[test]
    fn same_seed_same_importances() {
        let (prices, fs) = planted(0.1, 10);
        let a = selector().fit(&fs, &prices).unwrap();
        let b = selector().fit(&fs, &prices).unwrap();
        assert_eq!(a.order(), b.order());
        assert_eq!(a.impurity, b.impurity);
        assert_eq!(a.holdout_ic.to_bits(), b.holdout_ic.to_bits());
        let c = selector().seed(4).fit(&fs, &prices).unwrap();
        assert_ne!(a.impurity, c.impurity, "another seed, another forest");
    }

    #[test]
    fn selector_rejects_bad_settings() {
        let (prices, fs) = planted(0.1, 10);
        let short = prices.head(70).unwrap();
        let fs_short = Features::params().windows(&[5]).compute(&short).unwrap();
        // The rows named are the fewest that fit, counted by hand: with
        // holdout 0.3 and horizon 1, 73 dates hold out round(21.9) = 22 and
        // train 73 − 22 − 1 = 50; 72 would train 49. With horizon 21, 1,332
        // hold out round(399.6) = 400 = 19·21 + 1, the least that spans 20
        // horizons; 1,331 would hold out 399.
        let e = selector().fit(&fs_short, &short).unwrap_err();
        assert!(matches!(e, Error::TooFewRows { needed: 73, got: 64, .. }), "{e}");
        let e = selector().horizon(21).fit(&fs_short, &short).unwrap_err();
        assert!(matches!(e, Error::TooFewRows { needed: 1332, .. }), "{e}");
        let e = selector().classes(11).fit(&fs, &prices).unwrap_err();
        assert!(super::param_named(&e, parameter::Features::Classes), "{e}");
        let e = selector().horizon(0).fit(&fs, &prices).unwrap_err();
        assert!(super::param_named(&e, parameter::Features::Horizon), "{e}");
        let e = selector().holdout(1.5).fit(&fs, &prices).unwrap_err();
        assert!(super::param_named(&e, parameter::Features::Holdout), "{e}");
    }
}
