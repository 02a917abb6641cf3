//! What is in the target database and how it is used: per-table sizes and activity, per-index
//! usage, constraints (with `convalidated`), and since when the statistics count. Read-only and
//! cheap (docs/ARCHITECTURE.md, "Safety invariants"): catalog reads and `pg_stat_get_*` functions, plus size
//! functions only for tables nobody holds or awaits ACCESS EXCLUSIVE on.
//!
//! Used by `lockscope inspect` (overview) and by the impact report (sizes and usage of the
//! relations a migration touches). The queries are the `sql/introspect_*.sql` files.

mod model;
mod session;
pub mod snapshot;

pub use model::*;
pub use session::{configure_read_only_session, set_statement_timeout, SessionLimits};

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Row};

use crate::error::{Error, Result};

const SERVER_SQL: &str = concat!(
    include_str!("../../sql/introspect_server.sql"),
    ",\n",
    include_str!("../../sql/parallel_build_settings.sql")
);
const TABLES_SQL: &str = include_str!("../../sql/introspect_tables.sql");
const INDEXES_SQL: &str = include_str!("../../sql/introspect_indexes.sql");
const COLUMNS_SQL: &str = include_str!("../../sql/introspect_columns.sql");
const CONSTRAINTS_SQL: &str = include_str!("../../sql/introspect_constraints.sql");
const SIZES_SQL: &str = include_str!("../../sql/introspect_sizes.sql");
const INDEX_DEFINITIONS_SQL: &str = include_str!("../../sql/introspect_index_definitions.sql");
const CONSTRAINT_DEFINITIONS_SQL: &str = include_str!("../../sql/introspect_constraint_definitions.sql");

/// `pg_stat_get_lastscan()` (tables' `last_seq_scan`, indexes' `last_idx_scan`) exists from 16.
const LASTSCAN_SINCE: i32 = 160_000;

/// Which tables get exact sizes from the size functions (the rest keep relpages estimates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Estimates only: no size function is called.
    Nothing,
    /// The `n` largest tables by estimate (for "biggest tables" lists).
    Largest(usize),
    /// These tables (by oid), e.g. the relations a migration touches.
    Tables(Vec<i64>),
    /// Every table. Opens every relation: ~0.5 s per 40,000 relations on a cold connection.
    All,
}

/// Which indexes and constraints get their SQL definition (`pg_get_indexdef` costs ~15 µs each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Definitions {
    /// None.
    Nothing,
    /// Those a DBA acts on: invalid indexes and NOT VALID constraints.
    Flagged,
    /// All of them.
    All,
}

/// What [`introspect`] gathers beyond the cheap catalog data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntrospectOptions {
    pub measure: Measure,
    pub definitions: Definitions,
}

impl Default for IntrospectOptions {
    fn default() -> Self {
        IntrospectOptions { measure: Measure::Largest(20), definitions: Definitions::Flagged }
    }
}

