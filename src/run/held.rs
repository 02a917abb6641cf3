//! How long the command's sessions have held their relation locks, as `run` saw it. pg_locks
//! has no grant time (its `waitstart` is null once a lock is granted,
//! https://www.postgresql.org/docs/current/view-pg-locks.html), so each lock's age is counted
//! from the first sample that showed it held: a lower bound, next to the transaction's age,
//! which is an upper bound (a lock is held until its transaction ends).

use std::collections::BTreeMap;
use std::time::Instant;

use super::observe::{Held, Seen};

/// A held lock with how long `run` has seen it held.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldFor {
    pub lock: Held,
    /// Seconds since the first sample that showed it held.
    pub seen_for_s: f64,
}

/// When each of the command's held locks was first seen, per session.
#[derive(Debug, Default)]
pub struct HeldSince {
    /// (pid, backend start µs) → lock → first seen.
    first_seen: BTreeMap<(i32, i64), BTreeMap<Held, Instant>>,
}

/// What a session holds now, and whether that differs from the previous sample.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldNow {
    pub pid: i32,
    /// Strongest first.
    pub locks: Vec<HeldFor>,
    /// The set of held locks differs from the previous sample's.
    pub changed: bool,
}

impl HeldSince {
    /// Records one sample of a session (`backend_start_us` tells a reused pid apart) and returns
    /// what it holds. A lock no longer held is forgotten: taken again, it counts afresh.
    pub fn observe(&mut self, seen: &Seen, backend_start_us: i64, now: Instant) -> HeldNow {
        let known = self.first_seen.entry((seen.pid, backend_start_us)).or_default();
        let before = known.len();
        known.retain(|lock, _| seen.holds.contains(lock));
        let mut changed = known.len() != before;
        for lock in &seen.holds {
            known.entry(lock.clone()).or_insert_with(|| {
                changed = true;
                now
            });
        }
        let mut locks: Vec<HeldFor> = known
            .iter()
            .map(|(lock, since)| HeldFor {
                lock: lock.clone(),
                seen_for_s: now.saturating_duration_since(*since).as_secs_f64(),
            })
            .collect();
        locks.sort_by(|a, b| strength(&b.lock.mode).cmp(&strength(&a.lock.mode)).then_with(|| a.lock.cmp(&b.lock)));
        HeldNow { pid: seen.pid, locks, changed }
    }

    /// Forgets every session (a new attempt starts).
    pub fn clear(&mut self) {
        self.first_seen.clear();
    }
}

/// Lock strength for ordering; modes outside the table-lock table sort weakest.
fn strength(mode: &str) -> i32 {
    crate::locks::LockMode::parse(mode).map_or(-1, |mode| mode as i32)
}

/// The plain line printed when what a session holds changes.
pub fn change_line(now: &HeldNow, xact_age_s: Option<f64>) -> String {
    let transaction = xact_age_s.map(|age| format!(" (transaction open {age:.1}s)")).unwrap_or_default();
    if now.locks.is_empty() {
        return format!("lockscope: pid {} now holds no relation lock{transaction}", now.pid);
    }
    let locks: Vec<String> = now.locks.iter().map(|held| held.lock.describe()).collect();
    format!("lockscope: pid {} now holds {}{transaction}", now.pid, locks.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn seen(holds: &[(&str, &str)]) -> Seen {
        Seen {
            pid: 42,
            application_name: None,
            state: Some("active".into()),
            query: None,
            query_start_us: Some(1),
            xact_age_s: Some(3.0),
            state_age_s: None,
            waiting: None,
            blocked_by: Vec::new(),
            queued_behind: 0,
            holds: holds
                .iter()
                .map(|(mode, relation)| Held { relation: Some(relation.to_string()), mode: mode.to_string() })
                .collect(),
        }
    }

    #[test]
    fn a_lock_counts_from_the_first_sample_that_showed_it_and_changes_are_flagged() {
        let mut since = HeldSince::default();
        let start = Instant::now();
        let first = since.observe(&seen(&[("RowExclusiveLock", "public.a")]), 7, start);
        assert!(first.changed);
        assert_eq!(first.locks[0].seen_for_s, 0.0);

        let later = start + Duration::from_millis(1500);
        let second =
            since.observe(&seen(&[("RowExclusiveLock", "public.a"), ("AccessExclusiveLock", "public.b")]), 7, later);
        assert!(second.changed);
        let described: Vec<(String, f64)> =
            second.locks.iter().map(|held| (held.lock.describe(), held.seen_for_s)).collect();
        assert_eq!(
            described,
            vec![
                ("AccessExclusiveLock on public.b".to_string(), 0.0),
                ("RowExclusiveLock on public.a".to_string(), 1.5)
            ],
            "strongest first, each counted from when it was first seen"
        );
        assert_eq!(
            change_line(&second, Some(3.0)),
            "lockscope: pid 42 now holds AccessExclusiveLock on public.b, RowExclusiveLock on public.a \
             (transaction open 3.0s)"
        );

        let same = since.observe(
            &seen(&[("AccessExclusiveLock", "public.b"), ("RowExclusiveLock", "public.a")]),
            7,
            later + Duration::from_secs(1),
        );
        assert!(!same.changed, "the same locks again are no change");

        let released = since.observe(&seen(&[]), 7, later + Duration::from_secs(2));
        assert!(released.changed);
        assert_eq!(change_line(&released, None), "lockscope: pid 42 now holds no relation lock");
    }

    #[test]
    fn a_reused_pid_is_another_session() {
        let mut since = HeldSince::default();
        let start = Instant::now();
        since.observe(&seen(&[("ShareLock", "public.a")]), 7, start);
        let other = since.observe(&seen(&[("ShareLock", "public.a")]), 8, start + Duration::from_secs(5));
        assert!(other.changed);
        assert_eq!(other.locks[0].seen_for_s, 0.0);
    }
}
