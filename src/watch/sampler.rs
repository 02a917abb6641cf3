//! Takes samples: a handful of cheap catalog queries on one read-only connection, turned into a
//! [`Sample`]. A query that times out makes a skipped sample, a dropped connection is re-opened on
//! the next sample (and the sample says so); neither is an error.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::db::{self, Target};
use crate::error::{Error, Result};
use crate::introspect::{self, configure_read_only_session, ServerInfo, SessionLimits};
use crate::units::human_duration;

use super::alerts::{self, AlertRules, CancelRequest};
use super::classify::{looks_like_ddl, Focus};
use super::graph::{self, GraphRow};
use super::model::{Action, HeldLock, Sample, Session, Summary, UndecidedWait, WaitingFor, SCHEMA_VERSION};
use super::progress::{ProgressRow, ProgressTracker};
use super::queue::{build_queues, LockRow};
use super::tree::{BlockingEdge, BlockingGraph};

const LOCKS_SQL: &str = include_str!("../../sql/watch_locks.sql");
const SAMPLE_SQL: &str = include_str!("../../sql/watch_sample.sql");
const BLOCKING_SQL: &str = include_str!("../../sql/watch_blocking.sql");
const SESSIONS_SQL: &str = include_str!("../../sql/watch_sessions.sql");
const SUMMARY_SQL: &str = include_str!("../../sql/watch_summary.sql");
const PROGRESS_SQL: &str = include_str!("../../sql/watch_progress.sql");
const CANCEL_SQL: &str = include_str!("../../sql/watch_cancel.sql");

/// The `application_name` of every lockscope monitoring session.
pub const APPLICATION_NAME: &str = "lockscope-inspect";

/// `pg_locks.waitstart` exists from PostgreSQL 14.
const WAITSTART_SINCE: i32 = 140_000;

/// How a sample finds out who blocks whom.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GraphMethod {
    /// One read of pg_locks per sample (one sweep of the lock manager's partitions); the graph is
    /// built from it ([`graph`]), and `pg_blocking_pids()` is called only for the waiters the
    /// snapshot cannot decide. Needs `pg_locks.waitstart` (PostgreSQL 14+); older servers get
    /// [`GraphMethod::BlockingPids`].
    #[default]
    Snapshot,
    /// The reference: pg_locks, then `pg_blocking_pids()` for every waiting session (one sweep
    /// per waiter).
    BlockingPids,
}

/// How a sampler behaves.
#[derive(Debug, Clone)]
pub struct SamplerOptions {
    pub limits: SessionLimits,
    /// Query text is cut at this many characters.
    pub query_length: usize,
    pub focus: Focus,
    pub rules: AlertRules,
    /// How long one reconnection attempt may take before the sample is skipped.
    pub reconnect_timeout: Duration,
    /// How the wait graph is built.
    pub graph: GraphMethod,
}

impl Default for SamplerOptions {
    fn default() -> Self {
        SamplerOptions {
            limits: SessionLimits::default(),
            query_length: 1000,
            focus: Focus::default(),
            rules: AlertRules::default(),
            reconnect_timeout: Duration::from_secs(3),
            graph: GraphMethod::default(),
        }
    }
}

/// A live connection that samples the server.
pub struct Sampler {
    target: Target,
    options: SamplerOptions,
    conn: Option<PgConnection>,
    own_pid: Option<i32>,
    server: Option<ServerInfo>,
    tracker: ProgressTracker,
    clock: Instant,
    /// Since when, and why, the connection is gone.
    lost: Option<(Instant, String)>,
    attempted_cancels: Vec<(i32, i64)>,
    /// Sessions whose every relation lock on this database the sample lists, contended or not
    /// (`lockscope run`: the command's own sessions).
    all_locks_of: Vec<i32>,
}

/// Why a sample could not be taken.
enum Failure {
    /// Our own statement or lock timeout: skip this sample.
    Skipped(String),
    /// The connection is gone: skip, reconnect next time.
    Lost(String),
    /// Anything else.
    Failed(Error),
}

