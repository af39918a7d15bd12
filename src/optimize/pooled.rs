//! A portfolio's return distribution on pooled scenarios: what the views
//! make of its risk, beside the scenarios taken as equally likely.

use ndarray::Array1;

use super::RiskMeasure;
use crate::display::{Cell, Table};
use crate::error::{Error, Result};
use crate::estimate::EntropyPooled;

/// One measure of a portfolio's per-period returns, under the posterior
/// probabilities and with every scenario equally likely.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    /// The measure's name.
    pub name: &'static str,
    /// Its value under the posterior probabilities.
    pub posterior: f64,
    /// Its value with the scenarios equally likely.
    pub equally_likely: f64,
    /// Shown as a percentage (a return or a loss) rather than a ratio.
    percent: bool,
}

/// The measures of a portfolio's per-period scenario returns under the
/// posterior of an entropy pooling and with the scenarios equally likely
/// (from [`EntropyPooled::profile`]). Dispersion and tail measures are
/// those [`RiskMeasure::of_weighted`] defines; skewness and kurtosis are
/// the weighted standardised third and fourth central moments (kurtosis
/// not in excess); Sharpe and Sortino ratios are the mean over the
/// standard and semi-deviation, risk-free rate 0, per period.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioProfile {
    /// The measures, in the table's order.
    pub rows: Vec<ProfileRow>,
    effective_scenarios: f64,
    scenarios: usize,
}

impl ScenarioProfile {
    /// The row named `name` (e.g. `"CVaR 95 %"`).
    pub fn get(&self, name: &str) -> Option<&ProfileRow> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The measures side by side.
    pub fn table(&self) -> Table {
        let mut t = Table::new(["measure (per period)", "posterior", "equally likely"]).caption(format!(
            "Portfolio on pooled scenarios · {:.0} effective of {} scenarios (in-sample)",
            self.effective_scenarios, self.scenarios
        ));
        for r in &self.rows {
            let cell = |v: f64| if r.percent { Cell::Pct(v, 3) } else { Cell::Num(v, 3) };
            t.push(vec![Cell::from(r.name), cell(r.posterior), cell(r.equally_likely)]);
        }
        t
    }
}

crate::shows_as_table!(ScenarioProfile);

/// Each measure of the returns `y` with scenario probabilities `p`.
fn measures(y: &[f64], p: &[f64]) -> Result<Vec<(&'static str, f64, bool)>> {
    let of = |m: RiskMeasure| m.of_weighted(y, p);
    let mean: f64 = y.iter().zip(p).map(|(r, q)| r * q).sum();
    let central = |k: i32| y.iter().zip(p).map(|(r, q)| q * (r - mean).powi(k)).sum::<f64>();
    let m2 = central(2);
    let (std, semi) = (of(RiskMeasure::StandardDeviation)?, of(RiskMeasure::SemiDeviation)?);
    Ok(vec![
        ("mean", mean, true),
        ("volatility", std, true),
        ("semi-deviation", semi, true),
        ("mean absolute deviation", of(RiskMeasure::MeanAbsoluteDeviation)?, true),
        ("VaR 95 %", of(RiskMeasure::ValueAtRisk { beta: 0.95 })?, true),
        ("CVaR 95 %", of(RiskMeasure::Cvar { beta: 0.95 })?, true),
        ("EVaR 95 %", of(RiskMeasure::Evar { beta: 0.95 })?, true),
        ("worst realisation", of(RiskMeasure::WorstRealization)?, true),
        ("skewness", central(3) / m2.powf(1.5), false),
        ("kurtosis", central(4) / (m2 * m2), false),
        ("Sharpe ratio", mean / std, false),
        ("Sortino ratio", mean / semi, false),
    ])
}

impl EntropyPooled {
    /// The measures of the portfolio `weights` (one per asset, in the
    /// pooling's order) on these scenarios, under the posterior and with
    /// the scenarios equally likely: how the views change its risk. The
    /// weights must be finite; a portfolio whose returns do not vary is an
    /// error (its ratios and moments are undefined).
    pub fn profile(&self, weights: &Array1<f64>) -> Result<ScenarioProfile> {
        let x = self.scenarios();
        if weights.len() != x.ncols() {
            return Err(Error::Shape(format!("{} weights for {} assets", weights.len(), x.ncols())));
        }
        if let Some((i, w)) = weights.iter().enumerate().find(|(_, w)| !w.is_finite()) {
            return Err(Error::param(
                crate::parameter::Optimize::Weights,
                format!("of asset {i} is {w}; give finite weights"),
            ));
        }
        let y = x.dot(weights).to_vec();
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        if y.iter().all(|r| (r - mean).abs() <= 1e-15 * mean.abs().max(f64::MIN_POSITIVE)) {
            return Err(Error::param(
                crate::parameter::Optimize::Weights,
                "give a portfolio whose scenario returns vary: these are all equal, so its moments and ratios are undefined",
            ));
        }
        let p = self.probabilities().to_vec();
        let equal = vec![1.0 / y.len() as f64; y.len()];
        let rows = measures(&y, &p)?
            .into_iter()
            .zip(measures(&y, &equal)?)
            .map(|((name, posterior, percent), (_, equally_likely, _))| ProfileRow {
                name,
                posterior,
                equally_likely,
                percent,
            })
            .collect();
        Ok(ScenarioProfile { rows, effective_scenarios: self.effective_scenarios(), scenarios: y.len() })
    }
}
