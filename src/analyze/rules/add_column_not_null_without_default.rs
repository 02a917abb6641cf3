//! LS110: ADD COLUMN … NOT NULL without a DEFAULT on a table that exists.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS110",
    name: "add-column-not-null-without-default",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "ADD COLUMN … NOT NULL without a DEFAULT on an existing table",
    trigger: "ALTER TABLE … ADD COLUMN with NOT NULL (or PRIMARY KEY) and no DEFAULT, identity or generation \
              clause, on a table that exists before the migration.",
    why: "Every existing row would hold NULL in the new column, so PostgreSQL refuses the statement on any table \
          that has a row: ERROR: column … contains null values. The deploy fails at this migration (it passed on \
          the empty development database).",
    fix: "Add the column with a constant DEFAULT (PostgreSQL 11+ stores it without a rewrite), or add it \
          nullable, backfill it in batches, and add NOT NULL afterwards through a validated CHECK.",
    bad: include_str!("../../../rules/LS110/bad.sql"),
    good: include_str!("../../../rules/LS110/good.sql"),
    check: Check::Statement(check),
};

pub(super) const SERIAL_TYPES: &[&str] = &["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"];

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cx.existing(&table) {
        return Vec::new();
    }
    let help = if cx.pg() < 11 {
        "Before PostgreSQL 11 a DEFAULT rewrites the table: add the column nullable, backfill it in batches, then add \
         NOT NULL (a validated CHECK (col IS NOT NULL) avoids nothing before 12)."
    } else {
        RULE.fix
    };
    cmds.iter()
        .filter(|cmd| ast::subtype(cmd) == At::AtAddColumn)
        .filter_map(|cmd| ast::column_def(cmd))
        .filter(|column| {
            let constraints: Vec<ConstrType> = ast::column_constraints(column).map(ast::constr_type).collect();
            let not_null = column.is_not_null
                || constraints.iter().any(|c| matches!(c, ConstrType::ConstrNotnull | ConstrType::ConstrPrimary));
            let filled = constraints.iter().any(|c| {
                matches!(c, ConstrType::ConstrDefault | ConstrType::ConstrIdentity | ConstrType::ConstrGenerated)
            }) || SERIAL_TYPES.contains(&ast::type_name(column).as_str());
            not_null && !filled
        })
        .map(|column| {
            Hit::new(format!(
                "ADD COLUMN {} … NOT NULL without a DEFAULT fails on {table} as soon as it has a row",
                column.colname
            ))
            .on(&table)
            .expect(Expect::Error)
            .help(help)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn defaults_identity_and_new_tables_are_fine() {
        assert!(fires("LS110", "ALTER TABLE users ADD COLUMN id2 bigint PRIMARY KEY;"));
        assert!(!fires("LS110", "ALTER TABLE users ADD COLUMN n int NOT NULL GENERATED ALWAYS AS IDENTITY;"));
        assert!(!fires("LS110", "ALTER TABLE users ADD COLUMN n bigserial NOT NULL;"));
        assert!(!fires("LS110", "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int NOT NULL;"));
    }
}
