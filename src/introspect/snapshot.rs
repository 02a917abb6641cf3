//! `lockscope snapshot`: a read-only capture of a database's table and index statistics (sizes
//! from `pg_class`, activity from the cumulative statistics, index usage, constraints) to JSON, so
//! `check --production-stats` can scale a staging dry-run to production sizes. No dry-run, no
//! size functions (they would take a lock on every table), only catalog reads under a short
//! statement_timeout in a read-only session.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::db;
use crate::error::{Error, Location, Result};
use crate::introspect::{self, Definitions, IntrospectOptions, Introspection, Measure, SessionLimits};

/// Bumped when a field is renamed or removed.
pub const SNAPSHOT_SCHEMA_VERSION: u32 = 1;
const KIND: &str = "lockscope-snapshot";

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
