//! Black–Litterman: equilibrium returns implied by market weights, blended
//! with the investor's views into posterior moments.
//!
//! With covariance $\Sigma$, risk aversion $\delta$ and market weights
//! $w_m$, the prior is $\pi = \delta\Sigma w_m + r_f$. Views are
//! $P\mu = Q + \varepsilon$, $\varepsilon \sim N(0, \Omega)$, and with
//! $\tau$ scaling the prior's uncertainty the posterior is
//!
//! $$\mu_{BL} = \pi + \tau\Sigma P^\top (P\tau\Sigma P^\top + \Omega)^{-1}(Q - P\pi),\qquad
//! \Sigma_{BL} = \Sigma + \tau\Sigma - \tau\Sigma P^\top (P\tau\Sigma P^\top + \Omega)^{-1} P\tau\Sigma.$$
//!
//! **Where the risk-free rate enters** ([`RiskFreeIn`]) changes the
//! answer whenever $r_f \ne 0$ and there are views:
//!
//! | convention | prior | views read as | posterior mean |
//! |---|---|---|---|
//! | [`RiskFreeIn::Prior`] (default; PyPortfolioOpt) | $\pi = \delta\Sigma w_m + r_f$ | total returns | $\mu_{BL}$ above |
//! | [`RiskFreeIn::Posterior`] (skfolio) | $\pi = \delta\Sigma w_m$ | excess returns | $\mu_{BL} + r_f$ |
//!
//! The same absolute view "asset $i$ returns $q$" means $q$ under the first
//! and $q + r_f$ under the second.
//!
//! $\Omega$ is diagonal: He and Litterman's $\operatorname{diag}(\tau P\Sigma P^\top)$
//! by default, from Idzorek confidences $c_k$ (the closed form
//! $\omega_k = \tau\,\tfrac{1-c_k}{c_k}\,p_k\Sigma p_k^\top$, $c_k = 0$ giving
//! $10^6$), or given.

use crate::parameter::Estimate as Param;
use ndarray::{Array1, Array2};
use plotly::Plot;

use super::Moments;
use crate::data::Returns;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};

/// Where the risk-free rate enters the model (see [`BlackLitterman`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RiskFreeIn {
    /// Added to the equilibrium prior; views are on total returns
    /// (PyPortfolioOpt's convention).
    #[default]
    Prior,
    /// Added to the posterior mean; the prior and the views are excess
    /// returns (skfolio's convention).
    Posterior,
}

/// How uncertain the views are.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewUncertainty {
    /// $\Omega = \operatorname{diag}(\tau P\Sigma P^\top)$ (He and Litterman).
    HeLitterman,
    /// Idzorek's confidence in each view, 0 to 1 (0–100 %).
    Idzorek(Vec<f64>),
    /// $\Omega$ given (views × views, symmetric positive definite).
    Omega(Array2<f64>),
}

/// One view: $\sum_i a_i \mu_i = q$.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// `(asset, coefficient)` pairs.
    pub weights: Vec<(String, f64)>,
    /// The expected value of the combination (same units as the moments).
    pub value: f64,
}

impl View {
    /// "`asset` will return `value`."
    pub fn absolute(asset: &str, value: f64) -> View {
        View { weights: vec![(asset.to_string(), 1.0)], value }
    }

    /// "`long` will beat `short` by `value`."
    pub fn relative(long: &str, short: &str, value: f64) -> View {
        View { weights: vec![(long.to_string(), 1.0), (short.to_string(), -1.0)], value }
    }

    /// Any linear combination, e.g. a basket against another.
    pub fn linear<S: AsRef<str>>(weights: &[(S, f64)], value: f64) -> View {
        View { weights: weights.iter().map(|(a, w)| (a.as_ref().to_string(), *w)).collect(), value }
    }
}

/// Settings of the model; build with [`BlackLitterman::params`].
#[derive(Debug, Clone, PartialEq)]
pub struct BlackLittermanParams {
    tau: f64,
    risk_aversion: f64,
    risk_free: f64,
    risk_free_in: RiskFreeIn,
    market: Vec<(String, f64)>,
    views: Vec<View>,
    uncertainty: ViewUncertainty,
}

impl BlackLittermanParams {
    /// $\tau$, the uncertainty of the prior relative to $\Sigma$ (default 0.05).
    pub fn tau(mut self, tau: f64) -> Self {
        self.tau = tau;
        self
    }

    /// $\delta$ (default 1); see [`BlackLitterman::implied_risk_aversion`].
    pub fn risk_aversion(mut self, delta: f64) -> Self {
        self.risk_aversion = delta;
        self
    }

    /// The risk-free rate (default 0), added to the prior unless
    /// [`risk_free_in`](Self::risk_free_in) says otherwise.
    pub fn risk_free(mut self, rf: f64) -> Self {
        self.risk_free = rf;
        self
    }

