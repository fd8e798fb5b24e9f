//! Listing benchmarks: GET /v1/exceptions's query over 100,000 exceptions of one tenant (and
//! 20,000 of another), on SQLite and on Postgres. Each order (and a status filter) is timed on
//! its first page and on a page deep down its cursor chain (1,000 pages, 50,000 rows, unless
//! the chain is shorter); both should take well under 50 ms.
//! Before timing, each query's plan is printed and must use an index for both the filter and the
//! order (no sort step), or the bench stops.
//!
//! Run: `cargo bench --bench listing`. The Postgres half runs on a fresh database created on the
//! server of LISTING_BENCH_DATABASE_URL (or TEST_DATABASE_URL) and dropped afterwards; without
//! either, only SQLite runs.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use exception_worker::model::ExceptionStatus;
use exception_worker::store::database;
use exception_worker::store::exception_listing::{
    self, ExceptionFilter, Order, Page, Position, Scope,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use tokio::runtime::Runtime;

const TENANT: &str = "acme-capital";
const OTHER_TENANT: &str = "globex-markets";
const EXCEPTIONS: usize = 100_000;
const OTHER_EXCEPTIONS: usize = 20_000;
const PAGE: u64 = 50;
const DEEP_PAGES: usize = 1_000;
/// Rows per INSERT (19 values each: under both databases' limits on bound values).
const ROWS_PER_INSERT: usize = 500;

/// A database seeded for the bench, dropped (Postgres) or deleted (SQLite) afterwards.
struct Seeded {
    name: &'static str,
    db: DatabaseConnection,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

/// One listing timed: its first page and the page `deep_pages` down its cursor chain.
struct Case {
    label: &'static str,
    scope: Scope,
    filter: ExceptionFilter,
    first: Order,
    deep_pages: usize,
}

fn cases() -> Vec<Case> {
    let tenant = || Scope::Tenant(TENANT.into());
    let case = |label, scope, filter, first, deep_pages| Case {
        label,
        scope,
        filter,
        first,
        deep_pages,
    };
    let open = ExceptionFilter {
        status: Some(ExceptionStatus::Open),
        ..ExceptionFilter::default()
    };
    vec![
        case(
            "created",
            tenant(),
            ExceptionFilter::default(),
            Order::Created(None),
            DEEP_PAGES,
        ),
        case(
            "sla_deadline",
            tenant(),
            ExceptionFilter::default(),
            Order::SlaDeadline(None),
            DEEP_PAGES,
        ),
        // One exception in five is open: 400 pages in all.
        case(
            "created_status_open",
            tenant(),
            open,
            Order::Created(None),
            300,
        ),
        case(
            "all_tenants_created",
            Scope::AllTenants,
            ExceptionFilter::default(),
            Order::Created(None),
            DEEP_PAGES,
        ),
    ]
}

fn bench_listing(c: &mut Criterion) {
    let runtime = match Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => panic!("no Tokio runtime: {error}"),
    };
    let mut databases = vec![runtime.block_on(sqlite())];
    if let Some(seeded) = runtime.block_on(postgres()) {
        databases.push(seeded);
    }
    for seeded in &databases {
        runtime.block_on(seed(&seeded.db));
        for case in cases() {
            let deep = runtime.block_on(walk(&seeded.db, &case, seeded.name));
            let deep_label = format!("page_{}", case.deep_pages);
            for (page, order) in [("first_page", &case.first), (deep_label.as_str(), &deep)] {
                runtime.block_on(check_plan(&seeded.db, &case, order, seeded.name));
                let name = format!("{}/{}/{page}", seeded.name, case.label);
                c.bench_function(&name, |b| {
                    b.iter(|| runtime.block_on(list(&seeded.db, &case, order)))
                });
            }
        }
    }
    for seeded in databases {
        runtime.block_on(drop_database(seeded));
    }
}

async fn list(db: &DatabaseConnection, case: &Case, order: &Order) -> Page {
    match exception_listing::list(db, &case.scope, &case.filter, order, PAGE).await {
        Ok(page) => page,
        Err(error) => panic!("listing failed: {error}"),
    }
}

/// Follows the cursor chain `case.deep_pages` pages down; answers the order of the next page.
async fn walk(db: &DatabaseConnection, case: &Case, backend: &str) -> Order {
    let started = Instant::now();
    let mut order = case.first.clone();
    for page in 0..case.deep_pages {
        order = match list(db, case, &order).await.next {
            Some(Position::Created(key)) => Order::Created(Some(key)),
            Some(Position::SlaDeadline(key)) => Order::SlaDeadline(Some(key)),
            None => panic!("{}: the cursor chain ended at page {page}", case.label),
        };
    }
    let mean = started.elapsed() / u32::try_from(case.deep_pages).unwrap_or(u32::MAX);
    eprintln!(
        "{backend}/{}: {} pages followed, {mean:?} per page on average",
        case.label, case.deep_pages
    );
    order
}

/// Prints the plan of each query a page runs; stops the bench unless every one reads an index
/// in the listing's order.
async fn check_plan(db: &DatabaseConnection, case: &Case, order: &Order, backend: &str) {
    let (scope, filter) = (&case.scope, &case.filter);
    let plan = match exception_listing::explain(db, scope, filter, order, PAGE).await {
        Ok(plan) => plan.join("\n"),
        Err(error) => panic!("EXPLAIN failed: {error}"),
    };
    eprintln!("{backend} plan for {scope:?} {filter:?} {order:?}:\n{plan}\n");
    let indexed = match db.get_database_backend() {
        DbBackend::Sqlite => plan.contains("USING INDEX") && !plan.contains("TEMP B-TREE"),
        _ => plan.contains("Index Scan") && !plan.contains("Sort"),
    };
    assert!(
        indexed,
        "{backend}: the listing does not read an index in order:\n{plan}"
    );
}

async fn sqlite() -> Seeded {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => panic!("no temp directory: {error}"),
    };
    let url = format!("sqlite://{}/listing.db?mode=rwc", dir.path().display());
    Seeded {
        name: "sqlite",
        db: open(&url).await,
        _dir: Some(dir),
        postgres: None,
    }
}

