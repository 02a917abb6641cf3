//! `lockscope run`: real PostgreSQL, real migration commands (psql, dbmate from npm), real
//! blockers. No wall-clock assertion: the tests wait for events (bounded only as a hang guard)
//! and assert their order and the states that follow.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::TestDb;
use serde_json::Value;
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use tokio::process::{Child, Command};

/// Only a guard against a hung test; never asserted on.
const HANG_GUARD: Duration = Duration::from_secs(90);

fn lockscope() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lockscope"));
    command.env_remove("PGAPPNAME").env_remove("PGOPTIONS").kill_on_drop(true);
    command
}

/// The dbmate binary scripts/install-runners.sh installs (or LOCKSCOPE_DBMATE).
fn dbmate() -> PathBuf {
    if let Some(path) = std::env::var_os("LOCKSCOPE_DBMATE") {
        return PathBuf::from(path);
    }
    let dir = std::env::var_os("LOCKSCOPE_RUNNERS_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/lockscope-runners")
    });
    let path = dir.join("node_modules/.bin/dbmate");
    assert!(
        path.exists(),
        "dbmate is not installed at {}: run `bash scripts/install-runners.sh` (npm install dbmate); the tests \
         do not pass by skipping",
        path.display()
    );
    path
}

async fn scalar_i64(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(conn)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

/// How many `note` columns `items` has: 1 once the test migration applied, 0 before.
async fn note_columns(conn: &mut sqlx::PgConnection) -> i64 {
    scalar_i64(
        conn,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'",
    )
    .await
}

/// Waits until `check` holds, polling; panics (naming `what`) only if it never does.
async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `sql` (one int4 column) until it returns a row; panics (naming `what`) only if never.
async fn poll_pid(conn: &mut PgConnection, what: &str, sql: &str) -> i32 {
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    loop {
        let pid = sqlx::query_scalar::<_, i32>(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_optional(&mut *conn)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
        if let Some(pid) = pid {
            return pid;
        }
        assert!(tokio::time::Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The pid of the command's session once it waits for a lock (found by lockscope's PGAPPNAME tag).
async fn wait_for_child_lock_wait(db: &TestDb) -> i32 {
    let mut conn = db.connect().await;
    poll_pid(
        &mut conn,
        "the command's statement waits for its lock",
        "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'lockscope-run-%' \
         AND wait_event_type = 'Lock' AND datname = current_database()",
    )
    .await
}

fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

async fn wait_for_event(path: &Path, kind: &str) {
    wait_until(&format!("event {kind}"), || async { events(path).iter().any(|e| e["kind"] == kind) }).await;
}

async fn exit_code(mut child: Child) -> i32 {
    let status = tokio::time::timeout(HANG_GUARD, child.wait()).await.expect("lockscope never exited").expect("wait");
    status.code().expect("lockscope exited normally")
}

fn report(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("no report at {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("report is not JSON ({err}): {text}"))
}

/// Position of the first event of `kind` (in `attempt`, when given).
fn position(report: &Value, kind: &str, attempt: Option<u64>) -> usize {
    report["events"]
        .as_array()
        .expect("events")
        .iter()
        .position(|e| e["kind"] == kind && attempt.is_none_or(|a| e["attempt"] == a))
        .unwrap_or_else(|| panic!("no {kind} event (attempt {attempt:?}) in {:#}", report["events"]))
}

/// A table with rows and a session holding ACCESS SHARE on it in an open transaction.
async fn table_and_blocker(db: &TestDb) -> (PgConnection, i32) {
    let mut setup = db.connect().await;
    common::execute(&mut setup, "CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 100)").await;
    let _ = setup.close().await;
    let mut blocker = db.connect().await;
    common::execute(&mut blocker, "BEGIN; SELECT count(*) FROM items").await;
    let pid = scalar_i64(&mut blocker, "SELECT pg_backend_pid()::int8").await as i32;
    (blocker, pid)
}

/// The blocker's transaction is still open and nobody touched it.
async fn assert_still_open(db: &TestDb, blocker_pid: i32) {
    let mut conn = db.connect().await;
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
        .bind(blocker_pid)
        .fetch_optional(&mut conn)
        .await
        .expect("pg_stat_activity")
        .flatten();
    assert_eq!(state.as_deref(), Some("idle in transaction"), "the blocker's transaction must be left alone");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn psql_args(file: &Path, url: &str) -> Vec<String> {
    ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f"]
        .iter()
        .map(|s| s.to_string())
        .chain([file.display().to_string(), url.to_string()])
        .collect()
}

struct Files {
    _dir: tempfile::TempDir,
    report: PathBuf,
    events: PathBuf,
    root: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    Files { report: root.join("report.json"), events: root.join("events.jsonl"), root, _dir: dir }
}

/// `lockscope run` on `db` with `flags`, its JSON report and events in `files`, guarding `command`.
fn run_command(db: &TestDb, files: &Files, flags: &[&str], command: &[String]) -> Command {
    let mut cmd = lockscope();
    cmd.arg("run")
        .args(["--database-url", &db.url, "--format", "json", "--interval", "100ms", "--backoff", "200ms..400ms"])
        .arg("--output")
        .arg(&files.report)
        .arg("--events")
        .arg(&files.events)
        .args(flags)
        .arg("--")
        .args(command)
        .stdin(Stdio::null());
    cmd
}

fn spawn_run(db: &TestDb, files: &Files, flags: &[&str], command: &[String]) -> Child {
    run_command(db, files, flags, command).spawn().expect("start lockscope")
}

/// [`run_command`] to its end, without a terminal: its standard error (the plain lines) captured.
async fn run_plain(db: &TestDb, files: &Files, flags: &[&str], command: &[String]) -> std::process::Output {
    let mut cmd = run_command(db, files, flags, command);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    tokio::time::timeout(HANG_GUARD, cmd.output()).await.expect("lockscope hung").expect("runs")
}

#[tokio::test]
async fn psql_alter_behind_a_long_transaction_is_cancelled_readers_proceed_and_the_retry_succeeds() {
    let db = common::fresh_database().await;
    let files = files();
    let (mut blocker, blocker_pid) = table_and_blocker(&db).await;
    let migration = write(&files.root, "add_note.sql", "ALTER TABLE items ADD COLUMN note text;\n");
    let run = spawn_run(
        &db,
        &files,
        &["--max-wait", "1s", "--max-queue", "2", "--retries", "10", "--lock-timeout", "1min"],
        &psql_args(&migration, &db.url),
    );

    wait_for_child_lock_wait(&db).await;
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let target = db.target.clone();
            tokio::spawn(async move {
                let mut conn = lockscope::db::connect(&target, "reader").await.expect("reader connects");
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM items").fetch_one(&mut conn).await
            })
        })
        .collect();
    wait_for_event(&files.events, "cancelled").await;
    for reader in readers {
        let count = tokio::time::timeout(HANG_GUARD, reader).await.expect("reader hung").expect("join");
        assert_eq!(count.expect("the reader's query ran"), 100);
    }
    // The readers got through while the blocker still held its transaction.
    assert_still_open(&db, blocker_pid).await;
    common::execute(&mut blocker, "COMMIT").await;

    assert_eq!(exit_code(run).await, 0);
    let report = report(&files.report);
    assert_eq!(report["outcome"], "succeeded");
    let attempts = report["attempts"].as_array().expect("attempts");
    assert!(attempts.len() >= 2, "{report:#}");
    assert_eq!(attempts[0]["outcome"], "cancelled");
    assert_eq!(attempts.last().unwrap()["outcome"], "succeeded");
    assert_eq!(attempts[0]["retry"]["verdict"], "retry");
    let cancel = &attempts[0]["cancellations"][0];
    assert_eq!(cancel["blockers"][0]["pid"], blocker_pid, "the report names the blocker: {cancel:#}");
    assert_eq!(cancel["blockers"][0]["state"], "idle in transaction");
    assert_eq!(cancel["cancelled"], true);
    assert!(cancel["waiting_for"].as_str().unwrap().contains("AccessExclusiveLock on public.items"), "{cancel:#}");
    for attempt in attempts {
        let ours: Vec<&Value> = attempt["sessions"].as_array().unwrap().iter().map(|s| &s["pid"]).collect();
        for cancel in attempt["cancellations"].as_array().unwrap() {
            assert!(ours.contains(&&cancel["pid"]), "cancelled a session that is not the command's: {attempt:#}");
        }
        for session in attempt["sessions"].as_array().unwrap() {
            assert_eq!(session["found_by"][0], "application_name", "psql over a unix socket: {session:#}");
        }
    }
    // Events in order: found, waiting, cancelled, decided, backed off, started again, succeeded.
    let order = [
        position(&report, "started", Some(1)),
        position(&report, "session_found", Some(1)),
        position(&report, "waiting", Some(1)),
        position(&report, "cancelled", Some(1)),
        position(&report, "exited", Some(1)),
        position(&report, "retry_decision", Some(1)),
        position(&report, "backoff", Some(1)),
        position(&report, "started", Some(2)),
    ];
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "events out of order {order:?}: {:#}", report["events"]);
    let mut conn = db.connect().await;
    assert_eq!(note_columns(&mut conn).await, 1);
}

#[tokio::test]
async fn dbmate_over_tcp_is_found_by_its_socket_and_the_applied_migration_is_not_run_again() {
    let db = common::fresh_database().await;
    let files = files();
    let role = common::unique_name("runner");
    let mut admin = common::admin_connection().await;
    common::execute(&mut admin, &format!("CREATE ROLE {role} LOGIN SUPERUSER PASSWORD 'runner-pw'")).await;
    let tcp_url = format!("{}?sslmode=disable", common::tcp_url(&role, "runner-pw", &db.name));
    let (mut blocker, blocker_pid) = table_and_blocker(&db).await;
    let dir = files.root.join("migrations");
    std::fs::create_dir(&dir).unwrap();
    write(
        &dir,
        "20240101000001_audit.sql",
        "-- migrate:up\nCREATE TABLE audit (id serial, note text);\nINSERT INTO audit (note) VALUES ('first');\n\n-- migrate:down\nDROP TABLE audit;\n",
    );
    write(
        &dir,
        "20240101000002_note.sql",
        "-- migrate:up\nALTER TABLE items ADD COLUMN note text;\n\n-- migrate:down\nALTER TABLE items DROP COLUMN note;\n",
    );
    let command: Vec<String> = [dbmate().display().to_string()]
        .into_iter()
        .chain(
            ["--url", &tcp_url, "--migrations-dir", &dir.display().to_string(), "--no-dump-schema", "up"]
                .map(String::from),
        )
        .collect();
    let dir_text = dir.display().to_string();
    let run = spawn_run(
        &db,
        &files,
        &["--max-wait", "1s", "--retries", "10", "--lock-timeout", "1min", "--migrations", &dir_text],
        &command,
    );
    wait_for_event(&files.events, "cancelled").await;
    assert_still_open(&db, blocker_pid).await;
    common::execute(&mut blocker, "COMMIT").await;
    assert_eq!(exit_code(run).await, 0, "{:#}", report(&files.report));

    let report = report(&files.report);
    let attempts = report["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["pending_before"], serde_json::json!(["20240101000001", "20240101000002"]));
    assert_eq!(attempts[1]["pending_before"], serde_json::json!(["20240101000002"]), "{report:#}");
    assert_eq!(attempts[0]["retry"]["verdict"], "retry");
    let cancel = &attempts[0]["cancellations"][0];
    assert_eq!(cancel["blockers"][0]["pid"], blocker_pid);
    let cancelled_session = attempts[0]["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["pid"] == cancel["pid"])
        .expect("the cancelled session is one of the command's");
    let found_by: Vec<&str> =
        cancelled_session["found_by"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(found_by.contains(&"tcp socket"), "{cancelled_session:#}");
    assert!(found_by.contains(&"application_name"), "lib/pq reads PGAPPNAME: {cancelled_session:#}");
    let mut conn = db.connect().await;
    assert_eq!(scalar_i64(&mut conn, "SELECT count(*) FROM audit").await, 1, "migration 1 ran once");
    assert_eq!(scalar_i64(&mut conn, "SELECT count(*) FROM schema_migrations").await, 2);
}

#[tokio::test]
async fn a_runner_failing_for_another_reason_is_not_retried_and_its_exit_code_is_kept() {
    let db = common::fresh_database().await;
    let files = files();
    let migration = write(&files.root, "bad.sql", "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN;\n");
    let run = spawn_run(&db, &files, &["--max-wait", "1s", "--retries", "5"], &psql_args(&migration, &db.url));
    // psql exits 3 when ON_ERROR_STOP stops a script (psql manual, "Exit Status").
    assert_eq!(exit_code(run).await, 3);
    let report = report(&files.report);
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["exit_code"], 3);
    let attempts = report["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["outcome"], "failed");
    assert!(attempts[0]["cancellations"].as_array().unwrap().is_empty());
    assert!(attempts[0].get("retry").is_none());
    let mut conn = db.connect().await;
    assert_eq!(scalar_i64(&mut conn, "SELECT count(*) FROM pg_class WHERE relname = 't'").await, 0);
}

#[tokio::test]
async fn with_retries_0_the_cancelled_command_stops_and_another_sessions_ddl_is_never_cancelled() {
    let db = common::fresh_database().await;
    let files = files();
    let (mut blocker, blocker_pid) = table_and_blocker(&db).await;
    // Someone else's DDL waits behind the same blocker, longer than --max-wait.
    let target = db.target.clone();
    let other = tokio::spawn(async move {
        let mut conn = lockscope::db::connect(&target, "someone-else").await.expect("connects");
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut conn).await.unwrap();
        (pid, sqlx::raw_sql("ALTER TABLE items ADD COLUMN other text").execute(&mut conn).await.map(|_| ()))
    });
    let mut probe = db.connect().await;
    let other_pid = poll_pid(
        &mut probe,
        "the other session's ALTER waits",
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'someone-else' AND wait_event_type = 'Lock'",
    )
    .await;
    let migration = write(&files.root, "add_note.sql", "ALTER TABLE items ADD COLUMN note text;\n");
    let run = spawn_run(
        &db,
        &files,
        &["--max-wait", "1s", "--retries", "0", "--lock-timeout", "1min"],
        &psql_args(&migration, &db.url),
    );
    let code = exit_code(run).await;
    assert_eq!(code, 3, "psql's own exit code after its statement was cancelled");
    let report = report(&files.report);
    assert_eq!(report["outcome"], "cancelled");
    let attempts = report["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "--retries 0 runs once");
    assert_eq!(attempts[0]["retry"]["verdict"], "stop");
    assert!(attempts[0]["retry"]["why"].as_str().unwrap().contains("--retries 0"));
    let cancelled: Vec<i64> =
        attempts[0]["cancellations"].as_array().unwrap().iter().map(|c| c["pid"].as_i64().unwrap()).collect();
    assert!(!cancelled.is_empty());
    assert!(!cancelled.contains(&i64::from(other_pid)) && !cancelled.contains(&i64::from(blocker_pid)));
    // The other DDL is still waiting, untouched; it completes once the blocker ends.
    let still_waiting: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'")
            .bind(other_pid)
            .fetch_one(&mut probe)
            .await
            .unwrap();
    assert_eq!(still_waiting, 1);
    assert_still_open(&db, blocker_pid).await;
    common::execute(&mut blocker, "COMMIT").await;
    let (_, result) = tokio::time::timeout(HANG_GUARD, other).await.expect("other hung").expect("join");
    result.expect("the other session's ALTER was never cancelled");
}

#[tokio::test]
async fn ctrl_c_stops_the_command_and_cancels_nothing_lockscope_does_not_own() {
    let db = common::fresh_database().await;
    let files = files();
    let (mut blocker, blocker_pid) = table_and_blocker(&db).await;
    let migration = write(&files.root, "add_note.sql", "ALTER TABLE items ADD COLUMN note text;\n");
    let run = spawn_run(
        &db,
        &files,
        &["--max-wait", "1h", "--max-queue", "0", "--lock-timeout", "off"],
        &psql_args(&migration, &db.url),
    );
    let child_pid = wait_for_child_lock_wait(&db).await;
    let lockscope_pid = run.id().expect("running") as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(lockscope_pid), nix::sys::signal::Signal::SIGINT)
        .expect("SIGINT");
    assert_eq!(exit_code(run).await, 130);

    let mut conn = db.connect().await;
    poll_pid(
        &mut conn,
        "the command's session is gone",
        &format!("SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = {child_pid})"),
    )
    .await;
    assert_still_open(&db, blocker_pid).await;
    let report = report(&files.report);
    assert_eq!(report["outcome"], "interrupted");
    assert!(report["attempts"][0]["cancellations"].as_array().unwrap().is_empty());
    for event in report["events"].as_array().unwrap() {
        if event["kind"].as_str().unwrap().starts_with("cancelled") {
            assert_eq!(event["pid"], child_pid, "only the command's own session may be cancelled: {event:#}");
        }
    }
    position(&report, "interrupted", Some(1));
    common::execute(&mut blocker, "COMMIT").await;
    assert_eq!(note_columns(&mut conn).await, 0);
}

#[tokio::test]
async fn the_command_gets_pgappname_and_a_lock_timeout_through_pgoptions() {
    let db = common::fresh_database().await;
    let files = files();
    let mut cmd = lockscope();
    cmd.arg("run")
        .args(["--database-url", &db.url, "--lock-timeout", "7s", "--format", "json", "--quiet"])
        .arg("--output")
        .arg(&files.report)
        .args(["--", "psql", "-X", "-At", "-c", "SHOW lock_timeout", "-c", "SHOW application_name", &db.url])
        .stdout(Stdio::piped());
    let output = cmd.output().await.expect("lockscope runs");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "7s", "{stdout}");
    assert!(lines[1].starts_with("lockscope-run-"), "{stdout}");
    let report = report(&files.report);
    assert_eq!(report["injected_lock_timeout"], "7000ms");
    assert_eq!(report["attempts"][0]["application_name"], lines[1]);
}

/// dbmate migrations folder with one `transaction:false` CREATE INDEX CONCURRENTLY.
fn concurrent_index_migration(root: &Path) -> PathBuf {
    let dir = root.join("migrations");
    std::fs::create_dir_all(&dir).unwrap();
    write(
        &dir,
        "20240201000000_items_id_idx.sql",
        "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY items_id_idx ON items (id);\n\n-- migrate:down\nDROP INDEX items_id_idx;\n",
    );
    dir
}

/// A table and a writer in an open transaction: CREATE INDEX CONCURRENTLY waits for it.
async fn table_and_writer(db: &TestDb) -> (PgConnection, i32) {
    let mut setup = db.connect().await;
    common::execute(&mut setup, "CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 100)").await;
    let _ = setup.close().await;
    let mut writer = db.connect().await;
    common::execute(&mut writer, "BEGIN; INSERT INTO items VALUES (0)").await;
    let pid = scalar_i64(&mut writer, "SELECT pg_backend_pid()::int8").await as i32;
    (writer, pid)
}

fn dbmate_command(db: &TestDb, dir: &Path) -> Vec<String> {
    let url = format!("{}&sslmode=disable", db.url).replace("?host=", "?socket=");
    vec![
        dbmate().display().to_string(),
        "--url".into(),
        url,
        "--migrations-dir".into(),
        dir.display().to_string(),
        "--no-dump-schema".into(),
        "up".into(),
    ]
}

async fn index_valid(db: &TestDb) -> Option<bool> {
    let mut conn = db.connect().await;
    sqlx::query_scalar(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'items_id_idx'",
    )
    .fetch_optional(&mut conn)
    .await
    .expect("pg_index")
}

#[tokio::test]
async fn a_cancelled_create_index_concurrently_leaves_an_invalid_index_dropped_only_with_drop_invalid() {
    // Without --drop-invalid: reported, left alone, no retry.
    let db = common::fresh_database().await;
    let first = files();
    let (mut writer, _) = table_and_writer(&db).await;
    let dir = concurrent_index_migration(&first.root);
    let dir_text = dir.display().to_string();
    let run = spawn_run(
        &db,
        &first,
        &["--max-wait", "1s", "--retries", "3", "--lock-timeout", "off", "--migrations", &dir_text],
        &dbmate_command(&db, &dir),
    );
    let code = exit_code(run).await;
    common::execute(&mut writer, "COMMIT").await;
    let first_report = report(&first.report);
    assert_ne!(code, 0, "{first_report:#}");
    let attempt = &first_report["attempts"][0];
    assert_eq!(attempt["outcome"], "cancelled", "{first_report:#}");
    assert_eq!(attempt["invalid_indexes"], serde_json::json!(["public.items_id_idx"]));
    assert_eq!(attempt["retry"]["verdict"], "stop");
    assert!(attempt["retry"]["what_to_do"].as_str().unwrap().contains("DROP INDEX CONCURRENTLY public.items_id_idx"));
    assert_eq!(first_report["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(index_valid(&db).await, Some(false), "lockscope must not drop it unasked");

    // With --drop-invalid: dropped concurrently, then the retry builds it.
    let db = common::fresh_database().await;
    let files = files();
    let (mut writer, writer_pid) = table_and_writer(&db).await;
    let dir = concurrent_index_migration(&files.root);
    let dir_text = dir.display().to_string();
    let run = spawn_run(
        &db,
        &files,
        &["--max-wait", "1s", "--retries", "5", "--lock-timeout", "off", "--drop-invalid", "--migrations", &dir_text],
        &dbmate_command(&db, &dir),
    );
    wait_for_event(&files.events, "cancelled").await;
    assert_still_open(&db, writer_pid).await;
    common::execute(&mut writer, "COMMIT").await;
    assert_eq!(exit_code(run).await, 0, "{:#}", report(&files.report));
    let report = report(&files.report);
    assert_eq!(report["attempts"][0]["invalid_indexes"], serde_json::json!(["public.items_id_idx"]));
    assert_eq!(report["attempts"][0]["cancellations"][0]["blockers"][0]["pid"], writer_pid);
    let order = [
        position(&report, "cancelled", Some(1)),
        position(&report, "invalid_index", Some(1)),
        position(&report, "retry_decision", Some(1)),
        position(&report, "invalid_index_dropped", Some(1)),
        position(&report, "started", Some(2)),
    ];
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "events out of order {order:?}: {:#}", report["events"]);
    assert_eq!(index_valid(&db).await, Some(true));
}

#[tokio::test]
async fn pre_flight_names_the_long_transaction_and_wait_for_quiet_holds_the_first_attempt_until_it_ends() {
    let db = common::fresh_database().await;
    let files = files();
    let (mut blocker, blocker_pid) = table_and_blocker(&db).await;
    let dir = files.root.join("migrations");
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "001_note.sql", "ALTER TABLE items ADD COLUMN note text;\n");
    let file = dir.join("001_note.sql");
    let dir_text = dir.display().to_string();
    let run = spawn_run(
        &db,
        &files,
        &["--max-wait", "1h", "--wait-for-quiet", "10ms", "--migrations", &dir_text, "--layout", "plain"],
        &psql_args(&file, &db.url),
    );
    wait_for_event(&files.events, "waiting_for_quiet").await;
    assert!(!events(&files.events).iter().any(|e| e["kind"] == "started"), "the command must not start yet");
    common::execute(&mut blocker, "COMMIT").await;
    assert_eq!(exit_code(run).await, 0);
    let report = report(&files.report);
    let preflight = &report["attempts"][0]["preflight"];
    assert_eq!(preflight[0]["pid"], blocker_pid, "{report:#}");
    assert_eq!(preflight[0]["relations"], serde_json::json!(["public.items"]));
    let order = [
        position(&report, "preflight", Some(1)),
        position(&report, "waiting_for_quiet", Some(1)),
        position(&report, "started", Some(1)),
        position(&report, "exited", Some(1)),
    ];
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "events out of order {order:?}: {:#}", report["events"]);
    assert!(report["attempts"][0]["cancellations"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_arguments_exit_2_and_the_command_never_starts() {
    let files = files();
    let marker = files.root.join("ran");
    let touch = ["--", "touch", marker.to_str().unwrap()];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], "needs the database"),
        (
            vec!["--database-url", "postgres://u@127.0.0.1:1/db", "--session-filter", "application_name=*"],
            "every session",
        ),
        (vec!["--database-url", "postgres://u@127.0.0.1:1/db", "--backoff", "30s..1s"], "--backoff"),
        (
            vec!["--database-url", "postgres://u@127.0.0.1:1/db", "--migrations", "/nonexistent/migrations"],
            "/nonexistent/migrations",
        ),
    ];
    for (flags, message) in cases {
        let output = lockscope()
            .arg("run")
            .args(&flags)
            .args(touch)
            .env_remove("DATABASE_URL")
            .env_remove("PGHOST")
            .env_remove("PGDATABASE")
            .env_remove("PGUSER")
            .env_remove("PGPORT")
            .env_remove("PGSERVICE")
            .env_remove("PGHOSTADDR")
            .output()
            .await
            .expect("lockscope runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
        assert!(!marker.exists(), "{flags:?}: the command ran");
    }
}

#[tokio::test]
async fn a_command_that_overrides_pgappname_is_found_by_its_tcp_socket_or_by_session_filter() {
    let db = common::fresh_database().await;
    let (mut blocker, blocker_pid) = table_and_blocker(&db).await;
    let role = common::unique_name("tool");
    let mut admin = common::admin_connection().await;
    common::execute(&mut admin, &format!("CREATE ROLE {role} LOGIN SUPERUSER PASSWORD 'tool-pw'")).await;

    // Over TCP, with its own application_name (which beats PGAPPNAME): found through /proc.
    let files_tcp = files();
    let migration = write(&files_tcp.root, "add_note.sql", "ALTER TABLE items ADD COLUMN note text;\n");
    let tcp_url = format!("{}?application_name=custom-tool", common::tcp_url(&role, "tool-pw", &db.name));
    let run = spawn_run(&db, &files_tcp, &["--max-wait", "1s", "--retries", "0"], &psql_args(&migration, &tcp_url));
    assert_eq!(exit_code(run).await, 3);
    let report_tcp = report(&files_tcp.report);
    let attempt = &report_tcp["attempts"][0];
    assert_eq!(attempt["sessions"][0]["found_by"], serde_json::json!(["tcp socket"]), "{report_tcp:#}");
    assert_eq!(attempt["sessions"][0]["application_name"], "custom-tool");
    assert_eq!(attempt["cancellations"][0]["pid"], attempt["sessions"][0]["pid"]);
    assert_eq!(attempt["cancellations"][0]["blockers"][0]["pid"], blocker_pid);

    // Over the unix socket with its own application_name: only --session-filter can find it.
    let files_unix = files();
    let migration = write(&files_unix.root, "add_note.sql", "ALTER TABLE items ADD COLUMN note text;\n");
    let unix_url = format!("{}&application_name=custom-tool", db.url);
    let run = spawn_run(
        &db,
        &files_unix,
        &["--max-wait", "1s", "--retries", "0", "--session-filter", "application_name=custom-*"],
        &psql_args(&migration, &unix_url),
    );
    assert_eq!(exit_code(run).await, 3);
    let report_unix = report(&files_unix.report);
    let attempt = &report_unix["attempts"][0];
    assert_eq!(attempt["sessions"][0]["found_by"], serde_json::json!(["session filter"]), "{report_unix:#}");
    assert_eq!(attempt["cancellations"][0]["pid"], attempt["sessions"][0]["pid"]);
    assert_still_open(&db, blocker_pid).await;
    common::execute(&mut blocker, "COMMIT").await;
}

#[tokio::test]
async fn without_a_terminal_plain_lines_name_the_lock_the_command_already_holds_before_its_cancel() {
    let db = common::fresh_database().await;
    let files = files();
    let (mut blocker, _) = table_and_blocker(&db).await;
    let mut setup = db.connect().await;
    common::execute(&mut setup, "CREATE TABLE customers (id int)").await;
    // One transaction: the first ALTER takes customers, the second waits behind the blocker.
    let migration = write(
        &files.root,
        "two_tables.sql",
        "ALTER TABLE customers ADD COLUMN vip boolean;\nALTER TABLE items ADD COLUMN note text;\n",
    );
    let flags = ["--max-wait", "1s", "--retries", "0", "--lock-timeout", "1min"];
    let output = run_plain(&db, &files, &flags, &psql_args(&migration, &db.url)).await;
    assert_eq!(output.status.code(), Some(3), "psql's exit code after the cancel");
    common::execute(&mut blocker, "COMMIT").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let at =
        |text: &str| lines.iter().position(|line| line.contains(text)).unwrap_or_else(|| panic!("{text}:\n{stderr}"));
    let holds = at("now holds AccessExclusiveLock on public.customers (transaction open ");
    assert!(lines[holds].starts_with("lockscope: pid "), "{stderr}");
    assert!(holds < at("pg_cancel_backend:"), "the held lock is named before the cancel:\n{stderr}");
    assert_eq!(
        lines.iter().filter(|line| line.contains("now holds AccessExclusiveLock on public.customers")).count(),
        1,
        "named once, when it changed:\n{stderr}"
    );
    assert!(!stderr.contains("lockscope run — attempt"), "no panel without a terminal:\n{stderr}");
    let mut conn = db.connect().await;
    let vip = scalar_i64(
        &mut conn,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'vip'",
    )
    .await;
    assert_eq!(vip, 0, "the cancelled transaction rolled back its first ALTER too");
}

#[tokio::test]
async fn an_uncontended_lock_of_the_command_is_named_too() {
    // A CREATE INDEX takes SHARE on its table: nobody queues on it here, and no ACCESS EXCLUSIVE
    // is in sight, yet a DBA wants to see it before the first writer does.
    let db = common::fresh_database().await;
    let files = files();
    let mut setup = db.connect().await;
    common::execute(&mut setup, "CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 100)").await;
    let _ = setup.close().await;
    let migration =
        write(&files.root, "index_then_wait.sql", "CREATE INDEX items_id_idx ON items (id);\nSELECT pg_sleep(1.5);\n");
    let output = run_plain(&db, &files, &["--retries", "0"], &psql_args(&migration, &db.url)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let holds =
        stderr.lines().find(|line| line.contains(" now holds ")).unwrap_or_else(|| panic!("no holds line:\n{stderr}"));
    assert!(holds.contains("ShareLock on public.items"), "the uncontended SHARE lock is named:\n{stderr}");
    assert!(!stderr.contains("pg_cancel_backend:"), "nothing waited, nothing was cancelled:\n{stderr}");
}
