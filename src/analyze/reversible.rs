//! Judging `--reversible` round trips: what the down script failed to put back, compared with the
//! snapshot taken before up, and which data it destroyed. The tracer only observes (snapshots,
//! the down's statements); the verdicts and their wording live here.

use std::collections::BTreeSet;

use crate::analyze::rules::reversibility as entries;
use crate::analyze::{Assessment, Finding, ReversibilityDifference, Rule, Severity, Status};
use crate::trace::snapshot::{Attributes, Snapshot};
use crate::trace::{MigrationTrace, ReversibilityTrace, Trace};

/// Rule: the down script does not restore the schema (or fails, or the up fails after it).
pub const DOWN_NOT_REVERSIBLE: &Rule = &entries::DOWN_NOT_REVERSIBLE;
/// Rule: the migration has no down script.
pub const MISSING_DOWN: &Rule = &entries::MISSING_DOWN;
/// Rule: the down script destroys data the up created or moved.
pub const DOWN_DESTROYS_DATA: &Rule = &entries::DOWN_DESTROYS_DATA;

/// Judges each round trip of `trace` into `assessment` (its differences, and the findings on the
/// migration's first statement), and returns a summary for the report's notes (empty when no
/// round trip ran).
pub fn judge(trace: &Trace, assessment: &mut Assessment) -> Vec<String> {
    let (mut checked, mut clean) = (0, 0);
    let mut skipped = Vec::new();
    for (migration, judged) in trace.migrations.iter().zip(&mut assessment.migrations) {
        let Some(round_trip) = migration.reversibility.as_ref() else { continue };
        judged.reversibility = differences(round_trip);
        match &round_trip.skipped {
            Some(reason) if !round_trip.missing_down => skipped.push(format!("{}: {reason}", migration.version)),
            Some(_) => {}
            None => {
                checked += 1;
                if judged.reversibility.is_empty()
                    && round_trip.down_failed.is_none()
                    && round_trip.reapply_failed.is_none()
                {
                    clean += 1;
                }
            }
        }
        let findings = findings(migration, &judged.reversibility);
        if let Some(first) = judged.statements.first_mut() {
            first.findings.extend(findings);
        }
    }
    let mut notes = Vec::new();
    if checked > 0 {
        notes.push(format!(
            "--reversible: up → down → up ran for {checked} migration(s): {clean} left the schema and data as before \
             up{}",
            if checked > clean { format!(", {} did not (see the findings)", checked - clean) } else { String::new() }
        ));
    }
    for reason in skipped {
        notes.push(format!("--reversible: not checked: {reason}"));
    }
    notes
}

/// Everything the down did not put back, schema first, then data.
pub fn differences(round_trip: &ReversibilityTrace) -> Vec<ReversibilityDifference> {
    let (Some(before), Some(after_up), Some(after_down)) =
        (&round_trip.before_up, &round_trip.after_up, &round_trip.after_down)
    else {
        return Vec::new();
    };
    let mut found = schema_differences(before, after_down);
    found.extend(data_differences(before, after_up, after_down));
    found
}

fn difference(kind: &str, object: String, message: String) -> ReversibilityDifference {
    ReversibilityDifference { kind: kind.to_string(), object, message }
}

/// `column public.users.phone`, `constraint users_email_key on public.users`.
fn object_name(kind: &str, object: &str) -> String {
    format!("{kind} {object}")
}

fn schema_differences(before: &Snapshot, after: &Snapshot) -> Vec<ReversibilityDifference> {
    let mut found = Vec::new();
    let keys: BTreeSet<&(String, String)> = before.schema.objects.keys().chain(after.schema.objects.keys()).collect();
    for key in keys {
        let (kind, object) = key;
        let name = object_name(kind, object);
        match (before.schema.objects.get(key), after.schema.objects.get(key)) {
            (None, Some(_)) => found.push(difference("schema", name.clone(), format!("down leaves {name} behind"))),
            (Some(_), None) => found.push(difference("schema", name.clone(), format!("down does not restore {name}"))),
            (Some(was), Some(now)) if was != now => {
                for message in changes(kind, &name, was, now) {
                    found.push(difference("schema", name.clone(), message));
                }
            }
            _ => {}
        }
    }
    found
}

