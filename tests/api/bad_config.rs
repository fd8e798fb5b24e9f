//! A bad configuration is reported in full, in one run, and the binary exits 64 (EX_USAGE).
//! These run the real binary and need no database.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use test_support::CONFIG_DIR;

const BINARY: &str = env!("CARGO_BIN_EXE_exception-worker");

/// Runs the binary with only `env` set; kills it and fails if it has not exited within 30 s
/// (a process that starts serving instead of refusing its configuration).
fn run_binary(env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(BINARY)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Failed to start the binary");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child
        .try_wait()
        .expect("Failed to poll the child")
        .is_none()
    {
        if Instant::now() > deadline {
            let _killed = child.kill();
            panic!("the binary did not exit: it accepted a bad configuration");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("Failed to read the output")
}

#[test]
fn a_bad_environment_lists_every_problem_and_exits_64() {
    // Arrange
    let data = tempfile::tempdir().expect("a temp dir");
    let database_url = format!("sqlite://{}/t.db?mode=rwc", data.path().display());
    let env = [
        ("CONCURRENCY", "0"),
        ("HTTP_ADDR", "nope"),
        ("LOG_FORMAT", "xml"),
        ("WORKER_TYPE", "reviewer"),
        ("CONFIG_DIR", CONFIG_DIR),
        ("DATABASE_URL", database_url.as_str()),
    ];

    // Act
    let output = run_binary(&env);

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(64), "stderr: {stderr}");
    for (variable, value) in [
        ("CONCURRENCY", "0"),
        ("HTTP_ADDR", "nope"),
        ("LOG_FORMAT", "xml"),
        ("WORKER_TYPE", "reviewer"),
    ] {
        let named = stderr
            .lines()
            .any(|line| line.contains(variable) && line.contains(value));
        assert!(named, "{variable}={value} is not reported: {stderr}");
    }
    assert!(
        !data.path().join("t.db").exists(),
        "the database was opened despite the bad configuration"
    );
}

#[test]
fn a_broken_pack_names_its_file_and_place_and_exits_64() {
    // Arrange: a copy of the packs with an unknown severity in a tenant override.
    let packs = tempfile::tempdir().expect("a temp dir");
    copy_dir(Path::new(CONFIG_DIR), packs.path());
    let tenant_file = packs.path().join("tenants").join("acme-capital.toml");
    let original = std::fs::read_to_string(&tenant_file).expect("the acme pack");
    let broken = original.replace(
        r#"PRICE_MISMATCH = "MEDIUM""#,
        r#"PRICE_MISMATCH = "URGENT""#,
    );
    assert_ne!(
        broken, original,
        "the pack no longer has the line this test breaks"
    );
    std::fs::write(&tenant_file, broken).expect("the broken pack");
    let data = tempfile::tempdir().expect("a temp dir");
    let database_url = format!("sqlite://{}/t.db?mode=rwc", data.path().display());
    let config_dir = packs.path().display().to_string();
    let env = [
        ("WORKER_TYPE", "intake"),
        ("HTTP_ADDR", "127.0.0.1:0"),
        ("CONFIG_DIR", config_dir.as_str()),
        ("DATABASE_URL", database_url.as_str()),
    ];

    // Act
    let output = run_binary(&env);

    // Assert
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(64), "stderr: {stderr}");
    let named = stderr.lines().any(|line| {
        line.contains("acme-capital.toml")
            && line.contains("severity_overrides.PRICE_MISMATCH")
            && line.contains("URGENT")
    });
    assert!(named, "the file and place are not named: {stderr}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for entry in std::fs::read_dir(from).expect("a readable directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a copied file");
        }
    }
}
