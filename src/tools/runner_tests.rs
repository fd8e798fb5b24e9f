//! Runner tests: every simulate profile through `run`, and the pre-flight `check` rules.

use std::time::Duration;

use serde_json::{json, Value};

use super::test_support::{fast_settings, http_tool, runner, simulate_tool, tenant};
use super::{FailureKind, ToolOutcome, ToolRun, ToolSettings};
use crate::packs::{SimulateProfile, ToolDefinition};

fn failure_kind(run: &ToolRun) -> Option<FailureKind> {
    run.failure().map(|failure| failure.kind)
}

#[tokio::test]
async fn success_profile_succeeds_at_once() {
    let tool = simulate_tool("retry", SimulateProfile::Success, 1000);

    let run = runner(fast_settings(&[]))
        .run(&tool, "exec-1", &json!({}))
        .await;

    let expected = json!({"status": "ok", "tool": "retry", "simulated": true});
    assert_eq!(run.outcome, ToolOutcome::Succeeded { output: expected });
    assert_eq!(run.attempts, 1);
}

#[tokio::test]
async fn fail_profile_is_rejected_without_retry() {
    let tool = simulate_tool("retry", SimulateProfile::Fail, 1000);

    let run = runner(fast_settings(&[]))
        .run(&tool, "exec-1", &json!({}))
        .await;

    assert_eq!(failure_kind(&run), Some(FailureKind::Rejected));
    assert_eq!(run.attempts, 1);
}

#[tokio::test]
async fn delayed_profile_succeeds_within_the_timeout() {
    let tool = simulate_tool("retry", SimulateProfile::Delayed, 1000);

    let run = runner(fast_settings(&[]))
        .run(&tool, "exec-1", &json!({}))
        .await;

    assert!(run.succeeded(), "{run:?}");
    assert_eq!(run.attempts, 1);
    assert!(run.duration >= Duration::from_millis(20));
}

#[tokio::test]
async fn delayed_profile_beyond_the_timeout_times_out_on_every_attempt() {
    let tool = simulate_tool("retry", SimulateProfile::Delayed, 5);

    let run = runner(fast_settings(&[]))
        .run(&tool, "exec-1", &json!({}))
        .await;

    assert_eq!(failure_kind(&run), Some(FailureKind::Timeout));
    assert_eq!(run.attempts, 3);
    assert!(run
        .failure()
        .is_some_and(|f| f.reason.contains("after 3 attempts")));
}

#[tokio::test]
async fn flaky_profile_succeeds_after_one_retry() {
    let tool = simulate_tool("retry", SimulateProfile::Flaky, 1000);

    let run = runner(fast_settings(&[]))
        .run(&tool, "exec-1", &json!({}))
        .await;

    assert!(run.succeeded(), "{run:?}");
    assert_eq!(run.attempts, 2);
}

#[tokio::test]
async fn flaky_profile_fails_with_a_single_attempt() {
    let tool = simulate_tool("retry", SimulateProfile::Flaky, 1000);
    let settings = ToolSettings {
        max_attempts: 1,
        ..fast_settings(&[])
    };

    let run = runner(settings).run(&tool, "exec-1", &json!({})).await;

    assert_eq!(failure_kind(&run), Some(FailureKind::Transient));
    assert_eq!(run.attempts, 1);
}

#[test]
fn unknown_tool_fails_the_check() {
    let failure = runner(fast_settings(&[]))
        .check(None, "ghost", &tenant(), &json!({}))
        .unwrap_err();

    assert_eq!(failure.kind, FailureKind::UnknownTool);
    assert!(failure.reason.contains("ghost"));
}

#[test]
fn a_tool_the_tenant_has_not_enabled_is_disabled() {
    let tool = simulate_tool("disabled_tool", SimulateProfile::Success, 1000);

    let failure = runner(fast_settings(&[]))
        .check(Some(&tool), "disabled_tool", &tenant(), &json!({}))
        .unwrap_err();

    assert_eq!(failure.kind, FailureKind::Disabled);
}

#[test]
fn an_enabled_tool_passes_the_check() {
    let tool = simulate_tool("retry", SimulateProfile::Success, 1000);

    let checked = runner(fast_settings(&[])).check(Some(&tool), "retry", &tenant(), &json!({}));

    assert_eq!(checked, Ok(()));
}

#[test]
fn http_urls_are_checked_against_the_allow_list() {
    let tenant = tenant();
    let cases = [
        ("https://example.com/hook", &[][..], Ok(())),
        (
            "http://127.0.0.1:9/hook",
            &[][..],
            Err(FailureKind::NotAllowed),
        ),
        ("http://127.0.0.1:9/hook", &["127.0.0.1"][..], Ok(())),
        (
            "ftp://127.0.0.1/hook",
            &["127.0.0.1"][..],
            Err(FailureKind::NotAllowed),
        ),
    ];
    for (url, hosts, expected) in cases {
        let tool = http_tool("hook", url, 1000);
        let checked = runner(fast_settings(hosts)).check(Some(&tool), "hook", &tenant, &json!({}));
        assert_eq!(checked.map_err(|f| f.kind), expected, "{url} {hosts:?}");
    }
}

fn schema_tool() -> ToolDefinition {
    let mut tool = simulate_tool("retry", SimulateProfile::Success, 1000);
    tool.input_schema = Some(json!({
        "type": "object",
        "required": ["tradeId"],
        "properties": {"tradeId": {"type": "string"}}
    }));
    tool
}

#[test]
fn input_is_checked_against_the_schema() {
    let runner = runner(fast_settings(&[]));
    let tool = schema_tool();
    let cases: [(Value, bool); 3] = [
        (json!({"tradeId": "T-1"}), true),
        (json!({"tradeId": 7}), false),
        (json!({}), false),
    ];
    for (input, valid) in cases {
        let checked = runner.check(Some(&tool), "retry", &tenant(), &input);
        match checked {
            Ok(()) => assert!(valid, "{input} should be invalid"),
            Err(failure) => {
                assert!(!valid, "{input}: {failure}");
                assert_eq!(failure.kind, FailureKind::InvalidInput);
                assert!(failure.reason.contains("tradeId"), "{failure}");
            }
        }
    }
}

#[test]
fn a_schema_that_does_not_compile_fails_the_check_clearly() {
    let mut tool = schema_tool();
    tool.input_schema = Some(json!({"type": 12}));

    let failure = runner(fast_settings(&[]))
        .check(Some(&tool), "retry", &tenant(), &json!({}))
        .unwrap_err();

    assert_eq!(failure.kind, FailureKind::InvalidInput);
    assert!(failure.reason.contains("does not compile"), "{failure}");
}
