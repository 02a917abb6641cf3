//! The one-shot `lockscope inspect`: server, statistics age, biggest tables, unused and invalid
//! indexes, NOT VALID constraints, sessions idle in transaction, and current blocking.

use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::introspect::{
    self, ConstraintInfo, IndexInfo, IntrospectOptions, Introspection, Measure, ServerInfo, SizeSource, TableInfo,
};

use crate::units::{human_bytes, human_duration};

use super::alerts::one_line;
use super::model::{Sample, Session};
use super::sampler::Sampler;
use super::text::{sample_lines, TextOptions};

/// How many tables "biggest tables" lists.
pub const BIGGEST_TABLES: usize = 10;

/// Everything the one-shot overview shows; also its `--format json` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub schema_version: u32,
    /// Always `overview`, to tell it apart from a sample.
    pub kind: String,
    /// Where lockscope looked (never with a password).
    pub target: String,
    pub server: ServerInfo,
    /// "since …": how far back usage counts go.
    pub stats_since: String,
    pub tables_total: usize,
    pub indexes_total: usize,
    pub constraints_total: usize,
    pub biggest_tables: Vec<TableInfo>,
    /// Valid indexes with no scan since the statistics reset that enforce no constraint.
    pub unused_indexes: Vec<IndexInfo>,
    /// Unscanned indexes that enforce a primary key, unique or exclusion constraint: needed even
    /// though no query reads them, so not listed as unused.
    pub unscanned_constraint_indexes: usize,
    pub invalid_indexes: Vec<IndexInfo>,
    pub not_valid_constraints: Vec<ConstraintInfo>,
    /// Oldest transaction first.
    pub idle_in_transaction: Vec<Session>,
    /// Current blocking: one sample (lock tree, queues, sessions).
    pub blocking: Sample,
    /// What could not be gathered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub introspection_ms: f64,
}

/// Gathers the overview on the sampler's connection. `catalog_timeout` replaces the sampler's
/// statement timeout for the catalog reads, which take longer on big schemas.
pub async fn gather(sampler: &mut Sampler, target_display: &str, catalog_timeout: Duration) -> Result<Overview> {
    let statement_timeout = sampler.options().limits.statement_timeout;
    let conn = sampler.connection().ok_or_else(|| crate::error::Error::Database("not connected".into()))?;
    introspect::set_statement_timeout(conn, catalog_timeout).await?;
    let gathered = introspect::introspect(
        conn,
        &IntrospectOptions { measure: Measure::Largest(BIGGEST_TABLES), ..IntrospectOptions::default() },
    )
    .await;
    introspect::set_statement_timeout(conn, statement_timeout).await?;
    let introspection = gathered?;
    let blocking = sampler.sample().await?;
    Ok(build(introspection, blocking, target_display))
}

fn build(introspection: Introspection, blocking: Sample, target_display: &str) -> Overview {
    let mut idle_in_transaction: Vec<Session> = blocking
        .sessions
        .iter()
        .filter(|s| s.state.as_deref().is_some_and(|state| state.starts_with("idle in transaction")))
        .cloned()
        .collect();
    idle_in_transaction
        .sort_by(|a, b| b.xact_age_s.unwrap_or(0.0).total_cmp(&a.xact_age_s.unwrap_or(0.0)).then(a.pid.cmp(&b.pid)));
    let mut notes = introspection.notes.clone();
    if let Some(reason) = &blocking.skipped {
        notes.push(format!("current blocking could not be sampled: {reason}"));
    }
    Overview {
        schema_version: super::model::SCHEMA_VERSION,
        kind: "overview".into(),
        target: target_display.to_string(),
        stats_since: introspection.server.stats_since(),
        tables_total: introspection.tables.len(),
        indexes_total: introspection.indexes.len(),
        constraints_total: introspection.constraints.len(),
        biggest_tables: introspection.largest_tables(BIGGEST_TABLES).into_iter().cloned().collect(),
        unused_indexes: introspection
            .unused_indexes()
            .into_iter()
            .filter(|index| !index.enforces_constraint())
            .cloned()
            .collect(),
        unscanned_constraint_indexes: introspection
            .unused_indexes()
            .iter()
            .filter(|index| index.enforces_constraint())
            .count(),
        invalid_indexes: introspection.invalid_indexes().into_iter().cloned().collect(),
        not_valid_constraints: introspection.not_valid_constraints().into_iter().cloned().collect(),
        idle_in_transaction,
        blocking,
        notes,
        introspection_ms: introspection.elapsed_ms,
        server: introspection.server,
    }
}

