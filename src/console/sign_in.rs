//! Signing in and out: a key typed into a form (never a URL) becomes a session cookie; signing
//! out deletes the session everywhere.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;

use super::forms::{self, unavailable, Need};
use super::layout::{page_with_status, see_other, Section};
use super::session;
use crate::http::auth::caller_for_key;
use crate::http::HttpState;

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    key: String,
}

/// Sign-out carries only its CSRF token.
#[derive(Deserialize)]
struct NoFields {}

pub async fn form(request: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    if let Ok(Some(_)) = session::current(&request, &state).await {
        return see_other("/ui");
    }
    sign_in_page(StatusCode::OK, None)
}

pub async fn submit(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let body = match forms::read(&request, payload, &state, None).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let key = serde_urlencoded::from_bytes::<SignInForm>(&body)
        .map(|form| form.key.trim().to_owned())
        .unwrap_or_default();
    let Some(caller) = (!key.is_empty())
        .then(|| caller_for_key(&key, &state))
        .flatten()
    else {
        return sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some("That key is not valid for this deployment."),
        );
    };
    match session::start(&request, &state, &caller).await {
        Ok(cookie) => {
            let mut response = see_other("/ui");
            if let Err(error) = response.add_cookie(&cookie) {
                return unavailable(None, error);
            }
            response
        }
        Err(error) => unavailable(None, error),
    }
}

pub async fn sign_out(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let session = match forms::signed_in(&request, &state, Need::SignedIn).await {
        Ok(session) => session,
        Err(_) => return see_other("/ui/login"),
    };
    if let Err(refused) = forms::submitted::<NoFields>(&request, payload, &state, &session).await {
        return refused;
    }
    match session::end(&request, &state, &session).await {
        Ok(cookie) => {
            let mut response = see_other("/ui/login");
            if let Err(error) = response.add_cookie(&cookie) {
                return unavailable(None, error);
            }
            response
        }
        Err(error) => unavailable(Some(&session), error),
    }
}

fn sign_in_page(status: StatusCode, problem: Option<&str>) -> HttpResponse {
    let body = html! {
        @if let Some(problem) = problem { p.problem id="sign-in-problem" { (problem) } }
        form.signin method="post" action="/ui/login" {
            label {
                "API key"
                input type="password" name="key" id="key" autocomplete="off" required autofocus;
            }
            p.muted { "A tenant key shows that tenant's exceptions; the operator key shows every tenant, the dead letters and the fleet." }
            button type="submit" id="sign-in" { "Sign in" }
        }
    };
    page_with_status(status, "Sign in", None, Section::SignIn, body)
}
