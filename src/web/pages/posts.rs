//! A post as a card — its like button and its comments — and what can be done to it from a page.
//! Every form also works without script (the page comes back); htmx swaps only the part that
//! changed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_core::likes::{self, Target};
use nosebook_core::state::AppState;
use nosebook_core::{Kind, comments, posts};
use nosebook_schema::ids::{CommentId, PostId, UserId};
use nosebook_schema::queries::comments::Position;
use serde::Deserialize;

use super::checked::{Button, CheckedForm};
use super::{PageError, back, is_htmx, parse_id, redirect, respond, signed_in};
use crate::web::PREFIX;
use crate::web::csrf::FIELD as CSRF;
use crate::web::layout::{avatar, html_response, name_link, page};
use crate::web::session::Viewer;
use nosebook_events::wire::{Comment, Likes, Post, WireTime};

/// How the live script writes a time in the viewer's zone and language (`web/assets/app.js`,
/// `formatTime`).
#[derive(Debug, Clone, Copy)]
pub enum TimeStyle {
    /// "just now", "5 min ago", "yesterday at 19:19", "7 December at 10:52", refreshed each minute.
    Relative,
    /// "10:52": a chat's messages, under a line for each day.
    Clock,
    /// "10:52" today, "7 Dec" before: a chat list's last message.
    Short,
}

impl TimeStyle {
    fn code(self) -> &'static str {
        match self {
            TimeStyle::Relative => "relative",
            TimeStyle::Clock => "clock",
            TimeStyle::Short => "short",
        }
    }
}

/// A time, relative: `27.11.2026 14:05 UTC` until the script writes it in the viewer's zone.
pub fn when(at: &WireTime) -> Markup {
    when_as(at, TimeStyle::Relative)
}

/// A time in `style`; the server's text (UTC, it does not know the viewer's zone) stays for
/// browsers without script.
pub fn when_as(at: &WireTime, style: TimeStyle) -> Markup {
    html! { time datetime=(at.0.to_rfc3339()) data-style=(style.code()) { (at.0.format("%d.%m.%Y %H:%M UTC")) } }
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
                (comment_count(viewer, post.id, post.recent_comments.total_count, false))
                @if post.permissions.remove {
                    (confirmed(
                        viewer,
                        "remove-post",
                        t.remove,
                        &format!("{PREFIX}/posts/{}/remove", post.id),
                        Some((&format!("#post-{}", post.id), "delete")),
                        t.remove_post_question,
                        t.yes_remove,
                    ))
                }
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

/// "Comments N" under a post; `oob` when a response replaces it beside what it answers.
fn comment_count(viewer: &Viewer, post: uuid::Uuid, total: i64, oob: bool) -> Markup {
    html! {
        span.comment-count #{"comment-count-" (post)} hx-swap-oob=[oob.then_some("outerHTML")] {
            (viewer.t().comments) " " (total)
        }
    }
}

/// The count of a post's comments as it now is, to replace the shown one.
async fn fresh_count(state: &AppState, viewer: &Viewer, post: PostId) -> Result<Markup, PageError> {
    let caller = signed_in(viewer)?;
    let total = comments::page(state, &caller, post, Position::First).await?.total_count;
    Ok(comment_count(viewer, post.0, total, true))
}

/// One post on a page of its own (where a toast about it leads); for htmx, its card alone (the
/// live script puts a post written on the open wall on top).
pub async fn show(req: HttpRequest, viewer: Viewer, state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    respond(&req, &viewer, async {
        let id = parse_id(&id, PostId)?;
        let post = load_post(&state, &viewer, id).await?;
        if is_htmx(&req) {
            return Ok(html_response(StatusCode::OK, card(&viewer, &post)));
        }
        let t = viewer.t();
        let body = html! {
            section.wall {
                h2 { a href={(PREFIX) "/users/" (post.owner.id)} { (post.owner.first_name) " " (post.owner.last_name) } }
                div #posts { (card(&viewer, &post)) }
            }
        };
        Ok(html_response(StatusCode::OK, page(&viewer, t.post, body)))
    })
    .await
}

/// One comment: for htmx the item and its post's count (the live script appends a comment that
/// came to an open page), else its post's page.
pub async fn show_comment(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let id = parse_id(&id, CommentId)?;
        let post = comments::post_of(&state, id).await?.ok_or(PageError::NotFound)?;
        if !is_htmx(&req) {
            return Ok(redirect(&req, &format!("{PREFIX}/posts/{}#comment-{}", post.0, id.0)));
        }
        let shown = comments::get(&state, &caller, id).await?.ok_or(PageError::NotFound)?;
        let count = fresh_count(&state, &viewer, post).await?;
        Ok(html_response(StatusCode::OK, html! { (comment_item(&viewer, &shown)) (count) }))
    })
    .await
}

