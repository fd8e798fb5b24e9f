//! The opt-in tenant label (METRICS_INCLUDE_TENANT_ID=true): its values are the tenants of the
//! packs, a closed set, so a message that names a made-up tenant cannot grow the series count;
//! anything else counts as "other".

use std::collections::BTreeSet;
use std::sync::Arc;

/// The tenants that may appear as a label value; None when tenant labels are off.
#[derive(Clone, Debug, Default)]
pub struct TenantLabels(Option<Arc<BTreeSet<String>>>);

const OTHER: &str = "other";

impl TenantLabels {
    pub fn off() -> Self {
        Self(None)
    }

    pub fn for_tenants(tenants: BTreeSet<String>) -> Self {
        Self(Some(Arc::new(tenants)))
    }

    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// The label value for `tenant`, or None when tenant labels are off.
    pub fn label<'a>(&'a self, tenant: Option<&'a str>) -> Option<&'a str> {
        let known = self.0.as_ref()?;
        Some(
            tenant
                .filter(|tenant| known.contains(*tenant))
                .unwrap_or(OTHER),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_tenants_become_label_values() {
        let labels = TenantLabels::for_tenants(BTreeSet::from(["acme".to_owned()]));
        assert_eq!(labels.label(Some("acme")), Some("acme"));
        assert_eq!(labels.label(Some("made-up-1")), Some("other"));
        assert_eq!(labels.label(None), Some("other"));
        assert_eq!(TenantLabels::off().label(Some("acme")), None);
    }
}
