//! The original Nosebook's seed data (docs/API.md §8), shipped as data in `fixtures/compat-seed.json`
//! and compiled into the binary so `nosebook seed compat` works from anywhere.

use chrono::{DateTime, TimeZone, Utc};
use nosebook_schema::AsyncPgConnection;

use super::{DataSet, Report, SeedError};

const FIXTURE: &str = include_str!("../../fixtures/compat-seed.json");

/// The fixture fixes the users' `created_at` at this instant; rows it gives no time for (sessions'
/// `created_at`, likes) use it too.
pub fn loaded_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 8, 1, 0, 0, 0).single().unwrap_or_default()
}

pub fn data_set() -> Result<DataSet, SeedError> {
    serde_json::from_str(FIXTURE).map_err(|e| SeedError::Malformed(e.to_string()))
}

pub async fn load(conn: &mut AsyncPgConnection) -> Result<Report, SeedError> {
    super::load(conn, &data_set()?).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixture_parses() {
        let set = super::data_set().unwrap();
        assert_eq!(set.users.len(), 15);
        assert_eq!(set.posts.len(), 18);
        assert_eq!(set.comments.len(), 9);
        assert_eq!(set.user_sessions[0].created_at, super::loaded_at());
    }
}
