//! Typed configuration, read once at start from the environment and the command line (clap).
//! Every environment setting is described once, in `table`; that description drives reading the
//! environment (`env`), the simple checks (`checked`), `--help` and the tables of
//! docs/configuration.md (`docs`). `Settings::from_sources` (`validate`) adds the rules that are
//! not simple data and reports every problem at once.

mod checked;
mod cli;
pub mod docs;
mod env;
pub mod kafka;
pub mod retention;
mod roles;
mod sections;
mod setting;
mod settings;
pub mod table;
mod tuning;
mod validate;

pub use cli::{Cli, Command, DlqCommand};
pub use env::EnvVars;
pub use kafka::KafkaSettings;
pub use roles::{redact_url_password, AVAILABLE_ROLES};
pub use sections::{HttpSettings, SlaSettings};
pub use setting::{Allowed, Section, Setting, WhenUnset};
pub use settings::Settings;
pub use tuning::TuningSettings;
pub use validate::ConfigErrors;

/// Exit code for a usage or configuration error (EX_USAGE from sysexits.h).
pub const EXIT_CONFIG: i32 = 64;
