//! Test harness: one real PostgreSQL per test binary, a fresh database per test.
//!
//! Provisioning order (DESIGN.md, "Testing"):
//! 1. `LOCKSCOPE_TEST_DATABASE_URL`: a server URL whose user may create databases and roles;
//! 2. an ephemeral cluster from local binaries ([`EphemeralServer`]), started once per test
//!    binary and stopped (directory deleted) when the test process exits;
//! 3. testcontainers: not wired up, there is no Docker engine where lockscope is built;
//! 4. otherwise every test panics saying how to provide a server. Nothing passes by skipping.
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
        Server::External { admin, url } => {
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

enum Server {
    External {
        url: url::Url,
        admin: Target,
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
    if let Some(text) = std::env::var("LOCKSCOPE_TEST_DATABASE_URL").ok().filter(|text| !text.trim().is_empty()) {
        let url = url::Url::parse(text.trim()).map_err(|err| {
            format!("LOCKSCOPE_TEST_DATABASE_URL must be a postgres:// URL ({err}): {}", db::redact(&text))
        })?;
        let admin = db::parse_target(text.trim(), TargetSource::Flag)
            .map_err(|err| format!("LOCKSCOPE_TEST_DATABASE_URL: {err}"))?;
        return Ok(Server::External { url, admin });
    }

    let server = EphemeralServer::start_with(StartOptions { listen_on_localhost: true }).map_err(|err| {
        format!(
            "no PostgreSQL could be provisioned for the integration tests:\n\
             - LOCKSCOPE_TEST_DATABASE_URL is not set (a server URL whose user may create \
             databases, e.g. postgres://postgres:secret@localhost:5432/postgres);\n\
             - the embedded throwaway server failed: {err};\n\
             - testcontainers is not used (no Docker engine).\n\
             Fix: install the PostgreSQL server (`apt-get install postgresql`; .ci/run does it), \
             or set LOCKSCOPE_PG_BINDIR to a directory holding initdb and postgres, or set \
             LOCKSCOPE_TEST_DATABASE_URL. Tests do not pass by skipping."
        )
    })?;
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

extern "C" fn stop_shared_server() {
    let _ = std::panic::catch_unwind(|| {
        if let Some(Ok(Server::Ephemeral { server, .. })) = SERVER.get() {
            let stopped = server.lock().unwrap_or_else(PoisonError::into_inner).take();
            drop(stopped);
        }
    });
}
