//! A PostgreSQL server of the test's own (initdb into a temp directory, pg_ctl on a free port),
//! so a test can stop and start it without touching the shared server. initdb and the server
//! refuse to run as root: as root they run as the `postgres` OS user (runuser). Stopped with
//! `-m immediate` and deleted when dropped, even when the test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sea_orm::{ConnectionTrait, Database};
use test_support::free_port;

pub struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    as_postgres: bool,
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding initdb and pg_ctl.
fn server_binaries() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

impl PrivatePostgres {
    /// Initialises and starts a server; None (with a note) when no server binaries are
    /// installed, except under CI=true, where that fails the test.
    pub fn start() -> Option<PrivatePostgres> {
        let Some(bin) = server_binaries() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "no initdb/pg_ctl under /usr/lib/postgresql/*/bin but CI=true: install the \
                 PostgreSQL server package"
            );
            eprintln!(
                "note: skipping a private-Postgres test: no initdb under /usr/lib/postgresql"
            );
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("ew-private-pg-")
            .tempdir()
            .expect("Failed to create a temp directory");
        let as_postgres = is_root();
        let server = PrivatePostgres {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(server.dir.path())
                .status()
                .expect("Failed to run chown");
            assert!(
                chown.success(),
                "chown of the private Postgres directory failed"
            );
        }
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        server.start_server();
        Some(server)
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs a server binary (as the `postgres` user when we are root); panics on failure.
    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let output = self.command(tool, args).output();
        let output = output.unwrap_or_else(|error| panic!("Failed to run {tool}: {error}"));
        assert!(
            output.status.success(),
            "{tool} {args:?} failed: {}\n{}\nserver log:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
        output
    }

    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(args);
        command
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `pg_ctl start`, waiting until the server accepts connections.
    pub fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            self.port,
            self.socket_dir().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data_dir();
        let args = [
            "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
        ];
        self.run("pg_ctl", &args);
    }

    /// `pg_ctl stop -m fast`: connections are cut, the server is down until `start_server`.
    pub fn stop_server(&self) {
        let data = self.data_dir();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates `name` and returns its URL.
    pub async fn create_database(&self, name: &str) -> String {
        let admin = Database::connect(self.url("postgres").as_str())
            .await
            .expect("Failed to connect to the private Postgres");
        admin
            .execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .expect("Failed to create a database on the private Postgres");
        let _closed = admin.close().await;
        self.url(name)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("----- private Postgres log -----\n{}", self.log());
        }
        let data = self.data_dir();
        let _stopped = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
        // The temp directory (owned by postgres) is removed by root when `dir` drops.
    }
}
