//! Factor risk models: $\Sigma = BFB^\top + D$ from a time-series regression
//! on factor returns, or from principal components, kept in factored form
//! so the optimiser never needs the dense $N \times N$ matrix.

use crate::parameter::Estimate as Param;
use ndarray::{s, Array1, Array2, Axis};
use plotly::Plot;

use super::{Moments, MomentsParams};
use crate::data::{ReturnKind, Returns};
use crate::display::{Cell, Table};
use crate::error::{Error, Result};

/// The factored form of a covariance: $\Sigma = BFB^\top + \operatorname{diag}(d)$.
#[derive(Debug, Clone, PartialEq)]
pub struct Factored {
    /// Loadings $B$ (assets × factors).
    pub loadings: Array2<f64>,
    /// Factor covariance $F$ (factors × factors).
    pub factor_cov: Array2<f64>,
    /// Specific (residual) variances $d$.
    pub specific: Array1<f64>,
}

impl Factored {
    /// The dense $BFB^\top + \operatorname{diag}(d)$.
    pub fn dense(&self) -> Array2<f64> {
        let mut c = self.loadings.dot(&self.factor_cov).dot(&self.loadings.t());
        for (i, d) in self.specific.iter().enumerate() {
            c[[i, i]] += d;
        }
        c
    }

    pub(crate) fn scaled(&self, k: f64) -> Factored {
        Factored { loadings: self.loadings.clone(), factor_cov: &self.factor_cov * k, specific: &self.specific * k }
    }
}

/// How many principal components.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Components {
    /// Exactly this many.
    Count(usize),
    /// The fewest whose eigenvalues explain at least this share (0, 1].
    Explained(f64),
}

#[derive(Debug, Clone, PartialEq)]
enum Source {
    Regression(Returns),
    Pca(Components),
}

/// Settings of a factor model; build with [`FactorModel::regression`] or
/// [`FactorModel::pca`].
#[derive(Debug, Clone, PartialEq)]
pub struct FactorModelParams {
    source: Source,
    estimator: MomentsParams,
}

impl FactorModelParams {
    /// The estimator of the factors' covariance and means (default sample).
    pub fn estimator(mut self, e: MomentsParams) -> Self {
        self.estimator = e;
        self
    }

    /// The model of `returns` (every asset on every date). A regression
    /// uses the dates both panels share.
    pub fn fit(&self, returns: &Returns) -> Result<FactorModel> {
        crate::data::require_complete(returns.values(), returns.dates(), returns.assets(), "a factor model")?;
        // Everything in simple returns, as the moment estimators use them.
        let returns = &returns.to_kind(ReturnKind::Simple);
        match &self.source {
            Source::Regression(factors) => self.regression(returns, &factors.to_kind(ReturnKind::Simple)),
            Source::Pca(c) => self.pca(returns, *c),
        }
    }

    fn regression(&self, returns: &Returns, factors: &Returns) -> Result<FactorModel> {
        crate::data::require_complete(factors.values(), factors.dates(), factors.assets(), "factor returns")?;
        let (rows_a, rows_f) = overlap(returns.dates(), factors.dates());
        let k = factors.assets().len();
        let t = rows_a.len();
        if t < k + 3 {
            let span = match (rows_a.first(), rows_a.last()) {
                (Some(&a), Some(&b)) => format!("{} → {}", returns.dates()[a], returns.dates()[b]),
                _ => "none".to_string(),
            };
            return Err(Error::TooFewRows {
                operation: format!(
                    "a regression on {k} factors (the asset panel {} → {} and the factor panel {} → {} share {t} dates: {span})",
                    returns.start(),
                    returns.end(),
                    factors.start(),
                    factors.end()
                ),
                needed: k + 3,
                got: t,
            });
        }
        let y = returns.values().select(Axis(0), &rows_a);
        let f = factors.values().select(Axis(0), &rows_f);
        let n = y.ncols();
        // OLS with an intercept: [1, F] β = Y.
        let mut x = Array2::<f64>::ones((t, k + 1));
        x.slice_mut(s![.., 1..]).assign(&f);
        let xtx = x.t().dot(&x);
        let l = crate::linalg::cholesky(xtx.view()).ok_or_else(|| {
            Error::param(
                Param::Factors,
                format!("the factor returns are collinear ({}): drop a redundant factor", factors.assets().join(", ")),
            )
        })?;
        let xty = x.t().dot(&y);
        let mut beta = Array2::<f64>::zeros((k + 1, n));
        for j in 0..n {
            beta.column_mut(j).assign(&crate::linalg::cholesky_solve(&l, &xty.column(j).to_owned()));
        }
        let resid = &y - &x.dot(&beta);
        let dof = (t - k - 1) as f64;
        let specific = resid.map_axis(Axis(0), |c| c.iter().map(|e| e * e).sum::<f64>() / dof);
        let r2 = Array1::from_iter((0..n).map(|j| {
            let col = y.column(j);
            let mean = col.mean().unwrap_or(0.0);
            let sst: f64 = col.iter().map(|v| (v - mean).powi(2)).sum();
            let ssr: f64 = resid.column(j).iter().map(|e| e * e).sum();
            if sst > 0.0 {
                1.0 - ssr / sst
            } else {
                0.0
            }
        }));
        let loadings = beta.slice(s![1.., ..]).t().as_standard_layout().into_owned();
        let aligned = Returns::new(
            rows_f.iter().map(|&i| factors.dates()[i]).collect(),
            factors.assets().to_vec(),
            f.to_owned(),
            factors.kind(),
        )?
        .with_periods_per_year(returns.periods_per_year())?;
        let fm = self.estimator.fit(&aligned)?;
        let kind = format!("regression on {}", factors.assets().join(", "));
        FactorModel::assemble(returns, factors.assets().to_vec(), loadings, fm, specific, Some(r2), None, kind)
    }

