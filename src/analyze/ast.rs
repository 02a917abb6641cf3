//! Small readers of pg_query parse trees that several rules share.

use pg_query::protobuf::{self as pb, AlterTableType, ConstrType, ObjectType};
use pg_query::NodeEnum;
use serde_json::Value;

use crate::sql::{RelationName, Statement};

/// A `RangeVar` as the SQL wrote it.
pub fn range_var(rel: &pb::RangeVar) -> RelationName {
    let schema = Some(rel.schemaname.as_str()).filter(|s| !s.is_empty());
    RelationName::new(schema, &rel.relname)
}

/// `ALTER TABLE` (not index/view/sequence): the table and its sub-commands.
pub fn alter_table(statement: &Statement) -> Option<(RelationName, Vec<&pb::AlterTableCmd>)> {
    let Some(NodeEnum::AlterTableStmt(stmt)) = &statement.ast else { return None };
    if ObjectType::try_from(stmt.objtype).unwrap_or(ObjectType::ObjectTable) != ObjectType::ObjectTable {
        return None;
    }
    let table = range_var(stmt.relation.as_ref()?);
    let cmds = stmt
        .cmds
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
            _ => None,
        })
        .collect();
    Some((table, cmds))
}

pub fn subtype(cmd: &pb::AlterTableCmd) -> AlterTableType {
    AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined)
}

/// The column definition of `ADD COLUMN` / `ALTER COLUMN TYPE`.
pub fn column_def(cmd: &pb::AlterTableCmd) -> Option<&pb::ColumnDef> {
    match cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::ColumnDef(column)) => Some(column),
        _ => None,
    }
}

/// The constraint of `ADD CONSTRAINT`.
pub fn constraint(cmd: &pb::AlterTableCmd) -> Option<&pb::Constraint> {
    match cmd.def.as_ref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::Constraint(constraint)) => Some(constraint),
        _ => None,
    }
}

pub fn constr_type(constraint: &pb::Constraint) -> ConstrType {
    ConstrType::try_from(constraint.contype).unwrap_or(ConstrType::Undefined)
}

/// The constraints written in a column definition.
pub fn column_constraints(column: &pb::ColumnDef) -> impl Iterator<Item = &pb::Constraint> {
    column.constraints.iter().filter_map(|n| match &n.node {
        Some(NodeEnum::Constraint(c)) => Some(c.as_ref()),
        _ => None,
    })
}

/// The type's last name, lower case, without the `pg_catalog.` prefix: `int4`, `varchar`, `serial`.
pub fn type_name(column: &pb::ColumnDef) -> String {
    column.type_name.as_ref().map(type_name_of).unwrap_or_default()
}

pub fn type_name_of(type_name: &pb::TypeName) -> String {
    strings(&type_name.names).last().cloned().unwrap_or_default().to_ascii_lowercase()
}

/// Whether the type is an array (`text[]`).
pub fn is_array(column: &pb::ColumnDef) -> bool {
    column.type_name.as_ref().is_some_and(|t| !t.array_bounds.is_empty())
}

