//! LS109: REINDEX without CONCURRENTLY.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS109",
    name: "reindex-without-concurrently",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "REINDEX without CONCURRENTLY",
    trigger: "REINDEX INDEX/TABLE/SCHEMA/DATABASE without CONCURRENTLY.",
    why: "REINDEX INDEX holds ACCESS EXCLUSIVE on the index — queries that would use it wait — and SHARE on the \
          table, blocking writes, for the whole rebuild; REINDEX TABLE does so for every index of the table.",
    fix: "REINDEX … CONCURRENTLY (PostgreSQL 12+), alone in a migration that runs outside a transaction. Before \
          12: CREATE INDEX CONCURRENTLY a copy, DROP INDEX CONCURRENTLY the old one, rename the copy.",
    bad: include_str!("../../../rules/LS109/bad.sql"),
    good: include_str!("../../../rules/LS109/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let summary = &cx.statement.summary;
    if summary.kind != StatementKind::Reindex || summary.concurrently {
        return Vec::new();
    }
    let what = summary.actions.first().map(String::as_str).unwrap_or("");
    let help = if cx.pg() < 12 {
        "REINDEX CONCURRENTLY needs PostgreSQL 12: CREATE INDEX CONCURRENTLY a copy, DROP INDEX CONCURRENTLY the old \
         index, then rename the copy."
            .to_string()
    } else {
        format!("REINDEX {what} CONCURRENTLY …, alone in a migration that runs outside a transaction.")
    };
    match summary.locks.first() {
        Some(lock) => vec![Hit::new(format!(
            "REINDEX {what} {} without CONCURRENTLY blocks writes (and queries using the index) for the whole rebuild",
            lock.relation
        ))
        .on(&lock.relation)
        .expect(Expect::Lock(lock.mode))
        .help(help)],
        None => {
            vec![Hit::new(format!("REINDEX {what} without CONCURRENTLY rebuilds every index while blocking writes"))
                .help(help)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn advice_depends_on_the_version() {
        let old = hits_on("LS109", 11, "REINDEX TABLE orders;");
        assert!(old[0].help.contains("needs PostgreSQL 12"), "{}", old[0].help);
        assert!(hits("LS109", "REINDEX TABLE orders;")[0].help.contains("REINDEX TABLE CONCURRENTLY"));
        assert!(!fires("LS109", "REINDEX TABLE CONCURRENTLY orders;"));
    }
}
