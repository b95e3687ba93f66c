//! `messaging`, the seed's scenario: pairs of people, each with a socket open, sending each other
//! messages. Measures send→receive latency (from the scheduled send to the arrival of the frame
//! at the recipient's socket: queueing, HTTP and the whole event path) and deliveries per second.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::{GRACE, SocketHealth, index_of, listen, open_sockets};
use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::proc::OwnCpu;
use crate::resuming::{self, ResumeStats};
use crate::schedule::open_loop;
use crate::seed::Seeder;
use crate::stats::{EventsReport, Report, Series};

/// One send of the run, as the load tool saw it.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Its number: the text is `lt <i>`.
    pub i: u64,
    /// When it was scheduled (latency is measured from here).
    pub at: Instant,
    pub sender: Uuid,
    pub recipient: Uuid,
    /// When the answer came, and the error kind when it was not a 200 (`HTTP 503 Unknown`,
    /// `connect`, `timeout`, …); `None` while it has not come.
    pub answer: Option<(Instant, Result<(), String>)>,
    /// How many times the recipient's and the sender's socket had it.
    pub at_recipient: u32,
    pub at_sender: u32,
    /// When the recipient first had it.
    pub arrived: Option<Instant>,
    /// Sockets that first had it after a message of the same chat that the server stored later.
    pub late: u32,
}

impl Sent {
    pub fn accepted(&self) -> bool {
        matches!(self.answer, Some((_, Ok(()))))
    }

    /// Send→receive at the recipient.
    pub fn latency(&self) -> Option<Duration> {
        self.arrived.map(|a| a.saturating_duration_since(self.at))
    }
}

type Ledger = Arc<Mutex<HashMap<u64, Sent>>>;

fn lock(ledger: &Ledger) -> std::sync::MutexGuard<'_, HashMap<u64, Sent>> {
    ledger.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a run's requests and sockets go.
pub struct Targets {
    /// The node that takes the sends.
    pub api: Api,
    /// Socket i opens at `sockets[i % n]`.
    pub sockets: Vec<Api>,
    /// Sockets that resume on the next node when theirs goes away (`resuming.rs`), and count
    /// how; without, a plain socket per account.
    pub resume: Option<Arc<ResumeStats>>,
}

/// A messaging run, measured.
pub struct Measured {
    pub delivery: Arc<Series>,
    pub http: Arc<Series>,
    pub events: EventsReport,
    pub load_elapsed: Duration,
    pub failures: Vec<String>,
    pub extra: serde_json::Value,
    /// Every send, by its number.
    pub sends: Vec<Sent>,
    /// Deliveries that came after a message of the same chat the server stored later (per
    /// socket, first deliveries only).
    pub out_of_order: u64,
    /// Time zero of the series (their plot), a little before the load started.
    pub start: Instant,
}

pub async fn run(common: &Common, pairs: usize) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let targets = Targets { api: api.clone(), sockets: vec![api], resume: None };
    let run = measure(common, &mut seeder, &targets, pairs, async {}).await?;
    let report = run.report(common, pairs, "messaging");
    let svg = plot::svg(&format!("messaging: {pairs} pairs at {} msg/s", common.rate), &[&run.delivery, &run.http]);
    Ok((report, svg))
}

