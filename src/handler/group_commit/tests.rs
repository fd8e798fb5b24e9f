//! Group commit on a real SQLite file: members share a transaction, nobody returns before the
//! commit, a failing member's writes never commit (the others run again), a failed commit fails
//! everyone, and after a failure the lane isolates members in savepoints. Members run on one
//! thread, as handlers do on their arbiters; the database works on its own threads.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};
use tokio::sync::Barrier;

use super::{Claiming, Effects, GroupCommit};
use crate::bus::embedded::EmbeddedBus;
use crate::handler::failure::AttemptFailure;
use crate::metrics::Metrics;

async fn database() -> (tempfile::TempDir, String, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/g.db?mode=rwc", dir.path().display());
    let db = crate::store::database::connect(&url, 1).await.unwrap();
    db.execute_unprepared(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE rows (id INTEGER PRIMARY KEY,
             parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);",
    )
    .await
    .unwrap();
    (dir, url, db)
}

async fn insert(
    txn: &DatabaseTransaction,
    id: i64,
    parent: Option<i64>,
) -> Result<(), AttemptFailure> {
    let parent = parent.map_or("NULL".to_owned(), |parent| parent.to_string());
    let sql = format!("INSERT INTO rows (id, parent) VALUES ({id}, {parent})");
    txn.execute_unprepared(&sql).await?;
    Ok(())
}

