//! A synthetic market with known parameters and, optionally, a planted
//! signal of known strength.
//!
//! For asset $i$ on business day $t$ the log return is
//!
//! $$ r_{i,t} = \mu_i + \delta\,[s_t = \text{stress}] + \sigma_i\, m_{s_t} \sqrt{h_{i,t}}\; u_{i,t} $$
//!
//! * $u_{i,t}$ has unit variance: $u_{t} = L\,e_t$ with $e_t$ i.i.d. standard
//!   normal or unit-variance Student-$t$ ([`Innovations`]) and $L L^\top$ the
//!   correlation ([`Correlation`]: independent, constant, a given matrix, or
//!   a random factor structure);
//! * $h_{i,t} = (1-\alpha-\beta) + \alpha\,h_{i,t-1}u_{i,t-1}^2 + \beta\,h_{i,t-1}$ is
//!   GARCH(1,1) volatility clustering with unconditional mean 1
//!   ([`SyntheticParams::garch`]; off means $h \equiv 1$);
//! * $s_t$ is a two-state Markov chain (calm/stress) with volatility
//!   multiplier $m$ and drift shift $\delta$ in stress ([`Regimes`]);
//! * a [`Signal`] replaces $u$ by $\rho\,x_{i,t-1} + \sqrt{1-\rho^2}\,u$ for an
//!   observable, standardised $x$ known at $t-1$ (a published feature, or
//!   cross-sectional momentum), or makes $u$ an AR(1) with coefficient
//!   $\phi$. Then $\operatorname{corr}(x_{t-1}, u_t) = \rho$ exactly: the
//!   information coefficient of the planted signal.
//!
//! Prices start at 100 on the first date: $P_t = 100\,\exp\sum_{s\le t} r_s$.
//!
//! **A changing universe** ([`SyntheticParams::lifecycle`]): a share of the
//! assets lists late (no price before a uniform date in the first half),
//! and an asset delists on the first date its price stands a given
//! fraction below its running peak, as failing firms leave real indices;
//! its holders then receive the last price times one plus a delisting
//! return. **Volumes** ([`SyntheticParams::volumes`]): each asset's mean
//! traded value is lognormal across assets around the level given (log
//! standard deviation 1), and each day's is that mean times a lognormal
//! factor (log standard deviation 0.3) times $1 + 10|R_{i,t}|$, so volume
//! rises on large moves. Both draw from their own random streams: adding
//! them leaves the returns unchanged.
//! With the defaults ([`Synthetic::params`]) this is the plain i.i.d.
//! Gaussian market: $\mu = 0.001$, $\sigma = 0.02$, independent assets.

use crate::parameter::Data as Param;
use chrono::{Datelike, NaiveDate, Weekday};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal, StudentT};

use super::{Panel, Prices, ReturnKind, Returns, Volumes};
use crate::display::{Cell, Render, Table};
use crate::error::{Error, Result};

/// Correlation of the standardised shocks across assets.
#[derive(Debug, Clone, PartialEq)]
pub enum Correlation {
    /// Independent assets.
    Independent,
    /// Every pair has the same correlation $\rho \in (-1/(N-1), 1)$.
    Constant(f64),
    /// A given correlation matrix (symmetric, unit diagonal, positive definite).
    Matrix(Array2<f64>),
    /// A random factor structure: each asset's shock is `r2` explained by
    /// `factors` common factors (the first a positive market factor).
    Factors {
        /// Number of common factors (≥ 1).
        factors: usize,
        /// Share of each asset's variance explained by the factors, in (0, 1).
        r2: f64,
    },
}

/// Distribution of the i.i.d. shocks before correlation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Innovations {
    /// Standard normal.
    Gaussian,
    /// Student-$t$ with `dof` > 2 degrees of freedom, scaled to unit variance
    /// (excess kurtosis $6/(\nu-4)$ for $\nu > 4$).
    StudentT {
        /// Degrees of freedom.
        dof: f64,
    },
}

