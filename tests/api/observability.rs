//! `GET /metrics`: every family is exported and moves when its event happens; and the Grafana
//! dashboards in `deploy/` query only metrics that really exist — ours from this server, the
//! RabbitMQ and PostgreSQL ones from the real exporters.

use std::collections::BTreeSet;

use image::ImageFormat;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The exposition text of `/metrics`.
pub(crate) async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

/// The sum of the samples of `name` whose labels contain every one of `labels` (`key="value"`);
/// `None` when there is no such series.
pub(crate) fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, sample)) = line.rsplit_once(' ') else { continue };
        let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
        if series_name == name && labels.iter().all(|l| series_labels.contains(l)) {
            *found.get_or_insert(0.0) += sample.parse::<f64>().unwrap();
        }
    }
    found
}

fn read(text: &str, name: &str, labels: &[&str]) -> f64 {
    value(text, name, labels).unwrap_or_else(|| panic!("no series {name}{labels:?} in:\n{text}"))
}

/// Metric names defined in an exposition (the `_bucket`/`_sum`/`_count` series included).
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn every_family_is_exported_and_moves_when_its_event_happens() {
    let app = spawn_app().await;
    let (alice, alice_session) = app.register("metrics_alice").await;
    let (bob, bob_session) = app.register("metrics_bob").await;
    let before = scrape(&app).await;

    let mut socket = app.socket(&bob_session).await;
    let open = scrape(&app).await;
    assert!(read(&open, "nosebook_ws_connections", &[]) >= 1.0);

    app.get(&format!("/users/{bob}"), Some(&alice_session)).await.data();
    app.get("/users/not-a-uuid", Some(&alice_session)).await;
    app.post("/conversations/send-message", Some(&alice_session), json!({"recipientId": bob, "text": "hi"}))
        .await
        .data();
    assert_eq!(socket.event().await["type"], "new_message");
    // A tab that comes back after that message: resumed, with the message replayed.
    let mut ready = app.resuming_socket(&bob_session, "").await;
    let cursor = ready.frame().await["payload"]["cursor"].as_str().unwrap().to_owned();
    drop(ready);
    app.post("/conversations/send-message", Some(&alice_session), json!({"recipientId": bob, "text": "again"}))
        .await
        .data();
    assert_eq!(socket.event().await["payload"]["text"], "again");
    let mut resumed = app.resuming_socket(&bob_session, &cursor).await;
    assert_eq!(resumed.event().await["type"], "resumed");
    assert_eq!(resumed.event().await["payload"]["text"], "again");
    let avatar = super::avatars::picture(32, 32, ImageFormat::Png);
    let stored = app.upload_avatar(Some(&alice_session), super::avatars::file(avatar, "a.png", "image/png")).await;
    assert_eq!(stored.status, StatusCode::OK);
    let refused = app.upload_avatar(Some(&alice_session), super::avatars::file(b"no".to_vec(), "a.png", "x/y")).await;
    assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    socket.close().await;
    // The close reaches the socket's task asynchronously.
    let mut after = scrape(&app).await;
    for _ in 0..50 {
        if value(&after, "nosebook_ws_connections_closed_total", &[r#"reason="client_closed""#]).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = scrape(&app).await;
    }

    let moved = |name: &str, labels: &[&str], by: f64| {
        let (was, is) = (value(&before, name, labels).unwrap_or(0.0), read(&after, name, labels));
        assert!(is - was >= by, "{name}{labels:?} moved from {was} to {is}, expected at least +{by}");
    };
    let user_route = [r#"route="/users/{id}""#, r#"method="GET""#];
    moved("nosebook_http_requests_total", &[user_route[0], user_route[1], r#"status="200""#], 1.0);
    moved("nosebook_http_requests_total", &[user_route[0], r#"status="400""#], 1.0);
    moved("nosebook_http_request_duration_seconds_count", &user_route, 2.0);
    assert!(read(&after, "nosebook_http_request_duration_seconds_bucket", &[user_route[0], r#"le="+Inf""#]) >= 2.0);
    moved("nosebook_db_query_duration_seconds_count", &[r#"statement="select""#], 1.0);
    moved("nosebook_db_query_duration_seconds_count", &[r#"statement="insert""#], 1.0);
    moved("nosebook_ws_connections_opened_total", &[], 1.0);
    moved("nosebook_ws_connections_closed_total", &[r#"reason="client_closed""#], 1.0);
    // One event for both people in the chat.
    moved("nosebook_events_written_total", &[r#"type="new_message""#], 1.0);
    moved("nosebook_events_published_total", &[], 1.0);
    moved("nosebook_sends_written_total", &[], 1.0);
    moved("nosebook_send_batches_total", &[], 1.0);
    moved("nosebook_send_statements_total", &[], 1.0);
    read(&after, "nosebook_sends_queued", &[]);
    moved("nosebook_events_consumed_total", &[], 1.0);
    moved("nosebook_events_delivered_total", &[], 1.0);
    moved("nosebook_ws_resumes_total", &[r#"outcome="resumed""#], 1.0);
    moved("nosebook_ws_replayed_events_total", &[], 1.0);
    read(&after, "nosebook_ws_resumes_total", &[r#"outcome="resync""#]);
    read(&after, "nosebook_events_duplicates_dropped_total", &[r#"found_in="history""#]);
    read(&after, "nosebook_event_log_lag_seconds", &[]);
    assert_eq!(read(&after, "nosebook_outbox_relay_behind", &[]), 0.0);
    moved("nosebook_avatar_uploads_total", &[r#"result="stored""#], 1.0);
    moved("nosebook_avatar_uploads_total", &[r#"result="refused""#], 1.0);
    moved("process_cpu_seconds_total", &[], 0.0);

    assert_eq!(read(&after, "nosebook_db_pool_max_connections", &[]), 4.0);
    assert!(read(&after, "nosebook_db_pool_connections", &[r#"state="idle""#]) >= 1.0);
    read(&after, "nosebook_db_pool_connections", &[r#"state="in_use""#]);
    read(&after, "nosebook_db_pool_waiters", &[]);
    read(&after, "nosebook_outbox_backlog", &[]);
    read(&after, "nosebook_outbox_oldest_age_seconds", &[]);
    for actor in ["hub", "chats", "sessions", "presence"] {
        read(&after, "nosebook_actor_mailbox_depth", &[&format!(r#"actor="{actor}""#)]);
    }
    assert!(read(&after, "nosebook_users_online", &[]) >= 2.0, "alice and bob are online");
    assert!(read(&after, "process_resident_memory_bytes", &[]) > 0.0);
    assert!(!after.contains(&alice), "no user ids in label values");

    dashboards_query_only_exported_metrics(&after).await;
}

/// Every `expr` of a Grafana dashboard (panels nested in rows included).
fn expressions(dashboard: &Value, found: &mut Vec<String>) {
    match dashboard {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr" | "query", Value::String(expr)) => found.push(expr.clone()),
                    _ => expressions(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| expressions(item, found)),
        _ => {}
    }
}

/// The metric names an expression reads: identifiers with one of `prefixes`.
fn metric_names(expr: &str, prefixes: &[&str]) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|word| prefixes.iter().any(|p| word.starts_with(p)))
        .map(str::to_owned)
        .collect()
}

fn dashboard_metrics(file: &str, prefixes: &[&str]) -> BTreeSet<String> {
    let path = format!("{}/deploy/grafana/dashboards/{file}", env!("CARGO_MANIFEST_DIR"));
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
    assert!(dashboard["title"].is_string() && dashboard["uid"].is_string(), "{path}: a titled dashboard");
    let mut exprs = Vec::new();
    expressions(&dashboard, &mut exprs);
    assert!(!exprs.is_empty(), "{path} queries nothing");
    let names: BTreeSet<String> = exprs.iter().flat_map(|e| metric_names(e, prefixes)).collect();
    assert!(!names.is_empty(), "{path} queries no metric with {prefixes:?}");
    names
}

fn assert_exported(dashboard: &str, names: &BTreeSet<String>, exposition: &str) {
    let exported = exported(exposition);
    let missing: Vec<_> = names.difference(&exported).collect();
    assert!(missing.is_empty(), "{dashboard} queries metrics nobody exports: {missing:?}");
}

async fn dashboards_query_only_exported_metrics(ours: &str) {
    let app = dashboard_metrics("nosebook.json", &["nosebook_", "process_"]);
    assert_exported("nosebook.json", &app, ours);

    // RabbitMQ's own Prometheus plugin (enabled by scripts/lib.sh).
    let rabbitmq = reqwest::get("http://127.0.0.1:15692/metrics")
        .await
        .expect("RabbitMQ's Prometheus plugin on :15692 (scripts/test enables rabbitmq_prometheus)");
    let rabbitmq = rabbitmq.text().await.unwrap();
    assert_exported("rabbitmq.json", &dashboard_metrics("rabbitmq.json", &["rabbitmq_"]), &rabbitmq);

    // The PostgreSQL exporter, run here against the test server.
    let exporter = PostgresExporter::start().await;
    let postgres = reqwest::get(format!("{}/metrics", exporter.address)).await.unwrap().text().await.unwrap();
    assert_eq!(value(&postgres, "pg_up", &[]), Some(1.0), "the exporter reaches PostgreSQL");
    assert_exported("postgresql.json", &dashboard_metrics("postgresql.json", &["pg_"]), &postgres);
}

/// Debian's prometheus-postgres-exporter (installed by scripts/test) on a free port.
struct PostgresExporter {
    address: String,
    process: std::process::Child,
}

impl Drop for PostgresExporter {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl PostgresExporter {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dsn = format!("{}/postgres?sslmode=disable", crate::support::server_url());
        let process = std::process::Command::new("prometheus-postgres-exporter")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .env("DATA_SOURCE_NAME", dsn)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("prometheus-postgres-exporter (scripts/test installs it from Debian)");
        let exporter = Self { address: format!("http://127.0.0.1:{port}"), process };
        for _ in 0..100 {
            if reqwest::get(format!("{}/metrics", exporter.address)).await.is_ok() {
                return exporter;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the PostgreSQL exporter did not start");
    }
}
