//! Reading the tracing backend's own view of the catalog before and after a statement, and
//! diffing the two: new locks, rewritten relations, sequential scans, schema changes.
//!
//! Everything here runs on the tracing connection, inside the dry-run transaction, because only
//! that session can see the uncommitted catalog rows the migration made.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::model::{CatalogChange, OtherLock, Rewrite, Scan};
use crate::error::{Error, Result};
use crate::sql::relkind_name;

const OWN_LOCKS_SQL: &str = include_str!("../../sql/own_locks.sql");
const RELATIONS_SQL: &str = include_str!("../../sql/relations.sql");
const RELATIONS_ALL_SQL: &str = include_str!("../../sql/relations_all.sql");
const XACT_SCANS_SQL: &str = include_str!("../../sql/xact_scans.sql");
const SCHEMA_SQL: &str = include_str!("../../sql/schema.sql");

pub(crate) fn db_error(doing: &str, err: sqlx::Error) -> Error {
    let message = match &err {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => format!(
            "lost the connection to the database while {doing} ({err}); PostgreSQL rolls back the open transaction of \
             a connection that closes, so nothing of the dry-run stays"
        ),
        _ => format!("{doing}: {err}"),
    };
    Error::Database(crate::db::redact(&message))
}

/// One row of `pg_locks` held by the tracing backend.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeldLock {
    pub locktype: String,
    pub mode: String,
    pub relation_oid: Option<i64>,
    pub schema_name: Option<String>,
    pub relation_name: Option<String>,
    pub relkind: Option<String>,
    /// Identity of a non-relation lock (`database/page/tuple/classid/objid/objsubid`).
    pub identity: String,
    /// The locked object, for `object` locks (`pg_locks.classid/objid/objsubid`).
    pub object: Option<(i64, i64, i32)>,
    pub object_description: Option<String>,
}

impl HeldLock {
    /// What makes two rows the same lock, for diffing.
    fn key(&self) -> (String, String, Option<i64>, String) {
        (self.locktype.clone(), self.mode.clone(), self.relation_oid, self.identity.clone())
    }

    /// Locks on system catalogs come from lockscope's own catalog queries, not the migration.
    pub fn is_catalog(&self) -> bool {
        matches!(self.schema_name.as_deref(), Some("pg_catalog" | "information_schema"))
    }
}

/// Every lock the tracing backend holds now.
pub async fn held_locks(conn: &mut PgConnection) -> Result<Vec<HeldLock>> {
    let rows = sqlx::query(OWN_LOCKS_SQL).fetch_all(conn).await.map_err(|err| db_error("reading pg_locks", err))?;
    Ok(rows
        .iter()
        .filter(|row| row.get::<bool, _>("granted"))
        .map(|row| HeldLock {
            object: match (
                row.get::<String, _>("locktype").as_str(),
                row.get("classid"),
                row.get("objid"),
                row.get("objsubid"),
            ) {
                ("object", Some(classid), Some(objid), Some(objsubid)) => Some((classid, objid, objsubid)),
                _ => None,
            },
            locktype: row.get("locktype"),
            mode: row.get("mode"),
            relation_oid: row.get("relation_oid"),
            schema_name: row.get("schema_name"),
            relation_name: row.get("relation_name"),
            relkind: row.get("relkind"),
            identity: format!(
                "{:?}/{:?}/{:?}/{:?}/{:?}/{:?}",
                row.get::<Option<i64>, _>("database_oid"),
                row.get::<Option<i32>, _>("page"),
                row.get::<Option<i32>, _>("tuple"),
                row.get::<Option<i64>, _>("classid"),
                row.get::<Option<i64>, _>("objid"),
                row.get::<Option<i32>, _>("objsubid"),
            ),
            object_description: row.get("object_description"),
        })
        .collect())
}

/// Locks in `after` that were not in `before`.
pub fn new_locks(before: &[HeldLock], after: &[HeldLock]) -> Vec<HeldLock> {
    let seen: BTreeSet<_> = before.iter().map(HeldLock::key).collect();
    let mut fresh: Vec<HeldLock> = after.iter().filter(|lock| !seen.contains(&lock.key())).cloned().collect();
    fresh.sort();
    fresh.dedup();
    fresh
}

