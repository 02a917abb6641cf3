//! SARIF 2.1.0 for code scanning (GitHub's `upload-sarif`, IDE viewers): one run, the rules the
//! findings name, one result per finding on its migration file and line.

use std::path::Path;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::text::relative_path;
use super::{RenderOptions, Subject};
use crate::analyze::Finding;
use crate::analyze::{catalogue, Severity};
use crate::trace::Outcome;

/// The schema the document declares (the OASIS SARIF 2.1.0 schema, as schemastore publishes it).
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF's `level` for a severity: critical and high fail a check (`error`), medium warns, low notes.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// The SARIF log, pretty-printed.
pub fn render(subject: &Subject<'_>, options: &RenderOptions) -> String {
    let base = options.base.as_deref();
    let findings = subject.findings();
    let mut rule_ids: Vec<&str> = Vec::new();
    for finding in &findings {
        if !rule_ids.contains(&finding.rule.as_str()) {
            rule_ids.push(&finding.rule);
        }
    }
    rule_ids.sort_unstable();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let finding = findings.iter().find(|f| f.rule == *id).expect("the id comes from a finding");
            rule_descriptor(id, finding)
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "lockscope",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "invocations": [invocation(subject, base)],
            "results": results(subject, &rule_ids, base),
            "properties": run_properties(subject, base),
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).expect("the log is plain data");
    text.push('\n');
    text
}

/// One result per finding of the judged migrations, pointing at its statement.
fn results(subject: &Subject<'_>, rule_ids: &[&str], base: Option<&Path>) -> Vec<Value> {
    let mut results = Vec::new();
    for (_, migration) in subject.judged() {
        for statement in &migration.statements {
            for finding in statement.findings.iter() {
                let rule_index = rule_ids.iter().position(|id| *id == finding.rule).expect("every rule is listed");
                let path = finding.path.as_deref().unwrap_or(&migration.path);
                let line = finding.line.unwrap_or(statement.line).max(1);
                let column = if finding.line.is_none_or(|l| l == statement.line) { statement.column.max(1) } else { 1 };
                let mut found = result(finding, rule_index, path, line, column, &statement.sql, base);
                // The same lock-hold figure as every other format: as the runner holds it.
                if let (Some(hold), Some(properties)) = (statement.lock_hold_ms, found["properties"].as_object_mut()) {
                    properties.insert("lockHoldMs".into(), json!(hold));
                }
                results.push(found);
            }
        }
    }
    results
}

/// Whether the run succeeded, and the failed statement as a notification when it did not.
fn invocation(subject: &Subject<'_>, base: Option<&Path>) -> Value {
    let mut invocation = Map::new();
    let mut notifications = Vec::new();
    if let Some(Outcome::Failed { path, line, message, .. }) = subject.failure() {
        notifications.push(json!({
            "level": "error",
            "message": { "text": format!("the migration failed (everything was rolled back): {message}") },
            "locations": [location(path, *line, 1, base)],
        }));
    }
    invocation.insert("executionSuccessful".into(), Value::Bool(subject.failure().is_none()));
    if !notifications.is_empty() {
        invocation.insert("toolExecutionNotifications".into(), Value::Array(notifications));
    }
    Value::Object(invocation)
}

/// The command, its setting and the `--git-diff` scope.
fn run_properties(subject: &Subject<'_>, base: Option<&Path>) -> Value {
    let mut properties = Map::new();
    properties.insert("command".into(), Value::String(subject.command().into()));
    properties.insert("setting".into(), Value::String(subject.setting()));
    if let Some(scope) = &subject.scope {
        properties.insert("gitDiffBase".into(), Value::String(scope.base.clone()));
        properties.insert(
            "contextMigrations".into(),
            Value::Array(scope.context.iter().map(|p| Value::String(relative_path(p, base))).collect()),
        );
    }
    Value::Object(properties)
}

