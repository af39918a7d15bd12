//! Covariance and mean estimators against skfolio (fixture from
//! `tools/reference/estimators.py`): the last 600 days of the bundled S&P
//! 500, all 20 stocks and the first 8 (the graphical lasso against
//! scikit-learn's, run to its optimum). Every covariance and mean within
//! 1e-8 relative to the matrix's largest entry.

use assetalloc::estimate::{Estimator, MeanEstimator};
use assetalloc::parameter;
use assetalloc::prelude::*;
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/estimators_reference.json")).unwrap()
}

fn returns(f: &Value, case: &str) -> Returns {
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(600).unwrap();
    assert_eq!(r.dates()[0].to_string(), f["first"].as_str().unwrap());
    match case {
        "eight" => r.select(&r.assets()[..8]).unwrap(),
        _ => r,
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// The largest difference relative to the reference's largest entry.
fn relative(ours: impl Iterator<Item = f64>, theirs: &[f64]) -> f64 {
    let scale = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    ours.zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale
}

#[test]
fn covariances_equal_skfolios() {
    let f = fixture();
    for case in ["recent", "eight"] {
        let r = returns(&f, case);
        let estimators = [
            ("oas", Estimator::Oas),
            ("shrunk_0.1", Estimator::Shrunk { shrinkage: 0.1 }),
            ("shrunk_0.4", Estimator::Shrunk { shrinkage: 0.4 }),
            ("gerber_psd_0.5", Estimator::Gerber { threshold: 0.5, psd: true }),
            ("gerber_psd_0.3", Estimator::Gerber { threshold: 0.3, psd: true }),
            ("gerber_original_0.5", Estimator::Gerber { threshold: 0.5, psd: false }),
            ("denoised", Estimator::Denoised),
            ("glasso_1e-5", Estimator::GraphicalLasso { penalty: 1e-5 }),
            ("glasso_5e-5", Estimator::GraphicalLasso { penalty: 5e-5 }),
            ("detoned_1", Estimator::Detoned { markets: 1 }),
            ("detoned_2", Estimator::Detoned { markets: 2 }),
        ];
        for (name, e) in estimators {
            let m = Moments::with_estimator(e).fit(&r).unwrap();
            let theirs: Vec<f64> = f[case]["cov"][name].as_array().unwrap().iter().flat_map(floats).collect();
            let d = relative(m.cov().iter().copied(), &theirs);
            assert!(d < 1e-8, "{case} {name}: {d:e} ({})", m.method());
        }
    }
}

/// The cross-validated graphical lasso scores each penalty as
/// scikit-learn does and picks the best. On the eight-stock sample that is
/// scikit-learn's penalty and covariance. On the 20 stocks scikit-learn's
/// coordinate descent fails (scoring −∞) at the penalties below 2.6e-5,
/// where ours converges and scores higher: there the scores where both
/// converge agree, and our choice scores at least as well as scikit-learn's.
#[test]
fn cross_validated_graphical_lasso_equals_scikit_learns() {
    use assetalloc::estimate::graphical_lasso_scores;
    let f = fixture();
    for case in ["recent", "eight"] {
        let r = returns(&f, case);
        let curve: Vec<(f64, Option<f64>)> = f[case]["glasso_cv_curve"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64()))
            .collect();
        let penalties: Vec<f64> = curve.iter().map(|c| c.0).collect();
        let ours = graphical_lasso_scores(&r, &penalties, 5).unwrap();
        let mut failed = 0;
        for ((alpha, theirs), mine) in curve.iter().zip(&ours) {
            match theirs {
                Some(s) => assert!((mine - s).abs() < 1e-7 * s.abs(), "{case} α = {alpha:e}: {mine} vs {s}"),
                None => failed += 1,
            }
        }
        let m = Moments::graphical_lasso_cv().fit(&r).unwrap();
        let alpha = f[case]["glasso_cv_alpha"].as_f64().unwrap();
        let best = graphical_lasso_scores(&r, &[alpha], 5).unwrap()[0];
        let method = m.method().to_string();
        let chosen: f64 = method.split("α = ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        let score = graphical_lasso_scores(&r, &[chosen], 5).unwrap()[0];
        assert!(
            score >= best - 1e-9 * best.abs(),
            "{case}: {method} scores {score}, scikit-learn's α = {alpha:e} {best}"
        );
        if failed == 0 {
            assert!((chosen - alpha).abs() <= 1e-12 * alpha, "{case}: {method} (scikit-learn's α = {alpha:e})");
            let theirs: Vec<f64> = f[case]["cov"]["glasso_cv"].as_array().unwrap().iter().flat_map(floats).collect();
            let d = relative(m.cov().iter().copied(), &theirs);
            assert!(d < 1e-5, "{case}: {d:e} ({method})");
        } else {
            assert_eq!(case, "recent", "scikit-learn failed on {failed} penalties of {case}");
            assert!(score > best, "{case}: {method} scores {score}, not above {best}");
        }
    }
    let r = returns(&f, "eight");
    let e =
        Moments::with_estimator(Estimator::GraphicalLassoCv { grid: 4, refinements: 4, folds: 1 }).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Penalty) && e.to_string().contains("≥ 2 folds"), "{e}");
    let e =
        Moments::with_estimator(Estimator::GraphicalLassoCv { grid: 1, refinements: 4, folds: 5 }).fit(&r).unwrap_err();
    assert!(e.to_string().contains("≥ 2 penalties per grid"), "{e}");
    let e = graphical_lasso_scores(&r, &[1e-5, -1.0], 5).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Penalty), "{e}");
}

