//! Black–Litterman: the prior, posterior mean and posterior covariance equal
//! PyPortfolioOpt's (fixtures from tools/reference/black_litterman.py) for
//! absolute and relative views, He–Litterman Ω, Idzorek confidences and a
//! given Ω; views move the posterior the way they say; its strategy sees
//! only the past; bad input is named.
#![cfg(feature = "optimize")]

use assetalloc::parameter;
use assetalloc::prelude::*;
use ndarray::{Array1, Array2};
use serde_json::Value;

mod common;
use common::max_diff;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/black_litterman_reference.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn moments() -> Moments {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    Moments::sample().fit(&r).unwrap().annualized()
}

fn base(f: &Value) -> assetalloc::estimate::BlackLittermanParams {
    let assets: Vec<String> = f["assets"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    let caps = floats(&f["market"]);
    let market: Vec<(&str, f64)> = assets.iter().map(|a| a.as_str()).zip(caps).collect();
    BlackLitterman::params().market(&market).risk_aversion(f["delta"].as_f64().unwrap())
}

fn relative_views(p: assetalloc::estimate::BlackLittermanParams) -> assetalloc::estimate::BlackLittermanParams {
    p.view(View::absolute("AAPL", 0.10))
        .view(View::relative("MSFT", "AMD", 0.02))
        .view(View::linear(&[("JPM", 0.5), ("BAC", 0.5), ("CVX", -0.5), ("XOM", -0.5)], 0.01))
}

fn check(name: &str, bl: &BlackLitterman, f: &Value) {
    let c = &f["cases"][name];
    let d = max_diff(bl.posterior().mean().as_slice().unwrap(), &floats(&c["mean"]));
    assert!(d < 1e-10, "{name}: posterior mean differs by {d:e}");
    let theirs: Vec<f64> = c["cov"].as_array().unwrap().iter().flat_map(floats).collect();
    let d = max_diff(bl.posterior().cov().as_slice().unwrap(), &theirs);
    assert!(d < 1e-10, "{name}: posterior covariance differs by {d:e}");
    let omega: Vec<f64> = c["omega"].as_array().unwrap().iter().flat_map(floats).collect();
    let d = max_diff(bl.views().2.as_slice().unwrap(), &omega);
    assert!(d < 1e-12, "{name}: Ω differs by {d:e}");
}

#[test]
fn the_implied_risk_aversion_and_prior_equal_pyportfolioopt() {
    let f = fixtures();
    let index = datasets::sp500_index().unwrap().returns(ReturnKind::Simple).unwrap();
    let delta = BlackLitterman::implied_risk_aversion(&index, 0.0).unwrap();
    assert!((delta - f["delta"].as_f64().unwrap()).abs() < 1e-10, "δ {delta}");
    let bl = base(&f).fit(&moments()).unwrap();
    let d = max_diff(bl.prior_returns().as_slice().unwrap(), &floats(&f["prior"]));
    assert!(d < 1e-12, "prior differs by {d:e}");
    // Without views the posterior mean is the prior.
    assert!(max_diff(bl.posterior().mean().as_slice().unwrap(), bl.prior_returns().as_slice().unwrap()) < 1e-15);
}

#[test]
fn posteriors_equal_pyportfolioopt_for_every_kind_of_view() {
    let (f, m) = (fixtures(), moments());
    let absolute = base(&f).view(View::absolute("AAPL", 0.10)).view(View::absolute("JNJ", 0.05)).fit(&m).unwrap();
    check("absolute", &absolute, &f);
    check("relative_he_litterman", &relative_views(base(&f)).fit(&m).unwrap(), &f);
    let idzorek = relative_views(base(&f)).uncertainty(ViewUncertainty::Idzorek(vec![0.6, 0.3, 0.8])).fit(&m).unwrap();
    check("relative_idzorek", &idzorek, &f);
    let omega = Array2::from_diag(&Array1::from(vec![0.001, 0.0005, 0.0002]));
    let given = relative_views(base(&f)).tau(0.025).uncertainty(ViewUncertainty::Omega(omega)).fit(&m).unwrap();
    check("relative_omega", &given, &f);
}

#[test]
fn views_pull_the_posterior_and_confidence_sets_how_far() {
    let (f, m) = (fixtures(), moments());
    let aapl = |conf: f64| {
        let bl = base(&f)
            .view(View::absolute("AAPL", 0.30))
            .uncertainty(ViewUncertainty::Idzorek(vec![conf]))
            .fit(&m)
            .unwrap();
        let i = bl.posterior().assets().iter().position(|a| a == "AAPL").unwrap();
        (bl.prior_returns()[i], bl.posterior().mean()[i])
    };
    let (prior, none) = aapl(0.0);
    let (_, half) = aapl(0.5);
    let (_, full) = aapl(1.0);
    assert!((none - prior).abs() < 1e-6, "0 % confidence leaves the prior: {none} vs {prior}");
    assert!((full - 0.30).abs() < 1e-9, "100 % confidence imposes the view: {full}");
    assert!(prior < half && half < full, "{prior} < {half} < {full}");
    // The posterior is usable by every optimiser objective.
    let bl = relative_views(base(&f)).fit(&m).unwrap();
    let w = Optimizer::max_sharpe(0.0).solve(bl.posterior()).unwrap();
    assert!((w.weights().sum() - 1.0).abs() < 1e-8);
}

#[test]
fn bad_input_is_named() {
    let (f, m) = (fixtures(), moments());
    let e = base(&f).view(View::absolute("TSLA", 0.1)).fit(&m).unwrap_err();
    assert!(e.to_string().contains("\"TSLA\""), "{e}");
    let e = base(&f)
        .view(View::absolute("AAPL", 0.1))
        .uncertainty(ViewUncertainty::Idzorek(vec![1.5]))
        .fit(&m)
        .unwrap_err();
    assert!(e.to_string().contains("1.5") && e.to_string().contains("0–100 %"), "{e}");
    let e = base(&f)
        .view(View::absolute("AAPL", 0.1))
        .uncertainty(ViewUncertainty::Idzorek(vec![0.5, 0.5]))
        .fit(&m)
        .unwrap_err();
    assert!(matches!(e, Error::Shape(_)), "{e}");
    let e = base(&f)
        .view(View::absolute("AAPL", 0.1))
        .uncertainty(ViewUncertainty::Omega(Array2::eye(2)))
        .fit(&m)
        .unwrap_err();
    assert!(matches!(e, Error::Shape(_)), "{e}");
    let e = base(&f).risk_aversion(0.0).fit(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::RiskAversion), "{e}");
    let e = base(&f).tau(-1.0).fit(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Tau), "{e}");
    let e = BlackLitterman::params().fit(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Market), "{e}");
    // A NaN risk-free rate made every posterior mean NaN.
    let e = base(&f).risk_free(f64::NAN).fit(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::RiskFree), "{e}");
    let a = m.assets()[0].clone();
    // A market weight given twice for one asset was summed silently.
    let e = base(&f).market(&[(a.as_str(), 0.5), (a.as_str(), 0.5)]).fit(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Market) && e.to_string().contains(&a), "{e}");
    // A NaN in a given Ω was reported as redundant views.
    let e = base(&f)
        .view(View::absolute(&a, 0.1))
        .uncertainty(ViewUncertainty::Omega(Array2::from_elem((1, 1), f64::NAN)))
        .fit(&m)
        .unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Omega), "{e}");
    let e = base(&f).view(View::absolute(&a, f64::INFINITY)).fit(&m).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Views) && e.to_string().contains("inf"), "{e}");
    let market = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().select(&[a.as_str()]).unwrap();
    let e = BlackLitterman::implied_risk_aversion(&market, f64::NAN).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::RiskFree), "{e}");
}

