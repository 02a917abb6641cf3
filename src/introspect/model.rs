//! The plain data [`super::introspect`] returns. Serializable both ways, so a snapshot of a
//! production database can be written to JSON and read back.

use serde::{Deserialize, Serialize};

use crate::units::human_duration;

/// Everything introspection learned about one database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Introspection {
    pub server: ServerInfo,
    /// User tables, partitioned tables and materialized views, by schema and name.
    pub tables: Vec<TableInfo>,
    /// Indexes of those tables, by schema, table and name.
    pub indexes: Vec<IndexInfo>,
    /// Constraints of those tables, by schema, table and name.
    pub constraints: Vec<ConstraintInfo>,
    /// What could not be gathered, in words (e.g. exact sizes skipped on a timeout).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// How long introspection took, for the benchmark and `--verbose` users.
    pub elapsed_ms: f64,
}

/// The server and database, and what the connected role may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// `server_version`, e.g. `15.18 (Debian 15.18-0+deb12u1)`.
    pub version: String,
    /// `server_version_num`, e.g. `150018`.
    pub version_num: i32,
    pub database: String,
    pub role: String,
    /// When the postmaster started (RFC 3339).
    pub started_at: String,
    pub uptime_s: f64,
    /// `pg_stat_database.stats_reset` of this database: usage counts run from here. `None` when
    /// never reset (they run from the cluster's creation or its last crash recovery).
    pub stats_reset: Option<String>,
    /// Seconds since `stats_reset`.
    pub stats_age_s: Option<f64>,
    pub block_size: i64,
    pub privileges: Privileges,
    /// The settings that decide how many workers an index build gets, for production estimates.
    /// `None` in snapshots written before lockscope read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_builds: Option<ParallelBuildSettings>,
}

/// The settings PostgreSQL plans a parallel index build with (`CREATE INDEX`, and the index
/// rebuilds of a table rewrite), in the units `pg_settings.setting` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParallelBuildSettings {
    pub max_parallel_maintenance_workers: i64,
    /// The pool every parallel operation draws its workers from.
    pub max_parallel_workers: i64,
    pub maintenance_work_mem_kb: i64,
    /// In blocks.
    pub min_parallel_table_scan_size: i64,
}

impl ParallelBuildSettings {
    /// PostgreSQL's defaults: 2 maintenance workers, a pool of 8, 64 MB of maintenance_work_mem,
    /// 8 MB (1024 blocks) of min_parallel_table_scan_size (docs, runtime-config-resource and
    /// runtime-config-query).
    pub const DEFAULTS: ParallelBuildSettings = ParallelBuildSettings {
        max_parallel_maintenance_workers: 2,
        max_parallel_workers: 8,
        maintenance_work_mem_kb: 65_536,
        min_parallel_table_scan_size: 1024,
    };

    /// The workers PostgreSQL plans for building a btree index on a heap of `heap_pages` blocks
    /// (without a `parallel_workers` reloption on the table): none under
    /// `min_parallel_table_scan_size`, then one more each time the heap triples; at most
    /// `max_parallel_maintenance_workers`; fewer while a participant (the leader is one) would
    /// get under 32 MB of `maintenance_work_mem`; and no more than the `max_parallel_workers`
    /// pool can lend. PostgreSQL source: src/backend/optimizer/plan/planner.c,
    /// plan_create_index_workers (the 32768 kB cap per participant), and
    /// src/backend/optimizer/path/allpaths.c, compute_parallel_worker (the ×3 ladder);
    /// src/backend/catalog/index.c, index_build, asks for it for btree builds and for the
    /// rebuilds of REINDEX and table rewrites (`reindex_index` passes `parallel = true`).
    pub fn index_build_workers(&self, heap_pages: f64) -> i64 {
        let threshold = self.min_parallel_table_scan_size.max(1) as f64;
        if heap_pages < threshold {
            return 0;
        }
        let (mut workers, mut step) = (1, threshold);
        while heap_pages >= step * 3.0 {
            workers += 1;
            step *= 3.0;
        }
        workers = workers.min(self.max_parallel_maintenance_workers);
        while workers > 0 && self.maintenance_work_mem_kb / (workers + 1) < 32_768 {
            workers -= 1;
        }
        workers.min(self.max_parallel_workers).max(0)
    }
}