/// Denoising by constant residual and by target shrinkage against
/// Riskfolio-Lib's `denoiseCov` (`tools/reference/denoise.py`).
#[test]
fn denoised_covariances_equal_riskfolios() {
    let f = fixture();
    let theirs: Value = serde_json::from_str(include_str!("fixtures/denoise_reference.json")).unwrap();
    for case in ["recent", "eight"] {
        let r = returns(&f, case);
        for (name, e) in [
            ("fixed", Estimator::Denoised),
            ("shrink_0.1", Estimator::DenoisedShrunk { shrinkage: 0.1 }),
            ("shrink_0.5", Estimator::DenoisedShrunk { shrinkage: 0.5 }),
        ] {
            let m = Moments::with_estimator(e).fit(&r).unwrap();
            let cov: Vec<f64> = theirs[case][name].as_array().unwrap().iter().flat_map(floats).collect();
            let d = relative(m.cov().iter().copied(), &cov);
            assert!(d < 1e-8, "{case} {name}: {d:e} ({})", m.method());
        }
        // α = 1 keeps the sample covariance; α = 0 zeroes the noise's correlations.
        let sample = Moments::sample().fit(&r).unwrap();
        let kept = Moments::denoised_shrunk(1.0).fit(&r).unwrap();
        assert!(relative(kept.cov().iter().copied(), &sample.cov().iter().copied().collect::<Vec<_>>()) < 1e-12);
    }
    let r = returns(&f, "eight");
    let e = Moments::denoised_shrunk(1.5).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Shrinkage), "{e}");
}

#[test]
fn mean_estimators_equal_skfolios() {
    let f = fixture();
    for case in ["recent", "eight"] {
        let r = returns(&f, case);
        let mut means = vec![
            ("equilibrium_2.5", MeanEstimator::Equilibrium { risk_aversion: 2.5 }),
            ("ewma_10", MeanEstimator::Ewma { halflife: 10.0 }),
            ("ewma_40", MeanEstimator::Ewma { halflife: 40.0 }),
        ];
        for weighted in [false, true] {
            let key = |s: &str| if weighted { format!("{s}_weighted") } else { s.to_string() };
            for (name, m) in [
                ("james_stein", MeanEstimator::JamesStein { volatility_weighted: weighted }),
                ("bayes_stein", MeanEstimator::BayesStein { volatility_weighted: weighted }),
                ("bodnar_okhrin", MeanEstimator::BodnarOkhrin { volatility_weighted: weighted }),
            ] {
                means.push((Box::leak(key(name).into_boxed_str()), m));
            }
        }
        let sample = Moments::sample().fit(&r).unwrap();
        for (name, estimator) in means {
            let m = Moments::sample().mean(estimator).fit(&r).unwrap();
            let theirs = floats(&f[case]["mean"][name]);
            let d = relative(m.mean().iter().copied(), &theirs);
            assert!(d < 1e-8, "{case} {name}: {d:e}");
            assert_eq!(m.cov(), sample.cov(), "the mean estimator leaves the covariance");
            // Each moves the sample mean (the reference's target differs).
            assert!(relative(m.mean().iter().copied(), sample.mean().as_slice().unwrap()) > 1e-6, "{case} {name}");
        }
    }
}

#[test]
fn an_indefinite_estimate_is_repaired_and_says_so() {
    let f = fixture();
    let r = returns(&f, "recent");
    // A detoned correlation has rank N − k by construction, so it is
    // repaired (as the reference repairs it: the covariances above match);
    // the Gerber statistic is positive definite on these returns.
    let detoned = Moments::detoned(1).fit(&r).unwrap();
    let gerber = Moments::gerber().fit(&r).unwrap();
    assert!(detoned.method().contains("repaired"), "{}", detoned.method());
    assert!(!gerber.method().contains("repaired"), "{}", gerber.method());
    // Repaired, it is positive definite: minimum variance solves on it.
    let a = Optimizer::min_variance().solve(&detoned).unwrap();
    assert!((a.weights().sum() - 1.0).abs() < 1e-9);
}

