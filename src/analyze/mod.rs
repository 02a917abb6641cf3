//! Statements (and, when there is one, what a trace observed) → findings.
//!
//! One rule, one file under [`rules`]: each rule sees the parsed statement, the migration around
//! it and, when the migration was traced, what the server did. The same rule therefore serves
//! `lint` (no database: findings are `static`) and `check` (findings are `confirmed`,
//! `not-observed` or `trace-only`). The [`catalogue`] is data: the same entries render
//! `lockscope explain`, `lockscope rules`, the README table and the report text.

pub mod assessment;
mod ast;
pub mod catalogue;
pub mod config;
pub mod context;
pub mod estimate;
mod evaluate;
pub mod hold;
pub mod impact;
pub mod late;
pub mod lint;
pub mod reversible;
pub mod rules;
pub mod stats;
pub mod target_facts;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use assessment::{Assessment, Finding, MigrationAssessment, ReversibilityDifference, StatementAssessment};
pub use catalogue::{Check, Rule, RuleKind};
pub use context::{Cx, Expect, FileCx, Hit};
pub use late::suppress_late;
pub use stats::{TableSize, TableStats};
pub use target_facts::TargetFacts;

pub use crate::plan::Deployment;
use crate::plan::PlannedMigration;
use crate::source::{Direction, ExecutionModel, Migration};
use crate::sql::Statement;
use crate::trace::Trace;
use config::Config;

/// How bad a finding is, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// `low`, `medium`, `high` or `critical` (any case).
    pub fn parse(text: &str) -> Option<Severity> {
        [Severity::Low, Severity::Medium, Severity::High, Severity::Critical]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(text.trim()))
    }
}

/// The `--fail-on` threshold: findings at or above it make `check` and `lint` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Low,
    Medium,
    High,
    Critical,
    Never,
}

impl FailOn {
    /// Whether a finding of `severity` crosses this threshold.
    pub fn trips(self, severity: Severity) -> bool {
        let threshold = match self {
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
            FailOn::Never => return false,
        };
        severity >= threshold
    }
}

/// What backs a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Predicted from the SQL alone (lint, or a statement the trace did not execute).
    Static,
    /// Predicted from the SQL, and the trace showed it (the lock, the rewrite, the scan, the error).
    Confirmed,
    /// Predicted from the SQL, but the server did otherwise (e.g. a type change that did not rewrite).
    NotObserved,
    /// Seen in the trace; no static rule predicts it (a lock wait, a rewrite under ACCESS EXCLUSIVE).
    TraceOnly,
}

impl Status {
    /// As the reports print it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Static => "static",
            Status::Confirmed => "confirmed",
            Status::NotObserved => "not observed",
            Status::TraceOnly => "trace-only",
        }
    }
}

/// Rule id of the default gate: ACCESS EXCLUSIVE held while a non-empty table is rewritten or scanned.
pub const EXCLUSIVE_REWRITE_OR_SCAN: &str = "LS001";
/// Rule id: the statement waited for a lock held by another session.
pub const LOCK_WAIT: &str = "LS002";

/// The newest PostgreSQL major version lockscope knows; `lint` judges for it unless told otherwise.
pub const NEWEST_PG: u32 = 18;
/// The oldest PostgreSQL major version the rules can answer for.
pub const OLDEST_PG: u32 = 10;

/// Whether a migration's scripts come in pairs, and which of the pair exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pairing {
    /// The layout pairs up and down scripts (golang-migrate); plain numbered files have no down.
    pub expected: bool,
    pub has_up: bool,
    pub has_down: bool,
}

impl Pairing {
    /// What the discovered migration has. Layouts whose tool runs down scripts expect one
    /// (golang-migrate, goose, dbmate, Diesel, and sqlx's reversible `.up.sql`/`.down.sql` form).
    pub fn of(migration: &Migration) -> Pairing {
        use crate::source::Layout;
        let reversible_sqlx = migration.layout == Layout::Sqlx
            && migration.up.iter().chain(&migration.down).any(|f| {
                let name = f.path.to_string_lossy();
                name.ends_with(".up.sql") || name.ends_with(".down.sql")
            });
        Pairing {
            expected: reversible_sqlx
                || matches!(migration.layout, Layout::GolangMigrate | Layout::Goose | Layout::Dbmate | Layout::Diesel),
            has_up: migration.up.is_some(),
            has_down: migration.down.is_some(),
        }
    }
}

/// One migration script as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub path: &'a Path,
    pub version: &'a str,
    pub direction: Direction,
    /// Empty when the script for `direction` does not exist (only its counterpart does).
    pub statements: &'a [Statement],
    /// How the migration's own tool runs the script: which statements share a transaction.
    pub model: ExecutionModel,
    pub pairing: Pairing,
}

impl<'a> Subject<'a> {
    /// A planned (parsed) migration, with what is known about its pair.
    pub fn planned(migration: &'a PlannedMigration, pairing: Pairing) -> Self {
        Subject {
            path: &migration.path,
            version: &migration.version,
            direction: migration.direction,
            statements: &migration.statements,
            model: migration.model,
            pairing,
        }
    }
}

