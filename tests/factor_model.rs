//! Factor models: the regression equals numpy least squares (fixture from
//! tools/reference/factor_model.py), principal components reproduce the
//! sample covariance when every component is kept, every variance
//! objective gives the same weights on the factored form as on the dense
//! matrix, the strategy sees only the past, bad input is named.
#![cfg(feature = "optimize")]

use assetalloc::estimate::{Components, FactorModel};
use assetalloc::parameter;
use assetalloc::prelude::*;
use serde_json::Value;

/// What a cone program's optimum is read from.
type Optimum = fn(&Allocation) -> f64;

mod common;
use common::max_diff;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn the_regression_equals_numpy_least_squares() {
    let f: Value = serde_json::from_str(include_str!("fixtures/factor_model_reference.json")).unwrap();
    let assets = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let factors = datasets::factors().unwrap().returns(ReturnKind::Simple).unwrap();
    let model = FactorModel::regression(&factors).fit(&assets).unwrap();
    let theirs: Vec<f64> = f["loadings"].as_array().unwrap().iter().flat_map(floats).collect();
    let d = max_diff(model.loadings().as_slice().unwrap(), &theirs);
    assert!(d < 1e-10, "loadings differ by {d:e}");
    let form = model.moments().factored().unwrap();
    let d = max_diff(form.specific.as_slice().unwrap(), &floats(&f["specific"]));
    assert!(d < 1e-12, "specific variances differ by {d:e}");
    let d = max_diff(model.r_squared().unwrap().as_slice().unwrap(), &floats(&f["r2"]));
    assert!(d < 1e-10, "R² differ by {d:e}");
    let cov: Vec<f64> = f["cov"].as_array().unwrap().iter().flat_map(floats).collect();
    let d = max_diff(model.moments().cov().as_slice().unwrap(), &cov);
    assert!(d < 1e-12, "Σ = BFBᵀ + D differs by {d:e}");
    let d = max_diff(model.moments().mean().as_slice().unwrap(), &floats(&f["mean"]));
    assert!(d < 1e-12, "means differ by {d:e}");
}

#[test]
fn principal_components_reproduce_the_sample_covariance_when_all_are_kept() {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let sample = Moments::sample().fit(&r).unwrap();
    let all = FactorModel::pca(Components::Count(20)).fit(&r).unwrap();
    let scale = sample.cov().iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let d = max_diff(all.moments().cov().as_slice().unwrap(), sample.cov().as_slice().unwrap());
    assert!(d < 1e-12 * scale, "k = N: covariance differs by {d:e}");
    let d = max_diff(all.moments().mean().as_slice().unwrap(), sample.mean().as_slice().unwrap());
    assert!(d < 1e-15, "k = N: means differ by {d:e}");
    let three = FactorModel::pca(Components::Count(3)).fit(&r).unwrap();
    let shares = three.explained().unwrap();
    assert!(shares[0] > shares[1] && shares[1] > shares[2] && shares.iter().sum::<f64>() < 1.0);
    let enough = FactorModel::pca(Components::Explained(0.5)).fit(&r).unwrap();
    let k = enough.factors().len();
    let kept: f64 = enough.explained().unwrap().iter().sum();
    assert!(kept >= 0.5 && kept - enough.explained().unwrap()[k - 1] < 0.5, "the fewest components explaining 50 %");
}

