//! Settings: change the password (every other session ends), and see where one is signed in,
//! ending any of those sessions. The same operations as `POST /users/change-password`,
//! `GET /sessions` and `POST /sessions/end`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use nosebook_core::accounts::{self, OwnSession};
use nosebook_core::state::AppState;
use nosebook_core::{CoreError, Kind};
use serde::Deserialize;

use super::checked::{Button, CheckedForm};
use super::posts::when;
use super::{PageError, redirect, respond, signed_in};
use crate::web::PREFIX;
use crate::web::csrf::FIELD as CSRF;
use crate::web::i18n::Texts;
use crate::web::layout::{html_response, page};
use crate::web::session::{Viewer, expired_session_cookie};

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
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
                        li.session.current[session.current] {
                            div {
                                strong { (device_name(t, session.user_agent.as_deref())) }
                                " · " (t.active) " " (when(&session.last_used_at))
                                @if session.current { " " span.badge.this-device { (t.this_device) } }
                                br;
                                small { (t.signed_in_at) " " (when(&session.created_at)) }
                            }
                            // This device signs out with "Log out", which says what it does.
                            @if !session.current {
                                form method="post" action={(PREFIX) "/settings/sessions/" (session.handle) "/end"} {
                                    input type="hidden" name=(CSRF) value=(viewer.csrf());
                                    button.secondary type="submit" { (t.end_session) }
                                }
                            }
                        }
                    }
                }
                @if own.iter().any(|s| !s.current) {
                    form #sign-out-others method="post" action={(PREFIX) "/settings/sessions/others/end"} {
                        input type="hidden" name=(CSRF) value=(viewer.csrf());
                        button.danger type="submit" { (t.sign_out_others) }
                    }
                }
            }
        },
    )
}

/// A session's device as people name it — "Chrome on Linux" — from its `User-Agent`; one that
/// names no browser we know is shown as it came (an app's own name says more than a guess).
fn device_name(t: &Texts, user_agent: Option<&str>) -> String {
    let Some(user_agent) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return t.unknown_device.to_owned();
    };
    match device(user_agent) {
        (Some(browser), Some(system)) => t.browser_on_system.replace("{browser}", browser).replace("{system}", system),
        (Some(browser), None) => browser.to_owned(),
        (None, _) => user_agent.chars().take(80).collect(),
    }
}

/// The browser and the system a `User-Agent` names. Order matters: Edge and Opera say "Chrome"
/// too, Chrome says "Safari", Android says "Linux" and iOS "like Mac OS X".
fn device(user_agent: &str) -> (Option<&'static str>, Option<&'static str>) {
    const BROWSERS: [(&str, &str); 10] = [
        ("Edg", "Edge"),
        ("OPR/", "Opera"),
        ("YaBrowser/", "Yandex Browser"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Version/", "Safari"),
    ];
    const SYSTEMS: [(&str, &str); 8] = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("CrOS", "ChromeOS"),
        ("Macintosh", "macOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let browser = BROWSERS.iter().find(|(token, _)| user_agent.contains(token)).map(|(_, name)| *name);
    // "Version/" alone is no browser: Safari says "Safari/" with it.
    let browser = browser.filter(|name| *name != "Safari" || user_agent.contains("Safari/"));
    let system = SYSTEMS.iter().find(|(token, _)| user_agent.contains(token)).map(|(_, name)| *name);
    (browser, system)
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
    CheckedForm { caller, form }: CheckedForm<PasswordForm>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        let changed = accounts::change_password(&state, &caller, &form.old_password, &form.new_password).await;
        let (status, outcome) = match changed {
            Ok(changed) => (StatusCode::OK, Outcome::Changed(changed.ended_sessions)),
            Err(CoreError::Refused { why, kind: Kind::Password, .. }) => {
                (crate::http::status(why), Outcome::Refused(viewer.t().wrong_old_password.to_owned()))
            }
            Err(CoreError::Refused { why, .. }) => {
                (crate::http::status(why), Outcome::Refused(viewer.t().password_rules.to_owned()))
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

/// Ends every session of the account but this one ("Sign out all other devices").
pub async fn end_other_sessions(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    CheckedForm { caller, .. }: CheckedForm<Button>,
) -> HttpResponse {
    respond(&req, &viewer, async {
        for session in accounts::own_sessions(&state, &caller).await?.iter().filter(|s| !s.current) {
            match accounts::end_session(&state, &caller, &session.handle).await {
                // Ended meanwhile (it expired, or another tab was quicker): just as well.
                Ok(()) | Err(CoreError::Refused { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(redirect(&req, &format!("{PREFIX}/settings")))
    })
    .await
}

pub async fn end_session(
    req: HttpRequest,
    viewer: Viewer,
    state: web::Data<AppState>,
    handle: web::Path<String>,
    CheckedForm { caller, .. }: CheckedForm<Button>,
) -> HttpResponse {
    respond(&req, &viewer, async {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_agent_reads_as_a_browser_on_a_system() {
        let named = |ua: &str| device_name(crate::web::i18n::Lang::En.t(), Some(ua));
        let chrome =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(named(chrome), "Chrome on Linux");
        let headless =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36";
        assert_eq!(named(headless), "Chrome on Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(named(edge), "Edge on Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(named(iphone), "Safari on iOS");
        assert_eq!(named("Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"), "Firefox on Android");
        assert_eq!(named("Nosebook for Android 2.4 (Pixel 8)"), "Nosebook for Android 2.4 (Pixel 8)");
        assert_eq!(device_name(crate::web::i18n::Lang::En.t(), None), "Unknown device");
    }
}
