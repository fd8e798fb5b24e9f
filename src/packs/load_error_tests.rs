//! Loading tests for broken packs: every problem across all files is reported at once, each
//! with its file and place.

use std::fs;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::*;

const BROKEN_DOMAIN: &str = r#"
name = "broken"
pii_keys = ["email", ""]

[[exception_types]]
name = "SETTLEMENT_FAIL"
error_codes = ["LACK"]

[[exception_types]]
name = "bad-name"

[[exception_types]]
name = "SETTLEMENT_FAIL"
error_codes = ["lack"]

[[severity_rules]]
id = "r1"
exception_type = "SETTLEMENT_FAIL"
severity = "URGENT"

[[severity_rules]]
id = "r1"
exception_type = "NOT_A_TYPE"
severity = "HIGH"
when = [
  { field = "amount", op = "like", value = 1 },
  { field = "amount", op = "gte", value = "big" },
  { field = "currency", op = "in", value = "USD" },
  { field = "flag", op = "exists", value = 1 },
]

[[tools]]
name = "ticket"
kind = "http"

[[tools]]
name = "sim"
kind = "simulate"
profile = "sometimes"

[[tools]]
name = "ok_tool"
kind = "simulate"
profile = "success"
timeout_ms = 0

[[tools]]
name = "other_tool"
kind = "simulate"
profile = "fail"

[[playbooks]]
id = "pb1"
name = "one"
priority = 1
conditions = { type = "NOPE", severity_in = ["SEVERE"] }
steps = [{ action = "call_tool" }, { action = "call_tool", tool = "ghost" }, { action = "" }]

[[playbooks]]
id = "pb1"
name = "duplicate"
priority = 2
steps = []
"#;

const UNPARSABLE_DOMAIN: &str = "name = \"x\"\n\n[[exception_types]\nname = \"A\"\n";

const UNKNOWN_KEY_DOMAIN: &str = "name = \"y\"\ncolour = \"blue\"\n";

const BROKEN_TENANT: &str = r#"
tenant_id = "Bad Tenant"
name = "Bad"
domain = "broken"
api_key_sha256 = "ABC"
enabled_tools = ["ok_tool", "missing_tool"]

[severity_overrides]
NOT_A_TYPE = "HIGH"
SETTLEMENT_FAIL = "SEVERE"

[sla_targets_minutes]
URGENT = 10
LOW = -5

[approval]
confidence_threshold = 1.5
require_for_severities = ["MAYBE"]

[[playbooks]]
id = "pb1"
name = "clashes with the domain's pb1"
priority = 1
steps = [{ action = "call_tool", tool = "other_tool" }]
"#;

const ORPHAN_TENANT: &str = r#"
tenant_id = "orphan"
name = "Orphan"
domain = "nowhere"
api_key_sha256 = "2222222222222222222222222222222222222222222222222222222222222222"
"#;

/// A fresh, uniquely named directory under the system temp dir with the given files.
fn temp_pack_dir(label: &str, files: &[(&str, &str)]) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("packs-{label}-{}-{nanos}", std::process::id()));
    for sub in [DOMAINS_DIR, TENANTS_DIR] {
        fs::create_dir_all(dir.join(sub)).expect("create temp pack dir");
    }
    for (relative, text) in files {
        fs::write(dir.join(relative), text).expect("write temp pack file");
    }
    dir
}

/// (file name, place) of each error, in report order.
fn file_and_place(errors: &PackErrors) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|error| {
            let name = error.file.file_name().unwrap_or_default();
            (name.to_string_lossy().into_owned(), error.place.clone())
        })
        .collect()
}

