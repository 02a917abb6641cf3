//! Real sessions for the `inspect --watch` tests: a transaction left idle holding a table, an
//! ALTER TABLE waiting behind it, and SELECTs queued behind the ALTER, each started only once
//! the one before is seen waiting, so the wait order is known.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};
use tokio::task::JoinHandle;

use crate::common::{self, TestDb};

/// The application_name the ALTER TABLE session runs under.
pub const MIGRATION_APP: &str = "migrate";

/// A statement running on its own connection in the background; resolves to its error, if any.
pub type Running = JoinHandle<Result<(), String>>;

/// The classic outage, live.
pub struct Blocking {
    pub db: TestDb,
    /// Idle in transaction, holding ACCESS SHARE on `public.orders`.
    pub holder: PgConnection,
    pub holder_pid: i32,
    /// `ALTER TABLE orders ADD COLUMN note text`, waiting for ACCESS EXCLUSIVE.
    pub alter_pid: i32,
    pub alter: Running,
    /// `SELECT count(*) FROM orders`, queued behind the ALTER, in wait order.
    pub reader_pids: Vec<i32>,
    pub readers: Vec<Running>,
    /// For polling pg_locks from outside.
    pub monitor: PgConnection,
}

/// Seeds `public.orders` (2,000 rows) in a fresh database.
pub async fn seeded_database() -> TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    common::execute(
        &mut conn,
        "CREATE TABLE orders (id integer PRIMARY KEY, total integer NOT NULL);
         INSERT INTO orders SELECT g, g % 100 FROM generate_series(1, 2000) g;
         ANALYZE orders;",
    )
    .await;
    let _ = conn.close().await;
    db
}

/// The backend pid of a connection.
pub async fn backend_pid(conn: &mut PgConnection) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(conn).await.expect("pg_backend_pid")
}

/// Runs `sql` on `conn` in the background.
pub fn spawn_statement(mut conn: PgConnection, sql: &'static str) -> Running {
    tokio::spawn(async move {
        let outcome =
            sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await.map(|_| ()).map_err(|err| err.to_string());
        let _ = conn.close().await;
        outcome
    })
}

/// Waits until `pid` waits for a lock (pg_locks.granted = false). The 120 s only stop a broken run
/// from hanging (a hang guard, not a time bound: the test asserts states, never how fast).
pub async fn wait_until_waiting(monitor: &mut PgConnection, pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let waiting: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)")
            .bind(pid)
            .fetch_one(&mut *monitor)
            .await
            .expect("poll pg_locks");
        if waiting {
            return;
        }
        assert!(Instant::now() < deadline, "pid {pid} never started waiting for a lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sets up: holder idle in transaction → ALTER waiting → `readers` SELECTs queued, in order.
pub async fn holder_alter_and_readers(readers: usize) -> Blocking {
    let db = seeded_database().await;
    let mut monitor = db.connect().await;

    let mut holder = db.connect().await;
    let holder_pid = backend_pid(&mut holder).await;
    common::execute(&mut holder, "BEGIN; SELECT count(*) FROM orders;").await;

    let mut alter_conn = db.connect().await;
    common::execute(&mut alter_conn, &format!("SET application_name = '{MIGRATION_APP}'")).await;
    let alter_pid = backend_pid(&mut alter_conn).await;
    let alter = spawn_statement(alter_conn, "ALTER TABLE orders ADD COLUMN note text");
    wait_until_waiting(&mut monitor, alter_pid).await;

    let mut reader_pids = Vec::new();
    let mut reader_tasks = Vec::new();
    for _ in 0..readers {
        let mut conn = db.connect().await;
        let pid = backend_pid(&mut conn).await;
        reader_tasks.push(spawn_statement(conn, "SELECT count(*) FROM orders"));
        wait_until_waiting(&mut monitor, pid).await;
        reader_pids.push(pid);
    }
    Blocking { db, holder, holder_pid, alter_pid, alter, reader_pids, readers: reader_tasks, monitor }
}

impl Blocking {
    /// Ends the idle transaction and waits for the ALTER and the readers; returns the ALTER's
    /// outcome.
    pub async fn release(mut self) -> Result<(), String> {
        common::execute(&mut self.holder, "ROLLBACK").await;
        let alter = self.alter.await.expect("ALTER task");
        for reader in self.readers {
            reader.await.expect("reader task").expect("queued SELECTs complete once the lock frees up");
        }
        alter
    }
}

/// Pids of lockscope's monitoring sessions on the server right now.
pub async fn watcher_pids(monitor: &mut PgConnection) -> Vec<i32> {
    sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = 'lockscope-inspect'")
        .fetch_all(monitor)
        .await
        .expect("read pg_stat_activity")
}

/// Every pid that blocks some waiting session, per the server.
pub async fn all_blockers(monitor: &mut PgConnection) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT DISTINCT b FROM (SELECT DISTINCT pid FROM pg_locks WHERE NOT granted) w,
                unnest(pg_blocking_pids(w.pid)) AS b",
    )
    .fetch_all(monitor)
    .await
    .expect("read pg_blocking_pids")
}

/// Pids that wait for a lock right now.
pub async fn all_waiters(monitor: &mut PgConnection) -> Vec<i32> {
    sqlx::query_scalar("SELECT DISTINCT pid FROM pg_locks WHERE NOT granted")
        .fetch_all(monitor)
        .await
        .expect("read pg_locks")
}
