//! Portfolio objectives evaluated on the future window's returns.

use crate::parameter::Deep as Param;
use dfdx::prelude::*;

use crate::error::{Error, Result};
use crate::nn::lstm::{nn_err, put, split};
use crate::nn::{Backend, Matrix, Sequence};

/// Guard inside the square root of the Sharpe objective, so a window of
/// constant returns (all holidays, say) has a finite gradient.
const SHARPE_EPS: f32 = 1e-8;

/// What the network is trained to maximise over the next `horizon` days.
///
/// With $p_{b,t} = w_b^\top R_{b,t}$ the portfolio's return on day $t$ of
/// sample $b$'s future window, $\bar p_b$ its mean and
/// $s_b^2 = \frac{1}{n-1}\sum_t (p_{b,t} - \bar p_b)^2 = w_b^\top C_b w_b$
/// (with $C_b$ the sample covariance of the window) its variance, the loss
/// minimised is the negative batch mean of
///
/// * `Markowitz`: $\bar p_b - \lambda s_b^2 - \ell_2 \lVert w_b \rVert^2$,
///   i.e. $w\cdot\bar R - \lambda w^\top C w$, the certainty equivalent;
/// * `Sharpe`: $\bar p_b / \sqrt{s_b^2 + 10^{-8}}$, the realised Sharpe
///   ratio of the window (Zhang, Zohren & Roberts 2020; per period, not
///   annualised).
///
/// Returns enter scaled (see [`DeepAllocatorParams::scale`](super::DeepAllocatorParams::scale)):
/// with scale $k$, Markowitz's $\lambda$ weighs $k^2$-scaled variance
/// against $k$-scaled mean, which is $\lambda k$ in daily units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PortfolioLoss {
    /// Certainty equivalent with risk aversion λ ≥ 0 and an L2 penalty ≥ 0
    /// on the weights.
    Markowitz {
        /// λ: 0 maximises the mean alone.
        risk_aversion: f64,
        /// Penalty on $\lVert w\rVert^2$ (0 for none).
        l2: f64,
    },
    /// Realised Sharpe ratio of the window.
    Sharpe,
}

impl PortfolioLoss {
    /// Markowitz with risk aversion `lambda` and no L2 penalty.
    pub fn markowitz(lambda: f64) -> Self {
        PortfolioLoss::Markowitz { risk_aversion: lambda, l2: 0.0 }
    }

    /// A short label, e.g. `Markowitz λ=0.10` or `Sharpe`.
    pub fn label(&self) -> String {
        match self {
            PortfolioLoss::Markowitz { risk_aversion, l2 } if *l2 > 0.0 => {
                format!("Markowitz λ={risk_aversion:.2}, L2={l2}")
            }
            PortfolioLoss::Markowitz { risk_aversion, .. } => format!("Markowitz λ={risk_aversion:.2}"),
            PortfolioLoss::Sharpe => "Sharpe".into(),
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        if let PortfolioLoss::Markowitz { risk_aversion, l2 } = *self {
            if !(risk_aversion >= 0.0 && risk_aversion.is_finite()) {
                return Err(Error::param(Param::RiskAversion, format!("must be ≥ 0 and finite, got {risk_aversion}")));
            }
            if !(l2 >= 0.0 && l2.is_finite()) {
                return Err(Error::param(Param::L2, format!("must be ≥ 0 and finite, got {l2}")));
            }
        }
        Ok(())
    }

    /// The loss (to minimise) of weights `w` `[B, N]` against the future
    /// windows' returns `future` `[B, N, horizon]` (asset-major per
    /// sample, `horizon ≥ 2`).
    pub fn loss<D: Backend, T: Tape<f32, D> + Merge<T>>(
        &self,
        w: Matrix<D, T>,
        future: &Sequence<D>,
    ) -> Result<Tensor<(), f32, D, T>> {
        let (b, n) = *w.shape();
        let (fb, fn_, days) = *future.shape();
        if fb != b || fn_ != n || days < 2 {
            return Err(Error::Shape(format!(
                "weights [{b}, {n}] need future returns [{b}, {n}, ≥ 2], got [{fb}, {fn_}, {days}]"
            )));
        }
        let (w, w_tape) = split(w);
        // Portfolio returns p[b, t] = Σ_j w[b, j] R[b, j, t].
        let p = put(w.clone(), w_tape)
            .try_reshape_like(&(b, 1, n))
            .map_err(nn_err)?
            .try_matmul(future.clone())
            .map_err(nn_err)?
            .try_reshape_like(&(b, days))
            .map_err(nn_err)?;
        let (p, p_tape) = split(p);
        let mean = put(p.clone(), p_tape).try_mean::<_, Axis<1>>().map_err(nn_err)?;
        let (mean, mean_tape) = split(mean);
        let centred =
            p.retaped::<T>() - mean.retaped::<T>().try_broadcast_like::<_, Axis<1>>(&(b, days)).map_err(nn_err)?;
        let var = centred.try_square().map_err(nn_err)?.try_sum::<_, Axis<1>>().map_err(nn_err)? / (days - 1) as f32;
        let mean = put(mean, mean_tape);
        let per_sample = match *self {
            PortfolioLoss::Markowitz { risk_aversion, l2 } => {
                let ce = mean - var * risk_aversion as f32;
                if l2 > 0.0 {
                    let penalty =
                        w.retaped::<T>().try_square().map_err(nn_err)?.try_sum::<_, Axis<1>>().map_err(nn_err)?;
                    ce - penalty * l2 as f32
                } else {
                    ce
                }
            }
            PortfolioLoss::Sharpe => mean / (var + SHARPE_EPS).try_sqrt().map_err(nn_err)?,
        };
        Ok(per_sample.try_mean::<(), _>().map_err(nn_err)?.negate())
    }
}
