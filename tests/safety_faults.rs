//! docs/ARCHITECTURE.md safety invariant 1 under faults: whatever goes wrong mid-run — a failing statement,
//! lock_timeout, statement_timeout, the tracing backend terminated, the sampler refused — lockscope
//! exits 2 with a clear message and the target is exactly as it was.

mod common;
mod support;

use std::process::{Child, Output, Stdio};
use std::time::Duration;

use support::*;

const SEED: &str = "
    CREATE TABLE ledger (id serial PRIMARY KEY, account integer NOT NULL, cents bigint NOT NULL);
    INSERT INTO ledger (account, cents) SELECT g % 100, g FROM generate_series(1, 4000) g;
    CREATE INDEX ledger_account_idx ON ledger (account);
    CREATE TABLE notes (id integer PRIMARY KEY, body text);
    INSERT INTO notes SELECT g, repeat('x', 50) FROM generate_series(1, 500) g;
";
const SEEDED: &[&str] = &["ledger", "notes"];

async fn seeded() -> common::TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    db
}

/// A migration that first changes things (a column, a row, a sequence, an advisory lock), so
/// any leak would show in the fingerprint, then does `tail`.
fn migration_with(tail: &str) -> tempfile::TempDir {
    let up = format!(
        "ALTER TABLE ledger ADD COLUMN memo text;\n\
         INSERT INTO ledger (account, cents) VALUES (1, 1);\n\
         UPDATE notes SET body = 'changed';\n\
         SELECT pg_advisory_lock(7);\n\
         {tail}\n"
    );
    migrations(&[("001_fault.up.sql", &up), ("001_fault.down.sql", "ALTER TABLE ledger DROP COLUMN memo;")])
}

fn run(url: &str, dir: &tempfile::TempDir, extra: &[&str]) -> Output {
    lockscope().args(["check", "--database-url", url]).args(extra).arg(dir.path()).output().expect("run lockscope")
}

fn spawn(url: &str, dir: &tempfile::TempDir) -> Child {
    lockscope()
        .args(["check", "--database-url", url])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lockscope")
}

/// Waits until the lockscope session is running a statement that starts with `prefix`.
async fn wait_for_statement(conn: &mut sqlx::PgConnection, prefix: &str) -> i32 {
    for _ in 0..300 {
        let pid: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lockscope' AND state = 'active' AND query LIKE $1 || '%'",
        )
        .bind(prefix)
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
        if let Some(pid) = pid {
            return pid;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("lockscope never ran a statement starting with {prefix:?}");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn statement_error_mid_migration() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let dir =
        migration_with("ALTER TABLE ledger ADD COLUMN cents integer;\nALTER TABLE notes ADD COLUMN never integer;");
    let output = run(&db.url, &dir, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("001_fault.up.sql:5:") && stderr.contains("already exists") && stderr.contains("rolled back"),
        "{stderr}"
    );
    assert!(text(&output.stdout).contains("FAILED at"), "the report still shows what ran");
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

#[tokio::test]
async fn lock_timeout_hit() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let mut holder = db.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE notes IN ROW EXCLUSIVE MODE;").execute(&mut holder).await.unwrap();
    let dir = migration_with("CREATE INDEX notes_body_idx ON notes (body);");
    let output = run(&db.url, &dir, &["--lock-timeout", "300ms"]);
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("lock timeout") && stderr.contains("001_fault.up.sql:5"), "{stderr}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("waited") && stdout.contains("ShareLock"), "the report names the wait: {stdout}");
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

#[tokio::test]
async fn statement_timeout_hit() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    // pg_sleep(5) ends on its own well within lockscope's default statement_timeout (10 min): a
    // "statement timeout" (SQLSTATE 57014) can only come from the 400ms asked for here.
    let dir = migration_with("SELECT pg_sleep(5);");
    let output = run(&db.url, &dir, &["--statement-timeout", "400ms"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("statement timeout") && stderr.contains("001_fault.up.sql:5"), "{stderr}");
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

#[tokio::test]
async fn a_migration_cannot_lift_lockscopes_timeouts() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let dir = migration_with("SET statement_timeout = 0;\nSELECT pg_sleep(5);");
    let output = run(&db.url, &dir, &["--statement-timeout", "400ms", "--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_str(&text(&output.stdout)).unwrap();
    assert!(
        report["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("statement_timeout")),
        "{report}"
    );
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

#[tokio::test]
async fn tracing_backend_terminated_mid_statement() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let dir = migration_with("SELECT pg_sleep(30);");
    let child = spawn(&db.url, &dir);
    let pid = wait_for_statement(&mut conn, "SELECT pg_sleep").await;
    let terminated: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&mut conn).await.unwrap();
    assert!(terminated);
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("terminating connection") || stderr.contains("lost the tracing connection"), "{stderr}");
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

#[tokio::test]
async fn sampler_connection_refused() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    let role = common::unique_name("limited");
    common::execute(&mut conn, &format!("CREATE ROLE {role} LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 1")).await;
    common::execute(&mut conn, &format!("GRANT ALL ON DATABASE {} TO {role}", common::quote_ident(&db.name))).await;
    common::execute(&mut conn, &format!("ALTER TABLE ledger OWNER TO {role}; ALTER TABLE notes OWNER TO {role}")).await;
    let before = fingerprint(&mut conn, SEEDED).await;
    let url = common::tcp_url(&role, "limited-pw", &db.name);
    let dir = migration_with("SELECT 1;");
    let output = run(&url, &dir, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("could not connect") && stderr.contains("too many connections"), "{stderr}");
    assert!(!stderr.contains("limited-pw"), "password leaked: {stderr}");
    assert_eq!(before, fingerprint(&mut conn, SEEDED).await);
}

#[tokio::test]
async fn superuser_on_a_production_looking_database_is_refused_unless_told() {
    let db = common::fresh_database().await;
    let mut admin = common::admin_connection().await;
    let prod = format!("{}_prod", db.name);
    common::execute(&mut admin, &format!("CREATE DATABASE {}", common::quote_ident(&prod))).await;
    let url = db.url.replace(&format!("/{}", db.name), &format!("/{prod}"));
    let dir = migrations(&[("001_a.up.sql", "CREATE TABLE t (id int);"), ("001_a.down.sql", "DROP TABLE t;")]);
    let output = run(&url, &dir, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("looks like production") && stderr.contains("--i-know-this-is-production"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing ran, nothing reported");

    let output = run(&url, &dir, &["--i-know-this-is-production"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    common::execute(&mut admin, &format!("DROP DATABASE {} WITH (FORCE)", common::quote_ident(&prod))).await;
}
