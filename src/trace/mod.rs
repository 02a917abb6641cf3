//! Running migrations and watching what they do: one transaction that is always rolled back
//! (dry-run) or one committed transaction per migration (scratch), with every statement observed
//! from inside (`pg_locks`, `pg_class`, `pg_stat_xact_*`) and sampled from a second connection.

mod attribution;
mod calibrate;
pub mod model;
pub mod observe;
mod round_trip;
pub mod sampler;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnection, PgDatabaseError};
use sqlx::{Connection, Row};
use tokio::sync::watch;

pub use calibrate::{Calibration, CalibrationRun};
pub use model::*;
use observe::{db_error, HeldLock, RelationSnapshot, ScanCounters, SchemaSnapshot};

use crate::db::{self, Target};
use crate::error::{Error, Result};
use crate::locks::LockMode;
use crate::plan::PlannedMigration;
use crate::sql::{Execution, ObjectKind, Statement, TxControl};

const RESOLVE_NAMES_SQL: &str = include_str!("../../sql/resolve_names.sql");
const SEQUENCES_SQL: &str = include_str!("../../sql/sequences.sql");
const RESTORE_SEQUENCE_SQL: &str = include_str!("../../sql/restore_sequence.sql");
const VISIBLE_RELATIONS_SQL: &str = include_str!("../../sql/visible_relations.sql");
const VISIBLE_OBJECTS_SQL: &str = include_str!("../../sql/visible_objects.sql");

/// The `application_name` of the session that runs the migration.
pub const APPLICATION_NAME: &str = "lockscope";
/// The `application_name` of the sampling session.
pub const SAMPLER_APPLICATION_NAME: &str = "lockscope-sampler";

/// How to run a trace.
#[derive(Debug, Clone)]
pub struct TraceOptions {
    pub mode: Mode,
    /// `lock_timeout` for the tracing session: it never queues behind real traffic for longer.
    pub lock_timeout: Duration,
    /// `statement_timeout` for the tracing session.
    pub statement_timeout: Duration,
    /// How often the sampler polls while a statement runs.
    pub sample_interval: Duration,
    /// `--i-know-this-is-production`: dry-run even as a superuser on a production-looking database.
    pub allow_production: bool,
    /// Told before each migration and statement runs (the progress bar listens).
    pub progress: Option<crate::progress::ProgressHook>,
    /// Dry-run only: time rewrites, index builds and validations on sample copies of their table
    /// too (rolled back), for production estimates (`check --production-stats`).
    pub calibrate: bool,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            mode: Mode::DryRun,
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(600),
            sample_interval: Duration::from_millis(10),
            allow_production: false,
            progress: None,
            calibrate: false,
        }
    }
}

/// Shared with the caller so an interrupted run can cancel the backend it left running.
#[derive(Debug, Clone, Default)]
pub struct TracedBackend(Arc<AtomicI32>);

impl TracedBackend {
    /// The pid of the tracing backend, once connected.
    pub fn pid(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            pid => Some(pid),
        }
    }
}

/// Runs `plan` against `target` and returns what was observed. A failing statement ends the run
/// with [`Outcome::Failed`] (the transaction is rolled back); an `Err` means lockscope itself
/// could not go on (connection lost, catalog query failed).
pub async fn run(
    target: &Target,
    plan: &[PlannedMigration],
    options: &TraceOptions,
    backend: &TracedBackend,
) -> Result<Trace> {
    run_with(target, plan, &[], options, backend).await
}

/// [`run`], also checking that each migration's down script undoes it (`--reversible`): `downs[i]`
/// is the down script of `plan[i]`, `None` when it has none. After each up, in the same
/// transaction: snapshot, down, snapshot, up again, then back to the state after the first up.
pub async fn run_reversible(
    target: &Target,
    plan: &[PlannedMigration],
    downs: &[Option<PlannedMigration>],
    options: &TraceOptions,
    backend: &TracedBackend,
) -> Result<Trace> {
    let downs: Vec<Option<&PlannedMigration>> =
        plan.iter().enumerate().map(|(i, _)| downs.get(i).and_then(Option::as_ref)).collect();
    run_with(target, plan, &downs, options, backend).await
}

async fn run_with(
    target: &Target,
    plan: &[PlannedMigration],
    downs: &[Option<&PlannedMigration>],
    options: &TraceOptions,
    backend: &TracedBackend,
) -> Result<Trace> {
    let mut conn = db::connect(target, APPLICATION_NAME).await?;
    let mut sampler = db::connect(target, SAMPLER_APPLICATION_NAME).await?;
    // The sampler reads catalogs and pg_locks only; it must never queue behind real traffic.
    sqlx::raw_sql("SET lock_timeout = '1s'; SET statement_timeout = '10s'")
        .execute(&mut sampler)
        .await
        .map_err(|err| db_error("configuring the sampler session", err))?;
    let row = sqlx::query(
        "SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int8 AS num, \
         pg_backend_pid() AS pid",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|err| db_error("reading the server version", err))?;
    let server = ServerInfo { version: row.get("version"), version_num: row.get("num") };
    let facts = crate::safety::target_facts(&mut conn).await?;
    crate::safety::vet(&facts, &target.display, options.allow_production || options.mode == Mode::Scratch)?;
    let pid: i32 = row.get("pid");
    backend.0.store(pid, Ordering::SeqCst);

    let mut tracer = Tracer {
        conn,
        sampler,
        pid,
        options: options.clone(),
        server: server.clone(),
        run_started: Instant::now(),
        in_transaction: false,
        user_transaction: false,
        sequences: BTreeMap::new(),
        notes: Vec::new(),
        migration_index: 0,
        created: HashMap::new(),
        lock_origin: HashMap::new(),
        locks_cache: None,
        scan_baseline: ScanCounters::new(),
        scan_baseline_complete: false,
        known_visible: HashSet::new(),
        not_built: Vec::new(),
    };
    let result = tracer.run_plan(plan, downs).await;
    let finished = tracer.finish().await;
    let mut notes = std::mem::take(&mut tracer.notes);
    tracer.close().await;
    let (migrations, outcome) = result?;
    finished?;
    if options.mode == Mode::Scratch {
        notes.insert(
            0,
            "scratch mode: the embedded throwaway database is empty only because it is new, which says nothing \
             about production: tables that earlier migrations created are judged as populated, and timings are \
             not representative; pass --database-url for a staging copy, or --production-stats for real sizes"
                .to_string(),
        );
    }
    Ok(Trace { server, mode: options.mode, target: target.display.clone(), migrations, outcome, notes })
}

