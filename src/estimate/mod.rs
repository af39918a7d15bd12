//! Expected-return and covariance estimators.
//!
//! From a $T \times N$ panel of returns $R$ (rows $r_t$) each estimator gives
//! [`Moments`]: a mean vector $\mu$ and a covariance matrix $\Sigma$, per
//! period; [`Moments::annualized`] scales both by the periods per year $k$
//! ($k\mu$, $k\Sigma$).
//!
//! * **Sample**: $\hat\mu = \frac1T\sum_t r_t$ and
//!   $\hat\Sigma = \frac{1}{T-1}\sum_t (r_t-\hat\mu)(r_t-\hat\mu)^\top$. Needs
//!   $T > N$ for a non-singular $\hat\Sigma$: with fewer observations the
//!   estimator refuses and points to shrinkage.
//! * **EWMA** with half-life $h$: weights $w_t \propto \lambda^{T-1-t}$,
//!   $\lambda = 2^{-1/h}$, normalised to sum to one;
//!   $\hat\mu = \sum_t w_t r_t$ and
//!   $\hat\Sigma = \sum_t w_t (r_t-\hat\mu)(r_t-\hat\mu)^\top / (1 - \sum_t w_t^2)$
//!   (the unbiased weighted form).
//! * **Ledoit–Wolf** shrinkage $\hat\Sigma = \delta F + (1-\delta) S$ of the
//!   maximum-likelihood covariance $S = \frac1T\sum_t x_t x_t^\top$
//!   ($x_t = r_t - \hat\mu$) towards a target $F$, with the optimal intensity
//!   $\delta \in [0, 1]$ estimated from the data:
//!   - identity target $F = \frac{\operatorname{tr} S}{N} I$ (Ledoit & Wolf
//!     2004): $\delta = \min(\bar b^2, d^2)/d^2$ with
//!     $d^2 = \lVert S - F\rVert_F^2$ and
//!     $\bar b^2 = \frac{1}{T^2}\sum_t \lVert x_t x_t^\top - S\rVert_F^2$
//!     (as scikit-learn's `ledoit_wolf`);
//!   - constant-correlation target $F_{ij} = \bar\rho\sqrt{S_{ii}S_{jj}}$,
//!     $F_{ii} = S_{ii}$ (Ledoit & Wolf 2003): $\delta = \max(0,\min(1,
//!     (\hat\pi - \hat\rho)/(\hat\gamma T)))$.
//!
//! Oracle approximating shrinkage, shrinkage at a given intensity, the
//! Gerber statistic, Marchenko–Pastur denoising, detoning, the graphical
//! lasso, the repair of an indefinite estimate and
//! the shrunk means (James–Stein, Bayes–Stein, Bodnar–Okhrin–Parolya,
//! equilibrium) and the exponentially weighted mean are written out in `shrinkage.rs`
//! ([`Moments::oas`], [`Moments::shrunk`], [`Moments::gerber`],
//! [`Moments::denoised`], [`Moments::detoned`],
//! [`Moments::graphical_lasso`], [`MomentsParams::mean`]).
//!
//! Any estimator's volatilities can come from implied volatilities instead,
//! keeping its correlations ([`MomentsParams::implied_volatility`], in
//! `implied.rs`).
//!
//! Entropy pooling ([`EntropyPooling`]) reweights the scenarios until views
//! on means and variances hold, moving the probabilities as little as
//! possible in relative entropy; its posterior gives moments too.
//!
//! Any estimator's mean can be replaced by an external vector
//! ([`Moments::with_mean`]), e.g. a forecast.

mod black_litterman;
mod entropy;
mod factor;
mod implied;
mod shrinkage;

pub use black_litterman::{BlackLitterman, BlackLittermanParams, RiskFreeIn, View, ViewUncertainty};
pub use entropy::{
    Bound, EntropyPooled, EntropyPooling, EntropyPoolingParams, OpinionPooling, OpinionPoolingParams, ViewOn,
};
pub use factor::{Components, FactorModel, FactorModelParams, Factored};
pub use implied::ImpliedVolatility;
pub use shrinkage::MeanEstimator;

use crate::parameter::Estimate as Param;
use chrono::NaiveDate;
use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::data::Returns;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};

