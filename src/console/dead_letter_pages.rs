//! Dead letters in the console (operator only): the filtered, paged list of GET
//! /v1/dead-letters (same parser), one letter with its original message as stored (redacted at
//! write), replay or discard of one, and of a filtered set after a confirmation that says how
//! many it will take (the API's dry run).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::exception_pages::{exception_path, query_pairs, query_value, select, with_cursor};
use super::forms::{signed_in, submitted, unavailable, Need};
use super::layout::{page, refusal, see_other, when, when_opt, Section};
use super::session::Session;
use crate::dead_letter_bulk::{self, BulkError};
use crate::handler::failure::ErrorClass;
use crate::http::dead_letter_listing_api::{cursor_below, filter_of, listing_of, FILTERS};
use crate::http::params::Params;
use crate::http::HttpState;
use crate::model::RoleName;
use crate::replay::replay_dead_letter;
use crate::store::dead_letter_listing;
use crate::store::dead_letters::{DeadLetterView, DISCARDED, PENDING, REPLAYED};
use crate::store::replay::{self, ReplayError};

pub async fn list(request: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::Operator).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    let pairs = query_pairs(request.query_string());
    let (filter, before, limit) = match listing_of(request.query_string()) {
        Ok(listing) => listing,
        Err(refused) => {
            let body = html! { (filter_form(&pairs)) p.problem { (refused.to_string()) } };
            return refusal_page(&session, body);
        }
    };
    let found = match dead_letter_listing::list(&state.runtime.db, &filter, before, limit).await {
        Ok(found) => found,
        Err(error) => return unavailable(Some(&session), error),
    };
    let next = found.next.map(|id| with_cursor(&pairs, &cursor_below(id)));
    let body = html! {
        (filter_form(&pairs))
        (letters_table(&found.letters))
        div.pager {
            @if let Some(next) = next { a href=(format!("/ui/dead-letters?{next}")) id="next-page" { "Next page" } }
        }
        h2 { "Act on every pending letter matching these filters" }
        form method="post" action="/ui/dead-letters/bulk" id="bulk" {
            input type="hidden" name="csrf_token" value=(session.csrf_token);
            @for (name, value) in pairs.iter().filter(|(name, value)| FILTERS.contains(&name.as_str()) && name != "status" && !value.is_empty()) {
                input type="hidden" name=(name) value=(value);
            }
            button.secondary type="submit" name="action" value="replay" id="bulk-replay" { "Replay matching…" }
            " "
            button.secondary type="submit" name="action" value="discard" id="bulk-discard" { "Discard matching…" }
        }
    };
    page("Dead letters", Some(&session), Section::DeadLetters, body)
}

pub async fn show(
    request: HttpRequest,
    path: web::Path<i64>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::Operator).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    let letter = match replay::show(&state.runtime.db, path.into_inner()).await {
        Ok(Some(letter)) => letter,
        Ok(None) => {
            return refusal(
                StatusCode::NOT_FOUND,
                Some(&session),
                "No such dead letter.",
            )
        }
        Err(error) => return unavailable(Some(&session), error),
    };
    let message = serde_json::from_str::<serde_json::Value>(&letter.envelope)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| letter.envelope.clone());
    let body = html! {
        dl.fields id="dead-letter" {
            dt { "Status" } dd id="dead-letter-status" { span.badge { (letter.status) } }
            dt { "Role" } dd { (letter.role) }
            dt { "Error class" } dd { (letter.error_class) }
            dt { "Reason" } dd id="dead-letter-reason" { (letter.reason) }
            dt { "Attempts" } dd { (letter.attempts) }
            dt { "Position" } dd { (letter.topic) " / " (letter.partition) " @ " (letter.log_offset) }
            dt { "Event" } dd { (letter.event_type.as_deref().unwrap_or("—")) " " span.muted { (letter.event_id.as_deref().unwrap_or("")) } }
            dt { "Exception" } dd {
                @match (&letter.tenant_id, &letter.exception_id) {
                    (Some(tenant_id), Some(exception_id)) => a href=(exception_path(tenant_id, exception_id)) { (tenant_id) " / " (exception_id) },
                    _ => "—",
                }
            }
            dt { "Dead-lettered" } dd { (when(&letter.created_at)) }
            dt { "Closed" } dd { (when_opt(letter.resolved_at.as_ref())) }
        }
        @if letter.status == PENDING {
            p {
                (action_form(&session, letter.id, "replay", "Replay"))
                " "
                (action_form(&session, letter.id, "discard", "Discard"))
            }
        }
        h2 { "Original message (as stored)" }
        pre id="dead-letter-message" { (message) }
    };
    page(
        &format!("Dead letter {}", letter.id),
        Some(&session),
        Section::DeadLetters,
        body,
    )
}

