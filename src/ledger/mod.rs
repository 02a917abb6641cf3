//! Which migrations the target has already run, read from the migration tool's own ledger table
//! (`schema_migrations`, `goose_db_version`, `flyway_schema_history`, `_sqlx_migrations`,
//! `__diesel_schema_migrations`, `_prisma_migrations`).
//!
//! [`read`] only reads: one short read-only transaction with its own timeouts, catalog lookups and
//! a `SELECT` of the ledger (queries under `sql/ledger_*.sql`). A missing ledger is an answer, not
//! an error. [`decide`] is plain logic: files + ledger rows → what is pending, what is dirty, which
//! applied files changed since.

pub mod checksum;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use crate::db::{self, Target};
use crate::error::{Error, Result};
use crate::source::{flyway, Layout, Migration};
use crate::sql::quote_identifier;

const FIND_SQL: &str = include_str!("../../sql/ledger_find.sql");
const GOLANG_MIGRATE_SQL: &str = include_str!("../../sql/ledger_golang_migrate.sql");
const GOOSE_SQL: &str = include_str!("../../sql/ledger_goose.sql");
const DBMATE_SQL: &str = include_str!("../../sql/ledger_dbmate.sql");
const FLYWAY_SQL: &str = include_str!("../../sql/ledger_flyway.sql");
const SQLX_SQL: &str = include_str!("../../sql/ledger_sqlx.sql");
const DIESEL_SQL: &str = include_str!("../../sql/ledger_diesel.sql");
const PRISMA_SQL: &str = include_str!("../../sql/ledger_prisma.sql");

/// The `application_name` of the session that reads the ledger.
pub const APPLICATION_NAME: &str = "lockscope-ledger";

/// A tool's ledger table: its name, the columns lockscope reads, and the query.
struct LedgerTable {
    table: &'static str,
    columns: &'static [&'static str],
    query: &'static str,
}

fn ledger_table(layout: Layout) -> Option<LedgerTable> {
    let (table, columns, query): (_, &'static [&'static str], _) = match layout {
        Layout::GolangMigrate => ("schema_migrations", &["version", "dirty"], GOLANG_MIGRATE_SQL),
        Layout::Goose => ("goose_db_version", &["id", "version_id", "is_applied"], GOOSE_SQL),
        Layout::Dbmate => ("schema_migrations", &["version"], DBMATE_SQL),
        Layout::Flyway => (
            "flyway_schema_history",
            &["installed_rank", "version", "description", "type", "script", "checksum", "success"],
            FLYWAY_SQL,
        ),
        Layout::Sqlx => ("_sqlx_migrations", &["version", "description", "success", "checksum"], SQLX_SQL),
        Layout::Diesel => ("__diesel_schema_migrations", &["version"], DIESEL_SQL),
        Layout::Prisma => (
            "_prisma_migrations",
            &["migration_name", "checksum", "finished_at", "rolled_back_at", "started_at", "logs"],
            PRISMA_SQL,
        ),
        Layout::PlainNumbered => return None,
    };
    Some(LedgerTable { table, columns, query })
}

/// One row of `flyway_schema_history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlywayRow {
    pub installed_rank: i64,
    pub version: Option<String>,
    pub description: String,
    pub kind: String,
    pub script: String,
    pub checksum: Option<i64>,
    pub success: bool,
}

/// One row of `_sqlx_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlxRow {
    pub version: i64,
    pub description: String,
    pub success: bool,
    /// Lower-case hex of the recorded SHA-384.
    pub checksum: String,
}

/// One row of `_prisma_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrismaRow {
    pub migration_name: String,
    pub checksum: String,
    pub finished: bool,
    pub rolled_back: bool,
    pub logs: Option<String>,
}

/// The rows of a ledger, as its tool wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerRows {
    /// `(version, dirty)`; golang-migrate keeps one row.
    GolangMigrate(Vec<(String, bool)>),
    /// `(version_id, is_applied)` in insertion order.
    Goose(Vec<(String, bool)>),
    Dbmate(Vec<String>),
    Flyway(Vec<FlywayRow>),
    Sqlx(Vec<SqlxRow>),
    Diesel(Vec<String>),
    Prisma(Vec<PrismaRow>),
}

