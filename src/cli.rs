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
    /// Judge migrations from their SQL alone, with the same rules as `check` (no database).
    Lint(LintArgs),
    /// List the rule catalogue.
    Rules(RulesArgs),
    /// Explain a rule (`LS107`, or its name) or a lock mode (`AccessExclusiveLock`, `ACCESS EXCLUSIVE`).
    Explain(ExplainArgs),
    /// Capture a database's table and index statistics to JSON, read-only (for `check
    /// --production-stats`).
    Snapshot(crate::impact::snapshot::SnapshotArgs),
    /// Look at a live database, read-only: an overview (sizes, index usage, invalid constraints,
    /// blocking), one sample (--once), or a live view of locks, queues and progress (--watch).
    Inspect(crate::watch::InspectArgs),
    /// Run a migration command (`-- migrate … up`, `-- dbmate up`, `-- psql -f …`) under guard:
    /// cancel its statement before a lock queue forms, retry when its ledger allows, report.
    Run(RunArgs),
}

/// Arguments of `lockscope run` (turned into `run::RunOptions` before anything runs).
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// The database the migration runs against. Without it: `DATABASE_URL`, then libpq `PG*`.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Cancel the command's statement once it has waited this long for a lock.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "2s")]
    pub max_wait: Duration,
    /// Cancel it as soon as this many sessions queue behind it (0: never for the queue alone).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_queue: usize,
    /// How many times to run the command again after a cancelled attempt.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub retries: u32,
    /// Pause between attempts: exponential from MIN to MAX, with jitter.
    #[arg(long, value_name = "MIN..MAX", default_value = "1s..30s")]
    pub backoff: String,
    /// lock_timeout injected through PGOPTIONS as a server-side backstop (`off` to leave it out)
    /// [default: twice --max-wait].
    #[arg(long, value_name = "DURATION|off")]
    pub lock_timeout: Option<String>,
    /// Report format.
    #[arg(long, default_value = "table", value_parser = ["table", "json", "markdown"])]
    pub format: String,
    /// Write the report to FILE instead of standard error (standard output is the command's).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Append every event to FILE as a JSON line, as it happens.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Time between looks at the server.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "200ms")]
    pub interval: Duration,
    /// Also treat sessions matching KEY=GLOB as the command's (application_name, user, database,
    /// client_addr), e.g. behind a pooler. Repeatable.
    #[arg(long, value_name = "KEY=GLOB")]
    pub session_filter: Vec<String>,
    /// The migrations folder the command applies (for the ledger check and the pre-flight).
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// The migration tool, instead of guessing it from the command's name.
    #[arg(long, value_enum, value_name = "NAME")]
    pub layout: Option<crate::source::Layout>,
    /// golang-migrate: reset a dirty ledger lockscope caused (a cancelled one-transaction file).
    #[arg(long)]
    pub fix_dirty: bool,
    /// Drop (CONCURRENTLY) an INVALID index a cancelled CREATE INDEX CONCURRENTLY left, before retrying.
    #[arg(long)]
    pub drop_invalid: bool,
    /// Retry a command that has no ledger (psql without -1 -v ON_ERROR_STOP=1, scripts).
    #[arg(long)]
    pub retry_without_ledger: bool,
    /// Before each attempt, wait until no transaction holding the migration's tables is older than this.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub wait_for_quiet: Option<Duration>,
    /// No live lines on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// The migration command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// Arguments of `lockscope check`.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Migration files or directories: golang-migrate, goose, dbmate, Flyway, sqlx, Diesel, Prisma or
    /// plain numbered files (see --layout).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Target database. Without it: `DATABASE_URL`, then libpq `PG*` variables, then an embedded
    /// throwaway PostgreSQL started from this machine's binaries.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Which scripts to trace: `up` (ascending versions) or `down` (descending).
    #[arg(long, value_enum, default_value = "up")]
    pub direction: Direction,

    /// Report format (html: one self-contained page, best with --output).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: FailOn,

    /// How long the dry-run waits for a lock before giving up (humantime: 500ms, 2s) [default: the
    /// configuration's `timeouts.lock_timeout`, else 5s].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub lock_timeout: Option<Duration>,

    /// How long one statement may run (humantime: 30s, 10min) [default: the configuration's
    /// `timeouts.statement_timeout`, else 10min].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub statement_timeout: Option<Duration>,

    /// Configuration file [default: the nearest lockscope.toml from the working directory up].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Judge findings for this PostgreSQL major version instead of the traced server's (e.g. when
    /// production runs an older release than staging).
    #[arg(long, value_name = "MAJOR")]
    pub pg_version: Option<u32>,

    /// How often the second connection samples pg_locks while a statement runs.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10ms")]
    pub sample_interval: Duration,

    /// Dry-run even when connected as a superuser to a database whose name looks like production.
    /// The dry-run takes the same locks as the real migration for as long as it runs.
    #[arg(long)]
    pub i_know_this_is_production: bool,

    /// Migration layout, instead of detecting it from the files: golang-migrate, goose, dbmate,
    /// flyway, sqlx, diesel, prisma or plain.
    #[arg(long, value_enum, value_name = "NAME")]
    pub layout: Option<crate::source::Layout>,

    /// The tool that applies the migrations, when it is not the layout's own: psql,
    /// psql-single-transaction, golang-migrate, golang-migrate-multi-statement, goose, dbmate,
    /// flyway, sqlx, diesel, prisma. Rules and lock-hold times follow how it runs each file.
    #[arg(long, value_name = "NAME", value_parser = parse_runner)]
    pub runner: Option<crate::source::Runner>,

    /// Check every migration, also those the target's migration ledger records as applied.
    #[arg(long)]
    pub all: bool,

    /// After each up, in the same rolled-back transaction: run its down, compare the schema (and
    /// the data of the tables it names) with before up, and run up again.
    #[arg(long)]
    pub reversible: bool,

    /// Also run each migration alone, committed, on a schema-only copy of the target in an
    /// embedded throwaway PostgreSQL, for exact per-migration locks.
    #[arg(long)]
    pub isolate: bool,

    /// A production snapshot (`lockscope snapshot`): scale each statement's time to production
    /// sizes and use production's activity and index usage.
    #[arg(long, value_name = "FILE")]
    pub production_stats: Option<PathBuf>,

    /// Never colour the terminal report.
    #[arg(long)]
    pub no_color: bool,

    /// Check only the migrations added or changed since this git reference (its merge base with
    /// HEAD; uncommitted and untracked files count). Pending migrations before them are still
    /// applied first, as context, so the schema is right.
    #[arg(long, value_name = "REF")]
    pub git_diff: Option<String>,

    /// No progress bar on stderr (it is shown only when stderr is a terminal anyway).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `lockscope lint`.
