//! Issue "reliability": `inspect --watch` under load — 500 sessions and a lock storm (repeated
//! ALTER TABLEs waiting for ACCESS EXCLUSIVE, SELECTs queueing behind them) for a bounded time.
//! The watcher never waits on a lock itself, takes every sample it was asked for, and each one is
//! complete and consistent, or skipped with its reason shown and counted. No wall-clock bound:
//! how long samples take and the gaps between them under this storm are figures of
//! benches/watch.rs (`BENCH_PARTS=gaps`), never a reason for this test to fail.
//! Its own test binary and server: it needs max_connections above the shared test cluster's.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lockscope::db::ephemeral::EphemeralServer;
use lockscope::watch::Sample;
use sqlx::Connection;

const SESSIONS: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_takes_every_sample_during_a_lock_storm_of_500_sessions() {
    let server = tokio::task::spawn_blocking(|| {
        EphemeralServer::start_with_settings(&[("max_connections", "600"), ("shared_buffers", "64MB")])
    })
    .await
    .unwrap()
    .expect("an embedded server with max_connections 600 (needs PostgreSQL server binaries)");
    let target = server.target("postgres");
    let mut admin = lockscope::db::connect(&target, "storm-admin").await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE hot (id integer PRIMARY KEY, v integer);
         INSERT INTO hot SELECT g, g FROM generate_series(1, 1000) g;",
    )
    .execute(&mut admin)
    .await
    .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for n in 0..SESSIONS {
        let target = target.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let name = if n % 50 == 0 { "storm-ddl" } else { "storm-reader" };
            let mut conn = match lockscope::db::connect(&target, name).await {
                Ok(conn) => conn,
                Err(err) => panic!("session {n}: {err}"),
            };
            let _ = sqlx::raw_sql("SET lock_timeout = '300ms'").execute(&mut conn).await;
            let mut rounds = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let sql = if n % 50 == 0 {
                    // Waits for ACCESS EXCLUSIVE behind the readers, and makes them queue behind it.
                    "BEGIN; ALTER TABLE hot ADD COLUMN IF NOT EXISTS tmp integer; SELECT pg_sleep(0.05); ROLLBACK;"
                } else {
                    "BEGIN; SELECT count(*) FROM hot; SELECT pg_sleep(0.2); COMMIT;"
                };
                if sqlx::raw_sql(sql).execute(&mut conn).await.is_err() {
                    // Like an application: roll back, back off a little, retry.
                    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
                    tokio::time::sleep(Duration::from_millis(100 + (n as u64 % 7) * 20)).await;
                }
                rounds += 1;
            }
            let _ = conn.close().await;
            rounds
        }));
    }
    // Let the storm build up.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let record_dir = tempfile::tempdir().unwrap();
    let record = record_dir.path().join("storm.jsonl");
    let samples = 12;
    let url = server.url("postgres");
    let started = Instant::now();
    let watcher = tokio::task::spawn_blocking({
        let record = record.clone();
        move || {
            support::lockscope()
                .args(["inspect", "--watch", "--no-tui", "--interval", "1s", "--count", &samples.to_string()])
                .args(["--database-url", &url, "--record"])
                .arg(&record)
                .output()
                .unwrap()
        }
    });
    // Meanwhile: the watcher's own session never waits on a lock.
    let mut watcher_waited = 0;
    while !watcher.is_finished() {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'lockscope%' AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        watcher_waited += waiting;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let output = watcher.await.unwrap();
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut rounds = 0;
    for worker in workers {
        rounds += worker.await.unwrap();
    }

    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(watcher_waited, 0, "the watcher waited on a lock");
    assert!(rounds > SESSIONS as u32, "the storm ran ({rounds} transactions)");
    let text = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), samples, "one record line per sample");
    let mut max_sessions = 0;
    let mut waiting_seen = 0;
    let mut skipped = Vec::new();
    for line in &lines {
        let sample: Sample = serde_json::from_str(line).expect("each record line is a whole sample");
        assert_eq!(sample.schema_version, 1);
        assert!(humantime::parse_rfc3339_weak(&sample.sampled_at).is_ok(), "{}", sample.sampled_at);
        if let Some(reason) = &sample.skipped {
            // Skipped only for lockscope's own timeouts, never half-taken: nothing observed.
            assert!(reason.contains("statement timeout") || reason.contains("lock timeout"), "{reason}");
            assert!(sample.sessions.is_empty() && sample.lock_tree.is_empty() && sample.queues.is_empty());
            skipped.push(reason.clone());
            continue;
        }
        assert_complete(&sample);
        max_sessions = max_sessions.max(sample.sessions.len());
        waiting_seen += sample.sessions.iter().filter(|s| s.waiting_for.is_some()).count();
    }
    // Skipped samples are shown to the user, each with its reason, one per skipped sample.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let shown: Vec<&str> = stdout.lines().filter(|line| line.contains("sample skipped: ")).collect();
    assert_eq!(shown.len(), skipped.len(), "every skipped sample is shown: {shown:?} vs {skipped:?}");
    for (line, reason) in shown.iter().zip(&skipped) {
        assert!(line.contains(reason.as_str()), "{line} does not say {reason}");
    }
    assert!(skipped.len() < samples, "at least one sample saw the storm ({skipped:?})");
    // Sessions between two statements are idle and not listed; most are inside pg_sleep or waiting.
    assert!(max_sessions >= SESSIONS * 8 / 10, "the samples saw the storm's sessions (max {max_sessions})");
    assert!(waiting_seen > 0, "the samples saw the lock storm's waits");
    // No session of the watcher is left behind once it exited (its backend ends asynchronously;
    // the 60 s only stops a broken run from hanging).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lockscope-inspect'")
                .fetch_one(&mut admin)
                .await
                .unwrap();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the watcher left {left} session(s) behind");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("{samples} samples ({} skipped) in {elapsed:?}, storm of {rounds} transactions", skipped.len());
    drop(server);
}

/// A sample that was taken is whole: every pid in the lock tree, every waiter with blockers and
/// every queue entry is a listed session; every waiting session with blockers is in the tree; the
/// header counts are there.
fn assert_complete(sample: &Sample) {
    let listed: std::collections::BTreeSet<i32> = sample.sessions.iter().map(|s| s.pid).collect();
    let in_tree: std::collections::BTreeSet<i32> =
        lockscope::watch::tree::flatten(&sample.lock_tree).iter().map(|(_, node)| node.pid).collect();
    assert!(in_tree.is_subset(&listed), "a tree node without a session at {}", sample.sampled_at);
    for session in &sample.sessions {
        assert!(session.blocked_by.iter().all(|pid| listed.contains(pid)), "pid {}: blocker not listed", session.pid);
        if !session.blocked_by.is_empty() {
            assert!(in_tree.contains(&session.pid), "pid {} waits but is not in the tree", session.pid);
        }
    }
    for queue in &sample.queues {
        assert!(!queue.waiters.is_empty(), "a queue without waiters: {}", queue.relation);
        for entry in queue.holders.iter().chain(&queue.waiters) {
            assert!(listed.contains(&entry.pid), "queue entry {} on {} not listed", entry.pid, queue.relation);
        }
    }
    assert!(sample.summary.max_connections > 0 && sample.summary.sessions > 0, "{:?}", sample.summary);
}