/// A sequence's state before the dry-run first touched it.
#[derive(Debug, Clone)]
struct SequenceState {
    name: String,
    last_value: Option<i64>,
    start_value: i64,
}

struct Tracer {
    /// Indexes that a statement a dry-run cannot execute (`CREATE INDEX CONCURRENTLY`) would have
    /// built: lower-cased name, and the line that builds it. A later statement that uses one
    /// (`ADD CONSTRAINT … USING INDEX`, `ALTER INDEX … ATTACH PARTITION`) is not executed either,
    /// rather than failing on an index that only the real deployment creates.
    not_built: Vec<(String, usize)>,
    conn: PgConnection,
    sampler: PgConnection,
    pid: i32,
    options: TraceOptions,
    server: ServerInfo,
    run_started: Instant,
    /// lockscope's own transaction is open.
    in_transaction: bool,
    /// The migration's own `BEGIN` is open (mapped to a savepoint).
    user_transaction: bool,
    sequences: BTreeMap<i64, SequenceState>,
    notes: Vec<String>,
    /// Position in the plan of the migration being traced.
    migration_index: usize,
    /// Relations the run created (invisible to other sessions until commit), with the index of the
    /// migration that created them. Locks on a relation created by the same migration block nobody.
    created: HashMap<i64, usize>,
    /// The locks held after the last observed statement; nothing in between takes any (cleared by
    /// transaction control, which can release some).
    locks_cache: Option<Vec<HeldLock>>,
    /// Scan counters after the last statement. A dry-run is one transaction in a fresh session,
    /// so a table missing here has not been scanned yet.
    scan_baseline: ScanCounters,
    /// Scratch mode: `scan_baseline` holds every user table's counters, read after the last
    /// statement of this transaction (counters are flushed only between transactions).
    scan_baseline_complete: bool,
    /// Relations other sessions are known to see (visibility never changes within a dry-run).
    known_visible: HashSet<i64>,
    /// Which migration first took each relation lock in this transaction, for locks a later
    /// migration could only infer.
    lock_origin: HashMap<(String, LockMode), usize>,
}

/// A migration's trace before any statement ran.
fn empty_migration_trace(migration: &PlannedMigration) -> MigrationTrace {
    MigrationTrace {
        path: migration.path.display().to_string(),
        version: migration.version.clone(),
        name: migration.name.clone(),
        direction: migration.direction,
        statements: Vec::new(),
        transaction_ms: None,
        locks: Vec::new(),
        reversibility: None,
    }
}

const USER_TRANSACTION_SAVEPOINT: &str = "lockscope_migration_transaction";

/// What was read before a statement ran, to compare with what is read after it.
struct BeforeStatement {
    locks: Vec<HeldLock>,
    /// Relation names the statement mentions → (oid, …) as `resolve_names` found them.
    resolved: HashMap<String, (i64, String, String)>,
    target_names: Vec<String>,
    relations: RelationSnapshot,
    schema_tables: Vec<i64>,
    schema: SchemaSnapshot,
    scans: ScanCounters,
}

/// What was read after a statement succeeded.
struct AfterStatement {
    locks: Vec<HeldLock>,
    relations: RelationSnapshot,
    schema: SchemaSnapshot,
    scans: ScanCounters,
}

impl Tracer {
    async fn run_plan(
        &mut self,
        plan: &[PlannedMigration],
        downs: &[Option<&PlannedMigration>],
    ) -> Result<(Vec<MigrationTrace>, Outcome)> {
        let mut traces = Vec::new();
        for (migration_index, migration) in plan.iter().enumerate() {
            self.progress(crate::progress::Step::Migration {
                index: migration_index,
                total: plan.len(),
                path: &migration.path,
                statements: migration.statements.len(),
            });
            self.migration_index = migration_index;
            if !self.in_transaction {
                self.begin().await?;
            }
            let reversible = (!downs.is_empty()).then(|| downs.get(migration_index).copied().flatten());
            let before_up = match reversible {
                Some(down) => Some(self.before_up(migration, down).await?),
                None => None,
            };
            let migration_started = self.elapsed_ms();
            let mut trace = empty_migration_trace(migration);
            let failure = self.trace_statements(migration, migration_index, &mut trace).await?;
            self.summarize_locks(&mut trace, plan);
            if let Some(failure) = failure {
                trace.transaction_ms = Some(self.elapsed_ms() - migration_started);
                traces.push(trace);
                self.note_dry_run_hold_times(&mut traces);
                return Ok((traces, failure));
            }
            if self.user_transaction {
                // A BEGIN without COMMIT: psql would leave it open; close the savepoint here.
                self.execute_control(&format!("RELEASE SAVEPOINT {USER_TRANSACTION_SAVEPOINT}")).await?;
                self.user_transaction = false;
            }
            if let (Some(down), Some(before_up)) = (reversible, before_up) {
                trace.reversibility = Some(self.round_trip(migration, &trace, down, before_up).await?);
            }
            if self.options.mode == Mode::Scratch {
                self.execute_control("COMMIT").await?;
                self.in_transaction = false;
                trace.transaction_ms = Some(self.elapsed_ms() - migration_started);
            }
            traces.push(trace);
        }
        self.note_dry_run_hold_times(&mut traces);
        self.progress(crate::progress::Step::Finished);
        Ok((traces, Outcome::Completed))
    }

