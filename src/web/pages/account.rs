//! Sign up, log in, log out. The forms post without script; errors are shown next to their field.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::{CsrfForm, PageError, check_csrf, redirect, respond};
use crate::core::accounts::{self, Registration};
use crate::core::{CoreError, Kind, Refusal, retry_after_secs};
use crate::state::AppState;
use crate::web::PREFIX;
use crate::web::form::Form;
use crate::web::i18n::Texts;
use crate::web::layout::{html_response, page};
use crate::web::session::{Viewer, expired_session_cookie, session_cookie};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    first_name: String,
    last_name: String,
    nick: String,
    password: String,
}

/// Which field each problem belongs to, in the user's language.
type FieldErrors = HashMap<&'static str, &'static str>;

const FIELDS: [&str; 4] = ["first_name", "last_name", "nick", "password"];

/// The refusal, spread over the form's fields.
fn field_errors(t: &'static Texts, error: &CoreError, signup: bool) -> Option<FieldErrors> {
    if let CoreError::Throttled { .. } = error {
        let text = if signup { t.too_many_signups } else { t.too_many_logins };
        return Some(FieldErrors::from([("password", text)]));
    }
    let mut errors = FieldErrors::new();
    match error {
        CoreError::Refused { why: Refusal::Conflict, kind: Kind::Nick, .. } => {
            errors.insert("nick", t.nick_taken);
        }
        CoreError::Refused { kind: Kind::Nick, .. } => {
            errors.insert("nick", t.unknown_nick);
        }
        CoreError::Refused { kind: Kind::Password, .. } => {
            errors.insert("password", t.wrong_password);
        }
        CoreError::InvalidForm(problems) => {
            for problem in problems.iter() {
                let (name, invalid) = match problem.field {
                    "FirstName" => ("first_name", t.bad_name),
                    "LastName" => ("last_name", t.bad_name),
                    "Nick" => ("nick", t.bad_nick),
                    "Password" => ("password", t.bad_password),
                    _ => continue,
                };
                errors.entry(name).or_insert(if problem.required { t.required } else { invalid });
            }
        }
        _ => return None,
    }
    (!errors.is_empty()).then_some(errors)
}

fn field(t: &'static Texts, name: &'static str, value: &str, errors: &FieldErrors) -> Markup {
    let (label, kind, autocomplete) = match name {
        "first_name" => (t.first_name, "text", "given-name"),
        "last_name" => (t.last_name, "text", "family-name"),
        "nick" => (t.nick, "text", "username"),
        _ => (t.password, "password", "current-password"),
    };
    let error = errors.get(name);
    let id = format!("field-{name}");
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            input #(id) type=(kind) name=(name) value=(value) autocomplete=(autocomplete)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| format!("{id}-error"))];
            @if let Some(error) = error {
                p.error id={(id) "-error"} { (error) }
            }
        }
    }
}

fn account_page(viewer: &Viewer, signup: bool, form: &AccountForm, errors: &FieldErrors) -> Markup {
    let t = viewer.t();
    let (title, action) = if signup { (t.sign_up, "/signup") } else { (t.log_in, "/login") };
    let fields: &[&'static str] = if signup { &FIELDS } else { &FIELDS[2..] };
    page(
        viewer,
        title,
        html! {
            section.card.account {
                h1 { (title) }
                p.tagline { (t.tagline) }
                form method="post" action={(PREFIX) (action)} novalidate {
                    @for name in fields {
                        @let value = match *name {
                            "first_name" => &form.first_name,
                            "last_name" => &form.last_name,
                            "nick" => &form.nick,
                            // A password is never sent back.
                            _ => "",
                        };
                        (field(t, name, value, errors))
                    }
                    button.primary type="submit" { (title) }
                }
                p.switch {
                    @if signup {
                        (t.have_account) " " a href={(PREFIX) "/login"} { (t.log_in) }
                    } @else {
                        (t.no_account) " " a href={(PREFIX) "/signup"} { (t.sign_up) }
                    }
                }
            }
        },
    )
}

fn show(req: &HttpRequest, viewer: &Viewer, signup: bool) -> HttpResponse {
    match &viewer.caller {
        Some(caller) => redirect(req, &format!("{PREFIX}/users/{}", caller.user.id)),
        None => {
            html_response(StatusCode::OK, account_page(viewer, signup, &AccountForm::default(), &FieldErrors::new()))
        }
    }
}

pub async fn login_page(req: HttpRequest, viewer: Viewer) -> HttpResponse {
    show(&req, &viewer, false)
}

pub async fn signup_page(req: HttpRequest, viewer: Viewer) -> HttpResponse {
    show(&req, &viewer, true)
}

pub async fn login(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    form: Form<AccountForm>,
) -> HttpResponse {
    submit(req, viewer, state, form.into_inner(), false).await
}

pub async fn signup(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    form: Form<AccountForm>,
) -> HttpResponse {
    submit(req, viewer, state, form.into_inner(), true).await
}

async fn submit(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    form: AccountForm,
    signup: bool,
) -> HttpResponse {
    respond(&req, &viewer, sign_in(&req, &viewer, state, form, signup)).await
}

async fn sign_in(
    req: &HttpRequest,
    viewer: &Viewer,
    state: web::Data<AppState>,
    form: AccountForm,
    signup: bool,
) -> Result<HttpResponse, PageError> {
    if let Some(caller) = &viewer.caller {
        return Ok(redirect(req, &format!("{PREFIX}/users/{}", caller.user.id)));
    }
    if !crate::http::same_origin(req) {
        return Err(PageError::Forged);
    }
    let client = crate::http::client(&state.limits, req);
    let result = if signup {
        let registration = Registration {
            first_name: form.first_name.clone(),
            last_name: form.last_name.clone(),
            nick: form.nick.clone(),
            password: form.password.clone(),
        };
        accounts::register(&state, &registration, &client).await
    } else {
        accounts::login(&state, &form.nick, &form.password, &client).await
    };
    match result {
        Ok(signed_in) => {
            let mut res = redirect(req, &format!("{PREFIX}/users/{}", signed_in.user.id));
            let _ = res.add_cookie(&session_cookie(req, &signed_in.session));
            Ok(res)
        }
        Err(error) => match (field_errors(viewer.t(), &error, signup), &error) {
            (Some(errors), CoreError::Refused { why, .. }) => {
                Ok(html_response(why.status(), account_page(viewer, signup, &form, &errors)))
            }
            (Some(errors), CoreError::InvalidForm(_)) => {
                Ok(html_response(StatusCode::BAD_REQUEST, account_page(viewer, signup, &form, &errors)))
            }
            (Some(errors), CoreError::Throttled { retry_after, .. }) => {
                let mut res =
                    html_response(StatusCode::TOO_MANY_REQUESTS, account_page(viewer, signup, &form, &errors));
                res.headers_mut().insert(RETRY_AFTER, retry_after_secs(*retry_after).into());
                Ok(res)
            }
            _ => Err(error.into()),
        },
    }
}

pub async fn logout(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    form: Form<CsrfForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let to_login = format!("{PREFIX}/login");
        let Some(caller) = viewer.caller.clone() else {
            return Ok(redirect(&req, &to_login));
        };
        check_csrf(&req, &caller, Some(&form.csrf))?;
        match accounts::logout(&state, &caller).await {
            // Logged out, or the session was already gone: either way the cookie goes.
            Ok(_) | Err(CoreError::Refused { .. }) => {
                let mut res = redirect(&req, &to_login);
                let _ = res.add_cookie(&expired_session_cookie(&req));
                Ok(res)
            }
            Err(error) => Err(error.into()),
        }
    })
    .await
}
