//! Command-line flags and subcommands (clap). Environment variables keep their meaning; flags
//! only choose what to run.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "exception-worker",
    version,
    about = "Carries operational exceptions from reported to resolved or escalated.",
    long_about = "Carries operational exceptions from reported to resolved or escalated.\n\n\
        Configuration comes from the environment variables listed below (docs/configuration.md \
        explains them further); `exception-worker check` validates them.",
    after_long_help = super::docs::help_text()
)]
pub struct Cli {
    /// Roles to run in this process: a comma-separated list of intake, triage, policy,
    /// playbook, tool, feedback, sla_monitor, or `all`. Overrides the WORKER_TYPE variable.
    #[arg(long, value_name = "ROLES")]
    pub roles: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the worker roles (the default when no subcommand is given).
    Run,
    /// Apply pending database migrations (DATABASE_URL), then exit.
    Migrate,
    /// Check the environment and the packs (CONFIG_DIR) without starting anything; print what
    /// would run and exit 0, or list every problem and exit 64.
    Check,
    /// Append raw exceptions from a JSON-lines file (one JSON object per line) for a tenant.
    Ingest {
        /// The JSON-lines file to read; `-` reads standard input. Every line is checked before
        /// anything is appended.
        file: PathBuf,
        /// The tenant the exceptions belong to (a tenant pack under the CONFIG_DIR variable's
        /// tenants/ folder).
        #[arg(long)]
        tenant: String,
    },
    /// Probe a running worker's /readyz (default) or /healthz on HTTP_ADDR's port; exit 0 when
    /// healthy. For container health checks, where no curl is installed.
    Probe {
        /// The probe to ask; the port is the HTTP_ADDR variable's.
        #[arg(long, default_value = "readyz", value_parser = ["readyz", "healthz"])]
        endpoint: String,
    },
    /// Measure throughput and latency: ingest N exceptions through every role (or a trivial
    /// relay with --baseline) and print one JSON line.
    Bench {
        /// Exceptions to ingest. The embedded default runs on a scratch database under the
        /// DATA_DIR variable's folder; with DATABASE_URL set, on that database.
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
        /// Only ingest and measure; workers run in other processes on the same Kafka
        /// (KAFKA_BOOTSTRAP_SERVERS) and database (DATABASE_URL).
        #[arg(long)]
        external_workers: bool,
        /// Give up when the run has not finished after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
    /// List every environment setting with its default, allowed values and help.
    Settings {
        /// Print the markdown tables of docs/configuration.md instead, each between its
        /// marker comments.
        #[arg(long)]
        markdown: bool,
        /// Rewrite the settings tables of this markdown file in place (between its marker
        /// comments); the rest of the file stays as it is.
        #[arg(long, value_name = "FILE", requires = "markdown")]
        update: Option<PathBuf>,
    },
    /// Inspect, replay or discard dead letters.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum DlqCommand {
    /// List dead letters of the database (DATABASE_URL), oldest first (JSON lines).
    List {
        /// Which letters to list.
        #[arg(long, value_enum, default_value_t = LetterStatus::Pending)]
        status: LetterStatus,
        /// List at most this many.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        limit: u64,
    },
    /// Show one dead letter with its original message.
    Show {
        /// The dead letter's id (the `id` of `dlq list`).
        id: i64,
    },
    /// Re-publish the original event of a dead letter (or of every pending one with --all) on
    /// the configured bus (KAFKA_BOOTSTRAP_SERVERS, or the embedded one).
    Replay {
        /// The dead letter's id (the `id` of `dlq list`).
        id: Option<i64>,
        /// Every pending dead letter.
        #[arg(long, conflicts_with = "id")]
        all: bool,
    },
    /// Close a dead letter without replaying it.
    Discard {
        /// The dead letter's id (the `id` of `dlq list`).
        id: i64,
    },
}

/// The statuses `dlq list` filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LetterStatus {
    Pending,
    Replayed,
    Discarded,
    All,
}

impl LetterStatus {
    /// The stored status, or None for every status.
    pub fn stored(self) -> Option<&'static str> {
        match self {
            LetterStatus::Pending => Some("pending"),
            LetterStatus::Replayed => Some("replayed"),
            LetterStatus::Discarded => Some("discarded"),
            LetterStatus::All => None,
        }
    }
}
