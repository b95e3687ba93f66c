//! `messaging`, the seed's scenario: pairs of people, each with a socket open, sending each other
//! messages. Measures send→receive latency (from the scheduled send to the arrival of the frame
//! at the recipient's socket: queueing, HTTP and the whole event path) and deliveries per second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::{GRACE, SocketHealth, index_of, listen, open_sockets};
use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::proc::OwnCpu;
use crate::schedule::open_loop;
use crate::seed::Seeder;
use crate::stats::{EventsReport, Report, Series};

struct Sent {
    at: Instant,
    sender: Uuid,
    recipient: Uuid,
    accepted: bool,
    at_recipient: u32,
    at_sender: u32,
}

type Ledger = Arc<Mutex<HashMap<u64, Sent>>>;

fn lock(ledger: &Ledger) -> std::sync::MutexGuard<'_, HashMap<u64, Sent>> {
    ledger.lock().unwrap_or_else(|e| e.into_inner())
}

pub async fn run(common: &Common, pairs: usize) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
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
    let sockets = open_sockets(&api, &accounts).await?;

    let written_before = seeder.messages_written().await?;
    let own_cpu = OwnCpu::start();
    let start = Instant::now();
    let delivery = Arc::new(Series::new("send→receive", start));
    let http = Arc::new(Series::new("POST send-message", start));
    let ledger: Ledger = Arc::default();
    let health = Arc::new(SocketHealth::default());
    for (socket, account) in sockets.into_iter().zip(&accounts) {
        let (ledger, delivery, me) = (ledger.clone(), delivery.clone(), account.id);
        listen(socket, health.clone(), move |payload| {
            let Some(i) = index_of(payload) else { return };
            let arrived = Instant::now();
            let mut ledger = lock(&ledger);
            let Some(message) = ledger.get_mut(&i) else { return };
            if message.recipient == me {
                message.at_recipient += 1;
                if message.at_recipient == 1 {
                    delivery.record(message.at, arrived.saturating_duration_since(message.at));
                }
            } else if message.sender == me {
                message.at_sender += 1;
            }
        });
    }

    let pairs = accounts.len() / 2;
    let end = open_loop(common.rate, common.duration(), common.quiet, "messaging", |i, at| {
        let pair = (i as usize) % pairs;
        // Alternate who writes, so both directions carry load.
        let (from, to) = if (i / pairs as u64).is_multiple_of(2) { (0, 1) } else { (1, 0) };
        let (sender, recipient) = (accounts[pair * 2 + from], accounts[pair * 2 + to]);
        lock(&ledger).insert(
            i,
            Sent { at, sender: sender.id, recipient: recipient.id, accepted: false, at_recipient: 0, at_sender: 0 },
        );
        let (api, http, ledger) = (api.clone(), http.clone(), ledger.clone());
        async move {
            let body = json!({"recipientId": recipient.id, "text": format!("lt {i}")});
            match api.post("/conversations/send-message", &sender.session(), &body).await {
                Ok(_) => {
                    http.record(at, at.elapsed());
                    if let Some(message) = lock(&ledger).get_mut(&i) {
                        message.accepted = true;
                    }
                }
                Err(kind) => http.error(kind),
            }
        }
    })
    .await;
    let load_elapsed = end.duration_since(start);

    // Late events may still be on their way.
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        let missing = lock(&ledger).values().any(|m| m.accepted && (m.at_recipient == 0 || m.at_sender == 0));
        if !missing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut events = EventsReport::default();
    for m in lock(&ledger).values().filter(|m| m.accepted) {
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
    let accepted = lock(&ledger).values().filter(|m| m.accepted).count() as i64;
    let written = seeder.messages_written().await? - written_before;
    let mut failures = Vec::new();
    if written != accepted {
        failures.push(format!("{accepted} sends answered 200 but {written} messages in the database"));
    }
    let report = Report {
        scenario: "messaging".into(),
        settings: json!({"pairs": pairs, "rate": common.rate, "duration_s": common.duration}),
        elapsed_s: load_elapsed.as_secs_f64(),
        series: vec![delivery.report(load_elapsed), http.report(load_elapsed)],
        events: Some(events),
        failures,
        extra: json!({
            "delivered_messages_per_s": delivered as f64 / load_elapsed.as_secs_f64(),
            "messages_in_database": written,
            "load_generator_cpu_ms_per_message": tool_cpu_ms,
            "sockets_closed_by_server": health.closed.load(std::sync::atomic::Ordering::Relaxed),
        }),
    };
    let svg = plot::svg(&format!("messaging: {pairs} pairs at {} msg/s", common.rate), &[&delivery, &http]);
    Ok((report, svg))
}
