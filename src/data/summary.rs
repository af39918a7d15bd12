//! Per-asset descriptive statistics of a panel.

use chrono::NaiveDate;

use super::{Prices, Returns};
use crate::display::{Cell, Table};
use crate::portfolio::Metrics;

/// Annualised statistics of one asset over the panel's span, from the same
/// [`Metrics`] that measure every portfolio.
///
/// With $R_t$ the simple returns and $k$ periods per year:
/// mean $= k\,\bar R$, volatility $= \sqrt{k}\, s_R$, Sharpe $=$ mean /
/// volatility (zero risk-free rate), CAGR $= W_T^{k/n} - 1$ for the wealth
/// $W$ compounded over $n$ returns, skew and excess kurtosis of $R$ (see
/// [`crate::stats`]), maximum drawdown of $W$ with its peak and trough dates.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetStats {
    /// Asset name.
    pub asset: String,
    /// First date with a return.
    pub start: NaiveDate,
    /// Number of returns.
    pub observations: usize,
    /// Annualised arithmetic mean return.
    pub mean: f64,
    /// Annualised volatility.
    pub volatility: f64,
    /// Mean / volatility.
    pub sharpe: f64,
    /// Compound annual growth rate.
    pub cagr: f64,
    /// Skewness of periodic returns.
    pub skew: f64,
    /// Excess kurtosis of periodic returns.
    pub kurtosis: f64,
    /// Maximum drawdown (positive fraction).
    pub max_drawdown: f64,
    /// Peak and trough dates of the maximum drawdown.
    pub drawdown_dates: Option<(NaiveDate, NaiveDate)>,
}

/// Statistics for every asset of a panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// One entry per asset, in panel order.
    pub assets: Vec<AssetStats>,
    /// Annualisation factor used.
    pub periods_per_year: f64,
    /// First and last date of the returns.
    pub span: (NaiveDate, NaiveDate),
}

impl Summary {
    /// From returns; `prices` (when the returns came from them) adds the
    /// first price date to the drawdown path so a fall on day one counts.
    pub(crate) fn compute(returns: &Returns, prices: Option<&Prices>) -> Summary {
        let simple = returns.as_simple();
        let v = simple.values();
        let k = returns.periods_per_year();
        let dates = returns.dates();
        let mut out = Vec::with_capacity(returns.n_assets());
        for (j, name) in returns.assets().iter().enumerate() {
            let r = v.column(j).to_vec();
            let first = r.iter().position(|x| !x.is_nan()).unwrap_or(0);
            // The wealth before the first return is dated at the price before it.
            let start = prices.map_or(dates[first], |p| p.dates()[first]);
            let m = Metrics::compute_from(&r[first..], &dates[first..], Some(start), k, 0.0);
            out.push(AssetStats {
                asset: name.clone(),
                start: dates[first],
                observations: m.periods,
                mean: m.mean,
                volatility: m.volatility,
                sharpe: if m.volatility > 0.0 { m.sharpe } else { f64::NAN },
                cagr: m.cagr,
                skew: m.skew,
                kurtosis: m.kurtosis,
                max_drawdown: m.max_drawdown,
                drawdown_dates: m.drawdown_dates,
            });
        }
        Summary { assets: out, periods_per_year: k, span: (returns.start(), returns.end()) }
    }

    /// Statistics of one asset.
    pub fn get(&self, asset: &str) -> Option<&AssetStats> {
        self.assets.iter().find(|a| a.asset == asset)
    }

    /// The summary as a table.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "asset",
            "start",
            "obs",
            "mean",
            "vol",
            "Sharpe",
            "CAGR",
            "skew",
            "ex. kurt",
            "max DD",
            "DD peak → trough",
        ])
        .caption(format!(
            "Annualised statistics ({} periods/year, zero risk-free rate), {} → {}",
            self.periods_per_year, self.span.0, self.span.1
        ));
        for a in &self.assets {
            t.push(vec![
                Cell::from(a.asset.as_str()),
                Cell::from(a.start.to_string()),
                Cell::Int(a.observations as i64),
                Cell::Pct(a.mean, 1),
                Cell::Pct(a.volatility, 1),
                Cell::Num(a.sharpe, 2),
                Cell::Pct(a.cagr, 1),
                Cell::Num(a.skew, 2),
                Cell::Num(a.kurtosis, 1),
                Cell::Pct(a.max_drawdown, 1),
                Cell::from(a.drawdown_dates.map_or(String::new(), |(p, t)| format!("{p} → {t}"))),
            ]);
        }
        t.capped(60)
    }
}

crate::shows_as_table!(Summary);