/// What reading the target's ledger found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRead {
    /// The tool whose ledger was read (sqlx when golang-migrate-looking files have only a sqlx ledger).
    pub tool: Layout,
    /// `schema.table`, when the table was found.
    pub table: Option<String>,
    /// `None` when there is no usable ledger: every migration is then checked.
    pub rows: Option<LedgerRows>,
    /// What the reader wants the user to know (why no ledger was used, which one was).
    pub notes: Vec<String>,
}

impl LedgerRead {
    /// No ledger was read (no target, or a layout without one).
    pub fn none(tool: Layout, note: impl Into<String>) -> Self {
        LedgerRead { tool, table: None, rows: None, notes: vec![note.into()] }
    }
}

/// Reads the ledger of `layout`'s tool on `target`. `detected`: the layout was guessed from file
/// names, so a sqlx ledger is accepted for files that look like golang-migrate or plain files.
pub async fn read(target: &Target, layout: Layout, detected: bool) -> Result<LedgerRead> {
    let mut conn = db::connect(target, APPLICATION_NAME).await?;
    let result = read_in(&mut conn, layout, detected).await;
    let _ = conn.close().await;
    result
}

/// [`read`] on a connection the caller already holds (`db::Session`): in its own read-only
/// transaction, rolled back before returning.
pub async fn read_in(conn: &mut PgConnection, layout: Layout, detected: bool) -> Result<LedgerRead> {
    let result = read_on(conn, layout, detected).await;
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    result
}

async fn read_on(conn: &mut PgConnection, layout: Layout, detected: bool) -> Result<LedgerRead> {
    // Read-only, and never queued for long behind a migration holding the ledger.
    sqlx::raw_sql(
        "BEGIN READ ONLY; SET LOCAL statement_timeout = '10s'; SET LOCAL lock_timeout = '2s'; \
         SET LOCAL idle_in_transaction_session_timeout = '60s'",
    )
    .execute(&mut *conn)
    .await
    .map_err(|err| ledger_error("starting a read-only transaction", err))?;

    let primary = read_table(conn, layout).await?;
    let sqlx_could_fit = detected && matches!(layout, Layout::GolangMigrate | Layout::PlainNumbered);
    if primary.rows.is_none() && sqlx_could_fit {
        let sqlx = read_table(conn, Layout::Sqlx).await?;
        if sqlx.rows.is_some() {
            let mut sqlx = sqlx;
            sqlx.notes.insert(
                0,
                format!(
                    "the file names fit both {} and sqlx, and the target has sqlx's ledger {}: reading it \
                     (pass --layout to choose)",
                    layout.name(),
                    sqlx.table.as_deref().unwrap_or("_sqlx_migrations")
                ),
            );
            return Ok(sqlx);
        }
    }
    Ok(primary)
}

fn ledger_error(doing: &str, err: sqlx::Error) -> Error {
    Error::Database(db::redact(&format!("reading the migration ledger: {doing}: {err}")))
}

async fn read_table(conn: &mut PgConnection, layout: Layout) -> Result<LedgerRead> {
    let Some(spec) = ledger_table(layout) else {
        return Ok(LedgerRead::none(
            layout,
            "plain numbered files belong to no migration tool, so there is no ledger to read: checking every migration",
        ));
    };
    let qualified = match find_table(conn, layout, &spec).await? {
        Found::Usable(qualified) => qualified,
        Found::Unusable(read) => return Ok(read),
    };
    let query = spec.query.replace(&format!("public.{}", spec.table), &qualified);
    let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(query))
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| ledger_error(&format!("reading {qualified}"), err))?;
    let rows = ledger_rows(layout, &rows);
    Ok(LedgerRead { tool: layout, table: Some(qualified), rows: Some(rows), notes: Vec::new() })
}

