//! `lockscope check` against a real PostgreSQL: what each classic migration statement locks,
//! rewrites and scans, and proof that the target is left exactly as it was.

mod common;
mod support;

use std::time::Duration;

use lockscope::trace::{Mode, Outcome, TraceOptions};
use support::*;

const SEED: &str = "
    CREATE TABLE accounts (id integer PRIMARY KEY, email varchar(50) NOT NULL, note text);
    INSERT INTO accounts SELECT g, 'a' || g || '@example.com', NULL FROM generate_series(1, 3000) g;
    CREATE TABLE payments (id serial PRIMARY KEY, account_id integer NOT NULL, amount integer NOT NULL);
    CREATE INDEX payments_amount_idx ON payments (amount);
    INSERT INTO payments (account_id, amount) SELECT 1 + g % 3000, g FROM generate_series(1, 5000) g;
    ANALYZE accounts; ANALYZE payments;
";
const SEEDED: &[&str] = &["accounts", "payments"];

async fn seeded() -> common::TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    db
}

/// Runs `sql` as one migration, asserting the target's fingerprint is unchanged afterwards.
async fn trace_one(db: &common::TestDb, sql: &str) -> Checked {
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let dir = migrations(&[("001_change.up.sql", sql), ("001_change.down.sql", "SELECT 1;")]);
    let trace = dry_run(&db.target, dir.path()).await;
    let after = fingerprint(&mut conn, SEEDED).await;
    assert_eq!(before, after, "the dry-run left a trace on the target");
    trace
}

#[tokio::test]
async fn add_nullable_column_takes_access_exclusive_without_rewrite() {
    let db = seeded().await;
    let trace = trace_one(&db, "ALTER TABLE accounts ADD COLUMN status text;").await;
    assert_eq!(trace.mode, Mode::DryRun);
    let stmt = statement(&trace, "ALTER TABLE accounts ADD COLUMN");
    assert!(stmt.executed);
    assert!(
        locks(stmt).contains(&("AccessExclusiveLock".into(), "public.accounts".into(), "observed".into())),
        "{:?}",
        locks(stmt)
    );
    assert!(stmt.rewrites.is_empty(), "{:?}", stmt.rewrites);
    assert!(stmt.scans.is_empty(), "{:?}", stmt.scans);
    assert!(
        stmt.catalog_changes.iter().any(|c| c.change == "created" && c.object == "column public.accounts.status"),
        "{:?}",
        stmt.catalog_changes
    );
    assert!(stmt.duration_ms.is_some());
}

#[tokio::test]
async fn volatile_default_rewrites_the_table() {
    let db = seeded().await;
    let trace = trace_one(&db, "ALTER TABLE accounts ADD COLUMN token float8 DEFAULT random();").await;
    let stmt = statement(&trace, "ALTER TABLE accounts");
    let rewritten: Vec<_> = stmt.rewrites.iter().map(|r| (r.relation.as_str(), r.relkind.as_str())).collect();
    assert!(rewritten.contains(&("public.accounts", "table")), "{rewritten:?}");
    assert!(rewritten.contains(&("public.accounts_pkey", "index")), "{rewritten:?}");
    assert!(stmt.findings.iter().any(|f| f.rule == "LS001"), "{:?}", stmt.findings);
}

#[tokio::test]
async fn int_to_bigint_rewrites_table_and_index_but_varchar_widening_does_not() {
    let db = seeded().await;
    let trace = trace_one(
        &db,
        "ALTER TABLE payments ALTER COLUMN amount TYPE bigint;\nALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);",
    )
    .await;
    let widen = statement(&trace, "ALTER TABLE payments");
    let rewritten: Vec<_> = widen.rewrites.iter().map(|r| r.relation.as_str()).collect();
    assert!(rewritten.contains(&"public.payments"), "{rewritten:?}");
    assert!(rewritten.contains(&"public.payments_amount_idx"), "{rewritten:?}");
    assert!(
        widen.catalog_changes.iter().any(|c| c.change == "rebuilt" && c.object == "index public.payments_amount_idx"),
        "{:?}",
        widen.catalog_changes
    );
    assert!(
        widen
            .catalog_changes
            .iter()
            .any(|c| c.object == "column public.payments.amount"
                && c.detail.contains("integer NOT NULL → bigint NOT NULL")),
        "{:?}",
        widen.catalog_changes
    );

    let varchar = statement(&trace, "ALTER TABLE accounts");
    assert!(varchar.rewrites.is_empty(), "{:?}", varchar.rewrites);
    assert!(locks(varchar).contains(&("AccessExclusiveLock".into(), "public.accounts".into(), "observed".into())));
}

