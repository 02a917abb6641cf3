//! Test harness: one real PostgreSQL per test binary, a fresh database per test.
//!
//! Provisioning order (docs/ARCHITECTURE.md, "Testing"):
//! 1. `LOCKSCOPE_TEST_DATABASE_URL`: a server URL whose user may create databases and roles;
//! 2. an ephemeral cluster from local binaries ([`EphemeralServer`]), started once per test
//!    binary and stopped (directory deleted) when the test process exits;
//! 3. a PostgreSQL container started with testcontainers when a Docker engine answers (image
//!    `LOCKSCOPE_TEST_DOCKER_IMAGE`, default `lockscope-pg:15` from scripts/docker-image.sh),
//!    its port published on 127.0.0.1 only, removed when the test process exits;
//! 4. otherwise every test panics saying how to provide a server. Nothing passes by skipping.
//!
//! `LOCKSCOPE_TEST_PROVIDER` forces one path: `url`, `local` or `docker` (.ci/run runs the
//! trace, safety and watch tests with `docker`, so the container path runs on every CI run).
//!
//! Use it from an integration test with `mod common;`.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use lockscope::db::ephemeral::{EphemeralServer, StartOptions};
use lockscope::db::{self, Target, TargetSource};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

/// The `application_name` of every test connection.
pub const APPLICATION_NAME: &str = "lockscope-test";

/// A database of its own for one test.
#[derive(Debug)]
pub struct TestDb {
    /// Where the database is, as the library sees a target.
    pub target: Target,
    /// A URL for the same database that the CLI accepts as `--database-url` (for the embedded
    /// server: `postgres://postgres@localhost:PORT/NAME?host=/tmp/lockscope-pg-…`).
    pub url: String,
    /// The database's name.
    pub name: String,
}

impl TestDb {
    /// A new connection to this database, `application_name` = [`APPLICATION_NAME`].
    pub async fn connect(&self) -> PgConnection {
        db::connect(&self.target, APPLICATION_NAME)
            .await
            .unwrap_or_else(|err| panic!("could not connect to test database {}: {err}", self.name))
    }
}

impl Drop for TestDb {
    /// Databases on a shared external server are dropped; the embedded cluster goes as a whole.
    fn drop(&mut self) {
        if let Server::External { admin, .. } = server() {
            let admin = admin.clone();
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name));
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                runtime.block_on(async {
                    let mut connection = db::connect(&admin, APPLICATION_NAME).await.ok()?;
                    sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut connection).await.ok()?;
                    connection.close().await.ok()
                })
            })
            .join();
        }
    }
}

/// Creates a new, uniquely named database on the test server.
pub async fn fresh_database() -> TestDb {
    let name = unique_name("lockscope_test");
    let mut admin = admin_connection().await;
    execute(&mut admin, &format!("CREATE DATABASE {}", quote_ident(&name))).await;
    let _ = admin.close().await;
    let (target, url) = match server() {
        Server::External { admin, url, .. } => {
            let mut url = url.clone();
            url.set_path(&name);
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(key, _)| key != "dbname")
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
            url.query_pairs_mut().clear().extend_pairs(kept);
            (admin.with_database(&name), url.to_string())
        }
        Server::Ephemeral { server, .. } => {
            let guard = server.lock().unwrap_or_else(PoisonError::into_inner);
            let server = guard.as_ref().expect("the shared server runs until exit");
            (server.target(&name), server.url(&name))
        }
    };
    TestDb { target, url, name }
}

/// A superuser (or database-creating) connection to the test server's maintenance database.
pub async fn admin_connection() -> PgConnection {
    let admin = match server() {
        Server::External { admin, .. } | Server::Ephemeral { admin, .. } => admin,
    };
    db::connect(admin, APPLICATION_NAME)
        .await
        .unwrap_or_else(|err| panic!("could not open an admin connection to the test server: {err}"))
}