/// Rows as seen by a connection of its own: only committed data.
async fn committed_ids(url: &str) -> Vec<i64> {
    let reader = crate::store::database::connect(url, 1).await.unwrap();
    let rows = reader
        .query_all_raw(sea_orm::Statement::from_string(
            reader.get_database_backend(),
            "SELECT id FROM rows ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<i64>("", "id").unwrap())
        .collect()
}

fn group(db: &DatabaseConnection) -> (Arc<GroupCommit>, Metrics) {
    let metrics = Metrics::new().unwrap();
    let bus = Arc::new(EmbeddedBus::new(
        db.clone(),
        db.clone(),
        1,
        None,
        "test".into(),
    ));
    let group = GroupCommit::new(db.clone(), bus, 1, 32, metrics.clone());
    (Arc::new(group), metrics)
}

/// What a member wrote, with no claim and no events.
fn written<T>(value: T) -> Effects<T> {
    Effects::Written {
        value,
        claim: None,
        rows: Vec::new(),
    }
}

/// Writes row `id` (with `parent`), failing afterwards when `fail` is set.
async fn member(
    group: Arc<GroupCommit>,
    id: i64,
    parent: Option<i64>,
    fail: bool,
) -> Result<i64, AttemptFailure> {
    group
        .run("lane", async |txn, _claiming| {
            insert(txn, id, parent).await?;
            if fail {
                return Err(AttemptFailure::transient("role failed"));
            }
            Ok(written(id))
        })
        .await
        .map(|committed| committed.value)
}

/// Starts a member that holds the lane for a while, so the next ones queue behind it.
async fn hold_the_lane(
    group: &Arc<GroupCommit>,
    id: i64,
) -> tokio::task::JoinHandle<Result<i64, AttemptFailure>> {
    let gate = Arc::new(Barrier::new(2));
    let holder = {
        let (group, gate) = (group.clone(), gate.clone());
        actix_rt::spawn(async move {
            let mut first_run = true;
            group
                .run("lane", async |txn, _claiming| {
                    // A run again (after another member's failure) does not wait twice.
                    if std::mem::take(&mut first_run) {
                        gate.wait().await;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    insert(txn, id, None).await?;
                    Ok(written(id))
                })
                .await
                .map(|committed| committed.value)
        })
    };
    gate.wait().await;
    holder
}

#[actix_rt::test]
async fn an_idle_member_commits_alone_and_its_row_is_visible_on_return() {
    let (_dir, url, db) = database().await;
    let (group, metrics) = group(&db);
    assert_eq!(member(group, 1, None, false).await.unwrap(), 1);
    assert_eq!(committed_ids(&url).await, vec![1]);
    assert_eq!(metrics.group_commit_events.get_sample_count(), 1);
    assert_eq!(metrics.group_commit_events.get_sample_sum(), 1.0);
}

#[actix_rt::test]
async fn queued_members_share_commits_and_a_failing_member_never_commits() {
    let (_dir, url, db) = database().await;
    let (group, metrics) = group(&db);
    let holder = hold_the_lane(&group, 1).await;
    let others: Vec<_> = (2..=6_i64)
        .map(|id| actix_rt::spawn(member(group.clone(), id, None, id == 4)))
        .collect();
    assert_eq!(holder.await.unwrap().unwrap(), 1);
    for (id, other) in (2..=6_i64).zip(others) {
        let result = other.await.unwrap();
        if id == 4 {
            assert_eq!(result.unwrap_err().reason, "role failed");
        } else {
            assert_eq!(result.unwrap(), id);
        }
    }
    assert_eq!(committed_ids(&url).await, vec![1, 2, 3, 5, 6]);
    // Every kept write was committed once, in fewer commits than members.
    assert_eq!(metrics.group_commit_events.get_sample_sum(), 5.0);
    let commits = metrics.group_commit_events.get_sample_count();
    assert!(commits < 5, "five kept members took {commits} commits");
}

#[actix_rt::test]
async fn a_failed_commit_fails_every_member_and_the_lane_recovers() {
    let (_dir, url, db) = database().await;
    let (group, _metrics) = group(&db);
    let holder = hold_the_lane(&group, 1).await;
    // A deferred foreign key passes its statement and fails the commit.
    let breaker = actix_rt::spawn(member(group.clone(), 2, Some(99), false));
    let holder = holder.await.unwrap();
    let breaker = breaker.await.unwrap();
    assert!(
        holder.is_err() && breaker.is_err(),
        "{holder:?} {breaker:?}"
    );
    assert!(committed_ids(&url).await.is_empty());
    assert_eq!(member(group, 3, None, false).await.unwrap(), 3);
    assert_eq!(committed_ids(&url).await, vec![3]);
}

#[actix_rt::test]
async fn after_a_failure_members_run_in_savepoints_and_an_unchanged_one_writes_nothing() {
    let (_dir, url, db) = database().await;
    let (group, metrics) = group(&db);
    assert!(member(group.clone(), 1, None, true).await.is_err());
    // The lane is careful now: a member that reports no effects has its writes undone.
    let value = group
        .run("lane", async |txn, _claiming| {
            insert(txn, 2, None).await?;
            Ok(Effects::Unchanged("duplicate"))
        })
        .await
        .unwrap()
        .value;
    assert_eq!(value, "duplicate");
    assert_eq!(member(group, 3, None, false).await.unwrap(), 3);
    assert_eq!(committed_ids(&url).await, vec![3]);
    // The first failure ran without its claim, so it ran once more, carefully, before it was
    // reported; nothing else ran twice.
    assert_eq!(metrics.group_commit_reruns.get(), 1);
}

#[actix_rt::test]
async fn a_member_cut_off_mid_work_tears_the_batch_and_nothing_of_it_commits() {
    let (_dir, url, db) = database().await;
    let (group, metrics) = group(&db);
    // A member already waiting in the batch when the next one is cut off.
    let holder = hold_the_lane(&group, 1).await;
    let cut_off = {
        let group = group.clone();
        actix_rt::spawn(async move {
            let work = group.run("lane", async |txn, _claiming| {
                insert(txn, 2, None).await?;
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(written(2))
            });
            tokio::time::timeout(Duration::from_millis(400), work).await
        })
    };
    // The holder leaves the batch open for the queued member, then waits for its verdict.
    assert!(
        cut_off.await.unwrap().is_err(),
        "the member was not cut off"
    );
    // The next member finds the batch torn: it rolls it back and the holder runs again.
    assert_eq!(member(group.clone(), 3, None, false).await.unwrap(), 3);
    assert_eq!(holder.await.unwrap().unwrap(), 1);
    assert_eq!(committed_ids(&url).await, vec![1, 3]);
    assert!(metrics.group_commit_reruns.get() >= 1);
}

#[actix_rt::test]
async fn a_member_failing_in_its_savepoint_leaves_no_transaction_open() {
    let (_dir, url, db) = database().await;
    let (group, _metrics) = group(&db);
    // The first failure turns the lane careful; the second fails inside its savepoint.
    assert!(member(group.clone(), 1, None, true).await.is_err());
    assert!(member(group.clone(), 2, None, true).await.is_err());
    // Whoever writes next outside the group (the dead-letter path does) gets the one SQLite
    // connection: the failed member must not have left its batch holding it.
    let write = db.execute_unprepared("INSERT INTO rows (id) VALUES (3)");
    let written = tokio::time::timeout(Duration::from_secs(2), write).await;
    assert!(
        matches!(written, Ok(Ok(_))),
        "a write after the failure waited: {written:?}"
    );
    assert_eq!(committed_ids(&url).await, vec![3]);
}

#[actix_rt::test]
async fn a_claim_found_taken_at_commit_runs_the_member_again_and_it_sees_its_duplicate() {
    let (_dir, url, db) = database().await;
    db.execute_unprepared(
        "CREATE TABLE processed_events (event_id TEXT, role TEXT, processed_at TEXT,
             PRIMARY KEY (event_id, role));
         INSERT INTO processed_events VALUES ('event-1', 'intake', 'earlier');",
    )
    .await
    .unwrap();
    let (group, metrics) = group(&db);
    let claim = crate::store::processed::ClaimKey {
        event_id: "event-1".into(),
        role: "intake",
    };
    let outcome = group
        .run("lane", async |txn, claiming| match claiming {
            Claiming::InWork => {
                match crate::store::processed::claim(txn, &claim.event_id, claim.role).await? {
                    crate::store::processed::Claim::Duplicate => {
                        Ok(Effects::Unchanged("duplicate"))
                    }
                    crate::store::processed::Claim::Claimed => Ok(written("new")),
                }
            }
            Claiming::AtCommit => {
                insert(txn, 7, None).await?;
                Ok(Effects::Written {
                    value: "new",
                    claim: Some(claim.clone()),
                    rows: Vec::new(),
                })
            }
        })
        .await
        .unwrap();
    assert_eq!(outcome.value, "duplicate");
    assert!(
        committed_ids(&url).await.is_empty(),
        "a duplicate's work committed"
    );
    assert_eq!(metrics.group_commit_reruns.get(), 1);
}

#[actix_rt::test]
async fn members_get_their_own_rows_appended_together_at_commit() {
    use crate::bus::{Bus, LogRow, OutgoingEvent};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/g.db?mode=rwc", dir.path().display());
    let db = crate::store::database::connect(&url, 1).await.unwrap();
    crate::store::database::prepare_schema(&db, true)
        .await
        .unwrap();
    let bus = Arc::new(EmbeddedBus::new(
        db.clone(),
        db.clone(),
        2,
        None,
        "test".into(),
    ));
    bus.ensure_topics(&["t"]).await.unwrap();
    let metrics = Metrics::new().unwrap();
    let group = Arc::new(GroupCommit::new(db.clone(), bus, 1, 32, metrics.clone()));
    let emit = |id: &str| {
        let envelope = crate::envelope::Envelope::new(
            "Test",
            "acme",
            Some(id.to_owned()),
            Default::default(),
            chrono::Utc::now(),
        );
        LogRow::from(&OutgoingEvent {
            topic: "t",
            envelope,
        })
    };
    // Several members at once, so they share a batch.
    let members: Vec<_> = (0..6)
        .map(|n| {
            let group = group.clone();
            let rows = vec![emit(&format!("EX-{n}")), emit(&format!("EX-{n}"))];
            let ids: Vec<String> = rows.iter().map(|row| row.event_id.clone()).collect();
            let handle = actix_rt::spawn(async move {
                let mut rows = Some(rows);
                group
                    .run("lane", async |_txn, _claiming| {
                        // The first holds the lane a while, so the others queue behind it.
                        if n == 0 && rows.is_some() {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Ok(Effects::Written {
                            value: n,
                            claim: None,
                            rows: rows.take().unwrap_or_default(),
                        })
                    })
                    .await
            });
            (ids, handle)
        })
        .collect();
    for (ids, handle) in members {
        let committed = handle.await.unwrap().unwrap();
        let appended: Vec<String> = committed
            .appended
            .rows
            .iter()
            .map(|row| row.envelope.to_string())
            .collect();
        assert_eq!(
            appended.len(),
            2,
            "member {} got {appended:?}",
            committed.value
        );
        for (id, envelope) in ids.iter().zip(&appended) {
            assert!(
                envelope.contains(id),
                "member {} got another's row",
                committed.value
            );
        }
        assert!(committed
            .appended
            .rows
            .iter()
            .all(|row| row.position.is_some()));
    }
    let stored = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, COUNT(DISTINCT \"partition\" || '/' || log_offset) AS positions FROM events",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.try_get::<i64>("", "n").unwrap(), 12);
    assert_eq!(stored.try_get::<i64>("", "positions").unwrap(), 12);
    let commits = metrics.group_commit_events.get_sample_count();
    assert!(commits < 6, "six members took {commits} commits");
}
