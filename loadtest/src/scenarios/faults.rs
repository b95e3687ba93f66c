//! `faults`: `messaging` while the services under the server fail. At the times given, RabbitMQ
//! is stopped and started again (`rabbitmqctl stop_app`, `start_app`) and PostgreSQL is
//! restarted (`pg_ctlcluster … restart`); the commands can be replaced, so the scenario works on
//! other machines. Every socket is a resuming socket (`resuming.rs`), as the web app's are.
//!
//! Sends that fail while a service is away (503, a refused connection) are expected: they are
//! counted by kind and reported, never retried, and they are not lost — only a send answered
//! 200 must be stored and delivered. The run fails on a message lost (answered 200 but not
//! stored, or missing at the recipient's or the sender's socket), a message stored or delivered
//! twice, a send that failed away from every fault, a fault that could not be injected, a
//! `resync_required`, and — unless `--allow-reorder` — a message delivered after one of its
//! chat that the server stored later.
//!
//! For each fault it reports the send→receive latency of the messages sent while it lasted and in
//! the second after (against every other message), the sends that failed, and how long after it
//! ended the server answered a send with 200 again, delivered again, had delivered every message
//! sent during it, and until delivery latency settled (the first whole second without a message
//! above twice the p99 of the rest).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use super::messaging::{self, Sent, Targets};
use super::restarts::{quantile, settled_after};
use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::resuming::ResumeStats;
use crate::seed::Seeder;
use crate::stats::Report;

/// The second after a fault, which still counts as its window.
const AFTER: Duration = Duration::from_secs(1);
/// Longest wait for a command that stops, starts or restarts a service.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Args)]
pub struct Options {
    #[arg(long, default_value_t = 50)]
    pub pairs: usize,
    /// Seconds into the load at which the broker is stopped (`--broker-stop-command`); without
    /// it the broker stays up.
    #[arg(long)]
    pub broker_stop_at: Option<f64>,
    /// Seconds the broker stays stopped before `--broker-start-command` runs.
    #[arg(long, default_value_t = 4.0)]
    pub broker_down_for: f64,
    /// Seconds into the load at which PostgreSQL is restarted (`--pg-restart-command`); without
    /// it PostgreSQL is left alone.
    #[arg(long)]
    pub pg_restart_at: Option<f64>,
    /// Shell command that stops the broker.
    #[arg(long, env = "NOSEBOOK_FAULT_BROKER_STOP", default_value = "rabbitmqctl stop_app")]
    pub broker_stop_command: String,
    /// Shell command that starts it again (also run when the run ends early while it is down).
    #[arg(long, env = "NOSEBOOK_FAULT_BROKER_START", default_value = "rabbitmqctl start_app")]
    pub broker_start_command: String,
    /// Shell command that restarts PostgreSQL and returns once it accepts connections again
    /// [default: `pg_ctlcluster --skip-systemctl-redirect <newest version in /etc/postgresql>
    /// main restart`].
    #[arg(long, env = "NOSEBOOK_FAULT_PG_RESTART")]
    pub pg_restart_command: Option<String>,
    /// Messages delivered out of order are reported without failing the run.
    #[arg(long)]
    pub allow_reorder: bool,
}

/// A fault to inject.
#[derive(Debug, Clone)]
struct Planned {
    what: &'static str,
    /// Seconds into the load.
    at: f64,
    action: Action,
}

#[derive(Debug, Clone)]
enum Action {
    /// Stop, wait, start.
    StopStart { stop: String, down_for: Duration, start: String },
    /// One command that returns once the service is back.
    Restart(String),
}

impl Planned {
    fn json(&self) -> serde_json::Value {
        match &self.action {
            Action::StopStart { stop, down_for, start } => json!({
                "what": self.what, "at_s": self.at, "stop": stop, "down_for_s": down_for.as_secs_f64(), "start": start,
            }),
            Action::Restart(command) => json!({"what": self.what, "at_s": self.at, "restart": command}),
        }
    }
}

/// A fault as it happened.
#[derive(Debug, Clone)]
struct Injected {
    what: &'static str,
    /// The first command started.
    from: Instant,
    /// The last command returned: the service is back.
    until: Instant,
    /// Each command and how long it took, in seconds.
    took: Vec<(String, f64)>,
    /// Commands that failed (the fault may not have happened as planned).
    problems: Vec<String>,
}

