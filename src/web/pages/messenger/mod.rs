//! The messenger: the chat list, a chat with its history (paged upwards), the send box, and
//! groups (create, rename, add a member, leave). New messages arrive through the live script;
//! what a page shows after a send or a reconnect comes from here.
//!
//! The handlers are here; what they read is in `history` (a chat's messages and their readers)
//! and `queries` (chats, friends), what they answer in `templates`, what they are sent in `forms`.

pub(super) mod forms;
mod history;
mod queries;
mod templates;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_core::chats::{self, To};
use nosebook_core::state::AppState;
use nosebook_core::users;
use nosebook_events::wire::ChatType;
use nosebook_schema::ids::{ChatId, MessageId, UserId, parse_go_uuid};

use self::forms::{ChatAction, EarlierQuery, GroupForm, ListQuery, MessageAction, TextForm};
use self::history::{Readers, history, readers};
use self::queries::{find_private, friends_of, list_chats, load_chat, mark_read};
use self::templates::{
    chat_list, chat_pane, chat_title, earlier_messages, first_message_pane, history_block, layout, message_item,
    new_group_form,
};
use super::checked::CheckedForm;
use super::{PageError, is_htmx, parse_action, parse_id, redirect, respond, signed_in, with_trigger};
use crate::web::PREFIX;
use crate::web::layout::html_response;
use crate::web::session::Viewer;
use nosebook_actors::Caller;

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
    let create = new_group_form(viewer, &friends, title, refused);
    Ok(html_response(status, layout(viewer, viewer.t().messenger, chat_list(viewer, &chats, None), create, false)))
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
        let main = chat_pane(&viewer, caller.user.id, &chat, &friends, &history);
        let list = chat_list(&viewer, &chats, Some(chat.id));
        Ok(html_response(StatusCode::OK, layout(&viewer, &chat_title(&chat), list, main, true)))
    })
    .await
}

/// The history block with the newest messages, as `#history` is replaced after a send or a
/// reconnect.
async fn newest_history(state: &AppState, viewer: &Viewer, id: ChatId) -> Result<Markup, PageError> {
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
        Ok(html_response(StatusCode::OK, earlier_messages(&viewer, caller.user.id, id, &history)))
    })
    .await
}

/// Sends the form's text; answers the chat it went to.
async fn send_message(state: &AppState, caller: &Caller, form: &TextForm, to: To) -> Result<ChatId, PageError> {
    let text = nosebook_core::text(&form.text, "text")?;
    Ok(chats::send(state, caller, chats::Outgoing { to, text, reply_to: None }).await?.chat)
}

pub async fn send(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    CheckedForm { caller, form }: CheckedForm<TextForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let id = parse_id(&id, ChatId)?;
        send_message(&state, &caller, &form, To::Chat(id)).await?;
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
        let main = first_message_pane(&viewer, other, &user);
        Ok(html_response(StatusCode::OK, layout(&viewer, &title, chat_list(&viewer, &chats, None), main, true)))
    })
    .await
}

pub async fn send_to_user(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    CheckedForm { caller, form }: CheckedForm<TextForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let other = parse_id(&id, UserId)?;
        let chat = send_message(&state, &caller, &form, To::Person(other)).await?;
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
    CheckedForm { caller, form }: CheckedForm<TextForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let (chat, message, action) = path.into_inner();
        let (chat, message) = (parse_id(&chat, ChatId)?, parse_id(&message, MessageId)?);
        let shown = match parse_action(&action)? {
            MessageAction::Edit => {
                let text = nosebook_core::text(&form.text, "text")?;
                Some(chats::edit_message(&state, &caller, message, &text).await?)
            }
            MessageAction::Remove => {
                chats::remove_message(&state, &caller, message).await?;
                None
            }
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

/// A group's settings (rename, add a member, leave), and what the live script reports of an open
/// chat (typing, read).
pub async fn chat_action(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    CheckedForm { caller, form }: CheckedForm<TextForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let (id, action) = path.into_inner();
        let id = parse_id(&id, ChatId)?;
        let to_chat = format!("{PREFIX}/messenger/{}", id.0);
        match parse_action(&action)? {
            ChatAction::Rename => {
                chats::rename(&state, &caller, id, &form.title).await?;
                Ok(redirect(&req, &to_chat))
            }
            ChatAction::Members => {
                let user = parse_id(&form.user, UserId)?;
                chats::add_members(&state, &caller, id, &[user]).await?;
                Ok(redirect(&req, &to_chat))
            }
            // The live script saw the send box being typed in (it reports at most every few
            // seconds; the server throttles too).
            ChatAction::Typing => {
                nosebook_core::typing::typing(&state, &caller, id).await?;
                Ok(HttpResponse::NoContent().finish())
            }
            // The live script saw a message arrive in the open chat.
            ChatAction::Read => {
                if !chats::mark_read(&state, &caller, id).await? {
                    return Err(PageError::NotFound);
                }
                Ok(HttpResponse::NoContent().finish())
            }
            ChatAction::Leave => {
                chats::leave(&state, &caller, id).await?;
                Ok(redirect(&req, &format!("{PREFIX}/messenger")))
            }
        }
    })
    .await
}

/// Creates a group from the messenger's form.
pub async fn create_group(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    CheckedForm { caller, form }: CheckedForm<GroupForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let GroupForm { title, members } = form;
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
