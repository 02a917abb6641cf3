//! Extra runs for production estimates (`check --production-stats`): before a statement that
//! rewrites a table, builds an index or validates a constraint runs in the dry-run, more timings
//! of the same work are taken inside savepoints of the same always-rolled-back transaction, each
//! rolled back before the statement itself runs; `analyze::estimate` fits its fixed + per-row +
//! per-index cost model on them and the statement's own run:
//!
//! * the statement itself, rerun serially on its table `REPEATS` times (median): one timing of a
//!   few milliseconds is mostly noise on a shared machine, and the statement's own run may have had
//!   parallel workers;
//! * for a rewrite, the same operation on sample copies of a quarter of the table, without and with
//!   its indexes (median of `REPEATS` each): what the heap costs per row apart from its indexes.
//!   Index builds and validations get no copies: their time grows with the table alone, and a
//!   fresh copy's rows — inserted by this very transaction — cost more per row than the table's
//!   (measured: 0.047 against 0.033 µs per row·log₂rows for the same index), which would skew a
//!   fixed-versus-per-row split;
//! * for an index build, and a rewrite's btree index rebuilds, their heap scan and sort alone, as a
//!   query on the table (`scan_and_sort`): the share of the build parallel workers divide among
//!   themselves (each participant scans part of the heap and sorts it; the leader then merges the
//!   runs and loads the tree alone — PostgreSQL source src/backend/access/nbtree/nbtsort.c,
//!   `_bt_leader_participate_as_worker`, `_bt_parallel_scan_and_sort`, `_bt_load`), so that an
//!   estimate for a production table big enough for workers divides only that share. The settings
//!   and heap size that decide the workers are recorded too
//!   (`introspect::ParallelBuildSettings::index_build_workers`).
//!
//! Extra runs are serial (`SET LOCAL max_parallel_maintenance_workers = 0`), so each timing's
//! workers are known.
//!
//! What the copy is: `CREATE TABLE … (LIKE t INCLUDING DEFAULTS INCLUDING CONSTRAINTS …)` copies
//! column types, NOT NULL, defaults and CHECK constraints, and `INCLUDING INDEXES` its indexes; no
//! foreign keys, triggers or rules are copied (PostgreSQL docs, CREATE TABLE, "LIKE source_table":
//! https://www.postgresql.org/docs/15/sql-createtable.html). Rows are inserted with explicit
//! values, so no default, sequence or trigger runs. The copy, and every lock taken after the
//! savepoint, is gone with `ROLLBACK TO SAVEPOINT` (locks acquired by an aborted subtransaction
//! are released: https://www.postgresql.org/docs/15/sql-rollback-to.html, "Notes"; PostgreSQL
//! source src/backend/access/transam/xact.c, AbortSubTransaction → ResourceOwnerRelease).

use std::time::Instant;

use pg_query::protobuf::{AlterTableType, CollateClause, ColumnRef, IndexElem, IndexStmt, RangeVar, ResTarget, SortBy};
use pg_query::{Node, NodeEnum};
use serde::Serialize;
use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::observe::RelationSnapshot;
use crate::introspect::ParallelBuildSettings;
use crate::sql::Statement;

const SAVEPOINT: &str = "lockscope_calibration";
/// Each run of a sample operation, inside the copy's savepoint.
const RUN_SAVEPOINT: &str = "lockscope_calibration_run";
/// Timings per sample operation; the median is kept.
const REPEATS: usize = 3;
/// Tables smaller than this are not sampled: their time is mostly fixed cost anyway.
const MIN_ROWS: f64 = 1000.0;

/// What the sample runs measured, for one statement.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Calibration {
    /// The table sampled (`schema.name`).
    pub relation: String,
    /// Rows (`pg_class.reltuples`) and indexes of that table here, before the statement ran.
    pub rows_here: f64,
    pub indexes_here: usize,
    /// `rewrite`, `index build` or `scan`.
    pub work: String,
    pub runs: Vec<CalibrationRun>,
    /// The table's heap in blocks here, now (`pg_relation_size`): what PostgreSQL plans an index
    /// build's workers on.
    pub heap_pages_here: f64,
    /// This session's parallel-build settings, when they could be read: whether the statement's
    /// own run had workers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_here: Option<ParallelBuildSettings>,
    /// An index build's access method (`btree`, `gin`, …): which ones PostgreSQL builds in
    /// parallel depends on the server version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    /// The heap scan and sort of each index build alone, as queries on the table itself, timed once
    /// (`indexes`: how many index builds the timing sums — the one built, or the btree indexes a
    /// rewrite rebuilds): the share of those builds parallel workers divide. At most one entry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort_runs: Vec<CalibrationRun>,
    /// The statement itself on its table, serial (median of `REPEATS`, each rolled back): the
    /// serial timing at the table's full size, beside the statement's own run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_here_ms: Option<f64>,
    /// Why sampling stopped early, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One timed run of the statement's operation on a sample copy.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CalibrationRun {
    pub rows: f64,
    pub indexes: usize,
    pub duration_ms: f64,
}

