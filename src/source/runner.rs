//! The runner model: how the migration's own tool sends a file to PostgreSQL, and so which
//! statements share a transaction when the migration is applied for real. Every rule about
//! transactions and every lock-hold figure uses it (see `docs/ARCHITECTURE.md`, "Judged as it
//! will really run").
//!
//! What each tool really does, from its source or documentation:
//!
//! * `psql -f`: every statement commits on its own unless inside the file's own BEGIN … COMMIT;
//!   `psql -1` / `--single-transaction` wraps the whole file in one BEGIN … COMMIT
//!   (<https://www.postgresql.org/docs/current/app-psql.html>, options `-f` and `-1`).
//! * golang-migrate (postgres driver): `Run` reads the whole file and calls `ExecContext` once with
//!   it (database/postgres/postgres.go, `runStatement`); without arguments lib/pq sends a simple
//!   Query message, and PostgreSQL runs a multi-statement simple query as one implicit transaction
//!   unless it holds its own BEGIN/COMMIT
//!   (<https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-MULTI-STATEMENT>).
//!   With `x-multi-statement=true` the file is split on `;` and each part is sent on its own.
//! * goose: a transaction per migration, each statement sent separately inside it, unless the
//!   file says `-- +goose NO TRANSACTION`; then each statement is sent on its own (autocommit).
//! * dbmate: `tx.Exec(up.Contents)` inside a transaction, or with `transaction:false`
//!   `sqlDB.Exec(up.Contents)`: the whole section as one simple query (pkg/dbmate/db.go, Migrate).
//! * sqlx: the file's SQL executed inside a transaction, or with `-- no-transaction` executed on
//!   the connection as one (simple-protocol) query.
//! * Diesel: `run_in_transaction` defaults to true (migrations_internals, `MigrationMetadata`);
//!   the file is sent with `batch_execute`; `metadata.toml run_in_transaction = false` drops the
//!   wrapping transaction, leaving one multi-statement query.
//! * Flyway: a transaction per migration on PostgreSQL; `executeInTransaction=false` in the
//!   script's `.conf` runs its statements one by one in autocommit. Since 9.x its PostgreSQL
//!   parser also runs a script holding `CREATE INDEX CONCURRENTLY` non-transactionally
//!   (flyway/flyway#3854, `PostgreSQLParser.detectCanExecuteInTransaction`).
//! * Prisma (`migrate deploy`): the migration script is sent as one raw command; PostgreSQL runs
//!   it as one implicit transaction, which is why a lone `CREATE INDEX CONCURRENTLY` works but one
//!   with other statements fails (prisma/prisma discussion #3774).

use super::Layout;

/// The tool that applies the migrations (`--runner NAME`, `runner = "…"` in `lockscope.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runner {
    /// `psql -f FILE`.
    Psql,
    /// `psql -1 -f FILE` (`--single-transaction`).
    PsqlSingleTransaction,
    GolangMigrate,
    /// golang-migrate with `x-multi-statement=true`: the file split on `;`, each part on its own.
    GolangMigrateMultiStatement,
    Goose,
    Dbmate,
    Flyway,
    Sqlx,
    Diesel,
    Prisma,
}

/// How the statements of one file are grouped into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Wrapping {
    /// Each statement commits on its own, unless it sits inside the file's own BEGIN … COMMIT.
    Autocommit,
    /// The tool opens a transaction before the file and commits it after.
    ToolTransaction,
    /// The whole file goes as one multi-statement query: PostgreSQL runs it as one implicit
    /// transaction (a lone statement is not in a transaction block).
    ImplicitTransaction,
}

/// How one migration file is executed: the runner, and what it does with this file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ExecutionModel {
    pub runner: Runner,
    pub wrapping: Wrapping,
}

impl Runner {
    /// Every runner, in the order help texts list them.
    pub const ALL: [Runner; 10] = [
        Runner::Psql,
        Runner::PsqlSingleTransaction,
        Runner::GolangMigrate,
        Runner::GolangMigrateMultiStatement,
        Runner::Goose,
        Runner::Dbmate,
        Runner::Flyway,
        Runner::Sqlx,
        Runner::Diesel,
        Runner::Prisma,
    ];

