//! The pack rule evaluator: conditions, triage and policy with the shipped packs, against
//! arbitrary payloads, field paths, ops, types, severities and confidences.

use std::path::Path;
use std::sync::LazyLock;

use exception_worker::model::Severity;
use exception_worker::packs::conditions::{
    all_conditions_hold, condition_holds, lookup_field, numeric,
};
use exception_worker::packs::policy_rules::evaluate_policy;
use exception_worker::packs::triage_rules::{clean_type_name, triage};
use exception_worker::packs::{
    find_playbook, sla_deadline, Condition, ConditionTest, DomainPack, Packs, PolicyInput,
    PolicyOutcome, TenantPack, TriageInput,
};
use proptest::prelude::*;
use serde_json::Value;

use crate::config;
use crate::strategies::{any_instant, json_key, json_leaf, json_string, json_value, KNOWN_KEYS};

const TENANTS: [&str; 2] = ["acme-capital", "globex-markets"];

static PACKS: LazyLock<Packs> = LazyLock::new(|| {
    Packs::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")))
        .unwrap_or_else(|errors| panic!("the shipped packs must load: {errors}"))
});

fn tenant_and_domain(index: usize) -> (&'static TenantPack, &'static DomainPack) {
    let tenant = PACKS
        .tenant(TENANTS[index % TENANTS.len()])
        .unwrap_or_else(|| panic!("tenant {} is shipped", TENANTS[index % TENANTS.len()]));
    (tenant, PACKS.domain_of(tenant))
}

/// A dot path: known keys, indexes and arbitrary segments, or any string at all.
fn field_path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        3 => prop::sample::select(KNOWN_KEYS).prop_map(str::to_owned),
        1 => (0usize..8).prop_map(|index| index.to_string()),
        1 => json_key(),
    ];
    prop_oneof![
        4 => prop::collection::vec(segment, 1..5).prop_map(|segments| segments.join(".")),
        1 => any::<String>(),
    ]
}

/// Any f64, weighted towards the awkward ones.
fn awkward_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => proptest::num::f64::ANY,
        2 => -1e7..1e7f64,
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, f64::MAX, f64::MIN,
            f64::MIN_POSITIVE, f64::EPSILON,
        ]),
    ]
}

