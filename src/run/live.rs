//! What `run` shows while the command runs. On a terminal: a panel redrawn in place at the
//! bottom of standard error (indicatif) — each of the command's sessions with its current
//! statement, the relation locks it holds, the lock it waits for, who blocks it, how many queue
//! behind it, and the progress of an index build with its ETA — with the events printed above
//! it. Elsewhere (CI logs, a pipe): the same events as plain lines, and no panel.
//!
//! The command's own output must never interleave with the panel (a line written while the
//! panel is drawn leaves a stale copy of the panel in the scrollback). So, while a panel is
//! shown, every byte of the command's output goes through [`Relay`], which clears the panel,
//! writes the bytes unchanged and draws the panel again (indicatif's `suspend`). An incomplete
//! line (a prompt) would be cut by the next redraw, so the panel is taken down until the line
//! ends.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::held::HeldNow;
use super::observe::{Progress, Seen};

/// At most this many held locks are listed per session; the rest are counted.
const HELD_SHOWN: usize = 5;

/// How the command's standard output and error reach the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildOutput {
    /// stdout straight through (inherited); stderr copied line by line, through [`Relay`].
    Inherit,
    /// stdout and stderr on a pseudo-terminal whose bytes [`Relay`] writes above the panel:
    /// lockscope's stdout and the panel share a terminal.
    Pty,
}

/// Where live output goes.
pub struct Live {
    shared: Arc<Mutex<Panel>>,
    quiet: bool,
    output: ChildOutput,
}

/// Writes the command's output without tearing the panel. Cheap to clone (one per copier).
#[derive(Clone)]
pub struct Relay {
    shared: Arc<Mutex<Panel>>,
}

/// Which of lockscope's streams a relayed byte goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

struct Panel {
    /// The panel as drawn; `None` without a terminal, or while a line is incomplete.
    bar: Option<ProgressBar>,
    /// A panel belongs on this terminal.
    wanted: bool,
    /// The latest panel text, to draw again after an incomplete line ended.
    message: String,
}

impl Live {
    /// A panel when standard error is a terminal (and not `--quiet`); plain lines otherwise.
    /// The command runs on a pseudo-terminal only when the panel shares a terminal with
    /// lockscope's standard output.
    pub fn for_stderr(quiet: bool) -> Live {
        let wanted = !quiet && std::io::stderr().is_terminal();
        let output = if wanted && std::io::stdout().is_terminal() { ChildOutput::Pty } else { ChildOutput::Inherit };
        let panel = Panel { bar: wanted.then(|| new_bar("")), wanted, message: String::new() };
        Live { shared: Arc::new(Mutex::new(panel)), quiet, output }
    }

    /// How the command's output should be connected.
    pub fn child_output(&self) -> ChildOutput {
        self.output
    }

    /// The writer for the command's output.
    pub fn relay(&self) -> Relay {
        Relay { shared: self.shared.clone() }
    }

    /// One event line: above the panel on a terminal, a plain line otherwise.
    pub fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &lock(&self.shared).bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Redraws the panel from the latest sample of the command's sessions.
    pub fn show(&self, text: String) {
        let mut panel = lock(&self.shared);
        if let Some(bar) = &panel.bar {
            bar.set_message(text.clone());
        }
        panel.message = text;
    }

