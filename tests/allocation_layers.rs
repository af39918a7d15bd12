//! Allocation layers: sparsemax and the bounded-simplex projection against
//! their closed-form Jacobians; the Markowitz layer against cvxpylayers
//! (fixture from tools/reference/markowitz_layer.py) and against central
//! finite differences of its own f64 solution; degenerate active sets,
//! repaired covariances and bad input.
#![cfg(all(feature = "nn", feature = "optimize"))]

use assetalloc::deep::MarkowitzLayer;
use assetalloc::nn::{
    project_simplex, softmax, sparsemax, LearnedWeights, Normalisation, Param, Parameters, SimplexBounds,
};
use assetalloc::Error;
use dfdx::prelude::*;
use ndarray::Array2;
use rand::{Rng, SeedableRng};

mod common;

type Taped = OwnedTape<f32, Cpu>;

fn dev() -> Cpu {
    Cpu::default()
}

/// Gradient of Σ c⊙w with respect to x for a layer `f`, and its value.
fn grad_of(
    x: &[f32],
    shape: (usize, usize),
    c: &[f32],
    f: impl Fn(Tensor<(usize, usize), f32, Cpu, Taped>) -> Tensor<(usize, usize), f32, Cpu, Taped>,
) -> (Vec<f32>, Vec<f32>) {
    let d = dev();
    let xt = d.tensor_from_vec(x.to_vec(), shape);
    let w = f(xt.clone().leaky_traced());
    let values = w.as_vec();
    let ct = d.tensor_from_vec(c.to_vec(), shape);
    let g = (w * ct).sum().backward();
    (values, g.get(&xt).as_vec())
}

#[test]
fn sparsemax_matches_its_closed_form_and_jacobian() {
    // x = (0.9, 0.5, −0.4, 0.45): τ = (0.9 + 0.5 + 0.45 − 1)/3 = 0.2833…,
    // the third entry out.
    let x = [0.9f32, 0.5, -0.4, 0.45, 2.0, 1.0, 1.0, 1.0];
    let c = [1.0f32, -2.0, 0.5, 3.0, 0.3, -0.7, 1.1, 0.2];
    let (w, g) = grad_of(&x, (2, 4), &c, |t| sparsemax(t).unwrap());
    let tau = (0.9 + 0.5 + 0.45 - 1.0) / 3.0;
    let want = [0.9 - tau, 0.5 - tau, 0.0, 0.45 - tau];
    for (a, b) in w[..4].iter().zip(want) {
        assert!((a - b as f32).abs() < 1e-6, "{w:?}");
    }
    // Second row: x₁ − x₂ = 1, so the projection is (1, 0, 0, 0).
    assert_eq!(&w[4..], &[1.0, 0.0, 0.0, 0.0]);
    // Jacobian diag(s) − s sᵀ/|S| applied to c.
    let support = [1.0f32, 1.0, 0.0, 1.0];
    let mean = (c[0] + c[1] + c[3]) / 3.0;
    for i in 0..4 {
        assert!((g[i] - support[i] * (c[i] - mean)).abs() < 1e-6, "{g:?}");
    }
}

#[test]
fn bounded_projection_matches_brute_force_and_finite_differences() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let n = 7;
    let lower: Vec<f64> = (0..n).map(|i| if i % 3 == 0 { 0.05 } else { -0.1 }).collect();
    let upper: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 0.25 } else { 0.4 }).collect();
    let bounds = SimplexBounds::new(lower.clone(), upper.clone()).unwrap();
    for _ in 0..20 {
        let x: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let c: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let (w, g) = grad_of(&x, (1, n), &c, |t| project_simplex(t, &bounds).unwrap());
        // The projection by bisection on τ, in f64.
        let proj = |x: &[f64]| -> Vec<f64> {
            let (mut lo, mut hi) = (-10.0, 10.0);
            for _ in 0..200 {
                let t = 0.5 * (lo + hi);
                let s: f64 = (0..n).map(|i| (x[i] - t).clamp(lower[i], upper[i])).sum();
                if s > 1.0 {
                    lo = t
                } else {
                    hi = t
                }
            }
            (0..n).map(|i| (x[i] - lo).clamp(lower[i], upper[i])).collect()
        };
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let want = proj(&x64);
        let total: f32 = w.iter().sum();
        assert!((total - 1.0).abs() < 1e-6);
        for i in 0..n {
            assert!((f64::from(w[i]) - want[i]).abs() < 1e-6, "{w:?} vs {want:?}");
            assert!(f64::from(w[i]) >= lower[i] - 1e-7 && f64::from(w[i]) <= upper[i] + 1e-7);
        }
        // Central differences of c·proj(x): exact for a piecewise-linear map
        // away from the kinks.
        for k in 0..n {
            let h = 1e-6;
            let mut up = x64.clone();
            up[k] += h;
            let mut down = x64.clone();
            down[k] -= h;
            let f = |v: &[f64]| v.iter().zip(&c).map(|(a, b)| a * f64::from(*b)).sum::<f64>();
            let fd = (f(&proj(&up)) - f(&proj(&down))) / (2.0 * h);
            assert!((fd - f64::from(g[k])).abs() < 1e-4, "entry {k}: {fd} vs {}", g[k]);
        }
    }
}

