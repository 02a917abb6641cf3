//! Table sizes on the target, read before a trace from `pg_class` statistics (no locks, no table
//! reads): what makes a finding on an empty table harmless and one on a big table urgent.

use std::collections::HashMap;

use sqlx::postgres::PgConnection;
use sqlx::Row;

use crate::error::{Error, Result};
use crate::sql::{RelationName, Statement};

use super::context::same_relation;

const TABLE_SIZES_SQL: &str = include_str!("../../sql/table_sizes.sql");

/// One relation's size, as the planner's statistics know it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableSize {
    /// `pg_class.reltuples`; negative when the table was never vacuumed or analysed.
    pub rows_estimate: f64,
    pub pages: i64,
}

impl TableSize {
    /// Rows, when the statistics know them.
    pub fn rows(&self) -> Option<f64> {
        (self.rows_estimate >= 0.0).then_some(self.rows_estimate)
    }
}

/// Sizes by relation, as the migration wrote the name and as `schema.name`.
#[derive(Debug, Clone, Default)]
pub struct TableStats {
    sizes: Vec<(RelationName, TableSize)>,
}

impl TableStats {
    pub fn insert(&mut self, relation: RelationName, size: TableSize) {
        self.sizes.push((relation, size));
    }

    /// The size of `relation`, if known.
    pub fn get(&self, relation: &RelationName) -> Option<TableSize> {
        // An exact spelling first: `users` and `app.users` may both have been looked up.
        self.sizes
            .iter()
            .find(|(r, _)| r == relation)
            .or_else(|| self.sizes.iter().find(|(r, _)| same_relation(r, relation)))
            .map(|(_, size)| *size)
    }

    pub fn is_empty(&self) -> bool {
        self.sizes.is_empty()
    }

    /// Reads the sizes of every relation `statements` name, in the target's search_path.
    pub async fn fetch<'a>(
        conn: &mut PgConnection,
        statements: impl IntoIterator<Item = &'a Statement>,
    ) -> Result<TableStats> {
        let mut names: Vec<String> =
            statements.into_iter().flat_map(|s| s.summary.targets.iter().map(RelationName::to_sql)).collect();
        names.sort();
        names.dedup();
        let mut stats = TableStats::default();
        if names.is_empty() {
            return Ok(stats);
        }
        let rows = sqlx::query(TABLE_SIZES_SQL)
            .bind(&names)
            .fetch_all(conn)
            .await
            .map_err(|err| Error::Database(crate::db::redact(&format!("reading table sizes: {err}"))))?;
        let mut by_name: HashMap<String, TableSize> = HashMap::new();
        for row in rows {
            let size = TableSize { rows_estimate: row.get("rows_estimate"), pages: row.get("pages") };
            let schema: String = row.get("schema_name");
            let relation: String = row.get("relation_name");
            by_name.insert(row.get("name"), size);
            stats.insert(RelationName::new(Some(&schema), &relation), size);
        }
        for name in names {
            if let Some(size) = by_name.get(&name) {
                if let Some(written) = parse_written(&name) {
                    stats.insert(written, *size);
                }
            }
        }
        Ok(stats)
    }
}

/// `schema.name` or `name` as [`RelationName::to_sql`] wrote it (quotes undone).
fn parse_written(sql: &str) -> Option<RelationName> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    parts.push(current);
    match parts.as_slice() {
        [name] => Some(RelationName::new(None, name)),
        [schema, name] => Some(RelationName::new(Some(schema), name)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_names_round_trip() {
        for relation in [RelationName::new(None, "users"), RelationName::new(Some("App"), "we\"ird.name")] {
            assert_eq!(parse_written(&relation.to_sql()), Some(relation));
        }
    }

    #[test]
    fn lookups_accept_either_spelling() {
        let mut stats = TableStats::default();
        stats.insert(RelationName::new(Some("public"), "users"), TableSize { rows_estimate: 10.0, pages: 1 });
        assert_eq!(stats.get(&RelationName::new(None, "users")).and_then(|s| s.rows()), Some(10.0));
        assert!(stats.get(&RelationName::new(Some("app"), "users")).is_none());
    }
}
