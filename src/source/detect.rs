//! Which files and folders are migrations, and which tool's layout they follow.

use std::fs;
use std::path::{Path, PathBuf};

use super::{flyway, read_migration_file, sections, Layout};
use crate::error::{Error, Result};

/// A migration file, or a folder holding one migration (Diesel, Prisma).
#[derive(Debug, Clone)]
pub(super) enum Candidate {
    File { path: PathBuf, contents: String },
    Folder { path: PathBuf },
}

impl Candidate {
    pub(super) fn path(&self) -> &Path {
        match self {
            Candidate::File { path, .. } | Candidate::Folder { path } => path,
        }
    }
}

/// Files inside a folder-per-migration that make it one.
const FOLDER_MARKERS: [&str; 2] = ["up.sql", "migration.sql"];

fn is_migration_folder(dir: &Path) -> bool {
    FOLDER_MARKERS.iter().any(|marker| dir.join(marker).is_file())
}

/// Every candidate in `paths`, sorted by path. A folder-per-migration's own file (`up.sql`,
/// `down.sql`, `migration.sql`) named on the command line stands for its folder; an
/// `.up.sql`/`.down.sql` file named alone brings its pair along, so a missing down is visible.
pub(super) fn collect(paths: &[PathBuf]) -> Result<Vec<Candidate>> {
    let mut candidates = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|err| Error::input_path(path, format!("cannot read: {err}")))?;
        if meta.is_dir() {
            if is_migration_folder(path) {
                candidates.push(Candidate::Folder { path: path.clone() });
            } else {
                candidates.extend(in_directory(&default_folder(path))?);
            }
            continue;
        }
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if matches!(file_name, "up.sql" | "down.sql" | "migration.sql") {
            let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
            candidates.push(Candidate::Folder { path: folder });
            continue;
        }
        candidates.push(Candidate::File { path: path.clone(), contents: read_migration_file(path)? });
        if let Some(pair) = pair_of(path).filter(|pair| !paths.contains(pair)) {
            candidates.push(Candidate::File { contents: read_migration_file(&pair)?, path: pair });
        }
    }
    candidates.sort_by(|a, b| a.path().cmp(b.path()));
    candidates.dedup_by(|a, b| a.path() == b.path());
    Ok(candidates)
}

/// `NNN_name.down.sql` for `NNN_name.up.sql` and the other way round, when it exists.
fn pair_of(path: &Path) -> Option<PathBuf> {
    let file_name = path.file_name()?.to_str()?;
    let other = if let Some(stem) = file_name.strip_suffix(".up.sql") {
        format!("{stem}.down.sql")
    } else {
        format!("{}.up.sql", file_name.strip_suffix(".down.sql")?)
    };
    let candidate = path.with_file_name(other);
    candidate.is_file().then_some(candidate)
}

/// Where the tools keep migrations inside a project, by default.
const DEFAULT_FOLDERS: [&str; 5] =
    ["db/migrations", "prisma/migrations", "migrations", "src/main/resources/db/migration", "db/migration"];

/// `dir` itself when it holds migrations; else the one tool's default folder inside it (a project
/// root given for `db/migrations`, `prisma/migrations`, `migrations`, …), when exactly one exists.
fn default_folder(dir: &Path) -> PathBuf {
    let holds_migrations = |dir: &Path| {
        fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|entry| {
                let path = entry.path();
                path.extension().is_some_and(|ext| ext == "sql") || (path.is_dir() && is_migration_folder(&path))
            })
        })
    };
    if holds_migrations(dir) {
        return dir.to_path_buf();
    }
    let found: Vec<PathBuf> =
        DEFAULT_FOLDERS.iter().map(|folder| dir.join(folder)).filter(|folder| holds_migrations(folder)).collect();
    match found.as_slice() {
        [only] => only.clone(),
        _ => dir.to_path_buf(),
    }
}