/// Two-state (calm / stress) Markov regime switching.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regimes {
    /// Probability of moving from calm to stress on a given day.
    pub enter_stress: f64,
    /// Probability of moving from stress back to calm on a given day.
    pub leave_stress: f64,
    /// Volatility multiplier in stress (> 0).
    pub vol_multiplier: f64,
    /// Added to every asset's daily drift in stress.
    pub drift_shift: f64,
}

impl Default for Regimes {
    /// Stress about 1 day in 6 (mean stay 50 days), volatility × 2.5, drift
    /// −0.002 a day.
    fn default() -> Self {
        Regimes { enter_stress: 0.004, leave_stress: 0.02, vol_multiplier: 2.5, drift_shift: -0.002 }
    }
}

/// A planted, known relation between an observable and future returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    /// A published feature $x_{i,t} \sim N(0,1)$ i.i.d., returned as
    /// [`SyntheticMarket::feature`], with $\operatorname{corr}(x_{i,t}, u_{i,t+1}) = $ `ic`.
    LaggedFeature {
        /// Information coefficient in (−1, 1).
        ic: f64,
    },
    /// Cross-sectional momentum: $x_{i,t}$ is the cross-sectional z-score
    /// (population standard deviation) of each asset's log return over the
    /// last `lookback` days (known at $t$,
    /// computable from prices), with $\operatorname{corr}(x_{i,t}, u_{i,t+1}) = $ `ic`.
    CrossSectionalMomentum {
        /// Information coefficient in (−1, 1).
        ic: f64,
        /// Days in the momentum window (≥ 1).
        lookback: usize,
    },
    /// Each asset's shock is AR(1): $u_t = \phi u_{t-1} + \sqrt{1-\phi^2}\,e_t$.
    Autoregressive {
        /// Lag-one autocorrelation in (−1, 1).
        phi: f64,
    },
}

/// Assets entering and leaving the universe ([`SyntheticParams::lifecycle`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifecycle {
    /// Share of the assets (in 0..1) that list after the first date, each
    /// on a uniform date in the first half of the sample.
    pub late_listings: f64,
    /// An asset delists on the first date its price is this fraction (in
    /// 0..1) below its running peak, e.g. 0.6.
    pub delist_drawdown: f64,
    /// The return from the last price to what holders receive (≥ −1).
    pub delisting_return: f64,
}

/// Synthetic markets with planted signals: `Synthetic::params()` returns
/// the [`SyntheticParams`] builder (see the module docs for the model).
///
/// ```
/// use assetalloc::prelude::*;
/// let m = Synthetic::params().assets(3).days(250).seed(7).generate()?;
/// assert_eq!((m.prices.len(), m.prices.n_assets()), (250, 3));
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Synthetic;

/// Settings of a synthetic market (see [`Synthetic::params`]); every
/// setting has a default.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticParams {
    assets: usize,
    days: usize,
    start: NaiveDate,
    drift: Vec<f64>,
    vol: Vec<f64>,
    correlation: Correlation,
    innovations: Innovations,
    garch: Option<(f64, f64)>,
    regimes: Option<Regimes>,
    signal: Option<Signal>,
    lifecycle: Option<Lifecycle>,
    volumes: Option<f64>,
    seed: u64,
}

/// A generated market and the truth behind it.
#[derive(Debug, Clone)]
pub struct SyntheticMarket {
    /// Prices, 100 on the first date.
    pub prices: Prices,
    /// Daily log returns (one row fewer than `prices`).
    pub returns: Returns,
    /// The planted observable $x_{i,t}$ on the price dates (for
    /// [`Signal::LaggedFeature`] and [`Signal::CrossSectionalMomentum`]).
    pub feature: Option<Panel>,
    /// Regime per price date: 0 calm, 1 stress (all 0 without regimes).
    pub regime: Vec<u8>,
    /// Correlation matrix of the shocks $u$ (before signal and scaling).
    pub correlation: Array2<f64>,
    /// Traded value in currency per date and asset
    /// ([`SyntheticParams::volumes`]; `NaN` where the asset is not listed).
    pub volumes: Option<Volumes>,
    /// Each asset that delisted, with its last price date and the
    /// delisting return its holders receive.
    pub delistings: Vec<(String, NaiveDate, f64)>,
    /// The settings that produced it.
    pub params: SyntheticParams,
}

