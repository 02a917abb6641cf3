//! One self-contained HTML page: the Markdown report's content (verdict, summary, risky
//! statements with their fix) plus the SVG lock timeline and every statement in full. No
//! scripts, no fonts, no images from elsewhere: a Content-Security-Policy forbids any fetch.

use std::fmt::Write;

use super::subject::StatementView;
use super::subject::{plural, MigrationSummary, Risky};
use super::text::{html_escape as esc, mode_words, severity_icon, sql_excerpt, thousands};
use super::timeline::{self, Clock, Timeline};
use super::{RenderOptions, Subject, Verdict};
use crate::analyze::Finding;
use crate::analyze::{Severity, Status};
use crate::locks::LockMode;
use crate::trace::{LockSource, Mode, Outcome};
use crate::units::format_ms;

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --ae: #b00020; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 8px; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f3f4f6; border: 1px solid var(--line); border-radius: 6px; padding: 10px; overflow-x: auto; white-space: pre-wrap; }
.verdict { border-radius: 8px; padding: 14px 18px; border: 2px solid; background: #fff; }
.verdict.pass { border-color: #16a34a; } .verdict.fail { border-color: #dc2626; } .verdict.error { border-color: #7f1d1d; background: #fef2f2; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
.ae { color: var(--ae); font-weight: 700; }
.timeline { display: block; max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
article { background: #fff; border: 1px solid var(--line); border-left: 6px solid #9ca3af; border-radius: 6px; padding: 10px 14px; margin: 12px 0; }
article.critical { border-left-color: #7f1d1d; } article.high { border-left-color: #dc2626; }
article.medium { border-left-color: #f59e0b; } article.low { border-left-color: #9ca3af; }
article h3 { margin-top: 2px; }
.finding { margin: 8px 0 0; padding: 8px 10px; background: #f9fafb; border-radius: 4px; }
.fix { margin-top: 4px; } .fix b { color: #166534; }
details > summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
ul.facts { margin: 6px 0; padding-left: 20px; }
.context { color: var(--muted); }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
"#;

/// The whole page.
pub fn render(subject: &Subject<'_>, options: &RenderOptions) -> String {
    let verdict = subject.verdict(options.fail_on);
    let (class, icon) = match verdict {
        Verdict::Pass => ("pass", "✅"),
        Verdict::Fail => ("fail", "❌"),
        Verdict::Error => ("error", "⛔"),
    };
    let headline = format!("lockscope {}: {}", subject.command(), subject.headline(options.fail_on));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>",
        esc(&headline)
    );
    let findings = subject.findings();
    let statements: usize = subject.judged().map(|(_, m)| m.statements.len()).sum();
    let judged = subject.judged().count();
    let _ = writeln!(
        out,
        "<header class=\"verdict {class}\"><h1>{icon} {}</h1><div>{} · {judged} migration{}, {statements} statement{} · {}</div>",
        esc(&headline),
        esc(&subject.setting()),
        plural(judged),
        plural(statements),
        esc(&super::findings::summary(findings.iter().copied()))
    );
    if let Some(scope) = &subject.scope {
        let _ = writeln!(out, "<div class=\"muted\">{}</div>", esc(&super::table::scope_line(scope)));
    }
    out.push_str("</header>\n");

    summary(&mut out, subject);
    timelines(&mut out, subject);
    failure(&mut out, subject);
    risky(&mut out, subject);
    every_statement(&mut out, subject);

    let notes = subject.notes();
    if !notes.is_empty() {
        out.push_str("<h2>Notes</h2>\n<ul>\n");
        for note in notes {
            let _ = writeln!(out, "<li>{}</li>", esc(note));
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(
        out,
        "<footer>lockscope {} · fail-on {} · this page is self-contained: it loads nothing from anywhere.</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        super::subject::fail_on_name(options.fail_on).unwrap_or("never")
    );
    out
}

fn summary(out: &mut String, subject: &Subject<'_>) {
    let summaries = subject.summaries();
    out.push_str("<h2>Migrations</h2>\n");
    if summaries.is_empty() {
        out.push_str("<p class=\"muted\">No migrations to judge.</p>\n");
        return;
    }
    let traced = subject.traced();
    if traced {
        out.push_str(
            "<table class=\"summary\"><thead><tr><th>migration</th><th>statements</th><th>strongest lock</th>\
             <th>longest lock hold</th><th>rewrites</th><th>scans (rows)</th><th>findings</th></tr></thead><tbody>\n",
        );
    } else {
        out.push_str(
            "<table class=\"summary\"><thead><tr><th>migration</th><th>statements</th>\
             <th>strongest lock (documented)</th><th>findings</th></tr></thead><tbody>\n",
        );
    }
    for summary in &summaries {
        let row_class = if summary.context { " class=\"context\"" } else { "" };
        let name = if summary.context {
            format!(
                "<code>{}</code><br><small>context: applied first, not judged</small>",
                esc(&summary.migration.path)
            )
        } else {
            format!("<code>{}</code>", esc(&summary.migration.path))
        };
        let strongest = strongest_cell(summary);
        let findings = findings_cell(summary);
        if traced {
            let hold = summary.longest_hold_ms.map_or("–".to_string(), format_ms);
            let rewrites = list_or_dash(summary.rewrites.iter().map(|r| format!("<code>{}</code>", esc(r))));
            let scans = list_or_dash(
                summary.scans.iter().map(|(r, rows)| format!("<code>{}</code> ({})", esc(r), thousands(*rows))),
            );
            let _ = writeln!(
                out,
                "<tr{row_class}><td>{name}</td><td class=\"num\">{}</td><td>{strongest}</td><td class=\"num\">{hold}</td><td>{rewrites}</td><td>{scans}</td><td>{findings}</td></tr>",
                summary.statements
            );
        } else {
            let _ = writeln!(
                out,
                "<tr{row_class}><td>{name}</td><td class=\"num\">{}</td><td>{strongest}</td><td>{findings}</td></tr>",
                summary.statements
            );
        }
    }
    out.push_str("</tbody></table>\n");
    if traced && matches!(subject.trace().map(|t| t.mode), Some(Mode::DryRun)) {
        out.push_str(
            "<p class=\"muted\">Longest lock hold: from the statement that takes the strongest lock to the end of the \
             transaction the migration's own tool commits (the statement alone under autocommit); the dry-run itself \
             held every lock until its final rollback.</p>\n",
        );
    }
}

fn strongest_cell(summary: &MigrationSummary<'_>) -> String {
    match &summary.strongest {
        Some((mode, relations)) => {
            let shown: Vec<String> = relations.iter().take(4).map(|r| format!("<code>{}</code>", esc(r))).collect();
            let more = if relations.len() > 4 { format!(" +{} more", relations.len() - 4) } else { String::new() };
            format!("{} {}{more}", mode_html(*mode), shown.join(", "))
        }
        None => "–".to_string(),
    }
}

fn mode_html(mode: LockMode) -> String {
    let swatch = format!(
        "<svg width=\"12\" height=\"12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" rx=\"2\" fill=\"{}\"/></svg>",
        timeline::colour(mode)
    );
    if mode == LockMode::AccessExclusive {
        format!("{swatch} <span class=\"ae\">{}</span>", esc(&mode_words(mode)))
    } else {
        format!("{swatch} {}", esc(mode.sql_name()))
    }
}

fn findings_cell(summary: &MigrationSummary<'_>) -> String {
    if summary.context {
        return "–".to_string();
    }
    let parts: Vec<String> = super::subject::SEVERITIES_WORST_FIRST
        .iter()
        .filter(|s| summary.counts[**s as usize] > 0)
        .map(|s| format!("{} {} {}", severity_icon(*s), summary.counts[*s as usize], s.name()))
        .collect();
    if parts.is_empty() {
        "✅ none".to_string()
    } else {
        parts.join("<br>")
    }
}

fn list_or_dash(items: impl Iterator<Item = String>) -> String {
    lines_or_dash(items, ", ")
}

fn lines_or_dash(items: impl Iterator<Item = String>, separator: &str) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "–".to_string()
    } else {
        items.join(separator)
    }
}

fn timelines(out: &mut String, subject: &Subject<'_>) {
    out.push_str("<h2>Lock timeline</h2>\n");
    let Some(trace) = subject.trace() else {
        out.push_str(
            "<p class=\"muted\">lint reads the SQL only: nothing ran, so there is no timeline. \
             <code>lockscope check</code> draws one from a dry-run.</p>\n",
        );
        return;
    };
    let Some(dry_run) = Timeline::build(subject, Clock::DryRun) else { return };
    let tail = match trace.mode {
        Mode::DryRun => {
            " Faint bar ends: the dry-run kept each lock until its final rollback; a real deployment releases a \
             migration's locks when it commits."
        }
        Mode::Scratch => " Each migration committed before the next started, releasing its locks.",
    };
    let _ = writeln!(
        out,
        "<p>One row per relation; a bar for each lock the migrations took, from the statement that took it to the \
         end of its migration, on the dry-run's own clock ({} in all, lockscope's observation queries included).{tail} \
         Hover a bar for details.</p>",
        format_ms(dry_run.end_ms)
    );
    out.push_str(&timeline::svg(&dry_run));
    if let Some(production) = Timeline::build(subject, Clock::Production) {
        let _ = writeln!(
            out,
            "<h3>Estimated for production</h3>\n<p>The same statements back to back with the durations the production \
             snapshot predicts ({} in all); statements without an estimate keep their dry-run time.</p>",
            format_ms(production.end_ms)
        );
        out.push_str(&timeline::svg(&production));
    }
}

fn failure(out: &mut String, subject: &Subject<'_>) {
    let Some(Outcome::Failed { path, line, message, migration, statement }) = subject.failure() else { return };
    let _ = writeln!(out, "<h2>⛔ Failed at <code>{}:{line}</code></h2>", esc(path));
    if let Some(failed) =
        subject.migrations.get(*migration).and_then(|m| m.statements.iter().find(|s| s.index == *statement))
    {
        let _ = writeln!(out, "<pre>{}</pre>", esc(&sql_excerpt(&failed.sql, 30, 4000)));
        facts(out, subject, failed, *migration);
    }
    let _ = writeln!(
        out,
        "<p><b>Error:</b> {}<br>Everything was rolled back; later statements were not run.</p>",
        esc(message)
    );
}

fn risky(out: &mut String, subject: &Subject<'_>) {
    let risky = subject.risky_statements();
    out.push_str("<h2>Risky statements</h2>\n");
    if risky.is_empty() {
        out.push_str("<p class=\"muted\">No statement has a finding.</p>\n");
        return;
    }
    let (serious, low): (Vec<&Risky<'_>>, Vec<&Risky<'_>>) = risky.iter().partition(|r| r.worst > Severity::Low);
    for item in serious {
        statement_card(out, subject, item);
    }
    if !low.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} statement{} with low-severity findings only</summary>",
            low.len(),
            plural(low.len())
        );
        for item in low {
            statement_card(out, subject, item);
        }
        out.push_str("</details>\n");
    }
}

fn statement_card(out: &mut String, subject: &Subject<'_>, item: &Risky<'_>) {
    let statement = item.statement;
    let _ = writeln!(
        out,
        "<article class=\"{}\"><h3>{} <code>{}:{}</code> — {}</h3>",
        item.worst.name(),
        severity_icon(item.worst),
        esc(&item.migration.path),
        statement.line,
        esc(statement.kind.as_str())
    );
    if !statement.sql.trim().is_empty() {
        let _ = writeln!(out, "<pre>{}</pre>", esc(&sql_excerpt(&statement.sql, 30, 4000)));
    }
    facts(out, subject, statement, item.migration_index);
    for finding in statement.findings.iter() {
        finding_html(out, finding);
    }
    out.push_str("</article>\n");
}

fn facts(out: &mut String, subject: &Subject<'_>, statement: &StatementView<'_>, migration_index: usize) {
    let mut items: Vec<String> = Vec::new();
    if !statement.locks.is_empty() {
        let mut locks: Vec<&crate::trace::RelationLock> = statement.locks.iter().collect();
        locks.sort_by_key(|lock| std::cmp::Reverse(lock.mode));
        let words: Vec<String> = locks
            .iter()
            .map(|lock| {
                let inferred = if subject.traced() && lock.source == LockSource::Inferred { " (inferred)" } else { "" };
                format!(
                    "{} <code>{}</code>{inferred} — {}",
                    mode_html(lock.mode),
                    esc(&lock.relation),
                    lock.mode.blocks_in_words()
                )
            })
            .collect();
        let label = if subject.traced() { "Locks" } else { "Locks (documented)" };
        items.push(format!("<b>{label}:</b> {}", words.join("; ")));
    }
    if !statement.rewrites.is_empty() {
        let words: Vec<String> = statement
            .rewrites
            .iter()
            .map(|r| {
                let rows = if r.rows_estimate >= 0.0 {
                    format!(", ~{} rows", thousands(r.rows_estimate as i64))
                } else {
                    String::new()
                };
                format!("<code>{}</code> ({}{rows})", esc(&r.relation), esc(&r.relkind))
            })
            .collect();
        items.push(format!("<b>Rewrites:</b> {}", words.join(", ")));
    }
    if !statement.scans.is_empty() {
        let words: Vec<String> = statement
            .scans
            .iter()
            .map(|s| format!("<code>{}</code> ({} rows)", esc(&s.relation), thousands(s.rows)))
            .collect();
        items.push(format!("<b>Full scans:</b> {}", words.join(", ")));
    }
    if subject.traced() {
        let time = subject.time_words(migration_index, statement);
        items.push(format!("<b>Time:</b> {}", esc(&time)));
    }
    if let Some(impact) = &statement.impact {
        if !impact.risk_reasons.is_empty() {
            items.push(format!("<b>Risk:</b> {} — {}", impact.risk.name(), esc(&impact.risk_reasons.join("; "))));
        }
    }
    for wait in &statement.waits {
        let pids: Vec<String> = wait.blockers.iter().map(|b| b.pid.to_string()).collect();
        items.push(format!(
            "<b>Waited</b> {} for {} on <code>{}</code> (blocked by pid {})",
            format_ms(wait.waited_ms),
            esc(&wait.mode),
            esc(&wait.relation),
            pids.join(", ")
        ));
    }
    if statement.queue.max_waiting > 0 {
        items.push(format!(
            "<b>Queued behind it:</b> {} session{}, longest wait {}",
            statement.queue.max_waiting,
            plural(statement.queue.max_waiting),
            format_ms(statement.queue.longest_wait_ms)
        ));
    }
    if let Some(error) = &statement.error {
        items.push(format!("<b>Error:</b> {}", esc(&error.message)));
    }
    if !items.is_empty() {
        out.push_str("<ul class=\"facts\">");
        for item in items {
            let _ = write!(out, "<li>{item}</li>");
        }
        out.push_str("</ul>\n");
    }
}

fn finding_html(out: &mut String, finding: &Finding) {
    let status =
        if finding.status == Status::Static { String::new() } else { format!(" ({})", finding.status.label()) };
    let _ = write!(
        out,
        "<div class=\"finding\">{} <b>{} · {} {}</b>{}: {}",
        severity_icon(finding.severity),
        finding.severity.name(),
        esc(&finding.rule),
        esc(&finding.name),
        esc(&status),
        esc(&finding.message)
    );
    if !finding.evidence.is_empty() && finding.status != Status::Static {
        let _ = write!(out, "<div class=\"muted\">Seen: {}</div>", esc(&finding.evidence.join("; ")));
    }
    if let Some(reason) = &finding.downgraded {
        let _ = write!(out, "<div class=\"muted\">Downgraded to low: {}</div>", esc(reason));
    }
    let _ = writeln!(out, "<div class=\"fix\"><b>Safe alternative:</b> {}</div></div>", esc(&finding.help));
}

fn every_statement(out: &mut String, subject: &Subject<'_>) {
    out.push_str("<h2>Every statement</h2>\n");
    let traced = subject.traced();
    for (index, migration) in subject.migrations.iter().enumerate() {
        let context = subject.context.get(index).copied().unwrap_or(false);
        let held = match (traced, migration.lock_hold_ms) {
            (true, Some(ms)) => format!(" · locks held {}", format_ms(ms)),
            _ => String::new(),
        };
        let context_words = if context { " · context: applied first, not judged" } else { "" };
        let _ = writeln!(
            out,
            "<details><summary><code>{}</code> — {} statement{}{held}{context_words}</summary>",
            esc(&migration.path),
            migration.statements.len(),
            plural(migration.statements.len())
        );
        if traced {
            out.push_str(
                "<table><thead><tr><th>line</th><th>statement</th><th>locks</th><th>rewrites</th><th>scans (rows)</th>\
                 <th>time</th><th>waits / queue / findings</th></tr></thead><tbody>\n",
            );
        } else {
            out.push_str(
                "<table><thead><tr><th>line</th><th>statement</th><th>locks (documented)</th><th>findings</th></tr>\
                 </thead><tbody>\n",
            );
        }
        for statement in &migration.statements {
            statement_row(out, statement, traced);
        }
        out.push_str("</tbody></table></details>\n");
    }
}

/// One statement's row of [`every_statement`]: what it did when traced, its documented locks
/// and findings when linted.
fn statement_row(out: &mut String, statement: &StatementView<'_>, traced: bool) {
    let locks: Vec<String> = statement
        .locks
        .iter()
        .map(|lock| {
            let inferred = if traced && lock.source == LockSource::Inferred { " (inferred)" } else { "" };
            format!("{} <code>{}</code>{inferred}", mode_html(lock.mode), esc(&lock.relation))
        })
        .collect();
    let mut sql = esc(&super::text::first_line(&statement.sql, 90));
    if let (false, Some(reason)) = (statement.executed || !traced, &statement.not_executed_reason) {
        sql.push_str(&format!("<br><small class=\"muted\">{}</small>", esc(reason)));
    }
    let findings: Vec<String> = statement
        .findings
        .iter()
        .map(|f| format!("{} {} {}", severity_icon(f.severity), esc(&f.rule), esc(&f.name)))
        .collect();
    if !traced {
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td><code>{sql}</code></td><td>{}</td><td>{}</td></tr>",
            statement.line,
            lines_or_dash(locks.into_iter(), "<br>"),
            lines_or_dash(findings.into_iter(), "<br>")
        );
        return;
    }
    let rewrites: Vec<String> =
        statement.rewrites.iter().map(|r| format!("<code>{}</code> ({})", esc(&r.relation), esc(&r.relkind))).collect();
    let scans: Vec<String> =
        statement.scans.iter().map(|s| format!("<code>{}</code> ({})", esc(&s.relation), thousands(s.rows))).collect();
    let time = match (statement.executed, statement.duration_ms) {
        (true, Some(ms)) => format_ms(ms),
        _ => "not run".to_string(),
    };
    let mut waits = waits_and_queue(statement);
    waits.extend(findings);
    let _ = writeln!(
        out,
        "<tr><td class=\"num\">{}</td><td><code>{sql}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{time}</td><td>{}</td></tr>",
        statement.line,
        lines_or_dash(locks.into_iter(), "<br>"),
        list_or_dash(rewrites.into_iter()),
        list_or_dash(scans.into_iter()),
        lines_or_dash(waits.into_iter(), "<br>")
    );
}

/// What the statement waited for, who queued behind it, and its error, one line each.
fn waits_and_queue(statement: &StatementView<'_>) -> Vec<String> {
    let mut waits: Vec<String> = statement
        .waits
        .iter()
        .map(|w| format!("waited {} for {} on <code>{}</code>", format_ms(w.waited_ms), esc(&w.mode), esc(&w.relation)))
        .collect();
    if statement.queue.max_waiting > 0 {
        waits.push(format!(
            "{} session{} queued behind, longest {}",
            statement.queue.max_waiting,
            plural(statement.queue.max_waiting),
            format_ms(statement.queue.longest_wait_ms)
        ));
    }
    if let Some(error) = &statement.error {
        waits.push(format!("<b>ERROR:</b> {}", esc(&error.message)));
    }
    waits
}