impl Failure {
    fn from_sqlx(doing: &str, err: sqlx::Error) -> Failure {
        if is_connection_loss(&err) {
            return Failure::Lost(db::redact(&format!("{doing}: {err}")));
        }
        match introspect::SampleError::classify(doing, err) {
            introspect::SampleError::Skipped(reason) => Failure::Skipped(reason),
            introspect::SampleError::Failed(err) => Failure::Failed(err),
        }
    }
}

/// Errors after which the connection cannot be used again.
fn is_connection_loss(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::PoolClosed
        | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

impl Sampler {
    /// Connects and configures the monitoring session. Fails (exit 2) when the target cannot be
    /// reached at all: reconnecting is only for connections that worked once.
    pub async fn connect(target: Target, options: SamplerOptions) -> Result<Sampler> {
        let mut sampler = Sampler {
            target,
            options,
            conn: None,
            own_pid: None,
            server: None,
            tracker: ProgressTracker::default(),
            clock: Instant::now(),
            lost: None,
            attempted_cancels: Vec::new(),
            all_locks_of: Vec::new(),
        };
        sampler.open().await?;
        Ok(sampler)
    }

    /// From the next sample on, list every relation lock these sessions hold on this database,
    /// not only the contended ones and ACCESS EXCLUSIVE (servers 14+ with the snapshot method;
    /// otherwise the sample is unchanged). `lockscope run` names the command's sessions here.
    pub fn list_all_locks_of(&mut self, pids: impl IntoIterator<Item = i32>) {
        self.all_locks_of = pids.into_iter().collect();
    }

    /// The server as of the last (re)connection.
    pub fn server(&self) -> Option<&ServerInfo> {
        self.server.as_ref()
    }

    /// lockscope's own backend pid on the current connection.
    pub fn own_pid(&self) -> Option<i32> {
        self.own_pid
    }

    /// The monitoring connection, when connected (for a one-off introspection).
    pub fn connection(&mut self) -> Option<&mut PgConnection> {
        self.conn.as_mut()
    }

    /// The options in force.
    pub fn options(&self) -> &SamplerOptions {
        &self.options
    }

    async fn open(&mut self) -> Result<()> {
        let mut conn = db::connect(&self.target, APPLICATION_NAME).await?;
        configure_read_only_session(&mut conn, self.options.limits).await?;
        let own_pid: i32 = sqlx::query_scalar("SELECT pg_catalog.pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .map_err(|err| introspect::db_error("reading lockscope's own pid", err))?;
        let server = introspect::server_info(&mut conn).await?;
        self.own_pid = Some(own_pid);
        self.server = Some(server);
        self.conn = Some(conn);
        Ok(())
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.close().await;
        }
    }

    /// Takes one sample. Timeouts and lost connections give a skipped sample (reconnecting
    /// first if needed); only an unexpected query failure is an error.
    pub async fn sample(&mut self) -> Result<Sample> {
        let started = Instant::now();
        let sampled_at = introspect::rfc3339_now();
        let mut events = Vec::new();
        if self.conn.is_none() {
            let attempt = tokio::time::timeout(self.options.reconnect_timeout, self.open()).await;
            match attempt {
                Ok(Ok(())) => {
                    if let Some((since, why)) = self.lost.take() {
                        events.push(format!(
                            "reconnected after {} (connection was lost: {why})",
                            human_duration(since.elapsed().as_secs_f64())
                        ));
                    }
                }
                Ok(Err(err)) => {
                    return Ok(self.lost_sample(sampled_at, started, &err.to_string()));
                }
                Err(_) => {
                    let reason =
                        format!("no answer within {}", human_duration(self.options.reconnect_timeout.as_secs_f64()));
                    return Ok(self.lost_sample(sampled_at, started, &reason));
                }
            }
        }
        match self.try_sample(&sampled_at, started).await {
            Ok(mut sample) => {
                sample.events = events;
                Ok(sample)
            }
            Err(Failure::Skipped(reason)) => {
                let mut sample = Sample::skipped(sampled_at, reason, elapsed_ms(started));
                sample.events = events;
                Ok(sample)
            }
            Err(Failure::Lost(reason)) => {
                self.conn = None;
                self.lost = Some((Instant::now(), reason.clone()));
                let mut sample = Sample::skipped(
                    sampled_at,
                    format!("connection lost ({reason}); reconnecting"),
                    elapsed_ms(started),
                );
                sample.events = events;
                sample.events.push(format!("connection lost: {reason}; reconnecting"));
                Ok(sample)
            }
            Err(Failure::Failed(err)) => Err(err),
        }
    }

    fn lost_sample(&mut self, sampled_at: String, started: Instant, why: &str) -> Sample {
        let since = self.lost.get_or_insert_with(|| (Instant::now(), why.to_string())).0;
        Sample::skipped(
            sampled_at,
            format!(
                "not connected for {}: {}; retrying",
                human_duration(since.elapsed().as_secs_f64()),
                db::redact(why)
            ),
            elapsed_ms(started),
        )
    }

    async fn try_sample(&mut self, sampled_at: &str, started: Instant) -> Result<Sample, Failure> {
        let own_pid = self.own_pid;
        let version_num = self.server.as_ref().map_or(0, |server| server.version_num);
        let hidden = self.server.as_ref().and_then(|server| server.privileges.hidden()).map(str::to_string);
        let now_s = self.clock.elapsed().as_secs_f64();
        let conn = self.conn.as_mut().expect("connected above");

        let query_length = self.options.query_length;
        let reads = if self.options.graph == GraphMethod::Snapshot && version_num >= WAITSTART_SINCE {
            read_snapshot(conn, own_pid, query_length, &self.all_locks_of).await?
        } else {
            read_separately(conn, own_pid, version_num, query_length).await?
        };
        let Reads { locks, graph, undecided, session_rows, summary, progress_rows } = reads;
        let progress = self.tracker.observe(&progress_rows, now_s);

        let queues = build_queues(&locks);
        let lock_tree = graph.tree();
        let mut sessions = assemble_sessions(session_rows, &locks, &graph, &self.options.focus);
        let in_progress: BTreeSet<i32> = progress.iter().map(|p| p.pid).collect();
        if !self.options.focus.is_explicit() {
            for session in &mut sessions {
                session.migration |= in_progress.contains(&session.pid);
            }
        }

        let mut sample = Sample {
            schema_version: SCHEMA_VERSION,
            sampled_at: sampled_at.to_string(),
            skipped: None,
            sample_ms: 0.0,
            sessions,
            lock_tree,
            queues,
            progress,
            alerts: Vec::new(),
            actions: Vec::new(),
            summary,
            events: Vec::new(),
            hidden,
            undecided_waits: undecided,
        };
        sample.alerts = alerts::alerts(&sample, &self.options.rules);
        let requests =
            alerts::cancel_requests(&sample, &self.options.rules, &self.options.focus, &self.attempted_cancels);
        for request in requests {
            self.attempted_cancels.push((request.pid, request.query_start_us));
            let conn = self.conn.as_mut().expect("connected above");
            sample.actions.push(cancel(conn, &request).await?);
        }
        sample.sample_ms = elapsed_ms(started);
        Ok(sample)
    }
}

fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

async fn fetch_locks(conn: &mut PgConnection, version_num: i32) -> Result<Vec<LockRow>, Failure> {
    let sql = if version_num >= WAITSTART_SINCE {
        LOCKS_SQL.to_string()
    } else {
        LOCKS_SQL.replace("l.waitstart", "NULL::timestamptz AS waitstart")
    };
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| Failure::from_sqlx("reading pg_locks", err))?;
    Ok(rows
        .iter()
        .filter(|row| row.get::<bool, _>("in_this_database") || !row.get::<bool, _>("granted"))
        .map(|row| LockRow {
            pid: row.get("pid"),
            locktype: row.get("locktype"),
            mode: row.get("mode"),
            granted: row.get("granted"),
            waited_s: row.get("waited_s"),
            relation_oid: row.get("relation_oid"),
            relation: row.get("relation"),
            transactionid: row.get("transactionid"),
        })
        .collect())
}

