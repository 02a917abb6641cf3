//! The labelled corpus (`tests/corpus/`, measured by `benches/precision.rs`) is well formed, and
//! lockscope accepts every file of it as given: `lockscope lint <file>` (with the file's runner,
//! when the CLI has `--runner`) never exits 2.

#[path = "corpus/header.rs"]
mod header;

use std::process::Command;

const LOCKSCOPE: &str = env!("CARGO_BIN_EXE_lockscope");

#[test]
fn every_header_parses_and_names_mapped_hazards() {
    let root = header::root();
    let hazards = header::hazard_map(&root).unwrap_or_else(|err| panic!("{err}"));
    let files = header::files(&root);
    let mut errors = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    for path in &files {
        match header::parse(&root, path) {
            Ok(entry) => {
                *counts.entry(entry.class.clone()).or_insert(0) += 1;
                for hazard in &entry.hazards {
                    if !hazards.contains_key(hazard) {
                        errors.push(format!("{}: hazard `{hazard}` is not in hazards.toml", entry.name));
                    }
                }
            }
            Err(err) => errors.push(err),
        }
    }
    assert!(errors.is_empty(), "corpus headers:\n{}", errors.join("\n"));
    assert!(files.len() >= 80, "the corpus has {} files, the issue asks for at least 80", files.len());
    for class in header::CLASSES {
        assert!(counts.get(class).copied().unwrap_or(0) > 0, "tests/corpus/{class}/ is empty");
    }
}

#[test]
fn lint_accepts_every_corpus_file_as_given() {
    let root = header::root();
    let help = Command::new(LOCKSCOPE).args(["lint", "--help"]).output().expect("run lockscope lint --help");
    let with_runner = String::from_utf8_lossy(&help.stdout).contains("--runner");
    let mut refused = Vec::new();
    let files = header::files(&root);
    for path in &files {
        let entry = header::parse(&root, path).unwrap_or_else(|err| panic!("{err}"));
        let mut command = Command::new(LOCKSCOPE);
        command.arg("lint").arg(&entry.path);
        if with_runner {
            command.args(["--runner", &entry.runner]);
        }
        command.args(["--pg-version", &entry.pg.to_string(), "--format", "json", "--fail-on", "never"]);
        let output = command.output().expect("run lockscope lint");
        if output.status.code() == Some(2) || output.status.code().is_none() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            refused.push(format!("{}: exit {:?}: {}", entry.name, output.status.code(), stderr.trim()));
        } else {
            let json: serde_json::Value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|err| panic!("{}: lint --format json printed no JSON: {err}", entry.name));
            assert_eq!(json["schema_version"], 1, "{}: unexpected report", entry.name);
        }
    }
    assert!(!files.is_empty());
    assert!(
        refused.is_empty(),
        "lockscope refused {} of {} corpus files:\n{}",
        refused.len(),
        files.len(),
        refused.join("\n")
    );
}
