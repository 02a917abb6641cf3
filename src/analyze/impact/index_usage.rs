//! Indexes the workload uses or not — findings that need the target's (or production's) usage
//! statistics: dropping an index that is scanned, rewrites that rebuild indexes nobody uses, new
//! indexes that duplicate existing ones, foreign keys without a supporting index, and statements
//! that rely on an invalid or unused index. Usage counts only mean something over a long enough
//! window: when the statistics were reset recently every finding here says so and is downgraded.

use crate::analyze::rules::index_usage as entries;
use crate::analyze::{Assessment, Finding, Rule, Severity, Status};
use crate::introspect::{IndexInfo, Introspection};
use crate::sql::{ObjectType, StatementKind};
use crate::trace::{StatementTrace, Trace};

/// Usage counts younger than this are too short a window to call an index unused.
pub const MIN_STATS_AGE_S: f64 = 7.0 * 24.0 * 3600.0;

// The catalogue entries these findings are made from: id, name, default severity and help
// (`lockscope rules`, `explain`, `lockscope.toml` and `lockscope:ignore` know them).
pub const DROP_USED_INDEX: &Rule = &entries::DROP_USED_INDEX;
pub const REWRITE_REBUILDS_UNUSED_INDEXES: &Rule = &entries::REWRITE_REBUILDS_UNUSED_INDEXES;
pub const DUPLICATE_INDEX: &Rule = &entries::DUPLICATE_INDEX;
pub const FOREIGN_KEY_WITHOUT_INDEX: &Rule = &entries::FOREIGN_KEY_WITHOUT_INDEX;
pub const RELIES_ON_INVALID_OR_UNUSED_INDEX: &Rule = &entries::RELIES_ON_INVALID_OR_UNUSED_INDEX;

/// Adds the index-usage findings about the statements of `trace` to `assessment`. `usage` is where
/// index scans are counted (the production snapshot when given, else the target); `existing` is
/// the target's schema before the run.
pub fn check(
    trace: &Trace,
    assessment: &mut Assessment,
    existing: &Introspection,
    usage: &Introspection,
    usage_source: &str,
) {
    let window = match usage.server.stats_age_s {
        Some(age) if age < MIN_STATS_AGE_S => Some(format!(
            "statistics on the {usage_source} were reset {} ago, so usage counts cover only that window: low confidence",
            crate::units::human_duration(age)
        )),
        _ => None,
    };
    let since = usage.server.stats_since();
    let mut created_indexes: Vec<(String, Vec<String>)> = trace
        .migrations
        .iter()
        .flat_map(|m| &m.statements)
        .flat_map(|s| &s.catalog_changes)
        .filter(|c| c.change == "created" && c.object.starts_with("index "))
        .filter_map(|c| index_shape(&c.detail))
        .map(|shape| (shape.table, shape.columns))
        .collect();
    // A dry-run cannot execute CREATE INDEX CONCURRENTLY (no catalogue change to see): the run
    // still creates the index, as its SQL says.
    created_indexes.extend(
        trace
            .migrations
            .iter()
            .flat_map(|m| &m.statements)
            .filter(|s| s.kind == StatementKind::Create(ObjectType::ObjectIndex) && !s.executed)
            .filter_map(|s| index_shape(&s.sql))
            .map(|shape| (shape.table, shape.columns)),
    );

    for (migration, judged) in trace.migrations.iter().zip(&mut assessment.migrations) {
        let path = migration.path.clone();
        for (statement, verdict) in migration.statements.iter().zip(&mut judged.statements) {
            let mut found = Vec::new();
            dropped_indexes(statement, usage, &since, &mut found);
            rebuilt_unused_indexes(statement, usage, &since, &mut found);
            duplicate_index(statement, existing, &mut found);
            foreign_key_without_index(statement, existing, &created_indexes, &mut found);
            relies_on_index(statement, existing, usage, &since, &mut found);
            for mut finding in found {
                finding.path = Some(path.clone());
                finding.line = Some(statement.line);
                if let Some(window) = &window {
                    if [DROP_USED_INDEX, REWRITE_REBUILDS_UNUSED_INDEXES, RELIES_ON_INVALID_OR_UNUSED_INDEX]
                        .iter()
                        .any(|rule| rule.id == finding.rule)
                    {
                        finding.severity = lower(finding.severity);
                        finding.downgraded = Some(window.clone());
                    }
                }
                verdict.findings.push(finding);
            }
        }
    }
}

