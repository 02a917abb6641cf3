//! Every report format, for `check` and `lint`, rendered from fixed data and pinned with insta
//! snapshots; SARIF validated against the official 2.1.0 schema; the Markdown size cap exercised
//! with a migration set far larger than a pull-request comment holds.

#[path = "fixtures/reports/fixture.rs"]
mod fixture;

use lockscope::analyze::FailOn;
use lockscope::report::{self, Format, RenderOptions, Scope, Subject};
use serde_json::Value;

fn options(fail_on: FailOn) -> RenderOptions {
    RenderOptions { color: false, fail_on, base: None }
}

fn render_check(run: &fixture::Run, format: Format) -> String {
    report::render(&Subject::check(&run.report()), format, &options(FailOn::High))
}

fn render_lint(format: Format) -> String {
    let lint = fixture::lint_report();
    report::render(&Subject::lint(&lint), format, &options(FailOn::High))
}

/// The rules' own texts come from the catalogue (owned by the rules); the snapshot pins the shape.
fn without_catalogue_text(sarif: &str) -> Value {
    let mut log: Value = serde_json::from_str(sarif).expect("SARIF is JSON");
    for rule in log["runs"][0]["tool"]["driver"]["rules"].as_array_mut().expect("rules") {
        for field in ["shortDescription", "fullDescription", "help"] {
            if let Some(object) = rule.get_mut(field).and_then(Value::as_object_mut) {
                for (_, text) in object.iter_mut() {
                    *text = Value::String("[catalogue text]".into());
                }
            }
        }
    }
    log
}

/// The official schema's pattern for `run.language` has a stray `]` that ECMAScript reads as a
/// literal (Annex B) but the validator's strict regex check rejects; escaping it keeps the meaning.
const LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";

fn sarif_validator() -> jsonschema::Validator {
    let mut schema: Value =
        serde_json::from_str(include_str!("sarif/sarif-2.1.0-rtm.5.json")).expect("the vendored schema is JSON");
    let escaped = escape_language_patterns(&mut schema);
    assert_eq!(escaped, 2, "the vendored schema changed: revisit the escape of its language patterns");
    jsonschema::options().should_validate_formats(true).build(&schema).expect("the SARIF schema compiles")
}

/// Escapes the stray `]` of every `language` pattern; returns how many it escaped.
fn escape_language_patterns(value: &mut Value) -> usize {
    match value {
        Value::String(text) if text == LANGUAGE_PATTERN => {
            *text = LANGUAGE_PATTERN.replace("]?$", "\\]?$");
            1
        }
        Value::Array(items) => items.iter_mut().map(escape_language_patterns).sum(),
        Value::Object(map) => map.values_mut().map(escape_language_patterns).sum(),
        _ => 0,
    }
}

fn assert_valid_sarif(text: &str, what: &str) {
    let instance: Value = serde_json::from_str(text).expect("SARIF is JSON");
    let validator = sarif_validator();
    let errors: Vec<String> =
        validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what}: SARIF does not match the 2.1.0 schema:\n{}", errors.join("\n"));
}

#[test]
fn check_table() {
    insta::assert_snapshot!(render_check(&fixture::check_trace(), Format::Table));
}

#[test]
fn check_json() {
    insta::assert_snapshot!(render_check(&fixture::check_trace(), Format::Json));
}

#[test]
fn check_markdown() {
    insta::assert_snapshot!(render_check(&fixture::check_trace(), Format::Markdown));
}

#[test]
fn check_html() {
    insta::assert_snapshot!(render_check(&fixture::check_trace(), Format::Html));
}

#[test]
fn check_sarif() {
    let text = render_check(&fixture::check_trace(), Format::Sarif);
    assert_valid_sarif(&text, "check");
    insta::assert_json_snapshot!(without_catalogue_text(&text));
}

#[test]
fn check_github() {
    insta::assert_snapshot!(render_check(&fixture::check_trace(), Format::Github));
}

#[test]
fn lint_table() {
    insta::assert_snapshot!(render_lint(Format::Table));
}

#[test]
fn lint_json() {
    insta::assert_snapshot!(render_lint(Format::Json));
}

#[test]
fn lint_markdown() {
    insta::assert_snapshot!(render_lint(Format::Markdown));
}

#[test]
fn lint_html() {
    insta::assert_snapshot!(render_lint(Format::Html));
}

#[test]
fn lint_sarif() {
    let text = render_lint(Format::Sarif);
    assert_valid_sarif(&text, "lint");
    insta::assert_json_snapshot!(without_catalogue_text(&text));
}

#[test]
fn lint_github() {
    insta::assert_snapshot!(render_lint(Format::Github));
}

