//! The rule catalogue as data: every rule's id, name, severity, what triggers it, why it hurts,
//! the safe alternative and a bad/good example pair. The same entries render `lockscope explain`,
//! `lockscope rules`, the README table and the text of every finding.

use std::fmt::Write;

use super::context::{Cx, FileCx, Hit};
use super::Severity;

/// How a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// From the SQL (and the migration around it); a trace confirms or contradicts it.
    Static,
    /// Only from what a trace observed; never fires in `lint`.
    TraceOnly,
    /// About lockscope's own ignore directives.
    Meta,
}

impl RuleKind {
    pub fn label(self) -> &'static str {
        match self {
            RuleKind::Static => "static",
            RuleKind::TraceOnly => "trace-only",
            RuleKind::Meta => "directive",
        }
    }
}

/// The check a rule runs.
#[derive(Clone, Copy)]
pub enum Check {
    /// Once per statement.
    Statement(fn(&Cx<'_>) -> Vec<Hit>),
    /// Once per migration script (pairs of scripts, transaction wrapping).
    File(fn(&FileCx<'_>) -> Vec<Hit>),
    /// Applied by the engine itself (ignore directives).
    Engine,
}

/// One entry of the catalogue.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Stable id: `LS101`. Never reused.
    pub id: &'static str,
    /// Stable name: `create-index-without-concurrently`.
    pub name: &'static str,
    pub severity: Severity,
    pub kind: RuleKind,
    /// Whether an empty table makes the finding harmless (the cost is per row).
    pub size_matters: bool,
    /// One line for `lockscope rules` and the README.
    pub title: &'static str,
    /// What makes it fire.
    pub trigger: &'static str,
    /// Why it hurts: which lock, blocking what, for how long.
    pub why: &'static str,
    /// The safe way to do it; the `help` of every finding.
    pub fix: &'static str,
    /// Example migration that triggers the rule (`rules/<ID>/bad.sql`).
    pub bad: &'static str,
    /// The same change done safely (`rules/<ID>/good.sql`).
    pub good: &'static str,
    pub check: Check,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).field("name", &self.name).finish()
    }
}

/// Every rule, in id order.
pub fn all() -> &'static [&'static Rule] {
    super::rules::ALL
}

/// The rule with this id (`LS101`, any case) or name (`create-index-without-concurrently`).
pub fn find(key: &str) -> Option<&'static Rule> {
    let key = key.trim();
    all().iter().copied().find(|rule| rule.id.eq_ignore_ascii_case(key) || rule.name.eq_ignore_ascii_case(key))
}

/// `lockscope explain RULE`: the rule in full, with its examples.
pub fn explain(rule: &Rule) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {} — {}", rule.id, rule.name, rule.title);
    let _ = writeln!(out, "severity: {} · {}", rule.severity.name(), rule.kind.label());
    for (heading, text) in [("When", rule.trigger), ("Why it hurts", rule.why), ("Safe alternative", rule.fix)] {
        let _ = writeln!(out, "\n{heading}:");
        let _ = writeln!(out, "{}", indent(&wrap(text, 96), "  "));
    }
    for (heading, text) in [("Bad", rule.bad), ("Good", rule.good)] {
        let _ = writeln!(out, "\n{heading} (rules/{}/{}.sql):", rule.id, heading.to_lowercase());
        let _ = writeln!(out, "{}", indent(text.trim_end(), "    "));
    }
    out
}

/// `lockscope explain TOPIC`: a rule (by id or name) or a lock mode (any spelling); `None` when
/// the topic is neither.
pub fn explain_topic(topic: &str) -> Option<String> {
    match find(topic) {
        Some(rule) => Some(explain(rule)),
        None => crate::locks::LockMode::parse(topic).map(crate::locks::LockMode::explain),
    }
}

