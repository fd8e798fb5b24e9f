//! HTTP tools: one POST of the input as JSON, with the execution id as `Idempotency-Key`.
//! The caller has already checked the URL (see `policy`) and bounds the attempt by the timeout.

use reqwest::{Client, StatusCode, Url};
use serde_json::{json, Value};

use super::failure::{FailureKind, ToolFailure};

/// The header carrying the execution id, so a retried or redelivered call is recognisable.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
/// At most this many bytes of a response body are read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One attempt: POST `input` to `url`; 2xx gives the body, other outcomes a classified failure.
pub(crate) async fn attempt(
    client: &Client,
    url: &Url,
    execution_id: &str,
    input: &Value,
) -> Result<Value, ToolFailure> {
    let mut response = client
        .post(url.clone())
        .header(IDEMPOTENCY_KEY_HEADER, execution_id)
        .json(input)
        .send()
        .await
        .map_err(|error| request_failure(&error))?;
    let status = response.status();
    if let Some(failure) = status_failure(status) {
        return Err(failure);
    }
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| request_failure(&error))?
    {
        let room = MAX_BODY_BYTES - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(output(status, &body, truncated))
}

/// `None` for 2xx; `Transient` for 5xx and 429; `Rejected` for everything else.
pub(crate) fn status_failure(status: StatusCode) -> Option<ToolFailure> {
    if status.is_success() {
        return None;
    }
    let kind = if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        FailureKind::Transient
    } else {
        FailureKind::Rejected
    };
    let what = if status.is_redirection() {
        " (redirects are not followed)"
    } else {
        ""
    };
    Some(ToolFailure::new(
        kind,
        format!("endpoint answered {status}{what}"),
    ))
}

/// The JSON body as is, else `{"status": code, "body": text}` (plus `"truncated": true` when
/// the body was longer than [`MAX_BODY_BYTES`]).
fn output(status: StatusCode, body: &[u8], truncated: bool) -> Value {
    if !truncated {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            return value;
        }
    }
    let mut wrapped = json!({
        "status": status.as_u16(),
        "body": String::from_utf8_lossy(body),
    });
    if truncated {
        wrapped["truncated"] = Value::Bool(true);
    }
    wrapped
}

/// Errors before a status arrives (or while reading the body) are transient, except a request
/// that could not even be built.
fn request_failure(error: &reqwest::Error) -> ToolFailure {
    let kind = if error.is_builder() {
        FailureKind::Rejected
    } else {
        FailureKind::Transient
    };
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    ToolFailure::new(kind, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        let cases = [
            (200, None),
            (201, None),
            (204, None),
            (500, Some(FailureKind::Transient)),
            (503, Some(FailureKind::Transient)),
            (429, Some(FailureKind::Transient)),
            (400, Some(FailureKind::Rejected)),
            (404, Some(FailureKind::Rejected)),
            (409, Some(FailureKind::Rejected)),
            (302, Some(FailureKind::Rejected)),
        ];
        for (code, expected) in cases {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(status_failure(status).map(|f| f.kind), expected, "{code}");
        }
    }

    #[test]
    fn json_bodies_pass_through_and_others_are_wrapped() {
        assert_eq!(
            output(StatusCode::OK, br#"{"a":1}"#, false),
            json!({"a": 1})
        );
        assert_eq!(
            output(StatusCode::ACCEPTED, b"queued", false),
            json!({"status": 202, "body": "queued"})
        );
        assert_eq!(
            output(StatusCode::NO_CONTENT, b"", false),
            json!({"status": 204, "body": ""})
        );
        assert_eq!(
            output(StatusCode::OK, br#"{"a":"#, true),
            json!({"status": 200, "body": "{\"a\":", "truncated": true})
        );
    }
}
