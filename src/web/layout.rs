//! The page shell every page shares: header with search, the left menu, the language switch, and
//! the toasts the live script fills.

use actix_web::HttpResponse;
use actix_web::http::header;
use maud::{DOCTYPE, Markup, html};

use super::session::Viewer;
use super::{PREFIX, assets, i18n::Lang};
use nosebook_events::wire::User;

/// htmx settings that keep it within the Content-Security-Policy: no `eval`, no inline styles,
/// no scripts from swapped-in HTML.
const HTMX_CONFIG: &str =
    r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true}"#;

pub fn html_response(status: actix_web::http::StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(markup.into_string())
}

/// A whole page.
pub fn page(viewer: &Viewer, title: &str, main: Markup) -> Markup {
    let t = viewer.t();
    let me = viewer.caller.as_ref().map(|c| c.user.id);
    html! {
        (DOCTYPE)
        html lang=(viewer.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Nosebook" }
                link rel="stylesheet" href=(assets::url("app.css"));
                link rel="icon" type="image/svg+xml" href=(assets::url("favicon.svg"));
                meta name="htmx-config" content=(HTMX_CONFIG);
                script src=(assets::url("htmx.js")) defer {}
                script src=(assets::url("app.js")) defer {}
            }
            body hx-headers=(format!(r#"{{"{}":"{}"}}"#, super::csrf::HEADER, viewer.csrf()))
                data-me=[me.map(|id| id.to_string())]
                data-reconnecting=(t.reconnecting)
                data-slow-down=(t.too_many_requests) data-edited=(t.edited) data-typing=(t.is_typing)
                data-say=(toast_texts(viewer)) data-when=(time_words(viewer)) {
                header.top {
                    div.wrap {
                        a.logo href=(PREFIX) { "nosebook" }
                        @if me.is_some() {
                            form.search role="search" action={(PREFIX) "/search"} method="get" {
                                input type="search" name="text" placeholder=(t.search_placeholder) autocomplete="off"
                                    aria-label=(t.search_placeholder)
                                    hx-get={(PREFIX) "/search"} hx-trigger="input changed delay:250ms, search"
                                    hx-target="#search-results";
                                div #search-results {}
                            }
                            form.logout method="post" action={(PREFIX) "/logout"} {
                                input type="hidden" name=(super::csrf::FIELD) value=(viewer.csrf());
                                button.link type="submit" { (t.log_out) }
                            }
                        }
                    }
                }
                div.wrap.layout {
                    @if let Some(me) = me {
                        nav.menu {
                            a href={(PREFIX) "/news"} { (t.news) }
                            a.my-page href={(PREFIX) "/users/" (me)} { (t.my_page) }
                            a href={(PREFIX) "/messenger"} {
                                (t.messenger)
                                span #messenger-badge hx-get={(PREFIX) "/messenger/badge"}
                                    hx-trigger="load, chats-changed from:body" {}
                            }
                            a href={(PREFIX) "/friends"} {
                                (t.friends)
                                span #friends-badge hx-get={(PREFIX) "/friends/badge"}
                                    hx-trigger="load, friends-changed from:body" {}
                            }
                            a href={(PREFIX) "/settings"} { (t.settings) }
                            // In the menu, which stays put, rather than below a wall that keeps
                            // loading more posts as it comes into view and so pushes a footer away.
                            div.languages { (languages(viewer)) }
                        }
                    }
                    main #main { (main) }
                }
                @if me.is_none() {
                    footer.wrap { (languages(viewer)) }
                }
                div #toasts aria-live="polite" {}
            }
        }
    }
}

/// The language switch: the page's language, and a link to each other one.
fn languages(viewer: &Viewer) -> Markup {
    html! {
        @for lang in Lang::ALL {
            @if lang == viewer.lang {
                span.current { (lang.t().language_name) }
            } @else {
                a href={(PREFIX) "/lang/" (lang.code())} hreflang=(lang.code()) { (lang.t().language_name) }
            }
        }
    }
}

/// What the live script's toasts say, in the page's language: `{name}` and `{text}` are filled in.
fn toast_texts(viewer: &Viewer) -> String {
    let t = viewer.t();
    serde_json::json!({
        "request": t.toast_request,
        "accepted": t.toast_accepted,
        "postLiked": t.toast_post_liked,
        "commentLiked": t.toast_comment_liked,
        "posted": t.toast_posted,
        "commented": t.toast_commented,
    })
    .to_string()
}

/// The words the live script writes times with (`web/assets/app.js`, `formatTime`), in the
/// page's language; clock times and dates come from the browser's `Intl`, in its zone.
fn time_words(viewer: &Viewer) -> String {
    let t = viewer.t();
    serde_json::json!({
        "justNow": t.just_now,
        "minAgo": t.min_ago,
        "todayAt": t.today_at,
        "yesterdayAt": t.yesterday_at,
        "dateAt": t.date_at,
        "today": t.today,
        "yesterday": t.yesterday,
    })
    .to_string()
}

/// A round avatar: the user's picture, or their initials on a colour of their own.
pub fn avatar(user: &User, size: &str) -> Markup {
    html! {
        @if let Some(avatar) = &user.avatar {
            img class={"avatar " (size)} src=(avatar.url) alt="" loading="lazy";
        } @else {
            span class={"avatar initials " (size) " hue" (user.id.as_bytes()[0] % 8)} aria-hidden="true" {
                (initial(&user.first_name)) (initial(&user.last_name))
            }
        }
    }
}

fn initial(name: &str) -> String {
    name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default()
}

/// The online dot, kept live by the script through `presence` events (`data-presence`).
pub fn online_dot(user: &User) -> Markup {
    html! {
        span.dot.on[user.online] data-presence=(user.id) aria-hidden="true" {}
    }
}

/// A full name linked to its profile.
pub fn name_link(user: &User) -> Markup {
    html! {
        a.name href={(PREFIX) "/users/" (user.id)} { (user.first_name) " " (user.last_name) }
    }
}
