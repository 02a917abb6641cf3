//! Bad input never gets as far as a database: each case is a clear error naming the file (and
//! line), exit code 2, no panic. The target URL points nowhere, so any attempt to connect would
//! show up as a connection error instead.

mod support;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use support::lockscope;

const NOWHERE: &str = "postgres://nobody@127.0.0.1:9/never_contacted";

fn check(paths: &[&Path], extra: &[&str]) -> (i32, String) {
    let output = lockscope().args(["check", "--database-url", NOWHERE]).args(extra).args(paths).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.stdout.is_empty(), "no report for bad input: {}", String::from_utf8_lossy(&output.stdout));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("could not connect"), "bad input must be caught before connecting: {stderr}");
    (output.status.code().unwrap_or(-1), stderr)
}

fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn assert_error(dir: &tempfile::TempDir, expected_location: &str, expected_text: &str) {
    let (code, stderr) = check(&[dir.path()], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(expected_location), "expected {expected_location:?} in {stderr}");
    assert!(stderr.to_lowercase().contains(&expected_text.to_lowercase()), "expected {expected_text:?} in {stderr}");
}

#[test]
fn empty_file() {
    let dir = dir_with(&[("001_a.up.sql", b""), ("001_a.down.sql", b"SELECT 1;")]);
    assert_error(&dir, "001_a.up.sql:1", "no SQL statements");
}

#[test]
fn only_comments() {
    let dir = dir_with(&[("001_a.up.sql", b"-- nothing yet\n/* still nothing */\n"), ("001_a.down.sql", b"SELECT 1;")]);
    assert_error(&dir, "001_a.up.sql:1", "no SQL statements");
}

#[test]
fn non_utf8_bytes() {
    let dir = dir_with(&[("001_a.up.sql", b"SELECT 1;\nSELECT 'caf\xe9';\n"), ("001_a.down.sql", b"SELECT 1;")]);
    assert_error(&dir, "001_a.up.sql:2:", "UTF-8");
}

#[test]
fn nul_bytes() {
    let dir = dir_with(&[("001_a.up.sql", b"SELECT 1;\nSELECT \0 2;\n"), ("001_a.down.sql", b"SELECT 1;")]);
    assert_error(&dir, "001_a.up.sql:2:", "NUL");
}

#[test]
fn unterminated_dollar_quote() {
    let dir = dir_with(&[
        ("001_a.up.sql", b"SELECT 1;\nCREATE FUNCTION f() RETURNS int AS $$\n  SELECT 1;\n"),
        ("001_a.down.sql", b"SELECT 1;"),
    ]);
    assert_error(&dir, "001_a.up.sql:2:", "unterminated");
}

#[test]
fn a_50_mb_file() {
    let dir = tempfile::tempdir().unwrap();
    let big = "INSERT INTO t VALUES (1);\n".repeat(50 * 1024 * 1024 / 26 + 1);
    fs::write(dir.path().join("001_big.up.sql"), big).unwrap();
    fs::write(dir.path().join("001_big.down.sql"), "SELECT 1;").unwrap();
    assert_error(&dir, "001_big.up.sql:1", "MiB");
}

#[test]
fn a_directory_of_10000_files_with_one_bad() {
    let dir = tempfile::tempdir().unwrap();
    for version in 1..=5000 {
        fs::write(dir.path().join(format!("{version:05}_m.up.sql")), "SELECT 1;").unwrap();
        fs::write(dir.path().join(format!("{version:05}_m.down.sql")), "SELECT 1;").unwrap();
    }
    fs::write(dir.path().join("04321_m.up.sql"), "SELECT 1;\nSELEC 2;\n").unwrap();
    // How long this takes is a figure of benches/lint.rs ("10,000 files, one bad"), not a test.
    assert_error(&dir, "04321_m.up.sql:2:", "syntax error");
}

#[test]
fn symlink_loop() {
    let dir = dir_with(&[("001_a.up.sql", b"SELECT 1;"), ("001_a.down.sql", b"SELECT 1;")]);
    symlink(dir.path().join("002_loop.up.sql"), dir.path().join("002_loop.up.sql")).unwrap();
    assert_error(&dir, "002_loop.up.sql", "symbolic links");
}

#[test]
fn unreadable_file() {
    let dir = dir_with(&[("001_a.up.sql", b"SELECT 1;"), ("001_a.down.sql", b"SELECT 1;")]);
    let path = dir.path().join("001_a.up.sql");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let mut command = lockscope();
    command.args(["check", "--database-url", NOWHERE]).arg(dir.path());
    // root reads anything; check as an unprivileged user when running as root.
    if nix::unistd::geteuid().is_root() {
        let nobody = nix::unistd::User::from_name("nobody").unwrap().expect("a nobody user");
        std::os::unix::process::CommandExt::uid(&mut command, nobody.uid.as_raw());
        std::os::unix::process::CommandExt::gid(&mut command, nobody.gid.as_raw());
        // The binary lives under target/, which must be reachable by nobody.
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("001_a.up.sql") && stderr.contains("Permission denied"), "{stderr}");
}

#[test]
fn missing_down_when_tracing_down() {
    let dir =
        dir_with(&[("001_a.up.sql", b"SELECT 1;"), ("001_a.down.sql", b"SELECT 1;"), ("002_b.up.sql", b"SELECT 1;")]);
    let (code, stderr) = check(&[dir.path()], &["--direction", "down"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("002_b.up.sql") && stderr.contains("no down file"), "{stderr}");
}

#[test]
fn duplicate_versions() {
    let dir = dir_with(&[("001_a.up.sql", b"SELECT 1;"), ("1_b.up.sql", b"SELECT 1;")]);
    assert_error(&dir, "1_b.up.sql", "duplicate migration version");
}

#[test]
fn unknown_layout() {
    let dir = dir_with(&[("add_users.sql", b"SELECT 1;"), ("fix_orders.sql", b"SELECT 1;")]);
    let (code, stderr) = check(&[dir.path()], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("add_users.sql") || stderr.contains("fix_orders.sql"), "{stderr}");
}

#[test]
fn missing_path() {
    let (code, stderr) = check(&[Path::new("/definitely/not/here")], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/definitely/not/here"), "{stderr}");
}
