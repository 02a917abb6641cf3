//! `lockscope snapshot`: a read-only capture of a database's table and index statistics (sizes
//! from `pg_class`, activity from the cumulative statistics, index usage, constraints) to JSON, so
//! `check --production-stats` can scale a staging dry-run to production sizes. No dry-run, no
//! size functions (they would take a lock on every table), only catalog reads under a short
//! statement_timeout in a read-only session.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::db;
use crate::error::{Error, Location, Result};
use crate::introspect::{self, Definitions, IntrospectOptions, Introspection, Measure, SessionLimits};

/// Bumped when a field is renamed or removed.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;
const KIND: &str = "lockscope-snapshot";

/// Arguments of `lockscope snapshot`.
#[derive(Debug, Args, Clone)]
pub struct SnapshotArgs {
    /// Database to capture (usually production). Without it: `DATABASE_URL`, then libpq `PG*` variables.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Where to write the snapshot (JSON); standard output when omitted.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Longest any one catalog query may run (humantime).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub statement_timeout: Duration,
}

/// The file `snapshot` writes and `check --production-stats` reads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    pub schema_version: u32,
    pub kind: String,
    pub captured_at: String,
    /// Redacted description of where it was captured.
    pub source: String,
    pub introspection: Introspection,
}

/// Captures a snapshot of `target`.
pub async fn capture(target: &db::Target, statement_timeout: Duration) -> Result<Snapshot> {
    let mut conn = db::connect(target, "lockscope-snapshot").await?;
    introspect::configure_read_only_session(
        &mut conn,
        SessionLimits { statement_timeout, lock_timeout: Duration::from_millis(500) },
    )
    .await?;
    let options = IntrospectOptions { measure: Measure::Nothing, definitions: Definitions::Flagged };
    let introspection = introspect::introspect(&mut conn, &options).await?;
    Ok(Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        kind: KIND.into(),
        captured_at: introspect::rfc3339_now(),
        source: target.display.clone(),
        introspection,
    })
}

/// Runs `lockscope snapshot`.
pub async fn run(args: &SnapshotArgs) -> Result<i32> {
    let target = db::resolve_target(args.database_url.as_deref())?.ok_or_else(|| {
        Error::Usage("snapshot needs a database: pass --database-url, or set DATABASE_URL or PG* variables".into())
    })?;
    let snapshot = capture(&target, args.statement_timeout).await?;
    let mut text = serde_json::to_string_pretty(&snapshot).expect("plain data");
    text.push('\n');
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|err| Error::Output { path: path.clone(), message: err.to_string() })?;
            eprintln!(
                "snapshot of {} ({} tables, {} indexes) written to {}",
                snapshot.source,
                snapshot.introspection.tables.len(),
                snapshot.introspection.indexes.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(0)
}

/// Reads a snapshot file; a bad file is an input error naming it.
pub fn load(path: &Path) -> Result<Snapshot> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| Error::input(Location::file(path), format!("cannot read the production snapshot: {err}")))?;
    let snapshot: Snapshot = serde_json::from_str(&text).map_err(|err| {
        Error::input(
            Location::new(path, err.line(), err.column()),
            format!("not a lockscope snapshot (write one with `lockscope snapshot`): {err}"),
        )
    })?;
    if snapshot.kind != KIND || snapshot.schema_version > SNAPSHOT_SCHEMA_VERSION {
        return Err(Error::input(
            Location::file(path),
            format!(
                "unsupported snapshot (kind {:?}, schema_version {}); this lockscope reads version {SNAPSHOT_SCHEMA_VERSION}",
                snapshot.kind, snapshot.schema_version
            ),
        ));
    }
    Ok(snapshot)
}
