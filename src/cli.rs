//! The command line, in the binary only: clap parses it here and each subcommand's arguments
//! are converted once into the library's plain options struct (`commands::*Options`), as
//! ripgrep turns its low-level arguments into high-level ones. No library type derives clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use lockscope::analyze::FailOn;
use lockscope::commands::{check::CheckOptions, lint::LintOptions, rules::RulesFormat, snapshot::SnapshotOptions};
use lockscope::error::{Error, Result};
use lockscope::report::Format;
use lockscope::run::discover::SessionFilter;
use lockscope::run::retry::Backoff;
use lockscope::run::RunOptions;
use lockscope::source::{Direction, Layout, Runner};
use lockscope::watch::{InspectFormat, InspectOptions};

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
    Snapshot(SnapshotArgs),
    /// Look at a live database, read-only: an overview (sizes, index usage, invalid constraints,
    /// blocking), one sample (--once), or a live view of locks, queues and progress (--watch).
    Inspect(InspectArgs),
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
    pub layout: Option<LayoutArg>,
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
    pub direction: DirectionArg,

    /// Report format (html: one self-contained page, best with --output).
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: FailOnArg,

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
    pub layout: Option<LayoutArg>,

    /// The tool that applies the migrations, when it is not the layout's own: psql,
    /// psql-single-transaction, golang-migrate, golang-migrate-multi-statement, goose, dbmate,
    /// flyway, sqlx, diesel, prisma. Rules and lock-hold times follow how it runs each file.
    #[arg(long, value_name = "NAME", value_parser = parse_runner)]
    pub runner: Option<Runner>,

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
    pub direction: DirectionArg,

    /// Report format (html: one self-contained page, best with --output).
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "high")]
    pub fail_on: FailOnArg,

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
    pub layout: Option<LayoutArg>,

    /// The tool that applies the migrations (see `check --runner`).
    #[arg(long, value_name = "NAME", value_parser = parse_runner)]
    pub runner: Option<Runner>,
}

/// How `lockscope rules` prints the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormatArg {
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
    pub format: RulesFormatArg,
}

/// Arguments of `lockscope explain`.
#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// A rule id or name (`LS107`, `create-index-without-concurrently`) or a lock mode
    /// (`AccessExclusiveLock`, `ACCESS EXCLUSIVE`, `access-exclusive`).
    pub topic: String,
}

/// `--runner NAME`.
fn parse_runner(text: &str) -> std::result::Result<Runner, String> {
    Runner::parse(text).ok_or_else(|| {
        format!("unknown runner {text:?}: expected one of {}", Runner::ALL.map(|r| r.flag_value()).join(", "))
    })
}

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

/// Output format of `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormatArg {
    /// Tables and trees for people (full-screen with `--watch` on a terminal).
    Table,
    /// JSON: the overview, or one sample per line with `--once` / `--watch`.
    Json,
}

/// Arguments of `lockscope inspect`.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Database to inspect (postgres:// URL or libpq key=value string). Without it:
    /// `DATABASE_URL`, then libpq `PG*` variables.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Keep sampling every --interval: full-screen on a terminal, plain text (or JSON lines with
    /// --format json) otherwise.
    #[arg(long)]
    pub watch: bool,

    /// Print one sample (sessions, lock tree, queues, progress, alerts) and exit.
    #[arg(long)]
    pub once: bool,

    /// Time between samples (humantime: 500ms, 2s).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "1s")]
    pub interval: Duration,

    /// Stop --watch after this many samples.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Append every sample to FILE as one JSON object per line, for post-mortems.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// The migration's sessions: `application_name` to highlight (`*` wildcards; repeatable).
    /// Without it or --pid, sessions running DDL are highlighted.
    #[arg(long = "application-name", value_name = "NAME")]
    pub application_name: Vec<String>,

    /// The migration's sessions by process id (repeatable).
    #[arg(long = "pid", value_name = "PID")]
    pub pid: Vec<i32>,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: InspectFormatArg,

    /// Plain refreshing text even when standard output is a terminal.
    #[arg(long)]
    pub no_tui: bool,

    /// Alert when at least this many sessions queue behind a DDL statement waiting for its lock.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub alert_queue: usize,

    /// Alert when a DDL statement has waited this long for its lock.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "5s")]
    pub alert_wait: Duration,

    /// Cancel (pg_cancel_backend) a DDL statement that has waited this long for its lock while
    /// other sessions queue behind it. The only thing lockscope ever changes; off by default.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub cancel_blocking_ddl_after: Option<Duration>,

    /// statement_timeout of each sampling query; a slower sample is skipped.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "200ms")]
    pub statement_timeout: Duration,

    /// lock_timeout of the monitoring session.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "100ms")]
    pub lock_timeout: Duration,

    /// statement_timeout for the overview's catalog reads (big schemas need more than a sample).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "5s")]
    pub catalog_timeout: Duration,

    /// Cut query text at this many characters.
    #[arg(long, value_name = "CHARS", default_value_t = 1000)]
    pub query_length: usize,
}

