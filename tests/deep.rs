//! Deep allocator: equality with a PyTorch reference (fixture from
//! tools/reference/deep.py), finite-difference gradients of both losses,
//! long-only weights, planted higher Sharpe ratio, large risk aversion →
//! minimum variance, no lookahead in the walk-forward, CSV of log returns
//! with holidays, bad input.
#![cfg(feature = "nn")]

use assetalloc::data::{Load, Missing, ReturnKind, Returns, Synthetic};
use assetalloc::deep::{Architecture, CnnLstm, DeepAllocator, DeepAllocatorParams, PortfolioLoss};
use assetalloc::nn::{Matrix, Parameters, Sequence};
use assetalloc::parameter;
use assetalloc::Error;
use dfdx::prelude::*;
use serde_json::Value;

mod common;

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn network_losses_and_gradients_equal_pytorch() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/deep_reference.json")).unwrap();
    let fx: Value = serde_json::from_str(&text).unwrap();
    let c = &fx["config"];
    let u = |k: &str| c[k].as_u64().unwrap() as usize;
    let arch = Architecture {
        filters: u("filters"),
        kernel: u("kernel"),
        pool: u("pool"),
        hidden1: u("hidden1"),
        hidden2: u("hidden2"),
    };
    let dev = Cpu::default();
    let (n, b) = (u("assets"), u("batch"));
    let mut net = CnnLstm::new(&dev, n, u("n_time"), arch, 0).unwrap();
    let names: Vec<String> = net.parameters().into_iter().map(|(k, _)| k).collect();
    assert_eq!(names.len(), fx["params"].as_object().unwrap().len(), "{names:?}");
    for (name, p) in net.parameters_mut() {
        p.set_values(&floats(&fx["params"][&name])).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let x: Sequence<Cpu> = dev.tensor_from_vec(floats(&fx["x"]), (b, u("n_time"), n));
    let future: Sequence<Cpu> = dev.tensor_from_vec(floats(&fx["future"]), (b, n, u("n_future")));
    let w = net.forward(x.clone()).unwrap().as_vec();
    let d = max_diff(&w, &floats(&fx["weights"]));
    assert!(d < 1e-6, "softmax weights differ by {d}");
    let losses = [
        (
            "markowitz",
            PortfolioLoss::Markowitz {
                risk_aversion: c["risk_aversion"].as_f64().unwrap(),
                l2: c["l2"].as_f64().unwrap(),
            },
        ),
        ("sharpe", PortfolioLoss::Sharpe),
    ];
    for (name, loss) in losses {
        let l = loss.loss(net.forward(x.clone().traced(Gradients::leaky())).unwrap(), &future).unwrap();
        let got = l.as_vec()[0] as f64;
        let want = fx[format!("loss_{name}")].as_f64().unwrap();
        assert!((got - want).abs() < 1e-5, "{name} loss {got} vs PyTorch {want}");
        let mut grads = l.backward();
        let mut checked = 0;
        for (pname, p) in net.parameters() {
            let g = p.gradient(&mut grads).unwrap();
            let want = floats(&fx[format!("grads_{name}")][&pname]);
            let scale = want.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
            let d = max_diff(&g, &want);
            assert!(d < 1e-5 * scale.max(1.0) + 2e-6, "{name}: gradient of {pname} differs by {d}");
            checked += g.len();
        }
        assert_eq!(checked, net.n_parameters());
    }
}

