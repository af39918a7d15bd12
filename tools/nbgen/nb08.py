"""Writes notebooks/08_hierarchical.ipynb (run: python3 tools/nbgen/nb08.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 08 · Hierarchical allocation: HRP, HERC and NCO

Allocations that never invert a covariance matrix: the assets are arranged in a tree by how they co-move, and the weight flows down the tree.

- **The tree.** A distance between assets — $\\sqrt{\\tfrac12(1-\\rho)}$ by default — and a linkage (single, complete, average, Ward) on kodama, the Rust port of fastcluster; the merges and heights are SciPy's.
- **HRP** (López de Prado 2016): the assets in the tree's leaf order are split in halves, recursively; each half receives a share of its parent's weight inversely proportional to its risk.
- **HERC** (Raffinot 2018): the tree is cut into clusters (the two-order difference gap rule picks how many); inverse-risk weights inside each cluster, risk parity between branches above the cut.
- **NCO** (López de Prado 2019): any optimiser inside each cluster, then any optimiser across the clusters' portfolios.

The tests hold the tree to SciPy, HRP and HERC to skfolio to $10^{-8}$ for every linkage and HRP to PyPortfolioOpt; NCO to skfolio within the solvers' tolerance.

**Honesty rules.** Weights are fitted on data before 2016 and held through 2016–2022, and the walk-forward re-fits every month on the trailing year only, net of 10 bps, beside 1/N with a verdict."""),
    code(":cache 2048\n:opt 0"),
    code(':dep assetalloc = { path = "..", default-features = false, features = ["optimize"] }'),
    code("use assetalloc::prelude::*;"),
    md("""## The tree

Daily simple returns of the 20 bundled S&P 500 stocks before 2016. The dendrogram joins the most correlated stocks first; in leaf order the correlation matrix shows its blocks on the diagonal."""),
    code("""let returns = datasets::sp500()?.returns(ReturnKind::Simple)?;
let (train, test) = returns.split(Split::AfterDate("2015-12-31".parse()?))?;
let tree = Hierarchy::params().linkage(Linkage::Ward).fit(&train)?;
println!("leaf order: {}", tree.leaves().join(", "));
println!("clusters by the gap rule: {}", tree.optimal_clusters());
tree.dendrogram()"""),
    code("tree.heatmap()"),
    md("""## Weights

HRP, HERC and NCO (minimum variance inside and across clusters) on the same tree, beside minimum variance itself and 1/N. Minimum variance concentrates on a few low-volatility names; the hierarchical methods spread the weight across the tree."""),
    code("""let hrp = Hierarchical::hrp().solve(&train)?;
let herc = Hierarchical::herc().solve(&train)?;
let nco = Hierarchical::nco(Optimizer::min_variance(), Optimizer::min_variance()).solve(&train)?;
let min_var = Optimizer::min_variance().solve(&Moments::sample().fit(&train)?.annualized())?;
Allocation::largest_table(&[&hrp, &herc, &nco, &min_var], 3)"""),
    code("hrp.plot_weights()"),
    code("herc.plot_weights()"),
    md("""HRP with weight bounds (2 %–8 % per stock): the split factors are clipped so every branch stays within the sums of its members' bounds."""),
    code("""let bounded = Hierarchical::hrp().bounds(0.02, 0.08).solve(&train)?.named("HRP, 2–8 % per stock");
bounded.plot_weights()"""),
    md("""Held from the first test day through 2022, beside 1/N: out-of-sample figures, each with its verdict."""),
    code("""let held = OutOfSample::hold(&[&hrp, &herc, &nco, &bounded, &min_var], &test)?;
held"""),
    code("held.verdicts()"),
    md("""## Walk-forward

Every month, each method is re-fitted on the trailing 252 days only and traded net of 10 bps; 1/N is the baseline the verdicts compare with."""),
    code("""let prices = datasets::sp500()?;
let walk = Backtest::params().schedule(Schedule::Monthly).lookback(252).cost_bps(10.0).run(&prices, strategies![
    HierarchicalStrategy::new("HRP", Hierarchical::hrp()),
    HierarchicalStrategy::new("HERC", Hierarchical::herc()),
    HierarchicalStrategy::new("NCO (min variance ×2)", Hierarchical::nco(Optimizer::min_variance(), Optimizer::min_variance())),
    Optimized::new("minimum variance", Optimizer::min_variance(), Moments::ledoit_wolf()),
])?;
walk"""),
    code("walk.verdicts()"),
    code("walk.plot_equity()"),
]
write("08_hierarchical", cells)
