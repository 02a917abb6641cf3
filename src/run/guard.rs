//! The external lock timeout: which of the command's statements to cancel, given one
//! [`Observation`] and the thresholds. Plain logic; the caller carries the cancel out.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::observe::{Observation, Seen, Wait};

/// When a waiting statement of the command is cancelled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// It has waited this long for a lock.
    pub max_wait: Duration,
    /// At least this many sessions queue behind it.
    pub max_queue: Option<usize>,
}

/// A session that blocks the command's statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub pid: i32,
    pub application_name: Option<String>,
    pub state: Option<String>,
    pub query: Option<String>,
    /// Seconds since its transaction began.
    pub xact_age_s: Option<f64>,
}

/// A statement the guard wants cancelled.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelPlan {
    pub pid: i32,
    pub query_start_us: i64,
    pub statement: Option<String>,
    pub lock: Wait,
    pub waited_s: f64,
    pub queued_behind: usize,
    pub blockers: Vec<Blocker>,
    /// `waited 1.2s (--max-wait 1s)` or `3 sessions queued behind it (--max-queue 3)`.
    pub reason: String,
}

/// Remembers, across samples, when each statement began to wait, which statements were already
/// cancelled, and how long others waited behind the command.
#[derive(Debug, Default)]
pub struct Guard {
    first_seen_waiting: HashMap<(i32, i64), Instant>,
    attempted: HashSet<(i32, i64)>,
    /// (waiter pid, its query_start) → longest wait seen while it queued behind the command.
    waited_behind: BTreeMap<(i32, i64), f64>,
}

impl Guard {
    /// Cancellations due now for the command's sessions `ours` (pids), each statement once.
    pub fn plan(
        &mut self,
        observation: &Observation,
        ours: &BTreeSet<i32>,
        thresholds: Thresholds,
        now: Instant,
    ) -> Vec<CancelPlan> {
        self.account_waiters(observation, ours);
        let mut plans = Vec::new();
        for session in observation.sessions.iter().filter(|session| ours.contains(&session.pid)) {
            let (Some(lock), Some(query_start_us)) = (&session.waiting, session.query_start_us) else {
                continue;
            };
            let key = (session.pid, query_start_us);
            let first_seen = *self.first_seen_waiting.entry(key).or_insert(now);
            // pg_locks.waitstart (PostgreSQL 14+) when known, else since lockscope first saw it wait.
            let waited_s = lock.waited_s.unwrap_or(0.0).max(now.duration_since(first_seen).as_secs_f64());
            let over_wait = waited_s >= thresholds.max_wait.as_secs_f64();
            let over_queue = thresholds.max_queue.is_some_and(|max| session.queued_behind >= max);
            if !(over_wait || over_queue) || self.attempted.contains(&key) {
                continue;
            }
            self.attempted.insert(key);
            let reason = if over_queue {
                format!(
                    "{} session(s) queued behind it (--max-queue {})",
                    session.queued_behind,
                    thresholds.max_queue.unwrap_or_default()
                )
            } else {
                format!("it waited {waited_s:.1}s (--max-wait {})", humantime::format_duration(thresholds.max_wait))
            };
            plans.push(CancelPlan {
                pid: session.pid,
                query_start_us,
                statement: session.query.clone(),
                lock: lock.clone(),
                waited_s,
                queued_behind: session.queued_behind,
                blockers: blockers(observation, session, ours),
                reason,
            });
        }
        plans
    }

    /// Total seconds other sessions have spent queued behind the command's sessions so far.
    pub fn waited_behind_s(&self) -> f64 {
        self.waited_behind.values().sum()
    }