impl Default for SyntheticParams {
    fn default() -> Self {
        SyntheticParams {
            assets: 5,
            days: 1000,
            start: NaiveDate::from_ymd_opt(2000, 1, 3).unwrap_or_default(),
            drift: vec![0.001],
            vol: vec![0.02],
            correlation: Correlation::Independent,
            innovations: Innovations::Gaussian,
            garch: None,
            regimes: None,
            signal: None,
            lifecycle: None,
            volumes: None,
            seed: 42,
        }
    }
}

impl Synthetic {
    /// Defaults: 5 assets, 1,000 business days from 2000-01-03, drift 0.001
    /// and volatility 0.02 a day (log returns), independent Gaussian shocks,
    /// no GARCH, no regimes, no signal, seed 42.
    pub fn params() -> SyntheticParams {
        SyntheticParams::default()
    }

    /// The plain i.i.d. Gaussian market (mean 0.001, sd 0.02) in one call.
    pub fn gaussian(assets: usize, days: usize, seed: u64) -> Result<Prices> {
        Ok(Synthetic::params().assets(assets).days(days).seed(seed).generate()?.prices)
    }
}

impl SyntheticParams {
    /// Number of assets (≥ 1; ≥ 2 for cross-sectional momentum).
    pub fn assets(mut self, n: usize) -> Self {
        self.assets = n;
        self
    }

    /// Number of business days of prices (≥ 2).
    pub fn days(mut self, n: usize) -> Self {
        self.days = n;
        self
    }

    /// First date (moved to the next Monday if it is a weekend day).
    pub fn start(mut self, date: NaiveDate) -> Self {
        self.start = date;
        self
    }

    /// The same daily drift $\mu$ for every asset.
    pub fn drift(mut self, mu: f64) -> Self {
        self.drift = vec![mu];
        self
    }

    /// One daily drift per asset.
    pub fn drifts(mut self, mu: Vec<f64>) -> Self {
        self.drift = mu;
        self
    }

    /// The same daily volatility $\sigma$ for every asset.
    pub fn vol(mut self, sigma: f64) -> Self {
        self.vol = vec![sigma];
        self
    }

    /// One daily volatility per asset.
    pub fn vols(mut self, sigma: Vec<f64>) -> Self {
        self.vol = sigma;
        self
    }

    /// Correlation of the shocks.
    pub fn correlation(mut self, c: Correlation) -> Self {
        self.correlation = c;
        self
    }

    /// Shock distribution.
    pub fn innovations(mut self, i: Innovations) -> Self {
        self.innovations = i;
        self
    }

    /// GARCH(1,1) clustering with $\alpha, \beta \ge 0$, $\alpha + \beta < 1$
    /// (e.g. 0.08, 0.9).
    pub fn garch(mut self, alpha: f64, beta: f64) -> Self {
        self.garch = Some((alpha, beta));
        self
    }

    /// Two-state regime switching.
    pub fn regimes(mut self, r: Regimes) -> Self {
        self.regimes = Some(r);
        self
    }

    /// Plants a signal.
    pub fn signal(mut self, s: Signal) -> Self {
        self.signal = Some(s);
        self
    }

    /// Lets assets list late and delist after a decline (see
    /// [`Lifecycle`]); prices are `NaN` where an asset is not listed.
    pub fn lifecycle(mut self, l: Lifecycle) -> Self {
        self.lifecycle = Some(l);
        self
    }

    /// Generates daily traded values around a mean of `mean` in currency
    /// (see the module docs).
    pub fn volumes(mut self, mean: f64) -> Self {
        self.volumes = Some(mean);
        self
    }

