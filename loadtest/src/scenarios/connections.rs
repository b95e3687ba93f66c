//! `connections`: C idle authenticated sockets, opened a few hundred at a time from several
//! loopback source addresses by worker processes (`workers.rs`: a process may hold at most
//! 20,000 files), then held. Either at the server `--url`, or at `--notifiers N` notifier nodes
//! the tool starts itself (`cluster.rs`), one socket after another to each node.
//!
//! Reports the servers' resident memory per socket (all nodes together, from /proc), the time to
//! open them all and the upgrade rate, and heartbeat health: every socket must still be open at the
//! end, and with a hold past the server's ping interval (54 s) each must have seen pings. With
//! `--messaging-rate`, the `messaging` scenario runs through the same nodes before the idle sockets
//! open and again while they are open, so the two latencies stand side by side. Then every socket
//! closes from the client's side at once: the run reports how long until the server had answered
//! every close with its own (the close handshake of RFC 6455), and fails any socket the server
//! ended without one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use super::messaging::{self, Measured, Targets};
use crate::Common;
use crate::client::Api;
use crate::cluster::{Cluster, ClusterOptions};
use crate::plot;
use crate::proc::rss;
use crate::schedule::progress;
use crate::seed::Seeder;
use crate::stats::{Report, Series, SeriesReport};
use crate::workers::{Fleet, HoldOptions, PER_WORKER, Sinks};

#[derive(Debug, Clone, Args)]
pub struct Options {
    #[arg(long, default_value_t = 10_000)]
    pub count: usize,
    /// The server's process id, to read its memory from /proc (without `--notifiers`).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Spread sockets over this many source addresses 127.0.0.1, 127.0.0.2, … (0: one per
    /// 14,000 sockets, as a source address has ~28,000 ephemeral ports).
    #[arg(long, default_value_t = 0)]
    pub source_addresses: u8,
    /// Sockets being opened at once, per worker process (seven workers of 256 make 1,800
    /// upgrades wait at once for six nodes' pools of six database connections: some wait past
    /// the pool's 5 s and are refused with 503).
    #[arg(long, default_value_t = 64)]
    pub parallel: usize,
    /// Start this many notifier nodes (and a serve node) and spread the sockets over them,
    /// instead of using the server at `--url`.
    #[arg(long, default_value_t = 0)]
    pub notifiers: usize,
    #[command(flatten)]
    pub cluster: ClusterOptions,
    /// Run `messaging` at this rate before and while the idle sockets are open (0: not at all).
    #[arg(long, default_value_t = 0.0)]
    pub messaging_rate: f64,
    #[arg(long, default_value_t = 100)]
    pub messaging_pairs: usize,
    #[arg(long, default_value_t = 20.0)]
    pub messaging_secs: f64,
}

fn total_rss(pids: &[u32]) -> Option<u64> {
    pids.iter().map(|pid| rss(*pid)).sum()
}

