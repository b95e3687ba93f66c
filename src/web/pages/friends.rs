//! Friendship from a page: the button on a profile (every state), the friends page (friends,
//! online friends, incoming and outgoing requests) and the menu's badge of incoming requests.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_core::state::AppState;
use nosebook_core::{CoreResult, friendship, users};
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::friendship::{Direction, FriendshipFilter};
use nosebook_schema::time::ONLINE_WINDOW;
use serde::Deserialize;

use super::checked::CheckedForm;
use super::{PageError, back, is_htmx, parse_id, redirect, respond, signed_in, with_trigger};
use crate::web::PREFIX;
use crate::web::csrf::FIELD as CSRF;
use crate::web::layout::{avatar, html_response, name_link, online_dot, page};
use crate::web::session::Viewer;
use nosebook_events::wire::{FriendshipItem, User};

/// How the viewer stands with someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Strangers,
    Friends,
    /// The viewer asked them.
    Asked,
    /// They asked the viewer, who has not answered yet.
    AskedBy,
    /// Their request was answered already: denied, or they are an ex-friend (ending a
    /// friendship leaves the ex-friend's request to the one who ended it). A follower, as the
    /// Requests tab counts them, not a request waiting for an answer.
    Follows,
}

pub async fn relation(state: &AppState, me: UserId, other: UserId) -> CoreResult<Relation> {
    Ok(match friendship::between(state, me, other).await? {
        None => Relation::Strangers,
        Some(row) if row.accepted => Relation::Friends,
        Some(row) if row.requester_id == me.0 => Relation::Asked,
        Some(row) if row.viewed => Relation::Follows,
        Some(_) => Relation::AskedBy,
    })
}

fn action_form(viewer: &Viewer, other: uuid::Uuid, action: &str, label: &str, class: &str) -> Markup {
    let url = format!("{PREFIX}/friends/{other}/{action}");
    html! {
        form.inline method="post" action=(url) hx-post=(url) hx-target={"#friendship-" (other)} hx-swap="outerHTML" {
            input type="hidden" name=(CSRF) value=(viewer.csrf());
            button class=(class) type="submit" { (label) }
        }
    }
}

/// The friendship controls for `other`, replaced as a whole after each action.
pub fn button(viewer: &Viewer, other: uuid::Uuid, relation: Relation) -> Markup {
    let t = viewer.t();
    html! {
        div.friendship #{"friendship-" (other)} data-relation=(format!("{relation:?}")) {
            @match relation {
                Relation::Strangers => (action_form(viewer, other, "add", t.add_friend, "primary")),
                Relation::Asked => {
                    span.state { (t.request_sent) }
                    (action_form(viewer, other, "cancel", t.cancel_request, "secondary"))
                }
                Relation::AskedBy => {
                    span.state { (t.wants_to_be_friends) }
                    (action_form(viewer, other, "accept", t.accept, "primary"))
                    (action_form(viewer, other, "deny", t.deny, "secondary"))
                }
                Relation::Follows => {
                    span.state { (t.follows_you) }
                    (action_form(viewer, other, "accept", t.add_friend, "primary"))
                }
                Relation::Friends => {
                    span.state { (t.your_friend) }
                    (action_form(viewer, other, "remove", t.remove_friend, "secondary"))
                }
            }
        }
    }
}

/// The question before a friend is removed, in place of the controls: removing is confirmed by
/// a second form (so it works without script too), cancelling brings the controls back.
fn confirm_removal(viewer: &Viewer, other: &User) -> Markup {
    let t = viewer.t();
    let name = format!("{} {}", other.first_name, other.last_name);
    let url = format!("{PREFIX}/friends/{}/remove", other.id);
    let profile = format!("{PREFIX}/users/{}", other.id);
    html! {
        div.friendship.confirm #{"friendship-" (other.id)} data-relation="Friends" {
            span.state { (t.remove_friend_question.replace("{name}", &name)) }
            form.inline method="post" action=(url) hx-post=(url) hx-target={"#friendship-" (other.id)} hx-swap="outerHTML" {
                input type="hidden" name=(CSRF) value=(viewer.csrf());
                input type="hidden" name="confirmed" value="yes";
                button.danger type="submit" { (t.remove_friend) }
            }
            form.inline method="get" action=(profile) hx-get={(PREFIX) "/friends/" (other.id) "/controls"}
                hx-target={"#friendship-" (other.id)} hx-swap="outerHTML" {
                button.secondary type="submit" { (t.cancel) }
            }
        }
    }
}

/// The controls for `other` as they now are, and the post form of their wall (only friends
/// write there), which replaces the one on their page if it is open: the live script asks for
/// them when a friendship changes elsewhere.
fn controls(viewer: &Viewer, other: uuid::Uuid, relation: Relation) -> Markup {
    html! {
        (button(viewer, other, relation))
        (super::posts::compose(viewer, UserId(other), relation == Relation::Friends, true))
    }
}

