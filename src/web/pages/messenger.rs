//! The messenger: the chat list, a chat with its history (paged upwards), the send box, and
//! groups (create, rename, add a member, leave). New messages arrive through the live script;
//! what a page shows after a send or a reconnect comes from here.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_schema::ids::{ChatId, MessageId, UserId, parse_go_uuid};
use nosebook_schema::queries::friendship::{Direction, FriendshipFilter};
use nosebook_schema::queries::messages::Position;
use serde::Deserialize;

use super::posts::{TimeStyle, confirmed, when_as};
use super::{PageError, check_csrf, is_htmx, parse_id, redirect, respond, signed_in, with_trigger};
use crate::core::chats::{self, ChatFilter, To};
use crate::core::{self, CoreError, Kind, friendship, users};
use crate::state::AppState;
use crate::web::PREFIX;
use crate::web::csrf::FIELD as CSRF;
use crate::web::form::Form;
use crate::web::layout::{avatar, html_response, name_link, online_dot, page};
use crate::web::session::Viewer;
use nosebook_events::wire::{Chat, ChatType, Message, User};

/// Messages per page of history.
const HISTORY: usize = 20;

fn chat_title(chat: &Chat) -> String {
    match (&chat.interlocutor, &chat.title) {
        (Some(user), _) => format!("{} {}", user.first_name, user.last_name),
        (None, Some(title)) => title.clone(),
        (None, None) => String::new(),
    }
}

/// Chats and, for those with any, how many messages from others wait unread.
struct ChatList {
    chats: Vec<Chat>,
    unread: HashMap<ChatId, i64>,
}