    /// The value `--runner` takes.
    pub fn flag_value(self) -> &'static str {
        match self {
            Runner::Psql => "psql",
            Runner::PsqlSingleTransaction => "psql-single-transaction",
            Runner::GolangMigrate => "golang-migrate",
            Runner::GolangMigrateMultiStatement => "golang-migrate-multi-statement",
            Runner::Goose => "goose",
            Runner::Dbmate => "dbmate",
            Runner::Flyway => "flyway",
            Runner::Sqlx => "sqlx",
            Runner::Diesel => "diesel",
            Runner::Prisma => "prisma",
        }
    }

    /// `psql`, `golang-migrate`, … (any case); also the layout names `plain` and `plain-numbered`.
    pub fn parse(text: &str) -> Option<Runner> {
        let text = text.trim().to_ascii_lowercase();
        match text.as_str() {
            "plain" | "plain-numbered" | "psql-f" => Some(Runner::Psql),
            "psql-1" => Some(Runner::PsqlSingleTransaction),
            _ => Runner::ALL.into_iter().find(|r| r.flag_value() == text),
        }
    }

    /// The runner of a layout's own tool; plain files are run as `psql -f` runs them.
    pub fn of_layout(layout: Layout) -> Runner {
        match layout {
            Layout::GolangMigrate => Runner::GolangMigrate,
            Layout::Goose => Runner::Goose,
            Layout::Dbmate => Runner::Dbmate,
            Layout::Flyway => Runner::Flyway,
            Layout::Sqlx => Runner::Sqlx,
            Layout::Diesel => Runner::Diesel,
            Layout::Prisma => Runner::Prisma,
            Layout::PlainNumbered => Runner::Psql,
        }
    }

    /// How a DBA names it in a sentence.
    pub fn name(self) -> &'static str {
        match self {
            Runner::Psql => "psql -f",
            Runner::PsqlSingleTransaction => "psql -1 -f",
            Runner::GolangMigrate => "golang-migrate",
            Runner::GolangMigrateMultiStatement => "golang-migrate (x-multi-statement)",
            Runner::Goose => "goose",
            Runner::Dbmate => "dbmate",
            Runner::Flyway => "Flyway",
            Runner::Sqlx => "sqlx",
            Runner::Diesel => "Diesel",
            Runner::Prisma => "Prisma",
        }
    }

    /// How this runner executes a file that declares (or not) that it runs outside a transaction,
    /// and whether it holds a statement that cannot run inside one (Flyway detects those itself).
    pub fn model(self, declared_no_transaction: bool, has_non_transactional: bool) -> ExecutionModel {
        let wrapping = match self {
            Runner::Psql | Runner::GolangMigrateMultiStatement => Wrapping::Autocommit,
            Runner::PsqlSingleTransaction => Wrapping::ToolTransaction,
            Runner::GolangMigrate | Runner::Prisma => Wrapping::ImplicitTransaction,
            Runner::Goose | Runner::Flyway if declared_no_transaction => Wrapping::Autocommit,
            Runner::Flyway if has_non_transactional => Wrapping::Autocommit,
            Runner::Dbmate | Runner::Sqlx | Runner::Diesel if declared_no_transaction => Wrapping::ImplicitTransaction,
            Runner::Goose | Runner::Flyway | Runner::Dbmate | Runner::Sqlx | Runner::Diesel => {
                Wrapping::ToolTransaction
            }
        };
        ExecutionModel { runner: self, wrapping }
    }
}

impl ExecutionModel {
    /// Statements outside the file's own BEGIN … COMMIT commit one by one.
    pub fn autocommit(self) -> bool {
        self.wrapping == Wrapping::Autocommit
    }

    /// "one implicit transaction per file": for the report header.
    pub fn wrapping_words(self) -> &'static str {
        match (self.runner, self.wrapping) {
            (_, Wrapping::Autocommit) => "each statement commits on its own unless inside the file's BEGIN … COMMIT",
            (_, Wrapping::ToolTransaction) => "one transaction per file, opened and committed by the tool",
            (Runner::GolangMigrate | Runner::Prisma, Wrapping::ImplicitTransaction) => {
                "the whole file sent as one multi-statement query: one implicit transaction per file"
            }
            (_, Wrapping::ImplicitTransaction) => {
                "declared to run without a transaction, but sent as one multi-statement query: one implicit \
                 transaction per file"
            }
        }
    }

    /// "judged as golang-migrate runs it: one implicit transaction per file".
    pub fn describe(self) -> String {
        format!("judged as {} runs it: {}", self.runner.name(), self.wrapping_words())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tool_wraps_as_it_really_does() {
        let wrap = |runner: Runner, declared: bool| runner.model(declared, false).wrapping;
        assert_eq!(wrap(Runner::Psql, false), Wrapping::Autocommit);
        assert_eq!(wrap(Runner::PsqlSingleTransaction, false), Wrapping::ToolTransaction);
        assert_eq!(wrap(Runner::GolangMigrate, false), Wrapping::ImplicitTransaction);
        assert_eq!(wrap(Runner::GolangMigrateMultiStatement, false), Wrapping::Autocommit);
        assert_eq!(wrap(Runner::Goose, false), Wrapping::ToolTransaction);
        assert_eq!(wrap(Runner::Goose, true), Wrapping::Autocommit);
        assert_eq!(wrap(Runner::Dbmate, true), Wrapping::ImplicitTransaction);
        assert_eq!(wrap(Runner::Sqlx, true), Wrapping::ImplicitTransaction);
        assert_eq!(wrap(Runner::Diesel, false), Wrapping::ToolTransaction);
        assert_eq!(wrap(Runner::Diesel, true), Wrapping::ImplicitTransaction);
        assert_eq!(wrap(Runner::Flyway, true), Wrapping::Autocommit);
        assert_eq!(Runner::Flyway.model(false, true).wrapping, Wrapping::Autocommit);
        assert_eq!(wrap(Runner::Prisma, false), Wrapping::ImplicitTransaction);
    }

    #[test]
    fn names_round_trip() {
        for runner in Runner::ALL {
            assert_eq!(Runner::parse(runner.flag_value()), Some(runner));
        }
        assert_eq!(Runner::parse("plain"), Some(Runner::Psql));
        assert_eq!(Runner::parse("nope"), None);
        assert_eq!(Runner::of_layout(Layout::PlainNumbered), Runner::Psql);
    }

    #[test]
    fn header_names_the_model() {
        let model = Runner::GolangMigrate.model(false, false);
        assert_eq!(
            model.describe(),
            "judged as golang-migrate runs it: the whole file sent as one multi-statement query: one implicit \
             transaction per file"
        );
    }
}
