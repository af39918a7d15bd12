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

/// Runs `f` on every job with at most one thread per core (jobs are taken
/// in order from a shared counter), and returns the results in job order;
/// the first error in job order (or a panicked job) wins.
pub(crate) fn pool<J, R, F>(what: &str, jobs: Vec<J>, f: F) -> Result<Vec<R>>
where
    J: Send + Sync,
    R: Send,
    F: Fn(&J) -> Result<R> + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Result<R>>>> = jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let run = || loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(job) = jobs.get(i) else { break };
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(job))).unwrap_or_else(|payload| {
            Err(Error::Panicked { what: format!("a {what} worker"), message: panic_message(&payload) })
        });
        if let Ok(mut slot) = slots[i].lock() {
            *slot = Some(out);
        }
    };
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(run);
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(Error::Panicked { what: format!("a {what} worker"), message: "the job did not finish".into() })
            })
        })
        .collect()
}