/// What the analysis knows besides the statements.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `lockscope.toml`: disabled rules, severities, thresholds, the PostgreSQL version for lint.
    pub config: Config,
    /// Judge for this PostgreSQL major version. `None`: the traced server's, else the config's,
    /// else [`NEWEST_PG`].
    pub pg_version: Option<u32>,
    /// Table sizes on the target, when connected.
    pub stats: TableStats,
    /// Which scripts of each migration exist, keyed by the analysed script's path. Missing: the
    /// pairing is not known (no finding about it).
    pub pairings: BTreeMap<PathBuf, Pairing>,
    /// Which migrations are deployed together, so that a table one creates is new to the others.
    pub deployment: Deployment,
    /// The tool that applies the migrations, when named (`--runner`, `lockscope.toml`); `None`:
    /// each layout's own.
    pub runner: Option<crate::source::Runner>,
    /// Where [`Options::stats`] come from, when they are real numbers (a staging target, a
    /// production snapshot). `None`: table sizes are unknown, and an existing table is judged as
    /// populated — an empty scratch database says nothing about production.
    pub sizes_from: Option<SizeSource>,
    /// Invalid indexes, publications and replica identities on the target, when connected
    /// (LS135, LS136). Default: not known.
    pub facts: TargetFacts,
}

/// Where real table sizes come from ([`Options::sizes_from`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeSource {
    /// The traced target itself (a staging database): the rows a statement read there are real too.
    Target,
    /// A production snapshot (`lockscope snapshot`, `--production-stats`).
    ProductionSnapshot,
}

impl SizeSource {
    /// As findings name it: `(target)`, `(production snapshot)`.
    pub fn label(self) -> &'static str {
        match self {
            SizeSource::Target => "target",
            SizeSource::ProductionSnapshot => "production snapshot",
        }
    }
}

/// A table with fewer rows than this (and a statement on it that ran faster than
/// [`SMALL_STATEMENT_MS`] where one was measured) is small: locking it costs little.
pub const SMALL_TABLE_ROWS: f64 = 10_000.0;
/// See [`SMALL_TABLE_ROWS`].
pub const SMALL_STATEMENT_MS: f64 = 1_000.0;

impl Options {
    /// The PostgreSQL major version the findings answer for.
    pub fn pg_major(&self, trace: Option<&Trace>) -> u32 {
        self.pg_version
            .or_else(|| trace.map(|t| t.server.major() as u32))
            .or(self.config.pg_version)
            .unwrap_or(NEWEST_PG)
    }
}

/// The findings of one migration script.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MigrationFindings {
    /// About the file as a whole (e.g. an orphan down script, which has no statements).
    pub file: Vec<Finding>,
    /// `statements[i]`: the findings of statement `i` of the script.
    pub statements: Vec<Vec<Finding>>,
}

impl MigrationFindings {
    /// Every finding, file-level first.
    pub fn all(&self) -> impl Iterator<Item = &Finding> {
        self.file.iter().chain(self.statements.iter().flatten())
    }
}

/// Runs every enabled rule over `subjects` (in run order). With `trace`, `trace.migrations[i]` is
/// what `subjects[i]` did.
pub fn evaluate(subjects: &[Subject<'_>], trace: Option<&Trace>, options: &Options) -> Vec<MigrationFindings> {
    evaluate::run(subjects, trace, options)
}

/// `check`: judges the traced plan. `trace.migrations[i]` is what `plan[i]` did; the findings of
/// the file as a whole go with its first statement.
pub fn analyze(plan: &[PlannedMigration], trace: &Trace, options: &Options) -> Assessment {
    let subjects: Vec<Subject<'_>> = plan
        .iter()
        .map(|migration| {
            Subject::planned(migration, options.pairings.get(&migration.path).copied().unwrap_or_default())
        })
        .collect();
    let findings = evaluate(&subjects, Some(trace), options);
    let mut assessment = Assessment::empty_for(trace);
    for ((planned, migration), judged) in plan.iter().zip(&trace.migrations).zip(&mut assessment.migrations) {
        hold::apply(planned, migration, judged);
    }
    for ((migration, judged), found) in trace.migrations.iter().zip(&mut assessment.migrations).zip(findings) {
        let MigrationFindings { file, statements } = found;
        let mut file = Some(file);
        for (statement, verdict) in migration.statements.iter().zip(&mut judged.statements) {
            if let Some(file) = file.take() {
                verdict.findings.extend(file);
            }
            if let Some(list) = statements.get(statement.index) {
                verdict.findings.extend(list.iter().cloned());
            }
        }
    }
    assessment
}

/// The pairing of every script of `migrations`, keyed by path, for [`Options::pairings`].
pub fn pairings(migrations: &[Migration]) -> BTreeMap<PathBuf, Pairing> {
    let mut map = BTreeMap::new();
    for migration in migrations {
        let pairing = Pairing::of(migration);
        for file in migration.up.iter().chain(migration.down.iter()) {
            map.insert(file.path.clone(), pairing);
        }
    }
    map
}
