//! Holding optimised portfolios through a later period, beside 1/N.

use ndarray::Array2;

use super::Allocation;
use crate::data::{ReturnKind, Returns, Summary};
use crate::display::Table;
use crate::error::{Error, Result};

/// Portfolios bought at the start of a test period and held (no trading
/// after the purchase, so no costs beyond it, the same for every
/// portfolio), with equal weight (1/N) always included as the baseline.
///
/// The buy-and-hold wealth of weights $w$ is
/// $W_t = \sum_i w_i \prod_{s \le t} (1 + R_{i,s})$; its statistics come
/// from [`Summary`].
#[derive(Debug, Clone)]
pub struct OutOfSample {
    /// Daily simple returns of each held portfolio (one column each).
    pub returns: Returns,
    /// Their statistics.
    pub summary: Summary,
}

impl OutOfSample {
    /// Holds each allocation (and 1/N) through `test`.
    pub fn hold(allocations: &[&Allocation], test: &Returns) -> Result<OutOfSample> {
        let simple = test.to_kind(ReturnKind::Simple);
        let r = simple.values();
        let (t, n) = r.dim();
        if r.iter().any(|v| !v.is_finite()) {
            return Err(Error::param("test returns", "must have a value for every asset on every date"));
        }
        let mut names = vec!["1/N (equal weight)".to_string()];
        let mut weights = vec![vec![1.0 / n as f64; n]];
        for a in allocations {
            if a.assets() != test.assets() {
                return Err(Error::Shape(format!(
                    "allocation {:?} is over {:?}, the test panel has {:?}",
                    a.objective(),
                    a.assets(),
                    test.assets()
                )));
            }
            let mut name = a.objective().to_string();
            while names.contains(&name) {
                name.push('′');
            }
            names.push(name);
            weights.push(a.weights().to_vec());
        }
        let mut out = Array2::<f64>::zeros((t, names.len()));
        for (k, w) in weights.iter().enumerate() {
            // Value of each holding, starting from the weights.
            let mut v = w.clone();
            let mut wealth: f64 = v.iter().sum();
            for s in 0..t {
                for i in 0..n {
                    v[i] *= 1.0 + r[[s, i]];
                }
                let next: f64 = v.iter().sum();
                out[[s, k]] = next / wealth - 1.0;
                wealth = next;
            }
        }
        let returns = Returns::new(test.dates().to_vec(), names, out, ReturnKind::Simple)?
            .with_periods_per_year(test.periods_per_year())?;
        let summary = returns.summary();
        Ok(OutOfSample { returns, summary })
    }

    /// The statistics as a table.
    pub fn table(&self) -> Table {
        self.summary.table().caption(format!(
            "Out of sample: bought on {} and held to {} (no rebalancing, so no further costs); 1/N is the baseline",
            self.returns.start(),
            self.returns.end()
        ))
    }

    /// Growth of 100 for each held portfolio.
    pub fn plot_equity(&self) -> Result<plotly::Plot> {
        Ok(self.returns.to_prices(100.0)?.plot_normalized(false))
    }
}

crate::shows_as_table!(OutOfSample);