/// Reads the server, every user table, index and constraint. The connection should be set up
/// with [`configure_read_only_session`] first.
pub async fn introspect(conn: &mut PgConnection, options: &IntrospectOptions) -> Result<Introspection> {
    let started = Instant::now();
    let server = server_info(conn).await?;
    let lastscan = server.version_num >= LASTSCAN_SINCE;

    let columns = fetch_columns(conn).await?;
    let mut tables = fetch_tables(conn, lastscan, server.block_size).await?;
    let mut indexes = fetch_indexes(conn, lastscan, server.block_size, &columns).await?;
    let mut constraints = fetch_constraints(conn, &columns).await?;
    sum_index_activity(&mut tables, &indexes);

    let mut introspection = Introspection {
        server,
        tables: Vec::new(),
        indexes: Vec::new(),
        constraints: Vec::new(),
        notes: Vec::new(),
        elapsed_ms: 0.0,
    };

    let wanted: Vec<i64> = match &options.measure {
        Measure::Nothing => Vec::new(),
        Measure::All => tables.iter().map(|table| table.oid).collect(),
        Measure::Tables(oids) => oids.clone(),
        Measure::Largest(count) => {
            let mut by_size: Vec<&TableInfo> = tables.iter().collect();
            by_size.sort_by_key(|table| std::cmp::Reverse(table.size.total_bytes));
            by_size.iter().take(*count).map(|table| table.oid).collect()
        }
    };
    if !wanted.is_empty() {
        match measure_sizes(conn, &wanted).await {
            Ok(measured) => apply_sizes(&mut tables, &mut indexes, &measured),
            Err(SampleError::Skipped(reason)) => {
                introspection.notes.push(format!("exact sizes skipped ({reason}); sizes are relpages estimates"))
            }
            Err(SampleError::Failed(err)) => return Err(err),
        }
    }

    let index_oids: Vec<i64> = indexes
        .iter()
        .filter(|index| match options.definitions {
            Definitions::Nothing => false,
            Definitions::Flagged => !index.is_valid || !index.is_ready,
            Definitions::All => true,
        })
        .map(|index| index.oid)
        .collect();
    let definitions = fetch_definitions(conn, INDEX_DEFINITIONS_SQL, &index_oids, "indexes").await?;
    for index in &mut indexes {
        index.definition = definitions.get(&index.oid).cloned();
    }
    let constraint_oids: Vec<i64> = constraints
        .iter()
        .filter(|constraint| match options.definitions {
            Definitions::Nothing => false,
            Definitions::Flagged => !constraint.validated,
            Definitions::All => true,
        })
        .map(|constraint| constraint.oid)
        .collect();
    let definitions = fetch_definitions(conn, CONSTRAINT_DEFINITIONS_SQL, &constraint_oids, "constraints").await?;
    for constraint in &mut constraints {
        constraint.definition = definitions.get(&constraint.oid).cloned();
    }

    tables.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    indexes.sort_by(|a, b| (&a.schema, &a.table, &a.name).cmp(&(&b.schema, &b.table, &b.name)));
    constraints.sort_by(|a, b| (&a.schema, &a.table, &a.name).cmp(&(&b.schema, &b.table, &b.name)));
    introspection.tables = tables;
    introspection.indexes = indexes;
    introspection.constraints = constraints;
    introspection.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(introspection)
}

/// The server, the database, when statistics were reset, and what the role may see.
pub async fn server_info(conn: &mut PgConnection) -> Result<ServerInfo> {
    let row = sqlx::query(SERVER_SQL)
        .fetch_one(&mut *conn)
        .await
        .map_err(|err| db_error("reading the server's version and statistics reset time", err))?;
    let now_epoch: f64 = row.get("now_epoch");
    let started_epoch: f64 = row.get("started_epoch");
    let is_superuser: bool = row.get::<Option<bool>, _>("is_superuser").unwrap_or(false);
    let can_read_all_stats: bool = row.get("can_read_all_stats");
    Ok(ServerInfo {
        version: row.get("version"),
        version_num: row.get("version_num"),
        database: row.get("database"),
        role: row.get("role"),
        started_at: rfc3339(started_epoch),
        uptime_s: (now_epoch - started_epoch).max(0.0),
        stats_reset: row.get::<Option<f64>, _>("stats_reset_epoch").map(rfc3339),
        stats_age_s: row.get::<Option<f64>, _>("stats_reset_epoch").map(|reset| (now_epoch - reset).max(0.0)),
        block_size: row.get("block_size"),
        privileges: Privileges {
            is_superuser,
            can_read_all_stats: is_superuser || can_read_all_stats,
            can_signal_backends: is_superuser || row.get::<bool, _>("can_signal_backends"),
        },
        parallel_builds: Some(parallel_build_settings(&row)),
    })
}

