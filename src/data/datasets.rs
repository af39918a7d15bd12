//! Real datasets bundled with the crate (see `data/README.md` for source,
//! licence and span). Each is compiled into the library, so one call loads
//! it from any working directory, with no file access at run time.
//!
//! | call | what | span | frequency |
//! |---|---|---|---|
//! | [`sp500`] | adjusted close prices of 20 large US stocks | 1990-01-02 → 2022-12-28 | daily |
//! | [`sp500_index`] | the S&P 500 index level | 1990-01-02 → 2022-12-28 | daily |
//! | [`factors`] | prices of 5 US factor ETFs (MTUM, QUAL, SIZE, USMV, VLUE) | 2014-01-02 → 2022-12-28 | daily |
//! | [`fama_french`] | Fama–French factors, 12 industry, 9 size/value and 9 size/momentum portfolios (simple returns) | 1949-01 → 2017-03 | monthly |
//! | [`fama_french_industries`] | the 12 industry portfolios alone | 1949-01 → 2017-03 | monthly |

use super::{Load, Prices, ReturnKind, Returns};
use crate::error::Result;

const SP500: &[u8] = include_bytes!("../../data/sp500.csv");
const SP500_INDEX: &[u8] = include_bytes!("../../data/sp500_index.csv");
const FACTORS: &[u8] = include_bytes!("../../data/factors.csv");
const FAMA_FRENCH: &[u8] = include_bytes!("../../data/fama_french_monthly.csv");

/// The 12 industry portfolios' column names in [`fama_french`].
pub const FF_INDUSTRIES: [&str; 12] =
    ["NoDur", "Durbl", "Manuf", "Enrgy", "Chems", "BusEq", "Telcm", "Utils", "Shops", "Hlth", "Money", "Other"];

/// Daily prices of 20 S&P 500 stocks, 1990-01-02 to 2022-12-28 (8,313 dates).
///
/// ```
/// let prices = assetalloc::datasets::sp500()?;
/// assert_eq!(prices.n_assets(), 20);
/// # Ok::<(), assetalloc::Error>(())
/// ```
pub fn sp500() -> Result<Prices> {
    Load::bytes(SP500).prices()
}

/// Daily S&P 500 index level over the same dates as [`sp500`].
pub fn sp500_index() -> Result<Prices> {
    Load::bytes(SP500_INDEX).prices()
}

/// Daily prices of five iShares MSCI USA factor ETFs, 2014-01-02 to 2022-12-28.
pub fn factors() -> Result<Prices> {
    Load::bytes(FACTORS).prices()
}

/// Monthly simple returns (decimals, not percent) of the Fama–French market
/// excess return (`MktRF`), `SMB`, `HML`, `Mom`, the risk-free rate `RF`,
/// 12 industry portfolios and 18 size-sorted portfolios, dated on the first
/// day of each month, 1949-01 to 2017-03.
pub fn fama_french() -> Result<Returns> {
    Load::bytes(FAMA_FRENCH).returns(ReturnKind::Simple)
}

/// The 12 Fama–French industry portfolios (monthly simple returns).
pub fn fama_french_industries() -> Result<Returns> {
    fama_french()?.select(&FF_INDUSTRIES)
}
