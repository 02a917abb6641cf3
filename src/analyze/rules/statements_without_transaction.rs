//! LS103: several statements and no BEGIN/COMMIT around them.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS103",
    name: "statements-without-transaction",
    severity: Severity::Low,
    kind: RuleKind::Static,
    size_matters: false,
    title: "Several statements not wrapped in a transaction",
    trigger: "A script has more than one statement that changes something, not all of them guarded with IF [NOT] \
              EXISTS, no BEGIN … COMMIT, nothing that must run outside a transaction, and is not declared to run \
              without one.",
    why: "A tool that runs the statements one by one (psql -f without --single-transaction, many deploy \
          scripts) leaves the schema half-changed when a statement fails halfway, and re-running the migration \
          then fails on what already exists.",
    fix: "Wrap the script in BEGIN; … COMMIT; (with SET LOCAL lock_timeout inside), or split it into one \
          migration per change.",
    bad: include_str!("../../../rules/LS103/bad.sql"),
    good: include_str!("../../../rules/LS103/good.sql"),
    check: Check::File(check),
};

fn check(file: &FileCx<'_>) -> Vec<Hit> {
    let statements = file.statements();
    // Only where the runner commits statement by statement (psql -f, goose NO TRANSACTION, …): a
    // tool's transaction or one multi-statement query already makes the file all-or-nothing.
    if !file.model().autocommit()
        || statements.iter().any(|s| s.summary.tx != crate::sql::TxControl::None)
        || statements.iter().any(needs_own_transaction)
    {
        return Vec::new();
    }
    let work: Vec<usize> = (0..statements.len()).filter(|&i| !is_bookkeeping(&statements[i])).collect();
    // Statements guarded with IF [NOT] EXISTS can simply be run again after a partial failure.
    if work.len() < 2 || work.iter().all(|&i| statements[i].summary.if_exists) {
        return Vec::new();
    }
    vec![Hit::new(format!(
        "{} statements without BEGIN/COMMIT, and {} commits each on its own: if one fails, those before it stay \
         applied",
        work.len(),
        file.model().runner.name()
    ))
    .at(work[0])]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn wrapped_guarded_or_single_statements_are_fine() {
        let plain = "-- file: 001_audit.sql\n";
        let two = "INSERT INTO audit_log VALUES (1, 1, 'x');\nALTER TABLE users ADD COLUMN IF NOT EXISTS n text;";
        assert!(fires("LS103", &format!("{plain}{two}")));
        assert!(!fires("LS103", &format!("{plain}BEGIN;\n{two}\nCOMMIT;")));
        assert!(!fires("LS103", &format!("{plain}SET lock_timeout = '1s';\nALTER TABLE users ADD COLUMN n text;")));
        assert!(!fires(
            "LS103",
            &format!("{plain}CREATE TABLE IF NOT EXISTS a (x int);\nCREATE TABLE IF NOT EXISTS b (x int);")
        ));
        // golang-migrate sends the file as one query: one implicit transaction, all or nothing.
        assert!(!fires("LS103", two));
    }
}
