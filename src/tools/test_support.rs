//! Test fixtures: a tenant pack built from inline TOML, tool definitions and fast settings.

use std::path::PathBuf;
use std::time::Duration;

use super::{ToolRunner, ToolSettings};
use crate::packs::{PackSource, Packs, SimulateProfile, TenantPack, ToolDefinition, ToolKind};

const DOMAIN_TOML: &str = r#"
name = "tooling"

[[exception_types]]
name = "SETTLEMENT_FAIL"

[[tools]]
name = "retry"
kind = "simulate"
profile = "success"

[[tools]]
name = "hook"
kind = "http"
url = "https://example.com/hook"

[[tools]]
name = "disabled_tool"
kind = "simulate"
profile = "success"
"#;

const TENANT_TOML: &str = r#"
tenant_id = "t1"
name = "Tenant One"
domain = "tooling"
api_key_sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
enabled_tools = ["retry", "hook"]
"#;

/// Tenant `t1`: enables `retry` and `hook`, not `disabled_tool`.
pub(crate) fn tenant() -> TenantPack {
    let source = |path: &str, text: &str| PackSource {
        path: PathBuf::from(path),
        text: text.to_string(),
    };
    let packs = Packs::from_sources(
        &[source("domains/tooling.toml", DOMAIN_TOML)],
        &[source("tenants/t1.toml", TENANT_TOML)],
    );
    match packs {
        Ok(packs) => packs.tenant("t1").expect("tenant t1").clone(),
        Err(errors) => panic!("fixture packs must load:\n{errors}"),
    }
}

pub(crate) fn simulate_tool(
    name: &str,
    profile: SimulateProfile,
    timeout_ms: u64,
) -> ToolDefinition {
    ToolDefinition {
        name: name.to_string(),
        description: String::new(),
        kind: ToolKind::Simulate { profile },
        timeout_ms,
        input_schema: None,
    }
}

pub(crate) fn http_tool(name: &str, url: &str, timeout_ms: u64) -> ToolDefinition {
    ToolDefinition {
        name: name.to_string(),
        description: String::new(),
        kind: ToolKind::Http {
            url: url.to_string(),
        },
        timeout_ms,
        input_schema: None,
    }
}

/// Default settings with millisecond backoff and the given plain-http hosts.
pub(crate) fn fast_settings(allowed_hosts: &[&str]) -> ToolSettings {
    ToolSettings {
        allowed_hosts: allowed_hosts.iter().map(|host| host.to_string()).collect(),
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        delayed_profile_delay: Duration::from_millis(20),
        ..ToolSettings::default()
    }
}

pub(crate) fn runner(settings: ToolSettings) -> ToolRunner {
    ToolRunner::new(settings).expect("runner builds")
}
