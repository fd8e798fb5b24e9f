//! One exception in the console: its summary, playbook steps (the step waiting for a person can
//! be completed here, by a tenant, under the API's rules), tool executions, feedback and event
//! timeline. A tenant sees only its own tenant's exceptions: another tenant's is "not found".

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

use super::exception_pages::{exception_path, sla_badge, status_badge};
use super::forms::{signed_in, submitted, unavailable, Need};
use super::layout::{page, refusal, see_other, when, when_opt, Section};
use super::session::Session;
use crate::http::HttpState;
use crate::step_completion::{request_completion, CompletionOutcome, StepCompletion};
use crate::store::exception_summary::ExceptionSummary;
use crate::store::timeline::{self, TimelineEntry};
use crate::store::{exception_record, exceptions, steps};

/// Events shown on the page, oldest first.
const TIMELINE_LIMIT: u64 = 500;
/// The longest comment kept with a completion.
const MAX_COMMENT_CHARS: usize = 2000;

#[derive(Deserialize)]
pub struct Shown {
    /// The step whose completion was just requested, to say so.
    completed: Option<i32>,
}

pub async fn show(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    shown: web::Query<Shown>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::SignedIn).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    let (tenant_id, exception_id) = path.into_inner();
    if !visible_to(&session, &tenant_id) {
        return not_found(&session);
    }
    let db = &state.runtime.db;
    let read = async {
        let exception = exceptions::find(db, &tenant_id, &exception_id).await?;
        let events = timeline::of_exception(db, &tenant_id, &exception_id, TIMELINE_LIMIT).await?;
        let run = steps::of_exception(db, &tenant_id, &exception_id).await?;
        let tools = exception_record::tool_executions(db, &tenant_id, &exception_id).await?;
        let feedback = exception_record::feedback(db, &tenant_id, &exception_id).await?;
        Ok::<_, sea_orm::DbErr>((exception, events, run, tools, feedback))
    };
    let (exception, events, run, tools, feedback) = match read.await {
        Ok(found) => found,
        Err(error) => return unavailable(Some(&session), error),
    };
    let Some(exception) = exception.map(ExceptionSummary::from) else {
        if events.is_empty() {
            return not_found(&session);
        }
        let body = html! {
            p id="exception-status" { "Received; not yet through intake." }
            (timeline_table(&events))
        };
        return page(&exception_id, Some(&session), Section::Exceptions, body);
    };
    let finished = matches!(exception.status.as_str(), "resolved" | "escalated");
    let waits_for_person =
        steps::current(&run).is_some_and(|step| step.status == steps::WAITING_PERSON);
    // Until it is finished the page refreshes itself in place, but not under a person typing a
    // comment for the step that waits for them (unless they just completed it).
    let refresh = !finished && (!waits_for_person || shown.completed.is_some());
    let here = exception_path(&tenant_id, &exception_id);
    let url = format!("{}?{}", here, request.query_string());
    let body = html! {
        div id="exception" hx-get=[refresh.then_some(url.as_str())] hx-trigger=[refresh.then_some("every 2s")]
            hx-select="#exception" hx-swap="outerHTML" {
            @if let Some(step) = shown.completed {
                p.notice id="completion-requested" { "Completion of step " (step) " requested; the playbook applies it in a moment." }
            }
            (summary(&exception))
            h2 { "Playbook steps" }
            (steps_table(&session, &here, &run))
            h2 { "Tool executions" }
            (tools_table(&tools))
            h2 { "Feedback" }
            @match feedback {
                Some(feedback) => dl.fields id="feedback" {
                    dt { "Outcome" } dd { (feedback.outcome) }
                    dt { "Classification" } dd { (feedback.classification) }
                    dt { "Time to finish" } dd { (format!("{:.1} s", feedback.total_seconds)) }
                    dt { "Steps completed" } dd { (feedback.steps_completed) }
                    dt { "Time in tools" } dd { (format!("{:.1} s", feedback.tool_seconds)) }
                },
                None => p.muted { "None yet: written when the exception is resolved or escalated." },
            }
            h2 { "Timeline" }
            (timeline_table(&events))
        }
    };
    page(&exception_id, Some(&session), Section::Exceptions, body)
}

#[derive(Deserialize)]
pub struct CompletionForm {
    #[serde(default)]
    comment: String,
}

