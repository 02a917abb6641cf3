//! LS123: a backfill (UPDATE/DELETE/INSERT … SELECT) in the same transaction as DDL on its table.

use super::prelude::*;
use crate::analyze::context::same_relation;

pub const RULE: Rule = Rule {
    id: "LS123",
    name: "backfill-in-ddl-transaction",
    severity: Severity::High,
    kind: RuleKind::Static,
    size_matters: true,
    title: "Backfill in the same transaction as DDL on the same table",
    trigger: "UPDATE, DELETE, MERGE or INSERT … SELECT on a table, in the same transaction (same script, no COMMIT \
              between) as an ALTER TABLE, CREATE INDEX or other DDL that takes a write-blocking lock on it.",
    why: "Locks last until the transaction ends. DDL first: its lock (usually ACCESS EXCLUSIVE: no reads, no \
          writes) is held while every row is changed. Backfill first: its row locks are held while the DDL waits \
          for its lock and then runs.",
    fix: "Run the DDL in one migration and the backfill in another (batched, each batch its own transaction).",
    bad: include_str!("../../../rules/LS123/bad.sql"),
    good: include_str!("../../../rules/LS123/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let backfill = match cx.ast() {
        Some(NodeEnum::UpdateStmt(_) | NodeEnum::DeleteStmt(_) | NodeEnum::MergeStmt(_)) => true,
        Some(NodeEnum::InsertStmt(insert)) => match insert.select_stmt.as_ref().and_then(|s| s.node.as_ref()) {
            Some(NodeEnum::SelectStmt(select)) => select.values_lists.is_empty(),
            _ => false,
        },
        _ => false,
    };
    if !backfill {
        return Vec::new();
    }
    let summary = &cx.statement.summary;
    let Some(target) = summary.locks.iter().find(|l| l.mode == LockMode::RowExclusive).map(|l| &l.relation) else {
        return Vec::new();
    };
    let statements = cx.file.statements();
    for (index, other) in statements.iter().enumerate() {
        if index == cx.index
            || !cx.file.same_transaction(index, cx.index)
            || other.summary.kind == StatementKind::LockTable
        {
            continue;
        }
        let Some(lock) =
            other.summary.locks.iter().find(|l| {
                l.mode.blocks_writes() && l.mode != LockMode::RowExclusive && same_relation(&l.relation, target)
            })
        else {
            continue;
        };
        use StatementKind::{Delete, Insert, Merge, Select, Update};
        if matches!(other.summary.kind, Insert | Update | Delete | Merge | Select) {
            continue;
        }
        let (message, severity) =
            if index < cx.index {
                (
                    format!(
                    "{} {target} runs in the same transaction as the {} at line {}: its {} on {target} is held while \
                     every row is changed",
                    summary.kind, other.summary.kind, other.line, lock.mode.sql_name()
                ),
                    Severity::High,
                )
            } else {
                (
                    format!(
                        "{} {target} runs in the same transaction as the {} at line {}: the changed rows stay locked \
                     while the DDL waits for {} on {target} and runs",
                        summary.kind,
                        other.summary.kind,
                        other.line,
                        lock.mode.sql_name()
                    ),
                    Severity::Medium,
                )
            };
        let mut hit = Hit::new(message).on(target).severity(severity);
        if let Some(ddl) = cx.file.traces.get(index).copied().flatten().filter(|t| t.executed) {
            let seen: Vec<String> = ddl
                .locks
                .iter()
                .filter(|l| l.mode >= lock.mode && crate::analyze::context::traced_is(target, &l.relation))
                .map(|l| format!("line {} took {} on {}", other.line, l.mode, l.relation))
                .collect();
            if !seen.is_empty() {
                hit = hit.verdict(Status::Confirmed, seen);
            }
        }
        return vec![hit];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn order_sets_the_severity_and_plain_inserts_are_fine() {
        use crate::analyze::Severity;
        let ddl_first = hits(
            "LS123",
            "BEGIN;\nALTER TABLE users ADD COLUMN t text;\nUPDATE users SET t = 'x' WHERE id < 10;\nCOMMIT;",
        );
        assert_eq!(ddl_first[0].severity, Severity::High);
        let dml_first = hits(
            "LS123",
            "BEGIN;\nUPDATE users SET name = 'x' WHERE id < 10;\nCREATE INDEX i ON users (name);\nCOMMIT;",
        );
        assert_eq!(dml_first[0].severity, Severity::Medium);
        assert!(!fires(
            "LS123",
            "BEGIN;\nALTER TABLE audit_log ADD COLUMN t text;\nINSERT INTO audit_log VALUES (1, 1, 'x');\nCOMMIT;"
        ));
        assert!(!fires(
            "LS123",
            "UPDATE users SET name = 'x' WHERE id < 10;\nCOMMIT;\nALTER TABLE users ADD COLUMN t text;"
        ));
    }
}