#[derive(serde::Deserialize)]
pub struct NoFields {}

/// POST /ui/dead-letters/{id}/{replay|discard}.
pub async fn act(
    request: HttpRequest,
    path: web::Path<(i64, String)>,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::Operator).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    let (id, action) = path.into_inner();
    if let Err(refused) = submitted::<NoFields>(&request, payload, &state, &session).await {
        return refused;
    }
    let now = state.runtime.clock.now();
    let done = match action.as_str() {
        "replay" => replay_dead_letter(&state.runtime.db, state.runtime.bus.as_ref(), id, now)
            .await
            .map(|_| ()),
        "discard" => replay::discard(&state.runtime.db, id, now).await,
        _ => return refusal(StatusCode::NOT_FOUND, Some(&session), "No such action."),
    };
    match done {
        Ok(()) => see_other(&format!("/ui/dead-letters/{id}")),
        Err(ReplayError::NotFound(_)) => refusal(
            StatusCode::NOT_FOUND,
            Some(&session),
            "No such dead letter.",
        ),
        Err(error @ ReplayError::NotPending { .. }) => {
            refusal(StatusCode::CONFLICT, Some(&session), &error.to_string())
        }
        Err(ReplayError::Database(error)) => unavailable(Some(&session), error),
    }
}

/// POST /ui/dead-letters/bulk: without `confirmed`, a page saying how many letters the action
/// would take, with the button that confirms it; with it, the action.
pub async fn bulk(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::Operator).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    let fields: Vec<(String, String)> = match submitted(&request, payload, &state, &session).await {
        Ok(fields) => fields,
        Err(refused) => return refused,
    };
    let mut allowed = FILTERS.to_vec();
    allowed.extend(["action", "confirmed", "csrf_token"]);
    let query = serde_urlencoded::to_string(&fields).unwrap_or_default();
    let parsed = Params::from_query(&query, &allowed).and_then(|params| {
        let action = params
            .one_of("action", &["replay", "discard"])?
            .unwrap_or("");
        Ok((
            filter_of(&params)?,
            action.to_owned(),
            params.text("confirmed").is_some(),
        ))
    });
    let (filter, action, confirmed) = match parsed {
        Ok(parsed) if !parsed.1.is_empty() => parsed,
        Ok(_) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                Some(&session),
                "Choose replay or discard.",
            )
        }
        Err(refused) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                Some(&session),
                &refused.to_string(),
            )
        }
    };
    if !confirmed {
        return match dead_letter_bulk::count(&state.runtime.db, &filter).await {
            Ok(count) => confirmation(&session, &fields, &action, count),
            Err(error) => unavailable(Some(&session), error),
        };
    }
    let now = state.runtime.clock.now();
    let done = if action == "replay" {
        dead_letter_bulk::replay(&state.runtime.db, state.runtime.bus.as_ref(), &filter, now).await
    } else {
        dead_letter_bulk::discard(&state.runtime.db, &filter, now).await
    };
    let (count, problem) = match done {
        Ok(count) => (count, None),
        Err(BulkError { done, source }) => (done, Some(source.to_string())),
    };
    tracing::info!(
        action,
        count,
        ?filter,
        "Bulk dead-letter action from the console."
    );
    let body = html! {
        p.notice id="bulk-done" { (verb_past(&action)) " " (count) " dead letter(s)." }
        @if let Some(problem) = problem { p.problem { "The database failed part way: " (problem) "; the rest are still pending." } }
        p { a href="/ui/dead-letters" { "Back to the dead letters" } }
    };
    page("Dead letters", Some(&session), Section::DeadLetters, body)
}

