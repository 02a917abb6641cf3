//! Parse tree → [`Summary`]: the command's name, its sub-commands, the relations it names with
//! PostgreSQL's documented lock level on each, and whether lockscope may execute it.
//!
//! Lock levels follow the PostgreSQL documentation ("Explicit Locking" and each command's
//! reference page). Each family of statements is described in its own module under `describe/`;
//! `ALTER TABLE` has its own module. This one holds the [`Builder`] they fill and the helpers
//! that read names and options out of the parse tree.

use pg_query::protobuf::{self as pb, ObjectType};
use pg_query::NodeEnum;

use super::describe::describe;
use super::functions::{forbidden_function, BUILTIN_FUNCTIONS};
use super::tree::{self, Uses};
use super::{Execution, ObjectKind, RelationName, StatementKind, StaticLock, Summary, TxControl};
use crate::locks::LockMode;

/// The summary of a statement pg_query returned without a tree (never seen in practice).
pub(crate) fn unknown() -> Summary {
    Builder::new(StatementKind::Unknown).finish()
}

pub(crate) fn summarize(node: &NodeEnum) -> Summary {
    let tree = tree::to_tree(node);
    let uses = tree::collect(&tree);
    let mut builder = Builder::new(fallback_kind(&tree));
    describe(&mut builder, node, &uses);
    if let Some(reason) = builder.kind.refused_in_transaction_block() {
        builder.not_in_transaction(reason);
    }
    if executes_expressions(node) {
        builder.check_function_calls(&uses.functions);
    }
    builder.finish()
}

/// Collects the summary while a statement is described.
pub(crate) struct Builder {
    kind: StatementKind,
    actions: Vec<String>,
    targets: Vec<RelationName>,
    locks: Vec<StaticLock>,
    pub(crate) tx: TxControl,
    not_in_transaction: Option<String>,
    forbidden: Option<String>,
    pub(crate) concurrently: bool,
    pub(crate) if_exists: bool,
    pub(crate) opaque: bool,
}

impl Builder {
    fn new(kind: StatementKind) -> Self {
        Builder {
            kind,
            actions: Vec::new(),
            targets: Vec::new(),
            locks: Vec::new(),
            tx: TxControl::None,
            not_in_transaction: None,
            forbidden: None,
            concurrently: false,
            if_exists: false,
            opaque: false,
        }
    }

    pub(crate) fn kind(&mut self, kind: StatementKind) {
        self.kind = kind;
    }

    pub(crate) fn action(&mut self, action: impl Into<String>) {
        self.actions.push(action.into());
    }

    pub(crate) fn target(&mut self, relation: RelationName) {
        if !self.targets.contains(&relation) {
            self.targets.push(relation);
        }
    }

    /// Records a lock; a relation locked twice keeps the stronger mode (and the more precise kind).
    pub(crate) fn lock(&mut self, relation: RelationName, kind: ObjectKind, mode: LockMode) {
        self.target(relation.clone());
        match self.locks.iter_mut().find(|lock| lock.relation == relation) {
            Some(existing) => {
                existing.mode = existing.mode.max(mode);
                if existing.kind == ObjectKind::Unknown {
                    existing.kind = kind;
                }
            }
            None => self.locks.push(StaticLock { relation, kind, mode }),
        }
    }

    pub(crate) fn not_in_transaction(&mut self, reason: &str) {
        self.not_in_transaction.get_or_insert_with(|| reason.to_string());
    }

    pub(crate) fn forbid(&mut self, reason: impl Into<String>) {
        if self.forbidden.is_none() {
            self.forbidden = Some(reason.into());
        }
    }

    /// Relations a query reads or writes, as the tree walk found them.
    pub(crate) fn query_relations(&mut self, uses: &Uses) {
        for (relation, mode) in &uses.relations {
            let kind = if *mode == LockMode::RowExclusive { ObjectKind::Table } else { ObjectKind::Unknown };
            self.lock(relation.clone(), kind, *mode);
        }
    }

    fn check_function_calls(&mut self, functions: &[Vec<String>]) {
        for name in functions {
            let Some(base) = name.last() else { continue };
            if let Some(reason) = forbidden_function(base) {
                self.forbid(reason);
            }
            let builtin = (name.len() > 1 && name[0] == "pg_catalog") || BUILTIN_FUNCTIONS.contains(&base.as_str());
            if !builtin {
                self.opaque = true;
            }
        }
    }

    fn finish(self) -> Summary {
        let execution = match (self.forbidden, self.not_in_transaction) {
            (Some(reason), _) => Execution::Forbidden { reason },
            (None, Some(reason)) => Execution::NotInTransaction { reason },
            (None, None) => Execution::InTransaction,
        };
        Summary {
            kind: self.kind,
            actions: self.actions,
            targets: self.targets,
            locks: self.locks,
            tx: self.tx,
            execution,
            concurrently: self.concurrently,
            if_exists: self.if_exists,
            opaque: self.opaque,
        }
    }
}

