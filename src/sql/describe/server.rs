//! Cluster-wide objects: databases, tablespaces, `ALTER SYSTEM`, subscriptions. Most of them
//! PostgreSQL refuses inside a transaction block; the kinds it always refuses say so themselves
//! (`StatementKind::refused_in_transaction_block`), the ones refused only in some forms are
//! decided here.

use pg_query::protobuf::{AlterSubscriptionType, ObjectType as O};
use pg_query::NodeEnum;

use crate::sql::summary::{def_elem_named, Builder};
use crate::sql::StatementKind as K;

pub(super) fn describe_server(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::CreatedbStmt(_) => b.kind(K::Create(O::ObjectDatabase)),
        NodeEnum::DropdbStmt(s) => {
            b.kind(K::Drop(O::ObjectDatabase));
            b.if_exists = s.missing_ok;
        }
        NodeEnum::AlterDatabaseSetStmt(_) | NodeEnum::AlterDatabaseRefreshCollStmt(_) => {
            b.kind(K::Alter(O::ObjectDatabase))
        }
        NodeEnum::AlterDatabaseStmt(s) => {
            b.kind(K::Alter(O::ObjectDatabase));
            if s.options.iter().any(|o| def_elem_named(o, "tablespace")) {
                b.not_in_transaction("ALTER DATABASE … SET TABLESPACE cannot run inside a transaction block");
            }
        }
        NodeEnum::CreateTableSpaceStmt(_) => b.kind(K::Create(O::ObjectTablespace)),
        NodeEnum::DropTableSpaceStmt(s) => {
            b.kind(K::Drop(O::ObjectTablespace));
            b.if_exists = s.missing_ok;
        }
        NodeEnum::AlterTableSpaceOptionsStmt(_) => b.kind(K::Alter(O::ObjectTablespace)),
        NodeEnum::AlterSystemStmt(_) => b.kind(K::AlterSystem),
        NodeEnum::CreateSubscriptionStmt(_) => b.kind(K::Create(O::ObjectSubscription)),
        NodeEnum::DropSubscriptionStmt(s) => {
            b.kind(K::Drop(O::ObjectSubscription));
            b.if_exists = s.missing_ok;
        }
        NodeEnum::AlterSubscriptionStmt(s) => {
            b.kind(K::Alter(O::ObjectSubscription));
            use AlterSubscriptionType as Sub;
            if matches!(
                Sub::try_from(s.kind),
                Ok(Sub::AlterSubscriptionRefresh
                    | Sub::AlterSubscriptionSetPublication
                    | Sub::AlterSubscriptionAddPublication
                    | Sub::AlterSubscriptionDropPublication)
            ) {
                b.not_in_transaction(
                    "ALTER SUBSCRIPTION that refreshes publications cannot run inside a transaction block",
                );
            }
        }
        _ => return false,
    }
    true
}
