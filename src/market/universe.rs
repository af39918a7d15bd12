//! Which assets are in the universe on each date, read from where a
//! returns panel has values.

use chrono::NaiveDate;
use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};

/// The universe of a returns panel: per asset and row, how many
/// consecutive finite returns end there.
pub(crate) struct Universe {
    streak: Array2<u32>,
    /// The last row with a return, per asset (an exit after it is final).
    last: Vec<usize>,
    complete: bool,
}

impl Universe {
    /// Reads the universe from the simple returns `r` (rows × assets). An
    /// asset's values must form one run unless it is named in `suspended`:
    /// a gap inside its span is an error naming the asset, the date it left
    /// and the date it came back.
    pub(crate) fn of(
        r: ArrayView2<'_, f64>,
        dates: &[NaiveDate],
        assets: &[String],
        suspended: &[String],
    ) -> Result<Universe> {
        let (rows, n) = r.dim();
        let mut streak = Array2::<u32>::zeros((rows, n));
        let mut last = vec![0; n];
        let mut complete = true;
        for j in 0..n {
            let mut run = 0u32;
            let mut seen = false;
            let mut left: Option<usize> = None;
            for t in 0..rows {
                let v = r[[t, j]];
                if v.is_finite() {
                    if let (Some(gap), false) = (left, suspended.contains(&assets[j])) {
                        return Err(Error::InvalidValue {
                            asset: assets[j].clone(),
                            date: dates[t],
                            value: v,
                            reason: format!(
                                "the asset left the universe after {} and reappears here; declare it with \
                                 .suspended(&[{:?}]) if it was suspended, or fill the gap when loading \
                                 (Missing::ForwardFill)",
                                dates[gap - 1],
                                assets[j]
                            ),
                        });
                    }
                    run += 1;
                    seen = true;
                    left = None;
                    last[j] = t;
                } else {
                    complete = false;
                    run = 0;
                    if seen && left.is_none() {
                        left = Some(t);
                    }
                }
                streak[[t, j]] = run;
            }
        }
        Ok(Universe { streak, last, complete })
    }

    /// Whether every asset has a return on every row.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// The assets a decision at the close of row `t` may hold: those with
    /// `history` consecutive returns up to and including `t`, still in the
    /// universe after `t`'s close (a return on row `t + 1`).
    pub(crate) fn eligible(&self, t: usize, history: usize, out: &mut Vec<usize>) {
        out.clear();
        let next = (t + 1).min(self.streak.nrows() - 1);
        for j in 0..self.streak.ncols() {
            if self.streak[[t, j]] as usize >= history && self.streak[[next, j]] > 0 {
                out.push(j);
            }
        }
    }

    /// Whether an exit of asset `j` before row `t` is its last (a
    /// delisting, not a suspension).
    pub(crate) fn is_final_exit(&self, j: usize, t: usize) -> bool {
        t > self.last[j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn dates(n: usize) -> Vec<NaiveDate> {
        (0..n).map(|i| NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(i as u64)).collect()
    }

    #[test]
    fn eligibility_needs_history_and_a_next_return() {
        let nan = f64::NAN;
        // A lists on row 2 and delists after row 4; B is always there.
        let r = array![[nan, 0.1], [nan, 0.1], [0.1, 0.1], [0.1, 0.1], [0.1, 0.1], [nan, 0.1]];
        let names = vec!["A".to_string(), "B".to_string()];
        let u = Universe::of(r.view(), &dates(6), &names, &[]).unwrap();
        assert!(!u.is_complete());
        let mut out = Vec::new();
        u.eligible(3, 2, &mut out);
        assert_eq!(out, vec![0, 1]);
        u.eligible(2, 2, &mut out);
        assert_eq!(out, vec![1], "one return is less than two");
        u.eligible(4, 2, &mut out);
        assert_eq!(out, vec![1], "no return after row 4: A leaves at its close");
        assert!(u.is_final_exit(0, 5) && !u.is_final_exit(0, 4));
    }

    #[test]
    fn an_undeclared_gap_is_an_error_naming_the_asset_and_dates() {
        let nan = f64::NAN;
        let r = array![[0.1], [nan], [0.2]];
        let names = vec!["A".to_string()];
        let e = Universe::of(r.view(), &dates(3), &names, &[]).err().unwrap();
        let msg = e.to_string();
        assert!(matches!(e, Error::InvalidValue { ref asset, .. } if asset == "A"), "{msg}");
        assert!(msg.contains("2024-01-03") && msg.contains("2024-01-01"), "{msg}");
        assert!(Universe::of(r.view(), &dates(3), &names, &names).is_ok());
    }
}
