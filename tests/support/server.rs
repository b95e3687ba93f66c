//! The real `nosebook` binary as a test's server.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_nosebook");

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

/// The server process; killed when the test ends, however it ends, and its exchange and storage
/// directory removed.
pub struct Server(Child, String);

/// Where a server with this exchange keeps avatars.
fn storage_dir(exchange: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("nosebook-e2e-{exchange}"))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(storage_dir(&self.1));
        super::delete_exchange(std::mem::take(&mut self.1));
    }
}

impl Server {
    /// Sends SIGTERM, as a deploy or `docker stop` does.
    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, for at most `limit`; `None` if it is still running.
    pub async fn exited(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `nosebook serve` on a free port with the frozen clock and waits for `/ping`.
pub async fn serve(db: &str) -> (Server, String) {
    serve_with(db, &[]).await
}

/// As [`serve`], with more environment.
pub async fn serve_with(db: &str, env: &[(&str, String)]) -> (Server, String) {
    let port = free_port();
    let exchange = format!("nosebook_test_{}", uuid::Uuid::new_v4().simple());
    let server = Server(
        Command::new(BIN)
            .arg("serve")
            .env("DATABASE_URL", db)
            .env("APP_ENV", "testing")
            .env("NOSEBOOK_LISTEN", format!("127.0.0.1:{port}"))
            .env("AMQP_URL", super::amqp_url())
            .env("NOSEBOOK_AMQP_EXCHANGE", &exchange)
            .env("NOSEBOOK_STORAGE_DIR", storage_dir(&exchange))
            // Tests sign many people up from this one address.
            .env("NOSEBOOK_LIMIT_SIGNUPS_PER_HOUR", "off")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        exchange,
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/ping")).send().await {
            assert_eq!(r.text().await.unwrap(), "pong");
            return (server, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server never answered /ping");
}