#[test]
fn bad_estimator_settings_are_named() {
    let r = returns(&fixture(), "eight");
    let fit = |e: Estimator| Moments::with_estimator(e).fit(&r).unwrap_err();
    assert!(fit(Estimator::Shrunk { shrinkage: 1.5 }).is_invalid(parameter::Estimate::Shrinkage));
    assert!(fit(Estimator::Shrunk { shrinkage: f64::NAN }).is_invalid(parameter::Estimate::Shrinkage));
    assert!(fit(Estimator::Gerber { threshold: 1.0, psd: true }).is_invalid(parameter::Estimate::Threshold));
    assert!(fit(Estimator::Detoned { markets: 0 }).is_invalid(parameter::Estimate::Markets));
    for halflife in [0.0, -3.0, f64::NAN] {
        let e = Moments::sample().mean(MeanEstimator::Ewma { halflife }).fit(&r).unwrap_err();
        assert!(e.is_invalid(parameter::Estimate::Halflife), "{e}");
    }
    assert!(fit(Estimator::GraphicalLasso { penalty: 0.0 }).is_invalid(parameter::Estimate::Penalty));
    assert!(fit(Estimator::GraphicalLasso { penalty: f64::NAN }).is_invalid(parameter::Estimate::Penalty));
    assert!(fit(Estimator::Detoned { markets: 8 }).is_invalid(parameter::Estimate::Markets));
    let e = Moments::sample().mean(MeanEstimator::Equilibrium { risk_aversion: -1.0 }).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::RiskAversion), "{e}");
    // Bodnar–Okhrin needs more dates than assets.
    let short = r.tail(6).unwrap();
    let e = Moments::shrunk(0.5).mean(MeanEstimator::BodnarOkhrin { volatility_weighted: false }).fit(&short);
    assert!(matches!(e, Err(Error::TooFewRows { needed: 9, got: 6, .. })), "{e:?}");
}

