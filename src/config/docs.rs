//! The settings table for people: the text `--help` and `exception-worker settings` print, and
//! the markdown tables of docs/configuration.md, each between its marker comments
//! (`<!-- settings:begin KEY -->` and `<!-- settings:end KEY -->`, KEY the section's).

use super::setting::{Allowed, Section, Setting, WhenUnset};
use super::table::SETTINGS;

/// The command that rewrites the tables of docs/configuration.md, from the repository's root.
pub const REGENERATE_DOCS: &str =
    "cargo run -q -- settings --markdown --update docs/configuration.md";

/// A page whose settings tables cannot be replaced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocsError {
    #[error("no `{0}` line: each section's table sits between its two marker lines")]
    MissingMarker(String),
}

/// Every setting by section, for `--help` and `exception-worker settings`.
pub fn help_text() -> String {
    let mut text = String::from(
        "Environment variables (a whole number must lie in the range shown; a list is \
         comma-separated):\n",
    );
    for section in Section::ALL {
        text.push_str(&format!("\n{}:\n", section.title()));
        for setting in in_section(section) {
            text.push_str(&format!(
                "  {}\n          {} [default: {}] [allowed: {}]\n",
                setting.name,
                plain(setting.help),
                plain(&default_text(setting)),
                plain(&allowed_text(setting))
            ));
        }
    }
    text
}

/// Every section's markdown table between its markers, as docs/configuration.md holds them.
pub fn markdown() -> String {
    Section::ALL
        .iter()
        .map(|section| {
            format!(
                "{}\n{}{}\n",
                begin(*section),
                markdown_table(*section),
                end(*section)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `page` with every section's table replaced by the generated one; the rest stays as it is.
pub fn update_page(page: &str) -> Result<String, DocsError> {
    let mut updated = page.to_owned();
    for section in Section::ALL {
        let (begin, end) = (begin(section), end(section));
        let (_, start) = find_line(&updated, &begin, 0).ok_or(DocsError::MissingMarker(begin))?;
        let (stop, _) = find_line(&updated, &end, start).ok_or(DocsError::MissingMarker(end))?;
        updated.replace_range(start..stop, &markdown_table(section));
    }
    Ok(updated)
}

fn markdown_table(section: Section) -> String {
    let mut table =
        String::from("| variable | default | allowed values | meaning |\n|---|---|---|---|\n");
    for setting in in_section(section) {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            setting.name,
            default_text(setting),
            allowed_text(setting),
            setting.help
        ));
    }
    table
}

fn in_section(section: Section) -> impl Iterator<Item = &'static Setting> {
    SETTINGS
        .iter()
        .filter(move |setting| setting.section == section)
}

fn default_text(setting: &Setting) -> String {
    match setting.unset {
        WhenUnset::Value("") => "empty".to_owned(),
        WhenUnset::Value(value) => format!("`{value}`"),
        WhenUnset::Means(meaning) => meaning.to_owned(),
    }
}

fn allowed_text(setting: &Setting) -> String {
    let words = |words: &[&str]| {
        words
            .iter()
            .map(|word| format!("`{word}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match setting.allowed {
        Allowed::Whole(min, max) => format!("{min}..={max}"),
        Allowed::Fraction => "fraction".to_owned(),
        Allowed::Boolean => "boolean".to_owned(),
        Allowed::OneOf(list) => words(list),
        Allowed::OneOfAnyCase(list) => format!("{} (any case)", words(list)),
        Allowed::Described(text) => text.to_owned(),
        Allowed::Refused(_) => "not accepted".to_owned(),
    }
}

/// Markdown code spans as plain text, for a terminal.
fn plain(text: &str) -> String {
    text.replace('`', "")
}

fn begin(section: Section) -> String {
    format!("<!-- settings:begin {} -->", section.key())
}

fn end(section: Section) -> String {
    format!("<!-- settings:end {} -->", section.key())
}

/// Where the first line of `text` from `from` (a line start) that is exactly `line` starts, and
/// where the next line starts.
fn find_line(text: &str, line: &str, from: usize) -> Option<(usize, usize)> {
    let mut offset = from;
    for candidate in text.get(from..)?.split_inclusive('\n') {
        let next = offset + candidate.len();
        if candidate.trim_end_matches(['\n', '\r']) == line {
            return Some((offset, next));
        }
        offset = next;
    }
    None
}

#[cfg(test)]
#[path = "docs_tests.rs"]
mod tests;
