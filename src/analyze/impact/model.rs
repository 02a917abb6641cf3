//! What a statement costs on this database (and, with a production snapshot, on production):
//! plain data added to each statement of the report.

use serde::{Deserialize, Serialize};

/// How risky a statement is to run against live traffic (see the README, "Risk levels").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
    Critical,
}

impl Risk {
    pub fn name(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }
}

/// How busy a table is, from its cumulative statistics.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Activity {
    /// Sequential plus index scans per second since the statistics reset.
    pub reads_per_s: f64,
    /// Rows inserted, updated and deleted per second since the statistics reset.
    pub writes_per_s: f64,
    /// `production snapshot` or `target`.
    pub source: String,
}

/// One relation a statement locks, and what that lock costs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RelationImpact {
    pub relation: String,
    pub relkind: String,
    /// The strongest lock the statement takes on it (`pg_locks` name).
    pub mode: String,
    /// `blocks reads and writes`, `blocks writes`, `blocks other DDL only`.
    pub blocks: String,
    /// Rows on the target (planner estimate or rows read by the statement's scan).
    pub rows: Option<f64>,
    /// Table size on the target: heap, TOAST and indexes.
    pub total_bytes: Option<i64>,
    /// How long the lock is held when the migration runs: from this statement's start to the end
    /// of its migration's transaction (sum of the statement times, without lockscope's own).
    pub hold_ms: f64,
    pub activity: Option<Activity>,
    /// Queries that would queue per second of lock: the blocked kinds of traffic's rate.
    pub queued_per_s: Option<f64>,
    /// `queued_per_s × hold` (on production, when a snapshot gave its duration).
    pub queued_estimate: Option<f64>,
}

/// The statement's duration scaled to production sizes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProductionEstimate {
    pub duration_ms: f64,
    /// How long its locks would be held on production (this statement and the rest of its migration).
    pub hold_ms: f64,
    /// Estimated / measured time (1 when the statement does not depend on size).
    pub scale: f64,
    /// In words: which relation's sizes gave the ratio, or why none applies.
    pub basis: String,
}

/// Everything impact-related about one statement.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatementImpact {
    pub risk: Risk,
    /// Why the risk is what it is, in words.
    pub risk_reasons: Vec<String>,
    pub relations: Vec<RelationImpact>,
    pub production: Option<ProductionEstimate>,
}