impl ServerInfo {
    /// "since 2024-05-01T10:00:00Z (3 days)", for "never used" to say since when.
    pub fn stats_since(&self) -> String {
        match (&self.stats_reset, self.stats_age_s) {
            (Some(reset), Some(age)) => format!("since {reset} ({} ago)", human_duration(age)),
            _ => "since statistics began (never reset; a crash or immediate shutdown also clears them)".to_string(),
        }
    }
}

/// What the connected role may see and do, for saying what is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Privileges {
    pub is_superuser: bool,
    /// Member of `pg_read_all_stats` (which `pg_monitor` includes), or superuser: sees every
    /// session's query, state, waits and progress.
    pub can_read_all_stats: bool,
    /// Member of `pg_signal_backend`, or superuser: may cancel other roles' queries.
    pub can_signal_backends: bool,
}

impl Privileges {
    /// What is hidden from this role, or `None` when nothing is.
    pub fn hidden(&self) -> Option<&'static str> {
        (!self.can_read_all_stats).then_some(
            "without pg_monitor (or pg_read_all_stats) the query text, state, wait events, \
             transaction age and progress of other roles' sessions are hidden; locks, blocking \
             and queues are still complete",
        )
    }
}

/// Where a size comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeSource {
    /// `pg_table_size()` / `pg_total_relation_size()` now.
    Measured,
    /// `pg_class.relpages × block_size`, as of the last VACUUM, ANALYZE or CREATE INDEX.
    Estimated,
    /// An estimate because someone holds or awaits ACCESS EXCLUSIVE: measuring would queue.
    EstimatedLocked,
}

/// One table's storage. Indexes are the sum of its indexes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSize {
    pub heap_bytes: i64,
    pub toast_bytes: i64,
    pub indexes_bytes: i64,
    pub total_bytes: i64,
    pub source: SizeSource,
}

/// Activity since the statistics reset, from the functions behind `pg_stat_user_tables`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableActivity {
    pub seq_scan: i64,
    pub seq_tup_read: i64,
    /// PostgreSQL 16+.
    pub last_seq_scan: Option<String>,
    /// Sum over the table's indexes.
    pub idx_scan: i64,
    pub idx_tup_fetch: i64,
    pub n_tup_ins: i64,
    pub n_tup_upd: i64,
    pub n_tup_del: i64,
    pub n_tup_hot_upd: i64,
    pub n_live_tup: i64,
    pub n_dead_tup: i64,
    /// The later of manual and auto vacuum.
    pub last_vacuum: Option<String>,
    /// The later of manual and auto analyze.
    pub last_analyze: Option<String>,
}

/// A user table (or partitioned table, or materialized view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    pub oid: i64,
    pub schema: String,
    pub name: String,
    /// `table`, `partitioned table` or `materialized view`.
    pub kind: String,
    /// `pg_class.reltuples`; `None` when never vacuumed or analyzed.
    pub reltuples: Option<f64>,
    pub relpages: i64,
    pub toast_oid: Option<i64>,
    pub size: TableSize,
    pub activity: TableActivity,
}

impl TableInfo {
    /// `schema.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// Best row count: the planner's estimate, else the live-tuple counter.
    pub fn rows(&self) -> f64 {
        self.reltuples.unwrap_or(self.activity.n_live_tup as f64).max(0.0)
    }
}

