//! PostgreSQL's table-level lock modes and what each one conflicts with: the one table every other
//! part of lockscope consults (static lock levels, reports, explain, watch).
//!
//! Source: PostgreSQL documentation, "Explicit Locking", Table 13.2 "Conflicting Lock Modes".

use std::fmt;

/// A table-level lock mode, weakest first (the order is PostgreSQL's own numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum LockMode {
    #[serde(rename = "AccessShareLock")]
    AccessShare,
    #[serde(rename = "RowShareLock")]
    RowShare,
    #[serde(rename = "RowExclusiveLock")]
    RowExclusive,
    #[serde(rename = "ShareUpdateExclusiveLock")]
    ShareUpdateExclusive,
    #[serde(rename = "ShareLock")]
    Share,
    #[serde(rename = "ShareRowExclusiveLock")]
    ShareRowExclusive,
    #[serde(rename = "ExclusiveLock")]
    Exclusive,
    #[serde(rename = "AccessExclusiveLock")]
    AccessExclusive,
}

/// Everyday statements, and the lock each takes on the table it touches.
pub const EVERYDAY: &[(&str, LockMode)] = &[
    ("SELECT", LockMode::AccessShare),
    ("SELECT … FOR UPDATE/SHARE", LockMode::RowShare),
    ("INSERT/UPDATE/DELETE/MERGE", LockMode::RowExclusive),
    ("VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY", LockMode::ShareUpdateExclusive),
    ("CREATE INDEX", LockMode::Share),
];

impl LockMode {
    /// Every mode, weakest first.
    pub const ALL: [LockMode; 8] = [
        LockMode::AccessShare,
        LockMode::RowShare,
        LockMode::RowExclusive,
        LockMode::ShareUpdateExclusive,
        LockMode::Share,
        LockMode::ShareRowExclusive,
        LockMode::Exclusive,
        LockMode::AccessExclusive,
    ];

    /// The name as `pg_locks.mode` prints it, e.g. `AccessExclusiveLock`.
    pub fn pg_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "AccessShareLock",
            LockMode::RowShare => "RowShareLock",
            LockMode::RowExclusive => "RowExclusiveLock",
            LockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            LockMode::Share => "ShareLock",
            LockMode::ShareRowExclusive => "ShareRowExclusiveLock",
            LockMode::Exclusive => "ExclusiveLock",
            LockMode::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// The name as SQL spells it, e.g. `ACCESS EXCLUSIVE` (for `LOCK TABLE … IN … MODE`).
    pub fn sql_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Parses `pg_locks.mode` (`AccessExclusiveLock`) or the SQL spelling (`ACCESS EXCLUSIVE`,
    /// `access-exclusive`, `ACCESS_EXCLUSIVE`).
    pub fn parse(text: &str) -> Option<LockMode> {
        let wanted: String = text.chars().filter(|c| !c.is_whitespace() && *c != '_' && *c != '-').collect();
        let wanted = wanted.to_ascii_lowercase();
        let wanted = wanted.strip_suffix("lock").unwrap_or(&wanted);
        LockMode::ALL.into_iter().find(|mode| {
            let name = mode.pg_name().to_ascii_lowercase();
            name.strip_suffix("lock") == Some(wanted)
        })
    }

    /// Whether a lock in `self` mode held by one transaction blocks `other` in another.
    pub fn conflicts_with(self, other: LockMode) -> bool {
        use LockMode::*;
        let conflicts: &[LockMode] = match self {
            AccessShare => &[AccessExclusive],
            RowShare => &[Exclusive, AccessExclusive],
            RowExclusive => &[Share, ShareRowExclusive, Exclusive, AccessExclusive],
            ShareUpdateExclusive => &[ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive],
            Share => &[RowExclusive, ShareUpdateExclusive, ShareRowExclusive, Exclusive, AccessExclusive],
            ShareRowExclusive => {
                &[RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]
            }
            Exclusive => {
                &[RowShare, RowExclusive, ShareUpdateExclusive, Share, ShareRowExclusive, Exclusive, AccessExclusive]
            }
            AccessExclusive => &LockMode::ALL,
        };
        conflicts.contains(&other)
    }

    /// The modes this one conflicts with, weakest first.
    pub fn conflicting_modes(self) -> Vec<LockMode> {
        LockMode::ALL.into_iter().filter(|other| self.conflicts_with(*other)).collect()
    }

    /// Whether holding this lock stops plain `SELECT`s on the relation.
    pub fn blocks_reads(self) -> bool {
        self.conflicts_with(LockMode::AccessShare)
    }

    /// Whether holding this lock stops `INSERT`/`UPDATE`/`DELETE` on the relation.
    pub fn blocks_writes(self) -> bool {
        self.conflicts_with(LockMode::RowExclusive)
    }

    /// What the lock stops, in plain words, for reports.
    pub fn blocks_in_words(self) -> &'static str {
        match (self.blocks_reads(), self.blocks_writes()) {
            (true, _) => "blocks reads and writes",
            (false, true) => "blocks writes",
            (false, false) => "blocks other DDL only",
        }
    }