/// A URL reaching the test server over TCP as `user` with `password`, for tests of password and
/// TLS handling. The embedded server listens on 127.0.0.1 with scram-sha-256 for TCP.
pub fn tcp_url(user: &str, password: &str, dbname: &str) -> String {
    let mut url = match server() {
        Server::External { url, .. } => url.clone(),
        Server::Ephemeral { tcp_port, .. } => {
            url::Url::parse(&format!("postgres://127.0.0.1:{tcp_port}")).expect("valid URL")
        }
    };
    url.set_username(&percent_encode(user)).expect("URL has a host");
    url.set_password(Some(&percent_encode(password))).expect("URL has a host");
    url.set_path(&percent_encode(dbname));
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !matches!(key.as_ref(), "dbname" | "user" | "password" | "sslmode"))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.to_string()
}

/// Whether the tests run on the embedded throwaway server (not `LOCKSCOPE_TEST_DATABASE_URL`).
pub fn uses_embedded_server() -> bool {
    matches!(server(), Server::Ephemeral { .. })
}

/// Where the test server came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// `LOCKSCOPE_TEST_DATABASE_URL`.
    Url,
    /// The embedded throwaway cluster from local binaries.
    LocalBinaries,
    /// A container started with testcontainers.
    Docker,
}

/// Which provisioning path gave this test binary its server (provisions it if needed).
pub fn provider() -> Provider {
    match server() {
        Server::External { container: Some(_), .. } => Provider::Docker,
        Server::External { .. } => Provider::Url,
        Server::Ephemeral { .. } => Provider::LocalBinaries,
    }
}

/// The container's id and the host addresses its port 5432 is published on (docker provider),
/// from the engine's own inspect data.
pub fn container_details() -> Option<(String, Vec<std::net::IpAddr>)> {
    match server() {
        Server::External { container: Some(container), .. } => {
            // Only `id()`: the blocking container's other methods may not run inside a runtime.
            let id = container.lock().unwrap_or_else(PoisonError::into_inner).as_ref()?.id().to_string();
            let addresses = published_addresses(&id);
            Some((id, addresses))
        }
        _ => None,
    }
}

/// Runs one statement, panicking with the statement and the error on failure.
pub async fn execute(connection: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
        .execute(connection)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
}

/// A name no other test, test binary or concurrent run uses: `PREFIX_PID_NANOS_N`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{nanos}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// `"name"`, with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Percent-encodes everything but unreserved characters, for URL user info and paths.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

type PgContainer = testcontainers::Container<testcontainers::GenericImage>;

