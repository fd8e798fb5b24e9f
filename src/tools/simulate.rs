//! Simulated tools: deterministic stand-ins whose behaviour is fixed by their profile.

use std::time::Duration;

use serde_json::{json, Value};

use super::failure::{FailureKind, ToolFailure};
use crate::packs::SimulateProfile;

/// One attempt (numbered from 1) of a simulated tool. The caller bounds it by the tool timeout,
/// so a `delayed` profile longer than `timeout_ms` becomes a `Timeout` there.
pub(crate) async fn attempt(
    profile: SimulateProfile,
    tool_name: &str,
    attempt: u32,
    delay: Duration,
) -> Result<Value, ToolFailure> {
    match profile {
        SimulateProfile::Success => Ok(success(tool_name)),
        SimulateProfile::Fail => Err(ToolFailure::new(
            FailureKind::Rejected,
            format!("simulated tool '{tool_name}' always fails"),
        )),
        SimulateProfile::Delayed => {
            tokio::time::sleep(delay).await;
            Ok(success(tool_name))
        }
        SimulateProfile::Flaky if attempt <= 1 => Err(ToolFailure::new(
            FailureKind::Transient,
            format!("simulated tool '{tool_name}' fails its first attempt"),
        )),
        SimulateProfile::Flaky => Ok(success(tool_name)),
    }
}

fn success(tool_name: &str) -> Value {
    json!({"status": "ok", "tool": tool_name, "simulated": true})
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_DELAY: Duration = Duration::ZERO;

    #[tokio::test]
    async fn success_returns_the_simulated_body() {
        let output = attempt(SimulateProfile::Success, "retry", 1, NO_DELAY).await;
        assert_eq!(
            output,
            Ok(json!({"status": "ok", "tool": "retry", "simulated": true}))
        );
    }

    #[tokio::test]
    async fn fail_is_rejected_on_every_attempt() {
        for number in 1..=3 {
            let failure = attempt(SimulateProfile::Fail, "t", number, NO_DELAY)
                .await
                .unwrap_err();
            assert_eq!(failure.kind, FailureKind::Rejected);
        }
    }

    #[tokio::test]
    async fn flaky_fails_only_its_first_attempt() {
        let first = attempt(SimulateProfile::Flaky, "t", 1, NO_DELAY).await;
        assert_eq!(first.unwrap_err().kind, FailureKind::Transient);
        assert!(attempt(SimulateProfile::Flaky, "t", 2, NO_DELAY)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn delayed_sleeps_then_succeeds() {
        let started = std::time::Instant::now();
        let output = attempt(SimulateProfile::Delayed, "t", 1, Duration::from_millis(30)).await;
        assert!(output.is_ok());
        assert!(started.elapsed() >= Duration::from_millis(30));
    }
}
