//! Layouts that keep up and down in one file: goose (`-- +goose Up` / `-- +goose Down`) and
//! dbmate (`-- migrate:up` / `-- migrate:down`). Each section becomes its own script with the rest
//! of the file blanked out, so the parser's line and column numbers are the file's own.

use std::path::Path;

use crate::error::{Error, Location, Result};

/// sqlx's opt-out of the migration transaction: the file must start with it.
pub(super) const SQLX_NO_TRANSACTION: &str = "-- no-transaction";

/// One section of a file: the text to run, and whether it must run outside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Section {
    pub text: String,
    pub no_transaction: bool,
}

/// A file's up section and, when it has SQL, its down section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Sections {
    pub up: Section,
    pub down: Option<Section>,
}

/// Lines of `text` with their byte offsets, line endings included.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |line| {
        let start = offset;
        offset += line.len();
        (start, line)
    })
}

/// `text` with every byte outside `keep` (a byte range) replaced by a space, newlines kept.
fn blank_outside(text: &str, keep: std::ops::Range<usize>) -> String {
    let mut out = String::with_capacity(text.len());
    for (offset, c) in text.char_indices() {
        if c == '\n' || keep.contains(&offset) {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out
}

/// A goose annotation on `line`, lower-cased: `up`, `down`, `statementbegin`, … goose reads
/// `-- +goose <annotation>` at the start of a line, the annotation case-insensitively.
fn goose_annotation(line: &str) -> Option<String> {
    let rest = line.trim_end_matches(['\n', '\r']).strip_prefix("--")?;
    let rest = rest.trim_start().strip_prefix("+goose")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(rest.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase())
}

pub(super) fn has_goose_annotation(text: &str) -> bool {
    lines(text).any(|(_, line)| goose_annotation(line).is_some())
}

/// Splits a goose file the way goose does: `Up` must come first, `Down` is optional, `NO
/// TRANSACTION` applies to both directions, `StatementBegin`/`StatementEnd` must pair up.
pub(super) fn goose(path: &Path, text: &str) -> Result<Sections> {
    let error = |line: usize, message: String| Error::input(Location::new(path, line, 1), message);
    let mut up_start = None;
    let mut down_start = None;
    let mut statement_begin: Option<usize> = None;
    let mut no_transaction = false;
    for (number, (offset, line)) in lines(text).enumerate() {
        let number = number + 1;
        let Some(annotation) = goose_annotation(line) else { continue };
        let after = offset + line.len();
        match annotation.as_str() {
            "up" if up_start.is_none() => up_start = Some((offset, after)),
            "up" => return Err(error(number, "duplicate `-- +goose Up` annotation (goose refuses the file)".into())),
            "down" if up_start.is_none() => {
                return Err(error(number, "`-- +goose Down` before `-- +goose Up` (goose refuses the file)".into()))
            }
            "down" if down_start.is_some() => {
                return Err(error(number, "duplicate `-- +goose Down` annotation (goose refuses the file)".into()))
            }
            "down" => {
                if let Some(begin) = statement_begin {
                    return Err(error(begin, "`-- +goose StatementBegin` has no `-- +goose StatementEnd`".into()));
                }
                down_start = Some((offset, after));
            }
            "statementbegin" if up_start.is_none() => {
                return Err(error(
                    number,
                    "`-- +goose StatementBegin` must come after `-- +goose Up` or `-- +goose Down`".into(),
                ))
            }
            "statementbegin" if statement_begin.is_some() => {
                return Err(error(number, "nested `-- +goose StatementBegin`".into()))
            }
            "statementbegin" => statement_begin = Some(number),
            "statementend" if statement_begin.is_none() => {
                return Err(error(number, "`-- +goose StatementEnd` without `-- +goose StatementBegin`".into()))
            }
            "statementend" => statement_begin = None,
            "no transaction" => no_transaction = true,
            "envsub on" | "envsub off" => {}
            other => {
                return Err(error(
                    number,
                    format!(
                        "unknown goose annotation `{other}`: goose knows Up, Down, StatementBegin, StatementEnd, \
                         NO TRANSACTION, ENVSUB ON/OFF"
                    ),
                ))
            }
        }
    }
    if let Some(begin) = statement_begin {
        return Err(error(begin, "`-- +goose StatementBegin` has no `-- +goose StatementEnd`".into()));
    }
    let Some((_, up_body)) = up_start else {
        return Err(error(1, "goose migration without a `-- +goose Up` annotation (goose refuses it)".into()));
    };
    let up_end = down_start.map_or(text.len(), |(start, _)| start);
    let up = Section { text: blank_outside(text, up_body..up_end), no_transaction };
    let down = down_start
        .map(|(_, body)| Section { text: blank_outside(text, body..text.len()), no_transaction })
        .filter(|section| super::has_sql(&section.text));
    Ok(Sections { up, down })
}

/// The `-- migrate:up` / `-- migrate:down` marker on `line` and its options (`transaction:false`).
/// dbmate matches `^--\s*migrate:up(\s*$|\s+\S+)`.
fn dbmate_marker<'a>(line: &'a str, direction: &str) -> Option<Vec<(&'a str, &'a str)>> {
    let rest = line.trim_end_matches(['\n', '\r']).strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate:")?.strip_prefix(direction)?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(rest.split_whitespace().filter_map(|pair| pair.split_once(':')).collect())
}

pub(super) fn has_dbmate_marker(text: &str) -> bool {
    lines(text).any(|(_, line)| dbmate_marker(line, "up").is_some())
}

/// Splits a dbmate file the way dbmate does: both markers required, up first, nothing but
/// comments before up; each marker's `transaction:false` applies to its own section.
pub(super) fn dbmate(path: &Path, text: &str) -> Result<Sections> {
    let error = |line: usize, message: &str| Error::input(Location::new(path, line, 1), message.to_string());
    let mut up = None;
    let mut down = None;
    for (number, (offset, line)) in lines(text).enumerate() {
        if up.is_none() {
            if let Some(options) = dbmate_marker(line, "up") {
                up = Some((number + 1, offset, offset + line.len(), options));
                continue;
            }
        }
        if down.is_none() {
            if let Some(options) = dbmate_marker(line, "down") {
                down = Some((number + 1, offset, offset + line.len(), options));
            }
        }
    }
    let Some((up_line, up_marker, up_body, up_options)) = up else {
        return Err(error(1, "dbmate requires each migration to define an up block with '-- migrate:up'"));
    };
    let Some((down_line, down_marker, down_body, down_options)) = down else {
        return Err(error(1, "dbmate requires each migration to define a down block with '-- migrate:down'"));
    };
    if down_marker < up_marker {
        return Err(error(down_line, "dbmate requires '-- migrate:up' to appear before '-- migrate:down'"));
    }
    if super::has_sql(&text[..up_marker]) {
        return Err(error(up_line, "dbmate does not support statements preceding the '-- migrate:up' block"));
    }
    let no_transaction =
        |options: &[(&str, &str)]| options.iter().any(|(key, value)| *key == "transaction" && *value == "false");
    let up = Section { text: blank_outside(text, up_body..down_marker), no_transaction: no_transaction(&up_options) };
    let down =
        Section { text: blank_outside(text, down_body..text.len()), no_transaction: no_transaction(&down_options) };
    let down = super::has_sql(&down.text).then_some(down);
    Ok(Sections { up, down })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_with_sql(text: &str) -> Vec<usize> {
        text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(n, _)| n + 1).collect()
    }

    #[test]
    fn goose_sections_keep_line_numbers() {
        let text = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- +goose Down\nDROP INDEX CONCURRENTLY i;\n";
        let sections = goose(Path::new("1_x.sql"), text).unwrap();
        assert_eq!(sections.up.text.len(), text.len());
        assert_eq!(lines_with_sql(&sections.up.text), [3]);
        assert!(sections.up.no_transaction);
        let down = sections.down.unwrap();
        assert_eq!(lines_with_sql(&down.text), [6]);
        assert!(down.no_transaction);
    }

    #[test]
    fn goose_annotations_are_case_insensitive_and_down_is_optional() {
        let sections = goose(Path::new("1_x.sql"), "-- +goose up\nSELECT 1;\n-- +goose down\n-- nothing\n").unwrap();
        assert!(sections.down.is_none());
        assert!(!sections.up.no_transaction);
        assert!(goose_annotation("--+goose StatementBegin").is_some());
        assert!(goose_annotation("  -- +goose Up").is_none());
        assert!(goose_annotation("-- +goosey").is_none());
    }

    #[test]
    fn goose_errors_name_the_line() {
        let err = goose(Path::new("1_x.sql"), "SELECT 1;\n").unwrap_err().to_string();
        assert!(err.contains("1_x.sql:1:1") && err.contains("-- +goose Up"), "{err}");
        let err =
            goose(Path::new("1_x.sql"), "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n").unwrap_err().to_string();
        assert!(err.contains("1_x.sql:2:1") && err.contains("StatementEnd"), "{err}");
        let err = goose(Path::new("1_x.sql"), "-- +goose Up\n-- +goose Sideways\n").unwrap_err().to_string();
        assert!(err.contains("1_x.sql:2:1") && err.contains("sideways"), "{err}");
    }

    #[test]
    fn dbmate_sections_and_options() {
        let text =
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:down\nDROP INDEX i;\n";
        let sections = dbmate(Path::new("2_x.sql"), text).unwrap();
        assert!(sections.up.no_transaction);
        assert_eq!(lines_with_sql(&sections.up.text), [2]);
        let down = sections.down.unwrap();
        assert!(!down.no_transaction);
        assert_eq!(lines_with_sql(&down.text), [4]);
    }

    proptest::proptest! {
        /// Whatever the file holds, splitting never panics, and a section keeps every byte offset
        /// and line break of the file, so parse errors point at the file's own lines.
        #[test]
        fn sections_keep_offsets(lines in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("-- +goose Up".to_string()),
                proptest::strategy::Just("-- +goose Down".to_string()),
                proptest::strategy::Just("-- +goose StatementBegin".to_string()),
                proptest::strategy::Just("-- +goose StatementEnd".to_string()),
                proptest::strategy::Just("-- migrate:up transaction:false".to_string()),
                proptest::strategy::Just("-- migrate:down".to_string()),
                "[ -~é]{0,20}",
            ],
            0..12,
        )) {
            let text = lines.join("\n");
            let parsed = [goose(Path::new("1_x.sql"), &text), dbmate(Path::new("1_x.sql"), &text)];
            for sections in parsed.into_iter().flatten() {
                for section in std::iter::once(&sections.up).chain(sections.down.as_ref()) {
                    proptest::prop_assert_eq!(section.text.len(), text.len());
                    let breaks = |t: &str| t.match_indices('\n').map(|(i, _)| i).collect::<Vec<_>>();
                    proptest::prop_assert_eq!(breaks(&section.text), breaks(&text));
                }
            }
        }
    }

    #[test]
    fn dbmate_errors_follow_dbmate() {
        let err = dbmate(Path::new("x.sql"), "-- migrate:up\nSELECT 1;\n").unwrap_err().to_string();
        assert!(err.contains("define a down block"), "{err}");
        let err = dbmate(Path::new("x.sql"), "SELECT 0;\n-- migrate:up\nSELECT 1;\n-- migrate:down\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.sql:2:1") && err.contains("preceding"), "{err}");
        let err = dbmate(Path::new("x.sql"), "-- migrate:down\n-- migrate:up\nSELECT 1;\n").unwrap_err().to_string();
        assert!(err.contains("x.sql:1:1") && err.contains("before"), "{err}");
        assert!(dbmate_marker("-- migrate:upgrade", "up").is_none());
    }
}
