//! TLS against a real TLS server: a throwaway PostgreSQL with `ssl = on`, a certificate from a
//! throwaway CA made with `openssl`, and a `pg_hba.conf` that rejects every TCP login without TLS
//! (so each successful connection below is a TLS connection). The built binary's `check`,
//! `inspect` and `snapshot` connect with `sslmode=require`, `verify-ca` and `verify-full` plus
//! `sslrootcert=` (a managed database's everyday setup), with the password in the URL and in a
//! `.pgpass` file; a certificate for another host name fails `verify-full` with an error that
//! names the problem; no output ever shows the password.
//!
//! Server side: `ssl`, `ssl_cert_file`, `ssl_key_file` and `hba_file` are ordinary settings
//! (https://www.postgresql.org/docs/current/ssl-tcp.html, "Basic Setup"; the key file must be
//! owned by the server's user with mode 0600). Client side, what each sslmode checks:
//! https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock, PoisonError};

use lockscope::db::ephemeral::EphemeralServer;
use sqlx::Connection;

const ROLE: &str = "tls_app";
/// Recognisable in any output, with characters that need percent-encoding in a URL.
const PASSWORD: &str = "Tls-s3cr3t:p@ss/w%rd";
const DATABASE: &str = "shop";
/// The name in the certificate of the "wrong host" server; the tests reach it as localhost.
const OTHER_HOST: &str = "db.example.internal";

/// The throwaway CA and the certificates it signed, in one private directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// The CA that signed the servers' certificates (what a managed database hands out).
    fn ca(&self) -> PathBuf {
        self.path("ca.crt")
    }
    /// A CA that signed nothing the servers present.
    fn unrelated_ca(&self) -> PathBuf {
        self.path("unrelated-ca.crt")
    }
}

const OPENSSL_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = lockscope throwaway CA
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[localhost]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
[other_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:db.example.internal
authorityKeyIdentifier = keyid
";

fn openssl(dir: &Path, args: &[&str]) {
    let output =
        Command::new("openssl").current_dir(dir).args(args).output().unwrap_or_else(|err| {
            panic!("could not run openssl (install the `openssl` package; .ci/run has it): {err}")
        });
    assert!(
        output.status.success(),
        "openssl {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `NAME.key` (P-256) and a CA certificate `NAME.crt`, self-signed, valid for two days.
fn make_ca(dir: &Path, name: &str) {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    openssl(dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &key]);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-config",
            "openssl.cnf",
            "-extensions",
            "ca",
            "-key",
            &key,
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-out",
            &crt,
        ],
    );
}

/// `NAME.key` and `NAME.crt` signed by `ca`, with the extensions of config section `section`.
fn make_server_cert(dir: &Path, name: &str, section: &str, ca: &str) {
    let (key, csr, crt) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"));
    openssl(dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &key]);
    openssl(
        dir,
        &["req", "-new", "-config", "openssl.cnf", "-key", &key, "-subj", &format!("/CN={name}"), "-out", &csr],
    );
    let serial = format!("0x{:x}", std::process::id() as u64 * 1000 + section.len() as u64);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-set_serial",
            &serial,
            "-days",
            "2",
            "-extfile",
            "openssl.cnf",
            "-extensions",
            section,
            "-out",
            &crt,
        ],
    );
}

static PKI: OnceLock<Pki> = OnceLock::new();

fn pki() -> &'static Pki {
    PKI.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("lockscope-tls-").tempdir().expect("tempdir");
        fs::write(dir.path().join("openssl.cnf"), OPENSSL_CONFIG).unwrap();
        make_ca(dir.path(), "ca");
        make_ca(dir.path(), "unrelated-ca");
        make_server_cert(dir.path(), "localhost", "localhost", "ca");
        make_server_cert(dir.path(), "other-host", "other_host", "ca");
        // The server (the `postgres` user when we are root) reads the directory and its key.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let server_user = nix::unistd::Uid::effective()
            .is_root()
            .then(|| nix::unistd::User::from_name("postgres").ok().flatten().expect("a postgres user (see .ci/run)"));
        for name in ["localhost", "other-host"] {
            let key = dir.path().join(format!("{name}.key"));
            fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
            if let Some(user) = &server_user {
                nix::unistd::chown(&key, Some(user.uid), Some(user.gid)).unwrap();
            }
        }
        // TLS or nothing over TCP; the socket (the harness's own setup connection) stays trust.
        fs::write(
            dir.path().join("pg_hba.conf"),
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 scram-sha-256\n\
             hostnossl all all 127.0.0.1/32 reject\n",
        )
        .unwrap();
        Pki { dir }
    })
}