/// Statements that only store expressions (function bodies, view queries, rules, policies, the
/// defaults of a new table) don't run the functions they mention. `EXPLAIN` runs them only with
/// `ANALYZE`, which is checked where it is described.
fn executes_expressions(node: &NodeEnum) -> bool {
    !matches!(
        node,
        NodeEnum::CreateFunctionStmt(_)
            | NodeEnum::ViewStmt(_)
            | NodeEnum::RuleStmt(_)
            | NodeEnum::CreatePolicyStmt(_)
            | NodeEnum::AlterPolicyStmt(_)
            | NodeEnum::CreateStmt(_)
            | NodeEnum::CreateDomainStmt(_)
            | NodeEnum::CreateTrigStmt(_)
            | NodeEnum::ExplainStmt(_)
    )
}

pub(crate) fn range_var(rel: &pb::RangeVar) -> RelationName {
    let schema = Some(rel.schemaname.as_str()).filter(|s| !s.is_empty());
    RelationName::new(schema, &rel.relname)
}

pub(crate) fn range_vars(nodes: &[pb::Node]) -> Vec<RelationName> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::RangeVar(rel)) => Some(range_var(rel)),
            _ => None,
        })
        .collect()
}

/// An index or other object created in (or living in) the same schema as `relation`.
pub(crate) fn sibling(relation: &RelationName, name: &str) -> RelationName {
    RelationName::new(relation.schema.as_deref(), name)
}

/// `[name]`, `[schema, name]` or `[database, schema, name]`.
pub(crate) fn qualified_name(names: &[String]) -> Option<RelationName> {
    match names {
        [name] => Some(RelationName::new(None, name)),
        [.., schema, name] => Some(RelationName::new(Some(schema), name)),
        [] => None,
    }
}

pub(crate) fn strings(nodes: &[pb::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn def_elem_named(node: &pb::Node, name: &str) -> bool {
    matches!(&node.node, Some(NodeEnum::DefElem(option)) if option.defname == name)
}

/// A `(NAME [value])` option that is on: written bare, or with a true-ish value.
pub(crate) fn def_elem_enabled(node: &pb::Node, name: &str) -> bool {
    let Some(NodeEnum::DefElem(option)) = &node.node else {
        return false;
    };
    if option.defname != name {
        return false;
    }
    match option.arg.as_ref().and_then(|a| a.node.as_ref()) {
        None => true,
        Some(NodeEnum::Boolean(value)) => value.boolval,
        Some(NodeEnum::Integer(value)) => value.ival != 0,
        Some(NodeEnum::String(value)) => {
            !matches!(value.sval.to_ascii_lowercase().as_str(), "false" | "off" | "0" | "no")
        }
        Some(NodeEnum::AConst(constant)) => !matches!(
            constant.val.as_ref(),
            Some(pb::a_const::Val::Boolval(pb::Boolean { boolval: false }))
                | Some(pb::a_const::Val::Ival(pb::Integer { ival: 0 }))
        ),
        Some(_) => true,
    }
}

pub(crate) fn object_kind(object_type: ObjectType) -> ObjectKind {
    match object_type {
        ObjectType::ObjectTable | ObjectType::ObjectForeignTable => ObjectKind::Table,
        ObjectType::ObjectIndex => ObjectKind::Index,
        ObjectType::ObjectSequence => ObjectKind::Sequence,
        ObjectType::ObjectView | ObjectType::ObjectMatview => ObjectKind::View,
        _ => ObjectKind::Unknown,
    }
}

/// `AddColumn` or `ADD_COLUMN` → `ADD COLUMN`.
pub(crate) fn words_from_enum(name: &str) -> String {
    let mut words = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c == '_' {
            words.push(' ');
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(' ');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        words.push(c.to_ascii_uppercase());
    }
    words.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A name derived from the parse node's type (`AlterObjectDependsStmt` → `ALTER OBJECT DEPENDS`),
/// for statements `describe` does not know. Read back through `StatementKind::from`, so a name
/// that is a known kind's text (`CREATE FOREIGN TABLE`) is that kind.
fn fallback_kind(tree: &serde_json::Value) -> StatementKind {
    match tree.as_object().and_then(|map| map.keys().next()) {
        Some(node_type) => {
            StatementKind::from(words_from_enum(node_type.strip_suffix("Stmt").unwrap_or(node_type)).as_str())
        }
        None => StatementKind::Unknown,
    }
}
