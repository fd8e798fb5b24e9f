//! Unit tests of configuration validation.

use super::*;
use crate::config::AVAILABLE_ROLES;
use crate::model::RoleName;
use std::collections::HashMap;
use std::time::Duration;

fn env_of(pairs: &[(&str, &str)]) -> EnvVars {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    EnvVars::from_map(&map)
}

#[test]
fn the_scaling_guide_line_is_accepted() {
    let env = env_of(&[
        ("WORKER_TYPE", "triage"),
        ("CONCURRENCY", "4"),
        ("GROUP_ID", "triage-workers"),
    ]);
    let settings = Settings::from_sources(&env, None, true).unwrap();
    assert_eq!(settings.roles, vec![RoleName::Triage]);
    assert_eq!(settings.concurrency, 4);
    assert_eq!(settings.group_for(RoleName::Triage), "triage-workers");
    assert!(settings.uses_sqlite());
}

#[test]
fn every_problem_is_reported_at_once() {
    let env = env_of(&[
        ("WORKER_TYPE", "triage,bogus,reviewer"),
        ("CONCURRENCY", "0"),
        ("HTTP_ADDR", "nowhere"),
        ("LOG_FORMAT", "xml"),
        ("RUN_MIGRATIONS", "maybe"),
        ("DATABASE_URL", "mysql://x"),
        ("COMMIT_INTERVAL_MS", "abc"),
    ]);
    let errors = Settings::from_sources(&env, None, true).unwrap_err();
    let text = errors.to_string();
    for expected in [
        "bogus",
        "reviewer",
        "CONCURRENCY",
        "HTTP_ADDR",
        "LOG_FORMAT",
        "RUN_MIGRATIONS",
        "DATABASE_URL",
        "COMMIT_INTERVAL_MS",
    ] {
        assert!(text.contains(expected), "missing {expected} in {text}");
    }
    assert_eq!(errors.0.len(), 8, "{text}");
}

#[test]
fn roles_flag_overrides_worker_type_and_all_expands() {
    let env = env_of(&[("WORKER_TYPE", "intake"), ("GROUP_ID", "workers")]);
    let settings = Settings::from_sources(&env, Some("all"), true).unwrap();
    assert_eq!(settings.roles, AVAILABLE_ROLES.to_vec());
    assert_eq!(settings.group_for(RoleName::Policy), "workers.policy");
}

#[test]
fn missing_role_is_an_error_only_when_roles_are_needed() {
    let env = env_of(&[]);
    assert!(Settings::from_sources(&env, None, true).is_err());
    assert!(Settings::from_sources(&env, None, false).is_ok());
}

#[test]
fn group_defaults_to_the_role_name() {
    let settings = Settings::from_sources(&env_of(&[]), Some("intake,triage"), true).unwrap();
    assert_eq!(settings.group_for(RoleName::Intake), "intake");
    assert_eq!(settings.group_for(RoleName::Triage), "triage");
}

#[test]
fn passwords_never_reach_debug_output() {
    let env = env_of(&[("DATABASE_URL", "postgres://app:s3cret@db:5432/x")]);
    let settings = Settings::from_sources(&env, Some("intake"), true).unwrap();
    let debug = format!("{settings:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
    assert!(debug.contains("app:***@db"));
}

#[test]
fn the_heartbeat_interval_defaults_to_ten_seconds_within_one_to_300() {
    let settings = Settings::from_sources(&env_of(&[]), Some("intake"), true).unwrap();
    assert_eq!(settings.tuning.worker_heartbeat, Duration::from_secs(10));
    for bad in ["0", "301", "soon"] {
        let env = env_of(&[("WORKER_HEARTBEAT_SECS", bad)]);
        let errors = Settings::from_sources(&env, Some("intake"), true).unwrap_err();
        assert!(
            errors.to_string().contains("WORKER_HEARTBEAT_SECS"),
            "{bad}: {errors}"
        );
    }
    let env = env_of(&[("WORKER_HEARTBEAT_SECS", "300")]);
    let settings = Settings::from_sources(&env, Some("intake"), true).unwrap();
    assert_eq!(settings.tuning.worker_heartbeat, Duration::from_secs(300));
}
