//! The wait graph from one snapshot of `pg_locks` (the 'lock' rows of `sql/watch_sample.sql`), without calling
//! `pg_blocking_pids()` once per waiter.
//!
//! # The model
//!
//! `pg_blocking_pids(pid)` reports, for the one lock `pid` waits for, "those that hold a lock
//! conflicting with blocked_pid's current request (hard block), or are requesting such a lock
//! and are ahead of blocked_pid in the lock's wait queue (soft block)"; members of the waiter's
//! own lock group never count, and blockers are reported by their lock group leader's pid
//! (postgres/postgres, src/backend/utils/adt/lockfuncs.c, `pg_blocking_pids`; documentation:
//! <https://www.postgresql.org/docs/current/functions-info.html>, "pg_blocking_pids"). It sees
//! only the main lock table of that lock (`GetBlockerStatusData`, lock.c), never fast-path slots.
//!
//! From the snapshot, for every waiting row `w` (one lock object: all locktag columns equal):
//!
//! * **hard edges**: every other pid holding a granted mode on the same object that conflicts
//!   with `w`'s requested mode, per the conflict table in [`crate::locks`] (the same table as
//!   lock.c's `LockConflicts`, for relation, tuple, transactionid, virtualxid, advisory and object
//!   locks alike);
//! * **soft edges**: every other pid waiting on the same object for a mode that conflicts with
//!   `w`'s and that started waiting earlier — wait-queue order taken from `waitstart`, then pid.
//!
//! # What the snapshot cannot decide
//!
//! For these waiters [`undecided`](SnapshotGraph::undecided) says why, and the sampler asks
//! `pg_blocking_pids()` for those pids only:
//!
//! * `waitstart` is NULL: a backend sets it only after it joined the queue and released the
//!   partition lock, so pg_locks may show `granted = false` with no waitstart for a moment
//!   (documentation of pg_locks.waitstart; proc.c `ProcSleep` writes `MyProc->waitStart` after
//!   `LWLockRelease(partitionLock)`);
//! * two conflicting waiters whose `waitstart`s are less than [`ORDER_SLACK_US`] apart: for the
//!   same reason the timestamp is taken after the queue position, so near-simultaneous arrivals
//!   may be stamped in the other order;
//! * a waiter that already holds a mode on the same object that conflicts with an earlier
//!   waiter's request: ProcSleep puts such a backend "in the queue just in front of the first such
//!   waiter" (proc.c, comment of `ProcSleep` / `JoinWaitQueue`), so queue order is not wait order;
//! * a cycle among the decided edges: either a deadlock (the server will break it) or the
//!   deadlock detector has already rearranged the wait queue to break a soft cycle
//!   (src/backend/storage/lmgr/README, "the deadlock detector … rearranges wait queues"); every
//!   waiter on those objects is asked;
//! * parallel query: a parallel worker (or lock group) among the rows of the object — the
//!   server then merges the whole group's waits under the leader's pid;
//! * a granted fast-path row that conflicts with the request: a strong lock request transfers
//!   fast-path locks to the main table before it waits, so this is a lock in transit
//!   (lock.c, `FastPathTransferRelationLocks`);
//! * a mode outside the conflict table, or several waiting rows for one pid.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::locks::LockMode;

use super::tree::BlockingEdge;

/// Waiters whose `waitstart`s are closer than this (µs) are not ordered by the snapshot.
pub const ORDER_SLACK_US: i64 = 20_000;

/// One 'lock' row of `sql/watch_sample.sql` that matters for the graph (`on_waited`).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphRow {
    /// Lock group leader for display is resolved by the server; this is pg_locks.pid (0 for a
    /// prepared transaction).
    pub pid: i32,
    /// All locktag columns, joined: equal tags are the same lockable object.
    pub tag: String,
    pub mode: String,
    pub granted: bool,
    pub fastpath: bool,
    /// `pg_locks.waitstart` in µs since the epoch (waiters only).
    pub waitstart_us: Option<i64>,
    pub backend_type: Option<String>,
    /// `pg_stat_activity.leader_pid` (may be hidden without pg_read_all_stats).
    pub leader_pid: Option<i32>,
}

/// A waiter the snapshot could not decide, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Undecided {
    pub pid: i32,
    pub reason: String,
}

