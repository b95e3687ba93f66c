//! The messenger's markup: the chat list, a chat's messages and history, the send box, and the
//! panes that pages put beside the list.

use std::collections::HashSet;

use maud::{Markup, html};
use nosebook_events::wire::{Chat, ChatType, Message, User};
use nosebook_schema::ids::{ChatId, UserId};

use super::history::{History, Readers};
use super::queries::ChatList;
use crate::web::PREFIX;
use crate::web::csrf::FIELD as CSRF;
use crate::web::layout::{avatar, name_link, online_dot, page};
use crate::web::pages::posts::{TimeStyle, confirmed, when_as};
use crate::web::session::Viewer;

pub(super) fn chat_title(chat: &Chat) -> String {
    match (&chat.interlocutor, &chat.title) {
        (Some(user), _) => format!("{} {}", user.first_name, user.last_name),
        (None, Some(title)) => title.clone(),
        (None, None) => String::new(),
    }
}

pub(super) fn chat_list(viewer: &Viewer, list: &ChatList, open: Option<uuid::Uuid>) -> Markup {
    let chats = &list.chats;
    let t = viewer.t();
    html! {
        ul.chat-list #chat-list hx-get={(PREFIX) "/messenger/list" (open.map(|id| format!("?open={id}")).unwrap_or_default())}
            hx-trigger="chats-changed from:body" hx-swap="outerHTML" {
            @if chats.is_empty() {
                li.empty { (t.no_chats) ". " a href={(PREFIX) "/search"} { (t.find_someone_to_write) } }
            }
            @for chat in chats {
                li.current[Some(chat.id) == open] data-chat=(chat.id) {
                    a href={(PREFIX) "/messenger/" (chat.id)} {
                        @match &chat.interlocutor {
                            Some(user) => (avatar(user, "small")),
                            None => span.avatar.initials.small.group aria-hidden="true" { "#" },
                        }
                        div.summary {
                            strong { (chat_title(chat)) }
                            @if let Some(unread) = list.unread.get(&ChatId(chat.id)).filter(|n| **n > 0 && Some(chat.id) != open) {
                                span.badge.unread title=(viewer.t().unread) { (unread) }
                            }
                            @if let Some(last) = &chat.last_message {
                                span.last { (last.author.first_name) ": " (last.text) }
                                (when_as(&last.created_at, TimeStyle::Short))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One message, as the live script also builds it (`web/assets/app.js`, `messageItem`); the
/// caller's own have "edit" (the text, saved in place) and "remove".
///
/// `readers`: how many others have read it (the caller's own messages show it as ticks: ✓ sent,
/// ✓✓ read, and in groups how many read it), and those of them for whom it is the newest shown
/// message they have read (`data-read-here`). The script moves a member there when their
/// `messages_read` arrives and counts again: everyone named at a message or below it has read it.
pub(super) fn message_item(viewer: &Viewer, me: UserId, message: &Message, readers: &Readers) -> Markup {
    let t = viewer.t();
    let mine = message.author.id == me.0;
    let seen = readers.seen_of(message);
    let here = readers
        .here
        .get(&message.id)
        .map(|members| members.iter().map(uuid::Uuid::to_string).collect::<Vec<_>>().join(" "));
    html! {
        li.message.mine[mine] #{"msg-" (message.id)} data-read-here=[here] {
            div.meta {
                (name_link(&message.author)) " " (when_as(&message.created_at, TimeStyle::Clock))
                @if message.edited_at.is_some() { " " span.edited { (t.edited) } }
                @if mine {
                    " "
                    span.ticks.read[seen > 0] title=(format!("{} {seen}", t.seen_by)) {
                        @if seen == 0 { "✓" } @else { "✓✓" @if seen > 1 { " " (seen) } }
                    }
                }
            }
            p.text { (message.text) }
            @if mine {
                @let base = format!("{PREFIX}/messenger/{}/messages/{}", message.chat_id, message.id);
                @let target = format!("#msg-{}", message.id);
                // Enter saves, Shift+Enter breaks the line, Escape gives up (web/assets/app.js).
                div.message-tools {
                    details.message-actions {
                        summary { (t.edit) }
                        form.edit method="post" action={(base) "/edit"} hx-post={(base) "/edit"} hx-target=(target)
                            hx-swap="outerHTML" data-enter-sends {
                            input type="hidden" name=(CSRF) value=(viewer.csrf());
                            textarea name="text" rows="1" required aria-label=(t.edit) data-autosize { (message.text) }
                            button.primary type="submit" { (t.save) }
                        }
                    }
                    (confirmed(viewer, "remove-message", t.remove, &format!("{base}/remove"), Some((&target, "delete")),
                        t.remove_message_question, t.yes_remove))
                }
            }
        }
    }
}

fn earlier_link(viewer: &Viewer, chat: uuid::Uuid, earlier: Option<&str>, oob: bool) -> Markup {
    html! {
        div.earlier #earlier hx-swap-oob=[oob.then_some("outerHTML")] {
            @if let Some(earlier) = earlier {
                @let earlier: String = form_urlencoded::byte_serialize(earlier.as_bytes()).collect();
                @let url = format!("{PREFIX}/messenger/{chat}/earlier?before={earlier}");
                a href=(url) hx-get=(url) hx-target="#messages" hx-swap="afterbegin" { (viewer.t().earlier_messages) }
            }
        }
    }
}

pub(super) fn history_block(viewer: &Viewer, me: UserId, chat: uuid::Uuid, history: &History) -> Markup {
    html! {
        div.history #history hx-get={(PREFIX) "/messenger/" (chat) "/history"} hx-trigger="resync from:body"
            hx-swap="outerHTML" data-seen-by=(viewer.t().seen_by) {
            (earlier_link(viewer, chat, history.earlier.as_deref(), false))
            ol.messages #messages {
                @for message in &history.messages { (message_item(viewer, me, message, &history.readers)) }
            }
        }
    }
}

fn send_box(viewer: &Viewer, action: &str, htmx: bool) -> Markup {
    let t = viewer.t();
    html! {
        form.send-box #send-box method="post" action=(action) hx-post=[htmx.then_some(action)]
            hx-target="#history" hx-swap="outerHTML" data-reset data-enter-sends {
            input type="hidden" name=(CSRF) value=(viewer.csrf());
            textarea name="text" rows="2" placeholder=(t.write_message) aria-label=(t.write_message) required {}
            button.primary type="submit" { (t.send) }
        }
    }
}

/// The chat list beside the pane; with a chat `open`, a phone shows the chat alone.
pub(super) fn layout(viewer: &Viewer, title: &str, list: Markup, main: Markup, open: bool) -> Markup {
    page(
        viewer,
        title,
        html! { div.messenger.chat-open[open] { aside.card.chats { (list) } section.card.chat-pane { (main) } } },
    )
}

/// The way back from an open chat to the list, shown where the list is not beside it.
fn back_to_list(viewer: &Viewer) -> Markup {
    html! { a.back href={(PREFIX) "/messenger"} { span aria-hidden="true" { "← " } (viewer.t().all_chats) } }
}

/// The pane with no chat open: the form for a new group, with what was written in it and why it
/// was refused, after a refusal.
pub(super) fn new_group_form(viewer: &Viewer, friends: &[User], title: &str, refused: Option<&str>) -> Markup {
    let t = viewer.t();
    html! {
        h2 { (t.new_group) }
        form.group-form method="post" action={(PREFIX) "/messenger/groups"} {
            input type="hidden" name=(CSRF) value=(viewer.csrf());
            input type="text" name="title" value=(title) placeholder=(t.group_title) aria-label=(t.group_title) required;
            @if friends.is_empty() { p.empty { (t.no_friends_to_add) } }
            @for friend in friends {
                label.check { input type="checkbox" name="member" value=(friend.id); " " (friend.first_name) " " (friend.last_name) }
            }
            @if let Some(why) = refused { p.error role="alert" { (why) } }
            button.primary type="submit" { (t.create) }
        }
    }
}

/// An open chat: its head, a group's settings (`friends`: those who could be added), the
/// history, who is typing, and the send box.
pub(super) fn chat_pane(viewer: &Viewer, me: UserId, chat: &Chat, friends: &[User], history: &History) -> Markup {
    let t = viewer.t();
    let title = chat_title(chat);
    let group = chat.kind == ChatType::Group;
    let members: HashSet<uuid::Uuid> = chat.members.iter().flatten().map(|m| m.id).collect();
    let base = format!("{PREFIX}/messenger/{}", chat.id);
    html! {
        div.chat #chat data-chat-id=(chat.id) {
            header.chat-head {
                (back_to_list(viewer))
                @match &chat.interlocutor {
                    Some(user) => { (avatar(user, "small")) (name_link(user)) " " (online_dot(user)) }
                    None => h1 #chat-title { (title) }
                }
            }
            @if group {
                details.group-settings {
                    summary { (t.group_settings) }
                    p.members {
                        @for member in chat.members.iter().flatten() { (name_link(member)) " " }
                    }
                    form.inline-form method="post" action={(base) "/rename"} {
                        input type="hidden" name=(CSRF) value=(viewer.csrf());
                        input type="text" name="title" value=(title) aria-label=(t.group_title) required;
                        button.secondary type="submit" { (t.rename) }
                    }
                    @let candidates: Vec<&User> = friends.iter().filter(|f| !members.contains(&f.id)).collect();
                    @if !candidates.is_empty() {
                        form.inline-form method="post" action={(base) "/members"} {
                            input type="hidden" name=(CSRF) value=(viewer.csrf());
                            select name="user" aria-label=(t.add_member) {
                                @for friend in candidates { option value=(friend.id) { (friend.first_name) " " (friend.last_name) } }
                            }
                            button.secondary type="submit" { (t.add_member) }
                        }
                    }
                    (confirmed(viewer, "leave-group", t.leave_group, &format!("{base}/leave"), None,
                        t.leave_group_question, t.yes_leave))
                }
            }
            (history_block(viewer, me, chat.id, history))
            p.typing #typing aria-live="polite" {}
            (send_box(viewer, &format!("{base}/send"), true))
        }
    }
}

/// The chat with someone not written to yet: empty until the first message creates it.
pub(super) fn first_message_pane(viewer: &Viewer, with: UserId, user: &User) -> Markup {
    html! {
        div.chat {
            header.chat-head { (back_to_list(viewer)) (avatar(user, "small")) (name_link(user)) " " (online_dot(user)) }
            div.history #history { ol.messages #messages {} }
            // A plain post: the first message creates the chat, and the page moves there.
            (send_box(viewer, &format!("{PREFIX}/messenger/with/{with}/send"), false))
        }
    }
}

/// Older messages, to go above the shown ones, and the link to the ones before them.
pub(super) fn earlier_messages(viewer: &Viewer, me: UserId, chat: ChatId, history: &History) -> Markup {
    html! {
        @for message in &history.messages { (message_item(viewer, me, message, &history.readers)) }
        (earlier_link(viewer, chat.0, history.earlier.as_deref(), true))
    }
}