/// A running TLS server presenting `cert` (`localhost` or `other-host`), with role [`ROLE`]
/// owning database [`DATABASE`].
struct TlsServer {
    /// `None` once stopped at exit (the shared one) or when dropped.
    server: Mutex<Option<EphemeralServer>>,
    port: u16,
}

impl TlsServer {
    fn start(cert: &str) -> TlsServer {
        let pki = pki();
        let cert_file = pki.path(&format!("{cert}.crt")).display().to_string();
        let key_file = pki.path(&format!("{cert}.key")).display().to_string();
        let hba_file = pki.path("pg_hba.conf").display().to_string();
        let server = EphemeralServer::start_with_settings(&[
            ("listen_addresses", "127.0.0.1"),
            ("ssl", "on"),
            ("ssl_cert_file", &cert_file),
            ("ssl_key_file", &key_file),
            ("hba_file", &hba_file),
        ])
        .unwrap_or_else(|err| panic!("could not start a TLS test server from local binaries: {err}"));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let mut admin = lockscope::db::connect(&server.target("postgres"), "lockscope-test").await.unwrap();
            let role = common::quote_ident(ROLE);
            for sql in [
                format!("CREATE ROLE {role} LOGIN PASSWORD '{}'", PASSWORD.replace('\'', "''")),
                format!("GRANT pg_monitor TO {role}"),
                format!("CREATE DATABASE {DATABASE} OWNER {role}"),
            ] {
                common::execute(&mut admin, &sql).await;
            }
            let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&mut admin).await.unwrap();
            assert_eq!(ssl, "on");
            admin.close().await.unwrap();
        });
        TlsServer { port: server.port(), server: Mutex::new(Some(server)) }
    }

    /// `postgres://ROLE[:PASSWORD]@HOST:PORT/shop?QUERY`.
    fn url(&self, host: &str, with_password: bool, query: &str) -> String {
        let mut url = url::Url::parse(&format!("postgres://{host}:{}/{DATABASE}", self.port)).unwrap();
        url.set_username(ROLE).unwrap();
        if with_password {
            let encoded: String = url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect();
            url.set_password(Some(&encoded)).unwrap();
        }
        url.set_query(Some(query));
        url.to_string()
    }
}

/// The shared server with the right certificate (SAN localhost and 127.0.0.1).
fn localhost_server() -> &'static TlsServer {
    SHARED_SERVER.get_or_init(|| {
        let server = TlsServer::start("localhost");
        // Statics are never dropped: stop the server and delete the certificates at exit.
        // SAFETY: registering a plain `extern "C" fn` that never unwinds.
        unsafe {
            libc::atexit(clean_up_at_exit);
        }
        server
    })
}

static SHARED_SERVER: OnceLock<TlsServer> = OnceLock::new();

extern "C" fn clean_up_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        if let Some(shared) = SHARED_SERVER.get() {
            drop(shared.server.lock().unwrap_or_else(PoisonError::into_inner).take());
        }
        if let Some(pki) = PKI.get() {
            let _ = fs::remove_dir_all(pki.dir.path());
        }
    });
}

/// `check`, `inspect` and `snapshot`, each as a user runs it against a database.
#[derive(Debug, Clone, Copy)]
enum Subcommand {
    Check,
    Inspect,
    Snapshot,
}

const SUBCOMMANDS: [Subcommand; 3] = [Subcommand::Check, Subcommand::Inspect, Subcommand::Snapshot];

fn migrations() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("001_items.up.sql"), "CREATE TABLE items (id bigint PRIMARY KEY);\n").unwrap();
        fs::write(dir.path().join("001_items.down.sql"), "DROP TABLE items;\n").unwrap();
        dir
    })
}

