//! Return forecasting with an LSTM on dfdx, numerically equal to PyTorch's
//! `nn.LSTM`, judged out of sample against naive forecasts.
//!
//! **Samples.** From a returns panel $r_{t,j}$ ($T$ dates, $N$ assets) the
//! sample for date $t$ is the window $r_{t-W..t-1}$ (`[W, N]`) and its target
//! is $r_t$ (`[N]`): one-step-ahead, nothing after $t - 1$ in the input.
//! Samples are split in time order into training, validation and test
//! blocks; each block's targets come strictly after the previous block's.
//!
//! **Scaling.** Each asset's returns are standardised with the mean and
//! standard deviation of the rows the training block touches (inputs and
//! targets) — never validation or test rows; forecasts are mapped back.
//!
//! **Model.** [`Lstm`](crate::nn::Lstm) (stacked, PyTorch semantics) → last hidden state →
//! [`Dense`](crate::nn::Dense) to $N$ outputs. Univariate is $N = 1$. Trained with Adam on
//! MSE or Huber loss, seeded shuffled mini-batches, gradient clipping and
//! early stopping on the validation loss (weights from the best epoch).
//!
//! **Judged** on the test block against three naive forecasts — the
//! training block's mean return per asset (the historical mean), zero, and
//! the input window's trailing mean: MSE, out-of-sample
//! $R^2 = 1 - \mathrm{MSE}/\mathrm{MSE}_{hist}$ against the historical mean
//! (Campbell–Thompson), directional accuracy, Pearson and Spearman
//! correlation of forecast and outcome, and a Diebold–Mariano $t$ on the
//! per-date squared-error difference to the historical mean.
//!
//! Weights save to and load from safetensors under PyTorch's names
//! (`lstm.weight_ih_l0`, …, `head.weight`, `head.bias`): a module with
//! attributes `lstm = nn.LSTM(N, H, L, batch_first=True)` and
//! `head = nn.Linear(H, N)` loads them with `load_state_dict`.

mod evaluate;
mod fit;
mod model;
#[cfg(feature = "optimize")]
mod strategy;

pub use crate::nn::train::Loss;
pub use evaluate::{Evaluation, Scores};
pub use fit::ForecasterParams;
pub(crate) use model::last_rows;
pub use model::{Blocks, Forecaster, LstmRegressor, Scaler};
#[cfg(feature = "optimize")]
pub use strategy::LstmStrategy;
