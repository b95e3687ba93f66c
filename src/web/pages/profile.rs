//! A person's page: who they are, whether they are online, and their wall.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_schema::DbError;
use nosebook_schema::ids::{PostId, UserId};
use nosebook_schema::paging::Cursor;
use nosebook_schema::queries::posts::{self, PostFilter};
use serde::Deserialize;

use super::friends;
use super::posts::{card, when};
use super::{PageError, check_csrf, is_htmx, parse_id, redirect, respond, signed_in};
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, Reply};
use crate::api::input::Command;
use crate::api::posts::publish::PublishPost;
use crate::api::present::Presenter;
use crate::api::wire::{Post, User};
use crate::state::AppState;
use crate::web::PREFIX;
use crate::web::form::Form;
use crate::web::i18n::Texts;
use crate::web::layout::{avatar, html_response, online_dot, page};
use crate::web::session::Viewer;

/// Posts per page of the wall (as the API's).
const PAGE_SIZE: usize = 10;

fn last_seen(t: &Texts, user: &User) -> Markup {
    html! {
        span.presence data-presence-text=(user.id) {
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

async fn load_wall(state: &AppState, viewer: UserId, owner: UserId, after: Option<Cursor>) -> Result<Wall, DbError> {
    let mut conn = state.db.get().await?;
    let filter = PostFilter { owner: Some(owner), author: None };
    let page = posts::page(&mut conn, filter, after, PAGE_SIZE).await?;
    let next = page.next.map(|c| c.to_string());
    let posts = Presenter::new(state, viewer).posts(&mut conn, page.rows).await?;
    Ok(Wall { posts, next })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WallQuery {
    cursor: Option<String>,
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
        let row = {
            let mut conn = state.db.get().await?;
            state.users.find(&mut conn, id).await?
        };
        let Some(row) = row else { return Err(PageError::NotFound) };
        let user = state.present_user(row).await.ok_or(PageError::NotFound)?;
        let wall = load_wall(&state, caller.user.id, id, parse_cursor(&query)).await?;
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
                @if own || relation == Some(friends::Relation::Friends) {
                    form.card.compose method="post" action={(PREFIX) "/users/" (id) "/posts"}
                        hx-post={(PREFIX) "/users/" (id) "/posts"} hx-target="#posts" hx-swap="afterbegin" data-reset {
                        input type="hidden" name=(crate::web::csrf::FIELD) value=(viewer.csrf());
                        textarea name="message" rows="3" placeholder=(t.write_something) aria-label=(t.write_something) required {}
                        button.primary type="submit" { (t.publish) }
                    }
                }
                div #posts {
                    @if wall.posts.is_empty() {
                        p.empty { (t.wall_empty) }
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
        let wall = load_wall(&state, caller.user.id, id, parse_cursor(&query)).await?;
        Ok(html_response(StatusCode::OK, wall_posts(&viewer, id, &wall.posts, wall.next)))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PostForm {
    message: String,
    csrf: String,
}

/// Publishes on the wall; htmx gets the new post to put on top, a plain form the page again.
pub async fn publish(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Form<PostForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&form.csrf))?;
        let owner = parse_id(&id, UserId)?;
        let command = PublishPost { owner_id: owner.0, message: form.message.clone() };
        let published =
            crate::api::posts::publish::publish(SignedIn(caller.clone()), state.clone(), Command(command)).await;
        let created = match published {
            Ok(Reply::Data(created)) => created,
            Ok(_) => return Err(ApiError::Internal(anyhow::anyhow!("publishing answered no id")).into()),
            Err(ApiError::Refused { status, .. }) if form.message.trim().is_empty() => {
                return Err(ApiError::Refused { status, kind: "Unknown", message: viewer.t().post_empty.into() }.into());
            }
            Err(e) => return Err(e.into()),
        };
        if !is_htmx(&req) {
            return Ok(redirect(&req, &format!("{PREFIX}/users/{owner}")));
        }
        let mut conn = state.db.get().await?;
        let row = posts::find_live(&mut conn, PostId(created.id)).await?;
        let shown = Presenter::new(&state, caller.user.id).posts(&mut conn, row.into_iter().collect()).await?;
        Ok(html_response(StatusCode::OK, html! { @for p in &shown { (card(&viewer, p)) } }))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AvatarQuery {
    csrf: String,
}

/// A new avatar from the profile's form (multipart, field `file`), through the API's upload:
/// the same checks, re-encoding and storage. The token rides in the query: the body is the file.
pub async fn upload_avatar(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<AvatarQuery>,
    body: web::Payload,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&query.csrf))?;
        let me = caller.user.id;
        crate::api::users::change_avatar::change_avatar(SignedIn(caller), state, req.clone(), body).await?;
        Ok(redirect(&req, &format!("{PREFIX}/users/{me}")))
    })
    .await
}