/// The edges the snapshot decided, and the waiters it left to `pg_blocking_pids()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotGraph {
    /// One edge per decided waiter that is blocked (waiters with no blocker are left out).
    pub edges: Vec<BlockingEdge>,
    /// Waiters to ask `pg_blocking_pids()` about, sorted by pid.
    pub undecided: Vec<Undecided>,
}

/// Bit `i` stands for `LockMode::ALL[i]`.
type ModeMask = u8;

fn bit(mode: LockMode) -> ModeMask {
    1 << (mode as u8)
}

/// For each mode, the modes it conflicts with (from [`LockMode::conflicts_with`]).
fn conflict_masks() -> [ModeMask; 8] {
    let mut masks = [0; 8];
    for mode in LockMode::ALL {
        masks[mode as usize] =
            LockMode::ALL.into_iter().filter(|other| mode.conflicts_with(*other)).fold(0, |mask, m| mask | bit(m));
    }
    masks
}

fn modes_in(mask: ModeMask) -> impl Iterator<Item = usize> {
    (0..8).filter(move |index| mask & (1 << index) != 0)
}

/// Everything the snapshot says about one lock object, indexed for output-sensitive lookups
/// (a storm of 500 readers behind one ACCESS EXCLUSIVE costs 500 steps, not 500²).
#[derive(Default)]
struct Object {
    /// A row whose mode is outside the conflict table: `(pid, mode)`.
    unknown: Option<(i32, String)>,
    /// A parallel query's lock group has a row here.
    group: bool,
    /// Granted holders per mode: `(pid, fastpath)`.
    holders: [Vec<(i32, bool)>; 8],
    /// Modes each pid holds here.
    held: HashMap<i32, ModeMask>,
    /// Waiters with a waitstart per mode, in wait order: `(waitstart_us, pid)`.
    waiters: [Vec<(i64, i32)>; 8],
    /// Waiters without a waitstart yet: `(pid, mode index)`.
    unstamped: Vec<(i32, usize)>,
}

impl Object {
    fn add(&mut self, row: &GraphRow) {
        if in_lock_group(row) {
            self.group = true;
        }
        let Some(mode) = LockMode::parse(&row.mode) else {
            self.unknown.get_or_insert_with(|| (row.pid, row.mode.clone()));
            return;
        };
        let index = mode as usize;
        if row.granted {
            self.holders[index].push((row.pid, row.fastpath));
            *self.held.entry(row.pid).or_default() |= bit(mode);
        } else if let Some(start) = row.waitstart_us {
            self.waiters[index].push((start, row.pid));
        } else {
            self.unstamped.push((row.pid, index));
        }
    }

    fn sort(&mut self) {
        self.waiters.iter_mut().for_each(|list| list.sort_unstable());
    }
}

