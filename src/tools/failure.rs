//! Why a tool execution did not succeed: a kind (terminal or transient) and a bounded reason.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest reason kept, in bytes (cut on a character boundary, then marked with `…`).
pub const MAX_REASON_BYTES: usize = 1024;

/// The class of a failure; only `Timeout` and `Transient` are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The tool is not declared by the tenant's domain pack.
    UnknownTool,
    /// The tool is declared but the tenant has not enabled it.
    Disabled,
    /// The http URL is neither https nor plain http to an allow-listed host.
    NotAllowed,
    /// The input does not satisfy the tool's input schema (or the schema is unusable).
    InvalidInput,
    /// An attempt did not finish within the tool's `timeout_ms`.
    Timeout,
    /// A failure that may pass on retry (connection error, 5xx, 429, a flaky first attempt).
    Transient,
    /// A permanent refusal (other 4xx, the `fail` profile, an unexpected status).
    Rejected,
}

impl FailureKind {
    pub const ALL: [FailureKind; 7] = [
        FailureKind::UnknownTool,
        FailureKind::Disabled,
        FailureKind::NotAllowed,
        FailureKind::InvalidInput,
        FailureKind::Timeout,
        FailureKind::Transient,
        FailureKind::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::UnknownTool => "unknown_tool",
            FailureKind::Disabled => "disabled",
            FailureKind::NotAllowed => "not_allowed",
            FailureKind::InvalidInput => "invalid_input",
            FailureKind::Timeout => "timeout",
            FailureKind::Transient => "transient",
            FailureKind::Rejected => "rejected",
        }
    }

    /// Inverse of [`FailureKind::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// Whether another attempt may succeed (`Timeout`, `Transient`).
    pub fn is_transient(self) -> bool {
        matches!(self, FailureKind::Timeout | FailureKind::Transient)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed check or attempt. Displays as `"{kind}: {reason}"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolFailure {
    pub kind: FailureKind,
    pub reason: String,
}

impl ToolFailure {
    /// Builds a failure, bounding the reason to [`MAX_REASON_BYTES`].
    pub fn new(kind: FailureKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: bounded(reason.into(), MAX_REASON_BYTES),
        }
    }
}

impl fmt::Display for ToolFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.reason)
    }
}

impl std::error::Error for ToolFailure {}

/// Cuts `text` to at most `max` bytes on a character boundary, marking a cut with `…`.
pub(crate) fn bounded(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_only_timeout_and_transient_retry() {
        for kind in FailureKind::ALL {
            assert_eq!(FailureKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::json!(kind.as_str()));
        }
        let transient: Vec<_> = FailureKind::ALL
            .into_iter()
            .filter(|kind| kind.is_transient())
            .collect();
        assert_eq!(transient, [FailureKind::Timeout, FailureKind::Transient]);
        assert_eq!(FailureKind::parse("nope"), None);
    }

    #[test]
    fn display_joins_kind_and_reason() {
        let failure = ToolFailure::new(FailureKind::Disabled, "tool 'x' is not enabled");
        assert_eq!(failure.to_string(), "disabled: tool 'x' is not enabled");
    }

    #[test]
    fn long_reasons_are_cut_on_a_char_boundary() {
        let failure = ToolFailure::new(FailureKind::Rejected, "é".repeat(MAX_REASON_BYTES));
        assert!(failure.reason.len() <= MAX_REASON_BYTES);
        assert!(failure.reason.ends_with('…'));
        assert_eq!(bounded("short".into(), 10), "short");
    }
}
