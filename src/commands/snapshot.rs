//! `lockscope snapshot`: capture a database's statistics (`introspect::snapshot`) to a file or
//! standard output.

use std::path::PathBuf;
use std::time::Duration;

use crate::db;
use crate::error::{Error, Result};
use crate::introspect::snapshot::capture;

/// What `lockscope snapshot` was asked to do.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// Database to capture (usually production). `None`: `DATABASE_URL`, then libpq `PG*` variables.
    pub database_url: Option<String>,
    /// Where to write the snapshot (JSON); standard output when `None`.
    pub output: Option<PathBuf>,
    /// Longest any one catalog query may run.
    pub statement_timeout: Duration,
}

/// Runs `lockscope snapshot`.
pub async fn run(args: &SnapshotOptions) -> Result<i32> {
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
