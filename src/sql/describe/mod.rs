//! Each statement family described into a [`Builder`]: its kind, its actions, the relations it
//! names with their documented lock levels, and what keeps it from running inside lockscope's
//! rolled-back transaction. One module per family; every family's `describe_…` answers whether it
//! knew the statement.

mod alter;
mod create;
mod data;
mod drop;
mod execute;
mod maintenance;
mod metadata;
mod server;
mod session;

use pg_query::NodeEnum;

use super::summary::Builder;
use super::tree::Uses;

/// Describes `node` into `b`. A statement no family knows keeps the kind named after its parse
/// node and no locks; the answer says whether a family knew it.
pub(super) fn describe(b: &mut Builder, node: &NodeEnum, uses: &Uses) -> bool {
    data::describe_data(b, node, uses)
        || execute::describe_execute(b, node)
        || create::describe_create_relation(b, node)
        || create::describe_create_object(b, node)
        || alter::describe_alter(b, node)
        || drop::describe_drop(b, node)
        || maintenance::describe_maintenance(b, node)
        || metadata::describe_metadata(b, node)
        || session::describe_session(b, node)
        || server::describe_server(b, node)
}