async fn fetch_edges(
    conn: &mut PgConnection,
    waiting: &BTreeSet<i32>,
    locks: &[LockRow],
) -> Result<Vec<BlockingEdge>, Failure> {
    let pids: Vec<i32> = waiting.iter().copied().collect();
    let rows = sqlx::query(BLOCKING_SQL)
        .bind(&pids)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| Failure::from_sqlx("reading pg_blocking_pids", err))?;
    let waited = waited_seconds(locks);
    Ok(rows
        .iter()
        .map(|row| {
            let pid: i32 = row.get("pid");
            BlockingEdge { pid, blocked_by: row.get("blocked_by"), waited_s: waited.get(&pid).copied() }
        })
        .collect())
}

/// Seconds each waiting pid has waited, to order siblings in the tree.
fn waited_seconds(locks: &[LockRow]) -> HashMap<i32, f64> {
    locks.iter().filter(|row| !row.granted).filter_map(|row| row.waited_s.map(|waited| (row.pid, waited))).collect()
}

/// Everything one sample reads, from one statement (`sql/watch_sample.sql`).
struct WholeSample {
    /// The rows `sql/watch_locks.sql` would return (queues, waiting_for, holds).
    locks: Vec<LockRow>,
    /// Every row on a lock object a session of this database waits for (the wait graph).
    graph_rows: Vec<GraphRow>,
    /// Pids of all lock rows: the sessions the statement read beyond the listed ones.
    lock_pids: BTreeSet<i32>,
    /// Sessions, and whether each is listed whatever the graph says.
    sessions: Vec<(SessionRow, bool)>,
    summary: Summary,
    progress: Vec<ProgressRow>,
}