/// Builds the graph for `waiting` (the pids the old method would have asked about) from the
/// snapshot's rows. `waited_s` orders siblings in the tree, as [`BlockingEdge::waited_s`].
pub fn from_snapshot(rows: &[GraphRow], waiting: &BTreeSet<i32>, waited_s: &HashMap<i32, f64>) -> SnapshotGraph {
    let conflicts = conflict_masks();
    let mut objects: HashMap<&str, Object> = HashMap::new();
    for row in rows {
        objects.entry(row.tag.as_str()).or_default().add(row);
    }
    objects.values_mut().for_each(Object::sort);
    let mut waiting_rows: BTreeMap<i32, Vec<&GraphRow>> = BTreeMap::new();
    for raw in rows.iter().filter(|row| !row.granted && waiting.contains(&row.pid)) {
        waiting_rows.entry(raw.pid).or_default().push(raw);
    }

    let mut undecided: BTreeMap<i32, String> = BTreeMap::new();
    let mut blockers: BTreeMap<i32, BTreeSet<i32>> = BTreeMap::new();
    for (&pid, mine) in &waiting_rows {
        if mine.len() > 1 {
            mark(pid, "waits for several lock objects in one snapshot".into(), &mut undecided);
            continue;
        }
        match decide(pid, mine[0], &objects, &conflicts) {
            Ok(found) if !found.is_empty() => {
                blockers.insert(pid, found);
            }
            Ok(_) => {}
            Err(reason) => mark(pid, reason, &mut undecided),
        }
    }

    // pg_blocking_pids(leader) also reports what blocks the leader's parallel workers.
    let waiting_workers: Vec<&GraphRow> =
        rows.iter().filter(|row| !row.granted && row.backend_type.as_deref() == Some("parallel worker")).collect();
    for worker in waiting_workers {
        match worker.leader_pid {
            Some(leader) if waiting.contains(&leader) => {
                mark(leader, format!("its parallel worker {} waits for a lock too", worker.pid), &mut undecided);
            }
            Some(_) => {}
            None => {
                for &pid in waiting {
                    mark(pid, format!("parallel worker {} waits and its leader is hidden", worker.pid), &mut undecided);
                }
            }
        }
    }

    // A cycle among decided edges: a deadlock, or a queue the deadlock detector rearranged.
    // (Only possible when some blocker waits itself; then find the strongly connected parts.)
    let chained = blockers.values().flatten().any(|blocker| blockers.contains_key(blocker));
    let on_cycle = if chained { cycle_members(&blockers) } else { BTreeSet::new() };
    if !on_cycle.is_empty() {
        let cycle_tags: BTreeSet<&str> = on_cycle
            .iter()
            .filter_map(|pid| waiting_rows.get(pid))
            .flat_map(|rows| rows.iter().map(|row| row.tag.as_str()))
            .collect();
        for (&pid, mine) in &waiting_rows {
            if mine.iter().any(|row| cycle_tags.contains(row.tag.as_str())) {
                mark(
                    pid,
                    "waits in a queue that is part of a wait cycle (a deadlock, or a queue the deadlock \
                     detector rearranged)"
                        .into(),
                    &mut undecided,
                );
            }
        }
    }

    let edges = blockers
        .into_iter()
        .filter(|(pid, _)| !undecided.contains_key(pid))
        .map(|(pid, set)| BlockingEdge {
            pid,
            blocked_by: set.into_iter().collect(),
            waited_s: waited_s.get(&pid).copied(),
        })
        .collect();
    SnapshotGraph { edges, undecided: undecided.into_iter().map(|(pid, reason)| Undecided { pid, reason }).collect() }
}

/// The blockers of `pid`, waiting as `me`, or why the snapshot cannot tell.
fn decide(
    pid: i32,
    me: &GraphRow,
    objects: &HashMap<&str, Object>,
    conflicts: &[ModeMask; 8],
) -> Result<BTreeSet<i32>, String> {
    let my_mode = LockMode::parse(&me.mode).ok_or_else(|| format!("mode {} is outside the conflict table", me.mode))?;
    let my_start = me
        .waitstart_us
        .ok_or_else(|| "waitstart not set yet (it is written just after the wait begins)".to_string())?;
    let object = objects.get(me.tag.as_str()).ok_or_else(|| "its lock is missing from the snapshot".to_string())?;
    if let Some((other, mode)) = &object.unknown {
        return Err(format!("pid {other} has mode {mode} outside the conflict table"));
    }
    if object.group {
        return Err("a parallel query's lock group shares this lock".into());
    }
    let conflicting = conflicts[my_mode as usize];
    let mut found = BTreeSet::new();
    // Hard edges: conflicting granted modes.
    for index in modes_in(conflicting) {
        for &(holder, fastpath) in object.holders[index].iter().filter(|(holder, _)| *holder != pid) {
            if fastpath {
                return Err(format!("pid {holder}'s conflicting lock is still a fast-path lock"));
            }
            found.insert(holder);
        }
    }
    if let Some((other, _)) =
        object.unstamped.iter().find(|(other, index)| *other != pid && conflicting & (1 << index) != 0)
    {
        return Err(format!("pid {other} waits for a conflicting mode, its waitstart not set yet"));
    }
    // Conflicting waiters stamped too close to this one: their order is not certain.
    for index in modes_in(conflicting) {
        let list = &object.waiters[index];
        let from = list.partition_point(|&(start, _)| start <= my_start - ORDER_SLACK_US);
        let to = list.partition_point(|&(start, _)| start < my_start + ORDER_SLACK_US);
        if let Some(&(_, other)) = list[from..to].iter().find(|(_, other)| *other != pid) {
            return Err(format!(
                "pid {other} began waiting for a conflicting mode within {} ms of it",
                ORDER_SLACK_US / 1000
            ));
        }
    }
    // Soft edges: earlier waiters for conflicting modes — unless this one holds a mode that
    // conflicts with theirs, which may have put it ahead of them (ProcSleep).
    let held = object.held.get(&pid).copied().unwrap_or(0);
    for index in modes_in(conflicting) {
        let list = &object.waiters[index];
        let earlier = &list[..list.partition_point(|&(start, _)| start < my_start)];
        if earlier.is_empty() {
            continue;
        }
        if conflicts[index] & held != 0 {
            let other = earlier[0].1;
            return Err(format!(
                "it holds a lock that conflicts with earlier waiter {other}'s request, so it may be queued ahead"
            ));
        }
        found.extend(earlier.iter().map(|&(_, other)| other).filter(|other| *other != pid));
    }
    Ok(found)
}

