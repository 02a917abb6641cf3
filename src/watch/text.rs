//! A sample as lines of text: the plain refreshing output, and the content of the TUI (which
//! styles each line by its [`LineKind`]).

use std::cmp::Ordering;

use crate::units::human_duration;

use super::alerts::one_line;
use super::model::{Progress, Sample, Session, TreeNode};

/// What a line is, so the TUI can colour it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Header,
    Section,
    Alert,
    Remedy,
    Action,
    Event,
    Skipped,
    Migration,
    Blocker,
    Normal,
    Dim,
}

/// How to order the session list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Longest lock wait first.
    #[default]
    Wait,
    /// Oldest transaction first.
    TransactionAge,
    /// Longest-running query first.
    QueryAge,
    Pid,
}

impl SortKey {
    /// The next key, for the TUI's sort key.
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Wait => SortKey::TransactionAge,
            SortKey::TransactionAge => SortKey::QueryAge,
            SortKey::QueryAge => SortKey::Pid,
            SortKey::Pid => SortKey::Wait,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Wait => "lock wait",
            SortKey::TransactionAge => "transaction age",
            SortKey::QueryAge => "query age",
            SortKey::Pid => "pid",
        }
    }
}

/// Rendering choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Query text is cut to this many characters; `None` shows it whole (on one line).
    pub query_width: Option<usize>,
    pub sort: SortKey,
    /// At most this many sessions in the session list.
    pub session_limit: usize,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions { query_width: Some(80), sort: SortKey::Wait, session_limit: 15 }
    }
}

