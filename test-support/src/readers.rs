//! Readers for assertions: row counts over SQL (never log lines) and Prometheus samples.

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};

pub fn statement(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// Runs a `SELECT COUNT(*) AS n ...` (or any query with one integer column `n`).
pub async fn count(db: &DatabaseConnection, sql: &str, values: Vec<Value>) -> i64 {
    let row = db
        .query_one_raw(statement(db, sql, values))
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .expect("a count returns one row");
    row.try_get::<i64>("", "n").expect("a count column n")
}

pub async fn processed_by(db: &DatabaseConnection, role: &str) -> i64 {
    let sql = "SELECT COUNT(*) AS n FROM processed_events WHERE role = $1";
    count(db, sql, vec![role.into()]).await
}

/// Rows of the tables an exactly-once pipeline must never grow on redelivery.
#[derive(Debug, PartialEq, Eq)]
pub struct RowCounts {
    pub exceptions: i64,
    pub events_by_type: Vec<(String, i64)>,
    pub processed_by_role: Vec<(String, i64)>,
}

pub async fn row_counts(db: &DatabaseConnection) -> RowCounts {
    let exceptions = count(db, "SELECT COUNT(*) AS n FROM exceptions", vec![]).await;
    let grouped = |sql: &'static str| async move {
        let rows = db
            .query_all_raw(statement(db, sql, vec![]))
            .await
            .expect("a grouped count");
        rows.into_iter()
            .map(|row| {
                let key: String = row.try_get("", "k").expect("column k");
                (key, row.try_get::<i64>("", "n").expect("column n"))
            })
            .collect::<Vec<_>>()
    };
    RowCounts {
        exceptions,
        events_by_type: grouped(
            "SELECT event_type AS k, COUNT(*) AS n FROM events GROUP BY event_type ORDER BY event_type",
        )
        .await,
        processed_by_role: grouped(
            "SELECT role AS k, COUNT(*) AS n FROM processed_events GROUP BY role ORDER BY role",
        )
        .await,
    }
}

/// Sum of the Prometheus text series named `exception_worker_{name}` carrying all `labels`.
pub fn metric_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let full_name = format!("exception_worker_{name}");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter_map(|(series, value)| {
            let (series_name, series_labels) = match series.split_once('{') {
                Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let matches = series_name == full_name
                && labels.iter().all(|(key, wanted)| {
                    series_labels
                        .split(',')
                        .any(|pair| pair == format!("{key}=\"{wanted}\""))
                });
            matches.then(|| value.parse::<f64>().expect("a numeric sample"))
        })
        .sum()
}
