//! The SQL migrations of `migrations/`, compiled into the binary.

use diesel::{Connection, PgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: diesel::ConnectionError },
    #[error("migration failed: {0}")]
    Run(String),
    #[error("migration task failed: {0}")]
    Task(String),
}

/// Applies every pending migration and returns the versions applied. Runs on a blocking thread:
/// diesel's migration harness is synchronous.
pub async fn run_pending(url: &str) -> Result<Vec<String>, MigrationError> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            PgConnection::establish(&url).map_err(|source| MigrationError::Connect { url: redact(&url), source })?;
        let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| MigrationError::Run(e.to_string()))?;
        Ok(applied.iter().map(|v| v.to_string()).collect())
    })
    .await
    .map_err(|e| MigrationError::Task(e.to_string()))?
}

/// The URL without its password, for error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords_only() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
    }
}
