//! What every report format renders: a traced `check` or a static `lint`, seen alike, plus the
//! facts the formats share (verdict, per-migration summary, risky statements).

use std::borrow::Cow;

use crate::analyze::{FailOn, Severity};
use crate::lint::LintReport;
use crate::locks::LockMode;
use crate::sql::ObjectKind;
use crate::trace::{
    Finding, LockSource, MigrationTrace, Mode, Outcome, RelationLock, ServerInfo, StatementTrace, Trace,
};

/// Where the report's data came from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// `lockscope check`: the migrations ran and were observed.
    Check(&'a Trace),
    /// `lockscope lint`: judged from the SQL alone.
    Lint(&'a LintReport),
}

/// `--git-diff REF`: which migrations the report is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Scope {
    /// The git reference compared with.
    pub base: String,
    /// Paths of the migrations applied only so the changed ones see the right schema: traced, not judged.
    pub context: Vec<String>,
    /// Paths of migrations that changed but were left out (already applied on the target).
    pub skipped: Vec<String>,
}

/// A check trace or a lint result, as the report formats see it.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub source: Source<'a>,
    /// For lint: one per script, built from the parsed statements (nothing executed, documented locks).
    pub migrations: Cow<'a, [MigrationTrace]>,
    /// `context[i]`: migration `i` was applied for context only (`--git-diff`); its findings do not count.
    pub context: Vec<bool>,
    pub scope: Option<Scope>,
}

/// The three answers a report opens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing at or above `--fail-on`.
    Pass,
    /// Findings at or above `--fail-on` (exit 1).
    Fail,
    /// A migration failed on the server; everything was rolled back (exit 2).
    Error,
}

impl<'a> Subject<'a> {
    /// "12 ms · its locks held 40 ms to the end of the migration · on production ≈ …": how long a
    /// traced statement ran and held its locks, in words, for the detailed report formats.
    pub fn time_words(&self, migration_index: usize, statement: &crate::trace::StatementTrace) -> String {
        let mut time = match (statement.executed, statement.duration_ms) {
            (true, Some(ms)) => crate::report::table::format_ms(ms),
            _ => format!("not run ({})", statement.not_executed_reason.as_deref().unwrap_or("not executed")),
        };
        if let (Some(_), Some(migration), Some(hold)) =
            (self.trace(), self.migrations.get(migration_index), statement.lock_hold_ms)
        {
            time.push_str(&format!(" · its locks held {}", crate::report::table::format_ms(hold)));
            if let Some(model) = migration.execution {
                time.push_str(&format!(" {}", hold_words(model)));
            }
        }
        if let Some(production) = statement.impact.as_ref().and_then(|i| i.production.as_ref()) {
            time.push_str(&format!(
                " · on production ≈ {}, locks held ≈ {} ({})",
                crate::report::table::format_ms(production.duration_ms),
                crate::report::table::format_ms(production.hold_ms),
                production.basis
            ));
        }
        time
    }

    /// A `check` run.
    pub fn check(trace: &'a Trace) -> Self {
        Subject {
            source: Source::Check(trace),
            context: vec![false; trace.migrations.len()],
            migrations: Cow::Borrowed(&trace.migrations),
            scope: None,
        }
    }

    /// A `lint` run: each script becomes a migration whose statements were not executed and whose
    /// locks are the documented ones.
    pub fn lint(report: &'a LintReport) -> Self {
        let migrations: Vec<MigrationTrace> = report.scripts.iter().map(lint_migration).collect();
        Subject {
            source: Source::Lint(report),
            context: vec![false; migrations.len()],
            migrations: Cow::Owned(migrations),
            scope: None,
        }
    }

    /// Marks the migrations whose paths `scope` lists as context.
    pub fn with_scope(mut self, scope: Option<Scope>) -> Self {
        if let Some(scope) = &scope {
            self.context = self.migrations.iter().map(|m| scope.context.contains(&m.path)).collect();
        }
        self.scope = scope;
        self
    }

    /// Whether the migrations were run (`check`) rather than only read (`lint`).
    pub fn traced(&self) -> bool {
        matches!(self.source, Source::Check(_))
    }

