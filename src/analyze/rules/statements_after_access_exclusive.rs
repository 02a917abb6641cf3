//! LS125: more work after ACCESS EXCLUSIVE was taken, in the same transaction.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: "LS125",
    name: "statements-after-access-exclusive",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: false,
    title: "More statements after taking ACCESS EXCLUSIVE in the same transaction",
    trigger: "A statement takes ACCESS EXCLUSIVE on an existing table and other statements that do work follow it \
              in the same transaction. Reported once per transaction.",
    why: "ACCESS EXCLUSIVE is held until the transaction ends, not until the statement does: every later \
          statement — another ALTER, a backfill, a CREATE INDEX on another table — extends the time every query on \
          the first table waits.",
    fix: "Take ACCESS EXCLUSIVE last, or alone: merge ALTER TABLE sub-commands on the same table into one statement \
          (ALTER TABLE t ADD …, ADD …), and move unrelated changes into migrations of their own.",
    bad: include_str!("../../../rules/LS125/bad.sql"),
    good: include_str!("../../../rules/LS125/good.sql"),
    check: Check::File(check),
};

fn check(file: &FileCx<'_>) -> Vec<Hit> {
    let statements = file.statements();
    let mut hits = Vec::new();
    let mut reported: Vec<usize> = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        if needs_own_transaction(statement) || reported.iter().any(|&r| file.same_transaction(r, index)) {
            continue;
        }
        let Some(lock) = statement
            .summary
            .locks
            .iter()
            .find(|l| l.mode == LockMode::AccessExclusive && file.existing(&l.relation, index))
        else {
            continue;
        };
        let later: Vec<usize> = (index + 1..statements.len())
            .filter(|&j| file.same_transaction(index, j) && !is_bookkeeping(&statements[j]))
            .collect();
        if later.is_empty() {
            continue;
        }
        reported.push(index);
        let lines: Vec<String> = later.iter().map(|&j| statements[j].line.to_string()).collect();
        let mut hit = Hit::new(format!(
            "ACCESS EXCLUSIVE on {} taken here is held while {} more statement(s) run (line {}): every query on {} \
             waits for all of them",
            lock.relation,
            later.len(),
            lines.join(", "),
            lock.relation
        ))
        .on(&lock.relation)
        .expect(Expect::Lock(LockMode::AccessExclusive))
        .at(index);
        if let Some(trace) = file.traces[index].filter(|t| t.executed && t.error.is_none()) {
            let mut seen: Vec<String> = trace
                .locks
                .iter()
                .filter(|l| {
                    l.mode == LockMode::AccessExclusive
                        && crate::analyze::context::traced_is(&lock.relation, &l.relation)
                })
                .map(|l| format!("{} on {}", l.mode, l.relation))
                .collect();
            let extra: f64 = later.iter().filter_map(|&j| file.traces[j].and_then(|t| t.duration_ms)).sum();
            if !seen.is_empty() {
                seen.push(format!("held {extra:.1} ms longer while the later statements ran"));
                hit = hit.verdict(Status::Confirmed, seen);
            }
        }
        hits.push(hit);
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn last_statement_or_own_transactions_are_fine() {
        assert!(!fires("LS125", "SET lock_timeout = '1s';\nUPDATE users SET status = 'x' WHERE id = 1;\nALTER TABLE users ADD COLUMN y int;"));
        assert_eq!(hits("LS125", "BEGIN;\nALTER TABLE users ADD COLUMN y int;\nALTER TABLE users ADD COLUMN z int;\nALTER TABLE orders ADD COLUMN z int;\nCOMMIT;").len(), 1);
    }
}
