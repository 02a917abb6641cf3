//! Observations → findings. A rule sees the parsed statement and, when there is one, what the
//! trace observed. This module holds the severity scale and the checks the `check` command gates
//! on by default; the full rule catalogue builds on the same types.

use serde::Serialize;

use crate::locks::LockMode;
use crate::trace::{Finding, StatementTrace, Trace};

/// How bad a finding is, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize, clap::ValueEnum)]
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
}

/// The `--fail-on` threshold: findings at or above it make `check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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

/// Rule id of the default gate: ACCESS EXCLUSIVE held while a non-empty table is rewritten or scanned.
pub const EXCLUSIVE_REWRITE_OR_SCAN: &str = "LS001";
/// Rule id: the statement waited for a lock held by another session.
pub const LOCK_WAIT: &str = "LS002";

/// Attaches findings to each statement of the trace.
pub fn analyze(trace: &mut Trace) {
    for migration in &mut trace.migrations {
        for statement in &mut migration.statements {
            let mut findings = exclusive_rewrite_or_scan(statement);
            findings.extend(lock_waits(statement));
            for finding in &mut findings {
                finding.path = Some(migration.path.clone());
                finding.line = Some(statement.line);
            }
            statement.findings.extend(findings);
        }
    }
}

/// Every finding of the trace, in migration and statement order.
pub fn all_findings(trace: &Trace) -> Vec<&Finding> {
    trace.migrations.iter().flat_map(|m| m.statements.iter()).flat_map(|s| s.findings.iter()).collect()
}

fn finding(rule: &str, severity: Severity, message: String, help: &str) -> Finding {
    Finding { rule: rule.into(), severity, message, help: help.into(), path: None, line: None }
}

fn exclusive_rewrite_or_scan(statement: &StatementTrace) -> Vec<Finding> {
    let exclusive: Vec<&str> = statement
        .locks
        .iter()
        .filter(|lock| lock.mode == LockMode::AccessExclusive)
        .map(|lock| lock.relation.as_str())
        .collect();
    if exclusive.is_empty() {
        return Vec::new();
    }
    // Rewrites and scans of the tables themselves (not their indexes) that hold rows.
    let mut heavy = Vec::new();
    for rewrite in &statement.rewrites {
        let table = rewrite.relation.trim_end_matches(" (TOAST)");
        // A rewrite reads the table once more per index it rebuilds, so prefer the estimate.
        let scan = statement.scans.iter().find(|s| s.relation == rewrite.relation);
        let rows_read = scan.map_or(0, |s| s.rows / s.scans.max(1));
        let rows = if rewrite.rows_estimate > 0.0 { rewrite.rows_estimate as i64 } else { rows_read };
        if rewrite.relkind == "table" && rows > 0 && exclusive.contains(&table) {
            heavy.push(format!("rewrites {} (~{rows} rows)", rewrite.relation));
        }
    }
    for scan in &statement.scans {
        let rewritten = statement.rewrites.iter().any(|r| r.relation == scan.relation);
        if scan.rows > 0 && !rewritten && exclusive.contains(&scan.relation.as_str()) {
            heavy.push(format!("scans all {} rows of {}", scan.rows, scan.relation));
        }
    }
    if heavy.is_empty() {
        return Vec::new();
    }
    vec![finding(
        EXCLUSIVE_REWRITE_OR_SCAN,
        Severity::High,
        format!(
            "holds ACCESS EXCLUSIVE on {} while it {}: every read and write of the table queues until the transaction ends",
            exclusive.join(", "),
            heavy.join(" and ")
        ),
        "Avoid the rewrite or scan under ACCESS EXCLUSIVE: add constraints NOT VALID and VALIDATE them separately, \
         use SET NOT NULL after a validated CHECK (col IS NOT NULL), build indexes CONCURRENTLY, and choose type \
         changes PostgreSQL can make without a rewrite; always set lock_timeout first.",
    )]
}

fn lock_waits(statement: &StatementTrace) -> Vec<Finding> {
    statement
        .waits
        .iter()
        .map(|wait| {
            let blockers: Vec<String> = wait
                .blockers
                .iter()
                .map(|b| format!("pid {} ({})", b.pid, b.state.as_deref().unwrap_or("unknown state")))
                .collect();
            finding(
                LOCK_WAIT,
                Severity::Medium,
                format!(
                    "waited {:.0} ms for {} on {} held by {}",
                    wait.waited_ms,
                    wait.mode,
                    wait.relation,
                    if blockers.is_empty() { "another session".to_string() } else { blockers.join(", ") }
                ),
                "Run the migration with a short lock_timeout and retry, so it gives up instead of queueing every \
                 other session behind it.",
            )
        })
        .collect()
}
