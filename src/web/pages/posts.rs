//! A post as a card — its like button and its comments — and what can be done to it from a page.
//! Every form also works without script (the page comes back); htmx swaps only the part that
//! changed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_schema::ids::{CommentId, PostId};
use nosebook_schema::queries::comments::Position;
use serde::Deserialize;

use super::{CsrfForm, PageError, back, check_csrf, is_htmx, parse_id, redirect, respond, signed_in};
use crate::core::likes::{self, Target};
use crate::core::{self, Kind, comments, posts};
use crate::state::AppState;
use crate::web::PREFIX;
use crate::web::csrf::FIELD as CSRF;
use crate::web::form::Form;
use crate::web::layout::{avatar, html_response, name_link};
use crate::web::session::Viewer;
use nosebook_events::wire::{Comment, Likes, Post, WireTime};

/// `27.11.2026 14:05` (UTC), in a `<time>` the script may localise.
pub fn when(at: &WireTime) -> Markup {
    html! { time datetime=(at.0.to_rfc3339()) { (at.0.format("%d.%m.%Y %H:%M")) } }
}

pub fn card(viewer: &Viewer, post: &Post) -> Markup {
    let t = viewer.t();
    html! {
        article.card.post #{"post-" (post.id)} {
            header {
                (avatar(&post.author, "small"))
                div { (name_link(&post.author)) br; (when(&post.created_at)) }
            }
            p.text { (post.message) }
            footer {
                (like_button(viewer, post.id, &post.likes))
                span.comment-count { (t.comments) " " (post.recent_comments.total_count) }
            }
            section.comments {
                ul #{"comments-" (post.id)} {
                    @for comment in &post.recent_comments.data { (comment_item(viewer, comment)) }
                }
                (more_comments(viewer, post.id, post.recent_comments.next.as_deref(), false))
                form.comment-form method="post" action={(PREFIX) "/posts/" (post.id) "/comments"}
                    hx-post={(PREFIX) "/posts/" (post.id) "/comments"} hx-target={"#comments-" (post.id)}
                    hx-swap="beforeend" data-reset {
                    input type="hidden" name=(CSRF) value=(viewer.csrf());
                    input type="text" name="message" placeholder=(t.write_comment) aria-label=(t.write_comment) required;
                    button.secondary type="submit" { (t.send) }
                }
            }
        }
    }
}

fn like_button(viewer: &Viewer, post: uuid::Uuid, likes: &Likes) -> Markup {
    let action = format!("{PREFIX}/posts/{post}/like");
    html! {
        form.like method="post" action=(action) hx-post=(action) hx-swap="outerHTML" {
            input type="hidden" name=(CSRF) value=(viewer.csrf());
            button.like.on[likes.liked] type="submit" aria-pressed=(likes.liked) title=(viewer.t().likes) {
                "♥ " span.count data-likes=(post) { (likes.count) }
            }
        }
    }
}

fn comment_item(viewer: &Viewer, comment: &Comment) -> Markup {
    html! {
        li #{"comment-" (comment.id)} {
            (avatar(&comment.author, "tiny"))
            div {
                (name_link(&comment.author)) " " span.text { (comment.message) }
                br; (when(&comment.created_at))
                @if comment.permissions.remove {
                    @let action = format!("{PREFIX}/comments/{}/remove", comment.id);
                    form.inline method="post" action=(action) hx-post=(action)
                        hx-target={"#comment-" (comment.id)} hx-swap="outerHTML" {
                        input type="hidden" name=(CSRF) value=(viewer.csrf());
                        button.link-muted type="submit" { (viewer.t().remove) }
                    }
                }
            }
        }
    }
}

/// "Show more" under a post's comments; `oob` when it replaces itself from a response.
fn more_comments(viewer: &Viewer, post: uuid::Uuid, next: Option<&str>, oob: bool) -> Markup {
    html! {
        div.more-comments #{"more-comments-" (post)} hx-swap-oob=[oob.then_some("outerHTML")] {
            @if let Some(next) = next {
                @let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                @let url = format!("{PREFIX}/posts/{post}/comments?next={next}");
                a href=(url) hx-get=(url) hx-target={"#comments-" (post)} hx-swap="beforeend" { (viewer.t().show_more) }
            }
        }
    }
}

async fn load_post(state: &AppState, viewer: &Viewer, id: PostId) -> Result<Post, PageError> {
    let caller = signed_in(viewer)?;
    posts::get(state, &caller, id).await?.ok_or(PageError::NotFound)
}

/// Likes or unlikes; htmx gets the new button.
pub async fn like(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Form<CsrfForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&form.csrf))?;
        let id = parse_id(&id, PostId)?;
        likes::toggle(&state, &caller, Target::Post(id)).await?;
        if !is_htmx(&req) {
            return Ok(redirect(&req, &back(&req)));
        }
        let post = load_post(&state, &viewer, id).await?;
        Ok(html_response(StatusCode::OK, like_button(&viewer, post.id, &post.likes)))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommentForm {
    message: String,
    csrf: String,
}

/// Comments on a post; htmx gets the new comment to append.
pub async fn comment(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Form<CommentForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&form.csrf))?;
        let post = parse_id(&id, PostId)?;
        let message = core::text(&form.message, "message")?;
        let created = comments::publish(&state, &caller, post, &message).await?;
        if !is_htmx(&req) {
            return Ok(redirect(&req, &back(&req)));
        }
        let shown = comments::get(&state, &caller, created.id).await?;
        Ok(html_response(StatusCode::OK, html! { @if let Some(c) = &shown { (comment_item(&viewer, c)) } }))
    })
    .await
}

/// Removes a comment (its author or the wall's owner); htmx gets nothing in its place.
pub async fn remove_comment(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Form<CsrfForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&form.csrf))?;
        let id = parse_id(&id, CommentId)?;
        comments::remove(&state, &caller, id).await?;
        Ok(if is_htmx(&req) { HttpResponse::Ok().finish() } else { redirect(&req, &back(&req)) })
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MoreQuery {
    next: String,
}

/// The next comments of a post, and the "show more" that follows them.
pub async fn more(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<MoreQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let post = parse_id(&id, PostId)?;
        let position = match query.next.as_str() {
            "" => Position::First,
            next => Position::After(core::cursor(next, Kind::CommentPresenter)?),
        };
        let page = comments::page(&state, &caller, post, position).await?;
        Ok(html_response(
            StatusCode::OK,
            html! {
                @for c in &page.data { (comment_item(&viewer, c)) }
                (more_comments(&viewer, post.0, page.next.as_deref(), true))
            },
        ))
    })
    .await
}