/// `--direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    Up,
    Down,
}

impl From<DirectionArg> for Direction {
    fn from(arg: DirectionArg) -> Self {
        match arg {
            DirectionArg::Up => Direction::Up,
            DirectionArg::Down => Direction::Down,
        }
    }
}

/// `--layout`: the migration tool whose folder layout the migrations follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// `NNN_name.up.sql` + `NNN_name.down.sql`; ledger `schema_migrations(version, dirty)`.
    GolangMigrate,
    /// `NNN_name.sql` with `-- +goose Up` / `-- +goose Down` sections; ledger `goose_db_version`.
    Goose,
    /// `<timestamp>_name.sql` with `-- migrate:up` / `-- migrate:down`; ledger `schema_migrations(version)`.
    Dbmate,
    /// `V1_2__name.sql`, `U1_2__name.sql` (undo), `R__name.sql` (repeatable); ledger `flyway_schema_history`.
    Flyway,
    /// `<version>_<description>.sql` or `.up.sql`/`.down.sql`; ledger `_sqlx_migrations`.
    Sqlx,
    /// `<version>_name/up.sql` + `down.sql`; ledger `__diesel_schema_migrations`.
    Diesel,
    /// `<timestamp>_name/migration.sql`, no down; ledger `_prisma_migrations`.
    Prisma,
    /// `NNN_name.sql`, up only, no ledger.
    #[value(name = "plain", alias = "plain-numbered")]
    PlainNumbered,
}

impl From<LayoutArg> for Layout {
    fn from(arg: LayoutArg) -> Self {
        match arg {
            LayoutArg::GolangMigrate => Layout::GolangMigrate,
            LayoutArg::Goose => Layout::Goose,
            LayoutArg::Dbmate => Layout::Dbmate,
            LayoutArg::Flyway => Layout::Flyway,
            LayoutArg::Sqlx => Layout::Sqlx,
            LayoutArg::Diesel => Layout::Diesel,
            LayoutArg::Prisma => Layout::Prisma,
            LayoutArg::PlainNumbered => Layout::PlainNumbered,
        }
    }
}