/// A non-relation lock, for the report.
pub fn other_lock(lock: &HeldLock) -> OtherLock {
    OtherLock {
        locktype: lock.locktype.clone(),
        mode: lock.mode.clone(),
        object: lock.object_description.clone().unwrap_or_else(|| lock.identity.clone()),
    }
}

/// One relation's storage identity.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationRow {
    pub oid: i64,
    pub schema_name: String,
    pub relation_name: String,
    pub relkind: String,
    pub relfilenode: i64,
    pub toast_oid: i64,
    pub index_table_oid: Option<i64>,
    pub reltuples: f64,
    pub relpages: i64,
}

/// Relations keyed by oid, with the names a DBA recognises (TOAST under its table's name).
#[derive(Debug, Clone, Default)]
pub struct RelationSnapshot {
    pub rows: BTreeMap<i64, RelationRow>,
}

impl RelationSnapshot {
    /// `schema.name` for a relation; TOAST tables and their indexes are named after the table.
    pub fn display_name(&self, oid: i64) -> Option<String> {
        let row = self.rows.get(&oid)?;
        if row.relkind == "t" {
            if let Some(owner) = self.rows.values().find(|r| r.toast_oid == oid) {
                return Some(format!("{}.{} (TOAST)", owner.schema_name, owner.relation_name));
            }
        }
        if row.schema_name == "pg_toast" && row.relkind == "i" {
            if let Some(table) = row.index_table_oid.and_then(|t| self.rows.values().find(|r| r.toast_oid == t)) {
                return Some(format!("{}.{} (TOAST index)", table.schema_name, table.relation_name));
            }
        }
        Some(format!("{}.{}", row.schema_name, row.relation_name))
    }

    /// Oids of the tables (not indexes, TOAST or sequences) in the snapshot.
    pub fn table_oids(&self) -> Vec<i64> {
        self.rows
            .values()
            .filter(|row| matches!(row.relkind.as_str(), "r" | "p" | "m" | "f"))
            .map(|row| row.oid)
            .collect()
    }
}

/// The named relations ("targets") and everything whose storage they own. `all` reads every user
/// relation instead, for statements whose targets can't be known.
pub async fn relations(conn: &mut PgConnection, names: &[String], oids: &[i64], all: bool) -> Result<RelationSnapshot> {
    let query = if all { sqlx::query(RELATIONS_ALL_SQL) } else { sqlx::query(RELATIONS_SQL).bind(names).bind(oids) };
    let rows = query.fetch_all(conn).await.map_err(|err| db_error("reading pg_class", err))?;
    let rows = rows
        .iter()
        .map(|row| RelationRow {
            oid: row.get("oid"),
            schema_name: row.get("schema_name"),
            relation_name: row.get("relation_name"),
            relkind: row.get("relkind"),
            relfilenode: row.get("relfilenode"),
            toast_oid: row.get("toast_oid"),
            index_table_oid: row.get("index_table_oid"),
            reltuples: row.get("reltuples"),
            relpages: row.get("relpages"),
        })
        .map(|row| (row.oid, row))
        .collect();
    Ok(RelationSnapshot { rows })
}

/// Relations present before and after whose relfilenode changed, and relations dropped and
/// recreated under the same name (PostgreSQL rebuilds an index on a retyped column that way).
pub fn rewrites(before: &RelationSnapshot, after: &RelationSnapshot) -> Vec<Rewrite> {
    let mut found: Vec<Rewrite> = before
        .rows
        .values()
        .filter(|old| old.relfilenode != 0)
        .filter_map(|old| {
            let name = before.display_name(old.oid).unwrap_or_default();
            let new = after.rows.get(&old.oid).or_else(|| {
                after.rows.values().find(|new| {
                    new.relkind == old.relkind
                        && !before.rows.contains_key(&new.oid)
                        && after.display_name(new.oid).as_deref() == Some(name.as_str())
                })
            })?;
            (new.relfilenode != old.relfilenode).then(|| Rewrite {
                oid: old.oid,
                relation: after.display_name(new.oid).unwrap_or(name),
                relkind: relkind_name(&new.relkind).to_string(),
                rows_estimate: old.reltuples,
            })
        })
        .collect();
    found.sort_by(|a, b| a.relation.cmp(&b.relation));
    found
}

/// Sequential scan counters of this transaction, per table oid.
pub type ScanCounters = HashMap<i64, (i64, i64)>;