    /// Random seed (same seed, same market).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn per_asset(&self, name: Param, v: &[f64]) -> Result<Vec<f64>> {
        match v.len() {
            1 => Ok(vec![v[0]; self.assets]),
            n if n == self.assets => Ok(v.to_vec()),
            n => Err(Error::param(name, format!("needs 1 or {} values (one per asset), got {n}", self.assets))),
        }
    }

    fn validate(&self) -> Result<(Vec<f64>, Vec<f64>)> {
        if self.assets < 1 {
            return Err(Error::param(Param::Assets, "must be ≥ 1, got 0"));
        }
        if self.days < 2 {
            return Err(Error::param(Param::Days, format!("must be ≥ 2, got {}", self.days)));
        }
        let drift = self.per_asset(Param::Drift, &self.drift)?;
        let vol = self.per_asset(Param::Vol, &self.vol)?;
        if let Some(v) = drift.iter().find(|v| !v.is_finite()) {
            Error::finite(Param::Drift, *v)?;
        }
        if let Some(v) = vol.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(Error::param(Param::Vol, format!("must be > 0, got {v}")));
        }
        if let Innovations::StudentT { dof } = self.innovations {
            if !(dof > 2.0) {
                return Err(Error::param(
                    Param::StudentT,
                    format!("degrees of freedom must be > 2 for a finite variance, got {dof}"),
                ));
            }
        }
        if let Some((a, b)) = self.garch {
            if !(a >= 0.0 && b >= 0.0 && a + b < 1.0) {
                return Err(Error::param(
                    Param::Garch,
                    format!("needs alpha ≥ 0, beta ≥ 0 and alpha + beta < 1, got alpha = {a}, beta = {b}"),
                ));
            }
        }
        if let Some(r) = self.regimes {
            for (name, p) in [(Param::EnterStress, r.enter_stress), (Param::LeaveStress, r.leave_stress)] {
                if !(p > 0.0 && p <= 1.0) {
                    return Err(Error::param(name, format!("must be in (0, 1], got {p}")));
                }
            }
            if !(r.vol_multiplier > 0.0 && r.vol_multiplier.is_finite()) {
                return Err(Error::param(Param::VolMultiplier, format!("must be > 0, got {}", r.vol_multiplier)));
            }
            Error::finite(Param::DriftShift, r.drift_shift)?;
        }
        match self.signal {
            Some(Signal::LaggedFeature { ic }) | Some(Signal::CrossSectionalMomentum { ic, .. })
                if !(ic > -1.0 && ic < 1.0) =>
            {
                return Err(Error::param(Param::Signal, format!("ic must be in (−1, 1), got {ic}")));
            }
            Some(Signal::Autoregressive { phi }) if !(phi > -1.0 && phi < 1.0) => {
                return Err(Error::param(Param::Signal, format!("phi must be in (−1, 1), got {phi}")));
            }
            Some(Signal::CrossSectionalMomentum { lookback, .. }) if lookback < 1 => {
                return Err(Error::param(Param::Signal, "momentum lookback must be ≥ 1, got 0"));
            }
            Some(Signal::CrossSectionalMomentum { .. }) if self.assets < 2 => {
                return Err(Error::param(Param::Assets, "must be ≥ 2 for cross-sectional momentum, got 1"));
            }
            _ => {}
        }
        if let Some(l) = self.lifecycle {
            for (name, v) in [(Param::LateListings, l.late_listings), (Param::DelistDrawdown, l.delist_drawdown)] {
                if !(0.0..1.0).contains(&v) {
                    return Err(Error::param(name, format!("must be in [0, 1), got {v}")));
                }
            }
            if !(l.delisting_return.is_finite() && l.delisting_return >= -1.0) {
                return Err(Error::param(Param::DelistingReturn, format!("must be ≥ −1, got {}", l.delisting_return)));
            }
        }
        if let Some(v) = self.volumes {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::param(Param::Volumes, format!("mean traded value must be > 0, got {v}")));
            }
        }
        Ok((drift, vol))
    }

    /// The correlation matrix of the shocks and its Cholesky factor.
    fn correlation_factor(&self, rng: &mut StdRng) -> Result<(Array2<f64>, Array2<f64>)> {
        let n = self.assets;
        let c = match &self.correlation {
            Correlation::Independent => Array2::eye(n),
            Correlation::Constant(rho) => {
                let lo = if n > 1 { -1.0 / (n as f64 - 1.0) } else { -1.0 };
                if !(*rho > lo && *rho < 1.0) {
                    return Err(Error::param(
                        Param::Correlation,
                        format!("must be in ({lo:.4}, 1) for {n} assets, got {rho}"),
                    ));
                }
                Array2::from_shape_fn((n, n), |(i, j)| if i == j { 1.0 } else { *rho })
            }
            Correlation::Matrix(m) => {
                if m.dim() != (n, n) {
                    return Err(Error::Shape(format!("correlation matrix is {:?}, expected {n}×{n}", m.dim())));
                }
                if m.diag().iter().any(|d| (d - 1.0).abs() > 1e-12) {
                    return Err(Error::param(Param::Correlation, "matrix must have a unit diagonal"));
                }
                m.clone()
            }
            Correlation::Factors { factors, r2 } => {
                if *factors < 1 {
                    return Err(Error::param(Param::Correlation, "needs ≥ 1 factor, got 0"));
                }
                if !(*r2 > 0.0 && *r2 < 1.0) {
                    return Err(Error::param(
                        Param::Correlation,
                        format!("r2 of the factors must be in (0, 1), got {r2}"),
                    ));
                }
                // Random loadings, first factor positive, each row scaled to
                // explain exactly r2 of the asset's unit variance.
                let mut b = Array2::<f64>::zeros((n, *factors));
                for i in 0..n {
                    for k in 0..*factors {
                        let z: f64 = rng.sample(StandardNormal);
                        b[[i, k]] = if k == 0 { 1.0 + 0.3 * z.abs() } else { 0.6 * z };
                    }
                    let norm = b.row(i).dot(&b.row(i)).sqrt();
                    b.row_mut(i).mapv_inplace(|x| x / norm * r2.sqrt());
                }
                let mut c = b.dot(&b.t());
                c.diag_mut().fill(1.0);
                c
            }
        };
        let l = crate::linalg::cholesky(c.view()).ok_or_else(|| {
            Error::param(Param::Correlation, "matrix must be symmetric positive definite (Cholesky failed)")
        })?;
        Ok((c, l))
    }

    /// Generates the market.
    pub fn generate(&self) -> Result<SyntheticMarket> {
        let (drift, vol) = self.validate()?;
        let mut rng = StdRng::seed_from_u64(self.seed);
        let (corr, l) = self.correlation_factor(&mut rng)?;
        let (n, t) = (self.assets, self.days);
        let t_dist = match self.innovations {
            Innovations::StudentT { dof } => Some((
                StudentT::new(dof).map_err(|e| Error::param(Param::StudentT, e.to_string()))?,
                ((dof - 2.0) / dof).sqrt(),
            )),
            Innovations::Gaussian => None,
        };

        let dates = business_days(self.start, t);
        let mut log_ret = Array2::<f64>::zeros((t - 1, n));
        let mut feature = Array2::<f64>::zeros((t, n));
        let mut regime = vec![0u8; t];
        let mut h = vec![1.0; n];
        let mut prev_u = vec![0.0; n];
        let mut e = vec![0.0; n];
        let mut z = vec![0.0; n];

        for day in 0..t {
            if day > 0 {
                if let Some(r) = self.regimes {
                    let u: f64 = rng.gen();
                    regime[day] = match regime[day - 1] {
                        0 if u < r.enter_stress => 1,
                        1 if u < r.leave_stress => 0,
                        s => s,
                    };
                }
            }
            if day > 0 {
                // Correlated unit-variance shocks u = L e.
                for v in e.iter_mut() {
                    *v = match &t_dist {
                        Some((d, scale)) => d.sample(&mut rng) * scale,
                        None => rng.sample(StandardNormal),
                    };
                }
                for i in 0..n {
                    z[i] = (0..=i).map(|k| l[[i, k]] * e[k]).sum();
                }
                let (mult, shift) = match (self.regimes, regime[day]) {
                    (Some(r), 1) => (r.vol_multiplier, r.drift_shift),
                    _ => (1.0, 0.0),
                };
                for i in 0..n {
                    let u = match self.signal {
                        Some(Signal::LaggedFeature { ic }) | Some(Signal::CrossSectionalMomentum { ic, .. }) => {
                            ic * feature[[day - 1, i]] + (1.0 - ic * ic).sqrt() * z[i]
                        }
                        Some(Signal::Autoregressive { phi }) => phi * prev_u[i] + (1.0 - phi * phi).sqrt() * z[i],
                        None => z[i],
                    };
                    if let Some((a, b)) = self.garch {
                        if day > 1 {
                            // ε² = h u², the standardised squared shock of yesterday.
                            h[i] = (1.0 - a - b) + a * h[i] * prev_u[i] * prev_u[i] + b * h[i];
                        }
                    }
                    log_ret[[day - 1, i]] = drift[i] + shift + vol[i] * mult * h[i].sqrt() * u;
                    prev_u[i] = u;
                }
            }
            // The observable known at this date's close (after its return).
            match self.signal {
                Some(Signal::LaggedFeature { .. }) => {
                    for i in 0..n {
                        feature[[day, i]] = rng.sample(StandardNormal);
                    }
                }
                Some(Signal::CrossSectionalMomentum { lookback, .. }) => {
                    let x = momentum_z(&log_ret, day, lookback);
                    feature.row_mut(day).assign(&ndarray::Array1::from(x));
                }
                _ => {}
            }
        }

        self.assemble(dates, log_ret, feature, regime, corr)
    }

    /// The market from its log returns: prices from 100, panels named
    /// `A01`, `A02`, …, the planted observable when the signal has one.
    fn assemble(
        &self,
        dates: Vec<NaiveDate>,
        log_ret: Array2<f64>,
        feature: Array2<f64>,
        regime: Vec<u8>,
        correlation: Array2<f64>,
    ) -> Result<SyntheticMarket> {
        let (t, n) = (dates.len(), log_ret.ncols());
        let names: Vec<String> = (1..=n).map(|i| format!("A{i:02}")).collect();
        let mut prices = Array2::<f64>::zeros((t, n));
        for i in 0..n {
            let mut acc = 100f64.ln();
            prices[[0, i]] = 100.0;
            for day in 1..t {
                acc += log_ret[[day - 1, i]];
                prices[[day, i]] = acc.exp();
            }
        }
        if let Some(bad) = prices.iter().find(|p| !(p.is_finite() && **p > 0.0)) {
            return Err(Error::param(
                Param::Drift,
                format!(
                    "and vol produce a price of {bad}, outside floating-point range; lower them or the number of days"
                ),
            ));
        }
        let mut log_ret = log_ret;
        let mut delistings = Vec::new();
        if let Some(l) = self.lifecycle {
            let listed = self.listed(l, &prices);
            for i in 0..n {
                if let Some(last) = (0..t).rev().find(|&d| listed[[d, i]]) {
                    if last + 1 < t {
                        delistings.push((names[i].clone(), dates[last], l.delisting_return));
                    }
                }
                for day in 0..t {
                    if !listed[[day, i]] {
                        prices[[day, i]] = f64::NAN;
                    }
                    if day > 0 && !(listed[[day, i]] && listed[[day - 1, i]]) {
                        log_ret[[day - 1, i]] = f64::NAN;
                    }
                }
            }
        }
        let volumes = self.volumes.map(|mean| {
            Volumes::from_panel(Panel::from_parts(dates.clone(), names.clone(), self.traded(mean, &prices)))
        });
        let price_panel = Panel::from_parts(dates.clone(), names.clone(), prices);
        let returns =
            Returns::from_panel(Panel::from_parts(dates[1..].to_vec(), names.clone(), log_ret), ReturnKind::Log);
        let feature = match self.signal {
            Some(Signal::LaggedFeature { .. }) | Some(Signal::CrossSectionalMomentum { .. }) => {
                Some(Panel::from_parts(dates, names.iter().map(|a| format!("{a}_signal")).collect(), feature))
            }
            _ => None,
        };
        Ok(SyntheticMarket {
            prices: Prices::from_panel(price_panel),
            returns,
            feature,
            regime,
            correlation,
            volumes,
            delistings,
            params: self.clone(),
        })
    }

    /// Whether each asset is listed on each date: from its listing date
    /// (the first date, or a uniform one in the first half for a late
    /// lister) to the first date its price is `delist_drawdown` below its
    /// running peak since listing.
    fn listed(&self, l: Lifecycle, prices: &Array2<f64>) -> Array2<bool> {
        let (t, n) = prices.dim();
        let mut rng = StdRng::seed_from_u64(self.seed ^ 0x11f3_c7c1_e5a0_0001);
        let mut listed = Array2::from_elem((t, n), false);
        for i in 0..n {
            let late: f64 = rng.gen();
            let start = if late < l.late_listings { rng.gen_range(1..(t / 2).max(2)) } else { 0 };
            let mut peak = f64::NEG_INFINITY;
            for day in start..t {
                listed[[day, i]] = true;
                peak = peak.max(prices[[day, i]]);
                if l.delist_drawdown > 0.0 && prices[[day, i]] <= (1.0 - l.delist_drawdown) * peak {
                    break;
                }
            }
        }
        listed
    }

    /// Daily traded values around `mean` (NaN where a price is missing).
    fn traded(&self, mean: f64, prices: &Array2<f64>) -> Array2<f64> {
        let (t, n) = prices.dim();
        let mut rng = StdRng::seed_from_u64(self.seed ^ 0x7a3d_52b9_0c4e_0002);
        let mut v = Array2::from_elem((t, n), f64::NAN);
        for i in 0..n {
            let z: f64 = rng.sample(StandardNormal);
            let level = mean * (z - 0.5).exp();
            for day in 0..t {
                let e: f64 = rng.sample(StandardNormal);
                let p = prices[[day, i]];
                if p.is_finite() {
                    let moved = if day > 0 && prices[[day - 1, i]].is_finite() {
                        (p / prices[[day - 1, i]] - 1.0).abs()
                    } else {
                        0.0
                    };
                    v[[day, i]] = level * (0.3 * e - 0.045).exp() * (1.0 + 10.0 * moved);
                }
            }
        }
        v
    }
}

