//! `lockscope run --fix-dirty` against a real golang-migrate ledger table: the retry decision reads
//! it with `ledger::read`, and the reset is `sql/run_golang_migrate_reset.sql` on a real server.
//! (The golang-migrate binary itself is not installable from the registries this machine reaches;
//! its table is created here exactly as its postgres driver does, `ensureVersionTable` in
//! golang-migrate/migrate database/postgres/postgres.go.)

mod common;

use lockscope::run::control::Control;
use lockscope::run::retry::{self, Facts, Runner, Verdict};
use lockscope::source::Layout;

async fn golang_migrate_ledger(db: &common::TestDb, version: i64, dirty: bool) {
    let mut conn = db.connect().await;
    common::execute(
        &mut conn,
        &format!(
            "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); \
             INSERT INTO schema_migrations VALUES ({version}, {dirty})"
        ),
    )
    .await;
}

fn migrations(dir: &std::path::Path) -> Vec<lockscope::source::Migration> {
    std::fs::write(dir.join("1_items.up.sql"), "CREATE TABLE items (id int);\n").unwrap();
    std::fs::write(dir.join("1_items.down.sql"), "DROP TABLE items;\n").unwrap();
    std::fs::write(dir.join("2_note.up.sql"), "ALTER TABLE items ADD COLUMN note text;\n").unwrap();
    std::fs::write(dir.join("2_note.down.sql"), "ALTER TABLE items DROP COLUMN note;\n").unwrap();
    lockscope::source::discover_with(&[dir.to_path_buf()], Some(Layout::GolangMigrate)).expect("discover").migrations
}

fn command(extra: &str) -> Vec<String> {
    format!("migrate -path db -database postgres://x/db{extra} up").split_whitespace().map(String::from).collect()
}

#[tokio::test]
async fn a_dirty_golang_migrate_ledger_lockscope_caused_is_reset_to_the_previous_version_with_fix_dirty() {
    let db = common::fresh_database().await;
    golang_migrate_ledger(&db, 2, true).await;
    let dir = tempfile::tempdir().unwrap();
    let migrations = migrations(dir.path());
    let ledger = lockscope::ledger::read(&db.target, Layout::GolangMigrate, false).await.expect("ledger");
    let runner = Runner::from_command(&command(""));
    let cancelled = vec!["ALTER TABLE items ADD COLUMN note text;".to_string()];
    let mut facts = Facts {
        runner: &runner,
        ledger: Some(&ledger),
        migrations: Some(&migrations),
        cancelled_statements: &cancelled,
        fix_dirty: false,
        retry_without_ledger: false,
        new_invalid_indexes: &[],
        drop_invalid: false,
    };
    match retry::decide(&facts) {
        Verdict::Stop { what_to_do, .. } => assert!(what_to_do.contains("force 1"), "{what_to_do}"),
        other => panic!("without --fix-dirty lockscope must stop: {other:?}"),
    }
    facts.fix_dirty = true;
    let Verdict::FixDirtyThenRetry { table, version, reset_to, .. } = retry::decide(&facts) else {
        panic!("--fix-dirty after lockscope's own cancel of a one-transaction file resets the ledger")
    };
    assert_eq!((version.as_str(), reset_to.as_deref()), ("2", Some("1")));

    let mut control = Control::connect(&db.target).await.expect("control");
    assert!(control.reset_golang_migrate(&table, &version, reset_to.as_deref()).await.expect("reset"));
    // Not dirty any more: a second reset changes nothing.
    assert!(!control.reset_golang_migrate(&table, &version, reset_to.as_deref()).await.expect("reset again"));
    control.close().await;
    let mut conn = db.connect().await;
    let rows: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, dirty FROM schema_migrations").fetch_all(&mut conn).await.unwrap();
    assert_eq!(rows, vec![(1, false)]);
}

#[tokio::test]
async fn a_dirty_ledger_is_never_reset_for_multi_statement_runs_or_a_statement_lockscope_did_not_cancel() {
    let db = common::fresh_database().await;
    golang_migrate_ledger(&db, 1, true).await;
    let dir = tempfile::tempdir().unwrap();
    let migrations = migrations(dir.path());
    let ledger = lockscope::ledger::read(&db.target, Layout::GolangMigrate, false).await.expect("ledger");
    let multi = Runner::from_command(&command("?x-multi-statement=true"));
    let plain = Runner::from_command(&command(""));
    let cancelled = vec!["CREATE TABLE items (id int);".to_string()];
    let base = Facts {
        runner: &multi,
        ledger: Some(&ledger),
        migrations: Some(&migrations),
        cancelled_statements: &cancelled,
        fix_dirty: true,
        retry_without_ledger: false,
        new_invalid_indexes: &[],
        drop_invalid: false,
    };
    assert!(matches!(retry::decide(&base), Verdict::Stop { .. }), "x-multi-statement commits statement by statement");
    let none: Vec<String> = Vec::new();
    let not_ours = Facts { runner: &plain, cancelled_statements: &none, ..base.clone() };
    match retry::decide(&not_ours) {
        Verdict::Stop { what_to_do, .. } => assert!(what_to_do.contains("force -1"), "{what_to_do}"),
        other => panic!("{other:?}"),
    }
    // The first migration, cancelled by lockscope, resets to "no version".
    let ours = Facts { runner: &plain, ..base };
    assert!(matches!(retry::decide(&ours), Verdict::FixDirtyThenRetry { reset_to: None, .. }));
    let mut control = Control::connect(&db.target).await.expect("control");
    assert!(control.reset_golang_migrate("public.schema_migrations", "1", None).await.expect("reset"));
    control.close().await;
    let mut conn = db.connect().await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM schema_migrations").fetch_one(&mut conn).await.unwrap();
    assert_eq!(count, 0);
}
