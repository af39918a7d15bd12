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
    md("""## A realistic market: what each trade costs

A flat 10 bps is a rough guess. A portfolio manager pays a half-spread on the value traded, market impact that grows faster than the trade ($b\\,\\sigma_i |x_i|^{3/2} / V_i^{1/2}$ on the traded value $x_i$, with $\\sigma_i$ the asset's recent volatility and $V_i$ the value traded in the market that day), and a borrow fee on short positions; cash earns a rate that changes. The engine keeps wealth in currency, so the impact of a trade depends on the fund's size.

On the bundled 28 Dow stocks of 2014 (real daily returns, dollar volumes and the cash rate), a fund of 1 billion pays a 5 bps half-spread and impact with $b = 1$; the same cost model for every strategy, 1/N included. The same accounting matches cvxportfolio's `MarketSimulator` to 1e-8 in the project's tests."""),
    code("""let dow = datasets::dow_2014()?;
let costs = CostModel::bps(5.0).impact(Impact::new(1.0, &dow.volumes).sigma_window(21));
let realistic = Backtest::params()
    .schedule(Schedule::Monthly)
    .lookback(63)
    .capital(1e9)
    .costs(costs)
    .cash_returns(&dow.cash)
    .run_returns(&dow.returns, strategies![
        InverseVolatility::new(21),
        Momentum::new(21, 5),
        Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf()),
    ])?;
realistic"""),
    md("""**Cost attribution.** Each component's drag on wealth per year, beside the strategy's annual turnover and its net Sharpe ratio: a high-turnover strategy pays impact far beyond its spread."""),
    code("""realistic.cost_table()"""),
    code("""realistic.plot_costs()"""),
    code("""realistic.plot_turnover_costs()"""),
    code("""realistic.verdicts()"""),
    md("""## Trading from where you stand

An optimiser that decides as if it held cash trades whenever its target moves, whatever the trade costs. An `Optimized` strategy starts instead from the weights it holds and prices each trade with the backtest's own cost model: the half-spread, the impact's 3/2 power (a power cone in the solver) and borrow fees, so it trades only where the expected gain pays for the trade. The cost aversion $\\gamma$ scales the costs in its objective: $\\gamma = 0$ ignores them, a larger $\\gamma$ trades less. A multi-period policy plans several periods ahead, each step's trade priced, and executes the first step: with impact it can spread a large trade over several days. Both match cvxportfolio's `SinglePeriodOptimization` and `MultiPeriodOptimization` to 3e-6 in weights in the project's tests.

The same Dow year and fund of 1 billion: mean–variance ($\\lambda = 10$) on Ledoit–Wolf moments of the last 63 days, decided weekly, for four cost aversions and a three-week plan. With annualised moments a trade's cost is set against a year of expected return, so $\\gamma$ also says over how much of that year a trade must pay for itself."""),
    code("""// A block, as evcxr keeps no closure between cells.
let trade_off = {
    let averse = |g: f64| {
        Optimized::new(&format!("mean–variance, γ = {g}"), Optimizer::mean_variance(10.0), Moments::ledoit_wolf()).cost_aversion(g)
    };
    Backtest::params()
        .schedule(Schedule::Every(5))
        .lookback(63)
        .capital(1e9)
        .costs(CostModel::bps(5.0).impact(Impact::new(1.0, &dow.volumes).sigma_window(21)))
        .cash_returns(&dow.cash)
        .run_returns(&dow.returns, strategies![
            averse(0.0),
            averse(1.0),
            averse(5.0),
            averse(25.0),
            Optimized::multi_period("3-week plan, γ = 5", MultiPeriod::new(10.0), 3, Moments::ledoit_wolf()).cost_aversion(5.0),
        ])?
};"""),
    md("""**The efficient trade-off.** Annual turnover, the cost of each component and the net Sharpe ratio for each cost aversion, beside 1/N; then each policy as a point of turnover against cost, and the verdicts against 1/N."""),
    code("""trade_off.cost_table()"""),
    code("""trade_off.plot_turnover_costs()"""),
    code("""trade_off.verdicts()"""),
    md("""## Survivorship bias

A panel downloaded today holds today's members: the firms that failed and left the index are missing, so a backtest on it overstates every strategy. The synthetic market below lists 20 % of its 50 assets late and delists an asset once its price is 70 % below its peak, its holders receiving the last price less 30 %. The backtest of 1/N on the full universe, where a delisted position is sold at that delisting return and each rebalance is over the assets tradable that day, is set against the same backtest on the survivors only. The difference of their daily net returns is reported with its standard error."""),
    code("""let market = Synthetic::params()
    .assets(50).days(2520).drift(0.0003).vol(0.02)
    .lifecycle(Lifecycle { late_listings: 0.2, delist_drawdown: 0.7, delisting_return: -0.3 })
    .seed(11)
    .generate()?;
let mut full_universe = Backtest::params().lookback(63);
for (asset, _, r) in &market.delistings {
    full_universe = full_universe.delisting_return(asset, *r);
}
let full = full_universe.run(&market.prices, vec![])?;
let survivors = Backtest::params().lookback(63).run(&market.survivors()?, vec![])?;
println!("{} of {} assets delisted; {} survive", market.delistings.len(), market.prices.n_assets(), market.survivors()?.n_assets());
survivors.reports[0].difference(&full.reports[0])?.labelled("1/N on the survivors", "1/N on the full universe")"""),
    md("""The survivors-only 1/N earns more every year than the 1/N an investor could actually have held; the $t$-statistic says whether the gap is beyond noise. Every number a backtest on a survivors-only panel reports carries this bias."""),
]
write("07_backtest", cells)
