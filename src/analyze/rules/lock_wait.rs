//! LS002: the trace had to wait for a lock another session held.
//!
//! Trace-only: its tests run against a real server (tests/rules_examples.rs, tests/check_trace.rs).

use super::prelude::*;

pub const RULE: Rule = Rule {
    id: crate::analyze::LOCK_WAIT,
    name: "lock-wait",
    severity: Severity::Medium,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "The statement waited for a lock another session held",
    trigger: "While the statement ran, the sampling session saw the tracing backend wait for a lock \
              (pg_locks.granted = false) held by another session.",
    why: "A waiting lock request joins the lock queue: every later request that conflicts with it (for ACCESS \
          EXCLUSIVE, every query on the table) queues behind it, so one long transaction elsewhere stalls all \
          traffic on the table for as long as the migration waits.",
    fix: "Run the migration with a short lock_timeout and retry, so it gives up instead of queueing every \
          other session behind it.",
    bad: include_str!("../../../rules/LS002/bad.sql"),
    good: include_str!("../../../rules/LS002/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let Some(statement) = cx.trace else { return Vec::new() };
    statement
        .waits
        .iter()
        .map(|wait| {
            let blockers: Vec<String> = wait
                .blockers
                .iter()
                .map(|b| format!("pid {} ({})", b.pid, b.state.as_deref().unwrap_or("unknown state")))
                .collect();
            let held_by = if blockers.is_empty() { "another session".to_string() } else { blockers.join(", ") };
            let message =
                format!("waited {:.0} ms for {} on {} held by {held_by}", wait.waited_ms, wait.mode, wait.relation);
            let evidence = vec![format!("waited {:.0} ms", wait.waited_ms)];
            let hit = Hit::new(message).verdict(Status::TraceOnly, evidence);
            match wait.relation.split_once('.') {
                Some((schema, name)) => hit.on(&RelationName::new(Some(schema), name)),
                None => hit,
            }
        })
        .collect()
}
