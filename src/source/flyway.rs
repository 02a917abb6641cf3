//! Flyway's naming: `V<version>__<description>.sql` (versioned), `U<version>__<description>.sql`
//! (undo, Flyway Teams), `R__<description>.sql` (repeatable). Version parts are separated by `.`
//! or `_` and compared as numbers, trailing zeros ignored (`1.0` is `1`), as Flyway's
//! `MigrationVersion` does.

use std::cmp::Ordering;

/// What a Flyway file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlywayName {
    pub kind: FlywayKind,
    /// The version as written, `_` shown as `.` the way Flyway displays and records it; empty for
    /// a repeatable migration.
    pub version: String,
    /// The description with `_` shown as spaces, as Flyway records it.
    pub description: String,
}

/// Versioned, undo or repeatable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlywayKind {
    Versioned,
    Undo,
    Repeatable,
}

/// Reads `V1_2__add_users.sql`; `None` when the name is not a Flyway SQL migration.
pub fn parse_name(file_name: &str) -> Option<FlywayName> {
    let stem = file_name.strip_suffix(".sql")?;
    let (kind, rest) = match stem.chars().next()? {
        'V' => (FlywayKind::Versioned, &stem[1..]),
        'U' => (FlywayKind::Undo, &stem[1..]),
        'R' => (FlywayKind::Repeatable, &stem[1..]),
        _ => return None,
    };
    let (version, description) = rest.split_once("__")?;
    if kind == FlywayKind::Repeatable {
        if !version.is_empty() {
            return None;
        }
    } else if version.is_empty()
        || !version.split(['.', '_']).all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    Some(FlywayName { kind, version: version.replace('_', "."), description: description.replace('_', " ") })
}

/// A version's numeric parts with trailing zeros dropped: `1.2.0` → `[1, 2]`. `None` when a part
/// is not a number.
pub fn version_parts(version: &str) -> Option<Vec<u128>> {
    let mut parts: Vec<u128> = version.split(['.', '_']).map(|part| part.parse().ok()).collect::<Option<_>>()?;
    while parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// Orders two versions the way Flyway does.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (version_parts(a), version_parts(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// Whether a Flyway script configuration (`V1__x.sql.conf`) turns the transaction off.
pub fn conf_disables_transaction(conf: &str) -> bool {
    conf.lines().any(|line| {
        line.split_once('=').is_some_and(|(key, value)| {
            key.trim() == "executeInTransaction" && value.trim().eq_ignore_ascii_case("false")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let name = parse_name("V1_2__Add_users.sql").unwrap();
        assert_eq!(
            (name.kind, name.version.as_str(), name.description.as_str()),
            (FlywayKind::Versioned, "1.2", "Add users")
        );
        assert_eq!(parse_name("U1.2__Add_users.sql").unwrap().kind, FlywayKind::Undo);
        let repeatable = parse_name("R__refresh_views.sql").unwrap();
        assert_eq!((repeatable.version.as_str(), repeatable.description.as_str()), ("", "refresh views"));
        assert_eq!(parse_name("V__x.sql"), None);
        assert_eq!(parse_name("V1_x.sql"), None);
        assert_eq!(parse_name("R1__x.sql"), None);
        assert_eq!(parse_name("V1a__x.sql"), None);
        assert_eq!(parse_name("001_x.sql"), None);
    }

    #[test]
    fn versions_compare_numerically_and_ignore_trailing_zeros() {
        assert_eq!(compare_versions("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare_versions("1.0", "1"), Ordering::Equal);
        assert_eq!(compare_versions("001", "1"), Ordering::Equal);
        assert_eq!(compare_versions("2", "1.5.3"), Ordering::Greater);
    }

    #[test]
    fn script_configuration() {
        assert!(conf_disables_transaction("# comment\nexecuteInTransaction = false\n"));
        assert!(!conf_disables_transaction("executeInTransaction=true"));
    }
}
