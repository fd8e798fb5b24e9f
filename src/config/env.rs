//! The environment contract of the scaling guide, as raw strings with their defaults.
//! Parsing into types happens in `validate`, so that every bad value is reported together.

use envconfig::Envconfig;

#[derive(Envconfig, Clone, Default)]
pub struct EnvVars {
    #[envconfig(from = "WORKER_TYPE")]
    pub worker_type: Option<String>,
    #[envconfig(from = "CONCURRENCY", default = "1")]
    pub concurrency: String,
    #[envconfig(from = "GROUP_ID")]
    pub group_id: Option<String>,
    #[envconfig(from = "DATABASE_URL")]
    pub database_url: Option<String>,
    #[envconfig(from = "KAFKA_BOOTSTRAP_SERVERS")]
    pub kafka_bootstrap_servers: Option<String>,
    #[envconfig(from = "HTTP_ADDR", default = "0.0.0.0:8080")]
    pub http_addr: String,
    #[envconfig(from = "HTTP_BODY_TIMEOUT_SECS", default = "10")]
    pub http_body_timeout_secs: String,
    #[envconfig(from = "HTTP_MAX_CONCURRENT_BODIES", default = "64")]
    pub http_max_concurrent_bodies: String,
    #[envconfig(from = "HTTP_MAX_CONNECTIONS", default = "256")]
    pub http_max_connections: String,
    #[envconfig(from = "CONFIG_DIR", default = "./config")]
    pub config_dir: String,
    #[envconfig(from = "DATA_DIR", default = "./data")]
    pub data_dir: String,
    #[envconfig(from = "SHUTDOWN_TIMEOUT_SECS", default = "30")]
    pub shutdown_timeout_secs: String,
    #[envconfig(from = "STARTUP_TIMEOUT_SECS", default = "60")]
    pub startup_timeout_secs: String,
    #[envconfig(from = "RETENTION_PROCESSED_CLAIMS_DAYS", default = "14")]
    pub retention_processed_claims_days: String,
    #[envconfig(from = "RETENTION_PUBLISHED_EVENTS_DAYS", default = "7")]
    pub retention_published_events_days: String,
    #[envconfig(from = "RETENTION_CLOSED_DEAD_LETTERS_DAYS", default = "30")]
    pub retention_closed_dead_letters_days: String,
    #[envconfig(from = "RETENTION_FINISHED_EXCEPTIONS_DAYS", default = "90")]
    pub retention_finished_exceptions_days: String,
    #[envconfig(from = "RETENTION_INTERVAL_SECS", default = "3600")]
    pub retention_interval_secs: String,
    #[envconfig(from = "RETENTION_BATCH_SIZE", default = "1000")]
    pub retention_batch_size: String,
    #[envconfig(from = "LOG_FORMAT", default = "pretty")]
    pub log_format: String,
    #[envconfig(from = "RUN_MIGRATIONS", default = "true")]
    pub run_migrations: String,
    #[envconfig(from = "ALLOW_FUTURE_SCHEMA", default = "false")]
    pub allow_future_schema: String,
    #[envconfig(from = "EMBEDDED_PARTITIONS", default = "4")]
    pub embedded_partitions: String,
    #[envconfig(from = "MAX_IN_FLIGHT_PER_PARTITION", default = "64")]
    pub max_in_flight_per_partition: String,
    #[envconfig(from = "MAX_BUFFERED_PER_PARTITION", default = "512")]
    pub max_buffered_per_partition: String,
    #[envconfig(from = "GROUP_COMMIT_MAX_EVENTS", default = "32")]
    pub group_commit_max_events: String,
    #[envconfig(from = "COMMIT_INTERVAL_MS", default = "500")]
    pub commit_interval_ms: String,
    #[envconfig(from = "HANDLER_TIMEOUT_SECS", default = "30")]
    pub handler_timeout_secs: String,
    #[envconfig(from = "MAX_ATTEMPTS", default = "5")]
    pub max_attempts: String,
    #[envconfig(from = "RETRY_BACKOFF_BASE_MS", default = "100")]
    pub retry_backoff_base_ms: String,
    #[envconfig(from = "RETRY_BACKOFF_MAX_MS", default = "10000")]
    pub retry_backoff_max_ms: String,
    #[envconfig(from = "RESTART_LIMIT", default = "5")]
    pub restart_limit: String,
    #[envconfig(from = "RESTART_WINDOW_SECS", default = "60")]
    pub restart_window_secs: String,
    #[envconfig(from = "DB_MAX_CONNECTIONS", default = "10")]
    pub db_max_connections: String,
    #[envconfig(from = "METRICS_INCLUDE_TENANT_ID", default = "false")]
    pub metrics_include_tenant_id: String,
    #[envconfig(from = "TOOL_ALLOWED_HOSTS", default = "")]
    pub tool_allowed_hosts: String,
    /// Unset: one per core the process may use.
    #[envconfig(from = "HANDLER_THREADS")]
    pub handler_threads: Option<String>,
    #[envconfig(from = "HANDLER_IN_FLIGHT", default = "8")]
    pub handler_in_flight: String,
    #[envconfig(from = "TOOL_MAX_ATTEMPTS", default = "3")]
    pub tool_max_attempts: String,
    #[envconfig(from = "SLA_CHECK_INTERVAL_SECS", default = "30")]
    pub sla_check_interval_secs: String,
    #[envconfig(from = "SLA_IMMINENT_THRESHOLD", default = "0.8")]
    pub sla_imminent_threshold: String,
    #[envconfig(from = "OPERATOR_API_KEY_SHA256")]
    pub operator_api_key_sha256: Option<String>,
    #[envconfig(from = "TENANT_ALLOWLIST", default = "")]
    pub tenant_allowlist: String,
    #[envconfig(from = "DLQ_CAP_WINDOW", default = "200")]
    pub dlq_cap_window: String,
    #[envconfig(from = "DLQ_CAP_RATIO", default = "0.95")]
    pub dlq_cap_ratio: String,
    #[envconfig(from = "TENANT_MAX_IN_FLIGHT", default = "16")]
    pub tenant_max_in_flight: String,
    #[envconfig(from = "WORKER_HEARTBEAT_SECS", default = "10")]
    pub worker_heartbeat_secs: String,
    #[envconfig(nested)]
    pub kafka: KafkaEnvVars,
}