/// The cross-sectional z-score of each asset's log return over the
/// `lookback` days before price date `day` (known at its close); zeros on
/// the first date or when every asset moved alike.
fn momentum_z(log_ret: &Array2<f64>, day: usize, lookback: usize) -> Vec<f64> {
    let n = log_ret.ncols();
    let from = day.saturating_sub(lookback);
    let sums: Vec<f64> = (0..n).map(|i| (from..day).map(|s| log_ret[[s, i]]).sum()).collect();
    // Population standard deviation: each date's z-scores then have
    // unit variance, so the planted IC is exact.
    let m = crate::stats::mean(&sums);
    let s = crate::stats::std(&sums) * ((n as f64 - 1.0) / n as f64).sqrt();
    if day == 0 || !(s > 0.0) {
        vec![0.0; n]
    } else {
        sums.iter().map(|x| (x - m) / s).collect()
    }
}

/// `n` weekdays starting at `start` (or the next weekday).
fn business_days(start: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(n);
    let mut d = start;
    while out.len() < n {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(d);
        }
        d = d.succ_opt().unwrap_or(d);
    }
    out
}

impl SyntheticMarket {
    /// The prices of the assets still listed on the last date only: the
    /// panel a researcher who downloads today's universe would backtest
    /// (survivorship bias).
    pub fn survivors(&self) -> Result<Prices> {
        let v = self.prices.values();
        let last = v.nrows() - 1;
        let alive: Vec<&String> = self
            .prices
            .assets()
            .iter()
            .enumerate()
            .filter(|(j, _)| v[[last, *j]].is_finite())
            .map(|(_, a)| a)
            .collect();
        self.prices.select(&alive)
    }