fn confirmation(
    session: &Session,
    fields: &[(String, String)],
    action: &str,
    count: u64,
) -> HttpResponse {
    let body = html! {
        p id="bulk-count" { (count) " pending dead letter(s) match. " (verb(action)) " them?" }
        form method="post" action="/ui/dead-letters/bulk" {
            @for (name, value) in fields.iter().filter(|(name, _)| name != "confirmed") {
                input type="hidden" name=(name) value=(value);
            }
            input type="hidden" name="confirmed" value="yes";
            button type="submit" id="bulk-confirm" class=[(action == "discard").then_some("danger")] { (verb(action)) " " (count) }
            " "
            a href="/ui/dead-letters" { "Cancel" }
        }
    };
    page("Confirm", Some(session), Section::DeadLetters, body)
}

fn verb(action: &str) -> &'static str {
    if action == "replay" {
        "Replay"
    } else {
        "Discard"
    }
}

fn verb_past(action: &str) -> &'static str {
    if action == "replay" {
        "Replayed"
    } else {
        "Discarded"
    }
}

fn action_form(session: &Session, id: i64, action: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(format!("/ui/dead-letters/{id}/{action}")) {
            input type="hidden" name="csrf_token" value=(session.csrf_token);
            button type="submit" id=(format!("dead-letter-{action}")) class=[(action == "discard").then_some("danger")] { (label) }
        }
    }
}

fn filter_form(pairs: &[(String, String)]) -> Markup {
    let value = |name: &str| query_value(pairs, name);
    let roles = RoleName::ALL.map(RoleName::as_str);
    let classes = ErrorClass::ALL.map(ErrorClass::as_str);
    html! {
        form.filters method="get" action="/ui/dead-letters" id="dead-letter-filters" {
            (select("status", "Status", &[PENDING, REPLAYED, DISCARDED, "all"], &value("status")))
            (select("role", "Role", &roles, &value("role")))
            (select("error_class", "Error class", &classes, &value("error_class")))
            label { "Tenant" input type="text" name="tenant" value=(value("tenant")); }
            label { "Reason contains" input type="search" name="reason" value=(value("reason")); }
            button type="submit" { "Filter" }
            a href="/ui/dead-letters" { "Clear" }
        }
    }
}

fn letters_table(letters: &[DeadLetterView]) -> Markup {
    html! {
        @if letters.is_empty() {
            p.muted id="no-dead-letters" { "No dead letters match." }
        } @else {
            table id="dead-letters" {
                thead { tr { th.num { "Id" } th { "Role" } th { "Class" } th { "Tenant" } th { "Exception" } th { "Reason" } th { "Status" } th { "When" } } }
                tbody {
                    @for letter in letters {
                        tr {
                            td.num { a href=(format!("/ui/dead-letters/{}", letter.id)) { (letter.id) } }
                            td { (letter.role) }
                            td { (letter.error_class) }
                            td { (letter.tenant_id.as_deref().unwrap_or("—")) }
                            td { (letter.exception_id.as_deref().unwrap_or("—")) }
                            td { (truncate(&letter.reason, 140)) }
                            td { span.badge { (letter.status) } }
                            td { (when(&letter.created_at)) }
                        }
                    }
                }
            }
        }
    }
}

fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn refusal_page(session: &Session, body: Markup) -> HttpResponse {
    super::layout::page_with_status(
        StatusCode::BAD_REQUEST,
        "Dead letters",
        Some(session),
        Section::DeadLetters,
        body,
    )
}
