//! `chats`: one person starts a conversation with each of N others, one message each, as fast as
//! the server takes them. Every conversation is then an active chat (a chat actor on the server,
//! until it idles out a minute later); the server's resident memory before and after, from /proc,
//! gives the memory per active chat (docs/operating.md, "Memory and what grows").

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use serde_json::json;

use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::proc::rss;
use crate::seed::Seeder;
use crate::stats::{Report, Series};

pub async fn run(common: &Common, count: usize, server_pid: u32) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let accounts = seeder.accounts(count.max(1) + 1).await?;
    let (sender, others) = (accounts[0], &accounts[1..]);
    super::warm_up(&api, &accounts[..1]).await?;
    // Settled: the sender's session actor and the pool are up before the first reading.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss(server_pid).ok_or_else(|| anyhow::anyhow!("cannot read /proc/{server_pid}"))?;

    let start = Instant::now();
    let sends = Arc::new(Series::new("POST send-message (a new chat each)", start));
    let session = sender.session();
    stream::iter(others.iter().map(|other| {
        let (api, sends, session) = (api.clone(), sends.clone(), session.clone());
        async move {
            let at = Instant::now();
            match api
                .post("/conversations/send-message", &session, &json!({"recipientId": other.id, "text": "hi"}))
                .await
            {
                Ok(_) => sends.record(at, at.elapsed()),
                Err(kind) => sends.error(kind),
            }
        }
    }))
    .buffer_unordered(32)
    .collect::<Vec<()>>()
    .await;
    let elapsed = start.elapsed();
    // The events go out and the buffers settle; the chat actors stay (they idle out after a minute).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss(server_pid).ok_or_else(|| anyhow::anyhow!("cannot read /proc/{server_pid}"))?;
    let chats = others.len();
    let report = Report {
        scenario: "chats".into(),
        settings: json!({"count": chats}),
        elapsed_s: elapsed.as_secs_f64(),
        series: vec![sends.report(elapsed)],
        events: None,
        extra: json!({
            "active_chats": chats,
            "server_rss_before_bytes": before,
            "server_rss_after_bytes": after,
            "server_rss_per_active_chat_bytes": after.saturating_sub(before) as f64 / chats as f64,
        }),
        failures: Vec::new(),
        notes: Vec::new(),
    };
    let svg = plot::svg(&format!("chats: {chats} new conversations"), &[&sends]);
    Ok((report, svg))
}
