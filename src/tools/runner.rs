//! The runner: pre-flight checks, then attempts bounded by the tool timeout, with transient
//! failures retried under exponential backoff with jitter.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::redirect::Policy;
use reqwest::{Client, Url};
use serde_json::Value;
use tokio::time::Instant;

use super::failure::{FailureKind, ToolFailure};
use super::schema::SchemaCache;
use super::settings::ToolSettings;
use super::{http, policy, simulate};
use crate::packs::{SimulateProfile, TenantPack, ToolDefinition, ToolKind};

/// The result of [`ToolRunner::run`]: the outcome, how many attempts were made (0 when the
/// tool was refused before any) and the wall time spent, backoff included.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRun {
    pub outcome: ToolOutcome,
    pub attempts: u32,
    pub duration: Duration,
}

impl ToolRun {
    /// A failed run that never attempted anything (e.g. a [`ToolRunner::check`] failure).
    pub fn not_started(failure: ToolFailure) -> Self {
        Self {
            outcome: ToolOutcome::Failed { failure },
            attempts: 0,
            duration: Duration::ZERO,
        }
    }

    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, ToolOutcome::Succeeded { .. })
    }

    pub fn failure(&self) -> Option<&ToolFailure> {
        match &self.outcome {
            ToolOutcome::Succeeded { .. } => None,
            ToolOutcome::Failed { failure } => Some(failure),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    Succeeded { output: Value },
    Failed { failure: ToolFailure },
}

/// Runs declared tools. Cheap to clone (the HTTP client and schema cache are shared).
#[derive(Clone)]
pub struct ToolRunner {
    client: Client,
    settings: Arc<ToolSettings>,
    schemas: Arc<SchemaCache>,
}

impl fmt::Debug for ToolRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolRunner")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What one attempt runs, resolved once per run.
enum Target {
    Simulate(SimulateProfile),
    Http(Url),
}

impl ToolRunner {
    /// Builds the HTTP client once (rustls, no redirects followed).
    pub fn new(settings: ToolSettings) -> anyhow::Result<Self> {
        let client = Client::builder()
            .use_rustls_tls()
            .redirect(Policy::none())
            .user_agent(concat!("exception-worker/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the tool HTTP client")?;
        Ok(Self {
            client,
            settings: Arc::new(settings),
            schemas: Arc::new(SchemaCache::default()),
        })
    }

    pub fn settings(&self) -> &ToolSettings {
        &self.settings
    }

    /// Checks that run before any attempt, in order: the tool is declared (`tool` is the
    /// domain's definition of `tool_name`, if any), enabled for the tenant, its http URL is
    /// allowed, and `input` satisfies its input schema. `Err` is a terminal failure.
    pub fn check(
        &self,
        tool: Option<&ToolDefinition>,
        tool_name: &str,
        tenant: &TenantPack,
        input: &Value,
    ) -> Result<(), ToolFailure> {
        let tool = policy::declared(tool, tool_name)?;
        policy::enabled(tenant, tool_name)?;
        if let ToolKind::Http { url } = &tool.kind {
            policy::allowed_url(url, &self.settings.allowed_hosts)?;
        }
        if let Some(schema) = &tool.input_schema {
            self.schemas.validate(&tool.name, schema, input)?;
        }
        Ok(())
    }

    /// Runs `tool`, retrying transient failures (up to `max_attempts`, exponential backoff
    /// with jitter); each attempt is bounded by the tool's `timeout_ms`. An http URL that is
    /// not allowed is refused here too, before any request. Never panics.
    pub async fn run(&self, tool: &ToolDefinition, execution_id: &str, input: &Value) -> ToolRun {
        let started = Instant::now();
        let target = match &tool.kind {
            ToolKind::Simulate { profile } => Target::Simulate(*profile),
            ToolKind::Http { url } => {
                match policy::allowed_url(url, &self.settings.allowed_hosts) {
                    Ok(url) => Target::Http(url),
                    Err(failure) => return ToolRun::not_started(failure),
                }
            }
        };
        let max_attempts = self.settings.attempts();
        let per_attempt = Duration::from_millis(tool.timeout_ms);
        let mut attempt = 1;
        loop {
            let result = tokio::time::timeout(
                per_attempt,
                self.attempt(&target, tool, execution_id, input, attempt),
            )
            .await
            .unwrap_or_else(|_elapsed| {
                Err(ToolFailure::new(
                    FailureKind::Timeout,
                    format!("no answer within {} ms", tool.timeout_ms),
                ))
            });
            let failure = match result {
                Ok(output) => {
                    return finished(ToolOutcome::Succeeded { output }, attempt, started);
                }
                Err(failure) => failure,
            };
            tracing::debug!(
                tool = %tool.name, execution_id, attempt, max_attempts, %failure,
                "tool attempt failed"
            );
            if !failure.kind.is_transient() || attempt >= max_attempts {
                let failure = if attempt > 1 {
                    ToolFailure::new(
                        failure.kind,
                        format!("{} (after {attempt} attempts)", failure.reason),
                    )
                } else {
                    failure
                };
                return finished(ToolOutcome::Failed { failure }, attempt, started);
            }
            tokio::time::sleep(self.settings.backoff(attempt)).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        target: &Target,
        tool: &ToolDefinition,
        execution_id: &str,
        input: &Value,
        attempt: u32,
    ) -> Result<Value, ToolFailure> {
        match target {
            Target::Simulate(profile) => {
                let delay = self.settings.delayed_profile_delay;
                simulate::attempt(*profile, &tool.name, attempt, delay).await
            }
            Target::Http(url) => http::attempt(&self.client, url, execution_id, input).await,
        }
    }
}

fn finished(outcome: ToolOutcome, attempts: u32, started: Instant) -> ToolRun {
    ToolRun {
        outcome,
        attempts,
        duration: started.elapsed(),
    }
}
