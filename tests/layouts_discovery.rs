//! Migration layouts as their tools write them (`tests/fixtures/layouts/<tool>`): detection,
//! order, up/down pairing, declared no-transaction mode, and the errors for folders lockscope
//! will not guess about.

mod common;
mod support;

use std::path::PathBuf;

use lockscope::source::{self, Layout, Migration};
use support::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layouts").join(name)
}

fn discover(name: &str) -> source::Discovery {
    source::discover_with(&[fixture(name)], None).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn versions(migrations: &[Migration]) -> Vec<&str> {
    migrations.iter().map(|m| m.version.as_str()).collect()
}

fn file_name(path: &std::path::Path) -> String {
    let parent = path.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    if matches!(name.as_str(), "up.sql" | "down.sql" | "migration.sql") {
        format!("{parent}/{name}")
    } else {
        name
    }
}

/// What each fixture must come out as: layout, versions in run order, which have a down, which
/// are declared no-transaction.
#[test]
fn every_layout_is_detected_ordered_and_paired() {
    struct Expected {
        fixture: &'static str,
        layout: Layout,
        versions: &'static [&'static str],
        down: &'static [bool],
        no_transaction: &'static [bool],
    }
    let cases = [
        Expected {
            fixture: "golang-migrate",
            layout: Layout::GolangMigrate,
            versions: &["1", "2", "10"],
            down: &[true, true, true],
            no_transaction: &[false, false, false],
        },
        Expected {
            fixture: "goose",
            layout: Layout::Goose,
            versions: &["00001", "00002", "00003"],
            down: &[true, true, true],
            no_transaction: &[false, false, true],
        },
        Expected {
            fixture: "dbmate",
            layout: Layout::Dbmate,
            versions: &["20240101000000", "20240102000000", "20240103000000"],
            down: &[true, true, true],
            no_transaction: &[false, false, true],
        },
        Expected {
            fixture: "flyway",
            layout: Layout::Flyway,
            versions: &["1", "1.1", "2", ""],
            down: &[false, true, false, false],
            no_transaction: &[false, false, true, false],
        },
        Expected {
            fixture: "sqlx",
            layout: Layout::Sqlx,
            versions: &["20240101000000", "20240102000000", "20240103000000"],
            down: &[true, true, true],
            no_transaction: &[false, false, true],
        },
        Expected {
            fixture: "sqlx-simple",
            layout: Layout::Sqlx,
            versions: &["1", "2", "3"],
            down: &[false, false, false],
            no_transaction: &[false, false, true],
        },
        Expected {
            fixture: "diesel",
            layout: Layout::Diesel,
            versions: &["20240101000000", "20240102000000", "20240103000000"],
            down: &[true, true, true],
            no_transaction: &[false, false, true],
        },
        Expected {
            fixture: "prisma",
            layout: Layout::Prisma,
            versions: &["20240101000000", "20240102000000", "20240103000000"],
            down: &[false, false, false],
            no_transaction: &[false, false, false],
        },
        Expected {
            fixture: "plain",
            layout: Layout::PlainNumbered,
            versions: &["001", "002", "010"],
            down: &[false, false, false],
            no_transaction: &[false, false, false],
        },
    ];
    for case in cases {
        let discovery = discover(case.fixture);
        assert_eq!(discovery.layout, case.layout, "{}", case.fixture);
        assert!(discovery.detected);
        let migrations = &discovery.migrations;
        assert_eq!(versions(migrations), case.versions, "{}", case.fixture);
        let down: Vec<bool> = migrations.iter().map(|m| m.down.is_some()).collect();
        assert_eq!(down, case.down, "{}: down scripts", case.fixture);
        let no_transaction: Vec<bool> = migrations.iter().map(|m| m.no_transaction).collect();
        assert_eq!(no_transaction, case.no_transaction, "{}: no-transaction", case.fixture);
        for migration in migrations {
            if let Some(down) = &migration.down {
                // A down script belongs to its own up: same file for goose/dbmate, same folder or stem otherwise.
                let up = migration.up.as_ref().unwrap();
                assert!(
                    down.path == up.path
                        || down.path.parent() == up.path.parent()
                            && (case.layout == Layout::Diesel
                                || file_name(&down.path).replace("down", "up").replace("U1_1", "V1_1")
                                    == file_name(&up.path)),
                    "{}: {} paired with {}",
                    case.fixture,
                    up.path.display(),
                    down.path.display()
                );
            }
        }
    }
}

#[test]
fn ledger_identities_follow_each_tool() {
    let flyway = discover("flyway");
    assert!(flyway.migrations[3].repeatable);
    assert_eq!(flyway.migrations[3].ledger_id, "users view");
    assert_eq!(flyway.migrations[1].name, "add email");
    let prisma = discover("prisma");
    assert_eq!(prisma.migrations[0].ledger_id, "20240101000000_create_users");
    let diesel = discover("diesel");
    assert_eq!(diesel.migrations[0].ledger_id, "20240101000000");
    // dbmate's down of the no-transaction migration runs in a transaction: options are per section.
    let dbmate = discover("dbmate");
    assert!(dbmate.migrations[2].up.as_ref().unwrap().no_transaction);
    assert!(!dbmate.migrations[2].down.as_ref().unwrap().no_transaction);
}

