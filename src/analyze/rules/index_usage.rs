//! LS201–LS205: index usage. Their logic needs the target's (or a production snapshot's) usage
//! statistics and the trace's catalogue changes, so it runs after the trace, in
//! `crate::analyze::impact::index_usage`; these entries are what it reports from (id, name, default
//! severity, help) and what `rules`, `explain`, `lockscope.toml` and `lockscope:ignore` know.
//! Usage counts only mean something over a long enough window: when the statistics were reset
//! less than a week ago, LS201, LS202 and LS205 are lowered one step and say so.

use super::prelude::*;

pub const DROP_USED_INDEX: Rule = Rule {
    id: "LS201",
    name: "drop-used-index",
    severity: Severity::High,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "Dropping an index that queries use",
    trigger: "The statement drops an index (DROP INDEX, or a dropped constraint's index) whose idx_scan is above \
              zero since the statistics were last reset, on the target or in the production snapshot.",
    why: "The queries that read through it fall back to another index or a sequential scan the moment the drop \
          commits: latency jumps and load rises, and putting the index back takes a full build.",
    fix: "Find the queries first (pg_stat_statements); drop it only after they use another index, and keep a \
          CREATE INDEX CONCURRENTLY ready to put it back.",
    bad: include_str!("../../../rules/LS201/bad.sql"),
    good: include_str!("../../../rules/LS201/good.sql"),
    check: Check::Engine,
};

pub const REWRITE_REBUILDS_UNUSED_INDEXES: Rule = Rule {
    id: "LS202",
    name: "rewrite-rebuilds-unused-indexes",
    severity: Severity::Medium,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "A rewrite rebuilds indexes no query scans",
    trigger: "The trace shows the statement rewriting a table, and some of the indexes it rebuilt have no scans \
              since the statistics reset (indexes that enforce a constraint are not counted).",
    why: "A rewrite rebuilds every index of the table while it holds ACCESS EXCLUSIVE: each unused index adds build \
          time and written bytes to the time nothing can read or write the table.",
    fix: "Drop unused indexes (DROP INDEX CONCURRENTLY) before the rewrite: it then rebuilds less, and holds its lock \
          for less time.",
    bad: include_str!("../../../rules/LS202/bad.sql"),
    good: include_str!("../../../rules/LS202/good.sql"),
    check: Check::Engine,
};

pub const DUPLICATE_INDEX: Rule = Rule {
    id: "LS203",
    name: "duplicate-index",
    severity: Severity::Medium,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "A new index duplicates an existing one",
    trigger: "CREATE INDEX whose plain key columns equal, or are a leading part of, an existing index's on the same \
              table with the same method (partial and expression indexes are not compared).",
    why: "Queries can already use the existing index; the new one only slows every write and VACUUM and takes \
          space.",
    fix: "Skip the new index; every index slows writes and VACUUM and takes space. If it is meant to replace the old \
          one, drop the old one afterwards.",
    bad: include_str!("../../../rules/LS203/bad.sql"),
    good: include_str!("../../../rules/LS203/good.sql"),
    check: Check::Engine,
};

pub const FOREIGN_KEY_WITHOUT_INDEX: Rule = Rule {
    id: "LS204",
    name: "foreign-key-without-index",
    severity: Severity::Medium,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "A foreign key without an index on its referencing columns",
    trigger: "The trace shows a foreign key created whose referencing columns lead no index, existing or created \
              in the run.",
    why: "Every DELETE and key UPDATE on the referenced table looks for referencing rows: without an index that is a \
          scan of the referencing table, per row, under the row locks of the delete.",
    fix: "CREATE INDEX CONCURRENTLY on the referencing columns (in its own migration, before or after the foreign \
          key).",
    bad: include_str!("../../../rules/LS204/bad.sql"),
    good: include_str!("../../../rules/LS204/good.sql"),
    check: Check::Engine,
};

pub const RELIES_ON_INVALID_OR_UNUSED_INDEX: Rule = Rule {
    id: "LS205",
    name: "relies-on-invalid-or-unused-index",
    severity: Severity::High,
    kind: RuleKind::TraceOnly,
    size_matters: false,
    title: "A statement relies on an invalid or unused index",
    trigger: "ADD CONSTRAINT … USING INDEX on an index that is INVALID on the target (high); CLUSTER … USING or \
              REINDEX of an index no query has scanned (low).",
    why: "PostgreSQL refuses a constraint on an invalid index, so the migration fails in production; clustering by \
          or rebuilding an index nothing reads spends an ACCESS EXCLUSIVE rewrite or a SHARE lock for nothing.",
    fix: "DROP INDEX CONCURRENTLY the invalid index, build it again with CREATE UNIQUE INDEX CONCURRENTLY, check it \
          is valid (pg_index.indisvalid), then add the constraint USING INDEX.",
    bad: include_str!("../../../rules/LS205/bad.sql"),
    good: include_str!("../../../rules/LS205/good.sql"),
    check: Check::Engine,
};
