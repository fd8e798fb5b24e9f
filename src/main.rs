//! The `exception-worker` binary: parse flags and environment, install logging, run the chosen
//! command, map failures to exit codes (64 for configuration, 65 for bad input, 1 otherwise).

use std::process::ExitCode;

use clap::Parser;
use envconfig::Envconfig;
use exception_worker::cli::{run_command, CommandError};
use exception_worker::config::{Cli, EnvVars, EXIT_CONFIG};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let usage_error = error.use_stderr();
            let _printed = error.print();
            return if usage_error {
                ExitCode::from(EXIT_CONFIG as u8)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let env = match EnvVars::init_from_env() {
        Ok(env) => env,
        Err(error) => {
            eprintln!("invalid configuration: {error}");
            return ExitCode::from(EXIT_CONFIG as u8);
        }
    };
    match run_command(cli, env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CommandError::Config(problems)) => {
            eprint!("{problems}");
            ExitCode::from(EXIT_CONFIG as u8)
        }
        Err(CommandError::BadInput(problems)) => {
            eprintln!("{problems}");
            ExitCode::from(65)
        }
        Err(CommandError::Failed(error)) => {
            eprintln!("exception-worker failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}
