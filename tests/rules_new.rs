//! The rules added for issue #15, against a real PostgreSQL:
//! - LS133–LS137: each bad example triggers its rule and each good one does not, as `lockscope
//!   lint` and as a trace of rules/seed.sql, with what the trace shows (the scan, the lock); and
//!   what the target's catalogues add (an INVALID index left by a failed CREATE INDEX
//!   CONCURRENTLY, a table in a publication);
//! - LS201–LS205 and LS301–LS303: catalogue entries like every rule (listed, explained,
//!   configurable), their examples through `lockscope check`, their findings made from the
//!   entries, and `lockscope:ignore` / `lockscope.toml` applied to them by
//!   `analyze::late::suppress_late`.

mod common;

use std::path::Path;

use lockscope::analyze::config::Config;
use lockscope::analyze::Finding;
use lockscope::analyze::{self, catalogue, Options, Status, TableStats, TargetFacts, NEWEST_PG};
use lockscope::source::Direction;
use lockscope::sql::Execution;
use lockscope::trace::{self, Mode, TraceOptions, TracedBackend};
use serde_json::Value;

const SEED: &str = include_str!("../rules/seed.sql");

fn write_example(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, body) in catalogue::example_files(text) {
        std::fs::write(dir.path().join(name), body).expect("write example");
    }
    dir
}

fn rule(id: &str) -> &'static analyze::Rule {
    catalogue::find(id).unwrap_or_else(|| panic!("no rule {id}"))
}

fn lockscope(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lockscope"));
    command.current_dir(dir);
    command
}

/// `lockscope lint --format json` of the example: its findings.
fn lint(text: &str) -> Vec<Value> {
    let dir = write_example(text);
    let output = lockscope(dir.path())
        .args(["lint", "--format", "json", "--fail-on", "never"])
        .arg(dir.path())
        .output()
        .expect("run lockscope lint");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    report["findings"].as_array().unwrap().clone()
}

fn lint_rules(text: &str) -> Vec<String> {
    lint(text).iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

/// A fresh database with rules/seed.sql, then `setup` (run as separate simple queries, so a
/// CREATE INDEX CONCURRENTLY there runs outside a transaction; errors are ignored: a failing
/// concurrent build is how a test leaves an INVALID index).
async fn seeded(setup: &[&str]) -> common::TestDb {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    for sql in setup {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&mut conn).await;
    }
    db
}

/// Traces the example on `db` (as tests/rules_examples.rs does) with table sizes and target
/// facts read first, and returns every finding.
async fn trace_on(db: &common::TestDb, text: &str) -> Vec<Finding> {
    let mut conn = db.connect().await;
    let dir = write_example(text);
    let paths = [dir.path().to_path_buf()];
    let plan = lockscope::plan::plan(&paths, Direction::Up).expect("plan");
    let stats = TableStats::fetch(&mut conn, plan.iter().flat_map(|m| m.statements.iter())).await.expect("sizes");
    let facts = TargetFacts::fetch(&mut conn, plan.iter().flat_map(|m| m.statements.iter())).await.expect("facts");
    let all = || plan.iter().flat_map(|m| m.statements.iter());
    let scratch = all().any(|s| matches!(s.summary.execution, Execution::NotInTransaction { .. }));
    let options = TraceOptions { mode: if scratch { Mode::Scratch } else { Mode::DryRun }, ..TraceOptions::default() };
    let traced = trace::run(&db.target, &plan, &options, &TracedBackend::default()).await.expect("trace");
    let pairings = analyze::pairings(&lockscope::source::discover(&paths).expect("discover"));
    let options = Options { pairings, stats, facts, ..Options::default() };
    let assessment = analyze::analyze(&plan, &traced, &options);
    assessment.findings().cloned().collect()
}

fn of<'a>(findings: &'a [Finding], id: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == id).collect()
}

