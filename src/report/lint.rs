//! The `lint` report: findings per migration script as text, or the JSON document.

use std::fmt::Write;

use serde::Serialize;

use super::{findings, Format};
use crate::analyze::lint::LintReport;
use crate::analyze::Finding;
use crate::locks::LockMode;
use crate::sql::ObjectKind;

/// Renders the lint report in `format` (`color`: ANSI styling for the terminal).
pub fn render(report: &LintReport, format: Format, color: bool) -> String {
    match format {
        Format::Json => json(report),
        // The other formats go through `Subject` (see `report::render`).
        _ => table(report, color),
    }
}

/// The terminal report.
pub fn table(report: &LintReport, color: bool) -> String {
    let mut out = String::new();
    let statements: usize = report.scripts.iter().map(|s| s.statements.len()).sum();
    let config = report.config.as_ref().map(|p| format!(" — config {}", p.display())).unwrap_or_default();
    let _ = writeln!(
        out,
        "lockscope lint — judged for PostgreSQL {} — {} script{}, {statements} statement{}{config}",
        report.pg_version,
        report.scripts.len(),
        if report.scripts.len() == 1 { "" } else { "s" },
        if statements == 1 { "" } else { "s" },
    );
    let mut models: Vec<crate::source::ExecutionModel> = Vec::new();
    for script in &report.scripts {
        if !models.contains(&script.model) {
            models.push(script.model);
        }
    }
    for model in models {
        let _ = writeln!(out, "{}", model.describe());
    }
    for script in &report.scripts {
        let found: Vec<&Finding> = script.findings.all().collect();
        if found.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", script.path.display());
        for finding in found {
            out.push_str(&findings::render(finding, findings::Place::Line, false, color));
        }
    }
    let _ = writeln!(out, "\n{}", findings::summary(report.findings()));
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    mode: &'static str,
    pg_version: u32,
    config: Option<String>,
    notes: &'a [String],
    migrations: Vec<Script<'a>>,
    findings: Vec<&'a Finding>,
}

#[derive(Serialize)]
struct Script<'a> {
    path: String,
    version: &'a str,
    name: &'a str,
    direction: crate::source::Direction,
    /// How the migration's own tool runs the file.
    execution: crate::source::ExecutionModel,
    /// Findings about the file as a whole.
    findings: &'a [Finding],
    statements: Vec<Statement<'a>>,
}

#[derive(Serialize)]
struct Statement<'a> {
    index: usize,
    line: usize,
    column: usize,
    sql: &'a str,
    kind: &'a str,
    actions: &'a [String],
    executed: bool,
    locks: Vec<Lock>,
    findings: &'a [Finding],
}

#[derive(Serialize)]
struct Lock {
    relation: String,
    relkind: ObjectKind,
    mode: LockMode,
    source: &'static str,
}

/// The JSON document: the shape of `check`'s (schema_version 1), with `mode: "lint"`, the judged
/// `pg_version`, and each statement's documented locks (`source: "static"`).
pub fn json(report: &LintReport) -> String {
    let migrations = report
        .scripts
        .iter()
        .map(|script| Script {
            path: script.path.display().to_string(),
            version: &script.version,
            name: &script.name,
            direction: script.direction,
            execution: script.model,
            findings: &script.findings.file,
            statements: script
                .statements
                .iter()
                .map(|s| Statement {
                    index: s.index,
                    line: s.line,
                    column: s.column,
                    sql: &s.sql,
                    kind: s.summary.kind.as_str(),
                    actions: &s.summary.actions,
                    executed: false,
                    locks: s
                        .summary
                        .locks
                        .iter()
                        .map(|l| Lock {
                            relation: l.relation.to_string(),
                            relkind: l.kind,
                            mode: l.mode,
                            source: "static",
                        })
                        .collect(),
                    findings: script.findings.statements.get(s.index).map_or(&[][..], Vec::as_slice),
                })
                .collect(),
        })
        .collect();
    let document = Document {
        schema_version: super::json::SCHEMA_VERSION,
        mode: "lint",
        pg_version: report.pg_version,
        config: report.config.as_ref().map(|p| p.display().to_string()),
        notes: &report.notes,
        migrations,
        findings: report.findings().collect(),
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the report is plain data");
    text.push('\n');
    text
}
