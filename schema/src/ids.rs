//! Typed ids: a `UserId` cannot be passed where a `PostId` is expected. Each wraps a UUID and
//! maps to PostgreSQL's `uuid`.
//!
//! Ids arriving from clients are parsed the way the original Go server parsed them
//! ([`parse_go_uuid`]), so that the same inputs are accepted and the same error texts are shown.

use std::fmt;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, Deserialize, AsExpression, FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl ToSql<diesel::sql_types::Uuid, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <Uuid as ToSql<diesel::sql_types::Uuid, Pg>>::to_sql(&self.0, out)
            }
        }

        impl FromSql<diesel::sql_types::Uuid, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                <Uuid as FromSql<diesel::sql_types::Uuid, Pg>>::from_sql(bytes).map(Self)
            }
        }
    };
}

typed_id!(
    /// A person's account.
    UserId
);
typed_id!(
    /// A login session (`X-Auth-Session-Id`).
    SessionId
);
typed_id!(PostId);
typed_id!(CommentId);
typed_id!(ChatId);
typed_id!(MessageId);

/// Why a client-supplied id is not a UUID, worded as Go's `uuid.Parse` words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UuidError {
    #[error("invalid UUID length: {0}")]
    Length(usize),
    #[error("invalid urn prefix: {0:?}")]
    UrnPrefix(String),
    #[error("invalid UUID format")]
    Format,
}

/// Parses a UUID in any form Go's `uuid.Parse` takes: hyphenated (36), `urn:uuid:` + hyphenated
/// (45), `{hyphenated}` (38) or 32 bare hex digits.
pub fn parse_go_uuid(s: &str) -> Result<Uuid, UuidError> {
    let hyphenated = match s.len() {
        36 => s,
        45 => {
            let (prefix, rest) = s.split_at_checked(9).ok_or(UuidError::Format)?;
            if !prefix.eq_ignore_ascii_case("urn:uuid:") {
                return Err(UuidError::UrnPrefix(prefix.to_owned()));
            }
            rest
        }
        38 => s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).ok_or(UuidError::Format)?,
        32 => {
            return if s.bytes().all(|b| b.is_ascii_hexdigit()) {
                Uuid::try_parse(s).map_err(|_| UuidError::Format)
            } else {
                Err(UuidError::Format)
            };
        }
        n => return Err(UuidError::Length(n)),
    };
    let bytes = hyphenated.as_bytes();
    let hyphens_in_place = [8, 13, 18, 23].iter().all(|&i| bytes.get(i) == Some(&b'-'));
    let hex_elsewhere = bytes.iter().enumerate().all(|(i, b)| matches!(i, 8 | 13 | 18 | 23) || b.is_ascii_hexdigit());
    if !(hyphens_in_place && hex_elsewhere) {
        return Err(UuidError::Format);
    }
    Uuid::try_parse(hyphenated).map_err(|_| UuidError::Format)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "ed1a3fd0-4d0b-4961-b4cd-cf212357740d";

    #[test]
    fn accepts_every_form_go_accepts() {
        let expected = Uuid::try_parse(ID).unwrap();
        for input in [
            ID.to_owned(),
            ID.to_uppercase(),
            format!("urn:uuid:{ID}"),
            format!("URN:UUID:{ID}"),
            format!("{{{ID}}}"),
            ID.replace('-', ""),
        ] {
            assert_eq!(parse_go_uuid(&input), Ok(expected), "{input}");
        }
    }

    #[test]
    fn refuses_with_go_texts() {
        assert_eq!(parse_go_uuid("abc").unwrap_err().to_string(), "invalid UUID length: 3");
        assert_eq!(parse_go_uuid("").unwrap_err().to_string(), "invalid UUID length: 0");
        let bad_hex = ID.replace('e', "z");
        assert_eq!(parse_go_uuid(&bad_hex).unwrap_err().to_string(), "invalid UUID format");
        let bad_hyphens = ID.replace('-', "+");
        assert_eq!(parse_go_uuid(&bad_hyphens), Err(UuidError::Format));
        assert!(matches!(parse_go_uuid(&format!("urx:uuid:{ID}")), Err(UuidError::UrnPrefix(_))));
        // Multi-byte characters count in bytes, as in Go.
        assert_eq!(parse_go_uuid("ж").unwrap_err().to_string(), "invalid UUID length: 2");
    }
}