    pub fn trace(&self) -> Option<&'a Trace> {
        match self.source {
            Source::Check(trace) => Some(trace),
            Source::Lint(_) => None,
        }
    }

    /// `check` or `lint`.
    pub fn command(&self) -> &'static str {
        match self.source {
            Source::Check(_) => "check",
            Source::Lint(_) => "lint",
        }
    }

    pub fn server(&self) -> Option<&'a ServerInfo> {
        self.trace().map(|t| &t.server)
    }

    pub fn notes(&self) -> &'a [String] {
        match self.source {
            Source::Check(trace) => &trace.notes,
            Source::Lint(report) => &report.notes,
        }
    }

    /// The failed statement, when the run stopped at one.
    pub fn failure(&self) -> Option<&'a Outcome> {
        self.trace().map(|t| &t.outcome).filter(|o| matches!(o, Outcome::Failed { .. }))
    }

    /// `PostgreSQL 17.2 · dry-run on postgres://… (one transaction, rolled back)`, or for lint
    /// `judged for PostgreSQL 18 from the SQL alone`.
    pub fn setting(&self) -> String {
        match self.source {
            Source::Check(trace) => {
                let mode = match trace.mode {
                    Mode::DryRun => format!("dry-run on {} (one transaction, rolled back)", trace.target),
                    Mode::Scratch => "scratch: embedded throwaway database, each migration committed".to_string(),
                };
                format!("PostgreSQL {} · {mode}{}", trace.server.version, self.models_words())
            }
            Source::Lint(report) => {
                format!(
                    "judged for PostgreSQL {} from the SQL alone (nothing executed){}",
                    report.pg_version,
                    self.models_words()
                )
            }
        }
    }

    /// " · judged as golang-migrate runs it: …" for every runner model of the migrations.
    fn models_words(&self) -> String {
        models(&self.migrations).iter().map(|model| format!(" · {}", model.describe())).collect()
    }

    /// The migrations the report judges (not the context ones), with their positions.
    pub fn judged(&self) -> impl Iterator<Item = (usize, &MigrationTrace)> {
        self.migrations.iter().enumerate().filter(|(index, _)| !self.context.get(*index).copied().unwrap_or(false))
    }

    /// Every finding of the judged migrations, in migration and statement order.
    pub fn findings(&self) -> Vec<&Finding> {
        self.judged().flat_map(|(_, m)| m.statements.iter()).flat_map(|s| s.findings.iter()).collect()
    }

    /// Pass, fail or error against `fail_on`.
    pub fn verdict(&self, fail_on: FailOn) -> Verdict {
        if self.failure().is_some() {
            Verdict::Error
        } else if self.findings().iter().any(|f| fail_on.trips(f.severity)) {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }

    /// The verdict in one line: `2 findings at or above high`, `migration failed: …`.
    pub fn headline(&self, fail_on: FailOn) -> String {
        let findings = self.findings();
        match self.verdict(fail_on) {
            Verdict::Error => match self.failure() {
                Some(Outcome::Failed { path, line, message, .. }) => {
                    format!("a migration failed at {path}:{line}: {message} (everything was rolled back)")
                }
                _ => "a migration failed".to_string(),
            },
            Verdict::Fail => {
                let tripping = findings.iter().filter(|f| fail_on.trips(f.severity)).count();
                format!(
                    "{tripping} finding{} at or above {}",
                    plural(tripping),
                    fail_on_name(fail_on).unwrap_or("the threshold")
                )
            }
            Verdict::Pass => match fail_on_name(fail_on) {
                Some(level) if findings.is_empty() => format!("no findings (fail-on {level})"),
                Some(level) => format!("nothing at or above {level}"),
                None if findings.is_empty() => "no findings".to_string(),
                None => "findings never fail the run (fail-on never)".to_string(),
            },
        }
    }

    /// Statements with findings (of judged migrations), worst first, then in run order.
    pub fn risky_statements(&self) -> Vec<Risky<'_>> {
        let mut risky: Vec<Risky<'_>> = self
            .judged()
            .flat_map(|(migration_index, migration)| {
                migration.statements.iter().filter_map(move |statement| {
                    let worst = statement.findings.iter().map(|f| f.severity).max()?;
                    Some(Risky { migration_index, migration, statement, worst })
                })
            })
            .collect();
        risky.sort_by(|a, b| {
            b.worst
                .cmp(&a.worst)
                .then(a.migration_index.cmp(&b.migration_index))
                .then(a.statement.index.cmp(&b.statement.index))
        });
        risky
    }

    /// One summary per migration (context ones included, marked).
    pub fn summaries(&self) -> Vec<MigrationSummary<'_>> {
        self.migrations
            .iter()
            .enumerate()
            .map(|(index, migration)| {
                MigrationSummary::of(migration, self.context.get(index).copied().unwrap_or(false), self.trace())
            })
            .collect()
    }
}