/// Mean vector and covariance matrix of asset returns, per period unless
/// [`annualized`](Moments::annualized).
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    assets: Vec<String>,
    mean: Array1<f64>,
    cov: Array2<f64>,
    periods_per_year: f64,
    annualized: bool,
    method: String,
    /// The factored form $BFB^\top + D$ of `cov`, when a factor model made it.
    factors: Option<std::sync::Arc<Factored>>,
    /// For the worst case over a covariance box with short positions: a
    /// factor $H$ of the box's half-width $R = HH^\top$, which adds
    /// $\lvert w\rvert^\top R\lvert w\rvert$ to the variance of `cov` (the
    /// box's centre); see `optimize/uncertainty.rs`.
    spread: Option<std::sync::Arc<Array2<f64>>>,
}

/// Covariance estimator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimator {
    /// Sample mean and covariance (divisor $T-1$).
    Sample,
    /// Exponentially weighted, with this half-life in periods.
    Ewma {
        /// Half-life in periods (> 0).
        halflife: f64,
    },
    /// Ledoit–Wolf shrinkage towards a scaled identity.
    LedoitWolfIdentity,
    /// Ledoit–Wolf shrinkage towards constant correlation.
    LedoitWolfConstantCorrelation,
    /// Oracle approximating shrinkage towards a scaled identity.
    Oas,
    /// Shrinkage towards a scaled identity at a given intensity.
    Shrunk {
        /// The intensity $\delta \in [0, 1]$.
        shrinkage: f64,
    },
    /// The Gerber statistic on the standard deviations.
    Gerber {
        /// Moves smaller than this many standard deviations count as none
        /// (in (0, 1); 0.5 is usual).
        threshold: f64,
        /// The positive semidefinite variant (else the original, repaired
        /// where it is indefinite).
        psd: bool,
    },
    /// The graphical lasso: the covariance whose inverse (the precision)
    /// is sparse, by an $\ell_1$ penalty on its off-diagonal entries.
    GraphicalLasso {
        /// The penalty $\alpha > 0$, in the units of the covariance.
        penalty: f64,
    },
    /// The graphical lasso with its penalty cross-validated (scikit-learn's
    /// `GraphicalLassoCV`; see [`Moments::graphical_lasso_cv`]).
    GraphicalLassoCv {
        /// Penalties per grid (≥ 2; 4 by default).
        grid: usize,
        /// Grids, each refining around the best so far (≥ 1; 4 by default).
        refinements: usize,
        /// Folds of the contiguous K-fold split (≥ 2; 5 by default).
        folds: usize,
    },
    /// The sample covariance denoised: its correlation's eigenvalues
    /// below the fitted Marchenko–Pastur edge replaced by their mean.
    Denoised,
    /// The sample covariance denoised by target shrinkage: the noise part
    /// $C_n$ of its correlation (eigenvalues below the Marchenko–Pastur
    /// edge) becomes $\alpha C_n + (1-\alpha)\operatorname{diag}(C_n)$.
    DenoisedShrunk {
        /// The weight $\alpha \in [0, 1]$ kept on the noise's
        /// correlations (0: none, 1: the sample covariance).
        shrinkage: f64,
    },
    /// The sample covariance with its correlation's largest
    /// eigen-components (market modes) removed.
    Detoned {
        /// How many modes to remove.
        markets: usize,
    },
}

/// Builder for [`Moments`]. Returns are used as simple returns (log returns
/// are converted).
///
/// ```
/// use assetalloc::prelude::*;
/// let r = Synthetic::params().assets(3).days(500).generate()?.prices.returns(ReturnKind::Simple)?;
/// let m = Moments::ledoit_wolf().fit(&r)?;
/// assert_eq!(m.cov().dim(), (3, 3));
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MomentsParams {
    estimator: Estimator,
    mean: MeanEstimator,
    implied: Option<std::sync::Arc<ImpliedVolatility>>,
}

impl Moments {
    /// Sample mean and covariance.
    pub fn sample() -> MomentsParams {
        Moments::with_estimator(Estimator::Sample)
    }

    /// Exponentially weighted mean and covariance with a half-life in periods.
    pub fn ewma(halflife: f64) -> MomentsParams {
        Moments::with_estimator(Estimator::Ewma { halflife })
    }

