//! The real binary as a child process: a free HTTP port, its output captured to a temp file
//! (printed when the test fails), its probes and /metrics, its memory, and SIGTERM / SIGKILL.
//! It runs on any backend: `start` takes the whole environment, `spawn` a `Cluster`'s.

use std::collections::HashMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::readers::metric_sum;
use crate::{wait_for, Cluster};

/// The binary target under test.
const BINARY_NAME: &str = "exception-worker";
/// Lines of a child's log printed when a test fails.
const LOG_TAIL_LINES: usize = 150;
/// How long one HTTP request to the child may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The `exception-worker` binary of this build. Cargo builds a package's binaries for its
/// integration tests into the profile folder above the test's own (`target/debug/deps/..`);
/// CARGO_BIN_EXE_exception-worker, when a runner sets it, takes precedence.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os(format!("CARGO_BIN_EXE_{BINARY_NAME}")) {
        return PathBuf::from(path);
    }
    let test = std::env::current_exe().expect("Failed to locate the test binary");
    let path = test
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join(BINARY_NAME))
        .filter(|path| path.exists());
    path.unwrap_or_else(|| {
        panic!(
            "no {BINARY_NAME} binary next to {}: run the test through cargo test",
            test.display()
        )
    })
}

/// Asks the OS for a port nobody listens on (it is released again for the child to bind).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("Failed to bind port 0");
    listener
        .local_addr()
        .expect("Failed to read a local address")
        .port()
}

/// One running `exception-worker` process, killed (SIGKILL) when dropped.
pub struct Worker {
    pub name: String,
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
    client: reqwest::Client,
    exited: Option<ExitStatus>,
}

impl Worker {
    /// Starts the binary with the cluster's environment plus `env`, and `args`.
    pub fn spawn(name: &str, cluster: &Cluster, env: &[(&str, &str)], args: &[&str]) -> Worker {
        let mut vars: HashMap<String, String> = cluster.env();
        for (key, value) in Cluster::passthrough() {
            let name = format!(
                "KAFKA_CONFIG_{}",
                key.replace('.', "_").to_ascii_uppercase()
            );
            vars.insert(name, value);
        }
        vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Worker::start(name, vars, args)
    }

    /// Starts the binary with exactly `vars` (plus PATH, RUST_LOG=info, NO_COLOR and, unless
    /// HTTP_ADDR names a port other than 0, HTTP_ADDR on a free port) and `args`.
    pub fn start(name: &str, vars: HashMap<String, String>, args: &[&str]) -> Worker {
        let given = vars
            .get("HTTP_ADDR")
            .and_then(|address| address.rsplit_once(':')?.1.parse::<u16>().ok())
            .filter(|port| *port != 0);
        let port = given.unwrap_or_else(free_port);
        let log = tempfile::NamedTempFile::new().expect("Failed to create a log file");
        let out = log.reopen().expect("Failed to open the log file");
        let err = log.reopen().expect("Failed to open the log file");
        let mut all = HashMap::from([
            ("RUST_LOG".to_owned(), "info".to_owned()),
            ("NO_COLOR".to_owned(), "1".to_owned()),
        ]);
        all.extend(vars);
        if given.is_none() {
            all.insert("HTTP_ADDR".to_owned(), format!("127.0.0.1:{port}"));
        }
        let binary = binary();
        let mut command = Command::new(&binary);
        command
            .env_clear()
            .envs(std::env::var("PATH").map(|path| ("PATH".to_owned(), path)))
            .envs(all)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("Failed to start {}: {error}", binary.display()));
        Worker {
            name: name.to_owned(),
            child,
            port,
            log,
            client: reqwest::Client::new(),
            exited: None,
        }
    }

    /// The HTTP port the process serves on.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Status and body of GET `path`, None while the process does not answer.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let request = self.client.get(self.url(path)).timeout(REQUEST_TIMEOUT);
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.unwrap_or_default()))
    }

    /// Waits up to `limit` until /readyz answers 200.
    pub async fn wait_ready(&self, limit: Duration) {
        let what = format!("{} answers /readyz with 200", self.name);
        wait_for(&what, limit, async || {
            matches!(self.get("/readyz").await, Some((200, _)))
        })
        .await;
    }

    /// The body of GET /metrics, or None while the process does not answer.
    pub async fn metrics(&self) -> Option<String> {
        match self.get("/metrics").await {
            Some((status, text)) if (200..300).contains(&status) => Some(text),
            _ => None,
        }
    }

    /// The sum of a metric's matching series, 0 while the process does not answer.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.metrics().await {
            Some(text) => metric_sum(&text, name, labels),
            None => 0.0,
        }
    }

    pub async fn assigned(&self, role: &str) -> f64 {
        self.metric("assigned_partitions", &[("role", role)]).await
    }

    pub async fn events(&self, role: &str, outcome: &str) -> f64 {
        let labels = [("role", role), ("outcome", outcome)];
        self.metric("events_processed_total", &labels).await
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process runs (neither exited nor a zombie).
    pub fn alive(&self) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()));
        match stat {
            // The state follows the parenthesised command name.
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
            Err(_) => false,
        }
    }

    /// A memory figure of /proc/PID/status in KiB: `VmRSS` (resident now), `VmHWM` (the
    /// resident peak), or any other `Vm*` field; None once the process is gone.
    pub fn memory_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status.lines().find_map(|line| {
            let value = line.strip_prefix(field)?.strip_prefix(':')?;
            value.trim().strip_suffix("kB")?.trim().parse().ok()
        })
    }

    /// SIGTERM: a graceful drain.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("Failed to run kill");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// SIGKILL: no drain, no commit, no goodbye to the group.
    pub fn kill(&mut self) {
        self.child.kill().expect("Failed to SIGKILL the worker");
        self.exited = Some(self.child.wait().expect("Failed to reap the worker"));
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let what = format!("{} exits", self.name);
        let child = &mut self.child;
        let mut exited = None;
        wait_for(&what, limit, async || {
            exited = child.try_wait().expect("Failed to poll the worker");
            exited.is_some()
        })
        .await;
        self.exited = exited;
        exited.expect("the worker exited")
    }

    /// Everything the process wrote so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        let _read = self
            .log
            .reopen()
            .and_then(|mut f| f.read_to_string(&mut text));
        text
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _already_gone = self.child.kill();
            let _reaped = self.child.wait();
        }
        if std::thread::panicking() || std::env::var_os("TEST_LOG").is_some() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            eprintln!(
                "----- {} (pid {}): last {} of {} log lines -----\n{}\n----- end of {} -----",
                self.name,
                self.child.id(),
                tail.len(),
                lines.len(),
                tail.join("\n"),
                self.name
            );
        }
    }
}
