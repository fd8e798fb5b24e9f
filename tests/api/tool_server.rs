//! A local tool endpoint (actix-web on 127.0.0.1:0 inside the test) that records every request,
//! and a small pack set written to a temporary CONFIG_DIR whose tools point at it.
//!
//! Paths: `/flaky` answers 503 to its first `fail_first` requests and then 200; `/slow` answers
//! after two seconds; `/wait` after 300 ms, counting how many requests it holds at once; any
//! other path answers 200 at once.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App as WebApp, HttpRequest, HttpResponse, HttpServer};
use serde_json::json;
use test_support::{Setup, TestApp, TestDb};

/// The tenant of the lab packs; its API key is the acme demo key.
pub const LAB: &str = "lab-tenant";
/// How long `/slow` takes to answer (well beyond `slow_http`'s timeout).
const SLOW_ANSWER: Duration = Duration::from_secs(2);

/// One request the server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub idempotency_key: Option<String>,
}

struct ServerState {
    fail_first: usize,
    seen: Mutex<Vec<Seen>>,
    /// Requests `/wait` holds now, and the most it held at once.
    waiting: Mutex<(usize, usize)>,
}

/// How long `/wait` takes to answer.
const WAIT_ANSWER: Duration = Duration::from_millis(300);

pub struct ToolServer {
    pub port: u16,
    state: Arc<ServerState>,
    handle: ServerHandle,
}

