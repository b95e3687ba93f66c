//! `soak`: a steady mixed load for a long time — the `mixed` blend of reads and writes, plus
//! sockets that open, stay a while and close — while the server's resident memory and open
//! files are sampled from /proc. After a warm-up, the run fails when memory keeps rising (the
//! median of the last tenth more than `--max-growth` percent above the median of the second
//! third) or file descriptors leak (the fewest open in the last tenth above the most open in the
//! second third, plus some slack). The plot shows memory over time under the latency. With
//! `--existing-people` the crowd is drawn from the people already in the database, as in `mixed`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rand::Rng;
use serde::Serialize;
use serde_json::json;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use super::mixed::{BLEND, Crowd, CrowdSource, blend_series};
use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::proc;
use crate::seed::Seeder;
use crate::stats::{Report, Series};

/// Requests out at once, at most. Unbounded, a stall of the machine (a second with nothing
/// answered) piles up hundreds of requests, each on a connection of its own, and the server's
/// memory for those connections reads as a leak. A few times what the rate needs when nothing
/// stalls (about one at 300/s).
const MAX_IN_FLIGHT: usize = 16;

/// Descriptors the server may hold on to at the end beyond the second third's most (pool
/// connections opened late, a log file rotated): a leak of one per socket passes this at once.
const FILE_SLACK: u64 = 16;
/// How long a socket stays open, in seconds: from … to.
const HOLD_SECS: (f64, f64) = (2.0, 20.0);

#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// People in the crowd.
    #[arg(long, default_value_t = 500)]
    pub users: usize,
    #[command(flatten)]
    pub source: CrowdSource,
    /// Sockets open at any time (each closes after a few seconds and another opens).
    #[arg(long, default_value_t = 50)]
    pub sockets: usize,
    /// The server's process id, to read its memory and open files from /proc.
    #[arg(long)]
    pub server_pid: u32,
    /// Seconds at the start that are not judged (pools, caches and buffers filling up).
    #[arg(long, default_value_t = 60.0)]
    pub warm_up: f64,
    /// Percent the server's memory may grow from the second third of the judged time to its end.
    #[arg(long, default_value_t = 5.0)]
    pub max_growth: f64,
    /// Scrape /metrics this often, in seconds (0: nobody scrapes).
    #[arg(long, default_value_t = 0.0)]
    pub scrape_every: f64,
    /// VACUUM ANALYZE this often, in seconds (0: never), standing in for autovacuum on machines
    /// where it is off.
    #[arg(long, default_value_t = 300.0)]
    pub vacuum_every: f64,
    /// Read /proc this often, in seconds.
    #[arg(long, default_value_t = 1.0)]
    pub sample_every: f64,
}

/// The server as /proc showed it, `t` seconds into the run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    pub t: f64,
    pub rss: u64,
    pub files: u64,
}

/// What the samples say.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Median memory of the second third of the judged window, and of its last tenth.
    pub rss_second_third_bytes: u64,
    pub rss_end_bytes: u64,
    pub rss_growth_percent: f64,
    pub files_second_third_max: u64,
    pub files_end_min: u64,
    pub failures: Vec<String>,
}

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

/// Judges the samples taken after `warm_up` seconds.
pub fn judge(samples: &[Sample], warm_up: f64, max_growth: f64) -> Verdict {
    let judged: Vec<Sample> = samples.iter().copied().filter(|s| s.t >= warm_up).collect();
    let (Some(first), Some(last)) = (judged.first(), judged.last()) else {
        return Verdict {
            rss_second_third_bytes: 0,
            rss_end_bytes: 0,
            rss_growth_percent: 0.0,
            files_second_third_max: 0,
            files_end_min: 0,
            failures: vec![format!("no samples after the {warm_up} s warm-up: run longer")],
        };
    };
    let (from, to) = (first.t, last.t);
    let span = to - from;
    let within = |lo: f64, hi: f64| judged.iter().filter(move |s| s.t >= lo && s.t <= hi);
    let second_third = || within(from + span / 3.0, from + 2.0 * span / 3.0);
    let base = median(second_third().map(|s| s.rss).collect());
    let end = median(within(to - span / 10.0, to).map(|s| s.rss).collect());
    let growth = if base == 0 { 0.0 } else { (end as f64 - base as f64) / base as f64 * 100.0 };
    let files_before = second_third().map(|s| s.files).max().unwrap_or(0);
    let files_after = within(to - span / 10.0, to).map(|s| s.files).min().unwrap_or(0);
    let mut failures = Vec::new();
    if judged.len() < 10 {
        failures.push(format!("only {} samples after the warm-up: run longer or sample more often", judged.len()));
    }
    if growth > max_growth {
        failures.push(format!(
            "server memory kept rising: {:.1} MB in the second third, {:.1} MB at the end (+{growth:.1} %, more than {max_growth} %)",
            base as f64 / 1e6,
            end as f64 / 1e6
        ));
    }
    if files_after > files_before + FILE_SLACK {
        failures.push(format!(
            "open files kept rising: at most {files_before} in the second third, at least {files_after} at the end"
        ));
    }
    Verdict {
        rss_second_third_bytes: base,
        rss_end_bytes: end,
        rss_growth_percent: growth,
        files_second_third_max: files_before,
        files_end_min: files_after,
        failures,
    }
}

