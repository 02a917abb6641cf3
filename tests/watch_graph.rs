//! Issue #16, item 1: the wait graph built from one pg_locks snapshot (`GraphMethod::Snapshot`)
//! equals the one `pg_blocking_pids()` gives for every waiter (`GraphMethod::BlockingPids`, the
//! reference), on real lock storms of several shapes: the same lock tree, the same `blocked_by`
//! sets and `queued_behind` counts, the same queues (holders, waiters in order). Correctness is
//! asserted; time is not (benches/watch.rs measures both methods).
//!
//! Every waiter is started only once the one before it has a `waitstart` in pg_locks, and a
//! little more than `graph::ORDER_SLACK_US` later, so the wait order is known and the snapshot
//! can decide every edge it is meant to decide (the test checks that it did, except where the
//! model says it cannot).

mod common;
mod watch_scenario;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use lockscope::introspect::SessionLimits;
use lockscope::watch::graph::ORDER_SLACK_US;
use lockscope::watch::model::TreeNode;
use lockscope::watch::{GraphMethod, Sample, Sampler, SamplerOptions};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};
use tokio::task::JoinHandle;
use watch_scenario::backend_pid;

/// `(pid, mode)` entries of a queue.
type Entries = Vec<(i32, String)>;

/// What a user sees of the blocking in one sample, without the times.
#[derive(Debug, PartialEq)]
struct Picture {
    lock_tree: Vec<TreeNode>,
    blocked_by: BTreeMap<i32, Vec<i32>>,
    queued_behind: BTreeMap<i32, usize>,
    /// relation, holders (pid, mode), waiters (pid, mode) in wait order.
    queues: Vec<(String, Entries, Entries)>,
}

fn picture(sample: &Sample) -> Picture {
    assert_eq!(sample.skipped, None, "the sample was taken");
    Picture {
        lock_tree: sample.lock_tree.clone(),
        blocked_by: sample
            .sessions
            .iter()
            .filter(|s| !s.blocked_by.is_empty())
            .map(|s| (s.pid, s.blocked_by.clone()))
            .collect(),
        queued_behind: sample
            .sessions
            .iter()
            .filter(|s| s.queued_behind > 0)
            .map(|s| (s.pid, s.queued_behind))
            .collect(),
        queues: sample
            .queues
            .iter()
            .map(|q| {
                (
                    q.relation.clone(),
                    q.holders.iter().map(|e| (e.pid, e.mode.clone())).collect(),
                    q.waiters.iter().map(|e| (e.pid, e.mode.clone())).collect(),
                )
            })
            .collect(),
    }
}

/// One live storm: its sessions, and both samplers.
struct Storm {
    db: common::TestDb,
    monitor: PgConnection,
    /// Idle-in-transaction sessions holding locks.
    held: Vec<(i32, PgConnection)>,
    running: Vec<JoinHandle<()>>,
}

impl Storm {
    async fn new(setup: &str) -> Storm {
        let db = common::fresh_database().await;
        let mut monitor = db.connect().await;
        common::execute(&mut monitor, setup).await;
        Storm { db, monitor, held: Vec::new(), running: Vec::new() }
    }

    /// A session that runs `sql` (a transaction it leaves open) and stays idle holding its locks.
    async fn hold(&mut self, sql: &str) -> i32 {
        let mut conn = self.db.connect().await;
        let pid = backend_pid(&mut conn).await;
        common::execute(&mut conn, sql).await;
        self.held.push((pid, conn));
        pid
    }

    /// Runs `sql` in the background on a new session (after `first`, run in the foreground) and
    /// returns once the session waits for a lock with its waitstart set, plus the ordering slack.
    async fn wait(&mut self, first: Option<&str>, sql: &str) -> i32 {
        let mut conn = self.db.connect().await;
        let pid = backend_pid(&mut conn).await;
        if let Some(first) = first {
            common::execute(&mut conn, first).await;
        }
        self.spawn_waiting(conn, pid, sql).await;
        pid
    }

    /// Like [`Storm::wait`] on a session already holding locks (from [`Storm::hold`]).
    async fn wait_on_held(&mut self, pid: i32, sql: &str) {
        let index = self.held.iter().position(|(held, _)| *held == pid).expect("a held session");
        let (_, conn) = self.held.remove(index);
        self.spawn_waiting(conn, pid, sql).await;
    }

