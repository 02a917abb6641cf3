//! Maintenance that rebuilds or refreshes storage: `REINDEX`, `VACUUM`/`ANALYZE`, `CLUSTER`,
//! `REFRESH MATERIALIZED VIEW`.

use pg_query::protobuf::{self as pb, ReindexObjectType};
use pg_query::NodeEnum;

use crate::locks::LockMode;
use crate::sql::summary::{def_elem_enabled, range_var, sibling, Builder};
use crate::sql::{ObjectKind, StatementKind as K};

use LockMode::{AccessExclusive, Exclusive, Share, ShareUpdateExclusive};

pub(super) fn describe_maintenance(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::ReindexStmt(s) => reindex(b, s),
        NodeEnum::VacuumStmt(s) => vacuum(b, s),
        NodeEnum::ClusterStmt(s) => cluster(b, s),
        NodeEnum::RefreshMatViewStmt(s) => {
            b.kind(K::RefreshMaterializedView);
            b.concurrently = s.concurrent;
            if let Some(rel) = &s.relation {
                b.lock(range_var(rel), ObjectKind::View, if s.concurrent { Exclusive } else { AccessExclusive });
            }
        }
        _ => return false,
    }
    true
}

fn reindex(b: &mut Builder, s: &pb::ReindexStmt) {
    b.kind(K::Reindex);
    let concurrent = s.params.iter().any(|p| def_elem_enabled(p, "concurrently"));
    b.concurrently = concurrent;
    let target = ReindexObjectType::try_from(s.kind).unwrap_or(ReindexObjectType::Undefined);
    let relation = s.relation.as_ref().map(range_var);
    match (target, relation) {
        (ReindexObjectType::ReindexObjectIndex, Some(index)) => {
            b.action("INDEX");
            b.lock(index, ObjectKind::Index, if concurrent { ShareUpdateExclusive } else { AccessExclusive });
        }
        (ReindexObjectType::ReindexObjectTable, Some(table)) => {
            b.action("TABLE");
            b.lock(table, ObjectKind::Table, if concurrent { ShareUpdateExclusive } else { Share });
        }
        (ReindexObjectType::ReindexObjectSchema, _) => {
            b.action("SCHEMA");
            b.not_in_transaction("REINDEX SCHEMA cannot run inside a transaction block");
        }
        (ReindexObjectType::ReindexObjectSystem, _) => {
            b.action("SYSTEM");
            b.not_in_transaction("REINDEX SYSTEM cannot run inside a transaction block");
        }
        (ReindexObjectType::ReindexObjectDatabase, _) => {
            b.action("DATABASE");
            b.not_in_transaction("REINDEX DATABASE cannot run inside a transaction block");
        }
        _ => {}
    }
    if concurrent {
        b.not_in_transaction("REINDEX CONCURRENTLY cannot run inside a transaction block");
    }
}

/// `VACUUM [FULL]` / `ANALYZE` (the same parse node). `VACUUM` is refused inside a transaction
/// block whatever its options (`StatementKind::refused_in_transaction_block`).
fn vacuum(b: &mut Builder, s: &pb::VacuumStmt) {
    let full = s.is_vacuumcmd && s.options.iter().any(|o| def_elem_enabled(o, "full"));
    b.kind(if s.is_vacuumcmd { K::Vacuum } else { K::Analyze });
    if full {
        b.action("FULL");
    }
    for node in &s.rels {
        if let Some(NodeEnum::VacuumRelation(vacuum_relation)) = &node.node {
            if let Some(rel) = &vacuum_relation.relation {
                b.lock(range_var(rel), ObjectKind::Table, if full { AccessExclusive } else { ShareUpdateExclusive });
            }
        }
    }
}

/// `CLUSTER table [USING index]`; without a table it reclusters every table, outside a
/// transaction block.
fn cluster(b: &mut Builder, s: &pb::ClusterStmt) {
    b.kind(K::Cluster);
    match &s.relation {
        Some(rel) => {
            let table = range_var(rel);
            b.lock(table.clone(), ObjectKind::Table, AccessExclusive);
            if !s.indexname.is_empty() {
                b.lock(sibling(&table, &s.indexname), ObjectKind::Index, AccessExclusive);
            }
        }
        None => b.not_in_transaction("CLUSTER without a table name cannot run inside a transaction block"),
    }
}
