//! Statements that annotate objects or grant access to them: `COMMENT`, `SECURITY LABEL`,
//! `GRANT`, `REVOKE`.

use pg_query::protobuf::{self as pb, ObjectType as O};
use pg_query::NodeEnum;

use crate::locks::LockMode;
use crate::sql::kind::object_words;
use crate::sql::summary::{object_kind, qualified_name, range_vars, strings, Builder};
use crate::sql::{ObjectKind, StatementKind as K};

use LockMode::{AccessShare, ShareUpdateExclusive};

pub(super) fn describe_metadata(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::CommentStmt(s) => {
            b.kind(K::Comment);
            comment_like(b, s.objtype, s.object.as_deref());
        }
        NodeEnum::SecLabelStmt(s) => {
            b.kind(K::SecurityLabel);
            comment_like(b, s.objtype, s.object.as_deref());
        }
        NodeEnum::GrantStmt(s) => {
            b.kind(if s.is_grant { K::Grant } else { K::Revoke });
            if O::try_from(s.objtype) == Ok(O::ObjectTable) {
                range_vars(&s.objects).into_iter().for_each(|rel| b.target(rel));
            }
        }
        NodeEnum::GrantRoleStmt(s) => b.kind(if s.is_grant { K::Grant } else { K::Revoke }),
        _ => return false,
    }
    true
}

/// `COMMENT ON` / `SECURITY LABEL ON`: SHARE UPDATE EXCLUSIVE on a relation or its column; a
/// constraint, trigger, rule or policy only needs ACCESS SHARE on its table.
fn comment_like(b: &mut Builder, objtype: i32, object: Option<&pb::Node>) {
    let object_type = O::try_from(objtype).unwrap_or(O::Undefined);
    b.action(object_words(object_type));
    let names = match object.and_then(|o| o.node.as_ref()) {
        Some(NodeEnum::List(list)) => strings(&list.items),
        _ => return,
    };
    let all_but_last = names.split_last().map_or(&[][..], |(_, rest)| rest);
    let (relation_names, kind, mode) = match object_type {
        O::ObjectTable
        | O::ObjectForeignTable
        | O::ObjectView
        | O::ObjectMatview
        | O::ObjectIndex
        | O::ObjectSequence => (&names[..], object_kind(object_type), ShareUpdateExclusive),
        O::ObjectColumn => (all_but_last, ObjectKind::Unknown, ShareUpdateExclusive),
        O::ObjectTabconstraint | O::ObjectTrigger | O::ObjectRule | O::ObjectPolicy => {
            (all_but_last, ObjectKind::Table, AccessShare)
        }
        _ => return,
    };
    if let Some(relation) = qualified_name(relation_names) {
        b.lock(relation, kind, mode);
    }
}