    /// Traces the migration's statements in order into `trace`, stopping at the first that fails
    /// (returned as the outcome).
    async fn trace_statements(
        &mut self,
        migration: &PlannedMigration,
        migration_index: usize,
        trace: &mut MigrationTrace,
    ) -> Result<Option<Outcome>> {
        for statement in &migration.statements {
            self.progress(crate::progress::Step::Statement {
                index: statement.index,
                line: statement.line,
                sql: &statement.sql,
            });
            let traced = self.trace_statement(migration, statement).await?;
            if let Some(error) = &traced.error {
                let failure = Outcome::Failed {
                    migration: migration_index,
                    statement: statement.index,
                    path: trace.path.clone(),
                    line: statement.line,
                    message: error.message.clone(),
                };
                trace.statements.push(traced);
                return Ok(Some(failure));
            }
            trace.statements.push(traced);
        }
        Ok(None)
    }

    fn progress(&self, step: crate::progress::Step<'_>) {
        if let Some(hook) = &self.options.progress {
            hook.emit(step);
        }
    }

    /// In a dry-run every lock is held until the final rollback.
    fn note_dry_run_hold_times(&self, traces: &mut [MigrationTrace]) {
        if self.options.mode != Mode::DryRun {
            return;
        }
        let end = self.elapsed_ms();
        for trace in traces {
            let started = trace.statements.first().map_or(end, |s| s.started_ms);
            trace.transaction_ms = Some(end - started);
        }
    }

    fn elapsed_ms(&self) -> f64 {
        self.run_started.elapsed().as_secs_f64() * 1000.0
    }

