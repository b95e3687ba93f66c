//! End to end: the real `nosebook` binary, as an operator runs it (`migrate`, `seed compat`,
//! `serve` with `APP_ENV=testing`), driven over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::seed;

const BIN: &str = env!("CARGO_BIN_EXE_nosebook");

fn nosebook(args: &[&str], database_url: &str) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("APP_ENV", "testing")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// The server process; killed when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn get(client: &reqwest::Client, url: String, session: &str) -> (u16, Value) {
    let response = client
        .get(url)
        .header("X-Auth-Session-Id", session)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_binary_migrates_seeds_and_serves_the_compat_api() {
    let db = support::empty_database().await;
    let migrate = nosebook(&["migrate"], &db);
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let seed = nosebook(&["seed", "compat"], &db);
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    // Seeding twice is refused: the data set goes into an empty database only.
    let again = nosebook(&["seed", "compat"], &db);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has users"));

    let port = free_port();
    let _server = Server(
        Command::new(BIN)
            .arg("serve")
            .env("DATABASE_URL", &db)
            .env("APP_ENV", "testing")
            .env("NOSEBOOK_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/ping")).send().await {
            assert_eq!(r.text().await.unwrap(), "pong");
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server never answered /ping");

    let (status, me) = get(&client, format!("{base}/whoami"), seed::SESSION).await;
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({"ok": true, "data": {
            "id": seed::TEST_TESTER, "firstName": "Test", "lastName": "Tester", "nick": "test_tester",
            "createdAt": "2024-08-01T00:00:00Z", "lastActivityAt": "2024-08-10T10:10:10Z"}})
    );

    let (_, tester) = get(
        &client,
        format!("{base}/users/{}", seed::TEST_TESTER),
        seed::SESSION,
    )
    .await;
    assert_eq!(tester["data"]["online"], true);
    assert_eq!(tester["data"]["lastOnlineAt"], "2024-08-10T10:10:10Z");
    let (_, drug) = get(
        &client,
        format!("{base}/users/{}", seed::DRUGTESTER),
        seed::SESSION,
    )
    .await;
    assert_eq!(
        drug,
        json!({"ok": true, "data": {
            "id": seed::DRUGTESTER, "firstName": "Ilya", "lastName": "Blinkov", "nick": "drugtester",
            "lastOnlineAt": "2024-08-10T10:01:02Z", "online": false}})
    );

    let (_, found) = get(&client, format!("{base}/users?text=tester"), seed::SESSION).await;
    let nicks: Vec<&str> = found["data"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["nick"].as_str().unwrap())
        .collect();
    assert_eq!(nicks, ["test_tester", "drugtester"]);
    assert_eq!(found["data"]["totalCount"], 2);
    assert!(found["data"].get("next").is_none());

    let (status, anonymous) = get(&client, format!("{base}/whoami"), "").await;
    assert_eq!(status, 403);
    assert_eq!(anonymous["errors"][0]["type"], "Not Authenticated");
}

#[test]
fn an_unreachable_database_is_one_clear_line_and_a_failure() {
    let out = nosebook(&["migrate"], "postgres://postgres@127.0.0.1:1/nowhere");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(
            "nosebook: cannot reach the database at postgres://postgres@127.0.0.1:1/nowhere"
        ),
        "{stderr}"
    );
}