fn lower(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        _ => Severity::Low,
    }
}

/// A finding of `rule`: its default severity and help unless `severity`/`help` say otherwise.
fn finding(
    rule: &Rule,
    severity: Option<Severity>,
    relation: &str,
    message: String,
    help: Option<&str>,
    evidence: Vec<String>,
) -> Finding {
    Finding {
        rule: rule.id.into(),
        name: rule.name.into(),
        severity: severity.unwrap_or(rule.severity),
        status: Status::TraceOnly,
        message,
        help: help.unwrap_or(rule.fix).into(),
        path: None,
        line: None,
        relation: Some(relation.to_string()),
        evidence,
        downgraded: None,
    }
}

fn index_named<'a>(usage: &'a Introspection, qualified: &str) -> Option<&'a IndexInfo> {
    usage.indexes.iter().find(|index| index.qualified_name() == qualified)
}

/// Indexes the statement drops: `DROP INDEX` (its lock on the index) or a dropped constraint's index.
fn dropped_indexes(statement: &StatementTrace, usage: &Introspection, since: &str, found: &mut Vec<Finding>) {
    let mut names: Vec<String> = Vec::new();
    if statement.kind == StatementKind::Drop(ObjectType::ObjectIndex) {
        names.extend(statement.locks.iter().filter(|l| l.relkind == "index").map(|l| l.relation.clone()));
    }
    names.extend(
        statement
            .catalog_changes
            .iter()
            .filter(|c| c.change == "dropped" && c.object.starts_with("index "))
            .map(|c| c.object.trim_start_matches("index ").to_string()),
    );
    names.sort();
    names.dedup();
    for name in names {
        let Some(index) = index_named(usage, &name) else { continue };
        if index.idx_scan > 0 {
            found.push(finding(
                DROP_USED_INDEX,
                None,
                &name,
                format!(
                    "drops {name}, which queries use: {} scans {since}{}",
                    index.idx_scan,
                    index.last_idx_scan.as_ref().map(|at| format!(", last at {at}")).unwrap_or_default()
                ),
                None,
                vec![format!("idx_scan = {}", index.idx_scan)],
            ));
        }
    }
}

/// A rewrite rebuilds every index of the table; the ones nothing uses only add time and space.
fn rebuilt_unused_indexes(statement: &StatementTrace, usage: &Introspection, since: &str, found: &mut Vec<Finding>) {
    let unused: Vec<&IndexInfo> = statement
        .rewrites
        .iter()
        .filter(|r| r.relkind == "index")
        .filter_map(|r| index_named(usage, &r.relation))
        .filter(|index| index.idx_scan == 0 && !index.enforces_constraint())
        .collect();
    if unused.is_empty() {
        return;
    }
    let bytes: i64 = unused.iter().map(|i| i.size_bytes).sum();
    let names: Vec<String> = unused.iter().map(|i| i.qualified_name()).collect();
    found.push(finding(
        REWRITE_REBUILDS_UNUSED_INDEXES,
        None,
        &unused[0].qualified_table(),
        format!(
            "the rewrite rebuilds {} index(es) with no scans {since}: {} ({} MiB to build and write while the table is locked)",
            unused.len(),
            names.join(", "),
            bytes / (1024 * 1024)
        ),
        None,
        names.iter().map(|n| format!("{n}: idx_scan = 0")).collect(),
    ));
}

/// Key columns of an index definition (`CREATE [UNIQUE] INDEX … ON t USING btree (a, b)`): plain
/// columns only, `None` for expression or partial indexes.
struct IndexShape {
    table: String,
    method: String,
    columns: Vec<String>,
    unique: bool,
}

fn index_shape(sql: &str) -> Option<IndexShape> {
    let parsed = pg_query::parse(sql, 0).ok()?;
    let node = parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()?;
    let pg_query::NodeEnum::IndexStmt(index) = node else { return None };
    if index.where_clause.is_some() {
        return None;
    }
    let relation = index.relation.as_ref()?;
    let schema = if relation.schemaname.is_empty() { "public" } else { relation.schemaname.as_str() };
    let mut columns = Vec::new();
    for param in &index.index_params {
        let Some(pg_query::NodeEnum::IndexElem(element)) = &param.node else { return None };
        if element.name.is_empty() {
            return None;
        }
        columns.push(element.name.clone());
    }
    let method = if index.access_method.is_empty() { "btree".to_string() } else { index.access_method.clone() };
    Some(IndexShape { table: format!("{schema}.{}", relation.relname), method, columns, unique: index.unique })
}

