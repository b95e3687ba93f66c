//! Reading requests the way the original did (docs/API.md §1.1): bodies are JSON whatever the
//! `Content-Type` says, missing fields take zero values, the first of repeated query keys wins,
//! and ids parse like Go's `uuid.Parse`.

use nosebook_core::Kind;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, web};
use nosebook_schema::ids::parse_go_uuid;
use nosebook_schema::paging::{Cursor, NewestFirst};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::envelope::ApiError;

/// Largest command body accepted. Commands are a few short strings; avatars have their own limit.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// A JSON command body. Reading it never fails on content type; parsing it fails with a 400.
pub struct Command<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Command<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => {
                    ApiError::payload_too_large(format!("body exceeds {MAX_COMMAND_BYTES} bytes"))
                }
                _ => ApiError::bad_input(Kind::Unknown, e.to_string()),
            })?;
            parse_json(&bytes).map(Command)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        // Go's decoder says "EOF" for an empty body; clients of the original have seen it.
        return Err(ApiError::bad_input(Kind::Unknown, "EOF"));
    }
    let bad_json = |e: serde_json::Error| ApiError::bad_input(Kind::Unknown, e.to_string());
    // JSON can carry NUL only as the escape `\u0000`; only a body with one pays for the walk.
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(bad_json)?;
        if holds_nul(&value) {
            return Err(ApiError::bad_input(Kind::Unknown, crate::http::NUL_REFUSED));
        }
        return serde_json::from_value(value).map_err(bad_json);
    }
    serde_json::from_slice(bytes).map_err(bad_json)
}

fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Which way a two-way list pages from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Start,
    Next(Cursor),
    Prev(Cursor),
}

/// The query string as ordered pairs.
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(query: &str) -> Self {
        Self(form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }

    /// The first value of `key`, as Go's `Query()` returns it.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The first value of `key` unless it is empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.first(key).filter(|v| !v.is_empty())
    }

    /// Every value of a repeatable key, in order.
    pub fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// True when the key is present at all, whatever its value: the original's flags.
    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// True only for the exact value `true`, as the original reads booleans.
    pub fn is_true(&self, key: &str) -> Option<bool> {
        self.first(key).map(|v| v == "true")
    }

    /// An optional id parameter.
    pub fn id(&self, key: &str, kind: Kind) -> Result<Option<Uuid>, ApiError> {
        self.non_empty(key).map(|raw| parse_id(raw, kind)).transpose()
    }

    /// A required id parameter; a missing one is refused in the original's words
    /// (`PostId - обязательный параметр`).
    pub fn required_id(&self, key: &str, kind: Kind) -> Result<Uuid, ApiError> {
        self.id(key, kind)?.ok_or_else(|| {
            let mut name = key.to_owned();
            if let Some(first) = name.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            ApiError::bad_input(kind, format!("{name} - обязательный параметр"))
        })
    }

    /// `limit`: 10 when absent or 0, at most 20 (docs/API.md §3).
    pub fn limit(&self, kind: Kind) -> Result<usize, ApiError> {
        const DEFAULT: usize = 10;
        const MAX: usize = 20;
        let Some(raw) = self.non_empty("limit") else {
            return Ok(DEFAULT);
        };
        let limit: usize = raw.parse().map_err(|_| {
            ApiError::bad_input(Kind::Unknown, format!("strconv.ParseUint: parsing {raw:?}: invalid syntax"))
        })?;
        match limit {
            0 => Ok(DEFAULT),
            n if n > MAX => Err(ApiError::bad_input(kind, format!("Максимальный Limit = {MAX}"))),
            n => Ok(n),
        }
    }

    /// `next` or `prev`, never both (the lists that page both ways).
    pub fn direction(&self, kind: Kind) -> Result<Direction, ApiError> {
        match (self.cursor("next", kind)?, self.cursor("prev", kind)?) {
            (Some(_), Some(_)) => Err(ApiError::bad_input(kind, "Использовать Prev и Next одновременно невозможно")),
            (Some(cursor), None) => Ok(Direction::Next(cursor)),
            (None, Some(cursor)) => Ok(Direction::Prev(cursor)),
            (None, None) => Ok(Direction::Start),
        }
    }

    /// Where a page of a newest-first list starts: `next` goes to older rows, `prev` to newer.
    pub fn newest_first(&self, kind: Kind) -> Result<NewestFirst, ApiError> {
        Ok(match self.direction(kind)? {
            Direction::Next(cursor) => NewestFirst::Older(cursor),
            Direction::Prev(cursor) => NewestFirst::Newer(cursor),
            Direction::Start => NewestFirst::Newest,
        })
    }

    /// A cursor parameter; an unreadable one is refused with the route's error type.
    pub fn cursor(&self, key: &str, kind: Kind) -> Result<Option<Cursor>, ApiError> {
        self.non_empty(key).map(|raw| nosebook_core::cursor(raw, kind).map_err(ApiError::from)).transpose()
    }
}