/// The rule's bad example triggers it in lint and in a trace; its good example triggers it in
/// neither. Returns the traced findings of the bad example.
async fn examples_both_ways(id: &str) -> Vec<Finding> {
    let rule = rule(id);
    assert!(lint_rules(rule.bad).iter().any(|r| r == id), "lint: {id}'s bad example does not trigger it");
    assert!(!lint_rules(rule.good).iter().any(|r| r == id), "lint: {id}'s good example triggers it");
    let bad = trace_on(&seeded(&[]).await, rule.bad).await;
    assert!(!of(&bad, id).is_empty(), "trace: {id}'s bad example does not trigger it: {bad:#?}");
    let good = trace_on(&seeded(&[]).await, rule.good).await;
    assert!(of(&good, id).is_empty(), "trace: {id}'s good example triggers it: {:#?}", of(&good, id));
    bad
}

#[tokio::test]
async fn ls133_the_trace_shows_the_partition_scanned() {
    let bad = examples_both_ways("LS133").await;
    let found = of(&bad, "LS133");
    assert_eq!(found[0].status, Status::Confirmed, "{found:#?}");
    assert!(found[0].evidence.iter().any(|e| e.contains("rows of public.events_2024")), "{found:#?}");
    assert_eq!(found[0].severity, analyze::Severity::High);
}

#[tokio::test]
async fn ls133_a_check_that_does_not_imply_the_bound_is_caught_by_the_trace() {
    // A validated CHECK, but on another column: lint cannot tell, the server scans anyway.
    let text = rule("LS133")
        .good
        .replace("CHECK (created_at >= '2024-01-01' AND created_at < '2025-01-01')", "CHECK (id > 0)");
    assert!(!lint_rules(&text).iter().any(|r| r == "LS133"), "statically a validated CHECK counts");
    let found = trace_on(&seeded(&[]).await, &text).await;
    let mine = of(&found, "LS133");
    assert_eq!(mine.len(), 1, "{found:#?}");
    assert_eq!(mine[0].status, Status::Confirmed);
    assert!(mine[0].message.contains("does not imply the partition bound"), "{}", mine[0].message);
}

#[tokio::test]
async fn ls134_the_trace_shows_the_write_blocking_lock() {
    let bad = examples_both_ways("LS134").await;
    let found = of(&bad, "LS134");
    assert_eq!(found[0].status, Status::Confirmed, "{found:#?}");
    assert!(found[0].evidence.iter().any(|e| e.contains("public.orders")), "{found:#?}");
}

#[tokio::test]
async fn ls135_is_static_without_an_invalid_index() {
    let bad = examples_both_ways("LS135").await;
    let found = of(&bad, "LS135");
    assert_eq!((found[0].status, found[0].severity), (Status::Static, analyze::Severity::Medium), "{found:#?}");
    assert!(found[0].help.starts_with("DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;"), "{}", found[0].help);
}

#[tokio::test]
async fn ls135_an_invalid_index_on_the_target_makes_it_high() {
    // A unique index built concurrently on duplicate data fails and stays behind, INVALID.
    let db = seeded(&["CREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (status)"]).await;
    let mut conn = db.connect().await;
    let valid: bool =
        sqlx::query_scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass")
            .fetch_one(&mut conn)
            .await
            .expect("the failed build left the index");
    assert!(!valid);
    let found = trace_on(&db, rule("LS135").bad).await;
    let mine = of(&found, "LS135");
    assert_eq!(mine.len(), 1, "{found:#?}");
    assert_eq!((mine[0].status, mine[0].severity), (Status::Confirmed, analyze::Severity::High));
    assert!(
        mine[0].evidence[0].contains("public.users_email_idx") && mine[0].evidence[0].contains("indisvalid = false")
    );
    // The server indeed keeps the invalid index: the statement only prints a NOTICE.
    sqlx::raw_sql("CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email)")
        .execute(&mut conn)
        .await
        .expect("IF NOT EXISTS skips");
    let valid: bool =
        sqlx::query_scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_idx'::regclass")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!valid, "IF NOT EXISTS kept the INVALID index");
    // The good example drops it first: no finding.
    let found = trace_on(
        &seeded(&["CREATE UNIQUE INDEX CONCURRENTLY users_email_idx ON users (status)"]).await,
        rule("LS135").good,
    )
    .await;
    assert!(of(&found, "LS135").is_empty(), "{found:#?}");
}

