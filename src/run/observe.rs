//! The one place `run` touches `watch`: it samples the server with [`watch::Sampler`] (locks,
//! blocking graph, queues, progress) and turns each sample into `run`'s own [`Observation`], so the
//! guard does not depend on how `watch` builds its samples.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::db::Target;
use crate::error::Result;
use crate::introspect::SessionLimits;
use crate::watch::{self, Sampler, SamplerOptions};

/// `*` wildcards, as `inspect --application-name` matches them.
pub use crate::watch::classify::glob_match;

/// A session as one sample saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub pid: i32,
    pub application_name: Option<String>,
    pub state: Option<String>,
    pub query: Option<String>,
    /// Identifies the running statement (query_start, µs).
    pub query_start_us: Option<i64>,
    pub xact_age_s: Option<f64>,
    pub state_age_s: Option<f64>,
    /// The lock it waits for.
    pub waiting: Option<Wait>,
    /// Sessions it waits for.
    pub blocked_by: Vec<i32>,
    /// How many sessions wait behind it, directly or transitively.
    pub queued_behind: usize,
    /// Relation locks it has been granted, from the same pg_locks snapshot as `waiting`: for the
    /// command's sessions every one on this database (`Observer::observe`), for others those on a
    /// relation that has a waiter or an ACCESS EXCLUSIVE request or holder.
    pub holds: Vec<Held>,
}

/// A granted relation lock. pg_locks records no grant time (`waitstart` is null once a lock is
/// held, https://www.postgresql.org/docs/current/view-pg-locks.html), so how long it has been held
/// is what `run` itself saw: [`super::held::HeldSince`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Held {
    /// `schema.name`; `None` for a relation lockscope could not name.
    pub relation: Option<String>,
    /// As pg_locks prints it.
    pub mode: String,
}

impl Held {
    /// `AccessExclusiveLock on public.items`.
    pub fn describe(&self) -> String {
        format!("{} on {}", self.mode, self.relation.as_deref().unwrap_or("an unnamed relation"))
    }
}

/// A lock wait.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// `schema.name`, for relation locks.
    pub relation: Option<String>,
    /// As pg_locks prints it.
    pub mode: String,
    pub locktype: String,
    /// Seconds since the wait began (PostgreSQL 14+).
    pub waited_s: Option<f64>,
}

impl Wait {
    /// `AccessExclusiveLock on public.items`.
    pub fn describe(&self) -> String {
        match &self.relation {
            Some(relation) => format!("{} on {relation}", self.mode),
            None => format!("{} ({})", self.mode, self.locktype),
        }
    }
}

/// Progress of a long command (CREATE INDEX …) of some session.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub pid: i32,
    /// One line, as `inspect --watch` prints it (phase, percent, ETA).
    pub line: String,
}

/// What one sample saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// Why nothing was seen this time (a sampling timeout, a lost connection).
    pub skipped: Option<String>,
    pub sessions: Vec<Seen>,
    pub progress: Vec<Progress>,
}

impl Observation {
    /// The session with this pid, if seen.
    pub fn session(&self, pid: i32) -> Option<&Seen> {
        self.sessions.iter().find(|session| session.pid == pid)
    }
}

/// Samples the server for `run`.
pub struct Observer {
    sampler: Sampler,
}

impl Observer {
    /// Opens the monitoring connection (read-only, short timeouts, `lockscope-inspect`).
    pub async fn connect(target: &Target, query_length: usize) -> Result<Observer> {
        let options = SamplerOptions {
            limits: SessionLimits {
                statement_timeout: Duration::from_millis(500),
                lock_timeout: Duration::from_millis(100),
            },
            query_length: query_length.max(1),
            ..SamplerOptions::default()
        };
        Ok(Observer { sampler: Sampler::connect(target.clone(), options).await? })
    }

    /// The monitoring session's own backend pid (never one of the command's sessions).
    pub fn own_pid(&self) -> Option<i32> {
        self.sampler.own_pid()
    }

    /// Takes one sample, listing every relation lock the command's sessions (`commands`) hold,
    /// contended or not.
    pub async fn observe(&mut self, commands: &BTreeSet<i32>) -> Result<Observation> {
        self.sampler.list_all_locks_of(commands.iter().copied());
        let sample = self.sampler.sample().await?;
        Ok(convert(&sample))
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.sampler.close().await;
    }
}

fn convert(sample: &watch::Sample) -> Observation {
    Observation {
        skipped: sample.skipped.clone(),
        sessions: sample
            .sessions
            .iter()
            .map(|session| Seen {
                pid: session.pid,
                application_name: session.application_name.clone(),
                state: session.state.clone(),
                query: session.query.clone(),
                query_start_us: session.query_start_us,
                xact_age_s: session.xact_age_s,
                state_age_s: session.state_age_s,
                waiting: session.waiting_for.as_ref().map(|waiting| Wait {
                    relation: waiting.relation.clone(),
                    mode: waiting.mode.clone(),
                    locktype: waiting.locktype.clone(),
                    waited_s: waiting.waited_s,
                }),
                blocked_by: session.blocked_by.clone(),
                queued_behind: session.queued_behind,
                holds: session
                    .holds
                    .iter()
                    .map(|held| Held { relation: held.relation.clone(), mode: held.mode.clone() })
                    .collect(),
            })
            .collect(),
        progress: sample
            .progress
            .iter()
            .map(|progress| Progress { pid: progress.pid, line: watch::text::progress_line(progress) })
            .collect(),
    }
}
