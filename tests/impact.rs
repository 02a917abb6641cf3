//! Impact on real data: per-statement sizes, hold times and risk; the index-usage findings (each
//! appears when it should and not when it should not); production extrapolation from a snapshot;
//! the snapshot file round-trips.

mod common;
mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;

const SEED: &str = "
    CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL, region text NOT NULL);
    INSERT INTO customers SELECT g, 'c' || g || '@example.com', 'r' || (g % 5) FROM generate_series(1, 3000) g;
    CREATE INDEX customers_email_idx ON customers (email);      -- used by the workload below
    CREATE INDEX customers_region_idx ON customers (region);    -- never used
    CREATE TABLE invoices (id integer PRIMARY KEY, customer_id integer NOT NULL, cents integer NOT NULL);
    INSERT INTO invoices SELECT g, 1 + g % 3000, g FROM generate_series(1, 6000) g;
    ANALYZE customers; ANALYZE invoices;
";

/// A database seeded as above, with the workload having used `customers_email_idx`.
async fn seeded() -> common::TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    use_email_index(&db).await;
    db
}

async fn use_email_index(db: &common::TestDb) {
    let mut workload = db.connect().await;
    sqlx::raw_sql("SET enable_seqscan = off; SELECT * FROM customers WHERE email = 'c7@example.com'; SELECT * FROM customers WHERE email = 'c8@example.com';")
        .execute(&mut workload)
        .await
        .unwrap();
    drop(workload); // a closing session flushes its statistics
    let mut conn = db.connect().await;
    for _ in 0..100 {
        let scans: i64 =
            sqlx::query_scalar("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'customers_email_idx'")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        if scans > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the index scans never reached pg_stat_user_indexes");
}

fn check_json(url: &str, sql: &str, extra: &[&str]) -> Value {
    let dir = migrations(&[("001_change.up.sql", sql), ("001_change.down.sql", "SELECT 1;")]);
    let output = lockscope()
        .args(["check", "--format", "json", "--fail-on", "never", "--database-url", url])
        .args(extra)
        .arg(dir.path())
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&output.stderr)))
}

fn findings(report: &Value, rule: &str) -> Vec<Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == rule).cloned().collect()
}

/// High, or one level lower when the statistics window is short (a database created seconds ago
/// has a recent `stats_reset` on PostgreSQL 14; from 15 a new database has none).
fn assert_high_unless_young_statistics(finding: &Value) {
    let severity = finding["severity"].as_str().unwrap();
    let downgraded = finding["downgraded"].as_str().unwrap_or_default();
    assert!(severity == "high" || (severity == "medium" && downgraded.contains("low confidence")), "{finding}");
}

fn first_statement(report: &Value) -> &Value {
    &report["migrations"][0]["statements"][0]
}

#[tokio::test]
async fn dropping_a_used_index_is_high_and_an_unused_one_is_not_flagged() {
    let db = seeded().await;
    let used = check_json(&db.url, "DROP INDEX customers_email_idx;", &[]);
    let hits = findings(&used, "LS201");
    assert_eq!(hits.len(), 1, "{}", used["findings"]);
    assert_high_unless_young_statistics(&hits[0]);
    assert!(hits[0]["message"].as_str().unwrap().contains("public.customers_email_idx"), "{}", hits[0]);

    let unused = check_json(&db.url, "DROP INDEX customers_region_idx;", &[]);
    assert!(findings(&unused, "LS201").is_empty(), "{}", unused["findings"]);
}

#[tokio::test]
async fn a_rewrite_names_the_unused_indexes_it_rebuilds() {
    let db = seeded().await;
    let report = check_json(&db.url, "ALTER TABLE customers ALTER COLUMN id TYPE bigint;", &[]);
    let hits = findings(&report, "LS202");
    assert_eq!(hits.len(), 1, "{}", report["findings"]);
    let message = hits[0]["message"].as_str().unwrap();
    assert!(message.contains("public.customers_region_idx"), "{message}");
    assert!(!message.contains("customers_email_idx"), "a used index is not listed: {message}");
    assert!(!message.contains("customers_pkey"), "an index enforcing a constraint is not listed: {message}");
}

