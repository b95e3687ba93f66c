//! Chats and messages, private and group: who may read and write them, sending through the chat
//! writers, and the `chat_updated` announcements of groups (docs/API.md §5.7).

use std::collections::HashMap;

use nosebook_actors::Caller;
use nosebook_actors::send::{self, SendMessage, SendRefusal};
use nosebook_events::wire::ReadMark;
use nosebook_events::wire::{Chat, Message, PageOf};
use nosebook_events::{Event, MessageRemoved, MessagesRead};
use nosebook_schema::ids::{ChatId, MessageId, UserId};
use nosebook_schema::models::{ChatRow, MessageRow};
use nosebook_schema::paging::Cursor;
use nosebook_schema::queries::messages::{self, Position};
use nosebook_schema::queries::{chats, users};
use nosebook_schema::{AsyncConnection, AsyncPgConnection, DbError};

use super::present::Presenter;
use super::{CoreError, CoreResult, Kind};
use crate::domain::text::Text;
use crate::state::{AppState, ChangeConn};

const KIND: Kind = Kind::Conversation;
/// Group titles: 1 to 128 characters after trimming.
const TITLE_MAX_CHARS: usize = 128;
/// Members added by one call.
pub const MAX_NEW_MEMBERS: usize = 200;

pub(super) fn not_a_member() -> CoreError {
    CoreError::forbidden(KIND, "You are not a member of this chat")
}

fn no_such_user(id: UserId) -> CoreError {
    CoreError::not_found(KIND, format!("Пользователь с id:{id} отсуствует"))
}

fn parse_title(raw: &str) -> CoreResult<String> {
    let title = raw.trim();
    match title.chars().count() {
        0 => Err(CoreError::invalid(Kind::Unknown, "title must not be empty")),
        n if n > TITLE_MAX_CHARS => {
            Err(CoreError::invalid(Kind::Unknown, format!("title must be at most {TITLE_MAX_CHARS} characters")))
        }
        _ => Ok(title.to_owned()),
    }
}

/// Which chats of the caller to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChatFilter {
    /// Only the private chat with this person.
    pub interlocutor: Option<UserId>,
    pub after: Option<Cursor>,
    pub limit: usize,
}

/// The caller's chats, the most recently active first.
pub async fn list(state: &AppState, caller: &Caller, filter: ChatFilter) -> CoreResult<PageOf<Chat>> {
    let me = caller.user.id;
    let mut conn = state.db.get().await?;
    let page = chats::list_for(&mut conn, me, filter.interlocutor, filter.after, filter.limit).await?;
    let next = page.next.map(|c| c.to_string());
    let data = Presenter::new(state, me).chats(&mut conn, page.rows).await?;
    Ok(PageOf { data, total_count: page.total_count, next, prev: None })
}

/// The chat `id` if `user` is one of its members.
/// Refuses a `user` who is not a member of `chat` (or a chat that does not exist).
async fn ensure_member(conn: &mut AsyncPgConnection, chat: ChatId, user: UserId) -> CoreResult<()> {
    if chats::is_member(conn, chat, user).await? { Ok(()) } else { Err(not_a_member()) }
}

async fn member_chat(conn: &mut AsyncPgConnection, id: ChatId, user: UserId) -> CoreResult<Option<ChatRow>> {
    if !chats::is_member(conn, id, user).await? {
        return Ok(None);
    }
    Ok(chats::find(conn, id).await?)
}

/// A chat as its member sees it; `None` for a chat that is not theirs, and — as the original
/// API shows them — for a private chat nobody has written in yet.
pub async fn get(state: &AppState, caller: &Caller, id: ChatId) -> CoreResult<Option<Chat>> {
    let mut conn = state.db.get().await?;
    let row = member_chat(&mut conn, id, caller.user.id).await?;
    let Some(row) = row.filter(|c| c.is_group() || c.last_message_id.is_some()) else {
        return Ok(None);
    };
    Ok(Presenter::new(state, caller.user.id).chats(&mut conn, vec![row]).await?.pop())
}

/// A chat the caller is a member of, however new: the one the messenger opens.
pub async fn open(state: &AppState, caller: &Caller, id: ChatId) -> CoreResult<Option<Chat>> {
    let mut conn = state.db.get().await?;
    let Some(row) = member_chat(&mut conn, id, caller.user.id).await? else {
        return Ok(None);
    };
    Ok(Presenter::new(state, caller.user.id).chats(&mut conn, vec![row]).await?.pop())
}

