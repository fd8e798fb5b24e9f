//! The vocabulary of the settings table: what one environment setting is (name, section, what
//! unset means, allowed values, a line of help), the simple check its allowed values imply, and
//! the `settings!` macro that turns the table into one constant per setting plus `SETTINGS`.

/// The part of the service a setting belongs to; `--help` and docs/configuration.md group the
/// settings by it, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Process,
    Http,
    Pipeline,
    Tenants,
    Tools,
    Retention,
    /// Read (and checked) only when KAFKA_BOOTSTRAP_SERVERS is set.
    Kafka,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Process,
        Section::Http,
        Section::Pipeline,
        Section::Tenants,
        Section::Tools,
        Section::Retention,
        Section::Kafka,
    ];

    /// The heading in `--help`.
    pub fn title(self) -> &'static str {
        match self {
            Section::Process => "Process and roles",
            Section::Http => "HTTP",
            Section::Pipeline => "Pipeline",
            Section::Tenants => "Tenants and the operator API",
            Section::Tools => "Tools and the SLA monitor",
            Section::Retention => "Retention",
            Section::Kafka => "Kafka (read only when KAFKA_BOOTSTRAP_SERVERS is set)",
        }
    }

    /// The word naming the section's block in docs/configuration.md.
    pub fn key(self) -> &'static str {
        match self {
            Section::Process => "process",
            Section::Http => "http",
            Section::Pipeline => "pipeline",
            Section::Tenants => "tenants",
            Section::Tools => "tools",
            Section::Retention => "retention",
            Section::Kafka => "kafka",
        }
    }
}

/// What an unset variable means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WhenUnset {
    /// This value is used (`""`: empty).
    Value(&'static str),
    /// No value; the text says what that means (it may be blank-as-unset or an error, as the
    /// setting's own rule decides).
    Means(&'static str),
}

/// The values a setting accepts. Whole numbers, fractions, booleans and one-of lists are checked
/// here, from the table; `Described` values have a rule of their own in validation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Allowed {
    /// A whole number in `min..=max`.
    Whole(u64, u64),
    /// A number above 0 and at most 1.
    Fraction,
    /// `true`, `1`, `yes`, `false`, `0` or `no`, in any case.
    Boolean,
    /// One of these words, exactly.
    OneOf(&'static [&'static str]),
    /// One of these words, in any case. A blank value of a setting without a default counts
    /// as unset.
    OneOfAnyCase(&'static [&'static str]),
    /// Checked by a rule of validation; the text describes the values for people.
    Described(&'static str),
    /// Not accepted at all (a removed setting); the text is the problem reported when it is set.
    Refused(&'static str),
}

/// One environment variable the binary reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    pub name: &'static str,
    pub section: Section,
    pub unset: WhenUnset,
    pub allowed: Allowed,
    /// One line for operators (markdown backticks allowed; `--help` drops them).
    pub help: &'static str,
}

impl Setting {
    /// The value used when the variable is unset. Call it in a const item: there, a setting
    /// without a default fails the build instead of the process.
    pub const fn default_value(&self) -> &'static str {
        match self.unset {
            WhenUnset::Value(value) => value,
            WhenUnset::Means(_) => panic!("this setting has no default value"),
        }
    }

    /// The simple check of `raw` (the variable's value, or its default): None when it passes or
    /// when the setting has a rule of its own, else the problem, prefixed with the name.
    pub fn check(&self, raw: &str) -> Option<String> {
        let name = self.name;
        let trimmed = raw.trim();
        match self.allowed {
            Allowed::Whole(min, max) => match trimmed.parse::<u64>() {
                Ok(value) if (min..=max).contains(&value) => None,
                Ok(_) => Some(format!("{name}: {raw} is out of range ({min}..={max})")),
                Err(_) => Some(format!("{name}: '{raw}' is not a whole number")),
            },
            Allowed::Fraction => match trimmed.parse::<f64>() {
                Ok(value) if value > 0.0 && value <= 1.0 => None,
                _ => Some(format!("{name}: '{raw}' is not a fraction in (0, 1]")),
            },
            Allowed::Boolean => parse_boolean(raw)
                .is_none()
                .then(|| format!("{name}: '{raw}' is not a boolean (true or false)")),
            Allowed::OneOf(words) => (!words.contains(&trimmed))
                .then(|| format!("{name}: '{raw}' is not {}", one_of(words))),
            Allowed::OneOfAnyCase(words) => {
                let blank_is_unset =
                    trimmed.is_empty() && matches!(self.unset, WhenUnset::Means(_));
                let known = words.iter().any(|word| word.eq_ignore_ascii_case(trimmed));
                (!known && !blank_is_unset)
                    .then(|| format!("{name}: '{trimmed}' is not {}", one_of(words)))
            }
            Allowed::Described(_) => None,
            Allowed::Refused(reason) => Some(format!("{name}: {reason}")),
        }
    }
}

/// `true`/`1`/`yes` or `false`/`0`/`no` in any case, around blanks.
pub(super) fn parse_boolean(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// "a or b" for two words, "one of A, B, C" for more.
fn one_of(words: &[&str]) -> String {
    match words {
        [first, second] => format!("{first} or {second}"),
        _ => format!("one of {}", words.join(", ")),
    }
}

/// Declares the settings table: one `pub const` per setting, named as its variable, and
/// `SETTINGS`, every one of them in the order written.
///
/// ```text
/// settings! {
///     NAME: Section, WhenUnset, Allowed, "help";
/// }
/// ```
macro_rules! settings {
    ($($name:ident: $section:ident, $unset:expr, $allowed:expr, $help:expr;)*) => {
        $(
            pub const $name: Setting = Setting {
                name: stringify!($name),
                section: Section::$section,
                unset: $unset,
                allowed: $allowed,
                help: $help,
            };
        )*

        /// Every environment setting, in the order of `--help` and docs/configuration.md.
        pub static SETTINGS: &[Setting] = &[$($name),*];
    };
}
pub(super) use settings;
