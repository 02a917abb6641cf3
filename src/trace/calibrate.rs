//! Sample runs for production estimates (`check --production-stats`): before a statement that
//! rewrites a table, builds an index or validates a constraint runs in the dry-run, the same
//! operation is timed on sample copies of its table — a quarter of its rows, without and with its
//! indexes — inside a savepoint of the same always-rolled-back transaction, then rolled back. With
//! the statement's own run that gives timings at two sizes (and two index counts), which
//! `analyze::estimate` fits a fixed + per-row + per-index cost model on.
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

use pg_query::protobuf::{AlterTableType, RangeVar};
use pg_query::NodeEnum;
use serde::Serialize;
use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::observe::RelationSnapshot;
use crate::sql::Statement;

const SAVEPOINT: &str = "lockscope_calibration";
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
    /// Copies to time: with the table's indexes or not.
    copies: Vec<bool>,
    /// `VALIDATE CONSTRAINT name`: the CHECK constraint to put on the copy, NOT VALID.
    validate: Option<String>,
}

fn plan(statement: &Statement, relations: &RelationSnapshot, oid_of: impl Fn(&str) -> Option<i64>) -> Option<Plan> {
    let (relation, work, copies, validate) = match statement.ast.as_ref()? {
        NodeEnum::IndexStmt(index) if !index.concurrent => (index.relation.as_ref()?, "index build", vec![false], None),
        NodeEnum::AlterTableStmt(alter) => {
            let subtypes: Vec<(i32, String)> = alter
                .cmds
                .iter()
                .filter_map(|cmd| match cmd.node.as_ref()? {
                    NodeEnum::AlterTableCmd(cmd) => Some((cmd.subtype, cmd.name.clone())),
                    _ => None,
                })
                .collect();
            if subtypes.iter().any(|(t, _)| *t == AlterTableType::AtAlterColumnType as i32) {
                (alter.relation.as_ref()?, "rewrite", vec![false, true], None)
            } else if let [(t, name)] = subtypes.as_slice() {
                if *t != AlterTableType::AtValidateConstraint as i32 {
                    return None;
                }
                (alter.relation.as_ref()?, "scan", vec![false], Some(name.clone()))
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
    Some(Plan { table_oid, schema: row.schema_name.clone(), table: row.relation_name.clone(), work, copies, validate })
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
    let mut calibration = Calibration {
        relation: format!("{}.{}", plan.schema, plan.table),
        rows_here: row.reltuples,
        indexes_here,
        work: plan.work.to_string(),
        runs: Vec::new(),
        note: None,
    };
    let sample_rows = (row.reltuples / 4.0).ceil().max(1.0) as i64;
    for with_indexes in plan.copies.clone() {
        match sample_run(conn, statement, &plan, with_indexes, sample_rows, pid).await {
            Ok(run) => {
                calibration.runs.push(CalibrationRun { indexes: if with_indexes { indexes_here } else { 0 }, ..run })
            }
            Err(message) => {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"
                )))
                .execute(&mut *conn)
                .await;
                calibration.note = Some(crate::db::redact(&format!("a sample run failed: {message}")));
                break;
            }
        }
    }
    Some(calibration)
}

async fn sample_run(
    conn: &mut PgConnection,
    statement: &Statement,
    plan: &Plan,
    with_indexes: bool,
    sample_rows: i64,
    pid: i32,
) -> Result<CalibrationRun, String> {
    let copy = format!("lockscope_sample_{pid}");
    let (schema, table, copy_q) = (quote(&plan.schema), quote(&plan.table), quote(&copy));
    let operation =
        on_copy(statement, &plan.schema, &copy).ok_or("the statement could not be rewritten for the copy")?;
    let constraints = if plan.validate.is_some() { "" } else { " INCLUDING CONSTRAINTS" };
    let indexes = if with_indexes { " INCLUDING INDEXES" } else { "" };
    let setup = format!(
        "SAVEPOINT {SAVEPOINT}; \
         CREATE TABLE {schema}.{copy_q} (LIKE {schema}.{table} INCLUDING DEFAULTS{constraints}{indexes} INCLUDING STORAGE); \
         INSERT INTO {schema}.{copy_q} SELECT * FROM {schema}.{table} LIMIT {sample_rows}"
    );
    let raw = |sql: String| sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
    // rows_affected sums the statements: only the INSERT affects rows.
    let rows = raw(setup).execute(&mut *conn).await.map_err(|err| err.to_string())?.rows_affected();
    if let Some(name) = &plan.validate {
        let definition: Option<String> = sqlx::query(
            "SELECT pg_catalog.pg_get_constraintdef(oid) AS def FROM pg_catalog.pg_constraint \
             WHERE conrelid = $1::int8::oid AND conname = $2 AND contype = 'c'",
        )
        .bind(plan.table_oid)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|err| err.to_string())?
        .map(|row| row.get("def"));
        // Only CHECK constraints: putting a foreign key on the copy would lock the referenced table.
        let definition = definition.ok_or("only CHECK constraints are sampled")?;
        let definition = definition.trim_end_matches(" NOT VALID");
        raw(format!("ALTER TABLE {schema}.{copy_q} ADD CONSTRAINT {} {definition} NOT VALID", quote(name)))
            .execute(&mut *conn)
            .await
            .map_err(|err| err.to_string())?;
    }
    let started = Instant::now();
    raw(operation).execute(&mut *conn).await.map_err(|err| err.to_string())?;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    raw(format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}"))
        .execute(&mut *conn)
        .await
        .map_err(|err| err.to_string())?;
    Ok(CalibrationRun { rows: rows as f64, indexes: 0, duration_ms })
}
