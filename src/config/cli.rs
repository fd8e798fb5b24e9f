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
    /// Probe a running worker's /readyz (default) or /healthz on HTTP_ADDR's port; exit 0 when
    /// healthy. For container health checks, where no curl is installed.
    Probe {
        #[arg(long, default_value = "readyz", value_parser = ["readyz", "healthz"])]
        endpoint: String,
    },
    /// Measure throughput and latency: ingest N exceptions through every role (or a trivial
    /// relay with --baseline) and print one JSON line.
    Bench {
        #[arg(long, default_value_t = 2000)]
        exceptions: usize,
        /// Exceptions per second to ingest; 0 ingests all at once.
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
        /// Run the trivial relay instead of the pipeline.
        #[arg(long)]
        baseline: bool,
        /// How far each exception goes: through intake, through policy, or until terminal.
        #[arg(long, default_value = "terminal", value_parser = ["intake", "policy", "terminal"])]
        until: String,
        /// Only ingest and measure; workers run in other processes on the same Kafka and database.
        #[arg(long)]
        external_workers: bool,
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
    /// Inspect, replay or discard dead letters.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum DlqCommand {
    /// List dead letters, oldest first (JSON lines).
    List {
        /// pending, replayed, discarded or all.
        #[arg(long, default_value = "pending")]
        status: String,
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
    /// Show one dead letter with its original message.
    Show { id: i64 },
    /// Re-publish the original event of a dead letter (or of every pending one with --all).
    Replay {
        id: Option<i64>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Close a dead letter without replaying it.
    Discard { id: i64 },
}
