//! Whether a cancelled attempt may run again, and when.
//!
//! [`decide`] is the one place that judges it (the lead can swap in the source runner model
//! here). The rule: run again only when the migration tool's own ledger shows the cancelled
//! migration did not apply, and the migration ran as one transaction (so nothing of it stayed).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::ledger::{self, LedgerRead, LedgerRows};
use crate::source::{Layout, Migration};

/// What lockscope knows about the command it runs, from its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runner {
    /// The migration tool whose ledger tells what applied; `None` for psql and unknown commands.
    pub tool: Option<Layout>,
    /// `psql` with `-1`/`--single-transaction`.
    pub psql_single_transaction: bool,
    /// `psql` with `ON_ERROR_STOP` set.
    pub psql_on_error_stop: bool,
    pub is_psql: bool,
    /// golang-migrate with `x-multi-statement=true` in its database URL: each statement runs
    /// (and commits) on its own instead of the whole file as one implicit transaction.
    pub multi_statement: bool,
    /// The migrations folder named on the command line (dbmate `-d`, golang-migrate `-path`).
    pub migrations_dir: Option<PathBuf>,
}

impl Runner {
    /// Reads the command line: the program's name and the flags that matter for a retry.
    pub fn from_command(command: &[String]) -> Runner {
        let program = command
            .first()
            .map(|p| std::path::Path::new(p).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
            .unwrap_or_default();
        let args = command.get(1..).unwrap_or_default();
        let value_after = |names: &[&str]| -> Option<String> {
            args.iter().enumerate().find_map(|(i, arg)| {
                names.iter().find_map(|name| {
                    if arg == name {
                        args.get(i + 1).cloned()
                    } else {
                        arg.strip_prefix(&format!("{name}=")).map(str::to_string)
                    }
                })
            })
        };
        let tool = match program.as_str() {
            "dbmate" => Some(Layout::Dbmate),
            "migrate" | "golang-migrate" => Some(Layout::GolangMigrate),
            "goose" => Some(Layout::Goose),
            "sqlx" | "cargo-sqlx" => Some(Layout::Sqlx),
            "diesel" => Some(Layout::Diesel),
            "flyway" => Some(Layout::Flyway),
            _ => None,
        };
        let migrations_dir = match tool {
            // dbmate: --migrations-dir / -d, default ./db/migrations (dbmate README, "Command Line Options").
            Some(Layout::Dbmate) => {
                Some(value_after(&["--migrations-dir", "-d"]).unwrap_or_else(|| "db/migrations".into()).into())
            }
            // golang-migrate: -path DIR or -source file://DIR (golang-migrate CLI README).
            Some(Layout::GolangMigrate) => value_after(&["-path", "--path"])
                .or_else(|| {
                    value_after(&["-source", "--source"]).and_then(|s| s.strip_prefix("file://").map(str::to_string))
                })
                .map(PathBuf::from),
            _ => None,
        };
        let is_psql = program == "psql";
        Runner {
            tool,
            is_psql,
            // psql -1 / --single-transaction; ON_ERROR_STOP set with -v or --set.
            psql_single_transaction: is_psql && args.iter().any(|a| a == "-1" || a == "--single-transaction"),
            psql_on_error_stop: is_psql
                && args.iter().any(|a| {
                    ["ON_ERROR_STOP=1", "ON_ERROR_STOP=on", "ON_ERROR_STOP=true"].iter().any(|v| a.ends_with(v))
                }),
            multi_statement: tool == Some(Layout::GolangMigrate)
                && args.iter().any(|a| a.contains("x-multi-statement=true")),
            migrations_dir,
        }
    }
}

/// What to do after a cancelled attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Run the command again.
    Retry { why: String },
    /// golang-migrate left the ledger dirty at `version`; reset it to `reset_to` (`None`: no
    /// version), then run again.
    FixDirtyThenRetry { table: String, version: String, reset_to: Option<String>, why: String },
    /// Do not run again; `what_to_do` says exactly what the user should do.
    Stop { why: String, what_to_do: String },
}

/// Everything [`decide`] looks at.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub runner: &'a Runner,
    /// The ledger after the cancelled attempt (`None`: none read).
    pub ledger: Option<&'a LedgerRead>,
    /// The migration files, when known (--migrations, or the folder on the command line).
    pub migrations: Option<&'a [Migration]>,
    /// The statements lockscope cancelled in this attempt (empty: the server's lock_timeout did).
    pub cancelled_statements: &'a [String],
    pub fix_dirty: bool,
    pub retry_without_ledger: bool,
    /// INVALID indexes the attempt left (new since before it, named by the cancelled statement).
    pub new_invalid_indexes: &'a [String],
    pub drop_invalid: bool,
}

