//! Sign up, log in, log out. The forms post without script; errors are shown next to their field.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_core::accounts::{self, Registration};
use nosebook_core::state::AppState;
use nosebook_core::{CoreError, Kind, Refusal, retry_after_secs};
use serde::Deserialize;

use super::checked::{Button, CheckedForm, CheckedIfSignedIn};
use super::{PageError, redirect, respond, safe_next};
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
    /// The page to go to once signed in (checked by [`safe_next`]).
    next: String,
    /// The browser's session ended elsewhere (signed out from another device, or expired): the
    /// page says so.
    #[serde(skip)]
    signed_out: bool,
}

/// `?next=` of the login and sign-up pages.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// Where a person goes once signed in: the page they asked for, if it is one of ours, else the
/// news — or, just signed up (no friends, nothing to read yet), their own page, where they set
/// their photo and write a first post.
fn destination(next: &str, me: uuid::Uuid, signup: bool) -> String {
    safe_next(next)
        .map_or_else(|| if signup { format!("{PREFIX}/users/{me}") } else { format!("{PREFIX}/news") }, str::to_owned)
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
        // One answer for both at login: the form must not tell which nicks exist (the JSON API
        // keeps the original's two texts, docs/API.md §5.1).
        CoreError::Refused { kind: Kind::Nick | Kind::Password, .. } if !signup => {
            errors.insert("password", t.wrong_credentials);
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

/// One field of the form; `focus` puts the cursor there (the first field, or the first in error).
fn field(
    t: &'static Texts,
    name: &'static str,
    value: &str,
    errors: &FieldErrors,
    signup: bool,
    focus: bool,
) -> Markup {
    let (label, kind, autocomplete) = match name {
        "first_name" => (t.first_name, "text", "given-name"),
        "last_name" => (t.last_name, "text", "family-name"),
        "nick" => (t.nick, "text", "username"),
        // Password managers offer to make up a new password only for `new-password`.
        _ if signup => (t.password, "password", "new-password"),
        _ => (t.password, "password", "current-password"),
    };
    let error = errors.get(name);
    let id = format!("field-{name}");
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            input #(id) type=(kind) name=(name) value=(value) autocomplete=(autocomplete) autofocus[focus]
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
    // The other form leads to the same page.
    let carry = safe_next(&form.next)
        .map(|next| format!("?next={}", form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()))
        .unwrap_or_default();
    let focus = fields.iter().find(|name| errors.contains_key(*name)).or(fields.first()).copied().unwrap_or_default();
    page(
        viewer,
        title,
        html! {
            section.card.account {
                h1 { (title) }
                @if form.signed_out {
                    p.notice #signed-out role="status" { (t.signed_out) }
                }
                p.tagline { (t.tagline) }
                form method="post" action={(PREFIX) (action)} novalidate {
                    @if let Some(next) = safe_next(&form.next) {
                        input type="hidden" name="next" value=(next);
                    }
                    @for name in fields {
                        @let value = match *name {
                            "first_name" => &form.first_name,
                            "last_name" => &form.last_name,
                            "nick" => &form.nick,
                            // A password is never sent back.
                            _ => "",
                        };
                        (field(t, name, value, errors, signup, *name == focus))
                    }
                    button.primary type="submit" { (title) }
                }
                p.switch {
                    @if signup {
                        (t.have_account) " " a href={(PREFIX) "/login" (carry)} { (t.log_in) }
                    } @else {
                        (t.no_account) " " a href={(PREFIX) "/signup" (carry)} { (t.sign_up) }
                    }
                }
            }
        },
    )
}

fn show(req: &HttpRequest, viewer: &Viewer, signup: bool, next: String) -> HttpResponse {
    match &viewer.caller {
        Some(caller) => redirect(req, &destination(&next, caller.user.id.0, signup)),
        None => {
            // A session cookie that no longer signs in: its session was ended elsewhere. Said
            // once; the cookie goes.
            let signed_out = req.cookie(crate::http::SESSION_COOKIE).is_some();
            let form = AccountForm { next, signed_out, ..AccountForm::default() };
            let mut res = html_response(StatusCode::OK, account_page(viewer, signup, &form, &FieldErrors::new()));
            if signed_out {
                let _ = res.add_cookie(&expired_session_cookie(req));
            }
            res
        }
    }
}

/// The query of a page that only reads `next`: anything unreadable is no destination.
fn next_of(query: Result<web::Query<NextQuery>, actix_web::Error>) -> String {
    query.map(|q| q.into_inner().next).unwrap_or_default()
}

pub async fn login_page(
    req: HttpRequest,
    viewer: Viewer,
    query: Result<web::Query<NextQuery>, actix_web::Error>,
) -> HttpResponse {
    show(&req, &viewer, false, next_of(query))
}

pub async fn signup_page(
    req: HttpRequest,
    viewer: Viewer,
    query: Result<web::Query<NextQuery>, actix_web::Error>,
) -> HttpResponse {
    show(&req, &viewer, true, next_of(query))
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
        return Ok(redirect(req, &destination(&form.next, caller.user.id.0, signup)));
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
            let mut res = redirect(req, &destination(&form.next, signed_in.user.id, signup));
            let _ = res.add_cookie(&session_cookie(req, &signed_in.session));
            Ok(res)
        }
        Err(error) => match (field_errors(viewer.t(), &error, signup), &error) {
            (Some(errors), CoreError::Refused { why, .. }) => {
                Ok(html_response(crate::http::status(*why), account_page(viewer, signup, &form, &errors)))
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
    CheckedIfSignedIn(checked): CheckedIfSignedIn<Button>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let to_login = format!("{PREFIX}/login");
        let Some(CheckedForm { caller, .. }) = checked else {
            return Ok(redirect(&req, &to_login));
        };
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