fn chat_list(viewer: &Viewer, list: &ChatList, open: Option<uuid::Uuid>) -> Markup {
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
fn message_item(viewer: &Viewer, me: UserId, message: &Message, readers: &Readers) -> Markup {
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

/// Who of the other members has read which of some shown messages.
#[derive(Default)]
struct Readers {
    /// How many others have read each message (absent: nobody).
    seen: HashMap<uuid::Uuid, i64>,
    /// Each other member who has read any of them, at the newest of them they have read.
    here: HashMap<uuid::Uuid, Vec<uuid::Uuid>>,
}

impl Readers {
    fn seen_of(&self, message: &Message) -> i64 {
        self.seen.get(&message.id).copied().unwrap_or(0)
    }
}

/// The readers of `messages` of `chat` (in the order shown, oldest first).
async fn readers(state: &AppState, viewer: &Viewer, chat: ChatId, messages: &[Message]) -> Result<Readers, PageError> {
    let caller = signed_in(viewer)?;
    let me = caller.user.id.0;
    let marks: Vec<(uuid::Uuid, uuid::Uuid)> = chats::reads(state, &caller, chat)
        .await?
        .into_iter()
        .filter(|mark| mark.user_id != me)
        .filter_map(|mark| Some((mark.user_id, mark.up_to?)))
        .collect();
    let shown: Vec<uuid::Uuid> = messages.iter().map(|m| m.id).collect();
    // A read mark may be on a message not shown (older, newer on another page, or removed): its
    // readers are counted too.
    let unshown: HashSet<uuid::Uuid> = marks.iter().map(|(_, up_to)| *up_to).filter(|id| !shown.contains(id)).collect();
    let ids: Vec<MessageId> = shown.iter().chain(&unshown).map(|id| MessageId(*id)).collect();
    let seen: HashMap<uuid::Uuid, i64> =
        chats::seen_by(state, &caller, chat, &ids).await?.into_iter().map(|(id, n)| (id.0, n)).collect();
    let mut here: HashMap<uuid::Uuid, Vec<uuid::Uuid>> = HashMap::new();
    for (member, up_to) in marks {
        if let Some(at) = stands_at(&shown, &seen, up_to) {
            here.entry(at).or_default().push(member);
        }
    }
    Ok(Readers { seen, here })
}

/// Where a member whose read mark is on `up_to` stands among `shown` (oldest first): the newest
/// of them they have read. `seen` counts the readers of each message, `up_to` too, the viewer
/// left out. Whoever has read a message has read every one before it, so a message has at least
/// as many readers as `up_to` exactly when it is not after it (one after it lacks at least this
/// member) — which places a mark on a message not shown (removed, or on another page) too.
fn stands_at(shown: &[uuid::Uuid], seen: &HashMap<uuid::Uuid, i64>, up_to: uuid::Uuid) -> Option<uuid::Uuid> {
    if shown.contains(&up_to) {
        return Some(up_to);
    }
    let of_mark = *seen.get(&up_to)?;
    shown.iter().rev().find(|id| seen.get(id).copied().unwrap_or(0) >= of_mark).copied()
}

struct History {
    /// Oldest first, as shown.
    messages: Vec<Message>,
    readers: Readers,
    /// Cursor of the page before the oldest shown.
    earlier: Option<String>,
}

async fn history(
    state: &web::Data<AppState>,
    viewer: &Viewer,
    chat: ChatId,
    before: Option<&str>,
) -> Result<History, PageError> {
    let caller = signed_in(viewer)?;
    let position = match before.filter(|b| !b.is_empty()) {
        None => Position::Newest,
        Some(before) => Position::Older(core::cursor(before, Kind::MessagePresenter)?),
    };
    let page = chats::messages(state, &caller, chat, position, HISTORY).await?;
    let mut messages = page.data;
    messages.reverse();
    let readers = readers(state, viewer, chat, &messages).await?;
    Ok(History { messages, readers, earlier: page.next })
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

fn history_block(viewer: &Viewer, me: UserId, chat: uuid::Uuid, history: &History) -> Markup {
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

async fn find_private(state: &AppState, viewer: &Viewer, with: UserId) -> Result<Option<Chat>, PageError> {
    let caller = signed_in(viewer)?;
    let filter = ChatFilter { interlocutor: Some(with), after: None, limit: 1 };
    Ok(chats::list(state, &caller, filter).await?.data.into_iter().next())
}

/// Chats in the list.
const CHATS: usize = 20;

async fn list_chats(state: &AppState, viewer: &Viewer) -> Result<ChatList, PageError> {
    let caller = signed_in(viewer)?;
    let chats = chats::list(state, &caller, ChatFilter { interlocutor: None, after: None, limit: CHATS }).await?.data;
    let ids: Vec<ChatId> = chats.iter().map(|c| ChatId(c.id)).collect();
    let unread = chats::unread(state, &caller, &ids).await?;
    Ok(ChatList { chats, unread })
}

/// The caller has seen the newest messages of `chat`, which they were just shown.
async fn mark_read(state: &AppState, viewer: &Viewer, chat: ChatId) -> Result<(), PageError> {
    let caller = signed_in(viewer)?;
    Ok(chats::mark_read_as_member(state, &caller, chat).await?)
}

/// Friends offered for adding to groups.
const FRIENDS: usize = 20;

/// The caller's friends, for adding to groups.
async fn friends_of(state: &AppState, viewer: &Viewer) -> Result<Vec<User>, PageError> {
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

/// The chat list beside the pane; with a chat `open`, a phone shows the chat alone.
fn layout(viewer: &Viewer, title: &str, list: Markup, main: Markup, open: bool) -> Markup {
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

pub async fn index(req: HttpRequest, viewer: Viewer, state: web::Data<AppState>) -> HttpResponse {
    respond(&req, &viewer, async { index_page(&state, &viewer, StatusCode::OK, "", None).await }).await
}

/// The messenger with no chat open: the list, and the form for a new group (with what was
/// written in it and why it was refused, after a refusal).
async fn index_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    title: &str,
    refused: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let chats = list_chats(state, viewer).await?;
    let friends = friends_of(state, viewer).await?;
    let t = viewer.t();
    let create = html! {
        h2 { (t.new_group) }
        form.group-form method="post" action={(PREFIX) "/messenger/groups"} {
            input type="hidden" name=(CSRF) value=(viewer.csrf());
            input type="text" name="title" value=(title) placeholder=(t.group_title) aria-label=(t.group_title) required;
            @if friends.is_empty() { p.empty { (t.no_friends_to_add) } }
            @for friend in &friends {
                label.check { input type="checkbox" name="member" value=(friend.id); " " (friend.first_name) " " (friend.last_name) }
            }
            @if let Some(why) = refused { p.error role="alert" { (why) } }
            button.primary type="submit" { (t.create) }
        }
    };
    Ok(html_response(status, layout(viewer, t.messenger, chat_list(viewer, &chats, None), create, false)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    open: Option<String>,
}

/// The chat list alone (htmx reloads it when a message arrives).
pub async fn list(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let chats = list_chats(&state, &viewer).await?;
        let open = query.open.as_deref().and_then(|id| parse_go_uuid(id).ok());
        Ok(html_response(StatusCode::OK, chat_list(&viewer, &chats, open)))
    })
    .await
}

/// The chat as the caller sees it, if they are a member.
async fn load_chat(state: &AppState, viewer: &Viewer, id: ChatId) -> Result<Chat, PageError> {
    let caller = signed_in(viewer)?;
    chats::open(state, &caller, id).await?.ok_or(PageError::NotFound)
}

pub async fn chat(req: HttpRequest, viewer: Viewer, state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let id = parse_id(&id, ChatId)?;
        // One after the other on purpose: reading them at once on four pooled connections makes a
        // quiet page a little faster and the server saturate sooner (BENCHMARKS.md, "The web
        // app's pages").
        let chat = load_chat(&state, &viewer, id).await?;
        mark_read(&state, &viewer, id).await?;
        let history = history(&state, &viewer, id, None).await?;
        let chats = list_chats(&state, &viewer).await?;
        let friends = if chat.kind == ChatType::Group { friends_of(&state, &viewer).await? } else { Vec::new() };
        let t = viewer.t();
        let title = chat_title(&chat);
        let group = chat.kind == ChatType::Group;
        let members: HashSet<uuid::Uuid> = chat.members.iter().flatten().map(|m| m.id).collect();
        let base = format!("{PREFIX}/messenger/{}", chat.id);
        let main = html! {
            div.chat #chat data-chat-id=(chat.id) {
                header.chat-head {
                    (back_to_list(&viewer))
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
                        (confirmed(&viewer, "leave-group", t.leave_group, &format!("{base}/leave"), None,
                            t.leave_group_question, t.yes_leave))
                    }
                }
                (history_block(&viewer, caller.user.id, chat.id, &history))
                p.typing #typing aria-live="polite" {}
                (send_box(&viewer, &format!("{base}/send"), true))
            }
        };
        Ok(html_response(StatusCode::OK, layout(&viewer, &title, chat_list(&viewer, &chats, Some(chat.id)), main, true)))
    })
    .await
}

/// The history block with the newest messages, as `#history` is replaced after a send or a
/// reconnect.
async fn newest_history(state: &web::Data<AppState>, viewer: &Viewer, id: ChatId) -> Result<Markup, PageError> {
    let caller = signed_in(viewer)?;
    let history = history(state, viewer, id, None).await?;
    Ok(history_block(viewer, caller.user.id, id.0, &history))
}

/// The newest history (after a send, or a reconnect: the script's `resync`).
pub async fn latest(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let id = parse_id(&id, ChatId)?;
        let block = newest_history(&state, &viewer, id).await?;
        mark_read(&state, &viewer, id).await?;
        Ok(html_response(StatusCode::OK, block))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EarlierQuery {
    before: String,
}

/// Older messages, put above the shown ones, and the link to the ones before them.
pub async fn earlier(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<EarlierQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let id = parse_id(&id, ChatId)?;
        let history = history(&state, &viewer, id, Some(&query.before)).await?;
        Ok(html_response(
            StatusCode::OK,
            html! {
                @for message in &history.messages { (message_item(&viewer, caller.user.id, message, &history.readers)) }
                (earlier_link(&viewer, id.0, history.earlier.as_deref(), true))
            },
        ))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TextForm {
    text: String,
    title: String,
    user: String,
    csrf: String,
}

/// Sends the form's text; answers the chat it went to.
async fn send_message(
    req: &HttpRequest,
    viewer: &Viewer,
    state: &AppState,
    form: &TextForm,
    to: To,
) -> Result<ChatId, PageError> {
    let caller = signed_in(viewer)?;
    check_csrf(req, &caller, Some(&form.csrf))?;
    let text = core::text(&form.text, "text")?;
    Ok(chats::send(state, &caller, chats::Outgoing { to, text, reply_to: None }).await?.chat)
}

pub async fn send(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Form<TextForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let id = parse_id(&id, ChatId)?;
        send_message(&req, &viewer, &state, &form, To::Chat(id)).await?;
        if !is_htmx(&req) {
            return Ok(redirect(&req, &format!("{PREFIX}/messenger/{}", id.0)));
        }
        let block = newest_history(&state, &viewer, id).await?;
        Ok(with_trigger(html_response(StatusCode::OK, block), "chats-changed"))
    })
    .await
}

/// "Write a message" from a profile: the private chat with them, or an empty one until the first
/// message creates it.
pub async fn with_user(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let other = parse_id(&id, UserId)?;
        if let Some(chat) = find_private(&state, &viewer, other).await? {
            return Ok(redirect(&req, &format!("{PREFIX}/messenger/{}", chat.id)));
        }
        let caller = signed_in(&viewer)?;
        let user = users::get(&state, &caller, other).await?.ok_or(PageError::NotFound)?;
        let chats = list_chats(&state, &viewer).await?;
        let title = format!("{} {}", user.first_name, user.last_name);
        let main = html! {
            div.chat {
                header.chat-head { (back_to_list(&viewer)) (avatar(&user, "small")) (name_link(&user)) " " (online_dot(&user)) }
                div.history #history { ol.messages #messages {} }
                // A plain post: the first message creates the chat, and the page moves there.
                (send_box(&viewer, &format!("{PREFIX}/messenger/with/{other}/send"), false))
            }
        };
        Ok(html_response(StatusCode::OK, layout(&viewer, &title, chat_list(&viewer, &chats, None), main, true)))
    })
    .await
}

