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
    if !cx.file.in_transaction_block(cx.index) {
        return Vec::new();
    }
    // Judged as the runner sends the file (source/runner.rs): its own transaction, or the whole
    // file as one multi-statement query, which PostgreSQL runs as one implicit transaction.
    let model = cx.file.model();
    let others = cx.file.statements().len() - 1;
    let (how, severity) = match model.wrapping {
        crate::source::Wrapping::ToolTransaction => {
            (format!("{} runs the whole file inside its own transaction", model.runner.name()), Severity::Critical)
        }
        _ => (
            format!(
                "{} sends the file as one multi-statement query with {others} other statement(s): one implicit \
                 transaction",
                model.runner.name()
            ),
            Severity::High,
        ),
    };
    vec![Hit::new(format!("{how}, and PostgreSQL refuses it there: {reason}")).severity(severity)]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn alone_or_declared_outside_a_transaction_is_fine() {
        assert!(!fires("LS104", "VACUUM users;"));
        // golang-migrate (the examples' default layout) sends the file as one query.
        let found = hits("LS104", "SET lock_timeout = '1s';\nDROP INDEX CONCURRENTLY IF EXISTS i;");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, crate::analyze::Severity::High);
        // The same statements as a plain file, run as psql -f runs it: each commits on its own.
        let plain = "-- file: 001_drop_index.sql\nSET lock_timeout = '1s';\nDROP INDEX CONCURRENTLY IF EXISTS i;";
        assert!(!fires("LS104", plain));
        // goose wraps every migration in a transaction unless it says NO TRANSACTION.
        let goose = "-- file: 001_idx.sql\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (x);\n";
        assert_eq!(hits("LS104", goose)[0].severity, crate::analyze::Severity::Critical);
        let goose_nt =
            "-- file: 001_idx.sql\n-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (x);\n";
        assert!(!fires("LS104", goose_nt));
    }
}
