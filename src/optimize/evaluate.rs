//! Holding optimised portfolios through a later period, beside 1/N.

use super::Allocation;
use crate::data::Returns;
use crate::error::{Error, Result};
use crate::market::Charges;
use crate::portfolio::{simulate, Cash, Market, Population, Portfolio, EQUAL_WEIGHT};

/// Portfolios bought at the start of a test period and held: no trading
/// after the purchase, so no costs beyond it, the same for every portfolio.
/// Equal weight (1/N) is always included as the baseline.
pub struct OutOfSample;

impl OutOfSample {
    /// Holds each allocation (and 1/N) through `test`: the weights are set
    /// before its first date and drift with prices after, through the same
    /// simulation as the walk-forward backtest. The result is a
    /// [`Population`] with the same measures and verdicts against 1/N.
    pub fn hold(allocations: &[&Allocation], test: &Returns) -> Result<Population> {
        let simple = test.as_simple();
        let r = simple.values();
        let n = r.ncols();
        crate::data::require_complete(
            r,
            test.dates(),
            test.assets(),
            "holding needs every asset on every test date; start the test period when all assets exist",
        )?;
        let mut names = vec![EQUAL_WEIGHT.to_string()];
        let mut weights = vec![ndarray::Array1::from_elem(n, 1.0 / n as f64)];
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
            weights.push(a.weights().clone());
        }
        let start = test.start();
        let charges = Charges::none(r.nrows());
        let market =
            Market { charges: &charges, capital: 1.0, cash: Cash::Constant(0.0), delisting: None, universe: None };
        let rows: Vec<usize> = (0..r.nrows()).collect();
        let reports = names
            .into_iter()
            .zip(weights)
            .map(|(name, w)| {
                let mut once = Some(w);
                let path = simulate(r, &rows, 0, &market, |_, _, _, _| Ok(once.take().map(|w| (start, w))))?;
                Ok(Portfolio::new(
                    name,
                    test.assets().to_vec(),
                    test.dates().to_vec(),
                    path,
                    1.0,
                    test.periods_per_year(),
                    0.0,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Population::new(
            reports,
            format!(
                "Out of sample: bought before {start} and held to {} (no rebalancing, so no further costs)",
                test.end()
            ),
        ))
    }
}
