//! Judgement, apart from observation: what `analyze` concludes about a [`Trace`] (or, for `lint`,
//! about the parsed scripts). `assessment.migrations[i].statements[j]` judges
//! `trace.migrations[i].statements[j]`; the reporters render the two side by side
//! (`report::Report`), so the tracer's types never change when a rule does.

use serde::Serialize;

use crate::source::ExecutionModel;
use crate::trace::Trace;

use super::impact::StatementImpact;
use super::{Severity, Status};

/// A finding attached to a statement or the run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// Stable rule id, e.g. `LS107`.
    pub rule: String,
    /// The rule's name, e.g. `create-index-without-concurrently`.
    pub name: String,
    pub severity: Severity,
    /// Whether a trace backed the finding: `static`, `confirmed`, `not-observed`, `trace-only`.
    pub status: Status,
    pub message: String,
    /// The safe way to do it.
    pub help: String,
    pub path: Option<String>,
    pub line: Option<usize>,
    /// The relation the finding is about, as written in the migration or as the trace named it.
    pub relation: Option<String>,
    /// What the trace observed that confirms or contradicts the finding.
    pub evidence: Vec<String>,
    /// Why the severity is lower than the rule's own (empty table, table created by this run,
    /// prediction not observed), when it is.
    pub downgraded: Option<String>,
}

/// One way the schema or data after down differs from before up (`--reversible`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReversibilityDifference {
    /// `schema`, `data` or `data destroyed`.
    pub kind: String,
    /// `column public.users.phone`, `index public.users_email_idx`, `table public.audit`, …
    pub object: String,
    /// What a DBA reads: `down leaves column public.users.phone behind`.
    pub message: String,
}

/// What is concluded about one statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatementAssessment {
    pub findings: Vec<Finding>,
    /// How long its locks are held when the migration's own tool applies it: from its start to the
    /// end of the transaction the runner commits (`analyze::hold`). `None` when it takes no lock
    /// or did not run.
    pub lock_hold_ms: Option<f64>,
    /// Which transaction of its file the runner runs it in (0, 1, …): statements with the same
    /// number commit together.
    pub runner_transaction: Option<usize>,
    /// What the statement costs on this database (and on production, with a snapshot).
    pub impact: Option<StatementImpact>,
}

/// What is concluded about one migration script.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MigrationAssessment {
    /// How the migration's own tool applies it.
    pub execution: Option<ExecutionModel>,
    /// The longest lock hold of its statements as the runner holds them (`analyze::hold`).
    pub lock_hold_ms: Option<f64>,
    /// `statements[j]` judges statement `j` of the script as traced (or, for lint, as parsed).
    pub statements: Vec<StatementAssessment>,
    /// `--reversible`: what the down did not put back.
    pub reversibility: Vec<ReversibilityDifference>,
}

/// Everything `analyze` concluded about a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assessment {
    /// `migrations[i]` judges `trace.migrations[i]`.
    pub migrations: Vec<MigrationAssessment>,
    /// What the judging wants the reader to know (reversibility, missing statistics, estimates).
    pub notes: Vec<String>,
}

impl Assessment {
    /// Nothing concluded yet, shaped like `trace`.
    pub fn empty_for(trace: &Trace) -> Self {
        Assessment {
            migrations: trace
                .migrations
                .iter()
                .map(|migration| MigrationAssessment {
                    statements: vec![StatementAssessment::default(); migration.statements.len()],
                    ..MigrationAssessment::default()
                })
                .collect(),
            notes: Vec::new(),
        }
    }

    /// Every finding, in migration and statement order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.migrations.iter().flat_map(|m| m.statements.iter()).flat_map(|s| s.findings.iter())
    }

    /// `--git-diff`: migrations applied only for context are not judged; their findings go.
    pub fn drop_findings_of(&mut self, trace: &Trace, context: &[String]) {
        for (migration, judged) in trace.migrations.iter().zip(&mut self.migrations) {
            if context.contains(&migration.path) {
                for statement in &mut judged.statements {
                    statement.findings.clear();
                }
            }
        }
    }
}
