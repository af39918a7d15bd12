//! Judging a forecaster on its test block against naive forecasts.

use chrono::NaiveDate;
use ndarray::Array2;

use super::model::Scaler;
use crate::data::Returns;
use crate::display::{Cell, Table};
use crate::stats;

/// Out-of-sample scores of one forecaster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Mean squared error (return units²).
    pub mse: f64,
    /// $1 - \mathrm{MSE}/\mathrm{MSE}_{hist}$ (historical-mean forecast).
    pub r2: f64,
    /// Share of forecasts with the outcome's sign (zero forecasts and zero
    /// outcomes excluded; NaN for a forecast that is always zero).
    pub hit_rate: f64,
    /// Pearson correlation of forecast and outcome, pooled.
    pub pearson: f64,
    /// Spearman correlation of forecast and outcome, pooled.
    pub spearman: f64,
    /// Diebold–Mariano $t$ of the per-date squared-error gain over the
    /// historical mean (> 0: better than it).
    pub dm_t: f64,
}

/// The LSTM and the naive forecasts on the test block.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Target dates.
    pub dates: Vec<NaiveDate>,
    /// Assets.
    pub assets: Vec<String>,
    /// Outcomes `[dates, assets]`.
    pub actual: Array2<f64>,
    /// LSTM forecasts.
    pub lstm: Array2<f64>,
    /// Mean of the input window.
    pub trailing: Array2<f64>,
    /// Scores of the LSTM, the historical mean, zero and the trailing mean.
    pub scores: [(String, Scores); 4],
}

impl Evaluation {
    pub(super) fn new(
        returns: &Returns,
        scaler: &Scaler,
        window: usize,
        test: std::ops::Range<usize>,
        pred: &Array2<f32>,
    ) -> Evaluation {
        let r = returns.values();
        let n = r.ncols();
        let rows = test.len();
        let mut actual = Array2::zeros((rows, n));
        let mut lstm = Array2::zeros((rows, n));
        let mut trailing = Array2::zeros((rows, n));
        for (i, k) in test.clone().enumerate() {
            for j in 0..n {
                actual[(i, j)] = r[(k + window, j)];
                lstm[(i, j)] = scaler.restore(j, pred[(i, j)]);
                trailing[(i, j)] = r.slice(ndarray::s![k..k + window, j]).mean().unwrap_or(0.0);
            }
        }
        let zero = Array2::zeros((rows, n));
        let hist = Array2::from_shape_fn((rows, n), |(_, j)| scaler.mean[j]);
        let scores = [
            ("LSTM".to_string(), score(&lstm, &actual, &hist)),
            ("historical mean".to_string(), score(&hist, &actual, &hist)),
            ("zero".to_string(), score(&zero, &actual, &hist)),
            ("trailing mean".to_string(), score(&trailing, &actual, &hist)),
        ];
        Evaluation {
            dates: returns.dates()[window + test.start..window + test.end].to_vec(),
            assets: returns.assets().to_vec(),
            actual,
            lstm,
            trailing,
            scores,
        }
    }

    /// Scores of the LSTM.
    pub fn lstm_scores(&self) -> &Scores {
        &self.scores[0].1
    }

    /// Whether the LSTM beats every naive forecast on MSE with a
    /// Diebold–Mariano $t$ above 2 against the historical mean.
    pub fn beats_baselines(&self) -> bool {
        let l = &self.scores[0].1;
        self.scores[1..].iter().all(|(_, s)| l.mse < s.mse) && l.dm_t > 2.0
    }

    /// One plain sentence on the result.
    pub fn verdict(&self) -> String {
        let l = &self.scores[0].1;
        if self.beats_baselines() {
            format!(
                "The LSTM beats the naive forecasts out of sample (R² vs the historical mean {:.2} %, DM t {:.1}).",
                l.r2 * 100.0,
                l.dm_t
            )
        } else {
            format!(
                "No evidence the LSTM forecasts better than the naive baselines out of sample (R² vs the historical mean {:.2} %, DM t {:.1}).",
                l.r2 * 100.0,
                l.dm_t
            )
        }
    }

    /// Scores table, forecasters as rows.
    pub fn table(&self) -> Table {
        let mut t = Table::new([
            "forecast",
            "MSE ×1e4",
            "R² vs hist. mean",
            "hit rate",
            "Pearson",
            "Spearman",
            "DM t vs hist. mean",
        ])
        .caption(format!(
            "Out-of-sample one-step forecasts, {} dates × {} assets ({} – {})",
            self.dates.len(),
            self.assets.len(),
            self.dates.first().map(|d| d.to_string()).unwrap_or_default(),
            self.dates.last().map(|d| d.to_string()).unwrap_or_default()
        ));
        for (name, s) in &self.scores {
            t.push(vec![
                Cell::Text(name.clone()),
                Cell::Num(s.mse * 1e4, 4),
                Cell::Pct(s.r2, 2),
                Cell::Pct(s.hit_rate, 1),
                Cell::Num(s.pearson, 3),
                Cell::Num(s.spearman, 3),
                Cell::Num(s.dm_t, 2),
            ]);
        }
        t
    }
}

crate::shows_as_table!(Evaluation);

fn score(pred: &Array2<f64>, actual: &Array2<f64>, reference: &Array2<f64>) -> Scores {
    let p: Vec<f64> = pred.iter().copied().collect();
    let a: Vec<f64> = actual.iter().copied().collect();
    let mse = p.iter().zip(&a).map(|(p, a)| (p - a).powi(2)).sum::<f64>() / p.len() as f64;
    let mse_ref = reference.iter().zip(&a).map(|(r, a)| (r - a).powi(2)).sum::<f64>() / a.len() as f64;
    let (mut hits, mut total) = (0usize, 0usize);
    for (p, a) in p.iter().zip(&a) {
        if *a != 0.0 && *p != 0.0 {
            total += 1;
            hits += usize::from(p.signum() == a.signum());
        }
    }
    // Loss differential per date (assets averaged): reference's loss − this one's.
    let d: Vec<f64> = pred
        .rows()
        .into_iter()
        .zip(actual.rows())
        .zip(reference.rows())
        .map(|((p, a), r)| {
            p.iter().zip(a.iter()).zip(r.iter()).map(|((p, a), r)| (r - a).powi(2) - (p - a).powi(2)).sum::<f64>()
                / a.len() as f64
        })
        .collect();
    let sd = stats::std(&d);
    let dm_t = if sd > 0.0 { stats::mean(&d) / sd * (d.len() as f64).sqrt() } else { 0.0 };
    let constant = p.iter().all(|v| *v == p[0]);
    Scores {
        mse,
        r2: 1.0 - mse / mse_ref,
        hit_rate: if total > 0 { hits as f64 / total as f64 } else { f64::NAN },
        pearson: if constant { f64::NAN } else { stats::correlation(&p, &a) },
        spearman: if constant { f64::NAN } else { stats::spearman(&p, &a) },
        dm_t,
    }
}
