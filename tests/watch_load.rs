//! Issue "reliability": `inspect --watch` under load — 500 sessions and a lock storm (repeated
//! ALTER TABLEs waiting for ACCESS EXCLUSIVE, SELECTs queueing behind them) for a bounded time.
//! The watcher keeps its interval, never waits on a lock itself, and its record is complete.
//! Its own test binary and server: it needs max_connections above the shared test cluster's.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lockscope::db::ephemeral::EphemeralServer;
use sqlx::Connection;

const SESSIONS: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_keeps_its_interval_during_a_lock_storm_of_500_sessions() {
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
    let interval = Duration::from_secs(1);
    let url = server.url("postgres");
    let started = Instant::now();
    let watcher = tokio::task::spawn_blocking({
        let record = record.clone();
        move || {
            support::lockscope()
                .args(["inspect", "--watch", "--no-tui", "--interval", "1s", "--count", &samples.to_string()])
                .args(["--database-url", &url, "--record"])
                .arg(&record)
                .stdout(std::process::Stdio::null())
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
    let mut skipped = 0;
    for line in &lines {
        let sample: serde_json::Value = serde_json::from_str(line).expect("each record line is JSON");
        assert_eq!(sample["schema_version"], 1);
        assert!(sample["sampled_at"].is_string());
        skipped += usize::from(sample.get("skipped").is_some_and(|s| !s.is_null()));
        let sessions = sample["sessions"].as_array().expect("sessions");
        max_sessions = max_sessions.max(sessions.len());
        waiting_seen += sessions.iter().filter(|s| !s["waiting_for"].is_null()).count();
        assert!(sample["lock_tree"].is_array() && sample["queues"].is_array());
    }
    // Sessions between two statements are idle and not listed; most are inside pg_sleep or waiting.
    assert!(max_sessions >= SESSIONS * 8 / 10, "the samples saw the storm's sessions (max {max_sessions})");
    assert!(skipped <= samples / 4, "{skipped} of {samples} samples were skipped");
    assert!(waiting_seen > 0, "the samples saw the lock storm's waits");
    // The interval held: consecutive samples are one interval apart, never several (a watcher that
    // blocked or fell behind would leave gaps). Generous slack for a loaded 2-core machine.
    let times: Vec<std::time::SystemTime> = lines
        .iter()
        .map(|line| {
            let sample: serde_json::Value = serde_json::from_str(line).unwrap();
            humantime::parse_rfc3339_weak(sample["sampled_at"].as_str().unwrap()).unwrap()
        })
        .collect();
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]).unwrap_or_default();
        let summary: Vec<String> = lines
            .iter()
            .map(|line| {
                let sample: serde_json::Value = serde_json::from_str(line).unwrap();
                format!("{} {}ms skipped={}", sample["sampled_at"], sample["sample_ms"], sample["skipped"])
            })
            .collect();
        assert!(
            gap < interval * 3,
            "a gap of {gap:?} between samples at a {interval:?} interval:\n{}",
            summary.join("\n")
        );
    }
    eprintln!("{samples} samples in {elapsed:?}, storm of {rounds} transactions");
    drop(server);
}
