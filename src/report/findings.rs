//! One finding as text, shared by the `check` and `lint` terminal reports.

use std::fmt::Write;

use crate::analyze::Finding;
use crate::analyze::{Severity, Status};

/// Where a finding is: `path:line`, or only `line N` under a heading that names the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    PathAndLine,
    Line,
}

/// `path:line  severity  ID name [status]`, the message, what the trace showed, and the fix.
pub fn render(finding: &Finding, place: Place, show_status: bool, color: bool) -> String {
    let location = match (place, &finding.path, finding.line) {
        (Place::PathAndLine, Some(path), Some(line)) => format!("{path}:{line}"),
        (Place::PathAndLine, Some(path), None) => path.clone(),
        (Place::Line, _, Some(line)) => format!("line {line:<4}"),
        _ => String::new(),
    };
    let severity = paint(&format!("{:<8}", finding.severity.name()), finding.severity, color);
    let status = if show_status { format!(" [{}]", finding.status.label()) } else { String::new() };
    let mut out = format!("  {location}  {severity} {} {}{status}\n", finding.rule, finding.name);
    let _ = writeln!(out, "    {}", finding.message);
    if !finding.evidence.is_empty() && finding.status != Status::Static {
        let _ = writeln!(out, "    seen: {}", finding.evidence.join("; "));
    }
    if let Some(reason) = &finding.downgraded {
        let _ = writeln!(out, "    downgraded to low: {reason}");
    }
    let _ = writeln!(out, "    fix: {}", finding.help);
    out
}

/// `3 findings: 1 high, 2 low`, or `no findings`.
pub fn summary<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> String {
    let mut counts = [0usize; 4];
    let mut total = 0;
    for finding in findings {
        counts[finding.severity as usize] += 1;
        total += 1;
    }
    if total == 0 {
        return "no findings".to_string();
    }
    let parts: Vec<String> = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low]
        .iter()
        .filter(|s| counts[**s as usize] > 0)
        .map(|s| format!("{} {}", counts[*s as usize], s.name()))
        .collect();
    format!("{total} finding{}: {}", if total == 1 { "" } else { "s" }, parts.join(", "))
}

fn paint(text: &str, severity: Severity, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "2",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}
