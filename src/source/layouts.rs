//! Candidates → ordered [`Migration`]s, one function per layout, each following its tool's rules
//! for names, versions, order and declared no-transaction mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::detect::Candidate;
use super::flyway::{self, FlywayKind};
use super::{read_migration_file, sections, Direction, Layout, Migration, MigrationFile};
use crate::error::{Error, Result};

pub(super) fn assemble(layout: Layout, candidates: Vec<Candidate>) -> Result<Vec<Migration>> {
    match layout {
        Layout::Diesel | Layout::Prisma => folders(layout, candidates),
        _ => {
            let mut files = Vec::with_capacity(candidates.len());
            for candidate in candidates {
                match candidate {
                    Candidate::File { path, contents } => files.push((path, contents)),
                    Candidate::Folder { path } => {
                        return Err(Error::input_path(
                            path,
                            format!(
                                "a folder-per-migration (Diesel or Prisma), but the layout is {}: expected {}",
                                layout.name(),
                                layout.expected()
                            ),
                        ))
                    }
                }
            }
            match layout {
                Layout::Goose | Layout::Dbmate => sectioned(layout, files),
                Layout::Flyway => flyway_files(files),
                _ => numbered(layout, files),
            }
        }
    }
}

/// One explicitly named file whose name gives no order, as the `position`-th migration: goose or
/// dbmate when it carries their section markers (each section traced apart), sqlx when it opens
/// with `-- no-transaction`, a plain file otherwise.
pub(super) fn as_given(path: &Path, contents: String, stem: String, position: usize) -> Result<Migration> {
    let version = format!("{}", position + 1);
    let mut entry = migration(Layout::PlainNumbered, version, stem);
    let sectioned = if sections::has_goose_annotation(&contents) {
        Some((Layout::Goose, sections::goose(path, &contents)?))
    } else if sections::has_dbmate_marker(&contents) {
        Some((Layout::Dbmate, sections::dbmate(path, &contents)?))
    } else {
        None
    };
    match sectioned {
        Some((layout, parsed)) => {
            let file = |section: sections::Section| MigrationFile {
                path: path.to_path_buf(),
                text: section.text,
                contents: contents.clone(),
                no_transaction: section.no_transaction,
            };
            entry.layout = layout;
            entry.no_transaction = parsed.up.no_transaction;
            entry.up = Some(file(parsed.up));
            entry.down = parsed.down.map(file);
        }
        None => {
            let sqlx = contents.starts_with(sections::SQLX_NO_TRANSACTION);
            if sqlx {
                entry.layout = Layout::Sqlx;
            }
            entry.no_transaction = sqlx;
            entry.up = Some(MigrationFile {
                path: path.to_path_buf(),
                text: contents.clone(),
                contents,
                no_transaction: sqlx,
            });
        }
    }
    Ok(entry)
}

fn not_this_layout(path: &Path, layout: Layout) -> Error {
    Error::input_path(
        path,
        format!("file name does not follow the {} layout: expected {}", layout.name(), layout.expected()),
    )
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or_default()
}

/// `NNN`, then `_` or `-` and a name (or nothing): the version and the name.
fn split_version(stem: &str) -> Option<(String, String)> {
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
    Some((version.to_string(), name))
}

/// What a file name says about the migration it belongs to.
#[derive(Debug, PartialEq, Eq)]
struct NamedFile {
    version: String,
    name: String,
    direction: Direction,
}

/// golang-migrate (`NNN_name.up.sql`), plain (`NNN_name.sql`) and sqlx (`<i64>_<desc>.sql`,
/// `.up.sql`, `.down.sql`) file names.
fn parse_numbered_name(layout: Layout, file_name: &str) -> Option<NamedFile> {
    let stem = file_name.strip_suffix(".sql")?;
    let (stem, direction) = if let Some(stem) = stem.strip_suffix(".up") {
        (stem, Direction::Up)
    } else if let Some(stem) = stem.strip_suffix(".down") {
        (stem, Direction::Down)
    } else {
        (stem, Direction::Up)
    };
    let split = stem.len() != file_name.len() - ".sql".len();
    match layout {
        Layout::GolangMigrate if !split => None,
        Layout::PlainNumbered if split => None,
        // sqlx: `parts = file_name.splitn(2, '_')`, the version an i64 greater than zero.
        Layout::Sqlx => {
            let (version, name) = stem.split_once('_')?;
            let number: i64 = version.parse().ok()?;
            (number > 0).then(|| NamedFile { version: version.to_string(), name: name.to_string(), direction })
        }
        _ => split_version(stem).map(|(version, name)| NamedFile { version, name, direction }),
    }
}

