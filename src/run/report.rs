//! The report of a guarded run: attempts, cancellations with their blockers, events in order,
//! and the time others waited behind the migration — as a table, JSON or Markdown.

use serde::Serialize;

use crate::units::human_duration;

use super::guard::Blocker;
use super::retry::Verdict;

/// Version of the run report JSON.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything `lockscope run` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// The command, as given after `--` (database URLs redacted).
    pub command: Vec<String>,
    /// `succeeded`, `failed`, `cancelled` (stopped after a cancellation), `interrupted`, `error`.
    pub outcome: String,
    /// What lockscope exits with.
    pub exit_code: i32,
    pub attempts: Vec<Attempt>,
    /// Everything in the order it happened.
    pub events: Vec<Event>,
    /// Seconds other sessions spent queued behind the command's sessions, summed over sessions.
    pub waited_behind_s: f64,
    /// `-c lock_timeout=…` put into PGOPTIONS, if any.
    pub injected_lock_timeout: Option<String>,
    pub notes: Vec<String>,
}

/// One run of the command.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Attempt {
    /// 1-based.
    pub number: u32,
    pub started_at: String,
    pub duration_ms: f64,
    /// `succeeded`, `failed`, `cancelled`, `lock_timeout`, `interrupted`.
    pub outcome: String,
    pub exit_code: Option<i32>,
    /// The `PGAPPNAME` tag of this attempt.
    pub application_name: String,
    /// Migrations the ledger recorded as pending before the attempt, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_before: Option<Vec<String>>,
    pub sessions: Vec<ChildSession>,
    pub cancellations: Vec<Cancellation>,
    pub preflight: Vec<PreflightSession>,
    pub invalid_indexes: Vec<String>,
    /// What lockscope decided after this attempt, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Verdict>,
}

/// A database session of the command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildSession {
    pub pid: i32,
    pub application_name: Option<String>,
    /// `application_name`, `tcp socket`, `session filter` (each way that matched).
    pub found_by: Vec<String>,
    pub client_port: Option<i32>,
}

/// A statement lockscope cancelled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cancellation {
    pub at: String,
    pub pid: i32,
    pub statement: Option<String>,
    /// `AccessExclusiveLock on public.items`.
    pub waiting_for: String,
    pub waited_s: f64,
    pub queued_behind: usize,
    pub blockers: Vec<Blocker>,
    pub reason: String,
    /// The server accepted the cancel request.
    pub cancelled: bool,
}

/// A session with an open transaction holding locks the migration needs, seen before an attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreflightSession {
    pub pid: i32,
    pub application_name: Option<String>,
    pub state: Option<String>,
    pub query: Option<String>,
    pub xact_age_s: Option<f64>,
    pub relations: Vec<String>,
}

/// Something that happened, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub at: String,
    pub attempt: u32,
    /// `started`, `session_found`, `waiting`, `cancelled`, `exited`, `retry_decision`,
    /// `backoff`, `ledger_reset`, `invalid_index_dropped`, `interrupted`, `preflight`, …
    pub kind: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
}

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

/// The report in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(report).map(|text| text + "\n").unwrap_or_default(),
        Format::Table => table(report),
        Format::Markdown => markdown(report),
    }
}

fn blocker_text(blocker: &Blocker) -> String {
    format!(
        "pid {} ({}, {}{}){}",
        blocker.pid,
        blocker.application_name.as_deref().filter(|a| !a.is_empty()).unwrap_or("no application_name"),
        blocker.state.as_deref().unwrap_or("state unknown"),
        blocker.xact_age_s.map(|age| format!(", transaction open {}", human_duration(age))).unwrap_or_default(),
        blocker.query.as_deref().map(|q| format!(": {}", one_line(q, 80))).unwrap_or_default()
    )
}

fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    flat.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
}

fn summary_line(report: &Report) -> String {
    let cancels: usize = report.attempts.iter().map(|a| a.cancellations.len()).sum();
    format!(
        "lockscope run: {} after {} attempt(s), {} cancellation(s); others waited {} behind the migration; exit {}",
        report.outcome,
        report.attempts.len(),
        cancels,
        human_duration(report.waited_behind_s),
        report.exit_code
    )
}

fn table(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&summary_line(report));
    out.push('\n');
    let mut attempts = comfy_table::Table::new();
    attempts.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    attempts.set_header(["#", "started", "duration", "outcome", "exit", "sessions (found by)", "cancellations"]);
    for attempt in &report.attempts {
        attempts.add_row([
            attempt.number.to_string(),
            attempt.started_at.clone(),
            human_duration(attempt.duration_ms / 1000.0),
            attempt.outcome.clone(),
            attempt.exit_code.map_or("-".into(), |c| c.to_string()),
            attempt
                .sessions
                .iter()
                .map(|s| format!("{} ({})", s.pid, s.found_by.join(", ")))
                .collect::<Vec<_>>()
                .join("\n"),
            attempt.cancellations.len().to_string(),
        ]);
    }
    out.push_str(&attempts.to_string());
    out.push('\n');
    for attempt in &report.attempts {
        for cancel in &attempt.cancellations {
            out.push_str(&format!(
                "attempt {}: cancelled pid {} waiting {} for {}, {} session(s) queued behind it; because {}\n",
                attempt.number,
                cancel.pid,
                human_duration(cancel.waited_s),
                cancel.waiting_for,
                cancel.queued_behind,
                cancel.reason
            ));
            for blocker in &cancel.blockers {
                out.push_str(&format!("  blocked by {}\n", blocker_text(blocker)));
            }
        }
        for index in &attempt.invalid_indexes {
            out.push_str(&format!("attempt {}: INVALID index left behind: {index}\n", attempt.number));
        }
        if let Some(verdict) = &attempt.retry {
            out.push_str(&format!("attempt {}: {}\n", attempt.number, verdict_text(verdict)));
        }
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Retry { why } => format!("retry: {why}"),
        Verdict::FixDirtyThenRetry { table, version, reset_to, why } => format!(
            "reset {table} from dirty {version} to {}, then retry: {why}",
            reset_to.as_deref().unwrap_or("no version")
        ),
        Verdict::Stop { why, what_to_do } => format!("no retry: {why}. What to do: {what_to_do}"),
    }
}

