//! Which sessions belong to the migration: named by `--pid` / `--application-name`, or, when the
//! user named none, recognised by what they do (DDL, ACCESS EXCLUSIVE, progress reports).

/// Statements that change schema or take table-level locks beyond ordinary reads and writes.
const DDL_KEYWORDS: [&str; 11] =
    ["ALTER", "CREATE", "DROP", "TRUNCATE", "REINDEX", "CLUSTER", "VACUUM", "LOCK", "REFRESH", "COMMENT", "GRANT"];

/// Whether `query` starts (after comments and whitespace) with a DDL keyword.
pub fn looks_like_ddl(query: &str) -> bool {
    let word: String = skip_comments(query).chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let word = word.to_ascii_uppercase();
    DDL_KEYWORDS.contains(&word.as_str())
}

fn skip_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("--") {
            text = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return text;
        }
    }
}

/// How the user pointed at the migration's sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Focus {
    /// `application_name` patterns; `*` matches any run of characters.
    pub application_names: Vec<String>,
    pub pids: Vec<i32>,
}

impl Focus {
    /// The user named sessions explicitly.
    pub fn is_explicit(&self) -> bool {
        !self.application_names.is_empty() || !self.pids.is_empty()
    }

    /// Whether a session with this pid and application name was named.
    pub fn matches(&self, pid: i32, application_name: Option<&str>) -> bool {
        self.pids.contains(&pid)
            || application_name
                .is_some_and(|name| self.application_names.iter().any(|pattern| glob_match(pattern, name)))
    }
}

/// `*` wildcards only; everything else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_is_recognised_after_comments() {
        assert!(looks_like_ddl("ALTER TABLE t ADD COLUMN x int"));
        assert!(looks_like_ddl("  -- migration 42\n/* x */ create index concurrently i on t (a)"));
        assert!(looks_like_ddl("LOCK TABLE t IN ACCESS EXCLUSIVE MODE"));
        assert!(!looks_like_ddl("SELECT * FROM t"));
        assert!(!looks_like_ddl("ALTERNATIVE"));
        assert!(!looks_like_ddl("UPDATE t SET a = 1"));
        assert!(!looks_like_ddl("/* unterminated"));
    }

    #[test]
    fn focus_matches_pids_and_application_globs() {
        let focus = Focus { application_names: vec!["migrate*".into(), "flyway".into()], pids: vec![7] };
        assert!(focus.is_explicit());
        assert!(focus.matches(7, None));
        assert!(focus.matches(8, Some("migrate-prod")));
        assert!(focus.matches(8, Some("flyway")));
        assert!(!focus.matches(8, Some("flyway2")));
        assert!(!focus.matches(8, None));
        assert!(glob_match("*x*y", "axbxy"));
        assert!(!glob_match("a*b", "ab-c"));
        assert!(glob_match("a*", "a"));
        assert!(!Focus::default().is_explicit());
    }
}
