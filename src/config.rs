//! Configuration, read from the environment once at start-up. Every variable is listed in
//! docs/configuration.md.

use std::time::Duration;

use nosebook_core::limits::client_addr::TrustedProxies;
use nosebook_core::limits::{LimitSettings, Rate};
use nosebook_core::storage::{S3Settings, StorageSettings};
use nosebook_notifier::amqp::AmqpSettings;
use nosebook_notifier::history::Window;
use nosebook_schema::PoolSettings;
use nosebook_schema::time::Clock;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/nosebook";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const DEFAULT_AMQP_EXCHANGE: &str = "notifications";
pub const DEFAULT_STORAGE_DIR: &str = "data/storage";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Dev,
    /// Frozen clock (docs/API.md §7), everything else as in production.
    Testing,
    /// JSON logs.
    Prod,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub listen: String,
    pub app_env: AppEnv,
    pub pool_size: usize,
    pub pool_timeout: Duration,
    pub workers: usize,
    /// How long a stopping node lets in-flight requests finish (`NOSEBOOK_DRAIN_SECS`).
    pub drain: Duration,
    /// How many sockets a second a stopping node sends away (`NOSEBOOK_WS_DRAIN_PER_SEC`; 0: all
    /// at once), faster if they would not all be gone within half the drain time.
    pub ws_drain_per_sec: usize,
    /// RabbitMQ between nodes; `None` (`AMQP_URL=off`) delivers events in-process.
    pub amqp: Option<AmqpSettings>,
    /// Where avatars are stored.
    pub storage: StorageSettings,
    /// Limits on abuse (docs/configuration.md, "Limits").
    pub limits: LimitSettings,
    /// Set by tests that move time by hand; never from the environment.
    pub clock_override: Option<Clock>,
    /// Avatars decoded at once, and how long an upload waits for its turn before a 503.
    pub avatar_decodes: usize,
    pub avatar_wait: Duration,
    /// Longest time a request body may take to arrive (WebSocket upgrades excepted).
    pub body_timeout: Duration,
    /// How long published events stay in the outbox before the janitor deletes them.
    pub outbox_retention: Duration,
    /// How far back a socket can resume (`NOSEBOOK_RESUME_WINDOW_SECS`, `…_MB`).
    pub resume_window: Window,
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    var: &'static str,
    problem: String,
}

fn number<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    valid: impl Fn(&T) -> bool,
) -> Result<T, ConfigError> {
    match lookup(var) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .ok()
            .filter(valid)
            .ok_or_else(|| ConfigError { var, problem: format!("{raw:?} is not a valid value") }),
    }
}

/// `0`, `off`, `none` or `disabled`: the limit is off.
fn disabled(raw: &str) -> bool {
    matches!(raw.trim(), "0" | "off" | "none" | "disabled")
}

/// A count that `0`/`off` turns off.
fn count(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u32,
) -> Result<Option<u32>, ConfigError> {
    match lookup(var) {
        Some(raw) if disabled(&raw) => Ok(None),
        _ => number(lookup, var, default, |n| *n > 0).map(Some),
    }
}

/// A token bucket, `<per second>[,<burst>]` (the burst defaults to one second's worth, at
/// least 1); `0`/`off` turns it off.
fn rate(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: Rate,
) -> Result<Option<Rate>, ConfigError> {
    let Some(raw) = lookup(var) else { return Ok(Some(default)) };
    if disabled(&raw) {
        return Ok(None);
    }
    let invalid = || ConfigError { var, problem: format!("{raw:?} is not `<per second>[,<burst>]`, `0` or `off`") };
    let (per_sec, burst) = match raw.split_once(',') {
        Some((per_sec, burst)) => (per_sec, Some(burst)),
        None => (raw.as_str(), None),
    };
    let per_sec: f64 = per_sec.trim().parse().map_err(|_| invalid())?;
    let burst: f64 = match burst {
        Some(b) => b.trim().parse().map_err(|_| invalid())?,
        None => per_sec.ceil().max(1.0),
    };
    if !(per_sec.is_finite() && per_sec > 0.0 && burst.is_finite() && burst >= 1.0) {
        return Err(invalid());
    }
    Ok(Some(Rate { per_sec, burst }))
}