/// A new index whose columns equal, or are a leading part of, an existing index's on the same table.
fn duplicate_index(statement: &StatementTrace, existing: &Introspection, found: &mut Vec<Finding>) {
    if statement.kind != StatementKind::Create(ObjectType::ObjectIndex) {
        return;
    }
    let Some(new) = index_shape(&statement.sql) else { return };
    for index in existing.indexes.iter().filter(|i| i.qualified_table() == new.table && i.method == new.method) {
        if index.is_partial || index.has_expressions || (new.unique && !index.is_unique) {
            continue;
        }
        let covered = index.columns.len() >= new.columns.len() && index.columns[..new.columns.len()] == new.columns[..];
        if !covered {
            continue;
        }
        let how = if index.columns.len() == new.columns.len() { "duplicates" } else { "is a leading part of" };
        found.push(finding(
            DUPLICATE_INDEX,
            None,
            &new.table,
            format!(
                "the new index on {} ({}) {how} the existing {} ({}): queries can already use it",
                new.table,
                new.columns.join(", "),
                index.qualified_name(),
                index.columns.join(", ")
            ),
            None,
            vec![format!("{}: ({})", index.qualified_name(), index.columns.join(", "))],
        ));
        return;
    }
}

/// A foreign key whose referencing columns lead no index: every delete or key update on the
/// referenced table scans the referencing table.
fn foreign_key_without_index(
    statement: &StatementTrace,
    existing: &Introspection,
    created: &[(String, Vec<String>)],
    found: &mut Vec<Finding>,
) {
    for change in
        statement.catalog_changes.iter().filter(|c| c.change == "created" && c.object.starts_with("constraint "))
    {
        let Some(table) = change.object.rsplit(" on ").next() else { continue };
        let definition = change.detail.trim_end_matches(" (NOT VALID)");
        let Some(columns) = foreign_key_columns(definition) else { continue };
        let leads = |index_columns: &[String]| {
            index_columns.len() >= columns.len() && {
                let mut lead: Vec<&String> = index_columns[..columns.len()].iter().collect();
                let mut wanted: Vec<&String> = columns.iter().collect();
                lead.sort();
                wanted.sort();
                lead == wanted
            }
        };
        let supported = existing
            .indexes
            .iter()
            .filter(|i| i.qualified_table() == table && !i.is_partial)
            .any(|i| leads(&i.columns))
            || created.iter().any(|(t, c)| t == table && leads(c));
        if !supported {
            found.push(finding(
                FOREIGN_KEY_WITHOUT_INDEX,
                None,
                table,
                format!(
                    "foreign key on {table} ({}) has no index leading with those columns: each DELETE or key UPDATE on \
                     the referenced table scans {table}",
                    columns.join(", ")
                ),
                None,
                vec![change.detail.clone()],
            ));
        }
    }
}

