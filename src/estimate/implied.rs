//! Volatilities implied by option prices as the covariance's volatilities.
//!
//! An estimator's covariance $\Sigma$ gives the correlation
//! $C = D^{-1}\Sigma D^{-1}$ ($D$ its volatilities); the implied
//! covariance is $\hat D C \hat D$ with $\hat D$ each asset's volatility
//! forecast for the next period from its implied volatility $IV$ (quoted
//! per year, divided by $\sqrt{k}$ for $k$ periods per year):
//!
//! * by regression (Christensen & Prabhala 1998): the returns, cut from
//!   the end into $K = \lfloor T/h \rfloor$ windows of $h$ periods, give each
//!   window's realised volatility $RV_j$ (the standard deviation, divisor
//!   $h - 1$) and the implied volatility $IV_j$ on its last date; the
//!   ordinary least squares fit of
//!   $\ln RV_{j} = a + b_1 \ln IV_{j-1} + b_2 \ln RV_{j-1}$ over
//!   $j = 2, \dots, K$ predicts the next window's
//!   $\hat\sigma = \exp(a + b_1 \ln IV_K + b_2 \ln RV_K)$;
//! * or by a given volatility risk premium $p$ (implied over realised):
//!   $\hat\sigma = IV_T / p$.
//!
//! This is skfolio's `ImpliedCovariance`; non-overlapping windows keep the
//! regression's samples from sharing returns.

use std::collections::HashMap;

use chrono::NaiveDate;
use ndarray::{Array1, Array2, ArrayView2};

use crate::data::Panel;
use crate::error::{Error, Result};
use crate::parameter::Estimate as Param;

/// Implied volatilities of assets (dates × assets, per year, > 0 where
/// used) and how a fit turns them into volatility forecasts; given to
/// [`MomentsParams::implied_volatility`](super::MomentsParams::implied_volatility).
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::estimate::ImpliedVolatility;
/// let r = Synthetic::params().assets(3).days(400).generate()?.prices.returns(ReturnKind::Simple)?;
/// // Implied volatilities of 25 % a year on every date.
/// let iv = ndarray::Array2::from_elem((r.len(), 3), 0.25);
/// let iv = ImpliedVolatility::new(r.dates().to_vec(), r.assets().to_vec(), iv)?.premium(1.25);
/// let m = Moments::ledoit_wolf().implied_volatility(iv).fit(&r)?;
/// // 25 % / 1.25 a year is 20 % a year.
/// let daily = 0.2 / r.periods_per_year().sqrt();
/// assert!((m.cov()[[0, 0]].sqrt() - daily).abs() < 1e-12);
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ImpliedVolatility {
    panel: Panel,
    window: usize,
    premium: Option<f64>,
    asset_premiums: Vec<(String, f64)>,
}

/// The volatility forecasts of one fit and what made them.
pub(super) struct Forecast {
    pub vols: Array1<f64>,
    pub method: String,
}

impl ImpliedVolatility {
    /// Implied volatilities per year on `dates` for `assets`; values must
    /// be finite and > 0 on the dates a fit reads (`NaN` elsewhere is
    /// allowed). Forecasts by regression on windows of 20 periods.
    pub fn new(dates: Vec<NaiveDate>, assets: Vec<String>, values: Array2<f64>) -> Result<Self> {
        Ok(ImpliedVolatility::from_panel(Panel::new(dates, assets, values)?))
    }

    /// As [`new`](Self::new), from a loaded panel (e.g. a CSV read with
    /// [`Load`](crate::data::Load)).
    pub fn from_panel(panel: Panel) -> Self {
        ImpliedVolatility { panel, window: 20, premium: None, asset_premiums: Vec::new() }
    }

    /// Periods per regression window (≥ 3; 20 by default); a fit needs at
    /// least five windows of returns.
    pub fn window(mut self, periods: usize) -> Self {
        self.window = periods;
        self
    }

    /// Forecasts every asset's volatility as its last implied volatility
    /// divided by `premium` (> 0) instead of by regression.
    pub fn premium(mut self, premium: f64) -> Self {
        self.premium = Some(premium);
        self
    }

