//! One run's access to its target (docs/ARCHITECTURE.md, "One session per run"): the target's
//! address and one side connection that every step before and after the trace shares — the
//! ledger, table sizes, catalogue facts, statistics — opened once, on first use, and closed when
//! the run ends. The trace itself opens exactly two more: the tracing backend (whose transaction is
//! always rolled back) and the sampler that watches it from outside.

use sqlx::{Connection, PgConnection};

use super::{connect, Target};
use crate::error::Result;

/// `application_name` of the side connection, as `pg_stat_activity` shows it.
pub const APPLICATION_NAME: &str = "lockscope-read";

/// A run's target and its shared side connection.
pub struct Session {
    target: Target,
    side: Option<PgConnection>,
}

impl Session {
    /// A session on `target`; nothing is connected yet.
    pub fn new(target: Target) -> Self {
        Session { target, side: None }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The side connection, opened on first use.
    pub async fn side(&mut self) -> Result<&mut PgConnection> {
        if self.side.is_none() {
            self.side = Some(connect(&self.target, APPLICATION_NAME).await?);
        }
        Ok(self.side.as_mut().expect("just opened"))
    }

    /// Closes the side connection, if one is open.
    pub async fn close(&mut self) {
        if let Some(conn) = self.side.take() {
            let _ = conn.close().await;
        }
    }
}
