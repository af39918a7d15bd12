//! LSTM forecaster: equality with PyTorch's nn.LSTM (fixtures from
//! tools/reference/lstm.py), finite-difference gradients, safetensors
//! interoperability, planted signal vs noise, no lookahead, bad input.
#![cfg(feature = "nn")]

use assetalloc::data::{ReturnKind, Returns, Signal, Synthetic};
use assetalloc::forecast::{Forecaster, LstmRegressor};
use assetalloc::nn::{load_safetensors, save_safetensors, Parameters, Sequence};
use assetalloc::parameter;
use assetalloc::Error;
use dfdx::prelude::*;
use serde_json::Value;

mod common;

fn fixtures() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lstm_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn dims(c: &Value, k: &str) -> usize {
    c[k].as_u64().unwrap() as usize
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn reference_model(name: &str, c: &Value) -> LstmRegressor<Cpu> {
    let dev = Cpu::default();
    let mut m =
        LstmRegressor::new(&dev, dims(c, "inputs"), dims(c, "hidden"), dims(c, "layers"), dims(c, "outputs"), 0)
            .unwrap();
    let path = format!("{}/tests/fixtures/lstm_{name}.safetensors", env!("CARGO_MANIFEST_DIR"));
    load_safetensors(&mut m, path).unwrap();
    m
}

fn input(c: &Value) -> Sequence<Cpu> {
    Cpu::default().tensor_from_vec(floats(&c["x"]), (dims(c, "batch"), dims(c, "time"), dims(c, "inputs")))
}

#[test]
fn outputs_states_and_gradients_equal_pytorch() {
    let fx = fixtures();
    for name in ["small", "default"] {
        let c = &fx[name];
        let m = reference_model(name, c);
        let dev = Cpu::default();
        // States and the hidden-state sequence (batch-first, as PyTorch returns it).
        let out = m.lstm().forward(input(c)).unwrap();
        let h_n: Vec<f32> = out.hiddens.iter().flat_map(|h| h.as_vec()).collect();
        let c_n: Vec<f32> = out.cells.iter().flat_map(|h| h.as_vec()).collect();
        let seq = out.batch_first().unwrap().as_vec();
        assert!(max_diff(&seq, &floats(&c["sequence"])) < 1e-5, "{name}: sequence");
        assert!(max_diff(&h_n, &floats(&c["h_n"])) < 1e-5, "{name}: h_n");
        assert!(max_diff(&c_n, &floats(&c["c_n"])) < 1e-5, "{name}: c_n");
        // Head, loss and every parameter's gradient.
        let y: Tensor<(usize, usize), f32, Cpu> =
            dev.tensor_from_vec(floats(&c["y"]), (dims(c, "batch"), dims(c, "outputs")));
        let pred = m.forward(input(c).traced(Gradients::leaky())).unwrap();
        assert!(max_diff(&pred.retaped::<NoneTape>().as_vec(), &floats(&c["prediction"])) < 1e-5, "{name}: prediction");
        let loss = dfdx::losses::mse_loss(pred, y);
        assert!((loss.as_vec()[0] as f64 - c["loss"].as_f64().unwrap()).abs() < 1e-6, "{name}: loss");
        let mut grads = loss.backward();
        let params = m.parameters();
        assert_eq!(params.len(), c["grads"].as_object().unwrap().len());
        for (pname, p) in params {
            let g = p.gradient(&mut grads).unwrap();
            let d = max_diff(&g, &floats(&c["grads"][&pname]));
            assert!(d < 1e-5, "{name}: gradient of {pname} differs by {d}");
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    // f32 forward: central differences with a step of 1e-2 on a smooth loss.
    let dev = Cpu::default();
    let mut m = LstmRegressor::new(&dev, 2, 3, 2, 2, 11).unwrap();
    let x: Sequence<Cpu> = dev.tensor_from_vec((0..3 * 6 * 2).map(|v| ((v as f32) * 0.61).sin()).collect(), (3, 6, 2));
    let loss = |m: &LstmRegressor<Cpu>| -> f64 {
        m.forward(x.clone()).unwrap().as_vec().iter().map(|v| (*v as f64).powi(2)).sum()
    };
    let out = m.forward(x.clone().traced(Gradients::leaky())).unwrap();
    let mut grads = out.square().sum::<(), _>().backward();
    let analytic: Vec<(String, Vec<f32>)> =
        m.parameters().into_iter().map(|(n, p)| (n, p.gradient(&mut grads).unwrap())).collect();
    let eps = 1e-2f32;
    let mut checked = 0;
    for (k, (name, g)) in analytic.iter().enumerate() {
        for idx in 0..g.len() {
            let base = m.parameters()[k].1.values();
            let bump = |delta: f32, m: &mut LstmRegressor<Cpu>| {
                let mut v = base.clone();
                v[idx] += delta;
                set(m, k, &v);
                loss(m)
            };
            let up = bump(eps, &mut m);
            let down = bump(-eps, &mut m);
            set(&mut m, k, &base);
            let fd = (up - down) / (2.0 * eps as f64);
            let a = g[idx] as f64;
            assert!((fd - a).abs() <= 2e-3 + 2e-2 * a.abs(), "{name}[{idx}]: analytic {a}, finite difference {fd}");
            checked += 1;
        }
    }
    assert!(checked > 150, "checked {checked} parameters");
}

fn set(m: &mut LstmRegressor<Cpu>, k: usize, v: &[f32]) {
    let (_, p) = m.parameters_mut().into_iter().nth(k).unwrap();
    p.set_values(v).unwrap();
}

#[test]
fn safetensors_round_trip_and_shape_errors() {
    let fx = fixtures();
    let c = &fx["small"];
    let m = reference_model("small", c);
    let dir = std::env::temp_dir().join(format!("assetalloc_st_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.safetensors");
    save_safetensors(&m, &path, Default::default()).unwrap();
    let dev = Cpu::default();
    let mut back = LstmRegressor::new(&dev, 3, 5, 2, 2, 99).unwrap();
    load_safetensors(&mut back, &path).unwrap();
    assert_eq!(m.forward(input(c)).unwrap().as_vec(), back.forward(input(c)).unwrap().as_vec());
    // A file for another architecture: the error names the tensor and both shapes.
    let mut wrong = LstmRegressor::new(&dev, 3, 6, 2, 2, 1).unwrap();
    let e = load_safetensors(&mut wrong, &path).unwrap_err();
    let names = |e: &Error, want: &str| matches!(e, Error::ModelFile { tensor: Some(t), .. } if t == want);
    assert!(names(&e, "lstm.weight_ih_l0"), "{e}");
    let mut deeper = LstmRegressor::new(&dev, 3, 5, 3, 2, 1).unwrap();
    let e = load_safetensors(&mut deeper, &path).unwrap_err();
    assert!(names(&e, "lstm.weight_ih_l2"), "{e}");
    let mut shallower = LstmRegressor::new(&dev, 3, 5, 1, 2, 1).unwrap();
    let e = load_safetensors(&mut shallower, &path).unwrap_err();
    assert!(names(&e, "lstm.bias_hh_l1"), "an extra tensor of the file is named: {e}");
    let e = load_safetensors(&mut back, dir.join("absent.safetensors")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    std::fs::write(dir.join("junk.safetensors"), b"not a tensor file").unwrap();
    let e = load_safetensors(&mut back, dir.join("junk.safetensors")).unwrap_err();
    assert!(matches!(e, Error::ModelFile { .. }), "{e}");
    // A NaN weight (the file's last four bytes are the last tensor's last
    // element) loaded silently and made every forecast NaN.
    let mut bytes = std::fs::read(&path).unwrap();
    let end = bytes.len();
    bytes[end - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(dir.join("nan.safetensors"), &bytes).unwrap();
    let e = load_safetensors(&mut back, dir.join("nan.safetensors")).unwrap_err();
    assert!(matches!(&e, Error::ModelFile { tensor: Some(_), message, .. } if message.contains("NaN")), "{e}");
}

fn synthetic(phi: Option<f64>, assets: usize, days: usize, seed: u64) -> Returns {
    let mut p = Synthetic::params().assets(assets).days(days).vol(0.01).seed(seed);
    if let Some(phi) = phi {
        p = p.signal(Signal::Autoregressive { phi });
    }
    p.generate().unwrap().prices.returns(ReturnKind::Simple).unwrap()
}

fn small() -> assetalloc::forecast::ForecasterParams {
    Forecaster::params().lookback(10).hidden(8).layers(1).epochs(12).batch_size(64).learning_rate(3e-3).verbose(false)
}

#[test]
fn planted_autocorrelation_is_learned_and_noise_is_not() {
    let ar = small().fit(&synthetic(Some(0.3), 2, 2500, 3)).unwrap();
    let e = ar.evaluation().unwrap();
    let l = e.lstm_scores();
    assert!(e.beats_baselines(), "{}", e.table());
    assert!(l.r2 > 0.03 && l.pearson > 0.2, "{}", e.table());
    let noise = small().fit(&synthetic(None, 2, 2500, 3)).unwrap();
    let e = noise.evaluation().unwrap();
    assert!(!e.beats_baselines(), "{}", e.table());
    assert!(e.lstm_scores().dm_t < 2.0, "{}", e.table());
    // The planted case must have been learned for the right reason: φ = 0.3
    // explains ≈ 9 % of the variance; the model gets a good part of it.
    assert!(e.verdict().starts_with("No evidence"), "{}", e.verdict());
}

#[test]
fn the_same_seed_trains_the_same_model() {
    let r = synthetic(Some(0.2), 2, 600, 9);
    let fit = |seed| small().epochs(3).seed(seed).fit(&r).unwrap();
    let (a, b, c) = (fit(4), fit(4), fit(5));
    let losses = |f: &Forecaster| f.history().epochs.iter().map(|e| (e.train_loss, e.val_loss)).collect::<Vec<_>>();
    assert_eq!(losses(&a), losses(&b), "bit-identical training within a process");
    assert_eq!(a.predict_next(r.values()).unwrap(), b.predict_next(r.values()).unwrap());
    assert_ne!(losses(&a), losses(&c), "another seed, another model");
}

#[test]
fn training_never_sees_the_test_block() {
    let r = synthetic(Some(0.2), 2, 900, 5);
    let p = small().epochs(3);
    let a = p.fit(&r).unwrap();
    let test_start = r.dates().iter().position(|d| *d == a.blocks().test.unwrap().0).unwrap();
    let mut v = r.values().to_owned();
    for i in test_start..v.nrows() {
        for j in 0..v.ncols() {
            v[(i, j)] = -v[(i, j)] * 0.5 + 0.01;
        }
    }
    let perturbed = Returns::new(r.dates().to_vec(), r.assets().to_vec(), v, ReturnKind::Simple).unwrap();
    let b = p.fit(&perturbed).unwrap();
    assert_eq!(a.scaler(), b.scaler());
    assert_eq!(
        a.history().epochs.iter().map(|e| (e.train_loss, e.val_loss)).collect::<Vec<_>>(),
        b.history().epochs.iter().map(|e| (e.train_loss, e.val_loss)).collect::<Vec<_>>()
    );
    // … while the test-block scores do change.
    assert_ne!(a.evaluation().unwrap().lstm_scores(), b.evaluation().unwrap().lstm_scores());
}

#[test]
fn saved_forecaster_reloads_with_its_scaler() {
    let r = synthetic(Some(0.2), 3, 600, 8);
    let f = small().epochs(2).fit(&r).unwrap();
    let path = std::env::temp_dir().join(format!("assetalloc_fc_{}.safetensors", std::process::id()));
    f.save(&path).unwrap();
    let g = Forecaster::load(&path).unwrap();
    assert_eq!(f.scaler(), g.scaler());
    assert_eq!(f.predict_next(r.values()).unwrap(), g.predict_next(r.values()).unwrap());
    assert!(matches!(g.evaluation(), Err(Error::InvalidParameter { .. })), "a loaded model has no test block");
    // Crafted metadata: each is an error naming the file, never a panic or a NaN forecast.
    let meta = |k: &str, v: &str| {
        let mut m: std::collections::HashMap<String, String> = [
            ("window", "10"),
            ("hidden", "8"),
            ("layers", "1"),
            ("assets", "A01\u{1f}A02\u{1f}A03"),
            ("scaler_mean", "0,0,0"),
            ("scaler_std", "0.01,0.01,0.01"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        m.insert(k.into(), v.into());
        m
    };
    for (k, v) in [
        ("scaler_std", "0.01,0.01"),
        ("scaler_mean", "0,0,0,0"),
        ("scaler_std", "0.01,0,0.01"),
        ("scaler_std", "0.01,NaN,0.01"),
        ("scaler_std", "0.01,-0.01,0.01"),
        ("window", "1"),
        ("window", "ten"),
    ] {
        save_safetensors(f.model(), &path, meta(k, v)).unwrap();
        let e = Forecaster::load(&path).unwrap_err();
        assert!(matches!(e, Error::ModelFile { path: ref at, tensor: None, .. } if *at == path), "{k}={v}: {e}");
    }
    save_safetensors(f.model(), &path, meta("hidden", "8")).unwrap();
    assert!(Forecaster::load(&path).is_ok(), "the untouched metadata loads");
}

#[test]
fn bad_input_is_named() {
    let r = synthetic(None, 2, 300, 1);
    let e = small().lookback(300).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Forecast::Lookback), "{e}");
    // A learning rate of 1e30 without clipping sends the loss to infinity.
    let e = small().learning_rate(1e30).clip_norm(None).fit(&r).unwrap_err();
    assert!(matches!(e, Error::Diverged { epoch, .. } if epoch >= 1), "{e}");
    let f = small().epochs(1).fit(&r).unwrap();
    let e = f.predict_next(r.values().slice(ndarray::s![..5, ..])).unwrap_err();
    assert!(matches!(e, Error::Shape(_)), "{e}");
    let mut v = r.values().to_owned();
    v[(295, 1)] = f64::NAN;
    let e = f.predict_next(v.view()).unwrap_err();
    assert!(e.is_invalid(parameter::Forecast::Returns), "{e}");
    let e = small().split(0.6, 0.35).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Forecast::Split), "{e}");
    for delta in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
        let e = small().loss(assetalloc::forecast::Loss::Huber(delta)).fit(&r).unwrap_err();
        assert!(e.is_invalid(parameter::Forecast::Huber), "{delta}: {e}");
    }
}

#[cfg(feature = "optimize")]
#[test]
fn lstm_strategy_sees_only_the_past_and_runs_net_of_costs() {
    use assetalloc::prelude::{Backtest, LstmStrategy, Schedule, Strategy};
    let r = synthetic(Some(0.2), 3, 900, 12);
    let strategy = || -> Vec<Box<dyn Strategy>> {
        vec![Box::new(LstmStrategy::new("lstm", small().epochs(3).split(0.2, 0.0), 10.0, 3))]
    };
    let bt = Backtest::params().schedule(Schedule::Every(42)).lookback(400).cost_bps(10.0);
    common::assert_decisions_ignore_the_future(&bt, &r, 700, "lstm", strategy);
}

#[cfg(feature = "optimize")]
#[test]
fn lstm_strategy_runs_on_a_universe_that_grows() {
    use assetalloc::prelude::{Backtest, LstmStrategy, Schedule};
    // The third asset lists after 300 days: it joins once it has 400
    // returns, and the network is retrained on the three assets then.
    let r = synthetic(Some(0.2), 3, 900, 12);
    let mut v = r.values().to_owned();
    v.slice_mut(ndarray::s![..300, 2]).fill(f64::NAN);
    let late = Returns::new(r.dates().to_vec(), r.assets().to_vec(), v, r.kind()).unwrap();
    let bt = Backtest::params().schedule(Schedule::Every(42)).lookback(400).cost_bps(10.0);
    let lstm = LstmStrategy::new("lstm", small().epochs(2).split(0.2, 0.0), 10.0, 100);
    let cmp = bt.run_returns(&late, vec![Box::new(lstm)]).unwrap();
    let p = cmp.get("lstm").unwrap();
    let joins = late.dates()[699];
    assert!(p.rebalances.iter().any(|b| b.date >= joins));
    for b in &p.rebalances {
        assert!(b.date >= joins || b.weights[2] == 0.0, "holds the unlisted asset on {}", b.date);
        assert!((b.weights.sum() - 1.0).abs() < 1e-6, "{}", b.weights);
    }
    assert!(p.net.iter().all(|x| x.is_finite()));
}

#[test]
fn fused_cpu_recurrence_equals_the_composed_one() {
    // The composed recurrence is what devices without a fused kernel run;
    // the CPU's fused kernel must agree with it, gradients included.
    use assetalloc::nn::{lstm_recurrence_composed, Backend, Matrix, Recurrent, Vector};
    let dev = Cpu::default();
    let (t, b, h) = (6, 5, 7);
    let xp: Sequence<Cpu> =
        dev.tensor_from_vec((0..t * b * 4 * h).map(|v| 1.5 * ((v as f32) * 0.37).sin()).collect(), (t, b, 4 * h));
    let w: Matrix<Cpu> =
        dev.tensor_from_vec((0..4 * h * h).map(|v| 0.4 * ((v as f32) * 0.71).cos()).collect(), (4 * h, h));
    let b_ih: Vector<Cpu> =
        dev.tensor_from_vec((0..4 * h).map(|v| 0.3 * ((v as f32) * 0.53).sin()).collect(), (4 * h,));
    let b_hh: Vector<Cpu> =
        dev.tensor_from_vec((0..4 * h).map(|v| 0.2 * ((v as f32) * 0.29).cos()).collect(), (4 * h,));
    let rec = Recurrent { w_hh: &w, b_ih: &b_ih, b_hh: &b_hh };
    let weights: Sequence<Cpu> =
        dev.tensor_from_vec((0..t * b * h).map(|v| ((v as f32) * 0.13).sin()).collect(), (t, b, h));
    let run = |fused: bool| -> Vec<Vec<f32>> {
        let x = xp.clone().traced(Gradients::leaky());
        let (seq, h_n, c_n) = if fused {
            <Cpu as Backend>::lstm_recurrence(x, rec, h).unwrap()
        } else {
            lstm_recurrence_composed(x, rec, h).unwrap()
        };
        let (seq, tape) = seq.split_tape();
        let loss = (seq.clone().put_tape(tape) * weights.clone()).square().sum::<(), _>();
        let mut grads = loss.backward();
        grads.try_alloc_for(&w).unwrap();
        vec![
            seq.as_vec(),
            h_n.as_vec(),
            c_n.as_vec(),
            grads.get(&xp).as_vec(),
            grads.get(&w).as_vec(),
            [grads.get(&b_ih).as_vec(), grads.get(&b_hh).as_vec()].concat(),
        ]
    };
    let (fused, composed) = (run(true), run(false));
    for (name, a, b) in
        ["sequence", "h_n", "c_n", "gradient of the projections", "gradient of W_hh", "gradients of the biases"]
            .iter()
            .zip(&fused)
            .zip(&composed)
            .map(|((n, a), b)| (n, a, b))
    {
        assert!(max_diff(a, b) < 2e-6, "{name} differ by {}", max_diff(a, b));
    }
    assert!(fused[4].iter().any(|g| *g != 0.0));
}

#[test]
fn the_training_device_is_a_setting_and_cuda_where_it_cannot_work_is_named() {
    use assetalloc::nn::{CudaUnavailable, Device};
    let r = synthetic(Some(0.2), 2, 600, 9);
    let default = small().epochs(2).fit(&r).unwrap();
    let on_cpu = small().epochs(2).device(Device::cpu()).fit(&r).unwrap();
    assert_eq!(default.predict_next(r.values()).unwrap(), on_cpu.predict_next(r.values()).unwrap());
    assert_eq!(small().train_params().device, Device::cpu(), "the CPU is the default");
    // A fitted model moves between devices with its weights unchanged.
    let moved = default.to_device(&Cpu::default()).unwrap();
    assert_eq!(moved.predict_next(r.values()).unwrap(), default.predict_next(r.values()).unwrap());
    #[cfg(not(feature = "cuda"))]
    {
        match Device::cuda(0) {
            Err(Error::CudaUnavailable { ordinal: 0, reason: CudaUnavailable::FeatureOff }) => {}
            other => panic!("expected FeatureOff, got {other:?}"),
        }
        let e = Device::cuda(7).unwrap_err();
        assert!(e.to_string().contains("--features cuda"), "{e}");
        assert_eq!(Device::best(), Device::cpu(), "without the feature the best device is the CPU");
        assert!(!Device::best().is_gpu());
    }
}

#[test]
fn an_epoch_without_a_validation_block_has_no_validation_loss() {
    let r = synthetic(None, 2, 300, 1);
    let f = small().epochs(2).split(0.0, 0.0).fit(&r).unwrap();
    assert!(f.history().epochs.iter().all(|e| e.val_loss.is_none()), "{:?}", f.history().epochs);
    let g = small().epochs(2).fit(&r).unwrap();
    assert!(g.history().epochs.iter().all(|e| e.val_loss.is_some_and(f64::is_finite)), "{:?}", g.history().epochs);
}
