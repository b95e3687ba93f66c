//! A person's page: who they are, whether they are online, and their wall.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_actors::Caller;
use nosebook_core::state::AppState;
use nosebook_core::{CoreError, CoreResult, Refusal, posts, users};
use nosebook_schema::ids::UserId;
use nosebook_schema::paging::Cursor;
use nosebook_schema::queries::posts::PostFilter;
use serde::Deserialize;

use super::checked::{CheckedForm, CheckedUpload};
use super::friends;
use super::posts::{card, compose, when};
use super::{PageError, is_htmx, parse_id, redirect, refused_here, respond, signed_in};
use crate::web::PREFIX;
use crate::web::i18n::Texts;
use crate::web::layout::{avatar, html_response, online_dot, page};
use crate::web::session::Viewer;
use nosebook_events::wire::{Post, User};

/// "online", or "last seen" and when; the live script rewrites it from `presence` events with the
/// two texts it carries.
fn last_seen(t: &Texts, user: &User) -> Markup {
    html! {
        span.presence data-presence-text=(user.id) data-online=(t.online) data-last-seen=(t.last_seen) {
            @if user.online { (t.online) } @else { (t.last_seen) " " (when(&user.last_online_at)) }
        }
    }
}

/// Posts, then (if there are more) a sentinel that loads the next page when it scrolls into view.
fn wall_posts(viewer: &Viewer, owner: UserId, posts: &[Post], next: Option<String>) -> Markup {
    let t = viewer.t();
    html! {
        @for p in posts { (card(viewer, p)) }
        @if let Some(next) = next {
            @let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            div.more hx-get={(PREFIX) "/users/" (owner) "/posts?cursor=" (next)} hx-trigger="revealed" hx-swap="outerHTML" {
                a href={(PREFIX) "/users/" (owner) "?cursor=" (next)} { (t.show_more) }
            }
        }
    }
}

struct Wall {
    posts: Vec<Post>,
    next: Option<String>,
}

async fn load_wall(state: &AppState, viewer: &Caller, owner: UserId, after: Option<Cursor>) -> CoreResult<Wall> {
    let filter = PostFilter { owner: Some(owner), author: None };
    let page = posts::page(state, viewer, filter, after).await?;
    Ok(Wall { posts: page.data, next: page.next })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WallQuery {
    cursor: Option<String>,
    /// Why the last avatar upload was refused ([`AVATAR_REFUSALS`]).
    avatar: Option<String>,
}

/// Why an avatar upload was refused, as the upload brings the person back to their page with it
/// (`?avatar=`): the refusal's code and what the form then says.
const AVATAR_REFUSALS: [(Refusal, &str); 3] =
    [(Refusal::UnsupportedMedia, "not-image"), (Refusal::TooLarge, "too-big"), (Refusal::Unavailable, "busy")];
/// Any other refusal: the image could not be read (corrupt, too many pixels, not multipart).
const AVATAR_UNREADABLE: &str = "unreadable";

fn avatar_refusal_code(why: Refusal) -> &'static str {
    AVATAR_REFUSALS.iter().find(|(r, _)| *r == why).map_or(AVATAR_UNREADABLE, |(_, code)| code)
}

fn avatar_refusal_text(t: &Texts, code: &str) -> Option<&'static str> {
    match code {
        "not-image" => Some(t.avatar_not_image),
        "too-big" => Some(t.avatar_too_big),
        "busy" => Some(t.avatar_busy),
        AVATAR_UNREADABLE => Some(t.avatar_unreadable),
        _ => None,
    }
}

fn parse_cursor(query: &WallQuery) -> Option<Cursor> {
    query.cursor.as_deref().and_then(|c| Cursor::parse(c).ok())
}