#[test]
fn softmax_temperature_and_learned_weights() {
    let d = dev();
    let x = d.tensor_from_vec(vec![1.0f32, 0.0, -1.0], (1, 3));
    let hot = softmax(x.clone(), 10.0).unwrap().as_vec();
    let cold = softmax(x.clone(), 0.1).unwrap().as_vec();
    assert!(hot[0] - hot[2] < 0.1 && cold[0] > 0.99, "{hot:?} {cold:?}");
    let e = softmax(x, 0.0).unwrap_err();
    assert!(e.to_string().contains("temperature"), "{e}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let learned = LearnedWeights::new(&d, 4, Normalisation::Sparsemax, 0.0, &mut rng).unwrap();
    let w: Tensor<(usize, usize), f32, Cpu, Taped> = learned.forward(3).unwrap();
    assert_eq!(w.as_vec(), vec![0.25; 12]);
    // A parameter swapped for a tensor of the other kind is an error, not a
    // panic.
    let mut swapped = learned.clone();
    *swapped.parameters_mut()[0].1 = Param::Matrix(d.tensor_from_vec(vec![0.0f32; 4], (2, 2)));
    let e = swapped.forward::<NoneTape>(3).unwrap_err();
    assert!(e.to_string().contains("logits must be a vector"), "{e}");
}

fn layer_for(case: &serde_json::Value) -> MarkowitzLayer {
    let n = case["n"].as_u64().unwrap() as usize;
    let bound = |v: &serde_json::Value, none: f64| v.as_f64().unwrap_or(none);
    let mut p = MarkowitzLayer::params(n)
        .risk_aversion(case["gamma"].as_f64().unwrap())
        .bounds(bound(&case["lower"], f64::NEG_INFINITY), bound(&case["upper"], f64::INFINITY));
    for g in case["groups"].as_array().unwrap() {
        let members: Vec<usize> =
            g["members"].as_array().unwrap().iter().map(|m| m.as_u64().unwrap() as usize).collect();
        p = p.group(g["name"].as_str().unwrap(), &members, g["lower"].as_f64().unwrap(), g["upper"].as_f64().unwrap());
    }
    if let Some(t) = case["turnover"].as_f64() {
        p = p.turnover(t);
    }
    p.build().unwrap()
}

fn close(got: &[f32], want: &[f64], tol: f64, what: &str) {
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((f64::from(*g) - w).abs() <= tol * scale, "{what}[{i}]: {g} vs {w} (scale {scale})");
    }
}

/// Weights within 1e-5 of the largest and the gradients of c·w with respect to μ and to
/// the covariance factor L (Σ = LLᵀ, built in dfdx) within 1e-5 of the
/// largest entry: the layer runs in f32, cvxpylayers in f64.
#[test]
fn markowitz_layer_matches_cvxpylayers() {
    let fx = common::fixture("markowitz_layer_reference.json");
    let d = dev();
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        let layer = layer_for(case);
        let f32s = |v: &serde_json::Value| common::floats(v).iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let mu = d.tensor_from_vec(f32s(&case["mu"]), (1, n));
        let factor = d.tensor_from_vec(f32s(&case["factor"]), (1, n, n));
        // Σ = L·Lᵀ, the transpose a copy (dfdx's product asks its two
        // operands to be distinct tensors).
        let transposed = factor.retaped::<Taped>().permute::<_, Axes3<0, 2, 1>>() * 1.0;
        let cov = factor.clone().leaky_traced().matmul(transposed);
        let previous = Array2::from_shape_vec((1, n), common::floats(&case["previous"]).to_vec()).unwrap();
        let prev = layer.has_turnover().then(|| previous.view());
        let w = layer.weights_learning_covariance(mu.clone().leaky_traced(), cov, prev).unwrap();
        close(&w.as_vec(), common::floats(&case["weights"]).as_slice().unwrap(), 1e-5, &format!("{name} weights"));
        let c = d.tensor_from_vec(f32s(&case["cotangent"]), (1, n));
        let g = (w * c).sum().backward();
        close(&g.get(&mu).as_vec(), common::floats(&case["grad_mu"]).as_slice().unwrap(), 1e-5, &format!("{name} dμ"));
        close(
            &g.get(&factor).as_vec(),
            common::floats(&case["grad_factor"]).as_slice().unwrap(),
            1e-5,
            &format!("{name} dL"),
        );
    }
    assert!(fx["cases"].as_array().unwrap().len() >= 5);
}

