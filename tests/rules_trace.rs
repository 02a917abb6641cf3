//! Rules judged with a trace (`lockscope check`) on a real server: confirmed, not observed (and
//! quietly downgraded), trace-only, downgrades for empty tables and tables the run creates,
//! ignores, `lockscope.toml` and `--pg-version`.

mod common;

use lockscope::analyze::Finding;
use lockscope::analyze::{self, Options, Severity, Status, TableStats};
use lockscope::source::Direction;
use lockscope::trace::{self, Mode, TraceOptions, TracedBackend};

const SEED: &str = include_str!("../rules/seed.sql");

async fn seeded() -> common::TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    sqlx::raw_sql("CREATE TABLE empty_table (id bigint PRIMARY KEY, v integer); ANALYZE empty_table;")
        .execute(&mut conn)
        .await
        .expect("empty table");
    db
}

fn migrations(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

/// Dry-runs `sql` as migration 001 and returns every finding.
async fn check(db: &common::TestDb, files: &[(&str, &str)], options: Options) -> Vec<Finding> {
    let dir = migrations(files);
    let paths = [dir.path().to_path_buf()];
    let plan = lockscope::plan::plan(&paths, Direction::Up).expect("plan");
    let mut conn = db.connect().await;
    let stats = TableStats::fetch(&mut conn, plan.iter().flat_map(|m| m.statements.iter())).await.expect("sizes");
    let trace_options = TraceOptions { mode: Mode::DryRun, ..TraceOptions::default() };
    let traced = trace::run(&db.target, &plan, &trace_options, &TracedBackend::default()).await.expect("trace");
    let pairings = analyze::pairings(&lockscope::source::discover(&paths).expect("discover"));
    // A dry-run on this test's own seeded target: its sizes are real numbers.
    let sizes_from = options.sizes_from.or(Some(analyze::SizeSource::Target));
    let assessment = analyze::analyze(&plan, &traced, &Options { stats, pairings, sizes_from, ..options });
    assessment.findings().cloned().collect()
}

fn one(sql: &str) -> Vec<(&'static str, String)> {
    vec![("001_change.up.sql", sql.to_string()), ("001_change.down.sql", "SELECT 1;".to_string())]
}

fn find<'a>(findings: &'a [Finding], rule: &str, line: usize) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.rule == rule && f.line == Some(line))
        .unwrap_or_else(|| panic!("no {rule} at line {line}: {findings:#?}"))
}

async fn check_sql(db: &common::TestDb, sql: &str, options: Options) -> Vec<Finding> {
    let files = one(sql);
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    check(db, &borrowed, options).await
}

#[tokio::test]
async fn a_rewrite_is_confirmed_and_a_relabel_is_quietly_not_observed() {
    let db = seeded().await;
    let found = check_sql(
        &db,
        "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN quantity TYPE bigint;\nALTER TABLE orders ALTER COLUMN note TYPE varchar(200);",
        Options::default(),
    )
    .await;
    let widened = find(&found, "LS113", 2);
    assert_eq!((widened.status, widened.severity), (Status::Confirmed, Severity::High), "{widened:#?}");
    assert!(widened.evidence.iter().any(|e| e.contains("rewrote public.orders")), "{widened:#?}");
    assert_eq!(find(&found, "LS001", 2).status, Status::TraceOnly);

    let relabel = find(&found, "LS113", 3);
    assert_eq!((relabel.status, relabel.severity), (Status::NotObserved, Severity::Low), "{relabel:#?}");
    assert!(relabel.message.contains("without rewriting"), "{}", relabel.message);
    assert!(relabel.downgraded.as_deref().unwrap_or_default().contains("not rewritten"), "{relabel:#?}");
    assert!(!found.iter().any(|f| f.rule == "LS001" && f.line == Some(3)));
}

