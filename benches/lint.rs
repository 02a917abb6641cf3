//! `lockscope lint` speed: the bundled examples, every rule example, and a corpus of 300
//! realistic migrations (600 files), linted through the library exactly as the binary does
//! (discover, read, parse, run every rule), and the time to the error for a directory of 10,000
//! files with one bad statement (the bound tests/bad_input.rs used to assert). Never a timed
//! test: run `cargo bench --bench lint`.
//!
//! First, when a real corpus is at hand (`LOCKSCOPE_LINT_CORPUS`, else crates.io's migrations in
//! `../shared/corpora/crates.io` or `/work/shared/corpora/crates.io`) and `squawk` is on PATH
//! (`pip install squawk-cli`), it lints that corpus with the `lockscope` binary and with squawk
//! in the same run, five times each, and prints the median wall time, the ratio and both peak
//! RSS figures (from `/usr/bin/time`).

#[path = "support/corpus.rs"]
mod corpus;

use std::path::PathBuf;
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lockscope::analyze::{catalogue, Options};
use lockscope::source::Direction;

fn lint(paths: &[PathBuf]) -> usize {
    let report = lockscope::analyze::lint::lint_paths(paths, Direction::Up, Options::default()).expect("lint");
    report.findings().count()
}

/// The corpus's migration directory, if present.
fn corpus_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("LOCKSCOPE_LINT_CORPUS").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/crates.io")),
        Some(PathBuf::from("/work/shared/corpora/crates.io")),
    ];
    candidates.into_iter().flatten().map(|dir| dir.join("migrations")).find(|dir| dir.is_dir())
}

/// Median wall seconds and peak RSS (KiB) of `runs` runs of `program args`, via /usr/bin/time.
fn measure(program: &str, args: &[PathBuf], runs: usize) -> Option<(f64, u64)> {
    let mut walls = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let output = Command::new("/usr/bin/time").args(["-f", "%e %M", program]).args(args).output().ok()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last()?.to_string();
        let mut fields = last.split_whitespace();
        walls.push(fields.next()?.parse::<f64>().ok()?);
        peak = peak.max(fields.next()?.parse::<u64>().ok()?);
    }
    walls.sort_by(f64::total_cmp);
    Some((walls[walls.len() / 2], peak))
}

/// lockscope against squawk on the same real corpus, in one run.
fn compare_with_squawk() {
    let Some(corpus) = corpus_dir() else {
        println!("lint vs squawk: no corpus (set LOCKSCOPE_LINT_CORPUS); skipped");
        return;
    };
    if Command::new("squawk").arg("--version").output().is_err() {
        println!("lint vs squawk: squawk is not on PATH (pip install squawk-cli); skipped");
        return;
    }
    // Only the migration folders (loose files beside them are not migrations), linked into a
    // scratch folder; squawk gets the same migrations' up.sql files.
    let scratch = tempfile::tempdir().expect("tempdir");
    let linked = scratch.path().join("migrations");
    std::fs::create_dir(&linked).expect("mkdir");
    let mut ups = Vec::new();
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(&corpus).expect("read corpus").flatten().map(|e| e.path()).collect();
    entries.sort();
    for dir in entries.iter().filter(|path| path.is_dir()) {
        let name = dir.file_name().expect("a name");
        std::os::unix::fs::symlink(dir, linked.join(name)).expect("symlink");
        let up = dir.join("up.sql");
        if up.is_file() {
            ups.push(up);
        }
    }
    let runs = 5;
    let ours = measure(env!("CARGO_BIN_EXE_lockscope"), &[PathBuf::from("lint"), linked.clone()], runs);
    let theirs = measure("squawk", &ups, runs);
    match (ours, theirs) {
        (Some((our_s, our_kib)), Some((their_s, their_kib))) => println!(
            "lint vs squawk on {} ({} migrations), median of {runs}: lockscope {:.0} ms, peak RSS {:.1} MiB; \
             squawk {:.0} ms, peak RSS {:.1} MiB; time ratio lockscope/squawk {:.2}",
            corpus.display(),
            ups.len(),
            our_s * 1000.0,
            our_kib as f64 / 1024.0,
            their_s * 1000.0,
            their_kib as f64 / 1024.0,
            our_s / their_s.max(0.001),
        ),
        _ => println!("lint vs squawk: could not run /usr/bin/time on both tools; skipped"),
    }
}

fn benches(c: &mut Criterion) {
    compare_with_squawk();
    let examples = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/migrations")];

    // Every rule's bad and good example, as migrations 001… of one folder each.
    let rule_examples = tempfile::tempdir().expect("tempdir");
    let mut example_dirs = Vec::new();
    for (index, rule) in catalogue::all().iter().enumerate() {
        for (kind, text) in [("bad", rule.bad), ("good", rule.good)] {
            let dir = rule_examples.path().join(format!("{index:02}_{}_{kind}", rule.id));
            std::fs::create_dir(&dir).expect("mkdir");
            for (name, body) in catalogue::example_files(text) {
                std::fs::write(dir.join(name), body).expect("write");
            }
            example_dirs.push(dir);
        }
    }

    let corpus = tempfile::tempdir().expect("tempdir");
    let statements = corpus::write(corpus.path(), 300, 0);
    let corpus_paths = vec![corpus.path().to_path_buf()];

    // 5,000 up/down pairs, one with a syntax error (as tests/bad_input.rs builds it).
    let many = tempfile::tempdir().expect("tempdir");
    for version in 1..=5000 {
        std::fs::write(many.path().join(format!("{version:05}_m.up.sql")), "SELECT 1;").expect("write");
        std::fs::write(many.path().join(format!("{version:05}_m.down.sql")), "SELECT 1;").expect("write");
    }
    std::fs::write(many.path().join("04321_m.up.sql"), "SELECT 1;\nSELEC 2;\n").expect("write");
    let many_paths = vec![many.path().to_path_buf()];

    let mut group = c.benchmark_group("lint");
    group.sample_size(30);
    group.bench_function("bundled examples (7 migrations)", |b| b.iter(|| lint(&examples)));
    group.bench_function("rule examples (72 folders)", |b| {
        b.iter(|| example_dirs.iter().map(|dir| lint(std::slice::from_ref(dir))).sum::<usize>())
    });
    group.throughput(Throughput::Elements(statements as u64));
    group.bench_function(format!("corpus (300 migrations, 600 files, {statements} statements)"), |b| {
        b.iter(|| lint(&corpus_paths))
    });
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("10,000 files, one bad: time to the error", |b| {
        b.iter(|| {
            let outcome = lockscope::analyze::lint::lint_paths(&many_paths, Direction::Up, Options::default());
            assert!(outcome.is_err(), "the bad file is an error");
        })
    });
    group.finish();
}

criterion_group!(lint_benches, benches);
criterion_main!(lint_benches);