fn markdown(report: &Report) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("### lockscope run: {}\n\n{}\n\n", report.outcome, summary_line(report));
    out.push_str(&format!("Command: `{}`\n\n", report.command.join(" ").replace('`', "'")));
    out.push_str("| # | started | duration | outcome | exit | sessions (found by) | cancellations |\n|---|---|---|---|---|---|---|\n");
    for attempt in &report.attempts {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            attempt.number,
            attempt.started_at,
            human_duration(attempt.duration_ms / 1000.0),
            attempt.outcome,
            attempt.exit_code.map_or("-".into(), |c| c.to_string()),
            cell(
                &attempt
                    .sessions
                    .iter()
                    .map(|s| format!("{} ({})", s.pid, s.found_by.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            attempt.cancellations.len()
        ));
    }
    let cancels: Vec<(u32, &Cancellation)> =
        report.attempts.iter().flat_map(|a| a.cancellations.iter().map(move |c| (a.number, c))).collect();
    if !cancels.is_empty() {
        out.push_str("\n**Cancellations**\n\n| attempt | pid | waited | for | queued behind | blocked by |\n|---|---|---|---|---|---|\n");
        for (number, cancel) in cancels {
            out.push_str(&format!(
                "| {number} | {} | {} | {} | {} | {} |\n",
                cancel.pid,
                human_duration(cancel.waited_s),
                cell(&cancel.waiting_for),
                cancel.queued_behind,
                cell(&cancel.blockers.iter().map(blocker_text).collect::<Vec<_>>().join("; "))
            ));
        }
    }
    let verdicts: Vec<String> = report
        .attempts
        .iter()
        .filter_map(|a| a.retry.as_ref().map(|v| format!("- attempt {}: {}", a.number, cell(&verdict_text(v)))))
        .collect();
    if !verdicts.is_empty() {
        out.push_str(&format!("\n**Retry decisions**\n\n{}\n", verdicts.join("\n")));
    }
    for note in &report.notes {
        out.push_str(&format!("\n> {}\n", cell(note)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_report() -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            command: vec!["dbmate".into(), "up".into()],
            outcome: "succeeded".into(),
            exit_code: 0,
            attempts: vec![
                Attempt {
                    number: 1,
                    outcome: "cancelled".into(),
                    exit_code: Some(2),
                    sessions: vec![ChildSession {
                        pid: 20,
                        application_name: Some("lockscope-run-1-a-1".into()),
                        found_by: vec!["application_name".into(), "tcp socket".into()],
                        client_port: Some(5000),
                    }],
                    cancellations: vec![Cancellation {
                        at: "t".into(),
                        pid: 20,
                        statement: Some("ALTER TABLE orders ADD COLUMN note text".into()),
                        waiting_for: "AccessExclusiveLock on public.orders".into(),
                        waited_s: 1.2,
                        queued_behind: 3,
                        blockers: vec![Blocker {
                            pid: 10,
                            application_name: Some("report-job".into()),
                            state: Some("idle in transaction".into()),
                            query: Some("SELECT | count(*) FROM orders".into()),
                            xact_age_s: Some(600.0),
                        }],
                        reason: "3 session(s) queued behind it (--max-queue 3)".into(),
                        cancelled: true,
                    }],
                    retry: Some(Verdict::Retry { why: "not applied".into() }),
                    ..Attempt::default()
                },
                Attempt { number: 2, outcome: "succeeded".into(), exit_code: Some(0), ..Attempt::default() },
            ],
            waited_behind_s: 4.5,
            ..Report::default()
        }
    }

    #[test]
    fn every_format_names_the_blocker_the_queue_and_the_decision() {
        let report = sample_report();
        for format in [Format::Table, Format::Markdown] {
            let text = render(&report, format);
            assert!(text.contains("pid 10 (report-job, idle in transaction, transaction open 10m 0s"), "{text}");
            assert!(text.contains("retry: not applied"), "{text}");
            assert!(text.contains("20 (application_name, tcp socket)"), "{text}");
        }
        let markdown = render(&report, Format::Markdown);
        assert!(markdown.contains("SELECT \\| count(*)"), "pipes in cells are escaped: {markdown}");
        let json: serde_json::Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
        assert_eq!(json["attempts"][0]["cancellations"][0]["blockers"][0]["pid"], 10);
        assert_eq!(json["attempts"][0]["retry"]["verdict"], "retry");
        assert_eq!(json["waited_behind_s"], 4.5);
    }
}
