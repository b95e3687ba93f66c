//! `restarts`: nodes that come and go under load. The tool starts a serve node and `--notifiers`
//! notifier nodes (`cluster.rs`); `messaging` runs with every socket on a notifier node, each a
//! resuming socket (`resuming.rs`: after a 1012 or a cut it reconnects to another node with its
//! cursor). Meanwhile each notifier node in turn gets SIGTERM and is started again (a rolling
//! restart), then one is killed with SIGKILL (a crash) and started again.
//!
//! The run fails on an event lost or delivered twice, a send answered 200 but not stored, a
//! `resync_required`, or a node that did not exit 0 after SIGTERM. For each disturbance it reports
//! the latency spike of the messages sent from that moment until the next one: their p99 and
//! max, and how long until latency settled: the first whole second in which no message took more
//! than twice the p99 of the calm before the first disturbance. And how long its sockets were
//! away: from the close frame (or the cut) to the next node's `resumed`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};

use super::messaging::{self, Targets};
use crate::Common;
use crate::client::Api;
use crate::cluster::{Cluster, ClusterOptions};
use crate::plot;
use crate::resuming::ResumeStats;
use crate::seed::Seeder;
use crate::stats::{Report, Series, SeriesReport};

#[derive(Debug, Clone, Args)]
pub struct Options {
    #[arg(long, default_value_t = 3)]
    pub notifiers: usize,
    #[arg(long, default_value_t = 500)]
    pub pairs: usize,
    /// Calm before the first disturbance, in seconds (the latency it is compared with).
    #[arg(long, default_value_t = 5.0)]
    pub calm: f64,
    /// Seconds between one disturbance (the node back up) and the next.
    #[arg(long, default_value_t = 5.0)]
    pub gap: f64,
    /// Which notifier node is killed after the rolling restart.
    #[arg(long, default_value_t = 0)]
    pub kill: usize,
    #[command(flatten)]
    pub cluster: ClusterOptions,
}

/// Something done to a node, and when.
struct Disturbance {
    what: String,
    at: Instant,
    /// How long the node took to leave (SIGTERM) and to listen again.
    left_s: Option<f64>,
    back_s: f64,
    exit_code: Option<i32>,
}

