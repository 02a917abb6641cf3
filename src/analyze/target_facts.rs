//! Facts about the target that some rules need besides table sizes, read before the trace from the
//! catalogues only (no table is read, nothing is locked beyond ACCESS SHARE on catalogues), for the
//! relations the plan names: indexes left INVALID by a failed CREATE INDEX CONCURRENTLY (LS135),
//! publications containing a table and what they publish, and each table's replica identity
//! (LS136). [`TargetFacts::default`] means "not known" (lint, or the target could not be read):
//! rules then judge from the SQL alone.

use sqlx::postgres::PgConnection;
use sqlx::Row;

use crate::error::{Error, Result};
use crate::sql::{RelationName, Statement};

use super::context::same_relation;

const INVALID_INDEXES_SQL: &str = include_str!("../../sql/target_invalid_indexes.sql");
const PUBLICATIONS_SQL: &str = include_str!("../../sql/target_publications.sql");
const REPLICA_IDENTITY_SQL: &str = include_str!("../../sql/target_replica_identity.sql");

/// An index whose `pg_index.indisvalid` is false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidIndex {
    pub index: RelationName,
    pub table: RelationName,
}

/// One publication containing one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub table: RelationName,
    pub name: String,
    pub publishes_update: bool,
    pub publishes_delete: bool,
    /// `FOR ALL TABLES`.
    pub all_tables: bool,
}

impl Publication {
    /// UPDATE and DELETE on its tables need a replica identity.
    pub fn needs_identity(&self) -> bool {
        self.publishes_update || self.publishes_delete
    }

    /// `pub (publishes update, delete)`.
    pub fn describe(&self) -> String {
        let what: Vec<&str> = [(self.publishes_update, "update"), (self.publishes_delete, "delete")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        let all = if self.all_tables { ", FOR ALL TABLES" } else { "" };
        format!("publication {} (publishes {}{all})", self.name, what.join(", "))
    }
}

/// `pg_class.relreplident`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// The primary key, if there is one.
    Default,
    Nothing,
    Full,
    /// The index marked `indisreplident`.
    Index,
}

/// A table's replica identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaIdentity {
    pub table: RelationName,
    pub identity: Identity,
    /// The primary key constraint's name.
    pub primary_key: Option<String>,
    pub primary_key_index: Option<String>,
    /// The index `REPLICA IDENTITY USING INDEX` chose.
    pub identity_index: Option<String>,
}

impl ReplicaIdentity {
    /// The constraint whose loss leaves the table without a replica identity.
    pub fn identity_constraint(&self) -> Option<&str> {
        match self.identity {
            Identity::Default => self.primary_key.as_deref(),
            _ => None,
        }
    }

    /// The index whose loss leaves the table without a replica identity.
    pub fn identity_index_name(&self) -> Option<&str> {
        match self.identity {
            Identity::Default => self.primary_key_index.as_deref(),
            Identity::Index => self.identity_index.as_deref(),
            _ => None,
        }
    }

    /// `replica identity default (primary key orders_pkey)`.
    pub fn describe(&self) -> String {
        match self.identity {
            Identity::Default => match &self.primary_key {
                Some(key) => format!("replica identity default (primary key {key})"),
                None => "replica identity default, and no primary key".to_string(),
            },
            Identity::Nothing => "replica identity nothing".to_string(),
            Identity::Full => "replica identity full".to_string(),
            Identity::Index => match &self.identity_index {
                Some(index) => format!("replica identity using index {index}"),
                None => "replica identity using an index that no longer exists".to_string(),
            },
        }
    }
}

/// What the target's catalogues said, for the relations the plan names.
#[derive(Debug, Clone, Default)]
pub struct TargetFacts {
    /// The facts were read: an absent entry means "not there", not "not known".
    pub known: bool,
    pub invalid_indexes: Vec<InvalidIndex>,
    pub publications: Vec<Publication>,
    pub identities: Vec<ReplicaIdentity>,
}

impl TargetFacts {
    /// The invalid index of this name, if the target has one.
    pub fn invalid_index(&self, index: &RelationName) -> Option<&InvalidIndex> {
        self.invalid_indexes.iter().find(|i| same_relation(&i.index, index))
    }

    /// The publications containing `table` that publish UPDATE or DELETE.
    pub fn publications_needing_identity(&self, table: &RelationName) -> Vec<&Publication> {
        self.publications.iter().filter(|p| p.needs_identity() && same_relation(&p.table, table)).collect()
    }

    pub fn identity(&self, table: &RelationName) -> Option<&ReplicaIdentity> {
        self.identities.iter().find(|i| same_relation(&i.table, table))
    }