/// Central differences of a loss of the weights, in f32 with a step of 2e-3.
fn check_loss_gradient(loss: PortfolioLoss, future: &Sequence<Cpu>, w0: &[f32], b: usize, n: usize) {
    let dev = Cpu::default();
    let eval = |w: &[f32]| -> f64 {
        let w: Matrix<Cpu> = dev.tensor_from_vec(w.to_vec(), (b, n));
        loss.loss::<Cpu, NoneTape>(w, future).unwrap().as_vec()[0] as f64
    };
    let w: Matrix<Cpu> = dev.tensor_from_vec(w0.to_vec(), (b, n));
    let l = loss.loss(w.clone().traced(Gradients::leaky()), future).unwrap();
    let grads = l.backward();
    let g = grads.get(&w).as_vec();
    let eps = 2e-3f32;
    for i in 0..w0.len() {
        let mut up = w0.to_vec();
        up[i] += eps;
        let mut down = w0.to_vec();
        down[i] -= eps;
        let fd = (eval(&up) - eval(&down)) / (2.0 * eps as f64);
        let a = g[i] as f64;
        assert!((fd - a).abs() <= 1e-3 + 1e-2 * a.abs(), "{loss:?} w[{i}]: analytic {a}, finite difference {fd}");
    }
}

#[test]
fn both_losses_match_finite_differences() {
    let dev = Cpu::default();
    let (b, n, days) = (3, 4, 6);
    let future: Sequence<Cpu> =
        dev.tensor_from_vec((0..b * n * days).map(|v| 0.4 * ((v as f32) * 0.73).sin() + 0.03).collect(), (b, n, days));
    let w0: Vec<f32> = (0..b * n).map(|v| 0.1 + 0.3 * ((v as f32) * 1.3).cos().abs()).collect();
    for loss in [
        PortfolioLoss::markowitz(0.0),
        PortfolioLoss::markowitz(0.15),
        PortfolioLoss::Markowitz { risk_aversion: 2.0, l2: 0.1 },
        PortfolioLoss::Sharpe,
    ] {
        check_loss_gradient(loss, &future, &w0, b, n);
    }
}

#[test]
fn network_gradients_match_finite_differences() {
    let dev = Cpu::default();
    let arch = Architecture { filters: 3, kernel: 2, pool: 2, hidden1: 3, hidden2: 2 };
    let (b, t, n, days) = (3, 7, 3, 5);
    let mut net = CnnLstm::new(&dev, n, t, arch, 5).unwrap();
    let x: Sequence<Cpu> = dev.tensor_from_vec((0..b * t * n).map(|v| ((v as f32) * 0.61).sin()).collect(), (b, t, n));
    let future: Sequence<Cpu> =
        dev.tensor_from_vec((0..b * n * days).map(|v| 0.5 * ((v as f32) * 0.37).cos()).collect(), (b, n, days));
    let loss = PortfolioLoss::Markowitz { risk_aversion: 0.5, l2: 0.0 };
    let eval = |net: &CnnLstm<Cpu>| -> f64 {
        loss.loss::<Cpu, NoneTape>(net.forward(x.clone()).unwrap(), &future).unwrap().as_vec()[0] as f64
    };
    let mut grads = loss.loss(net.forward(x.clone().traced(Gradients::leaky())).unwrap(), &future).unwrap().backward();
    let analytic: Vec<(String, Vec<f32>)> =
        net.parameters().into_iter().map(|(k, p)| (k, p.gradient(&mut grads).unwrap())).collect();
    let eps = 1e-2f32;
    let mut checked = 0;
    for (k, (name, g)) in analytic.iter().enumerate() {
        let base = net.parameters()[k].1.values();
        for idx in 0..g.len() {
            let mut bump = |delta: f32| {
                let mut v = base.clone();
                v[idx] += delta;
                net.parameters_mut()[k].1.set_values(&v).unwrap();
                eval(&net)
            };
            let fd = (bump(eps) - bump(-eps)) / (2.0 * eps as f64);
            net.parameters_mut()[k].1.set_values(&base).unwrap();
            let a = g[idx] as f64;
            assert!((fd - a).abs() <= 2e-4 + 2e-2 * a.abs(), "{name}[{idx}]: analytic {a}, finite difference {fd}");
            checked += 1;
        }
    }
    assert_eq!(checked, net.n_parameters());
    assert!(analytic.iter().any(|(k, g)| k == "conv.weight" && g.iter().any(|v| *v != 0.0)));
}

