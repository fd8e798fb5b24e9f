//! Rule packs: loading and validating the domain and tenant TOML packs under `config/`, and
//! the pure rules built on them (redaction, conditions, triage, policy).

pub mod conditions;
mod domain;
mod error;
mod loader;
mod playbook;
pub mod policy_rules;
mod raw;
pub mod redact;
mod registry;
mod tenant;
pub mod triage_rules;
mod validate;

#[cfg(test)]
mod load_error_tests;
#[cfg(test)]
mod load_tests;
#[cfg(test)]
mod test_support;

pub use conditions::{Condition, ConditionTest};
pub use domain::{
    DomainPack, ExceptionType, SeverityRule, SimulateProfile, ToolDefinition, ToolKind,
    UNKNOWN_EXCEPTION_TYPE,
};
pub use error::{PackError, PackErrors};
pub use loader::{PackSource, DOMAINS_DIR, TENANTS_DIR};
pub use playbook::{
    Playbook, PlaybookConditions, PlaybookOrigin, PlaybookStep, StepKind, CALL_TOOL_ACTION,
    SAFE_ACTIONS,
};
pub use policy_rules::{
    evaluate_policy, find_playbook, PolicyDecision, PolicyInput, PolicyOutcome,
};
pub use redact::{redact, REDACTED};
pub use registry::Packs;
pub use tenant::{default_sla_minutes, ApprovalSettings, TenantPack, DEFAULT_CONFIDENCE_THRESHOLD};
pub use triage_rules::{sla_deadline, triage, SeveritySource, TriageDecision, TriageInput};