pub async fn complete_step(
    request: HttpRequest,
    path: web::Path<(String, String, i32)>,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let session = match signed_in(&request, &state, Need::SignedIn).await {
        Ok(session) => session,
        Err(refused) => return refused,
    };
    let (tenant_id, exception_id, step_number) = path.into_inner();
    if session.tenant_id() != Some(tenant_id.as_str()) {
        return refusal(
            StatusCode::FORBIDDEN,
            Some(&session),
            "Steps are completed by the exception's own tenant.",
        );
    }
    let form: CompletionForm = match submitted(&request, payload, &state, &session).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let comment: String = form
        .comment
        .trim()
        .chars()
        .take(MAX_COMMENT_CHARS)
        .collect();
    let completion = StepCompletion {
        tenant_id,
        exception_id,
        step_number,
        actor: session.actor(),
        comment: (!comment.is_empty()).then_some(comment),
    };
    let here = exception_path(&completion.tenant_id, &completion.exception_id);
    match request_completion(&state.runtime, &completion).await {
        Ok(CompletionOutcome::Requested { .. }) => {
            see_other(&format!("{here}?completed={step_number}"))
        }
        Ok(CompletionOutcome::NotFound) => not_found(&session),
        Ok(CompletionOutcome::NotWaiting {
            current_step,
            current_status,
        }) => {
            let now = match (current_step, current_status) {
                (Some(step), Some(status)) => format!("the run is at step {step} ({status})"),
                _ => "no step waits".to_owned(),
            };
            refusal(
                StatusCode::CONFLICT,
                Some(&session),
                &format!("Step {step_number} is not the step waiting for a person: {now}."),
            )
        }
        Err(error) => unavailable(Some(&session), error),
    }
}

fn visible_to(session: &Session, tenant_id: &str) -> bool {
    session.tenant_id().is_none_or(|own| own == tenant_id)
}

fn not_found(session: &Session) -> HttpResponse {
    refusal(StatusCode::NOT_FOUND, Some(session), "No such exception.")
}

fn summary(exception: &ExceptionSummary) -> Markup {
    html! {
        dl.fields id="summary" {
            dt { "Status" } dd id="exception-status" { (status_badge(&exception.status)) }
            dt { "Tenant" } dd { (exception.tenant_id) }
            dt { "Type" } dd { (exception.domain) " / " (exception.exception_type) }
            dt { "Source" } dd { (exception.source_system) }
            dt { "Severity" } dd { (exception.severity.as_deref().unwrap_or("—")) }
            dt { "Policy" } dd { (exception.policy_decision.as_deref().unwrap_or("—")) }
            dt { "Playbook" } dd { (exception.playbook_id.as_deref().unwrap_or("—")) }
            dt { "SLA deadline" } dd { (when_opt(exception.sla_deadline.as_ref())) " " (sla_badge(exception)) }
            dt { "Occurred" } dd { (when(&exception.occurred_at)) }
            dt { "Updated" } dd { (when(&exception.updated_at)) }
        }
    }
}

fn steps_table(session: &Session, here: &str, run: &[entity::playbook_steps::Model]) -> Markup {
    let current = steps::current(run).map(|step| step.step_number);
    html! {
        @if run.is_empty() {
            p.muted { "No playbook run." }
        } @else {
            table id="steps" {
                thead { tr { th.num { "#" } th { "Action" } th { "Status" } th { "By" } th { "Completed" } th {} } }
                tbody {
                    @for step in run {
                        tr id=(format!("step-{}", step.step_number)) {
                            td.num { (step.step_number) }
                            td { (step.action) }
                            td { span.badge { (step.status) } }
                            td { (step.actor.as_deref().unwrap_or("—")) }
                            td { (when_opt(step.completed_at.as_ref())) }
                            td {
                                @if Some(step.step_number) == current && step.status == steps::WAITING_PERSON {
                                    (completion_form(session, here, step.step_number))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn completion_form(session: &Session, here: &str, step_number: i32) -> Markup {
    html! {
        @if session.tenant_id().is_some() {
            form.complete-step method="post" action=(format!("{here}/steps/{step_number}/complete")) {
                input type="hidden" name="csrf_token" value=(session.csrf_token);
                input type="text" name="comment" placeholder="Comment (optional)" maxlength="2000";
                button type="submit" id=(format!("complete-step-{step_number}")) { "Complete step" }
            }
        } @else {
            span.muted { "waits for the tenant" }
        }
    }
}

fn tools_table(tools: &[entity::tool_executions::Model]) -> Markup {
    html! {
        @if tools.is_empty() {
            p.muted { "No tool executions." }
        } @else {
            table id="tool-executions" {
                thead { tr { th.num { "Step" } th { "Tool" } th { "Status" } th.num { "Attempts" } th { "Requested" } th { "Completed" } th { "Error" } } }
                tbody {
                    @for tool in tools {
                        tr {
                            td.num { (tool.step_number) }
                            td { (tool.tool_name) }
                            td { span.badge { (tool.status) } }
                            td.num { (tool.attempts) }
                            td { (when(&tool.requested_at)) }
                            td { (when_opt(tool.completed_at.as_ref())) }
                            td { (tool.error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

fn timeline_table(events: &[TimelineEntry]) -> Markup {
    html! {
        table id="timeline" {
            thead { tr { th { "When" } th { "Event" } th { "Topic" } th { "Payload" } } }
            tbody {
                @for event in events {
                    tr {
                        td { (when(&event.created_at)) }
                        td { (event.event_type) }
                        td { (event.topic) }
                        td { details { summary { "payload" } pre { (serde_json::to_string_pretty(&event.payload).unwrap_or_default()) } } }
                    }
                }
            }
        }
    }
}
