//! Every rule's examples, both ways: the bad example (rules/<ID>/bad.sql) triggers the rule and the
//! good example does not — as `lockscope lint` (the binary, no database) and as a trace on the
//! real server, loaded with rules/seed.sql. A traced bad example is never "not observed": the
//! server must not contradict the rule's own example.

mod common;

use std::path::Path;
use std::time::Duration;

use lockscope::analyze::config::Config;
use lockscope::analyze::Finding;
use lockscope::analyze::{self, catalogue, Options, RuleKind, Status, TableStats, TargetFacts, NEWEST_PG};
use lockscope::source::Direction;
use lockscope::sql::Execution;
use lockscope::trace::{self, Mode, TraceOptions, TracedBackend};

const SEED: &str = include_str!("../rules/seed.sql");

fn write_example(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, body) in catalogue::example_files(text) {
        std::fs::write(dir.path().join(name), body).expect("write example");
    }
    dir
}

fn pg_of(text: &str) -> u32 {
    catalogue::example_pg_version(text).unwrap_or(NEWEST_PG)
}

/// Rule ids `lockscope lint --format json` reports for the example.
fn lint_rules(text: &str) -> Vec<String> {
    let dir = write_example(text);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(["lint", "--format", "json", "--fail-on", "never", "--pg-version", &pg_of(text).to_string()])
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .expect("run lockscope lint");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["mode"], "lint");
    report["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

/// Traces the example on a fresh database loaded with the seed and returns its findings; `Err`
/// when `check` refuses the input. `blocked`: another session holds ACCESS SHARE on `users` for
/// the first 600 ms, so the example has to wait for it.
async fn trace_findings(text: &str, blocked: bool) -> Result<Vec<Finding>, String> {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(SEED).execute(&mut conn).await.expect("seed");
    let dir = write_example(text);
    let paths = [dir.path().to_path_buf()];
    let plan = lockscope::plan::plan(&paths, Direction::Up).map_err(|err| err.to_string())?;
    let statements = plan.iter().flat_map(|m| m.statements.iter());
    let stats = TableStats::fetch(&mut conn, statements).await.expect("table sizes");
    let facts = TargetFacts::fetch(&mut conn, plan.iter().flat_map(|m| m.statements.iter())).await.expect("facts");
    // Statements a dry-run cannot execute (CONCURRENTLY, VACUUM) run for real in scratch mode:
    // the database is this test's own.
    // (Not when the file wraps them in BEGIN … COMMIT: PostgreSQL refuses that anyway.)
    let all = || plan.iter().flat_map(|m| m.statements.iter());
    let needs_scratch = all().any(|s| matches!(s.summary.execution, Execution::NotInTransaction { .. }))
        && !all().any(|s| s.summary.tx == lockscope::sql::TxControl::Begin);
    let mode = if needs_scratch { Mode::Scratch } else { Mode::DryRun };
    let holder = if blocked {
        let mut holder = db.connect().await;
        sqlx::raw_sql("BEGIN; LOCK TABLE users IN ACCESS SHARE MODE").execute(&mut holder).await.expect("lock");
        Some(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(600)).await;
            sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.expect("release");
        }))
    } else {
        None
    };
    let options = TraceOptions { mode, ..TraceOptions::default() };
    let traced = trace::run(&db.target, &plan, &options, &TracedBackend::default()).await.expect("trace");
    if let Some(holder) = holder {
        holder.await.expect("holder");
    }
    let mut config = Config::default();
    config.thresholds.large_table_rows = 1000;
    let pairings = analyze::pairings(&lockscope::source::discover(&paths).expect("discover"));
    // The seed is real data on this test's own target: its sizes are real numbers.
    let options = Options {
        config,
        pg_version: catalogue::example_pg_version(text),
        stats,
        pairings,
        sizes_from: Some(analyze::SizeSource::Target),
        facts,
        ..Options::default()
    };
    let assessment = analyze::analyze(&plan, &traced, &options);
    Ok(assessment.findings().cloned().collect())
}