    async fn execute_control(&mut self, sql: &str) -> Result<()> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut self.conn)
            .await
            .map_err(|err| db_error(&format!("running `{sql}`"), err))?;
        Ok(())
    }

    /// Opens lockscope's transaction with its safety settings (docs/ARCHITECTURE.md, "Safety invariants").
    /// One round trip: a simple-query message with several statements runs them in order and
    /// stops at the first error (PostgreSQL docs, "Multiple Statements in a Simple Query":
    /// https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-FLOW-MULTI-STATEMENT), so
    /// no migration statement can run before the timeouts are in place.
    async fn begin(&mut self) -> Result<()> {
        self.locks_cache = None;
        self.scan_baseline.clear();
        self.scan_baseline_complete = false;
        let mut sql = format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'; SET LOCAL application_name = '{APPLICATION_NAME}'",
            self.options.lock_timeout.as_millis().max(1),
            self.options.statement_timeout.as_millis().max(1)
        );
        if self.server.major() >= 14 {
            // A killed lockscope is noticed by the server within a second even mid-statement.
            sql.push_str("; SET LOCAL client_connection_check_interval = '1s'");
        }
        // Set first: should a SET fail after BEGIN, the open transaction is still rolled back.
        self.in_transaction = true;
        self.execute_control(&sql).await
    }

    /// After a migration's own `SET`/`RESET`: keep its lower timeouts, but never let it disable
    /// or raise lockscope's.
    async fn reassert_timeouts(&mut self) -> Result<()> {
        let rows = sqlx::query(
            "SELECT name, setting::int8 AS ms FROM pg_catalog.pg_settings WHERE name IN ('lock_timeout', 'statement_timeout')",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(|err| db_error("reading timeouts", err))?;
        for row in rows {
            let name: String = row.get("name");
            let ms: i64 = row.get("ms");
            let ours = if name == "lock_timeout" { self.options.lock_timeout } else { self.options.statement_timeout };
            let ours = ours.as_millis().max(1) as i64;
            if ms == 0 || ms > ours {
                self.execute_control(&format!("SET LOCAL {name} = '{ours}ms'")).await?;
                let note = format!("the migration set {name} to {ms}ms; lockscope kept its own {ours}ms while tracing");
                if !self.notes.contains(&note) {
                    self.notes.push(note);
                }
            }
        }
        Ok(())
    }

    async fn trace_statement(&mut self, migration: &PlannedMigration, statement: &Statement) -> Result<StatementTrace> {
        let mut trace = StatementTrace { started_ms: self.elapsed_ms(), ..StatementTrace::from_statement(statement) };

        let not_in_transaction = match &statement.summary.execution {
            Execution::NotInTransaction { reason } => Some(reason.clone()),
            Execution::Forbidden { reason } => {
                // The caller refuses these before connecting; never execute one regardless.
                return Err(Error::Usage(format!("refusing to run `{}`: {reason}", statement.sql)));
            }
            Execution::InTransaction if migration.no_transaction => {
                Some("the migration is declared to run outside a transaction".to_string())
            }
            Execution::InTransaction if copies_to_client(statement) => {
                trace.not_executed_reason = Some(
                    "not executed: COPY … TO STDOUT streams rows to the client; its documented lock is reported".into(),
                );
                trace.locks = self.inferred_locks(statement).await?;
                return Ok(trace);
            }
            Execution::InTransaction => None,
        };

        match &statement.summary.tx {
            TxControl::Begin | TxControl::Commit | TxControl::Rollback => {
                return self.transaction_control(statement, trace).await;
            }
            _ => {}
        }

        if self.options.mode == Mode::DryRun {
            if let Some((index, line)) = uses_index_not_built(statement, &self.not_built) {
                trace.not_executed_reason = Some(format!(
                    "not executed on a dry-run target: it uses index {index}, which the statement at line {line} \
                     builds CONCURRENTLY — a dry-run cannot run that, so the index does not exist here"
                ));
                trace.locks = self.inferred_locks(statement).await?;
                return Ok(trace);
            }
        }
        if let Some(reason) = not_in_transaction {
            if self.options.mode == Mode::DryRun {
                trace.not_executed_reason = Some(format!("not executed on a dry-run target: {reason}"));
                trace.locks = self.inferred_locks(statement).await?;
                if let Some(pg_query::NodeEnum::IndexStmt(index)) = &statement.ast {
                    if !index.idxname.is_empty() {
                        self.not_built.push((index.idxname.to_lowercase(), statement.line));
                    }
                }
                return Ok(trace);
            }
            if self.user_transaction && !migration.no_transaction {
                // What PostgreSQL itself answers when the migration's own BEGIN is still open.
                trace.locks = self.inferred_locks(statement).await?;
                trace.error = Some(StatementError {
                    sqlstate: Some("25001".into()),
                    message: format!(
                        "{}{} cannot run inside a transaction block (the migration's own BEGIN is still open)",
                        statement.summary.kind,
                        if statement.summary.concurrently { " CONCURRENTLY" } else { "" }
                    ),
                    lock_timeout: false,
                    statement_timeout: false,
                    blocked_by: Vec::new(),
                });
                return Ok(trace);
            }
            return self.trace_outside_transaction(statement, trace).await;
        }

        self.trace_in_transaction(statement, trace).await
    }

    /// A migration's own `BEGIN`/`COMMIT`/`ROLLBACK`, run as a savepoint inside lockscope's transaction.
    async fn transaction_control(
        &mut self,
        statement: &Statement,
        mut trace: StatementTrace,
    ) -> Result<StatementTrace> {
        let sql = match (&statement.summary.tx, self.user_transaction) {
            (TxControl::Begin, false) => {
                self.user_transaction = true;
                format!("SAVEPOINT {USER_TRANSACTION_SAVEPOINT}")
            }
            (TxControl::Commit, true) => {
                self.user_transaction = false;
                format!("RELEASE SAVEPOINT {USER_TRANSACTION_SAVEPOINT}")
            }
            (TxControl::Rollback, true) => {
                self.user_transaction = false;
                format!(
                    "ROLLBACK TO SAVEPOINT {USER_TRANSACTION_SAVEPOINT}; RELEASE SAVEPOINT {USER_TRANSACTION_SAVEPOINT}"
                )
            }
            (TxControl::Begin, true) => {
                trace.not_executed_reason =
                    Some("already inside a transaction block (PostgreSQL ignores it with a warning)".into());
                return Ok(trace);
            }
            _ => {
                trace.not_executed_reason =
                    Some("no transaction block is open (PostgreSQL ignores it with a warning)".into());
                return Ok(trace);
            }
        };
        let started = Instant::now();
        self.execute_control(&sql).await?;
        // Rolling back to a savepoint releases locks taken since.
        self.locks_cache = None;
        trace.executed = true;
        trace.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        trace.not_executed_reason =
            Some(format!("run as `{sql}` so that lockscope's own transaction stays open and is rolled back"));
        Ok(trace)
    }

    /// The documented locks of a statement that is not executed, reported as inferred.
    async fn inferred_locks(&mut self, statement: &Statement) -> Result<Vec<RelationLock>> {
        let resolved = self.resolve_names(statement).await?;
        let mut locks: Vec<RelationLock> = statement
            .summary
            .locks
            .iter()
            .map(|lock| {
                let written = lock.relation.to_sql();
                let (relation, relkind) = match resolved.get(&written) {
                    Some(found) => (found.1.clone(), found.2.clone()),
                    None => (written, ObjectKind::relkind_name(lock.kind).to_string()),
                };
                RelationLock { relation, relkind, mode: lock.mode, source: LockSource::Inferred }
            })
            .collect();
        locks.sort_by(|a, b| (&a.relation, a.mode).cmp(&(&b.relation, b.mode)));
        locks.dedup();
        Ok(locks)
    }

    /// written name → (oid, schema.name, relkind)
    async fn resolve_names(&mut self, statement: &Statement) -> Result<HashMap<String, (i64, String, String)>> {
        let mut names: Vec<String> = statement.summary.targets.iter().map(|t| t.to_sql()).collect();
        names.extend(statement.summary.locks.iter().map(|l| l.relation.to_sql()));
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(RESOLVE_NAMES_SQL)
            .bind(&names)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|err| db_error("resolving relation names", err))?;
        Ok(rows
            .iter()
            .map(|row| {
                let name: String = row.get("name");
                let qualified =
                    format!("{}.{}", row.get::<String, _>("schema_name"), row.get::<String, _>("relation_name"));
                let relkind = crate::sql::relkind_name(&row.get::<String, _>("relkind")).to_string();
                (name, (row.get("oid"), qualified, relkind))
            })
            .collect())
    }

    /// Scratch mode only: commit what came before, run the statement on its own (it cannot run in
    /// a transaction block), and start a new transaction for the rest of the migration.
    async fn trace_outside_transaction(
        &mut self,
        statement: &Statement,
        mut trace: StatementTrace,
    ) -> Result<StatementTrace> {
        trace.locks = self.inferred_locks(statement).await?;
        if self.in_transaction {
            self.execute_control("COMMIT").await?;
            self.in_transaction = false;
        }
        let sql = format!(
            "SET lock_timeout = '{}ms'; SET statement_timeout = '{}ms'",
            self.options.lock_timeout.as_millis().max(1),
            self.options.statement_timeout.as_millis().max(1)
        );
        self.execute_control(&sql).await?;
        let (result, samples, elapsed) = self.execute_sampled(&statement.sql).await?;
        self.execute_control("RESET lock_timeout; RESET statement_timeout").await?;
        trace.executed = true;
        trace.duration_ms = Some(elapsed);
        trace.waits = samples.waits;
        trace.queue = samples.queue;
        trace.not_executed_reason = None;
        if let Err(err) = result {
            trace.error = Some(self.statement_error(err, statement, &trace.waits)?);
        }
        self.begin().await?;
        Ok(trace)
    }

    /// Runs the statement while the sampler polls; returns its result, the samples and its wall time.
    async fn execute_sampled(
        &mut self,
        sql: &str,
    ) -> Result<(std::result::Result<(), sqlx::Error>, sampler::Samples, f64)> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let interval = self.options.sample_interval;
        let pid = self.pid;
        let started = Instant::now();
        let conn = &mut self.conn;
        let execute = async move {
            let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(conn).await.map(|_| ());
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            let _ = stop_tx.send(true);
            (result, elapsed)
        };
        let sample = sampler::sample(&mut self.sampler, pid, interval, stop_rx);
        let ((result, elapsed), samples) = tokio::join!(execute, sample);
        Ok((result, samples?, elapsed))
    }

    async fn trace_in_transaction(
        &mut self,
        statement: &Statement,
        mut trace: StatementTrace,
    ) -> Result<StatementTrace> {
        let scope = ObservationScope::of(statement);
        // Unflushed counters survive a commit, so in scratch mode (several transactions) read them all;
        // the throwaway database is small. A dry-run is one transaction in a fresh session.
        let all_counters = self.options.mode == Mode::Scratch;
        let mut before = self.observe_before(statement, &scope, all_counters).await?;
        let calibration = self.calibrate_before(statement, &mut before).await?;
        let (result, samples, elapsed) = self.execute_sampled(&statement.sql).await?;
        trace.executed = true;
        trace.duration_ms = Some(elapsed);
        trace.waits = samples.waits;
        trace.queue = samples.queue;
        if let Err(err) = result {
            trace.error = Some(self.statement_error(err, statement, &trace.waits)?);
            trace.locks = self.inferred_locks(statement).await.unwrap_or_default();
            return Ok(trace);
        }

        let after = self.observe_after(statement, &scope, &before, all_counters).await?;
        self.record_changes(statement, &mut trace, &before, after).await?;
        trace.calibration = calibration;

        if statement.summary.kind.changes_session_settings() {
            self.reassert_timeouts().await?;
        }
        Ok(trace)
    }

    /// Reads locks, names, relations, schema and scan counters before the statement runs.
    async fn observe_before(
        &mut self,
        statement: &Statement,
        scope: &ObservationScope,
        all_counters: bool,
    ) -> Result<BeforeStatement> {
        let summary = &statement.summary;
        let locks = match self.locks_cache.take() {
            Some(locks) => locks,
            None => self.held_locks().await?,
        };
        let resolved = self.resolve_names(statement).await?;
        let target_names: Vec<String> = resolved.keys().cloned().collect();
        let relations = if scope.relations {
            observe::relations(&mut self.conn, &target_names, &[], summary.opaque).await?
        } else {
            RelationSnapshot::default()
        };
        let schema_tables = relations.table_oids();
        let schema = if scope.schema {
            observe::schema(&mut self.conn, &schema_tables).await?
        } else {
            SchemaSnapshot::default()
        };
        let scans = if all_counters && !self.scan_baseline_complete {
            observe::scan_counters(&mut self.conn, &[], true).await?
        } else {
            self.scan_baseline.clone()
        };
        if self.options.mode == Mode::DryRun && may_advance_sequences(statement) {
            self.remember_sequences(&relations, &resolved, summary.opaque).await?;
        }
        Ok(BeforeStatement { locks, resolved, target_names, relations, schema_tables, schema, scans })
    }

    /// With `--calibrate` in a dry-run: times the statement on sample copies (not counting their scans).
    async fn calibrate_before(
        &mut self,
        statement: &Statement,
        before: &mut BeforeStatement,
    ) -> Result<Option<calibrate::Calibration>> {
        if !(self.options.calibrate && self.options.mode == Mode::DryRun) {
            return Ok(None);
        }
        let oid_of = |name: &str| before.resolved.get(name).map(|found| found.0);
        let found = calibrate::calibrate(&mut self.conn, statement, &before.relations, oid_of, self.pid).await;
        if found.is_some() {
            // The copies were filled from the table: those scans are not the statement's.
            let counters = observe::scan_counters(&mut self.conn, &before.relations.table_oids(), false).await?;
            before.scans.extend(counters);
        }
        Ok(found)
    }

    /// Reads locks, relations, schema and scan counters after the statement succeeded, and keeps
    /// them as the next statement's baseline.
    async fn observe_after(
        &mut self,
        statement: &Statement,
        scope: &ObservationScope,
        before: &BeforeStatement,
        all_counters: bool,
    ) -> Result<AfterStatement> {
        let summary = &statement.summary;
        let locks = self.held_locks().await?;
        let relations = if scope.relations {
            let oids: Vec<i64> = before.relations.rows.keys().copied().collect();
            observe::relations(&mut self.conn, &before.target_names, &oids, summary.opaque).await?
        } else {
            RelationSnapshot::default()
        };
        let mut schema_tables = relations.table_oids();
        schema_tables.extend(&before.schema_tables);
        schema_tables.sort();
        schema_tables.dedup();
        let schema = if scope.schema {
            observe::schema(&mut self.conn, &schema_tables).await?
        } else {
            SchemaSnapshot::default()
        };
        let scan_oids = scan_candidates(&locks, &relations);
        let scans = if cannot_scan(statement) {
            // Nothing was scanned: the counters are still those of the baseline.
            before.scans.clone()
        } else {
            observe::scan_counters(&mut self.conn, &scan_oids, all_counters).await?
        };
        if all_counters {
            self.scan_baseline = scans.clone();
            self.scan_baseline_complete = true;
        } else {
            self.scan_baseline.extend(scans.iter().map(|(oid, counters)| (*oid, *counters)));
        }
        self.locks_cache = Some(locks.clone());
        Ok(AfterStatement { locks, relations, schema, scans })
    }

    /// Fills the trace's locks, rewrites, scans and catalog changes from the two readings, keeping
    /// only what other sessions could be blocked by.
    async fn record_changes(
        &mut self,
        statement: &Statement,
        trace: &mut StatementTrace,
        before: &BeforeStatement,
        mut after: AfterStatement,
    ) -> Result<()> {
        let fresh = observe::new_locks(&before.locks, &after.locks);
        let mut names = RelationNames::new(&[&before.locks, &after.locks], &[&before.relations, &after.relations]);
        let fresh_oids: Vec<i64> = fresh.iter().filter_map(|lock| lock.relation_oid).collect();
        let visible = self.visible_relations(&fresh_oids).await?;
        for oid in &fresh_oids {
            if !visible.contains_key(oid) && names.knows(*oid) {
                self.created.entry(*oid).or_insert(self.migration_index);
            }
        }
        for (oid, (name, relkind)) in visible.iter().filter(|(_, (name, _))| !name.is_empty()) {
            names.names.entry(*oid).or_insert_with(|| (name.clone(), crate::sql::relkind_name(relkind).to_string()));
        }
        // What matters is what other sessions could be blocked by: drop relations this migration
        // created and transient ones (the new heap of a rewrite), which nobody else can see.
        let (created, current_migration) = (self.created.clone(), self.migration_index);
        let matters = |oid: &i64| match created.get(oid) {
            Some(migration) => *migration < current_migration,
            None => visible.contains_key(oid) || names.knows(*oid),
        };
        let fresh: Vec<HeldLock> =
            fresh.into_iter().filter(|lock| lock.relation_oid.is_none_or(|oid| matters(&oid))).collect();
        trace.locks = self.relation_locks(statement, &fresh, &before.locks, &before.resolved, &names);
        trace.other_locks = self.other_locks(&fresh, &names).await?;
        trace.rewrites = observe::rewrites(&before.relations, &after.relations);
        trace.rewrites.retain(|rewrite| matters(&rewrite.oid));
        after.scans.retain(|oid, _| matters(oid));
        trace.scans = observe::scans(&before.scans, &after.scans, |oid| names.name(oid));
        trace.catalog_changes =
            observe::catalog_changes(&before.relations, &after.relations, &before.schema, &after.schema);
        Ok(())
    }

    /// Relations other sessions can see (oid → committed name, relkind), asked from the sampler session.
    async fn visible_relations(&mut self, oids: &[i64]) -> Result<HashMap<i64, (String, String)>> {
        let unknown: Vec<i64> = oids
            .iter()
            .copied()
            .filter(|oid| !self.known_visible.contains(oid) && !self.created.contains_key(oid))
            .collect();
        let mut visible: HashMap<i64, (String, String)> = HashMap::new();
        if !unknown.is_empty() {
            let rows = sqlx::query(VISIBLE_RELATIONS_SQL)
                .bind(&unknown)
                .fetch_all(&mut self.sampler)
                .await
                .map_err(|err| db_error("checking which relations other sessions see", err))?;
            for row in rows {
                visible.insert(row.get("oid"), (row.get("name"), row.get("relkind")));
            }
            self.known_visible.extend(visible.keys().copied());
        }
        // Already known to be visible: the caller names them from its own snapshots.
        for oid in oids.iter().filter(|oid| self.known_visible.contains(oid)) {
            visible.entry(*oid).or_insert_with(|| (String::new(), String::new()));
        }
        Ok(visible)
    }

    /// Non-relation locks worth reporting: advisory locks, locks on objects other sessions can
    /// see, and page/tuple locks on relations that matter.
    async fn other_locks(&mut self, fresh: &[HeldLock], names: &RelationNames) -> Result<Vec<OtherLock>> {
        let objects: Vec<&HeldLock> = fresh.iter().filter(|lock| lock.object.is_some()).collect();
        let mut visible_descriptions = Vec::new();
        if !objects.is_empty() {
            let classids: Vec<i64> = objects.iter().map(|l| l.object.unwrap().0).collect();
            let objids: Vec<i64> = objects.iter().map(|l| l.object.unwrap().1).collect();
            let objsubids: Vec<i32> = objects.iter().map(|l| l.object.unwrap().2).collect();
            let rows = sqlx::query(VISIBLE_OBJECTS_SQL)
                .bind(&classids)
                .bind(&objids)
                .bind(&objsubids)
                .fetch_all(&mut self.sampler)
                .await
                .map_err(|err| db_error("describing locked objects", err))?;
            visible_descriptions = rows.iter().map(|row| row.get::<Option<String>, _>("description")).collect();
        }
        let mut found = Vec::new();
        let mut object_position = 0;
        for lock in fresh {
            if lock.locktype == "relation" {
                continue;
            }
            if lock.object.is_some() {
                let description = visible_descriptions.get(object_position).cloned().flatten();
                object_position += 1;
                if lock.locktype == "object" && description.is_none() {
                    continue;
                }
            }
            let mut other = observe::other_lock(lock);
            if let Some(oid) = lock.relation_oid {
                other.object = names.name(oid);
            }
            found.push(other);
        }
        Ok(found)
    }

    async fn held_locks(&mut self) -> Result<Vec<HeldLock>> {
        let locks = observe::held_locks(&mut self.conn).await?;
        Ok(locks.into_iter().filter(|lock| !lock.is_catalog()).collect())
    }

    /// Observed relation locks, plus documented ones the transaction already held (inferred).
    fn relation_locks(
        &self,
        statement: &Statement,
        fresh: &[HeldLock],
        held_before: &[HeldLock],
        resolved: &HashMap<String, (i64, String, String)>,
        names: &RelationNames,
    ) -> Vec<RelationLock> {
        let mut locks: Vec<RelationLock> = fresh
            .iter()
            .filter(|lock| lock.locktype == "relation")
            .filter_map(|lock| {
                let oid = lock.relation_oid?;
                Some(RelationLock {
                    relation: names.name(oid),
                    relkind: lock
                        .relkind
                        .as_deref()
                        .map(crate::sql::relkind_name)
                        .unwrap_or_else(|| names.relkind(oid))
                        .to_string(),
                    mode: LockMode::parse(&lock.mode)?,
                    source: LockSource::Observed,
                })
            })
            .collect();
        for documented in &statement.summary.locks {
            let Some((oid, qualified, relkind)) = resolved.get(&documented.relation.to_sql()) else { continue };
            if self.created.get(oid) == Some(&self.migration_index) {
                continue;
            }
            let mode_name = documented.mode.pg_name();
            let observed = fresh.iter().any(|l| l.relation_oid == Some(*oid) && l.mode == mode_name);
            let already_held = held_before.iter().any(|l| l.relation_oid == Some(*oid) && l.mode == mode_name);
            if !observed && already_held {
                locks.push(RelationLock {
                    relation: qualified.clone(),
                    relkind: relkind.clone(),
                    mode: documented.mode,
                    source: LockSource::Inferred,
                });
            }
        }
        locks.sort_by(|a, b| {
            (a.source, std::cmp::Reverse(a.mode), &a.relation).cmp(&(b.source, std::cmp::Reverse(b.mode), &b.relation))
        });
        locks.dedup();
        locks
    }

    /// Turns a failed statement into a report entry; a lost connection is lockscope's own error.
    fn statement_error(&self, err: sqlx::Error, statement: &Statement, waits: &[LockWait]) -> Result<StatementError> {
        let sqlx::Error::Database(db_err) = err else {
            return Err(Error::Database(db::redact(&format!(
                "lost the tracing connection while running the statement at line {}: {err}; the server rolls back \
                 the open transaction when a connection drops",
                statement.line
            ))));
        };
        let sqlstate = db_err.code().map(|c| c.to_string());
        let mut message = db_err.message().to_string();
        if let Some(pg) = db_err.try_downcast_ref::<PgDatabaseError>() {
            if let Some(detail) = pg.detail() {
                message.push_str(&format!(" (detail: {detail})"));
            }
        }
        let lock_timeout = sqlstate.as_deref() == Some("55P03") && message.contains("lock timeout");
        let statement_timeout = sqlstate.as_deref() == Some("57014") && message.contains("statement timeout");
        let blocked_by = waits.iter().flat_map(|w| w.blockers.iter().cloned()).collect();
        Ok(StatementError { sqlstate, message: db::redact(&message), lock_timeout, statement_timeout, blocked_by })
    }

    /// Notes the state of sequences the statement may advance, the first time each is seen.
    async fn remember_sequences(
        &mut self,
        relations: &RelationSnapshot,
        resolved: &HashMap<String, (i64, String, String)>,
        everything: bool,
    ) -> Result<()> {
        let table_oids = relations.table_oids();
        let mut table_oids = table_oids;
        table_oids.extend(resolved.values().filter(|r| r.2 == "table" || r.2 == "partitioned table").map(|r| r.0));
        let named: Vec<i64> = resolved.values().filter(|r| r.2 == "sequence").map(|r| r.0).collect();
        if table_oids.is_empty() && named.is_empty() && !everything {
            return Ok(());
        }
        // Read from the sampler: sequence state is global, only sequences that existed before the run
        // need putting back, and reading one takes a lock that must not land in the traced session.
        let rows = sqlx::query(SEQUENCES_SQL)
            .bind(&table_oids)
            .bind(&named)
            .bind(everything)
            .fetch_all(&mut self.sampler)
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(err) => {
                self.notes.push(db::redact(&format!(
                    "could not read the state of sequences the migration may advance ({err}); if it calls nextval() \
                     they stay advanced after the dry-run"
                )));
                return Ok(());
            }
        };
        for row in rows {
            let oid: i64 = row.get("oid");
            self.sequences.entry(oid).or_insert_with(|| SequenceState {
                name: row.get("name"),
                last_value: row.get("last_value"),
                start_value: row.get("start_value"),
            });
        }
        Ok(())
    }

    /// Ends the run: rollback (dry-run) or commit (scratch), then puts back sequences the
    /// dry-run advanced and closes both sessions, which drops session-level advisory locks too.
    async fn finish(&mut self) -> Result<()> {
        if self.options.mode == Mode::Scratch {
            if self.in_transaction {
                // Only reached after a failure: what did not commit is discarded.
                let _ = self.execute_control("ROLLBACK").await;
            }
            return Ok(());
        }
        // Sequence state is not transactional and visible to every session, so read what the dry-run
        // left from the sampler: the tracing transaction may be aborted, or its connection gone.
        let mut left_by_us = BTreeMap::new();
        for oid in self.sequences.keys().copied().collect::<Vec<_>>() {
            let value: std::result::Result<Option<i64>, _> =
                sqlx::query_scalar("SELECT pg_catalog.pg_sequence_last_value($1::int8::oid)::int8")
                    .bind(oid)
                    .fetch_one(&mut self.sampler)
                    .await;
            if let Ok(value) = value {
                left_by_us.insert(oid, value);
            }
        }
        let rollback = match sqlx::raw_sql("ROLLBACK").execute(&mut self.conn).await {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(err)) => Err(Error::Database(db::redact(&format!("running `ROLLBACK`: {err}")))),
            Err(_) => {
                // PostgreSQL aborts the open transaction of a connection that is gone.
                self.notes.push(
                    "the tracing connection was lost before the final ROLLBACK; PostgreSQL rolled the open \
                     transaction back when the connection closed"
                        .into(),
                );
                Ok(())
            }
        };
        let _ = sqlx::raw_sql("SELECT pg_catalog.pg_advisory_unlock_all()").execute(&mut self.conn).await;
        self.in_transaction = false;
        for (oid, state) in self.sequences.clone() {
            let Some(ours) = left_by_us.get(&oid).copied() else { continue };
            if ours == state.last_value {
                continue;
            }
            let restored = sqlx::query(RESTORE_SEQUENCE_SQL)
                .bind(oid)
                .bind(state.last_value)
                .bind(state.start_value)
                .bind(ours)
                .fetch_optional(&mut self.sampler)
                .await;
            let note = match restored {
                Ok(Some(_)) => format!(
                    "sequence {} was advanced by the dry-run (nextval is not undone by ROLLBACK); lockscope put it back",
                    state.name
                ),
                Ok(None) => format!(
                    "sequence {} was advanced by the dry-run and used by another session since; it was left as it is",
                    state.name
                ),
                Err(err) => format!("sequence {} was advanced by the dry-run and could not be put back: {err}", state.name),
            };
            self.notes.push(db::redact(&note));
        }
        rollback
    }

    /// Closes both sessions politely.
    async fn close(self) {
        let _ = self.conn.close().await;
        let _ = self.sampler.close().await;
    }
}

