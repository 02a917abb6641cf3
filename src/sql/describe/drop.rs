//! `DROP …` (and `DROP OWNED` / `REASSIGN OWNED`): ACCESS EXCLUSIVE on each dropped relation
//! (SHARE UPDATE EXCLUSIVE, outside a transaction block, for `DROP INDEX CONCURRENTLY`), and on the
//! table of a dropped trigger, rule or policy.

use pg_query::protobuf::{self as pb, ObjectType as O};
use pg_query::NodeEnum;

use crate::locks::LockMode;
use crate::sql::summary::{object_kind, qualified_name, strings, Builder};
use crate::sql::{ObjectKind, StatementKind as K};

use LockMode::{AccessExclusive, ShareUpdateExclusive};

pub(super) fn describe_drop(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::DropStmt(s) => drop_objects(b, s),
        NodeEnum::DropRoleStmt(s) => {
            b.kind(K::Drop(O::ObjectRole));
            b.if_exists = s.missing_ok;
        }
        NodeEnum::DropUserMappingStmt(_) => b.kind(K::Drop(O::ObjectUserMapping)),
        NodeEnum::DropOwnedStmt(_) => b.kind(K::DropOwned),
        NodeEnum::ReassignOwnedStmt(_) => b.kind(K::ReassignOwned),
        _ => return false,
    }
    true
}

fn drop_objects(b: &mut Builder, s: &pb::DropStmt) {
    let object_type = O::try_from(s.remove_type).unwrap_or(O::Undefined);
    b.kind(K::Drop(object_type));
    b.if_exists = s.missing_ok;
    b.concurrently = s.concurrent;
    let names = s.objects.iter().map(|object| match &object.node {
        Some(NodeEnum::List(list)) => strings(&list.items),
        _ => Vec::new(),
    });
    match object_type {
        O::ObjectTable
        | O::ObjectForeignTable
        | O::ObjectIndex
        | O::ObjectView
        | O::ObjectMatview
        | O::ObjectSequence => {
            let mode = if s.concurrent { ShareUpdateExclusive } else { AccessExclusive };
            for name in names {
                if let Some(relation) = qualified_name(&name) {
                    b.lock(relation, object_kind(object_type), mode);
                }
            }
        }
        // `DROP TRIGGER name ON table`: the table is everything but the last name.
        O::ObjectTrigger | O::ObjectRule | O::ObjectPolicy => {
            for name in names {
                if let Some((_, table)) = name.split_last() {
                    if let Some(relation) = qualified_name(table) {
                        b.lock(relation, ObjectKind::Table, AccessExclusive);
                    }
                }
            }
        }
        _ => {}
    }
    if s.concurrent {
        b.not_in_transaction("DROP INDEX CONCURRENTLY cannot run inside a transaction block");
    }
}