pub async fn send_to_user(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Form<TextForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let other = parse_id(&id, UserId)?;
        let chat = send_message(&req, &viewer, &state, &form, To::Person(other)).await?;
        Ok(redirect(&req, &format!("{PREFIX}/messenger/{}", chat.0)))
    })
    .await
}

/// The author's edit or removal of one of their messages, from the message's own menu: htmx gets
/// the message as it now is (nothing, removed), a plain form goes back to the chat.
pub async fn message_action(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    form: Form<TextForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&form.csrf))?;
        let (chat, message, action) = path.into_inner();
        let (chat, message) = (parse_id(&chat, ChatId)?, parse_id(&message, MessageId)?);
        let shown = match action.as_str() {
            "edit" => {
                let text = core::text(&form.text, "text")?;
                Some(chats::edit_message(&state, &caller, message, &text).await?)
            }
            "remove" => {
                chats::remove_message(&state, &caller, message).await?;
                None
            }
            _ => return Err(PageError::NotFound),
        };
        if !is_htmx(&req) {
            return Ok(redirect(&req, &format!("{PREFIX}/messenger/{}", chat.0)));
        }
        let readers = match &shown {
            Some(shown) => readers(&state, &viewer, ChatId(shown.chat_id), std::slice::from_ref(shown)).await?,
            None => Readers::default(),
        };
        let markup =
            html! { @if let Some(shown) = &shown { (message_item(&viewer, caller.user.id, shown, &readers)) } };
        Ok(with_trigger(html_response(StatusCode::OK, markup), "chats-changed"))
    })
    .await
}