#[test]
fn the_first_layer_convolution_gives_forwards_output_and_gradients_to_the_bit() {
    // forward_input (the network's path on the CPU: no gradient for the
    // data) against forward (the path of other devices, which also
    // differentiates the input): training must not change by one bit.
    use assetalloc::nn::Conv1d;
    let dev = Cpu::default();
    for (b, t, c, f, k) in [(3, 9, 4, 5, 3), (2, 5, 20, 8, 1), (4, 20, 20, 64, 3)] {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(2);
        let conv = Conv1d::new(&dev, c, f, k, &mut rng).unwrap();
        let x: Sequence<Cpu> =
            dev.tensor_from_vec((0..b * t * c).map(|v| ((v as f32) * 0.43).sin()).collect(), (b, t, c));
        let run = |data: bool| {
            let xt = x.clone().traced(Gradients::leaky());
            let y = if data { conv.forward_input(xt) } else { conv.forward(xt) }.unwrap();
            let out = y.retaped::<NoneTape>().as_vec();
            let weights: Sequence<Cpu> =
                dev.tensor_from_vec((0..out.len()).map(|v| (v as f32 * 0.7).cos()).collect(), *y.shape());
            let mut grads = (y * weights).sum().backward();
            let g: Vec<Vec<f32>> =
                conv.parameters().into_iter().map(|(_, p)| p.gradient(&mut grads).unwrap()).collect();
            (out, g)
        };
        let (data, general) = (run(true), run(false));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&data.0), bits(&general.0), "output, shape {:?}", (b, t, c, f, k));
        assert_eq!(data.1.len(), 2);
        for (a, g) in data.1.iter().zip(&general.1) {
            assert_eq!(bits(a), bits(g), "gradient, shape {:?}", (b, t, c, f, k));
            assert!(a.iter().any(|v| *v != 0.0));
        }
    }
}

