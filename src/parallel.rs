//! Running independent jobs on scoped threads.

use crate::error::{Error, Result};

/// Runs `f` on every job, each on its own scoped thread, and returns the
/// results in job order; the first error (or a panicked job, reported as
/// an error naming `what`) wins.
pub(crate) fn map<J, R, F>(what: &str, jobs: Vec<J>, f: F) -> Result<Vec<R>>
where
    J: Send,
    R: Send,
    F: Fn(J) -> Result<R> + Sync,
{
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.into_iter().map(|j| s.spawn(move || f(j))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|payload| {
                    Err(Error::Panicked { what: format!("a {what} worker"), message: panic_message(&payload) })
                })
            })
            .collect()
    })
}

/// The text of a panic's payload (a `&str` or `String` for `panic!`
/// with a message).
pub(crate) fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".into()
    }
}
