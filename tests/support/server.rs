//! The real binaries as a test's nodes: `nosebook serve` and `nosebook-notifier`, each on a free
//! port, answering `/ping` before the test talks to it, killed when the test ends.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_nosebook");
/// A notifier node runs as its own binary, as a deployment scales it.
pub const NOTIFIER_BIN: &str = env!("CARGO_BIN_EXE_nosebook-notifier");

/// Runs the binary with `args` on `database_url` as an operator would, in testing mode, to its
/// end.
pub fn nosebook(args: &[&str], database_url: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("APP_ENV", "testing")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Which program a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `nosebook serve`: the API, the relay and sockets.
    Serve,
    /// `nosebook-notifier`: sockets and the probes only.
    Notifier,
}

/// What a node runs on. Besides these, every node gets `APP_ENV=testing` (the frozen clock), a
/// free port, and no limit on signups (tests sign many people up from one address).
pub struct NodeEnv<'a> {
    pub database: &'a str,
    pub amqp: &'a str,
    pub exchange: &'a str,
    /// Where avatars go; the nodes of one test share it, as they share a volume in production.
    pub storage: &'a Path,
    /// More variables, set last: they override the ones above.
    pub extra: &'a [(&'a str, String)],
}

/// A running node, killed and reaped when dropped, however the test ends. Its output is
/// dropped unless `TEST_LOG` is set, which passes its log on to the test's.
pub struct Node {
    child: Child,
    pub base: String,
}

impl Node {
    /// Sends SIGTERM, as a deploy or `docker stop` does.
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, for at most `limit`; `None` if it is still running.
    pub async fn exited(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Blocks until the process exits.
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().unwrap()
    }

    /// Kills the process and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts a node of `role` on `env` and a free port; returns once it answers `/ping`.
pub async fn start(role: Role, env: &NodeEnv<'_>) -> Node {
    let port = free_port();
    let mut command = match role {
        Role::Serve => {
            let mut command = Command::new(BIN);
            command.arg("serve");
            command
        }
        Role::Notifier => Command::new(NOTIFIER_BIN),
    };
    let child = command
        .env("DATABASE_URL", env.database)
        .env("APP_ENV", "testing")
        .env("NOSEBOOK_LISTEN", format!("127.0.0.1:{port}"))
        .env("AMQP_URL", env.amqp)
        .env("NOSEBOOK_AMQP_EXCHANGE", env.exchange)
        .env("NOSEBOOK_STORAGE_DIR", env.storage)
        .env("NOSEBOOK_LIMIT_SIGNUPS_PER_HOUR", "off")
        .envs(env.extra.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(if std::env::var_os("TEST_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
        .spawn()
        .unwrap();
    // Owned at once, so the process is killed and reaped however the test ends.
    let mut node = Node { child, base: format!("http://127.0.0.1:{port}") };
    wait_for_ping(&mut node).await;
    node
}

/// Waits until `node` answers `/ping` with `pong`, for at most 30 s; panics at once if it exits
/// meanwhile.
pub async fn wait_for_ping(node: &mut Node) {
    let client = reqwest::Client::new();
    let ping = format!("{}/ping", node.base);
    for _ in 0..300 {
        if let Ok(response) = client.get(&ping).send().await {
            assert_eq!(response.text().await.unwrap(), "pong", "{ping}");
            return;
        }
        if let Some(status) = node.child.try_wait().unwrap() {
            panic!("the node for {} exited ({status}) before it answered /ping (TEST_LOG=1 shows its log)", node.base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the node for {} never answered /ping", node.base);
}

/// An exchange and a storage directory of a test's own, deleted when dropped. Held after the
/// nodes that use it (locals drop in reverse order, a struct's fields in order), so that the
/// nodes are gone first: a live node would declare the exchange again.
pub struct Sandbox {
    pub exchange: String,
    pub storage: PathBuf,
}

impl Sandbox {
    /// `kind` names the storage directory: `nosebook-<kind>-<exchange>` in the temporary directory.
    pub fn new(kind: &str) -> Self {
        let exchange = format!("nosebook_test_{}", uuid::Uuid::new_v4().simple());
        let storage = std::env::temp_dir().join(format!("nosebook-{kind}-{exchange}"));
        Self { exchange, storage }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage);
        super::delete_exchange(std::mem::take(&mut self.exchange));
    }
}

/// A `serve` node in a sandbox of its own, which goes when the node does.
pub struct Server {
    node: Node,
    _sandbox: Sandbox,
}

impl std::ops::Deref for Server {
    type Target = Node;

    fn deref(&self) -> &Node {
        &self.node
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Node {
        &mut self.node
    }
}

/// Starts `nosebook serve` on a free port with the frozen clock and waits for `/ping`.
pub async fn serve(db: &str) -> (Server, String) {
    serve_with(db, &[]).await
}

/// As [`serve`], with more environment.
pub async fn serve_with(db: &str, env: &[(&str, String)]) -> (Server, String) {
    let sandbox = Sandbox::new("e2e");
    let amqp = super::amqp_url();
    let node_env =
        NodeEnv { database: db, amqp: &amqp, exchange: &sandbox.exchange, storage: &sandbox.storage, extra: env };
    let node = start(Role::Serve, &node_env).await;
    let base = node.base.clone();
    (Server { node, _sandbox: sandbox }, base)
}
