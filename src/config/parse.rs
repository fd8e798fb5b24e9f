//! Parsers for raw environment values; each records a problem instead of failing, so that
//! validation can report every bad value at once.

use std::fmt;
use std::str::FromStr;

pub(super) fn parse_value<T: FromStr>(
    problems: &mut Vec<String>,
    name: &str,
    raw: &str,
    expected: &str,
    fallback: T,
) -> T {
    raw.trim().parse().unwrap_or_else(|_| {
        problems.push(format!("{name}: '{raw}' is not {expected}"));
        fallback
    })
}

pub(super) fn parse_bool(problems: &mut Vec<String>, name: &str, raw: &str) -> bool {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => true,
        "false" | "0" | "no" => false,
        _ => {
            problems.push(format!("{name}: '{raw}' is not a boolean (true or false)"));
            false
        }
    }
}

pub(super) fn parse_in_range<T>(
    problems: &mut Vec<String>,
    name: &str,
    raw: &str,
    min: T,
    max: T,
) -> T
where
    T: FromStr + PartialOrd + Copy + fmt::Display,
{
    match raw.trim().parse::<T>() {
        Ok(value) if value >= min && value <= max => value,
        Ok(_) => {
            problems.push(format!("{name}: {raw} is out of range ({min}..={max})"));
            min
        }
        Err(_) => {
            problems.push(format!("{name}: '{raw}' is not a whole number"));
            min
        }
    }
}

/// A number in 0..=1 (exclusive of 0).
pub(super) fn parse_fraction(problems: &mut Vec<String>, name: &str, raw: &str) -> f64 {
    match raw.trim().parse::<f64>() {
        Ok(value) if value > 0.0 && value <= 1.0 => value,
        _ => {
            problems.push(format!("{name}: '{raw}' is not a fraction in (0, 1]"));
            0.8
        }
    }
}