pub async fn run(common: &Common, options: Options) -> anyhow::Result<(Report, String)> {
    let plan = plan(common, &options)?;
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let stats = Arc::new(ResumeStats::default());
    let targets = Targets { api: api.clone(), sockets: vec![api], resume: Some(stats.clone()) };
    let injected: Mutex<Vec<Injected>> = Mutex::default();
    let faults = async {
        let start = Instant::now();
        futures_util::future::join_all(plan.iter().map(|planned| async {
            tokio::time::sleep_until((start + Duration::from_secs_f64(planned.at)).into()).await;
            let done = inject(planned).await;
            injected.lock().unwrap_or_else(|e| e.into_inner()).push(done);
        }))
        .await;
    };
    // Interrupted, the run drops the faults' future, which starts a stopped broker again.
    let measured = messaging::measure(common, &mut seeder, &targets, options.pairs, faults);
    let run = tokio::select! {
        run = measured => run?,
        signal = interrupted() => anyhow::bail!("{signal}: stopped (a stopped broker was started again)"),
    };
    let mut injected = injected.into_inner().unwrap_or_else(|e| e.into_inner());
    injected.sort_by_key(|f| f.from);
    let stored: HashMap<u64, i64> = seeder
        .load_messages_stored()
        .await?
        .into_iter()
        .filter_map(|s| Some((u64::try_from(s.i).ok()?, s.n)))
        .collect();

    let sends = &run.sends;
    let load_start = sends.first().map_or(run.start, |s| s.at);
    let load_end = sends.last().map_or(run.start, |s| s.at);
    let times = |i: &Sent| (i.at, i.answer.as_ref().map_or(i.at, |(answered, _)| *answered));
    let stored_times = |m: &Sent| stored.get(&m.i).copied().unwrap_or(0);

    // Sends: what the server answered.
    let accepted: Vec<&Sent> = sends.iter().filter(|m| m.accepted()).collect();
    let failed: Vec<&Sent> = sends.iter().filter(|m| !m.accepted()).collect();
    let mut failed_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for m in &failed {
        let kind = match &m.answer {
            Some((_, Err(kind))) => kind.clone(),
            _ => "no answer".to_owned(),
        };
        *failed_by_kind.entry(kind).or_default() += 1;
    }
    let failed_but_stored = failed.iter().filter(|m| stored_times(m) > 0).count();
    let failed_but_delivered = failed.iter().filter(|m| m.at_recipient > 0).count();

    // Messages: what became of the sends answered 200.
    let not_stored = accepted.iter().filter(|m| stored_times(m) == 0).count();
    let not_delivered = accepted.iter().filter(|m| m.at_recipient == 0 || m.at_sender == 0).count();
    let lost = accepted.iter().filter(|m| stored_times(m) == 0 || m.at_recipient == 0 || m.at_sender == 0).count();
    let doubled = sends.iter().filter(|m| stored_times(m) > 1 || m.at_recipient > 1 || m.at_sender > 1).count();
    let delivered = accepted.iter().filter(|m| m.at_recipient > 0).count();
    let stored_total: i64 = stored.values().sum();

    // Each fault's window: from its start to a second after its end.
    let window = |f: &Injected, m: &Sent| m.at >= f.from && m.at < f.until + AFTER;
    let rest: Vec<Duration> =
        accepted.iter().filter(|m| !injected.iter().any(|f| window(f, m))).filter_map(|m| m.latency()).collect();
    let rest_p99 = quantile(&rest, 0.99);
    let threshold = (rest_p99 * 2).max(rest_p99 + Duration::from_millis(20));
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut faults_json = Vec::new();
    let mut fault_notes = Vec::new();
    // Until when after each fault a failed send is expected: until the server answered 200 again.
    let mut expected_until = Vec::new();
    for (k, f) in injected.iter().enumerate() {
        let next = injected.get(k + 1).map(|n| n.from);
        let in_window: Vec<&&Sent> = accepted.iter().filter(|m| window(f, m)).collect();
        let latencies: Vec<Duration> = in_window.iter().filter_map(|m| m.latency()).collect();
        let ready = accepted
            .iter()
            .filter(|m| m.at >= f.until)
            .filter_map(|m| m.answer.as_ref().map(|(answered, _)| *answered))
            .min()
            .map(|answered| answered.saturating_duration_since(f.until));
        let first_delivery =
            accepted.iter().filter_map(|m| m.arrived).filter(|a| *a >= f.until).min().map(|a| a - f.until);
        let after: Vec<(Instant, Duration)> = accepted
            .iter()
            .filter(|m| m.at >= f.until && next.is_none_or(|n| m.at < n))
            .filter_map(|m| m.latency().map(|l| (m.at, l)))
            .collect();
        let settled = settled_after(&after, f.until, threshold);
        // Until the last message sent during the fault had arrived.
        let caught_up = in_window
            .iter()
            .filter(|m| m.at < f.until)
            .map(|m| m.arrived)
            .collect::<Option<Vec<Instant>>>()
            .and_then(|arrived| arrived.into_iter().max())
            .map(|last| last.saturating_duration_since(f.until));
        let ends = f.until + ready.unwrap_or(Duration::ZERO) + AFTER;
        expected_until.push((f.from, ends));
        let failed_here: BTreeMap<String, u64> = failed
            .iter()
            .filter(|m| {
                let (at, answered) = times(m);
                at < ends && answered >= f.from
            })
            .fold(BTreeMap::new(), |mut counts, m| {
                if let Some((_, Err(kind))) = &m.answer {
                    *counts.entry(kind.clone()).or_default() += 1;
                }
                counts
            });
        let at_s = f.from.saturating_duration_since(load_start).as_secs_f64();
        let lasted_s = f.until.duration_since(f.from).as_secs_f64();
        let late = in_window.iter().filter(|m| m.late > 0).count();
        faults_json.push(json!({
            "what": f.what,
            "at_s": at_s,
            "lasted_s": lasted_s,
            "commands_s": f.took.iter().map(|(command, s)| json!({"command": command, "took_s": s})).collect::<Vec<_>>(),
            "problems": f.problems,
            "messages_in_window": in_window.len(),
            "p50_ms": ms(quantile(&latencies, 0.5)),
            "p99_ms": ms(quantile(&latencies, 0.99)),
            "max_ms": ms(latencies.iter().max().copied().unwrap_or_default()),
            "out_of_order_in_window": late,
            "failed_sends": failed_here,
            "answered_200_again_after_s": ready.map(|d| d.as_secs_f64()),
            "first_delivery_after_s": first_delivery.map(|d| d.as_secs_f64()),
            "sent_during_delivered_after_s": caught_up.map(|d| d.as_secs_f64()),
            "delivery_settled_after_s": settled.map(|d| d.as_secs_f64()),
        }));
        let failed_text = if failed_here.is_empty() { "no send failed".to_owned() } else { kinds(&failed_here) };
        fault_notes.push(format!(
            "  {} at {at_s:.1} s, for {lasted_s:.1} s ({}): {} messages sent then or in the second after: p50 {:.0} \
             ms, p99 {:.0} ms, max {:.0} ms, {late} out of order; {failed_text}; after it ended: a send answered 200 \
             after {}, first delivery after {}, every message sent during it delivered after {}, delivery settled \
             after {}",
            f.what,
            f.took.iter().map(|(command, s)| format!("`{command}` {s:.1} s")).collect::<Vec<_>>().join(", "),
            in_window.len(),
            ms(quantile(&latencies, 0.5)),
            ms(quantile(&latencies, 0.99)),
            ms(latencies.iter().max().copied().unwrap_or_default()),
            seconds(ready, "never"),
            seconds(first_delivery, "never"),
            seconds(caught_up, "never"),
            seconds(settled, "— (no calm second before the next fault or the end)"),
        ));
        for problem in &f.problems {
            failures.push(format!("{}: {problem}", f.what));
        }
        if ready.is_none() || f.until + AFTER > load_end {
            failures.push(format!(
                "{}: the load ended before the second after it did (it ended {:.1} s into the load): a longer \
                 --duration",
                f.what,
                f.until.saturating_duration_since(load_start).as_secs_f64()
            ));
        }
    }
    let failed_outside = failed
        .iter()
        .filter(|m| {
            let (at, answered) = times(m);
            !expected_until.iter().any(|(from, until)| at < *until && answered >= *from)
        })
        .count();

    if lost > 0 {
        failures.push(format!(
            "{lost} sends answered 200 were lost: {not_stored} not in the database, {not_delivered} missing at the \
             recipient's or the sender's socket"
        ));
    }
    if doubled > 0 {
        failures.push(format!("{doubled} messages stored or delivered more than once"));
    }
    if run.out_of_order > 0 && !options.allow_reorder {
        failures.push(format!(
            "{} deliveries came after a message of their chat that the server stored later (--allow-reorder \
             reports them without failing)",
            run.out_of_order
        ));
    }
    if failed_outside > 0 {
        failures.push(format!("{failed_outside} sends failed away from every fault"));
    }
    let resyncs = stats.resyncs.load(std::sync::atomic::Ordering::Relaxed);
    if resyncs > 0 {
        failures.push(format!("{resyncs} sockets were asked to resync (a real client would reload)"));
    }

    let in_rest = |q: f64| ms(quantile(&rest, q));
    notes.push(format!(
        "sends: {} answered 200, {} failed{}; {failed_outside} failed away from the faults; {failed_but_stored} of \
         the failed were stored anyway, {failed_but_delivered} delivered",
        accepted.len(),
        failed.len(),
        if failed_by_kind.is_empty() { String::new() } else { format!(" ({})", kinds(&failed_by_kind)) },
    ));
    notes.push(format!(
        "messages: {stored_total} stored, {delivered} delivered, {lost} lost, {doubled} doubled, {} out of order{}",
        run.out_of_order,
        if run.out_of_order > 0 && options.allow_reorder { " (allowed)" } else { "" },
    ));
    notes.push(format!(
        "send→receive away from the faults: {} messages, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        rest.len(),
        in_rest(0.5),
        in_rest(0.99),
        ms(rest.iter().max().copied().unwrap_or_default())
    ));
    notes.push(if fault_notes.is_empty() { "faults: none".to_owned() } else { "faults:".to_owned() });
    notes.extend(fault_notes);
    notes.push(format!("sockets: {}", stats.json()));

    let mut report = run.report(common, options.pairs, "faults");
    report.settings = json!({
        "pairs": options.pairs, "rate": common.rate, "duration_s": common.duration,
        "faults": plan.iter().map(Planned::json).collect::<Vec<_>>(),
        "allow_reorder": options.allow_reorder,
    });
    if let Some(http) = report.series.get_mut(1) {
        http.errors_expected = true;
    }
    report.failures = failures;
    report.notes = notes;
    report.extra = json!({
        "sends": {
            "answered_200": accepted.len(),
            "failed": failed_by_kind,
            "failed_away_from_faults": failed_outside,
            "failed_but_stored": failed_but_stored,
            "failed_but_delivered": failed_but_delivered,
        },
        "messages": {
            "stored": stored_total,
            "delivered": delivered,
            "lost": lost,
            "lost_not_stored": not_stored,
            "lost_not_delivered": not_delivered,
            "doubled": doubled,
            "out_of_order": run.out_of_order,
        },
        "away_from_faults": {
            "messages": rest.len(), "p50_ms": in_rest(0.5), "p99_ms": in_rest(0.99),
            "max_ms": ms(rest.iter().max().copied().unwrap_or_default()),
        },
        "settled_threshold_ms": ms(threshold),
        "faults": faults_json,
        "sockets": stats.json(),
        "delivered_messages_per_s": run.extra["delivered_messages_per_s"],
    });
    let svg = plot::svg(
        &format!(
            "faults: {} pairs at {} msg/s; {}",
            options.pairs,
            common.rate,
            plan.iter().map(|p| format!("{} at {} s", p.what, p.at)).collect::<Vec<_>>().join(", ")
        ),
        &[&run.delivery, &run.http],
    );
    Ok((report, svg))
}

