//! What `run` shows while the command runs. On a terminal: a panel redrawn in place at the
//! bottom of standard error (indicatif) — each of the command's sessions with its current
//! statement, the lock it waits for, who blocks it, how many queue behind it, and the progress of
//! an index build with its ETA — with the events printed above it. Elsewhere (CI logs, a pipe):
//! the same events as plain lines, and no panel.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::observe::{Progress, Seen};

/// Where live output goes.
pub struct Live {
    panel: Option<ProgressBar>,
    quiet: bool,
}

impl Live {
    /// A panel when standard error is a terminal (and not `--quiet`); plain lines otherwise.
    pub fn for_stderr(quiet: bool) -> Live {
        let panel = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Live { panel, quiet }
    }

    /// One event line: above the panel on a terminal, a plain line otherwise.
    pub fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.panel {
            Some(panel) => panel.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Redraws the panel from the latest sample of the command's sessions.
    pub fn show(&self, attempt: u32, sessions: &[&Seen], progress: &[&Progress]) {
        if let Some(panel) = &self.panel {
            panel.set_message(panel_text(attempt, sessions, progress));
        }
    }

    /// Removes the panel (before the report is written).
    pub fn finish(&self) {
        if let Some(panel) = &self.panel {
            panel.finish_and_clear();
        }
    }
}

/// The panel's text: one block per session of the command.
pub fn panel_text(attempt: u32, sessions: &[&Seen], progress: &[&Progress]) -> String {
    let mut lines = vec![format!("lockscope run — attempt {attempt} — {} session(s) of the command", sessions.len())];
    for seen in sessions {
        let query = seen.query.as_deref().map(one_line).unwrap_or_default();
        let state = seen.state.as_deref().unwrap_or("?");
        lines.push(format!("  pid {} ({state}): {}", seen.pid, shorten(&query, 100)));
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
    use crate::run::observe::Wait;

    #[test]
    fn the_panel_names_statement_wait_blockers_queue_and_progress() {
        let seen = Seen {
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
        };
        let progress = Progress { pid: 42, line: "building index: 40% (ETA 12s)".into() };
        let text = panel_text(2, &[&seen], &[&progress]);
        assert_eq!(
            text,
            "lockscope run — attempt 2 — 1 session(s) of the command\n\
             \x20 pid 42 (active): ALTER TABLE orders ADD COLUMN note text\n\
             \x20   waiting for 1.5s for AccessExclusiveLock on public.orders behind pid(s) [7]; 3 session(s) queued behind it\n\
             \x20   building index: 40% (ETA 12s)"
        );
    }
}