fn table() -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled);
    table
}

/// How many unused indexes the text lists before summarising the rest.
const UNUSED_LISTED: usize = 30;

/// The overview as text tables.
pub fn render_overview(overview: &Overview, options: &TextOptions) -> String {
    let mut out = String::new();
    push_summary(&mut out, overview);
    push_biggest_tables(&mut out, overview);
    push_unused_indexes(&mut out, overview);
    push_invalid_indexes(&mut out, overview);
    push_not_valid_constraints(&mut out, overview);
    push_idle_in_transaction(&mut out, overview, options);
    push_current_blocking(&mut out, overview, options);
    out
}

/// The heading lines: target, server, statistics age, schema counts, privileges and notes.
fn push_summary(out: &mut String, overview: &Overview) {
    let server = &overview.server;
    out.push_str(&format!("lockscope inspect · {}\n", overview.target));
    out.push_str(&format!(
        "Server      PostgreSQL {} · up {} (since {}) · database {} as {}\n",
        server.version,
        human_duration(server.uptime_s),
        server.started_at,
        server.database,
        server.role
    ));
    out.push_str(&format!("Statistics  {}\n", overview.stats_since));
    out.push_str(&format!(
        "Schema      {} tables, {} indexes, {} constraints (read in {:.0} ms)\n",
        overview.tables_total, overview.indexes_total, overview.constraints_total, overview.introspection_ms
    ));
    if let Some(hidden) = server.privileges.hidden() {
        out.push_str(&format!("Privileges  limited: {hidden}\n"));
    }
    for note in &overview.notes {
        out.push_str(&format!("Note        {note}\n"));
    }
}

/// The "Biggest tables" section: sizes, rows and scan counts of the largest tables.
fn push_biggest_tables(out: &mut String, overview: &Overview) {
    out.push_str("\nBiggest tables\n");
    if overview.biggest_tables.is_empty() {
        out.push_str("  (no user tables)\n");
        return;
    }
    let mut t = table();
    t.set_header(vec![
        "table",
        "total",
        "heap",
        "indexes",
        "toast",
        "rows",
        "seq scans",
        "idx scans",
        "dead rows",
        "size",
    ]);
    for info in &overview.biggest_tables {
        t.add_row(vec![
            info.qualified_name(),
            human_bytes(info.size.total_bytes),
            human_bytes(info.size.heap_bytes),
            human_bytes(info.size.indexes_bytes),
            human_bytes(info.size.toast_bytes),
            format!("{:.0}", info.rows()),
            info.activity.seq_scan.to_string(),
            info.activity.idx_scan.to_string(),
            info.activity.n_dead_tup.to_string(),
            match info.size.source {
                SizeSource::Measured => "measured",
                SizeSource::Estimated => "estimate",
                SizeSource::EstimatedLocked => "estimate (locked)",
            }
            .to_string(),
        ]);
    }
    out.push_str(&format!("{t}\n"));
}