/// `pairs` pairs messaging each other at `rate` for the run's duration, while `during` runs
/// alongside (a scenario's disturbance: nodes restarted, killed).
pub async fn measure(
    common: &Common,
    seeder: &mut Seeder,
    targets: &Targets,
    pairs: usize,
    during: impl Future<Output = ()>,
) -> anyhow::Result<Measured> {
    let api = &targets.api;
    let accounts = seeder.accounts(pairs.max(1) * 2).await?;
    // Warm-up: each pair's private chat exists before the clock starts.
    for pair in accounts.chunks_exact(2) {
        api.post(
            "/conversations/send-message",
            &pair[0].session(),
            &json!({"recipientId": pair[1].id, "text": "hello"}),
        )
        .await
        .map_err(|e| anyhow::anyhow!("warm-up send: {e}"))?;
    }
    let ledger: Ledger = Arc::default();
    let health = Arc::new(SocketHealth::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let start = Instant::now();
    let delivery = Arc::new(Series::new("send→receive", start));
    let http = Arc::new(Series::new("POST send-message", start));
    let on_message = |me: Uuid| {
        let (ledger, delivery) = (ledger.clone(), delivery.clone());
        // The server's order of each chat, as far as this socket has seen it: the newest
        // `createdAt` delivered. The server's, not the order of the sends: two sends of one chat
        // in flight at once may be stored either way round.
        let newest: Mutex<HashMap<String, String>> = Mutex::default();
        move |payload: &serde_json::Value| {
            let Some(i) = index_of(payload) else { return };
            let arrived = Instant::now();
            let mut ledger = lock(&ledger);
            let Some(message) = ledger.get_mut(&i) else { return };
            let first = if message.recipient == me {
                message.at_recipient += 1;
                if message.at_recipient == 1 {
                    message.arrived = Some(arrived);
                    delivery.record(message.at, arrived.saturating_duration_since(message.at));
                }
                message.at_recipient == 1
            } else if message.sender == me {
                message.at_sender += 1;
                message.at_sender == 1
            } else {
                false
            };
            let (Some(chat), Some(stored)) =
                (payload["chatId"].as_str(), payload["createdAt"].as_str().and_then(order_key))
            else {
                return;
            };
            if first {
                let mut newest = newest.lock().unwrap_or_else(|e| e.into_inner());
                match newest.get(chat) {
                    Some(later) if stored < *later => message.late += 1,
                    _ => {
                        newest.insert(chat.to_owned(), stored);
                    }
                }
            }
        }
    };
    let nodes = Arc::new(targets.sockets.clone());
    match &targets.resume {
        None => {
            let sockets = open_sockets(&nodes, &accounts).await?;
            for (socket, account) in sockets.into_iter().zip(&accounts) {
                listen(socket, health.clone(), on_message(account.id));
            }
        }
        Some(stats) => {
            for (i, account) in accounts.iter().enumerate() {
                resuming::spawn(
                    nodes.clone(),
                    i,
                    account.session(),
                    stats.clone(),
                    stopped.clone(),
                    on_message(account.id),
                )
                .await
                .map_err(|e| anyhow::anyhow!("opening the sockets: {e}"))?;
            }
        }
    }

    let written_before = seeder.messages_written().await?;
    let own_cpu = OwnCpu::start();
    let load_start = Instant::now();
    let pairs = accounts.len() / 2;
    let load = open_loop(common.rate, common.duration(), common.quiet, "messaging", |i, at| {
        let pair = (i as usize) % pairs;
        // Alternate who writes, so both directions carry load.
        let (from, to) = if (i / pairs as u64).is_multiple_of(2) { (0, 1) } else { (1, 0) };
        let (sender, recipient) = (accounts[pair * 2 + from], accounts[pair * 2 + to]);
        lock(&ledger).insert(
            i,
            Sent {
                i,
                at,
                sender: sender.id,
                recipient: recipient.id,
                answer: None,
                at_recipient: 0,
                at_sender: 0,
                arrived: None,
                late: 0,
            },
        );
        let (api, http, ledger) = (api.clone(), http.clone(), ledger.clone());
        async move {
            let body = json!({"recipientId": recipient.id, "text": format!("lt {i}")});
            let answer = api.post("/conversations/send-message", &sender.session(), &body).await;
            let answered = Instant::now();
            match &answer {
                Ok(_) => http.record(at, answered.saturating_duration_since(at)),
                Err(kind) => http.error(kind.clone()),
            }
            if let Some(message) = lock(&ledger).get_mut(&i) {
                message.answer = Some((answered, answer.map(drop)));
            }
        }
    });
    let (end, ()) = tokio::join!(load, during);
    let load_elapsed = end.duration_since(load_start);

    // Late events may still be on their way.
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        let missing = lock(&ledger).values().any(|m| m.accepted() && (m.at_recipient == 0 || m.at_sender == 0));
        if !missing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let mut events = EventsReport::default();
    for m in lock(&ledger).values().filter(|m| m.accepted()) {
        events.expected += 2;
        for count in [m.at_recipient, m.at_sender] {
            events.received += u64::from(count);
            events.lost += u64::from(count == 0);
            events.duplicated += u64::from(count.saturating_sub(1));
        }
    }
    let delivered = delivery.report(load_elapsed).count;
    let tool_cpu_ms = own_cpu.ms_per(delivered);
    // Every send answered 200 is a row, and no other send is.
    let accepted = lock(&ledger).values().filter(|m| m.accepted()).count() as i64;
    let written = seeder.messages_written().await? - written_before;
    let mut failures = Vec::new();
    if written != accepted {
        failures.push(format!("{accepted} sends answered 200 but {written} messages in the database"));
    }
    let mut sends: Vec<Sent> = lock(&ledger).values().cloned().collect();
    sends.sort_unstable_by_key(|m| m.i);
    let out_of_order = sends.iter().map(|m| u64::from(m.late)).sum();
    let mut extra = json!({
        "delivered_messages_per_s": delivered as f64 / load_elapsed.as_secs_f64(),
        "messages_in_database": written,
        "out_of_order_deliveries": out_of_order,
        "load_generator_cpu_ms_per_message": tool_cpu_ms,
        "sockets_closed_by_server": health.closed.load(std::sync::atomic::Ordering::Relaxed),
    });
    if let Some(stats) = &targets.resume {
        extra["sockets"] = stats.json();
    }
    Ok(Measured { delivery, http, events, load_elapsed, failures, extra, sends, out_of_order, start })
}

/// `createdAt` as a string that sorts as the time does (RFC 3339 in UTC with the fraction
/// padded to nanoseconds): `2026-12-07T10:00:00.5Z` → `2026-12-07T10:00:00.500000000`.
pub fn order_key(created_at: &str) -> Option<String> {
    let rest = created_at.strip_suffix('Z')?;
    let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
    (whole.len() == 19 && fraction.len() <= 9 && fraction.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{whole}.{fraction:0<9}"))
}

impl Measured {
    /// Every accepted send: when it was scheduled and when its recipient first had it.
    pub fn arrivals(&self) -> Vec<(Instant, Option<Instant>)> {
        self.sends.iter().filter(|m| m.accepted()).map(|m| (m.at, m.arrived)).collect()
    }

    pub fn report(&self, common: &Common, pairs: usize, scenario: &str) -> Report {
        Report {
            scenario: scenario.into(),
            settings: json!({"pairs": pairs, "rate": common.rate, "duration_s": common.duration}),
            elapsed_s: self.load_elapsed.as_secs_f64(),
            series: vec![self.delivery.report(self.load_elapsed), self.http.report(self.load_elapsed)],
            events: Some(self.events),
            failures: self.failures.clone(),
            extra: self.extra.clone(),
            notes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::order_key;

    #[test]
    fn created_at_sorts_as_time_does_whatever_its_fraction() {
        let times =
            ["2026-12-07T10:00:00Z", "2026-12-07T10:00:00.000001Z", "2026-12-07T10:00:00.12Z", "2026-12-07T10:00:01Z"];
        let keys: Vec<String> = times.iter().map(|t| order_key(t).unwrap()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert_eq!(order_key("2026-12-07T10:00:00+01:00"), None);
    }
}
