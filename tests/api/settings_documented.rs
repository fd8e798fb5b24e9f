//! The settings table (src/config/table.rs) is what operators read: docs/configuration.md holds
//! the tables generated from it, byte for byte, and `exception-worker --help` lists it.

use std::collections::BTreeSet;
use std::process::Command;

use exception_worker::config::docs::{help_text, update_page, REGENERATE_DOCS};
use exception_worker::config::table::SETTINGS;

const BINARY: &str = env!("CARGO_BIN_EXE_exception-worker");
const PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");

fn read_page() -> String {
    std::fs::read_to_string(PAGE).expect("Failed to read docs/configuration.md")
}

#[test]
fn the_configuration_page_holds_the_generated_settings_tables() {
    let page = read_page();
    let generated = update_page(&page).unwrap_or_else(|error| {
        panic!("docs/configuration.md: {error}; add the markers, then run `{REGENERATE_DOCS}`")
    });
    if let Some((number, (found, expected))) = page
        .lines()
        .zip(generated.lines())
        .enumerate()
        .find(|(_, (found, expected))| found != expected)
    {
        panic!(
            "docs/configuration.md differs from the settings table at line {}:\n  page:      {found}\n  generated: {expected}\nRegenerate the tables with `{REGENERATE_DOCS}`.",
            number + 1
        );
    }
    assert_eq!(
        page, generated,
        "docs/configuration.md differs from the settings table in length; regenerate the tables with `{REGENERATE_DOCS}`"
    );
}

/// Outside the generated tables the page has no rows of its own for variables: a hand-written
/// row would state a default or range a second time, or document a variable nobody reads.
#[test]
fn every_variable_row_of_the_page_is_a_setting() {
    let settings: BTreeSet<&str> = SETTINGS.iter().map(|setting| setting.name).collect();
    let is_variable = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    let page = read_page();
    let rows: Vec<&str> = page
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter(|name| is_variable(name))
        .collect();
    assert_eq!(rows.len(), SETTINGS.len(), "one row per setting: {rows:?}");
    let unknown: Vec<_> = rows
        .iter()
        .filter(|name| !settings.contains(**name))
        .collect();
    assert!(
        unknown.is_empty(),
        "rows of docs/configuration.md for variables the settings table does not have: {unknown:?}"
    );
}

#[test]
fn help_lists_every_setting_with_its_default() {
    let output = Command::new(BINARY)
        .arg("--help")
        .env_clear()
        .output()
        .expect("Failed to run the binary");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{help}");
    assert!(help.contains(help_text().trim_end()), "{help}");
    assert!(
        help.contains("  CONCURRENCY\n") && help.contains("[default: 1] [allowed: 1..=256]"),
        "{help}"
    );
}