#[tokio::test]
async fn set_not_null_scans_every_row() {
    let db = seeded().await;
    let trace = trace_one(&db, "ALTER TABLE payments ALTER COLUMN account_id DROP NOT NULL;\nALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\nALTER TABLE payments ALTER COLUMN account_id SET NOT NULL;").await;
    let stmt = statement(&trace, "ALTER TABLE payments ALTER COLUMN account_id SET NOT NULL");
    let scan = stmt.scans.iter().find(|s| s.relation == "public.payments").expect("a scan of payments");
    assert_eq!(scan.rows, 5000);
    assert!(stmt.rewrites.is_empty());
    // The earlier DROP NOT NULL already took ACCESS EXCLUSIVE: reported, as inferred.
    assert!(
        locks(stmt).contains(&("AccessExclusiveLock".into(), "public.payments".into(), "inferred".into())),
        "{:?}",
        locks(stmt)
    );
    assert!(stmt.findings.iter().any(|f| f.rule == "LS001" && f.message.contains("5000 rows")), "{:?}", stmt.findings);
}

#[tokio::test]
async fn foreign_key_not_valid_then_validate() {
    let db = seeded().await;
    let trace = trace_one(
        &db,
        "ALTER TABLE payments ADD CONSTRAINT payments_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;\n\
         ALTER TABLE payments VALIDATE CONSTRAINT payments_account_fk;",
    )
    .await;
    let add = statement(&trace, "ALTER TABLE payments ADD CONSTRAINT");
    let add_locks = locks(add);
    assert!(
        add_locks.contains(&("ShareRowExclusiveLock".into(), "public.payments".into(), "observed".into())),
        "{add_locks:?}"
    );
    assert!(
        add_locks.contains(&("ShareRowExclusiveLock".into(), "public.accounts".into(), "observed".into())),
        "{add_locks:?}"
    );
    assert!(!add_locks.iter().any(|l| l.0 == "AccessExclusiveLock"), "{add_locks:?}");
    assert!(add.scans.is_empty(), "{:?}", add.scans);
    assert!(add.catalog_changes.iter().any(|c| c.detail.contains("NOT VALID")), "{:?}", add.catalog_changes);

    let validate = statement(&trace, "ALTER TABLE payments VALIDATE");
    let validate_locks = locks(validate);
    assert!(
        validate_locks.contains(&("ShareUpdateExclusiveLock".into(), "public.payments".into(), "observed".into())),
        "{validate_locks:?}"
    );
    assert!(!validate_locks.iter().any(|l| l.0 == "AccessExclusiveLock"), "{validate_locks:?}");
    let scanned: i64 = validate.scans.iter().filter(|s| s.relation == "public.payments").map(|s| s.rows).sum();
    assert_eq!(scanned, 5000, "{:?}", validate.scans);
    assert!(
        validate.catalog_changes.iter().any(|c| c.change == "altered" && c.detail == "validated"),
        "{:?}",
        validate.catalog_changes
    );
    assert!(validate.findings.iter().all(|f| f.rule != "LS001"));
}

