//! Cost models: what they are ([`CostModel`]) and what they charge on a
//! trade and on a holding ([`Charges`], prepared once per panel).

use crate::parameter::{Market as Param, Parameter};
use std::sync::Arc;

use chrono::NaiveDate;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::data::{Panel, Prices, Volumes};
use crate::error::{Error, Result};

/// The cost components, in the order every attribution reports them.
pub const COST_COMPONENTS: [&str; N_COSTS] = ["proportional", "per share", "fixed", "impact", "borrow"];

/// Number of cost components.
pub(crate) const N_COSTS: usize = 5;

/// Calendar days in a year, for per-period holding costs.
const DAYS_PER_YEAR: f64 = 365.24;

/// A non-negative rate for each asset: one for all, one per asset, or one
/// per date and asset (a panel, aligned by date and asset name; `NaN`
/// where the asset is not in the universe).
///
/// ```
/// use assetalloc::market::AssetRates;
/// let half_spread = AssetRates::per_asset(&[("A", 0.0005), ("B", 0.002)]);
/// let everywhere = AssetRates::constant(0.001);
/// # let _ = (half_spread, everywhere);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AssetRates(Rates);

#[derive(Debug, Clone, PartialEq)]
enum Rates {
    Constant(f64),
    PerAsset(Vec<(String, f64)>),
    Panel(Arc<Panel>),
}

impl AssetRates {
    /// The same rate for every asset and date.
    pub fn constant(rate: f64) -> Self {
        AssetRates(Rates::Constant(rate))
    }

    /// One rate per asset, by name; every asset traded needs one.
    pub fn per_asset<S: AsRef<str>>(rates: &[(S, f64)]) -> Self {
        AssetRates(Rates::PerAsset(rates.iter().map(|(a, v)| (a.as_ref().to_string(), *v)).collect()))
    }

    /// One rate per date and asset; it must cover every date and asset of
    /// the backtest (extra dates and assets are ignored).
    pub fn panel(rates: &Panel) -> Self {
        AssetRates(Rates::Panel(Arc::new(rates.clone())))
    }

    /// The rates on the backtest's dates and assets, each checked to be in
    /// `0 ..= max` (`NaN` allowed in a panel: checked where it is used).
    fn resolve(&self, param: Param, what: &str, max: f64, dates: &[NaiveDate], assets: &[String]) -> Result<Resolved> {
        let check = |asset: &str, date: Option<NaiveDate>, v: f64| -> Result<()> {
            if v.is_nan() && date.is_some() {
                return Ok(());
            }
            if v >= 0.0 && v <= max {
                return Ok(());
            }
            let reason = format!("a {what} rate must be in 0 ..= {max}, got {v}");
            match date {
                Some(date) => Err(Error::InvalidValue { asset: asset.to_string(), date, value: v, reason }),
                None => Err(Error::param(param, format!("of {asset:?} must be in 0 ..= {max}, got {v}"))),
            }
        };
        match &self.0 {
            Rates::Constant(v) => {
                check("every asset", None, *v)?;
                Ok(Resolved::Constant(*v))
            }
            Rates::PerAsset(pairs) => {
                Error::unique(param, pairs.iter().map(|(a, _)| a))?;
                if let Some((a, _)) = pairs.iter().find(|(a, _)| !assets.contains(a)) {
                    return Err(Error::UnknownAsset { name: a.clone(), available: assets.to_vec() });
                }
                let v = assets
                    .iter()
                    .map(|a| match pairs.iter().find(|(x, _)| x == a) {
                        Some((_, v)) => check(a, None, *v).map(|()| *v),
                        None => Err(Error::param(
                            param,
                            format!("names no rate for asset {a:?}; give one for every asset of the panel"),
                        )),
                    })
                    .collect::<Result<Array1<f64>>>()?;
                Ok(Resolved::PerAsset(v))
            }
            Rates::Panel(p) => {
                let m = align(p, param, &format!("{what} panel"), dates, assets)?;
                for ((t, j), v) in m.indexed_iter() {
                    check(&assets[j], Some(dates[t]), *v)?;
                }
                Ok(Resolved::Rows(m))
            }
        }
    }
}

/// A rate resolved on the backtest's rows and assets.
#[derive(Debug, Clone)]
enum Resolved {
    Constant(f64),
    PerAsset(Array1<f64>),
    Rows(Array2<f64>),
}