/// Kafka settings with names operators expect; anything else passes through as
/// `KAFKA_CONFIG_<KEY>` (see `kafka::passthrough_from_env`).
#[derive(Envconfig, Clone, Default)]
pub struct KafkaEnvVars {
    #[envconfig(from = "KAFKA_TOPIC_PREFIX", default = "")]
    pub topic_prefix: String,
    #[envconfig(from = "KAFKA_TOPIC_PARTITIONS", default = "6")]
    pub topic_partitions: String,
    #[envconfig(from = "KAFKA_REPLICATION_FACTOR", default = "1")]
    pub replication_factor: String,
    #[envconfig(from = "KAFKA_SESSION_TIMEOUT_MS", default = "45000")]
    pub session_timeout_ms: String,
    #[envconfig(from = "KAFKA_SECURITY_PROTOCOL")]
    pub security_protocol: Option<String>,
    #[envconfig(from = "KAFKA_SASL_MECHANISM")]
    pub sasl_mechanism: Option<String>,
    #[envconfig(from = "KAFKA_SASL_USERNAME")]
    pub sasl_username: Option<String>,
    #[envconfig(from = "KAFKA_SASL_PASSWORD")]
    pub sasl_password: Option<String>,
    #[envconfig(from = "KAFKA_SSL_CA_LOCATION")]
    pub ssl_ca_location: Option<String>,
    #[envconfig(from = "KAFKA_SSL_CERTIFICATE_LOCATION")]
    pub ssl_certificate_location: Option<String>,
    #[envconfig(from = "KAFKA_SSL_KEY_LOCATION")]
    pub ssl_key_location: Option<String>,
    #[envconfig(from = "OUTBOX_BATCH_SIZE", default = "500")]
    pub outbox_batch_size: String,
    #[envconfig(from = "OUTBOX_SWEEP_INTERVAL_MS", default = "1000")]
    pub outbox_sweep_interval_ms: String,
    #[envconfig(from = "OUTBOX_SWEEP_AFTER_MS", default = "5000")]
    pub outbox_sweep_after_ms: String,
    /// Replaced by OUTBOX_SWEEP_INTERVAL_MS; read only to say so.
    #[envconfig(from = "OUTBOX_POLL_INTERVAL_MS")]
    pub outbox_poll_interval_ms: Option<String>,
}
