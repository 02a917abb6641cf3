//! The server restarting mid-run (here: crash recovery after a backend is SIGKILLed, which makes
//! the postmaster terminate every session and restart) must leave the target as it was, and
//! lockscope must exit 2 saying it lost the connection. Its own test binary: the restart takes
//! down every session on the shared test cluster.

mod common;
mod support;

use std::process::Stdio;
use std::time::Duration;

use support::*;

#[tokio::test]
async fn server_restarted_mid_run() {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    // The test cluster runs with synchronous_commit off; the seed must survive crash recovery.
    sqlx::raw_sql(
        "SET synchronous_commit = on;
         CREATE TABLE inventory (id serial PRIMARY KEY, sku text NOT NULL);
         INSERT INTO inventory (sku) SELECT 'sku-' || g FROM generate_series(1, 2000) g;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let before = fingerprint_with(&mut conn, &["inventory"], false).await;
    let dir = migrations(&[
        (
            "001_restart.up.sql",
            "ALTER TABLE inventory ADD COLUMN qty integer;\nINSERT INTO inventory (sku) VALUES ('new');\nSELECT pg_sleep(30);",
        ),
        ("001_restart.down.sql", "ALTER TABLE inventory DROP COLUMN qty;"),
    ]);
    let child = lockscope()
        .args(["check", "--database-url", &db.url])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let mut backend = None;
    for _ in 0..300 {
        backend = sqlx::query_scalar::<_, i32>(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'lockscope' AND query LIKE 'SELECT pg_sleep%'",
        )
        .fetch_optional(&mut conn)
        .await
        .unwrap();
        if backend.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let backend = backend.expect("lockscope reached pg_sleep");
    drop(conn);
    // SIGKILL of a backend makes the postmaster reinitialise: every session ends, crash recovery runs.
    let killed = std::process::Command::new("kill").args(["-KILL", &backend.to_string()]).status().unwrap();
    assert!(killed.success());

    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("lost") || stderr.contains("terminating connection") || stderr.contains("connection"),
        "the error should say the connection was lost: {stderr}"
    );

    // Wait for recovery, then compare.
    let mut conn = None;
    for _ in 0..100 {
        if let Ok(c) = lockscope::db::connect(&db.target, "lockscope-test").await {
            conn = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut conn = conn.expect("the server came back");
    assert_eq!(before, fingerprint_with(&mut conn, &["inventory"], false).await);
}
