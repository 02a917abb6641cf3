//! LS117: UNIQUE or PRIMARY KEY added without USING INDEX.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS117",
    name: "unique-without-using-index",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "UNIQUE / PRIMARY KEY added without USING INDEX",
    trigger: "ALTER TABLE … ADD CONSTRAINT … UNIQUE or PRIMARY KEY without USING INDEX on an existing table.",
    why: "PostgreSQL builds the unique index inside the ALTER TABLE, holding ACCESS EXCLUSIVE for the whole \
          build: no reads, no writes until every row is read and sorted.",
    fix: "CREATE UNIQUE INDEX CONCURRENTLY first (alone, outside a transaction), then ALTER TABLE … ADD CONSTRAINT \
          … UNIQUE USING INDEX (or PRIMARY KEY USING INDEX; its columns must already be NOT NULL, or that check \
          scans the table).",
    bad: include_str!("../../../rules/LS117/bad.sql"),
    good: include_str!("../../../rules/LS117/good.sql"),
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
        .filter(|c| c.indexname.is_empty())
        .filter_map(|c| match ast::constr_type(c) {
            ConstrType::ConstrPrimary => Some("PRIMARY KEY"),
            ConstrType::ConstrUnique => Some("UNIQUE"),
            _ => None,
        })
        .map(|what| {
            Hit::new(format!(
                "ADD {what} builds its index while holding ACCESS EXCLUSIVE on {table}: reads and writes wait"
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
    fn primary_keys_too_but_not_using_index() {
        assert!(fires("LS117", "ALTER TABLE audit_log ADD PRIMARY KEY (id);"));
        assert!(!fires("LS117", "ALTER TABLE users ADD CONSTRAINT k UNIQUE USING INDEX users_email_idx;"));
        assert!(!fires("LS117", "CREATE TABLE t (a int);\nALTER TABLE t ADD UNIQUE (a);"));
    }
}