/// Decides whether a cancelled attempt may run again.
pub fn decide(facts: &Facts) -> Verdict {
    if let Some(stop) = invalid_indexes_left(facts) {
        return stop;
    }
    let Some(tool) = facts.runner.tool else {
        return without_ledger(facts);
    };
    let Some(ledger) = facts.ledger.filter(|ledger| ledger.rows.is_some()) else {
        return unreadable_ledger(facts, tool);
    };
    if let Some(verdict) = golang_migrate_state(facts, ledger) {
        return verdict;
    }
    let Some(migrations) = facts.migrations else {
        return Verdict::Stop {
            why: format!(
                "lockscope does not know the migration files, so it cannot tell which {} migration was cancelled or \
                 whether it ran in a transaction",
                tool.name()
            ),
            what_to_do: "pass --migrations DIR (the folder the command applies) so lockscope can check the ledger"
                .into(),
        };
    };
    from_the_ledger(facts, tool, ledger, migrations)
}

/// A cancelled CREATE INDEX CONCURRENTLY left INVALID indexes and --drop-invalid is off: stop.
fn invalid_indexes_left(facts: &Facts) -> Option<Verdict> {
    if facts.new_invalid_indexes.is_empty() || facts.drop_invalid {
        return None;
    }
    Some(Verdict::Stop {
        why: format!(
            "the cancelled CREATE INDEX CONCURRENTLY left INVALID index(es) {}",
            facts.new_invalid_indexes.join(", ")
        ),
        what_to_do: format!(
            "drop them before running the migration again ({}), or pass --drop-invalid",
            facts
                .new_invalid_indexes
                .iter()
                .map(|index| format!("DROP INDEX CONCURRENTLY {index};"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    })
}

/// The tool's ledger could not be read: retry only with --retry-without-ledger.
fn unreadable_ledger(facts: &Facts, tool: Layout) -> Verdict {
    if facts.retry_without_ledger {
        return Verdict::Retry { why: format!("no {} ledger could be read; --retry-without-ledger", tool.name()) };
    }
    Verdict::Stop {
        why: format!(
            "no {} ledger could be read{}, so lockscope cannot tell whether the cancelled migration applied",
            tool.name(),
            facts.ledger.map(|l| format!(" ({})", l.notes.join("; "))).unwrap_or_default()
        ),
        what_to_do: "check the schema by hand and run the command again, or pass --retry-without-ledger".into(),
    }
}

/// golang-migrate's own state decides first: a dirty version, or statements that committed one
/// by one (x-multi-statement). `None` for other tools and a clean golang-migrate ledger.
fn golang_migrate_state(facts: &Facts, ledger: &LedgerRead) -> Option<Verdict> {
    let Some(LedgerRows::GolangMigrate(rows)) = &ledger.rows else {
        return None;
    };
    if let Some((version, true)) = rows.first() {
        return Some(golang_migrate_dirty(facts, ledger, version));
    }
    if !facts.multi_statement_unsafe() {
        return None;
    }
    Some(Verdict::Stop {
        why: "golang-migrate runs with x-multi-statement=true: each statement commits on its own, so the \
              statements before the cancelled one stayed applied"
            .into(),
        what_to_do: "check which statements of the migration applied, finish or undo them by hand, then run the \
                     command again"
            .into(),
    })
}

/// The ledger and the files agree the cancelled migration is pending: retry when nothing of it
/// can have stayed (one transaction, or a single non-transactional statement).
fn from_the_ledger(facts: &Facts, tool: Layout, ledger: &LedgerRead, migrations: &[Migration]) -> Verdict {
    let decision = ledger::decide(tool, migrations, ledger, false);
    let pending: Vec<&Migration> =
        migrations.iter().zip(&decision.check).filter(|(_, pending)| **pending).map(|(m, _)| m).collect();
    let Some(cancelled) = cancelled_migration(&pending, facts.cancelled_statements) else {
        return Verdict::Stop {
            why: "the ledger records every migration as applied, although a statement was cancelled".into(),
            what_to_do: "check the schema by hand; nothing is left for a retry to do".into(),
        };
    };
    if cancelled.no_transaction && statement_count(cancelled) > 1 {
        return Verdict::Stop {
            why: format!(
                "migration {} runs outside a transaction and has several statements: those before the cancelled one \
                 stayed applied",
                cancelled.label()
            ),
            what_to_do: format!(
                "finish or undo the applied statements of {} by hand, then run the command again",
                cancelled.any_path().display()
            ),
        };
    }
    Verdict::Retry {
        why: format!(
            "{} records migration {} as not applied{}",
            ledger.table.as_deref().unwrap_or("the ledger"),
            cancelled.label(),
            if cancelled.no_transaction {
                " (it runs outside a transaction, and its only statement was cancelled)"
            } else {
                " and it runs in one transaction, so nothing of it stayed"
            }
        ),
    }
}

impl Facts<'_> {
    fn multi_statement_unsafe(&self) -> bool {
        self.runner.multi_statement
    }
}

/// psql and unknown commands keep no ledger.
fn without_ledger(facts: &Facts) -> Verdict {
    let runner = facts.runner;
    if runner.is_psql && runner.psql_single_transaction && runner.psql_on_error_stop {
        // psql -1 wraps the script in BEGIN/COMMIT; with ON_ERROR_STOP the first error ends it and
        // the transaction rolls back (psql manual, options -1 and ON_ERROR_STOP). A script with its
        // own BEGIN/COMMIT defeats -1; lockscope does not read the script here.
        return Verdict::Retry {
            why: "psql ran the script as one transaction (-1) with ON_ERROR_STOP: the cancelled attempt rolled back"
                .into(),
        };
    }
    if facts.retry_without_ledger {
        return Verdict::Retry { why: "no ledger; --retry-without-ledger: the whole command runs again".into() };
    }
    Verdict::Stop {
        why: if runner.is_psql {
            "psql keeps no ledger and did not run the script as one transaction (-1 with -v ON_ERROR_STOP=1): \
             statements before the cancelled one may have committed"
                .into()
        } else {
            "the command is not a migration tool lockscope knows, so there is no ledger to read".into()
        },
        what_to_do: "check what applied and run the rest by hand; or run psql with -1 -v ON_ERROR_STOP=1; or pass \
                     --retry-without-ledger if the command is safe to run again"
            .into(),
    }
}

/// golang-migrate marked `version` dirty: fix only with --fix-dirty, only when lockscope itself
/// cancelled that migration, and only when it ran as one transaction.
fn golang_migrate_dirty(facts: &Facts, ledger: &LedgerRead, version: &str) -> Verdict {
    let table = ledger.table.clone().unwrap_or_else(|| "schema_migrations".into());
    let previous = facts.migrations.and_then(|migrations| previous_version(migrations, version));
    let force = match &previous {
        Some(Some(prev)) => prev.trim_start_matches('0').to_string(),
        _ => "-1".to_string(),
    };
    let manual = format!(
        "if nothing of migration {version} applied, run `migrate … force {}` (the version before it{}), then run \
         the command again; if it did apply, run `migrate … force {version}`",
        if force.is_empty() { "0" } else { &force },
        if force == "-1" { ": -1 means none" } else { "" }
    );
    let stop = |why: String| Verdict::Stop { why, what_to_do: manual.clone() };
    if !facts.fix_dirty {
        return stop(format!(
            "golang-migrate marked version {version} dirty in {table} (pass --fix-dirty to let lockscope reset it)"
        ));
    }
    if facts.cancelled_statements.is_empty() {
        return stop(format!("{table} is dirty at {version}, but lockscope did not cancel that migration"));
    }
    if facts.runner.multi_statement {
        return stop(format!(
            "{table} is dirty at {version} and golang-migrate ran with x-multi-statement=true: statements may have committed"
        ));
    }
    let Some(migrations) = facts.migrations else {
        return stop(format!("{table} is dirty at {version}; pass --migrations DIR so lockscope can check the file"));
    };
    let Some(migration) = migrations.iter().find(|m| same_version(&m.version, version)) else {
        return stop(format!("{table} is dirty at {version}, which is not among the migration files"));
    };
    if !facts.cancelled_statements.iter().any(|statement| contains_statement(migration, statement)) {
        return stop(format!(
            "{table} is dirty at {version}, but the cancelled statement is not in {}",
            migration.any_path().display()
        ));
    }
    Verdict::FixDirtyThenRetry {
        table,
        version: version.to_string(),
        reset_to: previous.flatten().map(|v| v.trim_start_matches('0').to_string()).map(|v| {
            if v.is_empty() {
                "0".into()
            } else {
                v
            }
        }),
        // golang-migrate's postgres driver sends the whole file as one Exec (one implicit
        // transaction) unless x-multi-statement is on (database/postgres/postgres.go, Run).
        why: format!(
            "lockscope cancelled migration {version}, which golang-migrate ran as one transaction: nothing of it \
             applied; --fix-dirty"
        ),
    }
}

/// `Some(Some(v))`: the version before `version`; `Some(None)`: it is the first; `None`: unknown.
fn previous_version(migrations: &[Migration], version: &str) -> Option<Option<String>> {
    let index = migrations.iter().position(|m| same_version(&m.version, version))?;
    Some(index.checked_sub(1).map(|i| migrations[i].version.clone()))
}

fn same_version(file: &str, ledger: &str) -> bool {
    file.trim_start_matches('0') == ledger.trim_start_matches('0')
}

/// The pending migration holding one of the cancelled statements, else the first pending one
/// (tools apply in order and stop at the first failure).
fn cancelled_migration<'a>(pending: &[&'a Migration], statements: &[String]) -> Option<&'a Migration> {
    pending
        .iter()
        .find(|migration| statements.iter().any(|statement| contains_statement(migration, statement)))
        .or_else(|| pending.first())
        .copied()
}

