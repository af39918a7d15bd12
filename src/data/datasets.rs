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
//! | [`dow_2014`] | simple returns and traded dollar volumes of 28 Dow Jones stocks, with the cash return | 2014-01-02 → 2014-12-31 | daily |

use super::{Load, Prices, ReturnKind, Returns, Volumes};
use crate::error::Result;

const SP500: &[u8] = include_bytes!("../../data/sp500.csv");
const SP500_INDEX: &[u8] = include_bytes!("../../data/sp500_index.csv");
const FACTORS: &[u8] = include_bytes!("../../data/factors.csv");
const FAMA_FRENCH: &[u8] = include_bytes!("../../data/fama_french_monthly.csv");
const DOW_RETURNS: &[u8] = include_bytes!("../../data/dow_returns.csv");
const DOW_VOLUMES: &[u8] = include_bytes!("../../data/dow_volumes.csv");

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

/// Daily returns with the volumes traded and what cash earned: what a
/// realistic cost model needs.
#[derive(Debug, Clone)]
pub struct MarketData {
    /// Simple returns, dated at the end of each period.
    pub returns: Returns,
    /// Traded value in currency per date (one more date than the returns:
    /// the first price date).
    pub volumes: Volumes,
    /// The cash account's simple return per period (one column, `cash`).
    pub cash: Returns,
}

/// Daily simple returns (251 dates, 2014-01-03 to 2014-12-31) and dollar
/// volumes (252 dates from 2014-01-02) of 28 Dow Jones stocks, with the
/// return of cash each day.
///
/// ```
/// let m = assetalloc::datasets::dow_2014()?;
/// assert_eq!((m.returns.len(), m.returns.n_assets(), m.volumes.len()), (251, 28, 252));
/// # Ok::<(), assetalloc::Error>(())
/// ```
pub fn dow_2014() -> Result<MarketData> {
    let all = Load::bytes(DOW_RETURNS).returns(ReturnKind::Simple)?;
    let stocks: Vec<&String> = all.assets().iter().filter(|a| *a != "cash").collect();
    Ok(MarketData {
        returns: all.select(&stocks)?,
        volumes: Load::bytes(DOW_VOLUMES).volumes()?,
        cash: all.select(&["cash"])?,
    })
}
