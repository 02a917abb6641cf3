//! `--git-diff REF`: which migration files were added or changed since REF, asked of `git` on the
//! command line. What that means for the plan (the changed migrations are judged, the pending ones
//! before them still run first, as context) is `plan::narrow_to_changed`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// Files added or changed since a git reference (canonical paths), untracked files included.
#[derive(Debug, Clone, Default)]
pub struct Changed {
    /// The reference as given.
    pub base: String,
    files: HashSet<PathBuf>,
}

impl Changed {
    /// Whether `path` (any form that exists on disk) was added or changed.
    pub fn contains(&self, path: &Path) -> bool {
        path.canonicalize().map(|p| self.files.contains(&p)).unwrap_or(false)
    }

    /// Every added or changed file (canonical paths).
    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.iter()
    }
}

/// Asks git which files changed between REF's merge base with HEAD and the working tree (so
/// `--git-diff origin/main` on a branch means "what this branch changes"), plus untracked files.
/// `paths` are the migration paths given on the command line; the first locates the repository.
pub fn changed_since(base: &str, paths: &[PathBuf]) -> Result<Changed> {
    let start = paths.first().map(PathBuf::as_path).unwrap_or(Path::new("."));
    let start =
        if start.is_dir() { start.to_path_buf() } else { start.parent().unwrap_or(Path::new(".")).to_path_buf() };
    let start = if start.as_os_str().is_empty() { PathBuf::from(".") } else { start };
    let toplevel = git(&start, &["rev-parse", "--show-toplevel"]).map_err(|err| {
        Error::Usage(format!("--git-diff {base}: {} is not inside a git work tree: {err}", start.display()))
    })?;
    let toplevel = PathBuf::from(toplevel.trim_end_matches(['\n', '\r']));
    git(&toplevel, &["rev-parse", "--verify", "--quiet", &format!("{base}^{{commit}}")]).map_err(|_| {
        Error::Usage(format!(
            "--git-diff {base}: git knows no commit {base:?} in {} (in CI, fetch it first, e.g. actions/checkout with \
             fetch-depth: 0)",
            toplevel.display()
        ))
    })?;
    // The merge base, so changes that landed on REF after the branch started do not count; a
    // shallow clone may not have it, then REF itself is compared with.
    let compare_with = git(&toplevel, &["merge-base", base, "HEAD"])
        .map(|out| out.trim().to_string())
        .unwrap_or_else(|_| base.to_string());
    let diff = git(&toplevel, &["diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", &compare_with, "--"])
        .map_err(|err| Error::Usage(format!("--git-diff {base}: git diff failed: {err}")))?;
    let untracked = git(&toplevel, &["ls-files", "-z", "--others", "--exclude-standard"])
        .map_err(|err| Error::Usage(format!("--git-diff {base}: git ls-files failed: {err}")))?;
    let files = diff
        .split('\0')
        .chain(untracked.split('\0'))
        .filter(|name| !name.is_empty())
        .filter_map(|name| toplevel.join(name).canonicalize().ok())
        .collect();
    Ok(Changed { base: base.to_string(), files })
}

fn git(dir: &Path, args: &[&str]) -> std::result::Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|err| format!("cannot run git ({err}); --git-diff needs git on the PATH"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}
