"""Writes notebooks/09_model_selection.ipynb (run: python3 tools/nbgen/nb09.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 09 · Model selection: many out-of-sample paths, honest tuning, and a look-ahead audit

One walk-forward is one draw of history; a strategy tuned on it is tuned to that draw. This notebook judges strategies the way López de Prado (2018) recommends, and checks the claims that make the judgement worth anything:

- **Combinatorial purged cross-validation (CPCV).** The dates are cut into $N$ folds; every choice of $k$ test folds is a split ($\\binom{N}{k}$ of them), trained on the other folds with a **purge** (rows next to a test block are dropped, so labels and estimates that overlap the test period cannot leak) and an **embargo** (rows just after a test block are dropped too). The test blocks recombine into $\\binom{N-1}{k-1}$ complete out-of-sample paths: a distribution of Sharpe ratios instead of one number. The splits are skfolio's `CombinatorialPurgedCV`, index for index (tested).
- **Hyper-parameter search** over a grid, every trial scored on the same paths, and the winner's Sharpe ratio **deflated** by the number of trials actually made (Bailey & López de Prado 2014).
- **The look-ahead audit.** The returns after a cut date are permuted, replaced by noise, and reversed; any decision dated at or before the cut that moves is a leak, named with its date and assets.
- **The power study.** Synthetic markets with a planted signal of known strength: how often does a pipeline find it, and how often does it "find" one that is not there?

**Honesty rules.** Every Sharpe ratio below is out of sample and net of 10 bps, beside 1/N on the same paths; the search reports its deflated Sharpe ratio; the audit covers every strategy in the crate."""),
    code(":cache 2048\n:opt 0"),
    code(':dep assetalloc = { path = ".." }'),
    code("use assetalloc::prelude::*;\nuse assetalloc::rank::RankPortfolio;"),
    md("""## The splits

The 20 bundled S&P 500 stocks, 8,312 daily returns: $N = 10$ folds, $k = 2$ test folds, a purge and an embargo of 5 days each. 45 splits, 9 paths; each split trains on the blue rows and is tested on the red ones."""),
    code("""let returns = datasets::sp500()?.returns(ReturnKind::Simple)?;
let cpcv = CombinatorialPurged::params().folds(10).test_folds(2).purge(5).embargo(5);
let splits = cpcv.split(returns.len())?;
splits"""),
    code("splits.plot()"),
    md("""## Cross-validated strategies

Each strategy decides on each split's training rows and its weights are held through the split's test blocks, restored monthly, net of 10 bps. Static allocations (the optimisers, HRP, inverse volatility, momentum) decide once per split. The random-forest ranker is a **learned model**: it is fitted on the split's training dates — only those whose whole 5-day label lies in the training rows — and ranks the stocks from each test date's own features every month.

The table gives, per strategy, the distribution of the 9 paths' Sharpe ratios and how often a path beats 1/N's on the same dates."""),
    code("""/// The ranker as a model: features and labels of the whole panel; each split decides which dates train.
fn ranker(r: &Returns) -> Result<RankModel> {
    let p = r.to_prices(100.0)?;
    let f = Features::params().windows(&[5, 21, 63]).kinds(&[Feature::Mean, Feature::Std, Feature::Momentum]).compute(&p)?;
    Ranker::params().horizon(5).min_train(500).trees(30).max_depth(5).seed(7).model(&f, &p, RankPortfolio::TopK(5))
}"""),
    code("""let cv = CrossValidation::params().splitter(cpcv).backtest(Backtest::params().schedule(Schedule::Monthly).lookback(126).cost_bps(10.0));
let evaluated = cv.evaluate(&returns, vec![
    Candidate::new(|| Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf())),
    Candidate::new(|| Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf())),
    Candidate::new(|| Optimized::new("risk parity", Optimizer::risk_parity(), Moments::ledoit_wolf())),
    Candidate::new(|| HierarchicalStrategy::new("HRP", Hierarchical::hrp())),
    Candidate::new(|| InverseVolatility::new(63)),
    Candidate::new(|| Momentum::new(126, 5)),
    Candidate::from_data(ranker),
])?;
evaluated"""),
    code("evaluated.plot_sharpe()"),
    md("""One path in full, with each strategy's verdict against 1/N on that path:"""),
    code("evaluated.population(0)?.verdicts()"),
    md("""## A hyper-parameter search, deflated

Momentum has two knobs: the look-back and how many stocks to hold. Twelve trials, each scored by its mean Sharpe ratio over the same 9 paths. The best of twelve looks better than it is. Any long-only stock portfolio has a positive Sharpe ratio over these 33 years, so the question is not whether the winner beats cash but whether it beats 1/N: the deflated Sharpe ratio is computed on the winner's return **over 1/N's** (its mean path's active return), against the best active Sharpe ratio twelve skill-less trials would be expected to reach given how much the trials' active Sharpe ratios vary:

$$\\mathrm{DSR} = \\Phi\\!\\left(\\frac{\\widehat{SR} - SR^*}{\\hat\\sigma_{\\widehat{SR}}}\\right),\\qquad SR^* = \\sqrt{V}\\Big((1-\\gamma)\\,\\Phi^{-1}(1-\\tfrac1N) + \\gamma\\,\\Phi^{-1}(1-\\tfrac{1}{Ne})\\Big).$$

Trials run over the cores; `shard(i, n)` runs a slice of them, and `SearchResult::read_csv` concatenates the shards' files (see `examples/cv.rs`)."""),
    code("""let grid = Grid::new().num("lookback", [21.0, 63.0, 126.0, 252.0]).num("top", [3.0, 5.0, 10.0]);
let search = Search::grid(grid)
    .cv(CrossValidation::params().splitter(cpcv).backtest(Backtest::params().cost_bps(10.0)))
    .run(&returns, |t: &Trial| Ok(Momentum::new(t.count("lookback")?, t.count("top")?)))?;
let dsr = search.deflated_sharpe()?;
println!("winner: {}; deflated Sharpe ratio of its return over 1/N, over {} trials: {:.1} % ({})",
    search.winner().map(|w| w.trial.label()).unwrap_or_default(), search.total, 100.0 * dsr,
    if dsr >= 0.95 { "it beats 1/N after counting the trials" } else { "it does not beat 1/N once the trials are counted" });
search"""),
    code("search.plot()"),
    md("""## The look-ahead audit

Every strategy in the crate, walked forward monthly on the last 1,000 days; the future after three cut dates is permuted, replaced by noise and reversed, and every decision at or before each cut must stay put to $10^{-12}$. The learned strategies (the ranker's walk-forward scores and its model, the LSTM forecaster, the deep allocator) are built from the panel they are audited on, so anything they take from the future shows. The "later decisions moved" column proves each perturbation reached the strategy (buy-and-hold never trades again, so nothing moves for it).

The last line is a strategy written to cheat: it reads tomorrow's returns from the panel it was built with. The audit names it and the date it first cheated."""),
    code("""struct Peek { returns: Returns }
impl Strategy for Peek {
    fn name(&self) -> String { "peeks one day ahead".into() }
    fn decide(&mut self, w: &Window<'_>, _: assetalloc::ndarray::ArrayView1<'_, f64>) -> Result<Option<assetalloc::ndarray::Array1<f64>>> {
        let t = self.returns.dates().binary_search(&w.end()).map_err(|_| Error::Shape(format!("{} is not in the panel", w.end())))?;
        let tomorrow = self.returns.values().row((t + 1).min(self.returns.len() - 1)).to_owned();
        let mut x = assetalloc::ndarray::Array1::zeros(tomorrow.len());
        x[assetalloc::stats::descending(&tomorrow.to_vec())[0]] = 1.0;
        Ok(Some(x))
    }
}"""),
    code("""/// The ranker's walk-forward scores, computed from the whole panel in advance.
fn walk_ranking(r: &Returns) -> Result<assetalloc::rank::RankStrategy> {
    let p = r.to_prices(100.0)?;
    let f = Features::params().windows(&[5, 21]).kinds(&[Feature::Mean, Feature::Momentum]).compute(&p)?;
    Ok(Ranker::params().horizon(5).refit_every(63).min_train(250).trees(20).max_depth(4).seed(7).fit(&f, &p)?.strategy(RankPortfolio::TopK(5)))
}
/// The ranker as a model refitted on its window every third decision.
fn walk_model(r: &Returns) -> Result<RankModel> {
    let p = r.to_prices(100.0)?;
    let f = Features::params().windows(&[5, 21]).kinds(&[Feature::Mean, Feature::Momentum]).compute(&p)?;
    Ranker::params().horizon(5).refit_every(3).min_train(150).trees(20).max_depth(4).seed(7).model(&f, &p, RankPortfolio::TopK(5))
}
/// Black–Litterman with one view: last quarter's best stock beats its worst by 5 % a year.
fn black_litterman(assets: &[String]) -> BlackLittermanStrategy {
    let market: Vec<(&str, f64)> = assets.iter().map(|a| (a.as_str(), 1.0)).collect();
    BlackLittermanStrategy::new("Black–Litterman (momentum view)", BlackLitterman::params().market(&market).risk_aversion(2.5),
        Moments::ledoit_wolf(), Optimizer::max_sharpe(0.0),
        |w: &Returns| {
            let v = w.values();
            let recent = v.slice(assetalloc::ndarray::s![v.nrows() - 63.., ..]).sum_axis(assetalloc::ndarray::Axis(0));
            let order = assetalloc::stats::descending(&recent.to_vec());
            Ok(vec![View::relative(&w.assets()[order[0]], &w.assets()[order[order.len() - 1]], 0.05)])
        })
}"""),
    code("""let recent = returns.tail(1000)?;
let assets: Vec<String> = recent.assets().to_vec();
let audit = Audit::params().backtest(Backtest::params().schedule(Schedule::Monthly).lookback(300).cost_bps(10.0)).run(&recent, vec![
    Candidate::new(BuyAndHold::new),
    Candidate::new(|| InverseVolatility::new(63)),
    Candidate::new(|| Momentum::new(126, 5)),
    Candidate::new(|| Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf())),
    Candidate::new(|| Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf())),
    Candidate::new(|| Optimized::new("risk parity", Optimizer::risk_parity(), Moments::ledoit_wolf())),
    Candidate::new(|| Optimized::new("minimum CVaR", Optimizer::min_cvar(0.95), Moments::sample())),
    Candidate::new(|| Optimized::factor_model("minimum variance, 3-factor PCA", Optimizer::min_variance(), FactorModel::pca(assetalloc::estimate::Components::Count(3)))),
    Candidate::new(move || black_litterman(&assets)),
    Candidate::new(|| HierarchicalStrategy::new("HRP", Hierarchical::hrp())),
    Candidate::new(|| HierarchicalStrategy::new("HERC", Hierarchical::herc())),
    Candidate::new(|| HierarchicalStrategy::new("NCO", Hierarchical::nco(Optimizer::min_variance(), Optimizer::min_variance()))),
    Candidate::from_data(walk_ranking),
    Candidate::from_data(walk_model),
    Candidate::new(|| LstmStrategy::new("LSTM forecaster", Forecaster::params().lookback(10).hidden(8).layers(1).epochs(2).verbose(false), 10.0, 6)),
    Candidate::new(|| DeepStrategy::new("deep allocator", DeepAllocator::params().architecture(Architecture { filters: 4, kernel: 3, pool: 2, hidden1: 4, hidden2: 4 }).epochs(2).verbose(false), 6)),
    Candidate::from_data(|r: &Returns| Ok(Peek { returns: r.clone() })),
])?;
println!("caught: {:?}", audit.caught());
audit"""),
    md("""## Pre-selection and stacking

Two ways to narrow or combine before trading, both decided on each rebalance day from that day's window only:

- **Pre-selection** runs steps in front of an optimiser: here, of each pair of stocks correlated above 0.6 the one more correlated with the rest is dropped, then only the non-dominated stocks (no other has a higher mean and a lower variance over the window) are kept, at least 8 of them. The table shows what the steps drop on the first year of the last ten (in sample: it shows the rule, not a result).
- **Stacking** treats allocations as assets: minimum variance, maximum Sharpe, inverse volatility and HRP are each cross-validated on the window (5 folds, each tested once), and an outer minimum-variance optimiser weights their out-of-sample returns $r_{k,t} = w_k^\top R_t$; the stack holds $W\alpha$, the inner allocations refitted on the whole window, combined. The outer step never sees an inner allocation's in-sample returns.

All three walk forward over the last ten years, monthly, on a 252-day window, net of 10 bps, beside 1/N with verdicts."""),
    code("""let recent = returns.tail(2520)?;
let pre = Preselection::params().drop_correlated(0.6).keep_non_dominated(8);
pre.fit(&recent.head(252)?)?"""),
    code("""let stack = Stacking::params().inner(vec![
    Candidate::new(|| Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf())),
    Candidate::new(|| Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), Moments::ledoit_wolf())),
    Candidate::new(|| InverseVolatility::new(252)),
    Candidate::new(|| HierarchicalStrategy::new("HRP", Hierarchical::hrp())),
]);
let combined = Backtest::params().schedule(Schedule::Monthly).lookback(252).cost_bps(10.0).run_returns(&recent, vec![
    Box::new(Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf())),
    Box::new(pre.then(Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf()))),
    Box::new(stack.strategy("stack")),
])?;
combined.verdicts()"""),
    md("""## The power study

Cross-sectional momentum planted in synthetic markets of 10 stocks and 1,000 days at information coefficients from 0 to 0.1 (each date's 20-day momentum z-score correlates with the next day's shocks at that level), 100 markets per strength. The pipeline is the momentum strategy above (top 3 on a 20-day look-back), traded daily net of 10 bps. A market counts as a detection when the probabilistic Sharpe ratio of the strategy's active return over 1/N reaches 95 %. At strength 0 that rate is the false-positive rate: without costs it sits near the nominal 5 % (the tests hold it inside the binomial band over 300 markets); net of costs the strategy's expected active return is negative when there is nothing to find, so the rate falls below 5 % — the costs are part of the test, as they would be in trading."""),
    code("""let power = PowerStudy::params()
    .market(Synthetic::params().assets(10).days(1000))
    .signal(|ic| Signal::CrossSectionalMomentum { ic, lookback: 20 })
    .strengths([0.0, 0.01, 0.02, 0.03, 0.05, 0.1])
    .markets(100)
    .seed(9)
    .backtest(Backtest::params().lookback(21).schedule(Schedule::Every(1)).cost_bps(10.0))
    .run(|_: &SyntheticMarket| Ok(Momentum::new(20, 3)))?;
power"""),
    code("power.plot()"),
]
write("09_model_selection", cells)
