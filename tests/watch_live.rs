//! `lockscope inspect --watch` / `--once` against a real server with real sessions: an idle
//! transaction holding a table, an ALTER TABLE waiting behind it, SELECTs queued behind the
//! ALTER. The lock tree and the queue must show exactly that, in that order, and the watcher
//! must never become part of the problem.

mod common;
mod watch_scenario;

use std::time::Duration;

use lockscope::introspect::SizeSource;
use lockscope::watch::model::TreeNode;
use lockscope::watch::{self, AlertRules, Focus, InspectFormat, InspectOptions, Sample, Sampler, SamplerOptions};
use serde_json::Value;
use watch_scenario::*;

fn options(rules: AlertRules) -> SamplerOptions {
    SamplerOptions { rules, ..SamplerOptions::default() }
}

fn leaf(pid: i32) -> TreeNode {
    TreeNode { pid, children: Vec::new(), cycle: false, shown_above: false }
}

/// holder → ALTER → readers, in wait order.
fn expected_tree(scenario: &Blocking) -> Vec<TreeNode> {
    vec![TreeNode {
        pid: scenario.holder_pid,
        children: vec![TreeNode {
            pid: scenario.alter_pid,
            children: scenario.reader_pids.iter().map(|pid| leaf(*pid)).collect(),
            cycle: false,
            shown_above: false,
        }],
        cycle: false,
        shown_above: false,
    }]
}