/// An index of a user table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexInfo {
    pub oid: i64,
    pub table_oid: i64,
    pub schema: String,
    pub table: String,
    pub name: String,
    /// Access method: `btree`, `gin`, …
    pub method: String,
    /// Key columns in order; `(expression)` for an expression.
    pub columns: Vec<String>,
    /// `INCLUDE` columns.
    pub include_columns: Vec<String>,
    pub is_unique: bool,
    pub is_primary: bool,
    pub is_exclusion: bool,
    /// `indisvalid`: false after a failed CREATE INDEX CONCURRENTLY (or while one runs).
    pub is_valid: bool,
    pub is_ready: bool,
    pub is_partial: bool,
    pub has_expressions: bool,
    /// The primary key, unique or exclusion constraint this index implements.
    pub constraint: Option<String>,
    /// Scans since the statistics reset (see [`ServerInfo::stats_since`]).
    pub idx_scan: i64,
    pub idx_tup_read: i64,
    pub idx_tup_fetch: i64,
    /// PostgreSQL 16+.
    pub last_idx_scan: Option<String>,
    pub relpages: i64,
    pub size_bytes: i64,
    pub size_source: SizeSource,
    /// `CREATE INDEX …`, when asked for (see [`super::Definitions`]).
    pub definition: Option<String>,
}

impl IndexInfo {
    /// `schema.name`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// `schema.table`.
    pub fn qualified_table(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// Enforces a constraint, so "unused for scans" does not mean "safe to drop".
    pub fn enforces_constraint(&self) -> bool {
        self.is_unique || self.is_primary || self.is_exclusion || self.constraint.is_some()
    }
}

/// Kinds of `pg_constraint.contype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
    Exclusion,
    Trigger,
    NotNull,
    Other,
}

impl ConstraintKind {
    /// From `pg_constraint.contype`.
    pub fn from_contype(contype: &str) -> ConstraintKind {
        match contype {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "f" => ConstraintKind::ForeignKey,
            "c" => ConstraintKind::Check,
            "x" => ConstraintKind::Exclusion,
            "t" => ConstraintKind::Trigger,
            "n" => ConstraintKind::NotNull,
            _ => ConstraintKind::Other,
        }
    }

    /// Words for tables: `foreign key`, `check`, …
    pub fn label(self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Check => "check",
            ConstraintKind::Exclusion => "exclusion",
            ConstraintKind::Trigger => "constraint trigger",
            ConstraintKind::NotNull => "not null",
            ConstraintKind::Other => "other",
        }
    }
}

/// A constraint on a user table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstraintInfo {
    pub oid: i64,
    pub table_oid: i64,
    pub schema: String,
    pub table: String,
    pub name: String,
    pub kind: ConstraintKind,
    /// `convalidated`: false for `NOT VALID` constraints, whose existing rows were never checked.
    pub validated: bool,
    pub deferrable: bool,
    pub columns: Vec<String>,
    /// Foreign keys: `schema.table` they reference.
    pub referenced_table: Option<String>,
    pub referenced_columns: Vec<String>,
    /// The index that implements it (for a foreign key: the referenced unique index).
    pub index_oid: Option<i64>,
    /// `pg_get_constraintdef`, when asked for (see [`super::Definitions`]).
    pub definition: Option<String>,
}

impl ConstraintInfo {
    /// `schema.table`.
    pub fn qualified_table(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// One row of `sql/introspect_sizes.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredSize {
    pub table_oid: i64,
    pub relation_oid: i64,
    /// `table` (heap + TOAST, all forks), `toast` (TOAST with its index) or `index`.
    pub part: String,
    /// Someone holds or awaits ACCESS EXCLUSIVE on the table, its TOAST or an index.
    pub locked: bool,
    pub bytes: Option<i64>,
}

impl Introspection {
    /// The table with this oid.
    pub fn table(&self, oid: i64) -> Option<&TableInfo> {
        self.tables.iter().find(|table| table.oid == oid)
    }

    /// The table called `schema.name`.
    pub fn table_named(&self, qualified: &str) -> Option<&TableInfo> {
        self.tables.iter().find(|table| table.qualified_name() == qualified)
    }

