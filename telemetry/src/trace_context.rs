//! The W3C trace context across the asynchronous hops of an event: the writer's `traceparent` is
//! stored with the outbox row, the relay's publish span continues it and puts its own in the
//! RabbitMQ message headers, and the notifier's delivery span continues that. One trace then runs
//! from the request through the broker to the socket.
//!
//! The propagator is the global one: with tracing export off it is a no-op, nothing is stored and
//! nothing is created per event.

use std::collections::HashMap;

use opentelemetry::global;
use opentelemetry::trace::TraceContextExt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header (and propagator field) that carries the context.
pub const TRACEPARENT: &str = "traceparent";

/// The `traceparent` of `span`, if it belongs to a sampled, exported trace.
pub fn of(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&cx, &mut carrier));
    carrier.remove(TRACEPARENT)
}

/// The `traceparent` of the current span.
pub fn current() -> Option<String> {
    of(&tracing::Span::current())
}

/// Makes `span` a child of the remote context `traceparent`.
pub fn continue_from(span: &tracing::Span, traceparent: &str) {
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let parent = global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// A span for one hop of a traced event, or a disabled one for an untraced event (nothing is
/// recorded per event when tracing is off).
#[macro_export]
macro_rules! hop_span {
    ($trace:expr, $name:literal $(, $($field:tt)*)?) => {{
        match $trace {
            Some(traceparent) => {
                let span = tracing::info_span!($name $(, $($field)*)?);
                $crate::trace_context::continue_from(&span, traceparent);
                span
            }
            None => tracing::Span::none(),
        }
    }};
}
