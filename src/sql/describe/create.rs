//! `CREATE …`: relations (tables, indexes, views, triggers, rules, policies, statistics, sequences)
//! with the locks they take on the tables they name, and catalogue objects (types, functions,
//! schemas, extensions, roles, …) that lock no relation.

use pg_query::protobuf::{self as pb, ObjectType as O};
use pg_query::NodeEnum;

use crate::locks::LockMode;
use crate::sql::alter_table::foreign_key_references;
use crate::sql::summary::{range_var, range_vars, sibling, Builder};
use crate::sql::tree;
use crate::sql::{ObjectKind, StatementKind as K};

use LockMode::{AccessExclusive, AccessShare, Share, ShareRowExclusive, ShareUpdateExclusive};

/// `CREATE` of a relation, or of something attached to one.
pub(super) fn describe_create_relation(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::CreateStmt(s) => create_table(b, s, K::Create(O::ObjectTable)),
        NodeEnum::CreateForeignTableStmt(s) => {
            if let Some(base) = &s.base_stmt {
                create_table(b, base, K::Create(O::ObjectForeignTable));
            }
        }
        NodeEnum::IndexStmt(s) => create_index(b, s),
        NodeEnum::CreateTrigStmt(s) => {
            b.kind(if s.isconstraint { K::CreateConstraintTrigger } else { K::Create(O::ObjectTrigger) });
            if let Some(rel) = &s.relation {
                b.lock(range_var(rel), ObjectKind::Table, ShareRowExclusive);
            }
            if let Some(rel) = &s.constrrel {
                b.target(range_var(rel));
            }
        }
        NodeEnum::RuleStmt(s) => {
            b.kind(K::Create(O::ObjectRule));
            if let Some(rel) = &s.relation {
                b.lock(range_var(rel), ObjectKind::Unknown, AccessExclusive);
            }
        }
        NodeEnum::CreatePolicyStmt(s) => {
            b.kind(K::Create(O::ObjectPolicy));
            if let Some(rel) = &s.table {
                b.lock(range_var(rel), ObjectKind::Table, AccessExclusive);
            }
        }
        NodeEnum::CreateStatsStmt(s) => {
            b.kind(K::Create(O::ObjectStatisticExt));
            b.if_exists = s.if_not_exists;
            for rel in range_vars(&s.relations) {
                b.lock(rel, ObjectKind::Table, ShareUpdateExclusive);
            }
        }
        NodeEnum::ViewStmt(s) => create_view(b, s),
        NodeEnum::CreateTableAsStmt(s) => create_table_as(b, s),
        NodeEnum::CreateSeqStmt(s) => {
            b.kind(K::Create(O::ObjectSequence));
            b.if_exists = s.if_not_exists;
            if let Some(rel) = &s.sequence {
                b.target(range_var(rel));
            }
        }
        _ => return false,
    }
    true
}

/// `CREATE` of a catalogue object that locks no relation.
pub(super) fn describe_create_object(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::CreateEnumStmt(_) | NodeEnum::CompositeTypeStmt(_) | NodeEnum::CreateRangeStmt(_) => {
            b.kind(K::Create(O::ObjectType))
        }
        NodeEnum::DefineStmt(s) => {
            b.if_exists = s.if_not_exists;
            b.kind(K::Create(O::try_from(s.kind).unwrap_or(O::Undefined)));
        }
        NodeEnum::CreateFunctionStmt(s) => {
            b.kind(K::Create(if s.is_procedure { O::ObjectProcedure } else { O::ObjectFunction }));
        }
        NodeEnum::CreateSchemaStmt(s) => {
            b.kind(K::Create(O::ObjectSchema));
            b.if_exists = s.if_not_exists;
        }
        NodeEnum::CreateExtensionStmt(s) => {
            // An extension's install script can do anything.
            b.kind(K::Create(O::ObjectExtension));
            b.if_exists = s.if_not_exists;
            b.opaque = true;
        }
        NodeEnum::CreateDomainStmt(_) => b.kind(K::Create(O::ObjectDomain)),
        NodeEnum::CreateRoleStmt(_) => b.kind(K::Create(O::ObjectRole)),
        NodeEnum::CreateEventTrigStmt(_) => b.kind(K::Create(O::ObjectEventTrigger)),
        NodeEnum::CreatePublicationStmt(_) => b.kind(K::Create(O::ObjectPublication)),
        NodeEnum::CreateForeignServerStmt(_) => b.kind(K::Create(O::ObjectForeignServer)),
        NodeEnum::CreateFdwStmt(_) => b.kind(K::Create(O::ObjectFdw)),
        NodeEnum::CreatePlangStmt(_) => b.kind(K::Create(O::ObjectLanguage)),
        NodeEnum::CreateAmStmt(_) => b.kind(K::Create(O::ObjectAccessMethod)),
        NodeEnum::CreateOpClassStmt(_) => b.kind(K::Create(O::ObjectOpclass)),
        NodeEnum::CreateOpFamilyStmt(_) => b.kind(K::Create(O::ObjectOpfamily)),
        NodeEnum::CreateCastStmt(_) => b.kind(K::Create(O::ObjectCast)),
        NodeEnum::CreateConversionStmt(_) => b.kind(K::Create(O::ObjectConversion)),
        NodeEnum::CreateTransformStmt(_) => b.kind(K::Create(O::ObjectTransform)),
        NodeEnum::CreateUserMappingStmt(_) => b.kind(K::Create(O::ObjectUserMapping)),
        NodeEnum::ImportForeignSchemaStmt(_) => b.kind(K::ImportForeignSchema),
        _ => return false,
    }
    true
}

