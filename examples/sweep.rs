//! A hyper-parameter sweep spread over processes or machines: every shard
//! is one process, on a laptop, under GNU parallel or as a Slurm job array
//! (`tools/slurm/`), and the gathered result equals the single-process
//! search bit for bit.
//!
//! ```text
//! # shard I of N: writes OUT/shard-I-of-N.csv
//! cargo run --release --example sweep -- run --manifest m.json --index I --of N --out OUT
//! # every shard's file → OUT/gathered.csv, OUT/report.html; the winner's
//! # deflated Sharpe ratio over all the trials
//! cargo run --release --example sweep -- gather --manifest m.json --of N --out OUT
//! # the whole search in this process → OUT/single.csv
//! cargo run --release --example sweep -- single --manifest m.json --out OUT
//! ```
//!
//! The manifest (JSON) names the data, the strategy, its grid, the
//! cross-validation and the seed:
//!
//! ```json
//! {"data": "data/sp500.csv", "strategy": "momentum",
//!  "grid": {"lookback": [21, 63, 126, 252], "top": [3, 5, 10]},
//!  "trials": null, "seed": 42,
//!  "cv": {"folds": 10, "test_folds": 2, "purge": 5, "embargo": 5, "cost_bps": 10}}
//! ```
//!
//! `data` is a CSV of prices (a `date` column, one column per asset; a path
//! relative to the manifest's folder), a bundled set (`sp500`, `factors`)
//! or a seeded synthetic factor market (`synthetic:ASSETS,DAYS,SEED`).
//! Strategies and their grid's parameters: `momentum` (`lookback`, `top`),
//! `inverse_volatility` (`lookback`), `min_variance` and `max_sharpe`
//! (`estimator`: `sample`, `ledoit-wolf`, `oas`), `mean_variance`
//! (`risk_aversion`, `estimator`). `trials` draws that many grid points at
//! random (seeded) instead of the whole grid.
use std::path::{Path, PathBuf};
use std::time::Instant;

use assetalloc::prelude::*;
use assetalloc::selection::{CombinatorialPurged, CrossValidation, Grid, Search, SearchParams, SearchResult, Trial};
use serde_json::{json, Value};

mod cli;
use cli::{usage, Result};

fn main() {
    cli::main(run);
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("");
    let manifest = Manifest::read(cli::flag(&args, "--manifest").ok_or_else(|| usage("--manifest", "is required"))?)?;
    let out = PathBuf::from(cli::flag(&args, "--out").ok_or_else(|| usage("--out", "is required"))?);
    std::fs::create_dir_all(&out).map_err(|e| usage("--out", format!("{}: {e}", out.display())))?;
    match command {
        "run" => {
            let (i, n) = (cli::number(&args, "--index", usize::MAX)?, cli::number(&args, "--of", 0usize)?);
            if n == 0 || i >= n {
                return Err(usage("--index", format!("shard {i} of {n}: needs --of N ≥ 1 and --index in 0..N")));
            }
            let t0 = Instant::now();
            let result = manifest.search()?.shard(i, n).run(&manifest.returns()?, manifest.maker()?)?;
            result.to_csv(shard_path(&out, i, n))?;
            println!(
                "{}",
                json!({"shard": i, "of": n, "trials": result.rows.len(), "seconds": t0.elapsed().as_secs_f64()})
            );
        }
        "single" => {
            let t0 = Instant::now();
            let mut result = manifest.search()?.run(&manifest.returns()?, manifest.maker()?)?;
            // In grid order, as gathered shards are read back.
            result.rows.sort_by_key(|r| r.trial.index);
            result.to_csv(out.join("single.csv"))?;
            println!("{}", json!({"trials": result.rows.len(), "seconds": t0.elapsed().as_secs_f64()}));
        }
        "gather" => {
            let n = cli::number(&args, "--of", 0usize)?;
            if n == 0 {
                return Err(usage("--of", "the number of shards is required (≥ 1)"));
            }
            let files: Vec<PathBuf> = (0..n).map(|i| shard_path(&out, i, n)).collect();
            if let Some((i, f)) = files.iter().enumerate().find(|(_, f)| !f.is_file()) {
                return Err(usage("gather", format!("shard {i} of {n} is missing: no file {}", f.display())));
            }
            let result = SearchResult::read_csv(&files)?;
            let expected = manifest.search()?.trials()?.len();
            if result.total != expected {
                return Err(usage(
                    "gather",
                    format!("the shards hold a search of {} trials, the manifest one of {expected}", result.total),
                ));
            }
            let dsr = result.deflated_sharpe()?;
            result.to_csv(out.join("gathered.csv"))?;
            let html = format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>sweep</title></head><body>{}{}</body></html>",
                result.table().to_html(),
                result.plot().to_inline_html(Some("sweep"))
            );
            std::fs::write(out.join("report.html"), html).map_err(|e| usage("--out", e))?;
            let winner = result.winner().map(|w| w.trial.label()).unwrap_or_default();
            println!("{}", json!({"trials": result.rows.len(), "winner": winner, "deflated_sharpe": dsr}));
        }
        other => return Err(usage("command", format!("unknown command {other:?}; use run, gather or single"))),
    }
    Ok(())
}

fn shard_path(out: &Path, i: usize, n: usize) -> PathBuf {
    out.join(format!("shard-{i}-of-{n}.csv"))
}

/// What a manifest asks for.
struct Manifest {
    dir: PathBuf,
    spec: Value,
}

