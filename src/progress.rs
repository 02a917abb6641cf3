//! Progress of a long `check`: the tracer says what it is about to run through a [`ProgressHook`];
//! [`ProgressBar`] draws migration n/N, the current statement and the elapsed time on stderr —
//! only when stderr is a terminal and `--quiet` was not given.

use std::fmt;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What the tracer is about to do.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// Migration `index` (0-based) of `total` starts.
    Migration { index: usize, total: usize, path: &'a Path, statements: usize },
    /// Statement `index` (0-based) of the current migration starts.
    Statement { index: usize, line: usize, sql: &'a str },
    /// The trace is done (rolled back or committed).
    Finished,
}

/// A callback the tracer calls at each [`Step`]; cheap and synchronous, it must not block.
#[derive(Clone)]
pub struct ProgressHook(Arc<dyn Fn(Step<'_>) + Send + Sync>);

impl ProgressHook {
    pub fn new(callback: impl Fn(Step<'_>) + Send + Sync + 'static) -> Self {
        ProgressHook(Arc::new(callback))
    }

    pub fn emit(&self, step: Step<'_>) {
        (self.0)(step);
    }
}

impl fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressHook")
    }
}

/// The bar on stderr.
#[derive(Debug, Clone)]
pub struct ProgressBar {
    bar: indicatif::ProgressBar,
}

impl ProgressBar {
    /// A bar, unless `quiet` or stderr is not a terminal (CI logs, pipes, tests).
    pub fn for_stderr(quiet: bool) -> Option<ProgressBar> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        Some(ProgressBar::new(indicatif::ProgressDrawTarget::stderr()))
    }

    /// A bar drawing to `target` (tests use a hidden one).
    pub fn new(target: indicatif::ProgressDrawTarget) -> ProgressBar {
        let bar = indicatif::ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(style("{spinner} [{elapsed_precise}] {wide_msg}"));
        bar.enable_steady_tick(Duration::from_millis(120));
        ProgressBar { bar }
    }

    /// Says what is happening before the trace starts (starting the embedded server, say).
    pub fn status(&self, message: &str) {
        self.bar.set_message(message.to_string());
    }

    /// The hook that moves this bar.
    pub fn hook(&self) -> ProgressHook {
        let bar = self.bar.clone();
        let current = Arc::new(std::sync::Mutex::new(String::new()));
        ProgressHook::new(move |step| {
            let mut current = current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match step {
                Step::Migration { index, total, path, .. } => {
                    if index == 0 {
                        bar.set_style(style("{spinner} [{elapsed_precise}] migration {pos}/{len} {wide_msg}"));
                    }
                    bar.set_length(total as u64);
                    bar.set_position(index as u64 + 1);
                    *current =
                        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
                    bar.set_message(current.clone());
                }
                Step::Statement { line, sql, .. } => {
                    bar.set_message(format!("{}:{line}  {}", current, statement_words(sql)));
                }
                Step::Finished => bar.set_message("judging what was seen"),
            }
        })
    }

    /// Removes the bar before the report is written.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// The text the bar shows now (for tests).
    pub fn message(&self) -> String {
        self.bar.message()
    }

    /// `(position, length)` (for tests).
    pub fn position(&self) -> (u64, Option<u64>) {
        (self.bar.position(), self.bar.length())
    }
}

fn style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template).expect("the template is valid").tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}

/// The statement's first line, whitespace collapsed, short enough for one terminal line.
fn statement_words(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let text = words.join(" ");
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(59).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_moves_the_bar() {
        let bar = ProgressBar::new(indicatif::ProgressDrawTarget::hidden());
        let hook = bar.hook();
        hook.emit(Step::Migration { index: 1, total: 3, path: Path::new("db/002_add.up.sql"), statements: 2 });
        hook.emit(Step::Statement { index: 0, line: 4, sql: "ALTER TABLE orders\n   ADD COLUMN note text" });
        assert_eq!(bar.position(), (2, Some(3)));
        assert_eq!(bar.message(), "002_add.up.sql:4  ALTER TABLE orders ADD COLUMN note text");
        bar.finish();
    }
}
