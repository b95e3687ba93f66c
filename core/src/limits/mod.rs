//! Limits on abuse (docs/configuration.md, "Limits"): failed logins per account (counted in
//! PostgreSQL, see `nosebook_schema::queries::login_failures`), sign-ups and socket upgrades per
//! client address, writes per user, open sockets per session. The in-memory ones are per node.
//! Every refusal is a 429 with `Retry-After` ([`CoreError::too_many_requests`]) and counted in
//! `nosebook_rate_limited_total{limit}`.

pub mod bucket;
pub mod client_addr;
pub mod sockets;

use std::net::IpAddr;
use std::time::Duration;

use nosebook_schema::ids::{SessionId, UserId};
use nosebook_schema::queries::login_failures::Policy;

use self::bucket::Buckets;
use self::client_addr::{TrustedProxies, limit_key};
pub use self::sockets::SocketSlot;
use self::sockets::SocketsPerSession;
use crate::CoreError;

pub const RATE_LIMITED: &str = "nosebook_rate_limited_total";

/// A token bucket: `per_sec` tokens a second, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_sec: f64,
    pub burst: f64,
}

/// The defaults, generous enough for people and for the load tool's users
/// (docs/configuration.md, "Limits").
pub mod defaults {
    use super::Rate;
    pub const LOGIN_FAILURES: u32 = 5;
    pub const LOGIN_MAX_WAIT_SECS: u32 = 300;
    pub const SIGNUPS_PER_HOUR: u32 = 10;
    pub const WRITES: Rate = Rate { per_sec: 20.0, burst: 60.0 };
    pub const WS_UPGRADES: Rate = Rate { per_sec: 20.0, burst: 100.0 };
    pub const SOCKETS_PER_SESSION: u32 = 16;
}

/// Each limit; `None` is off.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitSettings {
    /// Consecutive failed logins of one account before the back-off starts.
    pub login_failures: Option<u32>,
    /// Longest back-off after failed logins.
    pub login_max_wait_secs: u32,
    /// Sign-ups per client address and hour.
    pub signups_per_hour: Option<u32>,
    /// Writes (POSTs but logout) per signed-in user.
    pub writes: Option<Rate>,
    /// WebSocket upgrades per client address.
    pub ws_upgrades: Option<Rate>,
    /// WebSockets open at once per session, on one node.
    pub sockets_per_session: Option<u32>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            login_failures: Some(defaults::LOGIN_FAILURES),
            login_max_wait_secs: defaults::LOGIN_MAX_WAIT_SECS,
            signups_per_hour: Some(defaults::SIGNUPS_PER_HOUR),
            writes: Some(defaults::WRITES),
            ws_upgrades: Some(defaults::WS_UPGRADES),
            sockets_per_session: Some(defaults::SOCKETS_PER_SESSION),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// Counts a refusal by `limit` (`login`, `signup`, `write`, `ws_upgrade`, `ws_per_session`).
pub fn refused(limit: &'static str) {
    metrics::counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// The limits of one node, shared by its workers.
#[derive(Debug)]
pub struct Limits {
    settings: LimitSettings,
    signups: Option<Buckets<IpAddr>>,
    writes: Option<Buckets<UserId>>,
    ws_upgrades: Option<Buckets<IpAddr>>,
    sockets: SocketsPerSession,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Self {
        let per_hour = |n: u32| Rate { per_sec: f64::from(n) / 3600.0, burst: f64::from(n) };
        Self {
            signups: settings.signups_per_hour.map(|n| Buckets::new(per_hour(n))),
            writes: settings.writes.map(Buckets::new),
            ws_upgrades: settings.ws_upgrades.map(Buckets::new),
            sockets: SocketsPerSession::default(),
            settings: settings.clone(),
        }
    }

    /// How failed logins are counted, when they are.
    pub fn login_policy(&self) -> Option<Policy> {
        self.settings.login_failures.map(|free| Policy {
            free: i32::try_from(free).unwrap_or(i32::MAX),
            max_wait_secs: f64::from(self.settings.login_max_wait_secs),
        })
    }

    /// Whose `X-Forwarded-For` names the client: the doors read a request's address with it.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.settings.trusted_proxies
    }

    fn take<K: std::hash::Hash + Eq + Copy>(
        buckets: &Option<Buckets<K>>,
        key: Option<K>,
        limit: &'static str,
        what: &str,
    ) -> Result<(), CoreError> {
        let (Some(buckets), Some(key)) = (buckets, key) else { return Ok(()) };
        buckets.take(key).map_err(|wait| {
            refused(limit);
            CoreError::too_many_requests(what, wait)
        })
    }

    /// One more sign-up from the client address `client`.
    pub fn signup(&self, client: Option<IpAddr>) -> Result<(), CoreError> {
        let key = client.map(limit_key);
        Self::take(&self.signups, key, "signup", "Too many sign-ups from your address")
    }

    /// One more write by `user`.
    pub fn write(&self, user: UserId) -> Result<(), CoreError> {
        Self::take(&self.writes, Some(user), "write", "Too many requests")
    }

    /// One more socket upgrade from the client address `client`.
    pub fn ws_upgrade(&self, client: Option<IpAddr>) -> Result<(), CoreError> {
        let key = client.map(limit_key);
        Self::take(&self.ws_upgrades, key, "ws_upgrade", "Too many WebSocket connections from your address")
    }

    /// A place for one more open socket of `session`; `None` when the limit is off.
    pub fn socket_slot(&self, session: SessionId) -> Result<Option<SocketSlot>, CoreError> {
        let Some(max) = self.settings.sockets_per_session else { return Ok(None) };
        match self.sockets.claim(session, max as usize) {
            Some(slot) => Ok(Some(slot)),
            None => {
                refused("ws_per_session");
                // A socket gives its place back when it closes, which the server cannot foresee:
                // a few seconds is a fair hint.
                Err(CoreError::too_many_requests(
                    &format!("This session already has {max} WebSockets open; close one first"),
                    Duration::from_secs(5),
                ))
            }
        }
    }
}