/// Where [`find_table`] looked for a ledger table.
enum Found {
    /// `schema.table` of a ledger this user may read, with every column lockscope reads.
    Usable(String),
    /// No usable ledger: the answer to give, with a note saying why.
    Unusable(LedgerRead),
}

/// Finds `spec`'s table in the catalogue: exactly one candidate (or the one on the search_path),
/// readable, with the tool's columns.
async fn find_table(conn: &mut PgConnection, layout: Layout, spec: &LedgerTable) -> Result<Found> {
    let found = sqlx::query(FIND_SQL)
        .bind(spec.table)
        .fetch_all(&mut *conn)
        .await
        .map_err(|err| ledger_error("looking for the ledger table", err))?;
    let unusable = |table: Option<String>, note: String| {
        Ok(Found::Unusable(LedgerRead { tool: layout, table, rows: None, notes: vec![note] }))
    };
    let Some(row) = found.first() else {
        return unusable(
            None,
            format!(
                "no {} ledger on the target (no table {} in any schema): checking every migration",
                layout.name(),
                spec.table
            ),
        );
    };
    let visible: bool = row.get("visible");
    if !visible && found.len() > 1 {
        let schemas: Vec<String> = found.iter().map(|r| r.get::<String, _>("schema_name")).collect();
        return unusable(
            None,
            format!(
                "{} exists in several schemas ({}), none on the search_path: lockscope will not guess which is the \
                 ledger; checking every migration",
                spec.table,
                schemas.join(", ")
            ),
        );
    }
    let schema: String = row.get("schema_name");
    let qualified = format!("{}.{}", quote_identifier(&schema), quote_identifier(spec.table));
    if !row.get::<bool, _>("readable") {
        let note = format!("{qualified} exists but this user may not read it: checking every migration");
        return unusable(Some(qualified), note);
    }
    let columns: Vec<String> = row.get("columns");
    let lacking: Vec<&str> = spec.columns.iter().copied().filter(|c| !columns.iter().any(|have| have == c)).collect();
    if !lacking.is_empty() {
        let note = format!(
            "{qualified} has no column {}: it is not {}'s ledger{}; checking every migration",
            lacking.join(", "),
            layout.name(),
            if spec.table == "schema_migrations" {
                " (dbmate, golang-migrate and Rails all use that name)"
            } else {
                ""
            }
        );
        return unusable(Some(qualified), note);
    }
    Ok(Found::Usable(qualified))
}

/// The rows of `layout`'s ledger query, as [`LedgerRows`].
fn ledger_rows(layout: Layout, rows: &[sqlx::postgres::PgRow]) -> LedgerRows {
    let text = |row: &sqlx::postgres::PgRow, column: &str| row.try_get::<Option<String>, _>(column).ok().flatten();
    match layout {
        Layout::GolangMigrate => LedgerRows::GolangMigrate(
            rows.iter().map(|r| (text(r, "version").unwrap_or_default(), r.get::<bool, _>("dirty"))).collect(),
        ),
        Layout::Goose => LedgerRows::Goose(
            rows.iter().map(|r| (text(r, "version").unwrap_or_default(), r.get::<bool, _>("is_applied"))).collect(),
        ),
        Layout::Dbmate => LedgerRows::Dbmate(rows.iter().filter_map(|r| text(r, "version")).collect()),
        Layout::Diesel => LedgerRows::Diesel(rows.iter().filter_map(|r| text(r, "version")).collect()),
        Layout::Flyway => LedgerRows::Flyway(
            rows.iter()
                .map(|r| FlywayRow {
                    installed_rank: r.get("installed_rank"),
                    version: text(r, "version"),
                    description: text(r, "description").unwrap_or_default(),
                    kind: text(r, "type").unwrap_or_default(),
                    script: text(r, "script").unwrap_or_default(),
                    checksum: r.get("checksum"),
                    success: r.get("success"),
                })
                .collect(),
        ),
        Layout::Sqlx => LedgerRows::Sqlx(
            rows.iter()
                .map(|r| SqlxRow {
                    version: r.get("version"),
                    description: text(r, "description").unwrap_or_default(),
                    success: r.get("success"),
                    checksum: text(r, "checksum").unwrap_or_default(),
                })
                .collect(),
        ),
        Layout::Prisma => LedgerRows::Prisma(
            rows.iter()
                .map(|r| PrismaRow {
                    migration_name: text(r, "migration_name").unwrap_or_default(),
                    checksum: text(r, "checksum").unwrap_or_default(),
                    finished: r.get("finished"),
                    rolled_back: r.get("rolled_back"),
                    logs: text(r, "logs"),
                })
                .collect(),
        ),
        Layout::PlainNumbered => unreachable!("plain numbered files have no ledger table"),
    }
}