/// Positions of `sql/watch_sample.sql`'s columns, looked up by name once per statement (not per
/// row and column, as `row.get("name")` does).
#[derive(Clone, Copy)]
struct SampleColumns {
    kind: usize,
    pid: usize,
    relation: usize,
    backend_type: usize,
    locktype: usize,
    mode: usize,
    granted: usize,
    fastpath: usize,
    tag: usize,
    shown: usize,
    on_waited: usize,
    leader_pid: usize,
    waited_s: usize,
    waitstart_us: usize,
    relation_oid: usize,
    transactionid: usize,
    usename: usize,
    application_name: usize,
    state: usize,
    wait_event_type: usize,
    wait_event: usize,
    query: usize,
    xact_age_s: usize,
    query_age_s: usize,
    state_age_s: usize,
    query_start_us: usize,
    listed: usize,
    sessions: usize,
    active: usize,
    idle_in_transaction: usize,
    waiting_on_locks: usize,
    max_connections: usize,
    view: usize,
    index_name: usize,
    fields: usize,
}

impl SampleColumns {
    fn of(row: &sqlx::postgres::PgRow) -> Result<SampleColumns, Failure> {
        let at = |name: &str| {
            row.try_column(name).map(sqlx::Column::ordinal).map_err(|err| {
                Failure::Failed(Error::Database(format!("sql/watch_sample.sql has no column {name}: {err}")))
            })
        };
        Ok(SampleColumns {
            kind: at("kind")?,
            pid: at("pid")?,
            relation: at("relation")?,
            backend_type: at("backend_type")?,
            locktype: at("locktype")?,
            mode: at("mode")?,
            granted: at("granted")?,
            fastpath: at("fastpath")?,
            tag: at("tag")?,
            shown: at("shown")?,
            on_waited: at("on_waited")?,
            leader_pid: at("leader_pid")?,
            waited_s: at("waited_s")?,
            waitstart_us: at("waitstart_us")?,
            relation_oid: at("relation_oid")?,
            transactionid: at("transactionid")?,
            usename: at("usename")?,
            application_name: at("application_name")?,
            state: at("state")?,
            wait_event_type: at("wait_event_type")?,
            wait_event: at("wait_event")?,
            query: at("query")?,
            xact_age_s: at("xact_age_s")?,
            query_age_s: at("query_age_s")?,
            state_age_s: at("state_age_s")?,
            query_start_us: at("query_start_us")?,
            listed: at("listed")?,
            sessions: at("sessions")?,
            active: at("active")?,
            idle_in_transaction: at("idle_in_transaction")?,
            waiting_on_locks: at("waiting_on_locks")?,
            max_connections: at("max_connections")?,
            view: at("view")?,
            index_name: at("index_name")?,
            fields: at("fields")?,
        })
    }
}

