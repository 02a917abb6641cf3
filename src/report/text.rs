//! Small text helpers the report formats share: escaping, shortening, numbers for people.

use std::path::Path;

use crate::analyze::Severity;
use crate::locks::LockMode;

/// Escapes `&`, `<`, `>` and quotes for HTML text and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Free text in Markdown: HTML-ish characters escaped so GitHub shows them rather than eating them.
pub fn md_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `text` as inline code, with enough backticks around it to hold any it contains.
pub fn md_code(text: &str) -> String {
    let text = text.replace('\n', " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

/// A fenced code block for `text`, with a fence longer than any backtick run inside.
pub fn md_fence(language: &str, text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{language}\n{}\n{fence}\n", text.trim_end())
}

/// The statement's SQL, at most `max_lines` lines and `max_chars` characters, saying what was cut.
pub fn sql_excerpt(sql: &str, max_lines: usize, max_chars: usize) -> String {
    let sql = sql.trim();
    let lines: Vec<&str> = sql.lines().collect();
    let mut kept: String = lines.iter().take(max_lines).copied().collect::<Vec<_>>().join("\n");
    let mut cut = lines.len() > max_lines;
    if kept.chars().count() > max_chars {
        kept = kept.chars().take(max_chars).collect();
        cut = true;
    }
    if cut {
        let total = sql.chars().count();
        kept.push_str(&format!("\n-- … (statement shortened; {total} characters, {} lines in all)", lines.len()));
    }
    kept
}

/// The statement's first line, at most `width` characters.
pub fn first_line(sql: &str, width: usize) -> String {
    let line = sql.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let more = sql.trim().lines().count() > 1;
    if line.chars().count() > width {
        let cut: String = line.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else if more {
        format!("{line} …")
    } else {
        line.to_string()
    }
}

/// `ACCESS EXCLUSIVE` with the `‼` marker that says it blocks everything.
pub fn mode_words(mode: LockMode) -> String {
    if mode == LockMode::AccessExclusive {
        format!("‼ {}", mode.sql_name())
    } else {
        mode.sql_name().to_string()
    }
}

/// `1,234,567`.
pub fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Severity marker for Markdown and HTML: a coloured circle GitHub shows everywhere.
pub fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "⚪",
    }
}

/// `path` relative to `base` when it lies inside it, with `/` separators.
pub fn relative_path(path: &str, base: Option<&Path>) -> String {
    let candidate = Path::new(path);
    let relative = match base {
        Some(base) if candidate.is_absolute() => candidate.strip_prefix(base).ok(),
        _ => None,
    };
    let shown = relative.unwrap_or(candidate).to_string_lossy().to_string();
    let shown = shown.replace('\\', "/");
    shown.strip_prefix("./").map(str::to_string).unwrap_or(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(md_code("orders"), "`orders`");
        assert_eq!(md_code("a`b"), "`` a`b ``");
        assert!(md_fence("sql", "SELECT '```'").starts_with("````sql\n"));
    }

    #[test]
    fn numbers_and_excerpts() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        let sql = (1..=30).map(|i| format!("line {i}")).collect::<Vec<_>>().join("\n");
        let excerpt = sql_excerpt(&sql, 3, 1000);
        assert!(excerpt.starts_with("line 1\nline 2\nline 3\n-- …"), "{excerpt}");
        assert_eq!(first_line("  \nALTER TABLE t\n  ADD x int", 40), "ALTER TABLE t …");
    }

    #[test]
    fn paths_become_relative_inside_the_base() {
        assert_eq!(relative_path("/repo/db/001.sql", Some(Path::new("/repo"))), "db/001.sql");
        assert_eq!(relative_path("/elsewhere/001.sql", Some(Path::new("/repo"))), "/elsewhere/001.sql");
        assert_eq!(relative_path("./db/001.sql", None), "db/001.sql");
    }
}