/// Group actions from the settings of a chat: rename, add a member, leave.
pub async fn group_action(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: Form<TextForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&form.csrf))?;
        let (id, action) = path.into_inner();
        let id = parse_id(&id, ChatId)?;
        let to_chat = format!("{PREFIX}/messenger/{}", id.0);
        match action.as_str() {
            "rename" => {
                chats::rename(&state, &caller, id, &form.title).await?;
                Ok(redirect(&req, &to_chat))
            }
            "members" => {
                let user = parse_id(&form.user, UserId)?;
                chats::add_members(&state, &caller, id, &[user]).await?;
                Ok(redirect(&req, &to_chat))
            }
            // The live script saw the send box being typed in (it reports at most every few
            // seconds; the server throttles too).
            "typing" => {
                core::typing::typing(&state, &caller, id).await?;
                Ok(HttpResponse::NoContent().finish())
            }
            // The live script saw a message arrive in the open chat.
            "read" => {
                if !chats::mark_read(&state, &caller, id).await? {
                    return Err(PageError::NotFound);
                }
                Ok(HttpResponse::NoContent().finish())
            }
            "leave" => {
                chats::leave(&state, &caller, id).await?;
                Ok(redirect(&req, &format!("{PREFIX}/messenger")))
            }
            _ => Err(PageError::NotFound),
        }
    })
    .await
}

