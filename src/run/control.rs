//! lockscope's own control connection (`lockscope-run`): lists server sessions, cancels the
//! command's statements, finds INVALID indexes, pre-flight checks, and the two repairs lockscope
//! makes only when asked (`--drop-invalid`, `--fix-dirty`).

use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::db::{self, Target};
use crate::error::{Error, Result};

use super::discover::ServerSession;
use super::report::PreflightSession;

const SESSIONS_SQL: &str = include_str!("../../sql/run_sessions.sql");
const CANCEL_SQL: &str = include_str!("../../sql/run_cancel.sql");
const CANCEL_OWNED_SQL: &str = include_str!("../../sql/run_cancel_owned.sql");
const INVALID_INDEXES_SQL: &str = include_str!("../../sql/run_invalid_indexes.sql");
const PREFLIGHT_SQL: &str = include_str!("../../sql/run_preflight.sql");
const GOLANG_MIGRATE_RESET_SQL: &str = include_str!("../../sql/run_golang_migrate_reset.sql");

/// The `application_name` of lockscope's control session.
pub const APPLICATION_NAME: &str = "lockscope-run";

/// The control connection.
pub struct Control {
    conn: PgConnection,
    pid: i32,
}

fn db_error(doing: &str, err: sqlx::Error) -> Error {
    Error::Database(db::redact(&format!("{doing}: {err}")))
}

impl Control {
    /// Connects with short timeouts of its own: lockscope never queues behind the migration.
    pub async fn connect(target: &Target) -> Result<Control> {
        let mut conn = db::connect(target, APPLICATION_NAME).await?;
        sqlx::raw_sql(
            "SET statement_timeout = '5s'; SET lock_timeout = '1s'; SET idle_in_transaction_session_timeout = '60s'",
        )
        .execute(&mut conn)
        .await
        .map_err(|err| db_error("configuring lockscope's session", err))?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_catalog.pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .map_err(|err| db_error("reading lockscope's own pid", err))?;
        Ok(Control { conn, pid })
    }

    /// This session's backend pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Every client session on the server but this one.
    pub async fn sessions(&mut self) -> Result<Vec<ServerSession>> {
        let rows = sqlx::query(SESSIONS_SQL)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|err| db_error("reading pg_stat_activity", err))?;
        Ok(rows
            .iter()
            .map(|row| ServerSession {
                pid: row.get("pid"),
                application_name: row.get("application_name"),
                usename: row.get("usename"),
                datname: row.get("datname"),
                client_addr: row.get("client_addr"),
                client_port: row.get("client_port"),
                backend_start_us: row.get::<Option<i64>, _>("backend_start_us").unwrap_or_default(),
            })
            .collect())
    }

    /// Cancels the statement `query_start_us` of the command's session, if it still waits for a lock.
    pub async fn cancel_waiting(&mut self, pid: i32, backend_start_us: i64, query_start_us: i64) -> Result<bool> {
        let row = sqlx::query(CANCEL_SQL)
            .bind(pid)
            .bind(backend_start_us)
            .bind(query_start_us)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(|err| db_error("cancelling the migration's statement", err))?;
        Ok(row.is_some_and(|row| row.get::<bool, _>("cancelled")))
    }

    /// After Ctrl-C: cancels whatever the command's session still runs.
    pub async fn cancel_owned(&mut self, pid: i32, backend_start_us: i64) -> Result<bool> {
        let row = sqlx::query(CANCEL_OWNED_SQL)
            .bind(pid)
            .bind(backend_start_us)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(|err| db_error("cancelling the stopped command's statement", err))?;
        Ok(row.is_some_and(|row| row.get::<bool, _>("cancelled")))
    }

    /// INVALID indexes of this database, as `schema.name`.
    pub async fn invalid_indexes(&mut self) -> Result<Vec<String>> {
        let rows = sqlx::query(INVALID_INDEXES_SQL)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|err| db_error("listing INVALID indexes", err))?;
        Ok(rows
            .iter()
            .map(|row| {
                let schema: String = row.get("schema_name");
                let name: String = row.get("index_name");
                format!("{}.{}", crate::sql::quote_identifier(&schema), crate::sql::quote_identifier(&name))
            })
            .collect())
    }

    /// `--drop-invalid`: `DROP INDEX CONCURRENTLY` (no lock that blocks reads or writes).
    pub async fn drop_index_concurrently(&mut self, index: &str) -> Result<()> {
        // One statement per query: DROP INDEX CONCURRENTLY refuses the implicit transaction of a
        // multi-statement query (PreventInTransactionBlock).
        let _ = sqlx::raw_sql("SET lock_timeout = '10s'").execute(&mut self.conn).await;
        let dropped = sqlx::raw_sql(AssertSqlSafe(format!("DROP INDEX CONCURRENTLY IF EXISTS {index}")))
            .execute(&mut self.conn)
            .await
            .map_err(|err| db_error(&format!("DROP INDEX CONCURRENTLY {index}"), err));
        let _ = sqlx::raw_sql("SET lock_timeout = '1s'").execute(&mut self.conn).await;
        dropped.map(|_| ())
    }

    /// `--fix-dirty`: golang-migrate's ledger `table` from dirty `version` back to `reset_to`.
    pub async fn reset_golang_migrate(&mut self, table: &str, version: &str, reset_to: Option<&str>) -> Result<bool> {
        let parse = |text: &str| {
            text.parse::<i64>().map_err(|_| Error::Database(format!("golang-migrate version {text:?} is not a number")))
        };
        let version = parse(version)?;
        let reset_to = reset_to.map(parse).transpose()?;
        let sql = GOLANG_MIGRATE_RESET_SQL.replace("public.schema_migrations", table);
        let mut tx = self.conn.begin().await.map_err(|err| db_error("starting the ledger reset", err))?;
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(version)
            .bind(reset_to)
            .fetch_one(&mut *tx)
            .await
            .map_err(|err| db_error(&format!("resetting {table}"), err))?;
        tx.commit().await.map_err(|err| db_error(&format!("committing the reset of {table}"), err))?;
        Ok(row.get::<i64, _>("cleared") > 0)
    }

    /// Sessions with an open transaction holding locks on `tables` (any table when empty).
    pub async fn preflight(&mut self, tables: &[String]) -> Result<Vec<PreflightSession>> {
        let rows = sqlx::query(PREFLIGHT_SQL)
            .bind(tables)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|err| db_error("pre-flight: reading open transactions", err))?;
        Ok(rows
            .iter()
            .map(|row| PreflightSession {
                pid: row.get("pid"),
                application_name: row.get("application_name"),
                state: row.get("state"),
                query: row.get("query"),
                xact_age_s: row.get("xact_age_s"),
                relations: row.get("relations"),
            })
            .collect())
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}
