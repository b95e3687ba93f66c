//! Requests that change something from a signed-in page. The caller must be signed in and the
//! request must carry the page's CSRF token (`crate::web::csrf`); the extractors here check both
//! before a handler runs, after the body passed the checks of every form (`crate::web::form`),
//! and a failed check is answered as any page's early stop is ([`super::stopped`]): signed out,
//! the login page; without the token, 403.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use nosebook_actors::Caller;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{PageError, stopped};
use crate::web::csrf;
use crate::web::form::Form;
use crate::web::session::Viewer;

type Checking<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// A form body as posted: the token beside the fields the handler reads.
#[derive(Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

/// The form of a button that changes something: the token is all it carries.
#[derive(Debug, Default, Deserialize)]
pub struct Button {}

/// A urlencoded form posted by a signed-in caller with their page's token (the form's `csrf`
/// field, else the htmx header).
pub struct CheckedForm<T> {
    pub caller: Caller,
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for CheckedForm<T> {
    type Error = actix_web::Error;
    type Future = Checking<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let posted = Form::<WithToken<T>>::from_request(&req, payload);
        Box::pin(async move {
            let checked = if_signed_in(&req, posted.await?.into_inner())?;
            checked.ok_or_else(|| refuse(&req, PageError::SignInFirst))
        })
    }
}

/// The posted form of a signed-in caller whose token is their page's; `None` when signed out.
fn if_signed_in<T>(req: &HttpRequest, posted: WithToken<T>) -> Result<Option<CheckedForm<T>>, actix_web::Error> {
    let Some(caller) = caller_of(req) else { return Ok(None) };
    verify(req, &caller, &posted.csrf)?;
    Ok(Some(CheckedForm { caller, form: posted.form }))
}

/// A form that the signed-out may post too (logging out, which they already are): nothing for
/// them, a [`CheckedForm`] for everyone else.
pub struct CheckedIfSignedIn<T>(pub Option<CheckedForm<T>>);

impl<T: DeserializeOwned + 'static> FromRequest for CheckedIfSignedIn<T> {
    type Error = actix_web::Error;
    type Future = Checking<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let posted = Form::<WithToken<T>>::from_request(&req, payload);
        Box::pin(async move { Ok(CheckedIfSignedIn(if_signed_in(&req, posted.await?.into_inner())?)) })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenQuery {
    csrf: String,
}

/// The signed-in caller of an upload, whose body is the file: its token rides in the query
/// (`?csrf=`), else the htmx header. The body is left for the handler.
pub struct CheckedUpload {
    pub caller: Caller,
}

impl FromRequest for CheckedUpload {
    type Error = actix_web::Error;
    type Future = Checking<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let query = web::Query::<TokenQuery>::from_request(&req, payload);
        Box::pin(async move {
            let query = query.await?;
            let caller = caller_of(&req).ok_or_else(|| refuse(&req, PageError::SignInFirst))?;
            verify(&req, &caller, &query.csrf)?;
            Ok(CheckedUpload { caller })
        })
    }
}

fn caller_of(req: &HttpRequest) -> Option<Caller> {
    req.extensions().get::<Caller>().cloned()
}

fn verify(req: &HttpRequest, caller: &Caller, submitted: &str) -> Result<(), actix_web::Error> {
    if csrf::verify(req, caller.session.session_id, Some(submitted)) {
        Ok(())
    } else {
        Err(refuse(req, PageError::Forged))
    }
}

/// The page's answer to a failed check, as an extractor's error.
fn refuse(req: &HttpRequest, error: PageError) -> actix_web::Error {
    let why = match error {
        PageError::SignInFirst => "signed out",
        _ => "CSRF token missing or wrong",
    };
    let answer = stopped(req, &Viewer::of(req), error);
    InternalError::from_response(why, answer).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::{StatusCode, header};
    use actix_web::test::TestRequest;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Comment {
        message: String,
    }

    fn post(body: impl Into<web::Bytes>) -> (HttpRequest, Payload) {
        TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(body)
            .to_http_parts()
    }

    async fn posted<T: DeserializeOwned + 'static>(body: &'static str) -> Result<WithToken<T>, actix_web::Error> {
        let (req, mut payload) = post(body);
        Form::<WithToken<T>>::from_request(&req, &mut payload).await.map(Form::into_inner)
    }

    #[actix_web::test]
    async fn the_token_is_read_beside_the_fields_the_handler_reads() {
        let form = posted::<Comment>("message=hi+there&csrf=abc").await.unwrap();
        assert_eq!(form.csrf, "abc");
        assert_eq!(form.form, Comment { message: "hi there".into() });
        let button = posted::<Button>("csrf=abc&unrelated=1").await.unwrap();
        assert_eq!(button.csrf, "abc");
        let without = posted::<Comment>("message=x").await.unwrap();
        assert_eq!(without.csrf, "");
        assert!(posted::<Comment>("csrf=a&csrf=b").await.is_err(), "one token, as before");
        assert!(posted::<Comment>("message=a&message=b").await.is_err(), "one message, as before");
    }

    #[actix_web::test]
    async fn a_field_that_repeats_reaches_a_form_that_reads_it_field_by_field() {
        use super::super::messenger::forms::GroupForm;
        let anna = "2f1c7a1e-4c1b-4a53-9b55-3c2a2d2f6e01";
        let boris = "6a0b2f4e-8d3c-4b7a-a1e2-9c8d7e6f5a40";
        let body = format!("title=Hikers&member={anna}&csrf=abc&member={boris}");
        let (req, mut payload) = post(body);
        let form = Form::<WithToken<GroupForm>>::from_request(&req, &mut payload).await.unwrap().into_inner();
        assert_eq!(form.csrf, "abc");
        assert_eq!(form.form.title, "Hikers");
        assert_eq!(form.form.members.len(), 2);
    }

    #[actix_web::test]
    async fn a_body_is_refused_before_anyone_is_asked_to_sign_in() {
        let (req, mut payload) = post("message=a%00b");
        let refused = CheckedForm::<Comment>::from_request(&req, &mut payload).await.err().unwrap();
        assert_eq!(refused.as_response_error().status_code(), StatusCode::BAD_REQUEST);
    }

    #[actix_web::test]
    async fn the_signed_out_are_sent_to_sign_in_unless_the_form_is_for_them_too() {
        let (req, mut payload) = post("message=hi&csrf=abc");
        let refused = CheckedForm::<Comment>::from_request(&req, &mut payload).await.err().unwrap();
        let answer = refused.error_response();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert!(answer.headers().get(header::LOCATION).is_some_and(|to| to.as_bytes().starts_with(b"/app/login")));
        let (req, mut payload) = post("csrf=abc");
        let theirs = CheckedIfSignedIn::<Button>::from_request(&req, &mut payload).await.unwrap();
        assert!(theirs.0.is_none());
    }
}
