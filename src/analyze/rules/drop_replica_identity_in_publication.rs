//! LS136: removing the replica identity of a table that a publication publishes UPDATE/DELETE for.
//!
//! PostgreSQL's documentation (logical-replication-publication.html): "A published table must
//! have a replica identity configured in order to be able to replicate UPDATE and DELETE
//! operations … By default, this is the primary key, if there is one … If a table without a
//! replica identity is added to a publication that replicates UPDATE or DELETE operations then
//! subsequent UPDATE or DELETE operations will cause an error on the publisher." The same holds
//! for a table whose identity is NOTHING, DEFAULT without a primary key, or USING INDEX with the
//! index dropped (pgsql-hackers, "Question about behavior of deletes with REPLICA IDENTITY
//! NOTHING", 2025 doc patch). Verified on PostgreSQL 15: after DROP CONSTRAINT orders_pkey an
//! UPDATE fails with `cannot update table "orders" because it does not have a replica identity
//! and publishes updates`. CREATE PUBLICATION works at any wal_level (only a WARNING below
//! logical), so a migration can create one anywhere.

use pg_query::protobuf::{self as pb, ObjectType, PublicationObjSpecType};

use super::prelude::*;
use crate::analyze::context::same_relation;
use crate::sql::Statement;

pub const RULE: Rule = Rule {
    id: "LS136",
    name: "drop-replica-identity-in-publication",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: false,
    title: "Replica identity removed from a table a publication replicates UPDATE/DELETE for",
    trigger: "ALTER TABLE … DROP CONSTRAINT of the primary key (under the default replica identity), ALTER TABLE … \
              REPLICA IDENTITY NOTHING, or DROP INDEX of the replica identity index, on a table in a publication \
              that publishes UPDATE or DELETE — known from the target's catalogues when connected, else from a \
              CREATE/ALTER PUBLICATION earlier in the run — unless the same transaction gives the table a new \
              identity (ADD PRIMARY KEY, REPLICA IDENTITY FULL or USING INDEX).",
    why: "From that moment every UPDATE and DELETE on the table fails with \"cannot update table … because it does \
          not have a replica identity and publishes updates\": the application's writes break, not only \
          replication.",
    fix: "Give the table its new identity in the same transaction, before the old one goes: add the new primary key \
          (or ALTER TABLE … REPLICA IDENTITY USING INDEX a unique index on NOT NULL columns, or REPLICA IDENTITY \
          FULL as a last resort), then drop the old one. Or take the table out of the publication first.",
    bad: include_str!("../../../rules/LS136/bad.sql"),
    good: include_str!("../../../rules/LS136/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, what)) = removed_identity(cx) else { return Vec::new() };
    if restores_identity(cx, &table) {
        return Vec::new();
    }
    let facts = cx.facts();
    let on_target = facts.publications_needing_identity(&table);
    let mut evidence: Vec<String> =
        on_target.iter().map(|p| format!("{} contains {}", p.describe(), p.table)).collect();
    if let Some(identity) = facts.identity(&table) {
        evidence.push(format!("{} has {}", identity.table, identity.describe()));
    }
    let publication = match on_target.first() {
        Some(publication) => publication.name.clone(),
        None => match published_earlier(cx.earlier_in_run(), &table) {
            Some(name) => name,
            None => return Vec::new(),
        },
    };
    let hit = Hit::new(format!(
        "{what} leaves {table} without a replica identity while publication {publication} publishes its updates or \
         deletes: from then on every UPDATE and DELETE on {table} fails"
    ))
    .on(&table);
    if on_target.is_empty() {
        vec![hit]
    } else {
        vec![hit.verdict(Status::Confirmed, evidence)]
    }
}

/// The table whose replica identity the statement removes, and how (for the message).
fn removed_identity(cx: &Cx<'_>) -> Option<(RelationName, String)> {
    let facts = cx.facts();
    if let Some((table, cmds)) = ast::alter_table(cx.statement) {
        for cmd in &cmds {
            match ast::subtype(cmd) {
                At::AtDropConstraint if is_identity_key(cx, &table, &cmd.name) => {
                    return Some((table.clone(), format!("DROP CONSTRAINT {}", cmd.name)));
                }
                At::AtReplicaIdentity => {
                    let Some(NodeEnum::ReplicaIdentityStmt(identity)) = cmd.def.as_ref().and_then(|d| d.node.as_ref())
                    else {
                        continue;
                    };
                    if identity.identity_type == "n" {
                        return Some((table.clone(), "REPLICA IDENTITY NOTHING".to_string()));
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    let Some(NodeEnum::DropStmt(drop)) = cx.ast() else { return None };
    if ObjectType::try_from(drop.remove_type) != Ok(ObjectType::ObjectIndex) {
        return None;
    }
    for index in dropped_names(drop) {
        let table = match facts.identity_of_index(&index) {
            Some(identity) if identity.identity == crate::analyze::target_facts::Identity::Index => {
                Some(identity.table.clone())
            }
            _ => identity_index_set_earlier(cx.earlier_in_run(), &index),
        };
        if let Some(table) = table {
            return Some((table, format!("DROP INDEX {index} (the replica identity index)")));
        }
    }
    None
}

/// Whether `constraint` is what gives `table` its replica identity: its primary key under the
/// default identity. From the target when it knows the table, else from the run's own
/// statements or PostgreSQL's default name `<table>_pkey`.
fn is_identity_key(cx: &Cx<'_>, table: &RelationName, constraint: &str) -> bool {
    if let Some(identity) = cx.facts().identity(table) {
        return identity.identity_constraint() == Some(constraint);
    }
    constraint == format!("{}_pkey", table.name)
        || cx.earlier_in_run().any(|statement| {
            ast::alter_table(statement).is_some_and(|(altered, cmds)| {
                same_relation(&altered, table)
                    && cmds.iter().any(|cmd| {
                        ast::subtype(cmd) == At::AtAddConstraint
                            && ast::constraint(cmd).is_some_and(|c| {
                                ast::constr_type(c) == ConstrType::ConstrPrimary && c.conname == constraint
                            })
                    })
            })
        })
}

/// The statement itself, or a later one in the same transaction, gives `table` a new identity.
fn restores_identity(cx: &Cx<'_>, table: &RelationName) -> bool {
    let gives = |statement: &Statement| {
        ast::alter_table(statement).is_some_and(|(altered, cmds)| {
            same_relation(&altered, table)
                && cmds.iter().any(|cmd| match ast::subtype(cmd) {
                    At::AtAddConstraint => {
                        ast::constraint(cmd).is_some_and(|c| ast::constr_type(c) == ConstrType::ConstrPrimary)
                    }
                    At::AtAddIndex => true,
                    At::AtReplicaIdentity => matches!(
                        cmd.def.as_ref().and_then(|d| d.node.as_ref()),
                        Some(NodeEnum::ReplicaIdentityStmt(identity)) if identity.identity_type == "f" || identity.identity_type == "i"
                    ),
                    _ => false,
                })
        })
    };
    gives(cx.statement)
        || cx
            .after()
            .iter()
            .enumerate()
            .any(|(offset, statement)| cx.file.same_transaction(cx.index, cx.index + 1 + offset) && gives(statement))
}

fn dropped_names(drop: &pb::DropStmt) -> Vec<RelationName> {
    drop.objects
        .iter()
        .filter_map(|object| match &object.node {
            Some(NodeEnum::List(list)) => match ast::strings(&list.items).as_slice() {
                [name] => Some(RelationName::new(None, name)),
                [schema, name] => Some(RelationName::new(Some(schema), name)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// `ALTER TABLE t REPLICA IDENTITY USING INDEX index` earlier in the run: `t`.
fn identity_index_set_earlier<'a>(
    earlier: impl Iterator<Item = &'a Statement>,
    index: &RelationName,
) -> Option<RelationName> {
    let mut found = None;
    for statement in earlier {
        let Some((table, cmds)) = ast::alter_table(statement) else { continue };
        for cmd in cmds {
            if let Some(NodeEnum::ReplicaIdentityStmt(identity)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
                found = (identity.identity_type == "i" && identity.name == index.name).then(|| table.clone());
            }
        }
    }
    found
}

/// A publication created or altered earlier in the run that contains `table` and publishes
/// UPDATE or DELETE: its name.
fn published_earlier<'a>(earlier: impl Iterator<Item = &'a Statement>, table: &RelationName) -> Option<String> {
    let mut found: Option<String> = None;
    for statement in earlier {
        match &statement.ast {
            Some(NodeEnum::CreatePublicationStmt(create)) => {
                let contains = create.for_all_tables || objects_contain(&create.pubobjects, table);
                if contains && publishes_update_or_delete(&create.options) {
                    found = Some(create.pubname.clone());
                }
            }
            Some(NodeEnum::AlterPublicationStmt(alter)) => {
                use pb::AlterPublicationAction as Action;
                let action = Action::try_from(alter.action).unwrap_or(Action::Undefined);
                let contains = objects_contain(&alter.pubobjects, table);
                match action {
                    Action::ApAddObjects | Action::ApSetObjects if contains => found = Some(alter.pubname.clone()),
                    Action::ApDropObjects | Action::ApSetObjects if found.as_deref() == Some(&alter.pubname) => {
                        found = None;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    found
}

fn objects_contain(objects: &[pb::Node], table: &RelationName) -> bool {
    objects.iter().any(|object| {
        let Some(NodeEnum::PublicationObjSpec(spec)) = &object.node else { return false };
        match PublicationObjSpecType::try_from(spec.pubobjtype).unwrap_or(PublicationObjSpecType::Undefined) {
            PublicationObjSpecType::PublicationobjTablesInSchema => {
                table.schema.as_deref().unwrap_or("public") == spec.name
            }
            _ => spec
                .pubtable
                .as_ref()
                .and_then(|t| t.relation.as_ref())
                .is_some_and(|relation| same_relation(&ast::range_var(relation), table)),
        }
    })
}

/// `WITH (publish = '…')`: the default publishes insert, update, delete and truncate.
fn publishes_update_or_delete(options: &[pb::Node]) -> bool {
    for option in options {
        let Some(NodeEnum::DefElem(def)) = &option.node else { continue };
        if def.defname != "publish" {
            continue;
        }
        let Some(NodeEnum::String(value)) = def.arg.as_ref().and_then(|a| a.node.as_ref()) else { return true };
        return value
            .sval
            .split(',')
            .any(|what| matches!(what.trim().to_ascii_lowercase().as_str(), "update" | "delete"));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    const PUBLISH: &str = "-- file: 001_a.up.sql\nCREATE PUBLICATION cdc FOR TABLE orders;\n-- file: 002_b.up.sql\n";

    #[test]
    fn needs_a_publication_that_publishes_updates_or_deletes() {
        let drop = "ALTER TABLE orders DROP CONSTRAINT orders_pkey;\n";
        assert!(!fires("LS136", drop), "no publication known");
        assert!(fires("LS136", &format!("{PUBLISH}{drop}")));
        let inserts_only = PUBLISH.replace("FOR TABLE orders", "FOR TABLE orders WITH (publish = 'insert')");
        assert!(!fires("LS136", &format!("{inserts_only}{drop}")));
        let all = PUBLISH.replace("FOR TABLE orders", "FOR ALL TABLES");
        assert!(fires("LS136", &format!("{all}{drop}")));
        let other = PUBLISH.replace("FOR TABLE orders", "FOR TABLE users");
        assert!(!fires("LS136", &format!("{other}{drop}")));
        let removed = format!("{PUBLISH}ALTER PUBLICATION cdc DROP TABLE orders;\n{drop}");
        assert!(!fires("LS136", &removed));
    }

    #[test]
    fn each_way_of_losing_the_identity() {
        assert!(fires("LS136", &format!("{PUBLISH}ALTER TABLE orders REPLICA IDENTITY NOTHING;\n")));
        assert!(!fires("LS136", &format!("{PUBLISH}ALTER TABLE orders REPLICA IDENTITY FULL;\n")));
        assert!(!fires("LS136", &format!("{PUBLISH}ALTER TABLE orders DROP CONSTRAINT orders_quantity_check;\n")));
        let index = format!(
            "{PUBLISH}ALTER TABLE orders REPLICA IDENTITY USING INDEX orders_id_key;\n-- file: 003_c.up.sql\n\
             DROP INDEX orders_id_key;\n"
        );
        assert!(fires("LS136", &index));
    }

    #[test]
    fn a_new_identity_in_the_same_transaction_is_fine() {
        let swap = format!(
            "{PUBLISH}ALTER TABLE orders DROP CONSTRAINT orders_pkey;\nALTER TABLE orders ADD PRIMARY KEY (id, user_id);\n"
        );
        assert!(!fires("LS136", &swap));
        let same_statement =
            format!("{PUBLISH}ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD PRIMARY KEY (id, user_id);\n");
        assert!(!fires("LS136", &same_statement));
    }
}
