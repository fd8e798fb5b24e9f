//! The commands behind the binary: `run` (the default), `check`, `migrate`, `ingest`, `bench`,
//! `dlq` and `probe`. Configuration and pack problems are collected together so one start
//! reports all of them.

use std::sync::Arc;

use anyhow::Context;

use std::time::Duration;

use crate::app::{open_database, App, AppOptions};

pub use crate::command_error::CommandError;
use crate::config::{docs, table, Cli, Command, ConfigErrors, EnvVars, Settings};
use crate::ingest_file::ingest_file;
use crate::packs::Packs;
use crate::telemetry;

pub fn run_command(cli: Cli, env: EnvVars) -> Result<(), CommandError> {
    let command = cli.command.unwrap_or(Command::Run);
    if let Command::Probe { endpoint } = &command {
        return probe(env.get(&table::HTTP_ADDR).unwrap_or_default(), endpoint);
    }
    if let Command::Settings { markdown, update } = command {
        return print_settings(markdown, update.as_deref());
    }
    let need_roles = matches!(command, Command::Run | Command::Check);
    let settings = Settings::from_sources(&env, cli.roles.as_deref(), need_roles);
    let needs_packs = matches!(
        command,
        Command::Run | Command::Check | Command::Ingest { .. } | Command::Bench { .. }
    );
    let config_dir = env.get(&table::CONFIG_DIR).unwrap_or_default();
    let packs = needs_packs.then(|| Packs::load(std::path::Path::new(config_dir)));
    let mut problems = match &settings {
        Ok(_) => Vec::new(),
        Err(errors) => errors.0.clone(),
    };
    if let Some(Err(pack_errors)) = &packs {
        problems.extend(
            pack_errors
                .iter()
                .map(|error| format!("CONFIG_DIR pack {error}")),
        );
    }
    if !problems.is_empty() {
        return Err(CommandError::Config(ConfigErrors(problems)));
    }
    let (Ok(settings), packs) = (settings, packs.and_then(Result::ok)) else {
        return Err(CommandError::Config(ConfigErrors(vec![
            "configuration could not be read".into(),
        ])));
    };
    if let Command::Check = command {
        println!("{}", check_report(&settings, packs.as_ref()));
        return Ok(());
    }
    telemetry::init(settings.log_format, std::io::stderr);
    let system = actix_rt::System::new();
    let result = run_on(&system, command, settings, packs);
    release(system);
    result
}

/// Drops the actor system inside a runtime context of its own. Tasks still alive after the
/// drain deadline (a handler stuck on one event) may hold pooled database connections, and a
/// pooled connection hands itself back through the runtime when dropped: outside any runtime
/// that panics ("requires a Tokio context") instead of exiting cleanly.
fn release(system: actix_rt::SystemRunner) {
    match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => {
            let _context = runtime.enter();
            drop(system);
        }
        // Without a runtime to drop them in, the process exits without dropping them at all.
        Err(_) => std::mem::forget(system),
    }
}

fn run_on(
    system: &actix_rt::SystemRunner,
    command: Command,
    settings: Settings,
    packs: Option<Packs>,
) -> Result<(), CommandError> {
    match command {
        Command::Run => {
            let packs = Arc::new(packs.context("packs were not loaded")?);
            system.block_on(run(settings, packs))?;
        }
        Command::Migrate => system.block_on(migrate(settings))?,
        Command::Probe { .. } | Command::Check | Command::Settings { .. } => {}
        Command::Bench {
            exceptions,
            rate,
            baseline,
            until,
            external_workers,
            timeout_secs,
        } => {
            let stage = match (baseline, until.as_str()) {
                (true, _) => crate::bench::Stage::Baseline,
                (false, "intake") => crate::bench::Stage::Intake,
                (false, "policy") => crate::bench::Stage::Policy,
                _ => crate::bench::Stage::Terminal,
            };
            let packs = Arc::new(packs.context("packs were not loaded")?);
            let options = crate::bench::BenchOptions {
                exceptions,
                rate,
                stage,
                external_workers,
                timeout: Duration::from_secs(timeout_secs),
            };
            let report = system.block_on(bench(settings, packs, options))?;
            println!(
                "{}",
                serde_json::to_string(&report).context("Failed to encode the report")?
            );
        }
        Command::Dlq { command } => system.block_on(crate::dlq_command::run(settings, command))?,
        Command::Ingest { file, tenant } => {
            let packs = packs.context("packs were not loaded")?;
            system.block_on(ingest_file(settings, packs, file, tenant))?;
        }
    }
    Ok(())
}

