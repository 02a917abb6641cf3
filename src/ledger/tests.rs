use super::*;
use crate::source::MigrationFile;

fn migration(layout: Layout, version: &str, contents: &str) -> Migration {
    let file = MigrationFile {
        path: format!("{version}.sql").into(),
        text: contents.into(),
        contents: contents.into(),
        no_transaction: false,
    };
    Migration {
        version: version.into(),
        name: "m".into(),
        layout,
        up: Some(file),
        down: None,
        no_transaction: false,
        ledger_id: version.into(),
        repeatable: false,
    }
}

fn read(tool: Layout, rows: LedgerRows) -> LedgerRead {
    LedgerRead { tool, table: Some("public.ledger".into()), rows: Some(rows), notes: Vec::new() }
}

#[test]
fn golang_migrate_everything_up_to_the_recorded_version_is_applied_and_dirty_is_loud() {
    let files: Vec<Migration> = ["1", "2", "10"].iter().map(|v| migration(Layout::GolangMigrate, v, "")).collect();
    let ledger = read(Layout::GolangMigrate, LedgerRows::GolangMigrate(vec![("2".into(), true)]));
    let decision = decide(Layout::GolangMigrate, &files, &ledger, false);
    assert_eq!(decision.check, [false, false, true]);
    assert_eq!(decision.report.skipped, ["1", "2"]);
    let dirty = decision.report.dirty.unwrap();
    assert_eq!(dirty.migration, "2");
    assert!(decision.report.notes[0].starts_with("DIRTY"), "{:?}", decision.report.notes);

    let decision = decide(Layout::GolangMigrate, &files, &ledger, true);
    assert_eq!(decision.check, [true, true, true]);
    assert!(decision.report.notes.iter().any(|n| n.starts_with("--all")), "{:?}", decision.report.notes);
}

#[test]
fn goose_latest_row_wins_and_out_of_order_is_noted() {
    let files: Vec<Migration> = ["1", "2", "3"].iter().map(|v| migration(Layout::Goose, v, "")).collect();
    let rows =
        vec![("0".into(), true), ("1".into(), true), ("2".into(), true), ("3".into(), true), ("2".into(), false)];
    let decision = decide(Layout::Goose, &files, &read(Layout::Goose, LedgerRows::Goose(rows)), false);
    assert_eq!(decision.check, [false, true, false]);
    assert_eq!(decision.report.out_of_order, ["2"]);
}

#[test]
fn flyway_checksums_baselines_undo_and_failures() {
    let v1 = migration(Layout::Flyway, "1", "CREATE TABLE a (id int);\n");
    let v2 = migration(Layout::Flyway, "1.1", "CREATE TABLE b (id int);\n");
    let v3 = migration(Layout::Flyway, "2", "CREATE TABLE c (id int);\n");
    let mut repeatable = migration(Layout::Flyway, "", "CREATE VIEW v AS SELECT 1;\n");
    repeatable.repeatable = true;
    repeatable.name = "views".into();
    let row =
        |rank: i64, version: Option<&str>, description: &str, kind: &str, checksum: Option<i64>, success: bool| {
            FlywayRow {
                installed_rank: rank,
                version: version.map(str::to_string),
                description: description.into(),
                kind: kind.into(),
                script: format!("V{}__x.sql", version.unwrap_or("")),
                checksum,
                success,
            }
        };
    let rows = vec![
        row(1, Some("1.0"), "a", "SQL", Some(i64::from(checksum::flyway("CREATE TABLE a (id int);\n"))), true),
        row(2, Some("1.1"), "b", "SQL", Some(12345), true),
        row(3, None, "views", "SQL", Some(i64::from(checksum::flyway("CREATE VIEW v AS SELECT 0;\n"))), true),
    ];
    let files = vec![v1, v2, v3, repeatable];
    let decision = decide(Layout::Flyway, &files, &read(Layout::Flyway, LedgerRows::Flyway(rows.clone())), false);
    assert_eq!(decision.check, [false, false, true, true]);
    assert_eq!(decision.report.checksum_mismatches.len(), 1);
    assert_eq!(decision.report.checksum_mismatches[0].migration, "1.1");
    assert_eq!(decision.report.checksum_mismatches[0].recorded, "12345");
    assert!(decision.report.notes.iter().any(|n| n.contains("R__views changed")), "{:?}", decision.report.notes);

    let mut undone = rows.clone();
    undone.push(row(4, Some("1.1"), "b", "UNDO_SQL", None, true));
    undone.push(row(5, Some("2"), "c", "SQL", None, false));
    let decision = decide(Layout::Flyway, &files, &read(Layout::Flyway, LedgerRows::Flyway(undone)), false);
    assert_eq!(decision.check, [false, true, true, true]);
    assert!(decision.report.dirty.unwrap().message.starts_with("FAILED"));

    let baseline = vec![row(1, Some("1.1"), "<< Flyway Baseline >>", "BASELINE", None, true)];
    let decision = decide(Layout::Flyway, &files, &read(Layout::Flyway, LedgerRows::Flyway(baseline)), false);
    assert_eq!(decision.check, [false, false, true, true]);
}

#[test]
fn sqlx_and_prisma_checksums() {
    let files = vec![migration(Layout::Sqlx, "1", "select 1;"), migration(Layout::Sqlx, "2", "select 2;")];
    let rows = vec![
        SqlxRow {
            version: 1,
            description: "a".into(),
            success: true,
            checksum: checksum::hex(&checksum::sqlx("select 0;")),
        },
        SqlxRow { version: 2, description: "b".into(), success: false, checksum: String::new() },
    ];
    let decision = decide(Layout::Sqlx, &files, &read(Layout::Sqlx, LedgerRows::Sqlx(rows)), false);
    assert_eq!(decision.check, [false, true]);
    assert_eq!(decision.report.checksum_mismatches[0].migration, "1");
    assert_eq!(decision.report.dirty.unwrap().migration, "2");

    let mut a = migration(Layout::Prisma, "20240101000000", "CREATE TABLE a ();\n");
    a.ledger_id = "20240101000000_a".into();
    let mut b = migration(Layout::Prisma, "20240102000000", "CREATE TABLE b ();\n");
    b.ledger_id = "20240102000000_b".into();
    let rows = vec![
        PrismaRow {
            migration_name: "20240101000000_a".into(),
            checksum: checksum::prisma("CREATE TABLE a ();\n"),
            finished: true,
            rolled_back: false,
            logs: None,
        },
        PrismaRow {
            migration_name: "20240102000000_b".into(),
            checksum: String::new(),
            finished: false,
            rolled_back: true,
            logs: None,
        },
    ];
    let decision = decide(Layout::Prisma, &[a, b], &read(Layout::Prisma, LedgerRows::Prisma(rows)), false);
    assert_eq!(decision.check, [false, true]);
    assert!(decision.report.checksum_mismatches.is_empty());
    assert_eq!(decision.report.skipped, ["20240101000000_a"]);
}

#[test]
fn no_ledger_checks_everything_and_says_why() {
    let files = vec![migration(Layout::Dbmate, "20240101", "")];
    let ledger = LedgerRead::none(Layout::Dbmate, "no dbmate ledger on the target");
    let decision = decide(Layout::Dbmate, &files, &ledger, false);
    assert_eq!(decision.check, [true]);
    assert!(!decision.report.ledger_found);
    assert_eq!(decision.report.notes, ["no dbmate ledger on the target"]);
}