/// Which before/after readings a statement needs. Every statement gets its locks and scans read;
/// storage identity (rewrites, created and dropped relations) and the column/constraint/index diff
/// only where the statement kind can change them — per-statement cost matters on big schemas.
struct ObservationScope {
    relations: bool,
    schema: bool,
}

impl ObservationScope {
    fn of(statement: &Statement) -> Self {
        let summary = &statement.summary;
        if summary.opaque {
            return ObservationScope { relations: true, schema: false };
        }
        if summary.kind.only_reads_or_writes_rows() || summary.kind.only_changes_catalog_or_session() {
            return ObservationScope { relations: false, schema: false };
        }
        ObservationScope { relations: true, schema: summary.kind.may_change_table_definitions() }
    }
}

/// Statement kinds that never scan a user table (catalog-only work, no expression evaluated
/// against rows), so the scan counters after them need not be read.
fn cannot_scan(statement: &Statement) -> bool {
    const KINDS: &[&str] = &[
        "COMMENT",
        "GRANT",
        "REVOKE",
        "SET",
        "RESET",
        "SHOW",
        "CREATE FUNCTION",
        "CREATE PROCEDURE",
        "ALTER FUNCTION",
        "DROP FUNCTION",
        "CREATE TRIGGER",
        "DROP TRIGGER",
        "CREATE SCHEMA",
        "CREATE TYPE",
        "CREATE SEQUENCE",
        "DROP INDEX",
        "DROP TABLE",
        "CREATE VIEW",
        "DROP VIEW",
        "SECURITY LABEL",
        "CREATE POLICY",
        "ALTER POLICY",
        "DROP POLICY",
        "SAVEPOINT",
        "RELEASE",
        "ROLLBACK TO",
    ];
    !statement.summary.opaque && KINDS.contains(&statement.summary.kind.as_str())
}