fn condition_test() -> impl Strategy<Value = ConditionTest> {
    // Values of any kind, not only the scalars validation lets through.
    let value = || json_value(2, 6);
    prop_oneof![
        value().prop_map(ConditionTest::Eq),
        value().prop_map(ConditionTest::Ne),
        prop::collection::vec(value(), 0..5).prop_map(ConditionTest::In),
        awkward_f64().prop_map(ConditionTest::Gt),
        awkward_f64().prop_map(ConditionTest::Gte),
        awkward_f64().prop_map(ConditionTest::Lt),
        awkward_f64().prop_map(ConditionTest::Lte),
        any::<bool>().prop_map(ConditionTest::Exists),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    (field_path(), condition_test()).prop_map(|(field, test)| Condition { field, test })
}

/// A source-given type: declared names in odd spellings, blanks, colons, or anything.
fn given_type() -> impl Strategy<Value = Option<String>> {
    let declared: Vec<String> = tenant_and_domain(0)
        .1
        .exception_types
        .iter()
        .map(|declared| declared.name.clone())
        .chain(["UNKNOWN".to_owned()])
        .collect();
    let odd_spelling = (
        prop::sample::select(declared),
        " {0,2}:{0,2} {0,2}",
        any::<bool>(),
    )
        .prop_map(|(name, prefix, lower)| {
            let name = if lower { name.to_lowercase() } else { name };
            format!("{prefix}{name} ")
        });
    prop::option::of(prop_oneof![
        2 => odd_spelling,
        1 => "[ :]{0,4}",
        2 => json_string(),
    ])
}

/// A payload that often carries the facts triage reads (error codes, keywords, amounts).
fn triage_payload() -> impl Strategy<Value = Value> {
    let (_, domain) = tenant_and_domain(0);
    let codes: Vec<String> = domain
        .exception_types
        .iter()
        .flat_map(|declared| declared.error_codes.iter().chain(&declared.keywords))
        .cloned()
        .collect();
    let fact = prop_oneof![
        prop::sample::select(codes).prop_map(Value::String),
        json_leaf(),
    ];
    (
        json_value(3, 24),
        prop::collection::vec((json_key(), fact), 0..6),
    )
        .prop_map(|(base, facts)| match base {
            Value::Object(mut object) => {
                object.extend(facts);
                Value::Object(object)
            }
            other if facts.is_empty() => other,
            _ => Value::Object(facts.into_iter().collect()),
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn conditions_never_panic_and_exists_is_a_partition(
        payload in json_value(4, 32),
        conditions in prop::collection::vec(condition(), 0..6),
    ) {
        let each: Vec<bool> = conditions.iter().map(|c| condition_holds(c, &payload)).collect();
        prop_assert_eq!(all_conditions_hold(&conditions, &payload), each.iter().all(|held| *held));
        for condition in &conditions {
            let present = lookup_field(&payload, &condition.field).is_some_and(|v| !v.is_null());
            let exists = |expected| Condition {
                field: condition.field.clone(),
                test: ConditionTest::Exists(expected),
            };
            prop_assert_eq!(condition_holds(&exists(true), &payload), present);
            prop_assert_eq!(condition_holds(&exists(false), &payload), !present);
            if !present {
                prop_assert_eq!(
                    condition_holds(condition, &payload),
                    condition.test == ConditionTest::Exists(false)
                );
            }
        }
    }

    #[test]
    fn eq_and_ne_are_complements_on_present_fields(
        payload in json_value(4, 32),
        field in field_path(),
        expected in json_value(1, 4),
    ) {
        let present = lookup_field(&payload, &field).is_some_and(|value| !value.is_null());
        let eq = condition_holds(&Condition { field: field.clone(), test: ConditionTest::Eq(expected.clone()) }, &payload);
        let ne = condition_holds(&Condition { field, test: ConditionTest::Ne(expected) }, &payload);
        if present {
            prop_assert_ne!(eq, ne);
        } else {
            prop_assert!(!eq && !ne);
        }
    }

    #[test]
    fn lookup_follows_every_real_path_and_numeric_is_finite(
        payload in json_value(5, 48),
        steps in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        // Walk the payload by random choices, recording the dot path taken.
        let mut node = &payload;
        let mut path: Vec<String> = Vec::new();
        for step in steps {
            let next = match node {
                Value::Object(map) if !map.is_empty() => {
                    let (key, child) = map.iter().nth(step.index(map.len())).unwrap_or_else(|| unreachable!());
                    if key.contains('.') { break; }
                    Some((key.clone(), child))
                }
                Value::Array(items) if !items.is_empty() => {
                    let index = step.index(items.len());
                    Some((index.to_string(), &items[index]))
                }
                _ => None,
            };
            let Some((segment, child)) = next else { break };
            path.push(segment);
            node = child;
        }
        if !path.is_empty() {
            prop_assert_eq!(lookup_field(&payload, &path.join(".")), Some(node));
        }
        if let Some(number) = numeric(node) {
            prop_assert!(number.is_finite(), "{node} gave {number}");
        }
    }

    #[test]
    fn triage_always_decides_with_a_known_confidence(
        tenant_index in 0usize..2,
        exception_type in given_type(),
        payload in triage_payload(),
    ) {
        let (tenant, domain) = tenant_and_domain(tenant_index);
        let input = TriageInput { exception_type: exception_type.as_deref(), payload: &payload };
        let decision = triage(domain, tenant, &input);
        prop_assert!([0.7, 0.8, 0.85, 0.9].contains(&decision.confidence), "{decision:?}");
        prop_assert!(!decision.exception_type.is_empty(), "{decision:?}");
        prop_assert!(!decision.evidence.is_empty(), "{decision:?}");
        let given = exception_type.as_deref().map(clean_type_name).filter(|name| !name.is_empty());
        prop_assert_eq!(decision.type_was_given, given.is_some());
        if let Some(given) = given {
            prop_assert!(decision.exception_type.eq_ignore_ascii_case(given), "{decision:?}");
        }
        prop_assert!(Severity::ALL.contains(&decision.severity));
    }

    #[test]
    fn policy_never_panics_and_escalations_carry_a_reason(
        tenant_index in 0usize..2,
        exception_type in given_type(),
        severity in prop::sample::select(Severity::ALL.to_vec()),
        confidence in prop_oneof![3 => 0.0..=1.0f64, 1 => awkward_f64()],
        sla_deadline in prop::option::of(any_instant()),
        now in any_instant(),
    ) {
        let (tenant, domain) = tenant_and_domain(tenant_index);
        let exception_type = exception_type.unwrap_or_default();
        let input = PolicyInput { exception_type: &exception_type, severity, confidence, sla_deadline, now };
        let decision = evaluate_policy(domain, tenant, &input);
        prop_assert!(!decision.reasons.is_empty(), "{decision:?}");
        prop_assert!(decision.reasons.iter().all(|reason| !reason.trim().is_empty()));
        match &decision.outcome {
            PolicyOutcome::Escalate => prop_assert_eq!(decision.decision_label(), "escalated"),
            PolicyOutcome::Matched { playbook_id, approval_required } => {
                prop_assert_eq!(decision.candidates.first(), Some(playbook_id));
                prop_assert!(find_playbook(domain, tenant, playbook_id).is_some());
                if severity == Severity::Critical || confidence.is_nan() {
                    prop_assert!(*approval_required, "{decision:?}");
                }
            }
        }
        if confidence.is_nan() {
            // Not-a-number confidence must fail closed: never auto-approved.
            prop_assert_ne!(decision.decision_label(), "auto_approved");
        }
    }

    #[test]
    fn triage_sla_and_policy_chain_never_panics(
        tenant_index in 0usize..2,
        exception_type in given_type(),
        payload in triage_payload(),
        created_at in any_instant(),
        now in any_instant(),
    ) {
        let (tenant, domain) = tenant_and_domain(tenant_index);
        let input = TriageInput { exception_type: exception_type.as_deref(), payload: &payload };
        let triaged = triage(domain, tenant, &input);
        let deadline = sla_deadline(tenant, triaged.severity, created_at);
        prop_assert!(deadline >= created_at);
        let input = PolicyInput {
            exception_type: &triaged.exception_type,
            severity: triaged.severity,
            confidence: triaged.confidence,
            sla_deadline: Some(deadline),
            now,
        };
        let decision = evaluate_policy(domain, tenant, &input);
        if decision.outcome == PolicyOutcome::Escalate {
            prop_assert!(!decision.reasons.is_empty(), "{decision:?}");
        }
    }
}