/// The columns of `sql/parallel_build_settings.sql` in `row`.
pub fn parallel_build_settings(row: &PgRow) -> ParallelBuildSettings {
    ParallelBuildSettings {
        max_parallel_maintenance_workers: row.get("max_parallel_maintenance_workers"),
        max_parallel_workers: row.get("max_parallel_workers"),
        maintenance_work_mem_kb: row.get("maintenance_work_mem_kb"),
        min_parallel_table_scan_size: row.get("min_parallel_table_scan_size"),
    }
}

/// Exact sizes of `table_oids`, their TOAST tables and indexes; tables someone holds or awaits
/// ACCESS EXCLUSIVE on come back with `locked` and no sizes.
pub async fn measure_sizes(conn: &mut PgConnection, table_oids: &[i64]) -> Result<Vec<MeasuredSize>, SampleError> {
    let rows = sqlx::query(SIZES_SQL)
        .bind(table_oids)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| SampleError::classify("measuring table sizes", err))?;
    Ok(rows
        .iter()
        .map(|row| MeasuredSize {
            table_oid: row.get("table_oid"),
            relation_oid: row.get("relation_oid"),
            part: row.get("part"),
            locked: row.get("locked"),
            bytes: row.get("bytes"),
        })
        .collect())
}

/// Why a monitoring query produced nothing: a timeout or lock wait we gave up on (the caller
/// shows it as skipped and goes on), or a real failure.
#[derive(Debug)]
pub enum SampleError {
    /// `statement_timeout` or `lock_timeout` fired; the text says which and where.
    Skipped(String),
    Failed(Error),
}

impl SampleError {
    /// Sorts a query error into "skipped" (our own timeouts) or "failed" (everything else).
    pub fn classify(doing: &str, err: sqlx::Error) -> SampleError {
        let code = match &err {
            sqlx::Error::Database(db) => db.code().map(|code| code.into_owned()),
            _ => None,
        };
        match code.as_deref() {
            Some("57014") => SampleError::Skipped(format!("{doing}: statement timeout")),
            Some("55P03") => SampleError::Skipped(format!("{doing}: lock timeout")),
            _ => SampleError::Failed(db_error(doing, err)),
        }
    }
}

impl From<SampleError> for Error {
    fn from(err: SampleError) -> Error {
        match err {
            SampleError::Skipped(reason) => Error::Database(reason),
            SampleError::Failed(err) => err,
        }
    }
}

/// A database error as lockscope reports it: what was being done, redacted.
pub(crate) fn db_error(doing: &str, err: sqlx::Error) -> Error {
    Error::Database(crate::db::redact(&format!("{doing}: {err}")))
}

