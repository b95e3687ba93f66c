use actix_web::{HttpRequest, HttpResponse, web};

use super::redirect;
use crate::web::PREFIX;
use crate::web::i18n::Lang;
use crate::web::session::{Viewer, lang_cookie};

/// `/app`: your own page, or the login page.
pub async fn home(req: HttpRequest, viewer: Viewer) -> HttpResponse {
    match &viewer.caller {
        Some(caller) => redirect(&req, &format!("{PREFIX}/users/{}", caller.user.id)),
        None => redirect(&req, &format!("{PREFIX}/login")),
    }
}

/// The footer's language links: remember the choice and go back to the page it was made on.
pub async fn switch_language(req: HttpRequest, lang: web::Path<String>) -> HttpResponse {
    let Some(lang) = Lang::from_code(&lang) else {
        return HttpResponse::NotFound().finish();
    };
    // Only back to a page of ours: the Referer's path, if it is under the app.
    let back = req
        .headers()
        .get("Referer")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .filter(|path| path.starts_with(PREFIX) && !path.starts_with(&format!("{PREFIX}/lang/")))
        .unwrap_or(PREFIX)
        .to_owned();
    let mut res = redirect(&req, &back);
    let _ = res.add_cookie(&lang_cookie(&req, lang));
    res
}
