//! LS126: VACUUM FULL or CLUSTER.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS126",
    name: "vacuum-full-or-cluster",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "VACUUM FULL / CLUSTER",
    trigger: "VACUUM FULL or CLUSTER on a table.",
    why: "Both rewrite the whole table and rebuild every index while holding ACCESS EXCLUSIVE: no reads, no \
          writes, for as long as copying the table takes — minutes to hours on a big table.",
    fix: "Use pg_repack (or pg_squeeze) outside the migration: it rebuilds the table online and holds ACCESS \
          EXCLUSIVE only for the final swap. Plain VACUUM (no FULL) reclaims space for reuse without blocking.",
    bad: include_str!("../../../rules/LS126/bad.sql"),
    good: include_str!("../../../rules/LS126/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let summary = &cx.statement.summary;
    let what = match summary.kind {
        StatementKind::Vacuum if summary.actions.iter().any(|a| a == "FULL") => "VACUUM FULL",
        StatementKind::Cluster => "CLUSTER",
        _ => return Vec::new(),
    };
    if summary.locks.is_empty() {
        return vec![Hit::new(format!("{what} of every table rewrites each one under ACCESS EXCLUSIVE"))];
    }
    summary
        .locks
        .iter()
        .filter(|l| l.kind != crate::sql::ObjectKind::Index && cx.existing(&l.relation))
        .map(|l| {
            Hit::new(format!(
                "{what} {} rewrites it and its indexes under ACCESS EXCLUSIVE: no reads, no writes",
                l.relation
            ))
            .on(&l.relation)
            .expect(Expect::Lock(LockMode::AccessExclusive))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn plain_vacuum_is_fine() {
        assert!(fires("LS126", "CLUSTER users USING users_pkey;"));
        assert!(fires("LS126", "VACUUM (FULL, ANALYZE) users;"));
        assert!(!fires("LS126", "VACUUM users;"));
    }
}
