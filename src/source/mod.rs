//! Migrations on disk → an ordered list of [`Migration`]s.
//!
//! Layouts understood here: golang-migrate (`NNN_name.up.sql` / `NNN_name.down.sql`) and plain
//! numbered files (`NNN_name.sql`). A folder that mixes them, or holds a `.sql` file whose name
//! gives no order, is an error rather than a guess.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};

/// Largest migration file lockscope reads; bigger files are almost always data dumps.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Which way a migration is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

/// The naming scheme a folder follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `NNN_name.up.sql` + `NNN_name.down.sql`.
    GolangMigrate,
    /// `NNN_name.sql`, up only.
    PlainNumbered,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::GolangMigrate => "golang-migrate",
            Layout::PlainNumbered => "plain numbered files",
        }
    }
}

/// One migration file's contents.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    pub path: PathBuf,
    pub text: String,
}

/// One versioned migration with its up and (optional) down script.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The version as written in the file name (leading zeros kept).
    pub version: String,
    pub name: String,
    pub layout: Layout,
    pub up: Option<MigrationFile>,
    pub down: Option<MigrationFile>,
    /// The migration declares it must run outside a transaction.
    pub no_transaction: bool,
}

impl Migration {
    /// The script for `direction`, if the migration has one.
    pub fn file(&self, direction: Direction) -> Option<&MigrationFile> {
        match direction {
            Direction::Up => self.up.as_ref(),
            Direction::Down => self.down.as_ref(),
        }
    }

    fn numeric_version(&self) -> u128 {
        self.version.parse().unwrap_or(u128::MAX)
    }
}

/// What a file name says about the migration it belongs to.
#[derive(Debug, PartialEq, Eq)]
struct NamedFile {
    version: String,
    name: String,
    layout: Layout,
    direction: Direction,
}

/// Reads a file name such as `003_add_status.up.sql`; `None` when it follows no known layout.
fn parse_file_name(file_name: &str) -> Option<NamedFile> {
    let stem = file_name.strip_suffix(".sql")?;
    let (stem, layout, direction) = if let Some(stem) = stem.strip_suffix(".up") {
        (stem, Layout::GolangMigrate, Direction::Up)
    } else if let Some(stem) = stem.strip_suffix(".down") {
        (stem, Layout::GolangMigrate, Direction::Down)
    } else {
        (stem, Layout::PlainNumbered, Direction::Up)
    };
    let digits = stem.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 38 {
        return None;
    }
    let (version, rest) = stem.split_at(digits);
    let name = match rest.chars().next() {
        None => String::new(),
        Some('_' | '-') => rest[1..].to_string(),
        Some(_) => return None,
    };
    Some(NamedFile { version: version.to_string(), name, layout, direction })
}

/// Finds migrations in `paths` (files and directories, in any mix), ordered by version.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Migration>> {
    if paths.is_empty() {
        return Err(Error::Usage("no migrations given: pass a directory or .sql files".into()));
    }
    let mut files: Vec<(PathBuf, NamedFile)> = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|err| Error::input_path(path, format!("cannot read: {err}")))?;
        if meta.is_dir() {
            files.extend(named_files_in(path)?);
        } else {
            let named = name_of(path)?;
            // A file named on the command line brings its pair along, so a missing down is visible.
            if named.layout == Layout::GolangMigrate {
                if let Some(pair) = pair_of(path, &named) {
                    if !paths.contains(&pair) {
                        let pair_named = name_of(&pair)?;
                        files.push((pair, pair_named));
                    }
                }
            }
            files.push((path.clone(), named));
        }
    }
    assemble(files)
}

fn name_of(path: &Path) -> Result<NamedFile> {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    parse_file_name(file_name).ok_or_else(|| {
        Error::input_path(
            path,
            "file name gives no migration order: expected NNN_name.up.sql / NNN_name.down.sql \
             (golang-migrate) or NNN_name.sql",
        )
    })
}

fn pair_of(path: &Path, named: &NamedFile) -> Option<PathBuf> {
    let other = match named.direction {
        Direction::Up => "down",
        Direction::Down => "up",
    };
    let sep = if named.name.is_empty() { "" } else { "_" };
    let candidate = path.with_file_name(format!("{}{sep}{}.{other}.sql", named.version, named.name));
    candidate.is_file().then_some(candidate)
}

fn named_files_in(dir: &Path) -> Result<Vec<(PathBuf, NamedFile)>> {
    let entries = fs::read_dir(dir).map_err(|err| Error::input_path(dir, format!("cannot list directory: {err}")))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| Error::input_path(dir, format!("cannot list directory: {err}")))?;
        let path = entry.path();
        let is_sql = path.extension().is_some_and(|ext| ext == "sql");
        if !is_sql || !path.is_file() {
            continue;
        }
        found.push((path.clone(), name_of(&path)?));
    }
    if found.is_empty() {
        return Err(Error::input_path(dir, "no .sql migration files in this directory"));
    }
    Ok(found)
}

