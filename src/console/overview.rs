//! The console's overview: the signed-in tenant's exceptions by status and SLA state (every
//! tenant's for the operator); for the operator also the dead letters waiting and, per role,
//! the fleet's throughput, processing time, backlog and in-flight events. The panel refreshes
//! itself every few seconds.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::forms::{signed_in, unavailable, Need};
use super::layout::{page, Section};
use super::session::Session;
use std::collections::BTreeMap;

use super::fleet_view::{by_role, processes, sparkline, RoleSummary};
use crate::activity::FleetActivity;
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
    let counts = exception_counts::count(&state.runtime.db, session.tenant_id()).await?;
    let (dead_letters, roles) = if session.is_operator() {
        let waiting =
            dead_letter_bulk::count(&state.runtime.db, &DeadLetterFilter::default()).await?;
        (Some(waiting), Some(by_role(&processes(state).await?)))
    } else {
        (None, None)
    };
    Ok(html! {
        div id="overview" hx-get="/ui/overview/panel" hx-trigger="every 5s" hx-swap="outerHTML" {
            (exception_cards(&counts, dead_letters))
            @if let Some(roles) = roles {
                h2 { "Roles across the fleet" }
                (role_table(&roles))
            }
        }
    })
}

fn role_table(roles: &BTreeMap<String, RoleSummary>) -> Markup {
    html! {
        @if roles.is_empty() {
            p.muted { "No process has registered yet." }
        } @else {
            table id="roles" {
                thead { tr {
                    th { "Role" } th.num { "Processes" } th { "Events/s, last 5 min" } th.num { "Events/s (1 min)" }
                    th.num { "Mean processing (1 min)" } th.num { "Backlog" } th.num { "In flight" }
                } }
                tbody {
                    @for (role, summary) in roles {
                        tr id=(format!("role-{role}")) {
                            td { (role) }
                            td.num { (summary.processes) }
                            td { @if let Some(activity) = &summary.activity {
                                (sparkline(&activity.per_second, &format!("{role}: events per second over the last five minutes")))
                            } }
                            td.num { (summary.activity.as_ref().map_or("—".to_owned(), |activity| format!("{:.1}", activity.recent_rate()))) }
                            td.num { (summary.activity.as_ref().and_then(FleetActivity::recent_mean_ms).map_or("—".to_owned(), |ms| format!("{ms:.1} ms"))) }
                            td.num { (summary.backlog.map_or("—".to_owned(), |backlog| backlog.to_string())) }
                            td.num { (summary.in_flight) }
                        }
                    }
                }
            }
        }
    }
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
