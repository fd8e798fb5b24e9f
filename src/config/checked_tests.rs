//! Unit tests of the settings table and its simple checks.

use std::collections::{BTreeSet, HashMap};

use super::*;
use crate::config::table::*;
use crate::config::WhenUnset;
use crate::telemetry::LogFormat;

fn problems_of(pairs: &[(&str, &str)]) -> Vec<String> {
    let vars: HashMap<String, String> = pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Checked::new(&EnvVars::from_map(&vars)).into_problems()
}

#[test]
fn every_default_passes_its_own_check() {
    for setting in SETTINGS {
        if let WhenUnset::Value(default) = setting.unset {
            assert_eq!(setting.check(default), None, "{}", setting.name);
        }
    }
    let with_kafka = problems_of(&[("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")]);
    assert!(with_kafka.is_empty(), "{with_kafka:?}");
}

#[test]
fn names_are_unique_variable_names_and_help_fits_a_table_cell() {
    let names: BTreeSet<&str> = SETTINGS.iter().map(|setting| setting.name).collect();
    assert_eq!(names.len(), SETTINGS.len(), "a name is listed twice");
    for setting in SETTINGS {
        assert!(
            setting
                .name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "{}",
            setting.name
        );
        assert!(
            !setting.help.contains('|') && !setting.help.contains('\n'),
            "{}: the help must be one line without '|'",
            setting.name
        );
    }
}

#[test]
fn every_log_format_word_is_a_log_format() {
    let Allowed::OneOf(words) = LOG_FORMAT.allowed else {
        panic!("LOG_FORMAT is not a one-of setting");
    };
    for word in words {
        assert!(word.parse::<LogFormat>().is_ok(), "{word}");
    }
}

#[test]
fn bad_values_are_reported_with_the_texts_operators_know() {
    let problems = problems_of(&[
        ("CONCURRENCY", "0"),
        ("MAX_ATTEMPTS", "x"),
        ("DLQ_CAP_RATIO", "1.5"),
        ("RUN_MIGRATIONS", "maybe"),
        ("LOG_FORMAT", "xml"),
        ("HANDLER_THREADS", ""),
    ]);
    assert_eq!(
        problems,
        [
            "CONCURRENCY: 0 is out of range (1..=256)",
            "RUN_MIGRATIONS: 'maybe' is not a boolean (true or false)",
            "LOG_FORMAT: 'xml' is not json or pretty",
            "HANDLER_THREADS: '' is not a whole number",
            "MAX_ATTEMPTS: 'x' is not a whole number",
            "DLQ_CAP_RATIO: '1.5' is not a fraction in (0, 1]",
        ]
    );
}

#[test]
fn kafka_settings_are_checked_only_when_kafka_is_used() {
    let kafka_settings = [
        ("KAFKA_TOPIC_PARTITIONS", "0"),
        ("KAFKA_SECURITY_PROTOCOL", "tls"),
        ("OUTBOX_POLL_INTERVAL_MS", "100"),
    ];
    assert_eq!(problems_of(&kafka_settings), Vec::<String>::new());
    let mut with_kafka = kafka_settings.to_vec();
    with_kafka.push(("KAFKA_BOOTSTRAP_SERVERS", "broker:9092"));
    let problems = problems_of(&with_kafka);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert_eq!(
        problems[1],
        "KAFKA_SECURITY_PROTOCOL: 'tls' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
    );
    assert!(problems[2].starts_with("OUTBOX_POLL_INTERVAL_MS: no longer read"));
}

#[test]
fn a_blank_security_protocol_is_unset_and_any_case_is_accepted() {
    for protocol in ["", " ", "sasl_ssl", "Plaintext"] {
        let problems = problems_of(&[
            ("KAFKA_BOOTSTRAP_SERVERS", "broker:9092"),
            ("KAFKA_SECURITY_PROTOCOL", protocol),
        ]);
        assert!(problems.is_empty(), "{protocol:?}: {problems:?}");
    }
}

#[test]
fn typed_values_come_from_the_environment_or_the_table() {
    let vars = HashMap::from([
        ("CONCURRENCY".to_owned(), " 12 ".to_owned()),
        ("RUN_MIGRATIONS".to_owned(), "No".to_owned()),
        ("SLA_IMMINENT_THRESHOLD".to_owned(), "0.5".to_owned()),
    ]);
    let env = EnvVars::from_map(&vars);
    let mut c = Checked::new(&env);
    assert_eq!(c.whole::<usize>(&CONCURRENCY), 12);
    assert!(!c.boolean(&RUN_MIGRATIONS));
    assert_eq!(c.fraction(&SLA_IMMINENT_THRESHOLD), 0.5);
    assert_eq!(c.word(&LOG_FORMAT), Some(LOG_FORMAT.default_value()));
    assert_eq!(c.whole_if_set::<usize>(&HANDLER_THREADS), None);
    assert_eq!(
        c.whole::<u64>(&RETENTION_INTERVAL_SECS).to_string(),
        RETENTION_INTERVAL_SECS.default_value()
    );
    assert!(c.into_problems().is_empty());
}

#[test]
fn reading_a_setting_as_another_kind_stops_the_start() {
    let env = EnvVars::from_map(&HashMap::new());
    let mut c = Checked::new(&env);
    let _value: u32 = c.whole(&LOG_FORMAT);
    let problems = c.into_problems();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("LOG_FORMAT: read as a whole number"));
}
