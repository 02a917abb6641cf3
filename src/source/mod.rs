//! Migrations on disk → an ordered list of [`Migration`]s. Pure: reads files, never a database.
//!
//! Layouts understood here, each read the way its own tool reads it (see `layouts.rs`):
//! golang-migrate, goose, dbmate, Flyway, sqlx, Diesel, Prisma and plain numbered files. The
//! layout is detected from file names and the tools' markers, or forced with `--layout`. A folder
//! that mixes layouts, or holds a `.sql` file whose name gives no order, is an error rather than a
//! guess.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};

mod detect;
pub mod flyway;
pub mod git_diff;
mod layouts;
pub mod runner;
mod sections;

pub use runner::{ExecutionModel, Runner, Wrapping};

/// Largest migration file lockscope reads; bigger files are almost always data dumps.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Which way a migration is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// The migration tool whose folder layout (and ledger table) the migrations follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `NNN_name.up.sql` + `NNN_name.down.sql`; ledger `schema_migrations(version, dirty)`.
    GolangMigrate,
    /// `NNN_name.sql` with `-- +goose Up` / `-- +goose Down` sections; ledger `goose_db_version`.
    Goose,
    /// `<timestamp>_name.sql` with `-- migrate:up` / `-- migrate:down`; ledger `schema_migrations(version)`.
    Dbmate,
    /// `V1_2__name.sql`, `U1_2__name.sql` (undo), `R__name.sql` (repeatable); ledger `flyway_schema_history`.
    Flyway,
    /// `<version>_<description>.sql` or `.up.sql`/`.down.sql`; ledger `_sqlx_migrations`.
    Sqlx,
    /// `<version>_name/up.sql` + `down.sql`; ledger `__diesel_schema_migrations`.
    Diesel,
    /// `<timestamp>_name/migration.sql`, no down; ledger `_prisma_migrations`.
    Prisma,
    /// `NNN_name.sql`, up only, no ledger.
    PlainNumbered,
}

impl Layout {
    /// Every layout, in the order help texts list them.
    pub const ALL: [Layout; 8] = [
        Layout::GolangMigrate,
        Layout::Goose,
        Layout::Dbmate,
        Layout::Flyway,
        Layout::Sqlx,
        Layout::Diesel,
        Layout::Prisma,
        Layout::PlainNumbered,
    ];

    /// How a DBA names the layout in a sentence.
    pub fn name(self) -> &'static str {
        match self {
            Layout::GolangMigrate => "golang-migrate",
            Layout::Goose => "goose",
            Layout::Dbmate => "dbmate",
            Layout::Flyway => "Flyway",
            Layout::Sqlx => "sqlx",
            Layout::Diesel => "Diesel",
            Layout::Prisma => "Prisma",
            Layout::PlainNumbered => "plain numbered files",
        }
    }

    /// The value `--layout` takes for this layout.
    pub fn flag_value(self) -> &'static str {
        match self {
            Layout::GolangMigrate => "golang-migrate",
            Layout::Goose => "goose",
            Layout::Dbmate => "dbmate",
            Layout::Flyway => "flyway",
            Layout::Sqlx => "sqlx",
            Layout::Diesel => "diesel",
            Layout::Prisma => "prisma",
            Layout::PlainNumbered => "plain",
        }
    }

    /// What a file or folder of this layout looks like, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Layout::GolangMigrate => "NNN_name.up.sql / NNN_name.down.sql",
            Layout::Goose => "NNN_name.sql with a `-- +goose Up` annotation",
            Layout::Dbmate => "<version>_name.sql with `-- migrate:up` and `-- migrate:down`",
            Layout::Flyway => "V<version>__<description>.sql, U<version>__<description>.sql or R__<description>.sql",
            Layout::Sqlx => "<version>_<description>.sql or <version>_<description>.up.sql / .down.sql",
            Layout::Diesel => "<version>_name/up.sql (+ down.sql)",
            Layout::Prisma => "<timestamp>_name/migration.sql",
            Layout::PlainNumbered => "NNN_name.sql",
        }
    }
}

/// One migration script's text.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    pub path: PathBuf,
    /// The SQL to run for this direction. For layouts that keep up and down in one file (goose,
    /// dbmate) the other section is blanked out, so line and column numbers are the file's own.
    pub text: String,
    /// The whole file exactly as read: what the tools' ledgers checksum.
    pub contents: String,
    /// The script declares it must run outside a transaction (goose `NO TRANSACTION`, dbmate
    /// `transaction:false`, sqlx `-- no-transaction`, Diesel `run_in_transaction = false`,
    /// Flyway `executeInTransaction=false`).
    pub no_transaction: bool,
}

/// One migration with its up and (optional) down script.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The version as written in the file or folder name (leading zeros kept); empty for a Flyway
    /// repeatable migration, which has none.
    pub version: String,
    pub name: String,
    pub layout: Layout,
    pub up: Option<MigrationFile>,
    pub down: Option<MigrationFile>,
    /// The up script declares it must run outside a transaction.
    pub no_transaction: bool,
    /// What the tool's ledger records for this migration: the version (golang-migrate, goose,
    /// dbmate, sqlx, Diesel, Flyway), the description (Flyway repeatable) or the folder name (Prisma).
    pub ledger_id: String,
    /// A Flyway `R__` migration: re-run after the versioned ones whenever its checksum changes.
    pub repeatable: bool,
}

impl Migration {
    /// The script for `direction`, if the migration has one.
    pub fn file(&self, direction: Direction) -> Option<&MigrationFile> {
        match direction {
            Direction::Up => self.up.as_ref(),
            Direction::Down => self.down.as_ref(),
        }
    }

