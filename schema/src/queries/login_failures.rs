//! Failed logins per account (docs/configuration.md, "Limits"). An attempt is counted *before*
//! its password is checked and forgiven by a success, so the check and the count are one
//! statement: parallel guesses take turns on the row and cannot all slip through one unlocked
//! moment.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Integer, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::UserId;
use crate::schema::login_failures;

/// How many failures are free and how long the back-off may grow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Consecutive failures before the first wait (at least 1).
    pub free: i32,
    /// Longest wait, in seconds.
    pub max_wait_secs: f64,
}

/// What the account's record says about an attempt made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead and check the password; the attempt is already counted as the `failures`-th
    /// consecutive failure.
    Counted { failures: i32 },
    /// Not before `until`; nothing was counted.
    Locked { until: DateTime<Utc> },
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Integer)]
    failures: i32,
}

/// Counts an attempt unless the account is waiting out a back-off. The `free`-th consecutive
/// failure starts a wait of 1 s, each further one doubles it, up to `max_wait_secs`.
pub async fn attempt(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
    policy: Policy,
) -> QueryResult<Attempt> {
    // The `WHERE` of `DO UPDATE` leaves a locked row alone and returns nothing: that is the
    // refusal, decided under the row lock `ON CONFLICT` takes.
    let counted = diesel::sql_query(
        "INSERT INTO login_failures AS f (user_id, failures, locked_until) \
         VALUES ($1, 1, CASE WHEN 1 >= $3 THEN $2 + make_interval(secs => least($4, 1.0::float8)) END) \
         ON CONFLICT (user_id) DO UPDATE SET \
           failures = least(f.failures + 1, 1000000), \
           locked_until = CASE WHEN f.failures + 1 >= $3 \
             THEN $2 + make_interval(secs => least($4, power(2.0::float8, least(f.failures + 1 - $3, 30)))) \
             END \
         WHERE f.locked_until IS NULL OR f.locked_until <= $2 \
         RETURNING f.failures",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Timestamptz, _>(now)
    .bind::<Integer, _>(policy.free.max(1))
    .bind::<Double, _>(policy.max_wait_secs)
    .get_result::<Counted>(conn)
    .await
    .optional()?;
    if let Some(Counted { failures }) = counted {
        return Ok(Attempt::Counted { failures });
    }
    let until = login_failures::table
        .find(user)
        .select(login_failures::locked_until)
        .first::<Option<DateTime<Utc>>>(conn)
        .await
        .optional()?
        .flatten();
    // Forgiven in between (a success on another node): a second's wait is the honest answer.
    Ok(Attempt::Locked { until: until.unwrap_or(now + chrono::Duration::seconds(1)) })
}

/// A correct password: the account's failures are forgotten.
pub async fn forgive(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<()> {
    diesel::delete(login_failures::table.find(user)).execute(conn).await.map(drop)
}

/// The account's consecutive failures and wait, if any (tests and operators).
pub async fn find(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<Option<(i32, Option<DateTime<Utc>>)>> {
    login_failures::table
        .find(user)
        .select((login_failures::failures, login_failures::locked_until))
        .first(conn)
        .await
        .optional()
}