/// `epoch` seconds as RFC 3339 UTC, to the second.
pub fn rfc3339(epoch: f64) -> String {
    let time = if epoch >= 0.0 { UNIX_EPOCH + Duration::from_secs_f64(epoch) } else { UNIX_EPOCH };
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Now, RFC 3339 UTC with milliseconds.
pub fn rfc3339_now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Replaces `pg_stat_get_lastscan(…)` with NULL on servers that lack it (< 16).
fn versioned(sql: &str, lastscan: bool) -> String {
    if lastscan {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    const CALL: &str = "pg_catalog.pg_stat_get_lastscan(";
    while let Some(start) = rest.find(CALL) {
        out.push_str(&rest[..start]);
        let after = &rest[start + CALL.len()..];
        let close = after.find(')').map_or(after.len(), |at| at + 1);
        out.push_str("NULL::timestamptz");
        rest = &after[close..];
    }
    out.push_str(rest);
    out
}

type ColumnNames = HashMap<i64, HashMap<i32, String>>;

async fn fetch_columns(conn: &mut PgConnection) -> Result<ColumnNames> {
    let rows =
        sqlx::query(COLUMNS_SQL).fetch_all(&mut *conn).await.map_err(|err| db_error("reading column names", err))?;
    let mut columns: ColumnNames = HashMap::new();
    for row in rows {
        columns.entry(row.get("table_oid")).or_default().insert(row.get("attnum"), row.get("name"));
    }
    Ok(columns)
}

fn column_names(columns: &ColumnNames, table_oid: i64, attnums: &[i16]) -> Vec<String> {
    attnums
        .iter()
        .map(|attnum| match *attnum {
            0 => "(expression)".to_string(),
            number => columns
                .get(&table_oid)
                .and_then(|names| names.get(&i32::from(number)))
                .cloned()
                .unwrap_or_else(|| format!("#{number}")),
        })
        .collect()
}

async fn fetch_tables(conn: &mut PgConnection, lastscan: bool, block_size: i64) -> Result<Vec<TableInfo>> {
    let sql = versioned(TABLES_SQL, lastscan);
    let rows =
        sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *conn).await.map_err(|err| db_error("reading tables", err))?;
    Ok(rows.iter().map(|row| table_from_row(row, block_size)).collect())
}

fn table_from_row(row: &PgRow, block_size: i64) -> TableInfo {
    let relpages: i64 = row.get("relpages");
    let toast_relpages: i64 = row.get("toast_relpages");
    let reltuples: f64 = row.get("reltuples");
    let relkind: String = row.get("relkind");
    TableInfo {
        oid: row.get("oid"),
        schema: row.get("schema_name"),
        name: row.get("name"),
        // The query reads only ordinary and partitioned tables and materialized views.
        kind: match crate::sql::relkind_name(&relkind) {
            kind @ ("partitioned table" | "materialized view") => kind,
            _ => "table",
        }
        .to_string(),
        // -1 (PostgreSQL 14+) means never vacuumed or analyzed: unknown, not zero.
        reltuples: (reltuples >= 0.0).then_some(reltuples),
        relpages,
        toast_oid: row.get("toast_oid"),
        size: TableSize {
            heap_bytes: relpages * block_size,
            toast_bytes: toast_relpages * block_size,
            indexes_bytes: 0,
            total_bytes: (relpages + toast_relpages) * block_size,
            source: SizeSource::Estimated,
        },
        activity: TableActivity {
            seq_scan: row.get("seq_scan"),
            seq_tup_read: row.get("seq_tup_read"),
            last_seq_scan: row.get::<Option<f64>, _>("last_seq_scan_epoch").map(rfc3339),
            idx_scan: 0,
            idx_tup_fetch: row.get("heap_tup_fetch"),
            n_tup_ins: row.get("n_tup_ins"),
            n_tup_upd: row.get("n_tup_upd"),
            n_tup_del: row.get("n_tup_del"),
            n_tup_hot_upd: row.get("n_tup_hot_upd"),
            n_live_tup: row.get("n_live_tup"),
            n_dead_tup: row.get("n_dead_tup"),
            last_vacuum: row.get::<Option<f64>, _>("last_vacuum_epoch").map(rfc3339),
            last_analyze: row.get::<Option<f64>, _>("last_analyze_epoch").map(rfc3339),
        },
    }
}

async fn fetch_indexes(
    conn: &mut PgConnection,
    lastscan: bool,
    block_size: i64,
    columns: &ColumnNames,
) -> Result<Vec<IndexInfo>> {
    let sql = versioned(INDEXES_SQL, lastscan);
    let rows =
        sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *conn).await.map_err(|err| db_error("reading indexes", err))?;
    Ok(rows
        .iter()
        .map(|row| {
            let table_oid: i64 = row.get("table_oid");
            let attnums: Vec<i16> = row.get("attnums");
            let key_count = usize::try_from(row.get::<i32, _>("key_count")).unwrap_or(0);
            let names = column_names(columns, table_oid, &attnums);
            let (key, include) = names.split_at(key_count.min(names.len()));
            let relpages: i64 = row.get("relpages");
            IndexInfo {
                oid: row.get("oid"),
                table_oid,
                schema: row.get("schema_name"),
                table: row.get("table_name"),
                name: row.get("name"),
                method: row.get("method"),
                columns: key.to_vec(),
                include_columns: include.to_vec(),
                is_unique: row.get("is_unique"),
                is_primary: row.get("is_primary"),
                is_exclusion: row.get("is_exclusion"),
                is_valid: row.get("is_valid"),
                is_ready: row.get("is_ready"),
                is_partial: row.get("is_partial"),
                has_expressions: row.get("has_expressions"),
                constraint: row.get("constraint_name"),
                idx_scan: row.get("idx_scan"),
                idx_tup_read: row.get("idx_tup_read"),
                idx_tup_fetch: row.get("idx_tup_fetch"),
                last_idx_scan: row.get::<Option<f64>, _>("last_idx_scan_epoch").map(rfc3339),
                relpages,
                size_bytes: relpages * block_size,
                size_source: SizeSource::Estimated,
                definition: None,
            }
        })
        .collect())
}

