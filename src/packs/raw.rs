//! The TOML shape of domain and tenant packs, exactly as written (strings not yet checked).
//! Unknown keys are rejected by serde; every other check lives in `validate`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDomainPack {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub pii_keys: Vec<String>,
    #[serde(default)]
    pub exception_types: Vec<RawExceptionType>,
    #[serde(default)]
    pub severity_rules: Vec<RawSeverityRule>,
    #[serde(default)]
    pub tools: Vec<RawTool>,
    #[serde(default)]
    pub playbooks: Vec<RawPlaybook>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExceptionType {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub error_codes: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSeverityRule {
    pub id: String,
    #[serde(default)]
    pub description: String,
    pub exception_type: String,
    pub severity: String,
    #[serde(default)]
    pub when: Vec<RawCondition>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    pub field: String,
    pub op: String,
    pub value: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTool {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kind: String,
    pub profile: Option<String>,
    pub url: Option<String>,
    pub timeout_ms: Option<i64>,
    pub input_schema: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlaybook {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub priority: i64,
    #[serde(default)]
    pub conditions: RawPlaybookConditions,
    #[serde(default)]
    pub steps: Vec<RawStep>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlaybookConditions {
    #[serde(rename = "type")]
    pub single_type: Option<String>,
    pub types: Option<Vec<String>>,
    pub severity_in: Option<Vec<String>>,
    pub domain: Option<String>,
    pub sla_minutes_remaining_lt: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub action: String,
    pub tool: Option<String>,
    pub params: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTenantPack {
    pub tenant_id: String,
    pub name: String,
    pub domain: String,
    pub api_key_sha256: String,
    #[serde(default)]
    pub pii_keys: Vec<String>,
    #[serde(default)]
    pub severity_overrides: BTreeMap<String, String>,
    #[serde(default)]
    pub sla_targets_minutes: BTreeMap<String, i64>,
    #[serde(default)]
    pub approval: RawApproval,
    #[serde(default)]
    pub enabled_tools: Vec<String>,
    #[serde(default)]
    pub playbooks: Vec<RawPlaybook>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApproval {
    pub confidence_threshold: Option<f64>,
    #[serde(default)]
    pub require_for_severities: Vec<String>,
}