/// A page of a chat's messages, newest first, for one of its members.
pub async fn messages(
    state: &AppState,
    caller: &Caller,
    chat: ChatId,
    position: Position,
    limit: usize,
) -> CoreResult<PageOf<Message>> {
    let mut conn = state.db.get().await?;
    if !chats::is_member(&mut conn, chat, caller.user.id).await? {
        return Err(CoreError::forbidden(Kind::MessagePresenter, "You are not a member of this chat"));
    }
    let page = messages::page(&mut conn, chat, position, limit).await?;
    let data = Presenter::new(state, caller.user.id).messages(&mut conn, &page.rows).await?;
    Ok(PageOf {
        data,
        total_count: page.total_count,
        next: page.next.map(|c| c.to_string()),
        prev: page.prev.map(|c| c.to_string()),
    })
}

/// Whom a message goes to.
#[derive(Debug, Clone, Copy)]
pub enum To {
    /// Any chat the sender is a member of.
    Chat(ChatId),
    /// A person: their private chat with the sender, created by the first message.
    Person(UserId),
}

/// A message someone wants to send: to whom, what, in answer to what.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: To,
    pub text: Text,
    /// A message of the same chat this one answers.
    pub reply_to: Option<MessageId>,
}

/// A message committed, with every member's `new_message` event.
#[derive(Debug)]
pub struct Sent {
    pub chat: ChatId,
    pub message: MessageRow,
}

/// The API's error for a send the rules refused.
fn refused(refusal: SendRefusal) -> CoreError {
    match refusal {
        SendRefusal::ToSelf => CoreError::invalid(KIND, "You cannot send a message to yourself"),
        SendRefusal::NotMember => not_a_member(),
        SendRefusal::BadReply => CoreError::invalid(KIND, "replyTo is not a message of this chat"),
    }
}

/// Sends a message through the chat's actor (which orders the sends of a chat); answered once it
/// is committed. Its text was checked by the caller ([`super::text`]), which decides which
/// refusal comes first; the rest is decided by the rules of a send ([`nosebook_actors::send`]).
pub async fn send(state: &AppState, caller: &Caller, outgoing: Outgoing) -> CoreResult<Sent> {
    let me = caller.user.id;
    let chat = match outgoing.to {
        To::Chat(chat) => chat,
        To::Person(recipient) => {
            send::check_recipient(me, recipient).map_err(refused)?;
            private_chat(state, me, recipient).await?
        }
    };
    let sent = state
        .chats
        .send(SendMessage::new(
            chat,
            caller.user.clone(),
            outgoing.text.as_str().to_owned(),
            outgoing.reply_to,
            state.clock.now(),
            nosebook_telemetry::trace_context::current(),
        ))
        .await?;
    // The writer handed the event to the relay itself.
    let message = sent.map_err(refused)?;
    Ok(Sent { chat, message })
}

/// The private chat of `me` and `recipient`, created if it does not exist yet.
async fn private_chat(state: &AppState, me: UserId, recipient: UserId) -> CoreResult<ChatId> {
    match state.private_chats.get(me, recipient) {
        Some(chat) => Ok(chat),
        None => {
            let now = state.clock.now();
            let mut conn = state.db.get().await?;
            let found = conn
                .transaction(async |conn| {
                    if users::find(conn, recipient).await?.is_none() {
                        return Ok(None);
                    }
                    Ok::<_, DbError>(Some(chats::find_or_create_private(conn, me, recipient, now).await?))
                })
                .await?;
            let chat = found.ok_or_else(|| no_such_user(recipient))?;
            state.private_chats.remember(me, recipient, chat);
            Ok(chat)
        }
    }
}

fn no_such_message() -> CoreError {
    CoreError::not_found(KIND, "No such message")
}

/// The caller's own live message `id`, and the members of its chat, with the chat locked: edits
/// and removals are ordered with the chat's sends and membership changes. Unknown or removed:
/// 404; someone else's, or its author no longer a member: 403.
async fn own_message(conn: &mut AsyncPgConnection, id: MessageId, me: UserId) -> CoreResult<(MessageRow, Vec<UserId>)> {
    // A message never changes chat or author: both may be checked before the lock.
    let message = messages::find_live(conn, id).await?.ok_or_else(no_such_message)?;
    if message.author_id != me {
        return Err(CoreError::forbidden(KIND, "Only its author may change a message"));
    }
    chats::lock(conn, &[message.chat_id]).await?;
    let members = chats::members(conn, message.chat_id).await?;
    if !members.contains(&me) {
        return Err(not_a_member());
    }
    Ok((message, members))
}