    /// Ledoit–Wolf shrinkage towards a scaled identity.
    pub fn ledoit_wolf() -> MomentsParams {
        Moments::with_estimator(Estimator::LedoitWolfIdentity)
    }

    /// Ledoit–Wolf shrinkage towards constant correlation.
    pub fn ledoit_wolf_constant_correlation() -> MomentsParams {
        Moments::with_estimator(Estimator::LedoitWolfConstantCorrelation)
    }

    /// Oracle approximating shrinkage towards a scaled identity.
    pub fn oas() -> MomentsParams {
        Moments::with_estimator(Estimator::Oas)
    }

    /// Shrinkage towards a scaled identity at intensity `shrinkage` in [0, 1].
    pub fn shrunk(shrinkage: f64) -> MomentsParams {
        Moments::with_estimator(Estimator::Shrunk { shrinkage })
    }

    /// The Gerber statistic's covariance, positive semidefinite variant
    /// (threshold 0.5; others through [`Moments::with_estimator`]).
    pub fn gerber() -> MomentsParams {
        Moments::with_estimator(Estimator::Gerber { threshold: 0.5, psd: true })
    }

    /// The graphical lasso at penalty `penalty` (in the covariance's units,
    /// per period: for daily returns of variance around 1e-4, a penalty
    /// around 1e-5 already zeroes weak partial correlations).
    pub fn graphical_lasso(penalty: f64) -> MomentsParams {
        Moments::with_estimator(Estimator::GraphicalLasso { penalty })
    }

    /// The graphical lasso with its penalty chosen by 5-fold
    /// cross-validation (contiguous folds) on the held-out Gaussian
    /// log-likelihood, over four grids of four penalties each, the first
    /// from a hundredth of the largest covariance between two assets to
    /// that covariance, as scikit-learn's `GraphicalLassoCV`. The chosen
    /// penalty is in [`Moments::method`].
    pub fn graphical_lasso_cv() -> MomentsParams {
        Moments::with_estimator(Estimator::GraphicalLassoCv { grid: 4, refinements: 4, folds: 5 })
    }

    /// The sample covariance denoised by the Marchenko–Pastur law.
    pub fn denoised() -> MomentsParams {
        Moments::with_estimator(Estimator::Denoised)
    }

    /// The sample covariance denoised by target shrinkage (López de Prado,
    /// as Riskfolio-Lib's `denoiseCov(kind="shrink")`): the signal
    /// eigen-components of its correlation kept, the noise's correlations
    /// scaled by `shrinkage` (in [0, 1]) and its variances kept, so the
    /// correlation's diagonal stays 1.
    pub fn denoised_shrunk(shrinkage: f64) -> MomentsParams {
        Moments::with_estimator(Estimator::DenoisedShrunk { shrinkage })
    }

    /// The sample covariance less its largest `markets` correlation modes.
    pub fn detoned(markets: usize) -> MomentsParams {
        Moments::with_estimator(Estimator::Detoned { markets })
    }

    /// The estimator with its own mean.
    pub fn with_estimator(estimator: Estimator) -> MomentsParams {
        MomentsParams { estimator, mean: MeanEstimator::Estimator, implied: None }
    }

    /// The same moments with the covariance `cov` (checked by the caller),
    /// named `method`.
    #[cfg(feature = "optimize")]
    pub(crate) fn with_cov(&self, cov: Array2<f64>, method: String) -> Moments {
        Moments { cov, method, factors: None, spread: None, ..self.clone() }
    }

    /// Moments whose variance is $w^\top C w + \lvert w\rvert^\top HH^\top
    /// \lvert w\rvert$: the centre `cov` $= C$ and a factor `spread` $= H$
    /// of a covariance box's half-width.
    #[cfg(feature = "optimize")]
    pub(crate) fn with_spread(&self, cov: Array2<f64>, spread: Array2<f64>, method: String) -> Moments {
        Moments { spread: Some(std::sync::Arc::new(spread)), ..self.with_cov(cov, method) }
    }

    /// The factor $H$ of a covariance box's half-width, when these moments
    /// price the variance at its worst over one with short positions.
    #[cfg(feature = "optimize")]
    pub(crate) fn spread(&self) -> Option<&Array2<f64>> {
        self.spread.as_deref()
    }