#[tokio::test]
async fn lock_and_scan_predictions_are_confirmed_by_what_the_server_did() {
    let db = seeded().await;
    let found = check_sql(
        &db,
        "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\nCREATE INDEX IF NOT EXISTS users_name_idx ON users (name);",
        Options::default(),
    )
    .await;
    let not_null = find(&found, "LS114", 1);
    assert_eq!(not_null.status, Status::Confirmed);
    assert!(not_null.evidence.iter().any(|e| e.contains("5000 rows of public.users")), "{not_null:#?}");
    let index = find(&found, "LS107", 2);
    assert_eq!(index.status, Status::Confirmed);
    assert!(index.evidence.iter().any(|e| e.contains("ShareLock on public.users")), "{index:#?}");
    // No lock_timeout: the dangerous lock is confirmed too.
    assert_eq!(find(&found, "LS124", 1).status, Status::Confirmed);
}

#[tokio::test]
async fn a_validated_check_already_in_the_database_makes_set_not_null_not_observed() {
    let db = seeded().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql("ALTER TABLE users ADD CONSTRAINT users_name_present CHECK (name IS NOT NULL)")
        .execute(&mut conn)
        .await
        .unwrap();
    // lint cannot know about the constraint; the server skips the scan and says so.
    let found = check_sql(
        &db,
        "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN name SET NOT NULL;",
        Options::default(),
    )
    .await;
    let not_null = find(&found, "LS114", 2);
    assert_eq!((not_null.status, not_null.severity), (Status::NotObserved, Severity::Low), "{not_null:#?}");
}

#[tokio::test]
async fn empty_tables_and_tables_created_by_the_run_are_downgraded() {
    let db = seeded().await;
    let found = check(
        &db,
        &[
            ("001_a.up.sql", "SET lock_timeout = '2s';\nCREATE INDEX IF NOT EXISTS empty_v_idx ON empty_table (v);"),
            ("001_a.down.sql", "SELECT 1;"),
            (
                "002_b.up.sql",
                "CREATE TABLE IF NOT EXISTS fresh (id int, v int);\nBEGIN;\nALTER TABLE fresh ADD COLUMN w int;\nUPDATE fresh SET w = 1;\nCOMMIT;",
            ),
            ("002_b.down.sql", "SELECT 1;"),
        ],
        Options::default(),
    )
    .await;
    let empty = found.iter().find(|f| f.rule == "LS107").expect("LS107 on the empty table");
    assert_eq!(empty.severity, Severity::Low);
    assert_eq!(empty.downgraded.as_deref(), Some("empty_table is empty (target)"), "{empty:#?}");
    let fresh = found.iter().find(|f| f.rule == "LS123").expect("LS123 on the new table");
    assert_eq!(fresh.severity, Severity::Low);
    assert!(
        fresh.downgraded.as_deref().unwrap_or_default().contains("created earlier in this migration"),
        "{fresh:#?}"
    );
}

#[tokio::test]
async fn big_table_threshold_decides_unbatched_updates() {
    let db = seeded().await;
    let sql = "SET lock_timeout = '2s';\nUPDATE users SET status = 'active' WHERE status IS NULL;";
    let found = check_sql(&db, sql, Options::default()).await;
    let small = find(&found, "LS122", 2);
    assert_eq!((small.status, small.severity), (Status::NotObserved, Severity::Low), "{small:#?}");
    let mut options = Options::default();
    options.config.thresholds.large_table_rows = 1000;
    let found = check_sql(&db, sql, options).await;
    let big = find(&found, "LS122", 2);
    assert_eq!((big.status, big.severity), (Status::Confirmed, Severity::High), "{big:#?}");
}

#[tokio::test]
async fn a_judged_version_other_than_the_servers_keeps_version_sensitive_findings_static() {
    let db = seeded().await;
    let sql = "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN IF NOT EXISTS score integer DEFAULT 0;";
    assert!(check_sql(&db, sql, Options::default()).await.iter().all(|f| f.rule != "LS111"));
    let options = Options { pg_version: Some(10), ..Options::default() };
    let found = check_sql(&db, sql, options).await;
    let default = find(&found, "LS111", 2);
    assert_eq!(default.status, Status::Static, "{default:#?}");
    assert!(default.evidence.iter().any(|e| e.contains("judged for PostgreSQL 10")), "{default:#?}");
}