#[tokio::test]
async fn ls136_the_migrations_own_publication() {
    let bad = examples_both_ways("LS136").await;
    let found = of(&bad, "LS136");
    assert_eq!(found[0].status, Status::Static, "{found:#?}");
    assert!(found[0].message.contains("orders_cdc"), "{}", found[0].message);
}

const DROP_ORDERS_PKEY: &str = "SET lock_timeout = '2s';\nALTER TABLE orders DROP CONSTRAINT orders_pkey;\n";

#[tokio::test]
async fn ls136_a_publication_on_the_target() {
    // CREATE PUBLICATION works at any wal_level (the test server runs with the default, replica).
    let db = seeded(&["CREATE PUBLICATION cdc FOR TABLE orders"]).await;
    let found = trace_on(&db, DROP_ORDERS_PKEY).await;
    let mine = of(&found, "LS136");
    assert_eq!(mine.len(), 1, "{found:#?}");
    assert_eq!((mine[0].status, mine[0].severity), (Status::Confirmed, analyze::Severity::High));
    assert!(mine[0].evidence.iter().any(|e| e.contains("publication cdc (publishes update, delete)")), "{mine:#?}");
    assert!(mine[0].evidence.iter().any(|e| e.contains("primary key orders_pkey")), "{mine:#?}");
    assert!(!lint_rules(DROP_ORDERS_PKEY).contains(&"LS136".to_string()), "lint knows of no publication");

    // What the rule warns about, on the server: UPDATE fails once the key is gone.
    let mut conn = db.connect().await;
    sqlx::raw_sql("ALTER TABLE orders DROP CONSTRAINT orders_pkey").execute(&mut conn).await.unwrap();
    let err = sqlx::raw_sql("UPDATE orders SET quantity = 2 WHERE id = 1").execute(&mut conn).await.unwrap_err();
    assert!(err.to_string().contains("does not have a replica identity and publishes updates"), "{err}");
}

#[tokio::test]
async fn ls136_not_for_inserts_only_or_unpublished_tables() {
    let inserts = seeded(&["CREATE PUBLICATION cdc FOR TABLE orders WITH (publish = 'insert')"]).await;
    assert!(of(&trace_on(&inserts, DROP_ORDERS_PKEY).await, "LS136").is_empty());
    let other = seeded(&["CREATE PUBLICATION cdc FOR TABLE users"]).await;
    assert!(of(&trace_on(&other, DROP_ORDERS_PKEY).await, "LS136").is_empty());
    // FULL identity does not depend on the key.
    let full = seeded(&["CREATE PUBLICATION cdc FOR ALL TABLES", "ALTER TABLE orders REPLICA IDENTITY FULL"]).await;
    assert!(of(&trace_on(&full, DROP_ORDERS_PKEY).await, "LS136").is_empty());
}

#[tokio::test]
async fn ls136_dropping_the_identity_index_found_on_the_target() {
    let db = seeded(&[
        "CREATE UNIQUE INDEX orders_id_key ON orders (id)",
        "ALTER TABLE orders REPLICA IDENTITY USING INDEX orders_id_key",
        "CREATE PUBLICATION cdc FOR ALL TABLES",
    ])
    .await;
    let found = trace_on(&db, "SET lock_timeout = '2s';\nDROP INDEX orders_id_key;\n").await;
    let mine = of(&found, "LS136");
    assert_eq!(mine.len(), 1, "{found:#?}");
    assert!(mine[0].message.contains("the replica identity index"), "{}", mine[0].message);
    // The primary key is not the identity any more: dropping it is fine.
    assert!(of(&trace_on(&db, DROP_ORDERS_PKEY).await, "LS136").is_empty());
}

