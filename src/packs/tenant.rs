//! The validated tenant pack: a tenant's domain, API key hash, overrides, SLA targets, approval
//! settings, enabled tools and own playbooks.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use super::domain::DomainPack;
use super::playbook::Playbook;
use crate::model::Severity;

/// Default approval confidence threshold when the tenant gives none.
pub const DEFAULT_CONFIDENCE_THRESHOLD: f64 = 0.8;

/// Default SLA target in minutes for a severity the tenant does not set.
pub fn default_sla_minutes(severity: Severity) -> i64 {
    match severity {
        Severity::Critical => 120,
        Severity::High => 480,
        Severity::Medium => 1440,
        Severity::Low => 4320,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TenantPack {
    pub tenant_id: String,
    pub name: String,
    /// Name of the tenant's domain pack (always loaded; see `Packs::domain_of`).
    pub domain: String,
    /// The tenant's own PII keys as written (merged with the domain's in `Packs::pii_keys`).
    pub pii_keys: Vec<String>,
    pub severity_overrides: BTreeMap<String, Severity>,
    /// Holds every severity: the tenant's value or the default.
    pub sla_targets_minutes: BTreeMap<Severity, i64>,
    pub approval: ApprovalSettings,
    pub enabled_tools: BTreeSet<String>,
    pub playbooks: Vec<Playbook>,
    pub(crate) api_key_sha256: [u8; 32],
    pub(crate) pii_keys_lowercase: HashSet<String>,
    pub(crate) domain_pack: Arc<DomainPack>,
}

impl TenantPack {
    /// SLA target in minutes for a severity (the tenant's or the default).
    pub fn sla_target_minutes(&self, severity: Severity) -> i64 {
        self.sla_targets_minutes
            .get(&severity)
            .copied()
            .unwrap_or_else(|| default_sla_minutes(severity))
    }

    pub fn tool_enabled(&self, tool_name: &str) -> bool {
        self.enabled_tools.contains(tool_name)
    }

    pub fn playbook(&self, id: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|playbook| playbook.id == id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    /// Stored in thousandths so comparisons stay exact (0.8 is 800).
    pub(crate) threshold_thousandths: i64,
    pub require_for_severities: BTreeSet<Severity>,
}

impl ApprovalSettings {
    pub(crate) fn new(
        confidence_threshold: f64,
        require_for_severities: BTreeSet<Severity>,
    ) -> Self {
        Self {
            threshold_thousandths: to_thousandths(confidence_threshold),
            require_for_severities,
        }
    }

    /// The confidence threshold in 0..=1.
    pub fn confidence_threshold(&self) -> f64 {
        self.threshold_thousandths as f64 / 1000.0
    }
}

/// A confidence or threshold in 0..=1 as whole thousandths (rounded), so that e.g.
/// 0.8 - 0.1 compares equal to 0.7 instead of 0.7000000000000001.
pub(crate) fn to_thousandths(value: f64) -> i64 {
    (value * 1000.0).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sla_targets_per_severity() {
        let cases = [
            (Severity::Critical, 120),
            (Severity::High, 480),
            (Severity::Medium, 1440),
            (Severity::Low, 4320),
        ];
        for (severity, minutes) in cases {
            assert_eq!(default_sla_minutes(severity), minutes, "{severity}");
        }
    }

    #[test]
    fn thousandths_round_away_float_noise() {
        // Arrange
        let threshold = 0.8_f64;

        // Act
        let floor = to_thousandths(threshold) - 100;

        // Assert
        assert_eq!(floor, to_thousandths(0.7));
        assert_eq!(
            ApprovalSettings::new(0.85, BTreeSet::new()).confidence_threshold(),
            0.85
        );
    }
}
