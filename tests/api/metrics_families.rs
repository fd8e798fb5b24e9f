//! The families operators expect on /metrics: process_*, build_info, the database pool, HTTP
//! requests by route pattern and status, per-tenant events when asked for (known tenants
//! only), and librdkafka's statistics on Kafka.

use serde_json::json;
use test_support::{on_all_backends, wait_until, Backend, Setup, TestDb, ACME};

on_all_backends!(the_metrics_operators_expect_are_exported);

async fn scrape(app: &test_support::TestApp) -> String {
    app.get("/metrics")
        .await
        .text()
        .await
        .expect("a metrics body")
}

async fn the_metrics_operators_expect_are_exported(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        return;
    };
    // Arrange
    let app = Setup::new(&test_db)
        .env("METRICS_INCLUDE_TENANT_ID", "true")
        .env("KAFKA_CONFIG_STATISTICS_INTERVAL_MS", "200")
        .spawn()
        .await;

    // Act: one exception through the pipeline, a lookup of an id nobody has, a probe.
    app.ingest(
        ACME,
        &[json!({"exceptionId": "METRICS-1", "exceptionType": "TRADE_BREAK"})],
    )
    .await;
    app.wait_for_processed("policy", 1).await;
    let missing = app
        .get_exception(Some("acme-demo-key"), "NOBODY-HAS-THIS")
        .await;
    assert_eq!(missing.status().as_u16(), 404);
    let _probe = app.get("/readyz").await;

    // Assert
    let wanted = [
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        &format!(
            "exception_worker_build_info{{git_commit=\"{}\",version=\"{}\"}} 1",
            exception_worker::metrics::GIT_COMMIT,
            env!("CARGO_PKG_VERSION")
        ),
        "exception_worker_http_requests_total{method=\"GET\",route=\"/v1/exceptions/{exception_id}\",status=\"404\"} 1",
        "exception_worker_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}",
        "exception_worker_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/exceptions/{exception_id}\"} 1",
        "exception_worker_db_pool_connections{state=\"in_use\"}",
        "exception_worker_db_pool_max_connections ",
        "exception_worker_tenant_events_processed_total{outcome=\"processed\",role=\"intake\",tenant=\"acme-capital\"} 1",
    ];
    wait_until("every family is exported", async || {
        let text = scrape(&app).await;
        wanted.iter().all(|line| text.contains(line))
    })
    .await;
    let text = scrape(&app).await;
    assert!(
        !text.contains("NOBODY-HAS-THIS"),
        "a concrete path became a label"
    );
    if backend == Backend::KafkaPostgres {
        wait_until("librdkafka statistics arrive", async || {
            let text = scrape(&app).await;
            text.contains("exception_worker_kafka_broker_rtt_seconds{broker=")
                && text.contains("exception_worker_kafka_producer_queue_messages ")
        })
        .await;
    }
    app.app.shutdown().await;
}