#[test]
fn broken_packs_report_every_problem_at_once() {
    // Arrange
    let dir = temp_pack_dir(
        "broken",
        &[
            ("domains/broken.toml", BROKEN_DOMAIN),
            ("domains/unparsable.toml", UNPARSABLE_DOMAIN),
            ("domains/unknown_key.toml", UNKNOWN_KEY_DOMAIN),
            ("domains/README.md", "not a pack"),
            ("tenants/bad.toml", BROKEN_TENANT),
            ("tenants/orphan.toml", ORPHAN_TENANT),
        ],
    );

    // Act
    let errors = Packs::load(&dir).expect_err("broken packs must not load");
    let _ = fs::remove_dir_all(&dir);

    // Assert
    let expected = [
        ("broken.toml", "pii_keys[1]"),
        ("broken.toml", "exception_types[1].name"),
        ("broken.toml", "exception_types[2].name"),
        ("broken.toml", "exception_types[2].error_codes[0]"),
        ("broken.toml", "severity_rules[0].severity"),
        ("broken.toml", "severity_rules[1].id"),
        ("broken.toml", "severity_rules[1].exception_type"),
        ("broken.toml", "severity_rules[1].when[0].op"),
        ("broken.toml", "severity_rules[1].when[1].value"),
        ("broken.toml", "severity_rules[1].when[2].value"),
        ("broken.toml", "severity_rules[1].when[3].value"),
        ("broken.toml", "tools[0].url"),
        ("broken.toml", "tools[1].profile"),
        ("broken.toml", "tools[2].timeout_ms"),
        ("broken.toml", "playbooks[0].conditions.type"),
        ("broken.toml", "playbooks[0].conditions.severity_in[0]"),
        ("broken.toml", "playbooks[0].steps[0].tool"),
        ("broken.toml", "playbooks[0].steps[1].tool"),
        ("broken.toml", "playbooks[0].steps[2].action"),
        ("broken.toml", "playbooks[1].id"),
        ("broken.toml", "playbooks[1].steps"),
        ("unknown_key.toml", "line 2, column 1"),
        ("unparsable.toml", "line 3, column 19"),
        ("bad.toml", "tenant_id"),
        ("bad.toml", "api_key_sha256"),
        ("bad.toml", "sla_targets_minutes.LOW"),
        ("bad.toml", "sla_targets_minutes.URGENT"),
        ("bad.toml", "approval.confidence_threshold"),
        ("bad.toml", "approval.require_for_severities[0]"),
        ("bad.toml", "severity_overrides.NOT_A_TYPE"),
        ("bad.toml", "severity_overrides.SETTLEMENT_FAIL"),
        ("bad.toml", "enabled_tools[1]"),
        ("bad.toml", "playbooks[0].id"),
        ("bad.toml", "playbooks[0].steps[0].tool"),
        ("orphan.toml", "domain"),
    ];
    let found = file_and_place(&errors);
    let found: Vec<(&str, &str)> = found
        .iter()
        .map(|(f, p)| (f.as_str(), p.as_str()))
        .collect();
    assert_eq!(found, expected, "{errors}");
    let text = errors.to_string();
    assert_eq!(text.lines().count(), expected.len());
    assert!(
        text.contains("unknown_key.toml: line 2, column 1: unknown field `colour`"),
        "{text}"
    );
    assert!(
        text.contains(
            "playbooks[0].steps[0].tool: tool 'other_tool' is not in this tenant's enabled_tools"
        ),
        "{text}"
    );
}

#[test]
fn missing_directory_is_reported() {
    // Arrange
    let dir = std::env::temp_dir().join(format!(
        "packs-missing-{}-does-not-exist",
        std::process::id()
    ));

    // Act
    let errors = Packs::load(&dir).expect_err("missing dir must not load");

    // Assert
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.0[0].file, dir);
    assert_eq!(errors.0[0].reason, "pack directory does not exist");
}

#[test]
fn no_tenants_at_all_is_an_error() {
    // Arrange
    let domain = "name = \"d\"\n[[exception_types]]\nname = \"A\"\n";
    let dir = temp_pack_dir("no-tenants", &[("domains/d.toml", domain)]);

    // Act
    let errors = Packs::load(&dir).expect_err("no tenants must not load");
    let _ = fs::remove_dir_all(&dir);

    // Assert
    assert_eq!(errors.len(), 1, "{errors}");
    assert_eq!(errors.0[0].file, dir.join(TENANTS_DIR));
    assert_eq!(errors.0[0].reason, "no tenant packs (*.toml) found");
}

#[test]
fn duplicate_tenant_ids_and_api_keys_are_reported() {
    // Arrange
    let domain = PackSource {
        path: PathBuf::from("domains/d.toml"),
        text: "name = \"d\"\n[[exception_types]]\nname = \"A\"\n".into(),
    };
    let tenant = |file: &str, id: &str, hash_digit: char| PackSource {
        path: PathBuf::from(file),
        text: format!(
            "tenant_id = \"{id}\"\nname = \"n\"\ndomain = \"d\"\napi_key_sha256 = \"{}\"\n",
            hash_digit.to_string().repeat(64)
        ),
    };
    let tenants = [
        tenant("a.toml", "a", '1'),
        tenant("b.toml", "a", '2'),
        tenant("c.toml", "c", '1'),
    ];

    // Act
    let errors = Packs::from_sources(&[domain], &tenants).expect_err("duplicates must not load");

    // Assert
    let found = file_and_place(&errors);
    assert_eq!(
        found,
        [
            ("b.toml".to_string(), "tenant_id".to_string()),
            ("c.toml".to_string(), "api_key_sha256".to_string())
        ],
        "{errors}"
    );
}
