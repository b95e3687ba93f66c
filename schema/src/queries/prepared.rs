//! Raw SQL that PostgreSQL parses and plans once per connection. `diesel::sql_query` marks its
//! statement unsafe to cache, so each call is parsed and planned again, which costs PostgreSQL
//! far more than executing it (BENCHMARKS.md, "Messaging capacity"). Nosebook's raw
//! statements are fixed texts (or one of a few, chosen by code — never built from input), so
//! they are cached by their text like the query builder's.
//!
//! Write the parameters as `$1`, `$2`, … in the order they are bound, each once, numbered in
//! the order they appear (a statement that breaks this fails before it is sent).

use std::borrow::Cow;
use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};

/// A raw statement whose prepared form is kept per connection ([module docs](self)).
pub fn prepared(sql: impl Into<Cow<'static, str>>) -> Prepared<()> {
    Prepared { sql: sql.into(), binds: () }
}

#[must_use = "a statement does nothing until run"]
pub struct Prepared<B> {
    sql: Cow<'static, str>,
    binds: B,
}

/// One bound value and the SQL type it is sent as.
pub struct Bound<ST, V> {
    value: V,
    sql_type: PhantomData<fn() -> ST>,
}

impl<B> Prepared<B> {
    /// Binds the value of the next placeholder.
    pub fn bind<ST, V>(self, value: V) -> Prepared<(B, Bound<ST, V>)> {
        Prepared { sql: self.sql, binds: (self.binds, Bound { value, sql_type: PhantomData }) }
    }
}

/// The binds, first to last: each writes the SQL before its placeholder, then itself.
pub trait Binds {
    /// Answers how many placeholders it has written.
    fn walk<'b>(&'b self, rest: &mut &'b str, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<usize>;
}

impl Binds for () {
    fn walk<'b>(&'b self, _: &mut &'b str, _: &mut AstPass<'_, 'b, Pg>) -> QueryResult<usize> {
        Ok(0)
    }
}

impl<Earlier, ST, V> Binds for (Earlier, Bound<ST, V>)
where
    Earlier: Binds,
    Pg: HasSqlType<ST>,
    V: ToSql<ST, Pg>,
{
    fn walk<'b>(&'b self, rest: &mut &'b str, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<usize> {
        let n = self.0.walk(rest, out)? + 1;
        let (before, number, after) =
            split_at_placeholder(rest).ok_or_else(|| misuse("more binds than placeholders"))?;
        // The placeholders are renumbered in the order written: `$2` before `$1` would bind the
        // values to the wrong places.
        if number != n {
            return Err(misuse("placeholders out of order"));
        }
        out.push_sql(before);
        out.push_bind_param::<ST, V>(&self.1.value)?;
        *rest = after;
        Ok(n)
    }
}

fn misuse(what: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("a prepared statement has {what}").into())
}

/// The text before the first `$<digits>`, its number, and the text after it.
fn split_at_placeholder(sql: &str) -> Option<(&str, usize, &str)> {
    let bytes = sql.as_bytes();
    let mut at = 0;
    while let Some(offset) = sql[at..].find('$') {
        let start = at + offset;
        let digits = bytes[start + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            let number = sql[start + 1..start + 1 + digits].parse().unwrap_or(usize::MAX);
            return Some((&sql[..start], number, &sql[start + 1 + digits..]));
        }
        at = start + 1;
    }
    None
}

impl<B: Binds> QueryFragment<Pg> for Prepared<B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest: &'b str = &self.sql;
        self.binds.walk(&mut rest, &mut out)?;
        if split_at_placeholder(rest).is_some() {
            return Err(misuse("more placeholders than binds"));
        }
        out.push_sql(rest);
        Ok(())
    }
}

/// No static id: the statement cache keys it by its text.
impl<B> QueryId for Prepared<B> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> Query for Prepared<B> {
    type SqlType = Untyped;
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::{Integer, Text};

    fn sql(q: &impl QueryFragment<Pg>) -> QueryResult<String> {
        let mut out = diesel::pg::PgQueryBuilder::default();
        q.to_sql(&mut out, &Pg)?;
        Ok(diesel::query_builder::QueryBuilder::finish(out))
    }

    #[test]
    fn placeholders_are_rewritten_in_order_and_must_match_the_binds() {
        let q = prepared("SELECT $1::int + 1, $2 WHERE x = '$' || $3").bind::<Integer, _>(1).bind::<Text, _>("a");
        assert!(sql(&q).is_err(), "a placeholder without its bind");
        let q = q.bind::<Text, _>("b");
        assert_eq!(sql(&q).unwrap(), "SELECT $1::int + 1, $2 WHERE x = '$' || $3");
        let shown = diesel::debug_query::<Pg, _>(&q).to_string();
        assert!(shown.ends_with(r#"-- binds: [1, "a", "b"]"#), "{shown}");
        assert!(sql(&prepared("SELECT 1").bind::<Integer, _>(1)).is_err(), "a bind without its placeholder");
        let swapped = prepared("SELECT $2, $1").bind::<Integer, _>(1).bind::<Integer, _>(2);
        assert!(sql(&swapped).is_err(), "placeholders out of order");
    }

    #[test]
    fn the_statement_may_be_cached() {
        let q = prepared("SELECT $1").bind::<Integer, _>(1);
        assert_eq!(q.is_safe_to_cache_prepared(&Pg).ok(), Some(true));
    }
}