/// The faults the options ask for, checked against the run's duration.
fn plan(common: &Common, options: &Options) -> anyhow::Result<Vec<Planned>> {
    let mut plan = Vec::new();
    let within = |flag: &str, at: f64| {
        anyhow::ensure!(
            at.is_finite() && at >= 0.0 && at < common.duration,
            "{flag} {at}: must be within the load (0 to --duration {})",
            common.duration
        );
        Ok(())
    };
    if let Some(at) = options.broker_stop_at {
        within("--broker-stop-at", at)?;
        anyhow::ensure!(
            options.broker_down_for.is_finite() && options.broker_down_for >= 0.0,
            "--broker-down-for must be a number of seconds"
        );
        plan.push(Planned {
            what: "broker stopped",
            at,
            action: Action::StopStart {
                stop: options.broker_stop_command.clone(),
                down_for: Duration::from_secs_f64(options.broker_down_for),
                start: options.broker_start_command.clone(),
            },
        });
    }
    if let Some(at) = options.pg_restart_at {
        within("--pg-restart-at", at)?;
        let command = match &options.pg_restart_command {
            Some(command) => command.clone(),
            None => default_pg_restart(Path::new("/etc/postgresql"))?,
        };
        plan.push(Planned { what: "PostgreSQL restarted", at, action: Action::Restart(command) });
    }
    Ok(plan)
}

