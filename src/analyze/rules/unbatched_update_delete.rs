//! LS122: UPDATE or DELETE of a whole (big) table in one statement.

use serde_json::Value;

use super::prelude::*;
use pg_query::protobuf::AExprKind;

pub const RULE: Rule = Rule {
    id: "LS122",
    name: "unbatched-update-delete",
    severity: Severity::Medium,
    kind: RuleKind::Static,
    size_matters: true,
    title: "Large UPDATE/DELETE without batching",
    trigger: "UPDATE or DELETE with no WHERE, or a WHERE that bounds nothing (no key range, IN list, LIMIT \
              subquery or comparison), on an existing table. With table sizes (check) it is confirmed when the \
              table has at least `large_table_rows` rows (lockscope.toml, default 100000) and downgraded below.",
    why: "One statement changes every matching row in one transaction: each row stays locked until it commits \
          (concurrent updates of those rows wait), the WAL burst delays replicas, dead tuples pile up, and a \
          failure or lock_timeout throws all the work away.",
    fix: "Backfill in batches of a few thousand rows, each in its own transaction: UPDATE … WHERE id IN (SELECT id \
          … WHERE <not done> ORDER BY id LIMIT 5000), repeated until it updates nothing, ideally outside the \
          schema migration.",
    bad: include_str!("../../../rules/LS122/bad.sql"),
    good: include_str!("../../../rules/LS122/good.sql"),
    check: Check::Statement(check),
};

fn check(cx: &Cx<'_>) -> Vec<Hit> {
    let (verb, relation, where_clause) = match cx.ast() {
        Some(NodeEnum::UpdateStmt(s)) => ("UPDATE", s.relation.as_ref(), s.where_clause.as_deref()),
        Some(NodeEnum::DeleteStmt(s)) => ("DELETE", s.relation.as_ref(), s.where_clause.as_deref()),
        _ => return Vec::new(),
    };
    let Some(table) = relation.map(ast::range_var) else { return Vec::new() };
    if !cx.existing(&table) || where_clause.is_some_and(bounded) {
        return Vec::new();
    }
    let what = if where_clause.is_some() { "with a WHERE that bounds nothing" } else { "without WHERE" };
    let mut hit = Hit::new(format!("{verb} {table} {what}: every matching row changes in one transaction")).on(&table);

    let threshold = cx.config().thresholds.large_table_rows as f64;
    let traced_rows = cx.trace.filter(|t| t.executed && t.error.is_none()).and_then(|t| {
        t.scans
            .iter()
            .filter(|s| crate::analyze::context::traced_is(&table, &s.relation))
            .map(|s| s.rows / s.scans.max(1))
            .max()
    });
    // Only real numbers count: rows a scratch database holds say nothing about production.
    let sizes_from = cx.file.run.sizes_from;
    let traced_rows = traced_rows.filter(|_| sizes_from == Some(crate::analyze::SizeSource::Target));
    let rows = traced_rows
        .map(|r| r as f64)
        .or_else(|| cx.file.run.stats.get(&table).and_then(|s| s.rows()).filter(|_| sizes_from.is_some()));
    if let Some(rows) = rows {
        let seen = format!("{table} has ~{rows:.0} rows (large_table_rows = {threshold:.0})");
        hit = if rows >= threshold {
            hit.verdict(Status::Confirmed, vec![seen]).severity(Severity::High)
        } else {
            hit.verdict(Status::NotObserved, vec![seen])
        };
    }
    vec![hit]
}

/// Whether an expression reads the clock (`now()`, `CURRENT_DATE`, `clock_timestamp()`, …).
fn mentions_clock(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(mentions_clock),
        Value::Object(map) => {
            if map.contains_key("SqlvalueFunction") {
                return true;
            }
            if let Some(Value::Object(call)) = map.get("FuncCall") {
                let clock = ["now", "clock_timestamp", "statement_timestamp", "transaction_timestamp", "timeofday"];
                let named = call
                    .get("funcname")
                    .and_then(Value::as_array)
                    .and_then(|n| n.last())
                    .and_then(|n| n.pointer("/node/String/sval"))
                    .and_then(Value::as_str)
                    .is_some_and(|name| clock.contains(&name));
                if named {
                    return true;
                }
            }
            map.values().any(mentions_clock)
        }
        _ => false,
    }
}

/// Whether a WHERE clause limits the rows by something batch-like: a comparison, a range, an IN
/// list, `= ANY`, or a subquery with LIMIT.
fn bounded(where_clause: &pg_query::protobuf::Node) -> bool {
    fn walk(value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().any(walk),
            Value::Object(map) => {
                if let Some(Value::Object(expr)) = map.get("AExpr") {
                    let kind = expr.get("kind").and_then(Value::as_i64).unwrap_or_default();
                    let operator = expr
                        .get("name")
                        .and_then(|n| n.as_array())
                        .and_then(|n| n.last())
                        .and_then(|n| n.pointer("/node/String/sval"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let ranged = [
                        AExprKind::AexprIn,
                        AExprKind::AexprOpAny,
                        AExprKind::AexprBetween,
                        AExprKind::AexprBetweenSym,
                    ]
                    .iter()
                    .any(|k| *k as i64 == kind);
                    let comparison =
                        kind == AExprKind::AexprOp as i64 && ["<", "<=", ">", ">=", "="].contains(&operator);
                    // `created_at < now() - interval '90 days'` is an age cutoff, not a batch: on a
                    // table that has grown for years it matches most rows in one statement.
                    if comparison && operator != "=" && mentions_clock(value) {
                        return false;
                    }
                    if ranged || comparison {
                        return true;
                    }
                }
                if let Some(Value::Object(select)) = map.get("SelectStmt") {
                    if select.get("limit_count").is_some_and(|l| !l.is_null()) {
                        return true;
                    }
                }
                map.values().any(walk)
            }
            _ => false,
        }
    }
    walk(&serde_json::to_value(where_clause).unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;

    #[test]
    fn bounded_statements_are_fine() {
        assert!(fires("LS122", "DELETE FROM audit_log;"));
        assert!(fires("LS122", "UPDATE users SET status = 'x' WHERE status IS NULL AND NOT false;"));
        assert!(!fires("LS122", "UPDATE users SET status = 'x' WHERE id BETWEEN 1 AND 1000;"));
        assert!(!fires("LS122", "DELETE FROM audit_log WHERE id < 1000;"));
        assert!(!fires("LS122", "UPDATE users SET status = 'x' WHERE id = ANY('{1,2}');"));
        assert!(!fires("LS122", "CREATE TABLE t (a int);\nDELETE FROM t;"));
        // An age cutoff is no batch: it matches every old row at once.
        assert!(fires("LS122", "DELETE FROM orders WHERE created_at < now() - interval '90 days';"));
        assert!(fires("LS122", "DELETE FROM orders WHERE created_at < CURRENT_DATE - 90;"));
        let batched = "DELETE FROM orders WHERE created_at < now() - interval '90 days' AND id < 10000;";
        assert!(!fires("LS122", batched));
    }
}
