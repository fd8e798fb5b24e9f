//! Trust at the edges, against the real binary on the embedded default: strangers on the HTTP
//! port (no key, slow or endless bodies, floods of connections) and a full disk. Each test
//! starts its own process on a fresh data directory. Quiet unless TEST_LOG is set; a failing
//! test prints its process's log.

mod full_disk;
mod fuzz;
mod strangers;

use std::collections::HashMap;
use std::path::Path;

use test_support::{Worker, CONFIG_DIR};

/// The binary running every role on the embedded default in `data_dir`, plus `env`.
fn embedded_worker(name: &str, data_dir: &Path, env: &[(&str, &str)]) -> Worker {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATA_DIR".to_owned(), data_dir.display().to_string()),
        ("CONFIG_DIR".to_owned(), CONFIG_DIR.to_owned()),
        ("SHUTDOWN_TIMEOUT_SECS".to_owned(), "5".to_owned()),
    ]);
    vars.extend(
        env.iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
    );
    Worker::start(name, vars, &["--roles", "all"])
}
