"""Writes notebooks/06_deep.ipynb (run: python3 tools/nbgen/nb06.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 06 · End-to-end deep allocation: CNN+LSTM weights trained on a portfolio objective

No return forecast in between: a network reads the last `lookback` = 20 days of $N$ assets' log returns and outputs long-only weights, and training maximises what those weights would have earned over the **next** `horizon` = 20 days.

**Network** (the study's): Conv1D over time (64 filters, kernel 3, ReLU) → MaxPool1D(2) → LSTM(32, full sequence) → LSTM(16, last state) → Dense($N$, tanh) → softmax. The LSTM is the forecasting stage's (PyTorch-equal); the tests check the whole network, both losses and every gradient against a PyTorch reference and finite differences. The tanh before the softmax caps any weight at $e^2/(e^2+N-1)$ — 0.28 for 20 stocks — so this head never concentrates.

**Losses.** With $p_t = w^\\top R_t$ the portfolio's returns over the future window:
* Markowitz / certainty equivalent: maximise $\\bar p - \\lambda\\, s_p^2 = w\\cdot\\bar R - \\lambda\\, w^\\top C w$ (optionally $-\\ell_2\\lVert w\\rVert^2$);
* Sharpe (Zhang, Zohren & Roberts 2020): maximise $\\bar p / s_p$ over the window.

**Scaling.** Returns are multiplied by the look-back window, 20 days, as inputs and in the loss, as in the study, so $\\lambda$ weighs $400\\times$ daily variance against $20\\times$ daily mean: $\\lambda = 0.1$ is a daily risk aversion of 2.

**Honesty.** Judged only in the walk-forward backtest: on each rebalance (every 20 days) the weights come from a network trained on the trailing window alone (its latest 20 % validates for early stopping, and training targets end before validation targets begin). Beside it: 1/N, minimum variance, maximum Sharpe and buy-and-hold of the first asset, gross and net of 10 bps costs.

**Size.** Sized for a few minutes on 2 cores: 4-year training windows, retraining every 12 rebalances (about yearly), at most 30 epochs with patience 5. Knobs for the full-size study: `DeepStrategy::new(name, params, retrain_every)` with `retrain_every = 1`, `.epochs(..)`, `.patience(None)`, `Architecture { .. }`, and the backtest's `.lookback(..)`."""),
    code(":cache 2048\n:opt 0"),
    code(':dep assetalloc = { path = "..", default-features = false, features = ["nn", "optimize"] }'),
    code("use assetalloc::prelude::*;"),
    md("""## A CSV of log returns with a `date` column

A common published format: one row per weekday, log returns, and **zero** on market holidays. We write the bundled S&P 500 that way (20 stocks: `on_weekdays()` gives every weekday without a row a zero return, `to_csv` writes at full precision) and read it back with the ordinary loader; zero rows need nothing special."""),
    code("""let prices = datasets::sp500()?;
let path = "../target/notebooks/sp500_log_returns.csv";
prices.returns(ReturnKind::Log)?.on_weekdays()?.to_csv(path)?;
let csv = Load::csv(path).returns(ReturnKind::Log)?;
let holidays = csv.values().rows().into_iter().filter(|r| r.iter().all(|v| *v == 0.0)).count();
println!("{} rows × {} assets from {} to {}; {holidays} all-zero (holiday) rows", csv.len(), csv.n_assets(), csv.start(), csv.end());"""),
    md("""## One network, trained on 2000–2011

The study's settings (λ = 0.1) on the CSV's 2000–2011 rows. A line prints as each epoch ends: the training and validation loss are $-(\\text{certainty equivalent})$ on scaled returns, so lower is better."""),
    code("""let train = csv.between("2000-01-01", "2011-12-31")?;
let single: DeepAllocator = DeepAllocator::params().seed(1).fit(&train)?;
println!("training targets {:?}, validation targets {:?}", single.train_targets(), single.validation_targets());
single.history().clone()"""),
    code("single.history().plot()"),
    md("The network's weights for January 2012, from the last 20 days of the training rows:"),
    code("""single.weights(train.values())?"""),
    md("""## The λ sweep in the walk-forward backtest, S&P 500 2012–2022

Four networks — Markowitz λ = 0, 0.1, 0.15 and the Sharpe loss — each retrained about yearly on the trailing four years (1,008 days), rebalancing every 20 days, beside the baselines. All strategies run on their own threads; this cell takes a few minutes."""),
    code("""let recent = prices.between("2008-01-01", None)?;
let first = recent.assets()[0].clone();
fn deep(name: &str, loss: PortfolioLoss, seed: u64) -> DeepStrategy {
    DeepStrategy::new(name, DeepAllocator::params().objective(loss).seed(seed), 12)
}
let started = std::time::Instant::now();
let sweep = Backtest::params().schedule(Schedule::Every(20)).lookback(1008).cost_bps(10.0).run(&recent, strategies![
    deep("deep Markowitz λ=0", PortfolioLoss::markowitz(0.0), 1),
    deep("deep Markowitz λ=0.1", PortfolioLoss::markowitz(0.1), 1),
    deep("deep Markowitz λ=0.15", PortfolioLoss::markowitz(0.15), 1),
    deep("deep Sharpe", PortfolioLoss::Sharpe, 1),
    Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf()),
    Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf()),
    BuyAndHold::asset(&first),
])?;
println!("walk-forward with {} strategies in {:.0} s", sweep.reports.len(), started.elapsed().as_secs_f64());
sweep"""),
    code("sweep.gross_net_table()"),
    code("sweep.plot_risk_return()"),
    code("sweep.plot_equity()"),
    code('sweep.plot_weights("deep Markowitz λ=0.1")?'),
    md("""**Reading.** The verdicts below are computed by the crate from the same returns: each strategy's net Sharpe ratio beside 1/N's, with the probabilistic Sharpe ratio (the probability that the network's true Sharpe ratio beats 1/N's measured one, given the sample length and the returns' skew and kurtosis)."""),
    code("""sweep.verdicts()"""),
    md("""## The factor ETFs, 2017–2022 (first decisions after a 3-year window)

Five factor ETFs (MTUM momentum, QUAL quality, SIZE size, USMV minimum volatility, VLUE value): fewer, more correlated assets. Same protocol, λ = 0.1 and the Sharpe loss."""),
    code("""let etfs = datasets::factors()?;
let factors = Backtest::params().schedule(Schedule::Every(20)).lookback(756).cost_bps(10.0).run(&etfs, strategies![
    deep("deep Markowitz λ=0.1", PortfolioLoss::markowitz(0.1), 2),
    deep("deep Sharpe", PortfolioLoss::Sharpe, 2),
    Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf()),
    Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf()),
    BuyAndHold::asset(&etfs.assets()[0]),
])?;
factors.gross_net_table()"""),
    code("""factors.verdicts()"""),
    md("""## Heads that respect a mandate: sparsemax and a Markowitz layer

The softmax head cannot hold a mandate's limits, and it cannot learn what is good *after* optimisation. `DeepAllocatorParams::head` swaps the last step:

* `AllocationHead::Sparsemax`: the scores' Euclidean projection onto the simplex, so the network can leave stocks out entirely;
* `AllocationHead::Markowitz(layer)`: the scores become predicted means $\mu$ in a **differentiable Markowitz layer** — on every sample it solves $\max_w \mu^\top w - \tfrac{\gamma}{2} w^\top\Sigma w$ with the mandate's constraints on Clarabel ($\Sigma$ the sample's own 20-day window covariance, shrunk 20 % toward its diagonal), and the backward pass differentiates the optimality conditions on the active set. Training learns forecasts by what the constrained portfolio then earns.

The mandate here: long-only, no stock above 15 %, the first five stocks together at most 40 %, and at most 0.4 of turnover per rebalance against the weights actually held (training samples start from equal weights). The risk aversion, γ = 100 on scaled returns, keeps most solutions off the vertices: where the constraints pin every weight, the portfolio does not move with the forecasts and the gradient is zero (at γ = 5, 94 % of the solves ended there and the network learned little). The layer's gradients match cvxpylayers to 1e-5 (`tests/allocation_layers.rs`); the counts printed below say how many solves had a degenerate active set (their gradient is a one-sided derivative) and how many ended at a vertex where more constraints meet than pin the weights (the gradient there is that of the pinned portfolio: zero in the weights the vertex fixes)."""),
    code("""let layer = MarkowitzLayer::params(recent.n_assets())
    .risk_aversion(100.0)
    .bounds(0.0, 0.15)
    .group("first five", &[0, 1, 2, 3, 4], 0.0, 0.4)
    .turnover(0.4)
    .build()?;
fn headed(name: &str, head: AllocationHead) -> DeepStrategy {
    DeepStrategy::new(name, DeepAllocator::params().head(head).seed(1), 12)
}
let started = std::time::Instant::now();
let heads = Backtest::params().schedule(Schedule::Every(20)).lookback(1008).cost_bps(10.0).run(&recent, strategies![
    headed("deep softmax", AllocationHead::Softmax(1.0)),
    headed("deep sparsemax", AllocationHead::Sparsemax),
    headed("deep Markowitz layer", AllocationHead::Markowitz(layer.clone())),
])?;
let s = layer.stats();
println!("{} strategies in {:.0} s", heads.reports.len(), started.elapsed().as_secs_f64());
println!("the layer solved {} programs: {} with a degenerate active set, {} at a vertex with dependent active rows, {} covariances repaired",
    s.solves, s.degenerate, s.dependent, s.repaired);
heads.gross_net_table()"""),
    code('heads.plot_weights("deep Markowitz layer")?'),
    code("heads.verdicts()"),
    md("""## What to take away

* The network, both losses and their gradients are checked against PyTorch and finite differences; on synthetic data it learns what it should (the tests: a planted higher-Sharpe asset gets the largest weight, and a large λ moves it to the minimum-variance weights).
* On real prices, judge it by the verdicts: out of sample, net of costs, beside 1/N and the classic optimisers. The tanh–softmax head keeps weights close to equal (at most 28 % per stock here), so the network is, by construction, a tilt around 1/N.
* The Markowitz head holds the mandate by construction on every rebalance (caps, group, turnover against the held weights); whether its learned means beat 1/N is again the verdicts' call, not the training loss's.
* Retraining more often (`retrain_every = 1`), longer training and other sizes are one argument away; so is the Sharpe loss."""),
]
write("06_deep", cells)
