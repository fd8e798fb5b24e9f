//! Turns raw TOML packs into validated packs, reporting every problem with its place.
//! Validators are best-effort: they keep going after a problem so one load reports them all.

mod condition;
mod domain;
mod playbook;
mod tenant;

pub(crate) use domain::validate_domain;
pub(crate) use tenant::validate_tenant;

use super::domain::{ExceptionType, UNKNOWN_EXCEPTION_TYPE};
use super::error::FileProblems;
use crate::model::Severity;

/// Parses a severity spelled exactly as on the wire (`LOW`, `MEDIUM`, `HIGH`, `CRITICAL`).
pub(crate) fn parse_severity(
    text: &str,
    place: &str,
    problems: &mut FileProblems,
) -> Option<Severity> {
    match text.parse::<Severity>() {
        Ok(severity) => Some(severity),
        Err(reason) => {
            problems.report(place, reason);
            None
        }
    }
}

/// Whether a type name may be referenced: declared in the domain, or the reserved `UNKNOWN`.
pub(crate) fn type_is_known(declared: &[ExceptionType], name: &str) -> bool {
    name == UNKNOWN_EXCEPTION_TYPE || declared.iter().any(|declared| declared.name == name)
}

/// Reports an unknown type reference; returns whether the name is known.
pub(crate) fn check_type_reference(
    declared: &[ExceptionType],
    name: &str,
    place: &str,
    problems: &mut FileProblems,
) -> bool {
    let known = type_is_known(declared, name);
    if !known {
        problems.report(
            place,
            format!("unknown exception type '{name}' (not declared in the domain pack)"),
        );
    }
    known
}

/// `UPPER_SNAKE`: an uppercase ASCII letter, then uppercase letters, digits or `_`.
pub(crate) fn is_upper_snake(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Lowercase ASCII letters, digits, `-` and `_`, at least one character.
pub(crate) fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Reports an empty (after trimming) required text; returns whether it was non-empty.
pub(crate) fn require_text(text: &str, place: &str, problems: &mut FileProblems) -> bool {
    let present = !text.trim().is_empty();
    if !present {
        problems.report(place, "must not be empty");
    }
    present
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_shapes_case_by_case() {
        let cases = [
            ("SETTLEMENT_FAIL", true, false),
            ("T2", true, false),
            ("settlement_fail", false, true),
            ("_FAIL", false, false),
            ("", false, false),
            ("acme-capital", false, true),
            ("Acme", false, false),
        ];
        for (name, upper_snake, slug) in cases {
            assert_eq!(is_upper_snake(name), upper_snake, "upper snake {name:?}");
            assert_eq!(is_slug(name), slug, "slug {name:?}");
        }
    }
}
