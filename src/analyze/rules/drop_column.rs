//! LS119: DROP COLUMN while old code may still use it.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS119",
    name: "drop-column",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "DROP COLUMN",
    trigger: "ALTER TABLE … DROP COLUMN on a table that exists before the migration.",
    why: "The drop is quick (ACCESS EXCLUSIVE for an instant, no rewrite), but application instances still running \
          the previous release select, insert or update the column and fail; ORMs that list every column fail \
          even without naming it.",
    fix: "First release code that no longer reads or writes the column (and tell the ORM to ignore it), then drop \
          it in a later migration; mark the drop with `-- lockscope:ignore LS119 <why it is safe now>`.",
    bad: include_str!("../../../rules/LS119/bad.sql"),
    good: include_str!("../../../rules/LS119/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cx.existing(&table) {
        return Vec::new();
    }
    cmds.iter()
        .filter(|c| ast::subtype(c) == At::AtDropColumn)
        .map(|c| {
            Hit::new(format!(
                "DROP COLUMN {} on {table}: application instances still using it fail until they are redeployed",
                c.name
            ))
            .on(&table)
            .expect(Expect::Lock(LockMode::AccessExclusive))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn each_dropped_column_is_reported() {
        assert_eq!(hits("LS119", "ALTER TABLE users DROP COLUMN a, DROP COLUMN b;").len(), 2);
        assert!(!fires("LS119", "CREATE TABLE t (a int, b int);\nALTER TABLE t DROP COLUMN b;"));
    }
}