/// Runs the built binary with only `env` naming a server (no DATABASE_URL, no PG* variables, no
/// ~/.pgpass unless PGPASSFILE is in `env`).
fn run(subcommand: Subcommand, url: &str, env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lockscope"));
    match subcommand {
        Subcommand::Check => {
            command.args(["check", "--format", "json", "--database-url", url]).arg(migrations().path())
        }
        Subcommand::Inspect => command.args(["inspect", "--once", "--format", "json", "--database-url", url]),
        Subcommand::Snapshot => command.args(["snapshot", "--database-url", url]),
    };
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PG") || name == "DATABASE_URL" {
            command.env_remove(name);
        }
    }
    command.env("PGPASSFILE", "/nonexistent/pgpass");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn assert_no_password(output: &Output, context: &str) {
    let encoded: String = url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect();
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for needle in [PASSWORD, encoded.as_str(), "s3cr3t"] {
            assert!(!text.contains(needle), "{context}: {stream} shows the password:\n{text}");
        }
    }
}

/// Exit 0 and the subcommand's JSON on standard output.
fn assert_connected(output: &Output, subcommand: Subcommand, context: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{context}: {stderr}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{context}: not JSON ({err}): {}", String::from_utf8_lossy(&output.stdout)));
    match subcommand {
        Subcommand::Check => {
            assert_eq!(json["mode"], "dry-run", "{context}: {json}");
            assert!(json.to_string().contains("items"), "{context}: the dry-run saw the migration: {json}");
        }
        Subcommand::Inspect => assert!(json.is_object(), "{context}: {json}"),
        Subcommand::Snapshot => assert_eq!(json["kind"], "lockscope-snapshot", "{context}: {json}"),
    }
    assert_no_password(output, context);
}

/// What a user sees when no trusted CA signed the server's certificate.
const NOT_SIGNED: &[&str] = &["invalid peer certificate: UnknownIssuer", "pass sslrootcert="];

/// Exit 2 (cannot connect), the target named without its password, and the problem named.
fn assert_refused(output: &Output, expected: &[&str], context: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{context}: {stderr}");
    assert!(stderr.contains("could not connect to postgres://tls_app@"), "{context}: {stderr}");
    for words in expected {
        assert!(stderr.contains(words), "{context}: expected {words:?} in: {stderr}");
    }
    assert_no_password(output, context);
    stderr
}

#[test]
fn require_verify_ca_and_verify_full_with_sslrootcert_connect_check_inspect_and_snapshot() {
    let server = localhost_server();
    let ca = pki().ca().display().to_string();
    let rootcert = format!("sslrootcert={}", url::form_urlencoded::byte_serialize(ca.as_bytes()).collect::<String>());
    for subcommand in SUBCOMMANDS {
        for host in ["localhost", "127.0.0.1"] {
            for query in [
                "sslmode=require".to_string(),
                format!("sslmode=verify-ca&{rootcert}"),
                format!("sslmode=verify-full&{rootcert}"),
            ] {
                let url = server.url(host, true, &query);
                let output = run(subcommand, &url, &[]);
                assert_connected(&output, subcommand, &format!("{subcommand:?} {host} {query}"));
            }
        }
        // The same as a libpq key=value string.
        let conninfo = format!(
            "host=localhost port={} dbname={DATABASE} user={ROLE} password='{PASSWORD}' sslmode=verify-full sslrootcert='{ca}'",
            server.port
        );
        assert_connected(&run(subcommand, &conninfo, &[]), subcommand, &format!("{subcommand:?} key=value"));
    }
}

#[test]
fn the_server_refuses_tcp_without_tls_so_the_successes_are_tls() {
    let server = localhost_server();
    for subcommand in SUBCOMMANDS {
        let output = run(subcommand, &server.url("127.0.0.1", true, "sslmode=disable"), &[]);
        assert_refused(
            &output,
            &["pg_hba.conf rejects connection", "no encryption"],
            &format!("{subcommand:?} disable"),
        );
    }
}

