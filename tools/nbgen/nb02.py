"""Writes notebooks/02_features.ipynb (run: python3 tools/nbgen/nb02.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 02 · Features, forward targets and random-forest feature selection

Per-asset rolling features, the forward return each date is scored against, and a random forest (linfa) that says which features carry information — fitted on an early block, judged on a later one.

**Honesty rules.** A feature at date $t$ uses prices up to $t$ only; the target at $t$ is the return over $t+1 \\dots t+h$. The forest is fitted on the training block; a purge of $h$ dates separates it from the held-out block, so no training label overlaps a held-out one. Every held-out number stands beside a naive baseline (each feature alone)."""),
    code(":cache 2048\n:opt 0"),
    code(':dep assetalloc = { path = "..", default-features = false, features = ["ml"] }'),
    code("use assetalloc::prelude::*;"),
    md("""## Features on the S&P 500 stocks

For each window $w$: rolling mean and standard deviation of daily returns, momentum as $p_t/p_{t-w}-1$ and as the prototype's $p_t - p_{t-w}$, EWMA volatility (span $w$), downside deviation, distance from the $w$-day moving average; plus each feature's cross-sectional rank per date. The first $\\max w$ dates cannot be computed and are dropped — the table caption counts them."""),
    code("""let prices = datasets::sp500()?;
let features = Features::params()
    .windows(&[10, 21, 63, 252])
    .cross_section(&[CrossSection::Rank])
    .compute(&prices)?;
println!("{} features, {} dates × {} assets, {} warm-up dates dropped", features.n_features(), features.dates().len(), features.assets().len(), features.warmup());
features"""),
    md("The same data as a polars frame in long form (date, asset, features) — ready for anything else in the Rust data ecosystem:"),
    code("""{
    let df = features.to_dataframe()?;
    println!("shape {:?}", df.shape());
    println!("{}", df.head(Some(3)));
}"""),
    md("""## How the features relate

Pooled correlation over all dates and assets, for the 10- and 252-day families. Momentum as a ratio and as a price difference carry nearly the same ordering within one asset, but the difference form scales with the price level — one reason the prototype's version is a poor cross-sectional feature."""),
    code("""let some = features.select(&["mean_10", "std_10", "mom_10", "momdiff_10", "ewmavol_10", "downvol_10", "madist_10", "mom_252", "std_252", "rank(mom_252)"])?;
some.plot_correlation()"""),
    md("""## Which features predict next month's cross-section?

Target: the 21-day forward return's quintile within each date's cross-section (linfa's trees classify). Training dates are taken every 21 days, so training labels do not overlap; the last 30 % of dates are held out.

* **Impurity importance** — training block only; this is what `select_top` uses.
* **Permutation importance** — the drop in the forest's held-out rank IC when one feature is shuffled; within ±2 standard errors of zero it is noise.
* **Baseline** — each feature's own held-out rank IC (the "alone" columns)."""),
    code("""let selection = Selector::params().horizon(21).trees(100).seed(7).fit(&features, &prices)?;
selection"""),
    code("selection.plot_impurity()"),
    code("selection.plot_permutation()"),
    code("""let top = selection.select_top(10)?;
let best_alone = (0..selection.names.len()).max_by(|&a, &b| selection.train_ic[a].abs().total_cmp(&selection.train_ic[b].abs())).unwrap_or(0);
let sign = selection.train_ic[best_alone].signum();
println!("top 10 by training-block impurity: {}", top.join(", "));
println!("forest held-out rank IC {:+.4} ± {:.4} (se)", selection.holdout_ic, selection.holdout_ic_se);
println!("baseline — best training-block feature alone ({}, sign from training): held-out IC {:+.4}", selection.names[best_alone], sign * selection.univariate_ic[best_alone]);"""),
    md("""**Reading.** On these 20 large US stocks a month ahead, the forest's held-out rank IC is small compared with its standard error — the features explain little of next month's cross-section, and the permutation importances mostly sit inside the noise band. That is the honest result on real data: the in-sample, same-day importance ranking of the original prototype is not evidence of predictive power.

## A planted signal: the method finds what is there

The synthetic generator plants a feature $x_{i,t}$ with a known information coefficient on the next day's return. Added to the same rolling features, it should rank first by both importances — and on a market without a signal, no permutation importance should leave the noise band."""),
    code("""let planted = Synthetic::params().assets(20).days(2000).signal(Signal::LaggedFeature { ic: 0.1 }).seed(11).generate()?;
let planted_features = Features::params().windows(&[5, 21, 63]).compute(&planted.prices)?
    .with_panel("planted signal", planted.signal_feature()?)?;
let planted_sel = Selector::params().horizon(1).trees(40).seed(3).fit(&planted_features, &planted.prices)?;
planted_sel"""),
    code("planted_sel.plot_permutation()"),
    code("""let noise = Synthetic::params().assets(20).days(2000).seed(12).generate()?;
let noise_features = Features::params().windows(&[5, 21, 63]).compute(&noise.prices)?;
let noise_sel = Selector::params().horizon(1).trees(40).seed(3).fit(&noise_features, &noise.prices)?;
let outside = noise_sel.permutation.iter().filter(|p| p.abs() > 2.0 * noise_sel.holdout_ic_se).count();
println!("planted market: top feature by impurity = {}, by permutation = {}", planted_sel.names[planted_sel.order()[0]], planted_sel.names[planted_sel.order_by_permutation()[0]]);
println!("noise market: forest held-out IC {:+.4} ± {:.4}; {} of {} permutation importances outside ±2 se", noise_sel.holdout_ic, noise_sel.holdout_ic_se, outside, noise_sel.names.len());"""),
    md("""## What to take away

* Features are causal by construction (tested: perturbing prices after $t$ leaves every feature up to $t$ bit-identical) and cost one pass per window.
* Selection is fitted on the past and judged on a later block, with the label horizon purged in between and a per-feature baseline beside the model.
* On real S&P 500 stocks, a month ahead, little survives out of sample; on a planted signal, the same machinery finds it. Use `select_top(k)` to pass the training-block favourites to the ranking (05) and forecasting (04) stages."""),
]
write("02_features", cells)
