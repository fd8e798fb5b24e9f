//! Rows written straight into the tables, for tests that need many exceptions or dead letters
//! of chosen shapes (statuses, SLA flags, timestamps) without driving each through the pipeline.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};

use crate::readers::statement;

/// An `exceptions` row; `ExceptionRow::new` fills what a test rarely cares about.
#[derive(Debug, Clone)]
pub struct ExceptionRow {
    pub tenant_id: String,
    pub exception_id: String,
    pub exception_type: String,
    pub status: String,
    pub severity: Option<String>,
    pub sla_deadline: Option<DateTime<Utc>>,
    pub sla_imminent_at: Option<DateTime<Utc>>,
    pub sla_breached_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ExceptionRow {
    /// An open TRADE_BREAK of `tenant_id`, created and updated at `created_at`, with no SLA.
    pub fn new(tenant_id: &str, exception_id: &str, created_at: DateTime<Utc>) -> Self {
        Self {
            tenant_id: tenant_id.to_owned(),
            exception_id: exception_id.to_owned(),
            exception_type: "TRADE_BREAK".to_owned(),
            status: "open".to_owned(),
            severity: None,
            sla_deadline: None,
            sla_imminent_at: None,
            sla_breached_at: None,
            created_at,
            updated_at: created_at,
        }
    }

    pub async fn insert(&self, db: &DatabaseConnection) {
        let sql = "INSERT INTO exceptions (tenant_id, exception_id, domain, exception_type,
                       source_system, status, severity, confidence, sla_deadline, raw_payload,
                       normalized, occurred_at, sla_imminent_at, sla_breached_at, created_at,
                       updated_at)
                   VALUES ($1, $2, 'capital_markets', $3, 'MUREX', $4, $5, NULL, $6, '{}', '{}',
                       $7, $8, $9, $7, $10)";
        let values: Vec<Value> = vec![
            self.tenant_id.clone().into(),
            self.exception_id.clone().into(),
            self.exception_type.clone().into(),
            self.status.clone().into(),
            self.severity.clone().into(),
            self.sla_deadline.into(),
            self.created_at.into(),
            self.sla_imminent_at.into(),
            self.sla_breached_at.into(),
            self.updated_at.into(),
        ];
        db.execute_raw(statement(db, sql, values))
            .await
            .unwrap_or_else(|error| panic!("Failed to insert {}: {error}", self.exception_id));
    }
}

/// A `dead_letters` row; `DeadLetterRow::new` fills what a test rarely cares about.
#[derive(Debug, Clone)]
pub struct DeadLetterRow {
    pub role: String,
    pub log_offset: i64,
    pub tenant_id: Option<String>,
    pub error_class: String,
    pub reason: String,
    pub status: String,
}

impl DeadLetterRow {
    /// A pending, permanent dead letter of intake at `log_offset` of exceptions.ingested.
    pub fn new(log_offset: i64, tenant_id: &str) -> Self {
        Self {
            role: "intake".to_owned(),
            log_offset,
            tenant_id: Some(tenant_id.to_owned()),
            error_class: "permanent".to_owned(),
            reason: "a reason".to_owned(),
            status: "pending".to_owned(),
        }
    }

    /// Inserts the row; answers its id.
    pub async fn insert(&self, db: &DatabaseConnection) -> i64 {
        let sql = r#"INSERT INTO dead_letters (role, topic, "partition", log_offset, tenant_id,
                         envelope, reason, error_class, attempts, status, created_at)
                     VALUES ($1, 'exceptions.ingested', 0, $2, $3, '{}', $4, $5, 1, $6, $7)
                     RETURNING id"#;
        let values: Vec<Value> = vec![
            self.role.clone().into(),
            self.log_offset.into(),
            self.tenant_id.clone().into(),
            self.reason.clone().into(),
            self.error_class.clone().into(),
            self.status.clone().into(),
            Utc::now().into(),
        ];
        let row = db
            .query_one_raw(statement(db, sql, values))
            .await
            .unwrap_or_else(|error| panic!("Failed to insert a dead letter: {error}"))
            .expect("INSERT ... RETURNING answers a row");
        row.try_get::<i64>("", "id").expect("an id")
    }
}
