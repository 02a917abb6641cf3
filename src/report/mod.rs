//! Trace + assessment → what the user reads: a terminal table, the JSON contract of docs/ARCHITECTURE.md, a
//! PR-comment Markdown report, a self-contained HTML page with a lock timeline, SARIF for code
//! scanning, or GitHub workflow annotations. `check` and `lint` render through the same formats.

pub mod findings;
pub mod github;
pub mod html;
pub mod json;
pub mod lint;
pub mod markdown;
pub mod sarif;
pub mod subject;
pub mod table;
mod text;
pub mod timeline;

use std::path::PathBuf;

pub use crate::plan::Scope;
pub use subject::{CheckReport, MigrationView, Source, StatementView, Subject, Verdict};

use crate::analyze::FailOn;

/// Output formats of `check` and `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tables for a terminal.
    Table,
    /// The versioned JSON document (schema_version 1).
    Json,
    /// A pull-request comment: verdict, summary per migration, risky statements with their fix.
    Markdown,
    /// One self-contained page with a lock timeline (use with --output).
    Html,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow annotations (`::error file=…,line=…::…`).
    Github,
}

/// What the renderers need besides the data.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// ANSI styling (terminal table only).
    pub color: bool,
    /// The threshold the verdict is judged against.
    pub fail_on: FailOn,
    /// Paths in SARIF and annotations are made relative to this directory (the working directory,
    /// usually the repository root) when they lie inside it.
    pub base: Option<PathBuf>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { color: false, fail_on: FailOn::High, base: None }
    }
}

/// Renders `subject` in `format`.
/// Whether to colour a report: only on a terminal, never into a file, never with `--no-color` or
/// `NO_COLOR`.
pub fn use_color(output: Option<&std::path::Path>, no_color: bool) -> bool {
    use std::io::IsTerminal;
    output.is_none() && !no_color && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Writes a rendered report to `output`, or to standard output.
pub fn write_output(text: &str, output: Option<&std::path::Path>) -> crate::error::Result<()> {
    use std::io::Write;
    match output {
        Some(path) => std::fs::write(path, text)
            .map_err(|err| crate::error::Error::Output { path: path.to_path_buf(), message: err.to_string() }),
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            Ok(())
        }
    }
}

pub fn render(subject: &Subject<'_>, format: Format, options: &RenderOptions) -> String {
    match (format, subject.source) {
        (Format::Table, Source::Check(report)) => table::render(report.trace, subject, options.color),
        (Format::Json, Source::Check(report)) => json::render(report, subject),
        (Format::Table | Format::Json, Source::Lint(report)) => lint::render(report, format, options.color),
        (Format::Markdown, _) => markdown::render(subject, options),
        (Format::Html, _) => html::render(subject, options),
        (Format::Sarif, _) => sarif::render(subject, options),
        (Format::Github, _) => github::render(subject, options),
    }
}