async fn fetch_constraints(conn: &mut PgConnection, columns: &ColumnNames) -> Result<Vec<ConstraintInfo>> {
    let rows =
        sqlx::query(CONSTRAINTS_SQL).fetch_all(&mut *conn).await.map_err(|err| db_error("reading constraints", err))?;
    Ok(rows
        .iter()
        .map(|row| {
            let table_oid: i64 = row.get("table_oid");
            let referenced_table_oid: Option<i64> = row.get("referenced_table_oid");
            let kind: String = row.get("kind");
            ConstraintInfo {
                oid: row.get("oid"),
                table_oid,
                schema: row.get("schema_name"),
                table: row.get("table_name"),
                name: row.get("name"),
                kind: ConstraintKind::from_contype(&kind),
                validated: row.get("validated"),
                deferrable: row.get("deferrable"),
                columns: column_names(columns, table_oid, &row.get::<Vec<i16>, _>("attnums")),
                referenced_table: row.get("referenced_table"),
                referenced_columns: referenced_table_oid
                    .map(|oid| column_names(columns, oid, &row.get::<Vec<i16>, _>("referenced_attnums")))
                    .unwrap_or_default(),
                index_oid: row.get("index_oid"),
                definition: None,
            }
        })
        .collect())
}

async fn fetch_definitions(
    conn: &mut PgConnection,
    sql: &'static str,
    oids: &[i64],
    what: &str,
) -> Result<HashMap<i64, String>> {
    if oids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(sql)
        .bind(oids)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| db_error(&format!("reading definitions of {what}"), err))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let definition: Option<String> = row.get("definition");
            definition.map(|definition| (row.get("oid"), definition))
        })
        .collect())
}

/// Adds index estimates and index scans to their tables (pg_stat_user_tables does the same sums).
fn sum_index_activity(tables: &mut [TableInfo], indexes: &[IndexInfo]) {
    let mut by_table: HashMap<i64, (i64, i64, i64)> = HashMap::new();
    for index in indexes {
        let entry = by_table.entry(index.table_oid).or_default();
        entry.0 += index.size_bytes;
        entry.1 += index.idx_scan;
        entry.2 += index.idx_tup_fetch;
    }
    for table in tables {
        if let Some((bytes, scans, fetched)) = by_table.get(&table.oid) {
            table.size.indexes_bytes = *bytes;
            table.size.total_bytes += *bytes;
            table.activity.idx_scan = *scans;
            table.activity.idx_tup_fetch += *fetched;
        }
    }
}

