//! The fleet page (operator): every process of the registry with its roles, CONCURRENCY,
//! partitions and their lag, in-flight events, failed roles and heartbeat age; a process that
//! stopped beating is marked stale.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::fleet_view::processes;
use super::forms::{signed_in, unavailable, Need};
use super::layout::{page, when, Section};
use crate::http::HttpState;

pub async fn show(request: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::Operator).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    let fleet = match processes(&state).await {
        Ok(fleet) => fleet,
        Err(error) => return unavailable(Some(&session), error),
    };
    let body = html! {
        div id="fleet" hx-get="/ui/fleet" hx-trigger="every 10s" hx-select="#fleet" hx-swap="outerHTML" {
            @if fleet.is_empty() {
                p.muted { "No process has registered." }
            }
            @for process in &fleet {
                h2 id=(format!("process-{}", process.instance_id)) {
                    (process.instance_id) " "
                    @if process.stale { span.badge.bad { "stale" } } @else { span.badge.good { "beating" } }
                }
                dl.fields {
                    dt { "Host" } dd { (process.host) }
                    dt { "Version" } dd { (process.version) " (" (process.git_commit) ")" }
                    dt { "Roles" } dd { (process.roles.join(", ")) }
                    dt { "CONCURRENCY" } dd { (process.concurrency) }
                    dt { "Backend" } dd { (process.backend) }
                    dt { "Started" } dd { (when(&process.started_at)) }
                    dt { "Last heartbeat" } dd.heartbeat-age { (format!("{:.0} s ago", process.heartbeat_age_secs)) " (every " (process.heartbeat_secs) " s)" }
                    @if !process.failed_roles.is_empty() {
                        dt { "Failed roles" } dd { span.badge.bad { (process.failed_roles.join(", ")) } }
                    }
                }
                @if !process.partitions.is_empty() {
                    table.partitions {
                        thead { tr { th { "Role" } th { "Topic" } th.num { "Partition" } th.num { "Committed" } th.num { "Lag" } th.num { "In flight" } } }
                        tbody {
                            @for partition in &process.partitions {
                                tr {
                                    td { (partition.role) }
                                    td { (partition.topic) }
                                    td.num { (partition.partition) }
                                    td.num { (partition.committed_offset.map_or("—".to_owned(), |offset| offset.to_string())) }
                                    td.num { (partition.lag.map_or("—".to_owned(), |lag| lag.to_string())) }
                                    td.num { (partition.in_flight.map_or("—".to_owned(), |count| count.to_string())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Fleet", Some(&session), Section::Fleet, body)
}
