//! The JSON report, versioned by `schema_version` (docs/ARCHITECTURE.md, "JSON contracts").

use serde::Serialize;

use super::{CheckReport, MigrationView, Scope, StatementView, Subject};
use crate::analyze::impact::StatementImpact;
use crate::analyze::{Finding, ReversibilityDifference};
use crate::source::{Direction, ExecutionModel};
use crate::trace::{MigrationLock, Mode, Outcome, ScriptFailure, ServerInfo, StatementTrace};

/// Bumped when a field is renamed or removed; adding fields keeps it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    server: &'a ServerInfo,
    mode: Mode,
    target: &'a str,
    outcome: &'a Outcome,
    notes: &'a [String],
    migrations: Vec<Migration<'a>>,
    findings: Vec<&'a Finding>,
    /// What pending detection decided from the migration tool's ledger (absent without a target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<&'a crate::ledger::PendingReport>,
    /// `--isolate`: the schema-only copy the exact locks were observed on.
    #[serde(skip_serializing_if = "Option::is_none")]
    isolation: Option<&'a crate::trace::IsolationReport>,
    /// `--git-diff`: the reference compared with, and the migrations applied only for context.
    #[serde(skip_serializing_if = "Option::is_none")]
    git_diff: Option<&'a Scope>,
}

/// A migration as the contract prints it: its observation with its judged fields in their
/// places (`execution` and `lock_hold_ms` after `transaction_ms`, findings in each statement).
#[derive(Serialize)]
struct Migration<'a> {
    path: &'a str,
    version: &'a str,
    name: &'a str,
    direction: Direction,
    statements: Vec<Statement<'a>>,
    transaction_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    execution: Option<ExecutionModel>,
    lock_hold_ms: Option<f64>,
    locks: &'a [MigrationLock],
    #[serde(skip_serializing_if = "Option::is_none")]
    reversibility: Option<Reversibility<'a>>,
    /// Applied only so later migrations see the right schema (`--git-diff`); not judged.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    context: bool,
}

/// A statement as the contract prints it: what was observed, then what was concluded.
#[derive(Serialize)]
struct Statement<'a> {
    #[serde(flatten)]
    observed: &'a StatementTrace,
    findings: &'a [Finding],
    lock_hold_ms: Option<f64>,
    runner_transaction: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact: Option<&'a StatementImpact>,
}

/// `--reversible` as the contract prints it: the round trip observed, with its differences.
#[derive(Serialize)]
struct Reversibility<'a> {
    skipped: &'a Option<String>,
    missing_down: bool,
    down_path: &'a Option<String>,
    down: Vec<Statement<'a>>,
    down_failed: &'a Option<ScriptFailure>,
    reapply_failed: &'a Option<ScriptFailure>,
    differences: &'a [ReversibilityDifference],
    data_not_compared: &'a [String],
}

fn statement<'a>(view: &StatementView<'a>) -> Statement<'a> {
    Statement {
        observed: view.trace,
        findings: view.findings,
        lock_hold_ms: view.lock_hold_ms,
        runner_transaction: view.runner_transaction,
        impact: view.impact.as_ref(),
    }
}

fn migration<'a>(view: &MigrationView<'a>, context: bool) -> Migration<'a> {
    let trace = view.trace;
    Migration {
        path: &trace.path,
        version: &trace.version,
        name: &trace.name,
        direction: trace.direction,
        statements: view.statements.iter().map(statement).collect(),
        transaction_ms: trace.transaction_ms,
        execution: view.execution,
        lock_hold_ms: view.lock_hold_ms,
        locks: &trace.locks,
        reversibility: trace.reversibility.as_ref().map(|round_trip| Reversibility {
            skipped: &round_trip.skipped,
            missing_down: round_trip.missing_down,
            down_path: &round_trip.down_path,
            down: round_trip.down.iter().map(|s| statement(&StatementView::unjudged(s))).collect(),
            down_failed: &round_trip.down_failed,
            reapply_failed: &round_trip.reapply_failed,
            differences: view.reversibility,
            data_not_compared: &round_trip.data_not_compared,
        }),
        context,
    }
}

/// The whole report as one pretty-printed JSON document.
pub fn render(check: &CheckReport<'_>, subject: &Subject<'_>) -> String {
    let trace = check.trace;
    let report = Report {
        schema_version: SCHEMA_VERSION,
        server: &trace.server,
        mode: trace.mode,
        target: &trace.target,
        outcome: &trace.outcome,
        notes: &check.notes,
        migrations: subject
            .migrations
            .iter()
            .enumerate()
            .map(|(index, view)| migration(view, subject.context.get(index).copied().unwrap_or(false)))
            .collect(),
        findings: subject.findings(),
        pending: check.pending,
        isolation: check.isolation,
        git_diff: subject.scope.as_ref(),
    };
    let mut text = serde_json::to_string_pretty(&report).expect("the report is plain data");
    text.push('\n');
    text
}
