//! LS104: a statement PostgreSQL refuses inside a transaction block, inside one.

use super::prelude::*;
use crate::sql::Execution;

pub const RULE: Rule = Rule {
    id: "LS104",
    name: "concurrently-in-transaction",
    severity: Severity::Critical,
    kind: RuleKind::Static,
    size_matters: false,
    title: "CONCURRENTLY (or VACUUM, …) inside a transaction",
    trigger: "CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION … CONCURRENTLY, VACUUM and \
              the like, written between BEGIN and COMMIT, or in a script with other statements (tools wrap a \
              script in one transaction, and PostgreSQL runs a multi-statement query as one implicit transaction).",
    why: "PostgreSQL refuses it: ERROR: … cannot run inside a transaction block. The deploy stops at this \
          migration.",
    fix: "Put the statement alone in its own migration, declared to run outside a transaction (e.g. \
          golang-migrate: one statement per file; dbmate: transaction:false).",
    bad: include_str!("../../../rules/LS104/bad.sql"),
    good: include_str!("../../../rules/LS104/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Execution::NotInTransaction { reason } = &cx.statement.summary.execution else { return Vec::new() };
    if cx.file.in_explicit_block(cx.index) {
        return vec![Hit::new(format!("inside BEGIN … COMMIT, PostgreSQL refuses it: {reason}"))];
    }
    let others = cx.file.statements().len() - 1;
    if cx.file.subject.no_transaction || others == 0 {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "shares its script with {others} other statement(s): run as one transaction (by the tool, or as one \
         multi-statement query), PostgreSQL refuses it: {reason}"
    ))
    .severity(Severity::High)]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn alone_or_declared_outside_a_transaction_is_fine() {
        assert!(!fires("LS104", "VACUUM users;"));
        let found = hits("LS104", "SET lock_timeout = '1s';\nDROP INDEX CONCURRENTLY IF EXISTS i;");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, crate::analyze::Severity::High);
    }
}