/// Implied covariances against skfolio's `ImpliedCovariance` (fixture
/// from `tools/reference/implied_covariance.py`: the first 8 stocks, with
/// implied volatilities the script makes up): the volatility forecasts
/// and the covariances within 1e-12 relative, by regression on two window
/// lengths, on two estimators' correlations, and by risk premia.
#[test]
fn implied_covariances_equal_skfolios() {
    let f: Value = serde_json::from_str(include_str!("fixtures/implied_covariance_reference.json")).unwrap();
    let r = returns(&f, "eight");
    assert_eq!(
        r.assets(),
        &f["assets"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect::<Vec<_>>()[..]
    );
    let iv = implied(&f, &r);
    let premiums = floats(&f["premiums"]);
    let mut per_asset = iv.clone().premium(99.0);
    for (a, p) in r.assets().iter().zip(&premiums) {
        per_asset = per_asset.asset_premium(a.clone(), *p);
    }
    let cases = [
        ("regression_20", Moments::sample().implied_volatility(iv.clone())),
        ("regression_50", Moments::sample().implied_volatility(iv.clone().window(50))),
        ("regression_20_ledoit_wolf", Moments::ledoit_wolf().implied_volatility(iv.clone())),
        ("premium_1.2", Moments::sample().implied_volatility(iv.clone().premium(1.2))),
        ("premium_per_asset", Moments::sample().implied_volatility(per_asset)),
    ];
    for (name, params) in cases {
        let m = params.fit(&r).unwrap();
        let theirs: Vec<f64> = f["cov"][name].as_array().unwrap().iter().flat_map(floats).collect();
        let d = relative(m.cov().iter().copied(), &theirs);
        assert!(d < 1e-12, "{name}: covariance {d:e} ({})", m.method());
        let vols = floats(&f["vols"][name]);
        let d = relative(m.cov().diag().iter().map(|v| v.sqrt()), &vols);
        assert!(d < 1e-12, "{name}: volatilities {d:e}");
        assert!(m.method().contains("implied"), "{}", m.method());
    }
}

/// The fixture's implied volatilities on the returns' dates.
fn implied(f: &Value, r: &Returns) -> ImpliedVolatility {
    let rows: Vec<Vec<f64>> = f["implied_vol"].as_array().unwrap().iter().map(floats).collect();
    let values = ndarray::Array2::from_shape_fn((rows.len(), rows[0].len()), |(t, i)| rows[t][i]);
    ImpliedVolatility::new(r.dates().to_vec(), r.assets().to_vec(), values).unwrap()
}

/// A fit reads implied volatilities only on its returns' dates: changing
/// every later one changes nothing, so a walk-forward window cannot see
/// the future through them; changing the last one read changes the fit.
#[test]
fn implied_volatilities_after_the_returns_are_not_read() {
    let f: Value = serde_json::from_str(include_str!("fixtures/implied_covariance_reference.json")).unwrap();
    let r = returns(&f, "eight");
    let iv = implied(&f, &r);
    let head = r.head(400).unwrap();
    let later = |from: usize, factor: f64| {
        let mut v = iv.panel().values().to_owned();
        v.slice_mut(ndarray::s![from.., ..]).mapv_inplace(|x| x * factor);
        ImpliedVolatility::new(r.dates().to_vec(), r.assets().to_vec(), v).unwrap()
    };
    for window in [20, 50] {
        let fit = |iv: ImpliedVolatility| Moments::sample().implied_volatility(iv.window(window)).fit(&head).unwrap();
        let base = fit(iv.clone());
        assert_eq!(base.cov(), fit(later(400, 3.0)).cov());
        assert_ne!(base.cov(), fit(later(399, 3.0)).cov());
    }
}

#[test]
fn bad_implied_volatilities_are_named() {
    use parameter::Estimate::{ImpliedVolatility as Iv, Returns as Rt, VolatilityPremium, VolatilityWindow};
    let f: Value = serde_json::from_str(include_str!("fixtures/implied_covariance_reference.json")).unwrap();
    let r = returns(&f, "eight");
    let iv = implied(&f, &r);
    let fit = |iv: ImpliedVolatility| match Moments::sample().implied_volatility(iv.clone()).fit(&r) {
        Ok(m) => panic!("fitted with {iv:?}: {}", m.method()),
        Err(e) => e,
    };
    let with = |edit: &dyn Fn(&mut ndarray::Array2<f64>)| {
        let mut v = iv.panel().values().to_owned();
        edit(&mut v);
        ImpliedVolatility::new(r.dates().to_vec(), r.assets().to_vec(), v).unwrap()
    };
    // A value the regression reads: the last date of a window.
    for bad in [f64::NAN, 0.0, -0.2] {
        let e = fit(with(&|v| v[[599, 3]] = bad));
        assert!(e.is_invalid(Iv) && e.to_string().contains(&r.assets()[3]), "{e}");
    }
    // One it does not read.
    assert!(Moments::sample().implied_volatility(with(&|v| v[[598, 3]] = f64::NAN)).fit(&r).is_ok());
    let missing_date = ImpliedVolatility::new(
        r.dates()[..599].to_vec(),
        r.assets().to_vec(),
        iv.panel().values().slice(ndarray::s![..599, ..]).to_owned(),
    )
    .unwrap();
    let e = fit(missing_date);
    assert!(e.is_invalid(Iv) && e.to_string().contains(&r.dates()[599].to_string()), "{e}");
    let fewer = r.select(&r.assets()[..7]).unwrap();
    let e = Moments::sample().implied_volatility(implied(&f, &r)).fit(&fewer.select(&fewer.assets()[..7]).unwrap());
    assert!(e.is_ok(), "extra columns are ignored: {e:?}");
    let seven = ImpliedVolatility::new(
        r.dates().to_vec(),
        r.assets()[..7].to_vec(),
        iv.panel().values().slice(ndarray::s![.., ..7]).to_owned(),
    )
    .unwrap();
    let e = fit(seven);
    assert!(e.is_invalid(Iv) && e.to_string().contains(&r.assets()[7]), "{e}");
    assert!(fit(iv.clone().window(2)).is_invalid(VolatilityWindow));
    assert!(matches!(fit(iv.clone().window(121)), Error::TooFewRows { needed: 605, got: 600, .. }));
    for p in [0.0, -1.0, f64::NAN] {
        assert!(fit(iv.clone().premium(p)).is_invalid(VolatilityPremium));
    }
    assert!(fit(iv.clone().asset_premium("NOPE", 1.2).premium(1.1)).is_invalid(VolatilityPremium));
    let e = fit(iv.clone().asset_premium(r.assets()[0].clone(), 1.2));
    assert!(e.is_invalid(VolatilityPremium) && e.to_string().contains(&r.assets()[1]), "{e}");
    // Flat returns have no realised volatility to take the logarithm of.
    let mut flat = r.values().to_owned();
    flat.column_mut(2).fill(0.001);
    let flat = Returns::new(r.dates().to_vec(), r.assets().to_vec(), flat, r.kind()).unwrap();
    let e = Moments::sample().implied_volatility(iv.clone()).fit(&flat).unwrap_err();
    assert!(e.is_invalid(Rt) && e.to_string().contains(&r.assets()[2]), "{e}");
    // Implied volatility a constant multiple of the realised: collinear.
    let e = fit(with(&|v| v.fill(0.3)));
    assert!(e.is_invalid(Iv) && e.to_string().contains("no unique fit"), "{e}");
}

/// Entropy pooling against skfolio (fixture from
/// `tools/reference/entropy_pooling.py`, its primal solved to 1e-12): the
/// posterior probabilities within 1e-7 in L1, the effective number of
/// scenarios and the relative entropy within 1e-7 relative, the posterior
/// mean and covariance within 1e-8 of their largest entry.
/// Opinion pooling against skfolio's (`tools/reference/opinion_pooling.py`):
/// each expert's posterior, then the pooled probabilities, linear and
/// logarithmic, with the prior taking the rest or not, and with a
/// divergence penalty, within 1e-7 in L1.
#[test]
fn opinion_pooling_equals_skfolios() {
    use assetalloc::estimate::{Bound, EntropyPooling, OpinionPooling};
    let f: Value = serde_json::from_str(include_str!("fixtures/opinion_pooling_reference.json")).unwrap();
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(2000).unwrap();
    let l1 = |a: &ndarray::Array1<f64>, b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum() };
    let a = EntropyPooling::params().mean("AAPL", Bound::Equal(0.002)).fit(&r).unwrap();
    let b = EntropyPooling::params()
        .mean("XOM", Bound::AtMost(0.0))
        .mean_of(&[("AAPL", 1.0), ("MSFT", -1.0)], Bound::AtLeast(0.0005))
        .variance("MSFT", Bound::Equal(0.0004))
        .fit(&r)
        .unwrap();
    for (name, e) in [("a", &a), ("b", &b)] {
        let d = l1(e.probabilities(), &floats(&f["experts"][name]));
        assert!(d < 1e-7, "expert {name}: L1 {d:e}");
    }
    for case in f["cases"].as_array().unwrap() {
        let alpha = floats(&case["probabilities"]);
        let mut params = OpinionPooling::params()
            .expert(&a, alpha[0])
            .expert(&b, alpha[1])
            .divergence_penalty(case["penalty"].as_f64().unwrap());
        if !case["linear"].as_bool().unwrap() {
            params = params.logarithmic();
        }
        let pooled = params.fit().unwrap();
        let d = l1(pooled.probabilities(), &floats(&case["pooled"]));
        assert!(d < 1e-7, "{case:?}: L1 {d:e}");
        // Pooling moved the probabilities away from each expert's.
        assert!(l1(pooled.probabilities(), a.probabilities().as_slice().unwrap()) > 1e-3);
    }
    // One expert at confidence c blends its posterior with the prior.
    let c = 0.3;
    let blended = OpinionPooling::params().expert(&b, c).fit().unwrap();
    let q = b.prior();
    for (t, p) in blended.probabilities().iter().enumerate() {
        assert!((p - (c * b.probabilities()[t] + (1.0 - c) * q[t])).abs() < 1e-15);
    }
    let geometric = OpinionPooling::params().expert(&b, c).logarithmic().fit().unwrap();
    let z: f64 = b.probabilities().iter().zip(q).map(|(p, q)| p.powf(c) * q.powf(1.0 - c)).sum();
    for (t, p) in geometric.probabilities().iter().enumerate() {
        let expect = b.probabilities()[t].powf(c) * q[t].powf(1.0 - c) / z;
        assert!((p - expect).abs() < 1e-12 * expect, "{p} against {expect}");
    }
    // Bad input: no expert, a probability outside [0, 1], probabilities
    // above 1 in total, a negative penalty, experts on other scenarios.
    let e = OpinionPooling::params().fit().unwrap_err();
    assert!(e.is_invalid(assetalloc::parameter::Estimate::Expert), "{e}");
    let e = OpinionPooling::params().expert(&a, 1.2).fit().unwrap_err();
    assert!(e.is_invalid(assetalloc::parameter::Estimate::Expert) && e.to_string().contains("1.2"), "{e}");
    let e = OpinionPooling::params().expert(&a, 0.6).expert(&b, 0.6).fit().unwrap_err();
    assert!(e.to_string().contains("sum to 1.2"), "{e}");
    let e = OpinionPooling::params().expert(&a, 0.5).divergence_penalty(-1.0).fit().unwrap_err();
    assert!(e.is_invalid(assetalloc::parameter::Estimate::DivergencePenalty), "{e}");
    let other = EntropyPooling::params().mean("AAPL", Bound::Equal(0.002)).fit(&r.tail(1000).unwrap()).unwrap();
    let e = OpinionPooling::params().expert(&a, 0.5).expert(&other, 0.5).fit().unwrap_err();
    assert!(e.is_invalid(assetalloc::parameter::Estimate::Expert) && e.to_string().contains("expert 1"), "{e}");
}