/// One sample's reads in one statement: pg_locks once (one sweep of the lock manager) and
/// pg_stat_activity once (one copy of every backend's status), on one round trip.
async fn fetch_whole_sample(
    conn: &mut PgConnection,
    query_length: usize,
    all_locks_of: &[i32],
) -> Result<WholeSample, Failure> {
    use futures_util::TryStreamExt;
    let mut whole = WholeSample {
        locks: Vec::new(),
        graph_rows: Vec::new(),
        lock_pids: BTreeSet::new(),
        sessions: Vec::new(),
        summary: Summary::default(),
        progress: Vec::new(),
    };
    // Each row is decoded as it arrives, while the server still sends the rest (the lock rows
    // come first): with hundreds of waiters, decoding is a third of a sample's time.
    let mut rows = sqlx::query(SAMPLE_SQL)
        .bind(i32::try_from(query_length).unwrap_or(i32::MAX))
        .bind(all_locks_of)
        .fetch(&mut *conn);
    let read_failed = |err| Failure::from_sqlx("reading pg_locks and pg_stat_activity", err);
    let mut columns: Option<SampleColumns> = None;
    while let Some(row) = rows.try_next().await.map_err(read_failed)? {
        let c = match columns {
            Some(c) => c,
            None => *columns.insert(SampleColumns::of(&row)?),
        };
        let row = &row;
        match row.get::<&str, _>(c.kind) {
            "lock" => whole.add_lock(row, &c),
            "session" => whole.sessions.push((session_row(row, &c), row.get(c.listed))),
            "counts" => whole.summary = summary_row(row, &c),
            "progress" => whole.progress.push(progress_row(row, &c)),
            other => {
                return Err(Failure::Failed(Error::Database(format!(
                    "sql/watch_sample.sql returned a row of kind {other}"
                ))))
            }
        }
    }
    Ok(whole)
}

impl WholeSample {
    /// A `lock` row: into the wait graph when its object is waited for, into the sample's locks
    /// when it is shown.
    fn add_lock(&mut self, row: &PgRow, c: &SampleColumns) {
        let pid: i32 = row.get(c.pid);
        let granted: bool = row.get(c.granted);
        let mode: String = row.get(c.mode);
        self.lock_pids.insert(pid);
        if row.get::<bool, _>(c.on_waited) {
            self.graph_rows.push(GraphRow {
                pid,
                tag: row.get(c.tag),
                mode: mode.clone(),
                granted,
                fastpath: row.get(c.fastpath),
                waitstart_us: row.get(c.waitstart_us),
                backend_type: row.get(c.backend_type),
                leader_pid: row.get(c.leader_pid),
            });
        }
        if row.get::<bool, _>(c.shown) {
            self.locks.push(LockRow {
                pid,
                locktype: row.get(c.locktype),
                mode,
                granted,
                waited_s: row.get(c.waited_s),
                relation_oid: row.get(c.relation_oid),
                relation: row.get(c.relation),
                transactionid: row.get(c.transactionid),
            });
        }
    }
}

/// A `session` row.
fn session_row(row: &PgRow, c: &SampleColumns) -> SessionRow {
    SessionRow {
        pid: row.get(c.pid),
        usename: row.get(c.usename),
        application_name: row.get(c.application_name),
        backend_type: row.get(c.backend_type),
        state: row.get(c.state),
        wait_event_type: row.get(c.wait_event_type),
        wait_event: row.get(c.wait_event),
        query: row.get(c.query),
        xact_age_s: row.get(c.xact_age_s),
        query_age_s: row.get(c.query_age_s),
        state_age_s: row.get(c.state_age_s),
        query_start_us: row.get(c.query_start_us),
    }
}

/// The `counts` row: the header counts.
fn summary_row(row: &PgRow, c: &SampleColumns) -> Summary {
    Summary {
        sessions: row.get(c.sessions),
        active: row.get(c.active),
        idle_in_transaction: row.get(c.idle_in_transaction),
        waiting_on_locks: row.get(c.waiting_on_locks),
        max_connections: row.get(c.max_connections),
    }
}

