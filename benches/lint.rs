//! `lockscope lint` speed: the bundled examples, every rule example, and a corpus of 300
//! realistic migrations (600 files), linted through the library exactly as the binary does
//! (discover, read, parse, run every rule), and the time to the error for a directory of 10,000
//! files with one bad statement (the bound tests/bad_input.rs used to assert). Never a timed
//! test: run `cargo bench --bench lint`.

#[path = "support/corpus.rs"]
mod corpus;

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lockscope::analyze::{catalogue, Options};
use lockscope::source::Direction;

fn lint(paths: &[PathBuf]) -> usize {
    let report = lockscope::lint::lint_paths(paths, Direction::Up, Options::default()).expect("lint");
    report.findings().count()
}

fn benches(c: &mut Criterion) {
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
            let outcome = lockscope::lint::lint_paths(&many_paths, Direction::Up, Options::default());
            assert!(outcome.is_err(), "the bad file is an error");
        })
    });
    group.finish();
}

criterion_group!(lint_benches, benches);
criterion_main!(lint_benches);