fn assemble(mut files: Vec<(PathBuf, NamedFile)>) -> Result<Vec<Migration>> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files.dedup_by(|a, b| a.0 == b.0);
    let layout = files[0].1.layout;
    if let Some((path, named)) = files.iter().find(|(_, named)| named.layout != layout) {
        return Err(Error::input_path(
            path,
            format!(
                "mixed migration layouts: this file is {} but {} is {}; lockscope will not guess the order",
                named.layout.name(),
                files[0].0.display(),
                layout.name()
            ),
        ));
    }

    let mut by_version: BTreeMap<(u128, String), Migration> = BTreeMap::new();
    for (path, named) in files {
        let key = (named.version.parse::<u128>().unwrap_or(u128::MAX), named.version.clone());
        let text = read_migration_file(&path)?;
        let migration = by_version.entry(key).or_insert_with(|| Migration {
            version: named.version.clone(),
            name: named.name.clone(),
            layout,
            up: None,
            down: None,
            no_transaction: false,
        });
        let slot = match named.direction {
            Direction::Up => &mut migration.up,
            Direction::Down => &mut migration.down,
        };
        if let Some(existing) = slot {
            return Err(Error::input_path(
                &path,
                format!("duplicate migration version {}: also {}", named.version, existing.path.display()),
            ));
        }
        if migration.name != named.name {
            let other = migration.up.as_ref().or(migration.down.as_ref()).map(|f| f.path.display().to_string());
            return Err(Error::input_path(
                &path,
                format!("duplicate migration version {}: also {}", named.version, other.unwrap_or_default()),
            ));
        }
        *slot = Some(MigrationFile { path, text });
    }
    // Two spellings of one number (`1_a.sql`, `001_b.sql`) cannot be ordered against each other.
    let migrations: Vec<Migration> = by_version.into_values().collect();
    for pair in migrations.windows(2) {
        if pair[0].numeric_version() == pair[1].numeric_version() {
            let path = pair[1].up.as_ref().or(pair[1].down.as_ref()).map(|f| f.path.clone()).unwrap_or_default();
            return Err(Error::input_path(
                path,
                format!("duplicate migration version: {} and {} are the same number", pair[0].version, pair[1].version),
            ));
        }
    }
    Ok(migrations)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn file_names() {
        let named = parse_file_name("003_add_status.up.sql").unwrap();
        assert_eq!((named.version.as_str(), named.name.as_str()), ("003", "add_status"));
        assert_eq!((named.layout, named.direction), (Layout::GolangMigrate, Direction::Up));
        let named = parse_file_name("20240101120000_init.down.sql").unwrap();
        assert_eq!(named.direction, Direction::Down);
        let named = parse_file_name("7-seed.sql").unwrap();
        assert_eq!((named.layout, named.name.as_str()), (Layout::PlainNumbered, "seed"));
        assert_eq!(parse_file_name("init.sql"), None);
        assert_eq!(parse_file_name("003add.sql"), None);
        assert_eq!(parse_file_name("003_add.txt"), None);
    }

    #[test]
    fn golang_migrate_folder_is_ordered_numerically_and_paired() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "10_c.up.sql", "select 1;");
        write(dir.path(), "10_c.down.sql", "select 1;");
        write(dir.path(), "2_b.up.sql", "select 1;");
        write(dir.path(), "1_a.up.sql", "select 1;");
        write(dir.path(), "1_a.down.sql", "select 1;");
        write(dir.path(), "README.md", "not a migration");
        let migrations = discover(&[dir.path().to_path_buf()]).unwrap();
        let versions: Vec<_> = migrations.iter().map(|m| m.version.as_str()).collect();
        assert_eq!(versions, ["1", "2", "10"]);
        assert!(migrations[0].down.is_some());
        assert!(migrations[1].down.is_none());
    }

    #[test]
    fn mixed_layouts_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "1_a.up.sql", "select 1;");
        write(dir.path(), "2_b.sql", "select 1;");
        let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
        assert!(err.contains("mixed migration layouts"), "{err}");
    }

    #[test]
    fn unorderable_and_duplicate_names_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "1_a.sql", "select 1;");
        write(dir.path(), "fix.sql", "select 1;");
        let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
        assert!(err.contains("fix.sql") && err.contains("no migration order"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "1_a.sql", "select 1;");
        write(dir.path(), "001_b.sql", "select 1;");
        let err = discover(&[dir.path().to_path_buf()]).unwrap_err().to_string();
        assert!(err.contains("duplicate migration version"), "{err}");
    }

    #[test]
    fn a_single_up_file_brings_its_down() {
        let dir = tempfile::tempdir().unwrap();
        let up = write(dir.path(), "003_add_status.up.sql", "select 1;");
        write(dir.path(), "003_add_status.down.sql", "select 2;");
        let migrations = discover(&[up]).unwrap();
        assert_eq!(migrations.len(), 1);
        assert_eq!(migrations[0].down.as_ref().unwrap().text, "select 2;");
    }

    #[test]
    fn non_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1_a.sql");
        fs::write(&path, b"select 1;\nselect '\xff';\n").unwrap();
        let err = read_migration_file(&path).unwrap_err().to_string();
        assert!(err.contains("1_a.sql:2:9") && err.contains("UTF-8"), "{err}");
    }
}