fn numeric(version: &str) -> u128 {
    version.parse().unwrap_or(u128::MAX)
}

fn migration(layout: Layout, version: String, name: String) -> Migration {
    Migration {
        ledger_id: version.clone(),
        version,
        name,
        layout,
        up: None,
        down: None,
        no_transaction: false,
        repeatable: false,
    }
}

fn duplicate(path: &Path, version: &str, other: &Path) -> Error {
    Error::input_path(path, format!("duplicate migration version {version}: also {}", other.display()))
}

fn numbered(layout: Layout, files: Vec<(PathBuf, String)>) -> Result<Vec<Migration>> {
    let mut by_version: BTreeMap<(u128, String), Migration> = BTreeMap::new();
    for (path, contents) in files {
        let named = parse_numbered_name(layout, file_name(&path)).ok_or_else(|| not_this_layout(&path, layout))?;
        let key = (numeric(&named.version), named.version.clone());
        let entry =
            by_version.entry(key).or_insert_with(|| migration(layout, named.version.clone(), named.name.clone()));
        if entry.name != named.name {
            return Err(duplicate(&path, &named.version, &entry.any_path()));
        }
        let no_transaction = layout == Layout::Sqlx && contents.starts_with(sections::SQLX_NO_TRANSACTION);
        let file = MigrationFile { path: path.clone(), text: contents.clone(), contents, no_transaction };
        let slot = match named.direction {
            Direction::Up => &mut entry.up,
            Direction::Down => &mut entry.down,
        };
        if let Some(existing) = slot {
            return Err(duplicate(&path, &named.version, &existing.path));
        }
        *slot = Some(file);
    }
    let mut migrations: Vec<Migration> = by_version.into_values().collect();
    // Two spellings of one number (`1_a.sql`, `001_b.sql`) cannot be ordered against each other.
    for pair in migrations.windows(2) {
        if numeric(&pair[0].version) == numeric(&pair[1].version) {
            return Err(Error::input_path(
                pair[1].any_path(),
                format!("duplicate migration version: {} and {} are the same number", pair[0].version, pair[1].version),
            ));
        }
    }
    for migration in &mut migrations {
        migration.no_transaction = migration.up.as_ref().is_some_and(|up| up.no_transaction);
    }
    Ok(migrations)
}

/// goose (`<i64>_name.sql`, ordered by version) and dbmate (`<digits>…​.sql`, ordered by file
/// name, the version compared as text).
fn sectioned(layout: Layout, files: Vec<(PathBuf, String)>) -> Result<Vec<Migration>> {
    let mut migrations: Vec<(Vec<u128>, String, Migration)> = Vec::with_capacity(files.len());
    for (path, contents) in files {
        let name = file_name(&path);
        let stem = name.strip_suffix(".sql").ok_or_else(|| not_this_layout(&path, layout))?;
        let (version, title, order) = match layout {
            // goose: the part before the first `_`, an int64 greater than zero.
            Layout::Goose => {
                let (version, title) = stem.split_once('_').ok_or_else(|| not_this_layout(&path, layout))?;
                let number: i64 = version.parse().map_err(|_| not_this_layout(&path, layout))?;
                if number < 1 {
                    return Err(Error::input_path(&path, "goose migration versions must be greater than zero"));
                }
                (version.to_string(), title.to_string(), vec![number as u128])
            }
            // dbmate: `^(\d+).*\.sql$`.
            _ => {
                let digits = stem.chars().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return Err(not_this_layout(&path, layout));
                }
                let (version, rest) = stem.split_at(digits);
                (version.to_string(), rest.trim_start_matches(['_', '-']).to_string(), Vec::new())
            }
        };
        let parsed = if layout == Layout::Goose {
            sections::goose(&path, &contents)?
        } else {
            sections::dbmate(&path, &contents)?
        };
        let file = |section: sections::Section| MigrationFile {
            path: path.clone(),
            text: section.text,
            contents: contents.clone(),
            no_transaction: section.no_transaction,
        };
        let mut entry = migration(layout, version, title);
        entry.no_transaction = parsed.up.no_transaction;
        entry.up = Some(file(parsed.up));
        entry.down = parsed.down.map(file);
        migrations.push((order, name.to_string(), entry));
    }
    migrations.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    for pair in migrations.windows(2) {
        let same = match layout {
            Layout::Goose => pair[0].0 == pair[1].0,
            _ => pair[0].2.version == pair[1].2.version,
        };
        if same {
            return Err(duplicate(&pair[1].2.any_path(), &pair[1].2.version, &pair[0].2.any_path()));
        }
    }
    Ok(migrations.into_iter().map(|(_, _, migration)| migration).collect())
}