    /// Builds moments from given parts, checking shapes, finiteness and
    /// that the covariance is symmetric positive semidefinite.
    pub fn new(assets: Vec<String>, mean: Array1<f64>, cov: Array2<f64>, periods_per_year: f64) -> Result<Self> {
        let n = assets.len();
        if mean.len() != n || cov.dim() != (n, n) {
            return Err(Error::Shape(format!(
                "{n} assets but a mean of length {} and a covariance of {:?}",
                mean.len(),
                cov.dim()
            )));
        }
        Error::unique(Param::Assets, &assets)?;
        Error::positive(Param::PeriodsPerYear, periods_per_year)?;
        check_finite(Param::Mean, mean.iter())?;
        check_finite(Param::Covariance, cov.iter())?;
        check_psd(cov.view())?;
        Ok(Moments {
            assets,
            mean,
            cov,
            periods_per_year,
            annualized: false,
            method: "given".into(),
            factors: None,
            spread: None,
        })
    }

    /// Asset names.
    pub fn assets(&self) -> &[String] {
        &self.assets
    }

    /// Expected returns.
    pub fn mean(&self) -> &Array1<f64> {
        &self.mean
    }

    /// Covariance matrix.
    pub fn cov(&self) -> &Array2<f64> {
        &self.cov
    }

    /// Number of assets.
    pub fn n_assets(&self) -> usize {
        self.assets.len()
    }

    /// Whether the moments are annualised.
    pub fn is_annualized(&self) -> bool {
        self.annualized
    }

    /// Periods per year of the data they came from.
    pub fn periods_per_year(&self) -> f64 {
        self.periods_per_year
    }

    /// The estimator used.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Annualised moments ($k\mu$, $k\Sigma$); unchanged if already annual.
    pub fn annualized(&self) -> Moments {
        if self.annualized {
            return self.clone();
        }
        let k = self.periods_per_year;
        let factors = self.factors.as_ref().map(|f| std::sync::Arc::new(f.scaled(k)));
        let spread = self.spread.as_ref().map(|h| std::sync::Arc::new(h.as_ref() * k.sqrt()));
        Moments { mean: &self.mean * k, cov: &self.cov * k, annualized: true, factors, spread, ..self.clone() }
    }

    /// The moments of the assets `idx` (in that order).
    #[cfg(feature = "optimize")]
    pub(crate) fn subset(&self, idx: &[usize]) -> Moments {
        let mean = Array1::from_iter(idx.iter().map(|&i| self.mean[i]));
        let cov = Array2::from_shape_fn((idx.len(), idx.len()), |(a, b)| self.cov[[idx[a], idx[b]]]);
        let assets = idx.iter().map(|&i| self.assets[i].clone()).collect();
        self.reduced(assets, mean, cov)
    }

    /// Moments of other instruments (e.g. portfolios of these assets) in the
    /// same units, from the same estimator.
    pub(crate) fn reduced(&self, assets: Vec<String>, mean: Array1<f64>, cov: Array2<f64>) -> Moments {
        Moments { assets, mean, cov, factors: None, spread: None, ..self.clone() }
    }

    /// The factored form of the covariance, when a factor model made these
    /// moments (the optimiser then never forms the dense matrix).
    pub fn factored(&self) -> Option<&Factored> {
        self.factors.as_deref()
    }

    /// The same moments under another estimator name.
    pub(crate) fn labelled(mut self, method: &str) -> Moments {
        self.method = method.to_string();
        self
    }

    /// Replaces the expected returns (same units as these moments: per
    /// period, or annual when annualised).
    pub fn with_mean(&self, mean: Array1<f64>) -> Result<Moments> {
        if mean.len() != self.n_assets() {
            return Err(Error::Shape(format!(
                "expected returns have length {}, the moments have {} assets",
                mean.len(),
                self.n_assets()
            )));
        }
        check_finite(Param::Mean, mean.iter())?;
        Ok(Moments { mean, method: format!("{} + given mean", self.method), ..self.clone() })
    }

    /// Volatility of each asset ($\sqrt{\Sigma_{ii}}$).
    pub fn volatility(&self) -> Array1<f64> {
        self.cov.diag().mapv(f64::sqrt)
    }