#[test]
fn a_black_litterman_strategy_with_momentum_views_sees_only_the_past() {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(900).unwrap();
    let assets: Vec<String> = r.assets().to_vec();
    let make = move || -> Vec<Box<dyn Strategy>> {
        let market: Vec<(&str, f64)> = assets.iter().map(|a| (a.as_str(), 1.0)).collect();
        let params = BlackLitterman::params().market(&market).risk_aversion(2.5);
        // View: last quarter's best stock beats its worst by 5 % a year.
        let momentum = |w: &Returns| -> Result<Vec<View>> {
            let v = w.values();
            let recent = v.slice(ndarray::s![v.nrows() - 63.., ..]).sum_axis(ndarray::Axis(0));
            let best = (0..recent.len()).max_by(|&a, &b| recent[a].total_cmp(&recent[b])).unwrap();
            let worst = (0..recent.len()).min_by(|&a, &b| recent[a].total_cmp(&recent[b])).unwrap();
            Ok(vec![View::relative(&w.assets()[best], &w.assets()[worst], 0.05)])
        };
        strategies![BlackLittermanStrategy::new(
            "BL momentum",
            params,
            Moments::ledoit_wolf(),
            Optimizer::max_sharpe(0.0),
            momentum
        )]
    };
    let bt = Backtest::params().schedule(Schedule::Every(21)).lookback(252).cost_bps(10.0);
    common::assert_decisions_ignore_the_future(&bt, &r, 600, "BL momentum", make);
}