async fn postgres() -> Option<Seeded> {
    let admin_url = std::env::var("LISTING_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .ok()
        .filter(|url| !url.trim().is_empty());
    let Some(admin_url) = admin_url else {
        eprintln!("note: Postgres skipped: set LISTING_BENCH_DATABASE_URL or TEST_DATABASE_URL");
        return None;
    };
    let name = format!("listing_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = open_plain(&admin_url).await;
    execute(&admin, &format!(r#"CREATE DATABASE "{name}""#), vec![]).await;
    let _closed = admin.close().await;
    let url = test_support::with_database_name(&admin_url, &name);
    Some(Seeded {
        name: "postgres",
        db: open(&url).await,
        _dir: None,
        postgres: Some((admin_url, name)),
    })
}

async fn open(url: &str) -> DatabaseConnection {
    let db = match database::connect(url, 2).await {
        Ok(db) => db,
        Err(error) => panic!("cannot open {url}: {error:#}"),
    };
    if let Err(error) = database::prepare_schema(&db, true).await {
        panic!("cannot migrate {url}: {error:#}");
    }
    db
}

async fn open_plain(url: &str) -> DatabaseConnection {
    match sea_orm::Database::connect(url).await {
        Ok(db) => db,
        Err(error) => panic!("cannot open {url}: {error}"),
    }
}

async fn drop_database(seeded: Seeded) {
    let _closed = seeded.db.close().await;
    if let Some((admin_url, name)) = seeded.postgres {
        let admin = open_plain(&admin_url).await;
        execute(
            &admin,
            &format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#),
            vec![],
        )
        .await;
    }
}

async fn execute(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) {
    let statement = Statement::from_sql_and_values(db.get_database_backend(), sql, values);
    if let Err(error) = db.execute_raw(statement).await {
        panic!("{sql}: {error}");
    }
}

/// EXCEPTIONS exceptions of TENANT and OTHER_EXCEPTIONS of OTHER_TENANT, inserted directly
/// (multi-row INSERTs in one transaction), then the planner's statistics.
async fn seed(db: &DatabaseConnection) {
    let started = Instant::now();
    let Ok(txn) = db.begin().await else {
        panic!("cannot begin the seeding transaction");
    };
    let rows = (0..EXCEPTIONS)
        .map(|n| (TENANT, n))
        .chain((0..OTHER_EXCEPTIONS).map(|n| (OTHER_TENANT, n)));
    let rows: Vec<(&str, usize)> = rows.collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len() * 19);
        let mut tuples = Vec::with_capacity(chunk.len());
        for (tenant, n) in chunk {
            let first = values.len() + 1;
            let placeholders: Vec<String> = (first..first + 19).map(|p| format!("${p}")).collect();
            tuples.push(format!("({})", placeholders.join(", ")));
            values.extend(row_values(tenant, *n));
        }
        let sql = format!(
            "INSERT INTO exceptions (tenant_id, exception_id, domain, exception_type, source_system, \
             status, severity, confidence, sla_deadline, policy_decision, playbook_id, \
             approval_required, raw_payload, normalized, occurred_at, sla_imminent_at, \
             sla_breached_at, created_at, updated_at) VALUES {}",
            tuples.join(", ")
        );
        execute(&txn, &sql, values).await;
    }
    if let Err(error) = txn.commit().await {
        panic!("seeding failed: {error}");
    }
    execute(db, "ANALYZE", vec![]).await;
    eprintln!(
        "seeded {} exceptions in {:?}",
        rows.len(),
        started.elapsed()
    );
}

/// Exception `n` of `tenant`: two created each second (ties broken by id), four in five with
/// an SLA deadline, statuses and severities in turn, payloads of a realistic size.
fn row_values(tenant: &str, n: usize) -> Vec<Value> {
    let base: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let seconds = i64::try_from(n / 2).unwrap_or(i64::MAX);
    let created = base + chrono::Duration::seconds(seconds);
    let minutes = i64::try_from(30 + n % 240).unwrap_or(30);
    let deadline = (!n.is_multiple_of(5)).then(|| created + chrono::Duration::minutes(minutes));
    let status = ["open", "analyzing", "in_progress", "resolved", "escalated"][n % 5];
    let severity = ["LOW", "MEDIUM", "HIGH", "CRITICAL"][n % 4];
    let id = format!("BENCH-{n:07}");
    let payload = format!(
        r#"{{"exceptionId":"{id}","exceptionType":"SETTLEMENT_FAIL","sourceSystem":"MUREX","amount":{n},"currency":"USD","isin":"US0378331005","counterparty":{{"lei":"5493001KJTIIGC8Y1R12","riskRating":"STANDARD"}}}}"#
    );
    vec![
        tenant.into(),
        id.into(),
        "capital_markets".into(),
        "SETTLEMENT_FAIL".into(),
        "MUREX".into(),
        status.into(),
        Some(severity.to_owned()).into(),
        Some(0.9_f64).into(),
        deadline.into(),
        Some("AUTO_PLAYBOOK".to_owned()).into(),
        Option::<String>::None.into(),
        Some(false).into(),
        payload.clone().into(),
        payload.into(),
        created.into(),
        Option::<DateTime<Utc>>::None.into(),
        Option::<DateTime<Utc>>::None.into(),
        created.into(),
        created.into(),
    ]
}

criterion_group! {
    name = listing;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_listing
}
criterion_main!(listing);