#[tokio::test]
async fn ls137_names_the_trigger_that_writes_into_the_new_table() {
    let bad = examples_both_ways("LS137").await;
    let found = of(&bad, "LS137");
    // A dry-run cannot see locks on a table the run itself created: the finding stays static.
    assert_eq!((found[0].status, found[0].severity), (Status::Static, analyze::Severity::Medium), "{found:#?}");
    assert!(found[0].message.contains("trigger orders_shadow_sync on orders"), "{found:#?}");
}

#[test]
fn rules_and_explain_know_every_new_rule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = lockscope(root).args(["rules"]).output().unwrap();
    let listed = String::from_utf8_lossy(&output.stdout).to_string();
    let ids = ["LS133", "LS134", "LS135", "LS136", "LS137", "LS201", "LS202", "LS203", "LS204", "LS205"];
    for id in ids.into_iter().chain(["LS301", "LS302", "LS303"]) {
        let rule = rule(id);
        let line = listed.lines().find(|l| l.starts_with(id)).unwrap_or_else(|| panic!("{id} not listed"));
        assert!(line.contains(rule.name) && line.contains(rule.severity.name()), "{line}");
        let output = lockscope(root).args(["explain", id]).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.starts_with(&format!("{id} {} — {}", rule.name, rule.title)), "{text}");
        assert!(text.contains(&format!("Bad (rules/{id}/bad.sql)")) && text.contains("Safe alternative"), "{text}");
        let by_name = lockscope(root).args(["explain", rule.name]).output().unwrap();
        assert_eq!(by_name.stdout, output.stdout);
    }
    let listed_late = listed.lines().filter(|l| l.starts_with("LS2") || l.starts_with("LS3")).count();
    assert_eq!(listed_late, 8);
    assert!(listed.lines().filter(|l| l.starts_with("LS2")).all(|l| l.contains("trace-only")));
}

#[test]
fn lockscope_toml_accepts_the_late_rules() {
    let config = Config::parse(
        Path::new("lockscope.toml"),
        "[rules]\nLS201 = \"off\"\ndown-destroys-data = \"critical\"\nLS136 = \"medium\"\n",
    )
    .expect("every new rule is a known rule");
    assert!(!config.enabled(rule("LS201")));
    assert_eq!(config.severity(rule("LS303")), Some(analyze::Severity::Critical));
    assert_eq!(config.severity(rule("LS136")), Some(analyze::Severity::Medium));
}

/// `lockscope check --format json` of the example on `db`: the report.
fn check_json(db: &common::TestDb, text: &str, extra: &[&str]) -> Value {
    let dir = write_example(text);
    let output = lockscope(dir.path())
        .args(["check", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
        .args(extra)
        .arg(dir.path())
        .output()
        .expect("run lockscope check");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(0 | 2)), "{stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}: {stderr}"))
}

fn report_findings<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["findings"].as_array().unwrap().iter().filter(|f| f["rule"] == id).collect()
}

