//! Writing state and the events that announce it together: one transaction for the caller's
//! writes and the rows they emit, then the delivery of those rows once it committed. Every
//! writer outside the handlers (ingestion, step completions, replays, the SLA monitor, dead
//! letters) goes through here, so each gets the same guarantee: no event without its state, no
//! state without its event.

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};

use super::{Bus, Delivery, LogRow};

/// Runs `work` in a transaction, appends the rows it returns in that transaction, commits, and
/// hands the rows to the bus. The delivery resolves once they are on the bus; callers that
/// answer a client need not wait for it (the rows are durable on commit).
pub async fn write_and_emit<T, E>(
    db: &DatabaseConnection,
    bus: &dyn Bus,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<(T, Vec<LogRow>), E>,
) -> Result<(T, Delivery), E>
where
    E: From<DbErr>,
{
    let txn = db.begin().await?;
    let (value, rows) = work(&txn).await?;
    let appended = bus.append(&txn, rows).await?;
    txn.commit().await?;
    Ok((value, bus.deliver(appended).await))
}
