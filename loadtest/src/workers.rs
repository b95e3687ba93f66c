//! Sockets held by child processes of the load tool. A process may open at most 20,000 files on
//! these machines (`ulimit -Hn`), so 100,000 sockets need several: the parent hands each worker
//! (this same binary, `nosebook-loadtest hold`) its share of sessions on stdin, and the worker
//! answers one line per measurement on stdout, which the parent records in its own series.
//!
//! The worker's lines: `o <µs>` a socket opened (upgrade latency), `e <kind>` it did not,
//! `opened` all tried; after the parent's `close` line (or the end of stdin): `a <µs>` a close
//! answered, `h <µs>` a close handshake complete, `h! <kind>` one that was not, and last
//! `done <pings> <closed by the server> <clean closes> <still open>`.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::{StreamExt, stream};
use indicatif::ProgressBar;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::client::Api;
use crate::scenarios::{Closer, Sink, SocketHealth, listen_until};
use crate::stats::Series;

/// Sockets per worker: under the file limit with room for the runtime's own descriptors.
pub const PER_WORKER: usize = 16_000;

/// How long the sockets may take to finish their close handshakes.
const CLOSE_DEADLINE: Duration = Duration::from_secs(30);

/// What the parent tells a worker on its command line.
#[derive(Debug, Clone, Args)]
pub struct HoldOptions {
    /// Node URLs, comma-separated: socket i goes to node i mod n.
    #[arg(long, value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// The index of this worker's first socket among all sockets (for the round-robins).
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    /// Source addresses 127.0.0.1 … 127.0.0.<sources>: socket i from address i mod n.
    #[arg(long, default_value_t = 4)]
    pub sources: u8,
    /// Sockets being opened at once.
    #[arg(long, default_value_t = 256)]
    pub parallel: usize,
}

/// What the workers counted, added up.
#[derive(Debug, Default, Clone, Copy)]
pub struct Held {
    pub pings: u64,
    pub closed_by_server: u64,
    pub clean_closes: u64,
    pub still_open: u64,
}

/// The series the workers' lines go to.
#[derive(Clone)]
pub struct Sinks {
    pub connect: Arc<Series>,
    pub answers: Arc<Series>,
    pub handshakes: Arc<Series>,
}

struct Worker {
    stdin: ChildStdin,
    opened: Option<oneshot::Receiver<usize>>,
    reader: JoinHandle<anyhow::Result<Held>>,
    /// Killed if the parent drops the fleet before the worker is done.
    child: Child,
}

/// Sockets held by worker processes.
pub struct Fleet {
    workers: Vec<Worker>,
}

impl Fleet {
    /// Starts a worker per [`PER_WORKER`] sessions and returns when every socket was tried:
    /// the fleet, and how many opened.
    pub async fn open(
        sessions: &[String],
        options: &HoldOptions,
        sinks: &Sinks,
        bar: &ProgressBar,
    ) -> anyhow::Result<(Self, usize)> {
        let exe: PathBuf = std::env::current_exe()?;
        let mut workers = Vec::new();
        for (w, share) in sessions.chunks(PER_WORKER).enumerate() {
            let mut child = Command::new(&exe)
                .arg("hold")
                .arg(format!("--nodes={}", options.nodes.join(",")))
                .arg(format!("--first={}", w * PER_WORKER))
                .arg(format!("--sources={}", options.sources))
                .arg(format!("--parallel={}", options.parallel))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                anyhow::bail!("a worker without pipes");
            };
            let mut list = share.join("\n");
            list.push_str("\n\n");
            stdin.write_all(list.as_bytes()).await?;
            stdin.flush().await?;
            let (opened_tx, opened) = oneshot::channel();
            let reader = tokio::spawn(read_lines(stdout, sinks.clone(), bar.clone(), opened_tx));
            workers.push(Worker { stdin, opened: Some(opened), reader, child });
        }
        let mut held = 0;
        for worker in &mut workers {
            if let Some(opened) = worker.opened.take() {
                held += opened.await.map_err(|_| anyhow::anyhow!("a worker ended before opening its sockets"))?;
            }
        }
        Ok((Self { workers }, held))
    }

    /// Tells every worker to close its sockets, and adds up what they counted.
    pub async fn close(self) -> anyhow::Result<Held> {
        let mut readers = Vec::new();
        for mut worker in self.workers {
            // Closed at once by all workers, so the handshakes overlap as the server sees them.
            let _ = worker.stdin.write_all(b"close\n").await;
            let _ = worker.stdin.flush().await;
            readers.push((worker.reader, worker.child));
        }
        let mut total = Held::default();
        for (reader, _child) in readers {
            let held = reader.await??;
            total.pings += held.pings;
            total.closed_by_server += held.closed_by_server;
            total.clean_closes += held.clean_closes;
            total.still_open += held.still_open;
        }
        Ok(total)
    }
}

