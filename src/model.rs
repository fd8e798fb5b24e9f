//! The vocabulary shared by every layer: roles, topics, severities and exception statuses.
//! Each type has one canonical spelling on the wire (`as_str`) and parses only that spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Namespace of ids derived from other ids (emitted event ids, exception ids).
pub const DERIVED_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_52a4_9b0e_4c1e_9d27_3a8e_5b6d_0c41);

/// Severity of an exception, ordered from least to most urgent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str() == value)
            .ok_or_else(|| {
                format!("unknown severity '{value}' (expected one of LOW, MEDIUM, HIGH, CRITICAL)")
            })
    }
}

/// Lifecycle of an exception row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionStatus {
    Open,
    Analyzing,
    InProgress,
    Resolved,
    Escalated,
}

impl ExceptionStatus {
    pub const ALL: [ExceptionStatus; 5] = [
        ExceptionStatus::Open,
        ExceptionStatus::Analyzing,
        ExceptionStatus::InProgress,
        ExceptionStatus::Resolved,
        ExceptionStatus::Escalated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionStatus::Open => "open",
            ExceptionStatus::Analyzing => "analyzing",
            ExceptionStatus::InProgress => "in_progress",
            ExceptionStatus::Resolved => "resolved",
            ExceptionStatus::Escalated => "escalated",
        }
    }
}

impl ExceptionStatus {
    /// Resolved and escalated exceptions need no more automated work.
    pub fn is_terminal(self) -> bool {
        matches!(self, ExceptionStatus::Resolved | ExceptionStatus::Escalated)
    }
}

impl FromStr for ExceptionStatus {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        ExceptionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| format!("unknown exception status '{value}'"))
    }
}

impl fmt::Display for ExceptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The seven worker roles of the pipeline.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Intake,
    Triage,
    Policy,
    Playbook,
    Tool,
    Feedback,
    SlaMonitor,
}

impl RoleName {
    pub const ALL: [RoleName; 7] = [
        RoleName::Intake,
        RoleName::Triage,
        RoleName::Policy,
        RoleName::Playbook,
        RoleName::Tool,
        RoleName::Feedback,
        RoleName::SlaMonitor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoleName::Intake => "intake",
            RoleName::Triage => "triage",
            RoleName::Policy => "policy",
            RoleName::Playbook => "playbook",
            RoleName::Tool => "tool",
            RoleName::Feedback => "feedback",
            RoleName::SlaMonitor => "sla_monitor",
        }
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoleName {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        RoleName::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unknown role '{value}' (expected one of intake, triage, policy, playbook, tool, feedback, sla_monitor)"
                )
            })
    }
}

/// Topic names, as the embedded bus stores them and as Kafka names them after
/// KAFKA_TOPIC_PREFIX. Who consumes and emits what: docs/roles-and-packs.md.
pub mod topics {
    pub const INGESTED: &str = "exceptions.ingested";
    pub const NORMALIZED: &str = "exceptions.normalized";
    pub const TRIAGED: &str = "exceptions.triaged";
    pub const POLICY: &str = "exceptions.policy";
    pub const STEPS: &str = "exceptions.steps";
    pub const TOOLS_REQUESTED: &str = "tools.requested";
    pub const TOOLS_COMPLETED: &str = "tools.completed";
    pub const OUTCOMES: &str = "exceptions.outcomes";
    pub const SLA: &str = "exceptions.sla";
    pub const FEEDBACK: &str = "exceptions.feedback";
    pub const DLQ: &str = "exceptions.dlq";

    pub const ALL: [&str; 11] = [
        INGESTED,
        NORMALIZED,
        TRIAGED,
        POLICY,
        STEPS,
        TOOLS_REQUESTED,
        TOOLS_COMPLETED,
        OUTCOMES,
        SLA,
        FEEDBACK,
        DLQ,
    ];
}

/// Event type names carried in the envelope's `event_type`.
pub mod event_types {
    pub const EXCEPTION_INGESTED: &str = "ExceptionIngested";
    pub const EXCEPTION_NORMALIZED: &str = "ExceptionNormalized";
    pub const TRIAGE_COMPLETED: &str = "TriageCompleted";
    pub const POLICY_EVALUATION_COMPLETED: &str = "PolicyEvaluationCompleted";
    pub const PLAYBOOK_MATCHED: &str = "PlaybookMatched";
    pub const EXCEPTION_ESCALATED: &str = "ExceptionEscalated";
    pub const PLAYBOOK_STEP_COMPLETION_REQUESTED: &str = "PlaybookStepCompletionRequested";
    pub const TOOL_EXECUTION_REQUESTED: &str = "ToolExecutionRequested";
    pub const TOOL_EXECUTION_COMPLETED: &str = "ToolExecutionCompleted";
    pub const PLAYBOOK_COMPLETED: &str = "PlaybookCompleted";
    pub const EXCEPTION_RESOLVED: &str = "ExceptionResolved";
    pub const SLA_IMMINENT: &str = "SLAImminent";
    pub const SLA_EXPIRED: &str = "SLAExpired";
    pub const FEEDBACK_CAPTURED: &str = "FeedbackCaptured";
    pub const DEAD_LETTERED: &str = "DeadLettered";
}