/// `path.conf` (Flyway's per-script configuration) turns the transaction off.
fn flyway_no_transaction(path: &Path) -> bool {
    let conf = PathBuf::from(format!("{}.conf", path.display()));
    std::fs::read_to_string(conf).is_ok_and(|text| flyway::conf_disables_transaction(&text))
}

/// Versioned migrations in version order with their undo scripts, then repeatable ones by
/// description, as Flyway runs them.
fn flyway_files(files: Vec<(PathBuf, String)>) -> Result<Vec<Migration>> {
    let mut versioned: Vec<Migration> = Vec::new();
    let mut undo: Vec<(String, MigrationFile)> = Vec::new();
    let mut repeatable: Vec<Migration> = Vec::new();
    for (path, contents) in files {
        let name = flyway::parse_name(file_name(&path)).ok_or_else(|| not_this_layout(&path, Layout::Flyway))?;
        let no_transaction = flyway_no_transaction(&path);
        let file = MigrationFile { path: path.clone(), text: contents.clone(), contents, no_transaction };
        match name.kind {
            FlywayKind::Undo => undo.push((name.version, file)),
            FlywayKind::Versioned | FlywayKind::Repeatable => {
                let is_repeatable = name.kind == FlywayKind::Repeatable;
                let mut entry = migration(Layout::Flyway, name.version.clone(), name.description.clone());
                entry.ledger_id = if is_repeatable { name.description } else { name.version };
                entry.repeatable = is_repeatable;
                entry.no_transaction = no_transaction;
                entry.up = Some(file);
                if is_repeatable {
                    repeatable.push(entry);
                } else {
                    versioned.push(entry);
                }
            }
        }
    }
    versioned.sort_by(|a, b| flyway::compare_versions(&a.version, &b.version));
    for pair in versioned.windows(2) {
        if flyway::compare_versions(&pair[0].version, &pair[1].version).is_eq() {
            return Err(duplicate(&pair[1].any_path(), &pair[1].version, &pair[0].any_path()));
        }
    }
    repeatable.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in repeatable.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(Error::input_path(
                pair[1].any_path(),
                format!("duplicate repeatable migration \"{}\": also {}", pair[1].name, pair[0].any_path().display()),
            ));
        }
    }
    for (version, file) in undo {
        let Some(target) = versioned.iter_mut().find(|m| flyway::compare_versions(&m.version, &version).is_eq()) else {
            return Err(Error::input_path(
                &file.path,
                format!("undo migration for version {version}, but there is no V{version}__ migration"),
            ));
        };
        if let Some(existing) = &target.down {
            return Err(duplicate(&file.path, &version, &existing.path));
        }
        target.down = Some(file);
    }
    versioned.extend(repeatable);
    Ok(versioned)
}

/// `run_in_transaction = false` in a Diesel migration's `metadata.toml`.
fn diesel_no_transaction(folder: &Path) -> bool {
    std::fs::read_to_string(folder.join("metadata.toml")).is_ok_and(|text| {
        text.lines().any(|line| {
            line.split_once('=').is_some_and(|(key, value)| {
                key.trim() == "run_in_transaction" && value.split('#').next().unwrap_or_default().trim() == "false"
            })
        })
    })
}

