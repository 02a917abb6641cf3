//! Connecting to real PostgreSQL: targets, application_name, secrets kept out of errors, TLS
//! errors, and the embedded throwaway server's lifecycle.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lockscope::db::ephemeral::EphemeralServer;
use lockscope::db::{self, TargetSource};
use lockscope::Error;
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use sqlx::Connection;

async fn current_database(connection: &mut sqlx::PgConnection) -> String {
    sqlx::query_scalar("SELECT current_database()").fetch_one(connection).await.unwrap()
}

#[tokio::test]
async fn connects_to_a_fresh_database_through_target_and_url() {
    let test_db = common::fresh_database().await;
    let mut connection = test_db.connect().await;
    assert_eq!(current_database(&mut connection).await, test_db.name);

    // The URL works the way a user passes it to the CLI.
    let from_flag = db::resolve_target(Some(&test_db.url)).unwrap().unwrap();
    assert_eq!(from_flag.source, TargetSource::Flag);
    let mut connection = db::connect(&from_flag, "lockscope-test").await.unwrap();
    assert_eq!(current_database(&mut connection).await, test_db.name);
}

#[tokio::test]
async fn fresh_databases_are_separate() {
    let first = common::fresh_database().await;
    let second = common::fresh_database().await;
    assert_ne!(first.name, second.name);
    common::execute(&mut first.connect().await, "CREATE TABLE only_here (id int)").await;
    let visible: Option<String> = sqlx::query_scalar("SELECT to_regclass('public.only_here')::text")
        .fetch_one(&mut second.connect().await)
        .await
        .unwrap();
    assert_eq!(visible, None);
}

#[tokio::test]
async fn application_name_is_visible_in_pg_stat_activity() {
    let test_db = common::fresh_database().await;
    let mut traced = db::connect(&test_db.target, "lockscope-check").await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut traced).await.unwrap();

    let mut observer = test_db.connect().await;
    let seen: String = sqlx::query_scalar("SELECT application_name FROM pg_stat_activity WHERE pid = $1")
        .bind(pid)
        .fetch_one(&mut observer)
        .await
        .unwrap();
    assert_eq!(seen, "lockscope-check");
}

#[tokio::test]
async fn wrong_password_error_does_not_contain_the_password() {
    let test_db = common::fresh_database().await;
    let role = common::unique_name("lockscope_role");
    let right = "r1ght:p@ss/w%rd?#&'\"";
    let wrong = "wr0ng:p@ss/w%rd?#&";
    let mut admin = common::admin_connection().await;
    common::execute(
        &mut admin,
        &format!("CREATE ROLE {} LOGIN PASSWORD '{}'", common::quote_ident(&role), right.replace('\'', "''")),
    )
    .await;

    // The role and the TCP path work with the right password, so the failure below is the
    // password's doing.
    let good = db::parse_target(&common::tcp_url(&role, right, &test_db.name), TargetSource::Flag).unwrap();
    assert!(!good.display.contains("r1ght"), "{}", good.display);
    db::connect(&good, "lockscope-test").await.unwrap().close().await.unwrap();

    let url = common::tcp_url(&role, wrong, &test_db.name);
    let bad = db::parse_target(&url, TargetSource::Flag).unwrap();
    let err = db::connect(&bad, "lockscope-test")
        .await
        .expect_err("the server accepted a wrong password; it must use password authentication");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let shown = format!("{err}\n{err:?}\n{bad:?}");
    assert!(shown.contains("password authentication failed"), "{shown}");
    for secret in ["wr0ng", "r1ght", "p@ss", "p%40ss"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains(&role), "the message should name the role: {shown}");

    if !common::uses_embedded_server() {
        common::execute(&mut admin, &format!("DROP ROLE {}", common::quote_ident(&role))).await;
    }
}

#[tokio::test]
async fn unreachable_server_error_names_the_target_without_its_password() {
    // A port that nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target =
        db::parse_target(&format!("postgres://app:s3cr%40t@127.0.0.1:{port}/staging"), TargetSource::DatabaseUrlEnv)
            .unwrap();
    let err = db::connect(&target, "lockscope-test").await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&format!("could not connect to postgres://app@127.0.0.1:{port}/staging")), "{text}");
    assert!(!text.contains("s3cr"), "{text}");
}

#[tokio::test]
async fn sslmode_require_against_a_server_without_tls_is_a_clear_error() {
    let test_db = common::fresh_database().await;
    let mut connection = test_db.connect().await;
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&mut connection).await.unwrap();
    let role = common::unique_name("lockscope_tls");
    let password = "tls-test-password";
    let mut admin = common::admin_connection().await;
    common::execute(&mut admin, &format!("CREATE ROLE {} LOGIN PASSWORD '{password}'", common::quote_ident(&role)))
        .await;
    let base = common::tcp_url(&role, password, &test_db.name);
    let separator = if base.contains('?') { '&' } else { '?' };

    let require = db::parse_target(&format!("{base}{separator}sslmode=require"), TargetSource::Flag).unwrap();
    let prefer = db::parse_target(&format!("{base}{separator}sslmode=prefer"), TargetSource::Flag).unwrap();
    db::connect(&prefer, "lockscope-test").await.expect("prefer falls back to plain TCP");
    let outcome = db::connect(&require, "lockscope-test").await;
    if ssl == "on" {
        // An external test server with TLS: require must then simply work.
        outcome.expect("sslmode=require against a TLS server");
    } else {
        let text = outcome.expect_err("sslmode=require without TLS must fail").to_string();
        assert!(text.contains("server does not support TLS"), "{text}");
        assert!(text.contains("sslmode requires TLS"), "{text}");
        assert!(!text.contains(password), "{text}");
    }
    if !common::uses_embedded_server() {
        common::execute(&mut admin, &format!("DROP ROLE {}", common::quote_ident(&role))).await;
    }
}

