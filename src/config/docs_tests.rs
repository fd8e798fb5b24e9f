//! Unit tests of the help text and the markdown tables.

use super::*;
use crate::config::table::{CONCURRENCY, KAFKA_SECURITY_PROTOCOL, TENANT_ALLOWLIST};

fn row_of(markdown: &str, setting: &Setting) -> String {
    let start = format!("| `{}` |", setting.name);
    markdown
        .lines()
        .find(|line| line.starts_with(&start))
        .unwrap_or_else(|| panic!("no row for {}", setting.name))
        .to_owned()
}

#[test]
fn every_setting_has_one_row_in_its_sections_block() {
    let markdown = markdown();
    for setting in SETTINGS {
        let row = format!("| `{}` |", setting.name);
        assert_eq!(markdown.matches(&row).count(), 1, "{}", setting.name);
        let block_start = markdown.find(&begin(setting.section)).unwrap_or_default();
        let block_end = markdown.find(&end(setting.section)).unwrap_or_default();
        let at = markdown.find(&row).unwrap_or_default();
        assert!(block_start < at && at < block_end, "{}", setting.name);
    }
}

#[test]
fn rows_show_default_allowed_values_and_help() {
    let markdown = markdown();
    assert_eq!(
        row_of(&markdown, &CONCURRENCY),
        format!("| `CONCURRENCY` | `1` | 1..=256 | {} |", CONCURRENCY.help)
    );
    assert!(row_of(&markdown, &TENANT_ALLOWLIST).starts_with("| `TENANT_ALLOWLIST` | empty |"));
    assert!(row_of(&markdown, &KAFKA_SECURITY_PROTOCOL)
        .contains("| `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT`, `SASL_SSL` (any case) |"));
}

#[test]
fn help_lists_every_setting_by_section_without_markdown() {
    let help = help_text();
    for setting in SETTINGS {
        assert!(
            help.contains(&format!("\n  {}\n", setting.name)),
            "{}",
            setting.name
        );
    }
    assert!(help.contains("[default: 1] [allowed: 1..=256]"));
    assert!(!help.contains('`'));
    let titles: Vec<usize> = Section::ALL
        .iter()
        .map(|section| help.find(&format!("\n{}:\n", section.title())).unwrap_or(0))
        .collect();
    assert!(
        titles
            .windows(2)
            .all(|pair| 0 < pair[0] && pair[0] < pair[1]),
        "{titles:?}"
    );
}

#[test]
fn updating_a_page_replaces_only_the_blocks() {
    let stale = markdown().replace(CONCURRENCY.help, "an outdated line");
    let page = format!("# Title\n\nProse before.\n\n{stale}\nProse after.\n");
    let updated = update_page(&page).unwrap();
    assert_eq!(
        updated,
        format!("# Title\n\nProse before.\n\n{}\nProse after.\n", markdown())
    );
    assert_eq!(
        update_page(&updated).unwrap(),
        updated,
        "updating is idempotent"
    );
}

#[test]
fn a_page_without_a_block_is_refused() {
    let page = markdown().replace(&end(Section::Kafka), "");
    assert_eq!(
        update_page(&page),
        Err(DocsError::MissingMarker(
            "<!-- settings:end kafka -->".to_owned()
        ))
    );
}
