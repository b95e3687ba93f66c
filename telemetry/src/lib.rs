//! The bottom layer: metric names with the helpers that count them, and the W3C trace context
//! carried from a request through the outbox and the broker to a socket. Every other crate may
//! use it; it uses none of them, so counting something never pulls a layer into another.

pub mod metrics;
pub mod trace_context;