#[test]
fn failed_run_in_every_format() {
    let trace = fixture::failed_trace();
    insta::assert_snapshot!("failed_markdown", render_check(&trace, Format::Markdown));
    insta::assert_snapshot!("failed_github", render_check(&trace, Format::Github));
    let sarif = render_check(&trace, Format::Sarif);
    assert_valid_sarif(&sarif, "failed run");
    let log: Value = serde_json::from_str(&sarif).unwrap();
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        5
    );
    let html = render_check(&trace, Format::Html);
    assert!(html.contains("⛔ Failed at <code>db/migrations/003_orders_index_and_backfill.up.sql:5</code>"));
    assert!(html.contains("canceling statement due to lock timeout"));
}

/// `--git-diff`: the first migration only ran as context; its finding is neither shown nor counted.
#[test]
fn context_migrations_are_marked_not_judged() {
    let mut trace = fixture::check_trace();
    let scope = Scope { base: "origin/main".into(), context: vec![fixture::CREATE.into()], skipped: Vec::new() };
    trace.assessment.drop_findings_of(&trace.trace, &scope.context);
    let report = trace.report();
    let subject = Subject::check(&report).with_scope(Some(scope));
    let markdown = report::render(&subject, Format::Markdown, &options(FailOn::High));
    insta::assert_snapshot!("scoped_markdown", markdown);
    assert!(!markdown.contains("LS105"));
    let json: Value = serde_json::from_str(&report::render(&subject, Format::Json, &options(FailOn::High))).unwrap();
    assert_eq!(json["git_diff"]["base"], "origin/main");
    assert_eq!(json["migrations"][0]["context"], true);
    assert!(json["migrations"][1].get("context").is_none());
    assert!(json["findings"].as_array().unwrap().iter().all(|f| f["rule"] != "LS105"));
    let github = report::render(&subject, Format::Github, &options(FailOn::High));
    assert!(!github.contains("001_create_accounts"), "{github}");
    let sarif = report::render(&subject, Format::Sarif, &options(FailOn::High));
    assert_valid_sarif(&sarif, "scoped");
    let table = report::render(&subject, Format::Table, &options(FailOn::High));
    assert!(table.contains("context: applied so later migrations see the right schema, not judged"), "{table}");
}

#[test]
fn verdicts_follow_fail_on() {
    let trace = fixture::check_trace();
    let report = trace.report();
    let subject = Subject::check(&report);
    for (fail_on, first_line) in [
        (FailOn::Critical, "### ❌ lockscope check: 1 finding at or above critical"),
        (FailOn::High, "### ❌ lockscope check: 2 findings at or above high"),
        (FailOn::Medium, "### ❌ lockscope check: 5 findings at or above medium"),
        (FailOn::Low, "### ❌ lockscope check: 7 findings at or above low"),
        (FailOn::Never, "### ✅ lockscope check: findings never fail the run (fail-on never)"),
    ] {
        let markdown = report::render(&subject, Format::Markdown, &options(fail_on));
        assert_eq!(markdown.lines().nth(1), Some(first_line), "{fail_on:?}");
    }
    let failed = fixture::failed_trace();
    let markdown = report::render(&Subject::check(&failed.report()), Format::Markdown, &options(FailOn::Never));
    assert!(
        markdown.lines().nth(1).unwrap().starts_with("### ⛔ lockscope check: a migration failed at"),
        "{markdown}"
    );
}

#[test]
fn markdown_fits_a_pull_request_comment() {
    // 400 migrations, each with a rewrite and five low findings with long texts.
    let trace = fixture::large_trace(400, 5);
    let report = trace.report();
    let subject = Subject::check(&report);
    let full_findings = subject.findings().len();
    assert_eq!(full_findings, 2_400);
    let markdown = report::render(&subject, Format::Markdown, &options(FailOn::High));
    let length = markdown.chars().count();
    assert!(length <= report::markdown::LIMIT, "{length} characters");
    assert!(length > report::markdown::LIMIT / 2, "the cap should be used, not wasted: {length}");
    // The verdict and the summary survive; what was collapsed is said.
    assert!(markdown.starts_with("<!-- lockscope-report -->\n### ❌ lockscope check: 40 findings at or above high"));
    assert!(markdown.contains("Shortened to fit a pull-request comment"), "{}", &markdown[markdown.len() - 2000..]);
    assert!(markdown.contains("low shown on one line each") || markdown.contains("statements not shown"));
    // Every high-severity statement is still named, in full or on one line.
    for index in (0..400).step_by(10) {
        let location = format!("db/migrations/{:04}_change_table_{index}.up.sql:1", index + 1);
        assert!(markdown.contains(&location), "{location} is missing");
    }

    // A smaller set collapses only the low-severity detail.
    let trace = fixture::large_trace(40, 3);
    let markdown = report::render(&Subject::check(&trace.report()), Format::Markdown, &options(FailOn::High));
    assert!(markdown.chars().count() <= report::markdown::LIMIT);
    assert!(markdown.contains("Shortened to fit"));
    assert!(markdown.contains("##### 🟡 `db/migrations/0002_change_table_1.up.sql:1`"), "medium stays in full");

    // A set that fits is not shortened.
    let trace = fixture::large_trace(3, 1);
    let markdown = report::render(&Subject::check(&trace.report()), Format::Markdown, &options(FailOn::High));
    assert!(!markdown.contains("Shortened to fit"));
}