    /// The moments as a table (mean, volatility per asset).
    pub fn table(&self) -> Table {
        let unit = if self.annualized { "annualised" } else { "per period" };
        let mut t = Table::new(["asset", "mean", "volatility"]).caption(format!(
            "Moments ({}, {unit}) · {} assets",
            self.method,
            self.n_assets()
        ));
        let vol = self.volatility();
        for (i, a) in self.assets.iter().enumerate() {
            t.push(vec![Cell::from(a.as_str()), Cell::Pct(self.mean[i], 2), Cell::Pct(vol[i], 2)]);
        }
        t.capped(60)
    }
}

crate::shows_as_table!(Moments);

fn check_finite<'a>(what: Param, mut it: impl Iterator<Item = &'a f64>) -> Result<()> {
    if let Some(v) = it.find(|v| !v.is_finite()) {
        return Err(Error::param(what, format!("must be finite, found {v}")));
    }
    Ok(())
}

/// Symmetric within 1e-10 (relative) and no eigenvalue below −1e-10 of the
/// largest diagonal entry (checked with a ridge-regularised Cholesky).
/// The held-out Gaussian log-likelihood of the graphical lasso at each
/// penalty, averaged over a contiguous `folds`-fold split of the returns
/// (simple returns): the curve [`Moments::graphical_lasso_cv`] maximises,
/// scikit-learn's `cv_results_["mean_test_score"]`. A penalty at which a
/// fold's fit fails scores −∞.
pub fn graphical_lasso_scores(returns: &Returns, penalties: &[f64], folds: usize) -> Result<Vec<f64>> {
    let simple = returns.as_simple();
    let x = simple.values();
    crate::data::require_complete(
        x,
        returns.dates(),
        returns.assets(),
        "the graphical lasso needs every asset on every date",
    )?;
    if let Some(p) = penalties.iter().find(|p| !(p.is_finite() && **p > 0.0)) {
        return Err(Error::param(Param::Penalty, format!("must be > 0 and finite, got {p}")));
    }
    let scores = shrinkage::FoldScores::new(x, folds)?;
    Ok(penalties.iter().map(|&a| scores.score(a)).collect())
}

pub(crate) fn check_psd(cov: ArrayView2<'_, f64>) -> Result<()> {
    let n = cov.nrows();
    let scale = cov.diag().iter().fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
    for i in 0..n {
        for j in 0..i {
            if (cov[[i, j]] - cov[[j, i]]).abs() > 1e-10 * scale {
                return Err(Error::param(
                    Param::Covariance,
                    format!(
                        "must be symmetric, but entry ({i}, {j}) = {} and ({j}, {i}) = {}",
                        cov[[i, j]],
                        cov[[j, i]]
                    ),
                ));
            }
        }
    }
    let mut ridged = cov.to_owned();
    for i in 0..n {
        ridged[[i, i]] += 1e-10 * scale;
    }
    if crate::linalg::cholesky(ridged.view()).is_none() {
        return Err(Error::param(Param::Covariance, "must be positive semidefinite (it has a negative eigenvalue)"));
    }
    Ok(())
}

impl MomentsParams {
    /// The estimator.
    pub fn estimator(&self) -> Estimator {
        self.estimator
    }

    /// Estimates the mean this way instead of the estimator's own mean
    /// (the shrunk means shrink the sample mean, with the estimator's
    /// covariance).
    ///
    /// ```
    /// use assetalloc::prelude::*;
    /// use assetalloc::estimate::MeanEstimator;
    /// let r = Synthetic::params().assets(4).days(300).generate()?.prices.returns(ReturnKind::Simple)?;
    /// let m = Moments::oas().mean(MeanEstimator::JamesStein { volatility_weighted: false }).fit(&r)?;
    /// assert!(m.method().contains("James–Stein"));
    /// # Ok::<(), assetalloc::Error>(())
    /// ```
    pub fn mean(mut self, mean: MeanEstimator) -> Self {
        self.mean = mean;
        self
    }

    /// Keeps the estimator's correlations but takes each asset's
    /// volatility from its implied volatility (skfolio's
    /// `ImpliedCovariance`; see `implied.rs`): by regression of realised
    /// on implied volatility, or less a given risk premium. The implied
    /// volatilities are read on the returns' dates, so a walk-forward
    /// window reads only its own.
    pub fn implied_volatility(mut self, implied: ImpliedVolatility) -> Self {
        self.implied = Some(std::sync::Arc::new(implied));
        self
    }