fn position(text: Option<&str>) -> u32 {
    text.and_then(|text| text.parse().ok()).unwrap_or(0)
}

fn attribute<'a>(attributes: &'a Attributes, key: &str) -> Option<&'a str> {
    attributes.get(key).map(String::as_str)
}

/// How one object changed, in the words a DBA expects for its kind.
fn changes(kind: &str, name: &str, was: &Attributes, now: &Attributes) -> Vec<String> {
    let mut messages = Vec::new();
    let keys: BTreeSet<&String> = was.keys().chain(now.keys()).collect();
    for key in keys {
        let (before, after) = (attribute(was, key), attribute(now, key));
        if before == after {
            continue;
        }
        let message = match (kind, key.as_str()) {
            ("column", "type") => {
                format!("down leaves {name} as {} ({} before up)", after.unwrap_or("?"), before.unwrap_or("?"))
            }
            ("column", "not null") => match after {
                Some("true") => format!("down leaves {name} NOT NULL (nullable before up)"),
                _ => format!("down leaves {name} nullable (NOT NULL before up)"),
            },
            ("column", "default") => match (before, after) {
                (None, Some(after)) => format!("down leaves {name} with default {after} (no default before up)"),
                (Some(before), None) => format!("down does not restore the default of {name} ({before})"),
                (Some(before), Some(after)) => format!("down leaves {name} with default {after} ({before} before up)"),
                (None, None) => continue,
            },
            // A recreated column lands at the end; the columns after the old spot only shift left.
            ("column", "position") if position(after) <= position(before) => continue,
            ("column", "position") => format!(
                "down recreates {name} at position {} (position {} before up)",
                after.unwrap_or("?"),
                before.unwrap_or("?")
            ),
            ("index", "unique") => match after {
                Some("true") => format!("down recreates {name} with UNIQUE"),
                _ => format!("down recreates {name} without UNIQUE"),
            },
            // The definition shows the UNIQUE change too; one message is enough.
            ("index", "definition") if attribute(was, "unique") != attribute(now, "unique") => continue,
            ("index" | "constraint" | "trigger" | "view" | "materialized view", "definition") => format!(
                "down recreates {name} as {} ({} before up)",
                after.unwrap_or("nothing"),
                before.unwrap_or("nothing")
            ),
            ("constraint", "validated") => match after {
                Some("false") => format!("down leaves {name} NOT VALID (validated before up)"),
                _ => format!("down leaves {name} validated (NOT VALID before up)"),
            },
            ("function" | "procedure" | "aggregate", "definition") => {
                format!("down leaves {name} with a different definition than before up")
            }
            ("enum", "labels") => format!(
                "down leaves {name} with labels ({}) (({}) before up)",
                after.unwrap_or(""),
                before.unwrap_or("")
            ),
            (_, key) => format!(
                "down leaves {name} with {key} {} ({} before up)",
                after.unwrap_or("none"),
                before.unwrap_or("none")
            ),
        };
        messages.push(message);
    }
    messages
}

/// Data the down did not bring back (tables and columns that existed before up), and data the up
/// put into tables the down drops.
fn data_differences(before: &Snapshot, after_up: &Snapshot, after_down: &Snapshot) -> Vec<ReversibilityDifference> {
    let mut found = Vec::new();
    for (table, was) in &before.data {
        let Some(now) = after_down.data.get(table) else { continue };
        if was.rows != now.rows {
            found.push(difference(
                "data",
                format!("table {table}"),
                format!(
                    "down does not restore the rows of table {table}: {} before up, {} after down",
                    was.rows, now.rows
                ),
            ));
            continue;
        }
        for (column, was_column) in &was.columns {
            let Some(now_column) = now.columns.get(column) else { continue };
            if was_column == now_column {
                continue;
            }
            let name = format!("{table}.{}", crate::sql::quote_identifier(column));
            let message = if was_column.non_null != now_column.non_null {
                format!(
                    "down does not restore the data of column {name}: {} values before up, {} after down",
                    was_column.non_null, now_column.non_null
                )
            } else {
                format!("down does not restore the data of column {name}: its values differ from before up")
            };
            found.push(difference("data", format!("column {name}"), message));
        }
    }
    for (table, data) in &after_up.data {
        let created = !before.schema.objects.contains_key(&("table".to_string(), table.clone()));
        let dropped = !after_down.schema.objects.contains_key(&("table".to_string(), table.clone()));
        if created && dropped && data.rows > 0 {
            found.push(difference(
                "data destroyed",
                format!("table {table}"),
                format!(
                    "down drops table {table} and the {} rows the up put in it (and any written after the up ran)",
                    data.rows
                ),
            ));
        }
    }
    found
}

