use actix_web::{HttpRequest, HttpResponse, web};

use super::{back, redirect};
use crate::web::PREFIX;
use crate::web::i18n::Lang;
use crate::web::session::{Viewer, lang_cookie};

/// `/app`: the news, or the login page.
pub async fn home(req: HttpRequest, viewer: Viewer) -> HttpResponse {
    match &viewer.caller {
        Some(_) => redirect(&req, &format!("{PREFIX}/news")),
        None => redirect(&req, &format!("{PREFIX}/login")),
    }
}

/// The footer's language links: remember the choice and go back to the page it was made on.
pub async fn switch_language(req: HttpRequest, lang: web::Path<String>) -> HttpResponse {
    let Some(lang) = Lang::from_code(&lang) else {
        return HttpResponse::NotFound().finish();
    };
    let mut res = redirect(&req, &back(&req));
    let _ = res.add_cookie(&lang_cookie(&req, lang));
    res
}