#[tokio::test]
async fn ignores_apply_to_trace_findings_and_unused_ones_are_reported() {
    let db = seeded().await;
    let found = check_sql(
        &db,
        "SET lock_timeout = '2s';\n-- lockscope:ignore LS001, LS113 orders is rewritten nightly anyway\nALTER TABLE orders ALTER COLUMN quantity TYPE bigint;\n-- lockscope:ignore LS001 nothing to see\nALTER TABLE orders ALTER COLUMN note TYPE varchar(200);",
        Options::default(),
    )
    .await;
    assert!(!found.iter().any(|f| f.line == Some(3) && (f.rule == "LS001" || f.rule == "LS113")), "{found:#?}");
    let unused = find(&found, "LS902", 4);
    assert!(unused.message.contains("LS001"), "{unused:#?}");
}

fn lockscope() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_lockscope"))
}

#[tokio::test]
async fn check_reads_lockscope_toml_for_rules_and_timeouts() {
    let db = seeded().await;
    let dir = migrations(&[
        ("001_a.up.sql", "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN quantity TYPE bigint;"),
        ("001_a.down.sql", "SELECT 1;"),
    ]);
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("lockscope.toml"),
        "[rules]\nLS001 = \"off\"\nalter-column-type = \"medium\"\n[timeouts]\nlock_timeout = \"300ms\"\n",
    )
    .unwrap();
    let nested = project.path().join("deploy");
    std::fs::create_dir(&nested).unwrap();

    let output = lockscope()
        .args(["check", "--format", "json", "--database-url", &db.url])
        .arg(dir.path())
        .current_dir(&nested)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["rule"] != "LS001"), "{findings:#?}");
    let change = findings.iter().find(|f| f["rule"] == "LS113").expect("LS113");
    assert_eq!(change["severity"], "medium");
    assert_eq!(change["status"], "confirmed");
    assert_eq!(change["name"], "alter-column-type");
    assert!(change["evidence"].as_array().is_some_and(|e| !e.is_empty()));

    // The configured lock_timeout bounds the dry-run's wait.
    let mut holder = db.connect().await;
    sqlx::raw_sql("BEGIN; LOCK TABLE orders IN ACCESS SHARE MODE").execute(&mut holder).await.unwrap();
    let output =
        lockscope().args(["check", "--database-url", &db.url]).arg(dir.path()).current_dir(&nested).output().unwrap();
    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("lock timeout"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Which lock_timeout was in force is what the report says, not how long it took: the
    // migration's 2s was overridden by lockscope.toml's 300ms (with the 5s default, the
    // migration's lower 2s would have been kept and nothing said).
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("lockscope kept its own 300ms"), "{stdout}");

    // A broken configuration is bad input: exit 2, naming the file and line.
    std::fs::write(project.path().join("lockscope.toml"), "[rules]\nLS001 = \"off\"\nLS777 = \"low\"\n").unwrap();
    let output =
        lockscope().args(["check", "--database-url", &db.url]).arg(dir.path()).current_dir(&nested).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("lockscope.toml:3:") && stderr.contains("LS777"), "{stderr}");
}

#[tokio::test]
async fn check_table_report_shows_status_and_downgrades() {
    let db = seeded().await;
    let dir = migrations(&[
        ("001_a.up.sql", "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note TYPE varchar(200);"),
        ("001_a.down.sql", "SELECT 1;"),
    ]);
    let output = lockscope()
        .args(["check", "--no-color", "--database-url", &db.url])
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("LS113 alter-column-type [not observed]"), "{stdout}");
    assert!(stdout.contains("downgraded to low: the trace did not show it"), "{stdout}");
}