    /// As [`premium`](Self::premium) for one asset; the others keep the
    /// common premium, which must then be given too.
    pub fn asset_premium(mut self, asset: impl Into<String>, premium: f64) -> Self {
        self.asset_premiums.push((asset.into(), premium));
        self
    }

    /// The implied volatilities.
    pub fn panel(&self) -> &Panel {
        &self.panel
    }

    /// The volatility forecasts per period for the simple returns `x`
    /// (dates × `assets`, `periods_per_year` a year).
    pub(super) fn forecast(
        &self,
        x: ArrayView2<'_, f64>,
        dates: &[NaiveDate],
        assets: &[String],
        periods_per_year: f64,
    ) -> Result<Forecast> {
        let t = x.nrows();
        let columns = assets
            .iter()
            .map(|a| {
                self.panel.assets().iter().position(|b| b == a).ok_or_else(|| {
                    Error::param(
                        Param::ImpliedVolatility,
                        format!("have no column for {a}; give one for every asset of the returns"),
                    )
                })
            })
            .collect::<Result<Vec<usize>>>()?;
        let scale = periods_per_year.sqrt();
        // The implied volatility per period of every asset on `date`.
        let on = |date: NaiveDate| -> Result<Vec<f64>> {
            let row = self.panel.dates().binary_search(&date).map_err(|_| {
                Error::param(Param::ImpliedVolatility, format!("have no row for {date}, a date of the returns"))
            })?;
            columns
                .iter()
                .zip(assets)
                .map(|(&c, a)| {
                    let v = self.panel.values()[[row, c]];
                    if v.is_finite() && v > 0.0 {
                        Ok(v / scale)
                    } else {
                        Err(Error::param(
                            Param::ImpliedVolatility,
                            format!("of {a} on {date} is {v}; give a finite value > 0"),
                        ))
                    }
                })
                .collect()
        };
        if t == 0 {
            return Err(Error::TooFewRows { operation: "implied volatilities".into(), needed: 1, got: 0 });
        }
        if let Some(premiums) = self.premiums(assets)? {
            let last = on(dates[t - 1])?;
            let vols = last.iter().zip(&premiums).map(|(v, p)| v / p).collect();
            let method = format!("volatilities implied on {} less a risk premium", dates[t - 1]);
            return Ok(Forecast { vols, method });
        }
        let h = self.window;
        if h < 3 {
            return Err(Error::param(
                Param::VolatilityWindow,
                format!("must be ≥ 3 periods (a realised volatility per window), got {h}"),
            ));
        }
        let windows = t / h;
        if windows < 5 {
            return Err(Error::TooFewRows {
                operation: format!(
                    "implied volatilities by regression on windows of {h} periods (5 windows give 4 samples for \
                     3 coefficients; shorten the window or give a premium)"
                ),
                needed: 5 * h,
                got: t,
            });
        }
        let start = t - windows * h;
        let n = assets.len();
        let mut ln_rv = Array2::<f64>::zeros((windows, n));
        let mut ln_iv = Array2::<f64>::zeros((windows, n));
        for j in 0..windows {
            let rows = x.slice(ndarray::s![start + j * h..start + (j + 1) * h, ..]);
            let end = dates[start + (j + 1) * h - 1];
            for (i, v) in on(end)?.into_iter().enumerate() {
                ln_iv[[j, i]] = v.ln();
            }
            for i in 0..n {
                let column = rows.column(i).to_vec();
                let sd = crate::stats::std(&column);
                if column.iter().all(|v| *v == column[0]) || !(sd > 0.0) {
                    return Err(Error::param(
                        Param::Returns,
                        format!(
                            "of {} do not vary over the {h} periods to {end}, so their realised volatility has no \
                             logarithm; lengthen the window or give a premium",
                            assets[i]
                        ),
                    ));
                }
                ln_rv[[j, i]] = sd.ln();
            }
        }
        let mut vols = Array1::zeros(n);
        let mut r2 = 0.0;
        for i in 0..n {
            let fit = log_regression(ln_iv.column(i).to_vec(), ln_rv.column(i).to_vec()).ok_or_else(|| {
                Error::param(
                    Param::ImpliedVolatility,
                    format!(
                        "of {} is constant over the windows or moves in step with its realised volatility, so the \
                         regression has no unique fit; give a premium",
                        assets[i]
                    ),
                )
            })?;
            vols[i] = fit.next.exp();
            r2 += fit.r2 / n as f64;
        }
        let method = format!("volatilities implied by regression on {windows} windows of {h} (mean R² {r2:.2})");
        Ok(Forecast { vols, method })
    }

