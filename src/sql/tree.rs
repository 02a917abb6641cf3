//! A complete walk of a parse tree for the relations a query reads or writes and the functions a
//! statement calls. pg_query's own walker skips many node types, so this one walks the tree's
//! serde form, where every field of every node is visible.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::RelationName;
use crate::locks::LockMode;

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct Uses {
    /// Relations named in query positions, with the table-level lock the query takes on them.
    pub(crate) relations: Vec<(RelationName, LockMode)>,
    /// Every function call, as its written (possibly qualified) name, lower case as parsed.
    pub(crate) functions: Vec<Vec<String>>,
}

/// Walks `tree` (the serde form of a node). Relations named by CTEs of the same statement are
/// left out.
pub(crate) fn collect(tree: &Value) -> Uses {
    let mut walker = Walker::default();
    walker.walk(tree, &Context::Read);
    let Walker { mut uses, cte_names } = walker;
    uses.relations.retain(|(relation, _)| relation.schema.is_some() || !cte_names.contains(&relation.name));
    uses
}

/// The serde form of a node; `Null` if it cannot be serialised (it always can).
pub(crate) fn to_tree<T: serde::Serialize>(node: &T) -> Value {
    serde_json::to_value(node).unwrap_or(Value::Null)
}

#[derive(Default)]
struct Walker {
    uses: Uses,
    cte_names: BTreeSet<String>,
}

/// How a relation met in the current position is locked.
enum Context {
    Read,
    /// Inside the `FROM` of a `SELECT … FOR UPDATE/SHARE [OF names]` (empty = every relation).
    RowLocked(Vec<String>),
}

impl Walker {
    fn walk(&mut self, value: &Value, context: &Context) {
        match value {
            Value::Array(items) => items.iter().for_each(|item| self.walk(item, context)),
            Value::Object(map) => self.walk_object(map, context),
            _ => {}
        }
    }

    fn walk_object(&mut self, map: &Map<String, Value>, context: &Context) {
        if is_range_var(map) {
            self.range_var(map, context);
            return;
        }
        if let Some((tag, inner)) = single_entry(map) {
            match tag {
                "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt" => {
                    if let Some(Value::Object(target)) = inner.get("relation") {
                        if let Some(relation) = relation_name(target) {
                            self.uses.relations.push((relation, LockMode::RowExclusive));
                        }
                    }
                    if let Value::Object(fields) = inner {
                        fields
                            .iter()
                            .filter(|(key, _)| *key != "relation")
                            .for_each(|(_, v)| self.walk(v, &Context::Read));
                    }
                    return;
                }
                "SelectStmt" => {
                    if let Value::Object(fields) = inner {
                        self.select(fields, context);
                    }
                    return;
                }
                "FuncCall" => {
                    if let Some(name) = inner.get("funcname").map(string_list) {
                        self.uses.functions.push(name);
                    }
                }
                "CommonTableExpr" => {
                    if let Some(Value::String(name)) = inner.get("ctename") {
                        self.cte_names.insert(name.clone());
                    }
                }
                _ => {}
            }
        }
        map.values().for_each(|value| self.walk(value, context));
    }

    fn select(&mut self, fields: &Map<String, Value>, context: &Context) {
        let locking: Vec<&Value> = match fields.get("locking_clause") {
            Some(Value::Array(clauses)) => clauses.iter().collect(),
            _ => Vec::new(),
        };
        let from_context = if locking.is_empty() {
            None
        } else {
            let mut names = Vec::new();
            for clause in &locking {
                if let Some(Value::Array(rels)) = clause.pointer("/node/LockingClause/locked_rels") {
                    for rel in rels {
                        if let Some(Value::Object(range_var)) = rel.pointer("/node/RangeVar") {
                            names.extend(relation_name(range_var).map(|r| r.name));
                        }
                    }
                }
            }
            Some(Context::RowLocked(names))
        };
        for (key, value) in fields {
            match key.as_str() {
                // `SELECT … INTO new_table` names the table it creates, not one it reads.
                "into_clause" | "locking_clause" => {}
                "from_clause" => self.walk(value, from_context.as_ref().unwrap_or(context)),
                _ => self.walk(value, context),
            }
        }
    }

    fn range_var(&mut self, map: &Map<String, Value>, context: &Context) {
        let Some(relation) = relation_name(map) else {
            return;
        };
        let mode = match context {
            Context::Read => LockMode::AccessShare,
            Context::RowLocked(names) if names.is_empty() => LockMode::RowShare,
            Context::RowLocked(names) => {
                let alias = map.get("alias").and_then(|a| a.get("aliasname")).and_then(Value::as_str);
                if names.iter().any(|n| *n == relation.name || Some(n.as_str()) == alias) {
                    LockMode::RowShare
                } else {
                    LockMode::AccessShare
                }
            }
        };
        self.uses.relations.push((relation, mode));
    }
}

/// A `RangeVar` appears both tagged (`{"RangeVar": {…}}`) and as a bare struct field; its own
/// fields identify it either way.
fn is_range_var(map: &Map<String, Value>) -> bool {
    map.contains_key("relname") && map.contains_key("relpersistence") && map.contains_key("inh")
}

fn single_entry(map: &Map<String, Value>) -> Option<(&str, &Value)> {
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some((key, value)), None) => Some((key.as_str(), value)),
        _ => None,
    }
}

fn relation_name(range_var: &Map<String, Value>) -> Option<RelationName> {
    let name = range_var.get("relname")?.as_str().filter(|n| !n.is_empty())?;
    let schema = range_var.get("schemaname").and_then(Value::as_str).filter(|s| !s.is_empty());
    Some(RelationName::new(schema, name))
}

/// `[{"node": {"String": {"sval": "pg_catalog"}}}, …]` → `["pg_catalog", …]`.
fn string_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|item| item.pointer("/node/String/sval").and_then(Value::as_str).map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}