/// `lockscope rules --format json`: every field of every rule.
pub fn json() -> String {
    let rules: Vec<serde_json::Value> = all()
        .iter()
        .map(|rule| {
            serde_json::json!({
                "id": rule.id,
                "name": rule.name,
                "severity": rule.severity,
                "kind": rule.kind.label(),
                "title": rule.title,
                "trigger": rule.trigger,
                "why": rule.why,
                "fix": rule.fix,
                "bad": rule.bad,
                "good": rule.good,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rules).expect("plain data");
    text.push('\n');
    text
}

/// `lockscope rules`: one line per rule.
pub fn list() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<6} {:<8} {:<10} {:<42} title", "id", "severity", "kind", "name");
    for rule in all() {
        let _ = writeln!(
            out,
            "{:<6} {:<8} {:<10} {:<42} {}",
            rule.id,
            rule.severity.name(),
            rule.kind.label(),
            rule.name,
            rule.title
        );
    }
    out
}

/// The Markdown table of the README's "Findings" section (`lockscope rules --format markdown`).
pub fn markdown_table() -> String {
    let mut out = String::from("| rule | name | severity | when |\n|---|---|---|---|\n");
    for rule in all() {
        let kind = match rule.kind {
            RuleKind::Static => String::new(),
            other => format!(" ({})", other.label()),
        };
        let _ = writeln!(out, "| {} | `{}` | {}{kind} | {} |", rule.id, rule.name, rule.severity.name(), rule.title);
    }
    out
}

/// The migration files of an example, `(file name, text)`: a line `-- file: NAME` starts each
/// file. An example without such lines is one up script, `001_example.up.sql`, paired with a
/// trivial down script.
pub fn example_files(text: &str) -> Vec<(String, String)> {
    const MARKER: &str = "-- file:";
    if !text.lines().any(|line| line.starts_with(MARKER)) {
        return vec![
            ("001_example.up.sql".to_string(), text.to_string()),
            ("001_example.down.sql".to_string(), "SELECT 1;\n".to_string()),
        ];
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix(MARKER) {
            files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    files
}

/// The PostgreSQL version an example is written for (`-- lockscope-example: pg_version=13`), if
/// it is not the newest.
pub fn example_pg_version(text: &str) -> Option<u32> {
    text.lines()
        .find_map(|line| line.strip_prefix("-- lockscope-example:"))
        .and_then(|rest| rest.trim().strip_prefix("pg_version="))
        .and_then(|version| version.trim().parse().ok())
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| if line.is_empty() { String::new() } else { format!("{prefix}{line}") })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Greedy word wrap at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut lines = Vec::new();
    for paragraph in text.split("\n\n") {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
        lines.push(String::new());
    }
    lines.pop();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = std::collections::BTreeSet::new();
        let mut names = std::collections::BTreeSet::new();
        for rule in all() {
            assert!(ids.insert(rule.id), "duplicate id {}", rule.id);
            assert!(names.insert(rule.name), "duplicate name {}", rule.name);
            assert!(rule.id.starts_with("LS") && rule.id[2..].chars().all(|c| c.is_ascii_digit()), "{}", rule.id);
            assert!(rule.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", rule.name);
            for (what, text) in [("title", rule.title), ("trigger", rule.trigger), ("why", rule.why), ("fix", rule.fix)]
            {
                assert!(!text.trim().is_empty(), "{} has no {what}", rule.id);
            }
            assert!(!rule.bad.trim().is_empty() && !rule.good.trim().is_empty(), "{} lacks examples", rule.id);
        }
        let sorted: Vec<&str> = all().iter().map(|r| r.id).collect();
        let mut expected = sorted.clone();
        expected.sort();
        assert_eq!(sorted, expected, "the catalogue is kept in id order");
    }

    #[test]
    fn rules_are_found_by_id_or_name() {
        assert_eq!(find("ls001").map(|r| r.id), Some("LS001"));
        assert_eq!(find("lock-wait").map(|r| r.id), Some("LS002"));
        assert!(find("LS999").is_none());
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aaa bbb ccc", 7), "aaa bbb\nccc");
        assert_eq!(wrap("one\n\ntwo", 80), "one\n\ntwo");
    }
}
