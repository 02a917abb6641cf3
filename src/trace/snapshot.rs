//! Whole-schema snapshots and per-table data fingerprints, taken between migrations for
//! `--reversible` (before up, after up, after down). Observation only: the judging lives in
//! [`crate::reversible`].
//!
//! Every read runs on the tracing connection (only it sees the uncommitted schema) inside a
//! savepoint that is rolled back afterwards, so the `ACCESS SHARE` locks the reads take are
//! released and never show up as locks a migration took.

use std::collections::BTreeMap;

use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::observe::db_error;
use crate::error::Result;
use crate::sql::quote_identifier;

const SCHEMA_SNAPSHOT_SQL: &str = include_str!("../../sql/schema_snapshot.sql");
const DATA_TABLES_SQL: &str = include_str!("../../sql/snapshot_tables.sql");

/// Tables with more rows than this (by `pg_class.reltuples`) are not fingerprinted: it means a
/// full scan of each inside the dry-run transaction.
pub const DATA_FINGERPRINT_MAX_ROWS: f64 = 2_000_000.0;

/// Attributes of one schema object, as `sql/schema_snapshot.sql` reports them (`type`,
/// `not null`, `default`, `definition`, …), each rendered as text; absent when NULL.
pub type Attributes = BTreeMap<String, String>;

/// The schema at one moment: `(kind, object)` → attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaObjects {
    pub objects: BTreeMap<(String, String), Attributes>,
}

/// One column's data, order-independent: how many values are not NULL, and a sum of their hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnData {
    pub non_null: i64,
    pub hash: String,
}

/// One table's data fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableData {
    pub rows: i64,
    /// By column name.
    pub columns: BTreeMap<String, ColumnData>,
}

/// Schema and data of the relevant tables at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub schema: SchemaObjects,
    /// `schema.table` (quoted where needed) → fingerprint.
    pub data: BTreeMap<String, TableData>,
    /// Tables left out of the data check because they are too big.
    pub data_skipped: Vec<String>,
}

/// Takes a snapshot: the whole schema, and the data of the tables named in `tables` (as a
/// migration wrote them; names that resolve to nothing are ignored).
pub async fn take(conn: &mut PgConnection, tables: &[String], in_transaction: bool) -> Result<Snapshot> {
    if in_transaction {
        execute(conn, "SAVEPOINT lockscope_snapshot").await?;
    }
    let result = take_inner(conn, tables).await;
    if in_transaction {
        execute(conn, "ROLLBACK TO SAVEPOINT lockscope_snapshot; RELEASE SAVEPOINT lockscope_snapshot").await?;
    }
    result
}

async fn execute(conn: &mut PgConnection, sql: &'static str) -> Result<()> {
    sqlx::raw_sql(sql).execute(conn).await.map_err(|err| db_error(&format!("running `{sql}`"), err))?;
    Ok(())
}

async fn take_inner(conn: &mut PgConnection, tables: &[String]) -> Result<Snapshot> {
    let rows = sqlx::raw_sql(SCHEMA_SNAPSHOT_SQL)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| db_error("reading the schema for --reversible", err))?;
    let mut schema = SchemaObjects::default();
    for row in rows {
        let kind: String = row.get("kind");
        let object: String = row.get("object");
        let attributes: Option<String> = row.try_get::<Option<String>, _>("attributes").ok().flatten();
        schema.objects.insert((kind, object), parse_attributes(attributes.as_deref().unwrap_or("{}")));
    }

    let mut snapshot = Snapshot { schema, ..Snapshot::default() };
    if tables.is_empty() {
        return Ok(snapshot);
    }
    let found = sqlx::query(DATA_TABLES_SQL)
        .bind(tables)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| db_error("resolving tables for the --reversible data check", err))?;
    for table in found {
        let qualified: String = table.get("qualified");
        let reltuples: f64 = table.get("reltuples");
        let columns: Vec<String> = table.get("columns");
        if reltuples > DATA_FINGERPRINT_MAX_ROWS {
            snapshot.data_skipped.push(qualified);
            continue;
        }
        if snapshot.data.contains_key(&qualified) {
            continue;
        }
        let data = fingerprint(conn, &qualified, &columns).await?;
        snapshot.data.insert(qualified, data);
    }
    Ok(snapshot)
}

/// `sql/schema_snapshot.sql` returns jsonb; sqlx here has no JSON decoding, so it comes as text.
fn parse_attributes(json: &str) -> Attributes {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or(serde_json::Value::Null);
    let mut attributes = Attributes::new();
    if let serde_json::Value::Object(map) = value {
        for (key, value) in map {
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            attributes.insert(key, text);
        }
    }
    attributes
}

/// Row count, and per column the non-NULL count and a sum of `hashtextextended(value::text)`: one
/// sequential scan, no sort, independent of row order.
async fn fingerprint(conn: &mut PgConnection, qualified: &str, columns: &[String]) -> Result<TableData> {
    let mut counts = Vec::with_capacity(columns.len());
    let mut hashes = Vec::with_capacity(columns.len());
    for column in columns {
        let column = quote_identifier(column);
        counts.push(format!("count({column})"));
        hashes.push(format!("coalesce(sum(pg_catalog.hashtextextended({column}::text, 0)::numeric), 0)::text"));
    }
    let sql = format!(
        "SELECT count(*)::int8 AS rows, ARRAY[{}]::int8[] AS non_null, ARRAY[{}]::text[] AS hashes FROM {qualified}",
        counts.join(", "),
        hashes.join(", ")
    );
    let row = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut *conn)
        .await
        .map_err(|err| db_error(&format!("fingerprinting the data of {qualified} for --reversible"), err))?;
    let non_null: Vec<i64> = row.get("non_null");
    let hashes: Vec<String> = row.get("hashes");
    let columns = columns
        .iter()
        .zip(non_null)
        .zip(hashes)
        .map(|((name, non_null), hash)| (name.clone(), ColumnData { non_null, hash }))
        .collect();
    Ok(TableData { rows: row.get("rows"), columns })
}
