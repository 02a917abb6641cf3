//! Per-migration lock attribution on a shared transaction: each migration's locks as if it ran
//! alone. A lock an earlier migration of the same transaction already holds cannot be observed
//! again; the statement reports it as inferred, and the migration names who took it first.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use super::{LockSource, MigrationLock, MigrationTrace, PlannedMigration, Tracer};
use crate::locks::LockMode;

impl Tracer {
    /// Fills `trace.locks` from its statements and remembers which locks this migration took first.
    pub(super) fn summarize_locks(&mut self, trace: &mut MigrationTrace, plan: &[PlannedMigration]) {
        let mut summary: BTreeMap<(String, LockMode), MigrationLock> = BTreeMap::new();
        for statement in &trace.statements {
            for lock in &statement.locks {
                let key = (lock.relation.clone(), lock.mode);
                // A statement that did not run reports documented locks; only an executed one can
                // have found its lock already held.
                let held_since = (lock.source == LockSource::Inferred && statement.executed)
                    .then(|| self.lock_origin.get(&key).copied())
                    .flatten()
                    .filter(|origin| *origin < self.migration_index)
                    .and_then(|origin| plan.get(origin))
                    .map(|earlier| earlier.version.clone());
                let candidate = MigrationLock {
                    relation: lock.relation.clone(),
                    relkind: lock.relkind.clone(),
                    mode: lock.mode,
                    source: lock.source,
                    held_since,
                    observed_on: None,
                };
                match summary.entry(key) {
                    Entry::Vacant(entry) => {
                        entry.insert(candidate);
                    }
                    Entry::Occupied(mut entry) => {
                        let better = candidate.source < entry.get().source
                            || (candidate.source == entry.get().source
                                && entry.get().held_since.is_none()
                                && candidate.held_since.is_some());
                        if better {
                            entry.insert(candidate);
                        }
                    }
                }
            }
        }
        for (key, lock) in &summary {
            if lock.source == LockSource::Observed {
                self.lock_origin.entry(key.clone()).or_insert(self.migration_index);
            }
        }
        let mut locks: Vec<MigrationLock> = summary.into_values().collect();
        locks.sort_by(|a, b| (std::cmp::Reverse(a.mode), &a.relation).cmp(&(std::cmp::Reverse(b.mode), &b.relation)));
        trace.locks = locks;
    }
}
