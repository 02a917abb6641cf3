//! Per-migration lock attribution. On a shared dry-run transaction, a lock an earlier migration
//! already holds is reported as inferred and names that migration; with `--isolate` each migration
//! also runs alone on a schema-only copy of the target, and its locks are observed there exactly,
//! merged with the target's own timings.

mod common;
mod support;

use serde_json::Value;
use support::*;

const SEED: &str = "
    CREATE TABLE accounts (id integer PRIMARY KEY, email text NOT NULL);
    INSERT INTO accounts SELECT g, 'a' || g || '@example.com' FROM generate_series(1, 3000) g;
    CREATE TABLE payments (id integer PRIMARY KEY, account_id integer NOT NULL, amount integer NOT NULL);
    INSERT INTO payments SELECT g, 1 + g % 3000, g FROM generate_series(1, 5000) g;
    ANALYZE accounts; ANALYZE payments;
";
const SEEDED: &[&str] = &["accounts", "payments"];

async fn seeded() -> common::TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    db
}

fn two_migrations_on_one_table() -> tempfile::TempDir {
    migrations(&[
        ("001_a.up.sql", "ALTER TABLE accounts ADD COLUMN a integer;"),
        ("001_a.down.sql", "ALTER TABLE accounts DROP COLUMN a;"),
        ("002_b.up.sql", "ALTER TABLE accounts ADD COLUMN b integer;\nCREATE INDEX CONCURRENTLY payments_account_idx ON payments (account_id);"),
        ("002_b.down.sql", "ALTER TABLE accounts DROP COLUMN b;"),
    ])
}

fn migration_locks(migration: &Value) -> Vec<(String, String, String, String, String)> {
    migration["locks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let text = |key: &str| l[key].as_str().unwrap_or_default().to_string();
            (text("mode"), text("relation"), text("source"), text("held_since"), text("observed_on"))
        })
        .collect()
}

#[tokio::test]
async fn a_lock_an_earlier_migration_holds_is_inferred_and_names_it() {
    let db = seeded().await;
    let dir = two_migrations_on_one_table();
    let trace = dry_run(&db.target, dir.path()).await;
    // The statement itself: ACCESS EXCLUSIVE on accounts was already held by 001.
    let add_b = statement(&trace, "ALTER TABLE accounts ADD COLUMN b");
    assert_eq!(locks(add_b), [("AccessExclusiveLock".into(), "public.accounts".into(), "inferred".into())]);
    // The migrations, each as if it ran alone.
    let first = &trace.migrations[0].locks;
    assert!(first.iter().any(|l| l.relation == "public.accounts"
        && l.mode.pg_name() == "AccessExclusiveLock"
        && l.source == lockscope::trace::LockSource::Observed
        && l.held_since.is_none()));
    let second = &trace.migrations[1].locks;
    let accounts = second.iter().find(|l| l.relation == "public.accounts").expect("002 locks accounts");
    assert_eq!(accounts.mode.pg_name(), "AccessExclusiveLock");
    assert_eq!(accounts.source, lockscope::trace::LockSource::Inferred);
    assert_eq!(accounts.held_since.as_deref(), Some("001"));
    // Not executed on a dry-run target: documented, not "held since" anything.
    let payments = second.iter().find(|l| l.relation == "public.payments").expect("002 locks payments");
    assert_eq!(
        (payments.mode.pg_name(), payments.source),
        ("ShareUpdateExclusiveLock", lockscope::trace::LockSource::Inferred)
    );
    assert_eq!(payments.held_since, None);
}

#[tokio::test]
async fn isolate_observes_each_migrations_locks_alone_and_keeps_the_targets_timings() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let dir = two_migrations_on_one_table();
    let output = lockscope()
        .args(["check", "--isolate", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["mode"], "dry-run");
    let isolation = &report["isolation"];
    assert!(isolation["copied_with"].as_str().unwrap().contains("pg_dump --schema-only"), "{isolation}");
    assert_eq!(isolation["outcome"]["status"], "completed", "{isolation}");
    assert!(isolation["restore_errors"].as_array().unwrap().is_empty(), "{isolation}");

    let second = &report["migrations"][1];
    let locks = migration_locks(second);
    assert!(
        locks.contains(&(
            "AccessExclusiveLock".into(),
            "public.accounts".into(),
            "observed".into(),
            String::new(),
            "isolated".into()
        )),
        "{locks:?}"
    );
    // CREATE INDEX CONCURRENTLY ran on the copy too, outside a transaction: its locks are gone by
    // the time it returns, so they stay the documented ones, not marked as observed there.
    assert!(
        locks.contains(&(
            "ShareUpdateExclusiveLock".into(),
            "public.payments".into(),
            "inferred".into(),
            String::new(),
            String::new()
        )),
        "{locks:?}"
    );
    let statements = second["statements"].as_array().unwrap();
    assert_eq!(statements[0]["locks"][0]["source"], "observed");
    // Timings are the target's: the dry-run executed the ALTER, not the CONCURRENTLY index.
    assert!(statements[0]["duration_ms"].as_f64().is_some());
    assert_eq!(statements[1]["executed"], false);
    assert!(statements[1]["duration_ms"].is_null());
    assert!(
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("--isolate: each migration also ran alone")),
        "{}",
        report["notes"]
    );
    // The copy was the target's schema without its data: nothing was written to the target.
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

/// Locks no static table documents (a rewrite's locks on the table's indexes) cannot even be
/// inferred on a shared transaction once an earlier migration holds them; the copy observes them.
#[tokio::test]
async fn isolate_finds_locks_a_shared_transaction_cannot_show() {
    let db = seeded().await;
    let dir = migrations(&[
        ("001_bigint.up.sql", "ALTER TABLE payments ALTER COLUMN amount TYPE bigint;"),
        ("002_numeric.up.sql", "ALTER TABLE payments ALTER COLUMN amount TYPE numeric;"),
    ]);
    let shared = dry_run(&db.target, dir.path()).await;
    let on_index = |locks: &[lockscope::trace::MigrationLock]| {
        locks
            .iter()
            .filter(|l| l.relation == "public.payments_pkey")
            .map(|l| l.mode.pg_name().to_string())
            .collect::<Vec<_>>()
    };
    let first = on_index(&shared.migrations[0].locks);
    assert!(!first.is_empty(), "001 rebuilds payments_pkey: {:?}", shared.migrations[0].locks);
    assert!(on_index(&shared.migrations[1].locks).is_empty(), "{:?}", shared.migrations[1].locks);

    let output = lockscope()
        .args(["check", "--isolate", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let locks = migration_locks(&report["migrations"][1]);
    for mode in first {
        assert!(
            locks.contains(&(
                mode.clone(),
                "public.payments_pkey".into(),
                "observed".into(),
                String::new(),
                "isolated".into()
            )),
            "{mode}: {locks:?}"
        );
    }
    // The rewrite itself is the target's observation: 5000 rows, not the copy's empty table.
    let rewrites = report["migrations"][1]["statements"][0]["rewrites"].as_array().unwrap();
    assert!(
        rewrites.iter().any(|r| r["relation"] == "public.payments" && r["rows_estimate"].as_f64() > Some(0.0)),
        "{rewrites:?}"
    );
}
