//! Chats and messages (API.md §5.7), private and group, and the `chat_updated` announcements.

pub mod add_members;
pub mod create_group;
pub mod get;
pub mod leave;
pub mod list;
pub mod messages;
pub mod rename;
pub mod send;

use nosebook_schema::ids::{ChatId, UserId};
use nosebook_schema::models::ChatRow;
use nosebook_schema::queries::chats;
use nosebook_schema::{AsyncPgConnection, DbError};

use crate::api::envelope::ApiError;
use crate::api::present::Presenter;
use crate::events::Event;
use crate::state::AppState;

const KIND: &str = "Conversation Error";
/// Group titles: 1 to 128 characters after trimming.
const TITLE_MAX_CHARS: usize = 128;
/// Members added by one call.
const MAX_NEW_MEMBERS: usize = 200;

fn not_a_member() -> ApiError {
    ApiError::forbidden(KIND, "You are not a member of this chat")
}

fn parse_title(raw: &str) -> Result<String, ApiError> {
    let title = raw.trim();
    match title.chars().count() {
        0 => Err(ApiError::bad_input("Unknown", "title must not be empty")),
        n if n > TITLE_MAX_CHARS => {
            Err(ApiError::bad_input("Unknown", format!("title must be at most {TITLE_MAX_CHARS} characters")))
        }
        _ => Ok(title.to_owned()),
    }
}

/// The group `chat` if `user` is one of its members; a private chat is refused as such.
async fn member_group(conn: &mut AsyncPgConnection, chat: ChatId, user: UserId) -> Result<ChatRow, ApiError> {
    let row = chats::find(conn, chat).await?;
    let Some(row) = row else {
        return Err(not_a_member());
    };
    if !chats::is_member(conn, chat, user).await? {
        return Err(not_a_member());
    }
    if !row.is_group() {
        return Err(ApiError::bad_input(KIND, "A private chat has exactly its two members"));
    }
    Ok(row)
}

/// Users that do not exist, among `ids`.
async fn missing_users(conn: &mut AsyncPgConnection, ids: &[UserId]) -> Result<Vec<UserId>, DbError> {
    let found = nosebook_schema::queries::users::find_many(conn, ids).await?;
    Ok(ids.iter().filter(|id| !found.iter().any(|u| u.id == **id)).copied().collect())
}

/// Queues `chat_updated` with the group as it now is, for its members and `also` (who just
/// left). Runs inside the transaction of the change.
async fn announce(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    viewer: UserId,
    chat: ChatRow,
    also: Option<UserId>,
) -> Result<crate::api::wire::Chat, DbError> {
    let mut recipients = chats::members_of(conn, &[chat.id]).await?.remove(&chat.id).unwrap_or_default();
    recipients.extend(also);
    let shown = Presenter::new(state, viewer).chats(conn, vec![chat]).await?;
    let shown = shown.into_iter().next().ok_or(DbError::Query(diesel::result::Error::NotFound))?;
    Event::ChatUpdated(Box::new(shown.clone())).queue(conn, &recipients).await?;
    Ok(shown)
}