fn contains_statement(migration: &Migration, statement: &str) -> bool {
    let squash = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let statement = squash(statement.trim().trim_end_matches(';'));
    !statement.is_empty()
        && migration.up.as_ref().is_some_and(|up| {
            let text = squash(&up.text);
            text.contains(&statement) || statement.contains(text.trim().trim_end_matches(';'))
        })
}

fn statement_count(migration: &Migration) -> usize {
    migration
        .up
        .as_ref()
        .and_then(|up| crate::sql::parse_file(&up.path, &up.text).ok())
        .map_or(usize::MAX, |statements| statements.len())
}

/// `--backoff MIN..MAX`: exponential, doubling from MIN up to MAX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Parses `1s..30s` (humantime on each side).
    pub fn parse(text: &str) -> Result<Backoff, String> {
        let (min, max) =
            text.split_once("..").ok_or_else(|| format!("--backoff {text:?}: expected MIN..MAX, e.g. 1s..30s"))?;
        let parse = |part: &str| {
            humantime::parse_duration(part.trim()).map_err(|err| format!("--backoff {text:?}: {part:?}: {err}"))
        };
        let (min, max) = (parse(min)?, parse(max)?);
        if min.is_zero() || max < min {
            return Err(format!("--backoff {text:?}: MIN must be above zero and MAX at least MIN"));
        }
        Ok(Backoff { min, max })
    }

    /// The pause before retry `retry` (1 = the first), with "equal jitter": half the exponential
    /// step plus a random part of the other half, so retries of several runs do not line up.
    pub fn delay(&self, retry: u32, random_unit: f64) -> Duration {
        let step = self.min.saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(30))).min(self.max);
        let half = step / 2;
        half + half.mul_f64(random_unit.clamp(0.0, 1.0))
    }
}

