//! The pull-request comment: a verdict line, one summary row per migration, then each risky
//! statement with what it did and the safe alternative. GitHub refuses comments over 65,536
//! characters, so low-severity detail is collapsed first (and the report says what it collapsed).

use std::fmt::Write;

use super::subject::StatementView;
use super::subject::{counts_text, plural, MigrationSummary, Risky, SEVERITIES_WORST_FIRST};
use super::text::{md_code, md_fence, md_text, mode_words, severity_icon, sql_excerpt, thousands};
use super::{RenderOptions, Subject, Verdict};
use crate::analyze::Finding;
use crate::analyze::{Severity, Status};
use crate::trace::{Mode, Outcome};
use crate::units::format_ms;

/// The report stays under this many characters (GitHub's comment limit is 65,536).
pub const LIMIT: usize = 65_000;

/// The first line of every report, so CI can find and update its own earlier comment.
pub const MARKER: &str = "<!-- lockscope-report -->";

/// How much of a statement's detail to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    Full,
    OneLine,
    Omitted,
}

/// One way of shortening the report; tried in order until the report fits.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// By the statement's worst severity: `detail[Severity as usize]`.
    detail: [Detail; 4],
    /// List in the summary table only migrations with a finding at or above this (`None`: all).
    row_severity: Option<Severity>,
    /// List at most this many migrations in the summary table (the rest are counted).
    max_rows: usize,
    /// Lines of SQL shown per statement.
    sql_lines: usize,
    /// Show at most this many statements in detail or one-line form (the rest are counted).
    max_statements: usize,
}

const FULL: Plan = Plan {
    detail: [Detail::Full; 4],
    row_severity: None,
    max_rows: usize::MAX,
    sql_lines: 15,
    max_statements: usize::MAX,
};

fn plans() -> Vec<Plan> {
    use Detail::*;
    let mut plans = vec![FULL];
    for detail in [
        [OneLine, Full, Full, Full],
        [Omitted, Full, Full, Full],
        [Omitted, OneLine, Full, Full],
        [Omitted, Omitted, Full, Full],
    ] {
        plans.push(Plan { detail, ..FULL });
    }
    let lean = Plan { detail: [Omitted, Omitted, Full, Full], row_severity: Some(Severity::Low), sql_lines: 4, ..FULL };
    plans.push(Plan { sql_lines: 15, ..lean });
    plans.push(lean);
    plans.push(Plan { row_severity: Some(Severity::High), ..lean });
    plans.push(Plan { detail: [Omitted, Omitted, OneLine, Full], row_severity: Some(Severity::High), ..lean });
    plans.push(Plan { detail: [Omitted, Omitted, OneLine, OneLine], row_severity: Some(Severity::High), ..lean });
    plans
}

/// The Markdown report, under [`LIMIT`] characters.
pub fn render(subject: &Subject<'_>, options: &RenderOptions) -> String {
    let plans = plans();
    for plan in &plans {
        let text = render_with(subject, options, plan);
        if text.chars().count() <= LIMIT {
            return text;
        }
    }
    // Still too long: list fewer migrations and statements, one line each.
    let last = *plans.last().expect("plans are listed");
    let mut shown = subject.risky_statements().len().max(subject.migrations.len());
    loop {
        shown = if shown > 100 { shown * 4 / 5 } else { shown.saturating_sub(1) };
        let text = render_with(subject, options, &Plan { max_statements: shown, max_rows: shown, ..last });
        if text.chars().count() <= LIMIT || shown == 0 {
            return text;
        }
    }
}

fn render_with(subject: &Subject<'_>, options: &RenderOptions, plan: &Plan) -> String {
    let mut out = String::new();
    let mut collapsed: Vec<String> = Vec::new();
    headline(&mut out, subject, options);
    summary_table(&mut out, subject, plan, &mut collapsed);
    failure(&mut out, subject, plan);
    risky_statements(&mut out, subject, plan, &mut collapsed);
    notes_and_footer(&mut out, subject, options, &collapsed);
    out
}