    /// Where the risk-free rate enters: the prior (default) or the
    /// posterior mean ([`RiskFreeIn`]).
    pub fn risk_free_in(mut self, convention: RiskFreeIn) -> Self {
        self.risk_free_in = convention;
        self
    }

    /// Market weights by asset (normalised to sum to 1; market
    /// capitalisations work as well). Assets not named weigh 0.
    pub fn market<S: AsRef<str>>(mut self, weights: &[(S, f64)]) -> Self {
        self.market = weights.iter().map(|(a, w)| (a.as_ref().to_string(), *w)).collect();
        self
    }

    /// Adds a view.
    pub fn view(mut self, v: View) -> Self {
        self.views.push(v);
        self
    }

    /// How uncertain the views are (default He–Litterman).
    pub fn uncertainty(mut self, u: ViewUncertainty) -> Self {
        self.uncertainty = u;
        self
    }

    /// The posterior for the moments `m` (views in `m`'s units: annual
    /// when `m` is annualised).
    pub fn fit(&self, m: &Moments) -> Result<BlackLitterman> {
        let n = m.n_assets();
        let assets = m.assets();
        let index = |name: &str, what: Param| {
            assets
                .iter()
                .position(|a| a == name)
                .ok_or_else(|| Error::param(what, format!("{name:?} is not one of the assets ({})", assets.join(", "))))
        };
        Error::positive(Param::Tau, self.tau)?;
        Error::positive(Param::RiskAversion, self.risk_aversion)?;
        Error::finite(Param::RiskFree, self.risk_free)?;
        if self.market.is_empty() {
            return Err(Error::param(
                Param::Market,
                "no market weights: set them with .market(..) (weights or capitalisations)",
            ));
        }
        Error::unique(Param::Market, self.market.iter().map(|(a, _)| a))?;
        let mut w = Array1::<f64>::zeros(n);
        for (a, v) in &self.market {
            if !(v.is_finite() && *v >= 0.0) {
                return Err(Error::param(Param::Market, format!("of {a} must be finite and ≥ 0, got {v}")));
            }
            w[index(a, Param::Market)?] = *v;
        }
        let total = w.sum();
        if !(total > 0.0) {
            return Err(Error::param(Param::Market, "weights sum to 0: give at least one asset a positive weight"));
        }
        w /= total;
        let cov = m.cov();
        let (in_prior, in_posterior) = match self.risk_free_in {
            RiskFreeIn::Prior => (self.risk_free, 0.0),
            RiskFreeIn::Posterior => (0.0, self.risk_free),
        };
        let prior = cov.dot(&w) * self.risk_aversion + in_prior;

        let k = self.views.len();
        let mut p = Array2::<f64>::zeros((k, n));
        let mut q = Array1::<f64>::zeros(k);
        for (r, v) in self.views.iter().enumerate() {
            if v.weights.is_empty() || !v.value.is_finite() {
                return Err(Error::param(
                    Param::Views,
                    format!(
                        "number {} needs assets and a finite value, got {} assets and {}",
                        r + 1,
                        v.weights.len(),
                        v.value
                    ),
                ));
            }
            for (a, c) in &v.weights {
                p[[r, index(a, Param::Views)?]] += c;
            }
            q[r] = v.value;
        }
        let tau_sigma = cov * self.tau;
        let (posterior_mean, posterior_cov, omega) = if k == 0 {
            (prior.clone(), cov + &tau_sigma, Array2::zeros((0, 0)))
        } else {
            let pts = p.dot(&tau_sigma).dot(&p.t());
            let omega = match &self.uncertainty {
                ViewUncertainty::HeLitterman => Array2::from_diag(&pts.diag()),
                ViewUncertainty::Idzorek(conf) => {
                    if conf.len() != k {
                        return Err(Error::Shape(format!("{} confidences for {k} views", conf.len())));
                    }
                    let mut d = Array1::<f64>::zeros(k);
                    for (i, &c) in conf.iter().enumerate() {
                        if !(0.0..=1.0).contains(&c) {
                            return Err(Error::param(
                                Param::Confidence,
                                format!("view {}: {c} is outside [0, 1] (0–100 %)", i + 1),
                            ));
                        }
                        d[i] = if c == 0.0 { 1e6 } else { (1.0 - c) / c * pts[[i, i]] };
                    }
                    Array2::from_diag(&d)
                }
                ViewUncertainty::Omega(o) => {
                    if o.dim() != (k, k) {
                        return Err(Error::Shape(format!("Ω is {:?} for {k} views", o.dim())));
                    }
                    if let Some(v) = o.iter().find(|v| !v.is_finite()) {
                        return Err(Error::param(Param::Omega, format!("must be finite, found {v}")));
                    }
                    o.clone()
                }
            };
            let a = &pts + &omega;
            let l = crate::linalg::cholesky(a.view()).ok_or_else(|| {
                Error::param(Param::Views, "PτΣPᵀ + Ω is not positive definite (redundant views with Ω = 0?)")
            })?;
            let ts_pt = tau_sigma.dot(&p.t());
            let mean = &prior + &ts_pt.dot(&crate::linalg::cholesky_solve(&l, &(&q - &p.dot(&prior))));
            // τΣPᵀ A⁻¹ PτΣ, one column of A⁻¹ PτΣ at a time.
            let rhs = ts_pt.t().to_owned();
            let mut x = Array2::<f64>::zeros((k, n));
            for j in 0..n {
                x.column_mut(j).assign(&crate::linalg::cholesky_solve(&l, &rhs.column(j).to_owned()));
            }
            let cov_post = cov + &tau_sigma - ts_pt.dot(&x);
            (mean, cov_post, omega)
        };
        let posterior = m
            .reduced(assets.to_vec(), posterior_mean + in_posterior, posterior_cov)
            .labelled("Black–Litterman posterior");
        Ok(BlackLitterman { market: w, prior, posterior, p, q, omega, delta: self.risk_aversion, tau: self.tau })
    }
}