impl Verdict {
    /// The reason, whatever the verdict.
    pub fn why_text(&self) -> String {
        match self {
            Verdict::Retry { why } | Verdict::FixDirtyThenRetry { why, .. } | Verdict::Stop { why, .. } => why.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerRead;
    use crate::source::MigrationFile;

    fn runner(command: &str) -> Runner {
        Runner::from_command(&command.split_whitespace().map(str::to_string).collect::<Vec<_>>())
    }

    fn migration(version: &str, sql: &str, no_transaction: bool) -> Migration {
        Migration {
            version: version.into(),
            name: "m".into(),
            layout: Layout::GolangMigrate,
            up: Some(MigrationFile {
                path: format!("{version}_m.up.sql").into(),
                text: sql.into(),
                contents: sql.into(),
                no_transaction,
            }),
            down: None,
            no_transaction,
            ledger_id: version.into(),
            repeatable: false,
        }
    }

    fn golang_ledger(version: &str, dirty: bool) -> LedgerRead {
        LedgerRead {
            tool: Layout::GolangMigrate,
            table: Some("public.schema_migrations".into()),
            rows: Some(LedgerRows::GolangMigrate(vec![(version.into(), dirty)])),
            notes: Vec::new(),
        }
    }

    fn facts<'a>(
        runner: &'a Runner,
        ledger: Option<&'a LedgerRead>,
        migrations: Option<&'a [Migration]>,
        cancelled: &'a [String],
    ) -> Facts<'a> {
        Facts {
            runner,
            ledger,
            migrations,
            cancelled_statements: cancelled,
            fix_dirty: false,
            retry_without_ledger: false,
            new_invalid_indexes: &[],
            drop_invalid: false,
        }
    }

