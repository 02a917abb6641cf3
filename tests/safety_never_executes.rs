//! docs/ARCHITECTURE.md safety invariant 2 and issue "never executes what it must not": statements that cannot
//! run in a transaction, or whose effects a rollback cannot undo, are neutralised inside the
//! rolled-back transaction or refused before anything runs.

mod common;
mod support;

use lockscope::plan::PlannedMigration;
use lockscope::source::Direction;
use lockscope::trace::{self, Mode, TraceOptions, TracedBackend};
use support::*;

const SEED: &str = "
    CREATE TABLE events (id serial PRIMARY KEY, kind text NOT NULL);
    INSERT INTO events (kind) SELECT 'k' || (g % 10) FROM generate_series(1, 1000) g;
";

async fn seeded() -> (common::TestDb, sqlx::PgConnection, String) {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    let before = fingerprint(&mut conn, &["events"]).await;
    (db, conn, before)
}

fn check(db: &common::TestDb, up: &str) -> std::process::Output {
    let dir = migrations(&[("001_case.up.sql", up), ("001_case.down.sql", "SELECT 1;")]);
    lockscope()
        .args(["check", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
        .arg(dir.path())
        .output()
        .unwrap()
}

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&output.stderr)))
}

#[tokio::test]
async fn concurrently_forms_and_vacuum_are_reported_not_executed() {
    let (db, mut conn, before) = seeded().await;
    let output = check(
        &db,
        "CREATE INDEX CONCURRENTLY events_kind_idx ON events (kind);\n\
         REINDEX INDEX CONCURRENTLY events_pkey;\n\
         VACUUM (ANALYZE) events;\n\
         DROP INDEX CONCURRENTLY IF EXISTS events_pkey_missing;\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report = json(&output);
    let statements = report["migrations"][0]["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 4);
    for statement in statements {
        assert_eq!(statement["executed"], false, "{statement}");
        assert!(statement["duration_ms"].is_null());
        assert!(statement["not_executed_reason"].as_str().unwrap().contains("not executed"));
    }
    assert_eq!(statements[0]["locks"][0]["mode"], "ShareUpdateExclusiveLock");
    assert_eq!(statements[0]["locks"][0]["source"], "inferred");
    let vacuumed: Option<String> =
        sqlx::query_scalar("SELECT last_vacuum::text FROM pg_stat_user_tables WHERE relname = 'events'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(vacuumed, None, "VACUUM must not run");
    assert_eq!(before, fingerprint(&mut conn, &["events"]).await);
}

#[tokio::test]
async fn commit_and_rollback_smuggled_into_a_file_are_neutralised() {
    let (db, mut conn, before) = seeded().await;
    let output = check(
        &db,
        "BEGIN;\nDELETE FROM events WHERE id < 100;\nCOMMIT;\n\
         COMMIT;\n\
         START TRANSACTION;\nUPDATE events SET kind = 'x';\nROLLBACK;\n\
         BEGIN;\nALTER TABLE events ADD COLUMN leaked boolean;\nEND;\n\
         ABORT;\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report = json(&output);
    let reasons: Vec<String> = report["migrations"][0]["statements"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["not_executed_reason"].as_str().map(str::to_string))
        .collect();
    assert!(reasons.iter().any(|r| r.contains("RELEASE SAVEPOINT")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("ROLLBACK TO SAVEPOINT")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("no transaction block is open")), "{reasons:?}");
    assert_eq!(before, fingerprint(&mut conn, &["events"]).await, "a smuggled COMMIT made something stick");
}

#[tokio::test]
async fn side_effects_outside_the_transaction_are_refused_before_anything_runs() {
    let (db, mut conn, before) = seeded().await;
    let marker = std::env::temp_dir().join(common::unique_name("lockscope_program_ran"));
    let cases = [
        format!("COPY events FROM PROGRAM 'touch {}';", marker.display()),
        format!("COPY events TO PROGRAM 'touch {}';", marker.display()),
        "SET SESSION AUTHORIZATION postgres;".to_string(),
        "PREPARE TRANSACTION 'lockscope_px';".to_string(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity;".to_string(),
        "COPY events TO '/tmp/lockscope_events_dump.csv';".to_string(),
    ];
    for case in &cases {
        let up = format!("ALTER TABLE events ADD COLUMN first boolean;\n{case}\n");
        let output = check(&db, &up);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{case}: {stderr}");
        assert!(stderr.contains("001_case.up.sql:2:") && stderr.contains("refusing"), "{case}: {stderr}");
        assert!(output.stdout.is_empty(), "{case}: nothing ran, so nothing is reported");
    }
    assert!(!marker.exists(), "a PROGRAM ran");
    assert!(!std::path::Path::new("/tmp/lockscope_events_dump.csv").exists());
    let prepared: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_prepared_xacts").fetch_one(&mut conn).await.unwrap();
    assert_eq!(prepared, 0);
    assert_eq!(before, fingerprint(&mut conn, &["events"]).await);
}

#[tokio::test]
async fn psql_meta_commands_are_refused() {
    let (db, mut conn, before) = seeded().await;
    for case in ["\\set ON_ERROR_STOP on", "\\i other.sql", "\\connect postgres"] {
        let up = format!("ALTER TABLE events ADD COLUMN first boolean;\n{case}\nSELECT 1;\n");
        let output = check(&db, &up);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{case}: {stderr}");
        assert!(stderr.contains("001_case.up.sql:2:") && stderr.contains("meta-command"), "{case}: {stderr}");
    }
    assert_eq!(before, fingerprint(&mut conn, &["events"]).await);
}

#[tokio::test]
async fn a_migration_declared_no_transaction_is_not_executed_on_a_dry_run_target() {
    let (db, mut conn, before) = seeded().await;
    let path = std::path::PathBuf::from("001_no_tx.up.sql");
    let text = "ALTER TABLE events ADD COLUMN x integer;\nDELETE FROM events;\n";
    let plan = vec![PlannedMigration {
        path: path.clone(),
        version: "001".into(),
        name: "no_tx".into(),
        direction: Direction::Up,
        statements: lockscope::sql::parse_file(&path, text).unwrap(),
        no_transaction: true,
        model: lockscope::source::Runner::Goose.model(true, false),
    }];
    let options = TraceOptions { mode: Mode::DryRun, ..TraceOptions::default() };
    let trace = trace::run(&db.target, &plan, &options, &TracedBackend::default()).await.unwrap();
    for statement in statements(&trace) {
        assert!(!statement.executed, "{}", statement.sql);
        assert!(statement.not_executed_reason.as_deref().unwrap().contains("outside a transaction"));
    }
    assert_eq!(locks(statement(&trace, "ALTER TABLE"))[0].0, "AccessExclusiveLock");
    assert_eq!(before, fingerprint(&mut conn, &["events"]).await);
}