fn read_script(path: PathBuf, no_transaction: bool) -> Result<MigrationFile> {
    let contents = read_migration_file(&path)?;
    Ok(MigrationFile { path, text: contents.clone(), contents, no_transaction })
}

/// Diesel (`<version>_name/up.sql` + `down.sql`; the version is the part before the first `_`
/// with `-` removed, compared as text) and Prisma (`<timestamp>_name/migration.sql`, ordered by
/// folder name, recorded by folder name).
fn folders(layout: Layout, candidates: Vec<Candidate>) -> Result<Vec<Migration>> {
    let mut migrations: Vec<(String, Migration)> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let folder = match candidate {
            Candidate::Folder { path } => path,
            Candidate::File { path, .. } => {
                return Err(Error::input_path(
                    path,
                    format!(
                    "a .sql file outside a migration folder; {} keeps each migration in its own folder: expected {}",
                    layout.name(),
                    layout.expected()
                ),
                ))
            }
        };
        let folder_name = file_name(&folder).to_string();
        let (prefix, title) = folder_name.split_once('_').unwrap_or((folder_name.as_str(), ""));
        let mut entry = match layout {
            Layout::Diesel => {
                let version = prefix.replace('-', "");
                if version.is_empty() || !folder.join("up.sql").is_file() {
                    return Err(not_this_layout(&folder, layout));
                }
                let no_transaction = diesel_no_transaction(&folder);
                let mut entry = migration(layout, version, title.to_string());
                entry.no_transaction = no_transaction;
                entry.up = Some(read_script(folder.join("up.sql"), no_transaction)?);
                let down = folder.join("down.sql");
                if down.is_file() {
                    let down = read_script(down, no_transaction)?;
                    // `diesel migration generate` writes a down.sql holding only a comment.
                    entry.down = super::has_sql(&down.text).then_some(down);
                }
                entry
            }
            _ => {
                if prefix.is_empty() || !folder.join("migration.sql").is_file() {
                    return Err(not_this_layout(&folder, layout));
                }
                let mut entry = migration(layout, prefix.to_string(), title.to_string());
                entry.ledger_id = folder_name.clone();
                entry.up = Some(read_script(folder.join("migration.sql"), false)?);
                entry
            }
        };
        entry.name = title.to_string();
        let order = if layout == Layout::Diesel { entry.version.clone() } else { folder_name.clone() };
        migrations.push((order, entry));
    }
    migrations.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in migrations.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(duplicate(&pair[1].1.any_path(), &pair[1].1.version, &pair[0].1.any_path()));
        }
    }
    Ok(migrations.into_iter().map(|(_, migration)| migration).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_file_names() {
        let named = parse_numbered_name(Layout::GolangMigrate, "003_add_status.up.sql").unwrap();
        assert_eq!(
            (named.version.as_str(), named.name.as_str(), named.direction),
            ("003", "add_status", Direction::Up)
        );
        let named = parse_numbered_name(Layout::GolangMigrate, "20240101120000_init.down.sql").unwrap();
        assert_eq!(named.direction, Direction::Down);
        assert_eq!(parse_numbered_name(Layout::GolangMigrate, "003_add.sql"), None);
        let named = parse_numbered_name(Layout::PlainNumbered, "7-seed.sql").unwrap();
        assert_eq!(named.name, "seed");
        assert_eq!(parse_numbered_name(Layout::PlainNumbered, "003add.sql"), None);
        assert_eq!(parse_numbered_name(Layout::PlainNumbered, "003_add.up.sql"), None);
        let named = parse_numbered_name(Layout::Sqlx, "20240101_add_users.up.sql").unwrap();
        assert_eq!((named.version.as_str(), named.name.as_str()), ("20240101", "add_users"));
        assert_eq!(parse_numbered_name(Layout::Sqlx, "0_zero.sql"), None);
        assert_eq!(parse_numbered_name(Layout::Sqlx, "7-seed.sql"), None);
    }
}
