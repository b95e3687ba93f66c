//! Configuration, read from the environment once at start-up. Every variable is listed in the
//! README.

use std::time::Duration;

use nosebook_notifier::amqp::AmqpSettings;
use nosebook_schema::PoolSettings;
use nosebook_schema::time::Clock;

use crate::storage::{S3Settings, StorageSettings};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/nosebook";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const DEFAULT_AMQP_EXCHANGE: &str = "notifications";
pub const DEFAULT_STORAGE_DIR: &str = "data/storage";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Dev,
    /// Frozen clock (API.md §7), everything else as in production.
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
    /// RabbitMQ between nodes; `None` (`AMQP_URL=off`) delivers events in-process.
    pub amqp: Option<AmqpSettings>,
    /// Where avatars are stored.
    pub storage: StorageSettings,
    /// Set by tests that move time by hand; never from the environment.
    pub clock_override: Option<Clock>,
    /// Avatars decoded at once, and how long an upload waits for its turn before a 503.
    pub avatar_decodes: usize,
    pub avatar_wait: Duration,
    /// Longest time a request body may take to arrive (WebSocket upgrades excepted).
    pub body_timeout: Duration,
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
            clock_override: None,
            storage: storage(&lookup)?,
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
            (s.avatar_decodes, s.avatar_wait, s.body_timeout),
            (2, Duration::from_secs(10), Duration::from_secs(60))
        );
        for var in ["NOSEBOOK_AVATAR_DECODES", "NOSEBOOK_BODY_TIMEOUT_SECS"] {
            let err = Settings::from_lookup(|v| (v == var).then(|| "0".into())).unwrap_err();
            assert!(err.to_string().starts_with(var));
        }
    }
}
