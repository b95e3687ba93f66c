use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::UserId;
use crate::models::{Credentials, NewUser, UserRow};
use crate::paging::{Cursor, Page};
use crate::queries::{Side, keyset};
use crate::schema::users;

diesel::define_sql_function!(fn lower(x: Text) -> Text);

pub async fn find(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table.find(id).select(UserRow::as_select()).first(conn).await.optional()
}

/// Several users at once, in no particular order.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[UserId]) -> QueryResult<Vec<UserRow>> {
    users::table.filter(users::id.eq_any(ids)).select(UserRow::as_select()).load(conn).await
}

/// Nicks match regardless of case, like the unique index that guards them.
pub async fn credentials_by_nick(conn: &mut AsyncPgConnection, nick: &str) -> QueryResult<Option<Credentials>> {
    users::table
        .filter(lower(users::nick).eq(lower(nick)))
        .select((users::id, users::passhash))
        .first(conn)
        .await
        .optional()
}

pub async fn insert(conn: &mut AsyncPgConnection, user: &NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table).values(user).returning(UserRow::as_returning()).get_result(conn).await
}

/// The user's password hash (`None` for no such user).
pub async fn passhash(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<String>> {
    users::table.find(id).select(users::passhash).first(conn).await.optional()
}

pub async fn set_passhash(conn: &mut AsyncPgConnection, id: UserId, passhash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id)).set(users::passhash.eq(passhash)).execute(conn).await.map(drop)
}

/// Replaces the user's avatar and returns the key prefix of the one it replaced. Locks the row:
/// concurrent uploads by one user replace each other in turn, and each deletes its predecessor.
pub async fn replace_avatar(
    conn: &mut AsyncPgConnection,
    id: UserId,
    url: &str,
    key: &str,
    at: DateTime<Utc>,
) -> QueryResult<Option<Option<String>>> {
    let previous: Option<Option<String>> =
        users::table.find(id).select(users::avatar_key).for_update().first(conn).await.optional()?;
    if previous.is_some() {
        diesel::update(users::table.find(id))
            .set((users::avatar_url.eq(url), users::avatar_key.eq(key), users::avatar_updated_at.eq(at)))
            .execute(conn)
            .await?;
    }
    Ok(previous)
}

/// Activity only moves forward, whichever node or session reports it last.
pub async fn record_activity(conn: &mut AsyncPgConnection, ids: &[UserId], at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(users::table.filter(users::id.eq_any(ids)))
        .set(
            users::last_activity_at
                .eq(sql::<Timestamptz>("GREATEST(last_activity_at, ").bind::<Timestamptz, _>(at).sql(")")),
        )
        .execute(conn)
        .await
        .map(drop)
}

/// `%` and `_` typed by a user are literal characters, not wildcards.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The searchable text of a user. Spelled exactly as the trigram index's expression, so that the
/// planner uses the index.
fn search_text() -> diesel::expression::SqlLiteral<Text> {
    sql::<Text>("(users.first_name || ' ' || users.last_name || ' ' || users.nick)")
}

/// Case-insensitive substring search over "first last nick", newest registration first.
pub async fn search(
    conn: &mut AsyncPgConnection,
    text: &str,
    after: Option<Cursor>,
    limit: usize,
) -> QueryResult<Page<UserRow>> {
    let pattern = contains_pattern(text);
    let total_count =
        users::table.filter(search_text().ilike(&pattern)).select(count_star()).get_result::<i64>(conn).await?;
    let mut query = users::table
        .filter(search_text().ilike(&pattern))
        .order((users::created_at.desc(), users::id.desc()))
        .limit(i64::try_from(limit + 1).unwrap_or(i64::MAX))
        .select(UserRow::as_select())
        .into_boxed();
    if let Some(cursor) = after {
        query = query.filter(keyset("users.created_at", "users.id", Side::Below, cursor));
    }
    let rows = query.load(conn).await?;
    Ok(Page::from_overfetch(rows, limit, total_count, |u| Cursor::new(u.id.0, u.created_at)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(super::contains_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
    }
}
