//! Replaying a dead letter: it is marked replayed and its original event appended again in one
//! transaction, then delivered. The CLI and the operator API share this.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::bus::{write_and_emit, Bus, Delivery};
use crate::store::replay::{self, ReplayError};

/// Replays dead letter `id`; the delivery resolves once its event is on the bus again.
pub async fn replay_dead_letter(
    db: &DatabaseConnection,
    bus: &dyn Bus,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Delivery, ReplayError> {
    let ((), delivery) = write_and_emit(db, bus, async |txn| {
        let row = replay::replay(txn, id, now).await?;
        Ok::<_, ReplayError>(((), vec![row]))
    })
    .await?;
    Ok(delivery)
}
