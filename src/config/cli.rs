//! Command-line flags and subcommands (clap). Environment variables keep their meaning; flags
//! only choose what to run.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "exception-worker",
    version,
    about = "Carries operational exceptions from reported to resolved or escalated.",
    long_about = "Carries operational exceptions from reported to resolved or escalated.\n\n\
        Configuration comes from the environment (WORKER_TYPE, CONCURRENCY, GROUP_ID, DATABASE_URL, \
        KAFKA_BOOTSTRAP_SERVERS, HTTP_ADDR, CONFIG_DIR, ...); see the README for the full table."
)]
pub struct Cli {
    /// Roles to run in this process: a comma-separated list, or `all`. Overrides WORKER_TYPE.
    #[arg(long, value_name = "ROLES")]
    pub roles: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the worker roles (the default when no subcommand is given).
    Run,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Append raw exceptions from a JSON-lines file (one JSON object per line) for a tenant.
    Ingest {
        /// The JSON-lines file to read; `-` reads standard input.
        file: PathBuf,
        /// The tenant the exceptions belong to (a tenant pack under CONFIG_DIR/tenants).
        #[arg(long)]
        tenant: String,
    },
}
