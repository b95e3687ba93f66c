//! News: the signed-in person's home page. Their own and their friends' posts, newest first
//! (`nosebook_core::feed`), the post box for their own wall on top, more posts as the list
//! scrolls, and — as friends post while it is open — "N new posts", which puts them on top
//! without reloading what is being read.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_core::feed;
use nosebook_core::state::AppState;
use nosebook_events::wire::Post;
use nosebook_schema::paging::{Cursor, NewestFirst};
use serde::Deserialize;

use super::posts::{card, compose};
use super::{PageError, respond, signed_in};
use crate::web::PREFIX;
use crate::web::layout::{html_response, page};
use crate::web::session::Viewer;

/// Posts per page of the list.
const PAGE: usize = 20;
/// Pages of new posts one click puts on top, at most (a hundred posts; more than that, and the
/// reader is better served by the list from the top, which the banner then links to).
const NEWER_PAGES: usize = 5;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewsQuery {
    /// Older than this (the next page of the list).
    cursor: Option<String>,
    /// Newer than this (what the "new posts" banner fetches).
    since: Option<String>,
}

fn cursor_of(post: &Post) -> String {
    Cursor::new(post.id, post.created_at.0).to_string()
}

fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Where the list's newest post is, for the banner's next fetch; sent again, out of band, with
/// every batch of new posts put on top.
fn top(posts: &[Post], oob: bool) -> Markup {
    html! {
        span #news-top hidden data-since=[posts.first().map(cursor_of)] hx-swap-oob=[oob.then_some("true")] {}
    }
}

/// Posts, then (if there are more) a sentinel that loads the next page when it scrolls into view.
fn posts_and_more(viewer: &Viewer, posts: &[Post], next: Option<&str>) -> Markup {
    let t = viewer.t();
    html! {
        @for p in posts { (card(viewer, p)) }
        @if let Some(next) = next {
            div.more hx-get={(PREFIX) "/news/more?cursor=" (encoded(next))} hx-trigger="revealed" hx-swap="outerHTML" {
                a href={(PREFIX) "/news?cursor=" (encoded(next))} { (t.show_more) }
            }
        }
    }
}

fn parse(cursor: Option<&str>) -> Result<Option<Cursor>, PageError> {
    cursor.map(|c| Cursor::parse(c).map_err(|_| PageError::NotFound)).transpose()
}

/// `/app/news`: the page.
pub async fn index(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<NewsQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let position = parse(query.cursor.as_deref())?.map_or(NewestFirst::Newest, NewestFirst::Older);
        let news = feed::page(&state, &caller, position, PAGE).await?;
        let t = viewer.t();
        let body = html! {
            section.news #news data-new-posts=(t.new_posts) {
                h1 { (t.news) }
                (compose(&viewer, caller.user.id, true, false))
                (top(&news.data, false))
                // Shown and filled by the live script as `feed_post` events arrive (web/assets/app.js).
                button.new-posts #new-posts type="button" hidden {}
                // No `data-owner`: what others write on the reader's wall is news only when a
                // friend wrote it, so the wall's live insertion (`post_published`) stays off it.
                div #posts {
                    @if news.data.is_empty() {
                        p.empty { (t.news_empty) ". " a href={(PREFIX) "/search"} { (t.find_people) } }
                    }
                    (posts_and_more(&viewer, &news.data, news.next.as_deref()))
                }
            }
        };
        Ok(html_response(StatusCode::OK, page(&viewer, t.news, body)))
    })
    .await
}

/// The next page of the list, for infinite scroll.
pub async fn more(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<NewsQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let cursor = parse(query.cursor.as_deref())?.ok_or(PageError::NotFound)?;
        let news = feed::page(&state, &caller, NewestFirst::Older(cursor), PAGE).await?;
        Ok(html_response(StatusCode::OK, posts_and_more(&viewer, &news.data, news.next.as_deref())))
    })
    .await
}

/// The posts written since `since` (the list's newest), newest first, to put on top; with the
/// list's new top, out of band. Nothing above it: no posts, and the top stays.
pub async fn newer(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<NewsQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let Some(mut since) = parse(query.since.as_deref())? else {
            // An empty list: its first page is everything there is.
            let news = feed::page(&state, &caller, NewestFirst::Newest, PAGE).await?;
            return Ok(html_response(
                StatusCode::OK,
                html! { (posts_and_more(&viewer, &news.data, None)) (top(&news.data, true)) },
            ));
        };
        // Pages run up from the list's top, each the posts just above the last; shown newest first.
        let mut batches = Vec::new();
        for _ in 0..NEWER_PAGES {
            let page = feed::page(&state, &caller, NewestFirst::Newer(since), PAGE).await?;
            let Some(newest) = page.data.first() else { break };
            since = Cursor::new(newest.id, newest.created_at.0);
            let more = page.prev.is_some();
            batches.push(page.data);
            if !more {
                break;
            }
        }
        let posts: Vec<Post> = batches.into_iter().rev().flatten().collect();
        let markup = html! {
            @for p in &posts { (card(&viewer, p)) }
            @if !posts.is_empty() { (top(&posts, true)) }
        };
        Ok(html_response(StatusCode::OK, markup))
    })
    .await
}