/// The "Unused indexes" section, at most `UNUSED_LISTED` rows, plus the unscanned constraint indexes.
fn push_unused_indexes(out: &mut String, overview: &Overview) {
    out.push_str(&format!("\nUnused indexes — no scan {}\n", overview.stats_since));
    if overview.unused_indexes.is_empty() {
        out.push_str("  none\n");
    } else {
        let mut t = table();
        t.set_header(vec!["index", "table", "size", "columns"]);
        for index in overview.unused_indexes.iter().take(UNUSED_LISTED) {
            t.add_row(vec![
                index.qualified_name(),
                index.qualified_table(),
                human_bytes(index.size_bytes),
                index.columns.join(", "),
            ]);
        }
        out.push_str(&format!("{t}\n"));
        if overview.unused_indexes.len() > UNUSED_LISTED {
            out.push_str(&format!(
                "  … and {} more (--format json lists all)\n",
                overview.unused_indexes.len() - UNUSED_LISTED
            ));
        }
    }
    if overview.unscanned_constraint_indexes > 0 {
        out.push_str(&format!(
            "  ({} primary-key, unique or exclusion indexes were not scanned either; they enforce \
             their constraint, so they are not unused)\n",
            overview.unscanned_constraint_indexes
        ));
    }
}

/// The "Invalid indexes" section with the advice to drop and recreate them.
fn push_invalid_indexes(out: &mut String, overview: &Overview) {
    out.push_str("\nInvalid indexes\n");
    if overview.invalid_indexes.is_empty() {
        out.push_str("  none\n");
        return;
    }
    let mut t = table();
    t.set_header(vec!["index", "table", "ready", "definition"]);
    for index in &overview.invalid_indexes {
        t.add_row(vec![
            index.qualified_name(),
            index.qualified_table(),
            if index.is_ready { "yes" } else { "no" }.to_string(),
            index.definition.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    out.push_str(
        "  An invalid index is still maintained on every write but never used: drop it \
         (DROP INDEX CONCURRENTLY) and create it again, unless a CREATE INDEX CONCURRENTLY is \
         running right now.\n",
    );
}

/// The "NOT VALID constraints" section with the advice to validate them.
fn push_not_valid_constraints(out: &mut String, overview: &Overview) {
    out.push_str("\nNOT VALID constraints\n");
    if overview.not_valid_constraints.is_empty() {
        out.push_str("  none\n");
        return;
    }
    let mut t = table();
    t.set_header(vec!["constraint", "table", "kind", "definition"]);
    for constraint in &overview.not_valid_constraints {
        t.add_row(vec![
            constraint.name.clone(),
            constraint.qualified_table(),
            constraint.kind.label().to_string(),
            constraint.definition.clone().unwrap_or_default(),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    out.push_str(
        "  Existing rows were never checked: ALTER TABLE … VALIDATE CONSTRAINT takes only \
         SHARE UPDATE EXCLUSIVE (reads and writes continue).\n",
    );
}

/// The "Sessions idle in transaction" section, oldest transaction first.
fn push_idle_in_transaction(out: &mut String, overview: &Overview, options: &TextOptions) {
    out.push_str("\nSessions idle in transaction\n");
    if overview.idle_in_transaction.is_empty() {
        out.push_str("  none\n");
        return;
    }
    let mut t = table();
    t.set_header(vec!["pid", "user", "application", "transaction age", "idle for", "blocking", "last query"]);
    for session in &overview.idle_in_transaction {
        t.add_row(vec![
            session.pid.to_string(),
            session.usename.clone().unwrap_or_default(),
            session.application_name.clone().unwrap_or_default(),
            session.xact_age_s.map(human_duration).unwrap_or_default(),
            session.state_age_s.map(human_duration).unwrap_or_default(),
            session.queued_behind.to_string(),
            session
                .query
                .as_deref()
                .map(|q| one_line(q, options.query_width.unwrap_or(usize::MAX)))
                .unwrap_or_default(),
        ]);
    }
    out.push_str(&format!("{t}\n"));
}

/// The "Current blocking" section: the sample's lock tree, without its heading and session lists.
fn push_current_blocking(out: &mut String, overview: &Overview, options: &TextOptions) {
    out.push_str("\nCurrent blocking\n");
    let lines = sample_lines(&overview.blocking, options);
    let mut blocking = String::new();
    for (_, line) in lines.iter().skip(1) {
        if line.starts_with("Idle in transaction") || line.starts_with("Active sessions") {
            break;
        }
        blocking.push_str(line);
        blocking.push('\n');
    }
    out.push_str(&blocking);
}
