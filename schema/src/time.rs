//! The one clock everything reads "now" from, and the wire form of timestamps.
//!
//! `APP_ENV=testing` freezes the clock at 2024-08-10T10:10:10Z (docs/API.md §7) so that responses are
//! reproducible byte for byte.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};

/// A session stays valid this long after its last activity (docs/API.md §4).
pub const SESSION_TTL: Duration = Duration::hours(48);
/// A user counts as online while their last activity is younger than this (docs/API.md §4).
pub const ONLINE_WINDOW: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Frozen(DateTime<Utc>),
    /// Moved by hand (tests of what time changes, such as going offline), in microseconds.
    Manual(&'static AtomicI64),
}

impl PartialEq for Clock {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::System, Self::System) => true,
            (Self::Frozen(a), Self::Frozen(b)) => a == b,
            (Self::Manual(a), Self::Manual(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

impl Eq for Clock {}

impl Clock {
    /// The frozen instant of testing mode.
    pub fn testing() -> Self {
        Self::Frozen(Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10).single().unwrap_or_default())
    }

    /// A clock that stands at `at` until [`Clock::advance`] moves it. It lives as long as the
    /// process (tests create a handful).
    pub fn manual(at: DateTime<Utc>) -> Self {
        Self::Manual(Box::leak(Box::new(AtomicI64::new(at.timestamp_micros()))))
    }

    /// Moves a manual clock forward; other clocks ignore it.
    pub fn advance(&self, by: Duration) {
        if let Self::Manual(micros) = self {
            micros.fetch_add(by.num_microseconds().unwrap_or(0), Ordering::SeqCst);
        }
    }

    /// Now, at the precision PostgreSQL stores (microseconds), so that what a response echoes is
    /// exactly what was stored.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now().trunc_subsecs(6),
            Self::Frozen(at) => *at,
            Self::Manual(micros) => DateTime::from_timestamp_micros(micros.load(Ordering::SeqCst)).unwrap_or_default(),
        }
    }
}

/// Online means active strictly within the last five minutes.
pub fn is_online(last_activity_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    last_activity_at > now - ONLINE_WINDOW
}

/// RFC 3339 in UTC with a `Z`, fractional seconds only when non-zero and without trailing
/// zeros: the form of Go's `time.RFC3339Nano` that the original API prints.
pub fn format_rfc3339(at: DateTime<Utc>) -> String {
    use std::fmt::Write;
    let mut out = at.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = at.timestamp_subsec_nanos();
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        let _ = write!(out, ".{}", digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_rfc3339nano() {
        let whole = Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10).unwrap();
        assert_eq!(format_rfc3339(whole), "2024-08-10T10:10:10Z");
        let frac = whole + Duration::microseconds(120_000);
        assert_eq!(format_rfc3339(frac), "2024-08-10T10:10:10.12Z");
        let micro = whole + Duration::microseconds(1);
        assert_eq!(format_rfc3339(micro), "2024-08-10T10:10:10.000001Z");
    }

    #[test]
    fn online_is_strictly_within_five_minutes() {
        let now = Clock::testing().now();
        assert!(is_online(now - Duration::seconds(299), now));
        assert!(!is_online(now - ONLINE_WINDOW, now));
    }
}