    /// A path that names the migration in messages: the up script, else the down script.
    pub fn any_path(&self) -> PathBuf {
        self.up.as_ref().or(self.down.as_ref()).map(|f| f.path.clone()).unwrap_or_default()
    }

    /// `003 add_status`, or `R__refresh_views` for a repeatable migration: for messages.
    pub fn label(&self) -> String {
        match (self.repeatable, self.name.is_empty()) {
            (true, _) => format!("R__{}", self.name),
            (false, true) => self.version.clone(),
            (false, false) => format!("{} {}", self.version, self.name),
        }
    }
}

/// What discovery found: the layout and the migrations in the order their tool applies them.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub layout: Layout,
    /// The layout was detected (not forced with `--layout`).
    pub detected: bool,
    /// The tool that runs the files, when `--runner` or `lockscope.toml` name one; otherwise each
    /// migration's layout says ([`Discovery::runner_for`]).
    pub runner: Option<Runner>,
    pub migrations: Vec<Migration>,
    /// Files in the folders that the layout's tool would not run (a README, a loose `.sql` beside
    /// Diesel's folders, a `.sql` whose name gives no version): left out, each named in the notes.
    pub skipped: Vec<Skipped>,
    /// The files were named one by one and taken in the order given (their names give no order).
    pub as_given: bool,
}

/// A file discovery left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

impl Skipped {
    /// The note the reports print.
    pub fn note(&self) -> String {
        format!("skipped {}: {}", self.path.display(), self.reason)
    }
}

impl Discovery {
    /// The tool that runs `migration`: the one named, else its layout's own.
    pub fn runner_for(&self, migration: &Migration) -> Runner {
        self.runner.unwrap_or_else(|| Runner::of_layout(migration.layout))
    }

    /// The notes about skipped files.
    pub fn notes(&self) -> Vec<String> {
        self.skipped.iter().map(Skipped::note).collect()
    }
}

/// Finds migrations in `paths` (files and directories, in any mix), ordered as their tool orders
/// them, detecting the layout.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Migration>> {
    discover_with(paths, None).map(|discovery| discovery.migrations)
}

/// Finds migrations in `paths`; `layout` forces a layout instead of detecting it.
pub fn discover_with(paths: &[PathBuf], layout: Option<Layout>) -> Result<Discovery> {
    if paths.is_empty() {
        return Err(Error::Usage("no migrations given: pass a directory or .sql files".into()));
    }
    let collected = detect::collect(paths)?;
    let only_files = paths.iter().all(|path| !path.is_dir());
    let (chosen, candidates, mut skipped) = match layout {
        Some(layout) => {
            let (fit, skipped) = detect::keep_layout(layout, collected.candidates, paths);
            (layout, fit, skipped)
        }
        None => match detect::choose(collected.candidates.clone(), paths) {
            Ok(chosen) => chosen,
            // Files named one by one whose names give no order: migrations in the order given.
            Err(_) if only_files => return as_given(paths),
            Err(err) => return Err(err),
        },
    };
    if candidates.is_empty() {
        let left_out = skipped.first().map(|s| format!(": {} was left out ({})", s.path.display(), s.reason));
        return Err(Error::input_path(
            paths.first().map(PathBuf::as_path).unwrap_or(Path::new(".")),
            format!("no {} migrations here{}", chosen.name(), left_out.unwrap_or_default()),
        ));
    }
    skipped.extend(collected.skipped);
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let migrations = layouts::assemble(chosen, candidates)?;
    Ok(Discovery { layout: chosen, detected: layout.is_none(), runner: None, migrations, skipped, as_given: false })
}

/// Explicitly named files, one migration each, in the order given. The layout comes from the
/// content: goose's or dbmate's section markers, sqlx's `-- no-transaction`; otherwise a plain
/// file, run as `psql -f` runs it.
fn as_given(paths: &[PathBuf]) -> Result<Discovery> {
    let mut migrations = Vec::with_capacity(paths.len());
    let mut layouts_seen: Vec<Layout> = Vec::new();
    for (position, path) in paths.iter().enumerate() {
        let contents = read_migration_file(path)?;
        let stem = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let stem = stem.strip_suffix(".sql").unwrap_or(stem).to_string();
        let migration = layouts::as_given(path, contents, stem, position)?;
        if !layouts_seen.contains(&migration.layout) {
            layouts_seen.push(migration.layout);
        }
        if migrations.iter().any(|m: &Migration| m.any_path() == migration.any_path()) {
            continue;
        }
        migrations.push(migration);
    }
    let layout = match layouts_seen.as_slice() {
        [only] => *only,
        _ => Layout::PlainNumbered,
    };
    Ok(Discovery { layout, detected: true, runner: None, migrations, skipped: Vec::new(), as_given: true })
}

/// Reads a migration file as UTF-8, refusing oversized files and pointing at the first bad byte.
pub fn read_migration_file(path: &Path) -> Result<String> {
    let meta = fs::metadata(path).map_err(|err| Error::input(Location::file(path), format!("cannot read: {err}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::input(
            Location::file(path),
            format!(
                "file is {} MiB; lockscope reads migration files up to {} MiB (is this a data dump?)",
                meta.len() / (1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    let bytes = fs::read(path).map_err(|err| Error::input(Location::file(path), format!("cannot read: {err}")))?;
    String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Error::input(Location::new(path, line, column), "file is not valid UTF-8")
    })
}

/// Whether `text` holds anything but whitespace and SQL comments.
pub fn has_sql(text: &str) -> bool {
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, next)| next);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, next)| next);
        } else {
            return !rest.is_empty();
        }
    }
}

#[cfg(test)]
mod tests;
