//! The JSON report, versioned by `schema_version` (DESIGN.md, "Contracts others rely on").

use serde::Serialize;

use super::{Scope, Subject};
use crate::trace::{Finding, MigrationTrace, Mode, Outcome, ServerInfo, Trace};

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

#[derive(Serialize)]
struct Migration<'a> {
    #[serde(flatten)]
    migration: &'a MigrationTrace,
    /// Applied only so later migrations see the right schema (`--git-diff`); not judged.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    context: bool,
}

/// The whole trace as one pretty-printed JSON document.
pub fn render(trace: &Trace, subject: &Subject<'_>) -> String {
    let report = Report {
        schema_version: SCHEMA_VERSION,
        server: &trace.server,
        mode: trace.mode,
        target: &trace.target,
        outcome: &trace.outcome,
        notes: &trace.notes,
        migrations: trace
            .migrations
            .iter()
            .enumerate()
            .map(|(index, migration)| Migration {
                migration,
                context: subject.context.get(index).copied().unwrap_or(false),
            })
            .collect(),
        findings: subject.findings(),
        pending: trace.pending.as_ref(),
        isolation: trace.isolation.as_ref(),
        git_diff: subject.scope.as_ref(),
    };
    let mut text = serde_json::to_string_pretty(&report).expect("the report is plain data");
    text.push('\n');
    text
}
