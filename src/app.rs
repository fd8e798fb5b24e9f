//! The only wiring place: `App::build` serves the probes at once, connects the database and
//! the bus (waiting for them up to STARTUP_TIMEOUT_SECS), prepares the schema and the topics,
//! starts the overseer and the HTTP server, and returns the bound port.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use actix_web::dev::ServerHandle;
use anyhow::Context as _;
use sea_orm::DatabaseConnection;

use crate::bus::embedded::EmbeddedBus;
use crate::bus::kafka::reachable::broker_answers;
use crate::bus::kafka::KafkaBus;
use crate::bus::Bus;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::dependency_probe;
use crate::handler::group_commit::GroupCommit;
use crate::handler::{FaultHook, HandlerDeps};
use crate::health::Health;
use crate::heartbeat::ProcessIdentity;
use crate::http::startup_server::StartupServer;
use crate::http::{serve, BodyGate, HttpState};
use crate::maintenance::{MaintenanceChild, MaintenancePlan};
use crate::metrics::Metrics;
use crate::model::{topics, RoleName};
use crate::overseer::{
    ChildKind, Overseer, RolePlan, Shutdown, ShutdownReport, SlaMonitorAddress, StopChildren,
    StopMaintenance,
};
use crate::packs::Packs;
use crate::roles::{self, Role};
use crate::runtime::Runtime;
use crate::sla_monitor::SlaMonitor;
use crate::startup::StartupDeadline;
use crate::store::database;
use crate::tools::ToolRunner;

/// Seams a test (or an embedding program) may replace.
pub struct AppOptions {
    pub clock: Arc<dyn Clock>,
    pub faults: Option<Arc<dyn FaultHook>>,
    /// Implementations that replace the built-in role of the same name (the benchmark's
    /// baseline relay).
    pub roles: Vec<Arc<dyn Role>>,
    /// Where the HTTP server listens; defaults to binding HTTP_ADDR.
    pub listener: Option<TcpListener>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            faults: None,
            roles: Vec::new(),
            listener: None,
        }
    }
}

pub struct App {
    pub http_port: u16,
    /// What the process's actors and routes share.
    pub runtime: Runtime,
    settings: Settings,
    overseer: Addr<Overseer>,
    server: ServerHandle,
    server_task: actix_rt::task::JoinHandle<std::io::Result<()>>,
    probe_task: actix_rt::task::JoinHandle<()>,
}

/// Connects and prepares the database as configured.
pub async fn open_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let db = database::connect(&settings.database_url, settings.db_max_connections).await?;
    database::prepare_schema(&db, settings.run_migrations).await?;
    Ok(db)
}

/// The bus as configured (Kafka when KAFKA_BOOTSTRAP_SERVERS is set, else embedded), with
/// every topic created. `instance` names this process in the embedded bus's notifications.
pub async fn open_bus(
    settings: &Settings,
    db: &DatabaseConnection,
    metrics: &Metrics,
    health: &Health,
    instance: &str,
) -> anyhow::Result<Arc<dyn Bus>> {
    let bus: Arc<dyn Bus> = match &settings.kafka {
        Some(kafka) => Arc::new(
            KafkaBus::new(
                kafka.clone(),
                db.clone(),
                metrics.clone(),
                health.clone(),
                settings.tuning.shutdown_timeout,
            )
            .context("Failed to create the Kafka clients")?,
        ),
        None => {
            let listen_url = (!settings.uses_sqlite()).then(|| settings.database_url.clone());
            Arc::new(EmbeddedBus::new(
                db.clone(),
                database::committed_reader(&settings.database_url, db).await?,
                settings.tuning.embedded_partitions,
                listen_url,
                instance.to_owned(),
            ))
        }
    };
    bus.ensure_topics(&topics::ALL)
        .await
        .context("Failed to create topics")?;
    Ok(bus)
}