#[test]
fn goose_and_dbmate_sections_keep_the_files_line_numbers() {
    let plan = lockscope::plan::plan_with(&[fixture("goose")], lockscope::source::Direction::Up, None, true).unwrap();
    let lines: Vec<usize> = plan.migrations[0].statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, [2, 9, 17], "CREATE TABLE, the StatementBegin function, CREATE TRIGGER");
    let down = plan.downs[0].as_ref().unwrap();
    let lines: Vec<usize> = down.statements.iter().map(|s| s.line).collect();
    assert_eq!(lines, [20, 21]);
    assert!(down.statements[0].sql.starts_with("DROP TABLE users"));

    let plan =
        lockscope::plan::plan_with(&[fixture("dbmate")], lockscope::source::Direction::Down, None, false).unwrap();
    assert_eq!(plan.migrations[0].version, "20240103000000", "down runs newest first");
    assert_eq!(plan.migrations[0].statements[0].line, 6);
}

#[test]
fn forcing_a_layout_that_does_not_fit_names_the_file() {
    let output = lockscope().args(["check", "--layout", "goose"]).arg(fixture("golang-migrate")).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    // goose would read `10_index_email.down.sql` as version 10 and refuse it for the same reason.
    assert!(stderr.contains("10_index_email") && stderr.contains("-- +goose Up"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = lockscope().args(["check", "--layout", "flyway"]).arg(fixture("plain")).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("001_create_users.sql") && stderr.contains("V<version>__<description>.sql"), "{stderr}");
}

#[test]
fn an_unknown_layout_lists_the_known_ones() {
    let output = lockscope().args(["check", "--layout", "liquibase"]).arg(fixture("plain")).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for layout in ["golang-migrate", "goose", "dbmate", "flyway", "sqlx", "diesel", "prisma", "plain"] {
        assert!(stderr.contains(layout), "{layout} missing from: {stderr}");
    }
}

#[test]
fn mixed_layouts_are_refused_before_any_database_contact() {
    let dir = migrations(&[
        ("V1__create.sql", "CREATE TABLE a (id int);"),
        ("2_more.up.sql", "CREATE TABLE b (id int);"),
        ("2_more.down.sql", "DROP TABLE b;"),
    ]);
    // Nothing listens on port 1: a connection attempt would be a different error.
    let output = lockscope()
        .args(["check", "--database-url", "postgres://nobody@127.0.0.1:1/nothing"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("mixed migration layouts") && stderr.contains("V1__create.sql"), "{stderr}");
    assert!(!stderr.contains("could not connect"), "{stderr}");
}

#[test]
fn a_project_root_finds_the_tools_default_folder() {
    assert_eq!(
        discover("dbmate").migrations[0].any_path(),
        fixture("dbmate/db/migrations/20240101000000_create_users.sql")
    );
    assert_eq!(
        discover("prisma").migrations[0].any_path(),
        fixture("prisma/prisma/migrations/20240101000000_create_users/migration.sql")
    );
    // One migration folder, or its migration.sql, on its own.
    let one = fixture("diesel/migrations/2024-01-02-000000_add_email");
    let single = source::discover_with(&[one.join("up.sql")], None).unwrap();
    assert_eq!((single.layout, versions(&single.migrations)), (Layout::Diesel, vec!["20240102000000"]));
}

/// Every layout's declared no-transaction migration is reported, not executed, on a dry-run
/// target; everything else runs. Without a ledger on the target, every migration is checked.
#[tokio::test]
async fn declared_no_transaction_is_honoured_on_a_dry_run_target() {
    for (name, no_transaction_version) in [
        ("goose", "00003"),
        ("dbmate", "20240103000000"),
        ("flyway", "2"),
        ("sqlx", "20240103000000"),
        ("sqlx-simple", "3"),
        ("diesel", "20240103000000"),
    ] {
        let db = common::fresh_database().await;
        let mut conn = db.connect().await;
        let before = fingerprint(&mut conn, &[]).await;
        let output = lockscope()
            .args(["check", "--format", "json", "--fail-on", "never", "--database-url", &db.url])
            .arg(fixture(name))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["mode"], "dry-run");
        assert_eq!(report["pending"]["ledger_found"], false, "{name}");
        for migration in report["migrations"].as_array().unwrap() {
            for statement in migration["statements"].as_array().unwrap() {
                let declared = migration["version"] == no_transaction_version;
                assert_eq!(statement["executed"], !declared, "{name} {}: {}", migration["version"], statement["sql"]);
                if declared && statement["kind"] == "ANALYZE" {
                    // Runnable in a transaction, but the migration says it must not be in one.
                    let reason = statement["not_executed_reason"].as_str().unwrap_or_default();
                    assert!(reason.contains("declared to run outside a transaction"), "{name}: {reason}");
                }
                if declared {
                    let reason = statement["not_executed_reason"].as_str().unwrap_or_default();
                    assert!(
                        reason.contains("declared to run outside a transaction")
                            || reason.contains("cannot run inside a transaction block"),
                        "{name}: {reason}"
                    );
                    assert!(
                        statement["locks"].as_array().unwrap().iter().all(|l| l["source"] == "inferred"),
                        "{name}: {}",
                        statement["locks"]
                    );
                }
            }
        }
        assert_eq!(before, fingerprint(&mut conn, &[]).await, "{name}: the dry-run left a trace");
    }
}