#[test]
fn huge_sets_still_fit_and_say_how_many_were_left_out() {
    let trace = fixture::large_trace(3_000, 2);
    let markdown = report::render(&Subject::check(&trace.report()), Format::Markdown, &options(FailOn::High));
    assert!(markdown.chars().count() <= report::markdown::LIMIT, "{}", markdown.chars().count());
    assert!(markdown.contains("not shown"), "{}", &markdown[markdown.len() - 3000..]);
    assert!(markdown.contains("Shortened to fit"));
}

#[test]
fn large_sarif_is_valid() {
    let trace = fixture::large_trace(50, 2);
    let sarif = render_check(&trace, Format::Sarif);
    assert_valid_sarif(&sarif, "large");
    let log: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 150);
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), 2);
}

/// `scripts/check-html.sh` renders these in headless Chromium: set LOCKSCOPE_REPORT_DIR to get them.
#[test]
fn html_pages_for_the_browser_check() {
    let Some(dir) = std::env::var_os("LOCKSCOPE_REPORT_DIR") else { return };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("check.html"), render_check(&fixture::check_trace(), Format::Html)).unwrap();
    std::fs::write(dir.join("failed.html"), render_check(&fixture::failed_trace(), Format::Html)).unwrap();
    std::fs::write(dir.join("lint.html"), render_lint(Format::Html)).unwrap();
    std::fs::write(dir.join("large.html"), render_check(&fixture::large_trace(40, 1), Format::Html)).unwrap();
}

#[test]
fn the_schema_rejects_what_is_not_sarif() {
    let text = render_check(&fixture::check_trace(), Format::Sarif);
    let mut log: Value = serde_json::from_str(&text).unwrap();
    log["runs"][0]["results"][0]["level"] = Value::String("fatal".into());
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] = Value::from(0);
    let validator = sarif_validator();
    assert_eq!(validator.iter_errors(&log).count(), 2, "the validator must catch a bad level and line 0");
}

#[test]
fn html_is_self_contained() {
    for html in [render_check(&fixture::check_trace(), Format::Html), render_lint(Format::Html)] {
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
        for fetch in ["<script", "<link", "@import", "url(http", "src=\"http", "href=\"http", "<img"] {
            assert!(!html.contains(fetch), "the page must fetch nothing: found {fetch}");
        }
        // The only URL is the SVG namespace, which is a name, not a fetch.
        let urls: Vec<&str> = html
            .match_indices("http://")
            .chain(html.match_indices("https://"))
            .map(|(i, _)| &html[i..(i + 26).min(html.len())])
            .collect();
        assert!(urls.iter().all(|u| *u == "http://www.w3.org/2000/svg"), "{urls:?}");
    }
}

#[test]
fn html_timeline_draws_locks_rewrites_and_the_production_estimate() {
    let html = render_check(&fixture::check_trace(), Format::Html);
    assert_eq!(html.matches("<svg class=\"timeline\"").count(), 2, "dry-run and production timelines");
    assert!(html.contains("Lock timeline of the dry-run"));
    assert!(html.contains("Lock timeline estimated for production"));
    // ACCESS EXCLUSIVE bars: dark red, black outline, labelled.
    assert!(html.contains("class=\"lock lock-AccessExclusiveLock\""));
    assert!(html.contains("fill=\"#b00020\""));
    assert!(html.contains("‼ ACCESS EXCLUSIVE</text>"));
    assert!(html.contains("class=\"rewrite\""));
    assert!(html.contains("class=\"scan\""));
    assert!(html.contains("class=\"not-run\""));
    // The production axis runs to the estimated 12.6 s + 2 ms + 3.9 s (+ the small statements).
    assert!(html.contains("estimated time on production"));
    let lint = render_lint(Format::Html);
    assert!(lint.contains("nothing ran, so there is no timeline"));
}
