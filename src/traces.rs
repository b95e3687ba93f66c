//! Logs and traces. Logs: human-readable in dev and testing, JSON lines in prod; `RUST_LOG`
//! filters them. Traces: exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set — over
//! HTTP (protobuf, the standard's default, or JSON) or gRPC as `OTEL_EXPORTER_OTLP_PROTOCOL`
//! says; Jaeger ingests OTLP natively on 4318 (HTTP) and 4317 (gRPC) — with the W3C trace
//! context propagated through the outbox and RabbitMQ (see `nosebook_telemetry::trace_context`).

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
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

/// With traces exported, every response names its trace (`X-Trace-Id`, docs/API.md §1), so a client
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
    /// The gRPC client's own runtime: it must outlive the final flush, which runs after the
    /// server's runtime has ended.
    runtime: Option<tokio::runtime::Runtime>,
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
        drop(self.runtime);
    }
}

/// How spans travel to the collector: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else
/// `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf` (the standard's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

impl OtlpProtocol {
    /// A value outside the standard's three is refused: exporting in the wrong protocol loses
    /// every span without a word (an HTTP request to a gRPC port).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        for var in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            let Some(raw) = lookup(var).filter(|v| !v.trim().is_empty()) else { continue };
            return match raw.trim() {
                "grpc" => Ok(Self::Grpc),
                "http/protobuf" => Ok(Self::HttpProtobuf),
                "http/json" => Ok(Self::HttpJson),
                other => anyhow::bail!("{var}: {other:?} is not one of grpc, http/protobuf, http/json"),
            };
        }
        Ok(Self::HttpProtobuf)
    }
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs logging, and trace export when the environment asks for it. `service` names this
/// process in traces unless `OTEL_SERVICE_NAME` does. Fails on an unknown OTLP protocol only;
/// an exporter that cannot be built disables traces with a warning.
pub fn init(env: AppEnv, service: &'static str) -> anyhow::Result<Telemetry> {
    let protocol = OtlpProtocol::from_lookup(|var| std::env::var(var).ok())?;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,nosebook_schema::pool=error"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs: BoxedLayer = match env {
        AppEnv::Prod => logs.json().with_filter(filter).boxed(),
        AppEnv::Dev | AppEnv::Testing => logs.with_filter(filter).boxed(),
    };
    let (traces, provider, runtime) = match exporter(service, protocol) {
        Ok(Some((provider, runtime))) => {
            let tracer = provider.tracer("nosebook");
            let layer = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(EnvFilter::new(TRACE_FILTER));
            (Some(layer.boxed()), Some(provider), runtime)
        }
        Ok(None) => (None, None, None),
        Err(e) => {
            eprintln!("nosebook: traces disabled: {e}");
            (None, None, None)
        }
    };
    // A second init (tests that build several apps) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(logs).with(traces).try_init();
    Ok(Telemetry { provider, runtime })
}

/// The OTLP exporter, if `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-only variant) is set. The
/// endpoint, headers and batching follow the standard `OTEL_*` variables. With gRPC, also the
/// runtime its client lives on.
fn exporter(
    service: &'static str,
    protocol: OtlpProtocol,
) -> anyhow::Result<Option<(SdkTracerProvider, Option<tokio::runtime::Runtime>)>> {
    let configured = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty()));
    if !configured {
        return Ok(None);
    }
    let builder = opentelemetry_otlp::SpanExporter::builder();
    let (exporter, runtime) = match protocol {
        OtlpProtocol::HttpProtobuf => (builder.with_http().with_protocol(Protocol::HttpBinary).build()?, None),
        OtlpProtocol::HttpJson => (builder.with_http().with_protocol(Protocol::HttpJson).build()?, None),
        OtlpProtocol::Grpc => {
            // tonic's channel runs its connection on the runtime it is created in; the batch
            // exporter's thread only waits for the answers. One thread of its own is plenty.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("otlp-grpc")
                .enable_all()
                .build()?;
            let exporter = {
                let _inside = runtime.enter();
                builder.with_tonic().build()?
            };
            (exporter, Some(runtime))
        }
    };
    let mut resource = Resource::builder();
    if std::env::var("OTEL_SERVICE_NAME").is_err() {
        resource = resource.with_service_name(service);
    }
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
    global::set_text_map_propagator(TraceContextPropagator::new());
    global::set_tracer_provider(provider.clone());
    Ok(Some((provider, runtime)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_is_the_standard_variables_and_nothing_else() {
        fn with(pairs: &[(&str, &str)]) -> anyhow::Result<OtlpProtocol> {
            OtlpProtocol::from_lookup(|var| pairs.iter().find(|(k, _)| *k == var).map(|(_, v)| (*v).to_owned()))
        }
        assert_eq!(with(&[]).unwrap(), OtlpProtocol::HttpProtobuf);
        assert_eq!(with(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "")]).unwrap(), OtlpProtocol::HttpProtobuf);
        assert_eq!(with(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap(), OtlpProtocol::Grpc);
        assert_eq!(with(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]).unwrap(), OtlpProtocol::HttpJson);
        let both = [("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")];
        assert_eq!(with(&both).unwrap(), OtlpProtocol::HttpProtobuf, "the traces-only variable wins");
        let err = with(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpcs")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"OTEL_EXPORTER_OTLP_PROTOCOL: "grpcs" is not one of grpc, http/protobuf, http/json"#
        );
    }
}