/// The author changes the text of their message; every member gets `message_updated`.
pub async fn edit_message(state: &AppState, caller: &Caller, id: MessageId, text: &Text) -> CoreResult<Message> {
    let now = state.clock.now();
    let mut conn = state.change_conn().await?;
    let edited = conn
        .transaction(async |conn| {
            let (_, members) = own_message(conn, id, caller.user.id).await?;
            let row = messages::edit(conn, id, text.as_str(), now).await?.ok_or_else(no_such_message)?;
            let shown = Message::new(&row, state.present_caller(caller.user.clone()));
            Event::MessageUpdated(shown.clone()).queue(conn, &members).await?;
            Ok::<_, CoreError>(shown)
        })
        .await?;
    Ok(edited)
}

/// The author removes their message; every member gets `message_removed`, and the chat list shows
/// the newest message left.
pub async fn remove_message(state: &AppState, caller: &Caller, id: MessageId) -> CoreResult<()> {
    let now = state.clock.now();
    let mut conn = state.change_conn().await?;
    conn.transaction(async |conn| {
        let (message, members) = own_message(conn, id, caller.user.id).await?;
        if !messages::remove(conn, &message, now).await? {
            return Err(no_such_message());
        }
        let removed = MessageRemoved { chat_id: message.chat_id.0, message_id: id.0 };
        Event::MessageRemoved(removed).queue(conn, &members).await?;
        Ok(())
    })
    .await?;
    Ok(())
}

/// For each of `ids` with any, how many messages from others the caller has not read.
pub async fn unread(state: &AppState, caller: &Caller, ids: &[ChatId]) -> CoreResult<HashMap<ChatId, i64>> {
    let mut conn = state.db.get().await?;
    Ok(chats::unread_counts(&mut conn, caller.user.id, ids).await?)
}

/// How many of the caller's chats hold messages from others they have not read.
pub async fn chats_with_unread(state: &AppState, caller: &Caller) -> CoreResult<i64> {
    let mut conn = state.db.get().await?;
    Ok(chats::chats_with_unread(&mut conn, caller.user.id).await?)
}

/// The caller has seen the newest messages of `chat`; `false` when they are not a member.
pub async fn mark_read(state: &AppState, caller: &Caller, chat: ChatId) -> CoreResult<bool> {
    let mut conn = state.change_conn().await?;
    if !chats::is_member(&mut conn, chat, caller.user.id).await? {
        return Ok(false);
    }
    read_to_newest(&mut conn, chat, caller.user.id).await?;
    Ok(true)
}

/// As [`mark_read`], refusing a caller who is not a member.
pub async fn read(state: &AppState, caller: &Caller, chat: ChatId) -> CoreResult<()> {
    if mark_read(state, caller, chat).await? { Ok(()) } else { Err(not_a_member()) }
}

/// Marks `chat` read for the caller, who is known to be a member (they just read its messages).
pub async fn mark_read_as_member(state: &AppState, caller: &Caller, chat: ChatId) -> CoreResult<()> {
    let mut conn = state.change_conn().await?;
    read_to_newest(&mut conn, chat, caller.user.id).await
}

/// Moves `user`'s read mark to the chat's newest message and, when it moved, tells every member
/// (`messages_read`), in one transaction.
async fn read_to_newest(conn: &mut ChangeConn, chat: ChatId, user: UserId) -> CoreResult<()> {
    conn.transaction(async |conn| {
        let Some(up_to) = chats::mark_read(conn, chat, user).await? else {
            return Ok(());
        };
        let members = chats::members(conn, chat).await?;
        let read = MessagesRead { chat_id: chat.0, user_id: user.0, up_to: up_to.0 };
        Event::MessagesRead(read).queue(conn, &members).await?;
        Ok::<_, DbError>(())
    })
    .await?;
    Ok(())
}

/// Of `messages` of `chat`, how many of the other members have read each (absent: nobody; all
/// absent for a non-member, which the one statement checks): the ticks of the messenger.
pub async fn seen_by(
    state: &AppState,
    caller: &Caller,
    chat: ChatId,
    messages: &[MessageId],
) -> CoreResult<HashMap<MessageId, i64>> {
    let mut conn = state.db.get().await?;
    Ok(chats::seen_by(&mut conn, chat, caller.user.id, messages).await?)
}