/// The ledger says a migration failed part-way: its tool refuses to go on until someone fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirtyState {
    /// The migration the ledger marks (a version, or a Prisma folder name).
    pub migration: String,
    pub message: String,
}

/// An applied migration whose file has changed since it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecksumMismatch {
    pub migration: String,
    pub path: String,
    /// The checksum the ledger recorded, as the tool writes it.
    pub recorded: String,
    /// The checksum of the file now.
    pub file: String,
}

/// What pending detection decided, for the report (`pending` in the JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingReport {
    /// The layout of the files.
    pub layout: Layout,
    /// The tool whose ledger was read, when one was.
    pub ledger_tool: Option<Layout>,
    /// `schema.table` of the ledger, when found.
    pub ledger: Option<String>,
    /// A usable ledger was read.
    pub ledger_found: bool,
    /// `--all`: every migration is checked regardless of the ledger.
    pub all: bool,
    /// Migrations the ledger records as applied.
    pub applied: Vec<String>,
    /// Applied migrations left out of the check.
    pub skipped: Vec<String>,
    /// Migrations checked.
    pub checked: Vec<String>,
    pub dirty: Option<DirtyState>,
    pub checksum_mismatches: Vec<ChecksumMismatch>,
    /// Pending migrations older than the newest applied one, which their tool may refuse or skip.
    pub out_of_order: Vec<String>,
    /// Ledger entries with no file among the migrations given.
    pub missing_files: Vec<String>,
    /// Every decision in words, in the order a reader needs them (also in the report's notes).
    pub notes: Vec<String>,
}

/// Which migrations to check, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// One flag per migration, in order: check it.
    pub check: Vec<bool>,
    pub report: PendingReport,
}

/// How a migration is named in the report: its version, a Prisma folder name, `R__name`.
pub fn migration_id(migration: &Migration) -> String {
    match (migration.layout, migration.repeatable) {
        (_, true) => format!("R__{}", migration.name),
        (Layout::Prisma, _) => migration.ledger_id.clone(),
        _ => migration.version.clone(),
    }
}

/// What the tool thinks of each file, before `--all`.
#[derive(Default)]
struct Verdicts {
    applied: Vec<bool>,
    dirty: Option<DirtyState>,
    mismatches: Vec<ChecksumMismatch>,
    out_of_order: Vec<String>,
    missing_files: Vec<String>,
    notes: Vec<String>,
}