#[tokio::test]
async fn duplicate_and_left_prefix_indexes_are_flagged() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql("CREATE INDEX invoices_customer_cents_idx ON invoices (customer_id, cents)")
        .execute(&mut conn)
        .await
        .unwrap();
    let duplicate = check_json(&db.url, "CREATE INDEX customers_email2_idx ON customers (email);", &[]);
    assert_eq!(findings(&duplicate, "LS203").len(), 1, "{}", duplicate["findings"]);
    let prefix = check_json(&db.url, "CREATE INDEX CONCURRENTLY invoices_customer_idx ON invoices (customer_id);", &[]);
    let hits = findings(&prefix, "LS203");
    assert_eq!(hits.len(), 1, "{}", prefix["findings"]);
    assert!(hits[0]["message"].as_str().unwrap().contains("leading part"), "{}", hits[0]);
    let fresh = check_json(&db.url, "CREATE INDEX invoices_cents_idx ON invoices (cents);", &[]);
    assert!(findings(&fresh, "LS203").is_empty(), "{}", fresh["findings"]);
}

#[tokio::test]
async fn a_foreign_key_without_a_supporting_index_is_flagged() {
    let db = seeded().await;
    let fk = "ALTER TABLE invoices ADD CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;";
    let missing = check_json(&db.url, fk, &[]);
    let hits = findings(&missing, "LS204");
    assert_eq!(hits.len(), 1, "{}", missing["findings"]);
    assert!(hits[0]["message"].as_str().unwrap().contains("public.invoices (customer_id)"), "{}", hits[0]);

    let supported =
        check_json(&db.url, &format!("CREATE INDEX invoices_customer_idx ON invoices (customer_id);\n{fk}"), &[]);
    assert!(findings(&supported, "LS204").is_empty(), "{}", supported["findings"]);
}

#[tokio::test]
async fn a_constraint_on_an_invalid_index_is_flagged() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    // A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index behind.
    let failed = sqlx::raw_sql("CREATE UNIQUE INDEX CONCURRENTLY customers_region_key ON customers (region)")
        .execute(&mut conn)
        .await;
    assert!(failed.is_err());
    let report = check_json(
        &db.url,
        "ALTER TABLE customers ADD CONSTRAINT customers_region_unique UNIQUE USING INDEX customers_region_key;",
        &[],
    );
    let hits = findings(&report, "LS205");
    assert_eq!(hits.len(), 1, "{}", report["findings"]);
    assert_high_unless_young_statistics(&hits[0]);
}

#[tokio::test]
async fn recently_reset_statistics_lower_confidence() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    sqlx::query("SELECT pg_stat_reset()").execute(&mut conn).await.unwrap();
    use_email_index(&db).await;
    let report = check_json(&db.url, "DROP INDEX customers_email_idx;", &[]);
    let hits = findings(&report, "LS201");
    assert_eq!(hits.len(), 1, "{}", report["findings"]);
    assert_eq!(hits[0]["severity"], "medium", "downgraded from high");
    assert!(hits[0]["downgraded"].as_str().unwrap().contains("low confidence"), "{}", hits[0]);
}