#[test]
fn pgpass_and_verify_full_together() {
    let server = localhost_server();
    let ca = pki().ca().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    // hostname:port:database:username:password, `:` and `\` escaped (libpq-pgpass.html).
    let escaped = PASSWORD.replace('\\', "\\\\").replace(':', "\\:");
    fs::write(&pgpass, format!("localhost:{}:{DATABASE}:{ROLE}:{escaped}\n", server.port)).unwrap();
    fs::set_permissions(&pgpass, fs::Permissions::from_mode(0o600)).unwrap();
    let query = format!(
        "sslmode=verify-full&sslrootcert={}",
        url::form_urlencoded::byte_serialize(ca.as_bytes()).collect::<String>()
    );
    let url = server.url("localhost", false, &query);
    assert!(url.starts_with("postgres://tls_app@localhost:"), "no password in the URL: {url}");
    for subcommand in SUBCOMMANDS {
        let output = run(subcommand, &url, &[("PGPASSFILE", &pgpass)]);
        assert_connected(&output, subcommand, &format!("{subcommand:?} .pgpass + verify-full"));
        // Without the file the same URL has no password: the file was what logged in.
        let output = run(subcommand, &url, &[]);
        assert_refused(&output, &["password"], &format!("{subcommand:?} no .pgpass"));
    }
}

#[test]
fn a_certificate_for_another_host_fails_verify_full_naming_the_problem() {
    let server = TlsServer::start("other-host");
    let ca = url::form_urlencoded::byte_serialize(pki().ca().display().to_string().as_bytes()).collect::<String>();
    for subcommand in SUBCOMMANDS {
        // The same CA signed it, so verify-ca accepts it: the host name is the only problem.
        let output =
            run(subcommand, &server.url("localhost", true, &format!("sslmode=verify-ca&sslrootcert={ca}")), &[]);
        assert_connected(&output, subcommand, &format!("{subcommand:?} verify-ca, other host's certificate"));

        let output =
            run(subcommand, &server.url("localhost", true, &format!("sslmode=verify-full&sslrootcert={ca}")), &[]);
        let stderr = assert_refused(
            &output,
            &["not valid for name \"localhost\"", OTHER_HOST, "verify-full needs the host name"],
            &format!("{subcommand:?} verify-full"),
        );
        println!("{subcommand:?}, verify-full against a certificate for {OTHER_HOST}:\n{stderr}");
    }
}

#[test]
fn a_certificate_from_another_ca_fails_verification() {
    let server = localhost_server();
    let unrelated =
        url::form_urlencoded::byte_serialize(pki().unrelated_ca().display().to_string().as_bytes()).collect::<String>();
    for subcommand in SUBCOMMANDS {
        for mode in ["verify-ca", "verify-full"] {
            let output = run(
                subcommand,
                &server.url("localhost", true, &format!("sslmode={mode}&sslrootcert={unrelated}")),
                &[],
            );
            let stderr = assert_refused(&output, NOT_SIGNED, &format!("{subcommand:?} {mode}, unrelated CA"));
            println!("{subcommand:?}, {mode} with an unrelated CA:\n{stderr}");
        }
        // Without sslrootcert only the public roots are trusted, which did not sign this server.
        let output = run(subcommand, &server.url("localhost", true, "sslmode=verify-full"), &[]);
        let stderr = assert_refused(&output, NOT_SIGNED, &format!("{subcommand:?} verify-full, no sslrootcert"));
        println!("{subcommand:?}, verify-full without sslrootcert:\n{stderr}");
    }
}

#[test]
fn require_with_sslrootcert_verifies_the_ca_as_libpq_does() {
    // libpq: "if a root CA file exists, the behavior of sslmode=require will be the same as that
    // of verify-ca" (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-SSLMODE).
    let server = localhost_server();
    let encode =
        |path: PathBuf| url::form_urlencoded::byte_serialize(path.display().to_string().as_bytes()).collect::<String>();
    for subcommand in SUBCOMMANDS {
        let output = run(
            subcommand,
            &server.url("localhost", true, &format!("sslmode=require&sslrootcert={}", encode(pki().ca()))),
            &[],
        );
        assert_connected(&output, subcommand, &format!("{subcommand:?} require, right CA"));
        let output = run(
            subcommand,
            &server.url("localhost", true, &format!("sslmode=require&sslrootcert={}", encode(pki().unrelated_ca()))),
            &[],
        );
        let stderr = assert_refused(&output, NOT_SIGNED, &format!("{subcommand:?} require, unrelated CA"));
        println!("{subcommand:?}, require with an unrelated CA:\n{stderr}");
    }
}