    /// The planted observable, or an error saying this market publishes
    /// none (no signal, or an autoregressive one).
    pub fn signal_feature(&self) -> Result<&Panel> {
        self.feature.as_ref().ok_or_else(|| {
            Error::param(
                Param::Signal,
                format!(
                    "{:?} publishes no feature; plant Signal::LaggedFeature or Signal::CrossSectionalMomentum",
                    self.params.signal
                ),
            )
        })
    }

    /// The information coefficient realised in this sample: the pooled
    /// correlation of the planted feature at date $t$ with the log return
    /// earned from $t$ to $t+1$, over all assets and dates, with its
    /// standard error $1/\sqrt{n}$ under no relation. `None` without a
    /// published feature.
    pub fn realized_ic(&self) -> Option<(f64, f64)> {
        let x = self.feature.as_ref()?.values();
        let r = self.returns.values();
        let (mut f, mut y) = (Vec::new(), Vec::new());
        for t in 0..r.nrows() {
            for i in 0..r.ncols() {
                f.push(x[[t, i]]);
                y.push(r[[t, i]]);
            }
        }
        Some((crate::stats::correlation(&f, &y), 1.0 / (f.len() as f64).sqrt()))
    }

    /// The settings as a table.
    pub fn table(&self) -> Table {
        let p = &self.params;
        let signal = match p.signal {
            None => "none".to_string(),
            Some(Signal::LaggedFeature { ic }) => format!("lagged feature, IC {ic}"),
            Some(Signal::CrossSectionalMomentum { ic, lookback }) => {
                format!("cross-sectional momentum ({lookback} days), IC {ic}")
            }
            Some(Signal::Autoregressive { phi }) => format!("AR(1), φ = {phi}"),
        };
        let fmt_vec = |v: &[f64]| {
            if v.len() == 1 {
                format!("{}", v[0])
            } else {
                format!("{v:?}")
            }
        };
        let stress = self.regime.iter().filter(|&&s| s == 1).count();
        Table::new(["setting", "value"])
            .caption(format!(
                "Synthetic market · {} days × {} assets · {} → {} · seed {}",
                self.prices.len(),
                self.prices.n_assets(),
                self.prices.start(),
                self.prices.end(),
                p.seed
            ))
            .row(vec!["daily drift μ".into(), Cell::Text(fmt_vec(&p.drift))])
            .row(vec!["daily volatility σ".into(), Cell::Text(fmt_vec(&p.vol))])
            .row(vec!["correlation".into(), Cell::Text(format!("{:?}", p.correlation).chars().take(80).collect())])
            .row(vec!["innovations".into(), Cell::Text(format!("{:?}", p.innovations))])
            .row(vec![
                "GARCH(1,1)".into(),
                Cell::Text(p.garch.map_or("off".into(), |(a, b)| format!("α = {a}, β = {b}"))),
            ])
            .row(vec![
                "regimes".into(),
                Cell::Text(p.regimes.map_or("off".into(), |r| {
                    format!(
                        "stress {:.1}% of days (×{} vol, {:+} drift)",
                        100.0 * stress as f64 / self.regime.len() as f64,
                        r.vol_multiplier,
                        r.drift_shift
                    )
                })),
            ])
            .row(vec!["planted signal".into(), Cell::Text(signal)])
    }
}

impl Render for SyntheticMarket {
    fn to_html(&self) -> String {
        let mut h = self.table().to_html();
        h.push_str(&self.prices.to_html());
        h
    }
}

impl std::fmt::Display for SyntheticMarket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.table().to_text(), self.prices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_days_skip_weekends() {
        let d = business_days(NaiveDate::from_ymd_opt(2024, 1, 5).unwrap(), 3); // a Friday
        assert_eq!(d.iter().map(|d| d.day()).collect::<Vec<_>>(), vec![5, 8, 9]);
    }
}
