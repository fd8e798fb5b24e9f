//! `Packs`: the loaded, validated domain and tenant packs, and look-ups over them (by tenant
//! id, by domain name, by API key in constant time).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::domain::DomainPack;
use super::playbook::Playbook;
use super::policy_rules::find_playbook;
use super::tenant::TenantPack;

/// Every loaded pack. Build with `Packs::load` (or `Packs::from_sources`).
#[derive(Debug, Clone)]
pub struct Packs {
    domains: BTreeMap<String, Arc<DomainPack>>,
    tenants: BTreeMap<String, TenantPack>,
}

impl Packs {
    pub(crate) fn new(
        domains: BTreeMap<String, Arc<DomainPack>>,
        tenants: BTreeMap<String, TenantPack>,
    ) -> Self {
        Self { domains, tenants }
    }

    pub fn tenant(&self, tenant_id: &str) -> Option<&TenantPack> {
        self.tenants.get(tenant_id)
    }

    /// Tenant ids in ascending order.
    pub fn tenant_ids(&self) -> impl Iterator<Item = &str> {
        self.tenants.keys().map(String::as_str)
    }

    pub fn domain(&self, name: &str) -> Option<&DomainPack> {
        self.domains.get(name).map(Arc::as_ref)
    }

    /// Domain names in ascending order.
    pub fn domain_names(&self) -> impl Iterator<Item = &str> {
        self.domains.keys().map(String::as_str)
    }

    /// The tenant's domain pack; infallible because a tenant holds its validated domain.
    pub fn domain_of<'a>(&'a self, tenant: &'a TenantPack) -> &'a DomainPack {
        tenant.domain_pack.as_ref()
    }

    /// The tenant whose stored hash equals SHA-256 of `presented_key`. Every tenant's hash is
    /// compared in constant time, with no early exit, so timing does not reveal which matched.
    pub fn tenant_for_api_key(&self, presented_key: &str) -> Option<&TenantPack> {
        let presented_hash: [u8; 32] = Sha256::digest(presented_key.as_bytes()).into();
        let mut matched_position: u32 = 0; // 0 = none, else 1-based position
        for (index, tenant) in self.tenants.values().enumerate() {
            let position = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let is_match = tenant.api_key_sha256.ct_eq(&presented_hash);
            matched_position = u32::conditional_select(&matched_position, &position, is_match);
        }
        let index = usize::try_from(matched_position).ok()?.checked_sub(1)?;
        self.tenants.values().nth(index)
    }

    /// Lowercased union of the domain's and the tenant's PII keys (precomputed at load).
    pub fn pii_keys<'a>(&'a self, tenant: &'a TenantPack) -> &'a HashSet<String> {
        &tenant.pii_keys_lowercase
    }

    /// A domain or tenant playbook of this tenant by id.
    pub fn find_playbook<'a>(
        &'a self,
        tenant: &'a TenantPack,
        playbook_id: &str,
    ) -> Option<&'a Playbook> {
        find_playbook(self.domain_of(tenant), tenant, playbook_id)
    }
}