#[tokio::test]
async fn statements_carry_sizes_hold_times_and_risk() {
    let db = seeded().await;
    let report = check_json(
        &db.url,
        "ALTER TABLE invoices ALTER COLUMN cents TYPE bigint;\nALTER TABLE invoices ADD COLUMN note text;",
        &[],
    );
    let impact = &first_statement(&report)["impact"];
    let relation =
        impact["relations"].as_array().unwrap().iter().find(|r| r["relation"] == "public.invoices").expect("invoices");
    assert_eq!(relation["mode"], "AccessExclusiveLock");
    assert_eq!(relation["blocks"], "blocks reads and writes");
    assert_eq!(relation["rows"].as_f64(), Some(6000.0));
    assert!(relation["total_bytes"].as_i64().unwrap() > 0);
    // Held from the statement to the end of the transaction golang-migrate commits (the whole
    // file): at least its own time plus the next one's, and the statement's runner hold.
    let own = first_statement(&report)["duration_ms"].as_f64().unwrap();
    let next = report["migrations"][0]["statements"][1]["duration_ms"].as_f64().unwrap();
    let hold = relation["hold_ms"].as_f64().unwrap();
    assert!(hold >= own + next - 0.01, "{relation}");
    assert_eq!(Some(hold), first_statement(&report)["lock_hold_ms"].as_f64(), "{relation}");
    // At least medium: a rewrite of a non-empty table under ACCESS EXCLUSIVE. (High when the
    // queue estimate — write rate × hold time — crosses 100, which depends on how fast this
    // machine seeded the table: not asserted.)
    assert!(matches!(impact["risk"].as_str(), Some("medium" | "high")), "{impact}");
    assert!(impact["risk_reasons"][0].as_str().unwrap().contains("rewrites or scans"), "{impact}");
}