/// The verdict line, what was judged where, and the `--git-diff` scope.
fn headline(out: &mut String, subject: &Subject<'_>, options: &RenderOptions) {
    let icon = match subject.verdict(options.fail_on) {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Error => "⛔",
    };
    let _ = writeln!(out, "{MARKER}");
    let _ =
        writeln!(out, "### {icon} lockscope {}: {}\n", subject.command(), md_text(&subject.headline(options.fail_on)));
    let findings = subject.findings();
    let statements: usize = subject.judged().map(|(_, m)| m.statements.len()).sum();
    let judged = subject.judged().count();
    let _ = writeln!(
        out,
        "{} · {judged} migration{}, {statements} statement{} · {}\n",
        md_text(&subject.setting()),
        plural(judged),
        plural(statements),
        super::findings::summary(findings.iter().copied()),
    );
    if let Some(scope) = &subject.scope {
        let _ = writeln!(out, "{}\n", md_text(&super::table::scope_line(scope)));
    }
}

/// The statement the run stopped at, when it failed.
fn failure(out: &mut String, subject: &Subject<'_>, plan: &Plan) {
    let Some(Outcome::Failed { path, line, message, migration, statement }) = subject.failure() else { return };
    let _ = writeln!(out, "#### ⛔ Failed at {}\n", md_code(&format!("{path}:{line}")));
    let failed = subject.migrations.get(*migration).and_then(|m| m.statements.iter().find(|s| s.index == *statement));
    if let Some(failed) = failed {
        out.push_str(&md_fence("sql", &sql_excerpt(&failed.sql, plan.sql_lines, 2000)));
        out.push('\n');
        facts(out, subject, failed, *migration);
    }
    let _ = writeln!(out, "- **Error:** {}", md_text(message));
    let _ = writeln!(out, "- Everything was rolled back; later statements were not run.\n");
}

/// Risky statements, worst first, in as much detail as `plan` allows; what is folded or left out
/// is said in `collapsed`.
fn risky_statements(out: &mut String, subject: &Subject<'_>, plan: &Plan, collapsed: &mut Vec<String>) {
    let risky = subject.risky_statements();
    let mut shown = 0usize;
    let mut not_shown: Vec<&Risky<'_>> = Vec::new();
    let mut folded: Vec<&Risky<'_>> = Vec::new();
    let mut details_open = false;
    let mut heading_done = false;
    for item in &risky {
        let detail = plan.detail[item.worst as usize];
        if detail == Detail::Omitted || shown >= plan.max_statements {
            not_shown.push(item);
            continue;
        }
        shown += 1;
        if !heading_done {
            let _ = writeln!(out, "#### Risky statements\n");
            heading_done = true;
        }
        // Low-severity statements go behind a fold even at full detail.
        if item.worst == Severity::Low && !details_open {
            let lows = risky.iter().filter(|r| r.worst == Severity::Low).count();
            let _ = writeln!(
                out,
                "<details><summary>{lows} statement{} with low-severity findings only</summary>\n",
                plural(lows)
            );
            details_open = true;
        }
        match detail {
            Detail::Full => statement_detail(out, subject, item, plan),
            _ => {
                folded.push(item);
                one_line(out, item);
            }
        }
    }
    if details_open {
        let trimmed = out.trim_end_matches('\n').len();
        out.truncate(trimmed);
        let _ = writeln!(out, "\n\n</details>\n");
    } else if !folded.is_empty() {
        out.push('\n');
    }
    for severity in SEVERITIES_WORST_FIRST {
        let count = folded.iter().filter(|r| r.worst == severity).count();
        if count > 0 {
            collapsed.push(format!(
                "{count} statement{} whose worst finding is {} shown on one line each",
                plural(count),
                severity.name()
            ));
        }
    }
    if !not_shown.is_empty() {
        let line = not_shown_line(&not_shown);
        let _ = writeln!(out, "_{}_\n", md_text(&line));
        collapsed.push(line);
    }
}

