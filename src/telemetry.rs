//! Logs and traces. Logs: human-readable in dev and testing, JSON lines in prod; `RUST_LOG`
//! filters them. Traces: exported over OTLP/HTTP (protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT` is
//! set — Jaeger ingests OTLP natively on port 4318 — with the W3C trace context propagated
//! through the outbox and RabbitMQ (see `nosebook_notifier::trace_context`).

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use opentelemetry::trace::TraceContextExt as _;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::config::AppEnv;

/// The span of each request: tracing-actix-web's (route, method, status, trace id) plus the
/// caller's `user_id`, which session resolution records.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        tracing_actix_web::root_span!(request, user_id = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(span: tracing::Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// What traces include: requests, events and every query (`db.query` spans are debug level so
/// that logs alone never pay for them).
const TRACE_FILTER: &str = "info,nosebook_schema::observe=debug";

/// With traces exported, every response names its trace (`X-Trace-Id`, API.md §1), so a client
/// report leads straight to the trace.
pub async fn trace_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let span = tracing::Span::current().context().span().span_context().clone();
    if span.is_valid()
        && let Ok(value) = HeaderValue::from_str(&span.trace_id().to_string())
    {
        res.headers_mut().insert(HeaderName::from_static("x-trace-id"), value);
    }
    Ok(res)
}

/// Keeps the trace exporter; [`Telemetry::shutdown`] flushes what is buffered.
#[must_use]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the exporter. Call it outside the actix runtime: the exporter's blocking
    /// client must not run on a runtime thread.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("nosebook: flushing traces failed: {e}");
        }
    }
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs logging, and trace export when the environment asks for it. `service` names this
/// process in traces unless `OTEL_SERVICE_NAME` does.
pub fn init(env: AppEnv, service: &'static str) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,nosebook_schema::pool=error"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs: BoxedLayer = match env {
        AppEnv::Prod => logs.json().with_filter(filter).boxed(),
        AppEnv::Dev | AppEnv::Testing => logs.with_filter(filter).boxed(),
    };
    let (traces, provider) = match exporter(service) {
        Ok(Some(provider)) => {
            let tracer = provider.tracer("nosebook");
            let layer = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(EnvFilter::new(TRACE_FILTER));
            (Some(layer.boxed()), Some(provider))
        }
        Ok(None) => (None, None),
        Err(e) => {
            eprintln!("nosebook: traces disabled: {e}");
            (None, None)
        }
    };
    // A second init (tests that build several apps) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(logs).with(traces).try_init();
    Telemetry { provider }
}

/// The OTLP exporter, if `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-only variant) is set. The
/// endpoint, headers and batching follow the standard `OTEL_*` variables.
fn exporter(service: &'static str) -> anyhow::Result<Option<SdkTracerProvider>> {
    let configured = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty()));
    if !configured {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
    let mut resource = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name(service);
    }
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
    global::set_text_map_propagator(TraceContextPropagator::new());
    global::set_tracer_provider(provider.clone());
    Ok(Some(provider))
}
