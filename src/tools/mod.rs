//! The tool execution engine: checks a requested tool (declared, enabled for the tenant, URL
//! allowed, input valid against its schema) and runs it (simulate profiles or an http POST)
//! with per-attempt timeouts and retries of transient failures.
//!
//! - `policy`: declaration, enablement and URL rules; `schema`: cached JSON-schema validation.
//! - `simulate` and `http`: one attempt of each kind; `runner`: checks, timeouts and retries.
//! - `settings`: allow-listed hosts, retry budget and backoff; `failure`: failure kinds.

mod failure;
mod http;
mod policy;
mod runner;
mod schema;
mod settings;
mod simulate;

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod runner_tests;
#[cfg(test)]
mod test_support;

pub use failure::{FailureKind, ToolFailure, MAX_REASON_BYTES};
pub use http::{IDEMPOTENCY_KEY_HEADER, MAX_BODY_BYTES};
pub use runner::{ToolOutcome, ToolRun, ToolRunner};
pub use settings::ToolSettings;
