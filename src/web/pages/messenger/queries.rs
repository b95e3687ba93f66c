//! What the messenger's pages read besides a chat's history: the caller's chats with their unread
//! counts, one chat, the private chat with someone, and the friends a group may take in.

use std::collections::HashMap;

use nosebook_core::chats::{self, ChatFilter};
use nosebook_core::friendship;
use nosebook_core::state::AppState;
use nosebook_events::wire::{Chat, User};
use nosebook_schema::ids::{ChatId, UserId};
use nosebook_schema::queries::friendship::{Direction, FriendshipFilter};

use crate::web::pages::{PageError, signed_in};
use crate::web::session::Viewer;

/// Chats in the list.
const CHATS: usize = 20;

/// Friends offered for adding to groups.
const FRIENDS: usize = 20;

/// Chats and, for those with any, how many messages from others wait unread.
pub(super) struct ChatList {
    pub chats: Vec<Chat>,
    pub unread: HashMap<ChatId, i64>,
}

pub(super) async fn list_chats(state: &AppState, viewer: &Viewer) -> Result<ChatList, PageError> {
    let caller = signed_in(viewer)?;
    let chats = chats::list(state, &caller, ChatFilter { interlocutor: None, after: None, limit: CHATS }).await?.data;
    let ids: Vec<ChatId> = chats.iter().map(|c| ChatId(c.id)).collect();
    let unread = chats::unread(state, &caller, &ids).await?;
    Ok(ChatList { chats, unread })
}

/// The chat as the caller sees it, if they are a member.
pub(super) async fn load_chat(state: &AppState, viewer: &Viewer, id: ChatId) -> Result<Chat, PageError> {
    let caller = signed_in(viewer)?;
    chats::open(state, &caller, id).await?.ok_or(PageError::NotFound)
}

pub(super) async fn find_private(state: &AppState, viewer: &Viewer, with: UserId) -> Result<Option<Chat>, PageError> {
    let caller = signed_in(viewer)?;
    let filter = ChatFilter { interlocutor: Some(with), after: None, limit: 1 };
    Ok(chats::list(state, &caller, filter).await?.data.into_iter().next())
}

/// The caller has seen the newest messages of `chat`, which they were just shown.
pub(super) async fn mark_read(state: &AppState, viewer: &Viewer, chat: ChatId) -> Result<(), PageError> {
    let caller = signed_in(viewer)?;
    Ok(chats::mark_read_as_member(state, &caller, chat).await?)
}

/// The caller's friends, for adding to groups.
pub(super) async fn friends_of(state: &AppState, viewer: &Viewer) -> Result<Vec<User>, PageError> {
    let caller = signed_in(viewer)?;
    let filter = FriendshipFilter {
        user: caller.user.id,
        direction: Direction::Both,
        accepted: Some(true),
        viewed: None,
        active_since: None,
    };
    let page = friendship::list(state, filter, None, FRIENDS).await?;
    Ok(page.data.into_iter().map(|item| item.user).collect())
}
