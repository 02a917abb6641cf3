//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding,
//! on its migration file and line, so the finding shows on the pull request's diff.

use std::fmt::Write;

use super::text::relative_path;
use super::{RenderOptions, Subject};
use crate::analyze::Severity;
use crate::trace::Outcome;

/// The workflow command for a severity: critical and high are errors, medium warnings, low notices.
pub fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "notice",
    }
}

/// One annotation per finding of the judged migrations, a failed migration as an error, then
/// one plain summary line.
pub fn render(subject: &Subject<'_>, options: &RenderOptions) -> String {
    let base = options.base.as_deref();
    let mut out = String::new();
    for (_, migration) in subject.judged() {
        for statement in &migration.statements {
            for finding in statement.findings.iter() {
                let path = relative_path(finding.path.as_deref().unwrap_or(&migration.path), base);
                let line = finding.line.unwrap_or(statement.line).max(1);
                let mut message = finding.message.clone();
                if !finding.evidence.is_empty() && finding.status != crate::analyze::Status::Static {
                    message.push_str(&format!("\nSeen: {}", finding.evidence.join("; ")));
                }
                if let Some(reason) = &finding.downgraded {
                    message.push_str(&format!("\nDowngraded to low: {reason}"));
                }
                message.push_str(&format!("\nSafe alternative: {}", finding.help));
                let title = format!("{} {} ({})", finding.rule, finding.name, finding.severity.name());
                let _ = writeln!(
                    out,
                    "::{} file={},line={},title={}::{}",
                    command(finding.severity),
                    escape_property(&path),
                    line,
                    escape_property(&title),
                    escape_data(&message)
                );
            }
        }
    }
    if let Some(Outcome::Failed { path, line, message, .. }) = subject.failure() {
        let _ = writeln!(
            out,
            "::error file={},line={},title={}::{}",
            escape_property(&relative_path(path, base)),
            line,
            escape_property("lockscope: migration failed"),
            escape_data(&format!("{message}\nEverything was rolled back; later statements were not run."))
        );
    }
    let _ = writeln!(
        out,
        "lockscope {}: {} — {}",
        subject.command(),
        subject.headline(options.fail_on),
        super::findings::summary(subject.findings())
    );
    out
}

/// A command's message: `%`, CR and LF escaped as the runner expects.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A command's property value: also `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