    /// Estimates the moments from returns (converted to simple returns).
    /// Every asset must have a value on every date.
    pub fn fit(&self, returns: &Returns) -> Result<Moments> {
        let simple = returns.as_simple();
        let x = simple.values();
        self.fit_simple(x, returns.dates(), returns.assets(), returns.periods_per_year())
    }

    /// As [`fit`](Self::fit), from simple returns `x` (dates × assets) read
    /// in place, e.g. a backtest window, so no copy of the panel is made.
    pub(crate) fn fit_simple(
        &self,
        x: ArrayView2<'_, f64>,
        dates: &[NaiveDate],
        assets: &[String],
        periods_per_year: f64,
    ) -> Result<Moments> {
        let (t, n) = x.dim();
        crate::data::require_complete(
            x,
            dates,
            assets,
            "estimators need every asset on every date; start the panel when all assets exist",
        )?;
        // The sample mean, the centred returns and the sample covariance
        // (divisor T − 1) that most estimators start from.
        let sample_mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(n));
        let centred = || &x - &sample_mean;
        let sample_cov = || crate::linalg::gram(centred().view()) / (t as f64 - 1.0);
        let enough = |operation: &str| {
            if t < 2 {
                return Err(Error::TooFewRows { operation: operation.into(), needed: 2, got: t });
            }
            Ok(())
        };
        // Estimators that can leave an indefinite matrix are repaired below.
        let may_be_indefinite =
            matches!(self.estimator, Estimator::Gerber { .. } | Estimator::Denoised | Estimator::Detoned { .. });
        let (mean, cov, method) = match self.estimator {
            Estimator::Sample => {
                full_rank("sample", t, n)?;
                (sample_mean.clone(), sample_cov(), "sample".to_string())
            }
            Estimator::Ewma { halflife } => {
                let w = shrinkage::ewma_weights(t, halflife)?;
                full_rank("EWMA", t, n)?;
                // Kish's effective sample size 1/Σw²: a half-life so short
                // that it leaves no more observations than assets gives a
                // singular covariance (and 0/0 below at one observation).
                let effective = 1.0 / w.dot(&w);
                if !(effective > n as f64) {
                    return Err(Error::param(
                        Param::Halflife,
                        format!(
                            "{halflife:?} weighs the {t} dates like {effective:.1} observations, not more than the {n} assets; \
                             lengthen the half-life"
                        ),
                    ));
                }
                let (mean, cov) = weighted_moments(x, &w);
                (mean, cov, format!("EWMA, half-life {halflife}"))
            }
            Estimator::LedoitWolfIdentity | Estimator::LedoitWolfConstantCorrelation => {
                enough("Ledoit–Wolf shrinkage")?;
                let xc = centred();
                let (cov, delta) = if self.estimator == Estimator::LedoitWolfIdentity {
                    ledoit_wolf_identity(xc.view())
                } else {
                    ledoit_wolf_constant_correlation(xc.view())
                };
                let target =
                    if self.estimator == Estimator::LedoitWolfIdentity { "identity" } else { "constant correlation" };
                (sample_mean.clone(), cov, format!("Ledoit–Wolf ({target}), δ = {delta:.3}"))
            }
            Estimator::Oas => {
                enough("shrinkage")?;
                let (cov, delta) = shrinkage::oas(centred().view());
                (sample_mean.clone(), cov, format!("oracle approximating shrinkage, δ = {delta:.3}"))
            }
            Estimator::Shrunk { shrinkage: delta } => {
                enough("shrinkage")?;
                let cov = shrinkage::shrunk(centred().view(), delta)?;
                (sample_mean.clone(), cov, format!("shrunk to the identity, δ = {delta:.3}"))
            }
            Estimator::Gerber { threshold, psd } => {
                enough("the Gerber statistic")?;
                let variant = if psd { "positive semidefinite variant" } else { "original" };
                let cov = shrinkage::gerber(x, &sample_mean, threshold, psd)?;
                (sample_mean.clone(), cov, format!("Gerber ({variant}, threshold {threshold})"))
            }
            Estimator::GraphicalLasso { penalty } => {
                enough("the graphical lasso")?;
                let s = crate::linalg::gram(centred().view()) / t as f64;
                let (cov, sweeps) = shrinkage::graphical_lasso(&s, penalty)?;
                (sample_mean.clone(), cov, format!("graphical lasso, α = {penalty:e} ({sweeps} sweeps)"))
            }
            Estimator::GraphicalLassoCv { grid, refinements, folds } => {
                enough("the graphical lasso")?;
                let search = shrinkage::PenaltySearch { grid, refinements, folds };
                let (cov, penalty, tried) = shrinkage::graphical_lasso_cv(x, search)?;
                (
                    sample_mean.clone(),
                    cov,
                    format!("graphical lasso, α = {penalty:e} cross-validated ({folds} folds, {tried} penalties)"),
                )
            }
            Estimator::Denoised => {
                full_rank("denoised", t, n)?;
                let (cov, signal) = shrinkage::denoised(&sample_cov(), t);
                (sample_mean.clone(), cov, format!("denoised (Marchenko–Pastur, {signal} signal eigenvalues of {n})"))
            }
            Estimator::DenoisedShrunk { shrinkage: alpha } => {
                full_rank("denoised", t, n)?;
                if !(0.0..=1.0).contains(&alpha) {
                    return Err(Error::param(Param::Shrinkage, format!("must be in [0, 1], got {alpha}")));
                }
                let (cov, signal) = shrinkage::denoise(&sample_cov(), t, shrinkage::Noise::TargetShrinkage(alpha));
                (
                    sample_mean.clone(),
                    cov,
                    format!("denoised (target shrinkage α = {alpha}, {signal} signal eigenvalues of {n})"),
                )
            }
            Estimator::Detoned { markets } => {
                full_rank("detoned", t, n)?;
                let cov = shrinkage::detoned(&sample_cov(), markets)?;
                (
                    sample_mean.clone(),
                    cov,
                    format!("detoned ({markets} market mode{})", if markets == 1 { "" } else { "s" }),
                )
            }
        };
        let (cov, method) = if may_be_indefinite {
            match shrinkage::positive_definite(cov) {
                (cov, true) => (cov, format!("{method}, repaired to the nearest positive definite")),
                (cov, false) => (cov, method),
            }
        } else {
            (cov, method)
        };
        let (cov, method) = match &self.implied {
            None => (cov, method),
            Some(implied) => {
                let forecast = implied.forecast(x, dates, assets, periods_per_year)?;
                (implied::rescale(&cov, &forecast.vols, assets)?, format!("{method}; {}", forecast.method))
            }
        };
        let (mean, method) = match self.mean.label() {
            None => (mean, method),
            Some(label) => (self.mean.estimate(x, &sample_mean, mean, &cov)?, format!("{method}; {label}")),
        };
        if let Some(((i, j), v)) = cov.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::param(
                Param::Returns,
                format!(
                    "give a covariance entry of {v} for ({}, {}): the returns are too large to square in floating point",
                    assets[i],
                    assets[j]
                ),
            ));
        }
        if self.estimator == Estimator::LedoitWolfConstantCorrelation {
            if let Some(j) = (0..n).find(|&j| !(cov[[j, j]] > 0.0)) {
                return Err(Error::param(
                    Param::Returns,
                    format!(
                        "of {} do not vary, so its correlations (and the constant-correlation target) are undefined; drop it or shrink towards the identity",
                        assets[j]
                    ),
                ));
            }
        }
        // Sample, EWMA and identity-shrunk covariances are Gram matrices
        // (plus a positive multiple of I): PSD by construction. The
        // constant-correlation target is not when the average correlation is
        // below −1/(N−1), so that one is checked.
        if self.estimator == Estimator::LedoitWolfConstantCorrelation {
            check_psd(cov.view())?;
        }
        Ok(Moments {
            assets: assets.to_vec(),
            mean,
            cov,
            periods_per_year,
            annualized: false,
            method,
            factors: None,
            spread: None,
        })
    }
}