#[test]
fn every_variance_objective_is_the_same_on_the_factored_form() {
    for seed in [1u64, 2, 3] {
        let r = Synthetic::params()
            .assets(25)
            .days(800)
            .seed(seed)
            .generate()
            .unwrap()
            .prices
            .returns(ReturnKind::Simple)
            .unwrap();
        let factored = FactorModel::pca(Components::Count(4)).fit(&r).unwrap().moments().annualized();
        let dense = Moments::new(r.assets().to_vec(), factored.mean().clone(), factored.cov().clone(), 252.0).unwrap();
        assert!(factored.factored().is_some() && dense.factored().is_none());
        let equal: Vec<(String, f64)> = r.assets().iter().map(|a| (a.clone(), 1.0 / 25.0)).collect();
        let vol = Optimizer::min_variance().solve(&dense).unwrap().volatility();
        // Quadratic programs agree to 1e-6 in the weights. The cone programs
        // (standard deviation as a second-order cone) have flatter optima:
        // their optimal values agree to 1e-8 (relative), weights to 1e-4.
        let quadratic = [Optimizer::min_variance(), Optimizer::max_sharpe(0.0), Optimizer::mean_variance(5.0)];
        for o in quadratic {
            let (a, b) = (o.solve(&factored).unwrap(), o.solve(&dense).unwrap());
            let d = max_diff(a.weights().as_slice().unwrap(), b.weights().as_slice().unwrap());
            assert!(d < 1e-6, "seed {seed}, {}: factored and dense weights differ by {d:e}", a.objective());
        }
        let te = Constraints::long_only().tracking_error(Benchmark::Weights(equal.clone()), 0.02);
        let cones: [(Optimizer, Optimum); 4] = [
            (Optimizer::min_risk(RiskMeasure::StandardDeviation), Allocation::volatility),
            (Optimizer::target_volatility(1.3 * vol), Allocation::expected_return),
            (Optimizer::max_ratio(RiskMeasure::StandardDeviation, 0.0), Allocation::sharpe),
            (Optimizer::min_variance().constraints(te), Allocation::volatility),
        ];
        for (o, value) in cones {
            let (a, b) = (o.solve(&factored).unwrap(), o.solve(&dense).unwrap());
            let d = max_diff(a.weights().as_slice().unwrap(), b.weights().as_slice().unwrap());
            // Second-order cones, interior points both: measured at most
            // 1.6e-6 (the maximum ratio, the flattest optimum).
            assert!(d < 1e-5, "seed {seed}, {}: factored and dense weights differ by {d:e}", a.objective());
            let (x, y) = (value(&a), value(&b));
            assert!((x - y).abs() <= 1e-8 * y.abs(), "seed {seed}, {}: optimum {x} vs {y}", a.objective());
        }
        let target = 0.5 * (factored.mean().iter().cloned().fold(f64::MIN, f64::max) + factored.mean().mean().unwrap());
        let (a, b) = (
            Optimizer::target_return(target).solve(&factored).unwrap(),
            Optimizer::target_return(target).solve(&dense).unwrap(),
        );
        assert!(max_diff(a.weights().as_slice().unwrap(), b.weights().as_slice().unwrap()) < 1e-6, "target return");
        let (fa, fb) = (
            Frontier::params().points(5).solve(&factored).unwrap(),
            Frontier::params().points(5).solve(&dense).unwrap(),
        );
        assert_eq!(fa.points.len(), fb.points.len());
        for (x, y) in fa.points.iter().zip(&fb.points) {
            assert!(max_diff(x.weights().as_slice().unwrap(), y.weights().as_slice().unwrap()) < 1e-6, "frontier");
        }
    }
}

#[test]
fn the_factor_model_strategy_sees_only_the_past() {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(900).unwrap();
    let make = || -> Vec<Box<dyn Strategy>> {
        strategies![Optimized::factor_model(
            "PCA min var",
            Optimizer::min_variance(),
            FactorModel::pca(Components::Count(3))
        )]
    };
    let bt = Backtest::params().schedule(Schedule::Every(21)).lookback(252).cost_bps(10.0);
    common::assert_decisions_ignore_the_future(&bt, &r, 600, "PCA min var", make);
}

#[test]
fn bad_input_is_named() {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let e = FactorModel::pca(Components::Count(21)).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Components), "{e}");
    let e = FactorModel::pca(Components::Count(0)).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Components), "{e}");
    let e = FactorModel::pca(Components::Explained(1.5)).fit(&r).unwrap_err();
    assert!(e.to_string().contains("1.5"), "{e}");
    // Panels that share no dates.
    let early = r.between("1995-01-01", "1999-12-31").unwrap();
    let factors = datasets::factors().unwrap().returns(ReturnKind::Simple).unwrap();
    let e = FactorModel::regression(&factors).fit(&early).unwrap_err();
    assert!(e.to_string().contains("share 0 dates"), "{e}");
    // A factor repeated: collinear.
    let twice = factors.select(&[factors.assets()[0].clone(), factors.assets()[1].clone()]).unwrap();
    let values =
        ndarray::concatenate![ndarray::Axis(1), twice.values(), twice.values().column(0).insert_axis(ndarray::Axis(1))];
    let mut names = twice.assets().to_vec();
    names.push("copy".into());
    let collinear = Returns::new(twice.dates().to_vec(), names, values, ReturnKind::Simple).unwrap();
    let e = FactorModel::regression(&collinear).fit(&r).unwrap_err();
    assert!(e.to_string().contains("collinear"), "{e}");
    // A factor that never moves: its covariance row is zero, the factor
    // covariance singular, and it is collinear with the intercept.
    let mut values = twice.values().to_owned();
    values.column_mut(1).fill(0.0);
    let flat = Returns::new(twice.dates().to_vec(), twice.assets().to_vec(), values, ReturnKind::Simple).unwrap();
    let e = FactorModel::regression(&flat).fit(&r).unwrap_err();
    assert!(e.to_string().contains("collinear") && e.to_string().contains(&twice.assets()[1]), "{e}");
}
