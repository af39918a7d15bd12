"""Writes notebooks/03_optimize.ipynb (run: python3 tools/nbgen/nb03.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 03 · Convex portfolio optimisation on Clarabel

Estimators of expected returns and covariance, then every objective of the `optimize` module solved by calling Clarabel directly (no modelling layer), constraints in action, and the efficient frontier.

**Honesty rule.** Moments are estimated on a training period (1990–2015). The expected return, volatility and Sharpe ratio printed with each allocation are *in-sample model figures*, labelled as such. What counts is below each group: the portfolios bought at the start of 2016 and held to the end of 2022, beside equal weight (1/N)."""),
    code(""":cache 2048
:opt 0"""),
    code(""":dep assetalloc = { path = "..", default-features = false, features = ["optimize"] }"""),
    code("""use assetalloc::prelude::*;"""),
    md("""## Data and the split in time

Daily simple returns of the 20 bundled S&P 500 stocks. Everything is fitted on the training part; the test part is only ever used to hold portfolios fixed at its start."""),
    code("""let returns = datasets::sp500()?.returns(ReturnKind::Simple)?;
let (train, test) = returns.split(Split::AfterDate("2015-12-31".parse()?))?;
println!("train {} → {} ({} days), test {} → {} ({} days)", train.start(), train.end(), train.len(), test.start(), test.end(), test.len());"""),
    md("""## Estimators

* sample mean and covariance ($T-1$ divisor);
* EWMA with a half-life of 126 days (recent data count more);
* Ledoit–Wolf shrinkage of the covariance towards a scaled identity, and towards constant correlation, with the optimal intensity $\\delta$ estimated from the data;
* oracle approximating shrinkage (OAS) towards the scaled identity, another closed-form intensity;
* the Gerber statistic: co-movements counted only when both returns move by more than half a standard deviation, so small noisy moves do not dilute the correlation;
* Marchenko–Pastur denoising: the correlation's eigenvalues that random noise would produce (below the edge of the Marchenko–Pastur law fitted to them) replaced by their mean.

All are annualised with 252 days a year. The mean column is each estimator's expected return; the volatility column is $\\sqrt{\\Sigma_{ii}}$."""),
    code("""let sample = Moments::sample().fit(&train)?.annualized();
let ewma = Moments::ewma(126.0).fit(&train)?.annualized();
let lw = Moments::ledoit_wolf().fit(&train)?.annualized();
let lw_cc = Moments::ledoit_wolf_constant_correlation().fit(&train)?.annualized();
let oas = Moments::oas().fit(&train)?.annualized();
let gerber = Moments::gerber().fit(&train)?.annualized();
let denoised = Moments::denoised().fit(&train)?.annualized();
for m in [&sample, &ewma, &lw, &lw_cc, &oas, &gerber, &denoised] {
    println!("{}", m.method());
}
lw"""),
    md("""Which covariance estimate gives the steadiest minimum-variance portfolio *out of sample*? Each estimator's minimum-variance weights, bought on the first test day and held, beside 1/N:"""),
    code("""let by_estimator: Vec<Allocation> = [&sample, &ewma, &lw, &lw_cc, &oas, &gerber, &denoised]
    .iter()
    .map(|m| Optimizer::min_variance().solve(m).map(|a| a.named(format!("min variance, {}", m.method()))))
    .collect::<Result<_>>()?;
for a in &by_estimator {
    println!("{:<60} in-sample vol {:.2}%", a.objective(), 100.0 * a.volatility());
}
OutOfSample::hold(&by_estimator.iter().collect::<Vec<_>>(), &test)?"""),
    md("""## Objectives

With $\\mu, \\Sigma$ from Ledoit–Wolf (identity target), long-only and fully invested unless stated:

* **minimum variance** $\\min w^\\top\\Sigma w$;
* **maximum Sharpe**, the true tangency portfolio: $\\max (\\mu-r_f)^\\top w/\\sqrt{w^\\top\\Sigma w}$, solved as $\\min y^\\top\\Sigma y$ s.t. $(\\mu-r_f)^\\top y = 1$, $y \\in \\kappa\\mathcal W$, then $w = y/\\kappa$ (not a mean-variance utility in disguise);
* **mean-variance utility** $\\max \\mu^\\top w - \\frac{\\lambda}{2}w^\\top\\Sigma w$, $\\lambda = 10$;
* **target volatility** $\\max \\mu^\\top w$ s.t. $\\lVert L^\\top w\\rVert \\le 20\\%$ (a second-order cone);
* **risk parity**: equal risk contributions $w_i(\\Sigma w)_i/w^\\top\\Sigma w = 1/N$ via $\\min \\frac12 y^\\top\\Sigma y - \\frac1N\\sum\\ln y_i$ (exponential cones);
* **maximum diversification** $\\max \\sigma^\\top w/\\sqrt{w^\\top\\Sigma w}$;
* **minimum CVaR** at 95 % over the training days as scenarios (a linear programme)."""),
    code("""let min_var = Optimizer::min_variance().solve(&lw)?;
min_var"""),
    code("""let max_sharpe = Optimizer::max_sharpe(0.0).solve(&lw)?;
max_sharpe"""),
    code("""max_sharpe.plot_weights()"""),
    code("""let mean_var = Optimizer::mean_variance(10.0).solve(&lw)?;
let target_vol = Optimizer::target_volatility(0.20).solve(&lw)?;
let parity = Optimizer::risk_parity().solve(&lw)?;
let max_div = Optimizer::max_diversification().solve(&lw)?;
let min_cvar = Optimizer::min_cvar(0.95).solve_scenarios(&train)?;
parity"""),
    md("""Every portfolio above, held through 2016–2022 beside 1/N. In-sample Sharpe ratios of the mean-seeking portfolios are flattering; the test period says how much of it was estimation error."""),
    code("""let held = OutOfSample::hold(&[&min_var, &max_sharpe, &mean_var, &target_vol, &parity, &max_div, &min_cvar], &test)?;
held"""),
    code("""held.plot_equity()"""),
    md("""Each held portfolio against 1/N over the same test period: beats it (probabilistic Sharpe ratio ≥ 95 %), is worse (≤ 5 %), or cannot be told apart."""),
    code("""held.verdicts()"""),
    md("""## Views: Black–Litterman

Sample means are too noisy to optimise on. Black–Litterman starts from the returns that make the market portfolio optimal (equilibrium, $\\pi = \\delta\\Sigma w_m$, with $\\delta$ implied by the S&P 500 index over the training years) and tilts them towards the investor's views, each with a confidence (Idzorek: 0 % leaves the prior, 100 % imposes the view). Market weights here are equal (no capitalisations are bundled). Two views: Apple returns 10 % a year (60 % confident); Microsoft beats AMD by 2 % (30 % confident). The tests hold prior and posterior to PyPortfolioOpt to $10^{-10}$."""),
    code("""let index = datasets::sp500_index()?.returns(ReturnKind::Simple)?.split(Split::AfterDate("2015-12-31".parse()?))?.0;
let delta = BlackLitterman::implied_risk_aversion(&index, 0.0)?;
let equal: Vec<(String, f64)> = train.assets().iter().map(|a| (a.clone(), 1.0)).collect();
let bl = BlackLitterman::params()
    .market(&equal)
    .risk_aversion(delta)
    .view(View::absolute("AAPL", 0.10))
    .view(View::relative("MSFT", "AMD", 0.02))
    .uncertainty(ViewUncertainty::Idzorek(vec![0.6, 0.3]))
    .fit(&lw)?;
println!("implied risk aversion δ = {delta:.2}");
bl"""),
    code("bl.plot()"),
    md("""Maximum Sharpe on the posterior against maximum Sharpe on sample means, both held through the test period beside 1/N:"""),
    code("""let bl_sharpe = Optimizer::max_sharpe(0.0).solve(bl.posterior())?.named("max Sharpe, Black–Litterman posterior");
let views_held = OutOfSample::hold(&[&bl_sharpe, &max_sharpe], &test)?;
views_held.verdicts()"""),
    md("""## Views: entropy pooling

Entropy pooling (Meucci) takes views on the distribution itself: it reweights the training days, moving their probabilities as little as possible in relative entropy, until the views hold on the reweighted history. Here: Apple's mean return is 10 % a year, and Microsoft's volatility is 20 % a year. The posterior reports how many equally likely days it is still worth; the tests hold its probabilities to skfolio's to $10^{-7}$ (L1). Its moments feed any optimiser; maximum Sharpe on them is held through the test period beside the sample-mean one and 1/N:"""),
    code("""use assetalloc::estimate::{Bound, EntropyPooling};
let pooled = EntropyPooling::params()
    .mean("AAPL", Bound::Equal(0.10 / 252.0))
    .volatility("MSFT", Bound::Equal(0.20 / 252f64.sqrt()))
    .fit(&train)?;
let pooled_moments = pooled.moments();
println!("{} · relative entropy {:.4}", pooled_moments.method(), pooled.relative_entropy());
let ep_sharpe = Optimizer::max_sharpe(0.0).solve(&pooled_moments.annualized())?.named("max Sharpe, entropy-pooled views");
OutOfSample::hold(&[&ep_sharpe, &max_sharpe], &test)?.verdicts()"""),
    md("""The pooled probabilities also weigh the scenarios themselves, so a scenario measure sees the views: `solve_pooled` minimises CVaR on the reweighted training days, $\\alpha + \\sum_t p_t u_t/(1-\\beta)$. The views here: Microsoft's volatility is 20 % a year, and GE's worst 5 % of days lose 6 % on average (a CVaR view, pooled exactly: the posterior's CVaR equals it to $10^{-15}$). The minimum-CVaR portfolio on those scenarios is held through the test period beside the one on equally likely days, HRP with CVaR as its cluster risk on the same probabilities (its tree from the posterior's correlations) and 1/N. The tests hold such portfolios to skfolio's on the same probabilities (weights within $10^{-4}$, values never worse; HRP's within $10^{-12}$)."""),
    code("""let stressed = EntropyPooling::params()
    .volatility("MSFT", Bound::Equal(0.20 / 252f64.sqrt()))
    .cvar("GE", 0.95, 0.06)
    .fit(&train)?;
let cvar_95 = RiskMeasure::Cvar { beta: 0.95 };
let pooled_cvar = Optimizer::min_risk(cvar_95).solve_pooled(&stressed)?.named("min CVaR, pooled views");
let plain_cvar = Optimizer::min_risk(cvar_95).solve_scenarios(&train)?.named("min CVaR, equally likely days");
let pooled_hrp = Hierarchical::hrp().measure(cvar_95).solve_pooled(&stressed)?.named("HRP (CVaR), pooled views");
let mut moves: Vec<(String, f64)> = train.assets().iter()
    .map(|a| (a.clone(), pooled_cvar.weight(a).unwrap_or(0.0) - plain_cvar.weight(a).unwrap_or(0.0)))
    .collect();
moves.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
println!("{:.0} effective scenarios of {}; largest moves: {}", stressed.effective_scenarios(), train.len(),
    moves.iter().take(3).map(|(a, d)| format!("{a} {:+.1} %", 100.0 * d)).collect::<Vec<_>>().join(", "));
OutOfSample::hold(&[&pooled_cvar, &plain_cvar, &pooled_hrp], &test)?.verdicts()"""),
    md("""## Factor models

A covariance of 20 stocks has 210 free entries; a factor model explains them with a few factors: $\\Sigma = BFB^\\top + D$. Here the stocks' daily returns are regressed on the five bundled factor ETFs (2014–2022, the dates both panels share); the loadings $B$ show each stock's exposures, $R^2$ how much of its variance the factors explain. The tests hold the regression to numpy's least squares. The optimiser uses the factored form directly ($k$ exposure variables, never the dense matrix)."""),
    code("""let factors = datasets::factors()?.returns(ReturnKind::Simple)?;
let model = FactorModel::regression(&factors).fit(&returns)?;
model"""),
    code("model.plot_loadings()"),
    md("""Out of sample, re-fitted every month on the trailing year, net of 10 bps: minimum variance on the factor model beside minimum variance on Ledoit–Wolf and 1/N."""),
    code("""let since_2014 = datasets::sp500()?.between("2014-01-01", None)?;
let factor_walk = Backtest::params().schedule(Schedule::Monthly).lookback(252).cost_bps(10.0).run(&since_2014, strategies![
    Optimized::factor_model("min variance, 5 ETF factors", Optimizer::min_variance(), FactorModel::regression(&factors)),
    Optimized::new("min variance, Ledoit–Wolf", Optimizer::min_variance(), Moments::ledoit_wolf()),
])?;
factor_walk.verdicts()"""),
    md("""## Constraints in action

Maximum Sharpe with: every weight at most 10 %; the three technology names (AAPL, MSFT, AMD) at most 20 % together; and a turnover cap of 30 % away from an equal-weight book."""),
    code("""let capped = Optimizer::max_sharpe(0.0).constraints(Constraints::long_only().bounds(0.0, 0.10)).solve(&lw)?;
let grouped = Optimizer::max_sharpe(0.0)
    .constraints(Constraints::long_only().group("tech", &["AAPL", "MSFT", "AMD"], 0.0, 0.20))
    .solve(&lw)?;
let limited = Optimizer::max_sharpe(0.0)
    .constraints(Constraints::long_only().previous(vec![0.05; 20]).max_turnover(0.30))
    .solve(&lw)?;
for a in [&max_sharpe, &capped, &grouped, &limited] {
    let tech: f64 = ["AAPL", "MSFT", "AMD"].iter().filter_map(|t| a.weight(t)).sum();
    let largest = a.weights().iter().cloned().fold(0.0, f64::max);
    println!("largest weight {:5.1}%  tech {:5.1}%  turnover vs 1/N {:5.1}%", 100.0 * largest, 100.0 * tech,
        100.0 * a.weights().iter().map(|w| (w - 0.05).abs()).sum::<f64>());
};"""),
    code("""limited"""),
    md("""Constraints that cannot all hold are refused before or by the solver, with the reason:"""),
    code("""for c in [
    Constraints::long_only().bounds(0.0, 0.04),
    Constraints::long_only().group("a", &["AAPL", "MSFT"], 0.5, 1.0).group("b", &["AAPL", "MSFT"], 0.0, 0.3),
] {
    if let Err(e) = Optimizer::min_variance().constraints(c).solve(&lw) {
        println!("refused: {e}");
    }
}
if let Err(e) = Optimizer::max_sharpe(0.5).solve(&lw) {
    println!("refused: {e}");
};"""),
    md("""## The efficient frontier

Minimum variance at 100 target returns from the minimum-variance portfolio's return to the highest achievable one. One Clarabel solver is set up once; between points only the target in the constraint vector $b$ changes, so the factorisation structure is reused. The chart also shows each asset and the minimum-variance, maximum-Sharpe and risk-parity portfolios (all in-sample figures)."""),
    code("""let frontier = Frontier::params().points(100).solve(&lw)?;
frontier"""),
    code("""frontier.plot_frontier()"""),
    md("""With per-asset bounds and full investment as the only constraints, the frontier's weights are piecewise linear in the target return: they change direction only at *turning points*, where an asset reaches a bound or leaves one (Markowitz's critical line algorithm). `critical_line()` finds the turning points with one linear solve each and places every point exactly between them, with no iterative solver; Clarabel's points above agree to its tolerance."""),
    code("""let exact = Frontier::params().points(100).critical_line().solve(&lw)?;
let gap = exact.points.iter().zip(&frontier.points)
    .flat_map(|(a, b)| a.weights().iter().zip(b.weights()).map(|(x, y)| (x - y).abs()).collect::<Vec<f64>>())
    .fold(0.0, f64::max);
println!("{} points by the critical line; largest weight difference to Clarabel's: {gap:.0e}", exact.points.len());"""),
    md("""## Risk beyond variance

Variance penalises gains and losses alike. Scenario measures look at the returns themselves — each training day is one equally likely scenario: CVaR is the mean loss on the worst 5 % of days; CDaR the mean of the worst 5 % of drawdowns of the (uncompounded) cumulative return; `RiskMeasure` also has MAD, semi-deviation, the first lower partial moment, the worst day, the maximum and average drawdown and the Ulcer index. Each is a linear or conic program on Clarabel, and the frontier is traced the same way as above, in the measure's own units (in-sample)."""),
    code("""let cvar_frontier = Frontier::params().points(20).measure(RiskMeasure::Cvar { beta: 0.95 }).solve_scenarios(&train)?;
cvar_frontier.plot_frontier()"""),
    code("""let cdar_frontier = Frontier::params().points(20).measure(RiskMeasure::Cdar { beta: 0.95 }).solve_scenarios(&train)?;
cdar_frontier"""),
    code("""cdar_frontier.plot_frontier()"""),
    md("""Out of sample is what matters: the minimum-CVaR and minimum-CDaR portfolios re-solved every month on the trailing year of returns, beside minimum variance and 1/N, net of 10 bps, with each one's verdict against 1/N."""),
    code("""let prices = datasets::sp500()?;
let tails = Backtest::params().schedule(Schedule::Monthly).lookback(252).cost_bps(10.0).run(&prices, strategies![
    Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf()),
    Optimized::new("minimum CVaR (95 %)", Optimizer::min_risk(RiskMeasure::Cvar { beta: 0.95 }), Moments::sample()),
    Optimized::new("minimum CDaR (95 %)", Optimizer::min_risk(RiskMeasure::Cdar { beta: 0.95 }), Moments::sample()),
])?;
tails"""),
    code("""tails.verdicts()"""),
    md("""### Newer measures beside their classic counterparts

Entropic drawdown at risk (EDaR) is the tightest Chernoff bound on the drawdowns' tail, between CDaR and the maximum drawdown; relativistic value at risk (RLVaR, power cones) deforms EVaR towards the worst loss by Kaniadakis' κ; the Gini mean difference (GMD) is the mean absolute difference between two days' returns, an ordered weighted average of the sorted returns, beside the mean absolute deviation (MAD) from the mean. Each minimum is solved on the last year of training (2015) and held through the test period beside 1/N, with verdicts. `RiskMeasure` also has semi-variance, lower partial moments below a chosen return (`with_mar`), tail Gini, range, CVaR range and tail Gini range, and measures value at risk and drawdown at risk without optimising them."""),
    code("""let last_year = train.between("2015-01-01", None)?;
let newer: Vec<Allocation> = [
    ("minimum CDaR (95 %)", RiskMeasure::Cdar { beta: 0.95 }),
    ("minimum EDaR (95 %)", RiskMeasure::Edar { beta: 0.95 }),
    ("minimum RLVaR (95 %, κ = 0.3)", RiskMeasure::Rlvar { beta: 0.95, kappa: 0.3 }),
    ("minimum MAD", RiskMeasure::MeanAbsoluteDeviation),
    ("minimum GMD", RiskMeasure::GiniMeanDifference),
]
.into_iter()
.map(|(name, m)| Ok(Optimizer::min_risk(m).solve_scenarios(&last_year)?.named(name)))
.collect::<Result<_>>()?;
let newer_held = OutOfSample::hold(&newer.iter().collect::<Vec<_>>(), &test)?;
newer_held"""),
    code("""newer_held.verdicts()"""),
    md("""### Robust allocation

Estimation error in the mean is what makes the tangency portfolio fragile. Two answers, each beside its nominal counterpart:

* **worst-case mean**: the mean priced at its worst over an uncertainty set around the estimate, both sets from the sample mean's standard error on the 26 training years (`MeanUncertainty`, scaled to annual units as the Ledoit–Wolf moments are). A box $|\\mu_i - \\hat\\mu_i| \\le \\delta_i$ at 80 % per asset in the maximum Sharpe ratio; an ellipsoid at 50 % for the whole vector in the mean-variance utility ($\\lambda = 10$) — not in the Sharpe ratio, where an ellipsoid shaped like the covariance only lowers every portfolio's ratio by the same constant and leaves the tangency portfolio where it was;
* **distributionally robust mean–CVaR**: mean − CVaR (95 %) at its worst over every return distribution within Wasserstein distance ε = 0.01 of the last five training years (`Optimizer::dr_cvar`), beside the same utility at ε = 0.
* **worst-case covariance**: the minimum variance of a book that may go 30 % short (−20 % to 100 % per asset, gross leverage ≤ 1.6), priced at its worst over every covariance in the box $\Sigma \pm 0.1\,ss^\top$ (`CovarianceUncertainty::proportional`; with short positions the worst case is $w^\top\Sigma w + 0.1\,(s^\top|w|)^2$, a cone program), beside the nominal one.

All are bought at the start of 2016 and held, beside 1/N, with verdicts."""),
    code("""let boxed = MeanUncertainty::box_from(&train, 0.8)?.scaled(252.0);
let ellipsoid = MeanUncertainty::ellipsoid_from(&train, 0.5)?.scaled(252.0);
let recent = train.between("2011-01-01", None)?;
let short_book = Constraints::long_only().bounds(-0.2, 1.0).max_leverage(1.6);
let cov_box = CovarianceUncertainty::proportional(lw.cov(), 0.1)?;
let robust: Vec<Allocation> = vec![
    Optimizer::max_sharpe(0.0).solve(&lw)?.named("max Sharpe"),
    Optimizer::max_sharpe(0.0).robust_mean(boxed).solve(&lw)?.named("max worst-case Sharpe, box 80 %"),
    Optimizer::mean_variance(10.0).solve(&lw)?.named("mean-variance (λ = 10)"),
    Optimizer::mean_variance(10.0).robust_mean(ellipsoid).solve(&lw)?.named("worst-case mean-variance, ellipsoid 50 %"),
    Optimizer::dr_cvar(0.95, 1.0, 0.0).solve_scenarios(&recent)?.named("mean − CVaR (ε = 0)"),
    Optimizer::dr_cvar(0.95, 1.0, 0.01).solve_scenarios(&recent)?.named("robust mean − CVaR (ε = 0.01)"),
    Optimizer::min_variance().constraints(short_book.clone()).solve(&lw)?.named("min variance, 30 % short"),
    Optimizer::min_variance().constraints(short_book).robust_covariance(cov_box).solve(&lw)?
        .named("min worst-case variance, 30 % short"),
];
let robust_held = OutOfSample::hold(&robust.iter().collect::<Vec<_>>(), &test)?;
robust_held"""),
    code("""robust_held.verdicts()"""),
    md("""## From weights to orders

### At most K assets

A manager who can follow ten names asks for the best portfolio of at most ten, not for the ten largest weights of the best portfolio. `Constraints::max_assets(K)` (and `group_max_assets`, and `min_position(t)`: a held asset weighs at least $t$) make the problem mixed-integer; a branch and bound over the convex relaxations solves it (variance in its perspective form, which bounds each node much more tightly), and the allocation reports whether its answer is proven optimal. Minimum variance with at most 10 and at most 5 assets (each of the five at least 10 %), beside the unconstrained one, bought at the start of 2016 and held, with 1/N:"""),
    code("""let free = Optimizer::min_variance().solve(&lw)?;
let ten = Optimizer::min_variance().constraints(Constraints::long_only().max_assets(10)).solve(&lw)?;
let five = Optimizer::min_variance().constraints(Constraints::long_only().max_assets(5).min_position(0.1)).solve(&lw)?;
for a in [&free, &ten, &five] {
    let held = a.weights().iter().filter(|w| **w > 0.0).count();
    println!("{held:>2} assets held · {}", a.search().map_or("no search: convex".to_string(), |s| s.to_string()));
}
let sparse = vec![
    free.named("min variance"),
    ten.clone().named("min variance, at most 10 assets"),
    five.named("min variance, at most 5 assets, each ≥ 10 %"),
];
let sparse_held = OutOfSample::hold(&sparse.iter().collect::<Vec<_>>(), &test)?;
sparse_held"""),
    code("""sparse_held.verdicts()"""),
    md("""### Orders from the current book

Weights become whole shares at the latest prices (end of 2022). The book holds what $500 per stock bought on the first trading day of 2016; the account is worth 100,000 in all (the book plus cash). The orders bring it to the ten-asset target above, paying 0.5 cents a share and 5 bps of the value traded, and minimise the distance to the target in currency: each position's miss, the cash left over and the fees. The greedy method shown here keeps every position within a share of its target; `OrderMethod::Exact` (feature `milp`, HiGHS) proves the optimum."""),
    code("""let prices = datasets::sp500()?;
let first_day = prices.between("2016-01-01", None)?;
let book: Vec<f64> = first_day.panel().values().row(0).iter().map(|p| (500.0 / p).floor()).collect();
let orders = Orders::params()
    .budget(100_000.0)
    .holdings(book)
    .per_share_fee(0.005)
    .proportional_fee(0.0005)
    .fit(&ten, &prices)?;
orders"""),
]
write("03_optimize", cells)
