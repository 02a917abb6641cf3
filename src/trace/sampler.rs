//! The second connection: while a statement runs, it polls the tracing backend from outside to
//! see what a statement's own session cannot — lock waits, who blocks it, and who queues behind it.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::Row;
use tokio::sync::watch;

use super::model::{Blocker, LockWait, Queue, QueuedSession};
use super::observe::db_error;
use crate::error::Result;

const WAITS_SQL: &str = include_str!("../../sql/sample_waits.sql");
const QUEUE_SQL: &str = include_str!("../../sql/sample_queue.sql");

/// What the sampler saw during one statement.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    pub waits: Vec<LockWait>,
    pub queue: Queue,
    /// Number of polls made.
    pub polls: usize,
}

/// Polls `traced_pid` every `interval` until `stop` turns true, then returns what it saw.
pub async fn sample(
    conn: &mut PgConnection,
    traced_pid: i32,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<Samples> {
    let mut waits: BTreeMap<(String, String), LockWait> = BTreeMap::new();
    let mut queued: BTreeMap<i32, QueuedSession> = BTreeMap::new();
    let mut samples = Samples::default();
    // The first poll comes one interval in: a statement that finishes sooner waited for nothing
    // worth reporting, and costs no sampling at all.
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        poll_once(conn, traced_pid, &mut waits, &mut queued, &mut samples).await?;
    }
    samples.waits = waits.into_values().collect();
    samples.queue.sessions = queued.into_values().collect();
    samples.queue.longest_wait_ms = samples.queue.sessions.iter().map(|s| s.waited_ms).fold(0.0, f64::max);
    Ok(samples)
}

async fn poll_once(
    conn: &mut PgConnection,
    traced_pid: i32,
    waits: &mut BTreeMap<(String, String), LockWait>,
    queued: &mut BTreeMap<i32, QueuedSession>,
    samples: &mut Samples,
) -> Result<()> {
    samples.polls += 1;
    let rows = sqlx::query(WAITS_SQL)
        .bind(traced_pid)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| db_error("sampling lock waits", err))?;
    for row in rows {
        let relation: String = row.get("relation");
        let mode: String = row.get("mode");
        let waited_ms: f64 = row.get::<Option<f64>, _>("waited_ms").unwrap_or(0.0);
        let blockers: Vec<Blocker> = serde_json::from_str(&row.get::<String, _>("blockers")).unwrap_or_default();
        let entry = waits.entry((relation.clone(), mode.clone())).or_insert_with(|| LockWait {
            relation,
            mode,
            waited_ms: 0.0,
            blockers: Vec::new(),
        });
        entry.waited_ms = entry.waited_ms.max(waited_ms);
        for blocker in blockers {
            if !entry.blockers.iter().any(|b| b.pid == blocker.pid) {
                entry.blockers.push(blocker);
            }
        }
    }

    let rows = sqlx::query(QUEUE_SQL)
        .bind(traced_pid)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| db_error("sampling sessions queued behind the migration", err))?;
    samples.queue.max_waiting = samples.queue.max_waiting.max(rows.len());
    for row in rows {
        let session = QueuedSession {
            pid: row.get("pid"),
            application_name: row.get("application_name"),
            query: row.get("query"),
            waited_ms: row.get::<Option<f64>, _>("waited_ms").unwrap_or(0.0),
        };
        let entry = queued.entry(session.pid).or_insert_with(|| session.clone());
        entry.waited_ms = entry.waited_ms.max(session.waited_ms);
    }
    Ok(())
}
