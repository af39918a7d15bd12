//! The market a portfolio trades in: which assets are tradable on each date
//! and what trading and holding them costs. Types and their evaluation
//! only, no solver: [`crate::portfolio`]'s simulation charges these costs,
//! and the same types describe them wherever trades are priced.
//!
//! **Costs** ([`CostModel`]) are charged in currency on the trade
//! $x_i = (w_i - w^{drift}_i)\,V$ at a decision date's close, where $V$ is
//! the wealth before the trade, and on the post-trade holdings $h^+_i$ over
//! the period that follows. Each component is reported separately:
//!
//! | component | cost |
//! |---|---|
//! | proportional | $a_{i,t}\,\lvert x_i\rvert$ (half-spread plus fees; constant, per asset, or a panel) |
//! | per share | $\max\big(m,\ c\,\lvert x_i\rvert / P_{i,t}\big)$ for each order: $c$ per share, $m$ the minimum |
//! | fixed | $f$ per order |
//! | impact | $b\,\sigma_{i,t}\,\lvert x_i\rvert^{3/2} / \bar V_{i,t}^{1/2}$ |
//! | borrow | $\big((1+s_{i,t})^{\Delta_t} - 1\big)\,\max(-h^+_i, 0)$ |
//!
//! Here $\sigma_{i,t} = \big(\tfrac1{|S|}\sum_{s\in S} R_{i,s}^2\big)^{1/2}$
//! is the root mean square of the asset's returns over the last
//! `sigma_window` periods up to and including $t$ (those it has), and
//! $\bar V_{i,t}$ the mean traded volume in currency over the last
//! `volume_window` periods up to $t$ (1: the decision date's own volume);
//! $s_{i,t}$ is an annual borrow fee and $\Delta_t$ the period's length in
//! years of 365.24 calendar days, so a weekend costs three days. Costs are
//! paid from cash at the trade: the positions are bought at the target
//! weights of the pre-trade wealth and the cash account pays the bill.
//!
//! **The universe** is read from where a returns panel has values: an
//! asset is in the universe from its first return to its last (loaded with
//! [`Missing::Universe`](crate::data::Missing::Universe), `NaN` elsewhere).
//! A gap inside that span is a suspension and must be declared; otherwise
//! it is an error, since a reappearing asset usually means a data fault.

mod costs;
mod universe;

pub(crate) use costs::{align, Charges, N_COSTS};
pub use costs::{AssetRates, CostModel, Impact, TradeCosts, COST_COMPONENTS};
pub(crate) use universe::Universe;
