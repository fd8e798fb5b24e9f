//! How a command fails, so `main` picks the exit code: a configuration problem (64), bad input
//! (65), or anything else (1).

use crate::config::ConfigErrors;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Config(ConfigErrors),
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}