/// A fitted Black–Litterman model: the prior, the views and the posterior
/// [`Moments`] every optimiser objective accepts.
#[derive(Debug, Clone)]
pub struct BlackLitterman {
    market: Array1<f64>,
    prior: Array1<f64>,
    posterior: Moments,
    p: Array2<f64>,
    q: Array1<f64>,
    omega: Array2<f64>,
    delta: f64,
    tau: f64,
}

impl BlackLitterman {
    /// Settings: τ = 0.05, δ = 1, no views, He–Litterman uncertainty.
    pub fn params() -> BlackLittermanParams {
        BlackLittermanParams {
            tau: 0.05,
            risk_aversion: 1.0,
            risk_free: 0.0,
            risk_free_in: RiskFreeIn::Prior,
            market: Vec::new(),
            views: Vec::new(),
            uncertainty: ViewUncertainty::HeLitterman,
        }
    }

    /// The market's risk aversion implied by its returns:
    /// $\delta = (\bar r\,k - r_f)/(s^2 k)$ with $k$ periods a year.
    pub fn implied_risk_aversion(market: &Returns, risk_free: f64) -> Result<f64> {
        let r = market.values();
        if r.ncols() != 1 || r.nrows() < 2 {
            return Err(Error::param(
                Param::Market,
                format!("one return series of ≥ 2 periods is needed, got {} × {}", r.nrows(), r.ncols()),
            ));
        }
        Error::finite(Param::RiskFree, risk_free)?;
        let k = market.periods_per_year();
        let x = r.column(0);
        let mean = x.mean().unwrap_or(0.0);
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0);
        let delta = (mean * k - risk_free) / (var * k);
        if !(delta > 0.0 && delta.is_finite()) {
            return Err(Error::param(
                Param::Market,
                format!("the implied risk aversion is {delta} (excess return ≤ 0 over the sample); give δ directly"),
            ));
        }
        Ok(delta)
    }

    /// Market weights used for the prior.
    pub fn market_weights(&self) -> &Array1<f64> {
        &self.market
    }

    /// Equilibrium (prior) returns $\pi$.
    pub fn prior_returns(&self) -> &Array1<f64> {
        &self.prior
    }

    /// The posterior moments (mean $\mu_{BL}$, covariance $\Sigma_{BL}$).
    pub fn posterior(&self) -> &Moments {
        &self.posterior
    }

    /// The view matrix $P$ (views × assets), the view values $Q$ and $\Omega$.
    pub fn views(&self) -> (&Array2<f64>, &Array1<f64>, &Array2<f64>) {
        (&self.p, &self.q, &self.omega)
    }

    /// Prior and posterior returns by asset.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["asset", "market weight", "prior", "posterior", "change"]).caption(format!(
            "Black–Litterman: δ = {:.3}, τ = {}, {} view(s)",
            self.delta,
            self.tau,
            self.q.len()
        ));
        for (i, a) in self.posterior.assets().iter().enumerate() {
            let post = self.posterior.mean()[i];
            t.push(vec![
                Cell::Text(a.clone()),
                Cell::Pct(self.market[i], 1),
                Cell::Pct(self.prior[i], 2),
                Cell::Pct(post, 2),
                Cell::Pct(post - self.prior[i], 2),
            ]);
        }
        t
    }

    /// Prior against posterior returns as grouped bars.
    pub fn plot(&self) -> Plot {
        use plotly::{Bar, Layout};
        let names = self.posterior.assets().to_vec();
        let mut plot = Plot::new();
        plot.add_trace(Bar::new(names.clone(), self.prior.to_vec()).name("prior (equilibrium)"));
        plot.add_trace(Bar::new(names, self.posterior.mean().to_vec()).name("posterior"));
        plot.set_layout(
            Layout::new().title("Black–Litterman expected returns").bar_mode(plotly::layout::BarMode::Group),
        );
        plot
    }
}

crate::shows_as_table!(BlackLitterman);
