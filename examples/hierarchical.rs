//! HRP, HERC and NCO on a price CSV from the command line; prints JSON:
//! the leaf order, the cluster count, and each method's weights by asset
//! with its median run time over `--repeat` runs (estimation and the tree
//! included).
//!
//! `--linkage single|complete|average|ward` (default ward), `--clusters K`
//! for HERC and NCO (default: the gap rule), `--measure` the risk of HRP
//! and HERC (default variance; see examples/optimize.rs for the names).
//!
//! ```text
//! cargo run --release --example hierarchical -- data/sp500.csv --linkage single
//! ```
use assetalloc::prelude::*;
use serde_json::json;

mod cli;
use cli::Result;

fn main() {
    cli::main(run);
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "data/sp500.csv".into());
    let repeat: usize = cli::number(&args, "--repeat", 5)?;
    let linkage = Linkage::from_name(cli::flag(&args, "--linkage").unwrap_or("ward"))?;
    let measure = RiskMeasure::from_name(cli::flag(&args, "--measure").unwrap_or("variance"), 0.05)?;
    let returns = Prices::read_csv(&path)?.returns(ReturnKind::Simple)?;
    let tree = Hierarchy::params().linkage(linkage).fit(&returns)?;
    let clusters = match cli::flag(&args, "--clusters") {
        Some(_) => cli::number(&args, "--clusters", 0)?,
        None => tree.optimal_clusters(),
    };
    let methods = [
        ("hrp", Hierarchical::hrp().measure(measure)),
        ("herc", Hierarchical::herc().measure(measure).clusters(clusters)),
        ("nco", Hierarchical::nco(Optimizer::min_variance(), Optimizer::min_variance()).clusters(clusters)),
    ];
    let mut out = serde_json::Map::new();
    for (name, method) in methods {
        let method = method.linkage(linkage);
        let (seconds, a) = cli::timed(repeat, || method.solve(&returns))?;
        out.insert(name.into(), cli::describe(&a, seconds));
    }
    println!(
        "{}",
        json!({"linkage": linkage.name(), "assets": returns.n_assets(), "rows": returns.len(),
               "leaves": tree.leaves(), "clusters": clusters, "methods": out})
    );
    Ok(())
}