/// A statement with findings.
#[derive(Debug, Clone, Copy)]
pub struct Risky<'a> {
    pub migration_index: usize,
    pub migration: &'a MigrationTrace,
    pub statement: &'a StatementTrace,
    /// Its most severe finding.
    pub worst: Severity,
}

/// One row of the per-migration summary table.
#[derive(Debug, Clone)]
pub struct MigrationSummary<'a> {
    pub migration: &'a MigrationTrace,
    pub context: bool,
    pub statements: usize,
    /// The strongest lock and the relations it is taken on.
    pub strongest: Option<(LockMode, Vec<&'a str>)>,
    /// How long the strongest lock is held: from the statement that takes it to the migration's
    /// end, as if the migration committed there.
    pub longest_hold_ms: Option<f64>,
    /// Tables (not their indexes or TOAST) whose storage was rewritten, with the rows estimate.
    pub rewrites: Vec<&'a str>,
    /// Relations fully scanned, with the rows read.
    pub scans: Vec<(&'a str, i64)>,
    /// Findings by severity: `counts[Severity as usize]`.
    pub counts: [usize; 4],
}

impl<'a> MigrationSummary<'a> {
    fn of(migration: &'a MigrationTrace, context: bool, trace: Option<&Trace>) -> Self {
        let strongest_mode = migration.statements.iter().filter_map(StatementTrace::strongest_lock).max();
        let strongest = strongest_mode.map(|mode| {
            let mut relations: Vec<&str> = Vec::new();
            for lock in migration.statements.iter().flat_map(|s| s.locks.iter()).filter(|l| l.mode == mode) {
                if !relations.contains(&lock.relation.as_str()) {
                    relations.push(&lock.relation);
                }
            }
            (mode, relations)
        });
        let longest_hold_ms = match (trace, strongest_mode) {
            (Some(_), Some(mode)) => migration
                .statements
                .iter()
                .filter(|s| s.locks.iter().any(|l| l.mode == mode))
                .filter_map(|s| s.lock_hold_ms)
                .reduce(f64::max),
            _ => None,
        };
        let mut rewrites: Vec<&str> = Vec::new();
        let mut scans: Vec<(&str, i64)> = Vec::new();
        let mut counts = [0usize; 4];
        for statement in &migration.statements {
            for rewrite in statement.rewrites.iter().filter(|r| r.relkind == "table") {
                if !rewrites.contains(&rewrite.relation.as_str()) {
                    rewrites.push(&rewrite.relation);
                }
            }
            for scan in &statement.scans {
                match scans.iter_mut().find(|(relation, _)| *relation == scan.relation) {
                    Some(entry) => entry.1 += scan.rows,
                    None => scans.push((&scan.relation, scan.rows)),
                }
            }
            for finding in &statement.findings {
                counts[finding.severity as usize] += 1;
            }
        }
        MigrationSummary {
            migration,
            context,
            statements: migration.statements.len(),
            strongest,
            longest_hold_ms,
            rewrites,
            scans,
            counts,
        }
    }

    /// `1 high, 2 low`, or `–`.
    pub fn counts_text(&self) -> String {
        counts_text(&self.counts)
    }
}

/// `1 critical, 2 low` from counts indexed by severity, or `–`.
pub fn counts_text(counts: &[usize; 4]) -> String {
    let parts: Vec<String> = SEVERITIES_WORST_FIRST
        .iter()
        .filter(|s| counts[**s as usize] > 0)
        .map(|s| format!("{} {}", counts[*s as usize], s.name()))
        .collect();
    if parts.is_empty() {
        "–".to_string()
    } else {
        parts.join(", ")
    }
}

/// The distinct runner models of `migrations`, in order of first use.
pub fn models(migrations: &[MigrationTrace]) -> Vec<crate::source::ExecutionModel> {
    let mut models = Vec::new();
    for model in migrations.iter().filter_map(|m| m.execution) {
        if !models.contains(&model) {
            models.push(model);
        }
    }
    models
}

/// "until golang-migrate commits its implicit transaction": how long a lock lasts, in words.
pub fn hold_words(model: crate::source::ExecutionModel) -> String {
    use crate::source::Wrapping;
    match model.wrapping {
        Wrapping::Autocommit => format!("(the statement alone: {} commits it on its own)", model.runner.name()),
        Wrapping::ToolTransaction => format!("until {} commits the migration's transaction", model.runner.name()),
        Wrapping::ImplicitTransaction => {
            format!("until the end of the file ({} sends it as one implicit transaction)", model.runner.name())
        }
    }
}

/// Every severity, worst first.
pub const SEVERITIES_WORST_FIRST: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

/// When the migration's locks are released: its commit in scratch mode; in a dry-run, the end of
/// its last statement (a real deployment commits there; the dry-run itself held on to them until
/// its final rollback).
pub fn migration_end_ms(migration: &MigrationTrace, mode: Mode) -> f64 {
    let first = migration.statements.first().map_or(0.0, |s| s.started_ms);
    let last_end =
        migration.statements.iter().map(|s| s.started_ms + s.duration_ms.unwrap_or(0.0)).fold(first, f64::max);
    match (mode, migration.transaction_ms) {
        (Mode::Scratch, Some(ms)) => last_end.max(first + ms),
        _ => last_end,
    }
}

/// The name `--fail-on` takes, `None` for `never`.
pub fn fail_on_name(fail_on: FailOn) -> Option<&'static str> {
    match fail_on {
        FailOn::Low => Some("low"),
        FailOn::Medium => Some("medium"),
        FailOn::High => Some("high"),
        FailOn::Critical => Some("critical"),
        FailOn::Never => None,
    }
}