fn in_directory(dir: &Path) -> Result<Vec<Candidate>> {
    let entries = fs::read_dir(dir).map_err(|err| Error::input_path(dir, format!("cannot list directory: {err}")))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| Error::input_path(dir, format!("cannot list directory: {err}")))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            if is_migration_folder(&path) {
                found.push(Candidate::Folder { path });
            }
        } else if path.extension().is_some_and(|ext| ext == "sql") {
            // A .sql entry that can't be read (a dangling link, a symlink loop) is an error, not a skip.
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => {
                    found.push(Candidate::File { contents: read_migration_file(&path)?, path })
                }
                Ok(_) => return Err(Error::input_path(&path, "not a regular file")),
                Err(err) => return Err(Error::input_path(&path, format!("cannot read: {err}"))),
            }
        }
    }
    if found.is_empty() {
        return Err(Error::input_path(
            dir,
            "no migrations in this directory: no .sql files, and no folders holding up.sql (Diesel) or \
             migration.sql (Prisma)",
        ));
    }
    Ok(found)
}

/// The layouts a candidate could belong to, the most likely first.
fn possible_layouts(candidate: &Candidate) -> Result<Vec<Layout>> {
    let (path, contents) = match candidate {
        Candidate::Folder { path } => {
            return Ok(vec![if path.join("migration.sql").is_file() { Layout::Prisma } else { Layout::Diesel }]);
        }
        Candidate::File { path, contents } => (path, contents),
    };
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if flyway::parse_name(file_name).is_some() {
        return Ok(vec![Layout::Flyway]);
    }
    if !file_name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(Error::input_path(
            path,
            format!(
                "file name gives no migration order: expected one of these layouts: {}",
                Layout::ALL
                    .iter()
                    .map(|l| format!("{} ({})", l.flag_value(), l.expected()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    let sqlx_marker = contents.starts_with(sections::SQLX_NO_TRANSACTION);
    if file_name.ends_with(".up.sql") || file_name.ends_with(".down.sql") {
        return Ok(if sqlx_marker { vec![Layout::Sqlx] } else { vec![Layout::GolangMigrate, Layout::Sqlx] });
    }
    if sections::has_goose_annotation(contents) {
        return Ok(vec![Layout::Goose]);
    }
    if sections::has_dbmate_marker(contents) {
        return Ok(vec![Layout::Dbmate]);
    }
    Ok(if sqlx_marker { vec![Layout::Sqlx] } else { vec![Layout::PlainNumbered, Layout::Sqlx] })
}

/// The one layout every candidate fits. sqlx's file names look exactly like golang-migrate's and
/// plain numbered files, so sqlx is chosen only when a file carries sqlx's own `-- no-transaction`
/// marker (or `--layout sqlx` forces it).
pub(super) fn choose(candidates: &[Candidate]) -> Result<Layout> {
    let mut votes = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        votes.push((candidate.path(), possible_layouts(candidate)?));
    }
    let sqlx_evidence = votes.iter().any(|(_, layouts)| layouts == &[Layout::Sqlx]);
    if !sqlx_evidence {
        for (_, layouts) in &mut votes {
            layouts.retain(|layout| *layout != Layout::Sqlx);
        }
    }
    let Some(((first_path, first), rest)) = votes.split_first() else {
        return Err(Error::Usage("no migrations given: pass a directory or .sql files".into()));
    };
    let mut allowed = first.clone();
    for (path, layouts) in rest {
        let narrowed: Vec<Layout> = allowed.iter().copied().filter(|layout| layouts.contains(layout)).collect();
        if narrowed.is_empty() {
            return Err(Error::input_path(
                path,
                format!(
                    "mixed migration layouts: this is {} but {} is {}; lockscope will not guess the order \
                     (move one kind out, or force one with --layout NAME)",
                    layouts[0].name(),
                    first_path.display(),
                    allowed[0].name()
                ),
            ));
        }
        allowed = narrowed;
    }
    Ok(allowed[0])
}
