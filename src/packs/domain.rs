//! The validated domain pack: exception types, severity rules, tools and playbooks of one domain.

use serde_json::Value;

use super::conditions::Condition;
use super::playbook::Playbook;
use crate::model::Severity;

/// The type name triage uses when nothing identifies the exception.
pub const UNKNOWN_EXCEPTION_TYPE: &str = "UNKNOWN";

#[derive(Debug, Clone, PartialEq)]
pub struct DomainPack {
    pub name: String,
    pub description: String,
    /// PII keys as written in the pack (`Packs::pii_keys` gives the lowercased union with the tenant's).
    pub pii_keys: Vec<String>,
    /// In declaration order; inference tries them in this order.
    pub exception_types: Vec<ExceptionType>,
    pub severity_rules: Vec<SeverityRule>,
    pub tools: Vec<ToolDefinition>,
    pub playbooks: Vec<Playbook>,
}

impl DomainPack {
    pub fn exception_type(&self, name: &str) -> Option<&ExceptionType> {
        self.exception_types
            .iter()
            .find(|declared| declared.name == name)
    }

    pub fn tool(&self, name: &str) -> Option<&ToolDefinition> {
        self.tools.iter().find(|tool| tool.name == name)
    }

    pub fn playbook(&self, id: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|playbook| playbook.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionType {
    /// UPPER_SNAKE name, unique within the domain.
    pub name: String,
    pub description: String,
    /// As written; matched exactly but case-insensitively against `errorCode`/`error_code`.
    pub error_codes: Vec<String>,
    /// Lowercased; matched as substrings of `error`/`errorMessage`.
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeverityRule {
    pub id: String,
    pub description: String,
    pub exception_type: String,
    pub severity: Severity,
    /// All must hold; an empty list always holds.
    pub when: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    pub kind: ToolKind,
    pub timeout_ms: u64,
    /// Any TOML table from the pack, kept as a JSON object.
    pub input_schema: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolKind {
    Simulate { profile: SimulateProfile },
    Http { url: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimulateProfile {
    Success,
    Fail,
    Delayed,
    Flaky,
}

impl SimulateProfile {
    pub const ALL: [SimulateProfile; 4] = [
        SimulateProfile::Success,
        SimulateProfile::Fail,
        SimulateProfile::Delayed,
        SimulateProfile::Flaky,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SimulateProfile::Success => "success",
            SimulateProfile::Fail => "fail",
            SimulateProfile::Delayed => "delayed",
            SimulateProfile::Flaky => "flaky",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|profile| profile.as_str() == value)
    }
}
