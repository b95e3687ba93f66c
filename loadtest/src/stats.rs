//! What a run measures: latency series (HDR histograms plus a timeline for the plot), errors by
//! kind, and WebSocket event accounting (lost and duplicated events are failures).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Timeline points kept per series for the plot; beyond this, every n-th is kept.
const MAX_POINTS: usize = 200_000;

struct Inner {
    histogram: Histogram<u64>,
    points: Vec<(f32, f32)>,
    seen: u64,
    errors: BTreeMap<String, u64>,
}

/// One latency series: shared by every task of a run.
pub struct Series {
    pub name: String,
    start: Instant,
    inner: Mutex<Inner>,
}

impl Series {
    pub fn new(name: &str, start: Instant) -> Self {
        // 1 µs to 10 minutes at 3 significant digits: constant bounds that are always valid.
        let histogram = match Histogram::new_with_bounds(1, 600_000_000, 3) {
            Ok(histogram) => histogram,
            Err(e) => unreachable!("constant histogram bounds: {e}"),
        };
        Self {
            name: name.to_owned(),
            start,
            inner: Mutex::new(Inner { histogram, points: Vec::new(), seen: 0, errors: BTreeMap::new() }),
        }
    }

    /// A success that took `latency`, measured from `since` (its scheduled time).
    pub fn record(&self, since: Instant, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(1);
        let at = since.saturating_duration_since(self.start).as_secs_f32();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.histogram.saturating_record(micros);
        inner.seen += 1;
        let keep_every = (inner.seen as usize / MAX_POINTS) + 1;
        if (inner.seen as usize).is_multiple_of(keep_every) {
            inner.points.push((at, latency.as_secs_f32() * 1000.0));
        }
    }

    pub fn error(&self, kind: impl Into<String>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner.errors.entry(kind.into()).or_default() += 1;
    }

    pub fn report(&self, elapsed: Duration) -> SeriesReport {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let h = &inner.histogram;
        let ms = |micros: u64| micros as f64 / 1000.0;
        let count = h.len();
        SeriesReport {
            name: self.name.clone(),
            count,
            per_second: count as f64 / elapsed.as_secs_f64().max(1e-9),
            p50_ms: ms(h.value_at_quantile(0.5)),
            p90_ms: ms(h.value_at_quantile(0.9)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            errors: inner.errors.clone(),
            errors_expected: false,
        }
    }

    pub fn points(&self) -> Vec<(f32, f32)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).points.clone()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesReport {
    pub name: String,
    pub count: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub errors: BTreeMap<String, u64>,
    /// Errors the scenario provokes (sends while the database restarts): counted and reported,
    /// not a failure of the run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub errors_expected: bool,
}

impl SeriesReport {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// WebSocket events: how many were due, and what arrived.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct EventsReport {
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicated: u64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub settings: serde_json::Value,
    pub elapsed_s: f64,
    pub series: Vec<SeriesReport>,
    pub events: Option<EventsReport>,
    /// What only this scenario measures (memory per socket, …).
    pub extra: serde_json::Value,
    /// Checks of the run as a whole that did not hold (a soak whose memory kept rising, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// The summary for people, printed under the table in place of `extra` (which the JSON
    /// report has in full); empty: `extra` is printed.
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.series.iter().any(|s| !s.errors_expected && s.error_count() > 0)
            || self.events.is_some_and(|e| e.lost > 0 || e.duplicated > 0)
            || !self.failures.is_empty()
    }

    /// The human table.
    pub fn print(&self) {
        println!("\nscenario {}  ({:.1} s)  {}", self.scenario, self.elapsed_s, self.settings);
        println!(
            "{:<32} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7}",
            "series", "count", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "per s", "errors"
        );
        for s in &self.series {
            println!(
                "{:<32} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>10.1} {:>7}",
                s.name,
                s.count,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                s.p999_ms,
                s.max_ms,
                s.per_second,
                s.error_count()
            );
            let expected = if s.errors_expected { " (expected here: counted, not a failure)" } else { "" };
            for (kind, n) in &s.errors {
                println!("    error {kind}: {n}{expected}");
            }
        }
        if let Some(e) = self.events {
            println!(
                "events: expected {}, received {}, lost {}, duplicated {}",
                e.expected, e.received, e.lost, e.duplicated
            );
        }
        if !self.notes.is_empty() {
            for note in &self.notes {
                println!("{note}");
            }
        } else if !self.extra.is_null() {
            println!("{}", self.extra);
        }
        for failure in &self.failures {
            println!("FAILED: {failure}");
        }
        if self.failed() {
            println!("FAILED: the run had errors, lost/duplicated events or failed checks (see above)");
        } else if self.series.iter().any(|s| s.error_count() > 0) {
            println!("ok: no lost or duplicated events, no errors but the expected ones");
        } else {
            println!("ok: no errors, no lost or duplicated events");
        }
    }
}