    /// Removes the panel (before the report is written).
    pub fn finish(&self) {
        let mut panel = lock(&self.shared);
        panel.wanted = false;
        if let Some(bar) = panel.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Relay {
    /// Writes the command's bytes, unchanged, above the panel. The panel comes back once they
    /// end a line.
    pub fn write(&self, bytes: &[u8], stream: Stream) {
        if bytes.is_empty() {
            return;
        }
        let mut panel = lock(&self.shared);
        match &panel.bar {
            Some(bar) => bar.suspend(|| write_to(stream, bytes)),
            None => {
                write_to(stream, bytes);
                if panel.wanted && bytes.ends_with(b"\n") {
                    panel.bar = Some(new_bar(&panel.message));
                }
            }
        }
    }

    /// Writes the start of a line the command has not ended (a prompt), taking the panel down
    /// first: a redraw below it would erase it.
    pub fn write_unfinished(&self, bytes: &[u8], stream: Stream) {
        if bytes.is_empty() {
            return;
        }
        let mut panel = lock(&self.shared);
        if let Some(bar) = panel.bar.take() {
            bar.finish_and_clear();
        }
        write_to(stream, bytes);
    }
}

fn lock(shared: &Mutex<Panel>) -> MutexGuard<'_, Panel> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_to(stream: Stream, bytes: &[u8]) {
    match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
        Stream::Stderr => {
            let mut out = std::io::stderr().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
    }
}

fn new_bar(message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The panel's text: one block per session of the command — its statement, the relation locks
/// it holds (strongest first, with how long `run` has seen each held), what it waits for and
/// who queues behind it, and index-build progress.
pub fn panel_text(attempt: u32, sessions: &[&Seen], held: &[HeldNow], progress: &[&Progress]) -> String {
    let mut lines = vec![format!("lockscope run — attempt {attempt} — {} session(s) of the command", sessions.len())];
    for seen in sessions {
        let query = seen.query.as_deref().map(one_line).unwrap_or_default();
        let state = seen.state.as_deref().unwrap_or("?");
        let transaction = seen.xact_age_s.map(|age| format!(", transaction open {age:.1}s")).unwrap_or_default();
        lines.push(format!("  pid {} ({state}{transaction}): {}", seen.pid, shorten(&query, 100)));
        let locks = held.iter().find(|now| now.pid == seen.pid).map(|now| now.locks.as_slice()).unwrap_or_default();
        for lock in locks.iter().take(HELD_SHOWN) {
            lines.push(format!("    holds {} (seen held {:.1}s)", lock.lock.describe(), lock.seen_for_s));
        }
        if locks.len() > HELD_SHOWN {
            lines.push(format!("    … and {} more held lock(s)", locks.len() - HELD_SHOWN));
        }
        if let Some(wait) = &seen.waiting {
            let waited = wait.waited_s.map(|s| format!(" for {s:.1}s")).unwrap_or_default();
            lines.push(format!(
                "    waiting{waited} for {} behind pid(s) {:?}; {} session(s) queued behind it",
                wait.describe(),
                seen.blocked_by,
                seen.queued_behind
            ));
        } else if seen.queued_behind > 0 {
            lines.push(format!("    {} session(s) queued behind its locks", seen.queued_behind));
        }
        for line in progress.iter().filter(|p| p.pid == seen.pid) {
            lines.push(format!("    {}", line.line));
        }
    }
    lines.join("\n")
}

fn one_line(query: &str) -> String {
    query.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let cut: String = text.chars().take(width - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::held::HeldFor;
    use crate::run::observe::{Held, Wait};

    fn seen() -> Seen {
        Seen {
            pid: 42,
            application_name: Some("lockscope-run-1".into()),
            state: Some("active".into()),
            query: Some("ALTER TABLE orders\n  ADD COLUMN note text".into()),
            query_start_us: Some(1),
            xact_age_s: Some(2.0),
            state_age_s: Some(1.0),
            waiting: Some(Wait {
                relation: Some("public.orders".into()),
                mode: "AccessExclusiveLock".into(),
                locktype: "relation".into(),
                waited_s: Some(1.5),
            }),
            blocked_by: vec![7],
            queued_behind: 3,
            holds: Vec::new(),
        }
    }

    fn held(mode: &str, relation: &str, seen_for_s: f64) -> HeldFor {
        HeldFor { lock: Held { relation: Some(relation.into()), mode: mode.into() }, seen_for_s }
    }

    #[test]
    fn the_panel_names_statement_held_locks_wait_blockers_queue_and_progress() {
        let seen = seen();
        let progress = Progress { pid: 42, line: "building index: 40% (ETA 12s)".into() };
        let held = HeldNow {
            pid: 42,
            locks: vec![
                held("AccessExclusiveLock", "public.customers", 1.2),
                held("RowExclusiveLock", "public.audit", 0.4),
            ],
            changed: false,
        };
        let text = panel_text(2, &[&seen], &[held], &[&progress]);
        assert_eq!(
            text,
            "lockscope run — attempt 2 — 1 session(s) of the command\n\
             \x20 pid 42 (active, transaction open 2.0s): ALTER TABLE orders ADD COLUMN note text\n\
             \x20   holds AccessExclusiveLock on public.customers (seen held 1.2s)\n\
             \x20   holds RowExclusiveLock on public.audit (seen held 0.4s)\n\
             \x20   waiting for 1.5s for AccessExclusiveLock on public.orders behind pid(s) [7]; 3 session(s) queued behind it\n\
             \x20   building index: 40% (ETA 12s)"
        );
    }

    #[test]
    fn many_held_locks_are_cut_after_five_and_counted() {
        let mut seen = seen();
        seen.waiting = None;
        seen.queued_behind = 0;
        let locks = (0..7).map(|i| held("AccessExclusiveLock", &format!("public.t{i}"), 0.0)).collect();
        let text = panel_text(1, &[&seen], &[HeldNow { pid: 42, locks, changed: true }], &[]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 + 5 + 1, "{text}");
        assert_eq!(lines[6], "    holds AccessExclusiveLock on public.t4 (seen held 0.0s)");
        assert_eq!(lines[7], "    … and 2 more held lock(s)");
    }

    #[test]
    fn a_session_holding_nothing_lists_no_lock() {
        let mut seen = seen();
        seen.waiting = None;
        seen.queued_behind = 0;
        seen.xact_age_s = None;
        let text = panel_text(1, &[&seen], &[], &[]);
        assert_eq!(
            text,
            "lockscope run — attempt 1 — 1 session(s) of the command\n\
             \x20 pid 42 (active): ALTER TABLE orders ADD COLUMN note text"
        );
    }
}