/// `pg_ctlcluster` for the newest PostgreSQL version installed (Debian's layout).
fn default_pg_restart(etc: &Path) -> anyhow::Result<String> {
    let newest = std::fs::read_dir(etc)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| Some((name.parse::<f64>().ok()?, name)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name);
    match newest {
        Some(version) => Ok(format!("pg_ctlcluster --skip-systemctl-redirect {version} main restart")),
        None => anyhow::bail!(
            "no PostgreSQL version under {}: give the restart command with --pg-restart-command",
            etc.display()
        ),
    }
}

/// Runs one fault's commands; when the future is dropped half-way (the run was interrupted or
/// failed), a stopped broker is started again.
async fn inject(planned: &Planned) -> Injected {
    let from = Instant::now();
    let mut took = Vec::new();
    let mut problems = Vec::new();
    let mut run = async |command: &str| {
        let at = Instant::now();
        if let Err(e) = shell(command).await {
            problems.push(e);
        }
        took.push((command.to_owned(), at.elapsed().as_secs_f64()));
    };
    match &planned.action {
        Action::StopStart { stop, down_for, start } => {
            let mut again = StartAgain { command: start, armed: true };
            run(stop).await;
            tokio::time::sleep(*down_for).await;
            again.armed = false;
            run(start).await;
        }
        Action::Restart(command) => run(command).await,
    }
    Injected { what: planned.what, from, until: Instant::now(), took, problems }
}

