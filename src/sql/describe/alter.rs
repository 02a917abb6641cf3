//! `ALTER …` other than the sub-commands of `ALTER TABLE` (which `alter_table` describes):
//! renames, `SET SCHEMA`, `OWNER TO`, sequences, types, functions, extensions, domains, policies,
//! roles and the other catalogue objects.

use pg_query::protobuf::{self as pb, ObjectType as O};
use pg_query::NodeEnum;

use crate::locks::LockMode;
use crate::sql::alter_table::alter_table;
use crate::sql::summary::{object_kind, range_var, Builder};
use crate::sql::{ObjectKind, StatementKind as K};

use LockMode::{AccessExclusive, ShareRowExclusive, ShareUpdateExclusive};

pub(super) fn describe_alter(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::AlterTableStmt(s) => alter_table(b, s),
        NodeEnum::RenameStmt(s) => rename(b, s),
        NodeEnum::AlterObjectSchemaStmt(s) => {
            let object_type = O::try_from(s.object_type).unwrap_or(O::Undefined);
            b.kind(K::Alter(object_type));
            b.action("SET SCHEMA");
            b.if_exists = s.missing_ok;
            if let Some(rel) = &s.relation {
                b.lock(range_var(rel), object_kind(object_type), AccessExclusive);
            }
        }
        NodeEnum::AlterOwnerStmt(s) => {
            b.kind(K::Alter(O::try_from(s.object_type).unwrap_or(O::Undefined)));
            b.action("OWNER TO");
        }
        NodeEnum::AlterSeqStmt(s) => {
            b.kind(K::Alter(O::ObjectSequence));
            b.if_exists = s.missing_ok;
            if let Some(rel) = &s.sequence {
                b.lock(range_var(rel), ObjectKind::Sequence, ShareRowExclusive);
            }
        }
        NodeEnum::AlterEnumStmt(s) => {
            b.kind(K::Alter(O::ObjectType));
            b.action(if s.old_val.is_empty() { "ADD VALUE" } else { "RENAME VALUE" });
            b.if_exists = s.skip_if_new_val_exists;
        }
        NodeEnum::AlterTypeStmt(_) => {
            b.kind(K::Alter(O::ObjectType));
            b.action("SET");
        }
        NodeEnum::AlterFunctionStmt(s) => b.kind(K::Alter(O::try_from(s.objtype).unwrap_or(O::ObjectFunction))),
        NodeEnum::AlterExtensionStmt(_) | NodeEnum::AlterExtensionContentsStmt(_) => {
            b.kind(K::Alter(O::ObjectExtension));
            b.opaque = true;
        }
        NodeEnum::AlterDomainStmt(s) => {
            b.kind(K::Alter(O::ObjectDomain));
            b.if_exists = s.missing_ok;
        }
        NodeEnum::AlterPolicyStmt(s) => {
            b.kind(K::Alter(O::ObjectPolicy));
            if let Some(rel) = &s.table {
                b.lock(range_var(rel), ObjectKind::Table, AccessExclusive);
            }
        }
        NodeEnum::AlterTableMoveAllStmt(_) => {
            b.kind(K::Alter(O::ObjectTable));
            b.action("SET TABLESPACE");
        }
        _ => return describe_alter_object(b, node),
    }
    true
}

/// `ALTER` of a catalogue object that locks no relation.
fn describe_alter_object(b: &mut Builder, node: &NodeEnum) -> bool {
    let object = match node {
        NodeEnum::AlterDefaultPrivilegesStmt(_) => O::ObjectDefacl,
        NodeEnum::AlterRoleStmt(_) | NodeEnum::AlterRoleSetStmt(_) => O::ObjectRole,
        NodeEnum::AlterEventTrigStmt(_) => O::ObjectEventTrigger,
        NodeEnum::AlterPublicationStmt(_) => O::ObjectPublication,
        NodeEnum::AlterForeignServerStmt(_) => O::ObjectForeignServer,
        NodeEnum::AlterFdwStmt(_) => O::ObjectFdw,
        NodeEnum::AlterOpFamilyStmt(_) => O::ObjectOpfamily,
        NodeEnum::AlterTsdictionaryStmt(_) => O::ObjectTsdictionary,
        NodeEnum::AlterTsconfigurationStmt(_) => O::ObjectTsconfiguration,
        NodeEnum::AlterStatsStmt(_) => O::ObjectStatisticExt,
        NodeEnum::AlterCollationStmt(_) => O::ObjectCollation,
        NodeEnum::AlterOperatorStmt(_) => O::ObjectOperator,
        NodeEnum::AlterUserMappingStmt(_) => O::ObjectUserMapping,
        _ => return false,
    };
    b.kind(K::Alter(object));
    true
}

/// `ALTER … RENAME …`: the kind is `ALTER` of the renamed object (of its table, for a column or a
/// table constraint), with the lock the rename takes on a relation.
fn rename(b: &mut Builder, s: &pb::RenameStmt) {
    let rename_type = O::try_from(s.rename_type).unwrap_or(O::Undefined);
    let relation_type = O::try_from(s.relation_type).unwrap_or(O::ObjectTable);
    b.if_exists = s.missing_ok;
    let relation = s.relation.as_ref().map(range_var);
    let (altered, action, locked): (O, &str, Option<(ObjectKind, LockMode)>) = match rename_type {
        // Renaming an index only needs SHARE UPDATE EXCLUSIVE (PostgreSQL 12 and later).
        O::ObjectIndex => (O::ObjectIndex, "RENAME TO", Some((ObjectKind::Index, ShareUpdateExclusive))),
        O::ObjectTable | O::ObjectSequence | O::ObjectView | O::ObjectMatview | O::ObjectForeignTable => {
            (rename_type, "RENAME TO", Some((object_kind(rename_type), AccessExclusive)))
        }
        O::ObjectColumn => (relation_type, "RENAME COLUMN", Some((object_kind(relation_type), AccessExclusive))),
        O::ObjectTabconstraint => (O::ObjectTable, "RENAME CONSTRAINT", Some((ObjectKind::Table, AccessExclusive))),
        O::ObjectTrigger | O::ObjectRule | O::ObjectPolicy => {
            (rename_type, "RENAME TO", Some((ObjectKind::Table, AccessExclusive)))
        }
        O::ObjectAttribute => (O::ObjectType, "RENAME ATTRIBUTE", None),
        O::ObjectDomconstraint => (O::ObjectDomain, "RENAME CONSTRAINT", None),
        other => (other, "RENAME TO", None),
    };
    b.kind(K::Alter(altered));
    b.action(action);
    if let (Some(relation), Some((kind, mode))) = (relation, locked) {
        b.lock(relation, kind, mode);
    }
}