/// Sockets opened and closed over the run, and what they saw.
#[derive(Default)]
struct SocketTally {
    opened: AtomicU64,
    frames: AtomicU64,
    closed_by_server: AtomicU64,
}

/// One socket slot: opens a socket as someone, keeps it a few seconds (reading, which answers
/// pings), closes it, and again, until `until`.
async fn socket_slot(crowd: Arc<Crowd>, api: Api, connect: Arc<Series>, tally: Arc<SocketTally>, until: Instant) {
    while Instant::now() < until {
        let (account, hold) = {
            let mut rng = rand::thread_rng();
            (crowd.accounts[rng.gen_range(0..crowd.accounts.len())], rng.gen_range(HOLD_SECS.0..HOLD_SECS.1))
        };
        let at = Instant::now();
        let mut socket = match api.socket(&account.session(), None).await {
            Ok(socket) => {
                connect.record(at, at.elapsed());
                tally.opened.fetch_add(1, Ordering::Relaxed);
                socket
            }
            Err(kind) => {
                connect.error(kind);
                // Not a tight loop against a server that refuses.
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let close_at = (Instant::now() + Duration::from_secs_f64(hold)).min(until);
        let closed_by_server = loop {
            match tokio::time::timeout_at(close_at.into(), socket.next()).await {
                Err(_) => break false,
                Ok(Some(Ok(Message::Text(_)))) => {
                    tally.frames.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => break true,
                Ok(Some(Ok(_))) => {}
            }
        };
        if closed_by_server {
            tally.closed_by_server.fetch_add(1, Ordering::Relaxed);
            connect.error("socket closed by the server while held");
        } else {
            let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
        }
    }
}

pub async fn run(common: &Common, options: Options) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let pid = options.server_pid;
    if proc::rss(pid).is_none() {
        anyhow::bail!("cannot read /proc/{pid}: --server-pid must be the running server's process id");
    }
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let crowd = Arc::new(Crowd::prepare(&api, &mut seeder, options.users, options.source).await?);

    let start = Instant::now();
    let until = start + common.duration();
    let mut helpers = JoinSet::new();

    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let every = Duration::from_secs_f64(options.sample_every.max(0.1));
    let kept = samples.clone();
    helpers.spawn(async move {
        let mut tick = tokio::time::interval(every);
        while Instant::now() <= until {
            tick.tick().await;
            if let (Some(rss), Some(files)) = (proc::rss(pid), proc::open_files(pid)) {
                let t = start.elapsed().as_secs_f64();
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(Sample { t, rss, files });
            }
        }
    });

    let connect = Arc::new(Series::new("socket open (upgrade)", start));
    let tally = Arc::new(SocketTally::default());
    for _ in 0..options.sockets {
        helpers.spawn(socket_slot(crowd.clone(), api.clone(), connect.clone(), tally.clone(), until));
    }

    let scrapes = Arc::new(Series::new("GET /metrics (scraper)", start));
    if options.scrape_every > 0.0 {
        let (api, scrapes) = (api.clone(), scrapes.clone());
        let every = Duration::from_secs_f64(options.scrape_every);
        helpers.spawn(async move {
            let mut tick = tokio::time::interval(every);
            while Instant::now() < until {
                tick.tick().await;
                let at = Instant::now();
                match api.metrics().await {
                    Ok(()) => scrapes.record(at, at.elapsed()),
                    Err(kind) => scrapes.error(kind),
                }
            }
        });
    }

    let vacuums = Arc::new(AtomicU64::new(0));
    if options.vacuum_every > 0.0 {
        let vacuums = vacuums.clone();
        let every = Duration::from_secs_f64(options.vacuum_every);
        helpers.spawn(async move {
            loop {
                let next = Instant::now() + every;
                if next >= until {
                    break;
                }
                tokio::time::sleep_until(next.into()).await;
                match seeder.vacuum().await {
                    Ok(()) => {
                        vacuums.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => eprintln!("soak: VACUUM failed: {e}"),
                }
            }
        });
    }

    let series: Arc<Vec<Series>> = Arc::new(blend_series(start));
    let end = crowd.drive(common, "soak", &series, Some(MAX_IN_FLIGHT)).await;
    while helpers.join_next().await.is_some() {}
    let elapsed = end.duration_since(start);

    let samples = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let verdict = judge(&samples, options.warm_up, options.max_growth);
    let mut all: Vec<&Series> = series.iter().collect();
    all.push(&connect);
    if options.scrape_every > 0.0 {
        all.push(&scrapes);
    }
    let report = Report {
        scenario: "soak".into(),
        settings: json!({
            "users": crowd.accounts.len(), "existing_people": options.source.existing_people,
            "rate": common.rate, "duration_s": common.duration,
            "sockets": options.sockets, "warm_up_s": options.warm_up, "max_growth_percent": options.max_growth,
            "scrape_every_s": options.scrape_every, "vacuum_every_s": options.vacuum_every, "blend": BLEND,
        }),
        elapsed_s: elapsed.as_secs_f64(),
        series: all.iter().map(|s| s.report(elapsed)).collect(),
        events: None,
        extra: json!({
            "rss_start_bytes": samples.first().map(|s| s.rss),
            "rss_max_bytes": samples.iter().map(|s| s.rss).max(),
            "verdict": verdict,
            "sockets_opened": tally.opened.load(Ordering::Relaxed),
            "socket_frames_received": tally.frames.load(Ordering::Relaxed),
            "vacuums": vacuums.load(Ordering::Relaxed),
            "samples": samples,
        }),
        failures: verdict.failures.clone(),
        notes: Vec::new(),
    };
    let title = format!("soak: {} ops/s, {} sockets, {} s", common.rate, options.sockets, common.duration);
    let svg = plot::stack(&[
        plot::svg(&title, &all),
        plot::memory(&samples, options.warm_up, verdict.rss_growth_percent, &verdict.failures),
    ]);
    Ok((report, svg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rss: impl Fn(f64) -> f64, files: impl Fn(f64) -> u64) -> Vec<Sample> {
        (0..=120).map(f64::from).map(|t| Sample { t, rss: rss(t) as u64, files: files(t) }).collect()
    }

    #[test]
    fn flat_memory_and_files_pass() {
        // Noise of a few hundred kilobytes either way, and a warm-up that climbs.
        let samples =
            run(|t| if t < 20.0 { 30e6 + t * 1e6 } else { 50e6 + (t * 7.0).sin() * 3e5 }, |t| 40 + (t as u64 % 5));
        let verdict = judge(&samples, 20.0, 5.0);
        assert!(verdict.failures.is_empty(), "{:?}", verdict.failures);
    }

    #[test]
    fn memory_that_keeps_rising_fails() {
        // 6 MB a minute on 50 MB: memory that grows with every request.
        let samples = run(|t| 50e6 + t * 100e3, |_| 40);
        let verdict = judge(&samples, 20.0, 5.0);
        assert_eq!(verdict.failures.len(), 1, "{:?}", verdict.failures);
        assert!(verdict.failures[0].contains("memory kept rising"));
    }

    #[test]
    fn leaking_descriptors_fail() {
        let samples = run(|_| 50e6, |t| 40 + t as u64);
        let verdict = judge(&samples, 20.0, 5.0);
        assert_eq!(verdict.failures.len(), 1, "{:?}", verdict.failures);
        assert!(verdict.failures[0].contains("open files"));
    }

    #[test]
    fn a_run_shorter_than_its_warm_up_is_not_judged_flat() {
        let samples = run(|_| 50e6, |_| 40);
        assert!(!judge(&samples, 500.0, 5.0).failures.is_empty());
    }
}