/// The friendship controls for someone, with their wall's post form (see [`controls`]).
pub async fn standing(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let other = parse_id(&id, UserId)?;
        if other == caller.user.id {
            return Err(PageError::NotFound);
        }
        let now = relation(&state, caller.user.id, other).await?;
        Ok(html_response(StatusCode::OK, controls(&viewer, other.0, now)))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActForm {
    /// `yes` once removing a friend was confirmed.
    confirmed: String,
}

/// add / cancel / accept / deny / remove.
pub async fn act(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    CheckedForm { caller, form }: CheckedForm<ActForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let (other, action) = path.into_inner();
        let other = parse_id(&other, UserId)?;
        if action == "remove" && form.confirmed != "yes" {
            let user = users::get(&state, &caller, other).await?.ok_or(PageError::NotFound)?;
            let question = confirm_removal(&viewer, &user);
            if is_htmx(&req) {
                return Ok(html_response(StatusCode::OK, question));
            }
            let title = viewer.t().remove_friend;
            return Ok(html_response(
                StatusCode::OK,
                page(&viewer, title, html! { section.card.message { (question) } }),
            ));
        }
        match action.as_str() {
            "add" => friendship::send_request(&state, &caller, other, "").await?,
            "cancel" => friendship::cancel(&state, &caller, other).await?,
            "accept" => friendship::answer(&state, &caller, other, true).await?,
            "deny" => friendship::answer(&state, &caller, other, false).await?,
            "remove" => friendship::unfriend(&state, &caller, other).await?,
            _ => return Err(PageError::NotFound),
        };
        if !is_htmx(&req) {
            return Ok(redirect(&req, &back(&req)));
        }
        let now = relation(&state, caller.user.id, other).await?;
        // The menu badge counts incoming requests: tell it to look again.
        Ok(with_trigger(html_response(StatusCode::OK, controls(&viewer, other.0, now)), "friends-changed"))
    })
    .await
}

/// People per tab of the friends page.
const PEOPLE: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    All,
    Online,
    Incoming,
    Outgoing,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::All, Tab::Online, Tab::Incoming, Tab::Outgoing];

    fn code(self) -> &'static str {
        match self {
            Tab::All => "all",
            Tab::Online => "online",
            Tab::Incoming => "incoming",
            Tab::Outgoing => "outgoing",
        }
    }

    /// The list filter for this tab. Incoming: requests not yet answered (a denied one stays
    /// pending but viewed — a follower, not a request waiting for you).
    fn filter(self, state: &AppState, me: UserId) -> FriendshipFilter {
        let (direction, accepted, viewed) = match self {
            Tab::All | Tab::Online => (Direction::Both, true, None),
            Tab::Incoming => (Direction::Incoming, false, Some(false)),
            Tab::Outgoing => (Direction::Outgoing, false, None),
        };
        let active_since = (self == Tab::Online).then(|| state.clock.now() - ONLINE_WINDOW);
        FriendshipFilter { user: me, direction, accepted: Some(accepted), viewed, active_since }
    }

    fn relation(self) -> Relation {
        match self {
            Tab::All | Tab::Online => Relation::Friends,
            Tab::Incoming => Relation::AskedBy,
            Tab::Outgoing => Relation::Asked,
        }
    }
}

async fn list(state: &web::Data<AppState>, viewer: &Viewer, tab: Tab) -> Result<Vec<FriendshipItem>, PageError> {
    let caller = signed_in(viewer)?;
    Ok(friendship::list(state, tab.filter(state, caller.user.id), None, PEOPLE).await?.data)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TabQuery {
    tab: String,
}

pub async fn friends(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<TabQuery>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let tab = Tab::ALL.into_iter().find(|t| t.code() == query.tab).unwrap_or(Tab::All);
        let people = list(&state, &viewer, tab).await?;
        let t = viewer.t();
        let label = |tab: Tab| match tab {
            Tab::All => t.friends,
            Tab::Online => t.online_friends,
            Tab::Incoming => t.incoming_requests,
            Tab::Outgoing => t.outgoing_requests,
        };
        let body = html! {
            section.card.friends {
                nav.tabs {
                    @for each in Tab::ALL {
                        a.current[each == tab] href={(PREFIX) "/friends?tab=" (each.code())} { (label(each)) }
                    }
                }
                @if people.is_empty() {
                    p.empty { (t.nobody_here) ". " a href={(PREFIX) "/search"} { (t.find_people) } }
                } @else {
                    ul.people {
                        @for item in &people {
                            li {
                                (avatar(&item.user, "small"))
                                div.grow { (name_link(&item.user)) " " (online_dot(&item.user)) }
                                (button(&viewer, item.user.id, tab.relation()))
                            }
                        }
                    }
                }
            }
        };
        Ok(html_response(StatusCode::OK, page(&viewer, label(tab), body)))
    })
    .await
}

/// The menu's count of requests waiting for an answer; reloaded by htmx on `friends-changed`
/// (an action here, or a `friend_request` event through the live script).
pub async fn badge(req: HttpRequest, viewer: Viewer, state: web::Data<AppState>) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let waiting =
            friendship::list(&state, Tab::Incoming.filter(&state, caller.user.id), None, 1).await?.total_count;
        Ok(html_response(StatusCode::OK, html! { @if waiting > 0 { span.badge data-badge="friends" { (waiting) } } }))
    })
    .await
}