/// A `progress` row.
fn progress_row(row: &PgRow, c: &SampleColumns) -> ProgressRow {
    ProgressRow {
        view: row.get(c.view),
        pid: row.get(c.pid),
        relation: row.get(c.relation),
        index: row.get(c.index_name),
        fields: serde_json::from_str(row.get::<&str, _>(c.fields)).unwrap_or(serde_json::Value::Null),
    }
}

/// One row of `sql/watch_sessions.sql`.
struct SessionRow {
    pid: i32,
    usename: Option<String>,
    application_name: Option<String>,
    backend_type: Option<String>,
    state: Option<String>,
    wait_event_type: Option<String>,
    wait_event: Option<String>,
    query: Option<String>,
    xact_age_s: Option<f64>,
    query_age_s: Option<f64>,
    state_age_s: Option<f64>,
    query_start_us: Option<i64>,
}

async fn fetch_sessions(
    conn: &mut PgConnection,
    involved: &BTreeSet<i32>,
    query_length: usize,
) -> Result<Vec<SessionRow>, Failure> {
    let pids: Vec<i32> = involved.iter().copied().collect();
    let rows = sqlx::query(SESSIONS_SQL)
        .bind(&pids)
        .bind(i32::try_from(query_length).unwrap_or(i32::MAX))
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| Failure::from_sqlx("reading pg_stat_activity", err))?;
    Ok(rows
        .iter()
        .map(|row| SessionRow {
            pid: row.get("pid"),
            usename: row.get("usename"),
            application_name: row.get("application_name"),
            backend_type: row.get("backend_type"),
            state: row.get("state"),
            wait_event_type: row.get("wait_event_type"),
            wait_event: row.get("wait_event"),
            query: row.get("query"),
            xact_age_s: row.get("xact_age_s"),
            query_age_s: row.get("query_age_s"),
            state_age_s: row.get("state_age_s"),
            query_start_us: row.get("query_start_us"),
        })
        .collect())
}

async fn fetch_summary(conn: &mut PgConnection) -> Result<Summary, Failure> {
    let row = sqlx::query(SUMMARY_SQL)
        .fetch_one(&mut *conn)
        .await
        .map_err(|err| Failure::from_sqlx("counting sessions", err))?;
    Ok(Summary {
        sessions: row.get("sessions"),
        active: row.get("active"),
        idle_in_transaction: row.get("idle_in_transaction"),
        waiting_on_locks: row.get("waiting_on_locks"),
        max_connections: row.get("max_connections"),
    })
}

async fn fetch_progress(conn: &mut PgConnection) -> Result<Vec<ProgressRow>, Failure> {
    let rows = sqlx::query(PROGRESS_SQL)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| Failure::from_sqlx("reading pg_stat_progress_*", err))?;
    Ok(rows
        .iter()
        .map(|row| ProgressRow {
            view: row.get("view"),
            pid: row.get("pid"),
            relation: row.get("relation"),
            index: row.get("index_name"),
            fields: serde_json::from_str(&row.get::<String, _>("fields")).unwrap_or(serde_json::Value::Null),
        })
        .collect())
}

const INSUFFICIENT_PRIVILEGE: &str = "<insufficient privilege>";

fn assemble_sessions(rows: Vec<SessionRow>, locks: &[LockRow], graph: &BlockingGraph, focus: &Focus) -> Vec<Session> {
    let mut sessions: Vec<Session> = rows.into_iter().map(session_from_row).collect();
    // Sessions in the lock graph that pg_stat_activity did not return (gone since, or another
    // database's backend): keep them so every tree node has a session.
    let known: BTreeSet<i32> = sessions.iter().map(|session| session.pid).collect();
    let in_graph: BTreeSet<i32> = graph.blocked_by.keys().chain(graph.waiters.keys()).copied().collect();
    sessions.extend(in_graph.difference(&known).map(|pid| unseen_session(*pid)));
    let mut by_pid: HashMap<i32, Vec<&LockRow>> = HashMap::new();
    for row in locks {
        by_pid.entry(row.pid).or_default().push(row);
    }
    for session in &mut sessions {
        let mine = by_pid.get(&session.pid).map(Vec::as_slice).unwrap_or_default();
        attach_locks(session, mine, graph, focus);
    }
    sessions.sort_by_key(|session| session.pid);
    sessions
}

