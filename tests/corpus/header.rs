//! The labelled corpus under `tests/corpus/`: each file's header, and the hazard map
//! (`hazards.toml`). Shared by `benches/precision.rs` and `tests/corpus_accepts.rs` (included with
//! `#[path]`, so it uses nothing from lockscope itself: the truth does not depend on the tool).
//!
//! A file opens with these comment lines (sqlx files may have `-- no-transaction` first, because
//! sqlx reads its opt-out only from the file's first bytes, sqlx-core/src/migrate/source.rs):
//!
//! ```text
//! -- corpus: verdict=dangerous | safe
//! -- context: none | size : … | runner : … | scope : …
//! -- hazards: class, class | none
//! -- runner: psql | psql-single-transaction | golang-migrate | goose | dbmate | flyway | sqlx | diesel | prisma
//! -- pg: 16
//! -- size: public.crates=200000, … | none
//! -- setup: <SQL>            (zero or more)
//! -- source: <URL>           (one or more)
//! ```

#![allow(dead_code)] // Each includer uses its own subset.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The runners a header may name (the migration tool that executes the file in production).
pub const RUNNERS: [&str; 9] =
    ["psql", "psql-single-transaction", "golang-migrate", "goose", "dbmate", "flyway", "sqlx", "diesel", "prisma"];

/// The three folders of the corpus, in report order.
pub const CLASSES: [&str; 3] = ["dangerous", "safe", "context"];

/// What the context of a `context/` file is.
pub const CONTEXT_KINDS: [&str; 3] = ["size", "runner", "scope"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Dangerous,
    Safe,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Dangerous => "dangerous",
            Verdict::Safe => "safe",
        })
    }
}

/// One corpus file and its labels.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    /// Path relative to `tests/corpus/`, for reports (`dangerous/01_x.sql`).
    pub name: String,
    /// The folder: `dangerous`, `safe` or `context`.
    pub class: String,
    pub verdict: Verdict,
    /// `none`, or `kind : explanation`.
    pub context: String,
    pub hazards: Vec<String>,
    pub runner: String,
    pub pg: u32,
    /// `(schema.table, rows)` in header order (parents before children).
    pub sizes: Vec<(String, u64)>,
    pub setup: Vec<String>,
    pub sources: Vec<String>,
}

/// The corpus root, `tests/corpus/` of this crate.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus")
}

/// Every `.sql` file of the three folders, sorted by folder then name.
pub fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for class in CLASSES {
        let dir = root.join(class);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

/// Parses the header of `path`. Errors name the file and line.
pub fn parse(root: &Path, path: &Path) -> Result<Entry, String> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    let name = path.strip_prefix(root).unwrap_or(path).to_string_lossy().into_owned();
    let class = path.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut fields: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    let (mut setup, mut sources) = (Vec::new(), Vec::new());
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if index == 0 && line.trim_end() == "-- no-transaction" {
            continue;
        }
        let Some((key, value)) = line.strip_prefix("-- ").and_then(|rest| rest.split_once(": ")) else {
            break;
        };
        let key = key.trim();
        let value = value.trim().to_string();
        match key {
            "setup" => setup.push(value),
            "source" => sources.push(value),
            "corpus" | "context" | "hazards" | "runner" | "pg" | "size" => {
                if fields.insert(key, (number, value)).is_some() {
                    return Err(format!("{name}:{number}: `{key}:` given twice"));
                }
            }
            _ => break,
        }
    }
    let field = |key: &str| -> Result<(usize, String), String> {
        fields.get(key).cloned().ok_or_else(|| format!("{name}: header has no `-- {key}:` line"))
    };
    let (line, corpus) = field("corpus")?;
    let verdict = match corpus.as_str() {
        "verdict=dangerous" => Verdict::Dangerous,
        "verdict=safe" => Verdict::Safe,
        other => return Err(format!("{name}:{line}: `corpus: {other}`, expected verdict=dangerous or verdict=safe")),
    };
    let (line, context) = field("context")?;
    if context != "none" {
        let kind = context.split(':').next().unwrap_or("").trim();
        if !CONTEXT_KINDS.contains(&kind) || !context.contains(':') {
            return Err(format!("{name}:{line}: context `{context}`, expected none or `size|runner|scope : why`"));
        }
    }
    let (line, hazards) = field("hazards")?;
    let hazards: Vec<String> =
        if hazards == "none" { Vec::new() } else { hazards.split(',').map(|h| h.trim().to_string()).collect() };
    if hazards
        .iter()
        .any(|h| h.is_empty() || !h.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!("{name}:{line}: hazard classes must be kebab-case"));
    }
    match verdict {
        Verdict::Safe if !hazards.is_empty() => return Err(format!("{name}:{line}: a safe file names hazards")),
        Verdict::Dangerous if hazards.is_empty() => {
            return Err(format!("{name}:{line}: a dangerous file names no hazard"))
        }
        _ => {}
    }
    let (line, runner) = field("runner")?;
    if !RUNNERS.contains(&runner.as_str()) {
        return Err(format!("{name}:{line}: unknown runner `{runner}`"));
    }
    let (line, pg) = field("pg")?;
    let pg: u32 = pg
        .parse()
        .ok()
        .filter(|v| (9..=30).contains(v))
        .ok_or_else(|| format!("{name}:{line}: pg `{pg}` is not a major version"))?;
    let (line, size) = field("size")?;
    let mut sizes = Vec::new();
    if size != "none" {
        for part in size.split(',') {
            let (table, rows) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| format!("{name}:{line}: size `{part}` is not schema.table=rows"))?;
            if !table.contains('.') {
                return Err(format!("{name}:{line}: size table `{table}` is not schema-qualified"));
            }
            let rows: u64 = rows.parse().map_err(|_| format!("{name}:{line}: size rows `{rows}` is not a number"))?;
            sizes.push((table.to_string(), rows));
        }
    }
    if sources.is_empty() || sources.iter().any(|s| !s.starts_with("https://")) {
        return Err(format!("{name}: needs one or more `-- source: https://…` lines"));
    }
    match (class.as_str(), verdict, context == "none") {
        ("dangerous", Verdict::Dangerous, true) | ("safe", Verdict::Safe, true) | ("context", _, false) => {}
        _ => {
            return Err(format!(
                "{name}: folder `{class}` does not match verdict={verdict}, context={context} \
                 (dangerous/ and safe/ need context none, context/ needs a context)"
            ))
        }
    }
    Ok(Entry { path: path.to_path_buf(), name, class, verdict, context, hazards, runner, pg, sizes, setup, sources })
}

/// `hazards.toml`: hazard class → the rule ids that count as detecting it.
pub fn hazard_map(root: &Path) -> Result<BTreeMap<String, Vec<String>>, String> {
    let path = root.join("hazards.toml");
    let text = std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    let value: toml::Table = text.parse().map_err(|err| format!("{}: {err}", path.display()))?;
    let table = value
        .get("hazards")
        .and_then(|v| v.as_table())
        .ok_or_else(|| format!("{}: no [hazards] table", path.display()))?;
    let mut map = BTreeMap::new();
    for (class, entry) in table {
        let rules = entry
            .get("rules")
            .and_then(|r| r.as_array())
            .ok_or_else(|| format!("{}: hazards.{class} has no rules = [...]", path.display()))?;
        let rules: Vec<String> = rules.iter().filter_map(|r| r.as_str().map(str::to_string)).collect();
        if rules.is_empty() {
            return Err(format!("{}: hazards.{class} maps to no rule", path.display()));
        }
        map.insert(class.clone(), rules);
    }
    Ok(map)
}