#[tokio::test]
async fn production_snapshot_fits_the_estimate_on_sample_runs_and_round_trips() {
    let staging = seeded().await;
    let production = common::fresh_database().await;
    let mut conn = production.connect().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(SEED.replace("generate_series(1, 6000)", "generate_series(1, 60000)")))
        .execute(&mut conn)
        .await
        .unwrap();

    let snapshot_dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot_dir.path().join("prod.json");
    let output =
        lockscope().args(["snapshot", "--database-url", &production.url, "--output"]).arg(&snapshot).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let loaded = lockscope::introspect::snapshot::load(&snapshot).unwrap();
    let invoices = loaded.introspection.table_named("public.invoices").expect("invoices in the snapshot");
    assert_eq!(invoices.rows(), 60000.0);
    let rewritten = serde_json::to_string_pretty(&loaded).unwrap();
    let reloaded: lockscope::introspect::snapshot::Snapshot = serde_json::from_str(&rewritten).unwrap();
    assert_eq!(loaded, reloaded, "the snapshot round-trips");

    let report = check_json(
        &staging.url,
        "ALTER TABLE invoices ALTER COLUMN cents TYPE bigint;",
        &["--production-stats", snapshot.to_str().unwrap()],
    );
    let statement = first_statement(&report);
    let estimate = &statement["impact"]["production"];
    let scale = estimate["scale"].as_f64().unwrap();
    let measured = statement["duration_ms"].as_f64().unwrap();
    assert!((estimate["duration_ms"].as_f64().unwrap() - measured * scale).abs() < 0.01);
    // Asked for an estimate, the dry-run also timed the rewrite on two rolled-back sample copies of
    // a quarter of the table, without and with its indexes, and fitted the model on all three runs.
    let calibration = &statement["calibration"];
    assert_eq!(calibration["relation"], "public.invoices", "{statement}");
    assert_eq!(calibration["work"], "rewrite", "{calibration}");
    let runs = calibration["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{calibration}");
    assert_eq!(runs[0]["rows"].as_f64(), Some(1500.0), "{calibration}");
    assert_eq!(runs[0]["indexes"].as_u64(), Some(0), "{calibration}");
    assert!(runs[1]["indexes"].as_u64().unwrap() >= 1, "{calibration}");
    let basis = estimate["basis"].as_str().unwrap();
    assert!(basis.contains("public.invoices: 60k rows and"), "{estimate}");
    assert!(basis.contains("table rewrite model") && basis.contains("on a sample copy of 1500 rows"), "{estimate}");

    // The statement was also rerun serially on the table itself (median of 3), beside its own run.
    assert!(calibration["serial_here_ms"].as_f64().unwrap() > 0.0, "{calibration}");

    let bad = snapshot_dir.path().join("bad.json");
    std::fs::write(&bad, "{ \"not\": \"a snapshot\" }").unwrap();
    let dir = migrations(&[("001_a.up.sql", "SELECT 1;")]);
    let output = lockscope()
        .args(["check", "--database-url", &staging.url, "--production-stats"])
        .arg(&bad)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("bad.json"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Staging's snapshot, grown into a production whose `invoices` has `rows` rows in `pages` heap
/// blocks, with `settings` as its parallel-build settings.
fn grown_snapshot(
    staging: &str,
    dir: &std::path::Path,
    (rows, pages): (f64, i64),
    settings: lockscope::introspect::ParallelBuildSettings,
) -> std::path::PathBuf {
    let path = dir.join("grown.json");
    let output = lockscope().args(["snapshot", "--database-url", staging, "--output"]).arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let mut snapshot = lockscope::introspect::snapshot::load(&path).unwrap();
    let block = snapshot.introspection.server.block_size;
    snapshot.introspection.server.parallel_builds = Some(settings);
    let invoices = snapshot.introspection.tables.iter_mut().find(|t| t.name == "invoices").unwrap();
    invoices.reltuples = Some(rows);
    invoices.relpages = pages;
    invoices.size.heap_bytes = pages * block;
    std::fs::write(&path, serde_json::to_string(&snapshot).unwrap()).unwrap();
    path
}

#[tokio::test]
async fn an_index_build_big_enough_for_workers_on_production_divides_its_measured_scan_and_sort() {
    let staging = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    // PostgreSQL's defaults: 64 MB of maintenance_work_mem leaves room for one worker beside the
    // leader; a 800 MB heap is far past min_parallel_table_scan_size.
    let defaults = lockscope::introspect::ParallelBuildSettings::DEFAULTS;
    let snapshot = grown_snapshot(&staging.url, dir.path(), (10_000_000.0, 100_000), defaults);
    let report = check_json(
        &staging.url,
        "CREATE INDEX invoices_cents_idx ON invoices (cents);",
        &["--production-stats", snapshot.to_str().unwrap()],
    );
    let statement = first_statement(&report);
    let calibration = &statement["calibration"];
    assert_eq!(calibration["work"], "index build", "{calibration}");
    assert_eq!(calibration["access_method"], "btree", "{calibration}");
    // No sample copies for an index build (a fresh copy's rows cost more per row than the
    // table's): the serial reruns on the table, and the scan and sort alone on the table.
    assert_eq!(calibration["runs"].as_array().map(Vec::len), Some(0), "{calibration}");
    assert!(calibration["serial_here_ms"].as_f64().unwrap() > 0.0, "{calibration}");
    let sorts = calibration["sort_runs"].as_array().unwrap();
    assert_eq!(sorts.len(), 1, "{calibration}");
    assert_eq!(sorts[0]["rows"].as_f64(), Some(6000.0), "{calibration}");
    assert_eq!(sorts[0]["indexes"].as_u64(), Some(1), "{calibration}");
    assert!(calibration["settings_here"]["maintenance_work_mem_kb"].as_i64().unwrap() > 0, "{calibration}");
    let basis = statement["impact"]["production"]["basis"].as_str().unwrap();
    assert!(basis.contains("10.0M rows") && basis.contains("built there with 1 parallel worker(s)"), "{basis}");
    assert!(basis.contains("(the heap scan and sort) divided among parallel workers"), "{basis}");

    // The same production without maintenance workers: a serial build, and the basis says nothing
    // of workers.
    let serial = lockscope::introspect::ParallelBuildSettings { max_parallel_maintenance_workers: 0, ..defaults };
    let snapshot = grown_snapshot(&staging.url, dir.path(), (10_000_000.0, 100_000), serial);
    let report = check_json(
        &staging.url,
        "CREATE INDEX invoices_cents_idx ON invoices (cents);",
        &["--production-stats", snapshot.to_str().unwrap()],
    );
    let basis = first_statement(&report)["impact"]["production"]["basis"].as_str().unwrap().to_string();
    assert!(basis.contains("index build model") && !basis.contains("parallel"), "{basis}");
}
