//! The raw environment after the simple checks of the settings table: `Checked::new` checks every
//! setting in use (ranges, fractions, booleans, one-of lists, refused variables) and keeps the
//! problems; the typed accessors then give validation the values, and its own rules add theirs.

use super::env::EnvVars;
use super::setting::{parse_boolean, Allowed, Section, Setting};
use super::table::{KAFKA_BOOTSTRAP_SERVERS, SETTINGS};

pub(super) struct Checked<'a> {
    env: &'a EnvVars,
    problems: Vec<String>,
}

impl<'a> Checked<'a> {
    /// Checks every setting; those of the Kafka section only when KAFKA_BOOTSTRAP_SERVERS is set.
    pub fn new(env: &'a EnvVars) -> Self {
        let kafka = env
            .get(&KAFKA_BOOTSTRAP_SERVERS)
            .is_some_and(|servers| !servers.trim().is_empty());
        let problems = SETTINGS
            .iter()
            .filter(|setting| kafka || setting.section != Section::Kafka)
            .filter_map(|setting| setting.check(env.get(setting)?))
            .collect();
        Self { env, problems }
    }

    /// Records a problem found by a rule of validation.
    pub fn problem(&mut self, problem: impl Into<String>) {
        self.problems.push(problem.into());
    }

    /// The problems found so far, for a rule that records its own.
    pub fn problems(&mut self) -> &mut Vec<String> {
        &mut self.problems
    }

    /// Every problem found, the table's first.
    pub fn into_problems(self) -> Vec<String> {
        self.problems
    }

    /// The value as set (even blank), else the default; None when unset without a default.
    pub fn raw(&self, setting: &Setting) -> Option<&'a str> {
        self.env.get(setting)
    }

    /// A whole-number setting: its value, or its minimum when the value is bad (the problem is
    /// already recorded).
    pub fn whole<T: TryFrom<u64> + Default>(&mut self, setting: &Setting) -> T {
        let Allowed::Whole(min, max) = setting.allowed else {
            return self.misread(setting, "a whole number");
        };
        let value = self
            .raw(setting)
            .and_then(|raw| raw.trim().parse::<u64>().ok())
            .filter(|value| (min..=max).contains(value))
            .unwrap_or(min);
        self.fit(setting, value)
    }

    /// As `whole`, for a setting without a default: None when unset.
    pub fn whole_if_set<T: TryFrom<u64> + Default>(&mut self, setting: &Setting) -> Option<T> {
        self.raw(setting)?;
        Some(self.whole(setting))
    }

    fn fit<T: TryFrom<u64> + Default>(&mut self, setting: &Setting, value: u64) -> T {
        T::try_from(value).unwrap_or_else(|_| {
            self.problem(format!(
                "{}: {value} does not fit the setting's type",
                setting.name
            ));
            T::default()
        })
    }

    /// A boolean setting: its value, or false when the value is bad.
    pub fn boolean(&mut self, setting: &Setting) -> bool {
        if setting.allowed != Allowed::Boolean {
            return self.misread(setting, "a boolean");
        }
        self.raw(setting).and_then(parse_boolean).unwrap_or(false)
    }

    /// A fraction setting: its value, or 1 when the value is bad.
    pub fn fraction(&mut self, setting: &Setting) -> f64 {
        if setting.allowed != Allowed::Fraction {
            return self.misread(setting, "a fraction");
        }
        self.raw(setting)
            .and_then(|raw| raw.trim().parse::<f64>().ok())
            .filter(|value| *value > 0.0 && *value <= 1.0)
            .unwrap_or(1.0)
    }

    /// A one-of setting: the table's word its value names, or None when the value is bad (or
    /// unset).
    pub fn word(&mut self, setting: &Setting) -> Option<&'static str> {
        let raw = self.raw(setting)?.trim();
        match setting.allowed {
            Allowed::OneOf(words) => words.iter().find(|word| **word == raw).copied(),
            Allowed::OneOfAnyCase(words) => words
                .iter()
                .find(|word| word.eq_ignore_ascii_case(raw))
                .copied(),
            _ => self.misread(setting, "one of a list"),
        }
    }

    /// A setting read as a kind its description does not give: a mistake in the code, reported
    /// like a bad value so that the process does not start on it.
    fn misread<T: Default>(&mut self, setting: &Setting, kind: &str) -> T {
        self.problem(format!(
            "{}: read as {kind}, but the settings table describes {:?}",
            setting.name, setting.allowed
        ));
        T::default()
    }
}

#[cfg(test)]
#[path = "checked_tests.rs"]
mod tests;