fn apply_sizes(tables: &mut [TableInfo], indexes: &mut [IndexInfo], measured: &[MeasuredSize]) {
    let mut per_table: HashMap<i64, Vec<&MeasuredSize>> = HashMap::new();
    for size in measured {
        per_table.entry(size.table_oid).or_default().push(size);
    }
    let index_sizes: HashMap<i64, &MeasuredSize> =
        measured.iter().filter(|size| size.part == "index").map(|size| (size.relation_oid, size)).collect();
    for index in indexes.iter_mut() {
        if let Some(size) = index_sizes.get(&index.oid) {
            match size.bytes {
                Some(bytes) if !size.locked => {
                    index.size_bytes = bytes;
                    index.size_source = SizeSource::Measured;
                }
                _ => index.size_source = SizeSource::EstimatedLocked,
            }
        }
    }
    for table in tables.iter_mut() {
        let Some(parts) = per_table.get(&table.oid) else {
            continue;
        };
        if parts.iter().any(|part| part.locked || part.bytes.is_none()) {
            table.size.source = SizeSource::EstimatedLocked;
            continue;
        }
        let bytes_of = |wanted: &str| -> i64 {
            parts.iter().filter(|part| part.part == wanted).filter_map(|part| part.bytes).sum()
        };
        // pg_table_size() includes TOAST; report the heap on its own.
        let toast = bytes_of("toast");
        let heap = (bytes_of("table") - toast).max(0);
        let indexes_bytes = bytes_of("index");
        table.size = TableSize {
            heap_bytes: heap,
            toast_bytes: toast,
            indexes_bytes,
            total_bytes: heap + toast + indexes_bytes,
            source: SizeSource::Measured,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lastscan_is_replaced_on_old_servers_only() {
        let sql = "SELECT EXTRACT(EPOCH FROM pg_catalog.pg_stat_get_lastscan(i.indexrelid))::float8 AS x, \
                   pg_catalog.pg_stat_get_lastscan(c.oid) AS y";
        assert_eq!(versioned(sql, true), sql);
        let old = versioned(sql, false);
        assert_eq!(old, "SELECT EXTRACT(EPOCH FROM NULL::timestamptz)::float8 AS x, NULL::timestamptz AS y");
        assert!(!versioned(INDEXES_SQL, false).contains("pg_catalog.pg_stat_get_lastscan"));
        assert!(!versioned(TABLES_SQL, false).contains("pg_catalog.pg_stat_get_lastscan"));
    }

    #[test]
    fn column_numbers_are_named_and_expressions_marked() {
        let mut columns: ColumnNames = HashMap::new();
        columns.insert(7, HashMap::from([(1, "id".to_string()), (3, "email".to_string())]));
        assert_eq!(column_names(&columns, 7, &[3, 0, 1, 9]), vec!["email", "(expression)", "id", "#9"]);
    }

    #[test]
    fn rfc3339_formats_epoch_seconds() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000.4), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn measured_sizes_replace_estimates_unless_locked() {
        let table = |oid| TableInfo {
            oid,
            schema: "public".into(),
            name: format!("t{oid}"),
            kind: "table".into(),
            reltuples: None,
            relpages: 1,
            toast_oid: None,
            size: TableSize {
                heap_bytes: 8192,
                toast_bytes: 0,
                indexes_bytes: 0,
                total_bytes: 8192,
                source: SizeSource::Estimated,
            },
            activity: TableActivity::default(),
        };
        let mut tables = vec![table(1), table(2)];
        let mut indexes = Vec::new();
        let part = |table_oid, relation_oid, part: &str, bytes, locked| MeasuredSize {
            table_oid,
            relation_oid,
            part: part.into(),
            locked,
            bytes,
        };
        apply_sizes(
            &mut tables,
            &mut indexes,
            &[
                part(1, 1, "table", Some(100_000), false),
                part(1, 10, "toast", Some(20_000), false),
                part(1, 11, "index", Some(5_000), false),
                part(2, 2, "table", None, true),
            ],
        );
        assert_eq!(tables[0].size.heap_bytes, 80_000);
        assert_eq!(tables[0].size.toast_bytes, 20_000);
        assert_eq!(tables[0].size.indexes_bytes, 5_000);
        assert_eq!(tables[0].size.total_bytes, 105_000);
        assert_eq!(tables[0].size.source, SizeSource::Measured);
        assert_eq!(tables[1].size.source, SizeSource::EstimatedLocked);
        assert_eq!(tables[1].size.heap_bytes, 8192);
    }
}