    fn pca(&self, returns: &Returns, c: Components) -> Result<FactorModel> {
        let r = returns.values();
        let (t, n) = r.dim();
        let mean = r.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(n));
        let centred = &r - &mean;
        if t < 3 {
            return Err(Error::TooFewRows { operation: "principal components".into(), needed: 3, got: t });
        }
        let variances = centred.map_axis(Axis(0), |c| c.iter().map(|x| x * x).sum::<f64>() / (t as f64 - 1.0));
        let total: f64 = variances.sum();
        let (values, v) = principal_components(&centred, |values| {
            let k = match c {
                Components::Count(k) => k,
                Components::Explained(share) => {
                    if !(share > 0.0 && share <= 1.0) {
                        return Err(Error::param(Param::Explained, format!("must be in (0, 1], got {share}")));
                    }
                    let mut acc = 0.0;
                    values
                        .iter()
                        .position(|v| {
                            acc += v.max(0.0);
                            acc >= share * total - 1e-15 * total
                        })
                        .map_or(n, |i| i + 1)
                }
            };
            if k == 0 || k > n || k >= t || k > values.len() {
                return Err(Error::param(
                    Param::Components,
                    format!("must be in [1, {}] for {n} assets and {t} dates, got {k}", n.min(t.saturating_sub(1))),
                ));
            }
            Ok(k)
        })?;
        let k = v.ncols();
        let scores = centred.dot(&v) + mean.dot(&v);
        let names: Vec<String> = (1..=k).map(|i| format!("PC{i}")).collect();
        // Scores are returns of long-short eigenportfolios, not bounded by
        // −1 like an asset's simple return: the panel skips that check.
        let panel = Returns::from_panel(
            crate::data::Panel::new(returns.dates().to_vec(), names.clone(), scores)?,
            ReturnKind::Simple,
        )
        .with_periods_per_year(returns.periods_per_year())?;
        let fm = self.estimator.fit(&panel)?;
        let explained: Vec<f64> = values.iter().take(k).map(|v| v.max(0.0) / total).collect();
        // Specific variance: what the k components leave on the diagonal.
        // The diagonal of V F Vᵀ, row by row: (V F ∘ V) 1.
        let common = (&v.dot(fm.cov()) * &v).sum_axis(Axis(1));
        let specific = Array1::from_iter((0..n).map(|i| (variances[i] - common[i]).max(0.0)));
        FactorModel::assemble(
            returns,
            names,
            v,
            fm,
            specific,
            None,
            Some(explained),
            format!("{k} principal components"),
        )
    }
}

/// Eigenvalues (descending) of the sample covariance $X^\top X/(T-1)$ of
/// centred returns $X$ (`T × N`), and the unit eigenvectors (columns) of
/// the first `pick(eigenvalues)` of them. With fewer dates than assets the
/// $T \times T$ matrix $XX^\top$ is decomposed instead — the same non-zero
/// eigenvalues, eigenvectors $X^\top u/\sqrt{(T-1)\lambda}$ — which costs
/// $T^3$, not $N^3$, and only the picked vectors are mapped back.
fn principal_components(
    x: &Array2<f64>,
    pick: impl FnOnce(&[f64]) -> Result<usize>,
) -> Result<(Vec<f64>, Array2<f64>)> {
    let (t, n) = x.dim();
    let d = t as f64 - 1.0;
    if t > n {
        let (values, vectors) = crate::linalg::symmetric_eigen(&(crate::linalg::gram(x.view()) / d));
        let k = pick(&values)?;
        return Ok((values, vectors.slice(s![.., ..k]).to_owned()));
    }
    let g = x.dot(&x.t()) / d;
    let (values, u) = crate::linalg::symmetric_eigen(&g);
    let scale = values.iter().cloned().fold(0.0f64, f64::max).max(f64::MIN_POSITIVE);
    // Components with a positive eigenvalue (the centring leaves at most T − 1).
    let m = values.iter().take_while(|&&v| v > 1e-12 * scale).count();
    let values = values[..m].to_vec();
    let k = pick(&values)?;
    let mut v = x.t().dot(&u.slice(s![.., ..k]));
    for (j, mut col) in v.columns_mut().into_iter().enumerate() {
        col /= (d * values[j]).sqrt();
    }
    Ok((values, v))
}

