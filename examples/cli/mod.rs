//! Argument helpers shared by the example programs.
#![allow(dead_code)]

use assetalloc::prelude::*;

/// Runs `run`, printing an error and exiting with status 1 if it fails.
pub fn main(run: impl FnOnce() -> Result<()>) {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// The value after `name`, if the flag is present.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// The parsed value after `name`, or `default` when the flag is absent.
pub fn number<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T> {
    match flag(args, name) {
        None => Ok(default),
        Some(v) => {
            v.parse().map_err(|_| Error::InvalidParameter { name: name.into(), message: format!("cannot parse {v:?}") })
        }
    }
}