#[tokio::test]
async fn create_index_takes_share_lock_and_concurrently_is_not_executed() {
    let db = seeded().await;
    let trace = trace_one(
        &db,
        "CREATE INDEX accounts_email_idx ON accounts (email);\nCREATE INDEX CONCURRENTLY payments_account_idx ON payments (account_id);",
    )
    .await;
    let plain = statement(&trace, "CREATE INDEX accounts_email_idx");
    assert!(
        locks(plain).contains(&("ShareLock".into(), "public.accounts".into(), "observed".into())),
        "{:?}",
        locks(plain)
    );
    assert!(plain.scans.iter().any(|s| s.relation == "public.accounts" && s.rows == 3000), "{:?}", plain.scans);
    assert!(
        plain.catalog_changes.iter().any(|c| c.change == "created" && c.object == "index public.accounts_email_idx"),
        "{:?}",
        plain.catalog_changes
    );

    let concurrent = statement(&trace, "CREATE INDEX CONCURRENTLY");
    assert!(!concurrent.executed);
    assert!(concurrent.duration_ms.is_none());
    assert!(concurrent.not_executed_reason.as_deref().unwrap_or_default().contains("not executed"));
    assert_eq!(
        locks(concurrent),
        vec![("ShareUpdateExclusiveLock".into(), "public.payments".into(), "inferred".into())]
    );

    let mut conn = db.connect().await;
    let exists: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('payments_account_idx')::text").fetch_one(&mut conn).await.unwrap();
    assert_eq!(exists, None, "CREATE INDEX CONCURRENTLY must never run on a dry-run target");
}

#[tokio::test]
async fn a_files_own_begin_commit_become_a_savepoint() {
    let db = seeded().await;
    let trace = trace_one(&db, "BEGIN;\nALTER TABLE accounts ADD COLUMN flag boolean;\nCOMMIT;\n").await;
    assert_eq!(trace.outcome, Outcome::Completed);
    let begin = statement(&trace, "BEGIN");
    assert!(begin.not_executed_reason.as_deref().unwrap_or_default().contains("SAVEPOINT"));
    let alter = statement(&trace, "ALTER TABLE accounts");
    assert_eq!(alter.line, 2);
    assert!(locks(alter).contains(&("AccessExclusiveLock".into(), "public.accounts".into(), "observed".into())));
}

#[tokio::test]
async fn a_later_migration_sees_what_an_earlier_one_created() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let dir = migrations(&[
        ("001_create.up.sql", "CREATE TABLE audit (id bigserial PRIMARY KEY, account_id integer NOT NULL);"),
        ("001_create.down.sql", "DROP TABLE audit;"),
        ("002_fill.up.sql", "INSERT INTO audit (account_id) SELECT id FROM accounts;\nCREATE INDEX audit_account_idx ON audit (account_id);"),
        ("002_fill.down.sql", "DROP INDEX audit_account_idx;"),
    ]);
    let trace = dry_run(&db.target, dir.path()).await;
    assert_eq!(trace.outcome, Outcome::Completed);
    assert_eq!(trace.migrations.len(), 2);
    let index = statement(&trace, "CREATE INDEX audit_account_idx");
    // audit's CREATE TABLE already took ShareLock (building its primary key) in the same transaction.
    assert!(
        locks(index).contains(&("ShareLock".into(), "public.audit".into(), "inferred".into())),
        "{:?}",
        locks(index)
    );
    assert!(index.scans.iter().any(|s| s.relation == "public.audit" && s.rows == 3000), "{:?}", index.scans);
    // Every migration's locks are held until the one final rollback.
    assert!(trace.migrations.iter().all(|m| m.transaction_ms.is_some()));
    // The audit_id sequence was created by the run, and is gone with it; nothing else changed.
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

#[tokio::test]
async fn sequences_advanced_by_the_dry_run_are_put_back() {
    let db = seeded().await;
    let trace =
        trace_one(&db, "INSERT INTO payments (account_id, amount) SELECT 1, g FROM generate_series(1, 10) g;").await;
    assert!(
        trace.notes.iter().any(|n| n.contains("payments_id_seq") && n.contains("put it back")),
        "{:?}",
        trace.notes
    );
}

