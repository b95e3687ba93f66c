//! `resume`: a reconnect storm. N people in one group chat each have a socket; every socket is cut
//! at once, `missed` messages are sent meanwhile, and then all N reconnect at the same moment with
//! their last cursor (`GET /ws?cursor=…`). Reports how long until each socket had its answer
//! (`resumed`) and every message it missed, how many were asked to resync, events lost and
//! duplicated, and what the storm cost the database and the server.

use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::Common;
use crate::client::{Api, Socket, encode};
use crate::plot;
use crate::proc;
use crate::seed::Seeder;
use crate::stats::{EventsReport, Report, Series};

/// How long a socket may take to get its answer and what it missed.
const WAIT: Duration = Duration::from_secs(30);

/// The next text frame, parsed.
async fn next_frame(socket: &mut Socket) -> Result<Value, String> {
    loop {
        match tokio::time::timeout(WAIT, socket.next()).await {
            Err(_) => return Err("timeout".into()),
            Ok(Some(Ok(Message::Text(text)))) => {
                return serde_json::from_str(&text).map_err(|_| "not JSON".to_owned());
            }
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(Some(Ok(_))) => return Err("unexpected frame".into()),
            Ok(Some(Err(_)) | None) => return Err("closed".into()),
        }
    }
}

/// Reads `new_message` frames until one with text `last`; answers the cursor of the last frame.
async fn until_message(socket: &mut Socket, last: &str) -> Result<String, String> {
    loop {
        let frame = next_frame(socket).await?;
        if frame["type"] == "new_message" && frame["payload"]["text"] == last {
            return frame["cursor"].as_str().map(str::to_owned).ok_or_else(|| "no cursor".into());
        }
    }
}

/// What one resuming socket saw.
struct Outcome {
    answered: Duration,
    done: Duration,
    resync: bool,
    /// How often each missed message arrived.
    arrivals: Vec<u32>,
}

async fn resume_one(
    api: Api,
    session: String,
    cursor: String,
    missed: usize,
    tag: String,
    start: Instant,
) -> Result<Outcome, String> {
    let query = encode(&cursor);
    let mut socket = api.socket_at(&format!("/ws?cursor={query}"), &session, None).await?;
    let answer = next_frame(&mut socket).await?;
    let answered = start.elapsed();
    let mut arrivals = vec![0u32; missed];
    let resync = match answer["type"].as_str() {
        Some("resumed") => false,
        Some("resync_required") => true,
        _ => return Err(format!("unexpected first frame {}", answer["type"])),
    };
    if !resync {
        let expected = answer["payload"]["missed"].as_u64().unwrap_or(0) as usize;
        for _ in 0..expected {
            let frame = next_frame(&mut socket).await?;
            let index = frame["payload"]["text"].as_str().and_then(|t| t.strip_prefix(&tag)?.parse::<usize>().ok());
            if let Some(n) = index.and_then(|i| arrivals.get_mut(i)) {
                *n += 1;
            }
        }
    }
    let done = start.elapsed();
    let _ = socket.close(None).await;
    Ok(Outcome { answered, done, resync, arrivals })
}