/// A session as pg_stat_activity returned it, before its locks are attached.
fn session_from_row(row: SessionRow) -> Session {
    // Without pg_read_all_stats, other roles' query text reads "<insufficient privilege>".
    let hidden = row.query.as_deref() == Some(INSUFFICIENT_PRIVILEGE);
    let query = if hidden { None } else { row.query };
    let ddl = query.as_deref().is_some_and(looks_like_ddl);
    Session {
        pid: row.pid,
        application_name: row.application_name,
        state: row.state,
        wait_event_type: row.wait_event_type,
        query,
        blocked_by: Vec::new(),
        waiting_for: None,
        usename: row.usename,
        backend_type: row.backend_type,
        wait_event: row.wait_event,
        xact_age_s: row.xact_age_s,
        query_age_s: row.query_age_s,
        state_age_s: row.state_age_s,
        query_start_us: row.query_start_us,
        migration: false,
        ddl,
        hidden,
        holds: Vec::new(),
        queued_behind: 0,
    }
}

/// A session in the lock graph that pg_stat_activity did not return: everything but its pid unknown.
fn unseen_session(pid: i32) -> Session {
    Session {
        pid,
        application_name: None,
        state: None,
        wait_event_type: None,
        query: None,
        blocked_by: Vec::new(),
        waiting_for: None,
        usename: None,
        backend_type: None,
        wait_event: None,
        xact_age_s: None,
        query_age_s: None,
        state_age_s: None,
        query_start_us: None,
        migration: false,
        ddl: false,
        hidden: true,
        holds: Vec::new(),
        queued_behind: 0,
    }
}

/// Fills a session's blockers, queue length, awaited and held locks, and whether it is the migration.
fn attach_locks(session: &mut Session, mine: &[&LockRow], graph: &BlockingGraph, focus: &Focus) {
    let mine = mine.iter().copied();
    session.blocked_by = graph.blocked_by.get(&session.pid).cloned().unwrap_or_default();
    session.queued_behind = graph.queued_behind(session.pid);
    let waiting =
        mine.clone().filter(|row| !row.granted).min_by_key(|row| (row.locktype != "relation", row.relation_oid));
    session.waiting_for = waiting.map(|row| WaitingFor {
        relation: row.relation.clone(),
        mode: row.mode.clone(),
        locktype: row.locktype.clone(),
        waited_s: row.waited_s,
        relation_oid: row.relation_oid,
    });
    session.holds = mine
        .filter(|row| row.granted && row.locktype == "relation")
        .map(|row| HeldLock { relation: row.relation.clone(), mode: row.mode.clone() })
        .collect();
    let access_exclusive = session
        .holds
        .iter()
        .map(|held| held.mode.as_str())
        .chain(session.waiting_for.iter().map(|w| w.mode.as_str()))
        .any(|mode| mode == "AccessExclusiveLock");
    session.migration = if focus.is_explicit() {
        focus.matches(session.pid, session.application_name.as_deref())
    } else {
        session.ddl || access_exclusive
    };
}

async fn cancel(conn: &mut PgConnection, request: &CancelRequest) -> Result<Action, Failure> {
    let row = sqlx::query(CANCEL_SQL)
        .bind(request.pid)
        .bind(request.query_start_us)
        .bind(&request.mode)
        .bind(request.relation_oid)
        .fetch_optional(&mut *conn)
        .await;
    let on = request.relation.as_deref().map_or(String::new(), |relation| format!(" on {relation}"));
    let (cancelled, outcome) = match row {
        Ok(Some(row)) if row.get::<bool, _>("cancelled") => (true, "cancelled".to_string()),
        Ok(Some(_)) => (false, "the server refused to cancel it".to_string()),
        Ok(None) => (false, "not cancelled: it was no longer waiting for that lock".to_string()),
        Err(err) => match Failure::from_sqlx("cancelling the DDL session", err) {
            Failure::Failed(err) => (false, format!("not cancelled: {err}")),
            other => return Err(other),
        },
    };
    Ok(Action {
        action: "pg_cancel_backend".into(),
        pid: request.pid,
        relation: request.relation.clone(),
        cancelled,
        message: format!(
            "--cancel-blocking-ddl-after: pg_cancel_backend({pid}) — its DDL had waited {waited} \
             for {mode}{on} with {queued} session(s) queued behind it: {outcome}",
            pid = request.pid,
            waited = human_duration(request.waited_s),
            mode = request.mode,
            queued = request.queued_behind,
        ),
    })
}
/// What one sample read from the server, before it is assembled.
struct Reads {
    locks: Vec<LockRow>,
    graph: BlockingGraph,
    undecided: Vec<UndecidedWait>,
    session_rows: Vec<SessionRow>,
    summary: Summary,
    progress_rows: Vec<ProgressRow>,
}

