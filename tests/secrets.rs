//! docs/ARCHITECTURE.md safety invariant 5: a password given in the URL, in PGPASSWORD or in a .pgpass file
//! never appears in any output format, log line or error — on success, on a failing migration and
//! on a failed connection.

mod common;
mod support;

use std::process::Output;

use support::*;

const PASSWORD: &str = "s3cr3t-P@ss:w/rd%zz";

async fn role_and_db() -> (common::TestDb, String) {
    let db = common::fresh_database().await;
    let mut conn = db.connect().await;
    let role = common::unique_name("secretive");
    common::execute(&mut conn, &format!("CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")).await;
    common::execute(&mut conn, &format!("GRANT ALL ON DATABASE {} TO {role}", common::quote_ident(&db.name))).await;
    common::execute(&mut conn, &format!("GRANT ALL ON SCHEMA public TO {role}")).await;
    common::execute(&mut conn, &format!("CREATE TABLE items (id int PRIMARY KEY); ALTER TABLE items OWNER TO {role}"))
        .await;
    (db, role)
}

fn assert_no_secret(output: &Output, context: &str) {
    let encoded: String = url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect();
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for needle in [PASSWORD, encoded.as_str(), "s3cr3t"] {
            assert!(!text.contains(needle), "{context}: {stream} contains the password:\n{text}");
        }
    }
}

fn scenarios() -> Vec<(&'static str, &'static str, Option<i32>)> {
    vec![
        ("ok", "ALTER TABLE items ADD COLUMN name text;", Some(0)),
        ("failing", "ALTER TABLE items ADD COLUMN id integer;", Some(2)),
    ]
}

#[tokio::test]
async fn password_in_the_url() {
    let (db, role) = role_and_db().await;
    let url = common::tcp_url(&role, PASSWORD, &db.name);
    for (name, sql, expected) in scenarios() {
        let dir = migrations(&[("001_a.up.sql", sql), ("001_a.down.sql", "SELECT 1;")]);
        for format in ["table", "json", "markdown", "html", "sarif", "github"] {
            let output = lockscope()
                .args(["check", "--format", format, "--database-url", &url])
                .arg(dir.path())
                .output()
                .unwrap();
            assert_eq!(output.status.code(), expected, "{name} {format}: {}", String::from_utf8_lossy(&output.stderr));
            assert_no_secret(&output, &format!("url {name} {format}"));
        }
    }
    // A wrong database name and a wrong password fail to connect, naming the target without it.
    for bad in [url.replace(&db.name, "no_such_db"), common::tcp_url(&role, &format!("{PASSWORD}x"), &db.name)] {
        let dir = migrations(&[("001_a.up.sql", "SELECT 1;"), ("001_a.down.sql", "SELECT 1;")]);
        let output = lockscope().args(["check", "--database-url", &bad]).arg(dir.path()).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("could not connect"));
        assert_no_secret(&output, "connection failure");
    }
    // So does DATABASE_URL with a bad sslmode.
    let output = lockscope()
        .args(["check"])
        .arg(migrations(&[("001_a.up.sql", "SELECT 1;")]).path())
        .env("DATABASE_URL", format!("{url}?sslmode=bogus"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_no_secret(&output, "bad sslmode");
}

fn libpq_env(url: &str) -> Vec<(String, String)> {
    let parsed = url::Url::parse(url).unwrap();
    vec![
        ("PGHOST".into(), parsed.host_str().unwrap().to_string()),
        ("PGPORT".into(), parsed.port().unwrap_or(5432).to_string()),
        ("PGUSER".into(), parsed.username().to_string()),
        ("PGDATABASE".into(), parsed.path().trim_start_matches('/').to_string()),
    ]
}

#[tokio::test]
async fn password_in_pgpassword_and_pgpass() {
    let (db, role) = role_and_db().await;
    let url = common::tcp_url(&role, PASSWORD, &db.name);
    let env = libpq_env(&url);
    let pgpass_dir = tempfile::tempdir().unwrap();
    let pgpass = pgpass_dir.path().join("pgpass");
    let escaped = PASSWORD.replace('\\', "\\\\").replace(':', "\\:");
    std::fs::write(&pgpass, format!("*:*:*:{role}:{escaped}\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

    for (how, password_env) in [("PGPASSWORD", Some(PASSWORD)), ("PGPASSFILE", None)] {
        for (name, sql, expected) in scenarios() {
            let dir = migrations(&[("001_a.up.sql", sql), ("001_a.down.sql", "SELECT 1;")]);
            for format in ["table", "json", "markdown", "html", "sarif", "github"] {
                let mut command = lockscope();
                command.args(["check", "--format", format]).arg(dir.path()).env_remove("DATABASE_URL");
                command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                match password_env {
                    Some(password) => command.env("PGPASSWORD", password).env("PGPASSFILE", "/nonexistent"),
                    None => command.env_remove("PGPASSWORD").env("PGPASSFILE", &pgpass),
                };
                let output = command.output().unwrap();
                assert_eq!(
                    output.status.code(),
                    expected,
                    "{how} {name} {format}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                assert_no_secret(&output, &format!("{how} {name} {format}"));
                if format == "json" && expected == Some(0) {
                    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
                    assert_eq!(report["mode"], "dry-run", "{how}: the libpq variables name the target");
                }
            }
        }
    }
}
