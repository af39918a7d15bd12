"""Writes notebooks/04_forecast.ipynb (run: python3 tools/nbgen/nb04.py, or tools/nbgen/all.py for every notebook)."""
from common import md, code, write

cells = [
    md("""# 04 · Forecasting returns with an LSTM, out of sample

An LSTM reads the last 20 days of returns and forecasts the next day's. The layer is written on dfdx's differentiable operations with PyTorch's `nn.LSTM` semantics — gate order $(i, f, g, o)$, weight layout, initialisation — and the tests check it against PyTorch to $10^{-5}$, gradients included. Weights save to safetensors under PyTorch's names.

**Honesty rules.** Samples are split in time order into training, validation (early stopping) and test blocks; the scaler is fitted on the training rows only; every score below is on the test block, beside three naive forecasts: the training mean (historical mean), zero, and the window's trailing mean. The Diebold–Mariano $t$ says whether the LSTM's squared-error gain over the historical mean is more than noise.

**Size.** Defaults are the prototype's (2 layers × 32, window 20, Adam, MSE, 30 epochs) with early stopping (patience 5), so a fit takes well under a minute on 2 cores. Knobs for longer runs: `.epochs(..)`, `.patience(None)`, `.hidden(..)`, `.layers(..)`.

**Device.** Training runs where `.device(..)` says. `Device::best()` picks a CUDA GPU in a build with the `cuda` feature where one answers, and otherwise the CPU with a note saying why; the fitted model comes back on the CPU either way, so nothing below depends on it."""),
    code(":cache 2048\n:opt 0"),
    code(':dep assetalloc = { path = "..", default-features = false, features = ["nn", "optimize"] }'),
    code("use assetalloc::prelude::*;"),
    md("""## One stock: Apple's daily return

The prototype's setting. A progress line prints as each epoch ends (train and validation loss on standardised returns, samples per second)."""),
    code("""let device = Device::best();
println!("training on the {device}");"""),
    code("""let prices = datasets::sp500()?;
let returns = prices.returns(ReturnKind::Simple)?;
let aapl: Forecaster = Forecaster::params().seed(1).device(device.clone()).fit(&returns.select(&["AAPL"])?)?;
aapl.history().clone()"""),
    code("aapl.history().plot()"),
    code("aapl.evaluation()?.clone()"),
    code("""println!("{}", aapl.evaluation()?.verdict());
aapl.plot_predictions("AAPL")?"""),
    md("""## All 20 stocks at once

Twenty returns in, twenty forecasts out, from one network. Scores are pooled over all (date, stock) pairs of the test block."""),
    code("""let multi: Forecaster = Forecaster::params().seed(1).fit(&returns)?;
println!("{}", multi.evaluation()?.verdict());
multi.evaluation()?.clone()"""),
    md("""## A planted signal, and none

The generator plants AR(1) autocorrelation $\\phi = 0.3$ in each asset's daily shock (so about 9 % of the variance is predictable from yesterday). The LSTM should find it; on i.i.d. returns from the same generator it should not beat the historical mean."""),
    code("""let planted = Synthetic::params().assets(2).days(2500).vol(0.01).signal(Signal::Autoregressive { phi: 0.3 }).seed(3).generate()?;
let noise = Synthetic::params().assets(2).days(2500).vol(0.01).seed(3).generate()?;
let small: ForecasterParams = Forecaster::params().lookback(10).hidden(8).layers(1).epochs(12).learning_rate(3e-3).verbose(false);
let fp: Forecaster = small.fit(&planted.prices.returns(ReturnKind::Simple)?)?;
let fn_: Forecaster = small.fit(&noise.prices.returns(ReturnKind::Simple)?)?;
println!("planted AR(1): {}", fp.evaluation()?.verdict());
println!("i.i.d. noise:  {}", fn_.evaluation()?.verdict());
fp.evaluation()?.clone()"""),
    md("""## Forecasts as expected returns, in the walk-forward backtest

Each month the strategy forecasts next-day returns for all 20 stocks with a network trained only on the trailing three years (the last 15 % validates, for early stopping), turns them into annualised expected returns, and solves mean-variance ($\\lambda = 10$) with the Ledoit–Wolf covariance of the same window. It retrains once a year. Beside it: 1/N and min-variance, all net of 10 bps costs, 2012–2022. A smaller network (1 × 16, 10 epochs) keeps this to a couple of minutes; `LstmStrategy::new(name, params, λ, retrain_every)` takes any settings."""),
    code("""let recent = prices.between("2009-01-01", None)?;
let lstm_params: ForecasterParams = Forecaster::params().hidden(16).layers(1).epochs(10).seed(5);
let cmp = Backtest::params().schedule(Schedule::Monthly).lookback(756).cost_bps(10.0).run(&recent, strategies![
    LstmStrategy::new("LSTM forecasts, mean-variance λ=10", lstm_params, 10.0, 12),
    Optimized::new("min variance (Ledoit–Wolf)", Optimizer::min_variance(), Moments::ledoit_wolf()),
])?;
cmp"""),
    code("cmp.plot_equity()"),
    code("""cmp.verdicts()"""),
    md("""## PyTorch interoperability

The weights file uses PyTorch's names and shapes, so `Regressor.load_state_dict(safetensors.torch.load_file(path))` loads it into a module with `lstm = nn.LSTM(20, 32, 2, batch_first=True)` and `head = nn.Linear(32, 20)` (the window, assets and scaler travel in the file's metadata). `tools/reference/lstm.py --verify DIR` checks predictions match after the round trip."""),
    code("""multi.save("../target/notebooks/lstm_sp500.safetensors")?;
let back: Forecaster = Forecaster::load("../target/notebooks/lstm_sp500.safetensors")?;
println!("reloaded forecast equals the original: {}", back.predict_next(returns.values())? == multi.predict_next(returns.values())?);
back.parameters_table()"""),
    md("""## What to take away

* The LSTM is PyTorch's, numerically: same outputs, states and gradients to $10^{-5}$ on reference fixtures, gradients also checked against finite differences.
* Daily stock returns are close to unpredictable from their own past: read the verdict lines and the Diebold–Mariano $t$, not the loss curve. The planted case shows the model does learn when there is something to learn.
* In the backtest the forecasts are judged where it matters — net of costs, beside 1/N."""),
]
write("04_forecast", cells)
