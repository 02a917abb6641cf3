//! Alerts for the classic migration outage: a DDL statement waits for its lock behind a long
//! transaction, and every query on the table queues behind the DDL. Each alert states the usual
//! remedy. Acting on it (`pg_cancel_backend` on the DDL session, never anything else) happens only
//! with `--cancel-blocking-ddl-after`; [`cancel_requests`] decides, the sampler carries it out.

use std::time::Duration;

use crate::locks::LockMode;
use crate::units::human_duration;

use super::classify::Focus;
use super::model::{Alert, Sample, Session};

/// When to alert and, if the user asked for it, when to cancel.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    /// Alert when at least this many sessions queue behind a waiting DDL statement.
    pub queue_length: usize,
    /// Alert when a DDL statement has waited this long for its lock.
    pub wait: Duration,
    /// Cancel a DDL statement that has waited this long while others queue behind it.
    pub cancel_after: Option<Duration>,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules { queue_length: 3, wait: Duration::from_secs(5), cancel_after: None }
    }
}

/// A DDL statement waiting for a lock that stops other sessions' reads or writes.
fn waiting_ddl(session: &Session) -> Option<LockMode> {
    let waiting = session.waiting_for.as_ref()?;
    let mode = LockMode::parse(&waiting.mode)?;
    let strong = mode == LockMode::AccessExclusive || (session.ddl && mode.blocks_writes());
    strong.then_some(mode)
}

/// Alerts for every waiting DDL statement over a threshold, most sessions queued first.
pub fn alerts(sample: &Sample, rules: &AlertRules) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = sample
        .sessions
        .iter()
        .filter_map(|session| {
            let mode = waiting_ddl(session)?;
            let waiting = session.waiting_for.as_ref()?;
            let waited = waiting.waited_s.unwrap_or(0.0);
            let over_queue = session.queued_behind >= rules.queue_length;
            let over_wait = waited >= rules.wait.as_secs_f64();
            if !over_queue && !over_wait {
                return None;
            }
            Some(alert_for(sample, session, mode, waited))
        })
        .collect();
    alerts.sort_by(|a, b| b.queued_behind.cmp(&a.queued_behind).then(a.pid.cmp(&b.pid)));
    alerts
}

fn alert_for(sample: &Sample, session: &Session, mode: LockMode, waited: f64) -> Alert {
    let waiting = session.waiting_for.as_ref();
    let relation = waiting.and_then(|waiting| waiting.relation.clone());
    let on = relation.as_deref().map_or(String::new(), |relation| format!(" on {relation}"));
    let blockers: Vec<String> = session.blocked_by.iter().map(|pid| describe_blocker(sample, *pid)).collect();
    let blocked_by = if blockers.is_empty() { String::new() } else { format!(", blocked by {}", blockers.join(", ")) };
    let statement = session.query.as_deref().map(|query| format!(" ({})", one_line(query, 60))).unwrap_or_default();
    let message = format!(
        "pid {pid}{statement} has waited {waited} for {mode}{on}{blocked_by}; {queued} \
         session{s} queued behind it ({mode} {blocks}).",
        pid = session.pid,
        waited = human_duration(waited),
        mode = mode.pg_name(),
        queued = session.queued_behind,
        s = if session.queued_behind == 1 { " is" } else { "s are" },
        blocks = mode.blocks_in_words(),
    );
    let remedy = format!(
        "Cancel the DDL (SELECT pg_cancel_backend({pid})) and retry it with a short lock_timeout \
         (SET lock_timeout = '2s'; retry a few times) once the blocking transaction has ended, or \
         end that transaction first. lockscope cancels nothing unless run with \
         --cancel-blocking-ddl-after.",
        pid = session.pid
    );
    Alert {
        pid: session.pid,
        relation,
        mode: mode.pg_name().to_string(),
        waited_s: waiting.and_then(|waiting| waiting.waited_s),
        queued_behind: session.queued_behind,
        blocked_by: session.blocked_by.clone(),
        message,
        remedy,
    }
}

