//! LS131: DETACH PARTITION without CONCURRENTLY.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS131",
    name: "detach-partition-without-concurrently",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: false,
    title: "DETACH PARTITION without CONCURRENTLY",
    trigger: "ALTER TABLE parent DETACH PARTITION child without CONCURRENTLY. On PostgreSQL 13 and older, where \
              there is no alternative, it is reported as low.",
    why: "It takes ACCESS EXCLUSIVE on the partitioned table: every query on any partition waits, and queues behind \
          it while it waits for running queries.",
    fix: "PostgreSQL 14+: ALTER TABLE … DETACH PARTITION … CONCURRENTLY, alone in a migration that runs outside a \
          transaction (if interrupted, finish it with DETACH PARTITION … FINALIZE).",
    bad: include_str!("../../../rules/LS131/bad.sql"),
    good: include_str!("../../../rules/LS131/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some((parent, cmds)) = ast::alter_table(cx.statement) else { return Vec::new() };
    let mut hits = Vec::new();
    for cmd in cmds.iter().filter(|c| ast::subtype(c) == At::AtDetachPartition) {
        let Some(NodeEnum::PartitionCmd(partition)) = cmd.def.as_ref().and_then(|d| d.node.as_ref()) else { continue };
        if partition.concurrent {
            continue;
        }
        let child = partition.name.as_ref().map(ast::range_var).map(|r| r.to_string()).unwrap_or_default();
        let hit = Hit::new(format!(
            "DETACH PARTITION {child} takes ACCESS EXCLUSIVE on {parent}: queries on every partition wait"
        ))
        .on(&parent)
        .expect(Expect::Lock(LockMode::AccessExclusive));
        hits.push(if cx.pg() < 14 {
            hit.severity(Severity::Low).help(
                "PostgreSQL 13 and older have no DETACH PARTITION … CONCURRENTLY: set a short lock_timeout and retry \
                 until it gets its turn, at a quiet time.",
            )
        } else {
            hit
        });
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn severity_and_advice_depend_on_the_version() {
        use crate::analyze::Severity;
        let sql = "ALTER TABLE events DETACH PARTITION events_2024;";
        assert_eq!(hits_on("LS131", 13, sql)[0].severity, Severity::Low);
        assert_eq!(hits_on("LS131", 14, sql)[0].severity, Severity::High);
        assert!(!fires("LS131", "ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;"));
    }
}