#[test]
fn softmax_weights_are_long_only_and_sum_to_one() {
    let dev = Cpu::default();
    let net = CnnLstm::new(&dev, 5, 20, Architecture::default(), 3).unwrap();
    // Inputs from tiny to huge: weights stay a valid long-only allocation.
    for scale in [1e-4f32, 1.0, 1e3] {
        let x: Sequence<Cpu> =
            dev.tensor_from_vec((0..8 * 20 * 5).map(|v| scale * ((v as f32) * 0.91).sin()).collect(), (8, 20, 5));
        let w = net.forward(x).unwrap().as_vec();
        for row in w.chunks(5) {
            assert!(row.iter().all(|v| *v >= 0.0 && v.is_finite()), "{row:?}");
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
    }
}

fn small() -> DeepAllocatorParams {
    DeepAllocator::params()
        .architecture(Architecture { filters: 8, kernel: 3, pool: 2, hidden1: 8, hidden2: 8 })
        .epochs(25)
        .batch_size(64)
        .learning_rate(1e-2)
        .patience(Some(8))
        .verbose(false)
}

fn log_returns(drifts: Vec<f64>, vols: Vec<f64>, days: usize, seed: u64) -> Returns {
    let n = drifts.len();
    let m = Synthetic::params().assets(n).days(days).drifts(drifts).vols(vols).seed(seed).generate().unwrap();
    m.prices.returns(ReturnKind::Log).unwrap()
}

/// Mean weights over the last `k` windows of `r`.
fn mean_weights(a: &assetalloc::deep::DeepAllocator, r: &Returns, k: usize) -> Vec<f64> {
    let v = r.values();
    let n = v.ncols();
    let mut mean = vec![0.0; n];
    for end in v.nrows() - k..v.nrows() {
        let w = a.weights(v.slice(ndarray::s![..=end, ..])).unwrap().into_values();
        for j in 0..n {
            mean[j] += w[j] / k as f64;
        }
    }
    mean
}

#[test]
fn a_planted_higher_sharpe_asset_is_overweighted() {
    // Same volatility, asset 0 drifts at 0.2 %/day against 0 for the others:
    // an annual Sharpe of ≈ 3 against 0.
    let fit = log_returns(vec![0.002, 0.0, 0.0, 0.0], vec![0.01; 4], 1200, 21);
    let held_out = log_returns(vec![0.002, 0.0, 0.0, 0.0], vec![0.01; 4], 300, 22);
    for loss in [PortfolioLoss::markowitz(0.0), PortfolioLoss::Sharpe] {
        let a = small().objective(loss).fit(&fit).unwrap();
        let w = mean_weights(&a, &held_out, 200);
        assert!(w[0] > 0.6, "{loss:?}: mean weight of the planted asset {:.3}, weights {w:?}", w[0]);
    }
}

#[test]
fn large_risk_aversion_moves_toward_minimum_variance() {
    // Equal drifts, independent assets, volatilities 0.5 %, 1 %, 1.5 %, 2 %
    // a day: the minimum-variance weights are ∝ 1/σ², [0.70, 0.18, 0.08, 0.04].
    let vols = vec![0.005, 0.01, 0.015, 0.02];
    let fit = log_returns(vec![0.0003; 4], vols.clone(), 1200, 31);
    let held_out = log_returns(vec![0.0003; 4], vols.clone(), 300, 32);
    let inv: Vec<f64> = vols.iter().map(|s| 1.0 / (s * s)).collect();
    let min_var: Vec<f64> = inv.iter().map(|v| v / inv.iter().sum::<f64>()).collect();
    let l1 = |w: &[f64]| w.iter().zip(&min_var).map(|(a, b)| (a - b).abs()).sum::<f64>();
    let equal = l1(&[0.25; 4]);
    let averse = mean_weights(&small().risk_aversion(20.0).fit(&fit).unwrap(), &held_out, 200);
    let neutral = mean_weights(&small().risk_aversion(0.0).fit(&fit).unwrap(), &held_out, 200);
    assert!(
        l1(&averse) < 0.5 * equal,
        "λ=20: {averse:?} is {:.3} from min-var {min_var:?} (1/N: {equal:.3})",
        l1(&averse)
    );
    assert!(l1(&averse) < l1(&neutral), "λ=20 {averse:?} not closer to min-var than λ=0 {neutral:?}");
    assert!(averse[0] > averse[1] && averse[1] > averse[3], "{averse:?}");
}

#[test]
fn the_same_seed_trains_the_same_network() {
    let r = log_returns(vec![0.0005, 0.0, 0.0002], vec![0.01; 3], 300, 81);
    let fit = |seed| small().epochs(2).seed(seed).fit(&r).unwrap();
    let (a, b, c) = (fit(6), fit(6), fit(7));
    let w = |m: &DeepAllocator| m.weights(r.values()).unwrap().into_values();
    let losses = |m: &DeepAllocator| m.history().epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>();
    assert_eq!(losses(&a), losses(&b), "bit-identical training within a process");
    assert_eq!(w(&a), w(&b));
    assert_ne!(w(&a), w(&c), "another seed, another network");
}

#[test]
fn training_targets_end_before_validation_targets() {
    let r = log_returns(vec![0.0005; 3], vec![0.01; 3], 400, 41);
    let a = small().epochs(1).validation(0.25).fit(&r).unwrap();
    let (_, train_end) = a.train_targets().unwrap();
    let (val_start, val_end) = a.validation_targets().unwrap();
    assert!(train_end < val_start, "training targets end {train_end}, validation starts {val_start}");
    assert_eq!(val_end, *r.dates().last().unwrap());
}

#[cfg(feature = "optimize")]
#[test]
fn walk_forward_never_trains_on_the_holding_period() {
    use assetalloc::prelude::{Backtest, DeepStrategy, Schedule, Strategy};
    let r = log_returns(vec![0.001, 0.0, 0.0005], vec![0.01; 3], 700, 51).to_kind(ReturnKind::Simple);
    let bt = Backtest::params().schedule(Schedule::Every(20)).lookback(300).cost_bps(10.0);
    let strategy = || -> Vec<Box<dyn Strategy>> { vec![Box::new(DeepStrategy::new("deep", small().epochs(2), 2))] };
    common::assert_decisions_ignore_the_future(&bt, &r, 560, "deep", strategy);
}

#[cfg(feature = "optimize")]
#[test]
fn walk_forward_runs_on_a_universe_that_loses_an_asset() {
    use assetalloc::prelude::{Backtest, DeepStrategy, Schedule};
    // The second asset delists after 500 days: its position is sold, and
    // the network is retrained on the two that remain.
    let r = log_returns(vec![0.001, 0.0, 0.0005], vec![0.01; 3], 700, 51).to_kind(ReturnKind::Simple);
    let mut v = r.values().to_owned();
    v.slice_mut(ndarray::s![500.., 1]).fill(f64::NAN);
    let gone = Returns::new(r.dates().to_vec(), r.assets().to_vec(), v, ReturnKind::Simple).unwrap();
    let bt = Backtest::params().schedule(Schedule::Every(40)).lookback(300).cost_bps(10.0);
    let cmp = bt.run_returns(&gone, vec![Box::new(DeepStrategy::new("deep", small().epochs(2), 100))]).unwrap();
    let p = cmp.get("deep").unwrap();
    let last = gone.dates()[499];
    assert!(p.rebalances.iter().any(|b| b.date > last));
    for b in p.rebalances.iter().filter(|b| b.date >= last) {
        assert_eq!(b.weights[1], 0.0, "holds the delisted asset on {}", b.date);
    }
    assert_eq!(p.exits().len(), 1);
    assert!(p.net.iter().all(|x| x.is_finite()));
}

#[test]
fn log_return_csv_with_zero_holiday_rows_trains() {
    // Every weekday, log returns, zero on "holidays" (every 7th row), and
    // one asset flat for a whole month: nothing breaks, weights are valid.
    let r = log_returns(vec![0.0005, 0.0002, 0.0], vec![0.01, 0.012, 0.008], 500, 61);
    let mut csv = String::from("date,A,B,C\n");
    for (i, (d, row)) in r.dates().iter().zip(r.values().rows()).enumerate() {
        let holiday = i % 7 == 3;
        let vals: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(j, v)| if holiday || (j == 2 && (200..225).contains(&i)) { "0.0".into() } else { format!("{v:.6}") })
            .collect();
        csv.push_str(&format!("{d},{}\n", vals.join(",")));
    }
    let loaded = Load::bytes(csv.as_bytes()).returns(ReturnKind::Log).unwrap();
    assert_eq!(loaded.len(), r.len());
    for loss in [PortfolioLoss::markowitz(0.1), PortfolioLoss::Sharpe] {
        let a = small().epochs(2).objective(loss).fit(&loaded).unwrap();
        assert!(a.history().epochs.iter().all(|e| e.train_loss.is_finite() && e.val_loss.is_some_and(f64::is_finite)));
        // A window ending in the flat month.
        let w = a.weights(loaded.values().slice(ndarray::s![..224, ..])).unwrap().into_values();
        assert!((w.sum() - 1.0).abs() < 1e-5 && w.iter().all(|v| *v >= 0.0), "{w:?}");
    }
    // An all-zero holding window: the Sharpe loss stays finite.
    let dev = Cpu::default();
    let w: Matrix<Cpu> = dev.tensor_from_vec(vec![0.5, 0.3, 0.2], (1, 3));
    let zeros: Sequence<Cpu> = dev.zeros_like(&(1, 3, 5));
    let l = PortfolioLoss::Sharpe.loss(w.clone().traced(Gradients::leaky()), &zeros).unwrap();
    assert!(l.as_vec()[0].is_finite());
    assert!(l.backward().get(&w).as_vec().iter().all(|g| g.is_finite()));
}