/// The weighted mean $\sum_t w_t r_t$ and the unbiased weighted covariance
/// $\sum_t w_t (r_t - \mu)(r_t - \mu)^\top / (1 - \sum_t w_t^2)$ of the
/// rows of `x`, for weights `w` that sum to 1.
pub(super) fn weighted_moments(x: ArrayView2<'_, f64>, w: &Array1<f64>) -> (Array1<f64>, Array2<f64>) {
    let mean = w.dot(&x);
    let xc = &x - &mean;
    let wx = &xc * &w.view().insert_axis(Axis(1));
    let cov = wx.t().dot(&xc) / (1.0 - w.dot(w));
    (mean, cov)
}

/// A covariance estimated from `t` rows of `n` assets is singular unless
/// `t > n`.
fn full_rank(what: &str, t: usize, n: usize) -> Result<()> {
    if t <= n {
        return Err(Error::TooFewRows {
            operation: format!(
                "the {what} covariance of {n} assets (it is singular with T ≤ N; use Moments::ledoit_wolf() to shrink it)"
            ),
            needed: n + 1,
            got: t,
        });
    }
    Ok(())
}

/// Shrinkage towards $\frac{\operatorname{tr}S}{N} I$; returns the matrix and $\delta$.
fn ledoit_wolf_identity(x: ArrayView2<'_, f64>) -> (Array2<f64>, f64) {
    let (t, n) = x.dim();
    let tf = t as f64;
    let s = x.t().dot(&x) / tf;
    let mu = s.diag().sum() / n as f64;
    let mut d2 = 0.0;
    for ((i, j), v) in s.indexed_iter() {
        let f = if i == j { mu } else { 0.0 };
        d2 += (v - f) * (v - f);
    }
    // Σ_t ||x_t x_tᵀ − S||² = Σ_t ||x_t||⁴ − T ||S||²  (since Σ_t x_t x_tᵀ = T S)
    let s_norm2: f64 = s.iter().map(|v| v * v).sum();
    let sum4: f64 = x.rows().into_iter().map(|r| r.dot(&r).powi(2)).sum();
    let b_bar2 = (sum4 - tf * s_norm2) / (tf * tf);
    let b2 = b_bar2.min(d2);
    let delta = if d2 > 0.0 { b2 / d2 } else { 0.0 };
    let mut out = &s * (1.0 - delta);
    for i in 0..n {
        out[[i, i]] += delta * mu;
    }
    (out, delta)
}

