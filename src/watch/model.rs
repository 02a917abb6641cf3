//! One sample of a live database: the JSON shape of `inspect --once --format json` and of each
//! line of `--record FILE` (docs/ARCHITECTURE.md, "JSON contracts"). Fields may be added;
//! renaming or removing one bumps [`SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

/// Version of the sample JSON.
pub const SCHEMA_VERSION: u32 = 1;

/// What the watcher saw at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub schema_version: u32,
    /// When the sample was taken (RFC 3339, UTC, milliseconds).
    pub sampled_at: String,
    /// Set when this sample could not be taken: a statement or lock timeout, a lost connection.
    /// The lists are then empty: nothing was observed, not "nothing is happening".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// How long taking the sample took, in milliseconds.
    pub sample_ms: f64,
    /// Non-idle sessions of the database and every session in a blocking relationship.
    pub sessions: Vec<Session>,
    /// Who blocks whom. Roots block others and wait on nobody (see [`TreeNode`]).
    pub lock_tree: Vec<TreeNode>,
    /// Per relation with waiters: holders, then waiters in wait order.
    pub queues: Vec<Queue>,
    /// Progress of CREATE INDEX, CLUSTER, VACUUM, ANALYZE and COPY.
    #[serde(default)]
    pub progress: Vec<Progress>,
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// What lockscope did to the server (only `pg_cancel_backend`, only when asked to).
    #[serde(default)]
    pub actions: Vec<Action>,
    #[serde(default)]
    pub summary: Summary,
    /// Connection events since the previous sample: lost, reconnected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// What the connected role cannot see, when it lacks pg_monitor / pg_read_all_stats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<String>,
    /// Waiting sessions whose blockers the one pg_locks snapshot could not decide (see
    /// `watch::graph`), and why: their `blocked_by` comes from `pg_blocking_pids()` instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undecided_waits: Vec<UndecidedWait>,
}

/// A waiter whose blockers were asked of `pg_blocking_pids()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndecidedWait {
    pub pid: i32,
    pub reason: String,
}

impl Sample {
    /// A sample that could not be taken, and why.
    pub fn skipped(sampled_at: String, reason: String, sample_ms: f64) -> Sample {
        Sample {
            schema_version: SCHEMA_VERSION,
            sampled_at,
            skipped: Some(reason),
            sample_ms,
            sessions: Vec::new(),
            lock_tree: Vec::new(),
            queues: Vec::new(),
            progress: Vec::new(),
            alerts: Vec::new(),
            actions: Vec::new(),
            summary: Summary::default(),
            events: Vec::new(),
            hidden: None,
            undecided_waits: Vec::new(),
        }
    }

    /// The session with this pid, if it was captured.
    pub fn session(&self, pid: i32) -> Option<&Session> {
        self.sessions.iter().find(|session| session.pid == pid)
    }
}

/// Counts for the header line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Client sessions connected to this database (excluding lockscope).
    pub sessions: i64,
    pub active: i64,
    pub idle_in_transaction: i64,
    pub waiting_on_locks: i64,
    pub max_connections: i64,
}

/// A server process worth showing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub pid: i32,
    pub application_name: Option<String>,
    /// `active`, `idle in transaction`, …; `None` when hidden or for background workers.
    pub state: Option<String>,
    pub wait_event_type: Option<String>,
    /// The current or last query, cut at `--query-length` characters.
    pub query: Option<String>,
    /// Sessions this one waits for (`pg_blocking_pids`), deduplicated.
    pub blocked_by: Vec<i32>,
    /// The lock it waits for, if any.
    pub waiting_for: Option<WaitingFor>,
    #[serde(rename = "user")]
    pub usename: Option<String>,
    pub backend_type: Option<String>,
    pub wait_event: Option<String>,
    /// Seconds since its transaction began.
    pub xact_age_s: Option<f64>,
    /// Seconds since its current (or last) query began.
    pub query_age_s: Option<f64>,
    /// Seconds since its state last changed (e.g. how long it has been idle in transaction).
    pub state_age_s: Option<f64>,
    /// Identifies the running statement (query_start, µs), so a cancel hits the statement seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_start_us: Option<i64>,
    /// Part of the migration: matched `--pid` / `--application-name`, or (without those) runs
    /// DDL, holds or awaits ACCESS EXCLUSIVE, or reports progress.
    #[serde(default)]
    pub migration: bool,
    /// The query text looks like DDL (ALTER, CREATE, DROP, …).
    #[serde(default)]
    pub ddl: bool,
    /// Details hidden from this role (needs pg_monitor / pg_read_all_stats).
    #[serde(default)]
    pub hidden: bool,
    /// Locks it holds that matter for a queue (on relations with waiters or ACCESS EXCLUSIVE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<HeldLock>,
    /// How many sessions wait behind it, directly or transitively.
    #[serde(default)]
    pub queued_behind: usize,
}