pub fn strings(nodes: &[pb::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// Every function an expression calls, by its last name, lower case.
pub fn functions_called(node: &pb::Node) -> Vec<String> {
    let mut found = Vec::new();
    walk(&serde_json::to_value(node).unwrap_or(Value::Null), &mut found);
    found
}

fn walk(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
        Value::Object(map) => {
            if let Some(Value::Object(call)) = map.get("FuncCall") {
                if let Some(Value::Array(names)) = call.get("funcname") {
                    if let Some(name) = names.iter().filter_map(|n| n.pointer("/node/String/sval")).next_back() {
                        found.push(name.as_str().unwrap_or_default().to_ascii_lowercase());
                    }
                }
            }
            map.values().for_each(|v| walk(v, found));
        }
        _ => {}
    }
}

/// Whether an expression tree (as serde JSON) contains a node of this type anywhere.
pub fn contains_node(node: &impl serde::Serialize, tag: &str) -> bool {
    fn find(value: &Value, tag: &str) -> bool {
        match value {
            Value::Array(items) => items.iter().any(|item| find(item, tag)),
            Value::Object(map) => map.contains_key(tag) || map.values().any(|v| find(v, tag)),
            _ => false,
        }
    }
    find(&serde_json::to_value(node).unwrap_or(Value::Null), tag)
}

/// Relations the statement creates (tables, views, indexes, sequences).
pub fn created_relations(statement: &Statement) -> Vec<RelationName> {
    let Some(node) = &statement.ast else { return Vec::new() };
    match node {
        NodeEnum::CreateStmt(s) => s.relation.iter().map(range_var).collect(),
        NodeEnum::CreateTableAsStmt(s) => {
            s.into.as_ref().and_then(|i| i.rel.as_ref()).map(range_var).into_iter().collect()
        }
        NodeEnum::SelectStmt(s) => {
            s.into_clause.as_ref().and_then(|i| i.rel.as_ref()).map(range_var).into_iter().collect()
        }
        NodeEnum::ViewStmt(s) if !s.replace => s.view.iter().map(range_var).collect(),
        NodeEnum::CreateSeqStmt(s) => s.sequence.iter().map(range_var).collect(),
        NodeEnum::IndexStmt(s) if !s.idxname.is_empty() => {
            let schema = s.relation.as_ref().map(|r| r.schemaname.as_str()).filter(|n| !n.is_empty());
            vec![RelationName::new(schema, &s.idxname)]
        }
        _ => Vec::new(),
    }
}

/// Whether the statement puts rows into `relation` from a query or a file: `INSERT … SELECT`,
/// `COPY … FROM`, or a `CREATE TABLE … AS` / `SELECT … INTO` that creates it with its rows. A
/// table created and filled so is not empty, however new it is.
pub fn fills(statement: &Statement, relation: &RelationName) -> bool {
    let same = |r: &pb::RangeVar| crate::analyze::context::same_relation(&range_var(r), relation);
    match &statement.ast {
        Some(NodeEnum::InsertStmt(insert)) => {
            let from_query = match insert.select_stmt.as_ref().and_then(|s| s.node.as_ref()) {
                Some(NodeEnum::SelectStmt(select)) => select.values_lists.is_empty(),
                _ => false,
            };
            from_query && insert.relation.as_ref().is_some_and(same)
        }
        Some(NodeEnum::CopyStmt(copy)) => copy.is_from && copy.relation.as_ref().is_some_and(same),
        // `CREATE TABLE … AS … WITH NO DATA` creates it empty.
        Some(NodeEnum::CreateTableAsStmt(create)) if create.into.as_ref().is_some_and(|into| into.skip_data) => false,
        Some(NodeEnum::CreateTableAsStmt(_) | NodeEnum::SelectStmt(_)) => {
            created_relations(statement).iter().any(|made| crate::analyze::context::same_relation(made, relation))
        }
        _ => false,
    }
}

/// Whether `earlier` statements leave a validated constraint on `table` that `matches`: added
/// without NOT VALID, or added NOT VALID and validated by a later `VALIDATE CONSTRAINT`.
pub fn validated_constraint<'a>(
    earlier: impl Iterator<Item = &'a Statement>,
    table: &RelationName,
    matches: impl Fn(&pb::Constraint) -> bool,
) -> bool {
    let mut pending: Vec<String> = Vec::new();
    for statement in earlier {
        let Some((altered, cmds)) = alter_table(statement) else { continue };
        if !crate::analyze::context::same_relation(&altered, table) {
            continue;
        }
        for cmd in cmds {
            match subtype(cmd) {
                AlterTableType::AtAddConstraint => {
                    let Some(added) = constraint(cmd) else { continue };
                    if !matches(added) {
                        continue;
                    }
                    if !added.skip_validation {
                        return true;
                    }
                    pending.push(added.conname.clone());
                }
                AlterTableType::AtValidateConstraint if pending.contains(&cmd.name) => return true,
                _ => {}
            }
        }
    }
    false
}

/// A `CHECK (column IS NOT NULL)` constraint: the column it proves non-null.
pub fn check_is_not_null_column(constraint: &pb::Constraint) -> Option<String> {
    if constr_type(constraint) != ConstrType::ConstrCheck {
        return None;
    }
    match constraint.raw_expr.as_ref().and_then(|e| e.node.as_ref()) {
        Some(NodeEnum::NullTest(test))
            if pb::NullTestType::try_from(test.nulltesttype) == Ok(pb::NullTestType::IsNotNull) =>
        {
            match test.arg.as_ref().and_then(|a| a.node.as_ref()) {
                Some(NodeEnum::ColumnRef(column)) => strings(&column.fields).last().cloned(),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn statement(sql: &str) -> Statement {
        crate::sql::parse_file(Path::new("001_t.sql"), sql).unwrap().remove(0)
    }

    #[test]
    fn reads_column_definitions() {
        let s = statement("ALTER TABLE users ADD COLUMN n varchar(20)[] DEFAULT gen_random_uuid()::text");
        let (table, cmds) = alter_table(&s).unwrap();
        assert_eq!(table, RelationName::new(None, "users"));
        let column = column_def(cmds[0]).unwrap();
        assert_eq!(type_name(column), "varchar");
        assert!(is_array(column));
        let default = column_constraints(column).find(|c| constr_type(c) == ConstrType::ConstrDefault).unwrap();
        assert_eq!(functions_called(default.raw_expr.as_ref().unwrap()), ["gen_random_uuid"]);
    }

    #[test]
    fn finds_created_relations_and_not_null_checks() {
        assert_eq!(created_relations(&statement("CREATE TABLE app.t (id int)")), [RelationName::new(Some("app"), "t")]);
        assert_eq!(created_relations(&statement("CREATE INDEX i ON t (a)")), [RelationName::new(None, "i")]);
        let s = statement("ALTER TABLE t ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID");
        let (_, cmds) = alter_table(&s).unwrap();
        assert_eq!(check_is_not_null_column(constraint(cmds[0]).unwrap()).as_deref(), Some("email"));
    }
}
