"""Writes notebooks/01_data.ipynb (run: python3 tools/nbgen/nb01.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 01 · Data: price panels, returns, bundled sets, synthetic markets

This notebook is the first stage of the pipeline. It loads the bundled S&P 500 panel, describes it, converts prices to returns, resamples and splits it in time, reads a returns CSV from `data/`, shows the missing-data policy at work, and generates synthetic markets with and without a planted signal, the ground truth that later stages are tested against.

Everything here is **descriptive and in-sample**: no model is fitted, so there is nothing to judge out of sample yet.

The first cells set a compilation cache, ask for unoptimised builds (`:opt 0`: the dependencies compile several times faster, and nothing in this notebook is heavy enough to need optimised code), and pull in the crate. The data stage needs none of the heavy stages (optimiser, ML, neural nets), so `default-features = false` compiles only polars, plotly and ndarray."""),
    code(""":cache 2048
:opt 0"""),
    code(""":dep assetalloc = { path = "..", default-features = false }"""),
    code("""use assetalloc::prelude::*;"""),
    md("""## The bundled S&P 500 panel

Daily adjusted closing prices of 20 large US stocks from 1990-01-02 to 2022-12-28 (source and licence: `data/README.md`). The panel is compiled into the library, so this works from any working directory. A panel shows its first and last rows with its size and span."""),
    code("""let prices = datasets::sp500()?;
prices"""),
    md("""## Per-asset summary

With $R_t$ the daily simple returns and $k = 252$ periods per year: annualised mean $k\\bar R$, volatility $\\sqrt{k}\\,s_R$, Sharpe ratio mean/volatility (zero risk-free rate), CAGR, skewness, excess kurtosis and the maximum drawdown $\\max_t (1 - W_t/\\max_{s \\le t} W_s)$ with its peak and trough dates. These describe the past; they are not forecasts."""),
    code("""prices.summary()?"""),
    md("""## Normalised prices

Each asset rebased to 100 on the first date. On a log axis equal vertical distances are equal percentage moves, which is the honest way to compare 33 years of compounding."""),
    code("""prices.plot_normalized(true)"""),
    md("""## Returns

Simple returns $R_t = P_t/P_{t-1} - 1$ and log returns $r_t = \\ln(P_t/P_{t-1})$; the returns panel has one row fewer and is dated at the end of each period."""),
    code("""let returns = prices.returns(ReturnKind::Log)?;
returns"""),
    md("""The distribution of daily log returns, on common bins with a log density axis, against a normal density with the same mean and standard deviation: the bars far above the curve in the tails are the fat tails (excess kurtosis in the summary above)."""),
    code("""returns.plot_histogram()"""),
    code("""returns.plot_correlation()"""),
    md("""## Resampling and splitting in time

Resampling keeps the last price of each calendar month; returns resampled the same way compound within the month ($\\sum r$ for log returns), so both routes give the same monthly returns. A train/test split is always in time: the test part starts strictly after the training part, so nothing later leaks into what a model is fitted on."""),
    code("""let monthly = prices.resample(Frequency::Monthly);
monthly.tail(3)?"""),
    code("""let (train, test) = returns.split(Split::AfterDate("2015-12-31".parse()?))?;
println!("train: {} rows, {} → {}", train.len(), train.start(), train.end());
println!("test:  {} rows, {} → {}", test.len(), test.start(), test.end());"""),
    md("""## A returns CSV from `data/`

Many published datasets ship returns with a date column, not prices. `Load::csv` reads prices or returns of a stated kind; here the monthly Fama–French file (simple returns in decimals), of which we keep the 12 industry portfolios. The sampling frequency (12 a year) is inferred from the dates and used to annualise."""),
    code("""let ff = Load::csv("../data/fama_french_monthly.csv").returns(ReturnKind::Simple)?;
let industries = ff.select(&datasets::FF_INDUSTRIES)?;
industries.summary()"""),
    code("""industries.to_prices(100.0)?.plot_normalized(true)"""),
    md("""## Missing data: an explicit policy, never a silent one

A gap in the data is an error that names the asset, the count and the first date, until you choose what to do: drop those dates, forward-fill short gaps, or keep each asset's own start date (values before it stay empty)."""),
    code("""let gappy = b"date,A,B\\n2024-01-02,,50\\n2024-01-03,10.0,\\n2024-01-04,10.5,51\\n2024-01-05,10.4,52\\n";
match Load::bytes(gappy).prices() {
    Ok(_) => println!("loaded"),
    Err(e) => println!("refused: {e}"),
};"""),
    code("""Load::bytes(gappy).missing(Missing::KeepStart { fill_limit: 1 }).prices()?"""),
    md("""## Synthetic markets

The generator draws log returns $r_{i,t} = \\mu_i + \\sigma_i m_{s_t} \\sqrt{h_{i,t}}\\,u_{i,t}$: correlated unit-variance shocks $u$ (here a two-factor structure with Student-$t$ tails), GARCH(1,1) volatility clustering $h$, and a calm/stress regime $s_t$ that scales volatility by $m$. Same seed, same market.

The plain i.i.d. Gaussian case (mean 0.001, sd 0.02, prices $100\\,e^{\\sum r}$) is one call: `Synthetic::gaussian(assets, days, seed)`."""),
    code("""let market = Synthetic::params()
    .assets(8)
    .days(2520)
    .drift(0.0003)
    .vol(0.012)
    .correlation(Correlation::Factors { factors: 2, r2: 0.4 })
    .innovations(Innovations::StudentT { dof: 5.0 })
    .garch(0.08, 0.9)
    .regimes(Regimes::default())
    .seed(7)
    .generate()?;
market"""),
    code("""market.prices.plot_normalized(true)"""),
    code("""market.returns.summary()"""),
    md("""## A planted signal, and its absence

With `Signal::LaggedFeature { ic }` each asset has an observable $x_{i,t}$, published at $t$, and the next shock is $u_{i,t+1} = \\rho\\,x_{i,t} + \\sqrt{1-\\rho^2}\\,\\varepsilon$, so the feature's information coefficient is exactly $\\rho$. Later stages must find it when it is there and find nothing when it is not. The realised IC below is the pooled correlation of $x_{i,t}$ with the return from $t$ to $t+1$, with its standard error $1/\\sqrt{n}$ under no relation."""),
    code("""for ic in [0.1, 0.0] {
    let m = Synthetic::params().assets(10).days(2520).signal(Signal::LaggedFeature { ic }).seed(11).generate()?;
    let (realized, se) = m.realized_ic().unwrap_or((f64::NAN, f64::NAN));
    println!("planted IC {ic:.2} → realised {realized:+.4} (± {se:.4}, t = {:.1})", realized / se);
};"""),
    md("""`Signal::CrossSectionalMomentum { ic, lookback }` plants the signal in something computable from prices alone: the cross-sectional z-score of each asset's trailing `lookback`-day return. `Signal::Autoregressive { phi }` gives each asset's shocks lag-one autocorrelation $\\phi$ (what an LSTM on one asset's history can learn)."""),
    code("""let mom = Synthetic::params()
    .assets(10)
    .days(2520)
    .signal(Signal::CrossSectionalMomentum { ic: 0.08, lookback: 20 })
    .seed(3)
    .generate()?;
let (ic, se) = mom.realized_ic().unwrap_or((f64::NAN, f64::NAN));
println!("momentum signal: realised IC {ic:+.4} (± {se:.4})");
mom.signal_feature()?.tail(3)?"""),
]
write("01_data", cells)
