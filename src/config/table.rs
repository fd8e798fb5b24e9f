//! The environment contract, written once: every variable the binary reads, with what unset
//! means, the values it accepts, a line of help and its section. Reading the environment, the
//! simple checks, `--help` and the tables of docs/configuration.md all come from here.

use super::setting::{
    settings,
    Allowed::{Boolean, Described, Fraction, OneOf, OneOfAnyCase, Refused, Whole},
    Section, Setting,
    WhenUnset::{Means, Value},
};

settings! {
    WORKER_TYPE: Process, Means("unset: required unless `--roles` is given"),
        Described("a list of `intake`, `triage`, `policy`, `playbook`, `tool`, `feedback`, `sla_monitor`, or `all`"),
        "the roles this process runs; `--roles` overrides it";
    CONCURRENCY: Process, Value("1"), Whole(1, 256),
        "handler actors per consumer role in this process (the SLA monitor has none)";
    GROUP_ID: Process, Means("the role name"), Described("not empty"),
        "the role's consumer group; when several roles share a process each uses `{GROUP_ID}.{role}`";
    DATABASE_URL: Process, Means("`sqlite://$DATA_DIR/exception-worker.db?mode=rwc`"),
        Described("`sqlite:...`, `postgres://...`, `postgresql://...`"),
        "the database (state, and the log or outbox of the bus)";
    DATA_DIR: Process, Value("./data"), Described("a path"),
        "where the default SQLite file lives";
    KAFKA_BOOTSTRAP_SERVERS: Process, Means("unset: the embedded bus"), Described("a list of `host:port`"),
        "set: the Kafka bus (production mode), and the Kafka settings are read";
    CONFIG_DIR: Process, Value("./config"), Described("a path"),
        "the packs: `domains/*.toml` and `tenants/*.toml`";
    RUN_MIGRATIONS: Process, Value("true"), Boolean,
        "apply pending migrations at start; when `false`, refuse to start on an older schema";
    ALLOW_FUTURE_SCHEMA: Process, Value("false"), Boolean,
        "accept event envelopes with a version above 1 (else they are dead-lettered)";
    SHUTDOWN_TIMEOUT_SECS: Process, Value("30"), Whole(1, 3600),
        "drain deadline on SIGTERM or SIGINT; also bounds the wait on a Kafka revoke";
    STARTUP_TIMEOUT_SECS: Process, Value("60"), Whole(1, 3600),
        "how long start-up waits for the database (Postgres) and the broker; the probes answer meanwhile (`/readyz`: `starting: waiting for the broker at HOST (KAFKA_BOOTSTRAP_SERVERS): <error>`), then the process exits 1 with one line naming the endpoint";
    NO_COLOR: Process, Means("unset"), Described("any"),
        "log colour is off when set, and always when stderr is not a terminal";
    LOG_FORMAT: Process, Value("pretty"), OneOf(&["json", "pretty"]),
        "log lines on stderr: JSON (one object a line) for containers, compact text for people";
    RUST_LOG: Process, Value("info"), Described("a tracing filter (`debug`, `exception_worker=debug,info`)"),
        "which log lines are written";
    METRICS_INCLUDE_TENANT_ID: Process, Value("false"), Boolean,
        "adds `tenant_events_processed_total{role,tenant,outcome}`; its tenant values are the packs' tenants only (anything else counts as `other`), so the series count stays bounded";
    HOSTNAME: Process, Value("local"), Described("any"),
        "names this process in leases and in the fleet registry (with its pid and a random suffix)";
    WORKER_HEARTBEAT_SECS: Process, Value("10"), Whole(1, 300),
        "how often this process refreshes its row in the fleet registry (`GET /v1/workers`, the console's fleet page); a row is shown `stale` after three intervals without a beat, and deleted after an hour";

    HTTP_ADDR: Http, Value("0.0.0.0:8080"), Described("a socket address"),
        "probes, metrics and the API; `exception-worker probe` connects to its port on loopback";
    HTTP_BODY_TIMEOUT_SECS: Http, Value("10"), Whole(1, 3600),
        "a request body must arrive whole within this time, else `408`";
    HTTP_MAX_CONCURRENT_BODIES: Http, Value("64"), Whole(1, 100_000),
        "request bodies read at once; a request beyond it gets `503` with `Retry-After: 1`";
    HTTP_MAX_CONNECTIONS: Http, Value("256"), Whole(1, 1_000_000),
        "open connections per HTTP worker thread (the server runs two); further connections wait in the kernel's accept queue (2048 deep)";

    EMBEDDED_PARTITIONS: Pipeline, Value("4"), Whole(1, 256),
        "partitions per topic of the embedded bus; fixed once a topic exists in the database";
    MAX_IN_FLIGHT_PER_PARTITION: Pipeline, Value("64"), Whole(1, 10_000),
        "records of one partition in the handlers at once; fetching pauses when the window is full";
    MAX_BUFFERED_PER_PARTITION: Pipeline, Value("512"), Whole(1, 1_000_000),
        "fetched records held per partition, waiting plus in flight; at least `MAX_IN_FLIGHT_PER_PARTITION`";
    TENANT_MAX_IN_FLIGHT: Pipeline, Value("16"), Whole(1, 10_000),
        "records of one tenant in the handlers per partition; a tenant's burst waits while other tenants' records pass";
    HANDLER_IN_FLIGHT: Pipeline, Value("8"), Whole(1, 1_000),
        "records one handler actor works on at once, one at a time per key: tool calls overlap, and more attempts meet in each group commit";
    HANDLER_THREADS: Pipeline, Means("one per core the process may use"), Whole(1, 256),
        "threads shared by the handler actors of every role in the process";
    GROUP_COMMIT_MAX_EVENTS: Pipeline, Value("32"), Whole(1, 10_000),
        "events whose effects may share one database transaction; `1` gives every event its own";
    COMMIT_INTERVAL_MS: Pipeline, Value("500"), Whole(10, 3_600_000),
        "how often a partition's watermark is committed (and once more on drain)";
    HANDLER_TIMEOUT_SECS: Pipeline, Value("30"), Whole(1, 3600),
        "one attempt's time limit; a handler busy for twice this fails liveness";
    MAX_ATTEMPTS: Pipeline, Value("5"), Whole(1, 1000),
        "attempts before a failing event is dead-lettered";
    RETRY_BACKOFF_BASE_MS: Pipeline, Value("100"), Whole(1, 600_000),
        "first retry delay, at most `RETRY_BACKOFF_MAX_MS`; it doubles per attempt, with jitter (a random pick between half and all of it)";
    RETRY_BACKOFF_MAX_MS: Pipeline, Value("10000"), Whole(1, 3_600_000),
        "cap of the retry delay";
    RESTART_LIMIT: Pipeline, Value("5"), Whole(1, 1000),
        "restarts of a role's actors allowed per window before the role is marked failed";
    RESTART_WINDOW_SECS: Pipeline, Value("60"), Whole(1, 86_400),
        "the window of `RESTART_LIMIT`";
    DLQ_CAP_WINDOW: Pipeline, Value("200"), Whole(1, 1_000_000),
        "with `DLQ_CAP_RATIO`: the role stops (and `/healthz` fails) when that share of a partition's last `DLQ_CAP_WINDOW` records were dead-lettered";
    DLQ_CAP_RATIO: Pipeline, Value("0.95"), Fraction,
        "see `DLQ_CAP_WINDOW`";
    DB_MAX_CONNECTIONS: Pipeline, Value("10"), Whole(1, 1000),
        "Postgres pool size; half of it is for group-commit transactions. SQLite uses one writer connection and, for the embedded bus's fetches, two read-only connections";

    TENANT_ALLOWLIST: Tenants, Value(""), Described("a list of tenant ids"),
        "the tenants this deployment serves (empty: every tenant of the packs); other tenants' events are dead-lettered and their API keys refused (`401`)";
    OPERATOR_API_KEY_SHA256: Tenants, Means("unset: the operator API is disabled"), Described("64 hex characters"),
        "SHA-256 of the operator key for the operator API and console (dead letters, the fleet, every tenant)";

    TOOL_ALLOWED_HOSTS: Tools, Value(""), Described("a list of host names (exact match, any case)"),
        "hosts an `http` tool may call over plain http; https is always allowed";
    TOOL_MAX_ATTEMPTS: Tools, Value("3"), Whole(1, 100),
        "attempts of one tool call before its transient failure is final";
    SLA_CHECK_INTERVAL_SECS: Tools, Value("30"), Whole(1, 86_400),
        "how often the SLA monitor checks";
    SLA_IMMINENT_THRESHOLD: Tools, Value("0.8"), Fraction,
        "share of the SLA window after which SLAImminent is raised";

    RETENTION_PROCESSED_CLAIMS_DAYS: Retention, Value("14"), Whole(1, 36_500),
        "how long a processed-event claim is kept: a redelivery within it is still a duplicate, so keep it longer than the broker retains records (Kafka's default is 7 days)";
    RETENTION_PUBLISHED_EVENTS_DAYS: Retention, Value("7"), Whole(0, 36_500),
        "events of finished exceptions, once published (Kafka outbox) or read by every consumer group of their partition (embedded log); events of open exceptions stay (their timeline reads them), and embedded events no group has read stay";
    RETENTION_CLOSED_DEAD_LETTERS_DAYS: Retention, Value("30"), Whole(0, 36_500),
        "dead letters replayed or discarded that long ago; pending ones always stay";
    RETENTION_FINISHED_EXCEPTIONS_DAYS: Retention, Value("90"), Whole(0, 36_500),
        "exceptions resolved or escalated (last updated) that long ago, with their playbook steps, tool executions and feedback";
    RETENTION_INTERVAL_SECS: Retention, Value("3600"), Whole(1, 86_400),
        "time between passes";
    RETENTION_BATCH_SIZE: Retention, Value("1000"), Whole(1, 100_000),
        "rows removed per statement";

    KAFKA_TOPIC_PREFIX: Kafka, Value(""), Described("letters, digits, `.`, `_`, `-`"),
        "prepended to every topic name on the broker (`staging.` gives `staging.exceptions.ingested`), so deployments can share a cluster";
    KAFKA_TOPIC_PARTITIONS: Kafka, Value("6"), Whole(1, 10_000),
        "partitions of a topic the worker creates because it is missing at start; existing topics are left as they are";
    KAFKA_REPLICATION_FACTOR: Kafka, Value("1"), Whole(1, 16),
        "replication factor of such a topic";
    KAFKA_SESSION_TIMEOUT_MS: Kafka, Value("45000"), Whole(1000, 3_600_000),
        "consumer group session timeout";
    KAFKA_SECURITY_PROTOCOL: Kafka, Means("librdkafka's (`plaintext`)"),
        OneOfAnyCase(&["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]),
        "`security.protocol`";
    KAFKA_SASL_MECHANISM: Kafka, Means("unset"), Described("librdkafka's values (e.g. `SCRAM-SHA-512`)"),
        "`sasl.mechanism`";
    KAFKA_SASL_USERNAME: Kafka, Means("unset"), Described("any"),
        "`sasl.username`";
    KAFKA_SASL_PASSWORD: Kafka, Means("unset"), Described("any"),
        "`sasl.password`; it never appears in logs";
    KAFKA_SSL_CA_LOCATION: Kafka, Means("unset"), Described("a path"),
        "`ssl.ca.location`: the CA certificate";
    KAFKA_SSL_CERTIFICATE_LOCATION: Kafka, Means("unset"), Described("a path"),
        "`ssl.certificate.location`: the client certificate";
    KAFKA_SSL_KEY_LOCATION: Kafka, Means("unset"), Described("a path"),
        "`ssl.key.location`: the client key";
    OUTBOX_BATCH_SIZE: Kafka, Value("500"), Whole(1, 100_000),
        "rows the outbox sweeper publishes per pass, at most (a full batch starts the next pass at once)";
    OUTBOX_SWEEP_INTERVAL_MS: Kafka, Value("1000"), Whole(10, 600_000),
        "time between the sweeper's passes";
    OUTBOX_SWEEP_AFTER_MS: Kafka, Value("5000"), Whole(0, 3_600_000),
        "how long a committed row may stay unpublished before the sweeper publishes it";
    OUTBOX_POLL_INTERVAL_MS: Kafka, Means("-"),
        Refused("no longer read; rows are published on commit, and OUTBOX_SWEEP_INTERVAL_MS sets how often the sweeper looks for rows a crash left behind"),
        "no longer read: rows are published on commit; setting it stops the start with a message naming `OUTBOX_SWEEP_INTERVAL_MS`";
}
