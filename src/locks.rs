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

    /// Parses `pg_locks.mode` (`AccessExclusiveLock`) or the SQL spelling (`ACCESS EXCLUSIVE`).
    pub fn parse(text: &str) -> Option<LockMode> {
        let wanted: String = text.chars().filter(|c| !c.is_whitespace() && *c != '_').collect();
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
    fn what_blocks_what() {
        assert!(LockMode::AccessExclusive.blocks_reads());
        assert!(!LockMode::Share.blocks_reads());
        assert!(LockMode::Share.blocks_writes());
        assert!(!LockMode::ShareUpdateExclusive.blocks_writes());
        assert_eq!(LockMode::ShareUpdateExclusive.blocks_in_words(), "blocks other DDL only");
    }
}
