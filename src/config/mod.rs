//! Typed configuration, read once at start from the environment (envconfig) and the command
//! line (clap). `Settings::from_sources` validates everything and reports every problem at once.

mod cli;
mod env;
pub mod kafka;
mod parse;
pub mod retention;
mod roles;
mod sections;
mod settings;
mod tuning;
mod validate;

pub use cli::{Cli, Command, DlqCommand};
pub use env::{EnvVars, KafkaEnvVars};
pub use kafka::KafkaSettings;
pub use settings::Settings;
pub use validate::{
    redact_url_password, ConfigErrors, HttpSettings, SlaSettings, TuningSettings, AVAILABLE_ROLES,
};

/// Exit code for a usage or configuration error (EX_USAGE from sysexits.h).
pub const EXIT_CONFIG: i32 = 64;