/// The operation to sample, decided from the statement's parse tree before it runs.
struct Plan {
    table_oid: i64,
    schema: String,
    table: String,
    work: &'static str,
    /// Copies to time (a rewrite's): with the table's indexes or not.
    copies: Vec<bool>,
}

fn plan(statement: &Statement, relations: &RelationSnapshot, oid_of: impl Fn(&str) -> Option<i64>) -> Option<Plan> {
    let (relation, work, copies) = match statement.ast.as_ref()? {
        NodeEnum::IndexStmt(index) if !index.concurrent => (index.relation.as_ref()?, "index build", vec![]),
        NodeEnum::AlterTableStmt(alter) => {
            let subtypes: Vec<i32> = alter
                .cmds
                .iter()
                .filter_map(|cmd| match cmd.node.as_ref()? {
                    NodeEnum::AlterTableCmd(cmd) => Some(cmd.subtype),
                    _ => None,
                })
                .collect();
            if subtypes.contains(&(AlterTableType::AtAlterColumnType as i32)) {
                (alter.relation.as_ref()?, "rewrite", vec![false, true])
            } else if subtypes == [AlterTableType::AtValidateConstraint as i32] {
                (alter.relation.as_ref()?, "scan", vec![])
            } else {
                return None;
            }
        }
        _ => return None,
    };
    let written = if relation.schemaname.is_empty() {
        relation.relname.clone()
    } else {
        format!("{}.{}", relation.schemaname, relation.relname)
    };
    let table_oid = oid_of(&written)?;
    let row = relations.rows.get(&table_oid)?;
    if row.relkind != "r" || row.reltuples < MIN_ROWS {
        return None;
    }
    Some(Plan { table_oid, schema: row.schema_name.clone(), table: row.relation_name.clone(), work, copies })
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The statement with its table replaced by the copy (an index build names its index itself).
fn on_copy(statement: &Statement, schema: &str, copy: &str) -> Option<String> {
    let mut ast = statement.ast.clone()?;
    let point = |relation: &mut Option<RangeVar>| {
        if let Some(relation) = relation {
            relation.schemaname = schema.to_string();
            relation.relname = copy.to_string();
        }
    };
    match &mut ast {
        NodeEnum::IndexStmt(index) => {
            point(&mut index.relation);
            index.idxname = String::new();
        }
        NodeEnum::AlterTableStmt(alter) => point(&mut alter.relation),
        _ => return None,
    }
    ast.deparse(pg_query::DeparseOptions::default()).ok()
}

/// Times the statement's operation on sample copies of its table; `None` when the statement is
/// not one whose cost grows with its table, or the table is too small to sample. Errors in the
/// sample runs are rolled back and noted, never the statement's.
pub(super) async fn calibrate(
    conn: &mut PgConnection,
    statement: &Statement,
    relations: &RelationSnapshot,
    oid_of: impl Fn(&str) -> Option<i64>,
    pid: i32,
) -> Option<Calibration> {
    let plan = plan(statement, relations, oid_of)?;
    let row = relations.rows.get(&plan.table_oid)?;
    let indexes_here =
        relations.rows.values().filter(|r| r.relkind == "i" && r.index_table_oid == Some(plan.table_oid)).count();
    let index = match statement.ast.as_ref() {
        Some(NodeEnum::IndexStmt(index)) => Some(index.as_ref()),
        _ => None,
    };
    let (heap_pages_here, settings_here) = build_facts(conn, plan.table_oid).await;
    let mut calibration = Calibration {
        relation: format!("{}.{}", plan.schema, plan.table),
        rows_here: row.reltuples,
        indexes_here,
        work: plan.work.to_string(),
        runs: Vec::new(),
        heap_pages_here: heap_pages_here.unwrap_or(row.relpages as f64),
        settings_here,
        access_method: index.map(|index| {
            if index.access_method.is_empty() {
                "btree".to_string()
            } else {
                index.access_method.clone()
            }
        }),
        sort_runs: Vec::new(),
        serial_here_ms: None,
        note: None,
    };
    let sample_rows = (row.reltuples / 4.0).ceil().max(1.0) as i64;
    // The index builds whose scan and sort are timed alone: the one being built, or the table's
    // btree indexes a rewrite rebuilds.
    let builds: Vec<IndexStmt> = match index {
        Some(index) => vec![index.clone()],
        None if plan.work == "rewrite" => btree_indexes(conn, plan.table_oid).await,
        None => Vec::new(),
    };
    let sort_queries = |table: &str| -> Vec<String> {
        builds.iter().filter_map(|build| scan_and_sort(build, &plan.schema, table)).collect()
    };
    let work_mem = settings_here.unwrap_or(ParallelBuildSettings::DEFAULTS).maintenance_work_mem_kb;
    for with_indexes in plan.copies.clone() {
        let copy = format!("lockscope_sample_{pid}");
        match sample_run(conn, statement, &plan, (with_indexes, sample_rows), &copy).await {
            Ok(run) => {
                calibration.runs.push(CalibrationRun { indexes: if with_indexes { indexes_here } else { 0 }, ..run })
            }
            Err(message) => {
                rollback(conn, SAVEPOINT).await;
                calibration.note = Some(crate::db::redact(&format!("a sample run failed: {message}")));
                return Some(calibration);
            }
        }
    }
    // The builds' scans and sorts alone, on the table itself.
    let on_table = sort_queries(&plan.table);
    if !on_table.is_empty() {
        match timed_sorts_on_table(conn, &on_table, work_mem).await {
            Ok(duration_ms) => {
                calibration.sort_runs.push(CalibrationRun { rows: row.reltuples, indexes: on_table.len(), duration_ms })
            }
            Err(message) => {
                rollback(conn, SAVEPOINT).await;
                calibration.note = Some(crate::db::redact(&format!("the scan-and-sort run failed: {message}")));
            }
        }
    }
    // The statement itself on its table, serial like the copies, in a savepoint rolled back after
    // each run: the serial timing at the table's full size (the statement's own run may have had
    // parallel workers).
    let serial_sql = format!("SET LOCAL max_parallel_maintenance_workers = 0; {}", statement.sql);
    match median_of_runs(conn, &serial_sql).await {
        Ok(duration_ms) => calibration.serial_here_ms = Some(duration_ms),
        Err(message) => {
            calibration.note =
                Some(crate::db::redact(&format!("a run of the statement on its table failed: {message}")))
        }
    }
    Some(calibration)
}

/// The table's heap size in blocks now, and this session's parallel-build settings (as the
/// statement will see them: a `SET` earlier in the migration counts). Either is `None` when it
/// can't be read; sampling goes on without it.
async fn build_facts(conn: &mut PgConnection, table_oid: i64) -> (Option<f64>, Option<ParallelBuildSettings>) {
    const SQL: &str = concat!(
        "SELECT pg_catalog.pg_relation_size($1::int8::oid)::float8 \
                / pg_catalog.current_setting('block_size')::float8 AS heap_pages,\n",
        include_str!("../../sql/parallel_build_settings.sql")
    );
    match sqlx::query(SQL).bind(table_oid).fetch_one(&mut *conn).await {
        Ok(row) => (row.try_get("heap_pages").ok(), Some(crate::introspect::parallel_build_settings(&row))),
        Err(_) => (None, None),
    }
}

/// Runs `sql` (one statement or several) on the calibration's connection: the rows it
/// affected, or the error in words.
async fn run(conn: &mut PgConnection, sql: String) -> Result<u64, String> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
        .map_err(|err| err.to_string())
}