/// Shrinkage towards constant correlation; returns the matrix and $\delta$.
fn ledoit_wolf_constant_correlation(x: ArrayView2<'_, f64>) -> (Array2<f64>, f64) {
    let (t, n) = x.dim();
    let tf = t as f64;
    let s = x.t().dot(&x) / tf;
    let sd: Array1<f64> = s.diag().mapv(f64::sqrt);
    let mut rbar = 0.0;
    if n > 1 {
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    rbar += s[[i, j]] / (sd[i] * sd[j]);
                }
            }
        }
        rbar /= (n * (n - 1)) as f64;
    }
    let f = Array2::from_shape_fn((n, n), |(i, j)| if i == j { s[[i, i]] } else { rbar * sd[i] * sd[j] });
    // π_ij = mean_t (x_ti x_tj − s_ij)²
    let x2 = x.mapv(|v| v * v);
    let pi_mat = x2.t().dot(&x2) / tf - &s.mapv(|v| v * v);
    let pi_hat = pi_mat.sum();
    // θ_{ii,ij} = mean_t (x_ti² − s_ii)(x_ti x_tj − s_ij) = mean_t x_ti³ x_tj − s_ii s_ij
    let x3 = x.mapv(|v| v * v * v);
    let theta = x3.t().dot(&x) / tf - &(&s.diag().insert_axis(Axis(1)) * &s);
    let mut rho_hat = pi_mat.diag().sum();
    for i in 0..n {
        for j in 0..n {
            if i != j {
                rho_hat += 0.5 * rbar * ((sd[j] / sd[i]) * theta[[i, j]] + (sd[i] / sd[j]) * theta[[j, i]]);
            }
        }
    }
    let gamma_hat: f64 = (&f - &s).iter().map(|v| v * v).sum();
    let kappa = if gamma_hat > 0.0 { (pi_hat - rho_hat) / gamma_hat } else { 0.0 };
    let delta = (kappa / tf).clamp(0.0, 1.0);
    (&f * delta + &s * (1.0 - delta), delta)
}