fn rule_descriptor(id: &str, finding: &Finding) -> Value {
    match catalogue::find(id) {
        Some(rule) => {
            let markdown = format!(
                "{}\n\n**Why it hurts:** {}\n\n**Safe alternative:** {}\n\nBad:\n```sql\n{}\n```\nGood:\n```sql\n{}\n```",
                rule.trigger,
                rule.why,
                rule.fix,
                rule.bad.trim_end(),
                rule.good.trim_end()
            );
            json!({
                "id": rule.id,
                "name": rule.name,
                "shortDescription": { "text": rule.title },
                "fullDescription": { "text": format!("{} {}", rule.trigger, rule.why) },
                "help": { "text": rule.fix, "markdown": markdown },
                "defaultConfiguration": { "level": level(rule.severity) },
                "properties": {
                    "tags": ["postgresql", "migration", "locking"],
                    "severity": rule.severity.name(),
                    "kind": rule.kind.label(),
                },
            })
        }
        None => json!({
            "id": id,
            "name": finding.name,
            "shortDescription": { "text": finding.name },
            "help": { "text": finding.help },
            "defaultConfiguration": { "level": level(finding.severity) },
        }),
    }
}

fn result(
    finding: &Finding,
    rule_index: usize,
    path: &str,
    line: usize,
    column: usize,
    sql: &str,
    base: Option<&Path>,
) -> Value {
    let mut text = finding.message.clone();
    if !finding.evidence.is_empty() && finding.status != crate::analyze::Status::Static {
        text.push_str(&format!("\nSeen: {}", finding.evidence.join("; ")));
    }
    if let Some(reason) = &finding.downgraded {
        text.push_str(&format!("\nDowngraded to low: {reason}"));
    }
    text.push_str(&format!("\nSafe alternative: {}", finding.help));

    let mut properties = Map::new();
    properties.insert("severity".into(), Value::String(finding.severity.name().into()));
    properties.insert("status".into(), Value::String(finding.status.label().into()));
    if let Some(relation) = &finding.relation {
        properties.insert("relation".into(), Value::String(relation.clone()));
    }
    if !finding.evidence.is_empty() {
        properties.insert("evidence".into(), json!(finding.evidence));
    }
    if let Some(reason) = &finding.downgraded {
        properties.insert("downgraded".into(), Value::String(reason.clone()));
    }
    json!({
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": text },
        "locations": [location(path, line, column, base)],
        "partialFingerprints": { "lockscopeStatement/v1": fingerprint(&finding.rule, &relative_path(path, base), sql) },
        "properties": Value::Object(properties),
    })
}

fn location(path: &str, line: usize, column: usize, base: Option<&Path>) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": artifact_uri(path, base) },
            "region": { "startLine": line.max(1), "startColumn": column.max(1) },
        }
    })
}

/// Stable across runs while the rule, the file and the statement's text stay the same (the line
/// may move), so code scanning keeps one alert per problem.
fn fingerprint(rule: &str, path: &str, sql: &str) -> String {
    let normalized: Vec<&str> = sql.split_whitespace().collect();
    let mut hash = Sha256::new();
    for part in [rule, path, &normalized.join(" ")] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A URI reference for `path`: relative (to `base`) with `/` separators, or `file://` for an
/// absolute path outside it; characters outside RFC 3986's unreserved set are percent-encoded.
pub fn artifact_uri(path: &str, base: Option<&Path>) -> String {
    let shown = relative_path(path, base);
    let encoded: String = shown
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    if shown.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_inside_the_base_and_encoded() {
        assert_eq!(artifact_uri("/repo/db/001 add.sql", Some(Path::new("/repo"))), "db/001%20add.sql");
        assert_eq!(artifact_uri("/other/001.sql", Some(Path::new("/repo"))), "file:///other/001.sql");
        assert_eq!(artifact_uri("db/ä.sql", None), "db/%C3%A4.sql");
    }

    #[test]
    fn fingerprints_ignore_whitespace_and_lines() {
        assert_eq!(
            fingerprint("LS101", "a.sql", "ALTER  TABLE t\n ADD x int"),
            fingerprint("LS101", "a.sql", "ALTER TABLE t ADD x int")
        );
        assert_ne!(fingerprint("LS101", "a.sql", "x"), fingerprint("LS102", "a.sql", "x"));
    }
}
