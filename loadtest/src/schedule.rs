//! The open model: operations start at `rate` per second by the clock, whatever the server does.

use std::future::Future;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;

pub fn progress(total: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec})") {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

/// Starts `op(i, scheduled)` for i = 0, 1, … at `rate` per second for `duration`, each in its own
/// task, then waits for all of them. Returns when the last one finished.
pub async fn open_loop<F, Fut>(rate: f64, duration: Duration, quiet: bool, what: &str, mut op: F) -> Instant
where
    F: FnMut(u64, Instant) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let total = (rate * duration.as_secs_f64()).round().max(1.0) as u64;
    let bar = progress(total, quiet, what);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..total {
        let at = start + Duration::from_secs_f64(i as f64 / rate.max(1e-6));
        tokio::time::sleep_until(at.into()).await;
        tasks.spawn(op(i, at));
        bar.inc(1);
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    bar.finish_and_clear();
    Instant::now()
}