fn describe_blocker(sample: &Sample, pid: i32) -> String {
    match sample.session(pid) {
        Some(session) => {
            let state = session.state.as_deref().unwrap_or("state hidden");
            match session.state_age_s.or(session.xact_age_s) {
                Some(age) => format!("pid {pid} ({state} for {})", human_duration(age)),
                None => format!("pid {pid} ({state})"),
            }
        }
        None => format!("pid {pid}"),
    }
}

/// A statement lockscope is about to cancel, identified precisely enough that a different
/// statement on the same session is never hit.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelRequest {
    pub pid: i32,
    pub query_start_us: i64,
    pub mode: String,
    pub relation_oid: Option<i64>,
    pub relation: Option<String>,
    pub waited_s: f64,
    pub queued_behind: usize,
}

/// DDL sessions to cancel under `--cancel-blocking-ddl-after`: waiting for a strong lock at least
/// that long, with at least one session queued behind, named by the focus when there is one, and
/// not already tried (`attempted` holds `(pid, query_start_us)`).
pub fn cancel_requests(
    sample: &Sample,
    rules: &AlertRules,
    focus: &Focus,
    attempted: &[(i32, i64)],
) -> Vec<CancelRequest> {
    let Some(after) = rules.cancel_after else {
        return Vec::new();
    };
    sample
        .sessions
        .iter()
        .filter_map(|session| {
            let mode = waiting_ddl(session)?;
            let waiting = session.waiting_for.as_ref()?;
            let waited = waiting.waited_s?;
            let query_start_us = session.query_start_us?;
            let eligible = waited >= after.as_secs_f64()
                && session.queued_behind >= 1
                && (!focus.is_explicit() || focus.matches(session.pid, session.application_name.as_deref()))
                && !attempted.contains(&(session.pid, query_start_us));
            eligible.then(|| CancelRequest {
                pid: session.pid,
                query_start_us,
                mode: mode.pg_name().to_string(),
                relation_oid: waiting.relation_oid,
                relation: waiting.relation.clone(),
                waited_s: waited,
                queued_behind: session.queued_behind,
            })
        })
        .collect()
}