enum Server {
    External {
        url: url::Url,
        admin: Target,
        /// The container behind it (docker provider); `None` once removed at exit.
        container: Option<Box<Mutex<Option<PgContainer>>>>,
    },
    Ephemeral {
        /// `None` once stopped at exit.
        server: Mutex<Option<EphemeralServer>>,
        admin: Target,
        tcp_port: u16,
    },
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

fn server() -> &'static Server {
    match SERVER.get_or_init(provision) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

fn provision() -> Result<Server, String> {
    let forced = std::env::var("LOCKSCOPE_TEST_PROVIDER").ok().map(|text| text.trim().to_ascii_lowercase());
    let url = std::env::var("LOCKSCOPE_TEST_DATABASE_URL").ok().filter(|text| !text.trim().is_empty());
    match forced.as_deref().filter(|name| !name.is_empty()) {
        None => {}
        Some("url") => {
            let url = url.ok_or("LOCKSCOPE_TEST_PROVIDER=url but LOCKSCOPE_TEST_DATABASE_URL is not set")?;
            return external(&url);
        }
        Some("local") => return local_binaries(),
        Some("docker") => {
            return container().map_err(|err| {
                format!("LOCKSCOPE_TEST_PROVIDER=docker, but no PostgreSQL container could be started: {err}")
            })
        }
        Some(other) => {
            return Err(format!("LOCKSCOPE_TEST_PROVIDER={other:?}: expected url, local or docker (or unset)"))
        }
    }
    if let Some(url) = url {
        return external(&url);
    }
    let local_error = match local_binaries() {
        Ok(server) => return Ok(server),
        Err(err) => err,
    };
    let docker_error = match docker_engine_answers() {
        Ok(()) => match container() {
            Ok(server) => return Ok(server),
            Err(err) => format!("a Docker engine answers, but the container failed: {err}"),
        },
        Err(why) => format!("no Docker engine for testcontainers ({why})"),
    };
    Err(format!(
        "no PostgreSQL could be provisioned for the integration tests:\n\
         - LOCKSCOPE_TEST_DATABASE_URL is not set (a server URL whose user may create \
         databases, e.g. postgres://postgres:secret@localhost:5432/postgres);\n\
         - the embedded throwaway server failed: {local_error};\n\
         - {docker_error}.\n\
         Fix: install the PostgreSQL server (`apt-get install postgresql`; .ci/run does it), \
         or set LOCKSCOPE_PG_BINDIR to a directory holding initdb and postgres, or set \
         LOCKSCOPE_TEST_DATABASE_URL, or start Docker and build the image with \
         scripts/docker-image.sh. Tests do not pass by skipping."
    ))
}

fn external(text: &str) -> Result<Server, String> {
    let url = url::Url::parse(text.trim()).map_err(|err| {
        format!("LOCKSCOPE_TEST_DATABASE_URL must be a postgres:// URL ({err}): {}", db::redact(text))
    })?;
    let admin = db::parse_target(text.trim(), TargetSource::Flag)
        .map_err(|err| format!("LOCKSCOPE_TEST_DATABASE_URL: {err}"))?;
    Ok(Server::External { url, admin, container: None })
}

fn local_binaries() -> Result<Server, String> {
    let server =
        EphemeralServer::start_with(StartOptions { listen_on_localhost: true }).map_err(|err| err.to_string())?;
    // The server outlives every test thread; libtest ends with exit(), which runs this hook.
    // SAFETY: registering a plain `extern "C" fn` that never unwinds.
    unsafe {
        libc::atexit(stop_shared_server);
    }
    Ok(Server::Ephemeral {
        admin: server.target("postgres"),
        tcp_port: server.localhost_port().expect("started with listen_on_localhost"),
        server: Mutex::new(Some(server)),
    })
}

/// The image of the docker provider: built locally by scripts/docker-image.sh (no registry is
/// needed); any image with the official postgres image's contract works (e.g. postgres:17).
fn docker_image() -> (String, String) {
    let name = std::env::var("LOCKSCOPE_TEST_DOCKER_IMAGE")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "lockscope-pg:15".into());
    match name.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
        Some((repository, tag)) => (repository.to_string(), tag.to_string()),
        None => (name, "latest".into()),
    }
}

/// What both the official image and docker/entrypoint.sh log once the final server (not the
/// temporary one that runs the init scripts) accepts TCP connections. The official image logs
/// it twice (temporary server and final one); ours once, since its temporary server logs to a
/// file (docker/entrypoint.sh).
const READY_LINE: &str = "database system is ready to accept connections";

/// Starts a PostgreSQL container, port 5432 published on 127.0.0.1 only (a random host port),
/// and waits for [`READY_LINE`] and a first connection.
fn container() -> Result<Server, String> {
    use testcontainers::core::{IntoContainerPort, WaitFor};
    use testcontainers::runners::SyncRunner;
    use testcontainers::{GenericImage, ImageExt};

    let (repository, tag) = docker_image();
    let password = format!("pw{}", unique_name("x"));
    let request = GenericImage::new(repository.clone(), tag.clone())
        .with_exposed_port(5432.tcp())
        .with_wait_for(WaitFor::message_on_stderr(READY_LINE))
        .with_env_var("POSTGRES_USER", "postgres")
        .with_env_var("POSTGRES_PASSWORD", password.clone())
        .with_env_var("POSTGRES_DB", "postgres")
        // The embedded server's settings (src/db/ephemeral.rs): a throwaway, fast cluster.
        .with_cmd([
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=32MB",
        ])
        .with_startup_timeout(std::time::Duration::from_secs(180))
        // Loopback only: testcontainers would bind all interfaces, and nothing reaches the
        // container's bridge address.
        .with_host_config_modifier(|host_config| {
            let binding = bollard_port_binding_on_loopback();
            host_config.port_bindings = Some([("5432/tcp".to_string(), Some(vec![binding]))].into_iter().collect());
            host_config.publish_all_ports = Some(false);
        });
    // On a plain thread: the blocking API runs its own runtime, which may not start (nor may the
    // container be dropped) inside the caller's.
    let image = format!("{repository}:{tag}");
    let (container, url, admin) = std::thread::spawn(move || -> Result<_, String> {
        let container = request.start().map_err(|err| {
            format!(
                "could not start {image}: {err} (build the local image with scripts/docker-image.sh, \
                 or set LOCKSCOPE_TEST_DOCKER_IMAGE to a postgres image)"
            )
        })?;
        let port = container.get_host_port_ipv4(5432).map_err(|err| format!("no port published for 5432: {err}"))?;
        let text = format!("postgres://postgres:{password}@127.0.0.1:{port}/postgres?sslmode=disable");
        let Server::External { url, admin, .. } = external(&text)? else { unreachable!("external() gives External") };
        // The official image logs READY_LINE for its temporary server too: connect first.
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|err| err.to_string())?;
        runtime
            .block_on(async {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                loop {
                    match db::connect(&admin, APPLICATION_NAME).await {
                        Ok(connection) => return connection.close().await.map_err(|err| err.to_string()),
                        Err(err) if std::time::Instant::now() > deadline => return Err(err.to_string()),
                        Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
                    }
                }
            })
            .map_err(|err| format!("{image} logged that it is ready, but: {err}"))?;
        Ok((container, url, admin))
    })
    .join()
    .map_err(|_| "testcontainers panicked".to_string())??;
    // SAFETY: registering a plain `extern "C" fn` that never unwinds.
    unsafe {
        libc::atexit(stop_shared_server);
    }
    Ok(Server::External { url, admin, container: Some(Box::new(Mutex::new(Some(container)))) })
}