    async fn spawn_waiting(&mut self, mut conn: PgConnection, pid: i32, sql: &str) {
        let statement = sql.to_string();
        self.running.push(tokio::spawn(async move {
            // Ends with an error when the test terminates the session at the end.
            let _ = sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut conn).await;
        }));
        let deadline = Instant::now() + Duration::from_secs(120); // a hang guard, not a time bound
        loop {
            let queued: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted AND waitstart IS NOT NULL)",
            )
            .bind(pid)
            .fetch_one(&mut self.monitor)
            .await
            .expect("poll pg_locks");
            if queued {
                break;
            }
            if Instant::now() > deadline || self.running.last().is_some_and(|task| task.is_finished()) {
                let locks: Vec<String> = sqlx::query_scalar(
                    "SELECT format('%s %s %s %s %s', pid, locktype, relation::regclass, mode, granted) FROM pg_locks",
                )
                .fetch_all(&mut self.monitor)
                .await
                .expect("read pg_locks");
                panic!("pid {pid} never queued for its lock ({sql:?}):\n{}", locks.join("\n"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The next waiter's waitstart will be later than this one's by more than the slack.
        tokio::time::sleep(Duration::from_micros(ORDER_SLACK_US as u64 + 5_000)).await;
    }

    async fn sampler(&self, graph: GraphMethod) -> Sampler {
        let options = SamplerOptions {
            limits: SessionLimits { statement_timeout: Duration::from_secs(20), lock_timeout: Duration::from_secs(5) },
            graph,
            ..SamplerOptions::default()
        };
        Sampler::connect(self.db.target.clone(), options).await.expect("connect a sampler")
    }

    /// Samples with the reference, the snapshot, the reference again: the storm held still
    /// (both reference samples agree), and the snapshot saw the same. Returns the snapshot's.
    async fn compare(&self) -> Sample {
        let mut reference = self.sampler(GraphMethod::BlockingPids).await;
        let mut snapshot = self.sampler(GraphMethod::Snapshot).await;
        let before = reference.sample().await.expect("reference sample");
        let seen = snapshot.sample().await.expect("snapshot sample");
        let after = reference.sample().await.expect("reference sample");
        assert_eq!(picture(&before), picture(&after), "the storm changed while it was sampled");
        assert_eq!(picture(&seen), picture(&before), "snapshot graph differs from pg_blocking_pids()");
        assert!(before.undecided_waits.is_empty(), "the reference method decides nothing on its own");
        reference.close().await;
        snapshot.close().await;
        seen
    }

    /// Ends every session of the storm; none is left behind.
    async fn end(mut self) {
        let mut admin = common::admin_connection().await;
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&self.db.name)
        .execute(&mut admin)
        .await
        .expect("terminate the storm");
        for task in self.running.drain(..) {
            let _ = task.await;
        }
        self.held.clear();
        // The samplers closed their connections: their backends exit (asynchronously).
        let deadline = Instant::now() + Duration::from_secs(120); // a hang guard, not a time bound
        loop {
            let left: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lockscope-inspect'",
            )
            .bind(&self.db.name)
            .fetch_one(&mut admin)
            .await
            .expect("count sessions");
            if left == 0 {
                break;
            }
            assert!(Instant::now() < deadline, "{left} sampler session(s) left behind");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.monitor.close().await;
    }
}

fn tree_pids(forest: &[TreeNode]) -> Vec<i32> {
    fn walk(node: &TreeNode, out: &mut Vec<i32>) {
        out.push(node.pid);
        node.children.iter().for_each(|child| walk(child, out));
    }
    let mut out = Vec::new();
    forest.iter().for_each(|root| walk(root, &mut out));
    out
}