/// Reads the counters of `oids`, or of every user table when `all` is set.
pub async fn scan_counters(conn: &mut PgConnection, oids: &[i64], all: bool) -> Result<ScanCounters> {
    if oids.is_empty() && !all {
        return Ok(ScanCounters::new());
    }
    let rows = sqlx::query(XACT_SCANS_SQL)
        .bind(oids)
        .bind(all)
        .fetch_all(conn)
        .await
        .map_err(|err| db_error("reading pg_stat_xact_user_tables", err))?;
    Ok(rows.iter().map(|row| (row.get("oid"), (row.get("seq_scan"), row.get("seq_tup_read")))).collect())
}

/// Scans made between two counter readings; `name` resolves oids for the report.
pub fn scans(before: &ScanCounters, after: &ScanCounters, name: impl Fn(i64) -> String) -> Vec<Scan> {
    let mut found: Vec<Scan> = after
        .iter()
        .filter_map(|(oid, (scans_after, rows_after))| {
            let (scans_before, rows_before) = before.get(oid).copied().unwrap_or((0, 0));
            let scans = scans_after - scans_before;
            (scans > 0).then(|| Scan { relation: name(*oid), rows: rows_after - rows_before, scans })
        })
        .collect();
    found.sort_by(|a, b| a.relation.cmp(&b.relation));
    found
}

/// Columns, constraints and indexes of some tables: the part of the schema a migration changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaSnapshot {
    /// (table oid, column name) → "type [NOT NULL] [DEFAULT …] …"
    pub columns: BTreeMap<(i64, String), String>,
    /// (table oid, constraint name) → (definition, validated)
    pub constraints: BTreeMap<(i64, String), (String, bool)>,
    /// (table oid, qualified index name) → (definition, valid)
    pub indexes: BTreeMap<(i64, String), (String, bool)>,
}

pub async fn schema(conn: &mut PgConnection, table_oids: &[i64]) -> Result<SchemaSnapshot> {
    let mut snapshot = SchemaSnapshot::default();
    if table_oids.is_empty() {
        return Ok(snapshot);
    }
    let rows = sqlx::query(SCHEMA_SQL)
        .bind(table_oids)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| db_error("reading columns, constraints and indexes", err))?;
    for row in rows {
        let key = (row.get::<i64, _>("table_oid"), row.get::<String, _>("name"));
        let detail: String = row.get("detail");
        match row.get::<String, _>("what").as_str() {
            "column" => {
                snapshot.columns.insert(key, detail);
            }
            "constraint" => {
                snapshot.constraints.insert(key, (detail, row.get("valid")));
            }
            _ => {
                snapshot.indexes.insert(key, (detail, row.get("valid")));
            }
        }
    }
    Ok(snapshot)
}

/// What changed in the schema between two readings. Table names come from the relation snapshots.
pub fn catalog_changes(
    relations_before: &RelationSnapshot,
    relations_after: &RelationSnapshot,
    before: &SchemaSnapshot,
    after: &SchemaSnapshot,
) -> Vec<CatalogChange> {
    let name = |oid: i64| {
        relations_after
            .display_name(oid)
            .or_else(|| relations_before.display_name(oid))
            .unwrap_or_else(|| format!("oid {oid}"))
    };
    let (kinds_before, kinds_after) = (relation_kinds(relations_before), relation_kinds(relations_after));
    let mut changes = relation_changes(&kinds_before, &kinds_after);
    merge_rebuilt(&mut changes);

    let dropped_tables: BTreeSet<i64> =
        kinds_before.keys().filter(|oid| !kinds_after.contains_key(oid)).copied().collect();
    let created_tables: BTreeSet<i64> =
        kinds_after.keys().filter(|oid| !kinds_before.contains_key(oid)).copied().collect();
    // Columns of a table created or dropped by this statement are part of that change.
    let interesting = |oid: &i64| !dropped_tables.contains(oid) && !created_tables.contains(oid);

    push_column_changes(&mut changes, before, after, &interesting, &name);
    push_constraint_changes(&mut changes, before, after, &interesting, &name);
    push_index_changes(&mut changes, before, after, &interesting);
    changes
}

/// One catalog change row.
fn change(change: &str, object: String, detail: String) -> CatalogChange {
    CatalogChange { change: change.into(), object, detail }
}