/// Rolls back to `savepoint` and releases it: everything done and locked since is gone.
async fn release(conn: &mut PgConnection, savepoint: &str) -> Result<(), String> {
    run(conn, format!("ROLLBACK TO SAVEPOINT {savepoint}; RELEASE SAVEPOINT {savepoint}")).await.map(drop)
}

/// [`release`] after a failure, whose own error is the one reported.
async fn rollback(conn: &mut PgConnection, savepoint: &str) {
    let _ = release(conn, savepoint).await;
}

/// `sql` run `REPEATS` times, each in a savepoint rolled back after it; the median wall time.
async fn median_of_runs(conn: &mut PgConnection, sql: &str) -> Result<f64, String> {
    let mut times = Vec::with_capacity(REPEATS);
    for _ in 0..REPEATS {
        run(conn, format!("SAVEPOINT {RUN_SAVEPOINT}")).await?;
        let started = Instant::now();
        let result = run(conn, sql.to_string()).await;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        release(conn, RUN_SAVEPOINT).await?;
        result?;
        times.push(elapsed);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// What makes `scan_and_sort`'s query sort as the build does: the build's memory for its sort,
/// one process, and a heap scan (an existing index on the same keys must not spare the sort).
fn sort_settings(work_mem_kb: i64) -> String {
    format!(
        "SET LOCAL work_mem = '{work_mem_kb}kB'; SET LOCAL max_parallel_workers_per_gather = 0; \
         SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_bitmapscan = off"
    )
}

/// The table's valid btree indexes, as the statements that build them (`pg_get_indexdef`, parsed).
async fn btree_indexes(conn: &mut PgConnection, table_oid: i64) -> Vec<IndexStmt> {
    let definitions: Vec<String> = sqlx::query_scalar(
        "SELECT pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i \
         JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid JOIN pg_catalog.pg_am a ON a.oid = c.relam \
         WHERE i.indrelid = $1::int8::oid AND i.indisvalid AND a.amname = 'btree' ORDER BY i.indexrelid",
    )
    .bind(table_oid)
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    definitions
        .iter()
        .filter_map(|sql| match pg_query::parse(sql, 0).ok()?.protobuf.stmts.first()?.stmt.as_ref()?.node.clone()? {
            NodeEnum::IndexStmt(index) => Some(*index),
            _ => None,
        })
        .collect()
}

/// The scan-and-sort queries timed once each on the table itself, in a savepoint rolled back
/// after them (their ACCESS SHARE lock and settings go with it); the sum.
async fn timed_sorts_on_table(conn: &mut PgConnection, queries: &[String], work_mem_kb: i64) -> Result<f64, String> {
    run(conn, format!("SAVEPOINT {SAVEPOINT}; {}", sort_settings(work_mem_kb))).await?;
    let mut duration_ms = 0.0;
    for sql in queries {
        let started = Instant::now();
        run(conn, sql.to_string()).await?;
        duration_ms += started.elapsed().as_secs_f64() * 1000.0;
    }
    release(conn, SAVEPOINT).await?;
    Ok(duration_ms)
}

/// One sample copy: created and filled in a savepoint, the operation timed on it (median of
/// `REPEATS`), then everything rolled back.
async fn sample_run(
    conn: &mut PgConnection,
    statement: &Statement,
    plan: &Plan,
    (with_indexes, sample_rows): (bool, i64),
    copy: &str,
) -> Result<CalibrationRun, String> {
    let (schema, table, copy_q) = (quote(&plan.schema), quote(&plan.table), quote(copy));
    let operation =
        on_copy(statement, &plan.schema, copy).ok_or("the statement could not be rewritten for the copy")?;
    let indexes = if with_indexes { " INCLUDING INDEXES" } else { "" };
    // Serial, whatever the settings: see the module's comment. SET LOCAL in a savepoint is undone
    // by ROLLBACK TO SAVEPOINT (PostgreSQL docs, SET: "the effects of SET LOCAL last only till the
    // end of the current transaction"; a subtransaction's settings are reverted when it aborts,
    // src/backend/utils/misc/guc.c, AtEOXact_GUC called from AbortSubTransaction).
    let setup = format!(
        "SAVEPOINT {SAVEPOINT}; \
         SET LOCAL max_parallel_maintenance_workers = 0; \
         CREATE TABLE {schema}.{copy_q} (LIKE {schema}.{table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS{indexes} INCLUDING STORAGE); \
         INSERT INTO {schema}.{copy_q} SELECT * FROM {schema}.{table} LIMIT {sample_rows}"
    );
    // rows_affected sums the statements: only the INSERT affects rows.
    let rows = run(conn, setup).await? as f64;
    let duration_ms = median_of_runs(conn, &operation).await?;
    release(conn, SAVEPOINT).await?;
    Ok(CalibrationRun { rows, indexes: 0, duration_ms })
}

/// The heap scan and sort of building `index` on `schema.table`, as a query: the index's key and
/// INCLUDE values of every row its predicate keeps, ordered by its keys (direction, NULLS and
/// collation as the index has them; operator classes are not carried over, the type's default
/// order is used), and all of them skipped by the OFFSET so none is sent — without a LIMIT the
/// sort is not bounded and runs to completion.
fn scan_and_sort(index: &IndexStmt, schema: &str, table: &str) -> Option<String> {
    let template = pg_query::parse("SELECT 1 FROM t ORDER BY 1 OFFSET 9223372036854775807", 0).ok()?;
    let mut select = match template.protobuf.stmts.first()?.stmt.as_ref()?.node.clone()? {
        NodeEnum::SelectStmt(select) => select,
        _ => return None,
    };
    let elems = |params: &[Node]| -> Option<Vec<IndexElem>> {
        params
            .iter()
            .map(|param| match param.node.as_ref()? {
                NodeEnum::IndexElem(elem) => Some((**elem).clone()),
                _ => None,
            })
            .collect()
    };
    let keys = elems(&index.index_params)?;
    let included = elems(&index.index_including_params)?;
    let value = |elem: &IndexElem| -> Option<Node> {
        let node = match &elem.expr {
            Some(expr) => (**expr).clone(),
            None if !elem.name.is_empty() => Node {
                node: Some(NodeEnum::ColumnRef(ColumnRef {
                    fields: vec![Node {
                        node: Some(NodeEnum::String(pg_query::protobuf::String { sval: elem.name.clone() })),
                    }],
                    location: -1,
                })),
            },
            None => return None,
        };
        Some(if elem.collation.is_empty() {
            node
        } else {
            Node {
                node: Some(NodeEnum::CollateClause(Box::new(CollateClause {
                    arg: Some(Box::new(node)),
                    collname: elem.collation.clone(),
                    location: -1,
                }))),
            }
        })
    };
    let target = |value: Node| Node {
        node: Some(NodeEnum::ResTarget(Box::new(ResTarget {
            name: String::new(),
            indirection: Vec::new(),
            val: Some(Box::new(value)),
            location: -1,
        }))),
    };
    select.target_list = keys.iter().chain(&included).map(|elem| value(elem).map(target)).collect::<Option<_>>()?;
    select.sort_clause = keys
        .iter()
        .map(|elem| {
            Some(Node {
                node: Some(NodeEnum::SortBy(Box::new(SortBy {
                    node: Some(Box::new(value(elem)?)),
                    sortby_dir: elem.ordering.max(1),
                    sortby_nulls: elem.nulls_ordering.max(1),
                    use_op: Vec::new(),
                    location: -1,
                }))),
            })
        })
        .collect::<Option<_>>()?;
    select.where_clause = index.where_clause.clone();
    let Some(NodeEnum::RangeVar(from)) = select.from_clause.first_mut().and_then(|node| node.node.as_mut()) else {
        return None;
    };
    from.schemaname = schema.to_string();
    from.relname = table.to_string();
    NodeEnum::SelectStmt(select).deparse(pg_query::DeparseOptions::default()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(sql: &str) -> IndexStmt {
        match pg_query::parse(sql, 0).unwrap().protobuf.stmts[0].stmt.as_ref().unwrap().node.clone().unwrap() {
            NodeEnum::IndexStmt(index) => *index,
            other => panic!("not an index: {other:?}"),
        }
    }

    #[test]
    fn the_scan_and_sort_query_sorts_what_the_index_build_sorts() {
        let built = index(
            "CREATE UNIQUE INDEX i ON app.payments (lower(memo) COLLATE \"C\" DESC NULLS LAST, account) \
             INCLUDE (cents) WHERE cents > 0",
        );
        let sql = scan_and_sort(&built, "app", "lockscope_sample_42").unwrap();
        assert_eq!(
            sql,
            "SELECT lower(memo) COLLATE \"C\", account, cents FROM app.lockscope_sample_42 WHERE cents > 0 \
             ORDER BY lower(memo) COLLATE \"C\" DESC NULLS LAST, account OFFSET 9223372036854775807"
        );
        // The query parses back: it is what the server will be sent.
        pg_query::parse(&sql, 0).unwrap();
        let plain = scan_and_sort(&index("CREATE INDEX ON payments (memo)"), "public", "payments").unwrap();
        assert_eq!(plain, "SELECT memo FROM public.payments ORDER BY memo OFFSET 9223372036854775807");
    }
}
