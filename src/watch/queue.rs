//! Lock queues per relation: holders (strongest lock first), then waiters in the order they began
//! to wait, so a DBA sees the ACCESS EXCLUSIVE request at the head and the readers piled behind.

use std::collections::BTreeMap;

use crate::locks::LockMode;

use super::model::{Queue, QueueEntry};

/// One row of `sql/watch_locks.sql`.
#[derive(Debug, Clone, PartialEq)]
pub struct LockRow {
    pub pid: i32,
    pub locktype: String,
    pub mode: String,
    pub granted: bool,
    /// Seconds since the wait began (waiters, PostgreSQL 14+).
    pub waited_s: Option<f64>,
    pub relation_oid: Option<i64>,
    /// `schema.name` when the relation is in this database.
    pub relation: Option<String>,
    pub transactionid: Option<String>,
}

/// Queues for every relation that has at least one waiter, the longest queue first.
pub fn build_queues(rows: &[LockRow]) -> Vec<Queue> {
    let mut by_relation: BTreeMap<i64, Vec<&LockRow>> = BTreeMap::new();
    for row in rows.iter().filter(|row| row.locktype == "relation" && row.relation_oid.is_some()) {
        by_relation.entry(row.relation_oid.unwrap_or_default()).or_default().push(row);
    }
    let mut queues: Vec<Queue> = by_relation
        .into_iter()
        .filter(|(_, rows)| rows.iter().any(|row| !row.granted))
        .map(|(oid, rows)| {
            let relation = rows.iter().find_map(|row| row.relation.clone()).unwrap_or_else(|| format!("oid {oid}"));
            Queue { relation, holders: holders(&rows), waiters: waiters(&rows) }
        })
        .collect();
    queues.sort_by(|a, b| b.waiters.len().cmp(&a.waiters.len()).then_with(|| a.relation.cmp(&b.relation)));
    queues
}

/// One entry per holding pid, with its strongest mode; strongest first, then by pid.
fn holders(rows: &[&LockRow]) -> Vec<QueueEntry> {
    let mut strongest: BTreeMap<i32, &str> = BTreeMap::new();
    for row in rows.iter().filter(|row| row.granted) {
        let entry = strongest.entry(row.pid).or_insert(row.mode.as_str());
        if strength(&row.mode) > strength(entry) {
            *entry = row.mode.as_str();
        }
    }
    let mut holders: Vec<QueueEntry> =
        strongest.into_iter().map(|(pid, mode)| QueueEntry { pid, mode: mode.to_string(), waited_s: None }).collect();
    holders.sort_by(|a, b| strength(&b.mode).cmp(&strength(&a.mode)).then(a.pid.cmp(&b.pid)));
    holders
}

/// Waiters, longest-waiting first (= earliest waitstart); unknown wait times last, by pid.
fn waiters(rows: &[&LockRow]) -> Vec<QueueEntry> {
    let mut waiters: Vec<QueueEntry> = rows
        .iter()
        .filter(|row| !row.granted)
        .map(|row| QueueEntry { pid: row.pid, mode: row.mode.clone(), waited_s: row.waited_s })
        .collect();
    waiters.sort_by(|a, b| match (a.waited_s, b.waited_s) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.pid.cmp(&b.pid)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.pid.cmp(&b.pid),
    });
    waiters
}

/// Lock strength for ordering; modes outside the table-lock table sort weakest.
fn strength(mode: &str) -> i32 {
    LockMode::parse(mode).map_or(-1, |mode| mode as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: i32, oid: i64, mode: &str, granted: bool, waited_s: Option<f64>) -> LockRow {
        LockRow {
            pid,
            locktype: "relation".into(),
            mode: mode.into(),
            granted,
            waited_s,
            relation_oid: Some(oid),
            relation: Some(format!("public.t{oid}")),
            transactionid: None,
        }
    }

    #[test]
    fn holders_then_waiters_in_wait_order() {
        let rows = vec![
            row(302, 1, "AccessShareLock", false, Some(4.0)),
            row(100, 1, "AccessShareLock", true, None),
            row(100, 1, "RowExclusiveLock", true, None),
            row(200, 1, "AccessExclusiveLock", false, Some(9.0)),
            row(301, 1, "AccessShareLock", false, Some(6.5)),
            row(150, 1, "AccessShareLock", true, None),
            // A relation without waiters has no queue.
            row(100, 2, "AccessShareLock", true, None),
        ];
        let queues = build_queues(&rows);
        assert_eq!(queues.len(), 1);
        let queue = &queues[0];
        assert_eq!(queue.relation, "public.t1");
        let holders: Vec<(i32, &str)> = queue.holders.iter().map(|h| (h.pid, h.mode.as_str())).collect();
        assert_eq!(holders, vec![(100, "RowExclusiveLock"), (150, "AccessShareLock")]);
        let waiters: Vec<i32> = queue.waiters.iter().map(|w| w.pid).collect();
        assert_eq!(waiters, vec![200, 301, 302]);
        assert_eq!(queue.waiters[0].mode, "AccessExclusiveLock");
    }

    #[test]
    fn unknown_wait_times_go_last_and_longest_queue_first() {
        let rows = vec![
            row(7, 1, "ShareLock", false, None),
            row(5, 1, "ShareLock", false, Some(1.0)),
            row(9, 2, "AccessExclusiveLock", false, Some(1.0)),
            row(10, 2, "AccessShareLock", false, Some(0.5)),
            row(11, 2, "AccessShareLock", false, Some(0.2)),
        ];
        let queues = build_queues(&rows);
        assert_eq!(queues[0].relation, "public.t2");
        let waiters: Vec<i32> = queues[1].waiters.iter().map(|w| w.pid).collect();
        assert_eq!(waiters, vec![5, 7]);
    }
}