/// Connects the database and the bus, waiting for each (up to STARTUP_TIMEOUT_SECS) while it
/// does not answer; readiness names the one waited for.
async fn open_dependencies(
    settings: &Settings,
    metrics: &Metrics,
    health: &Health,
    instance: &str,
) -> anyhow::Result<(DatabaseConnection, Arc<dyn Bus>)> {
    let deadline = StartupDeadline::new(settings.tuning.startup_timeout);
    let db = if settings.uses_sqlite() {
        // A local file: nothing to wait for, and a bad path will not heal by itself.
        database::connect(&settings.database_url, settings.db_max_connections).await?
    } else {
        let what = format!(
            "the database at {} (DATABASE_URL)",
            crate::config::redact_url_password(&settings.database_url)
        );
        deadline
            .wait_for(health, &what, |_remaining| {
                database::connect(&settings.database_url, settings.db_max_connections)
            })
            .await?
    };
    database::prepare_schema(&db, settings.run_migrations).await?;
    health.set_database_reachable(true);
    if let Some(kafka) = &settings.kafka {
        let what = format!(
            "the broker at {} (KAFKA_BOOTSTRAP_SERVERS)",
            kafka.bootstrap_servers
        );
        deadline
            .wait_for(health, &what, |remaining| {
                broker_answers(kafka, remaining.min(BROKER_ASK_TIMEOUT))
            })
            .await?;
    }
    let bus = open_bus(settings, &db, metrics, health, instance).await?;
    Ok((db, bus))
}

/// How long one start-up question to the broker may take.
const BROKER_ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// The maintenance actors' settings: the SLA monitor when sla_monitor is among the roles, the
/// sweeper when the bus publishes through an outbox, and what the heartbeat says of this
/// process.
fn maintenance_plan(settings: &Settings, instance: &str) -> MaintenancePlan {
    MaintenancePlan {
        instance_id: instance.to_owned(),
        sweeper: settings.kafka.as_ref().map(|kafka| kafka.sweeper.clone()),
        retention: settings.retention.clone(),
        sla: settings
            .roles
            .contains(&RoleName::SlaMonitor)
            .then(|| settings.sla.clone()),
        identity: ProcessIdentity::of(settings, instance, &host_name()),
    }
}

/// Transactions that may be open at once for group commit: one on SQLite (one writer), half
/// the pool on Postgres, so the other half serves reads, the marking of published rows and the
/// API.
fn group_commit_lanes(settings: &Settings) -> usize {
    if settings.uses_sqlite() {
        1
    } else {
        (settings.db_max_connections as usize / 2).max(1)
    }
}

/// This host's name: HOSTNAME, or `local`.
pub fn host_name() -> String {
    use crate::config::table::HOSTNAME;
    const UNSET: &str = HOSTNAME.default_value();
    std::env::var(HOSTNAME.name).unwrap_or_else(|_| UNSET.to_owned())
}

/// A name for this process in leases and `workers`: host, pid and a random suffix.
pub fn instance_id() -> String {
    let host = host_name();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}-{}", std::process::id(), &suffix[..8])
}

