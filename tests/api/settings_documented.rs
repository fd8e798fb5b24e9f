//! The configuration page and the code name the same settings: every variable of the settings
//! table (src/config/table.rs) has a row in docs/configuration.md, and every row there is a
//! variable of the table.

use std::collections::BTreeSet;

use exception_worker::config::table::SETTINGS;

const CONFIGURATION_PAGE: &str = include_str!("../../docs/configuration.md");

fn read_by_the_binary() -> BTreeSet<String> {
    SETTINGS
        .iter()
        .map(|setting| setting.name.to_owned())
        .collect()
}

fn documented() -> BTreeSet<String> {
    let is_variable = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    CONFIGURATION_PAGE
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        // The first cell names one variable or several (`A`, `B`, `C`).
        .filter_map(|rest| rest.split(" |").next())
        .flat_map(|cell| {
            cell.split('`')
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|name| is_variable(name))
        .collect()
}

#[test]
fn every_setting_is_documented_and_every_documented_setting_exists() {
    let read = read_by_the_binary();
    let documented = documented();
    assert!(
        read.len() > 40,
        "only {} variables in the settings table",
        read.len()
    );
    let undocumented: Vec<_> = read.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "read by the binary but missing from docs/configuration.md: {undocumented:?}"
    );
    let unknown: Vec<_> = documented.difference(&read).collect();
    assert!(
        unknown.is_empty(),
        "documented in docs/configuration.md but not read by the binary: {unknown:?}"
    );
}
