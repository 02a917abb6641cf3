//! Refusing dangerous targets, on a real hot standby: a streaming replica of an embedded primary
//! (pg_basebackup -R), which lockscope must refuse before anything runs. Its own test binary: it
//! starts two servers of its own.

mod support;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use lockscope::db::ephemeral::{find_bindir, EphemeralServer};

/// The unprivileged user the servers run as when the tests run as root (initdb refuses root).
fn run_as(command: &mut Command) {
    if nix::unistd::geteuid().is_root() {
        let user = nix::unistd::User::from_name("postgres").unwrap().expect("a postgres system user");
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
}

fn give_to_server_user(path: &Path) {
    if nix::unistd::geteuid().is_root() {
        let user = nix::unistd::User::from_name("postgres").unwrap().expect("a postgres system user");
        nix::unistd::chown(path, Some(user.uid), Some(user.gid)).unwrap();
    }
}

#[tokio::test]
async fn a_hot_standby_is_refused_before_anything_runs() {
    let primary = tokio::task::spawn_blocking(|| {
        EphemeralServer::start_with_settings(&[("full_page_writes", "on"), ("wal_level", "replica")])
    })
    .await
    .unwrap()
    .expect("an embedded primary (needs PostgreSQL server binaries)");
    let bindir = find_bindir().unwrap();
    let standby_dir = tempfile::Builder::new().prefix("lockscope-standby-").tempdir().unwrap();
    give_to_server_user(standby_dir.path());
    let data = standby_dir.path().join("data");

    let mut basebackup = Command::new(bindir.join("pg_basebackup"));
    basebackup
        .arg("-D")
        .arg(&data)
        .args(["-R", "-X", "stream", "-U", "postgres", "-h"])
        .arg(primary.dir())
        .args(["-p", &primary.port().to_string()]);
    run_as(&mut basebackup);
    let output = basebackup.output().unwrap();
    assert!(output.status.success(), "pg_basebackup: {}", String::from_utf8_lossy(&output.stderr));

    // The socket directory is private, so any port number is free in it.
    let port = 5432;
    let mut standby = Command::new(bindir.join("postgres"));
    standby
        .arg("-D")
        .arg(&data)
        .arg("-k")
        .arg(standby_dir.path())
        .args(["-p", &port.to_string(), "-c", "listen_addresses=", "-c", "fsync=off", "-c", "max_connections=200"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(standby_dir.path().join("standby.log")).unwrap())
        .process_group(0);
    run_as(&mut standby);
    let mut standby = standby.spawn().unwrap();

    let url = format!("postgres://postgres@localhost:{port}/postgres?host={}", standby_dir.path().display());
    let target = lockscope::db::parse_target(&url, lockscope::db::TargetSource::Flag).unwrap();
    let mut in_recovery = None;
    for _ in 0..150 {
        if let Ok(mut conn) = lockscope::db::connect(&target, "lockscope-test").await {
            in_recovery = sqlx::query_scalar::<_, bool>("SELECT pg_is_in_recovery()").fetch_one(&mut conn).await.ok();
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = std::fs::read_to_string(standby_dir.path().join("standby.log")).unwrap_or_default();
    let in_recovery = in_recovery.unwrap_or_else(|| panic!("the standby never accepted connections:\n{log}"));
    assert!(in_recovery, "the replica is a hot standby");

    let dir = support::migrations(&[
        ("001_a.up.sql", "CREATE TABLE on_standby (id int);"),
        ("001_a.down.sql", "DROP TABLE on_standby;"),
    ]);
    let output = support::lockscope().args(["check", "--database-url", &url]).arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(standby.id() as i32), nix::sys::signal::Signal::SIGINT);
    let _ = standby.wait();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("hot standby") && stderr.contains("read-only"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing ran, nothing reported");
    drop(primary);
}