    /// The indexes of one table.
    pub fn indexes_of(&self, table_oid: i64) -> impl Iterator<Item = &IndexInfo> {
        self.indexes.iter().filter(move |index| index.table_oid == table_oid)
    }

    /// The constraints of one table.
    pub fn constraints_of(&self, table_oid: i64) -> impl Iterator<Item = &ConstraintInfo> {
        self.constraints.iter().filter(move |constraint| constraint.table_oid == table_oid)
    }

    /// The `count` biggest tables by total size, biggest first.
    pub fn largest_tables(&self, count: usize) -> Vec<&TableInfo> {
        let mut tables: Vec<&TableInfo> = self.tables.iter().collect();
        tables.sort_by(|a, b| b.size.total_bytes.cmp(&a.size.total_bytes).then_with(|| b.rows().total_cmp(&a.rows())));
        tables.truncate(count);
        tables
    }

    /// Valid indexes never scanned since the statistics reset, biggest first. Includes those
    /// that enforce a constraint (see [`IndexInfo::enforces_constraint`]).
    pub fn unused_indexes(&self) -> Vec<&IndexInfo> {
        let mut unused: Vec<&IndexInfo> =
            self.indexes.iter().filter(|index| index.is_valid && index.idx_scan == 0).collect();
        unused.sort_by_key(|index| std::cmp::Reverse(index.size_bytes));
        unused
    }

    /// Indexes left invalid (a failed or running CREATE INDEX CONCURRENTLY, REINDEX …).
    pub fn invalid_indexes(&self) -> Vec<&IndexInfo> {
        self.indexes.iter().filter(|index| !index.is_valid).collect()
    }

    /// Constraints added `NOT VALID` and never validated.
    pub fn not_valid_constraints(&self) -> Vec<&ConstraintInfo> {
        self.constraints.iter().filter(|constraint| !constraint.validated).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::human_bytes;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(0.25), "250ms");
        assert_eq!(human_duration(3.46), "3.5s");
        assert_eq!(human_duration(42.0), "42s");
        assert_eq!(human_duration(125.0), "2m 5s");
        assert_eq!(human_duration(7260.0), "2h 1m");
        assert_eq!(human_duration(3.0 * 86_400.0 + 7200.0), "3d 2h");
        assert_eq!(human_duration(f64::NAN), "?");
    }

    #[test]
    fn bytes_read_like_pg_size_pretty() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(8192), "8.0 kB");
        assert_eq!(human_bytes(300 * 1024 * 1024), "300 MB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GB");
    }

    const DEFAULTS: ParallelBuildSettings = ParallelBuildSettings::DEFAULTS;

    #[test]
    fn index_build_workers_follow_postgresql_s_ladder() {
        // Under 8 MB of heap: serial.
        assert_eq!(DEFAULTS.index_build_workers(1023.0), 0);
        // 64 MB of maintenance_work_mem leaves room for one worker beside the leader (32 MB each),
        // however large the table.
        assert_eq!(DEFAULTS.index_build_workers(1024.0), 1);
        assert_eq!(DEFAULTS.index_build_workers(1_000_000.0), 1);
        let roomy = ParallelBuildSettings { maintenance_work_mem_kb: 1_048_576, ..DEFAULTS };
        assert_eq!(roomy.index_build_workers(3071.0), 1);
        assert_eq!(roomy.index_build_workers(3072.0), 2);
        // Capped by max_parallel_maintenance_workers (2), then by the pool.
        assert_eq!(roomy.index_build_workers(1_000_000.0), 2);
        let many = ParallelBuildSettings { max_parallel_maintenance_workers: 8, ..roomy };
        assert_eq!(many.index_build_workers(9216.0), 3);
        assert_eq!(ParallelBuildSettings { max_parallel_workers: 2, ..many }.index_build_workers(1e9), 2);
        assert_eq!(ParallelBuildSettings { max_parallel_maintenance_workers: 0, ..roomy }.index_build_workers(1e9), 0);
    }
}