/// Decides which of `migrations` are pending on the target, given what [`read`] found.
pub fn decide(layout: Layout, migrations: &[Migration], ledger: &LedgerRead, all: bool) -> Decision {
    let mut verdicts = match &ledger.rows {
        Some(rows) => judge(migrations, rows),
        None => Verdicts { applied: vec![false; migrations.len()], ..Verdicts::default() },
    };
    let mut notes = ledger.notes.clone();
    let ids: Vec<String> = migrations.iter().map(migration_id).collect();
    let applied: Vec<String> =
        ids.iter().zip(&verdicts.applied).filter(|(_, applied)| **applied).map(|(id, _)| id.clone()).collect();
    let check: Vec<bool> = verdicts.applied.iter().map(|applied| all || !applied).collect();
    let skipped: Vec<String> = ids.iter().zip(&check).filter(|(_, check)| !**check).map(|(id, _)| id.clone()).collect();
    let checked: Vec<String> = ids.iter().zip(&check).filter(|(_, check)| **check).map(|(id, _)| id.clone()).collect();

    if let Some(dirty) = &verdicts.dirty {
        notes.push(dirty.message.clone());
    }
    if let (Some(table), Some(_)) = (&ledger.table, &ledger.rows) {
        let summary = match (all, skipped.is_empty()) {
            (true, _) => format!(
                "--all: checking every migration; {table} records {} of them as applied ({})",
                applied.len(),
                list(&applied)
            ),
            (false, true) => {
                format!("{table} records none of these migrations as applied: checking all {}", checked.len())
            }
            (false, false) => format!(
                "{table} records {} as applied: skipped {}; checking {} pending: {}",
                if skipped.len() == 1 { "1 migration".to_string() } else { format!("{} migrations", skipped.len()) },
                list(&skipped),
                checked.len(),
                if checked.is_empty() { "nothing".to_string() } else { list(&checked) }
            ),
        };
        notes.push(summary);
    } else if all && ledger.rows.is_none() {
        notes.push("--all: checking every migration".to_string());
    }
    for mismatch in &verdicts.mismatches {
        notes.push(format!(
            "applied migration {} has changed since it was applied: the ledger records checksum {}, {} now has {}",
            mismatch.migration, mismatch.recorded, mismatch.path, mismatch.file
        ));
    }
    notes.append(&mut verdicts.notes);
    if !verdicts.missing_files.is_empty() {
        notes.push(format!(
            "the ledger records {} applied migration(s) with no file here: {}",
            verdicts.missing_files.len(),
            list(&verdicts.missing_files)
        ));
    }
    let report = PendingReport {
        layout,
        ledger_tool: ledger.rows.as_ref().map(|_| ledger.tool),
        ledger: ledger.table.clone(),
        ledger_found: ledger.rows.is_some(),
        all,
        applied,
        skipped,
        checked,
        dirty: verdicts.dirty,
        checksum_mismatches: verdicts.mismatches,
        out_of_order: verdicts.out_of_order,
        missing_files: verdicts.missing_files,
        notes,
    };
    Decision { check, report }
}

fn list(items: &[String]) -> String {
    const SHOWN: usize = 12;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!("{}, … ({} more)", items[..SHOWN].join(", "), items.len() - SHOWN)
    }
}

fn int(version: &str) -> Option<i128> {
    version.trim().parse().ok()
}

fn judge(migrations: &[Migration], rows: &LedgerRows) -> Verdicts {
    match rows {
        LedgerRows::GolangMigrate(rows) => golang_migrate(migrations, rows),
        LedgerRows::Goose(rows) => goose(migrations, rows),
        LedgerRows::Dbmate(versions) | LedgerRows::Diesel(versions) => by_text(migrations, versions),
        LedgerRows::Flyway(rows) => flyway_history(migrations, rows),
        LedgerRows::Sqlx(rows) => sqlx_history(migrations, rows),
        LedgerRows::Prisma(rows) => prisma_history(migrations, rows),
    }
}

/// golang-migrate keeps one row: the last version applied. Everything up to it is applied.
fn golang_migrate(migrations: &[Migration], rows: &[(String, bool)]) -> Verdicts {
    let mut verdicts = Verdicts { applied: vec![false; migrations.len()], ..Verdicts::default() };
    let Some((version, dirty)) = rows.iter().max_by_key(|(version, _)| int(version)) else {
        return verdicts;
    };
    let current = int(version);
    for (migration, applied) in migrations.iter().zip(&mut verdicts.applied) {
        *applied = matches!((int(&migration.version), current), (Some(v), Some(c)) if v <= c);
    }
    if !migrations.iter().any(|m| int(&m.version) == current) {
        verdicts.missing_files.push(version.clone());
    }
    if *dirty {
        verdicts.dirty = Some(DirtyState {
            migration: version.clone(),
            message: format!(
                "DIRTY: golang-migrate's ledger marks version {version} dirty: that migration failed part-way on \
                 this database and golang-migrate refuses to run until it is repaired by hand (`migrate force`); \
                 its changes may be half there. lockscope checks the migrations after it"
            ),
        });
    }
    if rows.len() > 1 {
        verdicts.notes.push(format!(
            "golang-migrate's ledger holds {} rows where it keeps one; lockscope used the highest version, {version}",
            rows.len()
        ));
    }
    verdicts
}

