//! `connections`: C idle authenticated sockets, opened a few hundred at a time from several
//! loopback source addresses, then held. Reports the server's resident memory per socket (from
//! /proc of the server's pid) and heartbeat health: every socket must still be open at the end,
//! and with a hold past the server's ping interval (54 s) each must have seen pings. Then every
//! socket closes from the client's side at once: the run reports how long until the server had
//! answered every close with its own (the close handshake of RFC 6455), and fails any socket the
//! server ended without one.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use futures_util::{StreamExt, stream};
use serde_json::json;

use super::{Closer, SocketHealth, listen_until};
use crate::Common;
use crate::client::Api;
use crate::plot;
use crate::proc::rss;
use crate::schedule::progress;
use crate::seed::Seeder;
use crate::stats::{Report, Series};

pub async fn run(
    common: &Common,
    count: usize,
    server_pid: Option<u32>,
    source_addresses: u8,
    parallel: usize,
) -> anyhow::Result<(Report, String)> {
    let api = Api::new(&common.url)?;
    let mut seeder = Seeder::connect(&common.database_url).await?;
    let accounts = seeder.accounts(count.max(1)).await?;
    let rss_before = server_pid.and_then(rss);

    let start = Instant::now();
    let connect = Arc::new(Series::new("connect (upgrade)", start));
    let health = Arc::new(SocketHealth::default());
    let (close_all, signal) = tokio::sync::watch::channel(false);
    let closer = Closer {
        signal,
        answers: Arc::new(Series::new("close answered", start)),
        handshakes: Arc::new(Series::new("close handshake (until the TCP connection ends)", start)),
    };
    let bar = progress(accounts.len() as u64, common.quiet, "connections");
    let sources = source_addresses.max(1);
    // Each socket is read (and so answers pings) from the moment it opens.
    let opened: Vec<bool> = stream::iter(accounts.iter().enumerate().map(|(i, account)| {
        let (api, connect, bar, health, closer) =
            (api.clone(), connect.clone(), bar.clone(), health.clone(), closer.clone());
        let session = account.session();
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(sources)) as u8));
        async move {
            let at = Instant::now();
            let socket = api.socket(&session, Some(source)).await;
            bar.inc(1);
            match socket {
                Ok(socket) => {
                    connect.record(at, at.elapsed());
                    listen_until(socket, health, |_| {}, Some(closer));
                    true
                }
                Err(kind) => {
                    connect.error(kind);
                    false
                }
            }
        }
    }))
    .buffer_unordered(parallel.max(1))
    .collect()
    .await;
    bar.finish_and_clear();
    let open_elapsed = start.elapsed();
    let held = opened.into_iter().filter(|ok| *ok).count();
    // Let the server settle (connection actors started, buffers allocated) before measuring.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let rss_after = server_pid.and_then(rss);
    tokio::time::sleep(common.duration()).await;
    let closed = health.closed.load(Ordering::Relaxed);
    let closing_started = Instant::now();
    let _ = close_all.send(true);
    let still_open = || held.saturating_sub(closed as usize + closer.handshakes.count());
    let deadline = closing_started + std::time::Duration::from_secs(30);
    while still_open() > 0 && Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let close_all_s = closing_started.elapsed().as_secs_f64();
    let mut failures = Vec::new();
    if still_open() > 0 {
        failures.push(format!("{} sockets still open 30 s after the client closed them", still_open()));
    }
    let hold = Series::new("held to the end", start);
    for _ in 0..closed {
        hold.error("closed by the server during the hold");
    }
    let per_socket = match (rss_before, rss_after) {
        (Some(before), Some(after)) if held > 0 => Some(after.saturating_sub(before) as f64 / held as f64),
        _ => None,
    };
    let report = Report {
        scenario: "connections".into(),
        settings: json!({"count": count, "hold_s": common.duration, "source_addresses": sources, "parallel": parallel}),
        elapsed_s: open_elapsed.as_secs_f64(),
        series: vec![
            connect.report(open_elapsed),
            hold.report(common.duration()),
            closer.answers.report(closing_started.elapsed()),
            closer.handshakes.report(closing_started.elapsed()),
        ],
        events: None,
        failures,
        extra: json!({
            "sockets_held": held,
            "closed_during_hold": closed,
            "pings_received": health.pings.load(Ordering::Relaxed),
            "clean_closes": health.clean_closes.load(Ordering::Relaxed),
            "close_all_s": close_all_s,
            "server_rss_before_bytes": rss_before,
            "server_rss_after_bytes": rss_after,
            "server_rss_per_socket_bytes": per_socket,
        }),
    };
    let svg = plot::svg(&format!("connections: {count} sockets"), &[&connect, &closer.answers, &closer.handshakes]);
    Ok((report, svg))
}
