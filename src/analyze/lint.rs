//! Static judging: the same rules as `check`, from the SQL alone — no database, nothing executed
//! (`lockscope lint` is `commands::lint`).

use std::path::PathBuf;

use crate::analyze::{
    self, Finding, MigrationAssessment, MigrationFindings, Options, Pairing, StatementAssessment, Subject,
};
use crate::error::Result;
use crate::source::{self, Direction};
use crate::sql::{self, Statement};
use crate::trace::{LockSource, MigrationTrace, RelationLock, StatementTrace};

/// One migration script and what the rules found in it.
#[derive(Debug)]
pub struct LintedScript {
    /// The script for the linted direction; when it does not exist, its counterpart's path.
    pub path: PathBuf,
    pub version: String,
    pub name: String,
    pub direction: Direction,
    /// Empty when the script for the direction does not exist.
    pub statements: Vec<Statement>,
    pub pairing: Pairing,
    pub no_transaction: bool,
    /// How the migration's own tool applies the script.
    pub model: crate::source::ExecutionModel,
    pub findings: MigrationFindings,
}

/// Everything `lint` found.
#[derive(Debug)]
pub struct LintReport {
    /// The PostgreSQL major version the findings answer for.
    pub pg_version: u32,
    /// The `lockscope.toml` in force, if any.
    pub config: Option<PathBuf>,
    pub scripts: Vec<LintedScript>,
    /// What discovery wants the reader to know (files left out of a folder, and why).
    pub notes: Vec<String>,
    /// `migrations[i]`: script `i` as the reports show a migration — nothing executed, its
    /// documented locks (see [`LintReport::new`]).
    pub migrations: Vec<MigrationTrace>,
    /// `assessment[i]`: the findings of script `i`, placed as `check` places them.
    pub assessment: Vec<MigrationAssessment>,
}

impl LintReport {
    /// The report of `scripts`, with each script also seen as a migration for the reports.
    pub fn new(pg_version: u32, config: Option<PathBuf>, scripts: Vec<LintedScript>, notes: Vec<String>) -> Self {
        let (migrations, assessment) = scripts.iter().map(as_migration).unzip();
        LintReport { pg_version, config, scripts, notes, migrations, assessment }
    }

    /// Every finding, in migration and statement order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.scripts.iter().flat_map(|s| s.findings.all())
    }

    /// Keeps the scripts (and their migrations) `keep` says.
    pub fn retain(&mut self, keep: impl Fn(&LintedScript) -> bool) {
        let flags: Vec<bool> = self.scripts.iter().map(keep).collect();
        let mut flag = flags.iter();
        self.scripts.retain(|_| *flag.next().unwrap_or(&true));
        let mut flag = flags.iter();
        self.migrations.retain(|_| *flag.next().unwrap_or(&true));
        let mut flag = flags.iter();
        self.assessment.retain(|_| *flag.next().unwrap_or(&true));
    }
}

/// A linted script as the reports show a migration: statements not executed, with their
/// documented locks; the findings of the file as a whole with its first statement (or a
/// placeholder when the script does not exist), as `check` attaches them.
fn as_migration(script: &LintedScript) -> (MigrationTrace, MigrationAssessment) {
    let mut statements: Vec<StatementTrace> = Vec::with_capacity(script.statements.len());
    let mut judged: Vec<StatementAssessment> = Vec::with_capacity(script.statements.len());
    for statement in &script.statements {
        let mut locks: Vec<RelationLock> = statement
            .summary
            .locks
            .iter()
            .map(|lock| RelationLock {
                relation: lock.relation.to_string(),
                relkind: lock.kind.relkind_name().to_string(),
                mode: lock.mode,
                source: LockSource::Inferred,
            })
            .collect();
        locks.sort_by(|a, b| b.mode.cmp(&a.mode).then_with(|| a.relation.cmp(&b.relation)));
        locks.dedup();
        statements.push(StatementTrace {
            not_executed_reason: Some("lint: judged from the SQL alone".to_string()),
            locks,
            ..StatementTrace::from_statement(statement)
        });
        judged.push(StatementAssessment {
            findings: script.findings.statements.get(statement.index).cloned().unwrap_or_default(),
            ..StatementAssessment::default()
        });
    }
    if !script.findings.file.is_empty() {
        match judged.first_mut() {
            Some(first) => {
                let mut findings = script.findings.file.clone();
                findings.append(&mut first.findings);
                first.findings = findings;
            }
            None => {
                statements.push(StatementTrace {
                    line: script.findings.file.iter().find_map(|f| f.line).unwrap_or(1),
                    column: 1,
                    kind: "(file)".into(),
                    not_executed_reason: Some("the script does not exist".to_string()),
                    ..StatementTrace::default()
                });
                judged.push(StatementAssessment { findings: script.findings.file.clone(), ..Default::default() });
            }
        }
    }
    let migration = MigrationTrace {
        path: script.path.display().to_string(),
        version: script.version.clone(),
        name: script.name.clone(),
        direction: script.direction,
        statements,
        transaction_ms: None,
        locks: Vec::new(),
        reversibility: None,
    };
    let assessment = MigrationAssessment {
        execution: Some(script.model),
        lock_hold_ms: None,
        statements: judged,
        reversibility: Vec::new(),
    };
    (migration, assessment)
}

/// Lints the migrations in `paths` for `direction`. Unreadable or unparsable files are an error
/// naming file and line; a missing script of a pair is a finding, not an error.
pub fn lint_paths(paths: &[PathBuf], direction: Direction, options: Options) -> Result<LintReport> {
    lint_paths_with(paths, direction, None, options)
}

/// [`lint_paths`] with a forced `layout` (`--layout`).
pub fn lint_paths_with(
    paths: &[PathBuf],
    direction: Direction,
    layout: Option<source::Layout>,
    options: Options,
) -> Result<LintReport> {
    let mut discovery = source::discover_with(paths, layout)?;
    discovery.runner = options.runner.or(options.config.runner);
    let mut migrations = std::mem::take(&mut discovery.migrations);
    if direction == Direction::Down {
        migrations.reverse();
    }
    let mut scripts = Vec::with_capacity(migrations.len());
    for migration in &migrations {
        let (path, statements, declared) = match migration.file(direction) {
            Some(file) => (file.path.clone(), sql::parse_file(&file.path, &file.text)?, file.no_transaction),
            None => {
                let other = migration.up.as_ref().or(migration.down.as_ref());
                (other.map(|f| f.path.clone()).unwrap_or_default(), Vec::new(), migration.no_transaction)
            }
        };
        let model = crate::plan::execution_model(discovery.runner_for(migration), declared, &statements);
        scripts.push(LintedScript {
            path,
            version: migration.version.clone(),
            name: migration.name.clone(),
            direction,
            statements,
            pairing: Pairing::of(migration),
            no_transaction: migration.no_transaction,
            model,
            findings: MigrationFindings::default(),
        });
    }
    let subjects: Vec<Subject<'_>> = scripts
        .iter()
        .map(|s| Subject {
            path: &s.path,
            version: &s.version,
            direction: s.direction,
            statements: &s.statements,
            model: s.model,
            pairing: s.pairing,
        })
        .collect();
    let findings = analyze::evaluate(&subjects, None, &options);
    for (script, found) in scripts.iter_mut().zip(findings) {
        script.findings = found;
    }
    Ok(LintReport::new(options.pg_major(None), options.config.path.clone(), scripts, discovery.notes()))
}