/// goose: the latest row of each version decides whether it is applied; version 0 is goose's own.
fn goose(migrations: &[Migration], rows: &[(String, bool)]) -> Verdicts {
    let mut latest: BTreeMap<i128, bool> = BTreeMap::new();
    for (version, is_applied) in rows {
        if let Some(version) = int(version) {
            latest.insert(version, *is_applied);
        }
    }
    latest.remove(&0);
    let applied: BTreeSet<i128> = latest.iter().filter(|(_, applied)| **applied).map(|(v, _)| *v).collect();
    let mut verdicts = Verdicts {
        applied: migrations.iter().map(|m| int(&m.version).is_some_and(|v| applied.contains(&v))).collect(),
        ..Verdicts::default()
    };
    let newest = applied.iter().next_back().copied();
    for (migration, is_applied) in migrations.iter().zip(&verdicts.applied) {
        if !is_applied && matches!((int(&migration.version), newest), (Some(v), Some(n)) if v < n) {
            verdicts.out_of_order.push(migration.version.clone());
        }
    }
    if !verdicts.out_of_order.is_empty() {
        verdicts.notes.push(format!(
            "pending {} older than the newest applied version {}: goose refuses such missing migrations unless \
             run with -allow-missing",
            list(&verdicts.out_of_order),
            newest.unwrap_or_default()
        ));
    }
    let known: BTreeSet<i128> = migrations.iter().filter_map(|m| int(&m.version)).collect();
    verdicts.missing_files = applied.difference(&known).map(|v| v.to_string()).collect();
    verdicts
}

/// dbmate and Diesel record each applied version as text.
fn by_text(migrations: &[Migration], versions: &[String]) -> Verdicts {
    let applied: BTreeSet<&str> = versions.iter().map(|v| v.trim()).collect();
    let mut verdicts = Verdicts {
        applied: migrations.iter().map(|m| applied.contains(m.version.as_str())).collect(),
        ..Verdicts::default()
    };
    let known: BTreeSet<&str> = migrations.iter().map(|m| m.version.as_str()).collect();
    verdicts.missing_files = applied.difference(&known).map(|v| v.to_string()).collect();
    verdicts
}

/// Flyway: versioned migrations are applied when a successful row records their version (and no
/// later undo took it back); versions at or below a baseline count as applied; a repeatable
/// migration is pending when its latest successful row has another checksum.
fn flyway_history(migrations: &[Migration], rows: &[FlywayRow]) -> Verdicts {
    let history = FlywayHistory::replay(rows);
    let mut verdicts = Verdicts::default();
    for migration in migrations {
        let applied = history.judge(migration, &mut verdicts);
        verdicts.applied.push(applied);
    }
    history.explain(&mut verdicts);
    let known: BTreeSet<Vec<u128>> =
        migrations.iter().filter(|m| !m.repeatable).filter_map(|m| flyway::version_parts(&m.version)).collect();
    verdicts.missing_files = history
        .applied
        .iter()
        .filter(|(parts, _)| !known.contains(*parts))
        .filter_map(|(_, row)| row.version.clone())
        .collect();
    verdicts
}

/// What `flyway_schema_history` adds up to once its rows are replayed in order.
struct FlywayHistory<'a> {
    /// Applied versioned migrations by version parts (undone and deleted ones removed).
    applied: BTreeMap<Vec<u128>, &'a FlywayRow>,
    /// The latest successful row of each repeatable migration, by description.
    repeatable: BTreeMap<&'a str, &'a FlywayRow>,
    baseline: Option<Vec<u128>>,
    /// The last failed row.
    failed: Option<&'a FlywayRow>,
}