    /// Everyday statements that queue behind this lock.
    pub fn blocked_everyday_statements(self) -> Vec<&'static str> {
        EVERYDAY.iter().filter(|(_, mode)| self.conflicts_with(*mode)).map(|(what, _)| *what).collect()
    }

    /// Commands that take this mode on the relation they act on (besides `LOCK TABLE … IN … MODE`),
    /// per PostgreSQL's "Explicit Locking" chapter and the commands' reference pages.
    pub fn commands_taking(self) -> &'static [&'static str] {
        match self {
            LockMode::AccessShare => {
                &["SELECT (every table it reads)", "COPY … TO", "ALTER TABLE … NO INHERIT (on the parent)"]
            }
            LockMode::RowShare => &["SELECT … FOR UPDATE / FOR NO KEY UPDATE / FOR SHARE / FOR KEY SHARE"],
            LockMode::RowExclusive => &["INSERT", "UPDATE", "DELETE", "MERGE", "COPY … FROM"],
            LockMode::ShareUpdateExclusive => &[
                "VACUUM (without FULL), ANALYZE",
                "CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY",
                "CREATE STATISTICS, COMMENT ON, SECURITY LABEL",
                "ALTER TABLE … VALIDATE CONSTRAINT",
                "ALTER TABLE … SET STATISTICS / SET (most storage parameters) / CLUSTER ON / SET WITHOUT CLUSTER",
                "ALTER TABLE … ATTACH PARTITION (on the parent), DETACH PARTITION … CONCURRENTLY",
                "ALTER INDEX … RENAME",
            ],
            LockMode::Share => &["CREATE INDEX (without CONCURRENTLY)", "REINDEX TABLE (on the table)"],
            LockMode::ShareRowExclusive => &[
                "CREATE TRIGGER, ALTER TABLE … ENABLE/DISABLE TRIGGER",
                "ALTER TABLE … ADD FOREIGN KEY (on both tables)",
                "ALTER SEQUENCE",
            ],
            LockMode::Exclusive => &["REFRESH MATERIALIZED VIEW CONCURRENTLY"],
            LockMode::AccessExclusive => &[
                "DROP TABLE, TRUNCATE, DROP INDEX (on the index and its table)",
                "ALTER TABLE … ADD/DROP COLUMN, ALTER COLUMN TYPE, SET/DROP NOT NULL, SET/DROP DEFAULT",
                "ALTER TABLE … ADD CHECK/UNIQUE/PRIMARY KEY/EXCLUDE, DROP CONSTRAINT, RENAME, SET TABLESPACE",
                "ALTER TABLE … DETACH PARTITION (without CONCURRENTLY), SET LOGGED/UNLOGGED, ENABLE ROW LEVEL SECURITY",
                "REINDEX INDEX, CLUSTER, VACUUM FULL, REFRESH MATERIALIZED VIEW (without CONCURRENTLY)",
                "CREATE RULE, CREATE/ALTER POLICY, DROP TRIGGER",
                "LOCK TABLE (when no mode is given)",
            ],
        }
    }

    /// `lockscope explain AccessExclusiveLock`: what the mode conflicts with, which everyday
    /// statements queue behind it, and which commands take it.
    pub fn explain(self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "{} ({} in LOCK TABLE) — {}", self.pg_name(), self.sql_name(), self.blocks_in_words());
        let conflicts: Vec<&str> = self.conflicting_modes().into_iter().map(LockMode::pg_name).collect();
        let _ = writeln!(out, "\nConflicts with (held by one transaction, makes another wait for):");
        let _ = writeln!(out, "  {}", conflicts.join(", "));
        let blocked = self.blocked_everyday_statements();
        let _ = writeln!(out, "\nEveryday statements that queue behind it:");
        if blocked.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for (what, mode) in EVERYDAY.iter().filter(|(_, mode)| self.conflicts_with(*mode)) {
            let _ = writeln!(out, "  {what} (takes {})", mode.pg_name());
        }
        let allowed: Vec<&str> =
            EVERYDAY.iter().filter(|(_, mode)| !self.conflicts_with(*mode)).map(|(what, _)| *what).collect();
        if !allowed.is_empty() {
            let _ = writeln!(out, "  (not blocked: {})", allowed.join("; "));
        }
        let _ = writeln!(out, "\nTaken by:");
        for command in self.commands_taking() {
            let _ = writeln!(out, "  {command}");
        }
        let _ = writeln!(out, "  LOCK TABLE … IN {} MODE", self.sql_name());
        out
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.pg_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_table_is_symmetric() {
        for a in LockMode::ALL {
            for b in LockMode::ALL {
                assert_eq!(a.conflicts_with(b), b.conflicts_with(a), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for mode in LockMode::ALL {
            assert_eq!(LockMode::parse(mode.pg_name()), Some(mode));
            assert_eq!(LockMode::parse(mode.sql_name()), Some(mode));
        }
        assert_eq!(LockMode::parse("SIReadLock"), None);
    }

    #[test]
    fn every_mode_is_explained_with_the_commands_that_take_it() {
        for mode in LockMode::ALL {
            assert!(!mode.commands_taking().is_empty(), "{mode}");
            assert!(mode.explain().contains(&format!("LOCK TABLE … IN {} MODE", mode.sql_name())));
        }
        assert_eq!(LockMode::parse("access-exclusive"), Some(LockMode::AccessExclusive));
        let text = LockMode::ShareUpdateExclusive.explain();
        assert!(text.contains("CREATE INDEX CONCURRENTLY") && text.contains("not blocked: SELECT"), "{text}");
    }

    #[test]
    fn what_blocks_what() {
        assert!(LockMode::AccessExclusive.blocks_reads());
        assert!(!LockMode::Share.blocks_reads());
        assert!(LockMode::Share.blocks_writes());
        assert!(!LockMode::ShareUpdateExclusive.blocks_writes());
        assert_eq!(LockMode::ShareUpdateExclusive.blocks_in_words(), "blocks other DDL only");
    }
}