async fn check_rule(id: &str) {
    let rule = catalogue::find(id).unwrap_or_else(|| panic!("no rule {id}"));

    let bad = lint_rules(rule.bad);
    if rule.kind == RuleKind::TraceOnly {
        assert!(!bad.iter().any(|r| r == id), "{id} is trace-only but lint reported it");
    } else {
        assert!(bad.iter().any(|r| r == id), "lint: {id}'s bad example does not trigger it: {bad:?}");
    }
    let good = lint_rules(rule.good);
    assert!(!good.iter().any(|r| r == id), "lint: {id}'s good example triggers it");

    match trace_findings(rule.bad, id == analyze::LOCK_WAIT).await {
        Ok(found) => {
            let mine: Vec<&Finding> = found.iter().filter(|f| f.rule == id).collect();
            assert!(!mine.is_empty(), "trace: {id}'s bad example does not trigger it: {found:#?}");
            for finding in mine {
                assert_ne!(finding.status, Status::NotObserved, "trace: the server contradicts {id}: {finding:#?}");
                if rule.kind == RuleKind::TraceOnly {
                    assert_eq!(finding.status, Status::TraceOnly);
                }
            }
        }
        // A down script without its up script is bad input for `check`: it names the file.
        Err(err) if id == "LS102" => assert!(err.contains("has no up file"), "{err}"),
        Err(err) => panic!("trace: {id}'s bad example was refused: {err}"),
    }
    let found = trace_findings(rule.good, false).await.unwrap_or_else(|err| panic!("{id}: {err}"));
    let mine: Vec<&Finding> = found.iter().filter(|f| f.rule == id).collect();
    assert!(mine.is_empty(), "trace: {id}'s good example triggers it: {mine:#?}");
}

macro_rules! rule_tests {
    ($($name:ident => $id:literal),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                check_rule($id).await;
            }
        )*

        #[test]
        fn every_rule_has_an_example_test() {
            let tested = [$($id),*];
            // Index usage and --reversible findings are made after the trace, outside the rule
            // engine: tests/rules_new.rs runs their examples through `lockscope check`.
            for rule in catalogue::all().iter().filter(|rule| !analyze::late::is_late(rule)) {
                assert!(tested.contains(&rule.id), "{} has no example test here", rule.id);
            }
        }
    };
}

rule_tests! {
    ls001_exclusive_rewrite_or_scan => "LS001",
    ls002_lock_wait => "LS002",
    ls101_up_without_down => "LS101",
    ls102_down_without_up => "LS102",
    ls103_statements_without_transaction => "LS103",
    ls104_concurrently_in_transaction => "LS104",
    ls105_create_without_if_not_exists => "LS105",
    ls106_drop_without_if_exists => "LS106",
    ls107_create_index_without_concurrently => "LS107",
    ls108_drop_index_without_concurrently => "LS108",
    ls109_reindex_without_concurrently => "LS109",
    ls110_add_column_not_null_without_default => "LS110",
    ls111_add_column_volatile_default => "LS111",
    ls112_add_column_stored_generated_or_identity => "LS112",
    ls113_alter_column_type => "LS113",
    ls114_set_not_null => "LS114",
    ls115_constraint_without_not_valid => "LS115",
    ls116_validate_in_same_transaction => "LS116",
    ls117_unique_without_using_index => "LS117",
    ls118_rename_column_or_table => "LS118",
    ls119_drop_column => "LS119",
    ls120_drop_table => "LS120",
    ls121_drop_constraint => "LS121",
    ls122_unbatched_update_delete => "LS122",
    ls123_backfill_in_ddl_transaction => "LS123",
    ls124_missing_lock_timeout => "LS124",
    ls125_statements_after_access_exclusive => "LS125",
    ls126_vacuum_full_or_cluster => "LS126",
    ls127_json_column => "LS127",
    ls128_enum_change => "LS128",
    ls129_truncate_cascade => "LS129",
    ls130_exclusion_constraint => "LS130",
    ls131_detach_partition_without_concurrently => "LS131",
    ls132_needs_newer_postgres => "LS132",
    ls133_attach_partition_without_check => "LS133",
    ls134_disable_trigger_all => "LS134",
    ls135_concurrently_if_not_exists => "LS135",
    ls136_drop_replica_identity_in_publication => "LS136",
    ls137_index_on_filled_new_table => "LS137",
    ls901_ignore_without_reason => "LS901",
    ls902_unused_ignore => "LS902",
}

#[test]
fn the_seed_is_the_schema_the_examples_use() {
    // Examples name only tables the seed creates (or create their own).
    for table in ["users", "orders", "events", "events_2024", "audit_log", "order_state"] {
        assert!(SEED.contains(table), "{table}");
    }
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/seed.sql").is_file());
}
