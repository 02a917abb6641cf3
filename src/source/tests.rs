use std::fs;
use std::path::{Path, PathBuf};

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

fn versions(migrations: &[Migration]) -> Vec<&str> {
    migrations.iter().map(|m| m.version.as_str()).collect()
}

#[test]
fn golang_migrate_folder_is_ordered_numerically_and_paired() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "10_c.up.sql", "select 1;");
    write(dir.path(), "10_c.down.sql", "select 1;");
    write(dir.path(), "2_b.up.sql", "select 1;");
    write(dir.path(), "1_a.up.sql", "select 1;");
    write(dir.path(), "1_a.down.sql", "select 1;");
    write(dir.path(), "README.md", "not a migration");
    let discovery = discover_with(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!((discovery.layout, discovery.detected), (Layout::GolangMigrate, true));
    let migrations = discovery.migrations;
    assert_eq!(versions(&migrations), ["1", "2", "10"]);
    assert!(migrations[0].down.is_some());
    assert!(migrations[1].down.is_none());
}

#[test]
fn mixed_layouts_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.up.sql", "select 1;");
    write(dir.path(), "2_b.sql", "select 1;");
    let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert!(err.contains("mixed migration layouts") && err.contains("2_b.sql"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1__a.sql", "select 1;");
    write(dir.path(), "2_b.sql", "-- +goose Up\nselect 1;");
    let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert!(err.contains("mixed migration layouts") && err.contains("goose") && err.contains("Flyway"), "{err}");
}

#[test]
fn unorderable_and_duplicate_names_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.sql", "select 1;");
    write(dir.path(), "fix.sql", "select 1;");
    write(dir.path(), "README.md", "# migrations");
    // In a folder, a file the tool would not run is left out and named, never refused.
    let discovery = discover_with(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(discovery.migrations.len(), 1);
    let notes = discovery.notes();
    assert!(notes.iter().any(|n| n.contains("fix.sql") && n.contains("no migration version")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("README.md") && n.contains("not a .sql file")), "{notes:?}");
    // A folder where no name gives an order is still an error.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fix.sql", "select 1;");
    let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert!(err.contains("fix.sql") && err.contains("no migration order"), "{err}");
    // Named one by one, any file is a migration, in the order given.
    let b = write(dir.path(), "b.sql", "select 2;");
    let a = write(dir.path(), "a.sql", "select 1;");
    let discovery = discover_with(&[b.clone(), a.clone()], None).unwrap();
    assert!(discovery.as_given);
    let order: Vec<PathBuf> = discovery.migrations.iter().map(|m| m.any_path()).collect();
    assert_eq!(order, vec![b, a]);

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.sql", "select 1;");
    write(dir.path(), "001_b.sql", "select 1;");
    let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert!(err.contains("duplicate migration version"), "{err}");
}

#[test]
fn a_single_up_file_brings_its_down() {
    let dir = tempfile::tempdir().unwrap();
    let up = write(dir.path(), "003_add_status.up.sql", "select 1;");
    write(dir.path(), "003_add_status.down.sql", "select 2;");
    let migrations = discover(&[up]).unwrap();
    assert_eq!(migrations.len(), 1);
    assert_eq!(migrations[0].down.as_ref().unwrap().text, "select 2;");
}

#[test]
fn non_utf8_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("1_a.sql");
    fs::write(&path, b"select 1;\nselect '\xff';\n").unwrap();
    let err = read_migration_file(&path).unwrap_err().to_string();
    assert!(err.contains("1_a.sql:2:9") && err.contains("UTF-8"), "{err}");
}

