//! The watcher beside a production migration: a sample it cannot take in time is skipped, not a
//! crash; a dropped connection is re-opened and the sample says so; with only pg_monitor (or
//! nothing at all) it still sees the whole lock tree and says what it cannot see.

mod common;
mod watch_scenario;

use std::time::Duration;

use lockscope::db::{parse_target, TargetSource};
use lockscope::introspect::SessionLimits;
use lockscope::watch::{Sampler, SamplerOptions};
use sqlx::Connection;
use watch_scenario::*;

/// Holds ACCESS EXCLUSIVE on this database's pg_class (as VACUUM FULL pg_class would), so every
/// catalog read queues.
async fn lock_pg_class(db: &common::TestDb) -> sqlx::PgConnection {
    let mut conn = db.connect().await;
    common::execute(&mut conn, "BEGIN; LOCK TABLE pg_catalog.pg_class IN ACCESS EXCLUSIVE MODE").await;
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_that_waits_too_long_is_skipped_and_the_next_one_works() {
    let db = seeded_database().await;
    let mut by_lock = Sampler::connect(db.target.clone(), SamplerOptions::default()).await.expect("connect");
    let mut by_statement = Sampler::connect(
        db.target.clone(),
        SamplerOptions {
            limits: SessionLimits {
                statement_timeout: Duration::from_millis(200),
                lock_timeout: Duration::from_secs(30),
            },
            ..SamplerOptions::default()
        },
    )
    .await
    .expect("connect");

    let mut locker = lock_pg_class(&db).await;
    // The sample returns while pg_class is still locked: lock_timeout (100 ms) gave up the wait,
    // the server said so (SQLSTATE 55P03, which is what "lock timeout" in the reason means), and
    // it fired before the 200 ms statement_timeout could.
    let skipped = by_lock.sample().await.expect("a timeout is not an error");
    let reason = skipped.skipped.as_deref().expect("skipped");
    assert!(reason.contains("lock timeout"), "{reason}");
    assert!(skipped.sessions.is_empty() && skipped.lock_tree.is_empty());

    // statement_timeout (200 ms, SQLSTATE 57014) cancelled the query long before its 30 s
    // lock_timeout: were it not applied, the reason would read "lock timeout".
    let skipped = by_statement.sample().await.expect("a timeout is not an error");
    let reason = skipped.skipped.as_deref().expect("skipped");
    assert!(reason.contains("statement timeout"), "{reason}");
    assert!(skipped.sessions.is_empty() && skipped.lock_tree.is_empty());

    // Neither watcher is left waiting in the lock queue.
    let mut monitor = common::admin_connection().await;
    let waiters = all_waiters(&mut monitor).await;
    for pid in [by_lock.own_pid().unwrap(), by_statement.own_pid().unwrap()] {
        assert!(!waiters.contains(&pid), "watcher {pid} still waits");
    }

    common::execute(&mut locker, "ROLLBACK").await;
    for sampler in [&mut by_lock, &mut by_statement] {
        let sample = sampler.sample().await.expect("sample");
        assert_eq!(sample.skipped, None, "the next sample works");
    }
    by_lock.close().await;
    by_statement.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_reopened_and_reported() {
    let scenario = holder_alter_and_readers(1).await;
    let mut sampler = Sampler::connect(scenario.db.target.clone(), SamplerOptions::default()).await.expect("connect");
    let first_pid = sampler.own_pid().expect("pid");
    assert_eq!(sampler.sample().await.expect("sample").skipped, None);

    let mut admin = common::admin_connection().await;
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first_pid)
        .fetch_one(&mut admin)
        .await
        .expect("terminate the watcher's backend");
    assert!(terminated);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let lost = sampler.sample().await.expect("a lost connection is not an error");
    let reason = lost.skipped.as_deref().expect("skipped while disconnected");
    assert!(reason.contains("connection lost"), "{reason}");
    assert!(lost.events.iter().any(|e| e.contains("connection lost")), "{:?}", lost.events);

    let back = sampler.sample().await.expect("sample after reconnecting");
    assert_eq!(back.skipped, None);
    assert!(back.events.iter().any(|e| e.starts_with("reconnected after")), "{:?}", back.events);
    assert_ne!(sampler.own_pid(), Some(first_pid), "a new backend");
    assert_eq!(back.lock_tree.len(), 1, "the tree is back: {:?}", back.lock_tree);
    assert_eq!(back.lock_tree[0].pid, scenario.holder_pid);
    sampler.close().await;
    let _ = admin.close().await;
    scenario.release().await.expect("ALTER completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_monitor_sees_everything_and_a_plain_role_still_sees_the_tree() {
    let scenario = holder_alter_and_readers(2).await;
    let monitor_role = common::unique_name("watch_monitor");
    let plain_role = common::unique_name("watch_plain");
    let mut admin = common::admin_connection().await;
    common::execute(
        &mut admin,
        &format!(
            "CREATE ROLE {monitor_role} LOGIN PASSWORD 'pw-monitor' IN ROLE pg_monitor;
             CREATE ROLE {plain_role} LOGIN PASSWORD 'pw-plain';"
        ),
    )
    .await;

    for (role, password, privileged) in [(&monitor_role, "pw-monitor", true), (&plain_role, "pw-plain", false)] {
        let url = common::tcp_url(role, password, &scenario.db.name);
        let target = parse_target(&url, TargetSource::Flag).expect("target");
        let mut sampler = Sampler::connect(target, SamplerOptions::default())
            .await
            .unwrap_or_else(|err| panic!("connect as {role}: {err}"));
        let server = sampler.server().expect("server info").clone();
        assert_eq!(server.privileges.can_read_all_stats, privileged, "{role}");
        let sample = sampler.sample().await.expect("sample");
        assert_eq!(sample.skipped, None);

        // The lock tree and the queue come from pg_locks: complete either way.
        assert_eq!(sample.lock_tree.len(), 1, "{role}: {:?}", sample.lock_tree);
        let root = &sample.lock_tree[0];
        assert_eq!(root.pid, scenario.holder_pid);
        assert_eq!(root.children[0].pid, scenario.alter_pid);
        let readers: Vec<i32> = root.children[0].children.iter().map(|n| n.pid).collect();
        assert_eq!(readers, scenario.reader_pids);
        let waiters: Vec<i32> = sample.queues[0].waiters.iter().map(|w| w.pid).collect();
        assert_eq!(waiters[0], scenario.alter_pid);

        let alter = sample.session(scenario.alter_pid).expect("ALTER session");
        if privileged {
            assert_eq!(sample.hidden, None);
            assert_eq!(alter.query.as_deref(), Some("ALTER TABLE orders ADD COLUMN note text"));
            assert!(!alter.hidden && alter.ddl);
            assert_eq!(sample.alerts.len(), 0, "2 queued, wait below 5 s: no alert yet");
        } else {
            let note = sample.hidden.as_deref().expect("says what is hidden");
            assert!(note.contains("pg_monitor") && note.contains("query text"), "{note}");
            assert!(alter.hidden, "other roles' details are hidden");
            assert_eq!(alter.query, None);
            // Still known from pg_locks: what it waits for, and that it is the migration.
            assert_eq!(alter.waiting_for.as_ref().map(|w| w.mode.as_str()), Some("AccessExclusiveLock"));
            assert!(alter.migration);
        }
        sampler.close().await;
    }
    scenario.release().await.expect("ALTER completes");
    common::execute(&mut admin, &format!("DROP ROLE {monitor_role}; DROP ROLE {plain_role};")).await;
}