async fn read_lines(
    stdout: tokio::process::ChildStdout,
    sinks: Sinks,
    bar: ProgressBar,
    opened: oneshot::Sender<usize>,
) -> anyhow::Result<Held> {
    let mut lines = BufReader::new(stdout).lines();
    let mut opened = Some(opened);
    let mut count = 0;
    while let Some(line) = lines.next_line().await? {
        let (tag, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let micros = || rest.parse::<u64>().map(Duration::from_micros).ok();
        let since = |latency: Duration| Instant::now().checked_sub(latency).unwrap_or_else(Instant::now);
        match tag {
            "o" => {
                count += 1;
                bar.inc(1);
                if let Some(latency) = micros() {
                    sinks.connect.record(since(latency), latency);
                }
            }
            "e" => {
                bar.inc(1);
                sinks.connect.error(rest);
            }
            "opened" => {
                if let Some(opened) = opened.take() {
                    let _ = opened.send(count);
                }
            }
            "a" | "h" => {
                let series = if tag == "a" { &sinks.answers } else { &sinks.handshakes };
                if let Some(latency) = micros() {
                    series.record(since(latency), latency);
                }
            }
            "h!" => sinks.handshakes.error(rest),
            "done" => {
                let n: Vec<u64> = rest.split(' ').filter_map(|n| n.parse().ok()).collect();
                if let [pings, closed_by_server, clean_closes, still_open] = n[..] {
                    return Ok(Held { pings, closed_by_server, clean_closes, still_open });
                }
                anyhow::bail!("a worker's last line is not understood: {line}");
            }
            _ => anyhow::bail!("a worker said something not understood: {line}"),
        }
    }
    anyhow::bail!("a worker ended without its last line")
}

/// A measurement as a line on stdout.
struct Line {
    tag: &'static str,
    out: mpsc::UnboundedSender<String>,
}

impl Sink for Line {
    fn record(&self, _since: Instant, latency: Duration) {
        let _ = self.out.send(format!("{} {}\n", self.tag, latency.as_micros()));
    }

    fn error(&self, kind: &str) {
        let _ = self.out.send(format!("{}! {kind}\n", self.tag));
    }
}

/// The worker: `nosebook-loadtest hold` (started by [`Fleet::open`], not by people).
pub async fn hold(options: HoldOptions) -> anyhow::Result<()> {
    let (out, mut lines) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = lines.recv().await {
            let mut batch = line;
            while let Ok(more) = lines.try_recv() {
                batch.push_str(&more);
            }
            if stdout.write_all(batch.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut sessions = Vec::new();
    while let Some(line) = stdin.next_line().await? {
        if line.is_empty() {
            break;
        }
        sessions.push(line);
    }
    let nodes: Vec<Api> = options.nodes.iter().map(|url| Api::new(url)).collect::<Result<_, _>>()?;
    anyhow::ensure!(!nodes.is_empty(), "no --nodes");
    let health = Arc::new(SocketHealth::default());
    let (close_all, signal) = tokio::sync::watch::channel(false);
    let handshakes = Arc::new(Line { tag: "h", out: out.clone() });
    let closer = Closer { signal, answers: Arc::new(Line { tag: "a", out: out.clone() }), handshakes };
    let sources = options.sources.max(1);
    let held: usize = stream::iter(sessions.iter().enumerate().map(|(i, session)| {
        let global = options.first + i;
        let api = nodes[global % nodes.len()].clone();
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (global % usize::from(sources)) as u8));
        let (health, closer, out) = (health.clone(), closer.clone(), out.clone());
        async move {
            let at = Instant::now();
            match api.socket(session, Some(source)).await {
                Ok(socket) => {
                    let _ = out.send(format!("o {}\n", at.elapsed().as_micros()));
                    listen_until(socket, health, |_| {}, Some(closer));
                    1
                }
                Err(kind) => {
                    let _ = out.send(format!("e {kind}\n"));
                    0
                }
            }
        }
    }))
    .buffer_unordered(options.parallel.max(1))
    .fold(0, |sum, one| async move { sum + one })
    .await;
    let _ = out.send("opened\n".into());
    // Held until the parent says close (or goes away).
    let _ = stdin.next_line().await;
    let _ = close_all.send(true);
    let deadline = Instant::now() + CLOSE_DEADLINE;
    let still_open = || {
        let ended = health.closed.load(Ordering::Relaxed)
            + health.clean_closes.load(Ordering::Relaxed)
            + health.unclean_closes.load(Ordering::Relaxed);
        (held as u64).saturating_sub(ended)
    };
    while still_open() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = out.send(format!(
        "done {} {} {} {}\n",
        health.pings.load(Ordering::Relaxed),
        health.closed.load(Ordering::Relaxed),
        health.clean_closes.load(Ordering::Relaxed),
        still_open()
    ));
    drop(out);
    drop(closer);
    let _ = writer.await;
    Ok(())
}
