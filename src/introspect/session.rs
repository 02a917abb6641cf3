//! Session settings that keep a monitoring connection cheap and harmless on production.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::AssertSqlSafe;

use crate::error::Result;

/// Limits for a monitoring session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Any one query longer than this is cancelled by the server (and shown as skipped).
    pub statement_timeout: Duration,
    /// Waiting longer than this for a lock (e.g. on a catalog being rewritten) gives up.
    pub lock_timeout: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits { statement_timeout: Duration::from_millis(200), lock_timeout: Duration::from_millis(100) }
    }
}

/// Sets timeouts, makes every transaction read-only, turns JIT off (compiling a catalog query
/// costs more than running it) and ends forgotten transactions. Call once per connection.
pub async fn configure_read_only_session(conn: &mut PgConnection, limits: SessionLimits) -> Result<()> {
    let sql = format!(
        "SET statement_timeout = {statement}; \
         SET lock_timeout = {lock}; \
         SET idle_in_transaction_session_timeout = 10000; \
         SET default_transaction_read_only = on; \
         SET jit = off",
        statement = limits.statement_timeout.as_millis().max(1),
        lock = limits.lock_timeout.as_millis().max(1),
    );
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map_err(|err| super::db_error("configuring the monitoring session", err))?;
    Ok(())
}

/// Changes only the statement timeout (e.g. a longer one for a one-off catalog read).
pub async fn set_statement_timeout(conn: &mut PgConnection, timeout: Duration) -> Result<()> {
    let sql = format!("SET statement_timeout = {}", timeout.as_millis().max(1));
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map_err(|err| super::db_error("setting statement_timeout", err))?;
    Ok(())
}