impl Manifest {
    fn read(path: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| usage("--manifest", format!("{path}: {e}")))?;
        let spec: Value = serde_json::from_str(&text).map_err(|e| usage("--manifest", format!("{path}: {e}")))?;
        let dir = Path::new(path).parent().map(Path::to_path_buf).unwrap_or_default();
        let m = Manifest { dir, spec };
        m.maker()?;
        Ok(m)
    }

    fn returns(&self) -> Result<Returns> {
        let data = self.spec["data"].as_str().ok_or_else(|| usage("data", "the manifest needs \"data\""))?;
        let prices = match data {
            "sp500" => datasets::sp500()?,
            "factors" => datasets::factors()?,
            spec if spec.starts_with("synthetic:") => {
                // synthetic:ASSETS,DAYS,SEED — a seeded factor market.
                let nums: Vec<usize> =
                    spec["synthetic:".len()..].split(',').filter_map(|v| v.trim().parse().ok()).collect();
                let [assets, days, seed] = nums[..] else {
                    return Err(usage("data", format!("{spec:?}: write synthetic:ASSETS,DAYS,SEED")));
                };
                Synthetic::params()
                    .assets(assets)
                    .days(days)
                    .correlation(Correlation::Factors { factors: 3, r2: 0.4 })
                    .seed(seed as u64)
                    .generate()?
                    .prices
            }
            file => {
                let path = self.dir.join(file);
                if !path.is_file() {
                    return Err(usage(
                        "data",
                        format!("no data file {} (named {file:?} in the manifest)", path.display()),
                    ));
                }
                Load::csv(&path).prices()?
            }
        };
        Ok(prices.returns(ReturnKind::Simple)?)
    }

    fn search(&self) -> Result<SearchParams> {
        let mut grid = Grid::new();
        let axes =
            self.spec["grid"].as_object().ok_or_else(|| usage("grid", "the manifest needs a \"grid\" object"))?;
        for (name, values) in axes {
            let values = values.as_array().ok_or_else(|| usage("grid", format!("{name:?} must list its values")))?;
            if values.iter().all(Value::is_number) {
                grid = grid.num(name, values.iter().filter_map(Value::as_f64));
            } else if values.iter().all(Value::is_string) {
                grid = grid.text(name, values.iter().filter_map(|v| v.as_str().map(str::to_string)));
            } else {
                return Err(usage("grid", format!("{name:?} mixes numbers and names")));
            }
        }
        let cv = &self.spec["cv"];
        let count = |k: &str, default: usize| cv[k].as_u64().map_or(default, |v| v as usize);
        let splitter = CombinatorialPurged::params()
            .folds(count("folds", 10))
            .test_folds(count("test_folds", 2))
            .purge(count("purge", 5))
            .embargo(count("embargo", 5));
        let backtest = Backtest::params().cost_bps(cv["cost_bps"].as_f64().unwrap_or(10.0));
        let params = CrossValidation::params().splitter(splitter).backtest(backtest);
        let seed = self.spec["seed"].as_u64().unwrap_or(42);
        let search = match self.spec["trials"].as_u64() {
            Some(k) => Search::random(grid, k as usize),
            None => Search::grid(grid),
        };
        Ok(search.seed(seed).cv(params))
    }

    /// The strategy of a trial, checked by name now.
    fn maker(&self) -> Result<fn(&Trial) -> assetalloc::Result<Named>> {
        let name =
            self.spec["strategy"].as_str().ok_or_else(|| usage("strategy", "the manifest needs \"strategy\""))?;
        Ok(match name {
            "momentum" => |t| Ok(Named(Box::new(Momentum::new(t.count("lookback")?, t.count("top")?)))),
            "inverse_volatility" => |t| Ok(Named(Box::new(InverseVolatility::new(t.count("lookback")?)))),
            "min_variance" => {
                |t| Ok(Named(Box::new(Optimized::new("minimum variance", Optimizer::min_variance(), moments(t)?))))
            }
            "max_sharpe" => {
                |t| Ok(Named(Box::new(Optimized::new("maximum Sharpe", Optimizer::max_sharpe(0.0), moments(t)?))))
            }
            "mean_variance" => |t| {
                let gamma = t.num("risk_aversion")?;
                Ok(Named(Box::new(Optimized::new("mean-variance", Optimizer::mean_variance(gamma), moments(t)?))))
            },
            other => {
                return Err(usage(
                    "strategy",
                    format!(
                        "unknown strategy {other:?}; use momentum, inverse_volatility, min_variance, max_sharpe or \
                         mean_variance"
                    ),
                ))
            }
        })
    }
}

fn moments(t: &Trial) -> assetalloc::Result<MomentsParams> {
    match t.text("estimator")? {
        "sample" => Ok(Moments::sample()),
        "ledoit-wolf" => Ok(Moments::ledoit_wolf()),
        "oas" => Ok(Moments::oas()),
        other => Err(assetalloc::Error::Shape(format!(
            "unknown estimator {other:?} in trial {}; use sample, ledoit-wolf or oas",
            t.index
        ))),
    }
}

/// A strategy chosen by name at run time, as the search runs it.
struct Named(Box<dyn Strategy>);

impl Strategy for Named {
    fn name(&self) -> String {
        self.0.name()
    }
    fn decide(
        &mut self,
        window: &Window<'_>,
        current: ndarray::ArrayView1<'_, f64>,
    ) -> assetalloc::Result<Option<ndarray::Array1<f64>>> {
        self.0.decide(window, current)
    }
    fn learn(&mut self, train: &Window<'_>) -> assetalloc::Result<bool> {
        self.0.learn(train)
    }
}