impl ToolServer {
    /// Starts the server; `/flaky` fails its first `fail_first` requests with 503.
    pub fn start(fail_first: usize) -> Self {
        let state = Arc::new(ServerState {
            fail_first,
            seen: Mutex::new(Vec::new()),
            waiting: Mutex::new((0, 0)),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("Failed to bind the tool server");
        let port = listener.local_addr().expect("a local address").port();
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            WebApp::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .expect("Failed to listen")
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Self {
            port,
            state,
            handle,
        }
    }

    /// The requests seen on `path`, in arrival order.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        let seen = self.state.seen.lock().expect("the request log");
        seen.iter()
            .filter(|seen| seen.path == path)
            .cloned()
            .collect()
    }

    /// The most requests `/wait` held at once.
    pub fn most_waiting_at_once(&self) -> usize {
        self.state.waiting.lock().expect("the wait count").1
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn answer(request: HttpRequest, state: web::Data<ServerState>) -> HttpResponse {
    let path = request.path().to_owned();
    let key = request
        .headers()
        .get("Idempotency-Key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let earlier = {
        let mut seen = state.seen.lock().expect("the request log");
        let earlier = seen.iter().filter(|seen| seen.path == path).count();
        seen.push(Seen {
            path: path.clone(),
            idempotency_key: key,
        });
        earlier
    };
    match path.as_str() {
        "/flaky" if earlier < state.fail_first => HttpResponse::ServiceUnavailable().finish(),
        "/slow" => {
            actix_rt::time::sleep(SLOW_ANSWER).await;
            HttpResponse::Ok().json(json!({ "late": true }))
        }
        "/wait" => {
            {
                let mut waiting = state.waiting.lock().expect("the wait count");
                waiting.0 += 1;
                waiting.1 = waiting.1.max(waiting.0);
            }
            actix_rt::time::sleep(WAIT_ANSWER).await;
            state.waiting.lock().expect("the wait count").0 -= 1;
            HttpResponse::Ok().json(json!({ "waited": true }))
        }
        _ => HttpResponse::Ok().json(json!({ "ticket": "T-42", "attempt": earlier + 1 })),
    }
}

/// A CONFIG_DIR holding the lab domain and tenant; removed when dropped.
pub struct LabPacks {
    pub dir: tempfile::TempDir,
}

/// Writes the lab packs: one exception type and one single-step playbook per tool.
/// `flaky_http`, `slow_http` (200 ms timeout) and `plain_http` (plain http to `localhost`,
/// which is not allow-listed) call the server; `not_enabled` is declared but not enabled for
/// the tenant; LAB_GHOST's playbook has one step that waits for a person.
pub fn write_lab_packs(port: u16) -> LabPacks {
    let dir = tempfile::tempdir().expect("Failed to create the config dir");
    let domain = format!(
        r#"name = "tool_lab"
exception_types = [
  {{ name = "LAB_RETRY" }}, {{ name = "LAB_DISABLED" }}, {{ name = "LAB_SLOW" }},
  {{ name = "LAB_PLAIN" }}, {{ name = "LAB_GHOST" }}, {{ name = "LAB_WAIT" }},
]
tools = [
  {{ name = "flaky_http", kind = "http", url = "http://127.0.0.1:{port}/flaky", timeout_ms = 2000 }},
  {{ name = "slow_http", kind = "http", url = "http://127.0.0.1:{port}/slow", timeout_ms = 200 }},
  {{ name = "wait_http", kind = "http", url = "http://127.0.0.1:{port}/wait", timeout_ms = 5000 }},
  {{ name = "plain_http", kind = "http", url = "http://localhost:{port}/plain", timeout_ms = 2000 }},
  {{ name = "not_enabled", kind = "simulate", profile = "success" }},
]

[[playbooks]]
id = "pb-lab-retry"
name = "Retry"
priority = 10
conditions = {{ type = "LAB_RETRY" }}
steps = [{{ action = "call_tool", tool = "flaky_http", params = {{ ticket = "recon" }} }}]

[[playbooks]]
id = "pb-lab-disabled"
name = "Disabled"
priority = 10
conditions = {{ type = "LAB_DISABLED" }}
steps = [{{ action = "call_tool", tool = "not_enabled" }}]

[[playbooks]]
id = "pb-lab-slow"
name = "Slow"
priority = 10
conditions = {{ type = "LAB_SLOW" }}
steps = [{{ action = "call_tool", tool = "slow_http" }}]

[[playbooks]]
id = "pb-lab-wait"
name = "Wait"
priority = 10
conditions = {{ type = "LAB_WAIT" }}
steps = [{{ action = "call_tool", tool = "wait_http" }}]

[[playbooks]]
id = "pb-lab-plain"
name = "Plain"
priority = 10
conditions = {{ type = "LAB_PLAIN" }}
steps = [{{ action = "call_tool", tool = "plain_http" }}]

[[playbooks]]
id = "pb-lab-ghost"
name = "Ghost"
priority = 10
conditions = {{ type = "LAB_GHOST" }}
steps = [{{ action = "await_review" }}]
"#
    );
    let tenant = format!(
        r#"tenant_id = "{LAB}"
name = "Lab"
domain = "tool_lab"
api_key_sha256 = "8676d15d94dabdd1283e6c407e2bb08a7b5c13b4e3667d4795c17172e080a3d4"
enabled_tools = ["flaky_http", "slow_http", "plain_http", "wait_http"]

[approval]
confidence_threshold = 0.5
"#
    );
    for (sub, file, text) in [
        ("domains", "lab.toml", domain),
        ("tenants", "lab.toml", tenant),
    ] {
        let folder = dir.path().join(sub);
        std::fs::create_dir_all(&folder).expect("Failed to create a pack folder");
        std::fs::write(folder.join(file), text).expect("Failed to write a pack");
    }
    LabPacks { dir }
}

/// The app with every role on the lab packs, plain http allowed to 127.0.0.1 only.
pub async fn spawn_lab(db: &TestDb, packs: &LabPacks) -> TestApp {
    lab_setup(db, packs).spawn().await
}

/// The setup of `spawn_lab`, for a test to add to.
pub fn lab_setup(db: &TestDb, packs: &LabPacks) -> Setup {
    let config_dir = packs.dir.path().display().to_string();
    Setup::new(db)
        .roles(Some(crate::flow::ALL_ROLES))
        .env("CONFIG_DIR", &config_dir)
        .env("TOOL_ALLOWED_HOSTS", "127.0.0.1")
        .env("TOOL_MAX_ATTEMPTS", "3")
}