/// PostgreSQL 14+ with [`GraphMethod::Snapshot`]: one statement, and `pg_blocking_pids()` only
/// for the waiters that one snapshot cannot decide.
async fn read_snapshot(
    conn: &mut PgConnection,
    own_pid: Option<i32>,
    query_length: usize,
    all_locks_of: &[i32],
) -> Result<Reads, Failure> {
    // One statement: pg_locks and pg_stat_activity read once each (sql/watch_sample.sql).
    let whole = fetch_whole_sample(conn, query_length, all_locks_of).await?;
    let waiting: BTreeSet<i32> = whole.locks.iter().filter(|row| !row.granted).map(|row| row.pid).collect();
    let snapshot = graph::from_snapshot(&whole.graph_rows, &waiting, &waited_seconds(&whole.locks));
    let mut edges = snapshot.edges;
    let asked: BTreeSet<i32> = snapshot.undecided.iter().map(|undecided| undecided.pid).collect();
    if !asked.is_empty() {
        edges.extend(fetch_edges(conn, &asked, &whole.locks).await?);
    }
    let graph = BlockingGraph::new(&edges, own_pid);
    let blockers: BTreeSet<i32> = graph.blocked_by.values().flatten().copied().collect();
    let mut session_rows: Vec<SessionRow> = whole
        .sessions
        .into_iter()
        .filter(|(row, listed)| *listed || blockers.contains(&row.pid))
        .map(|(row, _)| row)
        .collect();
    // A blocker pg_blocking_pids() named that has no row in the snapshot (a parallel
    // query's leader): its session was not read with the rest.
    let missing: BTreeSet<i32> = blockers.difference(&whole.lock_pids).copied().collect();
    if !missing.is_empty() {
        let extra = fetch_sessions(conn, &missing, query_length).await?;
        session_rows.extend(extra.into_iter().filter(|row| missing.contains(&row.pid)));
    }
    let undecided = snapshot
        .undecided
        .into_iter()
        .map(|undecided| UndecidedWait { pid: undecided.pid, reason: undecided.reason })
        .collect();
    Ok(Reads {
        locks: whole.locks,
        graph,
        undecided,
        session_rows,
        summary: whole.summary,
        progress_rows: whole.progress,
    })
}

/// Older servers, or [`GraphMethod::BlockingPids`]: locks, `pg_blocking_pids()` per waiter,
/// sessions, counts and progress read one after the other.
async fn read_separately(
    conn: &mut PgConnection,
    own_pid: Option<i32>,
    version_num: i32,
    query_length: usize,
) -> Result<Reads, Failure> {
    let locks = fetch_locks(conn, version_num).await?;
    let waiting: BTreeSet<i32> = locks.iter().filter(|row| !row.granted).map(|row| row.pid).collect();
    let edges = if waiting.is_empty() { Vec::new() } else { fetch_edges(conn, &waiting, &locks).await? };
    let graph = BlockingGraph::new(&edges, own_pid);
    let mut involved: BTreeSet<i32> = locks.iter().map(|row| row.pid).collect();
    involved.extend(graph.blocked_by.values().flatten().copied());
    let session_rows = fetch_sessions(conn, &involved, query_length).await?;
    let summary = fetch_summary(conn).await?;
    let progress_rows = fetch_progress(conn).await?;
    Ok(Reads { locks, graph, undecided: Vec::new(), session_rows, summary, progress_rows })
}