    #[test]
    fn runner_is_read_from_the_command_line() {
        let psql = runner("psql -X -v ON_ERROR_STOP=1 -1 -f m.sql");
        assert!(psql.is_psql && psql.psql_single_transaction && psql.psql_on_error_stop);
        let dbmate = runner("/usr/bin/dbmate --migrations-dir db/mig up");
        assert_eq!((dbmate.tool, dbmate.migrations_dir), (Some(Layout::Dbmate), Some("db/mig".into())));
        let migrate = runner("migrate -source file://db/m -database postgres://x?x-multi-statement=true up");
        assert_eq!(migrate.migrations_dir, Some("db/m".into()));
        assert!(migrate.multi_statement);
    }

    #[test]
    fn psql_retries_only_as_one_transaction_or_when_asked() {
        let no = [String::from("ALTER TABLE t ADD c int")];
        assert!(matches!(decide(&facts(&runner("psql -f m.sql"), None, None, &no)), Verdict::Stop { .. }));
        assert!(matches!(
            decide(&facts(&runner("psql -1 -v ON_ERROR_STOP=1 -f m.sql"), None, None, &no)),
            Verdict::Retry { .. }
        ));
        let plain = runner("psql -f m.sql");
        let mut asked = facts(&plain, None, None, &no);
        asked.retry_without_ledger = true;
        assert!(matches!(decide(&asked), Verdict::Retry { .. }));
    }

    #[test]
    fn golang_migrate_dirty_is_reset_only_with_fix_dirty_for_a_cancelled_transactional_file() {
        let migrations = vec![
            migration("001", "CREATE TABLE a (id int);", false),
            migration("002", "ALTER TABLE a ADD b int;", false),
        ];
        let ledger = golang_ledger("2", true);
        let cancelled = [String::from("ALTER TABLE a ADD b int;")];
        let run = runner("migrate -path db -database x up");
        let mut f = facts(&run, Some(&ledger), Some(&migrations), &cancelled);
        match decide(&f) {
            Verdict::Stop { what_to_do, .. } => assert!(what_to_do.contains("force 1"), "{what_to_do}"),
            other => panic!("{other:?}"),
        }
        f.fix_dirty = true;
        assert_eq!(
            decide(&f),
            Verdict::FixDirtyThenRetry {
                table: "public.schema_migrations".into(),
                version: "2".into(),
                reset_to: Some("1".into()),
                why: decide(&f).why_text(),
            }
        );
        let elsewhere = [String::from("SELECT 1")];
        f.cancelled_statements = &elsewhere;
        assert!(matches!(decide(&f), Verdict::Stop { .. }));
        let multi = runner("migrate -path db -database x?x-multi-statement=true up");
        f.runner = &multi;
        f.cancelled_statements = &cancelled;
        assert!(matches!(decide(&f), Verdict::Stop { .. }));
    }

    #[test]
    fn a_clean_ledger_with_the_migration_pending_allows_a_retry() {
        let migrations =
            vec![migration("1", "CREATE TABLE a (id int);", false), migration("2", "ALTER TABLE a ADD b int;", false)];
        let ledger = golang_ledger("1", false);
        let cancelled = [String::from("ALTER TABLE a ADD b int")];
        let run = runner("migrate -path db -database x up");
        assert!(matches!(decide(&facts(&run, Some(&ledger), Some(&migrations), &cancelled)), Verdict::Retry { .. }));
        let applied = golang_ledger("2", false);
        assert!(matches!(decide(&facts(&run, Some(&applied), Some(&migrations), &cancelled)), Verdict::Stop { .. }));
        assert!(matches!(decide(&facts(&run, Some(&ledger), None, &cancelled)), Verdict::Stop { .. }));
    }

    #[test]
    fn invalid_indexes_stop_the_retry_unless_dropped() {
        let run = runner("psql -1 -v ON_ERROR_STOP=1 -f m.sql");
        let indexes = [String::from("public.items_note_idx")];
        let mut f = facts(&run, None, None, &[]);
        f.new_invalid_indexes = &indexes;
        assert!(matches!(decide(&f), Verdict::Stop { .. }));
        f.drop_invalid = true;
        assert!(matches!(decide(&f), Verdict::Retry { .. }));
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum_with_jitter_in_the_upper_half() {
        let backoff = Backoff::parse("1s..30s").unwrap();
        assert_eq!(backoff.delay(1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff.delay(1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff.delay(3, 1.0), Duration::from_secs(4));
        assert_eq!(backoff.delay(10, 1.0), Duration::from_secs(30));
        assert!(Backoff::parse("30s..1s").is_err());
        assert!(Backoff::parse("1s").is_err());
    }
}
