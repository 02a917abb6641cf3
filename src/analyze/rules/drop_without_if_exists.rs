//! LS106: DROP without IF EXISTS.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS106",
    name: "drop-without-if-exists",
    severity: Severity::Low,
    kind: RuleKind::Static,
    size_matters: false,
    title: "DROP without IF EXISTS",
    trigger: "DROP TABLE/INDEX/VIEW/… or ALTER TABLE … DROP COLUMN/CONSTRAINT written without IF EXISTS.",
    why: "A migration that failed halfway (or whose down script ran by hand) cannot be re-run: it stops at the \
          object that is already gone.",
    fix: "Write DROP … IF EXISTS (ALTER TABLE … DROP COLUMN IF EXISTS …), so re-running the migration is harmless.",
    bad: include_str!("../../../rules/LS106/bad.sql"),
    good: include_str!("../../../rules/LS106/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let summary = &cx.statement.summary;
    if summary.kind.is_drop() && !summary.if_exists {
        let what = summary.targets.first().map(|t| format!(" {t}")).unwrap_or_default();
        return vec![Hit::new(format!("{}{what} without IF EXISTS: the migration cannot be re-run", summary.kind))];
    }
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    cmds.iter()
        .filter(|cmd| matches!(ast::subtype(cmd), At::AtDropColumn | At::AtDropConstraint) && !cmd.missing_ok)
        .map(|cmd| {
            let what = if ast::subtype(cmd) == At::AtDropColumn { "DROP COLUMN" } else { "DROP CONSTRAINT" };
            Hit::new(format!("{what} {} on {table} without IF EXISTS: the migration cannot be re-run", cmd.name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn drops_of_columns_and_constraints_need_if_exists_too() {
        assert!(fires("LS106", "ALTER TABLE users DROP COLUMN name;"));
        assert!(!fires("LS106", "ALTER TABLE users DROP COLUMN IF EXISTS name;"));
        assert!(fires("LS106", "DROP INDEX CONCURRENTLY i;"));
        assert!(!fires("LS106", "DROP VIEW IF EXISTS v;"));
    }
}
