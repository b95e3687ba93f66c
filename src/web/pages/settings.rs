//! Settings: change the password (every other session ends), and see where one is signed in,
//! ending any of those sessions. The same operations as `POST /users/change-password`,
//! `GET /sessions` and `POST /sessions/end`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::posts::when;
use super::{CsrfForm, PageError, check_csrf, redirect, respond, signed_in};
use crate::core::accounts::{self, OwnSession};
use crate::core::{CoreError, Kind};
use crate::state::AppState;
use crate::web::PREFIX;
use crate::web::csrf::FIELD as CSRF;
use crate::web::form::Form;
use crate::web::layout::{html_response, page};
use crate::web::session::{Viewer, expired_session_cookie};

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password: String,
}

/// What the password form says after a submission.
enum Outcome {
    Nothing,
    Changed(usize),
    Refused(String),
}

fn settings_page(viewer: &Viewer, own: &[OwnSession], outcome: &Outcome) -> Markup {
    let t = viewer.t();
    page(
        viewer,
        t.settings,
        html! {
            section.card.settings {
                h1 { (t.settings) }
                h2 { (t.change_password) }
                form #password-form method="post" action={(PREFIX) "/settings/password"} novalidate {
                    input type="hidden" name=(CSRF) value=(viewer.csrf());
                    label { (t.old_password) input type="password" name="old_password" autocomplete="current-password"; }
                    label { (t.new_password) input type="password" name="new_password" autocomplete="new-password"; }
                    @match outcome {
                        Outcome::Changed(n) => p.notice #password-result { (t.password_changed) " " (t.sessions_ended) ": " (n) },
                        Outcome::Refused(why) => p.error #password-result role="alert" { (why) },
                        Outcome::Nothing => {},
                    }
                    button.primary type="submit" { (t.save_password) }
                }
            }
            section.card.settings #sessions {
                h2 { (t.your_sessions) }
                ul.sessions {
                    @for session in own {
                        li.session {
                            div {
                                strong { (session.user_agent.as_deref().unwrap_or(t.unknown_device)) }
                                @if session.current { " " span.badge { (t.this_device) } }
                                br;
                                small { (t.signed_in_at) " " (when(&session.created_at)) " · " (t.last_used) " " (when(&session.last_used_at)) }
                            }
                            form method="post" action={(PREFIX) "/settings/sessions/" (session.handle) "/end"} {
                                input type="hidden" name=(CSRF) value=(viewer.csrf());
                                button.secondary type="submit" { (t.end_session) }
                            }
                        }
                    }
                }
            }
        },
    )
}

pub async fn settings(req: HttpRequest, viewer: Viewer, state: web::Data<AppState>) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        let own = accounts::own_sessions(&state, &caller).await?;
        Ok(html_response(StatusCode::OK, settings_page(&viewer, &own, &Outcome::Nothing)))
    })
    .await
}

pub async fn change_password(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    form: Form<PasswordForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&form.csrf))?;
        let changed = accounts::change_password(&state, &caller, &form.old_password, &form.new_password).await;
        let (status, outcome) = match changed {
            Ok(changed) => (StatusCode::OK, Outcome::Changed(changed.ended_sessions)),
            Err(CoreError::Refused { why, kind: Kind::Password, .. }) => {
                (why.status(), Outcome::Refused(viewer.t().wrong_old_password.to_owned()))
            }
            Err(CoreError::Refused { why, .. }) => {
                (why.status(), Outcome::Refused(viewer.t().password_rules.to_owned()))
            }
            Err(CoreError::InvalidForm(_)) => {
                (StatusCode::BAD_REQUEST, Outcome::Refused(viewer.t().password_rules.to_owned()))
            }
            Err(e) => return Err(PageError::from(e)),
        };
        let own = accounts::own_sessions(&state, &caller).await?;
        Ok(html_response(status, settings_page(&viewer, &own, &outcome)))
    })
    .await
}

pub async fn end_session(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    handle: web::Path<String>,
    form: Form<CsrfForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let caller = signed_in(&viewer)?;
        check_csrf(&req, &caller, Some(&form.csrf))?;
        let current = accounts::handle(caller.session.session_id) == *handle;
        accounts::end_session(&state, &caller, &handle).await?;
        if current {
            let mut res = redirect(&req, &format!("{PREFIX}/login"));
            let _ = res.add_cookie(&expired_session_cookie(&req));
            return Ok(res);
        }
        Ok(redirect(&req, &format!("{PREFIX}/settings")))
    })
    .await
}