/// Below the rule's own severity: a table the up filled and the down drops (the rows are the
/// up's), a column only recreated at another position.
fn severity_of(difference: &ReversibilityDifference) -> Option<Severity> {
    match difference.kind.as_str() {
        "data destroyed" => Some(Severity::Medium),
        _ if difference.message.contains(" at position ") => Some(Severity::Low),
        _ => None,
    }
}

/// A finding of `rule` (its id, name, help and, unless `severity` says otherwise, severity).
fn finding(rule: &Rule, severity: Option<Severity>, message: String, path: &str) -> Finding {
    Finding {
        rule: rule.id.to_string(),
        name: rule.name.to_string(),
        severity: severity.unwrap_or(rule.severity),
        status: Status::TraceOnly,
        message,
        help: rule.fix.to_string(),
        path: Some(path.to_string()),
        line: Some(1),
        relation: None,
        evidence: Vec::new(),
        downgraded: None,
    }
}

fn findings(migration: &MigrationTrace, differences: &[ReversibilityDifference]) -> Vec<Finding> {
    let Some(round_trip) = &migration.reversibility else { return Vec::new() };
    let down_path = round_trip.down_path.clone().unwrap_or_else(|| migration.path.clone());
    let mut found = Vec::new();
    if round_trip.missing_down {
        found.push(finding(
            MISSING_DOWN,
            None,
            format!("migration {} has no down script: it cannot be rolled back", migration.version),
            &migration.path,
        ));
    }
    if let Some(failure) = &round_trip.down_failed {
        let mut failed = finding(
            DOWN_NOT_REVERSIBLE,
            None,
            format!("down fails right after up, at line {}: {}", failure.line, failure.message),
            &failure.path,
        );
        failed.line = Some(failure.line);
        found.push(failed);
    }
    for difference in differences {
        let rule = if difference.kind.starts_with("data") { DOWN_DESTROYS_DATA } else { DOWN_NOT_REVERSIBLE };
        let mut item = finding(rule, severity_of(difference), difference.message.clone(), &down_path);
        item.relation = Some(difference.object.clone());
        found.push(item);
    }
    if let Some(failure) = &round_trip.reapply_failed {
        let mut failed = finding(
            DOWN_NOT_REVERSIBLE,
            None,
            format!("up fails when run again after down, at line {}: {}", failure.line, failure.message),
            &failure.path,
        );
        failed.line = Some(failure.line);
        found.push(failed);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attributes(pairs: &[(&str, &str)]) -> Attributes {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn column_changes_in_a_dbas_words() {
        let was = attributes(&[("type", "integer"), ("not null", "true"), ("default", "1"), ("position", "2")]);
        let now = attributes(&[("type", "bigint"), ("not null", "false"), ("position", "5")]);
        assert_eq!(
            changes("column", "column public.t.c", &was, &now),
            [
                "down does not restore the default of column public.t.c (1)",
                "down leaves column public.t.c nullable (NOT NULL before up)",
                "down recreates column public.t.c at position 5 (position 2 before up)",
                "down leaves column public.t.c as bigint (integer before up)",
            ]
        );
        // A column that only shifted left because another one was recreated is not a difference.
        let shifted = attributes(&[("type", "integer"), ("not null", "true"), ("default", "1"), ("position", "1")]);
        assert!(changes("column", "column public.t.c", &was, &shifted).is_empty());
    }

    #[test]
    fn index_uniqueness_is_one_message() {
        let was = attributes(&[("unique", "true"), ("definition", "ON public.t USING btree (a)")]);
        let now = attributes(&[("unique", "false"), ("definition", "ON public.t USING btree (a)")]);
        assert_eq!(
            changes("index", "index public.t_a", &was, &now),
            ["down recreates index public.t_a without UNIQUE"]
        );
    }
}
