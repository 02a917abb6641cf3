//! LS108: DROP INDEX without CONCURRENTLY.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS108",
    name: "drop-index-without-concurrently",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "DROP INDEX without CONCURRENTLY",
    trigger: "DROP INDEX without CONCURRENTLY on an index that exists before the migration.",
    why: "DROP INDEX takes ACCESS EXCLUSIVE on the index's table. The drop itself is quick, but while it waits \
          for a running query on the table to finish, every other query on the table queues behind it.",
    fix: "DROP INDEX CONCURRENTLY IF EXISTS …, alone in a migration that runs outside a transaction: it waits for \
          running queries without blocking new ones.",
    bad: include_str!("../../../rules/LS108/bad.sql"),
    good: include_str!("../../../rules/LS108/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let summary = &cx.statement.summary;
    if summary.kind != StatementKind::Drop(ObjectType::ObjectIndex) || summary.concurrently {
        return Vec::new();
    }
    summary
        .locks
        .iter()
        .filter(|lock| cx.existing(&lock.relation))
        .map(|lock| {
            Hit::new(format!(
                "DROP INDEX {} without CONCURRENTLY takes ACCESS EXCLUSIVE on its table: every query on the table \
                 queues while it waits",
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
    fn indexes_created_in_the_run_can_be_dropped_plainly() {
        assert!(!fires("LS108", "CREATE INDEX IF NOT EXISTS i ON users (name);\nDROP INDEX IF EXISTS i;"));
        assert!(fires("LS108", "DROP INDEX IF EXISTS app.i;"));
    }
}