/// Records the first reason a waiter is left to pg_blocking_pids().
fn mark(pid: i32, reason: String, undecided: &mut BTreeMap<i32, String>) {
    undecided.entry(pid).or_insert(reason);
}

/// Whether the row belongs to a parallel query's lock group (a worker, or a leader with workers
/// when `leader_pid` is visible).
fn in_lock_group(row: &GraphRow) -> bool {
    row.backend_type.as_deref() == Some("parallel worker") || row.leader_pid.is_some_and(|leader| leader != row.pid)
}

/// Pids on a cycle of the graph (Tarjan's strongly connected components of size > 1).
fn cycle_members(blockers: &BTreeMap<i32, BTreeSet<i32>>) -> BTreeSet<i32> {
    struct State<'a> {
        graph: &'a BTreeMap<i32, BTreeSet<i32>>,
        index: HashMap<i32, usize>,
        low: HashMap<i32, usize>,
        stack: Vec<i32>,
        on_stack: BTreeSet<i32>,
        next: usize,
        out: BTreeSet<i32>,
    }
    fn visit(state: &mut State<'_>, pid: i32) {
        state.index.insert(pid, state.next);
        state.low.insert(pid, state.next);
        state.next += 1;
        state.stack.push(pid);
        state.on_stack.insert(pid);
        let graph = state.graph;
        for &next in graph.get(&pid).into_iter().flatten() {
            if !state.index.contains_key(&next) {
                visit(state, next);
                let low = state.low[&pid].min(state.low[&next]);
                state.low.insert(pid, low);
            } else if state.on_stack.contains(&next) {
                let low = state.low[&pid].min(state.index[&next]);
                state.low.insert(pid, low);
            }
        }
        if state.low[&pid] == state.index[&pid] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack.remove(&top);
                component.push(top);
                if top == pid {
                    break;
                }
            }
            if component.len() > 1 {
                state.out.extend(component);
            }
        }
    }
    let mut state = State {
        graph: blockers,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: BTreeSet::new(),
    };
    for &pid in blockers.keys() {
        if !state.index.contains_key(&pid) {
            visit(&mut state, pid);
        }
    }
    state.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(pid: i32, tag: &str, mode: &str) -> GraphRow {
        GraphRow {
            pid,
            tag: tag.into(),
            mode: mode.into(),
            granted: true,
            fastpath: false,
            waitstart_us: None,
            backend_type: Some("client backend".into()),
            leader_pid: None,
        }
    }

    fn waits(pid: i32, tag: &str, mode: &str, start_ms: i64) -> GraphRow {
        GraphRow { granted: false, waitstart_us: Some(start_ms * 1000), ..held(pid, tag, mode) }
    }

    fn graph(rows: &[GraphRow]) -> SnapshotGraph {
        let waiting = rows.iter().filter(|row| !row.granted).map(|row| row.pid).collect();
        from_snapshot(rows, &waiting, &HashMap::new())
    }

    fn edges(graph: &SnapshotGraph) -> Vec<(i32, Vec<i32>)> {
        graph.edges.iter().map(|edge| (edge.pid, edge.blocked_by.clone())).collect()
    }

    #[test]
    fn hard_edges_to_conflicting_holders_and_soft_edges_to_earlier_conflicting_waiters() {
        let rows = vec![
            held(1, "relation/5/100", "AccessShareLock"),
            held(2, "relation/5/100", "RowExclusiveLock"),
            waits(10, "relation/5/100", "AccessExclusiveLock", 1000),
            waits(11, "relation/5/100", "AccessShareLock", 2000),
            waits(12, "relation/5/100", "ShareLock", 3000),
            // Another object: not a blocker of anyone above.
            held(3, "relation/5/200", "AccessExclusiveLock"),
        ];
        let graph = graph(&rows);
        assert!(graph.undecided.is_empty(), "{:?}", graph.undecided);
        // 11 (reader) waits only behind the AE request; 12 (SHARE) also conflicts with holder 2.
        assert_eq!(edges(&graph), vec![(10, vec![1, 2]), (11, vec![10]), (12, vec![2, 10])]);
    }

    #[test]
    fn a_later_waiter_never_blocks_an_earlier_one_and_compatible_waiters_never_block() {
        let rows = vec![
            held(1, "relation/5/100", "AccessExclusiveLock"),
            waits(10, "relation/5/100", "AccessShareLock", 1000),
            waits(11, "relation/5/100", "AccessShareLock", 2000),
        ];
        assert_eq!(edges(&graph(&rows)), vec![(10, vec![1]), (11, vec![1])]);
    }

    #[test]
    fn transaction_and_tuple_locks_use_the_same_table() {
        let rows = vec![
            held(1, "transactionid/////////777", "ExclusiveLock"),
            waits(2, "transactionid/////////777", "ShareLock", 1000),
            held(2, "tuple/5/100/0/1", "ExclusiveLock"),
            waits(3, "tuple/5/100/0/1", "ExclusiveLock", 2000),
            waits(4, "tuple/5/100/0/1", "ExclusiveLock", 3000),
        ];
        assert_eq!(edges(&graph(&rows)), vec![(2, vec![1]), (3, vec![2]), (4, vec![2, 3])]);
    }

    #[test]
    fn what_the_snapshot_cannot_decide_is_left_to_pg_blocking_pids() {
        let mut rows = vec![
            held(1, "relation/5/100", "AccessExclusiveLock"),
            waits(10, "relation/5/100", "AccessExclusiveLock", 1000),
            waits(11, "relation/5/100", "AccessShareLock", 1005),
        ];
        let near = graph(&rows);
        assert_eq!(near.undecided.iter().map(|u| u.pid).collect::<Vec<_>>(), vec![10, 11]);
        assert!(near.edges.is_empty());
        rows[2].waitstart_us = None;
        let unset = graph(&rows);
        assert!(unset.undecided.iter().any(|u| u.pid == 11 && u.reason.contains("waitstart")), "{unset:?}");
        // A parallel worker on the object.
        let rows = vec![
            GraphRow {
                backend_type: Some("parallel worker".into()),
                leader_pid: Some(1),
                ..held(7, "r", "AccessShareLock")
            },
            waits(10, "r", "AccessExclusiveLock", 1000),
        ];
        assert!(graph(&rows).undecided[0].reason.contains("parallel"));
        // A conflicting fast-path lock.
        let rows =
            vec![GraphRow { fastpath: true, ..held(1, "r", "RowExclusiveLock") }, waits(10, "r", "ShareLock", 1)];
        assert!(graph(&rows).undecided[0].reason.contains("fast-path"));
    }

    #[test]
    fn a_waiter_holding_a_conflicting_mode_may_have_jumped_the_queue() {
        // 2 holds ACCESS SHARE and now waits for SHARE (behind 1's ROW EXCLUSIVE); 10 asked for
        // ACCESS EXCLUSIVE before. The server queued 2 ahead of 10; waitstart says otherwise.
        let rows = vec![
            held(1, "r", "RowExclusiveLock"),
            held(2, "r", "AccessShareLock"),
            waits(10, "r", "AccessExclusiveLock", 1000),
            waits(2, "r", "ShareLock", 2000),
        ];
        let graph = graph(&rows);
        let undecided: Vec<i32> = graph.undecided.iter().map(|u| u.pid).collect();
        assert!(undecided.contains(&2), "{graph:?}");
        assert!(!edges(&graph).iter().any(|(pid, _)| *pid == 2));
    }

    #[test]
    fn a_cycle_is_left_to_the_server() {
        let rows = vec![
            held(1, "a", "AccessExclusiveLock"),
            held(2, "b", "AccessExclusiveLock"),
            waits(1, "b", "AccessShareLock", 1000),
            waits(2, "a", "AccessShareLock", 2000),
            waits(3, "a", "AccessShareLock", 3000),
            held(4, "c", "AccessExclusiveLock"),
            waits(5, "c", "AccessShareLock", 3000),
        ];
        let graph = graph(&rows);
        assert_eq!(graph.undecided.iter().map(|u| u.pid).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(edges(&graph), vec![(5, vec![4])]);
        assert!(cycle_members(&BTreeMap::new()).is_empty());
    }
}