    /// Each asset's premium, when forecasts go by premium.
    fn premiums(&self, assets: &[String]) -> Result<Option<Vec<f64>>> {
        let bad = |p: f64| !(p.is_finite() && p > 0.0);
        if let Some(p) = self.premium.filter(|&p| bad(p)) {
            return Err(Error::param(Param::VolatilityPremium, format!("must be finite and > 0, got {p}")));
        }
        let mut by_asset = HashMap::new();
        for (a, p) in &self.asset_premiums {
            if bad(*p) {
                return Err(Error::param(Param::VolatilityPremium, format!("of {a} must be finite and > 0, got {p}")));
            }
            if !assets.contains(a) {
                return Err(Error::param(Param::VolatilityPremium, format!("names {a}, not an asset of the returns")));
            }
            by_asset.insert(a.as_str(), *p);
        }
        match self.premium {
            None if by_asset.is_empty() => Ok(None),
            common => assets
                .iter()
                .map(|a| {
                    by_asset.get(a.as_str()).copied().or(common).ok_or_else(|| {
                        Error::param(
                            Param::VolatilityPremium,
                            format!("is given for some assets but not {a}; give a common premium too"),
                        )
                    })
                })
                .collect::<Result<Vec<f64>>>()
                .map(Some),
        }
    }
}

/// The regression's in-sample fit and its prediction for the next window.
struct Fit {
    next: f64,
    r2: f64,
}

/// Ordinary least squares of $\ln RV_j$ on $1, \ln IV_{j-1}, \ln RV_{j-1}$
/// over the windows, predicting from the last; `None` when the two
/// regressors are collinear (or constant).
fn log_regression(ln_iv: Vec<f64>, ln_rv: Vec<f64>) -> Option<Fit> {
    let m = ln_rv.len() - 1;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (x1, x2, y) = (&ln_iv[..m], &ln_rv[..m], &ln_rv[1..]);
    let (m1, m2, my) = (mean(x1), mean(x2), mean(y));
    let (mut s11, mut s12, mut s22, mut s1y, mut s2y, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for k in 0..m {
        let (a, b, c) = (x1[k] - m1, x2[k] - m2, y[k] - my);
        s11 += a * a;
        s12 += a * b;
        s22 += b * b;
        s1y += a * c;
        s2y += b * c;
        syy += c * c;
    }
    // A regressor constant up to rounding (its spread a tiny share of its
    // size), or the two in step, leave the fit undetermined.
    let size = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
    let det = s11 * s22 - s12 * s12;
    if !(s11 > 1e-14 * size(x1) && s22 > 1e-14 * size(x2) && det > 1e-12 * s11 * s22) {
        return None;
    }
    let b1 = (s22 * s1y - s12 * s2y) / det;
    let b2 = (s11 * s2y - s12 * s1y) / det;
    let a = my - b1 * m1 - b2 * m2;
    let residual = syy - b1 * s1y - b2 * s2y;
    let r2 = if syy > 0.0 { 1.0 - residual / syy } else { 1.0 };
    Some(Fit { next: a + b1 * ln_iv[m] + b2 * ln_rv[m], r2 })
}

/// The covariance with the correlation of `cov` and the volatilities
/// `vols`.
pub(super) fn rescale(cov: &Array2<f64>, vols: &Array1<f64>, assets: &[String]) -> Result<Array2<f64>> {
    let (corr, sd) = super::shrinkage::correlation(cov);
    if let Some(i) = sd.iter().position(|s| !(*s > 0.0)) {
        return Err(Error::param(
            Param::Returns,
            format!("of {} do not vary, so its correlations are undefined; drop it", assets[i]),
        ));
    }
    Ok(super::shrinkage::on_deviations(&corr, vols))
}