fn bollard_port_binding_on_loopback() -> testcontainers::bollard::models::PortBinding {
    testcontainers::bollard::models::PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(String::new()) }
}

/// The host addresses the engine publishes container `id`'s port 5432 on (its inspect data).
fn published_addresses(id: &str) -> Vec<std::net::IpAddr> {
    let Ok(inspect) = engine_get(&format!("/containers/{id}/json")) else { return Vec::new() };
    let Ok(inspect) = serde_json::from_slice::<serde_json::Value>(&inspect) else { return Vec::new() };
    inspect["NetworkSettings"]["Ports"]["5432/tcp"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|binding| binding["HostIp"].as_str()?.parse().ok())
        .collect()
}

/// The Docker engine's Unix socket: `DOCKER_HOST=unix://…`, else /var/run/docker.sock.
fn docker_socket() -> Result<String, String> {
    match std::env::var("DOCKER_HOST").ok().filter(|host| !host.is_empty()) {
        Some(host) => match host.strip_prefix("unix://") {
            Some(path) => Ok(path.to_string()),
            None => Err(format!("DOCKER_HOST={host} is not a unix:// socket")),
        },
        None => Ok("/var/run/docker.sock".to_string()),
    }
}

/// The body of a `GET path` to the engine's API when it answers 200 within a few seconds.
fn engine_get(path: &str) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    let socket = docker_socket()?;
    let mut stream = std::os::unix::net::UnixStream::connect(&socket).map_err(|err| format!("{socket}: {err}"))?;
    let timeout = Some(std::time::Duration::from_secs(5));
    stream.set_read_timeout(timeout).and_then(|()| stream.set_write_timeout(timeout)).map_err(|err| err.to_string())?;
    // HTTP/1.0: the engine answers without chunking and closes the connection.
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").as_bytes())
        .map_err(|err| format!("{socket}: {err}"))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|err| format!("{socket}: {err}"))?;
    let split = answer.windows(4).position(|window| window == b"\r\n\r\n").unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..split]);
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(answer[(split + 4).min(answer.len())..].to_vec())
    } else {
        Err(format!("{socket} answered {status:?} to GET {path}"))
    }
}

/// Whether a Docker engine answers `GET /_ping`.
fn docker_engine_answers() -> Result<(), String> {
    engine_get("/_ping").map(drop)
}

extern "C" fn stop_shared_server() {
    let _ = std::panic::catch_unwind(|| match SERVER.get() {
        Some(Ok(Server::Ephemeral { server, .. })) => {
            let stopped = server.lock().unwrap_or_else(PoisonError::into_inner).take();
            drop(stopped);
        }
        Some(Ok(Server::External { container: Some(container), .. })) => {
            // Removes this container (by its id) and its anonymous volume; nothing else.
            if let Some(running) = container.lock().unwrap_or_else(PoisonError::into_inner).take() {
                let _ = running.rm();
            }
        }
        _ => {}
    });
}
