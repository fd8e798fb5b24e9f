//! The SQL of the exception listing: a query per order and phase, built from the scope, the
//! filter and the key to start after, with its values bound in placeholder order.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use super::{CreatedKey, ExceptionFilter, Scope, SlaKey, SlaState};
use crate::store::conditions::{contains_pattern, Conditions};
use crate::store::exception_summary::{ExceptionSummary, COLUMNS};
use crate::store::statement;

/// One SELECT of summaries.
pub(super) struct Query {
    conditions: Conditions,
    order: &'static str,
    wanted: u64,
}

impl Query {
    fn sql(&mut self) -> String {
        let limit = self
            .conditions
            .bind(i64::try_from(self.wanted).unwrap_or(i64::MAX));
        format!(
            "SELECT {COLUMNS} FROM exceptions{} ORDER BY {} LIMIT {limit}",
            self.conditions.where_clause(),
            self.order
        )
    }

    pub(super) async fn run(
        mut self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<ExceptionSummary>, DbErr> {
        let sql = self.sql();
        let rows = db
            .query_all_raw(statement(db, &sql, self.conditions.into_values()))
            .await?;
        rows.iter().map(ExceptionSummary::from_row).collect()
    }

    pub(super) async fn explain(mut self, db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
        let sql = self.sql();
        let (sql, column) = match db.get_database_backend() {
            DbBackend::Sqlite => (format!("EXPLAIN QUERY PLAN {sql}"), "detail"),
            _ => (format!("EXPLAIN {sql}"), "QUERY PLAN"),
        };
        let rows = db
            .query_all_raw(statement(db, &sql, self.conditions.into_values()))
            .await?;
        rows.iter()
            .map(|row| row.try_get::<String>("", column))
            .collect()
    }
}

/// Exceptions newest first.
pub(super) fn created(
    scope: &Scope,
    filter: &ExceptionFilter,
    after: Option<&CreatedKey>,
    wanted: u64,
) -> Query {
    let mut conditions = filtered(scope, filter);
    if let Some(key) = after {
        let created_at = conditions.bind(key.created_at);
        let exception_id = conditions.bind(key.exception_id.clone());
        let clause = match scope {
            Scope::Tenant(_) => {
                format!("(created_at, exception_id) < ({created_at}, {exception_id})")
            }
            Scope::AllTenants => {
                let tenant_id = conditions.bind(key.tenant_id.clone());
                format!(
                    "(created_at, tenant_id, exception_id) < ({created_at}, {tenant_id}, {exception_id})"
                )
            }
        };
        conditions.and(clause);
    }
    let order = match scope {
        Scope::Tenant(_) => "created_at DESC, exception_id DESC",
        Scope::AllTenants => "created_at DESC, tenant_id DESC, exception_id DESC",
    };
    Query {
        conditions,
        order,
        wanted,
    }
}

/// Exceptions with a deadline, soonest first.
pub(super) fn dated(
    scope: &Scope,
    filter: &ExceptionFilter,
    after: Option<&SlaKey>,
    wanted: u64,
) -> Query {
    let mut conditions = filtered(scope, filter);
    conditions.and("sla_deadline IS NOT NULL");
    if let Some(SlaKey {
        sla_deadline: Some(deadline),
        tenant_id,
        exception_id,
    }) = after
    {
        let deadline = conditions.bind(*deadline);
        let exception_id = conditions.bind(exception_id.clone());
        let clause = match scope {
            Scope::Tenant(_) => {
                format!("(sla_deadline, exception_id) > ({deadline}, {exception_id})")
            }
            Scope::AllTenants => {
                let tenant_id = conditions.bind(tenant_id.clone());
                format!(
                    "(sla_deadline, tenant_id, exception_id) > ({deadline}, {tenant_id}, {exception_id})"
                )
            }
        };
        conditions.and(clause);
    }
    let order = match scope {
        Scope::Tenant(_) => "sla_deadline, exception_id",
        Scope::AllTenants => "sla_deadline, tenant_id, exception_id",
    };
    Query {
        conditions,
        order,
        wanted,
    }
}

/// Exceptions without a deadline, by tenant and id.
pub(super) fn undated(
    scope: &Scope,
    filter: &ExceptionFilter,
    after: Option<&SlaKey>,
    wanted: u64,
) -> Query {
    let mut conditions = filtered(scope, filter);
    conditions.and("sla_deadline IS NULL");
    if let Some(key) = after {
        let exception_id = conditions.bind(key.exception_id.clone());
        let clause = match scope {
            Scope::Tenant(_) => format!("exception_id > {exception_id}"),
            Scope::AllTenants => {
                let tenant_id = conditions.bind(key.tenant_id.clone());
                format!("(tenant_id, exception_id) > ({tenant_id}, {exception_id})")
            }
        };
        conditions.and(clause);
    }
    let order = match scope {
        Scope::Tenant(_) => "exception_id",
        Scope::AllTenants => "tenant_id, exception_id",
    };
    Query {
        conditions,
        order,
        wanted,
    }
}

/// The scope and the filter as conditions.
fn filtered(scope: &Scope, filter: &ExceptionFilter) -> Conditions {
    let mut conditions = Conditions::default();
    if let Scope::Tenant(tenant_id) = scope {
        let tenant_id = conditions.bind(tenant_id.clone());
        conditions.and(format!("tenant_id = {tenant_id}"));
    }
    if let Some(status) = filter.status {
        let status = conditions.bind(status.as_str());
        conditions.and(format!("status = {status}"));
    }
    if let Some(severity) = filter.severity {
        let severity = conditions.bind(severity.as_str());
        conditions.and(format!("severity = {severity}"));
    }
    if let Some(exception_type) = &filter.exception_type {
        let exception_type = conditions.bind(exception_type.clone());
        conditions.and(format!("exception_type = {exception_type}"));
    }
    match filter.sla {
        Some(SlaState::Breached) => conditions.and("sla_breached_at IS NOT NULL"),
        Some(SlaState::Imminent) => conditions.and(
            "sla_imminent_at IS NOT NULL AND sla_breached_at IS NULL AND status <> 'resolved'",
        ),
        None => {}
    }
    let ranges = [
        ("created_at >=", filter.created_after),
        ("created_at <", filter.created_before),
        ("updated_at >=", filter.updated_after),
        ("updated_at <", filter.updated_before),
    ];
    for (comparison, bound) in ranges {
        if let Some(bound) = bound {
            let bound = conditions.bind(bound);
            conditions.and(format!("{comparison} {bound}"));
        }
    }
    if let Some(text) = &filter.id_contains {
        let pattern = conditions.bind(contains_pattern(text));
        conditions.and(format!(
            "LOWER(exception_id) LIKE LOWER({pattern}) ESCAPE '\\'"
        ));
    }
    conditions
}