fn limits(lookup: &impl Fn(&str) -> Option<String>) -> Result<LimitSettings, ConfigError> {
    use nosebook_core::limits::defaults as d;
    let trusted = lookup("NOSEBOOK_TRUSTED_PROXIES").unwrap_or_default();
    Ok(LimitSettings {
        login_failures: count(lookup, "NOSEBOOK_LIMIT_LOGIN_FAILURES", d::LOGIN_FAILURES)?,
        login_max_wait_secs: number(lookup, "NOSEBOOK_LIMIT_LOGIN_MAX_WAIT_SECS", d::LOGIN_MAX_WAIT_SECS, |n| *n > 0)?,
        signups_per_hour: count(lookup, "NOSEBOOK_LIMIT_SIGNUPS_PER_HOUR", d::SIGNUPS_PER_HOUR)?,
        writes: rate(lookup, "NOSEBOOK_LIMIT_WRITES", d::WRITES)?,
        ws_upgrades: rate(lookup, "NOSEBOOK_LIMIT_WS_UPGRADES", d::WS_UPGRADES)?,
        sockets_per_session: count(lookup, "NOSEBOOK_LIMIT_SOCKETS_PER_SESSION", d::SOCKETS_PER_SESSION)?,
        trusted_proxies: TrustedProxies::parse(&trusted)
            .map_err(|problem| ConfigError { var: "NOSEBOOK_TRUSTED_PROXIES", problem })?,
    })
}

