//! Offsets of the embedded log: each appended row gets its partition (`hash(key) % partitions`)
//! and the next offsets of that partition, taken from `bus_partitions` in the appending
//! transaction. The partition rows stay locked until commit, so rows become visible in offset
//! order. One statement updates every partition an append touches; on Postgres the rows are
//! first locked in (topic, partition) order, so two writers never deadlock.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Value};

use super::LogRow;
use crate::bus::embedded::signals::CHANNEL;
use crate::routing::slot_for;
use crate::store::statement;

/// Each row's (partition, offset), in the rows' order; within a partition, offsets follow the
/// rows' order. On Postgres, `notify_as` names this process in a NOTIFY per partition.
pub(super) async fn allocate(
    txn: &impl ConnectionTrait,
    partitions_of: &(dyn Fn(&str) -> u32 + Sync),
    notify_as: Option<&str>,
    rows: &[LogRow],
) -> Result<Vec<(i32, i64)>, DbErr> {
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    let mut groups: BTreeMap<(&str, i32), Vec<usize>> = BTreeMap::new();
    for (index, row) in rows.iter().enumerate() {
        let partition = slot_for(&row.key, partitions_of(&row.topic) as usize) as i32;
        groups
            .entry((row.topic.as_str(), partition))
            .or_default()
            .push(index);
    }
    if postgres && groups.len() > 1 {
        lock_in_order(txn, groups.keys()).await?;
    }
    let ends = advance(txn, &groups, notify_as.filter(|_| postgres)).await?;
    let mut positions = vec![(0, 0); rows.len()];
    for ((topic, partition), members) in &groups {
        let end = ends.get(&(topic.to_string(), *partition)).ok_or_else(|| {
            DbErr::Custom(format!(
                "topic {topic} has no partition {partition}; was it created?"
            ))
        })?;
        let count = members.len() as i64;
        for (ordinal, index) in members.iter().enumerate() {
            positions[*index] = (*partition, end - count + ordinal as i64);
        }
    }
    Ok(positions)
}

/// Locks the partition rows in (topic, partition) order.
async fn lock_in_order<'k>(
    txn: &impl ConnectionTrait,
    partitions: impl Iterator<Item = &'k (&'k str, i32)>,
) -> Result<(), DbErr> {
    let mut pairs = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    for (topic, partition) in partitions {
        pairs.push(format!("(${}, ${})", values.len() + 1, values.len() + 2));
        values.extend([(*topic).into(), (*partition).into()]);
    }
    let sql = format!(
        r#"SELECT 1 FROM bus_partitions WHERE (topic, "partition") IN ({})
           ORDER BY topic, "partition" FOR UPDATE"#,
        pairs.join(", ")
    );
    txn.query_all_raw(statement(txn, &sql, values)).await?;
    Ok(())
}

/// Moves each partition's next offset past its rows; returns the new next offsets.
async fn advance(
    txn: &impl ConnectionTrait,
    groups: &BTreeMap<(&str, i32), Vec<usize>>,
    notify_as: Option<&str>,
) -> Result<HashMap<(String, i32), i64>, DbErr> {
    let mut tuples = Vec::with_capacity(groups.len());
    let mut values: Vec<Value> = Vec::with_capacity(groups.len() * 3 + 1);
    for ((topic, partition), members) in groups {
        let at = values.len();
        tuples.push(format!(
            "(CAST(${} AS TEXT), CAST(${} AS INTEGER), CAST(${} AS BIGINT))",
            at + 1,
            at + 2,
            at + 3
        ));
        values.extend([
            (*topic).into(),
            (*partition).into(),
            (members.len() as i64).into(),
        ]);
    }
    // Delivered at commit, at most once per partition and transaction.
    let notify = match notify_as {
        Some(instance) => {
            values.push(instance.into());
            format!(
                r#", pg_notify('{CHANNEL}', ${} || '/' || bus_partitions.topic || '/' || bus_partitions."partition")"#,
                values.len()
            )
        }
        None => String::new(),
    };
    let sql = format!(
        r#"UPDATE bus_partitions SET next_offset = bus_partitions.next_offset + v.column3
           FROM (VALUES {}) AS v
           WHERE bus_partitions.topic = v.column1 AND bus_partitions."partition" = v.column2
           RETURNING bus_partitions.topic AS topic, bus_partitions."partition" AS "partition",
                     bus_partitions.next_offset AS next_offset{notify}"#,
        tuples.join(", ")
    );
    let returned = txn.query_all_raw(statement(txn, &sql, values)).await?;
    returned
        .into_iter()
        .map(|row| {
            Ok((
                (row.try_get("", "topic")?, row.try_get("", "partition")?),
                row.try_get("", "next_offset")?,
            ))
        })
        .collect()
}