#[test]
fn bad_input_is_named() {
    let r = log_returns(vec![0.0; 3], vec![0.01; 3], 300, 71);
    // Fewer rows than one sample needs.
    let short = Returns::new(
        r.dates()[..30].to_vec(),
        r.assets().to_vec(),
        r.values().slice(ndarray::s![..30, ..]).to_owned(),
        ReturnKind::Log,
    )
    .unwrap();
    let e = small().fit(&short).unwrap_err();
    assert!(matches!(e, Error::TooFewRows { needed: 40, got: 30, .. }), "{e}");
    // Enough for a sample, too few for 32 training samples.
    let e = small()
        .fit(
            &Returns::new(
                r.dates()[..60].to_vec(),
                r.assets().to_vec(),
                r.values().slice(ndarray::s![..60, ..]).to_owned(),
                ReturnKind::Log,
            )
            .unwrap(),
        )
        .unwrap_err();
    match e {
        Error::TooFewRows { needed, got: 60, .. } => {
            assert!(needed > 60, "{needed}");
            // Exactly the rows needed: one fewer is still too few, that many trains.
            let rows = |k: usize| {
                Returns::new(
                    r.dates()[..k].to_vec(),
                    r.assets().to_vec(),
                    r.values().slice(ndarray::s![..k, ..]).to_owned(),
                    ReturnKind::Log,
                )
                .unwrap()
            };
            assert!(matches!(small().epochs(1).fit(&rows(needed - 1)), Err(Error::TooFewRows { .. })));
            assert!(small().epochs(1).fit(&rows(needed)).is_ok(), "{needed} rows suffice");
        }
        e => panic!("{e}"),
    }
    // A huge stride answers at once with the rows it would need.
    for stride in [10_000_000, 1 << 62] {
        let started = std::time::Instant::now();
        let e = small().stride(stride).fit(&r).unwrap_err();
        assert!(matches!(e, Error::TooFewRows { needed, .. } if needed > r.len()), "{e}");
        assert!(started.elapsed().as_secs_f64() < 1.0, "stride {stride} took {:?}", started.elapsed());
    }
    // One asset.
    let one = Returns::new(
        r.dates().to_vec(),
        vec!["A".into()],
        r.values().slice(ndarray::s![.., ..1]).to_owned(),
        ReturnKind::Log,
    )
    .unwrap();
    let e = small().fit(&one).unwrap_err();
    assert!(e.is_invalid(parameter::Deep::Returns), "{e}");
    // NaN returns: asset A starts late and the loader keeps its start missing.
    let mut csv = String::from("date,A,B,C\n");
    for (i, (d, row)) in r.dates().iter().zip(r.values().rows()).enumerate() {
        let a = if i < 10 { String::new() } else { row[0].to_string() };
        csv.push_str(&format!("{d},{a},{},{}\n", row[1], row[2]));
    }
    let gappy =
        Load::bytes(csv.as_bytes()).missing(Missing::KeepStart { fill_limit: 0 }).returns(ReturnKind::Log).unwrap();
    let e = small().fit(&gappy).unwrap_err();
    assert!(matches!(e, Error::MissingValues { ref asset, count: 10, .. } if asset == "A"), "{e}");
    // Settings.
    for (p, word) in [
        (small().horizon(1), parameter::Deep::Horizon),
        (small().lookback(3), parameter::Deep::Lookback),
        (small().stride(0), parameter::Deep::Stride),
        (small().validation(0.95), parameter::Deep::Validation),
        (small().risk_aversion(-1.0), parameter::Deep::RiskAversion),
        (small().objective(PortfolioLoss::Markowitz { risk_aversion: 0.1, l2: f64::NAN }), parameter::Deep::L2),
    ] {
        let e = p.fit(&r).unwrap_err();
        assert!(e.is_invalid(word), "{word}: {e}");
    }
    // The network is bounded (tanh, softmax, saturating gates), so only an
    // absurd step of 1e38 without clipping overflows it, naming the epoch.
    let e = small().learning_rate(1e38).clip_norm(None).fit(&r).unwrap_err();
    assert!(matches!(e, Error::Diverged { epoch, .. } if epoch >= 1), "{e}");
}