    /// Sessions that are not the command's and wait, directly or transitively, for one of its
    /// sessions: remember the longest wait of each.
    fn account_waiters(&mut self, observation: &Observation, ours: &BTreeSet<i32>) {
        let mut behind: BTreeSet<i32> = BTreeSet::new();
        let mut frontier: Vec<i32> = ours.iter().copied().collect();
        while let Some(pid) = frontier.pop() {
            for waiter in observation.sessions.iter().filter(|s| s.blocked_by.contains(&pid)) {
                if !ours.contains(&waiter.pid) && behind.insert(waiter.pid) {
                    frontier.push(waiter.pid);
                }
            }
        }
        for pid in behind {
            let Some(session) = observation.session(pid) else { continue };
            let waited = session.waiting.as_ref().and_then(|wait| wait.waited_s).unwrap_or(0.0);
            let entry = self.waited_behind.entry((pid, session.query_start_us.unwrap_or_default())).or_insert(0.0);
            *entry = entry.max(waited);
        }
    }
}

/// Who `session` waits for, as the sample described them (never the command's own sessions).
fn blockers(observation: &Observation, session: &Seen, ours: &BTreeSet<i32>) -> Vec<Blocker> {
    session
        .blocked_by
        .iter()
        .filter(|pid| !ours.contains(pid))
        .map(|pid| match observation.session(*pid) {
            Some(blocker) => Blocker {
                pid: *pid,
                application_name: blocker.application_name.clone(),
                state: blocker.state.clone(),
                query: blocker.query.clone(),
                xact_age_s: blocker.xact_age_s,
            },
            None => Blocker { pid: *pid, application_name: None, state: None, query: None, xact_age_s: None },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(pid: i32, waiting: Option<f64>, blocked_by: &[i32], queued_behind: usize) -> Seen {
        Seen {
            pid,
            application_name: Some(format!("app{pid}")),
            state: Some("active".into()),
            query: Some(format!("q{pid}")),
            query_start_us: Some(i64::from(pid) * 10),
            xact_age_s: Some(60.0),
            state_age_s: None,
            waiting: waiting.map(|waited| Wait {
                relation: Some("public.items".into()),
                mode: "AccessExclusiveLock".into(),
                locktype: "relation".into(),
                waited_s: Some(waited),
            }),
            blocked_by: blocked_by.to_vec(),
            queued_behind,
            holds: Vec::new(),
        }
    }

    fn thresholds(max_queue: Option<usize>) -> Thresholds {
        Thresholds { max_wait: Duration::from_secs(1), max_queue }
    }

    #[test]
    fn only_the_commands_sessions_are_ever_planned_and_each_statement_once() {
        // 10 blocks 20 (the command's) and 30 (someone else's DDL); 40 queues behind 20.
        let observation = Observation {
            skipped: None,
            sessions: vec![
                seen(10, None, &[], 3),
                seen(20, Some(5.0), &[10], 1),
                seen(30, Some(9.0), &[10], 0),
                seen(40, Some(2.0), &[20], 0),
            ],
            progress: Vec::new(),
        };
        let ours = BTreeSet::from([20]);
        let mut guard = Guard::default();
        let now = Instant::now();
        let plans = guard.plan(&observation, &ours, thresholds(None), now);
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].pid, 20);
        assert_eq!(plans[0].blockers.iter().map(|b| b.pid).collect::<Vec<_>>(), vec![10]);
        assert_eq!(plans[0].blockers[0].xact_age_s, Some(60.0));
        assert!(guard.plan(&observation, &ours, thresholds(None), now).is_empty());
        assert_eq!(guard.waited_behind_s(), 2.0);
    }

    #[test]
    fn a_queue_triggers_before_the_wait_limit() {
        let observation =
            Observation { skipped: None, sessions: vec![seen(20, Some(0.1), &[10], 2)], progress: Vec::new() };
        let ours = BTreeSet::from([20]);
        assert!(Guard::default().plan(&observation, &ours, thresholds(Some(3)), Instant::now()).is_empty());
        let plans = Guard::default().plan(&observation, &ours, thresholds(Some(2)), Instant::now());
        assert!(plans[0].reason.contains("--max-queue 2"), "{}", plans[0].reason);
    }
}