/// `FOREIGN KEY (a, b) REFERENCES …` → `[a, b]`.
fn foreign_key_columns(definition: &str) -> Option<Vec<String>> {
    let sql = format!("ALTER TABLE t ADD CONSTRAINT c {definition}");
    let parsed = pg_query::parse(&sql, 0).ok()?;
    let node = parsed.protobuf.stmts.first()?.stmt.as_ref()?.node.as_ref()?;
    let pg_query::NodeEnum::AlterTableStmt(alter) = node else { return None };
    let cmd = alter.cmds.first()?.node.as_ref()?;
    let pg_query::NodeEnum::AlterTableCmd(cmd) = cmd else { return None };
    let Some(pg_query::NodeEnum::Constraint(constraint)) = cmd.def.as_ref()?.node.as_ref() else { return None };
    if constraint.fk_attrs.is_empty() {
        return None;
    }
    constraint
        .fk_attrs
        .iter()
        .map(|n| match &n.node {
            Some(pg_query::NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// `ADD CONSTRAINT … USING INDEX i` on an invalid index; `CLUSTER … USING i` / `REINDEX INDEX i`
/// on an index nothing scans.
fn relies_on_index(
    statement: &StatementTrace,
    existing: &Introspection,
    usage: &Introspection,
    since: &str,
    found: &mut Vec<Finding>,
) {
    let Ok(parsed) = pg_query::parse(&statement.sql, 0) else { return };
    let Some(node) = parsed.protobuf.stmts.first().and_then(|s| s.stmt.as_ref()).and_then(|s| s.node.as_ref()) else {
        return;
    };
    let lookup = |name: &str, intro: &'_ Introspection| -> Option<IndexInfo> {
        intro.indexes.iter().find(|i| i.name == name || i.qualified_name() == name).cloned()
    };
    match node {
        pg_query::NodeEnum::AlterTableStmt(alter) => {
            for cmd in &alter.cmds {
                let Some(pg_query::NodeEnum::AlterTableCmd(cmd)) = &cmd.node else { continue };
                let Some(pg_query::NodeEnum::Constraint(constraint)) = cmd.def.as_ref().and_then(|d| d.node.as_ref())
                else {
                    continue;
                };
                if constraint.indexname.is_empty() {
                    continue;
                }
                if let Some(index) = lookup(&constraint.indexname, existing).filter(|i| !i.is_valid) {
                    found.push(finding(
                        RELIES_ON_INVALID_OR_UNUSED_INDEX,
                        None,
                        &index.qualified_table(),
                        format!(
                            "adds a constraint USING INDEX {}, which is invalid (a failed or unfinished CREATE INDEX \
                             CONCURRENTLY): PostgreSQL refuses it",
                            index.qualified_name()
                        ),
                        None,
                        vec!["indisvalid = false".into()],
                    ));
                }
            }
        }
        pg_query::NodeEnum::ClusterStmt(cluster) if !cluster.indexname.is_empty() => {
            if let Some(index) = lookup(&cluster.indexname, usage).filter(|i| i.idx_scan == 0) {
                found.push(finding(
                    RELIES_ON_INVALID_OR_UNUSED_INDEX,
                    Some(Severity::Low),
                    &index.qualified_table(),
                    format!(
                        "CLUSTER orders the table by {}, which no query has scanned {since}",
                        index.qualified_name()
                    ),
                    Some(
                        "Cluster on an index the workload reads by, or skip the CLUSTER (it rewrites the table under \
                         ACCESS EXCLUSIVE; pg_repack does it online).",
                    ),
                    vec!["idx_scan = 0".into()],
                ));
            }
        }
        pg_query::NodeEnum::ReindexStmt(reindex) if !reindex.relation.as_ref().is_none_or(|r| r.relname.is_empty()) => {
            let name = reindex.relation.as_ref().map(|r| r.relname.clone()).unwrap_or_default();
            if let Some(index) = lookup(&name, usage).filter(|i| i.idx_scan == 0 && !i.enforces_constraint()) {
                found.push(finding(
                    RELIES_ON_INVALID_OR_UNUSED_INDEX,
                    Some(Severity::Low),
                    &index.qualified_table(),
                    format!("REINDEX rebuilds {}, which no query has scanned {since}", index.qualified_name()),
                    Some("Drop the index (DROP INDEX CONCURRENTLY) instead of rebuilding it."),
                    vec!["idx_scan = 0".into()],
                ));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_shapes_from_definitions() {
        let shape = index_shape("CREATE UNIQUE INDEX orders_a_b ON public.orders USING btree (a, b)").unwrap();
        assert_eq!(
            (shape.table.as_str(), shape.columns.clone(), shape.unique),
            ("public.orders", vec!["a".to_string(), "b".to_string()], true)
        );
        let shape = index_shape("CREATE INDEX CONCURRENTLY i ON orders (user_id)").unwrap();
        assert_eq!((shape.table.as_str(), shape.method.as_str()), ("public.orders", "btree"));
        assert!(index_shape("CREATE INDEX i ON t (lower(email))").is_none());
        assert!(index_shape("CREATE INDEX i ON t (a) WHERE a > 0").is_none());
    }

    #[test]
    fn foreign_key_columns_from_constraint_definitions() {
        assert_eq!(
            foreign_key_columns("FOREIGN KEY (user_id, tenant) REFERENCES users(id, tenant) NOT VALID"),
            Some(vec!["user_id".to_string(), "tenant".to_string()])
        );
        assert_eq!(foreign_key_columns("CHECK ((amount > 0))"), None);
    }
}