/// A lock a session is waiting for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitingFor {
    /// `schema.name` for relation locks; `None` for transaction, tuple, advisory … locks or a
    /// relation of another database.
    pub relation: Option<String>,
    /// As pg_locks prints it, e.g. `AccessExclusiveLock`.
    pub mode: String,
    /// `relation`, `transactionid`, `tuple`, `advisory`, …
    pub locktype: String,
    /// Seconds since the wait began (pg_locks.waitstart, PostgreSQL 14+).
    pub waited_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation_oid: Option<i64>,
}

impl WaitingFor {
    /// `AccessExclusiveLock on public.orders`, `ShareLock on transaction 1234`.
    pub fn describe(&self) -> String {
        match &self.relation {
            Some(relation) => format!("{} on {relation}", self.mode),
            None => format!("{} ({})", self.mode, self.locktype),
        }
    }
}

/// A granted relation lock, as listed on a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldLock {
    pub relation: Option<String>,
    pub mode: String,
}

/// A node of the lock tree: a session and those waiting for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeNode {
    pub pid: i32,
    pub children: Vec<TreeNode>,
    /// This pid is already on the path from the root: the sessions wait for each other (a
    /// deadlock the server has not resolved yet). Not expanded again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cycle: bool,
    /// This pid waits for several sessions and its subtree is shown under an earlier one.
    #[serde(default, skip_serializing_if = "is_false")]
    pub shown_above: bool,
}

/// The lock queue on one relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    /// `schema.name`.
    pub relation: String,
    /// Sessions holding a lock, strongest mode first.
    pub holders: Vec<QueueEntry>,
    /// Sessions waiting, in the order they started waiting (pg_locks.waitstart).
    pub waiters: Vec<QueueEntry>,
}

/// One session's place in a queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub pid: i32,
    pub mode: String,
    /// Waiters: seconds waited so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_s: Option<f64>,
}

/// How far a long-running command is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub pid: i32,
    /// `CREATE INDEX CONCURRENTLY`, `VACUUM`, `VACUUM FULL`, `ANALYZE`, `COPY FROM`, …
    pub command: String,
    pub phase: Option<String>,
    /// The table.
    pub relation: Option<String>,
    /// The index being built, for CREATE INDEX / REINDEX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Work done and to do in the current phase, in `unit`s.
    pub done: Option<i64>,
    pub total: Option<i64>,
    /// `blocks`, `tuples`, `bytes`, `lockers`, `indexes`, `partitions`, …
    pub unit: Option<String>,
    /// `done / total` of the current phase, 0–100.
    pub percent: Option<f64>,
    /// `unit`s per second in this phase, from counter deltas between samples.
    pub rate_per_s: Option<f64>,
    /// Seconds left in this phase at that rate.
    pub eta_s: Option<f64>,
}

/// Something a DBA should act on now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The DDL session waiting for its lock.
    pub pid: i32,
    pub relation: Option<String>,
    pub mode: String,
    pub waited_s: Option<f64>,
    /// Sessions queued behind it.
    pub queued_behind: usize,
    /// Who it waits for.
    pub blocked_by: Vec<i32>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The usual fix.
    pub remedy: String,
}

/// Something lockscope changed on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Always `pg_cancel_backend`.
    pub action: String,
    pub pid: i32,
    pub relation: Option<String>,
    /// Whether the server accepted the cancel request.
    pub cancelled: bool,
    pub message: String,
}

fn is_false(value: &bool) -> bool {
    !*value
}
