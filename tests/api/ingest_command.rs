//! `exception-worker ingest`: a long file is streamed (peak memory stays bounded), and a file
//! with one bad line appends nothing and names the line.

use std::io::Write;
use std::process::{Command, Stdio};

use test_support::readers::count;
use test_support::{Backend, TestDb, ACME, CONFIG_DIR};

const BINARY: &str = env!("CARGO_BIN_EXE_exception-worker");
const LINES: usize = 100_000;
/// The promise for a file of any length.
const PEAK_RSS_LIMIT_KIB: i64 = 64 * 1024;

/// The high-water mark of the process's resident memory (VmHWM), None once it has exited.
/// VmHWM belongs to the program after exec: what the test process held when it forked the
/// child does not count (rusage's ru_maxrss would include it).
fn peak_rss_kib(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix("VmHWM:")?;
        value.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// Runs `ingest` on `file` against `database_url`; returns (exit code, stderr, peak RSS KiB),
/// the peak read every 10 ms while it runs.
fn ingest(database_url: &str, file: &std::path::Path) -> (i32, String, i64) {
    let mut child = Command::new(BINARY)
        .env_clear()
        .env("CONFIG_DIR", CONFIG_DIR)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .args(["ingest", "--tenant", ACME])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Failed to start the binary");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _read = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_rss_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("Failed to poll the child") {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let text = reader.join().expect("the stderr reader");
    (status.code().unwrap_or(-1), text, peak)
}

fn write_lines(path: &std::path::Path, lines: usize, bad_line: Option<usize>) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("a file"));
    for number in 1..=lines {
        if Some(number) == bad_line {
            writeln!(file, "{{not json").expect("a line");
        } else {
            writeln!(
                file,
                r#"{{"exceptionId":"ING-{number}","exceptionType":"SETTLEMENT_FAIL","error":"late","amount":{number}}}"#
            )
            .expect("a line");
        }
    }
    file.flush().expect("a flush");
}

#[actix_rt::test]
async fn a_long_file_is_streamed_in_bounded_memory() {
    let Some(test_db) = TestDb::create(Backend::Sqlite).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("exceptions.jsonl");
    write_lines(&file, LINES, None);

    let (code, stderr, peak_kib) = ingest(&test_db.url, &file);

    assert_eq!(code, 0, "{stderr}");
    assert!(
        peak_kib > 0 && peak_kib < PEAK_RSS_LIMIT_KIB,
        "peak RSS {peak_kib} KiB for {LINES} lines"
    );
    let db = test_db.connect().await;
    let events = "SELECT COUNT(*) AS n FROM events WHERE event_type = 'ExceptionIngested'";
    assert_eq!(count(&db, events, vec![]).await, LINES as i64);
}

#[actix_rt::test]
async fn a_file_with_a_bad_line_appends_nothing_and_names_the_line() {
    let Some(test_db) = TestDb::create(Backend::Sqlite).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("exceptions.jsonl");
    write_lines(&file, 2_000, Some(1_234));

    let (code, stderr, _peak) = ingest(&test_db.url, &file);

    assert_eq!(code, 65, "{stderr}");
    assert!(
        stderr.contains("nothing was ingested; 1 line(s) are invalid")
            && stderr.contains("exceptions.jsonl:1234: body is not valid JSON"),
        "{stderr}"
    );
    let db = test_db.connect().await;
    let tables = "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'events'";
    if count(&db, tables, vec![]).await == 1 {
        assert_eq!(
            count(&db, "SELECT COUNT(*) AS n FROM events", vec![]).await,
            0
        );
    }
}