pub async fn run(common: &Common, options: Options) -> anyhow::Result<(Report, String)> {
    anyhow::ensure!(options.notifiers >= 2, "a rolling restart needs at least two notifier nodes");
    let mut cluster = Cluster::start(&options.cluster, options.notifiers, &common.database_url).await?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let stats = Arc::new(ResumeStats::default());
    let targets = Targets {
        api: Api::new(&cluster.serve.url())?,
        sockets: cluster.notifier_urls().iter().map(|u| Api::new(u)).collect::<Result<_, _>>()?,
        resume: Some(stats.clone()),
    };
    let mut done: Vec<Disturbance> = Vec::new();
    let mut trouble: Vec<String> = Vec::new();
    let gap = Duration::from_secs_f64(options.gap);
    let schedule = async {
        tokio::time::sleep(Duration::from_secs_f64(options.calm)).await;
        for i in 0..options.notifiers {
            let at = Instant::now();
            match cluster.stop_notifier(i).await {
                Ok((exit_code, left)) => match cluster.start_notifier(i).await {
                    Ok(back) => done.push(Disturbance {
                        what: format!("SIGTERM notifier {i}, started again"),
                        at,
                        left_s: Some(left.as_secs_f64()),
                        back_s: at.elapsed().as_secs_f64().max(back.as_secs_f64()),
                        exit_code,
                    }),
                    Err(e) => trouble.push(format!("notifier {i} did not start again: {e:#}")),
                },
                Err(e) => trouble.push(format!("notifier {i} did not stop: {e:#}")),
            }
            tokio::time::sleep(gap).await;
        }
        let (k, at) = (options.kill % options.notifiers, Instant::now());
        let killed = cluster.kill_notifier(k).await;
        match killed.and(cluster.start_notifier(k).await) {
            Ok(_) => done.push(Disturbance {
                what: format!("SIGKILL notifier {k}, started again"),
                at,
                left_s: None,
                back_s: at.elapsed().as_secs_f64(),
                exit_code: None,
            }),
            Err(e) => trouble.push(format!("notifier {k} after SIGKILL: {e:#}")),
        }
    };
    let run = messaging::measure(common, &mut seeder, &targets, options.pairs, schedule).await?;
    let arrivals = run.arrivals();
    let planned = (options.notifiers + 1) as f64 * options.gap + options.calm;
    let mut failures = run.failures.clone();
    failures.extend(trouble);
    if done.len() < options.notifiers + 1 {
        failures.push(format!("{} of {} disturbances happened", done.len(), options.notifiers + 1));
    }
    if let Some(last) = done.last()
        && arrivals.iter().all(|(at, _)| *at < last.at + gap)
    {
        failures.push(format!("the load ended before the last disturbance settled: --duration above {planned:.0} s"));
    }
    for d in &done {
        if d.left_s.is_some() && d.exit_code != Some(0) {
            failures.push(format!("{}: exit code {:?} after SIGTERM, not 0", d.what, d.exit_code));
        }
    }
    let resyncs = stats.resyncs.load(std::sync::atomic::Ordering::Relaxed);
    if resyncs > 0 {
        failures.push(format!("{resyncs} sockets were asked to resync (a real client would reload)"));
    }

    let latency = |(at, arrived): &(Instant, Option<Instant>)| arrived.map(|a| a.saturating_duration_since(*at));
    let first = done.first().map(|d| d.at);
    let calm: Vec<Duration> =
        arrivals.iter().filter(|(at, _)| first.is_none_or(|f| *at < f)).filter_map(latency).collect();
    let calm_p99 = quantile(&calm, 0.99);
    let threshold = (calm_p99 * 2).max(calm_p99 + Duration::from_millis(20));
    let away = stats.away();
    let upgraded = stats.upgraded();
    let mut notes = vec![format!("calm p99 {:.0} ms, spike threshold {:.0} ms", ms(calm_p99), ms(threshold))];
    let spikes: Vec<Value> = done
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let until = done.get(i + 1).map(|next| next.at);
            // The sockets this disturbance sent away: their connection ended before the next.
            let back = to_resumed(
                away.iter().filter(|(ended, _)| *ended >= d.at && until.is_none_or(|u| *ended < u)),
                run.start,
                run.load_elapsed,
            );
            let reconnects: Vec<_> = upgraded
                .iter()
                .filter(|(ended, _)| *ended >= d.at && until.is_none_or(|u| *ended < u))
                .map(|(_, trip)| *trip)
                .collect();
            let part = |f: fn(&crate::resuming::Reconnect) -> Duration, q| {
                ms(quantile(&reconnects.iter().map(f).collect::<Vec<_>>(), q))
            };
            let window: Vec<(Instant, Duration)> = arrivals
                .iter()
                .filter(|(at, _)| *at >= d.at && until.is_none_or(|u| *at < u))
                .filter_map(|m| latency(m).map(|l| (m.0, l)))
                .collect();
            let latencies: Vec<Duration> = window.iter().map(|(_, l)| *l).collect();
            let settled = settled_after(&window, d.at, threshold);
            notes.push(format!(
                "  {} at {:.1} s: node left {}, back {:.2} s; {} messages until the next: p99 {:.0} ms, max {:.0} ms, \
                 settled after {}; {} sockets back: to resumed p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms \
                 (p50 / p99: tried {:.0} / {:.0} ms, TCP up {:.0} / {:.0} ms, upgrade answered {:.0} / {:.0} ms)",
                d.what,
                d.at.duration_since(run.start).as_secs_f64(),
                d.left_s.map_or("—".to_owned(), |s| format!("{s:.2} s (exit {:?})", d.exit_code)),
                d.back_s,
                window.len(),
                ms(quantile(&latencies, 0.99)),
                ms(latencies.iter().max().copied().unwrap_or_default()),
                settled.map_or("— (never)".to_owned(), |s| format!("{:.1} s", s.as_secs_f64())),
                back.count,
                back.p50_ms,
                back.p99_ms,
                back.max_ms,
                part(|r| r.tried, 0.5),
                part(|r| r.tried, 0.99),
                part(|r| r.connected, 0.5),
                part(|r| r.connected, 0.99),
                part(|r| r.answered, 0.5),
                part(|r| r.answered, 0.99),
            ));
            json!({
                "what": d.what,
                "at_s": d.at.duration_since(run.start).as_secs_f64(),
                "node_left_s": d.left_s,
                "node_back_s": d.back_s,
                "exit_code": d.exit_code,
                "messages": window.len(),
                "p99_ms": ms(quantile(&latencies, 0.99)),
                "max_ms": ms(latencies.iter().max().copied().unwrap_or_default()),
                "above_threshold": window.iter().filter(|(_, l)| *l > threshold).count(),
                "spike_length_s": settled.map(|d| d.as_secs_f64()),
                "reconnect_tried_p99_ms": part(|r| r.tried, 0.99),
                "tcp_connected_p99_ms": part(|r| r.connected, 0.99),
                "upgrade_answered_p99_ms": part(|r| r.answered, 0.99),
                "sockets_back": back.count,
                "to_resumed_p50_ms": back.p50_ms,
                "to_resumed_p99_ms": back.p99_ms,
                "to_resumed_max_ms": back.max_ms,
            })
        })
        .collect();
    let mut report = run.report(common, options.pairs, "restarts");
    report.series.push(to_resumed(away.iter(), run.start, run.load_elapsed));
    report.settings = json!({
        "pairs": options.pairs, "rate": common.rate, "duration_s": common.duration, "notifiers": options.notifiers,
        "calm_s": options.calm, "gap_s": options.gap,
    });
    report.failures = failures;
    report.extra["calm_p99_ms"] = json!(ms(calm_p99));
    report.extra["spike_threshold_ms"] = json!(ms(threshold));
    report.extra["disturbances"] = Value::Array(spikes);
    report.extra["node_logs"] = json!(cluster.logs().display().to_string());
    notes.push(format!("sockets: {}", stats.json()));
    notes.push(format!("node logs: {}", cluster.logs().display()));
    report.notes = notes;
    let svg = plot::svg(
        &format!("restarts: {} pairs at {} msg/s, {} notifier nodes", options.pairs, common.rate, options.notifiers),
        &[&run.delivery, &run.http],
    );
    Ok((report, svg))
}

