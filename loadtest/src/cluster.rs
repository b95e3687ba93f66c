//! Nodes the load tool starts itself: one `nosebook serve` (the API, the relay) and N
//! `nosebook notifier` nodes (sockets only) on one database and one RabbitMQ, as a deployment
//! runs them. The scenarios about scale-out and nodes that leave drive these processes: they
//! read their memory, stop them (SIGTERM), kill them (SIGKILL) and start them again.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Args;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// How long a node may take to answer `/ping` after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Args)]
pub struct ClusterOptions {
    /// The `nosebook` binary the nodes run.
    #[arg(long, default_value = "target/release/nosebook")]
    pub server_bin: PathBuf,
    /// The `serve` node listens here, notifier node i at `base_port + 1 + i`.
    #[arg(long, default_value_t = 18300)]
    pub base_port: u16,
    /// Where the nodes' logs go.
    #[arg(long, default_value = "loadtest-nodes")]
    pub logs: PathBuf,
    /// The exchange the nodes share (its event log is `<exchange>.log`).
    #[arg(long, default_value = "nosebook_loadtest")]
    pub exchange: String,
    /// Database connections per notifier node (six nodes of the default 16 would pass
    /// PostgreSQL's 100).
    #[arg(long, default_value_t = 6)]
    pub notifier_pool: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Serve,
    Notifier,
}

pub struct Node {
    pub port: u16,
    /// Starts of this node so far (each start logs to its own file).
    starts: u32,
    child: Option<Child>,
}

impl Node {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }
}

pub struct Cluster {
    options: ClusterOptions,
    database_url: String,
    pub serve: Node,
    pub notifiers: Vec<Node>,
}

impl Cluster {
    /// Starts the serve node (it applies the migrations), then the notifier nodes; returns when
    /// every one answers `/ping`.
    pub async fn start(options: &ClusterOptions, notifiers: usize, database_url: &str) -> anyhow::Result<Self> {
        if !options.server_bin.exists() {
            anyhow::bail!("no server binary at {} (--server-bin)", options.server_bin.display());
        }
        std::fs::create_dir_all(&options.logs)?;
        let node = |port| Node { port, starts: 0, child: None };
        let mut cluster = Self {
            options: options.clone(),
            database_url: database_url.to_owned(),
            serve: node(options.base_port),
            notifiers: (0..notifiers).map(|i| node(options.base_port + 1 + i as u16)).collect(),
        };
        cluster.spawn_serve()?;
        wait_for_ping(&mut cluster.serve).await?;
        for i in 0..cluster.notifiers.len() {
            cluster.start_notifier(i).await?;
        }
        Ok(cluster)
    }

    pub fn notifier_urls(&self) -> Vec<String> {
        self.notifiers.iter().map(Node::url).collect()
    }

    /// Process ids of every running node, serve first.
    pub fn pids(&self) -> Vec<u32> {
        std::iter::once(&self.serve).chain(&self.notifiers).filter_map(Node::pid).collect()
    }

    fn spawn_serve(&mut self) -> anyhow::Result<()> {
        let child = self.command(Role::Serve, self.serve.port, self.serve.starts)?.spawn()?;
        self.serve.starts += 1;
        self.serve.child = Some(child);
        Ok(())
    }

    /// Starts notifier node `i` (again) and waits until it answers `/ping`.
    pub async fn start_notifier(&mut self, i: usize) -> anyhow::Result<Duration> {
        let at = Instant::now();
        let node = &self.notifiers[i];
        let child = self.command(Role::Notifier, node.port, node.starts)?.spawn()?;
        let node = &mut self.notifiers[i];
        node.starts += 1;
        node.child = Some(child);
        wait_for_ping(node).await?;
        Ok(at.elapsed())
    }

    /// SIGTERM to notifier node `i`, then waits for it to exit: its exit status and how long it
    /// took to leave.
    pub async fn stop_notifier(&mut self, i: usize) -> anyhow::Result<(Option<i32>, Duration)> {
        let at = Instant::now();
        let child = self.notifiers[i].child.as_mut().ok_or_else(|| anyhow::anyhow!("node {i} is not running"))?;
        signal(child, Signal::SIGTERM)?;
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .map_err(|_| anyhow::anyhow!("notifier node {i} still running 60 s after SIGTERM"))??;
        self.notifiers[i].child = None;
        Ok((status.code(), at.elapsed()))
    }

    /// SIGKILL to notifier node `i`: a crash, nothing said to anyone.
    pub async fn kill_notifier(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(mut child) = self.notifiers[i].child.take() {
            signal(&child, Signal::SIGKILL)?;
            child.wait().await?;
        }
        Ok(())
    }

    fn command(&self, role: Role, port: u16, starts: u32) -> anyhow::Result<Command> {
        let (verb, name) = match role {
            Role::Serve => ("serve", "serve".to_owned()),
            Role::Notifier => ("notifier", format!("notifier-{port}")),
        };
        let log = std::fs::File::create(self.options.logs.join(format!("{name}.{starts}.log")))?;
        let mut command = Command::new(&self.options.server_bin);
        command
            .arg(verb)
            .env("DATABASE_URL", &self.database_url)
            .env("NOSEBOOK_LISTEN", format!("127.0.0.1:{port}"))
            .env("NOSEBOOK_AMQP_EXCHANGE", &self.options.exchange)
            .env("NOSEBOOK_STORAGE_DIR", self.options.logs.join("storage"))
            // A load generator is one client opening thousands of sockets and sending thousands
            // of writes: the limits on abuse are for people (docs/configuration.md, "Limits").
            .env("NOSEBOOK_LIMIT_WS_UPGRADES", "off")
            .env("NOSEBOOK_LIMIT_WRITES", "off")
            .env("RUST_LOG", std::env::var("NODE_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        if role == Role::Notifier {
            command.env("NOSEBOOK_DB_POOL_SIZE", self.options.notifier_pool.to_string());
        }
        Ok(command)
    }

    pub fn logs(&self) -> &Path {
        &self.options.logs
    }
}

fn signal(child: &Child, signal: Signal) -> anyhow::Result<()> {
    let pid = child.id().ok_or_else(|| anyhow::anyhow!("the node already exited"))?;
    // A child not yet reaped: the pid is still ours.
    nix::sys::signal::kill(Pid::from_raw(i32::try_from(pid)?), signal)?;
    Ok(())
}

/// Waits until `node` answers `/ping` with `pong`; fails as soon as it has exited, or after
/// [`START_TIMEOUT`].
async fn wait_for_ping(node: &mut Node) -> anyhow::Result<()> {
    let ping = format!("{}/ping", node.url());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(response) = client.get(&ping).send().await {
            let body = response.text().await.unwrap_or_default();
            if body == "pong" {
                return Ok(());
            }
            anyhow::bail!("{ping} answered {body:?}, not \"pong\": is another server on port {}?", node.port);
        }
        if let Some(status) = node.child.as_mut().map(Child::try_wait).transpose()?.flatten() {
            anyhow::bail!("the node on port {} exited ({status}) before it answered /ping", node.port);
        }
        if Instant::now() > deadline {
            anyhow::bail!("no node answered {ping} {}s after its start", START_TIMEOUT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
