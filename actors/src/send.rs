//! The rules of a send: whom a message may go to, who may send to a chat, which message it may
//! answer, and what the stored message and its `new_message` event look like (its author's
//! shape included).
//!
//! They are plain functions over plain data, in this crate rather than in the main crate's
//! `core`, because two callers on either side of the crate boundary need them: membership and
//! the reply's chat can only be judged with the chat locked, inside the chat writer's batch
//! transaction ([`crate::chats`]), while the request (`core::chats::send`) knows the author and
//! whom they address. `core` sits above this crate and can call down into it; the writer cannot
//! call up into `core`. So the rules live here, the writer keeps only the order of each chat's
//! sends and the group commit, and `core` turns a [`SendRefusal`] into the API's error.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use nosebook_events::{Event, wire};
use nosebook_schema::ids::{ChatId, MessageId, UserId};
use nosebook_schema::models::{MessageRow, UserRow};

/// Why a send was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefusal {
    /// Addressed to its own author as a person: nobody has a private chat with themselves.
    ToSelf,
    /// The author is not a member (or the chat does not exist).
    NotMember,
    /// `replyTo` is not a message of this chat.
    BadReply,
}

/// A message to write into a chat, as the chat writer receives it.
#[derive(Debug, Clone)]
pub struct SendMessage {
    pub chat: ChatId,
    pub author: UserId,
    pub text: String,
    pub reply_to: Option<MessageId>,
    /// The author as members are shown them in the `new_message` event.
    pub author_shown_as: wire::User,
    /// The sender's request's `traceparent`: the send and its event join that trace.
    pub trace: Option<String>,
}

/// What a batch read with its chats locked: all the rules need to judge its sends.
#[derive(Debug, Default)]
pub struct LockedChats {
    /// Each chat's members; a chat that does not exist has none.
    pub members: HashMap<ChatId, Vec<UserId>>,
    /// The chat of each message replied to that exists.
    pub reply_chats: HashMap<MessageId, ChatId>,
}

/// Refuses a message addressed to its own author as a person, before any private chat is looked
/// up or created.
pub fn check_recipient(author: UserId, recipient: UserId) -> Result<(), SendRefusal> {
    if author == recipient { Err(SendRefusal::ToSelf) } else { Ok(()) }
}

impl SendMessage {
    /// The send of `text` by `author` (the row of the request's caller) at `now`: the author is
    /// shown active at the moment they send.
    pub fn new(
        chat: ChatId,
        author: UserRow,
        text: String,
        reply_to: Option<MessageId>,
        now: DateTime<Utc>,
        trace: Option<String>,
    ) -> Self {
        let id = author.id;
        Self { chat, author: id, text, reply_to, author_shown_as: wire::User::active_at(author, now), trace }
    }

    /// Whom the message goes to — every member of its chat — if its author is one of them and
    /// it answers a message of the same chat (or none).
    pub fn check<'a>(&self, chats: &'a LockedChats) -> Result<&'a [UserId], SendRefusal> {
        let Some(members) = chats.members.get(&self.chat).filter(|m| m.contains(&self.author)) else {
            return Err(SendRefusal::NotMember);
        };
        if let Some(reply) = self.reply_to
            && chats.reply_chats.get(&reply) != Some(&self.chat)
        {
            return Err(SendRefusal::BadReply);
        }
        Ok(members)
    }

    /// The message as stored, written at `created_at`.
    pub fn message(&self, created_at: DateTime<Utc>) -> MessageRow {
        MessageRow {
            id: MessageId::new_random(),
            chat_id: self.chat,
            author_id: self.author,
            text: self.text.clone(),
            reply_to: self.reply_to,
            created_at,
            edited_at: None,
        }
    }

    /// The `new_message` event every member gets for `message`, as stored.
    pub fn event(&self, message: &MessageRow) -> Event {
        Event::NewMessage(wire::Message::new(message, self.author_shown_as.clone()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(seconds: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, seconds).single().unwrap()
    }

    fn user(id: UserId, active: DateTime<Utc>) -> UserRow {
        UserRow {
            id,
            first_name: "Anna".into(),
            last_name: "Ivanova".into(),
            nick: "anna".into(),
            created_at: at(0),
            avatar_url: String::new(),
            avatar_updated_at: None,
            last_activity_at: active,
        }
    }

    fn send(chat: ChatId, author: UserId, reply_to: Option<MessageId>) -> SendMessage {
        SendMessage::new(chat, user(author, at(0)), "hi".into(), reply_to, at(30), None)
    }

    fn chat_of(members: &[UserId]) -> (ChatId, LockedChats) {
        let chat = ChatId::from(uuid::Uuid::new_v4());
        let mut locked = LockedChats::default();
        locked.members.insert(chat, members.to_vec());
        (chat, locked)
    }

    fn some_user() -> UserId {
        UserId::from(uuid::Uuid::new_v4())
    }

    #[test]
    fn a_member_sends_to_every_member() {
        let (anna, boris) = (some_user(), some_user());
        let (chat, locked) = chat_of(&[anna, boris]);
        assert_eq!(send(chat, anna, None).check(&locked), Ok(&[anna, boris][..]));
    }

    #[test]
    fn a_non_member_or_an_unknown_chat_is_refused() {
        let (anna, boris) = (some_user(), some_user());
        let (chat, locked) = chat_of(&[boris]);
        assert_eq!(send(chat, anna, None).check(&locked), Err(SendRefusal::NotMember));
        let unknown = ChatId::from(uuid::Uuid::new_v4());
        assert_eq!(send(unknown, boris, None).check(&locked), Err(SendRefusal::NotMember));
    }

    #[test]
    fn a_reply_must_answer_a_message_of_the_same_chat() {
        let anna = some_user();
        let (chat, mut locked) = chat_of(&[anna]);
        let (here, elsewhere, unknown) = (MessageId::new_random(), MessageId::new_random(), MessageId::new_random());
        locked.reply_chats.insert(here, chat);
        locked.reply_chats.insert(elsewhere, ChatId::from(uuid::Uuid::new_v4()));
        assert!(send(chat, anna, Some(here)).check(&locked).is_ok());
        assert_eq!(send(chat, anna, Some(elsewhere)).check(&locked), Err(SendRefusal::BadReply));
        assert_eq!(send(chat, anna, Some(unknown)).check(&locked), Err(SendRefusal::BadReply));
    }

    #[test]
    fn nobody_writes_to_themselves_as_a_person() {
        let (anna, boris) = (some_user(), some_user());
        assert_eq!(check_recipient(anna, anna), Err(SendRefusal::ToSelf));
        assert_eq!(check_recipient(anna, boris), Ok(()));
    }

    #[test]
    fn the_message_and_its_event_show_the_author_active_when_sending() {
        let anna = some_user();
        let (chat, _) = chat_of(&[anna]);
        let reply = MessageId::new_random();
        let send = send(chat, anna, Some(reply));
        let message = send.message(at(31));
        assert_eq!((message.chat_id, message.author_id, message.text.as_str()), (chat, anna, "hi"));
        assert_eq!((message.reply_to, message.created_at, message.edited_at), (Some(reply), at(31), None));
        let Event::NewMessage(shown) = send.event(&message) else { panic!("not a new_message event") };
        assert_eq!((shown.id, shown.chat_id, shown.reply_to), (message.id.0, chat.0, Some(reply.0)));
        assert_eq!((shown.author.id, shown.author.last_online_at), (anna.0, wire::WireTime(at(30))));
        assert!(shown.author.online);
    }
}
