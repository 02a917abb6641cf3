//! `lockscope lint`: the same rules as `check`, from the SQL alone — no database, nothing executed.

use std::path::PathBuf;

use crate::analyze::config::{pg_version, Config};
use crate::analyze::lint::lint_paths_with;
use crate::analyze::{self, FailOn, Options};
use crate::error::Result;
use crate::plan::Scope;
use crate::report::{self, Format};
use crate::source::{git_diff, Direction, Layout, Runner};

/// What `lockscope lint` was asked to do.
#[derive(Debug, Clone)]
pub struct LintOptions {
    /// Migration files or directories.
    pub paths: Vec<PathBuf>,
    /// Which scripts to lint: `up` (ascending versions) or `down` (descending).
    pub direction: Direction,
    pub format: Format,
    /// Write the report here instead of standard output.
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    pub fail_on: FailOn,
    /// Judge for this PostgreSQL major version (default: the configuration's, else the newest).
    pub pg_version: Option<u32>,
    /// Configuration file (default: the nearest lockscope.toml from the working directory up).
    pub config: Option<PathBuf>,
    pub no_color: bool,
    /// Lint only the migrations added or changed since this git reference.
    pub git_diff: Option<String>,
    /// Migration layout, instead of detecting it from the files.
    pub layout: Option<Layout>,
    /// The tool that applies the migrations.
    pub runner: Option<Runner>,
}

/// Runs `lockscope lint` end to end and returns the exit code (0, or 1 for findings at or above
/// `--fail-on`).
pub fn run(args: &LintOptions) -> Result<i32> {
    let config = Config::load(args.config.as_deref())?;
    let pg = pg_version(args.pg_version, &config)?;
    let changed = args.git_diff.as_deref().map(|base| git_diff::changed_since(base, &args.paths)).transpose()?;
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
        report.retain(|script| changed.contains(&script.path));
        Scope { base: changed.base.clone(), ..Scope::default() }
    });
    let color = report::use_color(args.output.as_deref(), args.no_color);
    let subject = report::Subject::lint(&report).with_scope(scope);
    let render_options = report::RenderOptions { color, fail_on: args.fail_on, base: std::env::current_dir().ok() };
    let text = report::render(&subject, args.format, &render_options);
    report::write_output(&text, args.output.as_deref())?;
    let tripped = report.findings().any(|f| args.fail_on.trips(f.severity));
    Ok(i32::from(tripped))
}