#[test]
fn entropy_pooling_equals_skfolios() {
    use assetalloc::estimate::{Bound, EntropyPooling};
    let f: Value = serde_json::from_str(include_str!("fixtures/entropy_pooling_reference.json")).unwrap();
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(2000).unwrap();
    assert_eq!(r.dates()[0].to_string(), f["first"].as_str().unwrap());
    let cases = [
        ("mean_equal", EntropyPooling::params().mean("AAPL", Bound::Equal(0.002))),
        (
            "mean_ranking",
            EntropyPooling::params()
                .mean("XOM", Bound::AtMost(0.0))
                .mean_of(&[("AAPL", 1.0), ("MSFT", -1.0)], Bound::AtLeast(0.0005)),
        ),
        ("variance_equal", EntropyPooling::params().variance("MSFT", Bound::Equal(0.0004))),
        ("variance_bound", EntropyPooling::params().variance("JNJ", Bound::AtLeast(0.0002))),
        (
            "mean_and_variance",
            EntropyPooling::params()
                .mean("AAPL", Bound::Equal(0.002))
                .mean_of(&[("JPM", 1.0), ("BAC", -1.0)], Bound::AtLeast(0.0))
                .volatility("MSFT", Bound::Equal(0.02)),
        ),
        ("correlation_equal", EntropyPooling::params().correlation("AAPL", "MSFT", Bound::Equal(0.5))),
        ("correlation_bound", EntropyPooling::params().correlation("JPM", "BAC", Bound::AtMost(0.8))),
        ("skew", EntropyPooling::params().skew("KO", Bound::Equal(-0.2))),
        ("kurtosis", EntropyPooling::params().kurtosis("AMD", Bound::AtMost(12.0))),
        ("value_at_risk", EntropyPooling::params().value_at_risk("AMD", 0.95, Bound::Equal(0.07))),
        ("value_at_risk_bound", EntropyPooling::params().value_at_risk("XOM", 0.90, Bound::AtMost(0.015))),
        ("cvar", EntropyPooling::params().cvar("GE", 0.95, 0.07)),
        (
            "every_stage",
            EntropyPooling::params()
                .mean("AAPL", Bound::Equal(0.0015))
                .variance("MSFT", Bound::Equal(0.0004))
                .correlation("JPM", "BAC", Bound::Equal(0.7))
                .skew("KO", Bound::Equal(-0.3))
                .cvar("GE", 0.95, 0.06),
        ),
    ];
    for (name, params) in cases {
        let case = &f["cases"][name];
        let pooled = params.fit(&r).unwrap();
        let theirs = floats(&case["probabilities"]);
        let l1: f64 = pooled.probabilities().iter().zip(&theirs).map(|(a, b)| (a - b).abs()).sum();
        assert!(l1 < 1e-7, "{name}: L1 {l1:e}");
        let eff = case["effective_scenarios"].as_f64().unwrap();
        assert!(
            (pooled.effective_scenarios() - eff).abs() < 1e-7 * eff,
            "{name}: {} vs {eff}",
            pooled.effective_scenarios()
        );
        let h = case["relative_entropy"].as_f64().unwrap();
        assert!(
            (pooled.relative_entropy() - h).abs() < 1e-7 * h.abs().max(1e-3),
            "{name}: {} vs {h}",
            pooled.relative_entropy()
        );
        // The moments follow from the probabilities; a view on the tail
        // (VaR, CVaR) puts its probability differences on the largest
        // returns, so they move the small daily means most.
        let m = pooled.moments();
        let d = relative(m.mean().iter().copied(), &floats(&case["mean"]));
        let tail = ["value_at_risk", "cvar", "every_stage"].iter().any(|t| name.starts_with(t));
        assert!(d < if tail { 1e-6 } else { 1e-8 }, "{name} mean: {d:e}");
        let cov: Vec<f64> = case["cov"].as_array().unwrap().iter().flat_map(floats).collect();
        let d = relative(m.cov().iter().copied(), &cov);
        assert!(d < if tail { 1e-7 } else { 1e-8 }, "{name} covariance: {d:e}");
    }
}

