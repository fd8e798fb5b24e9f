//! GET /v1/workers (operator): the fleet's processes from the `workers` table, by instance id,
//! each with its roles, partitions, in-flight events, failed roles, heartbeat age and whether it
//! is stale. Takes no parameters. Answers `fleet::WorkerList`.

use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse, ResponseError};

use super::auth::Caller;
use super::dead_letters_api::refuse_unless_operator;
use super::error_body::ErrorBody;
use super::params::Params;
use super::HttpState;
use crate::fleet::{processes, WorkerList};

/// The fleet: every registered process (the operator key).
#[utoipa::path(
    operation_id = "list_workers",
    tag = "fleet",
    responses(
        (status = 200, description = "Every registered process, by instance id", body = WorkerList),
        (status = 400, description = "A query parameter was given; the route takes none", body = ErrorBody),
        (status = 403, description = "A tenant key, or the operator API is disabled", body = ErrorBody),
        (status = 503, description = "The database did not answer; retry", body = ErrorBody),
    )
)]
#[get("/workers")]
pub async fn list(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(refused) = refuse_unless_operator(&caller, &state) {
        return refused;
    }
    if let Err(refused) = Params::from_query(request.query_string(), &[]) {
        return refused.error_response();
    }
    match processes(&state.runtime.db).await {
        Ok(workers) => HttpResponse::Ok().json(WorkerList { workers }),
        Err(error) => {
            tracing::warn!(%error, "Listing the workers failed.");
            ErrorBody::answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "the workers could not be read; retry",
            )
        }
    }
}
