"""Writes notebooks/07_backtest.ipynb (run: python3 tools/nbgen/nb07.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 07 · Walk-forward backtest

Every strategy is scored by one engine on equal terms: on each rebalance day $t$ it sees only the returns up to and including $t$ (a window that ends at $t$, so it cannot look ahead), trades at $t$'s close, pays 10 bps of the traded notional, and earns from $t+1$. Between rebalances weights drift with prices. Equal weight (1/N), rebalanced on the same schedule, is always in the comparison.

Everything printed here is out of sample and net of costs."""),
    code(""":cache 2048
:opt 0"""),
    code(""":dep assetalloc = { path = "..", default-features = false, features = ["optimize"] }"""),
    code("""use assetalloc::prelude::*;"""),
    md("""## The strategies

On the 20 bundled S&P 500 stocks, 1990–2022: 1/N; buy-and-hold (1/N bought once); inverse volatility over 63 days; and three optimised portfolios re-estimated every month on the last 252 days with Ledoit–Wolf shrinkage: minimum variance, maximum Sharpe and risk parity. Monthly rebalancing on the last trading day, 252-day lookback, 10 bps costs."""),
    code("""let prices = datasets::sp500()?;
let started = std::time::Instant::now();
let comparison = Backtest::params()
    .schedule(Schedule::Monthly)
    .lookback(252)
    .cost_bps(10.0)
    .run(&prices, strategies![
        BuyAndHold::new(),
        InverseVolatility::new(63),
        Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf()),
        Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf()),
        Optimized::new("risk parity", Optimizer::risk_parity(), Moments::ledoit_wolf()),
    ])?;
println!("{} strategies over {} days in {:.1} s", comparison.reports.len(), prices.len(), started.elapsed().as_secs_f64());"""),
    md("""## The comparison

CAGR, volatility, Sharpe ratio with its standard error (Mertens' form, valid for skewed and fat-tailed returns), Sortino, maximum drawdown, Calmar, hit rate, 95 % VaR and CVaR (daily losses), average turnover per rebalance and total cost. **PSR vs 1/N** is the probability that the strategy's true Sharpe ratio exceeds 1/N's measured one; **DSR (SR > 0)** is the probability that the true Sharpe ratio is above zero after deflating for the number of strategies tried here and the spread of their Sharpe ratios (a multiple-testing correction)."""),
    code("""comparison"""),
    code("""comparison.plot_equity()"""),
    code("""comparison.plot_drawdowns()"""),
    code("""comparison.plot_rolling_sharpe(252)"""),
    code("""comparison.plot_weights("minimum variance")?"""),
    md("""## Read out

The next cell states the verdict from the numbers above, strategy by strategy: whether the Sharpe ratio beats 1/N's with at least 95 % probability (PSR ≥ 95 %), is worse (PSR ≤ 5 %), or cannot be told apart from it; the table above adds the deflated Sharpe ratio for the strategies tried."""),
    code("""comparison.verdicts()"""),
]
write("07_backtest", cells)
