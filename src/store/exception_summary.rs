//! An exception's summary: every column but the payloads, as the API shows it on its own page
//! (GET /v1/exceptions/{id}) and in listings (GET /v1/exceptions), so both agree field by field.

use chrono::{DateTime, Utc};
use entity::exceptions::Model;
use sea_orm::{DbErr, QueryResult};
use serde::Serialize;
use utoipa::ToSchema;

use crate::model::{ExceptionStatus, Severity};

/// The columns a summary is read from (`exceptions` without `raw_payload` and `normalized`).
pub const COLUMNS: &str =
    "tenant_id, exception_id, domain, exception_type, source_system, status, \
     severity, confidence, sla_deadline, policy_decision, playbook_id, approval_required, \
     occurred_at, created_at, updated_at, sla_imminent_at, sla_breached_at";

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExceptionSummary {
    pub exception_id: String,
    pub tenant_id: String,
    pub domain: String,
    pub exception_type: String,
    pub source_system: String,
    #[schema(value_type = ExceptionStatus)]
    pub status: String,
    /// Set by triage.
    #[schema(value_type = Option<Severity>)]
    pub severity: Option<String>,
    pub confidence: Option<f64>,
    pub sla_deadline: Option<DateTime<Utc>>,
    pub policy_decision: Option<String>,
    pub playbook_id: Option<String>,
    pub approval_required: Option<bool>,
    pub occurred_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sla_imminent_at: Option<DateTime<Utc>>,
    pub sla_breached_at: Option<DateTime<Utc>>,
}

impl ExceptionSummary {
    /// A row selected with `COLUMNS`.
    pub fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(Self {
            exception_id: row.try_get("", "exception_id")?,
            tenant_id: row.try_get("", "tenant_id")?,
            domain: row.try_get("", "domain")?,
            exception_type: row.try_get("", "exception_type")?,
            source_system: row.try_get("", "source_system")?,
            status: row.try_get("", "status")?,
            severity: row.try_get("", "severity")?,
            confidence: row.try_get("", "confidence")?,
            sla_deadline: row.try_get("", "sla_deadline")?,
            policy_decision: row.try_get("", "policy_decision")?,
            playbook_id: row.try_get("", "playbook_id")?,
            approval_required: row.try_get("", "approval_required")?,
            occurred_at: row.try_get("", "occurred_at")?,
            created_at: row.try_get("", "created_at")?,
            updated_at: row.try_get("", "updated_at")?,
            sla_imminent_at: row.try_get("", "sla_imminent_at")?,
            sla_breached_at: row.try_get("", "sla_breached_at")?,
        })
    }
}

impl From<Model> for ExceptionSummary {
    fn from(row: Model) -> Self {
        Self {
            exception_id: row.exception_id,
            tenant_id: row.tenant_id,
            domain: row.domain,
            exception_type: row.exception_type,
            source_system: row.source_system,
            status: row.status,
            severity: row.severity,
            confidence: row.confidence,
            sla_deadline: row.sla_deadline,
            policy_decision: row.policy_decision,
            playbook_id: row.playbook_id,
            approval_required: row.approval_required,
            occurred_at: row.occurred_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            sla_imminent_at: row.sla_imminent_at,
            sla_breached_at: row.sla_breached_at,
        }
    }
}
