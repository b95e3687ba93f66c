//! Prometheus metrics: the recorder behind the `metrics` facade that every crate counts through,
//! the HTTP middleware, the gauges read at scrape time, and `GET /metrics`. docs/operating.md
//! ("What each metric means") lists every family and what it means.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use nosebook_schema::DbPool;
use nosebook_schema::queries::{outbox, presence};

pub const HTTP_REQUESTS: &str = "nosebook_http_requests_total";
pub const HTTP_DURATION: &str = "nosebook_http_request_duration_seconds";
pub const POOL_CONNECTIONS: &str = "nosebook_db_pool_connections";
pub const POOL_WAITERS: &str = "nosebook_db_pool_waiters";
pub const POOL_MAX: &str = "nosebook_db_pool_max_connections";
pub const OUTBOX_BACKLOG: &str = "nosebook_outbox_backlog";
pub const OUTBOX_OLDEST_AGE: &str = "nosebook_outbox_oldest_age_seconds";
pub const USERS_ONLINE: &str = "nosebook_users_online";

/// How often histogram samples are folded into their buckets when nobody scrapes. The recorder
/// keeps every sample it has not folded yet, so without this a node that nobody scrapes (the
/// default deployment, or a Prometheus outage) grows by a few hundred bytes per request, forever.
/// Five seconds of samples at 5,000 requests per second is a few megabytes: the bound.
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Latency buckets, in seconds: sub-millisecond cache hits up to requests that time out.
const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

struct Exporter {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

static EXPORTER: OnceLock<Option<Exporter>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls reuse it).
pub fn install() {
    EXPORTER.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .and_then(|builder| builder.install_recorder());
        match recorder {
            Ok(handle) => {
                spawn_upkeep(handle.clone());
                let process = metrics_process::Collector::default();
                process.describe();
                describe();
                Some(Exporter { handle, process })
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed; /metrics will be empty");
                None
            }
        }
    });
}

/// Folds samples on a thread of its own: it takes a lock the request threads also take, briefly,
/// and must run whatever the async runtimes are doing (even with none, in tests).
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
        loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "metrics upkeep not started: memory grows until /metrics is scraped");
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    use nosebook_telemetry::metrics as rt;
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route template, method and status");
    describe_histogram!(HTTP_DURATION, "HTTP request latency, by route template and method");
    describe_gauge!(POOL_CONNECTIONS, "Database connections in the pool, by state (in_use, idle)");
    describe_gauge!(POOL_WAITERS, "Requests waiting for a database connection");
    describe_gauge!(POOL_MAX, "Largest size of the database pool");
    describe_histogram!(nosebook_schema::observe::QUERY_DURATION, "Database query latency, by statement kind");
    describe_gauge!(rt::WS_CONNECTIONS, "WebSocket connections open on this node");
    describe_counter!(rt::WS_OPENED, "WebSocket connections opened");
    describe_counter!(rt::WS_CLOSED, "WebSocket connections closed, by reason");
    describe_counter!(
        rt::EVENTS_WRITTEN,
        "Events written to the outbox (one per event, however many recipients), by type"
    );
    describe_counter!(rt::EVENTS_PUBLISHED, "Outbox rows published to the transport and confirmed");
    describe_counter!(rt::EVENTS_CONSUMED, "Events received by this node's hub");
    describe_counter!(rt::EVENTS_DELIVERED, "Event frames queued to a socket");
    describe_counter!(
        rt::EVENTS_DUPLICATES,
        "Events dropped as published twice, by where the first was found (live, history)"
    );
    describe_counter!(rt::WS_RESUMES, "Sockets opened with a cursor, by outcome (resumed, resync, waited)");
    describe_counter!(rt::WS_REPLAYED, "Events replayed to resuming sockets");
    describe_gauge!(rt::EVENT_LOG_LAG, "Age of the newest event this node read from the event log, when it read it");
    describe_gauge!(rt::RELAY_BEHIND, "1 while this node's outbox relay is behind a failed publish");
    describe_gauge!(OUTBOX_BACKLOG, "Outbox rows not yet published");
    describe_gauge!(OUTBOX_OLDEST_AGE, "Age of the oldest unpublished outbox row");
    describe_gauge!(rt::MAILBOX_DEPTH, "Messages waiting in an actor's mailbox, by actor");
    describe_counter!(
        nosebook_core::limits::RATE_LIMITED,
        "Requests refused with 429 by a limit on abuse, by limit (login, signup, write, ws_upgrade, ws_per_session)"
    );
    describe_gauge!(USERS_ONLINE, "Users announced online (every node reports the same value)");
    describe_counter!(nosebook_core::users::AVATAR_UPLOADS, "Avatar uploads, by result (stored, refused)");
}

/// Counts and times every request by its route template (never the raw path: ids would make
/// a series per user). Requests no route matched share `route="unmatched"`.
pub async fn track_http(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await;
    let status = match &res {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    histogram!(HTTP_DURATION, "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status.to_string()).increment(1);
    res
}

/// Reads the values only known at scrape time.
async fn sample(db: &DbPool, max_pool: usize) {
    let status = db.status();
    gauge!(POOL_CONNECTIONS, "state" => "in_use").set((status.size - status.available) as f64);
    gauge!(POOL_CONNECTIONS, "state" => "idle").set(status.available as f64);
    gauge!(POOL_WAITERS).set(status.waiting as f64);
    gauge!(POOL_MAX).set(max_pool as f64);
    let Ok(mut conn) = db.get().await else { return };
    if let Ok((rows, oldest)) = outbox::backlog(&mut conn).await {
        gauge!(OUTBOX_BACKLOG).set(rows as f64);
        let age = oldest.map_or(0.0, |at| (chrono::Utc::now() - at).as_seconds_f64().max(0.0));
        gauge!(OUTBOX_OLDEST_AGE).set(age);
    }
    if let Ok(online) = presence::online_count(&mut conn).await {
        gauge!(USERS_ONLINE).set(online as f64);
    }
}

/// What a scrape needs besides the recorder.
#[derive(Clone)]
pub struct Scrape {
    pub db: DbPool,
    pub max_pool: usize,
}

/// `GET /metrics`: the Prometheus text format (not part of the product API).
pub async fn serve(scrape: web::Data<Scrape>) -> HttpResponse {
    let Some(Some(exporter)) = EXPORTER.get() else {
        return HttpResponse::ServiceUnavailable().body("metrics recorder not installed\n");
    };
    sample(&scrape.db, scrape.max_pool).await;
    exporter.process.collect();
    exporter.handle.run_upkeep();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(exporter.handle.render())
}
