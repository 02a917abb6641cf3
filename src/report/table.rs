//! The terminal report: one table per migration, ACCESS EXCLUSIVE locks and rewrites marked so
//! they can't be missed.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

use super::{Scope, Subject};
use crate::locks::LockMode;
use crate::trace::{LockSource, Mode, Outcome, StatementTrace, Trace};
use crate::units::format_ms;

const STATEMENT_WIDTH: usize = 60;

/// Renders the report for a terminal (`color` adds ANSI styling). `subject` says which
/// migrations were only applied for context (`--git-diff`).
pub fn render(trace: &Trace, subject: &Subject<'_>, color: bool) -> String {
    let mut out = String::new();
    let mode = match trace.mode {
        Mode::DryRun => "dry-run (one transaction, rolled back)",
        Mode::Scratch => "scratch (embedded throwaway database, each migration committed)",
    };
    let _ = writeln!(out, "lockscope check — PostgreSQL {} — {} — {}", trace.server.version, trace.target, mode);
    if let Some(scope) = &subject.scope {
        let _ = writeln!(out, "{}", scope_line(scope));
    }
    for model in crate::report::subject::models(&subject.migrations) {
        let _ = writeln!(out, "{}", model.describe());
    }
    for (index, migration) in subject.migrations.iter().enumerate() {
        let _ = writeln!(out);
        // As the runner holds them (analyze::hold), not to the dry-run's own final rollback.
        let held = migration.lock_hold_ms.map(|ms| format!(", locks held {}", format_ms(ms))).unwrap_or_default();
        let context = if subject.context.get(index).copied().unwrap_or(false) {
            " — context: applied so later migrations see the right schema, not judged"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{} ({} {}{held}){context}",
            migration.path,
            migration.version,
            direction(migration.direction),
        );
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled);
        if !color {
            table.force_no_tty();
        } else {
            table.enforce_styling();
        }
        table.set_header(vec!["line", "statement", "locks", "rewrites", "scans (rows)", "time", "waits / queue"]);
        for statement in &migration.statements {
            table.add_row(row(statement, color));
        }
        let _ = writeln!(out, "{table}");
    }

    let findings = subject.findings();
    if !findings.is_empty() {
        let _ = writeln!(out, "\nFindings ({}):", crate::report::findings::summary(findings.iter().copied()));
        for finding in findings {
            out.push_str(&crate::report::findings::render(
                finding,
                crate::report::findings::Place::PathAndLine,
                true,
                color,
            ));
        }
    }
    for note in subject.notes() {
        let _ = writeln!(out, "\nnote: {note}");
    }
    if let Outcome::Failed { path, line, message, .. } = &trace.outcome {
        let _ = writeln!(
            out,
            "\nFAILED at {path}:{line}: {message}\nEverything was rolled back; later statements were not run."
        );
    }
    out
}

/// `--git-diff`: what the report covers, in one line.
pub fn scope_line(scope: &Scope) -> String {
    let mut line = format!("Migrations added or changed since {}", scope.base);
    if !scope.context.is_empty() {
        line.push_str(&format!(
            "; {} earlier pending migration{} applied first for context, not judged",
            scope.context.len(),
            super::subject::plural(scope.context.len())
        ));
    }
    if !scope.skipped.is_empty() {
        line.push_str(&format!(
            "; {} changed migration{} already applied on the target, not run: {}",
            scope.skipped.len(),
            super::subject::plural(scope.skipped.len()),
            scope.skipped.join(", ")
        ));
    }
    line.push('.');
    line
}

fn direction(direction: crate::source::Direction) -> &'static str {
    match direction {
        crate::source::Direction::Up => "up",
        crate::source::Direction::Down => "down",
    }
}

fn row(statement: &StatementTrace, color: bool) -> Vec<Cell> {
    let exclusive = statement.strongest_lock() == Some(LockMode::AccessExclusive);
    let locks: Vec<String> = statement
        .locks
        .iter()
        .map(|lock| {
            let marker = if lock.mode == LockMode::AccessExclusive { "‼ " } else { "" };
            let inferred = if lock.source == LockSource::Inferred { " (inferred)" } else { "" };
            format!("{marker}{} {}{inferred}", lock.mode.pg_name(), lock.relation)
        })
        .chain(statement.other_locks.iter().map(|lock| format!("{} on {} {}", lock.mode, lock.locktype, lock.object)))
        .collect();
    let rewrites: Vec<String> =
        statement.rewrites.iter().map(|r| format!("‼ {} ({})", r.relation, r.relkind)).collect();
    let scans: Vec<String> = statement
        .scans
        .iter()
        .map(|s| match s.scans {
            1 => format!("{} ({})", s.relation, s.rows),
            n => format!("{} ({} in {n} scans)", s.relation, s.rows),
        })
        .collect();
    let time = match (statement.executed, statement.duration_ms) {
        (true, Some(ms)) => format_ms(ms),
        _ => "not run".to_string(),
    };
    let mut waits: Vec<String> = statement
        .waits
        .iter()
        .map(|w| {
            let pids: Vec<String> = w.blockers.iter().map(|b| b.pid.to_string()).collect();
            format!(
                "waited {} for {} on {} (blocked by pid {})",
                format_ms(w.waited_ms),
                w.mode,
                w.relation,
                pids.join(", ")
            )
        })
        .collect();
    if statement.queue.max_waiting > 0 {
        waits.push(format!(
            "{} session(s) queued behind, longest {}",
            statement.queue.max_waiting,
            format_ms(statement.queue.longest_wait_ms)
        ));
    }
    if let Some(error) = &statement.error {
        waits.push(format!("ERROR: {}", error.message));
    }
    let mut text = first_line(&statement.sql);
    if let Some(reason) = &statement.not_executed_reason {
        if !statement.executed {
            text.push_str(&format!("\n({reason})"));
        }
    }

    let mut locks_cell = Cell::new(dash_if_empty(locks));
    let mut rewrites_cell = Cell::new(dash_if_empty(rewrites));
    if color && exclusive {
        locks_cell = locks_cell.fg(Color::Red).add_attribute(Attribute::Bold);
    }
    if color && !statement.rewrites.is_empty() {
        rewrites_cell = rewrites_cell.fg(Color::Red).add_attribute(Attribute::Bold);
    }
    let mut waits_cell = Cell::new(dash_if_empty(waits));
    if color && (statement.error.is_some() || !statement.waits.is_empty()) {
        waits_cell = waits_cell.fg(Color::Yellow);
    }
    vec![
        Cell::new(statement.line),
        Cell::new(text),
        locks_cell,
        rewrites_cell,
        Cell::new(dash_if_empty(scans)),
        Cell::new(time),
        waits_cell,
    ]
}

fn dash_if_empty(lines: Vec<String>) -> String {
    if lines.is_empty() {
        "–".to_string()
    } else {
        lines.join("\n")
    }
}

/// The statement's first line, shortened to fit the column.
fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or_default().trim();
    let more = sql.lines().count() > 1;
    if line.chars().count() > STATEMENT_WIDTH {
        let cut: String = line.chars().take(STATEMENT_WIDTH - 1).collect();
        format!("{cut}…")
    } else if more {
        format!("{line} …")
    } else {
        line.to_string()
    }
}
