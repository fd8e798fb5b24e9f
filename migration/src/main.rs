//! Migration CLI: `up`, `down`, `fresh`, `status`, ... against `DATABASE_URL` or `-u <url>`.

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migration::Migrator).await;
}