impl<'a> FlywayHistory<'a> {
    fn replay(rows: &'a [FlywayRow]) -> Self {
        let mut history =
            FlywayHistory { applied: BTreeMap::new(), repeatable: BTreeMap::new(), baseline: None, failed: None };
        for row in rows {
            let kind = row.kind.to_ascii_uppercase();
            let parts = row.version.as_deref().and_then(flyway::version_parts);
            if !row.success {
                history.failed = Some(row);
                continue;
            }
            match (kind.as_str(), parts) {
                ("SCHEMA", _) => {}
                ("BASELINE", Some(parts)) => history.baseline = Some(parts),
                ("DELETE", Some(parts)) => {
                    history.applied.remove(&parts);
                }
                (kind, Some(parts)) if kind.starts_with("UNDO") => {
                    history.applied.remove(&parts);
                }
                (_, Some(parts)) => {
                    history.applied.insert(parts, row);
                }
                (_, None) if row.version.is_none() => {
                    history.repeatable.insert(row.description.as_str(), row);
                }
                (_, None) => {}
            }
        }
        history
    }

    /// Whether Flyway counts `migration` as applied; checksum mismatches, changed repeatables and
    /// out-of-order versions go into `verdicts`.
    fn judge(&self, migration: &Migration, verdicts: &mut Verdicts) -> bool {
        let contents = migration.up.as_ref().map(|f| f.contents.as_str()).unwrap_or_default();
        if migration.repeatable {
            let checksum = i64::from(checksum::flyway(contents));
            let current =
                self.repeatable.get(migration.name.as_str()).is_some_and(|row| row.checksum == Some(checksum));
            if !current && self.repeatable.contains_key(migration.name.as_str()) {
                verdicts.notes.push(format!(
                    "repeatable migration R__{} changed since it last ran: Flyway runs it again",
                    migration.name
                ));
            }
            return current;
        }
        let Some(parts) = flyway::version_parts(&migration.version) else {
            return false;
        };
        if let Some(row) = self.applied.get(&parts) {
            let checksum = i64::from(checksum::flyway(contents));
            if let Some(recorded) = row.checksum.filter(|recorded| *recorded != checksum) {
                verdicts.mismatches.push(ChecksumMismatch {
                    migration: migration.version.clone(),
                    path: migration.up.as_ref().map(|f| f.path.display().to_string()).unwrap_or_default(),
                    recorded: recorded.to_string(),
                    file: checksum.to_string(),
                });
            }
            return true;
        }
        if self.baseline.as_ref().is_some_and(|b| parts <= *b) {
            return true;
        }
        if self.applied.keys().next_back().is_some_and(|newest| parts < *newest) {
            verdicts.out_of_order.push(migration.version.clone());
        }
        false
    }

    /// The notes about the history as a whole (baseline, what Flyway does about mismatches and
    /// out-of-order versions), and the failed row as the dirty state.
    fn explain(&self, verdicts: &mut Verdicts) {
        if let Some(baseline) = &self.baseline {
            let shown: Vec<String> = baseline.iter().map(u128::to_string).collect();
            verdicts.notes.push(format!(
                "Flyway's ledger has a baseline at version {}: versions up to it count as applied",
                shown.join(".")
            ));
        }
        if !verdicts.mismatches.is_empty() {
            verdicts.notes.push(
                "`flyway validate` fails on a checksum mismatch until `flyway repair` records the new checksums".into(),
            );
        }
        if !verdicts.out_of_order.is_empty() {
            verdicts.notes.push(format!(
                "pending {} older than the newest applied version: Flyway ignores them unless outOfOrder=true",
                list(&verdicts.out_of_order)
            ));
        }
        if let Some(row) = self.failed {
            let name = row.version.clone().unwrap_or_else(|| format!("R__{}", row.description));
            verdicts.dirty = Some(DirtyState {
                migration: name.clone(),
                message: format!(
                    "FAILED: Flyway's ledger records migration {name} ({}) as failed: `flyway migrate` refuses to \
                     run until `flyway repair` removes the entry, and its changes may be half there",
                    row.script
                ),
            });
        }
    }
}