/// skfolio's convention (tools/reference/black_litterman_skfolio.py): the
/// risk-free rate is added to the posterior mean, the prior and the views
/// being excess returns; daily moments, an absolute and a relative view,
/// He–Litterman Ω and Idzorek confidences. Prior and posterior equal to
/// 1e-12; the default convention gives a different answer for the same
/// inputs (the difference this option exists for).
#[test]
fn skfolio_risk_free_convention_matches_skfolio() {
    let f: Value = serde_json::from_str(include_str!("fixtures/black_litterman_skfolio.json")).unwrap();
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap();
    let m = Moments::sample().fit(&r).unwrap();
    let market: Vec<(String, f64)> =
        f["market"].as_object().unwrap().iter().map(|(a, w)| (a.clone(), w.as_f64().unwrap())).collect();
    let rf = f["risk_free"].as_f64().unwrap();
    let params = BlackLitterman::params()
        .market(&market)
        .risk_aversion(f["delta"].as_f64().unwrap())
        .tau(f["tau"].as_f64().unwrap())
        .risk_free(rf)
        .risk_free_in(assetalloc::estimate::RiskFreeIn::Posterior)
        .view(View::absolute("AAPL", 0.0008))
        .view(View::relative("MSFT", "AMD", 0.0002));
    for (case, uncertainty) in [
        ("he_litterman", ViewUncertainty::HeLitterman),
        ("idzorek", ViewUncertainty::Idzorek(floats(&f["confidences"]))),
    ] {
        let bl = params.clone().uncertainty(uncertainty.clone()).fit(&m).unwrap();
        let want = &f[case];
        assert!(max_diff(bl.prior_returns().as_slice().unwrap(), &floats(&want["prior"])) < 1e-12, "{case}: prior");
        let mean = bl.posterior().mean().to_vec();
        let d = max_diff(&mean, &floats(&want["mean"]));
        assert!(d < 1e-12, "{case}: mean differs by {d:e}");
        let cov: Vec<f64> = bl.posterior().cov().iter().copied().collect();
        let want_cov: Vec<f64> = want["cov"].as_array().unwrap().iter().flat_map(floats).collect();
        assert!(max_diff(&cov, &want_cov) < 1e-12, "{case}: covariance");
        // PyPortfolioOpt's convention reads the same views as total returns.
        let default = params.clone().risk_free_in(assetalloc::estimate::RiskFreeIn::Prior).uncertainty(uncertainty);
        let other = default.fit(&m).unwrap().posterior().mean().to_vec();
        assert!(max_diff(&other, &mean) > 1e-5, "{case}: the conventions agree, so the option tests nothing");
    }
}
