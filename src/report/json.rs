//! The JSON report, versioned by `schema_version` (DESIGN.md, "Contracts others rely on").

use serde::Serialize;

use crate::analyze;
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
    migrations: &'a [MigrationTrace],
    findings: Vec<&'a Finding>,
}

/// The whole trace as one pretty-printed JSON document.
pub fn render(trace: &Trace) -> String {
    let report = Report {
        schema_version: SCHEMA_VERSION,
        server: &trace.server,
        mode: trace.mode,
        target: &trace.target,
        outcome: &trace.outcome,
        notes: &trace.notes,
        migrations: &trace.migrations,
        findings: analyze::all_findings(trace),
    };
    let mut text = serde_json::to_string_pretty(&report).expect("the report is plain data");
    text.push('\n');
    text
}
