//! Statements that run or plan other statements, or code lockscope cannot see: `EXPLAIN`,
//! `PREPARE`, `DECLARE CURSOR`, `EXECUTE`, `DO`, `CALL`.

use pg_query::protobuf as pb;
use pg_query::NodeEnum;

use crate::sql::functions::forbidden_function;
use crate::sql::summary::{def_elem_enabled, strings, summarize, Builder};
use crate::sql::{Execution, StatementKind as K};

pub(super) fn describe_execute(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::ExplainStmt(s) => explain(b, s),
        NodeEnum::PrepareStmt(s) => {
            b.kind(K::Prepare);
            // Preparing analyses the query, which takes its locks without running it.
            lock_like(b, s.query.as_deref());
        }
        NodeEnum::DeclareCursorStmt(s) => {
            b.kind(K::DeclareCursor);
            lock_like(b, s.query.as_deref());
        }
        NodeEnum::ExecuteStmt(_) => {
            b.kind(K::Execute);
            b.opaque = true;
        }
        NodeEnum::DoStmt(_) => {
            b.kind(K::Do);
            b.opaque = true;
        }
        NodeEnum::CallStmt(s) => call(b, s),
        _ => return false,
    }
    true
}

/// `EXPLAIN`: the inner statement's targets and locks; only `ANALYZE` runs it, and then what
/// keeps the inner statement from running keeps the `EXPLAIN` too.
fn explain(b: &mut Builder, s: &pb::ExplainStmt) {
    let Some(inner) = s.query.as_ref().and_then(|q| q.node.as_ref()) else {
        return;
    };
    let analyze = s.options.iter().any(|o| def_elem_enabled(o, "analyze"));
    let inner = summarize(inner);
    b.kind(K::Explain);
    b.action(inner.kind.as_str());
    inner.targets.into_iter().for_each(|t| b.target(t));
    inner.locks.into_iter().for_each(|l| b.lock(l.relation, l.kind, l.mode));
    // Plain EXPLAIN plans without running: only ANALYZE executes the statement.
    if analyze {
        b.opaque = inner.opaque;
        match inner.execution {
            Execution::Forbidden { reason } => b.forbid(reason),
            Execution::NotInTransaction { reason } => b.not_in_transaction(&reason),
            Execution::InTransaction => {}
        }
    }
}

/// The locks the inner query of `PREPARE` / `DECLARE CURSOR` takes.
fn lock_like(b: &mut Builder, query: Option<&pb::Node>) {
    if let Some(inner) = query.and_then(|q| q.node.as_ref()) {
        let inner = summarize(inner);
        inner.locks.into_iter().for_each(|l| b.lock(l.relation, l.kind, l.mode));
    }
}

/// `CALL procedure(…)`: opaque, and forbidden when the procedure is one of the forbidden functions.
fn call(b: &mut Builder, s: &pb::CallStmt) {
    b.kind(K::Call);
    b.opaque = true;
    if let Some(call) = &s.funccall {
        if let Some(reason) = strings(&call.funcname).last().and_then(|name| forbidden_function(name)) {
            b.forbid(reason);
        }
    }
}
