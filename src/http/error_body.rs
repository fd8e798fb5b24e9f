//! The body of every error answer of the API: a JSON object with the reason in `error`.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

/// Why a request was not done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The reason, for a person to read.
    pub error: String,
}

impl ErrorBody {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            error: reason.into(),
        }
    }

    /// An answer with `status` and this body.
    pub fn answer(status: StatusCode, reason: impl Into<String>) -> HttpResponse {
        HttpResponse::build(status).json(Self::new(reason))
    }
}