/// Whether a statement can advance a sequence (nextval through a default, a serial or identity
/// column filled for existing rows, a trigger, a function): everything but plain DDL that stores
/// no values.
fn may_advance_sequences(statement: &Statement) -> bool {
    statement.summary.opaque || statement.summary.kind.may_advance_sequences()
}

/// `COPY … TO STDOUT`: the rows would stream to lockscope, which has nowhere to put them.
fn copies_to_client(statement: &Statement) -> bool {
    matches!(&statement.ast, Some(pg_query::NodeEnum::CopyStmt(copy))
        if !copy.is_from && copy.filename.is_empty() && !copy.is_program)
}

/// Table oids whose scan counters are worth reading: locked tables and snapshot tables.
fn scan_candidates(locks: &[HeldLock], relations: &RelationSnapshot) -> Vec<i64> {
    let mut oids: BTreeSet<i64> = locks
        .iter()
        .filter(|lock| matches!(lock.relkind.as_deref(), Some("r" | "m" | "t")))
        .filter_map(|lock| lock.relation_oid)
        .collect();
    oids.extend(
        relations.rows.values().filter(|row| matches!(row.relkind.as_str(), "r" | "m" | "t")).map(|row| row.oid),
    );
    oids.into_iter().collect()
}

/// Names for relation oids from everything the tracer has read, including relations the
/// statement dropped (known only from before) or created (known only from after).
struct RelationNames {
    names: HashMap<i64, (String, String)>,
}

