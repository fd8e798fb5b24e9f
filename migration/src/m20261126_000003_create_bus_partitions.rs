//! Creates `bus_partitions`: the embedded bus's offset allocator, one row per (topic, partition).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BusPartitions::Table)
                    .if_not_exists()
                    .col(text(BusPartitions::Topic))
                    .col(integer(BusPartitions::Partition))
                    .col(big_integer(BusPartitions::NextOffset).default(0))
                    .primary_key(
                        Index::create()
                            .col(BusPartitions::Topic)
                            .col(BusPartitions::Partition),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BusPartitions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BusPartitions {
    Table,
    Topic,
    Partition,
    NextOffset,
}