/// Creates a group from the messenger's form (`member` repeats, one per chosen friend).
pub async fn create_group(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        if crate::http::has_encoded_nul(&String::from_utf8_lossy(&body)) {
            return Err(CoreError::invalid(Kind::Unknown, crate::http::NUL_REFUSED).into());
        }
        let mut title = String::new();
        let mut members = Vec::new();
        let mut csrf = String::new();
        for (key, value) in form_urlencoded::parse(&body) {
            match &*key {
                "title" => title = value.into_owned(),
                "csrf" => csrf = value.into_owned(),
                "member" => members.extend(parse_go_uuid(&value).ok().map(UserId)),
                _ => {}
            }
        }
        check_csrf(&req, &caller, Some(&csrf))?;
        // A group of one is no group: refused on the form (the API takes it, as the original did).
        if members.iter().all(|m| *m == caller.user.id) {
            let why = viewer.t().group_needs_member;
            return index_page(&state, &viewer, StatusCode::BAD_REQUEST, &title, Some(why)).await;
        }
        let chat = chats::create_group(&state, &caller, &title, members).await?;
        Ok(redirect(&req, &format!("{PREFIX}/messenger/{}", chat.id)))
    })
    .await
}

/// The menu's count of chats with unread messages; reloaded by htmx on `chats-changed`. The
/// live script shows it in the tab's title too.
pub async fn badge(req: HttpRequest, viewer: Viewer, state: web::Data<AppState>) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let chats = chats::chats_with_unread(&state, &caller).await?;
        let t = viewer.t();
        Ok(html_response(
            StatusCode::OK,
            html! { @if chats > 0 { span.badge data-unread-chats=(chats) title=(t.unread) { (chats) } } },
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_mark_stands_at_the_newest_shown_message_its_member_has_read() {
        let [older, a, removed, b, c] = [0, 1, 2, 3, 4].map(|n| uuid::Uuid::from_u128(n + 1));
        let shown = [a, b, c];
        // Four others: one read up to `a`, one up to `removed` (between `a` and `b`), one up to
        // `c`, one only up to `older`, before the page.
        let seen = HashMap::from([(older, 4), (a, 3), (removed, 2), (b, 1), (c, 1)]);
        assert_eq!(stands_at(&shown, &seen, a), Some(a));
        assert_eq!(stands_at(&shown, &seen, c), Some(c));
        assert_eq!(stands_at(&shown, &seen, removed), Some(a), "a removed message: the one before it");
        assert_eq!(stands_at(&shown, &seen, older), None, "nothing shown read");
        // A page of older messages: a mark on a newer one stands at its newest.
        let earlier = [older, a];
        assert_eq!(stands_at(&earlier, &seen, c), Some(a));
    }
}
