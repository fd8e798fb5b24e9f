//! HTTP tool tests against a local actix-web server started inside each test.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use super::test_support::{fast_settings, http_tool, runner, tenant};
use super::{FailureKind, ToolOutcome, ToolSettings, MAX_BODY_BYTES};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

#[derive(Default)]
struct Log(Mutex<Vec<Seen>>);

impl Log {
    /// Records the request; returns how many requests this path has seen, this one included.
    fn record(&self, request: &HttpRequest, body: &[u8]) -> usize {
        let header = |name: &str| {
            let value = request.headers().get(name)?;
            value.to_str().ok().map(str::to_string)
        };
        let mut seen = self.0.lock().unwrap();
        seen.push(Seen {
            path: request.path().to_string(),
            idempotency_key: header("idempotency-key"),
            content_type: header("content-type"),
            body: body.to_vec(),
        });
        seen.iter().filter(|s| s.path == request.path()).count()
    }

    fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

async fn flaky(request: HttpRequest, body: web::Bytes, log: web::Data<Log>) -> HttpResponse {
    if log.record(&request, &body) <= 2 {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let echoed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    HttpResponse::Ok().json(json!({"accepted": true, "echo": echoed}))
}

async fn bad(request: HttpRequest, body: web::Bytes, log: web::Data<Log>) -> HttpResponse {
    log.record(&request, &body);
    HttpResponse::BadRequest().body("no")
}

async fn slow(request: HttpRequest, body: web::Bytes, log: web::Data<Log>) -> HttpResponse {
    log.record(&request, &body);
    actix_rt::time::sleep(Duration::from_secs(5)).await;
    HttpResponse::Ok().finish()
}

async fn big(request: HttpRequest, body: web::Bytes, log: web::Data<Log>) -> HttpResponse {
    log.record(&request, &body);
    HttpResponse::Ok().body(vec![b'a'; 2 * MAX_BODY_BYTES])
}

struct Server {
    base: String,
    log: Arc<Log>,
    handle: ServerHandle,
}

impl Server {
    async fn start() -> Self {
        let log = Arc::new(Log::default());
        let data = web::Data::from(log.clone());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/flaky", web::post().to(flaky))
                .route("/bad", web::post().to(bad))
                .route("/slow", web::post().to(slow))
                .route("/big", web::post().to(big))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Self {
            base: format!("http://127.0.0.1:{port}"),
            log,
            handle,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn stop(self) -> Vec<Seen> {
        self.handle.stop(false).await;
        self.log.all()
    }
}

fn local() -> ToolSettings {
    fast_settings(&["127.0.0.1"])
}

#[actix_rt::test]
async fn transient_503s_are_retried_with_the_same_idempotency_key() {
    let server = Server::start().await;
    let tool = http_tool("hook", &server.url("/flaky"), 2000);
    let input = json!({"tradeId": "T-1"});

    let run = runner(local()).run(&tool, "exec-42", &input).await;

    let seen = server.stop().await;
    let expected = json!({"accepted": true, "echo": {"tradeId": "T-1"}});
    assert_eq!(run.outcome, ToolOutcome::Succeeded { output: expected });
    assert_eq!(run.attempts, 3);
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert_eq!(request.idempotency_key.as_deref(), Some("exec-42"));
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            serde_json::from_slice::<Value>(&request.body).unwrap(),
            input
        );
    }
}

#[actix_rt::test]
async fn three_503s_exhaust_two_attempts_as_transient() {
    let server = Server::start().await;
    let tool = http_tool("hook", &server.url("/flaky"), 2000);
    let settings = ToolSettings {
        max_attempts: 2,
        ..local()
    };

    let run = runner(settings).run(&tool, "exec-1", &json!({})).await;

    let seen = server.stop().await;
    assert_eq!(run.failure().map(|f| f.kind), Some(FailureKind::Transient));
    assert_eq!(run.attempts, 2);
    assert_eq!(seen.len(), 2);
}

#[actix_rt::test]
async fn a_400_is_rejected_without_retry() {
    let server = Server::start().await;
    let tool = http_tool("hook", &server.url("/bad"), 2000);

    let run = runner(local()).run(&tool, "exec-1", &json!({})).await;

    let seen = server.stop().await;
    let failure = run.failure().unwrap();
    assert_eq!(failure.kind, FailureKind::Rejected);
    assert!(failure.reason.contains("400"), "{failure}");
    assert_eq!(run.attempts, 1);
    assert_eq!(seen.len(), 1);
}

#[actix_rt::test]
async fn a_slow_endpoint_times_out_on_every_attempt() {
    let server = Server::start().await;
    let tool = http_tool("hook", &server.url("/slow"), 100);

    let run = runner(local()).run(&tool, "exec-1", &json!({})).await;

    let seen = server.stop().await;
    assert_eq!(run.failure().map(|f| f.kind), Some(FailureKind::Timeout));
    assert_eq!(run.attempts, 3);
    assert_eq!(seen.len(), 3);
    assert!(run.duration >= Duration::from_millis(300));
    assert!(run.duration < Duration::from_secs(5), "{:?}", run.duration);
}

#[actix_rt::test]
async fn plain_http_to_a_host_not_allow_listed_is_never_called() {
    let server = Server::start().await;
    let tool = http_tool("hook", &server.url("/flaky"), 2000);
    let runner = runner(fast_settings(&[]));

    let checked = runner.check(Some(&tool), "hook", &tenant(), &json!({}));
    let run = runner.run(&tool, "exec-1", &json!({})).await;

    let seen = server.stop().await;
    assert_eq!(checked.map_err(|f| f.kind), Err(FailureKind::NotAllowed));
    assert_eq!(run.failure().map(|f| f.kind), Some(FailureKind::NotAllowed));
    assert_eq!(run.attempts, 0);
    assert!(seen.is_empty(), "{seen:?}");
}

#[actix_rt::test]
async fn a_refused_connection_is_transient() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tool = http_tool("hook", &format!("http://127.0.0.1:{port}/x"), 2000);

    let run = runner(local()).run(&tool, "exec-1", &json!({})).await;

    assert_eq!(run.failure().map(|f| f.kind), Some(FailureKind::Transient));
    assert_eq!(run.attempts, 3);
}

#[actix_rt::test]
async fn a_large_body_is_read_up_to_the_limit() {
    let server = Server::start().await;
    let tool = http_tool("hook", &server.url("/big"), 5000);

    let run = runner(local()).run(&tool, "exec-1", &json!({})).await;

    server.stop().await;
    let ToolOutcome::Succeeded { output } = run.outcome else {
        panic!("expected success: {run:?}");
    };
    assert_eq!(output["status"], json!(200));
    assert_eq!(output["truncated"], json!(true));
    assert_eq!(output["body"].as_str().map(str::len), Some(MAX_BODY_BYTES));
}
