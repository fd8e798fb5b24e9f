//! The console's exception list: the filters and cursor pages of GET /v1/exceptions, parsed by
//! the same code, so a filter means the same in both and a tenant sees only its own tenant.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::forms::{signed_in, unavailable, Need};
use super::layout::{page, page_with_status, when, when_opt, Section};
use super::session::Session;
use crate::http::cursor;
use crate::http::exception_listing_api::listing_of;
use crate::http::HttpState;
use crate::model::{ExceptionStatus, Severity};
use crate::store::exception_summary::ExceptionSummary;

pub async fn list(request: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::SignedIn).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    let query = request.query_string();
    let pairs = query_pairs(query);
    let filters = filter_form(&session, &state, &pairs);
    let listing = match listing_of(query, &session.caller, &state) {
        Ok(listing) => listing,
        Err(refused) => {
            let body = html! { (filters) p.problem { (refused.to_string()) } };
            return page_with_status(
                StatusCode::BAD_REQUEST,
                "Exceptions",
                Some(&session),
                Section::Exceptions,
                body,
            );
        }
    };
    let found = match listing.page(&state.runtime.db).await {
        Ok(found) => found,
        Err(error) => return unavailable(Some(&session), error),
    };
    let next = found
        .next
        .as_ref()
        .map(|position| with_cursor(&pairs, &cursor::encode(position)));
    let body = html! {
        (filters)
        (table(&session, &found.items))
        div.pager {
            @if !pairs.iter().all(|(name, _)| name != cursor::PARAMETER) {
                a href=(format!("/ui/exceptions?{}", without_cursor(&pairs))) { "First page" }
            }
            @if let Some(next) = next {
                a href=(format!("/ui/exceptions?{next}")) id="next-page" { "Next page" }
            }
        }
    };
    page("Exceptions", Some(&session), Section::Exceptions, body)
}

fn table(session: &Session, items: &[ExceptionSummary]) -> Markup {
    html! {
        @if items.is_empty() {
            p.muted id="no-exceptions" { "No exceptions match." }
        } @else {
            table id="exceptions" {
                thead { tr {
                    th { "Exception" }
                    @if session.is_operator() { th { "Tenant" } }
                    th { "Type" } th { "Status" } th { "Severity" } th { "SLA deadline" } th { "Updated" }
                } }
                tbody {
                    @for item in items {
                        tr {
                            td { a href=(exception_path(&item.tenant_id, &item.exception_id)) { (item.exception_id) } }
                            @if session.is_operator() { td { (item.tenant_id) } }
                            td { (item.exception_type) }
                            td { (status_badge(&item.status)) }
                            td { (item.severity.as_deref().unwrap_or("—")) }
                            td { (when_opt(item.sla_deadline.as_ref())) " " (sla_badge(item)) }
                            td { (when(&item.updated_at)) }
                        }
                    }
                }
            }
        }
    }
}

/// The console path of an exception's page.
pub fn exception_path(tenant_id: &str, exception_id: &str) -> String {
    format!(
        "/ui/exceptions/{}/{}",
        path_segment(tenant_id),
        path_segment(exception_id)
    )
}

/// `text` percent-encoded for one path segment.
fn path_segment(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .replace('+', "%20")
}

pub fn status_badge(status: &str) -> Markup {
    let class = match status {
        "resolved" => "badge good",
        "escalated" => "badge bad",
        _ => "badge",
    };
    html! { span class=(class) { (status) } }
}

pub fn sla_badge(item: &ExceptionSummary) -> Markup {
    html! {
        @if item.sla_breached_at.is_some() { span.badge.bad { "breached" } }
        @else if item.sla_imminent_at.is_some() { span.badge.warn { "imminent" } }
    }
}

fn filter_form(session: &Session, state: &HttpState, pairs: &[(String, String)]) -> Markup {
    let value = |name: &str| query_value(pairs, name);
    let statuses = ExceptionStatus::ALL.map(ExceptionStatus::as_str);
    let severities = Severity::ALL.map(Severity::as_str);
    let tenants: Vec<&str> = state.runtime.packs.tenant_ids().collect();
    html! {
        form.filters method="get" action="/ui/exceptions" id="exception-filters" {
            @if session.is_operator() {
                (select("tenant", "Tenant", &tenants, &value("tenant")))
            }
            (select("status", "Status", &statuses, &value("status")))
            (select("severity", "Severity", &severities, &value("severity")))
            (select("sla", "SLA", &["imminent", "breached"], &value("sla")))
            label { "Type" input type="text" name="exception_type" value=(value("exception_type")); }
            label { "Id contains" input type="search" name="q" id="q" value=(value("q")); }
            (select("sort", "Sort", &["created", "sla_deadline"], &value("sort")))
            button type="submit" id="apply-filters" { "Filter" }
            a href="/ui/exceptions" { "Clear" }
        }
    }
}

/// A select of `options` with an empty "any" choice, `chosen` selected.
pub fn select(name: &str, label: &str, options: &[&str], chosen: &str) -> Markup {
    html! {
        label {
            (label)
            select name=(name) id=(name) {
                option value="" { "any" }
                @for option in options {
                    option value=(option) selected[*option == chosen] { (option) }
                }
            }
        }
    }
}

/// The value of parameter `name` among `pairs`, or "" when it is not given.
pub fn query_value(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

/// The query's parameters, in order.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

fn without_cursor(pairs: &[(String, String)]) -> String {
    let kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(name, value)| name != cursor::PARAMETER && !value.is_empty())
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// The query string of the same listing at `cursor`.
pub fn with_cursor(pairs: &[(String, String)], next: &str) -> String {
    let mut kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(name, value)| name != cursor::PARAMETER && !value.is_empty())
        .cloned()
        .collect();
    kept.push((cursor::PARAMETER.to_owned(), next.to_owned()));
    serde_urlencoded::to_string(kept).unwrap_or_default()
}
