//! The runtime context: what every actor and every route of one process shares (database, bus,
//! packs, clock, metrics, health, tuning, the tenant allowlist). `App::build` makes it once;
//! each part is a cheap handle, so holders clone it rather than take its parts one by one.

use std::collections::BTreeSet;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::bus::Bus;
use crate::clock::Clock;
use crate::config::TuningSettings;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::packs::Packs;

#[derive(Clone)]
pub struct Runtime {
    pub db: DatabaseConnection,
    pub bus: Arc<dyn Bus>,
    pub packs: Arc<Packs>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    pub health: Health,
    pub tuning: TuningSettings,
    /// Tenants this deployment serves; empty = every tenant of the packs.
    pub tenant_allowlist: Arc<BTreeSet<String>>,
}

impl Runtime {
    /// Whether TENANT_ALLOWLIST lets this deployment serve `tenant_id` (empty: every tenant).
    pub fn serves_tenant(&self, tenant_id: &str) -> bool {
        self.tenant_allowlist.is_empty() || self.tenant_allowlist.contains(tenant_id)
    }
}
