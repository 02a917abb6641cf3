//! `--isolate`: exact per-migration locks. A dry-run on the target runs every pending migration in
//! one transaction, so a lock an earlier migration took cannot be observed again for a later one.
//! Here the target's schema (no data) is copied into an embedded throwaway server with the
//! machine's own `pg_dump` and `psql`, each migration runs there in its own committed transaction,
//! and the locks observed there replace the target run's, which keeps its timings, sizes,
//! rewrites, scans and waits.

use std::path::Path;
use std::process::Stdio;

use sqlx::Connection;

use crate::db::{self, ephemeral::EphemeralServer, Target};
use crate::error::{Error, Result};
use crate::trace::{IsolationReport, LockSource, MigrationLock, Outcome, ServerInfo, Trace};

/// The database the copy lives in on the embedded server.
pub const DATABASE: &str = "lockscope_isolated";

/// The options `pg_dump` runs with.
const PG_DUMP_OPTIONS: [&str; 8] = [
    "--schema-only",
    "--no-owner",
    "--no-privileges",
    "--no-tablespaces",
    "--no-publications",
    "--no-subscriptions",
    "--no-security-labels",
    "--lock-wait-timeout=5s",
];

/// The schema-only copy: the server it lives on and what copying it reported.
pub struct SchemaCopy {
    /// Stops and deletes the copy when dropped.
    pub server: EphemeralServer,
    pub target: Target,
    pub copied_with: String,
    pub restore_errors: Vec<String>,
}

/// Where `pg_dump` connects: the URL or conninfo the user gave (`--database-url` or
/// `DATABASE_URL`), else libpq's own `PG*` variables and `.pgpass`, which `pg_dump` reads itself.
#[derive(Clone)]
pub struct DumpSource {
    pub connection: Option<String>,
}

/// Starts an embedded server and copies the target's schema into it.
pub async fn copy_schema(source: &DumpSource) -> Result<SchemaCopy> {
    let bindir = db::ephemeral::find_bindir()?;
    let (pg_dump, psql) = (bindir.join("pg_dump"), bindir.join("psql"));
    for tool in [&pg_dump, &psql] {
        if !tool.is_file() {
            return Err(Error::Embedded(format!(
                "--isolate copies the target's schema with pg_dump and psql, but {} does not exist; install \
                 PostgreSQL's client programs next to the server binaries or set LOCKSCOPE_PG_BINDIR",
                tool.display()
            )));
        }
    }
    let dump = tempfile::NamedTempFile::new()
        .map_err(|err| Error::Embedded(format!("--isolate: cannot create a file for the schema dump: {err}")))?;
    let copied_with = run_pg_dump(&pg_dump, source, dump.path()).await?;

    let server =
        tokio::task::spawn_blocking(EphemeralServer::start).await.map_err(|err| Error::Embedded(err.to_string()))??;
    let mut admin = db::connect(&server.target("postgres"), "lockscope-isolate").await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
        .execute(&mut admin)
        .await
        .map_err(|err| Error::Embedded(format!("--isolate: creating the copy's database: {err}")))?;
    let _ = admin.close().await;

    let restore_errors = run_psql(&psql, &server.url(DATABASE), dump.path()).await?;
    let target = server.target(DATABASE);
    Ok(SchemaCopy { server, target, copied_with, restore_errors })
}

