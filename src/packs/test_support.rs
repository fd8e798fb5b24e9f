//! Test fixtures: a small domain pack and two tenants built from inline TOML (no I/O).

use std::path::PathBuf;

use super::loader::PackSource;
use super::registry::Packs;

pub(crate) const DOMAIN_TOML: &str = r#"
name = "markets"
pii_keys = ["email", "accountNumber"]

[[exception_types]]
name = "SETTLEMENT_FAIL"
error_codes = ["CSD_REJECT", "SETT_FAIL"]
keywords = ["settlement failed"]

[[exception_types]]
name = "TRADE_BREAK"
error_codes = ["TB01"]
keywords = ["trade break", "unmatched"]

[[exception_types]]
name = "PRICE_MISMATCH"
keywords = ["price differs"]

[[exception_types]]
name = "MISSING_SSI"
error_codes = ["SSI_MISSING"]

[[severity_rules]]
id = "sf-large"
exception_type = "SETTLEMENT_FAIL"
severity = "CRITICAL"
when = [{ field = "amount", op = "gte", value = 10000000 }]

[[severity_rules]]
id = "sf-medium"
exception_type = "SETTLEMENT_FAIL"
severity = "HIGH"
when = [{ field = "amount", op = "gte", value = 1000000 }]

[[severity_rules]]
id = "ssi-any"
exception_type = "MISSING_SSI"
severity = "LOW"

[[tools]]
name = "retry"
kind = "simulate"
profile = "success"

[[playbooks]]
id = "pb-sf-generic"
name = "Settlement fail"
priority = 10
conditions = { type = "SETTLEMENT_FAIL" }
steps = [{ action = "notify" }, { action = "call_tool", tool = "retry" }]

[[playbooks]]
id = "pb-sf-critical"
name = "Critical settlement fail"
priority = 50
conditions = { type = "SETTLEMENT_FAIL", severity_in = ["CRITICAL"] }
steps = [{ action = "release_payment" }]

[[playbooks]]
id = "pb-tb-b"
name = "Trade break (domain)"
priority = 20
conditions = { types = ["TRADE_BREAK"] }
steps = [{ action = "notify" }]

[[playbooks]]
id = "pb-pm-b"
name = "Price mismatch B"
priority = 5
conditions = { type = "PRICE_MISMATCH" }
steps = [{ action = "notify" }]

[[playbooks]]
id = "pb-pm-a"
name = "Price mismatch A"
priority = 5
conditions = { type = "PRICE_MISMATCH" }
steps = [{ action = "notify" }]

[[playbooks]]
id = "pb-ssi-urgent"
name = "SSI about to breach"
priority = 100
conditions = { type = "MISSING_SSI", sla_minutes_remaining_lt = 30 }
steps = [{ action = "notify" }]

[[playbooks]]
id = "pb-ssi-normal"
name = "SSI"
priority = 1
conditions = { type = "MISSING_SSI", domain = "markets" }
steps = [{ action = "notify" }]

[[playbooks]]
id = "pb-ssi-elsewhere"
name = "SSI in another domain"
priority = 200
conditions = { type = "MISSING_SSI", domain = "other" }
steps = [{ action = "notify" }]
"#;

/// Overrides PRICE_MISMATCH to HIGH, needs approval for HIGH, default threshold 0.8.
pub(crate) const TENANT_ONE_TOML: &str = r#"
tenant_id = "t1"
name = "Tenant One"
domain = "markets"
api_key_sha256 = "1111111111111111111111111111111111111111111111111111111111111111"
pii_keys = ["traderName"]
enabled_tools = ["retry"]

[severity_overrides]
PRICE_MISMATCH = "HIGH"

[sla_targets_minutes]
CRITICAL = 60

[approval]
require_for_severities = ["HIGH"]

[[playbooks]]
id = "pb-tb-a"
name = "Trade break (tenant)"
priority = 20
conditions = { type = "TRADE_BREAK" }
steps = [{ action = "assign_owner", params = { team = "ops" } }]
"#;

/// No overrides, threshold 0.5, no severity needs approval.
pub(crate) const TENANT_TWO_TOML: &str = r#"
tenant_id = "t2"
name = "Tenant Two"
domain = "markets"
api_key_sha256 = "2222222222222222222222222222222222222222222222222222222222222222"

[approval]
confidence_threshold = 0.5
"#;

pub(crate) fn source(path: &str, text: &str) -> PackSource {
    PackSource {
        path: PathBuf::from(path),
        text: text.to_string(),
    }
}

/// The fixture packs: domain `markets`, tenants `t1` and `t2`.
pub(crate) fn fixture_packs() -> Packs {
    let loaded = Packs::from_sources(
        &[source("domains/markets.toml", DOMAIN_TOML)],
        &[
            source("tenants/t1.toml", TENANT_ONE_TOML),
            source("tenants/t2.toml", TENANT_TWO_TOML),
        ],
    );
    match loaded {
        Ok(packs) => packs,
        Err(errors) => panic!("fixture packs must load:\n{errors}"),
    }
}