/// Starts the broker again when dropped armed: the machine's other users need it.
struct StartAgain<'a> {
    command: &'a str,
    armed: bool,
}

impl Drop for StartAgain<'_> {
    fn drop(&mut self) {
        if self.armed {
            let started = std::process::Command::new("sh").arg("-c").arg(self.command).stdout(Stdio::null()).status();
            if !started.is_ok_and(|s| s.success()) {
                eprintln!("nosebook-loadtest: `{}` failed: start the broker by hand", self.command);
            }
        }
    }
}

/// Runs `command` with `sh -c`: an error with its exit status and last line of output.
async fn shell(command: &str) -> Result<(), String> {
    let output = tokio::process::Command::new("sh").arg("-c").arg(command).stdin(Stdio::null()).output();
    match tokio::time::timeout(COMMAND_TIMEOUT, output).await {
        Err(_) => Err(format!("`{command}` still running after {} s", COMMAND_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(format!("`{command}`: {e}")),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => {
            let said = [&out.stderr, &out.stdout]
                .iter()
                .filter_map(|bytes| {
                    String::from_utf8_lossy(bytes).lines().rev().find(|l| !l.trim().is_empty()).map(str::to_owned)
                })
                .next()
                .unwrap_or_default();
            Err(format!("`{command}` failed ({}): {said}", out.status))
        }
    }
}

/// Resolves on SIGINT or SIGTERM, with its name.
async fn interrupted() -> &'static str {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

fn kinds(counts: &BTreeMap<String, u64>) -> String {
    counts.iter().map(|(kind, n)| format!("{kind}: {n}")).collect::<Vec<_>>().join(", ")
}

fn seconds(d: Option<Duration>, otherwise: &str) -> String {
    d.map_or(otherwise.to_owned(), |d| format!("{:.2} s", d.as_secs_f64()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_postgresql_version_is_restarted() {
        let etc = std::env::temp_dir().join(format!("nosebook-loadtest-etc-{}", std::process::id()));
        for version in ["9.6", "15", "13"] {
            std::fs::create_dir_all(etc.join(version)).unwrap();
        }
        let command = default_pg_restart(&etc);
        let _ = std::fs::remove_dir_all(&etc);
        assert_eq!(command.ok().as_deref(), Some("pg_ctlcluster --skip-systemctl-redirect 15 main restart"));
        assert!(default_pg_restart(Path::new("/nonexistent-nosebook")).is_err());
    }
}