/// "3 statements not shown (5 findings: 2 high, 3 low; rules LS107 ×2, …)".
fn not_shown_line(not_shown: &[&Risky<'_>]) -> String {
    let mut by_rule: Vec<(String, usize)> = Vec::new();
    let mut counts = [0usize; 4];
    for finding in not_shown.iter().flat_map(|item| item.statement.findings.iter()) {
        match by_rule.iter_mut().find(|(rule, _)| *rule == finding.rule) {
            Some(entry) => entry.1 += 1,
            None => by_rule.push((finding.rule.clone(), 1)),
        }
        counts[finding.severity as usize] += 1;
    }
    let rules: Vec<String> = by_rule.iter().map(|(rule, n)| format!("{rule} ×{n}")).collect();
    format!(
        "{} statement{} not shown ({} finding{}: {}; rules {})",
        not_shown.len(),
        plural(not_shown.len()),
        counts.iter().sum::<usize>(),
        plural(counts.iter().sum()),
        counts_text(&counts),
        rules.join(", ")
    )
}

/// The run's notes, what was shortened to fit, and the version line.
fn notes_and_footer(out: &mut String, subject: &Subject<'_>, options: &RenderOptions, collapsed: &[String]) {
    let notes = subject.notes();
    if !notes.is_empty() {
        let _ = writeln!(out, "<details><summary>Notes ({})</summary>\n", notes.len());
        for note in notes {
            let _ = writeln!(out, "- {}", md_text(note));
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if !collapsed.is_empty() {
        let _ = writeln!(
            out,
            "> [!NOTE]\n> Shortened to fit a pull-request comment ({} characters at most): {}. \
             `--format html` or `--format json` has everything.\n",
            thousands(LIMIT as i64),
            md_text(&collapsed.join("; "))
        );
    }
    let _ = writeln!(out, "<sub>lockscope {} · fail-on {}</sub>", env!("CARGO_PKG_VERSION"), fail_on_word(options));
}

fn fail_on_word(options: &RenderOptions) -> &'static str {
    super::subject::fail_on_name(options.fail_on).unwrap_or("never")
}

fn summary_table(out: &mut String, subject: &Subject<'_>, plan: &Plan, collapsed: &mut Vec<String>) {
    let summaries = subject.summaries();
    let context: Vec<&MigrationSummary<'_>> = summaries.iter().filter(|s| s.context).collect();
    let judged: Vec<&MigrationSummary<'_>> = summaries.iter().filter(|s| !s.context).collect();
    if judged.is_empty() {
        let _ = writeln!(out, "No migrations to judge.\n");
    } else {
        let traced = subject.traced();
        if traced {
            let _ = writeln!(
                out,
                "| migration | statements | strongest lock | longest lock hold | rewrites | scans | findings |\n\
                 |---|--:|---|--:|---|---|---|"
            );
        } else {
            let _ =
                writeln!(out, "| migration | statements | strongest lock (documented) | findings |\n|---|--:|---|---|");
        }
        let mut left_out = 0;
        let mut listed = 0;
        for summary in &judged {
            let worst = SEVERITIES_WORST_FIRST.into_iter().find(|s| summary.counts[*s as usize] > 0);
            let wanted = match plan.row_severity {
                None => true,
                Some(threshold) => worst.is_some_and(|worst| worst >= threshold),
            };
            if !wanted || listed >= plan.max_rows {
                left_out += 1;
                continue;
            }
            listed += 1;
            summary_row(out, summary, traced);
        }
        if left_out > 0 {
            let what = match (plan.row_severity, plan.max_rows) {
                (_, max) if max != usize::MAX => "beyond the first ones listed".to_string(),
                (Some(Severity::Low), _) => "without findings".to_string(),
                (Some(severity), _) => format!("without findings at or above {}", severity.name()),
                (None, _) => "more".to_string(),
            };
            let line = format!("{left_out} migration{} {what} left out of the table", plural(left_out));
            let _ = writeln!(out, "\n_{line}._");
            collapsed.push(line);
        }
        out.push('\n');
        if traced && matches!(subject.trace().map(|t| t.mode), Some(Mode::DryRun)) {
            let _ = writeln!(
                out,
                "<sub>Lock hold: from the statement that takes the strongest lock to the end of the transaction the \
                 migration's own tool commits (the statement alone under autocommit); the dry-run itself held every \
                 lock until its final rollback.</sub>\n"
            );
        }
    }
    if !context.is_empty() {
        let first = file_name(&context[0].migration.path);
        let last = file_name(&context[context.len() - 1].migration.path);
        let range =
            if context.len() == 1 { md_code(&first) } else { format!("{} … {}", md_code(&first), md_code(&last)) };
        let _ = writeln!(
            out,
            "{} earlier pending migration{} ({range}) applied first so the schema is right; not judged.\n",
            context.len(),
            plural(context.len())
        );
    }
}

/// One migration's row of [`summary_table`].
fn summary_row(out: &mut String, summary: &MigrationSummary<'_>, traced: bool) {
    let name = md_code(&file_name(&summary.migration.path));
    let strongest = match &summary.strongest {
        Some((mode, relations)) => {
            let words = mode_words(*mode);
            let words = if *mode == crate::locks::LockMode::AccessExclusive { format!("**{words}**") } else { words };
            format!("{words} {}", list_codes(relations, 3))
        }
        None => "–".to_string(),
    };
    let findings = findings_cell(&summary.counts);
    if !traced {
        let _ = writeln!(out, "| {name} | {} | {strongest} | {findings} |", summary.statements);
        return;
    }
    let hold = summary.longest_hold_ms.map_or("–".to_string(), format_ms);
    let rewrites = if summary.rewrites.is_empty() { "–".to_string() } else { list_codes(&summary.rewrites, 3) };
    let scans: Vec<String> =
        summary.scans.iter().map(|(relation, rows)| format!("{} ({})", md_code(relation), thousands(*rows))).collect();
    let scans = if scans.is_empty() { "–".to_string() } else { scans.join(", ") };
    let _ =
        writeln!(out, "| {name} | {} | {strongest} | {hold} | {rewrites} | {scans} | {findings} |", summary.statements);
}

fn findings_cell(counts: &[usize; 4]) -> String {
    let parts: Vec<String> = SEVERITIES_WORST_FIRST
        .iter()
        .filter(|s| counts[**s as usize] > 0)
        .map(|s| format!("{} {} {}", severity_icon(*s), counts[*s as usize], s.name()))
        .collect();
    if parts.is_empty() {
        "✅ none".to_string()
    } else {
        parts.join(", ")
    }
}

fn list_codes(items: &[&str], max: usize) -> String {
    let mut shown: Vec<String> = items.iter().take(max).map(|i| md_code(i)).collect();
    if items.len() > max {
        shown.push(format!("+{} more", items.len() - max));
    }
    shown.join(", ")
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path).file_name().map_or(path.to_string(), |n| n.to_string_lossy().to_string())
}

fn location(item: &Risky<'_>) -> String {
    format!("{}:{}", item.migration.path, item.statement.line)
}

fn one_line(out: &mut String, item: &Risky<'_>) {
    let rules: Vec<String> = item.statement.findings.iter().map(|f| format!("{} {}", f.rule, f.name)).collect();
    let first = item.statement.findings.first().map(|f| f.message.as_str()).unwrap_or_default();
    let _ = writeln!(
        out,
        "- {} {} {} — {}",
        severity_icon(item.worst),
        md_code(&location(item)),
        md_text(&rules.join(", ")),
        md_text(first)
    );
}

fn statement_detail(out: &mut String, subject: &Subject<'_>, item: &Risky<'_>, plan: &Plan) {
    let statement = item.statement;
    let _ = writeln!(
        out,
        "##### {} {} — {}\n",
        severity_icon(item.worst),
        md_code(&location(item)),
        md_text(statement.kind.as_str())
    );
    if !statement.sql.trim().is_empty() {
        out.push_str(&md_fence("sql", &sql_excerpt(&statement.sql, plan.sql_lines, 2000)));
        out.push('\n');
    }
    facts(out, subject, statement, item.migration_index);
    for finding in statement.findings.iter() {
        finding_item(out, finding);
    }
    out.push('\n');
}

/// What the statement did, one bullet per kind of fact.
fn facts(out: &mut String, subject: &Subject<'_>, statement: &StatementView<'_>, migration_index: usize) {
    if !statement.locks.is_empty() {
        let mut locks: Vec<&crate::trace::RelationLock> = statement.locks.iter().collect();
        locks.sort_by_key(|lock| std::cmp::Reverse(lock.mode));
        let words: Vec<String> = locks
            .iter()
            .take(6)
            .map(|lock| {
                let inferred = match (subject.traced(), lock.source) {
                    (true, crate::trace::LockSource::Inferred) => " (inferred)",
                    _ => "",
                };
                format!(
                    "{} {}{inferred} — {}",
                    mode_words(lock.mode),
                    md_code(&lock.relation),
                    lock.mode.blocks_in_words()
                )
            })
            .collect();
        let more = if locks.len() > 6 { format!("; +{} more", locks.len() - 6) } else { String::new() };
        let label = if subject.traced() { "Locks" } else { "Locks (documented)" };
        let _ = writeln!(out, "- **{label}:** {}{more}", words.join("; "));
    }
    if !statement.rewrites.is_empty() {
        let words: Vec<String> = statement
            .rewrites
            .iter()
            .map(|r| {
                if r.rows_estimate >= 0.0 {
                    format!("{} ({}, ~{} rows)", md_code(&r.relation), r.relkind, thousands(r.rows_estimate as i64))
                } else {
                    format!("{} ({})", md_code(&r.relation), r.relkind)
                }
            })
            .collect();
        let _ = writeln!(out, "- **Rewrites:** {}", words.join(", "));
    }
    if !statement.scans.is_empty() {
        let words: Vec<String> =
            statement.scans.iter().map(|s| format!("{} ({} rows)", md_code(&s.relation), thousands(s.rows))).collect();
        let _ = writeln!(out, "- **Full scans:** {}", words.join(", "));
    }
    if subject.traced() {
        let time = subject.time_words(migration_index, statement);
        let _ = writeln!(out, "- **Time:** {}", md_text(&time));
    }
    if let Some(impact) = &statement.impact {
        if !impact.risk_reasons.is_empty() {
            let _ = writeln!(out, "- **Risk:** {} — {}", impact.risk.name(), md_text(&impact.risk_reasons.join("; ")));
        }
    }
    for wait in &statement.waits {
        let pids: Vec<String> = wait.blockers.iter().map(|b| b.pid.to_string()).collect();
        let _ = writeln!(
            out,
            "- **Waited** {} for {} on {} (blocked by pid {})",
            format_ms(wait.waited_ms),
            md_text(&wait.mode),
            md_code(&wait.relation),
            pids.join(", ")
        );
    }
    if statement.queue.max_waiting > 0 {
        let _ = writeln!(
            out,
            "- **Queued behind it:** {} session{}, longest wait {}",
            statement.queue.max_waiting,
            plural(statement.queue.max_waiting),
            format_ms(statement.queue.longest_wait_ms)
        );
    }
    if let Some(error) = &statement.error {
        let _ = writeln!(out, "- **Error:** {}", md_text(&error.message));
    }
}

fn finding_item(out: &mut String, finding: &Finding) {
    let status =
        if finding.status == Status::Static { String::new() } else { format!(" ({})", finding.status.label()) };
    let _ = writeln!(
        out,
        "- {} **{} · {} {}**{status}: {}",
        severity_icon(finding.severity),
        finding.severity.name(),
        finding.rule,
        finding.name,
        md_text(&finding.message)
    );
    if !finding.evidence.is_empty() && finding.status != Status::Static {
        let _ = writeln!(out, "  - Seen: {}", md_text(&finding.evidence.join("; ")));
    }
    if let Some(reason) = &finding.downgraded {
        let _ = writeln!(out, "  - Downgraded to low: {}", md_text(reason));
    }
    let _ = writeln!(out, "  - **Safe alternative:** {}", md_text(&finding.help));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_collapse_low_severity_first() {
        let plans = plans();
        assert_eq!(plans[0].detail, [Detail::Full; 4]);
        assert_eq!(plans[1].detail[Severity::Low as usize], Detail::OneLine);
        assert_eq!(plans[1].detail[Severity::Critical as usize], Detail::Full);
        let last = plans.last().unwrap();
        assert_eq!(last.detail[Severity::Low as usize], Detail::Omitted);
        assert_eq!(last.detail[Severity::Critical as usize], Detail::OneLine);
    }
}