async fn run(settings: Settings, packs: Arc<Packs>) -> Result<(), CommandError> {
    let app = App::build(settings, packs, AppOptions::default()).await?;
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}

/// Runs the benchmark; on the embedded default it uses a fresh database file it removes after.
async fn bench(
    mut settings: Settings,
    packs: Arc<Packs>,
    options: crate::bench::BenchOptions,
) -> Result<crate::bench::BenchReport, CommandError> {
    let scratch = if std::env::var_os("DATABASE_URL").is_none() {
        let dir = settings
            .data_dir
            .join(format!("bench-{}", uuid::Uuid::new_v4().simple()));
        settings.database_url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
        Some(dir)
    } else {
        None
    };
    let report = crate::bench::run(settings, packs, options).await;
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(report?)
}

async fn migrate(settings: Settings) -> Result<(), CommandError> {
    let mut settings = settings;
    settings.run_migrations = true;
    open_database(&settings).await?;
    tracing::info!("Migrations applied.");
    Ok(())
}

/// What `check` prints once the environment and the packs are valid: what would run.
fn check_report(settings: &Settings, packs: Option<&Packs>) -> String {
    let roles: Vec<&str> = settings.roles.iter().map(|role| role.as_str()).collect();
    let bus = match &settings.kafka {
        Some(kafka) => format!("Kafka at {}", kafka.bootstrap_servers),
        None => "embedded (in the database)".to_owned(),
    };
    let tenants: Vec<&str> = packs
        .map(|packs| packs.tenant_ids().collect())
        .unwrap_or_default();
    format!(
        "configuration is valid\n  roles: {} (CONCURRENCY={})\n  database: {}\n  bus: {bus}\n  \
         packs: {} tenant(s): {}\n  http: {}",
        roles.join(", "),
        settings.concurrency,
        crate::config::redact_url_password(&settings.database_url),
        tenants.len(),
        tenants.join(", "),
        settings.http_addr,
    )
}

/// `settings`: prints every setting (as text, or as the markdown tables), or rewrites the
/// tables of a markdown page in place.
fn print_settings(markdown: bool, update: Option<&std::path::Path>) -> Result<(), CommandError> {
    let Some(path) = update else {
        let text = if markdown {
            docs::markdown()
        } else {
            docs::help_text()
        };
        print!("{text}");
        return Ok(());
    };
    let page = std::fs::read_to_string(path)
        .with_context(|| format!("Failed to read {}", path.display()))?;
    let updated = docs::update_page(&page)
        .with_context(|| format!("Cannot update the settings tables of {}", path.display()))?;
    std::fs::write(path, updated).with_context(|| format!("Failed to write {}", path.display()))?;
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(terminate) => terminate,
            Err(error) => {
                tracing::warn!(%error, "Cannot listen for SIGTERM; only SIGINT stops the process.");
                let _interrupted = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _interrupted = interrupt.await;
    }
}

/// GET /readyz or /healthz of the worker listening on `http_addr`'s port, on loopback.
fn probe(http_addr: &str, endpoint: &str) -> Result<(), CommandError> {
    use std::io::{Read, Write};
    let port = http_addr
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .ok_or_else(|| {
            CommandError::Config(ConfigErrors(vec![format!(
                "HTTP_ADDR: '{http_addr}' has no port"
            )]))
        })?;
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_secs(3);
    let mut stream = std::net::TcpStream::connect_timeout(&address, timeout)
        .with_context(|| format!("Failed to connect to {address}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .context("Failed to set a timeout")?;
    let request = format!("GET /{endpoint} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .context("Failed to send the probe")?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .context("Failed to read the probe answer")?;
    let status_line = response.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
        Err(CommandError::Failed(anyhow::anyhow!(
            "/{endpoint} answered '{status_line}': {body}"
        )))
    }
}