/// The sample as text, one `\n`-terminated line each.
pub fn render_sample(sample: &Sample, options: &TextOptions) -> String {
    let mut out = String::new();
    for (_, line) in sample_lines(sample, options) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The sample as styled lines.
pub fn sample_lines(sample: &Sample, options: &TextOptions) -> Vec<(LineKind, String)> {
    let mut lines = vec![(LineKind::Header, header(sample))];
    for event in &sample.events {
        lines.push((LineKind::Event, format!("! {event}")));
    }
    if let Some(reason) = &sample.skipped {
        lines.push((LineKind::Skipped, format!("sample skipped: {reason}")));
        return lines;
    }
    push_notices(sample, &mut lines);
    push_lock_tree(sample, options, &mut lines);
    push_lock_queues(sample, &mut lines);
    push_progress(sample, options, &mut lines);
    push_idle_in_transaction(sample, options, &mut lines);
    push_active_sessions(sample, options, &mut lines);
    lines
}

/// Privilege note, suggested actions, and alerts with their remedy.
fn push_notices(sample: &Sample, lines: &mut Vec<(LineKind, String)>) {
    if let Some(hidden) = &sample.hidden {
        lines.push((LineKind::Dim, format!("note: {hidden}")));
    }
    for action in &sample.actions {
        lines.push((LineKind::Action, format!("ACTION {}", action.message)));
    }
    for alert in &sample.alerts {
        lines.push((LineKind::Alert, format!("ALERT {}", alert.message)));
        lines.push((LineKind::Remedy, format!("      remedy: {}", alert.remedy)));
    }
}

/// The "Lock tree" section: who blocks whom.
fn push_lock_tree(sample: &Sample, options: &TextOptions, lines: &mut Vec<(LineKind, String)>) {
    lines.push((LineKind::Section, "Lock tree (who blocks whom)".into()));
    if sample.lock_tree.is_empty() {
        lines.push((LineKind::Dim, "  nobody is waiting for a lock".into()));
    }
    for root in &sample.lock_tree {
        tree_lines(sample, root, "", "", true, options, lines);
    }
}

/// The "Lock queues" section: per relation, holders, then waiters in wait order.
fn push_lock_queues(sample: &Sample, lines: &mut Vec<(LineKind, String)>) {
    if !sample.queues.is_empty() {
        lines.push((LineKind::Section, "Lock queues (holders, then waiters in wait order)".into()));
    }
    for queue in &sample.queues {
        let holders: Vec<String> = queue.holders.iter().map(|entry| format!("{} {}", entry.pid, entry.mode)).collect();
        let waiters: Vec<String> = queue
            .waiters
            .iter()
            .map(|entry| match entry.waited_s {
                Some(waited) => format!("{} {} ({})", entry.pid, entry.mode, human_duration(waited)),
                None => format!("{} {}", entry.pid, entry.mode),
            })
            .collect();
        lines.push((LineKind::Normal, format!("  {}", queue.relation)));
        lines.push((
            LineKind::Normal,
            format!("    holders: {}", if holders.is_empty() { "-".to_string() } else { holders.join(", ") }),
        ));
        lines.push((LineKind::Normal, format!("    waiters: {}", waiters.join(" → "))));
    }
}

/// The "Migration sessions" and "Other progress" sections.
fn push_progress(sample: &Sample, options: &TextOptions, lines: &mut Vec<(LineKind, String)>) {
    let migration: Vec<&Session> = sample.sessions.iter().filter(|s| s.migration).collect();
    if !migration.is_empty() {
        lines.push((LineKind::Section, "Migration sessions".into()));
        for session in migration {
            lines.push((LineKind::Migration, format!("  * {}", session_line(session, options))));
            if let Some(progress) = sample.progress.iter().find(|p| p.pid == session.pid) {
                lines.push((LineKind::Migration, format!("      {}", progress_line(progress))));
            }
        }
    }
    let other_progress: Vec<&Progress> =
        sample.progress.iter().filter(|p| !sample.session(p.pid).is_some_and(|s| s.migration)).collect();
    if !other_progress.is_empty() {
        lines.push((LineKind::Section, "Other progress".into()));
        for progress in other_progress {
            lines.push((LineKind::Normal, format!("  {} {}", progress.pid, progress_line(progress))));
        }
    }
}

/// The "Idle in transaction" section, oldest transaction first.
fn push_idle_in_transaction(sample: &Sample, options: &TextOptions, lines: &mut Vec<(LineKind, String)>) {
    let mut idle: Vec<&Session> = sample
        .sessions
        .iter()
        .filter(|s| s.state.as_deref().is_some_and(|state| state.starts_with("idle in transaction")))
        .collect();
    if !idle.is_empty() {
        idle.sort_by(|a, b| cmp_desc(a.xact_age_s, b.xact_age_s).then(a.pid.cmp(&b.pid)));
        lines.push((LineKind::Section, "Idle in transaction".into()));
        for session in idle.iter().take(options.session_limit) {
            let kind = if session.queued_behind > 0 { LineKind::Blocker } else { LineKind::Normal };
            lines.push((kind, format!("  {}", session_line(session, options))));
        }
    }
}

/// The "Active sessions" section, in the chosen sort order.
fn push_active_sessions(sample: &Sample, options: &TextOptions, lines: &mut Vec<(LineKind, String)>) {
    let mut active: Vec<&Session> =
        sample.sessions.iter().filter(|s| s.state.as_deref() == Some("active") || s.waiting_for.is_some()).collect();
    if !active.is_empty() {
        sort_sessions(&mut active, options.sort);
        lines.push((
            LineKind::Section,
            format!(
                "Active sessions (by {}, {} of {})",
                options.sort.label(),
                active.len().min(options.session_limit),
                active.len()
            ),
        ));
        for session in active.iter().take(options.session_limit) {
            lines.push((LineKind::Normal, format!("  {}", session_line(session, options))));
        }
    }
}

fn header(sample: &Sample) -> String {
    if sample.skipped.is_some() {
        return format!("── {} · no sample", sample.sampled_at);
    }
    let summary = &sample.summary;
    format!(
        "── {} · {} sessions ({} active, {} idle in transaction, {} waiting on locks) · sample {:.1} ms",
        sample.sampled_at,
        summary.sessions,
        summary.active,
        summary.idle_in_transaction,
        summary.waiting_on_locks,
        sample.sample_ms
    )
}

fn tree_lines(
    sample: &Sample,
    node: &TreeNode,
    prefix: &str,
    child_prefix: &str,
    is_root: bool,
    options: &TextOptions,
    lines: &mut Vec<(LineKind, String)>,
) {
    let text = match sample.session(node.pid) {
        _ if node.cycle => format!("{} (cycle: waits for a session above — deadlock pending)", node.pid),
        _ if node.shown_above => format!("{} (also waits for another session; shown above)", node.pid),
        Some(session) => session_line(session, options),
        None => format!("{} (gone)", node.pid),
    };
    let kind = if is_root {
        LineKind::Blocker
    } else if sample.session(node.pid).is_some_and(|s| s.migration) {
        LineKind::Migration
    } else {
        LineKind::Normal
    };
    let label = if is_root { "  " } else { "" };
    lines.push((kind, format!("{label}{prefix}{text}")));
    let count = node.children.len();
    for (at, child) in node.children.iter().enumerate() {
        let last = at + 1 == count;
        let base = if is_root { "  " } else { child_prefix };
        let (branch, next) = if last { ("└─ ", "   ") } else { ("├─ ", "│  ") };
        tree_lines(sample, child, &format!("{base}{branch}"), &format!("{base}{next}"), false, options, lines);
    }
}

/// `pid app user state · waits MODE on REL 12s · xact 5m · 3 queued · query`.
pub fn session_line(session: &Session, options: &TextOptions) -> String {
    let mut parts = vec![session.pid.to_string()];
    let who = match (&session.application_name, &session.usename) {
        (Some(app), Some(user)) if !app.is_empty() => format!("{app} ({user})"),
        (_, Some(user)) => user.clone(),
        (Some(app), None) if !app.is_empty() => app.clone(),
        _ => "?".into(),
    };
    parts.push(who);
    if session.hidden && session.state.is_none() {
        parts.push("details hidden".into());
    } else if let Some(state) = &session.state {
        let age = session.state_age_s.map(|age| format!(" {}", human_duration(age))).unwrap_or_default();
        parts.push(format!("{state}{age}"));
    } else if let Some(kind) = &session.backend_type {
        parts.push(kind.clone());
    }
    if let Some(waiting) = &session.waiting_for {
        let waited = waiting.waited_s.map(|w| format!(" {}", human_duration(w))).unwrap_or_default();
        parts.push(format!("waits {}{waited}", waiting.describe()));
    }
    if let Some(xact) = session.xact_age_s {
        parts.push(format!("xact {}", human_duration(xact)));
    }
    if session.queued_behind > 0 {
        parts.push(format!("{} queued behind", session.queued_behind));
    }
    if let Some(query) = &session.query {
        let query = match options.query_width {
            Some(width) => one_line(query, width),
            None => one_line(query, usize::MAX),
        };
        if !query.is_empty() {
            parts.push(query);
        }
    }
    parts.join(" · ")
}

/// `CREATE INDEX CONCURRENTLY public.t → public.t_idx · building index: scanning table · 45.2%
/// (4520/10000 blocks) · 1200 blocks/s · ETA 4.6s`.
pub fn progress_line(progress: &Progress) -> String {
    let mut parts = vec![progress.command.clone()];
    match (&progress.relation, &progress.index) {
        (Some(table), Some(index)) => parts.push(format!("{table} → {index}")),
        (Some(table), None) => parts.push(table.clone()),
        _ => {}
    }
    if let Some(phase) = &progress.phase {
        parts.push(phase.clone());
    }
    let unit = progress.unit.as_deref().unwrap_or("");
    match (progress.percent, progress.done, progress.total) {
        (Some(percent), Some(done), Some(total)) => parts.push(format!("{percent:.1}% ({done}/{total} {unit})")),
        (None, Some(done), _) => parts.push(format!("{done} {unit}")),
        _ => {}
    }
    if let Some(rate) = progress.rate_per_s {
        parts.push(format!("{rate:.0} {unit}/s"));
    }
    if let Some(eta) = progress.eta_s {
        parts.push(format!("ETA {}", human_duration(eta)));
    }
    parts.join(" · ")
}

fn cmp_desc(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn sort_sessions(sessions: &mut [&Session], key: SortKey) {
    sessions.sort_by(|a, b| {
        let order = match key {
            SortKey::Wait => cmp_desc(
                a.waiting_for.as_ref().and_then(|w| w.waited_s),
                b.waiting_for.as_ref().and_then(|w| w.waited_s),
            ),
            SortKey::TransactionAge => cmp_desc(a.xact_age_s, b.xact_age_s),
            SortKey::QueryAge => cmp_desc(a.query_age_s, b.query_age_s),
            SortKey::Pid => Ordering::Equal,
        };
        order.then(a.pid.cmp(&b.pid))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::model::{Queue, QueueEntry, WaitingFor};

    fn session(pid: i32, state: &str, query: &str, waiting: Option<f64>, behind: usize) -> Session {
        Session {
            pid,
            application_name: Some("app".into()),
            state: Some(state.into()),
            wait_event_type: waiting.map(|_| "Lock".into()),
            query: Some(query.into()),
            blocked_by: Vec::new(),
            waiting_for: waiting.map(|waited| WaitingFor {
                relation: Some("public.orders".into()),
                mode: if pid == 200 { "AccessExclusiveLock" } else { "AccessShareLock" }.into(),
                locktype: "relation".into(),
                waited_s: Some(waited),
                relation_oid: Some(1),
            }),
            usename: Some("alice".into()),
            backend_type: Some("client backend".into()),
            wait_event: None,
            xact_age_s: Some(61.0),
            query_age_s: Some(61.0),
            state_age_s: Some(60.0),
            query_start_us: None,
            migration: pid == 200,
            ddl: pid == 200,
            hidden: false,
            holds: Vec::new(),
            queued_behind: behind,
        }
    }

    #[test]
    fn the_tree_reads_top_down_with_the_queue_below() {
        let mut sample = Sample::skipped("2024-01-01T00:00:00.000Z".into(), String::new(), 1.0);
        sample.skipped = None;
        sample.sessions = vec![
            session(100, "idle in transaction", "SELECT 1", None, 3),
            session(200, "active", "ALTER TABLE orders ADD COLUMN x int", Some(12.0), 2),
            session(301, "active", "SELECT * FROM orders", Some(11.0), 0),
            session(302, "active", "SELECT count(*) FROM orders", Some(10.0), 0),
        ];
        let leaf = |pid| TreeNode { pid, children: vec![], cycle: false, shown_above: false };
        sample.lock_tree = vec![TreeNode {
            pid: 100,
            children: vec![TreeNode {
                pid: 200,
                children: vec![leaf(301), leaf(302)],
                cycle: false,
                shown_above: false,
            }],
            cycle: false,
            shown_above: false,
        }];
        sample.queues = vec![Queue {
            relation: "public.orders".into(),
            holders: vec![QueueEntry { pid: 100, mode: "AccessShareLock".into(), waited_s: None }],
            waiters: vec![
                QueueEntry { pid: 200, mode: "AccessExclusiveLock".into(), waited_s: Some(12.0) },
                QueueEntry { pid: 301, mode: "AccessShareLock".into(), waited_s: Some(11.0) },
            ],
        }];
        let text = render_sample(&sample, &TextOptions::default());
        let tree: Vec<&str> = text.lines().skip_while(|line| !line.starts_with("Lock tree")).skip(1).take(4).collect();
        assert!(tree[0].starts_with("  100 · app (alice) · idle in transaction 1m 0s"), "{text}");
        assert!(
            tree[1]
                .starts_with("  └─ 200 · app (alice) · active 1m 0s · waits AccessExclusiveLock on public.orders 12s"),
            "{text}"
        );
        assert!(tree[2].starts_with("     ├─ 301"), "{text}");
        assert!(tree[3].starts_with("     └─ 302"), "{text}");
        assert!(text.contains("    holders: 100 AccessShareLock\n"), "{text}");
        assert!(text.contains("    waiters: 200 AccessExclusiveLock (12s) → 301 AccessShareLock (11s)\n"), "{text}");
        assert!(text.contains("Migration sessions\n  * 200"), "{text}");
    }

    #[test]
    fn a_skipped_sample_says_why_and_nothing_else() {
        let sample = Sample::skipped("t".into(), "reading pg_locks: statement timeout".into(), 200.0);
        let text = render_sample(&sample, &TextOptions::default());
        assert!(text.contains("sample skipped: reading pg_locks: statement timeout"));
        assert!(!text.contains("Lock tree"));
    }

    #[test]
    fn progress_reads_as_percent_rate_and_eta() {
        let progress = Progress {
            pid: 1,
            command: "CREATE INDEX CONCURRENTLY".into(),
            phase: Some("building index: scanning table".into()),
            relation: Some("public.t".into()),
            index: Some("public.t_idx".into()),
            done: Some(4520),
            total: Some(10000),
            unit: Some("blocks".into()),
            percent: Some(45.2),
            rate_per_s: Some(1200.0),
            eta_s: Some(4.6),
        };
        assert_eq!(
            progress_line(&progress),
            "CREATE INDEX CONCURRENTLY · public.t → public.t_idx · building index: scanning table · \
             45.2% (4520/10000 blocks) · 1200 blocks/s · ETA 4.6s"
        );
    }
}