#[test]
fn forcing_a_layout_checks_every_name_against_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.sql", "select 1;");
    let discovery = discover_with(&[dir.path().to_path_buf()], Some(Layout::Sqlx)).unwrap();
    assert_eq!((discovery.layout, discovery.detected), (Layout::Sqlx, false));
    let err = discover_with(&[dir.path().to_path_buf()], Some(Layout::GolangMigrate)).unwrap_err().to_string();
    assert!(err.contains("1_a.sql") && err.contains("golang-migrate layout"), "{err}");
    let err = discover_with(&[dir.path().to_path_buf()], Some(Layout::Diesel)).unwrap_err().to_string();
    assert!(err.contains("no Diesel migrations") && err.contains("1_a.sql"), "{err}");
}

#[test]
fn sqlx_is_chosen_only_on_its_own_marker() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "1_a.sql", "select 1;");
    write(dir.path(), "2_b.sql", "-- no-transaction\ncreate index concurrently i on t (a);");
    let discovery = discover_with(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(discovery.layout, Layout::Sqlx);
    assert!(!discovery.migrations[0].no_transaction);
    assert!(discovery.migrations[1].no_transaction);
}

#[test]
fn folder_layouts() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "2023-01-02-000000_add_email/up.sql", "select 2;");
    write(dir.path(), "2023-01-02-000000_add_email/down.sql", "-- This file should undo anything in `up.sql`\n");
    write(dir.path(), "2023-01-01-000000_create_users/up.sql", "select 1;");
    write(dir.path(), "2023-01-01-000000_create_users/down.sql", "select -1;");
    write(dir.path(), "2023-01-01-000000_create_users/metadata.toml", "run_in_transaction = false\n");
    let discovery = discover_with(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(discovery.layout, Layout::Diesel);
    assert_eq!(versions(&discovery.migrations), ["20230101000000", "20230102000000"]);
    assert!(discovery.migrations[0].no_transaction && discovery.migrations[0].down.as_ref().unwrap().no_transaction);
    assert!(discovery.migrations[1].down.is_none(), "a down.sql with only a comment is no down");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "migration_lock.toml", "provider = \"postgresql\"\n");
    write(dir.path(), "20240102000000_b/migration.sql", "select 2;");
    write(dir.path(), "20240101000000_a/migration.sql", "select 1;");
    let migrations = discover(&[dir.path().join("20240101000000_a/migration.sql")]).unwrap();
    assert_eq!(migrations[0].ledger_id, "20240101000000_a");
    let discovery = discover_with(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(discovery.layout, Layout::Prisma);
    assert_eq!(versions(&discovery.migrations), ["20240101000000", "20240102000000"]);
    assert!(discovery.migrations.iter().all(|m| m.down.is_none()));
}

#[test]
fn flyway_orders_versions_numerically_pairs_undo_and_runs_repeatables_last() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "V1_10__later.sql", "select 3;");
    write(dir.path(), "V1_9__earlier.sql", "select 2;");
    write(dir.path(), "V1__first.sql", "select 1;");
    write(dir.path(), "U1_9__earlier.sql", "select -2;");
    write(dir.path(), "R__views.sql", "select 4;");
    write(dir.path(), "V1__first.sql.conf", "executeInTransaction=false\n");
    let discovery = discover_with(&[dir.path().to_path_buf()], None).unwrap();
    assert_eq!(discovery.layout, Layout::Flyway);
    let migrations = discovery.migrations;
    assert_eq!(versions(&migrations), ["1", "1.9", "1.10", ""]);
    assert!(migrations[0].no_transaction);
    assert!(migrations[1].down.is_some() && migrations[2].down.is_none());
    assert!(migrations[3].repeatable);
    assert_eq!(migrations[3].ledger_id, "views");
    assert_eq!(migrations[1].name, "earlier");

    write(dir.path(), "U7__orphan.sql", "select 1;");
    let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert!(err.contains("U7__orphan.sql") && err.contains("no V7__"), "{err}");
}

#[test]
fn has_sql_skips_comments() {
    assert!(!has_sql("-- nothing\n  /* still\nnothing */\n\n"));
    assert!(has_sql("-- x\nSELECT 1;"));
    assert!(!has_sql("\u{feff}"));
}