#[test]
fn bad_views_are_named() {
    use assetalloc::estimate::{Bound, EntropyPooling};
    let r = returns(&fixture(), "eight");
    let a = r.assets()[0].clone();
    let e = EntropyPooling::params().mean("NOPE", Bound::Equal(0.0)).fit(&r).unwrap_err();
    assert!(matches!(e, Error::UnknownAsset { ref name, .. } if name == "NOPE"), "{e}");
    let e = EntropyPooling::params().mean(&a, Bound::Equal(f64::NAN)).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Views), "{e}");
    let e = EntropyPooling::params().variance(&a, Bound::Equal(-1e-4)).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Views), "{e}");
    // A mean above every scenario's return cannot be reached by reweighting.
    let top = r.values().column(0).iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e = EntropyPooling::params().mean(&a, Bound::AtLeast(2.0 * top)).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Views), "{e}");
    // Contradictory views.
    let e = EntropyPooling::params().mean(&a, Bound::AtLeast(0.01)).mean(&a, Bound::AtMost(0.0)).fit(&r).unwrap_err();
    assert!(e.is_invalid(parameter::Estimate::Views), "{e}");
}

/// Views on combinations of assets (skfolio has none: its equations
/// combine per-asset moments) hold on the posterior's series, in every
/// stage, from a prior that is not uniform.
#[test]
fn views_on_combinations_hold_from_a_decaying_prior() {
    use assetalloc::estimate::{Bound, EntropyPooling};
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(1500).unwrap();
    let x = r.values();
    let t = x.nrows();
    let decay: ndarray::Array1<f64> = (0..t).map(|s| 0.999f64.powi((t - 1 - s) as i32)).collect();
    let prior = &decay / decay.sum();
    let tech: &[(&str, f64)] = &[("AAPL", 0.5), ("MSFT", 0.5)];
    let banks: &[(&str, f64)] = &[("JPM", 0.5), ("BAC", 0.5)];
    let series = |w: &[(&str, f64)]| -> ndarray::Array1<f64> {
        w.iter()
            .map(|(a, c)| &x.column(r.assets().iter().position(|n| n == a).unwrap()) * *c)
            .fold(ndarray::Array1::zeros(t), |s, c| s + c)
    };
    let (y, z) = (series(tech), series(banks));
    let pooled = EntropyPooling::params()
        .prior(&prior)
        .mean(tech, Bound::Equal(0.0005))
        .volatility(tech, Bound::Equal(0.02))
        .correlation(tech, banks, Bound::Equal(0.3))
        .skew(banks, Bound::Equal(0.0))
        .kurtosis(tech, Bound::AtMost(6.0))
        .cvar(banks, 0.95, 0.05)
        .fit(&r)
        .unwrap();
    let p = pooled.probabilities();
    assert_eq!(pooled.prior(), &prior);
    let moment = |y: &ndarray::Array1<f64>, k: i32| {
        let m = p.dot(y);
        p.dot(&y.mapv(|v| (v - m).powi(k)))
    };
    assert!((p.dot(&y) - 0.0005).abs() < 1e-12, "mean {}", p.dot(&y));
    assert!((moment(&y, 2) - 0.0004).abs() < 1e-12, "variance {}", moment(&y, 2));
    let cov = p.dot(&(&y * &z)) - p.dot(&y) * p.dot(&z);
    let rho = cov / (moment(&y, 2) * moment(&z, 2)).sqrt();
    assert!((rho - 0.3).abs() < 1e-9, "correlation {rho}");
    assert!(moment(&z, 3).abs() < 1e-12, "skew {}", moment(&z, 3));
    assert!(moment(&y, 4) / moment(&y, 2).powi(2) <= 6.0 + 1e-9);
    // The CVaR of the banks' series under the posterior, from its sorted
    // losses: the worst 5 % of probability, the last scenario in part.
    let mut order: Vec<usize> = (0..t).collect();
    order.sort_by(|&i, &j| z[i].total_cmp(&z[j]));
    let (mut mass, mut loss) = (0.0, 0.0);
    for &i in &order {
        let take = p[i].min(0.05 - mass);
        loss -= take * z[i];
        mass += take;
        if mass >= 0.05 {
            break;
        }
    }
    assert!((loss / 0.05 - 0.05).abs() < 1e-9, "CVaR {}", loss / 0.05);
    // Without views the posterior is the prior.
    let none = EntropyPooling::params().prior(&prior).fit(&r).unwrap();
    assert!(none.probabilities().iter().zip(&prior).all(|(a, b)| (a - b).abs() < 1e-15));
    assert!(none.effective_scenarios() < t as f64);
}