impl FromRequest for QueryParams {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self::parse(req.query_string())))
    }
}

/// A client-supplied id, refused with Go's wording and the route's error type.
pub fn parse_id(raw: &str, kind: Kind) -> Result<Uuid, ApiError> {
    parse_go_uuid(raw).map_err(|e| ApiError::bad_input(kind, e.to_string()))
}

/// An id field of a command: absent or `null` is the nil UUID (Go's zero value); a string is
/// parsed like Go's `uuid.Parse`.
pub fn go_uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
    use serde::Deserialize;
    match Option::<String>::deserialize(d)? {
        None => Ok(Uuid::nil()),
        Some(raw) => parse_go_uuid(&raw).map_err(serde::de::Error::custom),
    }
}

/// A required id of a command: the nil UUID (absent field) is refused.
pub fn required_id(id: Uuid, field: &str) -> Result<Uuid, ApiError> {
    if id.is_nil() { Err(ApiError::bad_input(Kind::Unknown, format!("{field} is required"))) } else { Ok(id) }
}

/// Go decodes `null` into a string field as the zero value; so do we.
pub fn string_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_wins_and_decoding_applies() {
        let q = QueryParams::parse("text=a%20b&text=c&next=&flag");
        assert_eq!(q.first("text"), Some("a b"));
        assert_eq!(q.first("next"), Some(""));
        assert_eq!(q.non_empty("next"), None);
        assert_eq!(q.first("flag"), Some(""));
        assert_eq!(q.first("missing"), None);
    }

    #[test]
    fn limits_and_flags() {
        let q = QueryParams::parse("limit=0&onlyIncoming&accepted=1&viewed=true&t=a&t=b");
        assert_eq!(q.limit(Kind::Unknown).unwrap(), 10);
        assert!(q.has("onlyIncoming"));
        assert_eq!(q.is_true("accepted"), Some(false));
        assert_eq!(q.is_true("viewed"), Some(true));
        assert_eq!(q.is_true("missing"), None);
        assert_eq!(q.all("t").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(QueryParams::parse("limit=20").limit(Kind::Unknown).unwrap(), 20);
        assert!(QueryParams::parse("limit=21").limit(Kind::Unknown).is_err());
        let err = QueryParams::parse("limit=x").limit(Kind::Unknown).unwrap_err();
        assert!(err.to_string().contains(r#"strconv.ParseUint: parsing "x": invalid syntax"#));
    }

    #[test]
    fn nul_anywhere_in_a_json_body_is_refused_and_an_escaped_backslash_is_not_nul() {
        for body in [r#"{"text":"a\u0000b"}"#, r#"{"a":["\u0000"]}"#, r#"{"k\u0000":1}"#] {
            let err = parse_json::<serde_json::Value>(body.as_bytes()).unwrap_err();
            assert!(err.to_string().contains("NUL"), "{body}");
        }
        let value = parse_json::<serde_json::Value>(br#"{"text":"a\\u0000b"}"#).unwrap();
        assert_eq!(value["text"], "a\\u0000b");
    }

    #[test]
    fn empty_body_reads_as_eof() {
        let err = parse_json::<serde_json::Value>(b"  ").unwrap_err();
        assert!(err.to_string().ends_with("EOF"));
    }
}
