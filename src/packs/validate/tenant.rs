//! Validates a raw tenant pack against the loaded domain packs: id, domain, API key hash,
//! overrides, SLA targets, approval settings, enabled tools and tenant playbooks.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use super::playbook::{validate_playbooks, PlaybookScope};
use super::{check_type_reference, is_slug, parse_severity, require_text};
use crate::model::Severity;
use crate::packs::domain::DomainPack;
use crate::packs::error::FileProblems;
use crate::packs::playbook::PlaybookOrigin;
use crate::packs::raw::{RawApproval, RawTenantPack};
use crate::packs::tenant::{
    default_sla_minutes, ApprovalSettings, TenantPack, DEFAULT_CONFIDENCE_THRESHOLD,
};

/// Longest SLA target accepted: 366 days.
const MAX_SLA_MINUTES: i64 = 366 * 24 * 60;

/// Validates a tenant pack; `None` when its domain is not loaded (the problem is reported).
pub(crate) fn validate_tenant(
    raw: RawTenantPack,
    domains: &BTreeMap<String, Arc<DomainPack>>,
    problems: &mut FileProblems,
) -> Option<TenantPack> {
    if !is_slug(&raw.tenant_id) {
        problems.report(
            "tenant_id",
            format!(
                "'{}' must be non-empty lowercase letters, digits, '-' or '_'",
                raw.tenant_id
            ),
        );
    }
    require_text(&raw.name, "name", problems);
    let api_key_sha256 = parse_api_key_hash(&raw.api_key_sha256, problems);
    for (index, key) in raw.pii_keys.iter().enumerate() {
        require_text(key, &format!("pii_keys[{index}]"), problems);
    }
    let sla_targets_minutes = validate_sla_targets(&raw.sla_targets_minutes, problems);
    let approval = validate_approval(&raw.approval, problems);
    let domain = domains.get(&raw.domain).cloned();
    if domain.is_none() {
        let known: Vec<&str> = domains.keys().map(String::as_str).collect();
        problems.report(
            "domain",
            format!(
                "domain '{}' is not loaded (loaded: {})",
                raw.domain,
                known.join(", ")
            ),
        );
    }
    let domain = domain?;
    let severity_overrides = validate_overrides(&raw.severity_overrides, &domain, problems);
    let enabled_tools = validate_enabled_tools(&raw.enabled_tools, &domain, problems);
    let scope = PlaybookScope {
        origin: PlaybookOrigin::Tenant,
        declared_types: &domain.exception_types,
        declared_tools: &domain.tools,
        enabled_tools: Some(&enabled_tools),
    };
    let mut taken_ids: HashSet<String> = domain.playbooks.iter().map(|p| p.id.clone()).collect();
    let playbooks = validate_playbooks(raw.playbooks, &scope, &mut taken_ids, problems);
    let pii_keys_lowercase = domain
        .pii_keys
        .iter()
        .chain(&raw.pii_keys)
        .map(|key| key.to_lowercase())
        .collect();
    Some(TenantPack {
        tenant_id: raw.tenant_id,
        name: raw.name,
        domain: raw.domain,
        pii_keys: raw.pii_keys,
        severity_overrides,
        sla_targets_minutes,
        approval,
        enabled_tools,
        playbooks,
        api_key_sha256: api_key_sha256.unwrap_or_default(),
        pii_keys_lowercase,
        domain_pack: domain,
    })
}

fn parse_api_key_hash(text: &str, problems: &mut FileProblems) -> Option<[u8; 32]> {
    let well_formed = text.len() == 64
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    let decoded = well_formed
        .then(|| hex::decode(text).ok())
        .flatten()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    if decoded.is_none() {
        problems.report(
            "api_key_sha256",
            "must be 64 lowercase hex characters (the SHA-256 of the tenant's API key)",
        );
    }
    decoded
}

fn validate_sla_targets(
    raw: &BTreeMap<String, i64>,
    problems: &mut FileProblems,
) -> BTreeMap<Severity, i64> {
    let mut targets: BTreeMap<Severity, i64> = Severity::ALL
        .into_iter()
        .map(|severity| (severity, default_sla_minutes(severity)))
        .collect();
    for (name, minutes) in raw {
        let place = format!("sla_targets_minutes.{name}");
        let Some(severity) = parse_severity(name, &place, problems) else {
            continue;
        };
        if (1..=MAX_SLA_MINUTES).contains(minutes) {
            targets.insert(severity, *minutes);
        } else {
            problems.report(
                place,
                format!("must be 1..={MAX_SLA_MINUTES} minutes, found {minutes}"),
            );
        }
    }
    targets
}

fn validate_approval(raw: &RawApproval, problems: &mut FileProblems) -> ApprovalSettings {
    let threshold = raw
        .confidence_threshold
        .unwrap_or(DEFAULT_CONFIDENCE_THRESHOLD);
    let threshold = if (0.0..=1.0).contains(&threshold) {
        threshold
    } else {
        problems.report(
            "approval.confidence_threshold",
            format!("must be between 0 and 1, found {threshold}"),
        );
        DEFAULT_CONFIDENCE_THRESHOLD
    };
    let severities: BTreeSet<Severity> = raw
        .require_for_severities
        .iter()
        .enumerate()
        .filter_map(|(index, name)| {
            let place = format!("approval.require_for_severities[{index}]");
            parse_severity(name, &place, problems)
        })
        .collect();
    ApprovalSettings::new(threshold, severities)
}

fn validate_overrides(
    raw: &BTreeMap<String, String>,
    domain: &DomainPack,
    problems: &mut FileProblems,
) -> BTreeMap<String, Severity> {
    let mut overrides = BTreeMap::new();
    for (type_name, severity_name) in raw {
        let place = format!("severity_overrides.{type_name}");
        let known = check_type_reference(&domain.exception_types, type_name, &place, problems);
        let severity = parse_severity(severity_name, &place, problems);
        if let (true, Some(severity)) = (known, severity) {
            overrides.insert(type_name.clone(), severity);
        }
    }
    overrides
}

fn validate_enabled_tools(
    raw: &[String],
    domain: &DomainPack,
    problems: &mut FileProblems,
) -> BTreeSet<String> {
    let mut enabled = BTreeSet::new();
    for (index, name) in raw.iter().enumerate() {
        if domain.tool(name).is_some() {
            enabled.insert(name.clone());
        } else {
            problems.report(
                format!("enabled_tools[{index}]"),
                format!("tool '{name}' is not declared in domain '{}'", domain.name),
            );
        }
    }
    enabled
}