pub fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

fn lint_migration(script: &crate::lint::LintedScript) -> MigrationTrace {
    let mut statements: Vec<StatementTrace> = script
        .statements
        .iter()
        .map(|statement| {
            let mut locks: Vec<RelationLock> = statement
                .summary
                .locks
                .iter()
                .map(|lock| RelationLock {
                    relation: lock.relation.to_string(),
                    relkind: kind_name(lock.kind).to_string(),
                    mode: lock.mode,
                    source: LockSource::Inferred,
                })
                .collect();
            locks.sort_by(|a, b| b.mode.cmp(&a.mode).then_with(|| a.relation.cmp(&b.relation)));
            locks.dedup();
            StatementTrace {
                not_executed_reason: Some("lint: judged from the SQL alone".to_string()),
                locks,
                findings: script.findings.statements.get(statement.index).cloned().unwrap_or_default(),
                ..StatementTrace::from_statement(statement)
            }
        })
        .collect();
    // Findings about the file as a whole go with its first statement (or a placeholder when the
    // script does not exist), as `check` attaches them.
    if !script.findings.file.is_empty() {
        match statements.first_mut() {
            Some(first) => {
                let mut findings = script.findings.file.clone();
                findings.append(&mut first.findings);
                first.findings = findings;
            }
            None => statements.push(StatementTrace {
                line: script.findings.file.iter().find_map(|f| f.line).unwrap_or(1),
                column: 1,
                kind: "(file)".into(),
                not_executed_reason: Some("the script does not exist".to_string()),
                findings: script.findings.file.clone(),
                ..StatementTrace::default()
            }),
        }
    }
    MigrationTrace {
        path: script.path.display().to_string(),
        version: script.version.clone(),
        name: script.name.clone(),
        direction: script.direction,
        statements,
        transaction_ms: None,
        locks: Vec::new(),
        reversibility: None,
        execution: Some(script.model),
        lock_hold_ms: None,
    }
}

fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Table => "table",
        ObjectKind::Index => "index",
        ObjectKind::Sequence => "sequence",
        ObjectKind::View => "view",
        ObjectKind::Unknown => "unknown",
    }
}