pub async fn run(
    common: &Common,
    sockets: usize,
    missed: usize,
    server_pid: Option<u32>,
) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let accounts = seeder.accounts(sockets + 1).await?;
    let chat = seeder.group(&accounts.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
    let sender = accounts[0];
    let tag = format!("storm {} ", seeder.run_id());
    let send = |text: String| {
        let api = api.clone();
        async move {
            api.post("/conversations/send-message", &sender.session(), &json!({"chatId": chat, "text": text}))
                .await
                .map_err(|e| anyhow::anyhow!("sending: {e}"))
        }
    };

    // Everyone online, each socket with a cursor from a first message.
    let opened: Vec<Result<Socket, String>> = stream::iter(accounts[1..].iter().map(|a| {
        let (api, session) = (api.clone(), a.session());
        async move { api.socket_at("/ws?cursor=", &session, None).await }
    }))
    .buffered(64)
    .collect()
    .await;
    let mut opened = opened.into_iter().collect::<Result<Vec<_>, _>>().map_err(|e| anyhow::anyhow!("opening: {e}"))?;
    let mut watcher = api.socket(&sender.session(), None).await.map_err(|e| anyhow::anyhow!("watcher: {e}"))?;
    let first = format!("{tag}before");
    send(first.clone()).await?;
    let cursors: Vec<Result<String, String>> =
        stream::iter(opened.iter_mut().map(|s| until_message(s, &first))).buffered(sockets.max(1)).collect().await;
    let cursors = cursors.into_iter().collect::<Result<Vec<_>, _>>().map_err(|e| anyhow::anyhow!("cursors: {e}"))?;
    until_message(&mut watcher, &first).await.map_err(|e| anyhow::anyhow!("watcher: {e}"))?;

    // The cut: every socket at once; then what they miss, read by the node before the storm.
    for socket in &mut opened {
        let _ = socket.close(None).await;
    }
    drop(opened);
    for i in 0..missed {
        send(format!("{tag}{i}")).await?;
    }
    if missed > 0 {
        until_message(&mut watcher, &format!("{tag}{}", missed - 1)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (transactions, rows) = seeder.database_work().await?;
    let server_cpu = server_pid.and_then(proc::cpu_seconds);

    // The storm.
    let start = Instant::now();
    let answered = Series::new("reconnect→resumed", start);
    let done = Series::new("reconnect→all missed", start);
    let outcomes: Vec<Result<Outcome, String>> = stream::iter(
        accounts[1..]
            .iter()
            .zip(cursors)
            .map(|(a, cursor)| resume_one(api.clone(), a.session(), cursor, missed, tag.clone(), start)),
    )
    .buffer_unordered(sockets.max(1))
    .collect()
    .await;
    let storm = start.elapsed();
    let server_cpu = server_pid.and_then(proc::cpu_seconds).zip(server_cpu).map(|(after, before)| after - before);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (transactions_after, rows_after) = seeder.database_work().await?;
    // Our own reading of the counters is one transaction.
    let storm_transactions = transactions_after - transactions - 1;

    let mut events = EventsReport::default();
    let mut resyncs = 0;
    for outcome in outcomes {
        match outcome {
            Ok(outcome) => {
                answered.record(start, outcome.answered);
                done.record(start, outcome.done);
                resyncs += u64::from(outcome.resync);
                for n in outcome.arrivals {
                    events.expected += 1;
                    events.received += u64::from(n);
                    events.lost += u64::from(n == 0 && !outcome.resync);
                    events.duplicated += u64::from(n.saturating_sub(1));
                }
            }
            Err(e) => {
                answered.error(e);
            }
        }
    }
    let failures = if resyncs > 0 { vec![format!("{resyncs} sockets were told to resync")] } else { Vec::new() };
    let report = Report {
        scenario: "resume".into(),
        settings: json!({"sockets": sockets, "missed": missed}),
        elapsed_s: storm.as_secs_f64(),
        series: vec![answered.report(storm), done.report(storm)],
        events: Some(events),
        failures,
        extra: json!({
            "storm_s": storm.as_secs_f64(),
            "resync_required": resyncs,
            "db_transactions": storm_transactions,
            "db_transactions_per_resume": storm_transactions as f64 / sockets.max(1) as f64,
            "db_rows_read": rows_after - rows,
            "server_cpu_ms_per_resume": server_cpu.map(|s| s * 1000.0 / sockets.max(1) as f64),
        }),
        notes: Vec::new(),
    };
    let svg = plot::svg(
        &format!("resume: {sockets} sockets reconnecting at once, {missed} missed each"),
        &[&answered, &done],
    );
    Ok((report, svg))
}
