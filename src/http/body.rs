//! Reading request bodies within bounds: a size limit (checked against Content-Length before
//! anything is read), a deadline for the whole body (a body trickling a byte at a time is cut
//! off), and a cap on bodies read at once (beyond it: 503 with Retry-After), so the memory
//! bodies can take is bounded by `max_concurrent_bodies` x the largest limit.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use tokio::sync::Semaphore;

use super::error_body::ErrorBody;
use crate::config::HttpSettings;

/// Seconds a client refused for want of a body slot is asked to wait.
const RETRY_AFTER_SECS: &str = "1";

/// The shared bounds on request bodies.
#[derive(Clone)]
pub struct BodyGate {
    slots: Arc<Semaphore>,
    timeout: Duration,
}

impl BodyGate {
    pub fn new(settings: &HttpSettings) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(settings.max_concurrent_bodies)),
            timeout: settings.body_timeout,
        }
    }

    /// The whole body, at most `max_bytes`, or why it was refused.
    pub async fn read(
        &self,
        request: &HttpRequest,
        mut payload: web::Payload,
        max_bytes: usize,
    ) -> Result<Bytes, BodyError> {
        let declared = declared_length(request);
        if declared.is_some_and(|length| length > max_bytes) {
            return Err(BodyError::TooLarge(max_bytes));
        }
        let Ok(_slot) = self.slots.clone().try_acquire_owned() else {
            return Err(BodyError::Busy);
        };
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(max_bytes));
        loop {
            let chunk = match tokio::time::timeout_at(deadline, payload.next()).await {
                Err(_elapsed) => return Err(BodyError::TooSlow(self.timeout)),
                Ok(None) => break,
                Ok(Some(Err(error))) => return Err(BodyError::Unreadable(error.to_string())),
                Ok(Some(Ok(chunk))) => chunk,
            };
            if body.len() + chunk.len() > max_bytes {
                return Err(BodyError::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// Why a body was refused. Each refusal closes the connection: the rest of the body is never
/// read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body exceeds the {0}-byte limit")]
    TooLarge(usize),
    #[error("the body did not arrive within {}s", .0.as_secs())]
    TooSlow(Duration),
    #[error("too many requests in progress; retry")]
    Busy,
    #[error("the body could not be read: {0}")]
    Unreadable(String),
}

impl ResponseError for BodyError {
    fn status_code(&self) -> StatusCode {
        match self {
            BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            BodyError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            BodyError::Unreadable(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.force_close();
        if matches!(self, BodyError::Busy) {
            response.insert_header(("Retry-After", RETRY_AFTER_SECS));
        }
        response.json(ErrorBody::new(self.to_string()))
    }
}

fn declared_length(request: &HttpRequest) -> Option<usize> {
    request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
}