#[derive(Debug, Args, Clone)]
pub struct LintArgs {
    /// Migration files or directories (golang-migrate `NNN_name.up.sql`/`.down.sql`, or `NNN_name.sql`).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Which scripts to lint: `up` (ascending versions) or `down` (descending).
    #[arg(long, value_enum, default_value = "up")]
    pub direction: Direction,

    /// Report format (html: one self-contained page, best with --output).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: FailOn,

    /// Judge for this PostgreSQL major version [default: the configuration's `pg_version`, else 18].
    #[arg(long, value_name = "MAJOR")]
    pub pg_version: Option<u32>,

    /// Configuration file [default: the nearest lockscope.toml from the working directory up].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Never colour the terminal report.
    #[arg(long)]
    pub no_color: bool,

    /// Lint only the migrations added or changed since this git reference (its merge base with
    /// HEAD; uncommitted and untracked files count).
    #[arg(long, value_name = "REF")]
    pub git_diff: Option<String>,

    /// Migration layout, instead of detecting it from the files (see `check --layout`).
    #[arg(long, value_enum, value_name = "NAME")]
    pub layout: Option<crate::source::Layout>,

    /// The tool that applies the migrations (see `check --runner`).
    #[arg(long, value_name = "NAME", value_parser = parse_runner)]
    pub runner: Option<crate::source::Runner>,
}

/// How `lockscope rules` prints the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    /// One line per rule.
    Table,
    /// The Markdown table of the README.
    Markdown,
    /// Every field of every rule, examples included.
    Json,
}

/// Arguments of `lockscope rules`.
#[derive(Debug, Args, Clone)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: RulesFormat,
}

/// Arguments of `lockscope explain`.
#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// A rule id or name (`LS107`, `create-index-without-concurrently`) or a lock mode
    /// (`AccessExclusiveLock`, `ACCESS EXCLUSIVE`, `access-exclusive`).
    pub topic: String,
}

/// `--runner NAME`.
fn parse_runner(text: &str) -> Result<crate::source::Runner, String> {
    crate::source::Runner::parse(text).ok_or_else(|| {
        format!(
            "unknown runner {text:?}: expected one of {}",
            crate::source::Runner::ALL.map(|r| r.flag_value()).join(", ")
        )
    })
}