pub async fn profile(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<WallQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let id = parse_id(&id, UserId)?;
        let own = caller.user.id == id;
        let user = users::get(&state, &caller, id).await?.ok_or(PageError::NotFound)?;
        let wall = load_wall(&state, &caller, id, parse_cursor(&query)).await?;
        let relation = if own { None } else { Some(friends::relation(&state, caller.user.id, id).await?) };
        let t = viewer.t();
        let title = format!("{} {}", user.first_name, user.last_name);
        let body = html! {
            section.card.profile {
                div.avatar-box {
                    (avatar(&user, "large"))
                    @if own {
                        form.avatar-form method="post" enctype="multipart/form-data"
                            action={(PREFIX) "/avatar?" (crate::web::csrf::FIELD) "=" (viewer.csrf())} {
                            img.preview #avatar-preview alt="" hidden;
                            label.button.secondary for="avatar-file" { (t.choose_photo) }
                            input #avatar-file type="file" name="file" accept="image/png,image/jpeg,image/webp,image/gif"
                                data-preview="avatar-preview" required;
                            button.primary type="submit" { (t.upload) }
                            @if let Some(why) = query.avatar.as_deref().and_then(|code| avatar_refusal_text(t, code)) {
                                p.error #avatar-error role="alert" { (why) }
                            }
                        }
                    }
                }
                div.who {
                    h1 { (title) " " (online_dot(&user)) }
                    p.nick { "@" (user.nick) }
                    p { (last_seen(t, &user)) }
                    @if let Some(relation) = relation {
                        div.actions {
                            (friends::button(&viewer, user.id, relation))
                            a.button.secondary href={(PREFIX) "/messenger/with/" (user.id)} { (t.message_button) }
                        }
                    }
                }
            }
            section.wall {
                h2 { (t.wall) }
                (compose(&viewer, id, own || relation == Some(friends::Relation::Friends), false))
                div #posts data-owner=(id) {
                    @if wall.posts.is_empty() {
                        p.empty {
                            (t.wall_empty)
                            @if own { ". " a href={(PREFIX) "/search"} { (t.find_people) } }
                        }
                    }
                    (wall_posts(&viewer, id, &wall.posts, wall.next))
                }
            }
        };
        Ok(html_response(StatusCode::OK, page(&viewer, &title, body)))
    })
    .await
}

/// The next page of a wall, for infinite scroll.
pub async fn wall_page(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<WallQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let id = parse_id(&id, UserId)?;
        let wall = load_wall(&state, &caller, id, parse_cursor(&query)).await?;
        Ok(html_response(StatusCode::OK, wall_posts(&viewer, id, &wall.posts, wall.next)))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PostForm {
    message: String,
}

/// Publishes on the wall; htmx gets the new post to put on top, a plain form the page again.
pub async fn publish(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    CheckedForm { caller, form }: CheckedForm<PostForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let owner = parse_id(&id, UserId)?;
        let message = match nosebook_core::text(&form.message, "message") {
            Ok(message) => message,
            Err(CoreError::Refused { why, kind, message }) => {
                let reason = if form.message.trim().is_empty() { viewer.t().post_empty.into() } else { message };
                // Said under the form, which keeps what was written.
                if is_htmx(&req) {
                    return Ok(refused_here(&format!("#compose-error-{owner}"), &reason));
                }
                return Err(CoreError::refused(why, kind, reason).into());
            }
            Err(e) => return Err(e.into()),
        };
        let created = posts::publish(&state, &caller, owner, &message).await?;
        if !is_htmx(&req) {
            return Ok(redirect(&req, &format!("{PREFIX}/users/{owner}")));
        }
        let shown = posts::get(&state, &caller, created.id).await?;
        Ok(html_response(StatusCode::OK, html! { @if let Some(p) = &shown { (card(&viewer, p)) } }))
    })
    .await
}

/// A new avatar from the profile's form (multipart, field `file`): the same checks,
/// re-encoding and storage as the API's upload. The token rides in the query: the body is the file.
pub async fn upload_avatar(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    CheckedUpload { caller }: CheckedUpload,
    body: web::Payload,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let me = caller.user.id;
        match users::change_avatar(&state, &caller, crate::http::upload::read_avatar(&req, body)).await {
            Ok(_) => Ok(redirect(&req, &format!("{PREFIX}/users/{me}"))),
            // Back to the page with the form, which says why under it.
            Err(CoreError::Refused { why, .. }) => {
                Ok(redirect(&req, &format!("{PREFIX}/users/{me}?avatar={}", avatar_refusal_code(why))))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
