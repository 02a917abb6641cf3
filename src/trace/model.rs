//! What a trace observed — observation only, no judgement (that is `analyze::Assessment`): plain
//! data, serialised into the JSON report as docs/ARCHITECTURE.md's contract says.

use serde::Serialize;

use crate::locks::LockMode;
use crate::source::Direction;

/// The server a trace ran on.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServerInfo {
    /// `SHOW server_version`, e.g. `17.2`.
    pub version: String,
    /// `server_version_num`, e.g. `170002`.
    pub version_num: i64,
}

impl ServerInfo {
    pub fn major(&self) -> i64 {
        self.version_num / 10000
    }
}

/// How the migrations ran.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Against a real target, inside one transaction that is always rolled back.
    DryRun,
    /// In the embedded throwaway database: each migration runs and commits in turn.
    Scratch,
}

/// Whether a lock was seen in `pg_locks` or deduced from PostgreSQL's documented lock level.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum LockSource {
    /// Newly held by the tracing backend after the statement.
    Observed,
    /// The transaction already held it (an earlier statement took it), or the statement was not
    /// executed: reported from the documented lock level.
    Inferred,
}

/// A relation lock the statement takes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RelationLock {
    /// `schema.name`; TOAST tables as `schema.table (TOAST)`.
    pub relation: String,
    pub relkind: String,
    /// PostgreSQL's name, as `pg_locks.mode` prints it.
    pub mode: LockMode,
    pub source: LockSource,
}

/// A lock on something other than a relation (an advisory lock, a type, a schema, …).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OtherLock {
    pub locktype: String,
    pub mode: String,
    /// What the lock is on, as `pg_describe_object` says it (or the raw identifiers).
    pub object: String,
}

/// A relation whose storage was replaced (relfilenode changed): every row was copied.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rewrite {
    #[serde(skip)]
    pub oid: i64,
    pub relation: String,
    pub relkind: String,
    /// `pg_class.reltuples` before the statement (an estimate; -1 when never analysed).
    pub rows_estimate: f64,
}

/// A full sequential scan the statement made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Scan {
    pub relation: String,
    /// Rows read by the sequential scans (`seq_tup_read` delta).
    pub rows: i64,
    /// Number of sequential scans started (`seq_scan` delta).
    pub scans: i64,
}

/// A change to the schema the statement made.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CatalogChange {
    /// `created`, `dropped`, `altered` or `renamed`.
    pub change: String,
    /// `table public.users`, `column public.users.email`, `constraint users_email_key on public.users`, …
    pub object: String,
    /// Type and nullability, old → new, validity: what a DBA wants to know about the change.
    pub detail: String,
}

/// Another session that blocked the tracing backend.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Blocker {
    pub pid: i32,
    pub application_name: Option<String>,
    pub state: Option<String>,
    pub query: Option<String>,
    pub xact_age_ms: Option<f64>,
}

/// The tracing backend waited for a lock someone else held.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LockWait {
    pub relation: String,
    pub mode: String,
    /// Longest wait seen by the sampler.
    pub waited_ms: f64,
    pub blockers: Vec<Blocker>,
}

/// A session that queued behind the tracing backend's locks.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueuedSession {
    pub pid: i32,
    pub application_name: Option<String>,
    pub query: Option<String>,
    pub waited_ms: f64,
}

/// Sessions that queued behind the statement while it ran.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Queue {
    /// Most sessions waiting at once.
    pub max_waiting: usize,
    /// Longest wait any of them reached.
    pub longest_wait_ms: f64,
    pub sessions: Vec<QueuedSession>,
}

/// Why a statement failed on the server.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatementError {
    pub sqlstate: Option<String>,
    pub message: String,
    /// `lock_timeout` expired while waiting for a lock.
    pub lock_timeout: bool,
    /// `statement_timeout` expired.
    pub statement_timeout: bool,
    /// Who held the lock we waited for, when the sampler saw it.
    pub blocked_by: Vec<Blocker>,
}

/// What one statement did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StatementTrace {
    /// 0-based position in its file.
    pub index: usize,
    pub line: usize,
    pub column: usize,
    pub sql: String,
    pub kind: crate::sql::StatementKind,
    pub actions: Vec<String>,
    pub executed: bool,
    /// Why it was not executed, when it was not.
    pub not_executed_reason: Option<String>,
    /// Milliseconds since the run started, when the statement began.
    pub started_ms: f64,
    pub duration_ms: Option<f64>,
    pub locks: Vec<RelationLock>,
    pub other_locks: Vec<OtherLock>,
    pub rewrites: Vec<Rewrite>,
    pub scans: Vec<Scan>,
    pub catalog_changes: Vec<CatalogChange>,
    pub waits: Vec<LockWait>,
    pub queue: Queue,
    pub error: Option<StatementError>,
    /// Sample runs on copies of its table, for the production estimate (`--production-stats`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<super::calibrate::Calibration>,
}