/// The dates two sorted date lists share, as row indices into each.
fn overlap(a: &[chrono::NaiveDate], b: &[chrono::NaiveDate]) -> (Vec<usize>, Vec<usize>) {
    let (mut i, mut j) = (0, 0);
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                ra.push(i);
                rb.push(j);
                i += 1;
                j += 1;
            }
        }
    }
    (ra, rb)
}

/// A fitted factor model: loadings, fit, specific risk, and the
/// [`Moments`] it implies — means $B\mu_F$ (the factors' means mapped
/// through the loadings), covariance $BFB^\top + D$ kept factored, which
/// every variance objective of the optimiser uses as is.
#[derive(Debug, Clone)]
pub struct FactorModel {
    factors: Vec<String>,
    loadings: Array2<f64>,
    r2: Option<Array1<f64>>,
    explained: Option<Vec<f64>>,
    factor_moments: Moments,
    moments: Moments,
}

impl FactorModel {
    /// A time-series regression of the assets' returns on `factors` (any
    /// return panel: the bundled factor ETFs, Fama–French, your own), with
    /// an intercept; specific variances are the residuals' (T − k − 1
    /// degrees of freedom).
    pub fn regression(factors: &Returns) -> FactorModelParams {
        FactorModelParams { source: Source::Regression(factors.clone()), estimator: Moments::sample() }
    }

    /// Statistical factors: the principal components of the sample
    /// covariance (loadings the eigenvectors, factor returns the
    /// projections), `Components::Count(N)` reproducing it exactly.
    pub fn pca(components: Components) -> FactorModelParams {
        FactorModelParams { source: Source::Pca(components), estimator: Moments::sample() }
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        returns: &Returns,
        factors: Vec<String>,
        loadings: Array2<f64>,
        fm: Moments,
        specific: Array1<f64>,
        r2: Option<Array1<f64>>,
        explained: Option<Vec<f64>>,
        kind: String,
    ) -> Result<FactorModel> {
        let form = Factored { loadings: loadings.clone(), factor_cov: fm.cov().clone(), specific };
        let mean = loadings.dot(fm.mean());
        let moments = Moments {
            assets: returns.assets().to_vec(),
            mean,
            cov: form.dense(),
            periods_per_year: returns.periods_per_year(),
            annualized: false,
            method: format!("factor model ({kind}; factor covariance {})", fm.method()),
            factors: Some(std::sync::Arc::new(form)),
            spread: None,
        };
        Ok(FactorModel { factors, loadings, r2, explained, factor_moments: fm, moments })
    }

    /// The moments the model implies (per period; `.annualized()` scales
    /// the factored form too).
    pub fn moments(&self) -> &Moments {
        &self.moments
    }

    /// Factor names.
    pub fn factors(&self) -> &[String] {
        &self.factors
    }

    /// Loadings $B$ (assets × factors).
    pub fn loadings(&self) -> &Array2<f64> {
        &self.loadings
    }

    /// Each asset's $R^2$ (regression models).
    pub fn r_squared(&self) -> Option<&Array1<f64>> {
        self.r2.as_ref()
    }

    /// Each component's share of the total variance (PCA models).
    pub fn explained(&self) -> Option<&[f64]> {
        self.explained.as_deref()
    }

    /// The factors' moments.
    pub fn factor_moments(&self) -> &Moments {
        &self.factor_moments
    }

    /// Loadings, $R^2$ and specific volatility by asset.
    pub fn table(&self) -> Table {
        let mut head = vec!["asset".to_string()];
        head.extend(self.factors.iter().cloned());
        head.push("R²".into());
        head.push("specific vol (annual)".into());
        let mut t = Table::new(head).caption(self.moments.method().to_string());
        let k = self.moments.periods_per_year();
        let d = &self.moments.factors.as_ref().expect("a factor model's moments are factored").specific;
        for (i, a) in self.moments.assets().iter().enumerate() {
            let mut row = vec![Cell::Text(a.clone())];
            row.extend(self.loadings.row(i).iter().map(|v| Cell::Num(*v, 3)));
            row.push(self.r2.as_ref().map_or(Cell::Text("–".into()), |r| Cell::Pct(r[i], 1)));
            row.push(Cell::Pct((d[i] * k).sqrt(), 1));
            t.push(row);
        }
        t
    }

    /// The loadings as a heatmap (assets × factors).
    pub fn plot_loadings(&self) -> Plot {
        let title = format!("Loadings: {}", self.moments.method());
        // Loadings are not bounded by ±1: the scale reaches the largest.
        let top = self.loadings.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        crate::plot::labelled_heatmap(&title, &self.factors, self.moments.assets(), self.loadings.view(), top)
    }
}

crate::shows_as_table!(FactorModel);
