//! The harness's container path (tests/common/mod.rs, provisioning step 3): with
//! `LOCKSCOPE_TEST_PROVIDER=docker` the test server is a testcontainers container of the local
//! image (scripts/docker-image.sh), published on 127.0.0.1 only, on which fresh databases work
//! and the built binary runs a dry-run. These tests need a Docker engine, so they are ignored in
//! a plain `cargo test`; .ci/run runs them with `LOCKSCOPE_TEST_PROVIDER=docker … --ignored`
//! whenever its Docker engine is up (and says so loudly when it is not).

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;

const NEEDS_DOCKER: &str =
    "needs a Docker engine: LOCKSCOPE_TEST_PROVIDER=docker cargo test --test docker_provider -- --ignored";

fn assert_docker_provider() {
    assert_docker_provider_requested();
    assert_eq!(common::provider(), common::Provider::Docker);
}

#[tokio::test]
#[ignore = "needs a Docker engine: LOCKSCOPE_TEST_PROVIDER=docker cargo test --test docker_provider -- --ignored"]
async fn the_server_is_a_container_published_on_loopback_only() {
    assert_docker_provider();
    let (id, addresses) = common::container_details().expect("the docker provider has a container");
    assert!(!id.is_empty());
    assert_eq!(
        addresses,
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        "port 5432 of {id} must be published on 127.0.0.1 only"
    );

    let db = common::fresh_database().await;
    assert!(db.url.starts_with("postgres://postgres:"), "a TCP URL with a password: the container");
    assert!(db.url.contains("@127.0.0.1:"), "reached through the published port: {}", lockscope::db::redact(&db.url));
    let mut conn = db.connect().await;
    // The image's data directory (docker/entrypoint.sh), not an embedded cluster under /tmp.
    let data_directory: String = sqlx::query_scalar("SHOW data_directory").fetch_one(&mut conn).await.unwrap();
    assert_eq!(data_directory, "/var/lib/postgresql/data");
    // The harness's settings reached the server through the entrypoint's arguments.
    let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&mut conn).await.unwrap();
    assert_eq!(fsync, "off");
    let current: String = sqlx::query_scalar("SELECT current_database()").fetch_one(&mut conn).await.unwrap();
    assert_eq!(current, db.name);
}

#[tokio::test]
#[ignore = "needs a Docker engine: LOCKSCOPE_TEST_PROVIDER=docker cargo test --test docker_provider -- --ignored"]
async fn the_binary_dry_runs_against_the_container() {
    assert_docker_provider();
    let db = common::fresh_database().await;
    common::execute(
        &mut db.connect().await,
        "CREATE TABLE accounts (id bigint PRIMARY KEY, balance integer NOT NULL);
         INSERT INTO accounts SELECT g, g FROM generate_series(1, 5000) g;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("001_widen.up.sql"), "ALTER TABLE accounts ALTER COLUMN balance TYPE bigint;\n")
        .unwrap();
    std::fs::write(dir.path().join("001_widen.down.sql"), "ALTER TABLE accounts ALTER COLUMN balance TYPE integer;\n")
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_lockscope"))
        .args(["check", "--format", "json", "--database-url", &db.url])
        .arg(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(report["mode"], "dry-run");
    let rewrites: Vec<&serde_json::Value> = report["migrations"][0]["statements"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|statement| statement["rewrites"].as_array().unwrap())
        .collect();
    assert!(
        rewrites.iter().any(|rewrite| rewrite["relation"] == "public.accounts" && rewrite["relkind"] == "table"),
        "the container's server rewrote accounts: {rewrites:?}"
    );
    // Rolled back: the column is still an integer.
    let kind: String = sqlx::query_scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'balance'")
        .fetch_one(&mut db.connect().await)
        .await
        .unwrap();
    assert_eq!(kind, "integer");
}

const CHILD_ENV: &str = "LOCKSCOPE_TEST_FALLBACK_CHILD";

/// Not a test on its own: run by the next test in a child process, without
/// `LOCKSCOPE_TEST_PROVIDER`.
#[tokio::test]
#[ignore = "helper run in a child process by without_local_binaries_the_harness_falls_back_to_a_container"]
async fn fallback_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    assert!(std::env::var_os("LOCKSCOPE_TEST_PROVIDER").is_none());
    let db = common::fresh_database().await;
    db.connect().await;
    assert_eq!(common::provider(), common::Provider::Docker, "no local binaries, a Docker engine: the container path");
}

fn run_fallback_child(extra_env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--ignored", "--exact", "fallback_child", "--nocapture"])
        .env_remove("LOCKSCOPE_TEST_PROVIDER")
        .env_remove("LOCKSCOPE_TEST_DATABASE_URL")
        .env(CHILD_ENV, "1")
        .env("LOCKSCOPE_PG_BINDIR", "/nonexistent/lockscope-test");
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
#[ignore = "needs a Docker engine: LOCKSCOPE_TEST_PROVIDER=docker cargo test --test docker_provider -- --ignored"]
fn without_local_binaries_the_harness_falls_back_to_a_container_or_fails_loudly() {
    assert_docker_provider_requested();
    // Step 2 (local binaries) fails, a Docker engine answers: step 3 gives the server.
    let output = run_fallback_child(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");

    // No engine either: every test fails, naming all three paths and how to fix them.
    let output = run_fallback_child(&[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    let stdout = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "{stdout}");
    for words in [
        "no PostgreSQL could be provisioned",
        "LOCKSCOPE_TEST_DATABASE_URL is not set",
        "the embedded throwaway server failed",
        "no Docker engine for testcontainers (/nonexistent/docker.sock",
        "Tests do not pass by skipping",
    ] {
        assert!(stdout.contains(words), "{words:?} missing from: {stdout}");
    }
}

fn assert_docker_provider_requested() {
    assert_eq!(
        std::env::var("LOCKSCOPE_TEST_PROVIDER").as_deref(),
        Ok("docker"),
        "run these with LOCKSCOPE_TEST_PROVIDER=docker ({NEEDS_DOCKER})"
    );
}