/// Kind and display name of every relation outside `pg_toast`, by oid.
fn relation_kinds(snapshot: &RelationSnapshot) -> BTreeMap<i64, (String, String)> {
    snapshot
        .rows
        .values()
        .filter(|row| row.schema_name != "pg_toast")
        .map(|row| {
            (row.oid, (relkind_name(&row.relkind).to_string(), snapshot.display_name(row.oid).unwrap_or_default()))
        })
        .collect()
}

/// Relations created, renamed (created and renamed in `after` order) and dropped.
fn relation_changes(
    kinds_before: &BTreeMap<i64, (String, String)>,
    kinds_after: &BTreeMap<i64, (String, String)>,
) -> Vec<CatalogChange> {
    let mut changes = Vec::new();
    for (oid, (kind, new_name)) in kinds_after {
        match kinds_before.get(oid) {
            None => changes.push(change("created", format!("{kind} {new_name}"), String::new())),
            Some((_, old_name)) if old_name != new_name => {
                changes.push(change("renamed", format!("{kind} {old_name}"), format!("now {new_name}")))
            }
            Some(_) => {}
        }
    }
    for (oid, (kind, old_name)) in kinds_before {
        if !kinds_after.contains_key(oid) {
            changes.push(change("dropped", format!("{kind} {old_name}"), String::new()));
        }
    }
    changes
}

/// Replaces a drop and a create under the same name in one statement by one "rebuilt" (a retyped
/// column's index).
fn merge_rebuilt(changes: &mut Vec<CatalogChange>) {
    let rebuilt: Vec<String> = changes
        .iter()
        .filter(|c| c.change == "created" && changes.iter().any(|d| d.change == "dropped" && d.object == c.object))
        .map(|c| c.object.clone())
        .collect();
    changes.retain(|c| !(rebuilt.contains(&c.object) && (c.change == "created" || c.change == "dropped")));
    changes.extend(rebuilt.into_iter().map(|object| change("rebuilt", object, String::new())));
}

/// Columns created, altered (type, default, nullability) and dropped on the tables `interesting` keeps.
fn push_column_changes(
    changes: &mut Vec<CatalogChange>,
    before: &SchemaSnapshot,
    after: &SchemaSnapshot,
    interesting: &impl Fn(&i64) -> bool,
    name: &impl Fn(i64) -> String,
) {
    for ((oid, column), new) in after.columns.iter().filter(|((oid, _), _)| interesting(oid)) {
        let object = format!("column {}.{column}", name(*oid));
        match before.columns.get(&(*oid, column.clone())) {
            None => changes.push(change("created", object, new.clone())),
            Some(old) if old != new => changes.push(change("altered", object, format!("{old} → {new}"))),
            Some(_) => {}
        }
    }
    for ((oid, column), old) in before.columns.iter().filter(|((oid, _), _)| interesting(oid)) {
        if !after.columns.contains_key(&(*oid, column.clone())) {
            changes.push(change("dropped", format!("column {}.{column}", name(*oid)), old.clone()));
        }
    }
}

/// Constraints created, validated, redefined and dropped on the tables `interesting` keeps.
fn push_constraint_changes(
    changes: &mut Vec<CatalogChange>,
    before: &SchemaSnapshot,
    after: &SchemaSnapshot,
    interesting: &impl Fn(&i64) -> bool,
    name: &impl Fn(i64) -> String,
) {
    let validity = |validated: bool| if validated { "" } else { " (NOT VALID)" };
    for ((oid, constraint), (definition, validated)) in
        after.constraints.iter().filter(|((oid, _), _)| interesting(oid))
    {
        let object = format!("constraint {constraint} on {}", name(*oid));
        match before.constraints.get(&(*oid, constraint.clone())) {
            None => changes.push(change("created", object, format!("{definition}{}", validity(*validated)))),
            Some((_, was_validated)) if !was_validated && *validated => {
                changes.push(change("altered", object, "validated".into()))
            }
            Some((old, _)) if old != definition => {
                changes.push(change("altered", object, format!("{old} → {definition}")))
            }
            Some(_) => {}
        }
    }
    for ((oid, constraint), (definition, _)) in before.constraints.iter().filter(|((oid, _), _)| interesting(oid)) {
        if !after.constraints.contains_key(&(*oid, constraint.clone())) {
            changes.push(change("dropped", format!("constraint {constraint} on {}", name(*oid)), definition.clone()));
        }
    }
}