fn process_gone(pid: u32) -> bool {
    let pid = i32::try_from(pid).unwrap();
    if signal::kill(Pid::from_raw(pid), None).is_err() {
        return true;
    }
    // Orphans nobody reaps linger as zombies: they are not running.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

fn wait_until(deadline: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    condition()
}

#[tokio::test]
async fn ephemeral_server_stop_removes_its_directory_and_process() {
    let mut server = EphemeralServer::start().unwrap();
    let dir = server.dir().to_path_buf();
    let pid = server.postmaster_pid().unwrap();
    assert!(dir.join("data").join("PG_VERSION").is_file());
    assert!(server.version().starts_with(|c: char| c.is_ascii_digit()), "{}", server.version());
    assert!(server.dir().as_os_str().len() < 90, "socket path too long: {}", dir.display());
    // Its own process group: a terminal Ctrl-C reaches lockscope only.
    let postmaster = Pid::from_raw(pid as i32);
    assert_eq!(nix::unistd::getpgid(Some(postmaster)).unwrap(), postmaster);
    assert_ne!(nix::unistd::getpgid(None).unwrap(), postmaster);

    let target = server.target("postgres");
    assert_eq!(target.display, format!("embedded PostgreSQL {} (throwaway)", server.version()));
    let mut connection = db::connect(&target, "lockscope-test").await.unwrap();
    let version: String = sqlx::query_scalar("SHOW server_version").fetch_one(&mut connection).await.unwrap();
    assert!(version.starts_with(server.version()), "{version} vs {}", server.version());
    drop(connection);

    // Stopping from another thread, as a Ctrl-C handler would.
    let server = std::thread::spawn(move || {
        server.stop();
        server
    })
    .join()
    .unwrap();
    assert!(!dir.exists(), "{} survived stop()", dir.display());
    assert!(process_gone(pid), "postmaster {pid} survived stop()");
    drop(server); // stop() again, via Drop: idempotent.
}

#[tokio::test]
async fn two_ephemeral_servers_run_at_once() {
    let first = EphemeralServer::start().unwrap();
    let second = EphemeralServer::start().unwrap();
    assert_ne!(first.dir(), second.dir());
    let mut one = db::connect(&first.target("postgres"), "lockscope-test").await.unwrap();
    let mut two = db::connect(&second.target("postgres"), "lockscope-test").await.unwrap();
    common::execute(&mut one, "CREATE TABLE in_first (id int)").await;
    let seen: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('in_first')::text").fetch_one(&mut two).await.unwrap();
    assert_eq!(seen, None);
    let dirs = [first.dir().to_path_buf(), second.dir().to_path_buf()];
    drop((one, two, first, second));
    for dir in dirs {
        assert!(!dir.exists(), "{} survived drop", dir.display());
    }
}

const CHILD_ENV: &str = "LOCKSCOPE_TEST_EPHEMERAL_CHILD";

/// Not a test on its own: the body of the process that
/// `killed_owner_leaves_no_server_behind_and_its_directory_is_swept` kills.
#[test]
#[ignore = "helper run in a child process by killed_owner_leaves_no_server_behind…"]
fn ephemeral_child_process() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let server = EphemeralServer::start().unwrap();
    println!("READY {} {}", server.postmaster_pid().unwrap(), server.dir().display());
    // Killed long before this ends; bounded so a lost child cannot linger.
    std::thread::sleep(Duration::from_secs(120));
}

/// Whether `pid`, an orphan re-parented to this process, has exited (and reaps it).
fn orphan_exited(pid: u32) -> bool {
    match waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => false,
        Ok(_) => true,
        Err(_) => process_gone(pid),
    }
}

#[test]
fn killed_owner_leaves_no_server_behind_and_its_directory_is_swept() {
    // Orphans of the killed child come to us, so the test can reap the postmaster it checks on
    // instead of leaving a zombie behind.
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["ephemeral_child_process", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let ready = loop {
        match lines_rx.recv_timeout(Duration::from_secs(60)) {
            // libtest prints `test NAME ... ` before the helper's output, on the same line.
            Ok(line) if line.contains("READY ") => break line,
            Ok(_) => continue,
            Err(err) => {
                let _ = child.kill();
                panic!("the child never reported a running server: {err}");
            }
        }
    };
    let ready = &ready[ready.find("READY ").unwrap()..];
    let mut fields = ready.splitn(3, ' ').skip(1);
    let pid: u32 = fields.next().unwrap().parse().unwrap();
    let dir = PathBuf::from(fields.next().unwrap());
    assert!(!process_gone(pid));

    // SIGKILL: no destructor, no atexit hook runs in the child.
    signal::kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();

    assert!(wait_until(Duration::from_secs(20), || orphan_exited(pid)), "postmaster {pid} outlived its killed owner");
    // The next start sweeps what the killed run left.
    let server = EphemeralServer::start().unwrap();
    assert!(!dir.exists(), "{} was not swept", dir.display());
    drop(server);
}