/// sqlx: a row with `success = false` is a dirty, partially applied migration; a successful row
/// whose checksum differs from the file's is a changed migration (sqlx refuses to run then).
fn sqlx_history(migrations: &[Migration], rows: &[SqlxRow]) -> Verdicts {
    let by_version: BTreeMap<i64, &SqlxRow> = rows.iter().map(|row| (row.version, row)).collect();
    let mut verdicts = Verdicts::default();
    for migration in migrations {
        let version = migration.version.parse::<i64>().ok();
        let row = version.and_then(|v| by_version.get(&v)).filter(|row| row.success);
        if let (Some(row), Some(up)) = (row, &migration.up) {
            let file = checksum::hex(&checksum::sqlx(&up.contents));
            if !row.checksum.eq_ignore_ascii_case(&file) {
                verdicts.mismatches.push(ChecksumMismatch {
                    migration: migration.version.clone(),
                    path: up.path.display().to_string(),
                    recorded: row.checksum.clone(),
                    file,
                });
            }
        }
        verdicts.applied.push(row.is_some());
    }
    if !verdicts.mismatches.is_empty() {
        verdicts.notes.push("sqlx refuses to migrate while an applied migration's checksum differs (\"was previously applied but has been modified\")".into());
    }
    if let Some(row) = rows.iter().find(|row| !row.success) {
        verdicts.dirty = Some(DirtyState {
            migration: row.version.to_string(),
            message: format!(
                "DIRTY: sqlx's ledger marks migration {} ({}) as partially applied (success = false): sqlx refuses \
                 to migrate until it is fixed and the row removed from _sqlx_migrations; its changes may be half there",
                row.version, row.description
            ),
        });
    }
    let known: BTreeSet<i64> = migrations.iter().filter_map(|m| m.version.parse().ok()).collect();
    verdicts.missing_files = rows
        .iter()
        .filter(|row| row.success && !known.contains(&row.version))
        .map(|row| row.version.to_string())
        .collect();
    verdicts
}

/// Prisma: applied = finished and not rolled back; failed = neither (Prisma refuses, P3009).
fn prisma_history(migrations: &[Migration], rows: &[PrismaRow]) -> Verdicts {
    let applied: BTreeMap<&str, &PrismaRow> = rows
        .iter()
        .filter(|row| row.finished && !row.rolled_back)
        .map(|row| (row.migration_name.as_str(), row))
        .collect();
    let mut verdicts = Verdicts::default();
    for migration in migrations {
        let row = applied.get(migration.ledger_id.as_str());
        if let (Some(row), Some(up)) = (row, &migration.up) {
            if !checksum::prisma_matches(&up.contents, &row.checksum) {
                verdicts.mismatches.push(ChecksumMismatch {
                    migration: migration.ledger_id.clone(),
                    path: up.path.display().to_string(),
                    recorded: row.checksum.clone(),
                    file: checksum::prisma(&up.contents),
                });
            }
        }
        verdicts.applied.push(row.is_some());
    }
    if let Some(row) = rows.iter().find(|row| !row.finished && !row.rolled_back) {
        verdicts.dirty = Some(DirtyState {
            migration: row.migration_name.clone(),
            message: format!(
                "FAILED: Prisma's ledger records migration {} as started but never finished: `prisma migrate deploy` \
                 refuses to run (P3009) until it is resolved with `prisma migrate resolve`; its changes may be half there",
                row.migration_name
            ),
        });
    }
    if !verdicts.mismatches.is_empty() {
        verdicts.notes.push("Prisma warns that an applied migration was modified after it was applied".into());
    }
    let known: BTreeSet<&str> = migrations.iter().map(|m| m.ledger_id.as_str()).collect();
    verdicts.missing_files =
        applied.keys().filter(|name| !known.contains(*name)).map(|name| name.to_string()).collect();
    verdicts
}

#[cfg(test)]
mod tests;
