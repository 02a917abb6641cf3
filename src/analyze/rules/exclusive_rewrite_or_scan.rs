//! LS001: the trace saw ACCESS EXCLUSIVE held while a non-empty table was rewritten or read in
//!
//! Trace-only: its tests run against a real server (tests/rules_examples.rs, tests/check_trace.rs).
//! full — the default gate of `lockscope check`.

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: crate::analyze::EXCLUSIVE_REWRITE_OR_SCAN,
    name: "exclusive-rewrite-or-scan",
    severity: Severity::High,
    kind: RuleKind::TraceOnly,
    size_matters: true,
    title: "ACCESS EXCLUSIVE held while a non-empty table is rewritten or fully scanned",
    trigger: "The trace saw the statement hold ACCESS EXCLUSIVE on a table while it replaced the table's storage \
              (relfilenode changed) or read every row of it (sequential scan), and the table has rows.",
    why: "ACCESS EXCLUSIVE conflicts with every other lock, SELECT included: every query on the table queues for \
          as long as the rewrite or scan takes, which grows with the table, and until the transaction ends.",
    fix: "Avoid the rewrite or scan under ACCESS EXCLUSIVE: add constraints NOT VALID and VALIDATE them separately, \
          use SET NOT NULL after a validated CHECK (col IS NOT NULL), build indexes CONCURRENTLY, and choose type \
          changes PostgreSQL can make without a rewrite; always set lock_timeout first.",
    bad: include_str!("../../../rules/LS001/bad.sql"),
    good: include_str!("../../../rules/LS001/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some(statement) = cx.trace else { return Vec::new() };
    let exclusive: Vec<&str> = statement
        .locks
        .iter()
        .filter(|lock| lock.mode == LockMode::AccessExclusive)
        .map(|lock| lock.relation.as_str())
        .collect();
    if exclusive.is_empty() {
        return Vec::new();
    }
    // Rewrites and scans of the tables themselves (not their indexes) that hold rows.
    let mut heavy = Vec::new();
    let mut relation = None;
    for rewrite in &statement.rewrites {
        let table = rewrite.relation.trim_end_matches(" (TOAST)");
        // A rewrite reads the table once more per index it rebuilds, so prefer the estimate.
        let scan = statement.scans.iter().find(|s| s.relation == rewrite.relation);
        let rows_read = scan.map_or(0, |s| s.rows / s.scans.max(1));
        let rows = if rewrite.rows_estimate > 0.0 { rewrite.rows_estimate as i64 } else { rows_read };
        if rewrite.relkind == "table" && rows > 0 && exclusive.contains(&table) {
            heavy.push(format!("rewrites {} (~{rows} rows)", rewrite.relation));
            relation.get_or_insert(table);
        }
    }
    for scan in &statement.scans {
        let rewritten = statement.rewrites.iter().any(|r| r.relation == scan.relation);
        if scan.rows > 0 && !rewritten && exclusive.contains(&scan.relation.as_str()) {
            heavy.push(format!("scans all {} rows of {}", scan.rows, scan.relation));
            relation.get_or_insert(scan.relation.as_str());
        }
    }
    let Some(relation) = relation else { return Vec::new() };
    let message = format!(
        "holds ACCESS EXCLUSIVE on {} while it {}: every read and write of the table queues until the transaction ends",
        exclusive.join(", "),
        heavy.join(" and ")
    );
    let hit = Hit::new(message).verdict(Status::TraceOnly, heavy);
    match relation.split_once('.') {
        Some((schema, name)) => vec![hit.on(&RelationName::new(Some(schema), name))],
        None => vec![hit],
    }
}