/// Index definitions: added to the created or rebuilt relation row, or an "altered" row.
fn push_index_changes(
    changes: &mut Vec<CatalogChange>,
    before: &SchemaSnapshot,
    after: &SchemaSnapshot,
    interesting: &impl Fn(&i64) -> bool,
) {
    let invalid = |valid: bool| if valid { "" } else { " (INVALID)" };
    for ((oid, index), (definition, valid)) in after.indexes.iter().filter(|((oid, _), _)| interesting(oid)) {
        match before.indexes.get(&(*oid, index.clone())) {
            // New indexes are already listed as created relations; add their definition there.
            None => {
                if let Some(created) = changes
                    .iter_mut()
                    .find(|c| (c.change == "created" || c.change == "rebuilt") && c.object == format!("index {index}"))
                {
                    created.detail = format!("{definition}{}", invalid(*valid));
                }
            }
            Some((old, _)) if old != definition => {
                changes.push(change("altered", format!("index {index}"), format!("{old} → {definition}")))
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(oid: i64, name: &str, relkind: &str, relfilenode: i64) -> RelationRow {
        RelationRow {
            oid,
            schema_name: "public".into(),
            relation_name: name.into(),
            relkind: relkind.into(),
            relfilenode,
            toast_oid: 0,
            index_table_oid: None,
            reltuples: 10.0,
            relpages: 1,
        }
    }

    fn snapshot(rows: Vec<RelationRow>) -> RelationSnapshot {
        RelationSnapshot { rows: rows.into_iter().map(|r| (r.oid, r)).collect() }
    }

    #[test]
    fn a_changed_relfilenode_is_a_rewrite() {
        let before = snapshot(vec![relation(1, "users", "r", 100), relation(2, "users_pkey", "i", 200)]);
        assert!(rewrites(&before, &before).is_empty());
        let after = snapshot(vec![relation(1, "users", "r", 300), relation(2, "users_pkey", "i", 200)]);
        let found = rewrites(&before, &after);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].relation.as_str(), found[0].relkind.as_str()), ("public.users", "table"));
    }

    #[test]
    fn an_index_recreated_under_its_own_name_is_a_rewrite() {
        let before = snapshot(vec![relation(1, "pay", "r", 100), relation(2, "pay_amount_idx", "i", 200)]);
        let after = snapshot(vec![relation(1, "pay", "r", 300), relation(7, "pay_amount_idx", "i", 700)]);
        let found: Vec<_> = rewrites(&before, &after).into_iter().map(|r| r.relation).collect();
        assert_eq!(found, ["public.pay", "public.pay_amount_idx"]);
        let changes = catalog_changes(&before, &after, &SchemaSnapshot::default(), &SchemaSnapshot::default());
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            (changes[0].change.as_str(), changes[0].object.as_str()),
            ("rebuilt", "index public.pay_amount_idx")
        );
    }

    #[test]
    fn toast_is_named_after_its_table() {
        let mut table = relation(1, "docs", "r", 100);
        table.toast_oid = 5;
        let mut toast = relation(5, "pg_toast_1", "t", 500);
        toast.schema_name = "pg_toast".into();
        let snap = snapshot(vec![table, toast]);
        assert_eq!(snap.display_name(5).unwrap(), "public.docs (TOAST)");
    }

    #[test]
    fn column_type_change_and_validation_are_reported() {
        let rels = snapshot(vec![relation(1, "users", "r", 100)]);
        let mut before = SchemaSnapshot::default();
        before.columns.insert((1, "id".into()), "integer NOT NULL".into());
        before.constraints.insert((1, "fk".into()), ("FOREIGN KEY (a) REFERENCES b(id)".into(), false));
        let mut after = before.clone();
        after.columns.insert((1, "id".into()), "bigint NOT NULL".into());
        after.columns.insert((1, "email".into()), "text".into());
        after.constraints.insert((1, "fk".into()), ("FOREIGN KEY (a) REFERENCES b(id)".into(), true));
        let changes = catalog_changes(&rels, &rels, &before, &after);
        let described: Vec<String> =
            changes.iter().map(|c| format!("{} {}: {}", c.change, c.object, c.detail)).collect();
        assert!(
            described.contains(&"altered column public.users.id: integer NOT NULL → bigint NOT NULL".to_string()),
            "{described:?}"
        );
        assert!(described.contains(&"created column public.users.email: text".to_string()), "{described:?}");
        assert!(described.contains(&"altered constraint fk on public.users: validated".to_string()), "{described:?}");
    }
}