/// `text` on one line, cut at `max` characters with an ellipsis.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::model::{WaitingFor, SCHEMA_VERSION};

    fn session(pid: i32, query: &str, waiting: Option<(&str, f64)>, behind: usize) -> Session {
        Session {
            pid,
            application_name: Some(if pid == 200 { "migrate" } else { "app" }.into()),
            state: Some(if waiting.is_some() { "active" } else { "idle in transaction" }.into()),
            wait_event_type: waiting.map(|_| "Lock".into()),
            query: Some(query.into()),
            blocked_by: if pid == 200 { vec![100] } else { Vec::new() },
            waiting_for: waiting.map(|(mode, waited)| WaitingFor {
                relation: Some("public.orders".into()),
                mode: mode.into(),
                locktype: "relation".into(),
                waited_s: Some(waited),
                relation_oid: Some(16384),
            }),
            usename: Some("app".into()),
            backend_type: Some("client backend".into()),
            wait_event: None,
            xact_age_s: Some(300.0),
            query_age_s: Some(300.0),
            state_age_s: Some(290.0),
            query_start_us: Some(1_000_000 + i64::from(pid)),
            migration: false,
            ddl: super::super::classify::looks_like_ddl(query),
            hidden: false,
            holds: Vec::new(),
            queued_behind: behind,
        }
    }

    fn sample(sessions: Vec<Session>) -> Sample {
        let mut sample = Sample::skipped("2024-01-01T00:00:00.000Z".into(), String::new(), 0.0);
        sample.skipped = None;
        sample.schema_version = SCHEMA_VERSION;
        sample.sessions = sessions;
        sample
    }

    #[test]
    fn alerts_on_queue_length_or_wait_and_states_the_remedy() {
        let rules = AlertRules { queue_length: 3, wait: Duration::from_secs(10), cancel_after: None };
        let queued = sample(vec![
            session(100, "SELECT 1", None, 4),
            session(200, "ALTER TABLE orders ADD COLUMN x int", Some(("AccessExclusiveLock", 2.0)), 3),
        ]);
        let found = alerts(&queued, &rules);
        assert_eq!(found.len(), 1);
        let alert = &found[0];
        assert_eq!(alert.pid, 200);
        assert!(alert.message.contains("AccessExclusiveLock on public.orders"), "{}", alert.message);
        assert!(alert.message.contains("blocked by pid 100 (idle in transaction for 4m 50s)"), "{}", alert.message);
        assert!(alert.message.contains("3 sessions are queued behind it"), "{}", alert.message);
        assert!(alert.remedy.contains("pg_cancel_backend(200)"));
        assert!(alert.remedy.contains("lock_timeout"));

        let short = sample(vec![session(200, "ALTER TABLE orders ADD x int", Some(("AccessExclusiveLock", 2.0)), 1)]);
        assert!(alerts(&short, &rules).is_empty());
        let long = sample(vec![session(200, "ALTER TABLE orders ADD x int", Some(("AccessExclusiveLock", 11.0)), 0)]);
        assert_eq!(alerts(&long, &rules).len(), 1);
        // A reader waiting behind the DDL is not itself DDL.
        let reader = sample(vec![session(300, "SELECT * FROM orders", Some(("AccessShareLock", 60.0)), 9)]);
        assert!(alerts(&reader, &rules).is_empty());
        // DDL waiting for a weak lock blocks nobody's reads or writes.
        let weak = sample(vec![session(
            200,
            "CREATE INDEX CONCURRENTLY i ON orders (a)",
            Some(("ShareUpdateExclusiveLock", 60.0)),
            2,
        )]);
        assert!(alerts(&weak, &rules).is_empty());
    }

    #[test]
    fn cancels_only_when_asked_only_ddl_only_once() {
        let ddl = session(200, "ALTER TABLE orders ADD COLUMN x int", Some(("AccessExclusiveLock", 31.0)), 2);
        let holder = session(100, "SELECT 1", None, 3);
        let waiting_reader = session(300, "SELECT * FROM orders", Some(("AccessShareLock", 40.0)), 0);
        let sample = sample(vec![holder, ddl, waiting_reader]);
        let mut rules = AlertRules::default();
        assert!(cancel_requests(&sample, &rules, &Focus::default(), &[]).is_empty());

        rules.cancel_after = Some(Duration::from_secs(30));
        let requests = cancel_requests(&sample, &rules, &Focus::default(), &[]);
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].pid, 200);
        assert_eq!(requests[0].mode, "AccessExclusiveLock");
        assert_eq!(requests[0].relation_oid, Some(16384));

        assert!(cancel_requests(&sample, &rules, &Focus::default(), &[(200, 1_000_200)]).is_empty());
        rules.cancel_after = Some(Duration::from_secs(60));
        assert!(cancel_requests(&sample, &rules, &Focus::default(), &[]).is_empty());
        rules.cancel_after = Some(Duration::from_secs(30));
        let elsewhere = Focus { application_names: vec!["other".into()], pids: Vec::new() };
        assert!(cancel_requests(&sample, &rules, &elsewhere, &[]).is_empty());
        let named = Focus { application_names: vec!["migr*".into()], pids: Vec::new() };
        assert_eq!(cancel_requests(&sample, &rules, &named, &[]).len(), 1);
    }

    #[test]
    fn nothing_queued_behind_means_nothing_to_cancel() {
        let alone = sample(vec![session(200, "ALTER TABLE orders ADD x int", Some(("AccessExclusiveLock", 99.0)), 0)]);
        let rules = AlertRules { cancel_after: Some(Duration::from_secs(1)), ..AlertRules::default() };
        assert!(cancel_requests(&alone, &rules, &Focus::default(), &[]).is_empty());
    }

    #[test]
    fn one_line_flattens_and_cuts() {
        assert_eq!(one_line("SELECT\n  *\tFROM t", 40), "SELECT * FROM t");
        assert_eq!(one_line("abcdefghij", 5), "abcd…");
    }
}