#[test]
fn a_trained_network_moves_between_devices_unchanged() {
    let r = log_returns(vec![0.0005, 0.0, 0.0002], vec![0.01; 3], 300, 81);
    let a = small().epochs(1).device(assetalloc::nn::Device::cpu()).fit(&r).unwrap();
    let moved = a.to_device(&Cpu::default()).unwrap();
    assert_eq!(moved.weights(r.values()).unwrap().into_values(), a.weights(r.values()).unwrap().into_values());
    assert_eq!(moved.history().epochs.len(), 1);
}

#[test]
fn a_sparsemax_head_gives_long_only_weights_with_exact_zeros() {
    use assetalloc::deep::AllocationHead;
    let fit = log_returns(vec![0.002, 0.0, -0.001, 0.0], vec![0.01; 4], 900, 61);
    let a = small().head(AllocationHead::Sparsemax).risk_aversion(0.0).fit(&fit).unwrap();
    let v = fit.values();
    let mut zeros = 0;
    for end in v.nrows() - 100..v.nrows() {
        let w = a.weights(v.slice(ndarray::s![..=end, ..])).unwrap().into_values();
        assert!((w.sum() - 1.0).abs() < 1e-5 && w.iter().all(|x| *x >= 0.0), "{w:?}");
        zeros += w.iter().filter(|x| **x == 0.0).count();
    }
    assert!(zeros > 0, "sparsemax left no asset out in 100 windows");
    assert_eq!(a.head(), &AllocationHead::Sparsemax);
}