/// How far each member of `chat` has read (`messages_read` tells of each move), for a member.
pub async fn reads(state: &AppState, caller: &Caller, chat: ChatId) -> CoreResult<Vec<ReadMark>> {
    let mut conn = state.db.get().await?;
    ensure_member(&mut conn, chat, caller.user.id).await?;
    Ok(chats::reads(&mut conn, chat)
        .await?
        .into_iter()
        .map(|(user, up_to)| ReadMark { user_id: user.0, up_to: up_to.map(|m| m.0) })
        .collect())
}

/// The group `chat` if `user` is one of its members; a private chat is refused as such.
async fn member_group(conn: &mut AsyncPgConnection, chat: ChatId, user: UserId) -> CoreResult<ChatRow> {
    let row = member_chat(conn, chat, user).await?.ok_or_else(not_a_member)?;
    if !row.is_group() {
        return Err(CoreError::invalid(KIND, "A private chat has exactly its two members"));
    }
    Ok(row)
}

/// Users that do not exist, among `ids`.
async fn missing_users(conn: &mut AsyncPgConnection, ids: &[UserId]) -> Result<Vec<UserId>, DbError> {
    let found = users::find_many(conn, ids).await?;
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
) -> Result<Chat, DbError> {
    let mut recipients = chats::members(conn, chat.id).await?;
    recipients.extend(also);
    let shown = Presenter::new(state, viewer).chats(conn, vec![chat]).await?;
    let shown = shown.into_iter().next().ok_or(DbError::Query(diesel::result::Error::NotFound))?;
    Event::ChatUpdated(Box::new(shown.clone())).queue(conn, &recipients).await?;
    Ok(shown)
}

/// A new group of the caller and `members` (duplicates and the caller among them are ignored).
pub async fn create_group(state: &AppState, caller: &Caller, title: &str, members: Vec<UserId>) -> CoreResult<Chat> {
    let title = parse_title(title)?;
    let me = caller.user.id;
    let mut everyone = vec![me];
    for id in members {
        if !everyone.contains(&id) {
            everyone.push(id);
        }
    }
    if everyone.len() > MAX_NEW_MEMBERS + 1 {
        return Err(CoreError::invalid(KIND, format!("At most {MAX_NEW_MEMBERS} members at once")));
    }
    let now = state.clock.now();
    let mut conn = state.change_conn().await?;
    let chat = conn
        .transaction(async |conn| {
            if let Some(missing) = missing_users(conn, &everyone).await?.first() {
                return Err(no_such_user(*missing));
            }
            let chat = chats::create_group(conn, &title, &everyone, now).await?;
            Ok(announce(state, conn, me, chat, None).await?)
        })
        .await?;
    Ok(chat)
}

pub async fn rename(state: &AppState, caller: &Caller, chat: ChatId, title: &str) -> CoreResult<Chat> {
    let title = parse_title(title)?;
    let me = caller.user.id;
    let mut conn = state.change_conn().await?;
    member_group(&mut conn, chat, me).await?;
    let renamed = conn
        .transaction(async |conn| {
            let group = chats::rename(conn, chat, &title).await?;
            announce(state, conn, me, group, None).await
        })
        .await?;
    Ok(renamed)
}

pub async fn add_members(state: &AppState, caller: &Caller, chat: ChatId, users: &[UserId]) -> CoreResult<Chat> {
    if users.len() > MAX_NEW_MEMBERS {
        return Err(CoreError::invalid(KIND, format!("At most {MAX_NEW_MEMBERS} members at once")));
    }
    let me = caller.user.id;
    let now = state.clock.now();
    let mut conn = state.change_conn().await?;
    let group = member_group(&mut conn, chat, me).await?;
    let chat = conn
        .transaction(async |conn| {
            if let Some(missing) = missing_users(conn, users).await?.first() {
                return Err(no_such_user(*missing));
            }
            // Membership changes wait for the sends in flight, and sends for them (see the
            // chat writers in `nosebook_actors::chats`).
            chats::lock(conn, &[chat]).await?;
            chats::add_members(conn, chat, users, now).await?;
            Ok(announce(state, conn, me, group, None).await?)
        })
        .await?;
    Ok(chat)
}

pub async fn leave(state: &AppState, caller: &Caller, chat: ChatId) -> CoreResult<()> {
    let me = caller.user.id;
    let mut conn = state.change_conn().await?;
    let group = member_group(&mut conn, chat, me).await?;
    conn.transaction(async |conn| {
        chats::lock(conn, &[chat]).await?;
        chats::remove_member(conn, chat, me).await?;
        announce(state, conn, me, group, Some(me)).await?;
        Ok::<_, DbError>(())
    })
    .await?;
    Ok(())
}
