//! Which files and folders are migrations, and which tool's layout they follow.

use std::fs;
use std::path::{Path, PathBuf};

use super::{flyway, read_migration_file, sections, Layout, Skipped};
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

/// What the paths hold: the candidates, and the files in their folders that are no migration
/// of any tool (a README, a `.go` goose migration), which discovery names in the notes.
pub(super) struct Collected {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
}

/// Every candidate in `paths`, sorted by path. A folder-per-migration's own file (`up.sql`,
/// `down.sql`, `migration.sql`) named on the command line stands for its folder; an
/// `.up.sql`/`.down.sql` file named alone brings its pair along, so a missing down is visible.
pub(super) fn collect(paths: &[PathBuf]) -> Result<Collected> {
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|err| Error::input_path(path, format!("cannot read: {err}")))?;
        if meta.is_dir() {
            if is_migration_folder(path) {
                candidates.push(Candidate::Folder { path: path.clone() });
            } else {
                let (found, left_out) = in_directory(&default_folder(path))?;
                candidates.extend(found);
                skipped.extend(left_out);
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
    Ok(Collected { candidates, skipped })
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

/// Files beside migrations that belong to them rather than being skipped: Flyway's per-script
/// `.sql.conf`, Diesel's `metadata.toml` (inside its folders, never listed here).
fn belongs_to_a_migration(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.ends_with(".sql.conf"))
}

fn in_directory(dir: &Path) -> Result<(Vec<Candidate>, Vec<Skipped>)> {
    let entries = fs::read_dir(dir).map_err(|err| Error::input_path(dir, format!("cannot list directory: {err}")))?;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
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
        } else if path.extension().is_none_or(|ext| ext != "sql") {
            if !belongs_to_a_migration(&path) {
                let reason = if path.extension().is_some_and(|ext| ext == "go") {
                    "a Go migration (goose): not SQL, so lockscope cannot read what it does"
                } else {
                    "not a .sql file: no migration tool runs it"
                };
                skipped.push(Skipped { path, reason: reason.to_string() });
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
    Ok((found, skipped))
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
        return Ok(Vec::new());
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

fn no_order(path: &Path) -> Error {
    Error::input_path(
        path,
        format!(
            "file name gives no migration order: expected one of these layouts: {} (or name the files one by one: \
             they are then checked in the order given)",
            Layout::ALL.iter().map(|l| format!("{} ({})", l.flag_value(), l.expected())).collect::<Vec<_>>().join("; ")
        ),
    )
}

/// Why a file found in a folder is left out under `layout`, or `None` when it is a migration.
fn left_out(candidate: &Candidate, layout: Layout) -> Option<String> {
    let folder_layout = matches!(layout, Layout::Diesel | Layout::Prisma);
    match candidate {
        Candidate::Folder { .. } if !folder_layout => {
            Some(format!("a folder-per-migration, but the layout is {}: its tool does not read folders", layout.name()))
        }
        Candidate::File { .. } if folder_layout => Some(format!(
            "a loose .sql file beside the migration folders: {} runs only the folders ({})",
            layout.name(),
            layout.expected()
        )),
        Candidate::File { .. } if possible_layouts(candidate).is_ok_and(|l| l.is_empty()) => Some(format!(
            "its name gives no migration version, so {} would not run it ({})",
            layout.name(),
            layout.expected()
        )),
        _ => None,
    }
}

/// Splits `candidates` into the migrations of `layout` and the files in folders that its tool
/// would not run. Files named on the command line are never left out: a mismatch is an error.
pub(super) fn keep_layout(
    layout: Layout,
    candidates: Vec<Candidate>,
    named: &[PathBuf],
) -> (Vec<Candidate>, Vec<Skipped>) {
    let mut fit = Vec::with_capacity(candidates.len());
    let mut skipped = Vec::new();
    for candidate in candidates {
        let explicit = named.iter().any(|path| path == candidate.path());
        match left_out(&candidate, layout).filter(|_| !explicit) {
            Some(reason) => skipped.push(Skipped { path: candidate.path().to_path_buf(), reason }),
            None => fit.push(candidate),
        }
    }
    (fit, skipped)
}

/// The one layout every candidate fits, with the candidates of that layout and the files of the
/// folders that its tool would not run. Folders-per-migration win over loose files beside them
/// (Diesel and Prisma read only their folders). sqlx's file names look exactly like
/// golang-migrate's and plain numbered files, so sqlx is chosen only when a file carries sqlx's
/// own `-- no-transaction` marker (or `--layout sqlx` forces it).
pub(super) fn choose(candidates: Vec<Candidate>, named: &[PathBuf]) -> Result<(Layout, Vec<Candidate>, Vec<Skipped>)> {
    let has_folders = candidates.iter().any(|c| matches!(c, Candidate::Folder { .. }));
    let mut votes = Vec::with_capacity(candidates.len());
    let mut skipped = Vec::new();
    let mut kept = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let explicit = named.iter().any(|path| path == candidate.path());
        let layouts = possible_layouts(&candidate)?;
        let loose = has_folders && matches!(candidate, Candidate::File { .. });
        if (layouts.is_empty() || loose) && !explicit {
            // Loose files get their final wording once the folders' layout is known.
            let reason = if loose {
                "a loose .sql file beside the migration folders".to_string()
            } else {
                "its name gives no migration version, so no migration tool would run it".to_string()
            };
            skipped.push(Skipped { path: candidate.path().to_path_buf(), reason });
            continue;
        }
        if layouts.is_empty() {
            return Err(no_order(candidate.path()));
        }
        votes.push((candidate.path().to_path_buf(), layouts));
        kept.push(candidate);
    }
    if kept.is_empty() {
        return Err(match skipped.first() {
            Some(first) => no_order(&first.path),
            None => Error::Usage("no migrations given: pass a directory or .sql files".into()),
        });
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
    let first_path = first_path.as_path();
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
    let layout = allowed[0];
    let layout_name = layout.name();
    for note in &mut skipped {
        if note.reason.starts_with("a loose .sql file") {
            note.reason =
                format!("a loose .sql file beside the migration folders: {layout_name} runs only the folders");
        }
    }
    Ok((layout, kept, skipped))
}