#[test]
fn bad_views_on_tails_and_priors_are_named() {
    use assetalloc::estimate::{Bound, EntropyPooling};
    let r = datasets::sp500().unwrap().returns(ReturnKind::Simple).unwrap().tail(500).unwrap();
    let t = r.len();
    let views = |e: Error, part: &str| {
        assert!(e.is_invalid(parameter::Estimate::Views), "{e}");
        assert!(e.to_string().contains(part), "{e}");
    };
    let ep = EntropyPooling::params;
    views(ep().correlation("AAPL", "MSFT", Bound::Equal(1.5)).fit(&r).unwrap_err(), "in [-1, 1]");
    views(ep().value_at_risk("AAPL", 1.0, Bound::Equal(0.05)).fit(&r).unwrap_err(), "in (0, 1), got 1");
    views(ep().value_at_risk("AAPL", 0.95, Bound::Equal(-0.05)).fit(&r).unwrap_err(), "a loss, > 0");
    views(ep().value_at_risk("AAPL", 0.95, Bound::Equal(0.9)).fit(&r).unwrap_err(), "beyond every scenario's loss");
    views(ep().cvar("AAPL", 0.95, 0.9).fit(&r).unwrap_err(), "below the worst loss");
    views(ep().cvar("AAPL", 0.95, 0.04).cvar("KO", 0.95, 0.03).fit(&r).unwrap_err(), "number 2 is a second CVaR view");
    views(ep().kurtosis("AAPL", Bound::Equal(-1.0)).fit(&r).unwrap_err(), "kurtosis at -1");
    views(ep().mean(&[("AAPL", 0.0)], Bound::Equal(0.0)).fit(&r).unwrap_err(), "not all zero");
    let e = ep().skew(&[("AAPL", 1.0), ("NOPE", 1.0)], Bound::Equal(0.0)).fit(&r).unwrap_err();
    assert!(matches!(e, Error::UnknownAsset { ref name, .. } if name == "NOPE"), "{e}");
    let prior = |p: ndarray::Array1<f64>, part: &str| {
        let e = ep().prior(&p).fit(&r).unwrap_err();
        assert!(e.is_invalid(parameter::Estimate::Probabilities), "{e}");
        assert!(e.to_string().contains(part), "{e}");
    };
    prior(ndarray::Array1::from_elem(t - 1, 1.0 / (t - 1) as f64), &format!("one per scenario ({t}), got {}", t - 1));
    prior(ndarray::Array1::from_elem(t, 2.0 / t as f64), "must sum to 1, got 2");
    let mut negative = ndarray::Array1::from_elem(t, 1.0 / t as f64);
    negative[3] = -negative[3];
    negative[4] *= 3.0;
    prior(negative, "for scenario 3");
}

