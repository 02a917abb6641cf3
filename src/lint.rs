//! `lockscope lint`: the same rules as `check`, from the SQL alone — no database, nothing executed.

use std::path::PathBuf;

use crate::analyze::{self, MigrationFindings, Options, Pairing, Subject, NEWEST_PG, OLDEST_PG};
use crate::cli::LintArgs;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::report;
use crate::source::{self, Direction};
use crate::sql::{self, Statement};
use crate::trace::Finding;

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
}

impl LintReport {
    /// Every finding, in migration and statement order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.scripts.iter().flat_map(|s| s.findings.all())
    }
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
        let model = analyze::context::execution_model(discovery.runner_for(migration), declared, &statements);
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
    Ok(LintReport {
        pg_version: options.pg_major(None),
        config: options.config.path.clone(),
        scripts,
        notes: discovery.notes(),
    })
}

/// The PostgreSQL version to judge for: the flag, else the configuration, else the newest.
pub fn pg_version(flag: Option<u32>, config: &Config) -> Result<u32> {
    let version = flag.or(config.pg_version).unwrap_or(NEWEST_PG);
    if !(OLDEST_PG..=NEWEST_PG).contains(&version) {
        return Err(Error::Usage(format!(
            "--pg-version {version}: lockscope knows PostgreSQL {OLDEST_PG} to {NEWEST_PG} (give the major version, e.g. 16)"
        )));
    }
    Ok(version)
}

/// Runs `lockscope lint` end to end and returns the exit code (0, or 1 for findings at or above
/// `--fail-on`).
pub fn run(args: &LintArgs) -> Result<i32> {
    let config = Config::load(args.config.as_deref())?;
    let pg = pg_version(args.pg_version, &config)?;
    let changed = args.git_diff.as_deref().map(|base| crate::git_diff::changed_since(base, &args.paths)).transpose()?;
    // With --git-diff the changed migrations are one undeployed set; otherwise each migration is
    // its own deployment, and tables that earlier migrations created are existing tables.
    let deployment = match &changed {
        Some(changed) => analyze::Deployment::Together(changed.paths().cloned().collect()),
        None => analyze::Deployment::EachAlone,
    };
    let options = Options { config, pg_version: Some(pg), runner: args.runner, deployment, ..Options::default() };
    let mut report = lint_paths_with(&args.paths, args.direction, args.layout, options)?;
    // Judged with every migration in view, reported for the changed ones only.
    let scope = changed.map(|changed| {
        report.scripts.retain(|script| changed.contains(&script.path));
        report::Scope { base: changed.base.clone(), ..report::Scope::default() }
    });
    let color = report::use_color(args.output.as_deref(), args.no_color);
    let subject = report::Subject::lint(&report).with_scope(scope);
    let render_options = report::RenderOptions { color, fail_on: args.fail_on, base: std::env::current_dir().ok() };
    let text = report::render(&subject, args.format, &render_options);
    report::write_output(&text, args.output.as_deref())?;
    let tripped = report.findings().any(|f| args.fail_on.trips(f.severity));
    Ok(i32::from(tripped))
}