impl RelationNames {
    fn new(locks: &[&[HeldLock]], snapshots: &[&RelationSnapshot]) -> Self {
        let mut names = HashMap::new();
        for snapshot in snapshots {
            for (oid, row) in &snapshot.rows {
                let name = snapshot.display_name(*oid).unwrap_or_default();
                names.insert(*oid, (name, crate::sql::relkind_name(&row.relkind).to_string()));
            }
        }
        for lock in locks.iter().flat_map(|l| l.iter()) {
            if let (Some(oid), Some(schema), Some(name)) = (lock.relation_oid, &lock.schema_name, &lock.relation_name) {
                names.entry(oid).or_insert_with(|| {
                    (
                        format!("{schema}.{name}"),
                        lock.relkind.as_deref().map(crate::sql::relkind_name).unwrap_or("unknown").to_string(),
                    )
                });
            }
        }
        RelationNames { names }
    }

    fn knows(&self, oid: i64) -> bool {
        self.names.contains_key(&oid)
    }

    fn name(&self, oid: i64) -> String {
        self.names.get(&oid).map(|n| n.0.clone()).unwrap_or_else(|| format!("oid {oid} (dropped)"))
    }

    fn relkind(&self, oid: i64) -> &str {
        self.names.get(&oid).map(|n| n.1.as_str()).unwrap_or("unknown")
    }
}

/// The first index of `not_built` that `statement` names anywhere in its parse tree (an index
/// name is an identifier: `USING INDEX name`, `ALTER INDEX name …`, `ATTACH PARTITION name`).
fn uses_index_not_built(statement: &Statement, not_built: &[(String, usize)]) -> Option<(String, usize)> {
    if not_built.is_empty() {
        return None;
    }
    let tree = serde_json::to_value(statement.ast.as_ref()?).ok()?;
    let mut names = Vec::new();
    collect_strings(&tree, &mut names);
    not_built.iter().find(|(index, _)| names.iter().any(|name| name.eq_ignore_ascii_case(index))).cloned()
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => out.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_strings(item, out)),
        serde_json::Value::Object(map) => map.values().for_each(|item| collect_strings(item, out)),
        _ => {}
    }
}
