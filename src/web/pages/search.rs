//! People search: the header box asks as you type (htmx, results under the box); without script
//! it is a page of results.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_core::state::AppState;
use nosebook_core::users;
use serde::Deserialize;

use super::{friends, is_htmx, respond, signed_in};
use crate::web::PREFIX;
use crate::web::i18n::Texts;
use crate::web::layout::{avatar, html_response, name_link, online_dot, page};
use crate::web::session::Viewer;
use nosebook_events::wire::User;
use nosebook_schema::ids::UserId;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    text: String,
}

fn results(t: &Texts, text: &str, users: &[User]) -> Markup {
    html! {
        @if users.is_empty() {
            @if !text.trim().is_empty() { p.empty { (t.search_nobody) } }
        } @else {
            ul.people {
                @for user in users {
                    li { (avatar(user, "small")) (name_link(user)) " " (online_dot(user)) span.nick { "@" (user.nick) } }
                }
            }
        }
    }
}

pub async fn search(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let t = viewer.t();
        let users = users::search(&state, caller.user.id, &query.text, None).await?.data;
        if is_htmx(&req) {
            return Ok(html_response(StatusCode::OK, html! { div.dropdown { (results(t, &query.text, &users)) } }));
        }
        // The page of results: what was searched for, and for each person what one can do.
        let me = caller.user.id;
        let mut relations = Vec::with_capacity(users.len());
        for user in &users {
            let other = UserId(user.id);
            relations.push(if other == me { None } else { Some(friends::relation(&state, me, other).await?) });
        }
        let words = query.text.trim();
        let title = if words.is_empty() { t.search_placeholder.to_owned() } else { t.results_for.replace("{text}", words) };
        let body = html! {
            section.card.search-results {
                h1 { (title) }
                @if users.is_empty() {
                    @if !words.is_empty() { p.empty { (t.search_nobody) } }
                } @else {
                    ul.people {
                        @for (user, relation) in users.iter().zip(&relations) {
                            li data-user=(user.id) {
                                (avatar(user, "small"))
                                div.grow { (name_link(user)) " " (online_dot(user)) " " span.nick { "@" (user.nick) } }
                                @if let Some(relation) = relation {
                                    (friends::button(&viewer, user.id, *relation))
                                    a.button.secondary.message-link href={(PREFIX) "/messenger/with/" (user.id)} { (t.message_button) }
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok(html_response(StatusCode::OK, page(&viewer, &title, body)))
    })
    .await
}
