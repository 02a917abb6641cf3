//! `check` shares one session with its target (docs/ARCHITECTURE.md, "One session per run"): the
//! ledger, the table sizes, the catalogue facts and the statistics are all read on one side
//! connection, and the trace adds exactly two more — the tracing backend and the sampler.
//!
//! Counted with `pg_stat_database.sessions`, "total number of sessions established to this
//! database" (PostgreSQL 14+,
//! <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW>),
//! read from a connection to another database so the counting does not count itself.

mod common;
mod support;

use std::time::Duration;

use support::*;

/// `pg_stat_database.sessions` of `dbname` once it has settled: no backend connected to the
/// database, the count at least `at_least`, and unchanged over ten consecutive reads. A closed
/// connection's backend exits, and reports, a moment after the client is gone; before
/// PostgreSQL 15 the report also travels through the statistics collector, which lags further.
async fn settled_sessions(dbname: &str, at_least: i64) -> i64 {
    let mut admin = common::admin_connection().await;
    let (mut last, mut same) = (-1, 0);
    // A hang guard, not a time bound: the count normally settles within a second.
    for _ in 0..600 {
        let _: (String,) =
            sqlx::query_as("SELECT pg_stat_clear_snapshot()::text").fetch_one(&mut admin).await.expect("clear");
        let (sessions, connected): (i64, i32) = sqlx::query_as(
            "SELECT coalesce(sessions, 0), coalesce(numbackends, 0) FROM pg_stat_database WHERE datname = $1",
        )
        .bind(dbname)
        .fetch_one(&mut admin)
        .await
        .expect("pg_stat_database");
        if connected == 0 && sessions >= at_least && sessions == last {
            same += 1;
            if same >= 10 {
                return sessions;
            }
        } else {
            same = 0;
        }
        last = sessions;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("pg_stat_database.sessions of {dbname} never settled at {at_least} or more (last read {last})");
}

#[tokio::test]
async fn check_opens_one_side_session_besides_the_tracer_and_its_sampler() {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    common::execute(
        &mut conn,
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
         INSERT INTO accounts SELECT g, 'user' || g FROM generate_series(1, 500) g;
         CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);",
    )
    .await;
    let _ = sqlx::Connection::close(conn).await;
    let dir = migrations(&[
        ("001_status.up.sql", "ALTER TABLE accounts ADD COLUMN status text;"),
        ("001_status.down.sql", "ALTER TABLE accounts DROP COLUMN status;"),
    ]);

    // The setup connection above is one session.
    let before = settled_sessions(&db.name, 1).await;
    let output = lockscope()
        .args(["check", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
        .arg(dir.path())
        .output()
        .expect("run lockscope check");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    // Every step that reads the target did run: the ledger, sizes, statistics, the trace.
    assert_eq!(report["pending"]["ledger_found"], true, "{}", report["pending"]);
    let statement = &report["migrations"][0]["statements"][0];
    assert_eq!(statement["executed"], true);
    assert!(statement["impact"].is_object(), "statistics were read: {statement}");

    let opened = settled_sessions(&db.name, before + 3).await - before;
    assert_eq!(opened, 3, "one side session (ledger, sizes, facts, statistics), the tracer and its sampler");
}
