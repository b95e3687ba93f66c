//! People search: the header box asks as you type (htmx, results under the box); without script
//! it is a page of results.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::{is_htmx, respond, signed_in};
use crate::core::users;
use crate::state::AppState;
use crate::web::i18n::Texts;
use crate::web::layout::{avatar, html_response, name_link, online_dot, page};
use crate::web::session::Viewer;
use nosebook_events::wire::User;

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
        signed_in(&viewer)?;
        let t = viewer.t();
        let users = users::search(&state, &query.text, None).await?.data;
        let list = results(t, &query.text, &users);
        Ok(if is_htmx(&req) {
            html_response(StatusCode::OK, html! { div.dropdown { (list) } })
        } else {
            let body = html! { section.card { h1 { (t.search_placeholder) } (list) } };
            html_response(StatusCode::OK, page(&viewer, t.search_placeholder, body))
        })
    })
    .await
}
