//! Command-line arguments, parsed once into plain structs (the binary only parses and maps errors
//! to exit codes; everything else lives in the library).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::analyze::FailOn;
use crate::report::Format;
use crate::source::Direction;

/// Shows what a PostgreSQL migration will really do to a live database: the locks it takes, the
/// tables it rewrites or scans while holding them, and who would queue behind it.
#[derive(Debug, Parser)]
#[command(name = "lockscope", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Dry-run migrations against a database (or an embedded throwaway one) and report locks,
    /// rewrites, scans and waits per statement.
    Check(CheckArgs),
}

/// Arguments of `lockscope check`.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Migration files or directories (golang-migrate `NNN_name.up.sql`/`.down.sql`, or `NNN_name.sql`).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Target database. Without it: `DATABASE_URL`, then libpq `PG*` variables, then an embedded
    /// throwaway PostgreSQL started from this machine's binaries.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Which scripts to trace: `up` (ascending versions) or `down` (descending).
    #[arg(long, value_enum, default_value = "up")]
    pub direction: Direction,

    /// Report format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: FailOn,

    /// How long the dry-run waits for a lock before giving up (humantime: 500ms, 2s).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub lock_timeout: Duration,

    /// How long one statement may run (humantime: 30s, 10min).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10min")]
    pub statement_timeout: Duration,

    /// How often the second connection samples pg_locks while a statement runs.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10ms")]
    pub sample_interval: Duration,

    /// Never colour the terminal report.
    #[arg(long)]
    pub no_color: bool,
}
