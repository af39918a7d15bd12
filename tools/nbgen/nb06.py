"""Writes notebooks/06_deep.ipynb (run: python3 tools/nbgen/nb06.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 06 · End-to-end deep allocation: CNN+LSTM weights trained on a portfolio objective

No return forecast in between: a network reads the last $n_{time} = 20$ days of $N$ assets' log returns and outputs long-only weights, and training maximises what those weights would have earned over the **next** $n_{future} = 20$ days.

**Network** (the study's): Conv1D over time (64 filters, kernel 3, ReLU) → MaxPool1D(2) → LSTM(32, full sequence) → LSTM(16, last state) → Dense($N$, tanh) → softmax. The LSTM is the forecasting stage's (PyTorch-equal); the tests check the whole network, both losses and every gradient against a PyTorch reference and finite differences. The tanh before the softmax caps any weight at $e^2/(e^2+N-1)$ — 0.28 for 20 stocks — so this head never concentrates.

**Losses.** With $p_t = w^\\top R_t$ the portfolio's returns over the future window:
* Markowitz / certainty equivalent: maximise $\\bar p - \\lambda\\, s_p^2 = w\\cdot\\bar R - \\lambda\\, w^\\top C w$ (optionally $-\\ell_2\\lVert w\\rVert^2$);
* Sharpe (Zhang, Zohren & Roberts 2020): maximise $\\bar p / s_p$ over the window.

**Scaling.** Returns are multiplied by $n_{time} = 20$ as inputs and in the loss, as in the study, so $\\lambda$ weighs $400\\times$ daily variance against $20\\times$ daily mean: $\\lambda = 0.1$ is a daily risk aversion of 2.

**Honesty.** Judged only in the walk-forward backtest: on each rebalance (every 20 days) the weights come from a network trained on the trailing window alone (its latest 20 % validates for early stopping, and training targets end before validation targets begin). Beside it: 1/N, minimum variance, maximum Sharpe and buy-and-hold of the first asset, gross and net of 10 bps costs.

**Size.** Sized for a few minutes on 2 cores: 4-year training windows, retraining every 12 rebalances (about yearly), at most 30 epochs with patience 5. Knobs for the full-size study: `DeepStrategy::new(name, params, retrain_every)` with `retrain_every = 1`, `.epochs(..)`, `.patience(None)`, `Architecture { .. }`, and the backtest's `.lookback(..)`."""),
    code(":cache 2048\n:opt 0"),
    code(':dep assetalloc = { path = "..", default-features = false, features = ["nn", "optimize"] }'),
    code("use assetalloc::prelude::*;"),
    md("""## A CSV of log returns with a `date` column

A common published format: one row per weekday, log returns, and **zero** on market holidays. We write the bundled S&P 500 that way (20 stocks) and read it back with the ordinary loader; zero rows need nothing special."""),
    code("""let prices = datasets::sp500()?;
let log = prices.returns(ReturnKind::Log)?;
std::fs::create_dir_all("../target/notebooks")?;
let path = "../target/notebooks/sp500_log_returns.csv";
{
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "date,{}", log.assets().join(","))?;
    let mut k = 0;
    let mut day = log.start();
    while day <= log.end() {
        if day.weekday().number_from_monday() <= 5 {
            let row: Vec<String> = if log.dates()[k] == day {
                k += 1;
                log.values().row(k - 1).iter().map(|v| format!("{v:.8}")).collect()
            } else {
                vec!["0".to_string(); log.n_assets()] // holiday
            };
            writeln!(f, "{day},{}", row.join(","))?;
        }
        day = day.succ_opt().unwrap();
    }
}
let csv = Load::csv(path).returns(ReturnKind::Log)?;
let holidays = csv.values().rows().into_iter().filter(|r| r.iter().all(|v| *v == 0.0)).count();
println!("{} rows × {} assets from {} to {}; {holidays} all-zero (holiday) rows", csv.len(), csv.n_assets(), csv.start(), csv.end());"""),
    md("""## One network, trained on 2000–2011

The study's settings (λ = 0.1) on the CSV's 2000–2011 rows. A line prints as each epoch ends: the training and validation loss are $-(\\text{certainty equivalent})$ on scaled returns, so lower is better."""),
    code("""fn d(s: &str) -> NaiveDate { NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap() }
let train = csv.between(Some(d("2000-01-01")), Some(d("2011-12-31")))?;
let single: Allocator = DeepAllocator::params().seed(1).fit(&train)?;
println!("training targets {:?}, validation targets {:?}", single.train_targets(), single.validation_targets());
single.history().clone()"""),
    code("single.history().plot()"),
    code("""{
    let w = single.weights(train.values())?;
    let mut t = Table::new(["asset", "weight for January 2012"]);
    for (a, v) in single.assets().iter().zip(w.iter()) {
        t.push(vec![assetalloc::display::Cell::from(a.as_str()), assetalloc::display::Cell::Pct(*v, 1)]);
    }
    t
}"""),
    md("""## The λ sweep in the walk-forward backtest, S&P 500 2012–2022

Four networks — Markowitz λ = 0, 0.1, 0.15 and the Sharpe loss — each retrained about yearly on the trailing four years (1,008 days), rebalancing every 20 days, beside the baselines. All strategies run on their own threads; this cell takes a few minutes."""),
    code("""let recent = prices.between(Some(d("2008-01-01")), None)?;
let first = recent.assets()[0].clone();
fn deep(name: &str, loss: PortfolioLoss, seed: u64) -> Box<dyn Strategy> {
    Box::new(DeepStrategy::new(name, DeepAllocator::params().objective(loss).seed(seed), 12))
}
let started = std::time::Instant::now();
let sweep = Backtest::params().schedule(Schedule::Every(20)).lookback(1008).cost_bps(10.0).run(&recent, vec![
    deep("deep Markowitz λ=0", PortfolioLoss::markowitz(0.0), 1),
    deep("deep Markowitz λ=0.1", PortfolioLoss::markowitz(0.1), 1),
    deep("deep Markowitz λ=0.15", PortfolioLoss::markowitz(0.15), 1),
    deep("deep Sharpe", PortfolioLoss::Sharpe, 1),
    Box::new(Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf())),
    Box::new(Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf())),
    Box::new(BuyAndHold::asset(&first)),
])?;
println!("walk-forward with {} strategies in {:.0} s", sweep.reports.len(), started.elapsed().as_secs_f64());
sweep"""),
    code("sweep.gross_net_table()"),
    code("sweep.plot_risk_return()"),
    code("sweep.plot_equity()"),
    code('sweep.plot_weights("deep Markowitz λ=0.1")?'),
    md("""**Reading.** The lines below are computed from the table: each network's net Sharpe ratio beside 1/N's, with the probabilistic Sharpe ratio (the probability that the network's true Sharpe ratio beats 1/N's measured one, given the sample length and the returns' skew and kurtosis)."""),
    code("""fn verdicts(cmp: &Comparison) {
    let bench = cmp.get("1/N (equal weight)").unwrap().metrics();
    for r in cmp.reports.iter().filter(|r| r.name.starts_with("deep")) {
        let m = r.metrics();
        let psr = m.psr(bench.sharpe_periodic);
        let verdict = if psr >= 0.95 { "beats 1/N (PSR ≥ 95 %)" } else if psr <= 0.05 { "is worse than 1/N (PSR ≤ 5 %)" } else { "is not distinguishable from 1/N" };
        println!("{:<24} net Sharpe {:.2} (vol {:.1} %) vs 1/N {:.2} (vol {:.1} %): {verdict}", r.name, m.sharpe, 100.0 * m.volatility, bench.sharpe, 100.0 * bench.volatility);
    }
}
verdicts(&sweep);"""),
    md("""## The factor ETFs, 2017–2022 (first decisions after a 3-year window)

Five factor ETFs (MTUM momentum, QUAL quality, SIZE size, USMV minimum volatility, VLUE value): fewer, more correlated assets. Same protocol, λ = 0.1 and the Sharpe loss."""),
    code("""let etfs = datasets::factors()?;
let factors = Backtest::params().schedule(Schedule::Every(20)).lookback(756).cost_bps(10.0).run(&etfs, vec![
    deep("deep Markowitz λ=0.1", PortfolioLoss::markowitz(0.1), 2),
    deep("deep Sharpe", PortfolioLoss::Sharpe, 2),
    Box::new(Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf())),
    Box::new(Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf())),
    Box::new(BuyAndHold::asset(&etfs.assets()[0].clone())),
])?;
verdicts(&factors);
factors.gross_net_table()"""),
    md("""## What to take away

* The network, both losses and their gradients are checked against PyTorch and finite differences; on synthetic data it learns what it should (the tests: a planted higher-Sharpe asset gets the largest weight, and a large λ moves it to the minimum-variance weights).
* On real prices, judge it by the verdict lines: out of sample, net of costs, beside 1/N and the classic optimisers. The tanh–softmax head keeps weights close to equal (at most 28 % per stock here), so the network is, by construction, a tilt around 1/N.
* Retraining more often (`retrain_every = 1`), longer training and other sizes are one argument away; so is the Sharpe loss."""),
]
write("06_deep", cells)
