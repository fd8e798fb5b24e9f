//! The validated playbook shape shared by domain and tenant packs: match conditions and steps.

use serde_json::Value;

use crate::model::Severity;

/// Actions the playbook role runs inline without a person.
pub const SAFE_ACTIONS: [&str; 4] = ["notify", "add_comment", "set_status", "assign_owner"];
/// The action that asks the tool role to run a declared tool.
pub const CALL_TOOL_ACTION: &str = "call_tool";

#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    /// Unique across the domain pack and every tenant pack of that domain.
    pub id: String,
    pub name: String,
    pub description: String,
    /// Higher wins.
    pub priority: i64,
    pub origin: PlaybookOrigin,
    pub conditions: PlaybookConditions,
    /// In order; `PlaybookStep::number` is 1-based.
    pub steps: Vec<PlaybookStep>,
}

impl Playbook {
    /// The step with this 1-based number.
    pub fn step(&self, number: usize) -> Option<&PlaybookStep> {
        number
            .checked_sub(1)
            .and_then(|index| self.steps.get(index))
    }
}

/// Which pack declared the playbook (a tenant playbook wins a priority tie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlaybookOrigin {
    Tenant,
    Domain,
}

impl PlaybookOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaybookOrigin::Tenant => "tenant",
            PlaybookOrigin::Domain => "domain",
        }
    }
}

/// Every present condition must hold; an absent one does not constrain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlaybookConditions {
    /// `type` and `types` merged.
    pub exception_types: Option<Vec<String>>,
    pub severity_in: Option<Vec<Severity>>,
    pub domain: Option<String>,
    pub sla_minutes_remaining_lt: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookStep {
    /// 1-based position in the playbook.
    pub number: usize,
    /// The action as written, e.g. `notify` or `release_payment`.
    pub action: String,
    pub kind: StepKind,
    /// The step's `params` table as a JSON object (empty object when absent).
    pub params: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// Runs inline: one of `SAFE_ACTIONS`.
    Safe,
    /// Runs the named tool through the tool role.
    CallTool { tool: String },
    /// Anything else: waits for a person.
    Risky,
}

impl StepKind {
    /// Classifies an action; `tool` is only used for `call_tool`.
    pub fn classify(action: &str, tool: Option<&str>) -> StepKind {
        if SAFE_ACTIONS.contains(&action) {
            StepKind::Safe
        } else if action == CALL_TOOL_ACTION {
            StepKind::CallTool {
                tool: tool.unwrap_or_default().to_string(),
            }
        } else {
            StepKind::Risky
        }
    }

    pub fn needs_person(&self) -> bool {
        matches!(self, StepKind::Risky)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_actions_case_by_case() {
        let cases = [
            ("notify", None, StepKind::Safe),
            ("add_comment", None, StepKind::Safe),
            ("set_status", None, StepKind::Safe),
            ("assign_owner", None, StepKind::Safe),
            (
                "call_tool",
                Some("retry_settlement"),
                StepKind::CallTool {
                    tool: "retry_settlement".into(),
                },
            ),
            ("release_payment", None, StepKind::Risky),
            ("Notify", None, StepKind::Risky),
        ];
        for (action, tool, expected) in cases {
            // Act
            let kind = StepKind::classify(action, tool);

            // Assert
            assert_eq!(kind, expected, "action {action}");
        }
    }

    #[test]
    fn step_numbers_are_one_based() {
        // Arrange
        let step = PlaybookStep {
            number: 1,
            action: "notify".into(),
            kind: StepKind::Safe,
            params: Value::Object(Default::default()),
        };
        let playbook = Playbook {
            id: "pb".into(),
            name: "pb".into(),
            description: String::new(),
            priority: 1,
            origin: PlaybookOrigin::Domain,
            conditions: PlaybookConditions::default(),
            steps: vec![step.clone()],
        };

        // Act / Assert
        assert_eq!(playbook.step(1), Some(&step));
        assert_eq!(playbook.step(0), None);
        assert_eq!(playbook.step(2), None);
    }
}