pub async fn run(common: &Common, options: Options) -> anyhow::Result<(Report, String)> {
    let cluster = match options.notifiers {
        0 => None,
        n => Some(Cluster::start(&options.cluster, n, &common.database_url).await?),
    };
    let (sends, nodes, pids) = match &cluster {
        Some(cluster) => (Api::new(&cluster.serve.url())?, cluster.notifier_urls(), cluster.pids()),
        None => (Api::new(&common.url)?, vec![common.url.clone()], options.server_pid.into_iter().collect()),
    };
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let messaging = Common { rate: options.messaging_rate, duration: options.messaging_secs, ..common.clone() };
    let targets =
        Targets { api: sends, sockets: nodes.iter().map(|u| Api::new(u)).collect::<Result<_, _>>()?, resume: None };
    let measure = async |seeder: &mut Seeder| -> anyhow::Result<Option<Measured>> {
        if options.messaging_rate <= 0.0 {
            return Ok(None);
        }
        let run = messaging::measure(&messaging, seeder, &targets, options.messaging_pairs, async {}).await?;
        Ok(Some(run))
    };
    let alone = measure(&mut seeder).await?;

    let accounts = seeder.accounts(options.count.max(1)).await?;
    let sessions: Vec<String> = accounts.iter().map(|a| a.session()).collect();
    let sources = match options.source_addresses {
        0 => u8::try_from(options.count / 14_000 + 1).unwrap_or(u8::MAX),
        n => n,
    };
    let rss_before = total_rss(&pids);
    let start = Instant::now();
    let sinks = Sinks {
        connect: Arc::new(Series::new("connect (upgrade)", start)),
        answers: Arc::new(Series::new("close answered", start)),
        handshakes: Arc::new(Series::new("close handshake (until the TCP connection ends)", start)),
    };
    let bar = progress(accounts.len() as u64, common.quiet, "connections");
    let hold = HoldOptions { nodes: nodes.clone(), first: 0, sources, parallel: options.parallel };
    let (fleet, held) = Fleet::open(&sessions, &hold, &sinks, &bar).await?;
    bar.finish_and_clear();
    let open_elapsed = start.elapsed();
    // Let the servers settle (socket tasks started, buffers allocated) before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = total_rss(&pids);
    tokio::time::sleep(common.duration()).await;
    let crowded = measure(&mut seeder).await?;
    let closing_started = Instant::now();
    let counted = fleet.close().await?;
    let close_all_s = closing_started.elapsed().as_secs_f64();

    let mut failures = Vec::new();
    if counted.still_open > 0 {
        failures.push(format!("{} sockets still open 30 s after the client closed them", counted.still_open));
    }
    let hold_series = Series::new("held to the end", start);
    for _ in 0..counted.closed_by_server {
        hold_series.error("closed by the server during the hold");
    }
    let per_socket = match (rss_before, rss_after) {
        (Some(before), Some(after)) if held > 0 => Some(after.saturating_sub(before) as f64 / held as f64),
        _ => None,
    };
    let mut series = vec![
        sinks.connect.report(open_elapsed),
        hold_series.report(common.duration()),
        sinks.answers.report(closing_started.elapsed()),
        sinks.handshakes.report(closing_started.elapsed()),
    ];
    let mut events = None;
    let mut extra_messaging = json!({});
    for (run, label) in [(&alone, "no idle sockets"), (&crowded, "idle sockets open")] {
        let Some(run) = run else { continue };
        let named = |mut report: SeriesReport| {
            report.name = format!("{} ({label})", report.name);
            report
        };
        series.push(named(run.delivery.report(run.load_elapsed)));
        series.push(named(run.http.report(run.load_elapsed)));
        failures.extend(run.failures.iter().map(|f| format!("messaging ({label}): {f}")));
        let sum = events.get_or_insert(crate::stats::EventsReport::default());
        sum.expected += run.events.expected;
        sum.received += run.events.received;
        sum.lost += run.events.lost;
        sum.duplicated += run.events.duplicated;
        extra_messaging[label] = run.extra.clone();
    }
    let report = Report {
        scenario: "connections".into(),
        settings: json!({
            "count": options.count, "hold_s": common.duration, "source_addresses": sources,
            "parallel_per_worker": options.parallel, "workers": sessions.len().div_ceil(PER_WORKER),
            "nodes": nodes, "messaging_rate": options.messaging_rate, "messaging_pairs": options.messaging_pairs,
        }),
        elapsed_s: open_elapsed.as_secs_f64(),
        series,
        events,
        failures,
        extra: json!({
            "sockets_held": held,
            "upgrades_per_s": held as f64 / open_elapsed.as_secs_f64(),
            "closed_during_hold": counted.closed_by_server,
            "pings_received": counted.pings,
            "clean_closes": counted.clean_closes,
            "close_all_s": close_all_s,
            "server_pids": pids,
            "server_rss_before_bytes": rss_before,
            "server_rss_after_bytes": rss_after,
            "server_rss_per_socket_bytes": per_socket,
            "messaging": extra_messaging,
        }),
        notes: Vec::new(),
    };
    let mut plotted: Vec<&Series> = vec![&sinks.connect, &sinks.answers, &sinks.handshakes];
    plotted.extend(crowded.as_ref().map(|run| run.delivery.as_ref()));
    let svg = plot::svg(&format!("connections: {} sockets over {} node(s)", options.count, nodes.len()), &plotted);
    drop(cluster);
    Ok((report, svg))
}