const MODES: [&str; 8] = [
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_access_exclusive_holder_and_fifty_waiters_of_mixed_modes() {
    let mut storm = Storm::new("CREATE TABLE hot (id integer PRIMARY KEY, v integer)").await;
    let holder = storm.hold("BEGIN; LOCK TABLE hot IN ACCESS EXCLUSIVE MODE").await;
    let mut waiters = Vec::new();
    let mut access_exclusive = Vec::new();
    for n in 0..50 {
        // Real statements among the LOCK TABLEs: a SELECT, an INSERT, a CREATE INDEX.
        let mode = MODES[(n * 3) % MODES.len()];
        let sql = match n % 11 {
            3 => "SELECT count(*) FROM hot".to_string(),
            6 => format!("INSERT INTO hot VALUES ({n}, {n})"),
            9 => format!("CREATE INDEX hot_v_{n} ON hot (v)"),
            _ => format!("BEGIN; LOCK TABLE hot IN {mode} MODE; COMMIT"),
        };
        if n % 11 != 3 && n % 11 != 6 && n % 11 != 9 && mode == "ACCESS EXCLUSIVE" {
            access_exclusive.push(n);
        }
        waiters.push(storm.wait(None, &sql).await);
    }
    let sample = storm.compare().await;
    assert!(sample.undecided_waits.is_empty(), "{:?}", sample.undecided_waits);
    // Every waiter is in the tree under the holder, and in the queue in the order it came.
    assert_eq!(sample.lock_tree.len(), 1);
    assert_eq!(sample.lock_tree[0].pid, holder);
    let mut in_tree = tree_pids(&sample.lock_tree);
    in_tree.sort_unstable();
    in_tree.dedup();
    let mut expected: Vec<i32> = waiters.iter().copied().chain([holder]).collect();
    expected.sort_unstable();
    assert_eq!(in_tree, expected);
    let queue = sample.queues.iter().find(|q| q.relation == "public.hot").expect("the queue on hot");
    assert_eq!(queue.waiters.iter().map(|w| w.pid).collect::<Vec<_>>(), waiters);
    assert_eq!(sample.session(holder).map(|s| s.queued_behind), Some(50));
    // Soft edges: the second ACCESS EXCLUSIVE request waits for the holder and for every request
    // queued before it (all modes conflict with ACCESS EXCLUSIVE).
    let second = access_exclusive[1];
    let mut expected: Vec<i32> = waiters[..second].iter().copied().chain([holder]).collect();
    expected.sort_unstable();
    assert_eq!(sample.session(waiters[second]).expect("listed").blocked_by, expected);
    storm.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_across_three_tables_with_readers_behind_the_ddl() {
    let mut storm = Storm::new("CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE TABLE c (id int)").await;
    let holder = storm.hold("BEGIN; LOCK TABLE a IN ACCESS SHARE MODE").await;
    let w1 =
        storm.wait(Some("BEGIN; LOCK TABLE b IN ACCESS EXCLUSIVE MODE"), "LOCK TABLE a IN ACCESS EXCLUSIVE MODE").await;
    let r1 = storm.wait(None, "SELECT count(*) FROM a").await;
    let w2 =
        storm.wait(Some("BEGIN; LOCK TABLE c IN ACCESS EXCLUSIVE MODE"), "LOCK TABLE b IN ACCESS SHARE MODE").await;
    let w3 = storm.wait(None, "INSERT INTO c VALUES (1)").await;
    let r2 = storm.wait(None, "SELECT count(*) FROM a").await;
    let sample = storm.compare().await;
    assert!(sample.undecided_waits.is_empty(), "{:?}", sample.undecided_waits);
    let blocked = |pid: i32| sample.session(pid).expect("listed").blocked_by.clone();
    assert_eq!(blocked(w1), vec![holder]);
    assert_eq!(blocked(r1), vec![w1]);
    assert_eq!(blocked(w2), vec![w1]);
    assert_eq!(blocked(w3), vec![w2]);
    assert_eq!(blocked(r2), vec![w1]);
    assert_eq!(sample.session(holder).map(|s| s.queued_behind), Some(5));
    storm.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relations_two_queues() {
    let mut storm = Storm::new("CREATE TABLE t1 (id int); CREATE TABLE t2 (id int)").await;
    let h1 = storm.hold("BEGIN; LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE").await;
    let h2 = storm.hold("BEGIN; LOCK TABLE t2 IN SHARE MODE").await;
    for _ in 0..5 {
        storm.wait(None, "SELECT count(*) FROM t1").await;
    }
    let mut on_t2 = Vec::new();
    for sql in [
        "INSERT INTO t2 VALUES (1)",
        "INSERT INTO t2 VALUES (2)",
        "BEGIN; LOCK TABLE t2 IN ACCESS EXCLUSIVE MODE",
        "SELECT count(*) FROM t2",
        "BEGIN; LOCK TABLE t2 IN SHARE MODE",
        "INSERT INTO t2 VALUES (3)",
    ] {
        on_t2.push(storm.wait(None, sql).await);
    }
    let sample = storm.compare().await;
    assert!(sample.undecided_waits.is_empty(), "{:?}", sample.undecided_waits);
    assert_eq!(sample.queues.len(), 2);
    assert_eq!(sample.session(h1).map(|s| s.queued_behind), Some(5));
    // The reader on t2 does not conflict with the SHARE holder: it waits only for the ACCESS
    // EXCLUSIVE request ahead of it. The second SHARE request waits behind the INSERTs.
    assert_eq!(sample.session(on_t2[3]).expect("listed").blocked_by, vec![on_t2[2]]);
    let share = &sample.session(on_t2[4]).expect("listed").blocked_by;
    assert!(share.contains(&on_t2[0]) && share.contains(&on_t2[2]) && !share.contains(&h2), "{share:?}");
    storm.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_lock_makes_transactionid_and_tuple_waits() {
    let mut storm =
        Storm::new("CREATE TABLE rows (id int PRIMARY KEY, v int); INSERT INTO rows VALUES (1, 0), (2, 0)").await;
    let owner = storm.hold("BEGIN; UPDATE rows SET v = v + 1 WHERE id = 1").await;
    let first = storm.wait(None, "UPDATE rows SET v = v + 1 WHERE id = 1").await;
    let second = storm.wait(None, "UPDATE rows SET v = v + 1 WHERE id = 1").await;
    let third = storm.wait(None, "SELECT * FROM rows WHERE id = 1 FOR UPDATE").await;
    let sample = storm.compare().await;
    assert!(sample.undecided_waits.is_empty(), "{:?}", sample.undecided_waits);
    let session = |pid: i32| sample.session(pid).expect("listed");
    assert_eq!(session(first).waiting_for.as_ref().map(|w| w.locktype.as_str()), Some("transactionid"));
    assert_eq!(session(first).blocked_by, vec![owner]);
    assert_eq!(session(second).waiting_for.as_ref().map(|w| w.locktype.as_str()), Some("tuple"));
    assert_eq!(session(second).blocked_by, vec![first]);
    // The FOR UPDATE waits for the tuple lock's holder and the UPDATE queued before it.
    let mut expected = vec![first, second];
    expected.sort_unstable();
    assert_eq!(session(third).blocked_by, expected);
    assert_eq!(session(owner).queued_behind, 3);
    storm.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_that_jumps_the_queue_looks_like_a_cycle_but_is_none() {
    // X holds ROW EXCLUSIVE; H holds ACCESS SHARE; W asks for ACCESS EXCLUSIVE (waits for both);
    // then H asks for SHARE. H already holds a lock W's request conflicts with, so the server
    // queues H ahead of W (proc.c, ProcSleep) although H began waiting later: by waitstart alone
    // H would wait for W and W for H — a cycle that is not there. The snapshot must say it cannot
    // decide H and ask pg_blocking_pids() for it.
    let mut storm = Storm::new("CREATE TABLE t (id int)").await;
    let x = storm.hold("BEGIN; LOCK TABLE t IN ROW EXCLUSIVE MODE").await;
    let h = storm.hold("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE").await;
    let w = storm.wait(None, "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE").await;
    storm.wait_on_held(h, "LOCK TABLE t IN SHARE MODE").await;
    let r = storm.wait(None, "SELECT count(*) FROM t").await;
    let sample = storm.compare().await;
    let undecided: Vec<i32> = sample.undecided_waits.iter().map(|u| u.pid).collect();
    assert_eq!(undecided, vec![h], "{:?}", sample.undecided_waits);
    assert!(sample.undecided_waits[0].reason.contains("queued ahead"), "{:?}", sample.undecided_waits);
    let blocked = |pid: i32| sample.session(pid).expect("listed").blocked_by.clone();
    assert_eq!(blocked(h), vec![x]);
    let mut both = vec![x, h];
    both.sort_unstable();
    assert_eq!(blocked(w), both);
    assert_eq!(blocked(r), vec![w]);
    assert!(tree_pids(&sample.lock_tree).contains(&r));
    assert!(!format!("{:?}", sample.lock_tree).contains("cycle: true"), "no cycle: {:?}", sample.lock_tree);
    storm.end().await;
}