impl Resolved {
    #[inline]
    fn at(&self, row: usize, i: usize) -> f64 {
        match self {
            Resolved::Constant(v) => *v,
            Resolved::PerAsset(v) => v[i],
            Resolved::Rows(m) => m[[row, i]],
        }
    }
}

/// The panel's values on `dates` × `assets`, by date and name; an error
/// names the first date or asset it lacks (`what` names the panel, `param`
/// the setter that gave it).
pub(crate) fn align(
    panel: &Panel,
    param: impl Into<Parameter> + Copy,
    what: &str,
    dates: &[NaiveDate],
    assets: &[String],
) -> Result<Array2<f64>> {
    let cols = assets
        .iter()
        .map(|a| {
            panel.assets().iter().position(|x| x == a).ok_or_else(|| {
                Error::param(
                    param,
                    format!("needs a column for asset {a:?} in its {what}; it holds {:?}", panel.assets()),
                )
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let (pd, v) = (panel.dates(), panel.values());
    let mut out = Array2::zeros((dates.len(), assets.len()));
    for (t, d) in dates.iter().enumerate() {
        let row = pd.binary_search(d).map_err(|_| {
            Error::param(
                param,
                format!(
                    "needs a row for {d} in its {what}: it must cover every date of the backtest ({} ..= {}); it spans {} ..= {}",
                    dates[0],
                    dates[dates.len() - 1],
                    pd[0],
                    pd[pd.len() - 1]
                ),
            )
        })?;
        for (j, &c) in cols.iter().enumerate() {
            out[[t, j]] = v[[row, c]];
        }
    }
    Ok(out)
}

/// Market impact, $b\,\sigma_i\,|x_i|^{3/2} / \bar V_i^{1/2}$ on the traded
/// value $x_i$ (see the [module docs](super)).
#[derive(Debug, Clone, PartialEq)]
pub struct Impact {
    coefficient: f64,
    volumes: Arc<Panel>,
    sigma_window: usize,
    volume_window: usize,
}

impl Impact {
    /// Impact with coefficient $b$ (≥ 0, typically about 1) and the traded
    /// volumes in currency; $\sigma$ over the last 252 periods, $\bar V$
    /// the decision date's own volume.
    pub fn new(coefficient: f64, volumes: &Volumes) -> Self {
        Impact { coefficient, volumes: Arc::new(volumes.panel().clone()), sigma_window: 252, volume_window: 1 }
    }

    /// Periods of returns in $\sigma$ (≥ 1; default 252).
    pub fn sigma_window(mut self, n: usize) -> Self {
        self.sigma_window = n;
        self
    }

    /// Periods of volume averaged in $\bar V$ (≥ 1; default 1, the
    /// decision date's own volume).
    pub fn volume_window(mut self, n: usize) -> Self {
        self.volume_window = n;
        self
    }
}

/// Per-share commission with a minimum per order.
#[derive(Debug, Clone, PartialEq)]
struct PerShare {
    rate: f64,
    minimum: f64,
    prices: Arc<Panel>,
}

/// What trading and holding cost: proportional, per share, fixed per
/// order, market impact and borrow fees, each reported separately (see the
/// [module docs](super) for the formulas). The default charges nothing.
///
/// ```
/// use assetalloc::prelude::*;
/// use assetalloc::market::{AssetRates, CostModel, Impact};
/// let m = Synthetic::params().assets(4).days(400).volumes(5e7).generate()?;
/// let costs = CostModel::bps(5.0)
///     .impact(Impact::new(1.0, m.volumes.as_ref().unwrap()))
///     .borrow(AssetRates::constant(0.03));
/// let cmp = Backtest::params().lookback(63).costs(costs).run(&m.prices, vec![])?;
/// let paid = cmp.reports[0].costs_by_component();
/// assert!(paid[0] > 0.0 && paid[3] > 0.0); // proportional and impact
/// # Ok::<(), assetalloc::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostModel {
    proportional: Option<AssetRates>,
    per_share: Option<PerShare>,
    fixed: f64,
    impact: Option<Impact>,
    borrow: Option<AssetRates>,
}

impl CostModel {
    /// No costs.
    pub fn new() -> Self {
        CostModel::default()
    }

    /// A constant proportional cost in basis points of the value traded.
    pub fn bps(bps: f64) -> Self {
        CostModel::new().proportional(AssetRates::constant(bps / 1e4))
    }

    /// Proportional cost as a fraction of the value traded (≤ 1), e.g. the
    /// half-spread plus fees.
    pub fn proportional(mut self, rates: AssetRates) -> Self {
        self.proportional = Some(rates);
        self
    }

    /// A commission of `per_share` for each share traded, at least
    /// `minimum` per order, on the decision date's `prices`.
    pub fn per_share(mut self, per_share: f64, minimum: f64, prices: &Prices) -> Self {
        self.per_share = Some(PerShare { rate: per_share, minimum, prices: Arc::new(prices.panel().clone()) });
        self
    }

    /// A fixed amount per order, in currency.
    pub fn fixed(mut self, per_order: f64) -> Self {
        self.fixed = per_order;
        self
    }

    /// Market impact.
    pub fn impact(mut self, impact: Impact) -> Self {
        self.impact = Some(impact);
        self
    }

    /// Annual borrow fees on short positions (fractions: 0.05 is 5 % a year).
    pub fn borrow(mut self, annual: AssetRates) -> Self {
        self.borrow = Some(annual);
        self
    }

    /// The costs on a panel's dates and assets, from its simple returns
    /// `r` (for the impact's $\sigma$).
    pub(crate) fn prepare(
        &self,
        dates: &[NaiveDate],
        assets: &[String],
        r: ArrayView2<'_, f64>,
        periods_per_year: f64,
    ) -> Result<Charges> {
        let proportional = self
            .proportional
            .as_ref()
            .map(|a| a.resolve(Param::Proportional, "proportional cost", 1.0, dates, assets))
            .transpose()?;
        let borrow = self
            .borrow
            .as_ref()
            .map(|a| a.resolve(Param::Borrow, "borrow fee", f64::INFINITY, dates, assets))
            .transpose()?;
        if !(self.fixed >= 0.0 && self.fixed.is_finite()) {
            return Err(Error::param(Param::Fixed, format!("must be ≥ 0 per order, got {}", self.fixed)));
        }
        let per_share = match &self.per_share {
            None => None,
            Some(p) => {
                for (name, v) in [("rate", p.rate), ("minimum per order", p.minimum)] {
                    if !(v >= 0.0 && v.is_finite()) {
                        return Err(Error::param(Param::PerShare, format!("{name} must be ≥ 0, got {v}")));
                    }
                }
                Some((p.rate, p.minimum, align(&p.prices, Param::PerShare, "price panel", dates, assets)?))
            }
        };
        let impact = match &self.impact {
            None => None,
            Some(i) => {
                if !(i.coefficient >= 0.0 && i.coefficient.is_finite()) {
                    return Err(Error::param(Param::Impact, format!("coefficient must be ≥ 0, got {}", i.coefficient)));
                }
                for (name, n) in [("sigma_window", i.sigma_window), ("volume_window", i.volume_window)] {
                    if n < 1 {
                        return Err(Error::param(Param::Impact, format!("{name} must be ≥ 1, got 0")));
                    }
                }
                let volumes = align(&i.volumes, Param::Impact, "volume panel", dates, assets)?;
                let sigma = rolling_mean(r, i.sigma_window, |x| x * x).mapv(f64::sqrt);
                let volume = rolling_mean(volumes.view(), i.volume_window, |x| x);
                Some(PreparedImpact { b: i.coefficient, sigma, volume, raw: volumes })
            }
        };
        let years = (0..dates.len())
            .map(|t| match t {
                0 => 1.0 / periods_per_year,
                _ => (dates[t] - dates[t - 1]).num_days() as f64 / DAYS_PER_YEAR,
            })
            .collect();
        Ok(Charges {
            proportional,
            per_share,
            fixed: self.fixed,
            impact,
            borrow,
            years,
            dates: dates.to_vec(),
            assets: assets.to_vec(),
        })
    }
}

/// Mean of `f(x)` over the finite values among the last `window` rows up
/// to and including each row (`NaN` where there are none).
fn rolling_mean(x: ArrayView2<'_, f64>, window: usize, f: impl Fn(f64) -> f64) -> Array2<f64> {
    let (rows, n) = x.dim();
    let mut out = Array2::from_elem((rows, n), f64::NAN);
    for j in 0..n {
        let (mut sum, mut count) = (0.0, 0usize);
        for t in 0..rows {
            let v = x[[t, j]];
            if v.is_finite() {
                sum += f(v);
                count += 1;
            }
            if t >= window {
                let old = x[[t - window, j]];
                if old.is_finite() {
                    sum -= f(old);
                    count -= 1;
                }
            }
            if count > 0 {
                out[[t, j]] = sum / count as f64;
            }
        }
    }
    out
}

struct PreparedImpact {
    b: f64,
    sigma: Array2<f64>,
    volume: Array2<f64>,
    /// The volumes as given, to name the value in an error.
    raw: Array2<f64>,
}

/// What trading costs at one decision date, per unit of weight traded
/// (fractions of the portfolio's value): the convex part of a
/// [`CostModel`], in the form an optimiser prices trades with. A trade of
/// weight $z_i$ costs $a_i\lvert z_i\rvert + c_i\lvert z_i\rvert^{3/2}$,
/// and a short weight $w_i < 0$ costs $s_i\lvert w_i\rvert$ a year.
///
/// From a cost model at the close of a date with portfolio value $V$:
/// $a_i$ is the proportional rate plus the per-share rate over the price,
/// $c_i = b\,\sigma_i\sqrt{V/\bar V_i}$ (the impact in weights), $s_i$ the
/// annual borrow fee. The minimum per order and the fixed cost per order
/// are not convex in the trade and are left out (they are charged in
/// simulation all the same).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TradeCosts {
    /// $a_i$: cost per unit of weight traded, per asset.
    pub linear: Option<Vec<f64>>,
    /// $c_i$: coefficient of $\lvert z_i\rvert^{3/2}$, per asset.
    pub impact: Option<Vec<f64>>,
    /// $s_i$: annual fee per unit of short weight, per asset.
    pub borrow: Option<Vec<f64>>,
    /// Each asset's mean traded volume over the portfolio's value
    /// ($\bar V_i / V$), where the model knows volumes: a trade-size limit
    /// as a share of volume is this times the share.
    pub volume: Option<Vec<f64>>,
}

impl TradeCosts {
    /// The same proportional cost for each of `n` assets, in basis points.
    pub fn bps(bps: f64, n: usize) -> Self {
        TradeCosts { linear: Some(vec![bps / 1e4; n]), ..TradeCosts::default() }
    }

    /// Whether any component costs anything.
    pub fn is_zero(&self) -> bool {
        [&self.linear, &self.impact, &self.borrow]
            .iter()
            .all(|c| c.as_ref().is_none_or(|v| v.iter().all(|&x| x == 0.0)))
    }
}

/// A cost model prepared on one panel's rows: what a trade or a holding
/// costs, component by component, in currency.
pub(crate) struct Charges {
    proportional: Option<Resolved>,
    per_share: Option<(f64, f64, Array2<f64>)>,
    fixed: f64,
    impact: Option<PreparedImpact>,
    borrow: Option<Resolved>,
    /// Length in years of the period that ends at each row.
    years: Vec<f64>,
    dates: Vec<NaiveDate>,
    assets: Vec<String>,
}

impl Charges {
    /// No costs on `rows` rows.
    #[cfg(feature = "optimize")]
    pub(crate) fn none(rows: usize) -> Charges {
        Charges {
            proportional: None,
            per_share: None,
            fixed: 0.0,
            impact: None,
            borrow: None,
            years: vec![0.0; rows],
            dates: Vec::new(),
            assets: Vec::new(),
        }
    }

    /// Whether holding positions can cost anything.
    pub(crate) fn charges_holdings(&self) -> bool {
        self.borrow.is_some()
    }

    fn invalid(&self, i: usize, row: usize, value: f64, reason: &str) -> Error {
        Error::InvalidValue { asset: self.assets[i].clone(), date: self.dates[row], value, reason: reason.into() }
    }

    /// The proportional rate of asset `i` at `row`, where the model has one.
    fn rate_at(&self, row: usize, i: usize) -> Result<Option<f64>> {
        let Some(rates) = &self.proportional else { return Ok(None) };
        let c = rates.at(row, i);
        if c.is_nan() {
            return Err(self.invalid(
                i,
                row,
                c,
                "the proportional cost panel has no rate for an asset traded or priced",
            ));
        }
        Ok(Some(c))
    }

    /// The annual borrow fee of asset `i` at `row`, where the model has one.
    fn fee_at(&self, row: usize, i: usize) -> Result<Option<f64>> {
        let Some(fees) = &self.borrow else { return Ok(None) };
        let f = fees.at(row, i);
        if f.is_nan() {
            return Err(self.invalid(i, row, f, "the borrow fee panel has no fee for an asset held short or priced"));
        }
        Ok(Some(f))
    }

    /// The per-share rate, minimum and price of asset `i` at `row`, where
    /// the model has a per-share cost.
    fn per_share_at(&self, row: usize, i: usize) -> Result<Option<(f64, f64, f64)>> {
        let Some((rate, minimum, prices)) = &self.per_share else { return Ok(None) };
        let p = prices[[row, i]];
        if !(p > 0.0 && p.is_finite()) {
            return Err(self.invalid(
                i,
                row,
                p,
                "the per-share cost needs a positive price for an asset traded or priced",
            ));
        }
        Ok(Some((*rate, *minimum, p)))
    }

    /// The impact coefficient, $\sigma$ and mean volume of asset `i` at
    /// `row`, where the model has market impact.
    fn impact_at(&self, row: usize, i: usize) -> Result<Option<(f64, f64, f64)>> {
        let Some(imp) = &self.impact else { return Ok(None) };
        let (s, v) = (imp.sigma[[row, i]], imp.volume[[row, i]]);
        if !(v > 0.0 && v.is_finite()) {
            return Err(self.invalid(
                i,
                row,
                imp.raw[[row, i]],
                "the market-impact cost needs a positive volume for an asset traded or priced; the volume is zero or missing",
            ));
        }
        if !s.is_finite() {
            return Err(self.invalid(
                i,
                row,
                s,
                "the market-impact cost needs past returns of an asset traded or priced",
            ));
        }
        Ok(Some((imp.b, s, v)))
    }

    /// The convex costs of trading the assets `cols` at the close of `row`
    /// for a portfolio worth `value`, per unit of weight (see
    /// [`TradeCosts`]). An asset without the rate, price, volume or past
    /// returns a component needs is an error naming it.
    pub(crate) fn pricing(&self, row: usize, cols: &[usize], value: f64) -> Result<TradeCosts> {
        let mut out = TradeCosts::default();
        if self.proportional.is_some() || self.per_share.is_some() {
            let mut linear = Vec::with_capacity(cols.len());
            for &i in cols {
                let a = self.rate_at(row, i)?.unwrap_or(0.0);
                let b = self.per_share_at(row, i)?.map_or(0.0, |(rate, _, p)| rate / p);
                linear.push(a + b);
            }
            out.linear = Some(linear);
        }
        if self.impact.is_some() {
            if !(value > 0.0 && value.is_finite()) {
                return Err(Error::param(
                    Param::PortfolioValue,
                    format!("must be positive to price market impact, got {value}"),
                ));
            }
            let (mut c, mut volume) = (Vec::with_capacity(cols.len()), Vec::with_capacity(cols.len()));
            for &i in cols {
                if let Some((b, s, v)) = self.impact_at(row, i)? {
                    c.push(b * s * (value / v).sqrt());
                    volume.push(v / value);
                }
            }
            out.impact = Some(c);
            out.volume = Some(volume);
        }
        if self.borrow.is_some() {
            out.borrow = Some(cols.iter().map(|&i| Ok(self.fee_at(row, i)?.unwrap_or(0.0))).collect::<Result<_>>()?);
        }
        Ok(out)
    }

    /// Adds to `out` the costs of the trades `u` (currency) at the close of
    /// `row`; a trade counts as an order when $|u_i| > $ `min_order`.
    pub(crate) fn trade(
        &self,
        row: usize,
        u: ArrayView1<'_, f64>,
        min_order: f64,
        out: &mut [f64; N_COSTS],
    ) -> Result<()> {
        for (i, &x) in u.iter().enumerate() {
            let a = x.abs();
            if !(a > min_order) {
                continue;
            }
            if let Some(c) = self.rate_at(row, i)? {
                out[0] += c * a;
            }
            if let Some((rate, minimum, p)) = self.per_share_at(row, i)? {
                out[1] += (rate * a / p).max(minimum);
            }
            out[2] += self.fixed;
            if let Some((b, s, v)) = self.impact_at(row, i)? {
                out[3] += b * s * a * a.sqrt() / v.sqrt();
            }
        }
        Ok(())
    }

    /// Adds to `out` the cost of holding `h` (currency, after the trade of
    /// the close of `decision`) over the period that ends at row `row`.
    pub(crate) fn hold(
        &self,
        decision: usize,
        row: usize,
        h: ArrayView1<'_, f64>,
        out: &mut [f64; N_COSTS],
    ) -> Result<()> {
        if self.borrow.is_none() {
            return Ok(());
        }
        let years = self.years[row];
        for (i, &x) in h.iter().enumerate() {
            if x < 0.0 {
                if let Some(s) = self.fee_at(decision, i)? {
                    out[4] += -x * ((1.0 + s).powf(years) - 1.0);
                }
            }
        }
        Ok(())
    }
}