/// A URL's password moved into `PGPASSWORD`, so it never shows in the process list.
fn split_password(connection: &str) -> (String, Option<String>) {
    if let Ok(mut url) = url::Url::parse(connection) {
        if let Some(password) = url.password().map(str::to_string) {
            let _ = url.set_password(None);
            let decoded = percent_decode(&password);
            return (url.to_string(), Some(decoded));
        }
    }
    (connection.to_string(), None)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn run_pg_dump(pg_dump: &Path, source: &DumpSource, out: &Path) -> Result<String> {
    let mut command = tokio::process::Command::new(pg_dump);
    command.args(PG_DUMP_OPTIONS).arg("--file").arg(out).stdin(Stdio::null()).stdout(Stdio::null());
    command.env("PGAPPNAME", "lockscope-isolate").env("PGCONNECT_TIMEOUT", "10");
    if let Some(connection) = &source.connection {
        let (connection, password) = split_password(connection);
        command.arg("--dbname").arg(connection);
        if let Some(password) = password {
            command.env("PGPASSWORD", password);
        }
    }
    let output = command
        .output()
        .await
        .map_err(|err| Error::Embedded(format!("--isolate: could not run {}: {err}", pg_dump.display())))?;
    if !output.status.success() {
        let stderr = db::redact(String::from_utf8_lossy(&output.stderr).trim());
        let hint = if stderr.contains("server version mismatch") {
            "; pg_dump must be at least as new as the target server: point LOCKSCOPE_PG_BINDIR at newer PostgreSQL \
             binaries (see README, \"--isolate\")"
        } else {
            ""
        };
        return Err(Error::Embedded(format!("--isolate: pg_dump could not copy the target's schema: {stderr}{hint}")));
    }
    Ok(format!("{} {}", pg_dump.display(), PG_DUMP_OPTIONS.join(" ")))
}

/// Restores the dump, carrying on past statements the embedded server refuses (an extension it
/// does not have, say): each becomes a restore error in the report.
async fn run_psql(psql: &Path, url: &str, dump: &Path) -> Result<Vec<String>> {
    let output = tokio::process::Command::new(psql)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=0", "-d", url, "-f"])
        .arg(dump)
        .env("PGAPPNAME", "lockscope-isolate")
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|err| Error::Embedded(format!("--isolate: could not run {}: {err}", psql.display())))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<String> = stderr
        .lines()
        .filter(|line| line.contains("ERROR:"))
        .map(|line| line.split_once("ERROR:").map_or(line, |(_, message)| message).trim().to_string())
        .collect();
    if !output.status.success() && errors.is_empty() {
        return Err(Error::Embedded(format!("--isolate: psql could not restore the schema copy: {}", stderr.trim())));
    }
    Ok(errors)
}

/// Puts the locks observed on the copy into the target's trace. Statement by statement, where the
/// copy ran the statement: its locks replace the target's (and a statement the dry-run could not
/// execute, such as `CREATE INDEX CONCURRENTLY`, gets the locks it really took). After a failure
/// on the copy, the target's own (shared-transaction) locks stay.
pub fn merge(target: &mut Trace, isolated: &Trace, copy: &SchemaCopy) -> IsolationReport {
    let mut notes = Vec::new();
    for (target_migration, isolated_migration) in target.migrations.iter_mut().zip(&isolated.migrations) {
        let complete = isolated_migration.statements.len() == target_migration.statements.len()
            && isolated_migration.statements.iter().all(|s| s.error.is_none());
        for (statement, copy_statement) in target_migration.statements.iter_mut().zip(&isolated_migration.statements) {
            if copy_statement.error.is_none() {
                statement.locks = copy_statement.locks.clone();
            }
        }
        if complete {
            target_migration.locks = isolated_migration
                .locks
                .iter()
                .map(|lock| MigrationLock {
                    observed_on: (lock.source == LockSource::Observed).then(|| "isolated".to_string()),
                    held_since: None,
                    ..lock.clone()
                })
                .collect();
        }
    }
    if let Outcome::Failed { path, line, message, .. } = &isolated.outcome {
        notes.push(format!(
            "--isolate: on the schema-only copy {path}:{line} failed ({message}); locks from there on come from the \
             target's shared transaction"
        ));
    }
    if !copy.restore_errors.is_empty() {
        notes.push(format!(
            "--isolate: the embedded server refused {} statement(s) of the schema copy (first: {}); locks on what \
             they create may be missing",
            copy.restore_errors.len(),
            copy.restore_errors[0]
        ));
    }
    if isolated.server.major() != target.server.major() {
        notes.push(format!(
            "--isolate: exact locks come from PostgreSQL {} (the embedded server), the target runs {}; lock levels \
             can differ between major versions",
            isolated.server.version, target.server.version
        ));
    }
    notes.insert(
        0,
        format!(
            "--isolate: each migration also ran alone, committed, on a schema-only copy of the target (embedded \
             PostgreSQL {}): the locks shown are the ones observed there; timings, rewrites, scans and waits are \
             the target's",
            isolated.server.version
        ),
    );
    IsolationReport {
        server: ServerInfo { version: isolated.server.version.clone(), version_num: isolated.server.version_num },
        copied_with: copy.copied_with.clone(),
        restore_errors: copy.restore_errors.clone(),
        outcome: isolated.outcome.clone(),
        notes,
    }
}