/// The Markowitz head in the walk-forward: every rebalance's weights
/// within the caps and the group limit, and after the first (from cash)
/// every trade within the turnover cap of the drifted weights.
#[cfg(feature = "optimize")]
#[test]
fn a_constrained_markowitz_head_keeps_its_mandate_in_the_walk_forward() {
    use assetalloc::deep::{AllocationHead, MarkowitzLayer};
    use assetalloc::prelude::{Backtest, DeepStrategy, Schedule};
    let r = log_returns(vec![0.002, 0.0, 0.0005, 0.0], vec![0.01; 4], 700, 71).to_kind(ReturnKind::Simple);
    let layer = MarkowitzLayer::params(4)
        .bounds(0.0, 0.45)
        .group("first_two", &[0, 1], 0.0, 0.6)
        .risk_aversion(5.0)
        .turnover(0.2)
        .build()
        .unwrap();
    let params = small().epochs(3).head(AllocationHead::Markowitz(layer.clone()));
    let bt = Backtest::params().schedule(Schedule::Every(20)).lookback(300).cost_bps(10.0);
    let cmp = bt.run_returns(&r, vec![Box::new(DeepStrategy::new("deep", params, 5))]).unwrap();
    let p = cmp.get("deep").unwrap();
    assert!(p.rebalances.len() >= 15, "{} rebalances", p.rebalances.len());
    for (k, b) in p.rebalances.iter().enumerate() {
        let w = &b.weights;
        assert!((w.sum() - 1.0).abs() < 1e-5, "{}: {w}", b.date);
        assert!(w.iter().all(|x| *x >= -1e-6 && *x <= 0.45 + 1e-5), "{}: {w}", b.date);
        assert!(w[0] + w[1] <= 0.6 + 1e-5, "{}: {w}", b.date);
        if k > 0 {
            // The cap binds on the invested shares; the cost paid in cash
            // moves the engine's measure by at most the cost.
            assert!(b.turnover <= 0.2 + 1e-3, "{}: turnover {}", b.date, b.turnover);
        }
    }
    assert!(p.rebalances.iter().skip(1).any(|b| b.turnover > 0.05), "the policy never traded");
    assert!(layer.stats().solves > 1000, "{:?}", layer.stats());
}

#[cfg(feature = "optimize")]
#[test]
fn a_markowitz_head_for_the_wrong_universe_is_named() {
    use assetalloc::deep::{AllocationHead, MarkowitzLayer};
    let r = log_returns(vec![0.0; 3], vec![0.01; 3], 300, 5);
    let head = AllocationHead::Markowitz(MarkowitzLayer::params(4).build().unwrap());
    let e = small().head(head).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Deep::Head), "{e}");
    let e = small().head(AllocationHead::Softmax(0.0)).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Deep::Temperature), "{e}");
}
