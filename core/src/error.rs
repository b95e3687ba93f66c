//! The one error every use case returns. Its cases are what a caller acts on — refused (and
//! why), throttled, or failed — and its refusals carry the [`Kind`] and text the API promises
//! (docs/API.md §1.3), so each door maps it once: the API to its envelope
//! (`api/envelope.rs`), the web app to a page (`web/pages/mod.rs`).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use nosebook_schema::DbError;

/// Why a request was refused: decides the status a door answers with (`http::status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed or invalid input (400).
    Invalid,
    /// Credentials that do not match (401).
    BadCredentials,
    /// The caller may not do this (403).
    Forbidden,
    /// The thing acted on does not exist (404).
    NotFound,
    /// Conflicts with what exists: a taken nick, a request already sent (409).
    Conflict,
    /// More than is accepted (413).
    TooLarge,
    /// Content of a kind that is not accepted (415).
    UnsupportedMedia,
    /// Busy now, worth retrying shortly (503).
    Unavailable,
}

/// The error type a client sees in `errors[].type`. The original API's names, kept as its
/// clients branch on them; one case per name, so a typo cannot invent a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unknown,
    NotAuthenticated,
    Authenticated,
    RouteNotFound,
    TooManyRequests,
    Unavailable,
    Nick,
    Password,
    Logout,
    Session,
    UserPresenter,
    UserService,
    PostPresenter,
    Posting,
    Post,
    CommentPresenter,
    CommentMissing,
    CommentPermissions,
    Comment,
    Like,
    Friendship,
    FriendshipPresenter,
    Conversation,
    MessagePresenter,
    CursorQuery,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "Unknown",
            Self::NotAuthenticated => "Not Authenticated",
            Self::Authenticated => "Authenticated",
            Self::RouteNotFound => "NotFound",
            Self::TooManyRequests => "Too Many Requests",
            Self::Unavailable => "Unavailable",
            Self::Nick => "NickError",
            Self::Password => "PasswordError",
            Self::Logout => "LogoutError",
            Self::Session => "SessionError",
            Self::UserPresenter => "User Presenter Error",
            Self::UserService => "User Service Error",
            Self::PostPresenter => "Post Presenter Error",
            Self::Posting => "PostingError",
            Self::Post => "PostError",
            Self::CommentPresenter => "Comment Presenter Error",
            Self::CommentMissing => "CommentError",
            Self::CommentPermissions => "Comment Permissions Error",
            Self::Comment => "Comment Error",
            Self::Like => "LikeError",
            Self::Friendship => "Friendship Error",
            Self::FriendshipPresenter => "Friendship Presenter Error",
            Self::Conversation => "Conversation Error",
            Self::MessagePresenter => "Message Presenter Error",
            Self::CursorQuery => "Cursor Query Error",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The client's fault or the state of the world: shown to the client as is.
    #[error("{kind}: {message}")]
    Refused { why: Refusal, kind: Kind, message: Cow<'static, str> },
    /// A form with problems in its fields (sign-up, log-in, a new password), every one listed.
    #[error("{0}")]
    InvalidForm(crate::domain::account::Problems),
    /// A limit on abuse (docs/configuration.md, "Limits"): `message` says what, `retry_after`
    /// when to retry.
    #[error("{message} (retry after {retry_after:?})")]
    Throttled { message: String, retry_after: Duration },
    #[error("database: {0}")]
    Database(#[from] DbError),
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn refused(why: Refusal, kind: Kind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Refused { why, kind, message: message.into() }
    }
    pub fn invalid(kind: Kind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::refused(Refusal::Invalid, kind, message)
    }
    pub fn bad_credentials(kind: Kind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::refused(Refusal::BadCredentials, kind, message)
    }
    pub fn forbidden(kind: Kind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::refused(Refusal::Forbidden, kind, message)
    }
    pub fn not_found(kind: Kind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::refused(Refusal::NotFound, kind, message)
    }
    pub fn conflict(kind: Kind, message: impl Into<Cow<'static, str>>) -> Self {
        Self::refused(Refusal::Conflict, kind, message)
    }
    /// `what` was refused by a limit; the client may retry after `retry_after`.
    pub fn too_many_requests(what: &str, retry_after: Duration) -> Self {
        let secs = retry_after_secs(retry_after);
        let unit = if secs == 1 { "second" } else { "seconds" };
        Self::Throttled { message: format!("{what}; try again in {secs} {unit}"), retry_after }
    }
    /// A part of this process (an actor, a worker thread) did not answer.
    pub fn internal(what: impl fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{what}"))
    }
}

/// `Retry-After` counts whole seconds: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// A query's own error, as [`DbError`] would carry it: `?` works on queries directly.
impl From<diesel::result::Error> for CoreError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(e))
    }
}
