//! The console's page shell (head, navigation, who is signed in) and the responses every page
//! shares: a full page, a refusal, a redirect. Markup comes from maud, which escapes every
//! value it is given.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use maud::{html, Markup, DOCTYPE};

use super::session::Session;

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Exceptions,
    DeadLetters,
    Fleet,
    SignIn,
}

impl Section {
    fn path(self) -> &'static str {
        match self {
            Section::Overview => "/ui",
            Section::Exceptions => "/ui/exceptions",
            Section::DeadLetters => "/ui/dead-letters",
            Section::Fleet => "/ui/fleet",
            Section::SignIn => "/ui/login",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Exceptions => "Exceptions",
            Section::DeadLetters => "Dead letters",
            Section::Fleet => "Fleet",
            Section::SignIn => "Sign in",
        }
    }
}

/// A whole page with status 200.
pub fn page(
    title: &str,
    session: Option<&Session>,
    section: Section,
    body: Markup,
) -> HttpResponse {
    page_with_status(StatusCode::OK, title, session, section, body)
}

/// A whole page.
pub fn page_with_status(
    status: StatusCode,
    title: &str,
    session: Option<&Session>,
    section: Section,
    body: Markup,
) -> HttpResponse {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // htmx must not add inline styles: the Content-Security-Policy forbids them.
                meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false}"#;
                title { (title) " · exception-worker" }
                link rel="stylesheet" href="/ui/assets/console.css";
                script src="/ui/assets/htmx.min.js" defer {}
            }
            body {
                header.top {
                    span.brand { "exception-worker" }
                    @if let Some(session) = session {
                        nav { (navigation(session, section)) }
                        span.who {
                            @match session.tenant_id() {
                                Some(tenant_id) => { "tenant " strong { (tenant_id) } }
                                None => { strong { "operator" } }
                            }
                        }
                        form.inline method="post" action="/ui/logout" {
                            input type="hidden" name="csrf_token" value=(session.csrf_token);
                            button type="submit" id="sign-out" { "Sign out" }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

fn navigation(session: &Session, current: Section) -> Markup {
    let mut sections = vec![Section::Overview, Section::Exceptions];
    if session.is_operator() {
        sections.extend([Section::DeadLetters, Section::Fleet]);
    }
    html! {
        @for section in sections {
            a href=(section.path()) class=[(section == current).then_some("current")] { (section.label()) }
        }
    }
}

/// A page saying why the request was refused, with `status`.
pub fn refusal(status: StatusCode, session: Option<&Session>, message: &str) -> HttpResponse {
    let title = status.canonical_reason().unwrap_or("Refused");
    page_with_status(
        status,
        title,
        session,
        Section::Overview,
        html! { p.problem { (message) } },
    )
}

/// 303 to `location` (after a form, so a reload does not post it again). An htmx request is
/// told with `HX-Redirect` instead, so it loads the whole page.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header(("HX-Redirect", location))
        .finish()
}

/// A time as the console shows it: UTC to the second.
pub fn when(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// An optional time, or a dash.
pub fn when_opt(time: Option<&chrono::DateTime<chrono::Utc>>) -> String {
    time.map(when).unwrap_or_else(|| "—".to_owned())
}
