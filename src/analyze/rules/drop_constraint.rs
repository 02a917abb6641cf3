//! LS121: DROP CONSTRAINT that running code may rely on.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS121",
    name: "drop-constraint",
    severity: Severity::Low,
    kind: RuleKind::Static,
    size_matters: false,
    title: "DROP CONSTRAINT",
    trigger: "ALTER TABLE … DROP CONSTRAINT on a table that exists before the migration.",
    why: "ACCESS EXCLUSIVE for an instant; but code may rely on the constraint: INSERT … ON CONFLICT needs its \
          unique constraint, and code that trusted a CHECK or FOREIGN KEY now meets rows that break it.",
    fix: "Check that no running code relies on it (ON CONFLICT targets, error handling on violations), then mark \
          the drop with `-- lockscope:ignore LS121 <why it is safe>`.",
    bad: include_str!("../../../rules/LS121/bad.sql"),
    good: include_str!("../../../rules/LS121/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cx.existing(&table) {
        return Vec::new();
    }
    cmds.iter()
        .filter(|c| ast::subtype(c) == At::AtDropConstraint)
        .map(|c| {
            Hit::new(format!("DROP CONSTRAINT {} on {table}: running code may rely on it", c.name))
                .on(&table)
                .expect(Expect::Lock(LockMode::AccessExclusive))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn reported_on_existing_tables() {
        assert!(fires("LS121", "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_pkey;"));
        assert!(!fires("LS121", "CREATE TABLE t (a int CHECK (a > 0));\nALTER TABLE t DROP CONSTRAINT t_a_check;"));
    }
}