fn assert_shows_the_outage(sample: &Sample, scenario: &Blocking) {
    assert_eq!(sample.skipped, None);
    assert_eq!(sample.lock_tree, expected_tree(scenario), "lock tree");

    assert_eq!(sample.queues.len(), 1, "one relation has a queue: {:?}", sample.queues);
    let queue = &sample.queues[0];
    assert_eq!(queue.relation, "public.orders");
    let holders: Vec<(i32, &str)> = queue.holders.iter().map(|h| (h.pid, h.mode.as_str())).collect();
    assert_eq!(holders, vec![(scenario.holder_pid, "AccessShareLock")]);
    let mut expected_waiters = vec![(scenario.alter_pid, "AccessExclusiveLock")];
    expected_waiters.extend(scenario.reader_pids.iter().map(|pid| (*pid, "AccessShareLock")));
    let waiters: Vec<(i32, &str)> = queue.waiters.iter().map(|w| (w.pid, w.mode.as_str())).collect();
    assert_eq!(waiters, expected_waiters, "waiters in wait order, ACCESS EXCLUSIVE at the head");

    let holder = sample.session(scenario.holder_pid).expect("holder captured");
    assert_eq!(holder.state.as_deref(), Some("idle in transaction"));
    assert!(holder.blocked_by.is_empty());
    assert_eq!(holder.queued_behind, 1 + scenario.reader_pids.len());
    assert!(holder.xact_age_s.is_some());

    let alter = sample.session(scenario.alter_pid).expect("ALTER captured");
    assert_eq!(alter.blocked_by, vec![scenario.holder_pid]);
    let waiting = alter.waiting_for.as_ref().expect("ALTER waits");
    assert_eq!(waiting.relation.as_deref(), Some("public.orders"));
    assert_eq!(waiting.mode, "AccessExclusiveLock");
    assert!(alter.ddl && alter.migration, "the ALTER is recognised as the migration");
    assert_eq!(alter.application_name.as_deref(), Some(MIGRATION_APP));
    assert_eq!(alter.wait_event_type.as_deref(), Some("Lock"));

    for pid in &scenario.reader_pids {
        let reader = sample.session(*pid).expect("reader captured");
        assert_eq!(reader.blocked_by, vec![scenario.alter_pid], "readers wait for the ALTER, not the holder");
        assert_eq!(reader.waiting_for.as_ref().map(|w| w.mode.as_str()), Some("AccessShareLock"));
        assert!(!reader.migration);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tree_and_queue_show_the_holder_the_ddl_and_the_readers_in_order() {
    let mut scenario = holder_alter_and_readers(3).await;
    let mut sampler = Sampler::connect(
        scenario.db.target.clone(),
        options(AlertRules { queue_length: 3, wait: Duration::from_secs(3600), cancel_after: None }),
    )
    .await
    .expect("connect the watcher");
    let sample = sampler.sample().await.expect("sample");
    assert_shows_the_outage(&sample, &scenario);

    // The watcher is in none of it.
    let own = sampler.own_pid().expect("own pid");
    assert!(sample.session(own).is_none(), "the watcher lists itself");
    assert!(!all_blockers(&mut scenario.monitor).await.contains(&own));
    assert!(!all_waiters(&mut scenario.monitor).await.contains(&own));

    // Three readers behind the waiting ACCESS EXCLUSIVE: an alert, with the remedy.
    assert_eq!(sample.alerts.len(), 1, "{:?}", sample.alerts);
    let alert = &sample.alerts[0];
    assert_eq!(alert.pid, scenario.alter_pid);
    assert_eq!(alert.queued_behind, 3);
    assert_eq!(alert.relation.as_deref(), Some("public.orders"));
    assert!(alert.message.contains(&format!("blocked by pid {}", scenario.holder_pid)), "{}", alert.message);
    assert!(alert.remedy.contains(&format!("pg_cancel_backend({})", scenario.alter_pid)));
    assert!(alert.remedy.contains("lock_timeout"));
    assert!(sample.actions.is_empty(), "nothing is cancelled without --cancel-blocking-ddl-after");

    // The JSON follows the sample contract of docs/ARCHITECTURE.md.
    let json = serde_json::to_value(&sample).expect("serialize");
    assert_sample_contract(&json);

    // The text view shows the same tree, top-down.
    let text = watch::text::render_sample(&sample, &watch::TextOptions::default());
    let tree_pids: Vec<String> = text
        .lines()
        .skip_while(|line| !line.starts_with("Lock tree"))
        .skip(1)
        .take(2 + scenario.reader_pids.len())
        .map(|line| {
            line.trim_start_matches([' ', '│', '├', '└', '─']).split(" · ").next().unwrap_or_default().to_string()
        })
        .collect();
    let mut expected = vec![scenario.holder_pid.to_string(), scenario.alter_pid.to_string()];
    expected.extend(scenario.reader_pids.iter().map(|pid| pid.to_string()));
    assert_eq!(tree_pids, expected, "{text}");
    assert!(text.contains("ALERT pid"), "{text}");

    sampler.close().await;
    scenario.release().await.expect("the ALTER completes once the holder ends");
}

/// Every key docs/ARCHITECTURE.md promises for `inspect --once --format json` and `--record` lines.
fn assert_sample_contract(json: &Value) {
    assert_eq!(json["schema_version"], 1);
    let sampled_at = json["sampled_at"].as_str().expect("sampled_at");
    assert!(humantime::parse_rfc3339(sampled_at).is_ok(), "RFC 3339: {sampled_at}");
    for session in json["sessions"].as_array().expect("sessions") {
        for key in ["pid", "application_name", "state", "wait_event_type", "query", "blocked_by", "waiting_for"] {
            assert!(session.get(key).is_some(), "session lacks {key}: {session}");
        }
        assert!(session["blocked_by"].is_array());
        let waiting = &session["waiting_for"];
        assert!(waiting.is_null() || (waiting.get("relation").is_some() && waiting["mode"].is_string()));
    }
    fn node(value: &Value) {
        assert!(value["pid"].is_i64(), "{value}");
        for child in value["children"].as_array().expect("children") {
            node(child);
        }
    }
    for root in json["lock_tree"].as_array().expect("lock_tree") {
        node(root);
    }
    for queue in json["queues"].as_array().expect("queues") {
        assert!(queue["relation"].is_string());
        for list in ["holders", "waiters"] {
            for entry in queue[list].as_array().expect(list) {
                assert!(entry["pid"].is_i64() && entry["mode"].is_string(), "{entry}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_lines_record_is_parseable_and_complete_and_the_watcher_never_blocks() {
    let mut scenario = holder_alter_and_readers(2).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("run.jsonl");
    let args = InspectOptions {
        database_url: Some(scenario.db.url.clone()),
        watch: true,
        interval: Duration::from_millis(150),
        count: Some(5),
        record: Some(record.clone()),
        format: InspectFormat::Json,
        no_tui: true,
        ..InspectOptions::default()
    };
    let watcher = tokio::spawn(async move { watch::run(&args).await });

    // Meanwhile, from outside: the watcher never blocks anyone and never waits.
    let mut saw_watcher = false;
    while !watcher.is_finished() {
        let watchers = watcher_pids(&mut scenario.monitor).await;
        saw_watcher |= !watchers.is_empty();
        let blockers = all_blockers(&mut scenario.monitor).await;
        let waiters = all_waiters(&mut scenario.monitor).await;
        for pid in &watchers {
            assert!(!blockers.contains(pid), "the watcher (pid {pid}) blocks someone");
            assert!(!waiters.contains(pid), "the watcher (pid {pid}) waits for a lock");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(saw_watcher, "the watcher was never seen connected");
    let code = watcher.await.expect("watch task").expect("watch run");
    assert_eq!(code, 0);

    let text = std::fs::read_to_string(&record).expect("read the record");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "one line per sample:\n{text}");
    let mut previous = String::new();
    for line in lines {
        let json: Value = serde_json::from_str(line).expect("each line is one JSON object");
        assert_sample_contract(&json);
        let sample: Sample = serde_json::from_value(json).expect("each line is a whole sample");
        assert_shows_the_outage(&sample, &scenario);
        assert!(sample.sampled_at > previous, "timestamps increase");
        previous = sample.sampled_at.clone();
    }
    scenario.release().await.expect("ALTER completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_prints_one_sample_and_exits_zero() {
    let scenario = holder_alter_and_readers(1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let record = dir.path().join("once.jsonl");
    let args = InspectOptions {
        database_url: Some(scenario.db.url.clone()),
        once: true,
        format: InspectFormat::Json,
        record: Some(record.clone()),
        ..InspectOptions::default()
    };
    assert_eq!(watch::run(&args).await.expect("inspect --once"), 0);
    let text = std::fs::read_to_string(&record).expect("record");
    assert_eq!(text.lines().count(), 1);
    let sample: Sample = serde_json::from_str(text.trim()).expect("a sample");
    assert_shows_the_outage(&sample, &scenario);
    scenario.release().await.expect("ALTER completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_never_measures_a_table_with_a_pending_access_exclusive() {
    let mut scenario = holder_alter_and_readers(2).await;
    {
        let mut conn = scenario.db.connect().await;
        common::execute(
            &mut conn,
            "CREATE TABLE quiet (id integer PRIMARY KEY, body text);
             INSERT INTO quiet SELECT g, repeat('x', 50) FROM generate_series(1, 3000) g;",
        )
        .await;
        common::execute(&mut conn, "VACUUM ANALYZE quiet").await;
    }
    let mut sampler = Sampler::connect(scenario.db.target.clone(), SamplerOptions::default()).await.expect("connect");
    let own_pid = sampler.own_pid().expect("pid");
    // Measuring orders would queue behind the ALTER (until lock_timeout): while the overview is
    // gathered, its session is never seen waiting for a lock, and orders is not measured.
    let gathering = tokio::spawn(async move {
        let overview = watch::overview::gather(&mut sampler, "test", Duration::from_secs(5)).await;
        (sampler, overview)
    });
    let mut polls = 0;
    while !gathering.is_finished() {
        let waiting: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)")
            .bind(own_pid)
            .fetch_one(&mut scenario.monitor)
            .await
            .expect("poll pg_locks");
        assert!(!waiting, "the overview waited for a lock");
        polls += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (sampler, overview) = gathering.await.expect("overview task");
    let overview = overview.expect("overview");
    eprintln!("watched the overview's session {polls} times");
    let orders = overview.biggest_tables.iter().find(|t| t.name == "orders").expect("orders listed");
    assert_eq!(orders.size.source, SizeSource::EstimatedLocked);
    let quiet = overview.biggest_tables.iter().find(|t| t.name == "quiet").expect("quiet listed");
    assert_eq!(quiet.size.source, SizeSource::Measured);
    let measured: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('quiet')")
        .fetch_one(&mut scenario.monitor)
        .await
        .expect("size");
    assert_eq!(quiet.size.total_bytes, measured);
    assert!(!all_waiters(&mut scenario.monitor).await.contains(&sampler.own_pid().unwrap()));

    // The rest of the overview: the idle transaction and the blocking.
    assert_eq!(overview.idle_in_transaction.iter().map(|s| s.pid).collect::<Vec<_>>(), vec![scenario.holder_pid]);
    assert_eq!(overview.blocking.lock_tree, expected_tree(&scenario));
    let text = watch::overview::render_overview(&overview, &watch::TextOptions::default());
    assert!(text.contains("estimate (locked)"), "{text}");
    assert!(text.contains("Sessions idle in transaction"), "{text}");
    assert!(text.contains(&format!("  {} · ", scenario.holder_pid)), "{text}");
    sampler.close().await;
    scenario.release().await.expect("ALTER completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_blocking_ddl_after_cancels_the_ddl_session_only() {
    let mut scenario = holder_alter_and_readers(1).await;
    // Named focus elsewhere: never cancelled, whatever the wait.
    let rules =
        AlertRules { queue_length: 1, wait: Duration::from_secs(1), cancel_after: Some(Duration::from_millis(300)) };
    let mut elsewhere = Sampler::connect(
        scenario.db.target.clone(),
        SamplerOptions {
            rules: rules.clone(),
            focus: Focus { application_names: vec!["someone-else".into()], pids: Vec::new() },
            ..SamplerOptions::default()
        },
    )
    .await
    .expect("connect");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let untouched = elsewhere.sample().await.expect("sample");
    assert!(untouched.actions.is_empty());
    assert!(!untouched.alerts.is_empty(), "still alerted");
    elsewhere.close().await;

    let mut sampler = Sampler::connect(
        scenario.db.target.clone(),
        SamplerOptions {
            rules,
            focus: Focus { application_names: vec!["migr*".into()], pids: Vec::new() },
            ..SamplerOptions::default()
        },
    )
    .await
    .expect("connect");
    let sample = sampler.sample().await.expect("sample");
    assert_eq!(sample.actions.len(), 1, "{:?}", sample.actions);
    let action = &sample.actions[0];
    assert_eq!(action.action, "pg_cancel_backend");
    assert_eq!(action.pid, scenario.alter_pid);
    assert!(action.cancelled, "{}", action.message);
    assert!(action.message.contains("--cancel-blocking-ddl-after"), "{}", action.message);

    let alter = (&mut scenario.alter).await.expect("ALTER task");
    let error = alter.expect_err("the ALTER was cancelled");
    assert!(error.contains("canceling statement due to user request"), "{error}");
    // The reader then gets its lock; the idle holder is untouched.
    for reader in scenario.readers.drain(..) {
        reader.await.expect("reader").expect("the queued SELECT completes");
    }
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
        .bind(scenario.holder_pid)
        .fetch_one(&mut scenario.monitor)
        .await
        .expect("holder state");
    assert_eq!(state.as_deref(), Some("idle in transaction"));

    // Only once per statement.
    let again = sampler.sample().await.expect("sample");
    assert!(again.actions.is_empty());
    sampler.close().await;
    common::execute(&mut scenario.holder, "ROLLBACK").await;
}
