//! The one clock everything reads "now" from, and the wire form of timestamps.
//!
//! `APP_ENV=testing` freezes the clock at 2024-08-10T10:10:10Z (API.md §7) so that responses are
//! reproducible byte for byte.

use chrono::{DateTime, Duration, SubsecRound, TimeZone, Utc};

/// A session stays valid this long after its last activity (API.md §4).
pub const SESSION_TTL: Duration = Duration::hours(48);
/// A user counts as online while their last activity is younger than this (API.md §4).
pub const ONLINE_WINDOW: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    Frozen(DateTime<Utc>),
}

impl Clock {
    /// The frozen instant of testing mode.
    pub fn testing() -> Self {
        Self::Frozen(
            Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10)
                .single()
                .unwrap_or_default(),
        )
    }

    /// Now, at the precision PostgreSQL stores (microseconds), so that what a response echoes is
    /// exactly what was stored.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now().trunc_subsecs(6),
            Self::Frozen(at) => *at,
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
