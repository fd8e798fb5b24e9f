//! The web console in a real browser: Debian's chromium driven through chromedriver (installed
//! by scripts/install-browser.sh) against the real binary on the embedded default. Each test
//! starts its own worker and browser; they take turns, since a browser is heavy on a small
//! machine. Without chromedriver the tests are skipped, except under CI=true, where they fail.

mod console_flows;
mod dead_letter_replay;
mod screenshots;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use sha2::{Digest, Sha256};
use test_support::{free_port, wait_for, Worker, CONFIG_DIR};

/// The operator key every test's worker accepts.
pub const OPERATOR_KEY: &str = "console-browser-operator-key";
/// How long a page may take to show what a test waits for.
pub const PAGE_LIMIT: Duration = Duration::from_secs(30);

/// One browser at a time on this machine.
static BROWSER_TURN: LazyLock<tokio::sync::Mutex<()>> =
    LazyLock::new(|| tokio::sync::Mutex::new(()));

/// A running chromedriver and a session of headless chromium through it.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// A headless browser, or None when chromedriver is not installed (outside CI).
    pub async fn start() -> Option<Browser> {
        let turn = BROWSER_TURN.lock().await;
        let Some((chromium, chromedriver)) = installed() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "chromium and chromedriver are required under CI=true: run scripts/install-browser.sh"
            );
            eprintln!("skipped: no chromedriver (scripts/install-browser.sh installs it)");
            return None;
        };
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Failed to start chromedriver");
        let webdriver = format!("http://127.0.0.1:{port}");
        wait_for("chromedriver answers", PAGE_LIMIT, async || {
            reqwest::get(format!("{webdriver}/status")).await.is_ok()
        })
        .await;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1360,900"],
            }),
        );
        // chromedriver listens on loopback over plain HTTP: no TLS connector.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .expect("Failed to open a chromium session");
        Some(Browser {
            client,
            driver,
            _turn: turn,
        })
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("Failed to load a page");
    }

    /// The element `css` selects, waiting up to PAGE_LIMIT for it.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PAGE_LIMIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no element {css}: {error}"))
    }

    /// The visible text of `css`, or "" when there is no such element now.
    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the text of `css` contains `expected`, reloading `url` between looks when
    /// one is given.
    pub async fn wait_for_text(&self, css: &str, expected: &str, reload: Option<&str>) {
        let what = format!("{css} shows {expected:?}");
        wait_for(&what, PAGE_LIMIT, async || {
            if self.text(css).await.contains(expected) {
                return true;
            }
            if let Some(url) = reload {
                self.goto(url).await;
            }
            false
        })
        .await;
    }

    /// Signs in at `base`/ui/login with `key`, as a person would, and lands on the overview.
    pub async fn sign_in(&self, base: &str, key: &str) {
        self.goto(&format!("{base}/ui/login")).await;
        self.find("#key")
            .await
            .send_keys(key)
            .await
            .expect("typing the key");
        self.find("#sign-in")
            .await
            .click()
            .await
            .expect("clicking sign in");
        self.find("#exception-counts").await;
        let url = self.client.current_url().await.expect("a URL");
        assert!(
            !url.as_str().contains(key),
            "the key must never appear in a URL: {url}"
        );
    }
}

/// Debian's chromium and chromedriver, when installed.
fn installed() -> Option<(String, String)> {
    let find = |name: &str| {
        ["/usr/bin", "/usr/local/bin"]
            .iter()
            .map(|dir| Path::new(dir).join(name))
            .find(|path| path.exists())
            .map(|path| path.display().to_string())
    };
    Some((find("chromium")?, find("chromedriver")?))
}

/// The binary with every role on the embedded default in `data_dir`, the operator key set.
pub fn console_worker(name: &str, data_dir: &Path, config_dir: &str) -> Worker {
    let operator_sha = hex::encode(Sha256::digest(OPERATOR_KEY.as_bytes()));
    let vars = HashMap::from([
        ("DATA_DIR".to_owned(), data_dir.display().to_string()),
        ("CONFIG_DIR".to_owned(), config_dir.to_owned()),
        ("SHUTDOWN_TIMEOUT_SECS".to_owned(), "5".to_owned()),
        ("OPERATOR_API_KEY_SHA256".to_owned(), operator_sha),
        // Beats often, so the overview's charts fill within a test.
        ("WORKER_HEARTBEAT_SECS".to_owned(), "1".to_owned()),
    ]);
    Worker::start(name, vars, &["--roles", "all"])
}

/// The default packs.
pub fn config_dir() -> &'static str {
    CONFIG_DIR
}

/// POSTs a raw exception for the tenant of `key`; panics unless it is accepted.
pub async fn submit(worker: &Worker, key: &str, body: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(worker.url("/v1/exceptions"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("Failed to post an exception");
    assert_eq!(
        response.status().as_u16(),
        202,
        "the exception was not accepted"
    );
}

/// GET `path` with `key`: the status and the JSON body.
pub async fn api_get(worker: &Worker, key: &str, path: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(worker.url(path))
        .bearer_auth(key)
        .send()
        .await
        .expect("Failed to call the API");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Waits until the API shows `id` of the tenant of `key` with `status`.
pub async fn wait_for_status(worker: &Worker, key: &str, id: &str, status: &str) {
    let what = format!("{id} is {status}");
    wait_for(&what, PAGE_LIMIT, async || {
        let (_, body) = api_get(worker, key, &format!("/v1/exceptions/{id}")).await;
        body["status"] == status
    })
    .await;
}