    /// The table whose replica identity index is `index` (its primary key index under the
    /// default identity, or the index chosen with USING INDEX).
    pub fn identity_of_index(&self, index: &RelationName) -> Option<&ReplicaIdentity> {
        self.identities.iter().find(|i| {
            i.identity_index_name().is_some_and(|name| {
                name == index.name && index.schema.as_deref().is_none_or(|s| i.table.schema.as_deref() == Some(s))
            })
        })
    }

    /// Reads the facts about every relation `statements` name, one catalogue query per kind of
    /// fact. The connection should be a read-only session with a short statement_timeout.
    pub async fn fetch<'a>(
        conn: &mut PgConnection,
        statements: impl IntoIterator<Item = &'a Statement>,
    ) -> Result<TargetFacts> {
        let mut names: Vec<String> =
            statements.into_iter().flat_map(|s| s.summary.targets.iter().map(RelationName::to_sql)).collect();
        names.sort();
        names.dedup();
        let mut facts = TargetFacts { known: true, ..TargetFacts::default() };
        if names.is_empty() {
            return Ok(facts);
        }
        let failed =
            |what: &str, err: sqlx::Error| Error::Database(crate::db::redact(&format!("reading {what}: {err}")));
        let relation = |row: &sqlx::postgres::PgRow, schema: &str, name: &str| {
            RelationName::new(Some(&row.get::<String, _>(schema)), &row.get::<String, _>(name))
        };

        let rows = sqlx::query(INVALID_INDEXES_SQL)
            .bind(&names)
            .fetch_all(&mut *conn)
            .await
            .map_err(|err| failed("invalid indexes", err))?;
        for row in &rows {
            facts.invalid_indexes.push(InvalidIndex {
                index: relation(row, "schema_name", "index_name"),
                table: relation(row, "table_schema", "table_name"),
            });
        }

        let rows = sqlx::query(PUBLICATIONS_SQL)
            .bind(&names)
            .fetch_all(&mut *conn)
            .await
            .map_err(|err| failed("publications", err))?;
        for row in &rows {
            facts.publications.push(Publication {
                table: relation(row, "schema_name", "table_name"),
                name: row.get("publication"),
                publishes_update: row.get("pubupdate"),
                publishes_delete: row.get("pubdelete"),
                all_tables: row.get("puballtables"),
            });
        }

        let rows = sqlx::query(REPLICA_IDENTITY_SQL)
            .bind(&names)
            .fetch_all(&mut *conn)
            .await
            .map_err(|err| failed("replica identities", err))?;
        for row in &rows {
            let identity = match row.get::<String, _>("replident").as_str() {
                "n" => Identity::Nothing,
                "f" => Identity::Full,
                "i" => Identity::Index,
                _ => Identity::Default,
            };
            facts.identities.push(ReplicaIdentity {
                table: relation(row, "schema_name", "table_name"),
                identity,
                primary_key: row.get("primary_key"),
                primary_key_index: row.get("primary_key_index"),
                identity_index: row.get("identity_index"),
            });
        }
        Ok(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(name: &str) -> RelationName {
        RelationName::new(Some("public"), name)
    }

    #[test]
    fn lookups_accept_unqualified_names() {
        let facts = TargetFacts {
            known: true,
            invalid_indexes: vec![InvalidIndex { index: public("users_email_idx"), table: public("users") }],
            publications: vec![
                Publication {
                    table: public("orders"),
                    name: "inserts_only".into(),
                    publishes_update: false,
                    publishes_delete: false,
                    all_tables: false,
                },
                Publication {
                    table: public("orders"),
                    name: "cdc".into(),
                    publishes_update: true,
                    publishes_delete: true,
                    all_tables: false,
                },
            ],
            identities: vec![ReplicaIdentity {
                table: public("orders"),
                identity: Identity::Default,
                primary_key: Some("orders_pkey".into()),
                primary_key_index: Some("orders_pkey".into()),
                identity_index: None,
            }],
        };
        assert!(facts.invalid_index(&RelationName::new(None, "users_email_idx")).is_some());
        assert!(facts.invalid_index(&RelationName::new(Some("app"), "users_email_idx")).is_none());
        let orders = RelationName::new(None, "orders");
        let names: Vec<&str> = facts.publications_needing_identity(&orders).iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["cdc"]);
        assert_eq!(facts.identity(&orders).and_then(ReplicaIdentity::identity_constraint), Some("orders_pkey"));
        assert!(facts.identity_of_index(&RelationName::new(None, "orders_pkey")).is_some());
        assert_eq!(
            facts.publications_needing_identity(&orders)[0].describe(),
            "publication cdc (publishes update, delete)"
        );
    }
}
