//! `-- lockscope:ignore LS101, LS102 reason` comments, and which statement each one is about.
//!
//! A directive belongs to the statement it trails (written inside it, or after it on the line
//! where it ends), otherwise to the next statement below it.

use super::locate::{LineIndex, Tokens};
use super::{Ignore, Statement};

const MARKER: &str = "lockscope:ignore";

pub(crate) fn attach(text: &str, lines: &LineIndex<'_>, tokens: &Tokens, statements: &mut [Statement]) {
    for comment in tokens.all.iter().filter(|t| t.comment) {
        let Some((rules, reason)) = parse(&text[comment.start..comment.end]) else {
            continue;
        };
        // Statements are in file order: the first one starting after the comment is the next.
        let next = statements.partition_point(|s| s.start <= comment.start);
        let trails = next.checked_sub(1).filter(|&index| {
            let statement = &statements[index];
            comment.start < statement.end || lines.line(comment.start) == lines.line(statement.end)
        });
        let owner = trails.or((next < statements.len()).then_some(next));
        if let Some(index) = owner {
            statements[index].ignores.push(Ignore { rules, reason, line: lines.line(comment.start) });
        }
    }
}

/// Rule ids and the optional reason of a directive comment (`--` or `/* */`), or `None` when the
/// comment is not a directive.
fn parse(comment: &str) -> Option<(Vec<String>, Option<String>)> {
    let body = match comment.strip_prefix("--") {
        Some(line) => line,
        None => {
            let block = comment.strip_prefix("/*")?;
            block.strip_suffix("*/").unwrap_or(block)
        }
    };
    let body = body.trim_start_matches('-').trim();
    let head = body.get(..MARKER.len())?;
    if !head.eq_ignore_ascii_case(MARKER) {
        return None;
    }
    let mut rest = &body[MARKER.len()..];
    if rest.chars().next().is_some_and(|c| !c.is_whitespace() && c != ':') {
        return None;
    }
    rest = rest.trim_start_matches(':');

    let mut rules = Vec::new();
    loop {
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        let word_len = trimmed.find(|c: char| c.is_whitespace() || c == ',').unwrap_or(trimmed.len());
        let word = &trimmed[..word_len];
        if !is_rule_id(word) {
            rest = trimmed;
            break;
        }
        rules.push(word.to_string());
        rest = &trimmed[word_len..];
    }
    let reason = rest.trim().trim_start_matches(['-', ':', '—']).trim();
    let reason = (!reason.is_empty()).then(|| reason.to_string());
    Some((rules, reason))
}

/// Letters then digits: `LS101`.
fn is_rule_id(word: &str) -> bool {
    let letters = word.chars().take_while(|c| c.is_ascii_alphabetic()).count();
    letters > 0 && word.len() > letters && word[letters..].chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn directive_with_rules_and_reason() {
        let (rules, reason) = parse("-- lockscope:ignore LS101, LS102 table has 10 rows").unwrap();
        assert_eq!(rules, ["LS101", "LS102"]);
        assert_eq!(reason.as_deref(), Some("table has 10 rows"));
    }

    #[test]
    fn directive_without_reason() {
        let (rules, reason) = parse("--lockscope:ignore LS101").unwrap();
        assert_eq!(rules, ["LS101"]);
        assert_eq!(reason, None);
    }

    #[test]
    fn block_comment_directive_and_dash_separated_reason() {
        let (rules, reason) = parse("/* lockscope:ignore LS7 LS8 -- off-hours run */").unwrap();
        assert_eq!(rules, ["LS7", "LS8"]);
        assert_eq!(reason.as_deref(), Some("off-hours run"));
    }

    #[test]
    fn ordinary_comments_are_not_directives() {
        assert!(parse("-- add the column").is_none());
        assert!(parse("-- lockscope:ignored LS1").is_none());
    }
}
