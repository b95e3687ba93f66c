//! `fanout`: one sender and a group chat of M connected members; latency from the scheduled send
//! until the last member's socket has the message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{GRACE, SocketHealth, index_of, listen, open_sockets};
use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::schedule::open_loop;
use crate::seed::Seeder;
use crate::stats::{EventsReport, Report, Series};

struct Sent {
    at: Instant,
    accepted: bool,
    /// Frames per member (index 0 is the sender).
    arrivals: Vec<u32>,
    reached: usize,
}

type Ledger = Arc<Mutex<HashMap<u64, Sent>>>;

fn lock(ledger: &Ledger) -> std::sync::MutexGuard<'_, HashMap<u64, Sent>> {
    ledger.lock().unwrap_or_else(|e| e.into_inner())
}

pub async fn run(common: &Common, members: usize) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let accounts = seeder.accounts(members.max(1) + 1).await?;
    let chat = seeder.group(&accounts.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
    let sockets = open_sockets(std::slice::from_ref(&api), &accounts).await?;
    let others = accounts.len() - 1;

    let start = Instant::now();
    let last = Arc::new(Series::new("send→last member", start));
    let first = Arc::new(Series::new("send→first member", start));
    let http = Arc::new(Series::new("POST send-message", start));
    let ledger: Ledger = Arc::default();
    let health = Arc::new(SocketHealth::default());
    for (member, socket) in sockets.into_iter().enumerate() {
        let (ledger, last, first) = (ledger.clone(), last.clone(), first.clone());
        listen(socket, health.clone(), move |payload| {
            let Some(i) = index_of(payload) else { return };
            let arrived = Instant::now();
            let mut ledger = lock(&ledger);
            let Some(sent) = ledger.get_mut(&i) else { return };
            sent.arrivals[member] += 1;
            if member > 0 && sent.arrivals[member] == 1 {
                sent.reached += 1;
                let took = arrived.saturating_duration_since(sent.at);
                if sent.reached == 1 {
                    first.record(sent.at, took);
                }
                if sent.reached == others {
                    last.record(sent.at, took);
                }
            }
        });
    }

    let sender = accounts[0];
    let count = accounts.len();
    let end = open_loop(common.rate, common.duration(), common.quiet, "fanout", |i, at| {
        lock(&ledger).insert(i, Sent { at, accepted: false, arrivals: vec![0; count], reached: 0 });
        let (api, http, ledger) = (api.clone(), http.clone(), ledger.clone());
        async move {
            let body = json!({"chatId": chat, "text": format!("lt {i}")});
            match api.post("/conversations/send-message", &sender.session(), &body).await {
                Ok(_) => {
                    http.record(at, at.elapsed());
                    if let Some(sent) = lock(&ledger).get_mut(&i) {
                        sent.accepted = true;
                    }
                }
                Err(kind) => http.error(kind),
            }
        }
    })
    .await;
    let load_elapsed = end.duration_since(start);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline && lock(&ledger).values().any(|s| s.accepted && s.arrivals.contains(&0)) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut events = EventsReport::default();
    for sent in lock(&ledger).values().filter(|s| s.accepted) {
        for &n in &sent.arrivals {
            events.expected += 1;
            events.received += u64::from(n);
            events.lost += u64::from(n == 0);
            events.duplicated += u64::from(n.saturating_sub(1));
        }
    }
    let report = Report {
        scenario: "fanout".into(),
        settings: json!({"members": others, "rate": common.rate, "duration_s": common.duration}),
        elapsed_s: load_elapsed.as_secs_f64(),
        series: vec![last.report(load_elapsed), first.report(load_elapsed), http.report(load_elapsed)],
        events: Some(events),
        failures: Vec::new(),
        extra: json!({"sockets_closed_by_server": health.closed.load(std::sync::atomic::Ordering::Relaxed)}),
        notes: Vec::new(),
    };
    let svg = plot::svg(&format!("fanout: a group of {others} at {} msg/s", common.rate), &[&last, &first, &http]);
    Ok((report, svg))
}
