//! LS301–LS303: `check --reversible`. Their logic compares snapshots of the round trip up → down
//! → up, so it runs after the trace, in `crate::reversible`; these entries are what it reports
//! from (id, name, default severity, help) and what `rules`, `explain`, `lockscope.toml` and
//! `lockscope:ignore` know.

use super::prelude::*;

pub const DOWN_NOT_REVERSIBLE: Rule = Rule {
    id: "LS301",
    name: "down-not-reversible",
    severity: Severity::High,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "The down script does not restore the schema",
    trigger: "With --reversible: after up then down, the schema differs from before up (an object left behind or \
              not restored, a column's type, default or NOT NULL, an index's UNIQUE, a constraint's definition), or \
              the down fails, or the up fails when run again. A column only recreated at another position is low.",
    why: "A rollback that leaves the schema different breaks the previous release of the application, or the next \
          attempt at this migration, exactly when you need the rollback to work.",
    fix: "Make the down script undo exactly what the up does — drop what the up creates, recreate what it drops with \
          the same definition (type, default, NOT NULL, UNIQUE, constraints) — so a rollback leaves the schema as it \
          was.",
    bad: include_str!("../../../rules/LS301/bad.sql"),
    good: include_str!("../../../rules/LS301/good.sql"),
    check: Check::Engine,
};

pub const MISSING_DOWN: Rule = Rule {
    id: "LS302",
    name: "missing-down",
    severity: Severity::Medium,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "With --reversible: the migration has no down script",
    trigger: "With --reversible, a migration of the run has no down script while others have one (when none has, \
              there is no round trip and the report only notes it; LS101 reports missing down scripts statically).",
    why: "There is nothing to run when the release has to be rolled back: the way back is improvised under pressure.",
    fix: "Write a down script, or document how to roll this migration back before it reaches production.",
    bad: include_str!("../../../rules/LS302/bad.sql"),
    good: include_str!("../../../rules/LS302/good.sql"),
    check: Check::Engine,
};

pub const DOWN_DESTROYS_DATA: Rule = Rule {
    id: "LS303",
    name: "down-destroys-data",
    severity: Severity::High,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "The down script destroys data",
    trigger: "With --reversible: after up then down, rows or column values that existed before up are not back \
              (high), or the down drops a table holding rows the up put in it (medium).",
    why: "Rolling back loses data: what the up moved is not moved back, and what was written after the up ran goes \
          with the dropped table.",
    fix: "Before dropping or recreating what holds the data, copy it back (or keep the old column/table until the \
          release is final), so rolling back loses nothing.",
    bad: include_str!("../../../rules/LS303/bad.sql"),
    good: include_str!("../../../rules/LS303/good.sql"),
    check: Check::Engine,
};
