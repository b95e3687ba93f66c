//! Keyset pagination over `(time, id)`: the cursor the API hands out (docs/API.md §3).

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::parse_go_uuid;
use crate::time::format_rfc3339;

/// A position in a list ordered by `(at, id)`: `"<uuid>/<RFC 3339 time>"` on the wire, at the
/// full stored precision of the time so that no row is skipped or repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Invalid cursor")]
pub struct InvalidCursor;

impl Cursor {
    pub fn new(id: impl Into<Uuid>, at: DateTime<Utc>) -> Self {
        Self { id: id.into(), at }
    }

    pub fn parse(s: &str) -> Result<Self, InvalidCursor> {
        let mut parts = s.split('/');
        let (Some(id), Some(at)) = (parts.next(), parts.next()) else {
            return Err(InvalidCursor);
        };
        let id = parse_go_uuid(id).map_err(|_| InvalidCursor)?;
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| InvalidCursor)?;
        Ok(Self { id, at: at.with_timezone(&Utc) })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.id, format_rfc3339(self.at))
    }
}

/// One page of rows plus what the API's `Page<T>` needs around it.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total_count: i64,
    pub next: Option<Cursor>,
    /// Only lists that page backwards (comments) set it.
    pub prev: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Self { rows: Vec::new(), total_count: 0, next: None, prev: None }
    }

    /// `fetched` holds up to `limit + 1` rows: one more than a page tells whether a next page
    /// exists without a second query.
    pub fn from_overfetch(
        mut fetched: Vec<T>,
        limit: usize,
        total_count: i64,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let next = if fetched.len() > limit {
            fetched.truncate(limit);
            fetched.last().map(&cursor_of)
        } else {
            None
        };
        Self { rows: fetched, total_count, next, prev: None }
    }

    /// The page of a newest-first list just before a cursor: `fetched` holds up to `limit + 1`
    /// rows above the cursor, oldest first. Kept in list order, with `prev` when newer rows
    /// remain and `next` at its last row (older rows exist at least where the cursor points).
    pub fn from_newer_overfetch(
        mut fetched: Vec<T>,
        limit: usize,
        total_count: i64,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let more_newer = fetched.len() > limit;
        fetched.truncate(limit);
        fetched.reverse();
        let prev = fetched.first().filter(|_| more_newer).map(&cursor_of);
        let next = fetched.last().map(&cursor_of);
        Self { rows: fetched, total_count, next, prev }
    }
}

/// Where a page of a newest-first list (messages, the feed) starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewestFirst {
    Newest,
    /// Older than the cursor (`next`).
    Older(Cursor),
    /// The page of newer rows just before the cursor in the list (`prev`).
    Newer(Cursor),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = "37d28fdf-99bc-44b5-8df9-6a3b1a36f177/2024-02-16T15:36:38Z";
        assert_eq!(Cursor::parse(s).unwrap().to_string(), s);
        let frac = "37d28fdf-99bc-44b5-8df9-6a3b1a36f177/2024-02-16T15:36:38.123456Z";
        assert_eq!(Cursor::parse(frac).unwrap().to_string(), frac);
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", "nocursor", "x/2024-02-16T15:36:38Z", "37d28fdf-99bc-44b5-8df9-6a3b1a36f177/yesterday"] {
            assert_eq!(Cursor::parse(bad), Err(InvalidCursor), "{bad}");
        }
    }

    #[test]
    fn overfetch_sets_next_to_last_kept_row() {
        let at = Utc::now();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let page = Page::from_overfetch(ids.clone(), 2, 3, |id| Cursor::new(*id, at));
        assert_eq!(page.rows.len(), 2);
        assert_eq!(page.next, Some(Cursor::new(ids[1], at)));
        let last = Page::from_overfetch(ids[..2].to_vec(), 2, 2, |id| Cursor::new(*id, at));
        assert_eq!(last.next, None);
    }
}
