//! The rule catalogue: one file per rule, each holding its data (id, name, severity, texts,
//! examples), its check and its tests. Adding a rule touches its file and [`ALL`].

mod add_column_not_null_without_default;
mod add_column_stored_generated_or_identity;
mod add_column_volatile_default;
mod alter_column_type;
mod attach_partition_without_check;
mod backfill_in_ddl_transaction;
mod concurrently_if_not_exists;
mod concurrently_in_transaction;
mod constraint_without_not_valid;
mod create_index_without_concurrently;
mod create_without_if_not_exists;
mod detach_partition_without_concurrently;
mod disable_trigger_all;
mod down_without_up;
mod drop_column;
mod drop_constraint;
mod drop_index_without_concurrently;
mod drop_replica_identity_in_publication;
mod drop_table;
mod drop_without_if_exists;
mod enum_change;
mod exclusion_constraint;
mod exclusive_rewrite_or_scan;
mod ignore_directives;
mod index_on_filled_new_table;
pub(crate) mod index_usage;
mod json_column;
mod lock_wait;
mod missing_lock_timeout;
mod needs_newer_postgres;
mod reindex_without_concurrently;
mod rename_column_or_table;
pub(crate) mod reversibility;
mod set_not_null;
mod statements_after_access_exclusive;
mod statements_without_transaction;
mod truncate_cascade;
mod unbatched_update_delete;
mod unique_without_using_index;
mod up_without_down;
mod vacuum_full_or_cluster;
mod validate_in_same_transaction;

use super::catalogue::Rule;

/// Every rule, in id order.
pub static ALL: &[&Rule] = &[
    &exclusive_rewrite_or_scan::RULE,
    &lock_wait::RULE,
    &up_without_down::RULE,
    &down_without_up::RULE,
    &statements_without_transaction::RULE,
    &concurrently_in_transaction::RULE,
    &create_without_if_not_exists::RULE,
    &drop_without_if_exists::RULE,
    &create_index_without_concurrently::RULE,
    &drop_index_without_concurrently::RULE,
    &reindex_without_concurrently::RULE,
    &add_column_not_null_without_default::RULE,
    &add_column_volatile_default::RULE,
    &add_column_stored_generated_or_identity::RULE,
    &alter_column_type::RULE,
    &set_not_null::RULE,
    &constraint_without_not_valid::RULE,
    &validate_in_same_transaction::RULE,
    &unique_without_using_index::RULE,
    &rename_column_or_table::RULE,
    &drop_column::RULE,
    &drop_table::RULE,
    &drop_constraint::RULE,
    &unbatched_update_delete::RULE,
    &backfill_in_ddl_transaction::RULE,
    &missing_lock_timeout::RULE,
    &statements_after_access_exclusive::RULE,
    &vacuum_full_or_cluster::RULE,
    &json_column::RULE,
    &enum_change::RULE,
    &truncate_cascade::RULE,
    &exclusion_constraint::RULE,
    &detach_partition_without_concurrently::RULE,
    &needs_newer_postgres::RULE,
    &attach_partition_without_check::RULE,
    &disable_trigger_all::RULE,
    &concurrently_if_not_exists::RULE,
    &drop_replica_identity_in_publication::RULE,
    &index_on_filled_new_table::RULE,
    &index_usage::DROP_USED_INDEX,
    &index_usage::REWRITE_REBUILDS_UNUSED_INDEXES,
    &index_usage::DUPLICATE_INDEX,
    &index_usage::FOREIGN_KEY_WITHOUT_INDEX,
    &index_usage::RELIES_ON_INVALID_OR_UNUSED_INDEX,
    &reversibility::DOWN_NOT_REVERSIBLE,
    &reversibility::MISSING_DOWN,
    &reversibility::DOWN_DESTROYS_DATA,
    &ignore_directives::WITHOUT_REASON,
    &ignore_directives::UNUSED,
];

/// What every rule file needs.
mod prelude {
    pub(super) use pg_query::protobuf::{AlterTableType as At, ConstrType};
    pub(super) use pg_query::NodeEnum;

    pub(super) use crate::analyze::ast;
    pub(super) use crate::analyze::catalogue::{Check, Rule, RuleKind};
    pub(super) use crate::analyze::context::{is_bookkeeping, needs_own_transaction, Cx, Expect, FileCx, Hit};
    pub(super) use crate::analyze::{Severity, Status};
    pub(super) use crate::locks::LockMode;
    pub(super) use crate::sql::{ObjectType, RelationName, StatementKind};
}

/// Shortcuts for the rules' own tests: lint SQL written in the test.
#[cfg(test)]
pub(crate) mod testing {
    use crate::analyze::config::Config;
    use crate::analyze::Finding;
    use crate::analyze::{catalogue, Options};
    use crate::source::Direction;

    /// Lints migration files (`-- file: NAME` sections, as in the rule examples) for PostgreSQL `pg`.
    pub fn lint_files_with(text: &str, pg: u32, config: Config) -> Vec<Finding> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, body) in catalogue::example_files(text) {
            std::fs::write(dir.path().join(name), body).expect("write");
        }
        let options = Options { config, pg_version: Some(pg), ..Options::default() };
        let report = crate::analyze::lint::lint_paths(&[dir.path().to_path_buf()], Direction::Up, options)
            .unwrap_or_else(|err| panic!("{text:?}: {err}"));
        report.scripts.iter().flat_map(|s| s.findings.all().cloned()).collect()
    }

    pub fn lint_on(pg: u32, text: &str) -> Vec<Finding> {
        lint_files_with(text, pg, Config::default())
    }

    /// The findings of `rule` for `text` on PostgreSQL 18.
    pub fn hits(rule: &str, text: &str) -> Vec<Finding> {
        hits_on(rule, crate::analyze::NEWEST_PG, text)
    }

    pub fn hits_on(rule: &str, pg: u32, text: &str) -> Vec<Finding> {
        lint_on(pg, text).into_iter().filter(|f| f.rule == rule).collect()
    }

    pub fn fires(rule: &str, text: &str) -> bool {
        !hits(rule, text).is_empty()
    }

    pub fn fires_on(rule: &str, pg: u32, text: &str) -> bool {
        !hits_on(rule, pg, text).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::ALL;
    use crate::analyze::catalogue::{example_pg_version, RuleKind};

    /// Every static rule's bad example triggers it and its good example does not.
    #[test]
    fn bad_examples_trigger_and_good_examples_do_not() {
        for rule in ALL.iter().filter(|r| r.kind != RuleKind::TraceOnly) {
            let pg = |text: &str| example_pg_version(text).unwrap_or(crate::analyze::NEWEST_PG);
            assert!(fires_on(rule.id, pg(rule.bad), rule.bad), "{}: the bad example does not trigger it", rule.id);
            let good = hits_on(rule.id, pg(rule.good), rule.good);
            assert!(good.is_empty(), "{}: the good example triggers it: {good:#?}", rule.id);
        }
    }

    /// Trace-only rules never fire without a trace, even on their bad example.
    #[test]
    fn trace_only_rules_are_silent_in_lint() {
        for rule in ALL.iter().filter(|r| r.kind == RuleKind::TraceOnly) {
            assert!(!fires(rule.id, rule.bad), "{}", rule.id);
        }
    }
}
