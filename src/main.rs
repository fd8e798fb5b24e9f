//! The `exception-worker` binary: parse flags and environment, install logging, run the chosen
//! command, map failures to exit codes (64 for configuration, 65 for bad input, 1 otherwise).
//! A fatal error is one JSON line under LOG_FORMAT=json, so log pipelines parse it like the
//! rest; otherwise it is text for a person.

use std::process::ExitCode;

use clap::Parser;
use exception_worker::cli::{run_command, CommandError};
use exception_worker::config::{Cli, EnvVars, EXIT_CONFIG};
use serde_json::json;

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
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.trim() == "json");
    match run_command(cli, EnvVars::from_env()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CommandError::Config(problems)) if json => {
            let message = format!("invalid configuration ({} problem(s))", problems.0.len());
            fatal(json, &message, &problems.0);
            ExitCode::from(EXIT_CONFIG as u8)
        }
        Err(CommandError::Config(problems)) => {
            eprint!("{problems}");
            ExitCode::from(EXIT_CONFIG as u8)
        }
        Err(CommandError::BadInput(problems)) => {
            let mut lines = problems.lines().map(str::to_owned);
            let message = lines.next().unwrap_or_default();
            let rest: Vec<String> = lines.collect();
            if json {
                fatal(json, &message, &rest);
            } else {
                eprintln!("{problems}");
            }
            ExitCode::from(65)
        }
        Err(CommandError::Failed(error)) => {
            fatal(json, &format!("exception-worker failed: {error:#}"), &[]);
            ExitCode::FAILURE
        }
    }
}

/// Writes the fatal error to stderr: one JSON line (level ERROR, the message, the problems), or
/// the message and one indented line per problem.
fn fatal(json: bool, message: &str, problems: &[String]) {
    if json {
        let line = json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "ERROR",
            "target": "exception_worker",
            "message": message,
            "problems": problems,
        });
        eprintln!("{line}");
        return;
    }
    eprintln!("{message}");
    for problem in problems {
        eprintln!("  - {problem}");
    }
}