/// A random long-only problem whose bounds are partly active.
fn random_problem(rng: &mut rand::rngs::StdRng, n: usize) -> (Vec<f64>, Array2<f64>, Vec<f64>) {
    let a = Array2::from_shape_fn((n, n), |_| rng.gen_range(-1.0..1.0));
    let cov = a.t().dot(&a) / n as f64 + Array2::<f64>::eye(n) * 0.05;
    let mu: Vec<f64> = (0..n).map(|_| rng.gen_range(-0.5..0.5)).collect();
    let mut prev: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..1.0)).collect();
    let s: f64 = prev.iter().sum();
    prev.iter_mut().for_each(|v| *v /= s);
    (mu, cov, prev)
}

fn active_pattern(w: &[f64], prev: &[f64]) -> Vec<(bool, bool, bool)> {
    w.iter().zip(prev).map(|(&v, &p)| (v.abs() < 1e-9, (v - 0.3).abs() < 1e-9, (v - p).abs() < 1e-9)).collect()
}

/// J against central differences of the f64 solution, on problems with
/// active and inactive bounds, a group and a turnover cap: within 1e-5 of
/// the largest entry wherever both sides keep the same active set (the
/// solution is then affine in μ, so the differences are exact but for the
/// solver's rounding).
#[test]
fn markowitz_jacobian_matches_finite_differences() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let n = 9;
    let layers = [
        MarkowitzLayer::params(n).bounds(0.0, 0.3).risk_aversion(2.0).build().unwrap(),
        MarkowitzLayer::params(n).bounds(0.0, 0.3).group("g", &[0, 1, 2, 3], 0.2, 0.4).build().unwrap(),
        MarkowitzLayer::params(n).bounds(0.0, 0.3).turnover(0.25).risk_aversion(3.0).build().unwrap(),
    ];
    let (mut checked, mut active_seen, mut kinks_seen) = (0, 0, 0);
    for layer in &layers {
        for _ in 0..6 {
            let (mu, cov, prev) = random_problem(&mut rng, n);
            let prev_opt = layer.has_turnover().then_some(prev.as_slice());
            let (w, j) = layer.solution(&mu, cov.view(), prev_opt).unwrap();
            let pattern = active_pattern(&w, &prev);
            active_seen += pattern.iter().filter(|p| p.0 || p.1).count();
            if layer.has_turnover() {
                kinks_seen += pattern.iter().filter(|p| p.2).count();
            }
            let h = 1e-6;
            for k in 0..n {
                let mut up = mu.clone();
                up[k] += h;
                let mut down = mu.clone();
                down[k] -= h;
                let (wu, _) = layer.solution(&up, cov.view(), prev_opt).unwrap();
                let (wd, _) = layer.solution(&down, cov.view(), prev_opt).unwrap();
                if active_pattern(&wu, &prev) != pattern || active_pattern(&wd, &prev) != pattern {
                    continue;
                }
                let scale = j.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                for i in 0..n {
                    let fd = (wu[i] - wd[i]) / (2.0 * h);
                    assert!((fd - j[[i, k]]).abs() <= 1e-5 * scale, "J[{i},{k}] = {} vs {fd}", j[[i, k]]);
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked > 100 && active_seen > 20 && kinks_seen > 5,
        "{checked} columns checked, {active_seen} active bounds, {kinks_seen} assets left at their previous weight"
    );
}

/// The covariance's gradient (through weights_learning_covariance, in f32)
/// against central differences of the f64 closed-form minimum variance.
#[test]
fn min_variance_covariance_gradient_matches_finite_differences() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let n = 5;
    let layer = MarkowitzLayer::closed_form(n, 1.0).unwrap();
    let (_, cov, _) = random_problem(&mut rng, n);
    let c: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let d = dev();
    let s = d.tensor_from_vec(cov.iter().map(|&v| v as f32).collect(), (1, n, n));
    let w = layer.min_variance(s.clone().leaky_traced(), None).unwrap();
    let g = (w * d.tensor_from_vec(c.clone(), (1, n))).sum().backward().get(&s).as_vec();
    let zero = vec![0.0; n];
    let f = |m: &Array2<f64>| {
        let (w, _) = layer.solution(&zero, m.view(), None).unwrap();
        w.iter().zip(&c).map(|(a, b)| a * f64::from(*b)).sum::<f64>()
    };
    let scale = g.iter().fold(0f32, |m, v| m.max(v.abs()));
    for i in 0..n {
        for j in 0..n {
            let h = 1e-6;
            let mut up = cov.clone();
            up[[i, j]] += h;
            let mut down = cov.clone();
            down[[i, j]] -= h;
            let fd = (f(&up) - f(&down)) / (2.0 * h);
            assert!(
                (fd - f64::from(g[i * n + j])).abs() <= 1e-4 * f64::from(scale),
                "Σ[{i},{j}]: {fd} vs {}",
                g[i * n + j]
            );
        }
    }
}

#[test]
fn degenerate_and_dependent_active_sets_are_counted_and_give_finite_gradients() {
    // μ = (0.6, 0.4), Σ = I, γ = 1: the unconstrained optimum (0.6, 0.4)
    // sits exactly on the cap of 0.6, active with a zero multiplier.
    let layer = MarkowitzLayer::params(2).bounds(0.0, 0.6).build().unwrap();
    let (w, j) = layer.solution(&[0.6, 0.4], Array2::<f64>::eye(2).view(), None).unwrap();
    assert!((w[0] - 0.6).abs() < 1e-9 && j.iter().all(|v| v.is_finite()), "{w:?}");
    // The one-sided derivative with the cap held: nothing moves.
    assert!(j.iter().all(|v| v.abs() < 1e-12), "{j:?}");
    assert_eq!((layer.stats().degenerate, layer.stats().dependent), (1, 0), "{:?}", layer.stats());
    // Caps that exhaust the budget: every cap active, the budget dependent
    // on them; the portfolio cannot move.
    let n = 4;
    let layer = MarkowitzLayer::params(n).bounds(0.0, 0.25).build().unwrap();
    let d = dev();
    let mu = d.tensor_from_vec(vec![0.1f32, 0.3, -0.2, 0.0], (1, n));
    let w = layer.weights(mu.clone().leaky_traced(), &[Array2::<f64>::eye(n)], None).unwrap();
    assert!(w.as_vec().iter().all(|v| (v - 0.25).abs() < 1e-6));
    let g = (w * d.tensor_from_vec(vec![1.0, -1.0, 2.0, 0.5], (1, n))).sum().backward().get(&mu).as_vec();
    assert!(g.iter().all(|v| v.is_finite() && v.abs() < 1e-6), "{g:?}");
    assert_eq!((layer.stats().solves, layer.stats().dependent), (1, 1), "{:?}", layer.stats());
}

#[test]
fn an_indefinite_covariance_is_repaired_and_counted() {
    let layer = MarkowitzLayer::params(2).build().unwrap();
    let bad = ndarray::array![[1.0, 2.0], [2.0, 1.0]];
    let (w, j) = layer.solution(&[0.1, 0.0], bad.view(), None).unwrap();
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9 && j.iter().all(|v| v.is_finite()));
    assert_eq!(layer.stats().repaired, 1);
}

