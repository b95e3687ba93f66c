//! `nosebook-loadtest`: drives a running Nosebook over real HTTP and WebSockets and reports what
//! it measured (a table, a JSON file, an SVG plot of latency over time).
//!
//! Load is an open model: each request is scheduled by the clock at the target rate and its
//! latency is measured from that scheduled moment, so a slow server shows as latency (queueing
//! included) instead of silently lowering the rate (no coordinated omission).

mod client;
mod cluster;
mod plot;
mod proc;
mod resuming;
mod scenarios;
mod schedule;
mod seed;
mod stats;
mod workers;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "nosebook-loadtest", version, about = "Load scenarios against a running Nosebook")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The server (a `serve` node).
    #[arg(long, global = true, env = "NOSEBOOK_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Its database, to prepare users, walls and groups in bulk.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = "postgres://postgres@127.0.0.1:5432/nosebook")]
    pub database_url: String,
    /// How long the load runs, in seconds.
    #[arg(long, global = true, default_value_t = 10.0)]
    pub duration: f64,
    /// Target rate: operations started per second.
    #[arg(long, global = true, default_value_t = 100.0)]
    pub rate: f64,
    /// Where the JSON report goes.
    #[arg(long, global = true, default_value = "loadtest-report.json")]
    pub out: PathBuf,
    /// Where the SVG plot of latency over time goes.
    #[arg(long, global = true, default_value = "loadtest-latency.svg")]
    pub plot: PathBuf,
    /// No progress bar (CI logs).
    #[arg(long, global = true)]
    pub quiet: bool,
}

impl Common {
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.0))
    }
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Pairs of people with a socket open each, sending each other messages: send→receive latency
    /// at the recipient and delivered messages per second.
    Messaging {
        #[arg(long, default_value_t = 100)]
        pairs: usize,
    },
    /// One sender and a group of connected members: latency until the last member has it.
    Fanout {
        #[arg(long, default_value_t = 1000)]
        members: usize,
    },
    /// Idle authenticated sockets held open, at one server or over notifier nodes the tool
    /// starts: server memory per socket, upgrade rate, heartbeat health, messaging beside them.
    Connections(scenarios::connections::Options),
    /// Messaging through notifier nodes the tool starts, while they are restarted one by one and
    /// one is killed: events lost and duplicated, the latency spikes.
    Restarts(scenarios::restarts::Options),
    /// Messaging while RabbitMQ is stopped and PostgreSQL restarted at the times given: sends
    /// failed, messages lost, doubled or out of order, latency around each fault, time to ready.
    Faults(scenarios::faults::Options),
    /// (Internal) a worker process of `connections`: holds the sockets of the sessions on stdin.
    #[command(hide = true)]
    Hold(workers::HoldOptions),
    /// One person starts a conversation with each of `count` others: server memory per active chat.
    Chats {
        #[arg(long, default_value_t = 5_000)]
        count: usize,
        /// The server's process id, to read its memory from /proc.
        #[arg(long)]
        server_pid: u32,
    },
    /// Authenticated reads: a user, a profile page (user + wall + friends), the chat list.
    Read {
        #[arg(long, default_value_t = 200)]
        users: usize,
        /// `user`, `profile`, `chats` or `all` (in turn).
        #[arg(long, default_value = "all")]
        page: String,
    },
    /// The web app's server-rendered pages (profile with wall, friends, messenger, search).
    Pages {
        #[arg(long, default_value_t = 200)]
        users: usize,
    },
    /// A reconnect storm: every socket of a group cut at once, messages sent meanwhile, then all
    /// resuming at the same moment with their cursors.
    Resume {
        #[arg(long, default_value_t = 1000)]
        sockets: usize,
        /// Messages each socket misses while it is away.
        #[arg(long, default_value_t = 5)]
        missed: usize,
        /// The server's process id, to read its CPU time from /proc.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// A blend: reads, posts, likes, comments, messages and friend requests.
    Mixed {
        /// People in the crowd.
        #[arg(long, default_value_t = 200)]
        users: usize,
        #[command(flatten)]
        source: scenarios::mixed::CrowdSource,
    },
    /// News on a loaded data set: people drawn from the database read their feed while a friend
    /// of each posts; feed pages, publishes, and how soon a post reaches its reader's socket
    /// (`feed_post`) and feed.
    Feed(scenarios::feed::Options),
    /// The mixed blend for a long time, with sockets opening and closing, while the server's
    /// memory and open files are sampled: fails when either keeps rising after the warm-up.
    Soak(scenarios::soak::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every socket is a descriptor: take what the system allows.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("nosebook-loadtest: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("nosebook-loadtest: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `Ok(false)`: the run completed with errors or lost events.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    let common = cli.common;
    let (report, plot) = match cli.scenario {
        Scenario::Messaging { pairs } => scenarios::messaging::run(&common, pairs).await?,
        Scenario::Fanout { members } => scenarios::fanout::run(&common, members).await?,
        Scenario::Connections(options) => scenarios::connections::run(&common, options).await?,
        Scenario::Restarts(options) => scenarios::restarts::run(&common, options).await?,
        Scenario::Faults(options) => scenarios::faults::run(&common, options).await?,
        Scenario::Hold(options) => {
            workers::hold(options).await?;
            return Ok(true);
        }
        Scenario::Chats { count, server_pid } => scenarios::chats::run(&common, count, server_pid).await?,
        Scenario::Read { users, page } => scenarios::read::run(&common, users, &page).await?,
        Scenario::Resume { sockets, missed, server_pid } => {
            scenarios::resume::run(&common, sockets, missed, server_pid).await?
        }
        Scenario::Mixed { users, source } => scenarios::mixed::run(&common, users, source).await?,
        Scenario::Feed(options) => scenarios::feed::run(&common, options).await?,
        Scenario::Pages { users } => scenarios::pages::run(&common, users).await?,
        Scenario::Soak(options) => scenarios::soak::run(&common, options).await?,
    };
    report.print();
    std::fs::write(&common.out, serde_json::to_vec_pretty(&report)?)?;
    std::fs::write(&common.plot, plot)?;
    println!("report: {}  plot: {}", common.out.display(), common.plot.display());
    Ok(!report.failed())
}
