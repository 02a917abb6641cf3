//! LS127: a column of type json rather than jsonb.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS127",
    name: "json-column",
    severity: Severity::Low,
    kind: RuleKind::Static,
    size_matters: false,
    title: "json instead of jsonb",
    trigger: "A column declared `json` in CREATE TABLE, ADD COLUMN or ALTER COLUMN … TYPE.",
    why: "json stores the text as written and re-parses it on every access; it has no equality operator, so it \
          cannot be indexed, compared, used in DISTINCT or GROUP BY — and changing the type later rewrites the \
          table under ACCESS EXCLUSIVE.",
    fix: "Use jsonb (unless the exact text, key order and duplicate keys must be kept).",
    bad: include_str!("../../../rules/LS127/bad.sql"),
    good: include_str!("../../../rules/LS127/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let mut columns: Vec<(RelationName, &pg_query::protobuf::ColumnDef)> = Vec::new();
    match cx.ast() {
        Some(NodeEnum::CreateStmt(create)) => {
            let Some(table) = create.relation.as_ref().map(ast::range_var) else { return Vec::new() };
            for element in &create.table_elts {
                if let Some(NodeEnum::ColumnDef(column)) = &element.node {
                    columns.push((table.clone(), column));
                }
            }
        }
        _ => {
            let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
            for cmd in cmds {
                if matches!(ast::subtype(cmd), At::AtAddColumn | At::AtAlterColumnType) {
                    if let Some(column) = ast::column_def(cmd) {
                        columns.push((table.clone(), column));
                    }
                }
            }
        }
    }
    columns
        .into_iter()
        .filter(|(_, column)| ast::type_name(column) == "json")
        .map(|(table, column)| {
            let name = if column.colname.is_empty() { "the column".to_string() } else { column.colname.clone() };
            Hit::new(format!("{table}.{name} is json: use jsonb (indexable, comparable, parsed once)"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn create_add_and_retype_are_checked() {
        assert!(fires("LS127", "CREATE TABLE IF NOT EXISTS t (doc json);"));
        assert!(fires("LS127", "ALTER TABLE users ALTER COLUMN name TYPE json USING to_json(name);"));
        assert!(!fires("LS127", "CREATE TABLE IF NOT EXISTS t (doc jsonb);"));
    }
}