fn storage(lookup: &impl Fn(&str) -> Option<String>) -> Result<StorageSettings, ConfigError> {
    let public_url = lookup("NOSEBOOK_STORAGE_PUBLIC_URL");
    match lookup("NOSEBOOK_STORAGE").as_deref() {
        None | Some("local") => Ok(StorageSettings::Local {
            dir: lookup("NOSEBOOK_STORAGE_DIR").unwrap_or_else(|| DEFAULT_STORAGE_DIR.to_owned()).into(),
            public_url,
        }),
        Some("s3") => Ok(StorageSettings::S3(S3Settings {
            endpoint: lookup("NOSEBOOK_S3_ENDPOINT"),
            region: lookup("NOSEBOOK_S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
            bucket: lookup("NOSEBOOK_S3_BUCKET").ok_or_else(|| ConfigError {
                var: "NOSEBOOK_S3_BUCKET",
                problem: "is required with NOSEBOOK_STORAGE=s3".into(),
            })?,
            access_key_id: lookup("NOSEBOOK_S3_ACCESS_KEY_ID"),
            secret_access_key: lookup("NOSEBOOK_S3_SECRET_ACCESS_KEY"),
            public_url,
        })),
        Some(other) => {
            Err(ConfigError { var: "NOSEBOOK_STORAGE", problem: format!("{other:?} is not one of local, s3") })
        }
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let app_env = match lookup("APP_ENV").as_deref() {
            None | Some("dev") => AppEnv::Dev,
            Some("testing") => AppEnv::Testing,
            Some("prod") => AppEnv::Prod,
            Some(other) => {
                return Err(ConfigError {
                    var: "APP_ENV",
                    problem: format!("{other:?} is not one of dev, testing, prod"),
                });
            }
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            database_url: lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            listen: lookup("NOSEBOOK_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            app_env,
            pool_size: number(&lookup, "NOSEBOOK_DB_POOL_SIZE", 16, |n| *n > 0)?,
            pool_timeout: Duration::from_secs(number(&lookup, "NOSEBOOK_DB_TIMEOUT_SECS", 5, |n| *n > 0)?),
            workers: number(&lookup, "NOSEBOOK_WORKERS", cores, |n| *n > 0)?,
            drain: Duration::from_secs(number(&lookup, "NOSEBOOK_DRAIN_SECS", 10, |_| true)?),
            ws_drain_per_sec: number(&lookup, "NOSEBOOK_WS_DRAIN_PER_SEC", 1_000, |_| true)?,
            clock_override: None,
            storage: storage(&lookup)?,
            limits: limits(&lookup)?,
            amqp: match lookup("AMQP_URL").as_deref() {
                Some("off" | "none" | "disabled") => None,
                url => Some(AmqpSettings {
                    url: url.unwrap_or(DEFAULT_AMQP_URL).to_owned(),
                    exchange: lookup("NOSEBOOK_AMQP_EXCHANGE").unwrap_or_else(|| DEFAULT_AMQP_EXCHANGE.to_owned()),
                }),
            },
            avatar_decodes: number(&lookup, "NOSEBOOK_AVATAR_DECODES", 2, |n| *n > 0)?,
            avatar_wait: Duration::from_secs(number(&lookup, "NOSEBOOK_AVATAR_WAIT_SECS", 10, |_| true)?),
            body_timeout: Duration::from_secs(number(&lookup, "NOSEBOOK_BODY_TIMEOUT_SECS", 60, |n| *n > 0)?),
            outbox_retention: Duration::from_secs(number(&lookup, "NOSEBOOK_OUTBOX_RETENTION_SECS", 300, |_| true)?),
            resume_window: Window {
                age: Duration::from_secs(number(&lookup, "NOSEBOOK_RESUME_WINDOW_SECS", 600, |_| true)?),
                bytes: number::<usize>(&lookup, "NOSEBOOK_RESUME_WINDOW_MB", 64, |n| *n < 1 << 20)? << 20,
            },
        })
    }

    pub fn clock(&self) -> Clock {
        if let Some(clock) = self.clock_override {
            return clock;
        }
        match self.app_env {
            AppEnv::Testing => Clock::testing(),
            AppEnv::Dev | AppEnv::Prod => Clock::System,
        }
    }

    pub fn pool(&self) -> PoolSettings {
        PoolSettings { url: self.database_url.clone(), max_size: self.pool_size, timeout: self.pool_timeout }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let s = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.listen, DEFAULT_LISTEN);
        assert_eq!(s.app_env, AppEnv::Dev);
        assert_eq!(s.clock(), Clock::System);
        assert_eq!(s.amqp.as_ref().map(|a| a.exchange.as_str()), Some(DEFAULT_AMQP_EXCHANGE));
        assert!(Settings::from_lookup(|v| (v == "AMQP_URL").then(|| "off".into())).unwrap().amqp.is_none());

        let testing = Settings::from_lookup(|v| (v == "APP_ENV").then(|| "testing".into())).unwrap();
        assert_eq!(testing.clock(), Clock::testing());

        let err = Settings::from_lookup(|v| (v == "APP_ENV").then(|| "staging".into())).unwrap_err();
        assert!(err.to_string().starts_with("APP_ENV"));
        let err = Settings::from_lookup(|v| (v == "NOSEBOOK_DB_POOL_SIZE").then(|| "0".into())).unwrap_err();
        assert!(err.to_string().starts_with("NOSEBOOK_DB_POOL_SIZE"));
        assert_eq!(
            (s.avatar_decodes, s.avatar_wait, s.body_timeout, s.outbox_retention),
            (2, Duration::from_secs(10), Duration::from_secs(60), Duration::from_secs(300))
        );
        for var in ["NOSEBOOK_AVATAR_DECODES", "NOSEBOOK_BODY_TIMEOUT_SECS"] {
            let err = Settings::from_lookup(|v| (v == var).then(|| "0".into())).unwrap_err();
            assert!(err.to_string().starts_with(var));
        }
    }

    #[test]
    fn limits_default_turn_off_and_refuse_nonsense() {
        let defaults = Settings::from_lookup(|_| None).unwrap().limits;
        assert_eq!(defaults, LimitSettings::default());
        assert_eq!(defaults.login_failures, Some(5));
        assert_eq!(defaults.writes, Some(Rate { per_sec: 20.0, burst: 60.0 }));

        let one = |var: &'static str, value: &'static str| {
            Settings::from_lookup(move |v| (v == var).then(|| value.into())).map(|s| s.limits)
        };
        assert_eq!(one("NOSEBOOK_LIMIT_WRITES", "off").unwrap().writes, None);
        assert_eq!(one("NOSEBOOK_LIMIT_WRITES", "0").unwrap().writes, None);
        assert_eq!(one("NOSEBOOK_LIMIT_WRITES", "5").unwrap().writes, Some(Rate { per_sec: 5.0, burst: 5.0 }));
        assert_eq!(one("NOSEBOOK_LIMIT_WRITES", "0.5, 3").unwrap().writes, Some(Rate { per_sec: 0.5, burst: 3.0 }));
        assert_eq!(one("NOSEBOOK_LIMIT_LOGIN_FAILURES", "off").unwrap().login_failures, None);
        assert_eq!(one("NOSEBOOK_LIMIT_SOCKETS_PER_SESSION", "0").unwrap().sockets_per_session, None);
        for (var, value) in [
            ("NOSEBOOK_LIMIT_WRITES", "fast"),
            ("NOSEBOOK_LIMIT_WRITES", "-1,5"),
            ("NOSEBOOK_LIMIT_WRITES", "5,0"),
            ("NOSEBOOK_LIMIT_SIGNUPS_PER_HOUR", "many"),
            ("NOSEBOOK_LIMIT_LOGIN_MAX_WAIT_SECS", "0"),
            ("NOSEBOOK_TRUSTED_PROXIES", "10.0.0.0/33"),
        ] {
            let err = one(var, value).unwrap_err();
            assert!(err.to_string().starts_with(var), "{var}={value}: {err}");
        }
    }
}
