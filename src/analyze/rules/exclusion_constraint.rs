//! LS130: an exclusion constraint added to an existing table.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS130",
    name: "exclusion-constraint",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "Exclusion constraint added to an existing table",
    trigger: "ALTER TABLE … ADD CONSTRAINT … EXCLUDE on a table that exists before the migration.",
    why: "PostgreSQL builds the constraint's index and checks every row inside the ALTER TABLE, holding ACCESS \
          EXCLUSIVE throughout. Unlike UNIQUE, there is no NOT VALID and no USING INDEX to split the work.",
    fix: "Create exclusion constraints with the table, while it is empty. On an existing table, enforce the rule in \
          the application or a trigger, or add the constraint in a maintenance window (after checking how long \
          the index build takes on a copy).",
    bad: include_str!("../../../rules/LS130/bad.sql"),
    good: include_str!("../../../rules/LS130/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((table, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    if !cx.existing(&table) {
        return Vec::new();
    }
    cmds.iter()
        .filter(|c| ast::subtype(c) == At::AtAddConstraint)
        .filter_map(|c| ast::constraint(c))
        .filter(|c| ast::constr_type(c) == ConstrType::ConstrExclusion)
        .map(|c| {
            let name = if c.conname.is_empty() { String::new() } else { format!(" {}", c.conname) };
            Hit::new(format!(
                "ADD EXCLUDE{name} builds its index and checks every row of {table} under ACCESS EXCLUSIVE"
            ))
            .on(&table)
            .expect(Expect::Scan)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn new_tables_are_fine() {
        let exclude = "ADD CONSTRAINT x EXCLUDE USING gist (int8range(id, id + 1) WITH &&);";
        assert!(fires("LS130", &format!("ALTER TABLE audit_log {exclude}")));
        assert!(!fires("LS130", &format!("CREATE TABLE t (id bigint);\nALTER TABLE t {exclude}")));
    }
}
