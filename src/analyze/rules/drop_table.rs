//! LS120: DROP TABLE while old code may still use it.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS120",
    name: "drop-table",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "DROP TABLE",
    trigger: "DROP TABLE on a table that exists before the migration.",
    why: "ACCESS EXCLUSIVE on the table (and SHARE ROW EXCLUSIVE on tables it references), the data is gone for \
          good, and application instances still running the previous release fail on every query that uses it.",
    fix: "Stop using the table in a release first; then rename it or move it to another schema, wait, and drop it \
          in a later release, with `-- lockscope:ignore LS120 <why it is safe now>`.",
    bad: include_str!("../../../rules/LS120/bad.sql"),
    good: include_str!("../../../rules/LS120/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let summary = &cx.statement.summary;
    if summary.kind != StatementKind::Drop(ObjectType::ObjectTable) {
        return Vec::new();
    }
    summary
        .locks
        .iter()
        .filter(|lock| cx.existing(&lock.relation))
        .map(|lock| {
            Hit::new(format!(
                "DROP TABLE {}: its data is gone and code still using it fails until it is redeployed",
                lock.relation
            ))
            .on(&lock.relation)
            .expect(Expect::Lock(LockMode::AccessExclusive))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn each_existing_table_is_reported() {
        assert_eq!(hits("LS120", "DROP TABLE IF EXISTS a, b;").len(), 2);
        assert!(!fires("LS120", "CREATE TABLE t (a int);\nDROP TABLE t;"));
        assert!(!fires("LS120", "DROP VIEW IF EXISTS v;"));
    }
}