#[tokio::test]
async fn a_failing_statement_stops_the_run_and_rolls_back() {
    let db = seeded().await;
    let trace = trace_one(
        &db,
        "ALTER TABLE accounts ADD COLUMN x integer;\nALTER TABLE nope ADD COLUMN y integer;\nALTER TABLE accounts ADD COLUMN z integer;",
    )
    .await;
    let Outcome::Failed { line, message, .. } = &trace.outcome else {
        panic!("expected a failure: {:?}", trace.outcome)
    };
    assert_eq!(*line, 2);
    assert!(message.contains("\"nope\" does not exist"), "{message}");
    assert_eq!(statements(&trace).len(), 2, "nothing after the failing statement runs");
}

#[tokio::test]
async fn waits_behind_a_conflicting_session_and_honours_lock_timeout() {
    let db = seeded().await;
    let mut holder = db.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE accounts IN ACCESS SHARE MODE;").execute(&mut holder).await.unwrap();
    let holder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut holder).await.unwrap();

    let dir = migrations(&[
        ("001_x.up.sql", "ALTER TABLE accounts ADD COLUMN blocked boolean;"),
        ("001_x.down.sql", "SELECT 1;"),
    ]);
    let options = TraceOptions { lock_timeout: Duration::from_millis(700), ..TraceOptions::default() };
    // The dry-run returns while the holder still holds its lock (it rolls back only below): the
    // wait ended because lock_timeout cancelled the statement, not because the lock came free.
    let trace = dry_run_with(&db.target, dir.path(), options).await;
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.unwrap();

    let stmt = statement(&trace, "ALTER TABLE accounts");
    let error = stmt.error.as_ref().expect("the statement hit lock_timeout");
    assert!(error.lock_timeout, "{error:?}");
    assert!(error.blocked_by.iter().any(|b| b.pid == holder_pid), "{error:?}");
    let wait = stmt.waits.first().expect("the sampler saw the wait");
    assert_eq!(wait.mode, "AccessExclusiveLock");
    assert_eq!(wait.relation, "public.accounts");
    assert!(wait.waited_ms > 0.0, "{wait:?}");
    // What the user reads: the server's own words and code for a lock timeout.
    assert_eq!(error.sqlstate.as_deref(), Some("55P03"), "{error:?}");
    assert!(error.message.contains("lock timeout"), "{error:?}");
    assert!(matches!(trace.outcome, Outcome::Failed { .. }));
}

#[tokio::test]
async fn sessions_queued_behind_the_migration_are_counted() {
    let db = seeded().await;
    let dir = migrations(&[
        ("001_x.up.sql", "ALTER TABLE accounts ADD COLUMN q integer;\nSELECT pg_sleep(1.5);"),
        ("001_x.down.sql", "SELECT 1;"),
    ]);
    let reader_target = db.target.clone();
    let reader = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut conn = lockscope::db::connect(&reader_target, "queued-reader").await.unwrap();
        sqlx::query("SELECT count(*) FROM accounts").execute(&mut conn).await.unwrap();
    });
    let trace = dry_run(&db.target, dir.path()).await;
    reader.await.unwrap();
    let sleep = statement(&trace, "SELECT pg_sleep");
    assert!(sleep.queue.max_waiting >= 1, "{:?}", sleep.queue);
    assert!(
        sleep.queue.sessions.iter().any(|s| s.application_name.as_deref() == Some("queued-reader")),
        "{:?}",
        sleep.queue
    );
}