/// `CREATE TABLE` / `CREATE FOREIGN TABLE`: the new table, the tables its foreign keys reference,
/// `LIKE` sources, and its parents.
fn create_table(b: &mut Builder, s: &pb::CreateStmt, kind: K) {
    b.kind(kind);
    b.if_exists = s.if_not_exists;
    if let Some(rel) = &s.relation {
        b.target(range_var(rel));
    }
    for node in s.table_elts.iter().chain(&s.constraints) {
        match &node.node {
            Some(NodeEnum::ColumnDef(column)) => foreign_key_references(b, &column.constraints),
            Some(NodeEnum::TableLikeClause(like)) => {
                if let Some(source) = &like.relation {
                    b.lock(range_var(source), ObjectKind::Unknown, AccessShare);
                }
            }
            Some(NodeEnum::Constraint(_)) => foreign_key_references(b, std::slice::from_ref(node)),
            _ => {}
        }
    }
    // A new partition changes its parent's partition descriptor; a new child of INHERITS only
    // needs a self-exclusive lock on the parent.
    let parent_mode = if s.partbound.is_some() { AccessExclusive } else { ShareUpdateExclusive };
    for parent in range_vars(&s.inh_relations) {
        b.lock(parent, ObjectKind::Table, parent_mode);
    }
}

/// `CREATE INDEX`: SHARE on the table (SHARE UPDATE EXCLUSIVE, outside a transaction block, when
/// `CONCURRENTLY`).
fn create_index(b: &mut Builder, s: &pb::IndexStmt) {
    b.kind(K::Create(O::ObjectIndex));
    b.if_exists = s.if_not_exists;
    b.concurrently = s.concurrent;
    let Some(rel) = &s.relation else { return };
    let table = range_var(rel);
    b.lock(table.clone(), ObjectKind::Table, if s.concurrent { ShareUpdateExclusive } else { Share });
    if !s.idxname.is_empty() {
        b.target(sibling(&table, &s.idxname));
    }
    if s.concurrent {
        b.not_in_transaction("CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
    }
}

/// `CREATE [OR REPLACE] VIEW`: replacing locks the view; the query's relations are read.
fn create_view(b: &mut Builder, s: &pb::ViewStmt) {
    b.kind(K::Create(O::ObjectView));
    if let Some(view) = &s.view {
        if s.replace {
            b.lock(range_var(view), ObjectKind::View, AccessExclusive);
        } else {
            b.target(range_var(view));
        }
    }
    if let Some(query) = &s.query {
        b.query_relations(&tree::collect(&tree::to_tree(query)));
    }
}

/// `CREATE TABLE … AS`, `CREATE MATERIALIZED VIEW` and `SELECT … INTO` (which parses the same).
fn create_table_as(b: &mut Builder, s: &pb::CreateTableAsStmt) {
    let kind = match O::try_from(s.objtype) {
        Ok(O::ObjectMatview) => K::Create(O::ObjectMatview),
        _ if s.is_select_into => K::SelectInto,
        _ => K::CreateTableAs,
    };
    b.kind(kind);
    b.if_exists = s.if_not_exists;
    if let Some(rel) = s.into.as_ref().and_then(|into| into.rel.as_ref()) {
        b.target(range_var(rel));
    }
    if let Some(query) = &s.query {
        // `CREATE TABLE … AS EXECUTE prepared` runs whatever was prepared.
        b.opaque |= matches!(query.node, Some(NodeEnum::ExecuteStmt(_)));
        b.query_relations(&tree::collect(&tree::to_tree(query)));
    }
}