/// `--format` of `check` and `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Tables for a terminal.
    Table,
    /// The versioned JSON document (schema_version 1).
    Json,
    /// A pull-request comment: verdict, summary per migration, risky statements with their fix.
    Markdown,
    /// One self-contained page with a lock timeline (use with --output).
    Html,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow annotations (`::error file=…,line=…::…`).
    Github,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Html => Format::Html,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Github => Format::Github,
        }
    }
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Low,
    Medium,
    High,
    Critical,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(arg: FailOnArg) -> Self {
        match arg {
            FailOnArg::Low => FailOn::Low,
            FailOnArg::Medium => FailOn::Medium,
            FailOnArg::High => FailOn::High,
            FailOnArg::Critical => FailOn::Critical,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

impl From<RulesFormatArg> for RulesFormat {
    fn from(arg: RulesFormatArg) -> Self {
        match arg {
            RulesFormatArg::Table => RulesFormat::Table,
            RulesFormatArg::Markdown => RulesFormat::Markdown,
            RulesFormatArg::Json => RulesFormat::Json,
        }
    }
}

impl From<InspectFormatArg> for InspectFormat {
    fn from(arg: InspectFormatArg) -> Self {
        match arg {
            InspectFormatArg::Table => InspectFormat::Table,
            InspectFormatArg::Json => InspectFormat::Json,
        }
    }
}

impl CheckArgs {
    /// The options of `lockscope check`.
    pub fn options(self) -> CheckOptions {
        CheckOptions {
            paths: self.paths,
            database_url: self.database_url,
            direction: self.direction.into(),
            format: self.format.into(),
            output: self.output,
            fail_on: self.fail_on.into(),
            lock_timeout: self.lock_timeout,
            statement_timeout: self.statement_timeout,
            config: self.config,
            pg_version: self.pg_version,
            sample_interval: self.sample_interval,
            i_know_this_is_production: self.i_know_this_is_production,
            layout: self.layout.map(Into::into),
            runner: self.runner,
            all: self.all,
            reversible: self.reversible,
            isolate: self.isolate,
            production_stats: self.production_stats,
            no_color: self.no_color,
            git_diff: self.git_diff,
            quiet: self.quiet,
        }
    }
}

impl LintArgs {
    /// The options of `lockscope lint`.
    pub fn options(self) -> LintOptions {
        LintOptions {
            paths: self.paths,
            direction: self.direction.into(),
            format: self.format.into(),
            output: self.output,
            fail_on: self.fail_on.into(),
            pg_version: self.pg_version,
            config: self.config,
            no_color: self.no_color,
            git_diff: self.git_diff,
            layout: self.layout.map(Into::into),
            runner: self.runner,
        }
    }
}

impl SnapshotArgs {
    /// The options of `lockscope snapshot`.
    pub fn options(self) -> SnapshotOptions {
        SnapshotOptions {
            database_url: self.database_url,
            output: self.output,
            statement_timeout: self.statement_timeout,
        }
    }
}

impl InspectArgs {
    /// The options of `lockscope inspect`.
    pub fn options(self) -> InspectOptions {
        InspectOptions {
            database_url: self.database_url,
            watch: self.watch,
            once: self.once,
            interval: self.interval,
            count: self.count,
            record: self.record,
            application_name: self.application_name,
            pid: self.pid,
            format: self.format.into(),
            no_tui: self.no_tui,
            alert_queue: self.alert_queue,
            alert_wait: self.alert_wait,
            cancel_blocking_ddl_after: self.cancel_blocking_ddl_after,
            statement_timeout: self.statement_timeout,
            lock_timeout: self.lock_timeout,
            catalog_timeout: self.catalog_timeout,
            query_length: self.query_length,
        }
    }
}

impl RunArgs {
    /// The options of `lockscope run`: `--backoff`, `--lock-timeout`, `--format` and
    /// `--session-filter` parsed, and the whole checked; a bad value is a usage error (exit 2).
    pub fn options(self) -> Result<RunOptions> {
        let backoff = Backoff::parse(&self.backoff).map_err(Error::Usage)?;
        let lock_timeout = match self.lock_timeout.as_deref().map(str::trim) {
            Some("off") | Some("0") => None,
            Some(text) => Some(
                humantime::parse_duration(text)
                    .map_err(|err| Error::Usage(format!("--lock-timeout {text:?}: {err} (e.g. 5s, or off)")))?,
            ),
            None => Some(self.max_wait * 2),
        };
        let format = match self.format.as_str() {
            "table" => lockscope::run::report::Format::Table,
            "json" => lockscope::run::report::Format::Json,
            "markdown" => lockscope::run::report::Format::Markdown,
            other => return Err(Error::Usage(format!("--format {other:?}: use table, json or markdown"))),
        };
        let session_filters =
            self.session_filter.iter().map(|text| SessionFilter::parse(text)).collect::<Result<_>>()?;
        let options = RunOptions {
            database_url: self.database_url,
            command: self.command,
            max_wait: self.max_wait,
            max_queue: (self.max_queue > 0).then_some(self.max_queue),
            retries: self.retries,
            backoff,
            lock_timeout,
            format,
            output: self.output,
            events: self.events,
            interval: self.interval,
            session_filters,
            migrations: self.migrations,
            layout: self.layout.map(Into::into),
            fix_dirty: self.fix_dirty,
            drop_invalid: self.drop_invalid,
            retry_without_ledger: self.retry_without_ledger,
            wait_for_quiet: self.wait_for_quiet,
            quiet: self.quiet,
        };
        options.validate()?;
        Ok(options)
    }
}