/// The views hold on the posterior, a repeated view changes nothing, and
/// a tighter view costs more scenarios.
#[test]
fn pooled_views_hold_and_tighter_views_cost_scenarios() {
    use assetalloc::estimate::{Bound, EntropyPooling};
    let r =
        Synthetic::params().assets(3).days(500).seed(1).generate().unwrap().prices.returns(ReturnKind::Simple).unwrap();
    let a = r.assets()[0].clone();
    let prior_vol = Moments::sample().fit(&r).unwrap().cov()[[0, 0]].sqrt();
    let mut last = f64::INFINITY;
    for f in [0.9, 0.7, 0.5, 0.3] {
        let pooled = EntropyPooling::params()
            .mean(&a, Bound::Equal(0.001))
            .volatility(&a, Bound::Equal(f * prior_vol))
            .fit(&r)
            .unwrap();
        let p = pooled.probabilities();
        let x = r.values().column(0).to_owned();
        let mean = p.dot(&x);
        let variance: f64 = p.iter().zip(&x).map(|(p, x)| p * (x - mean).powi(2)).sum();
        assert!((mean - 0.001).abs() < 1e-12, "{f}: mean {mean}");
        assert!((variance.sqrt() - f * prior_vol).abs() < 1e-10, "{f}: vol {}", variance.sqrt());
        assert!(pooled.effective_scenarios() < last, "{f}");
        last = pooled.effective_scenarios();
    }
    let once = EntropyPooling::params().mean(&a, Bound::Equal(0.001)).fit(&r).unwrap();
    let twice = EntropyPooling::params()
        .mean(&a, Bound::Equal(0.001))
        .mean_of(&[(a.as_str(), 2.0)], Bound::Equal(0.002))
        .fit(&r)
        .unwrap();
    let l1: f64 = once.probabilities().iter().zip(twice.probabilities()).map(|(x, y)| (x - y).abs()).sum();
    assert!(l1 < 1e-12, "{l1:e}");
}