impl StatementTrace {
    /// A parsed statement with nothing observed yet: not executed, no locks.
    pub fn from_statement(statement: &crate::sql::Statement) -> Self {
        StatementTrace {
            index: statement.index,
            line: statement.line,
            column: statement.column,
            sql: statement.sql.clone(),
            kind: statement.summary.kind.clone(),
            actions: statement.summary.actions.clone(),
            ..StatementTrace::default()
        }
    }

    /// The strongest lock this statement takes on any relation.
    pub fn strongest_lock(&self) -> Option<LockMode> {
        self.locks.iter().map(|lock| lock.mode).max()
    }
}

/// What one migration file did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MigrationTrace {
    pub path: String,
    pub version: String,
    pub name: String,
    pub direction: Direction,
    pub statements: Vec<StatementTrace>,
    /// Milliseconds from the migration's first statement to the end of its transaction in this
    /// run (the commit in scratch mode, the final rollback in a dry-run): how long the dry-run
    /// itself held its locks. A real deployment holds them for `analyze::MigrationAssessment::lock_hold_ms`.
    pub transaction_ms: Option<f64>,
    /// Every relation lock the migration takes, as if it ran alone: observed where the migration
    /// took it, inferred where an earlier migration of the same transaction already held it.
    pub locks: Vec<MigrationLock>,
    /// `--reversible`: what running the down script right after the up did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversibility: Option<ReversibilityTrace>,
}

/// A relation lock a migration takes, strongest per relation and mode.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MigrationLock {
    pub relation: String,
    pub relkind: String,
    pub mode: LockMode,
    pub source: LockSource,
    /// For an inferred lock: the earlier migration (version) whose statement first took it in
    /// this transaction, so it could not be observed again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_since: Option<String>,
    /// Where the exact lock came from with `--isolate`: `isolated` (observed on a schema-only copy
    /// where the migration ran alone); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_on: Option<String>,
}

/// A script that failed during the `--reversible` round trip.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScriptFailure {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// `--reversible`: up, snapshot, down, compare with the snapshot taken before up, up again — all in
/// the same transaction, rolled back to the state after the first up before the next migration.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReversibilityTrace {
    /// Why the round trip was not run, when it was not (no down script, not runnable in a transaction).
    pub skipped: Option<String>,
    /// The migration has no down script.
    pub missing_down: bool,
    /// The down script.
    pub down_path: Option<String>,
    /// The down script's statements, observed like the up's.
    pub down: Vec<StatementTrace>,
    /// The down script failed (everything it did was rolled back to the state after up).
    pub down_failed: Option<ScriptFailure>,
    /// The up script failed when run again after the down.
    pub reapply_failed: Option<ScriptFailure>,
    /// Tables too big to fingerprint, left out of the data comparison.
    pub data_not_compared: Vec<String>,
    #[serde(skip)]
    pub before_up: Option<super::snapshot::Snapshot>,
    #[serde(skip)]
    pub after_up: Option<super::snapshot::Snapshot>,
    #[serde(skip)]
    pub after_down: Option<super::snapshot::Snapshot>,
}

impl ReversibilityTrace {
    /// A round trip that was not run, and why.
    pub fn skipped(reason: impl Into<String>, down_path: Option<String>) -> Self {
        ReversibilityTrace {
            skipped: Some(reason.into()),
            missing_down: false,
            down_path,
            down: Vec::new(),
            down_failed: None,
            reapply_failed: None,
            data_not_compared: Vec::new(),
            before_up: None,
            after_up: None,
            after_down: None,
        }
    }
}

/// How the run ended.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Outcome {
    Completed,
    /// A statement failed; the run stopped there and everything was rolled back.
    Failed {
        migration: usize,
        statement: usize,
        path: String,
        line: usize,
        message: String,
    },
}

/// Everything a run observed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Trace {
    pub server: ServerInfo,
    pub mode: Mode,
    /// Redacted description of the target.
    pub target: String,
    pub migrations: Vec<MigrationTrace>,
    pub outcome: Outcome,
    /// Things the run itself wants the reader to know (restored sequences, scratch-mode caveats).
    pub notes: Vec<String>,
}

/// `--isolate`: the schema-only copy of the target the migrations also ran on, each alone.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IsolationReport {
    /// The embedded server the copy lived on.
    pub server: ServerInfo,
    /// How the schema was copied (`pg_dump --schema-only …`).
    pub copied_with: String,
    /// Statements of the schema copy the embedded server refused (an extension it lacks, say).
    pub restore_errors: Vec<String>,
    /// How the run on the copy ended; locks after a failure there come from the target's run.
    pub outcome: Outcome,
    pub notes: Vec<String>,
}
