//! The raw environment: the value of every variable of the settings table, or its default when
//! unset, as strings. Typing and checking happen in validation, so that every bad value is
//! reported together.
//!
//! The table already holds each name and default, so reading is one loop over it; a derive
//! (envconfig) would need every name and default written a second time as attributes.

use std::collections::{BTreeMap, HashMap};

use super::setting::{Setting, WhenUnset};
use super::table::SETTINGS;

#[derive(Debug, Clone, Default)]
pub struct EnvVars {
    /// By variable name: the value set, or the default; absent when unset without a default.
    values: BTreeMap<&'static str, String>,
}

impl EnvVars {
    /// Reads the process environment (a value that is not UTF-8 counts as unset).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads `vars` instead of the process environment (tests, in-process apps).
    pub fn from_map(vars: &HashMap<String, String>) -> Self {
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let values = SETTINGS
            .iter()
            .filter_map(|setting| {
                let value = lookup(setting.name).or_else(|| match setting.unset {
                    WhenUnset::Value(default) => Some(default.to_owned()),
                    WhenUnset::Means(_) => None,
                })?;
                Some((setting.name, value))
            })
            .collect();
        Self { values }
    }

    /// The value of `setting`: as set (even blank), else its default; None when unset without
    /// a default.
    pub fn get(&self, setting: &Setting) -> Option<&str> {
        self.values.get(setting.name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::table::{CONCURRENCY, GROUP_ID, HTTP_ADDR, TENANT_ALLOWLIST};

    #[test]
    fn unset_variables_take_their_default_and_set_ones_keep_their_text() {
        let vars = HashMap::from([
            ("CONCURRENCY".to_owned(), " 4 ".to_owned()),
            ("GROUP_ID".to_owned(), String::new()),
        ]);
        let env = EnvVars::from_map(&vars);
        assert_eq!(env.get(&CONCURRENCY), Some(" 4 "));
        assert_eq!(env.get(&GROUP_ID), Some(""));
        assert_eq!(env.get(&HTTP_ADDR), Some(HTTP_ADDR.default_value()));
        assert_eq!(env.get(&TENANT_ALLOWLIST), Some(""));
        assert_eq!(EnvVars::from_map(&HashMap::new()).get(&GROUP_ID), None);
    }
}
