//! The console's overview: the signed-in tenant's exceptions by status and SLA state (every
//! tenant's for the operator); for the operator also the dead letters waiting and, per role,
//! the fleet's throughput, processing time, backlog and in-flight events. The panel refreshes
//! itself every few seconds.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::forms::{signed_in, unavailable, Need};
use super::layout::{page, Section};
use super::session::Session;
use crate::dead_letter_bulk;
use crate::http::HttpState;
use crate::model::ExceptionStatus;
use crate::store::dead_letter_listing::DeadLetterFilter;
use crate::store::exception_counts::{self, ExceptionCounts};

pub async fn page_of(request: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::SignedIn).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    match panel_markup(&session, &state).await {
        Ok(panel) => page("Overview", Some(&session), Section::Overview, panel),
        Err(error) => unavailable(Some(&session), error),
    }
}

/// The panel alone, for its own refresh.
pub async fn panel(request: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::SignedIn).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    match panel_markup(&session, &state).await {
        Ok(panel) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(panel.into_string()),
        Err(error) => unavailable(Some(&session), error),
    }
}

async fn panel_markup(session: &Session, state: &HttpState) -> Result<Markup, sea_orm::DbErr> {
    let counts = exception_counts::count(&state.db, session.tenant_id()).await?;
    let dead_letters = if session.is_operator() {
        Some(dead_letter_bulk::count(&state.db, &DeadLetterFilter::default()).await?)
    } else {
        None
    };
    Ok(html! {
        div id="overview" hx-get="/ui/overview/panel" hx-trigger="every 5s" hx-swap="outerHTML" {
            (exception_cards(&counts, dead_letters))
        }
    })
}

fn exception_cards(counts: &ExceptionCounts, dead_letters: Option<u64>) -> Markup {
    let of = |status: &str| {
        counts
            .by_status
            .iter()
            .find(|(name, _)| name == status)
            .map_or(0, |(_, count)| *count)
    };
    html! {
        div.cards id="exception-counts" {
            @for status in ExceptionStatus::ALL.map(ExceptionStatus::as_str) {
                a.card href=(format!("/ui/exceptions?status={status}")) {
                    div.label { (status) }
                    div.value id=(format!("count-{status}")) { (of(status)) }
                }
            }
            a.card.warn href="/ui/exceptions?sla=imminent" {
                div.label { "SLA imminent (open)" }
                div.value id="count-sla-imminent" { (counts.sla_imminent) }
            }
            a.card.bad href="/ui/exceptions?sla=breached" {
                div.label { "SLA breached (open)" }
                div.value id="count-sla-breached" { (counts.sla_breached) }
            }
            @if let Some(dead_letters) = dead_letters {
                a.card.bad href="/ui/dead-letters" {
                    div.label { "Dead letters waiting" }
                    div.value id="count-dead-letters" { (dead_letters) }
                }
            }
        }
    }
}