#[tokio::test]
async fn cli_json_report_follows_the_contract() {
    let db = seeded().await;
    let dir = migrations(&[
        ("001_a.up.sql", "ALTER TABLE payments ALTER COLUMN amount TYPE bigint;"),
        ("001_a.down.sql", "ALTER TABLE payments ALTER COLUMN amount TYPE integer;"),
    ]);
    // payments holds 5,000 rows: under lockscope's small-table threshold unless the team says
    // fewer rows are large, as it does here.
    let config = dir.path().join("lockscope.toml");
    std::fs::write(&config, "[thresholds]\nlarge_table_rows = 1000\n").unwrap();
    let output = lockscope()
        .args(["check", "--format", "json", "--database-url", &db.url, "--config"])
        .arg(&config)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "LS001 trips the default --fail-on; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["mode"], "dry-run");
    assert!(report["server"]["version_num"].as_i64().unwrap() >= 140000);
    let migration = &report["migrations"][0];
    assert_eq!(migration["direction"], "up");
    assert_eq!(migration["version"], "001");
    let statement = &migration["statements"][0];
    for field in ["index", "line", "sql", "kind", "executed", "duration_ms", "locks", "rewrites", "scans", "findings"] {
        assert!(statement.get(field).is_some(), "missing {field} in {statement}");
    }
    assert_eq!(statement["kind"], "ALTER TABLE");
    assert!(statement["locks"].as_array().unwrap().iter().any(|l| l["mode"] == "AccessExclusiveLock"
        && l["relation"] == "public.payments"
        && l["relkind"] == "table"
        && l["source"] == "observed"));
    assert!(statement["rewrites"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["relation"] == "public.payments" && r["relkind"] == "table"));
    // The rewrite reads the old heap once, then each rebuilt index reads the new one.
    assert!(
        statement["scans"].as_array().unwrap().iter().any(|s| s["relation"] == "public.payments"
            && s["rows"].as_i64() == Some(5000 * s["scans"].as_i64().unwrap())
            && s["scans"].as_i64() >= Some(1)),
        "{}",
        statement["scans"]
    );
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "LS001" && f["severity"] == "high"));

    let output = lockscope()
        .args(["check", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[tokio::test]
async fn cli_bad_sql_is_exit_2_with_file_and_line_and_nothing_runs() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let dir = migrations(&[
        ("001_a.up.sql", "ALTER TABLE accounts ADD COLUMN fine integer;"),
        ("001_a.down.sql", "SELECT 1;"),
        ("002_b.up.sql", "SELECT 1;\n\nALTER TABLE accounts ADD COLUMN;\n"),
        ("002_b.down.sql", "SELECT 1;"),
    ]);
    let output = lockscope().args(["check", "--database-url", &db.url]).arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("002_b.up.sql:3:"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

#[tokio::test]
async fn cli_killed_or_interrupted_mid_statement_leaves_no_trace() {
    for signal in ["KILL", "INT"] {
        let db = seeded().await;
        let mut conn = db.connect().await;
        let before = fingerprint(&mut conn, SEEDED).await;
        let dir = migrations(&[
            (
                "001_a.up.sql",
                "ALTER TABLE accounts ADD COLUMN doomed integer;\nSELECT pg_advisory_lock(42);\nSELECT pg_sleep(60);",
            ),
            ("001_a.down.sql", "SELECT 1;"),
        ]);
        let mut child = lockscope()
            .args(["check", "--database-url", &db.url])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the migration is inside pg_sleep, holding its locks.
        let mut sleeping = false;
        for _ in 0..200 {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lockscope' AND query LIKE 'SELECT pg_sleep%' AND state = 'active'")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            if n > 0 {
                sleeping = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(sleeping, "the migration never reached pg_sleep");
        let status =
            std::process::Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        if signal == "INT" {
            assert_eq!(exit.code(), Some(130), "SIGINT exits 130");
        }
        assert_eq!(before, fingerprint(&mut conn, SEEDED).await, "signal {signal} left a trace");
    }
}

#[tokio::test]
async fn scratch_mode_refuses_concurrently_inside_the_migrations_own_begin_like_postgres() {
    let dir = migrations(&[
        ("001_a.up.sql", "CREATE TABLE t (a int);\nBEGIN;\nCREATE INDEX CONCURRENTLY t_a ON t (a);\nCOMMIT;\n"),
        ("001_a.down.sql", "DROP TABLE t;"),
    ]);
    // No target: the embedded throwaway server, scratch mode.
    let output = lockscope().arg("check").arg(dir.path()).env_remove("DATABASE_URL").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("001_a.up.sql:3:")
            && stderr.contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction block"),
        "{stderr}"
    );
}
