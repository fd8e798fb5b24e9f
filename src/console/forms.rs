//! The checks in front of every console page and form: who is signed in (and whether the page
//! is theirs to see), and, for a form that changes state, that it comes from the console's own
//! origin with the session's CSRF token. The session is checked before the body is read.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::layout::{refusal, see_other};
use super::session::{self, Session};
use crate::http::HttpState;

/// Who may see a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any signed-in tenant or the operator.
    SignedIn,
    /// The operator only.
    Operator,
}

/// The largest console form read: a comment and a handful of filters.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The signed-in session, or the response to send instead: to the sign-in page without one, a
/// 403 page when the page is the operator's.
pub async fn signed_in(
    request: &HttpRequest,
    state: &HttpState,
    need: Need,
) -> Result<Session, HttpResponse> {
    match session::current(request, state).await {
        Ok(Some(session)) if need == Need::Operator && !session.is_operator() => Err(refusal(
            StatusCode::FORBIDDEN,
            Some(&session),
            "This page is for the operator key.",
        )),
        Ok(Some(session)) => Ok(session),
        Ok(None) => Err(see_other("/ui/login")),
        Err(error) => Err(unavailable(None, error)),
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

/// A state-changing form of `session`: same origin, the session's CSRF token, then the fields.
pub async fn submitted<T: DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
    state: &HttpState,
    session: &Session,
) -> Result<T, HttpResponse> {
    let body = read(request, payload, state, Some(session)).await?;
    let presented: CsrfField =
        serde_urlencoded::from_bytes(&body).map_err(|error| bad_form(session, error))?;
    if !session.csrf_matches(&presented.csrf_token) {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            Some(session),
            "This form is out of date or did not come from the console; reload the page and try again.",
        ));
    }
    serde_urlencoded::from_bytes(&body).map_err(|error| bad_form(session, error))
}

/// The body of a form from the console's own origin (checked before reading it).
pub async fn read(
    request: &HttpRequest,
    payload: web::Payload,
    state: &HttpState,
    session: Option<&Session>,
) -> Result<bytes::Bytes, HttpResponse> {
    if !session::same_origin(request) {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            session,
            "Forms are accepted from the console's own pages only.",
        ));
    }
    state
        .bodies
        .read(request, payload, MAX_FORM_BYTES)
        .await
        .map_err(|refused| refused.error_response())
}

fn bad_form(session: &Session, error: serde_urlencoded::de::Error) -> HttpResponse {
    refusal(
        StatusCode::BAD_REQUEST,
        Some(session),
        &format!("The form could not be read: {error}."),
    )
}

/// The page sent when the database did not answer.
pub fn unavailable(session: Option<&Session>, error: impl std::fmt::Display) -> HttpResponse {
    tracing::warn!(%error, "A console page could not be read.");
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        session,
        "The database did not answer; try again in a moment.",
    )
}