/// A button that asks first: `label` opens the question and the button that does it, which posts
/// to `action` — a plain form without script; with htmx, `swap` as `(target, how)`. A disclosure
/// rather than a dialog, so that it works without script too.
pub fn confirmed(
    viewer: &Viewer,
    class: &str,
    label: &str,
    action: &str,
    swap: Option<(&str, &str)>,
    question: &str,
    yes: &str,
) -> Markup {
    html! {
        details class={"confirm-action " (class)} {
            summary { (label) }
            div.confirm role="group" {
                span { (question) }
                form.inline method="post" action=(action) hx-post=[swap.map(|_| action)]
                    hx-target=[swap.map(|(target, _)| target)] hx-swap=[swap.map(|(_, how)| how)] {
                    input type="hidden" name=(CSRF) value=(viewer.csrf());
                    button.danger type="submit" { (yes) }
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
                    @let t = viewer.t();
                    @let action = format!("{PREFIX}/comments/{}/remove", comment.id);
                    @let target = format!("#comment-{}", comment.id);
                    (confirmed(viewer, "remove-comment", t.remove, &action, Some((&target, "outerHTML")),
                        t.remove_comment_question, t.yes_remove))
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
    CheckedForm { caller, .. }: CheckedForm<Button>,
) -> HttpResponse {
    respond(&req, &viewer, async {
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
}

/// Comments on a post; htmx gets the new comment to append.
pub async fn comment(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    CheckedForm { caller, form }: CheckedForm<CommentForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let post = parse_id(&id, PostId)?;
        let message = nosebook_core::text(&form.message, "message")?;
        let created = comments::publish(&state, &caller, post, &message).await?;
        if !is_htmx(&req) {
            return Ok(redirect(&req, &back(&req)));
        }
        let shown = comments::get(&state, &caller, created.id).await?;
        let count = fresh_count(&state, &viewer, post).await?;
        Ok(html_response(StatusCode::OK, html! { @if let Some(c) = &shown { (comment_item(&viewer, c)) } (count) }))
    })
    .await
}

/// Removes a comment (its author or the wall's owner); htmx gets nothing in its place.
pub async fn remove_comment(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    CheckedForm { caller, .. }: CheckedForm<Button>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let id = parse_id(&id, CommentId)?;
        let post = comments::post_of(&state, id).await?;
        comments::remove(&state, &caller, id).await?;
        if !is_htmx(&req) {
            return Ok(redirect(&req, &back(&req)));
        }
        let count = match post {
            Some(post) => Some(fresh_count(&state, &viewer, post).await?),
            None => None,
        };
        Ok(html_response(StatusCode::OK, html! { @if let Some(count) = count { (count) } }))
    })
    .await
}

/// Removes a post (its author or the wall's owner); htmx takes it from the page, a plain form goes
/// back — to the wall when it was sent from the post's own page, which is gone now.
pub async fn remove(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    CheckedForm { caller, .. }: CheckedForm<Button>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let id = parse_id(&id, PostId)?;
        let post = load_post(&state, &viewer, id).await?;
        posts::remove(&state, &caller, id).await?;
        if is_htmx(&req) {
            return Ok(HttpResponse::Ok().finish());
        }
        let from = back(&req);
        let to = if from.starts_with(&format!("{PREFIX}/posts/")) || from == PREFIX {
            format!("{PREFIX}/users/{}", post.owner.id)
        } else {
            from
        };
        Ok(redirect(&req, &to))
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
            next => Position::After(nosebook_core::cursor(next, Kind::CommentPresenter)?),
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

/// The post form of `owner`'s wall, where the viewer may write there; `oob` when it replaces
/// the one on an open page (the friendship changed).
pub fn compose(viewer: &Viewer, owner: UserId, allowed: bool, oob: bool) -> Markup {
    let t = viewer.t();
    html! {
        div.wall-compose #{"wall-compose-" (owner)} hx-swap-oob=[oob.then_some("outerHTML")] {
            @if allowed {
                form.card.compose method="post" action={(PREFIX) "/users/" (owner) "/posts"}
                    hx-post={(PREFIX) "/users/" (owner) "/posts"} hx-target="#posts" hx-swap="afterbegin" data-reset {
                    input type="hidden" name=(crate::web::csrf::FIELD) value=(viewer.csrf());
                    textarea name="message" rows="3" placeholder=(t.write_something) aria-label=(t.write_something) required {}
                    p.error #{"compose-error-" (owner)} role="alert" data-form-error {}
                    button.primary type="submit" { (t.publish) }
                }
            }
        }
    }
}