/// The workload reads through orders_created_at_idx (idx_scan > 0 once the session's statistics
/// are flushed).
async fn use_created_at_index(db: &common::TestDb) {
    let mut workload = db.connect().await;
    sqlx::raw_sql("SET enable_seqscan = off; SELECT * FROM orders WHERE created_at = now() - interval '1 day'")
        .execute(&mut workload)
        .await
        .unwrap();
    drop(workload);
    let mut conn = db.connect().await;
    for _ in 0..100 {
        let scans: i64 = sqlx::query_scalar(
            "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'orders_created_at_idx'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if scans > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the index scans never reached pg_stat_user_indexes");
}

/// Each late rule's bad example, through `lockscope check`, reports it from its catalogue
/// entry (name, help); its good example does not.
#[tokio::test]
async fn late_rules_examples_through_check() {
    let invalid_email_key = "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (status)";
    for id in ["LS201", "LS202", "LS203", "LS204", "LS205", "LS301", "LS302", "LS303"] {
        let rule = rule(id);
        let extra: &[&str] = if id.starts_with("LS3") { &["--reversible"] } else { &[] };
        let setup: &[&str] = if id == "LS205" { &[invalid_email_key] } else { &[] };
        let db = seeded(setup).await;
        if id == "LS201" {
            use_created_at_index(&db).await;
        }
        let report = check_json(&db, rule.bad, extra);
        let found = report_findings(&report, id);
        assert!(!found.is_empty(), "{id}: the bad example does not trigger it: {:#}", report["findings"]);
        for finding in &found {
            assert_eq!(finding["name"], rule.name, "{id}");
            assert_eq!(finding["status"], "trace-only", "{id}");
        }
        assert!(found.iter().any(|f| f["help"] == rule.fix), "{id}: help comes from the catalogue: {found:#?}");
        let db = seeded(&[]).await;
        let report = check_json(&db, rule.good, extra);
        assert!(
            report_findings(&report, id).is_empty(),
            "{id}: the good example triggers it: {:#}",
            report["findings"]
        );
    }
}

/// What `check` will do once the lead wires `suppress_late` in after index usage and
/// --reversible: an ignore directive on the statement drops the late finding (and the LS902 the
/// engine wrote before the finding existed); the configuration disables or reweighs them.
#[tokio::test]
async fn ignores_and_configuration_reach_the_late_findings() {
    let db = seeded(&[]).await;
    let text = "-- lockscope:ignore LS203 kept until the old index is dropped next release\n\
                CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_idx ON orders (created_at);\n\
                -- file: 002_second.up.sql\n\
                CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_created_again_idx ON orders (created_at);\n";
    let text = format!("-- file: 001_first.up.sql\n{text}");
    let dir = write_example(&text);
    let paths = [dir.path().to_path_buf()];
    let plan = lockscope::plan::plan(&paths, Direction::Up).expect("plan");
    let run = |config: Config| {
        let plan = plan.clone();
        let db = &db;
        async move {
            let mut conn = db.connect().await;
            let options = lockscope::introspect::IntrospectOptions {
                measure: lockscope::introspect::Measure::Nothing,
                definitions: lockscope::introspect::Definitions::Nothing,
            };
            let existing = lockscope::introspect::introspect(&mut conn, &options).await.expect("introspect");
            let options = TraceOptions { mode: Mode::Scratch, ..TraceOptions::default() };
            let traced = trace::run(&db.target, &plan, &options, &TracedBackend::default()).await.expect("trace");
            let analyze_options = Options { config: config.clone(), pg_version: Some(NEWEST_PG), ..Options::default() };
            let mut assessment = analyze::analyze(&plan, &traced, &analyze_options);
            lockscope::analyze::impact::index_usage::check(&traced, &mut assessment, &existing, &existing, "target");
            let before: Vec<(String, usize)> =
                assessment.findings().map(|f| (f.rule.clone(), f.line.unwrap_or_default())).collect();
            analyze::late::suppress_late_in(&mut assessment, &traced, &plan, &config);
            let after: Vec<Finding> = assessment.findings().cloned().collect();
            (before, after)
        }
    };
    let (before, after) = run(Config::default()).await;
    // Before: LS203 on both statements, and LS902 for the directive (the engine ran first).
    assert_eq!(before.iter().filter(|(r, _)| r == "LS203").count(), 2, "{before:?}");
    assert!(before.iter().any(|(r, _)| r == "LS902"), "{before:?}");
    let ls203: Vec<&Finding> = of(&after, "LS203");
    assert_eq!(ls203.len(), 1, "{after:#?}");
    assert!(ls203[0].path.as_deref().is_some_and(|p| p.ends_with("002_second.up.sql")));
    assert!(of(&after, "LS902").is_empty(), "the directive matched a late finding: {after:#?}");

    let config = Config::parse(Path::new("lockscope.toml"), "[rules]\nduplicate-index = \"critical\"\n").unwrap();
    let (_, after) = run(config).await;
    assert_eq!(of(&after, "LS203")[0].severity, analyze::Severity::Critical);
    let config = Config::parse(Path::new("lockscope.toml"), "[rules]\nLS203 = \"off\"\n").unwrap();
    let (_, after) = run(config).await;
    assert!(of(&after, "LS203").is_empty());
}