#[test]
fn infeasible_constraints_are_named_before_solving() {
    let cases: Vec<(Error, &str)> = vec![
        (MarkowitzLayer::params(3).bounds(0.0, 0.3).build().unwrap_err(), "bounds against the budget"),
        (MarkowitzLayer::params(3).group("ab", &[0, 1], 0.9, 1.0).bounds(0.0, 0.4).build().unwrap_err(), "group ab"),
        (
            MarkowitzLayer::params(3).group("a", &[0], 0.6, 1.0).group("b", &[1], 0.6, 1.0).build().unwrap_err(),
            "groups with the bounds",
        ),
        (MarkowitzLayer::params(3).risk_aversion(0.0).build().unwrap_err(), "risk_aversion"),
    ];
    for (e, what) in cases {
        assert!(e.to_string().contains(what), "{e} should name {what}");
    }
    // A turnover cap too tight for the previous weights' distance to the
    // bounds is named at the solve.
    let layer = MarkowitzLayer::params(3).bounds(0.0, 0.4).turnover(0.1).build().unwrap();
    let e = layer.solution(&[0.0; 3], Array2::<f64>::eye(3).view(), Some(&[1.0, 0.0, 0.0])).unwrap_err();
    assert!(e.to_string().contains("turnover"), "{e}");
    let e = layer.solution(&[0.0; 3], Array2::<f64>::eye(3).view(), None).unwrap_err();
    assert!(e.to_string().contains("previous"), "{e}");
    let e = layer.solution(&[f64::NAN, 0.0, 0.0], Array2::<f64>::eye(3).view(), Some(&[0.4, 0.3, 0.3])).unwrap_err();
    assert!(e.to_string().contains("mean"), "{e}");
}
