//! Property tests ("fuzzing") over splitting and discovery: whatever the input, lockscope returns
//! statements or a located error — never a panic, never statement text that is not the file's.
//! `cargo test` runs a few hundred cases; `scripts/fuzz.sh` runs many more for a bounded time.
//! Seeds come from tests/fuzz/corpus/.

use std::path::Path;

use proptest::prelude::*;

/// `PROPTEST_CASES` when set (scripts/fuzz.sh), else a few hundred for `cargo test`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

fn corpus() -> Vec<String> {
    let mut texts: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/corpus"))
        .expect("corpus directory")
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    texts.sort();
    texts
}

/// A corpus file with a random edit: a cut, an insertion of SQL-ish noise, or a splice.
fn mutated() -> impl Strategy<Value = String> {
    let texts = corpus();
    let noise = prop::collection::vec(
        prop_oneof![
            Just(";".to_string()),
            Just("$$".to_string()),
            Just("$x$".to_string()),
            Just("'".to_string()),
            Just("\"".to_string()),
            Just("/*".to_string()),
            Just("*/".to_string()),
            Just("--".to_string()),
            Just("\n".to_string()),
            Just("\\".to_string()),
            Just("BEGIN".to_string()),
            Just("COMMIT".to_string()),
            Just("CONCURRENTLY".to_string()),
            "[a-zA-Z0-9 _(),.é☕]{0,12}",
        ],
        0..6,
    );
    (0..texts.len(), any::<prop::sample::Index>(), any::<prop::sample::Index>(), noise).prop_map(
        move |(which, cut_at, insert_at, noise)| {
            let text = &texts[which];
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let cut = boundaries[cut_at.index(boundaries.len())];
            let at = boundaries[insert_at.index(boundaries.len())].min(cut);
            format!("{}{}{}", &text[..at], noise.concat(), &text[at..cut])
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn splitting_mutated_corpus_never_panics(text in mutated()) {
        check_split(&text)?;
    }

    #[test]
    fn splitting_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check_split(&text)?;
    }

    #[test]
    fn discovery_never_panics(names in prop::collection::vec("[0-9]{0,3}[_.-]?[a-z]{0,4}(\\.up|\\.down)?\\.(sql|txt)", 1..8)) {
        let dir = tempfile::tempdir().unwrap();
        for name in &names {
            std::fs::write(dir.path().join(name), "SELECT 1;").unwrap();
        }
        match lockscope::source::discover(&[dir.path().to_path_buf()]) {
            Ok(migrations) => {
                let versions: Vec<String> = migrations.iter().map(|m| m.version.clone()).collect();
                let mut unique = versions.clone();
                unique.sort();
                unique.dedup();
                prop_assert_eq!(unique.len(), versions.len(), "no version comes out twice: {:?}", versions);
                // Some layouts' versions are not plain numbers (Flyway's 1.2, timestamps with
                // separators); where they all are, the order is numeric.
                let numeric: Option<Vec<u128>> = versions.iter().map(|v| v.parse().ok()).collect();
                if let Some(numeric) = numeric {
                    prop_assert!(numeric.windows(2).all(|w| w[0] < w[1]), "numeric order: {:?}", numeric);
                }
                let again = lockscope::source::discover(&[dir.path().to_path_buf()]).unwrap();
                let again: Vec<String> = again.iter().map(|m| m.version.clone()).collect();
                prop_assert_eq!(versions, again, "discovery is deterministic");
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }
}

fn check_split(text: &str) -> Result<(), TestCaseError> {
    let path = Path::new("fuzz.sql");
    match lockscope::sql::parse_file(path, text) {
        Ok(statements) => {
            for statement in statements {
                prop_assert_eq!(&text[statement.start..statement.end], statement.sql.as_str());
                prop_assert!(statement.line >= 1 && statement.column >= 1);
            }
        }
        Err(err) => {
            let message = err.to_string();
            prop_assert!(message.starts_with("fuzz.sql:"), "error names the file and line: {}", message);
        }
    }
    Ok(())
}