/// How long after `from` latency settled: the start of the first whole second (of sends) in
/// which none was above `threshold`; `None` if it never did within the window.
pub(super) fn settled_after(window: &[(Instant, Duration)], from: Instant, threshold: Duration) -> Option<Duration> {
    let mut above: Vec<Duration> =
        window.iter().filter(|(_, l)| *l > threshold).map(|(at, _)| at.duration_since(from)).collect();
    above.sort_unstable();
    let last_send = window.iter().map(|(at, _)| at.duration_since(from)).max()?;
    let mut calm_since = Duration::ZERO;
    for at in above {
        if at >= calm_since + Duration::from_secs(1) {
            return Some(calm_since);
        }
        calm_since = at;
    }
    (last_send >= calm_since + Duration::from_secs(1)).then_some(calm_since)
}

/// Close (or cut) → `resumed` of these trips back, in the crate's histograms.
fn to_resumed<'a>(
    away: impl Iterator<Item = &'a (Instant, Duration)>,
    start: Instant,
    elapsed: Duration,
) -> SeriesReport {
    let series = Series::new("close→resumed", start);
    for (ended, took) in away {
        series.record(*ended, *took);
    }
    series.report(elapsed)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `q` quantile of `values` (zero when empty).
pub(super) fn quantile(values: &[Duration], q: f64) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    match sorted.len() {
        0 => Duration::ZERO,
        n => sorted[((n as f64 * q).ceil() as usize).clamp(1, n) - 1],
    }
}