impl App {
    /// Builds and starts everything; must run inside an actix system.
    pub async fn build(
        settings: Settings,
        packs: Arc<Packs>,
        options: AppOptions,
    ) -> anyhow::Result<App> {
        let metrics = if settings.metrics_include_tenant_id {
            Metrics::with_tenant_labels(packs.tenant_ids().map(str::to_owned).collect())
        } else {
            Metrics::new()
        }
        .context("Failed to register metrics")?;
        let stale_after = Duration::from_secs(30).max(settings.tuning.commit_interval * 4);
        let health = Health::new(stale_after, settings.tuning.handler_timeout * 2);
        let listener = match options.listener {
            Some(listener) => listener,
            None => crate::http::listener::bind(settings.http_addr)
                .with_context(|| format!("Failed to bind HTTP_ADDR {}", settings.http_addr))?,
        };
        let http_port = listener
            .local_addr()
            .context("Failed to read the HTTP port")?
            .port();
        let probes = StartupServer::start(&listener, health.clone(), metrics.clone())
            .context("Failed to serve the probes")?;
        let instance = instance_id();
        let opened = open_dependencies(&settings, &metrics, &health, &instance).await;
        probes.stop().await;
        let (db, bus) = opened?;
        let group_commit = Arc::new(GroupCommit::new(
            db.clone(),
            bus.clone(),
            group_commit_lanes(&settings),
            settings.tuning.group_commit_max_events,
            metrics.clone(),
        ));
        let runtime = Runtime {
            db,
            bus,
            packs,
            clock: options.clock,
            metrics,
            health,
            tuning: settings.tuning.clone(),
            tenant_allowlist: Arc::new(settings.tenant_allowlist.clone()),
        };
        let deps = Arc::new(HandlerDeps {
            runtime: runtime.clone(),
            allow_future_schema: settings.allow_future_schema,
            faults: options.faults,
            tools: ToolRunner::new(settings.tools.clone())
                .context("Failed to build the tool runner")?,
            group_commit,
        });
        for role in &settings.roles {
            runtime.metrics.initialise_role(role.as_str());
        }
        if settings.roles.contains(&RoleName::SlaMonitor) {
            runtime.metrics.initialise_sla();
        }
        let mut plans = Vec::new();
        let consumer_roles = settings
            .roles
            .iter()
            .filter(|role| **role != RoleName::SlaMonitor);
        for role_name in consumer_roles {
            let role = match options.roles.iter().find(|role| role.name() == *role_name) {
                Some(replacement) => replacement.clone(),
                None => roles::for_name(*role_name).with_context(|| {
                    format!("role {role_name} is not available in this version")
                })?,
            };
            plans.push(RolePlan {
                role,
                group: settings.group_for(*role_name),
                concurrency: settings.concurrency,
            });
        }
        let maintenance = maintenance_plan(&settings, &instance);
        let overseer = Overseer::new(deps, plans, maintenance).start();
        let state = HttpState {
            runtime: runtime.clone(),
            operator_key_sha256: settings.operator_key_sha256,
            bodies: BodyGate::new(&settings.http),
        };
        let server =
            serve(listener, state, &settings.http).context("Failed to start the HTTP server")?;
        let server_handle = server.handle();
        let server_task = actix_rt::spawn(server);
        let probe_task = actix_rt::spawn(dependency_probe::run(runtime.clone()));
        runtime.health.set_started();
        tracing::info!(http_port, roles = ?settings.roles, concurrency = settings.concurrency, "exception-worker started.");
        Ok(App {
            http_port,
            runtime,
            settings,
            overseer,
            server: server_handle,
            server_task,
            probe_task,
        })
    }

    /// Stops children of a role as a crash would (see `StopChildren`); their supervisors
    /// restart them. Answers how many were stopped.
    pub async fn stop_children(&self, role: RoleName, kind: ChildKind) -> usize {
        self.overseer
            .send(StopChildren { role, kind })
            .await
            .unwrap_or(0)
    }

    /// Stops a maintenance child as a crash drill; the overseer restarts it within a second.
    /// Answers whether it ran in this process.
    pub async fn stop_maintenance(&self, child: MaintenanceChild) -> bool {
        self.overseer
            .send(StopMaintenance(child))
            .await
            .unwrap_or(false)
    }

    /// The SLA monitor running now (a restarted one has a new address), when this process runs
    /// the sla_monitor role.
    pub async fn current_sla_monitor(&self) -> Option<Addr<SlaMonitor>> {
        self.overseer.send(SlaMonitorAddress).await.ok().flatten()
    }

    /// Runs until `shutdown` resolves, then drains gracefully.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<ShutdownReport> {
        shutdown.await;
        tracing::info!("Shutdown requested; draining.");
        Ok(self.shutdown().await)
    }

    /// Graceful shutdown: readiness goes false, consumers stop fetching, in-flight work drains
    /// (up to SHUTDOWN_TIMEOUT_SECS), offsets are committed, then the HTTP server stops.
    pub async fn shutdown(self) -> ShutdownReport {
        self.stop(true).await
    }

    /// Stops without committing offsets, as a killed process would: for crash tests.
    pub async fn crash(self) -> ShutdownReport {
        self.stop(false).await
    }

    async fn stop(self, commit: bool) -> ShutdownReport {
        self.runtime.health.set_draining();
        let deadline = self.settings.tuning.shutdown_timeout;
        let request = self.overseer.send(Shutdown { deadline, commit });
        let report = match actix_rt::time::timeout(deadline + Duration::from_secs(5), request).await
        {
            Ok(Ok(report)) => report,
            Ok(Err(error)) => {
                tracing::warn!(%error, "The overseer was gone before shutdown.");
                ShutdownReport::default()
            }
            Err(_) => {
                tracing::warn!("Drain did not finish in time; exiting anyway.");
                ShutdownReport::default()
            }
        };
        self.runtime.bus.close(deadline).await;
        self.probe_task.abort();
        self.server.stop(true).await;
        let _server_result = self.server_task.await;
        tracing::info!(
            partitions = report.partitions_drained,
            abandoned = report.abandoned_in_flight,
            "Stopped."
        );
        report
    }
}
