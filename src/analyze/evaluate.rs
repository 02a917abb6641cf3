//! Runs the rules and turns their hits into findings: the trace's verdict (confirmed, not
//! observed), the configured severity, downgrades (empty table, table created by the run) and
//! the ignore directives.

use crate::sql::RelationName;
use crate::trace::{StatementTrace, Trace};

use super::Finding;

use super::catalogue::{self, Check, Rule, RuleKind};
use super::context::{traced_is, Cx, Expect, FileCx, Hit, RunCx};
use super::{MigrationFindings, Options, Severity, Status, Subject};

/// Rule id: an ignore directive without a reason.
pub const IGNORE_WITHOUT_REASON: &str = "LS901";
/// Rule id: an ignore directive that matches no finding.
pub const UNUSED_IGNORE: &str = "LS902";

pub(crate) fn run(subjects: &[Subject<'_>], trace: Option<&Trace>, options: &Options) -> Vec<MigrationFindings> {
    let server_major = trace.map(|t| t.server.major() as u32);
    let run = RunCx::new(subjects, options.pg_major(trace), options, server_major);
    let mut all = Vec::with_capacity(subjects.len());
    for (index, subject) in subjects.iter().enumerate() {
        let migration = trace.and_then(|t| t.migrations.get(index));
        let traces: Vec<Option<&StatementTrace>> = (0..subject.statements.len())
            .map(|i| migration.and_then(|m| m.statements.iter().find(|s| s.index == i)))
            .collect();
        let file = FileCx::new(&run, index, traces);
        all.push(evaluate_file(&file, options));
    }
    all
}

fn evaluate_file(file: &FileCx<'_>, options: &Options) -> MigrationFindings {
    let count = file.statements().len();
    let mut found = MigrationFindings { file: Vec::new(), statements: vec![Vec::new(); count] };
    for rule in catalogue::all() {
        if !options.config.enabled(rule) || (rule.kind == RuleKind::TraceOnly && !file.run.traced) {
            continue;
        }
        match rule.check {
            Check::Statement(check) => {
                for (index, statement) in file.statements().iter().enumerate() {
                    let cx = Cx { file, index, statement, trace: file.traces[index] };
                    for hit in check(&cx) {
                        found.statements[index].push(finding(rule, hit, Some(index), file, options));
                    }
                }
            }
            Check::File(check) => {
                for hit in check(file) {
                    match hit.at.filter(|&i| i < count) {
                        Some(index) => found.statements[index].push(finding(rule, hit, Some(index), file, options)),
                        None => found.file.push(finding(rule, hit, None, file, options)),
                    }
                }
            }
            Check::Engine => {}
        }
    }
    for index in 0..count {
        apply_ignores(file, index, &mut found.statements[index], options);
        found.statements[index].sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.rule.cmp(&b.rule)));
    }
    found
}

fn finding(rule: &Rule, hit: Hit, at: Option<usize>, file: &FileCx<'_>, options: &Options) -> Finding {
    let trace = at.and_then(|i| file.traces[i]);
    let (status, evidence) = match hit.verdict.clone() {
        Some(verdict) => verdict,
        None => judge(&hit, trace, file.run),
    };
    let mut severity = options.config.severity(rule).or(hit.severity).unwrap_or(rule.severity);
    let mut message = hit.message;
    let mut evidence = evidence;
    let mut downgraded = None;
    if let (Some(relation), Some(index)) = (&hit.relation, at) {
        match scope(relation, index, file) {
            Scope::New(why) => {
                downgraded = Some(why);
                severity = Severity::Low;
            }
            Scope::NewButFilled(why) if rule.size_matters => {
                // No one else uses the new table yet, but its rows make the statement slow.
                evidence.push(why);
                severity = severity.min(Severity::Medium);
            }
            Scope::NewButFilled(_) => {
                downgraded =
                    Some(format!("{relation} is created earlier in this migration: no one else can be using it yet"));
                severity = Severity::Low;
            }
            Scope::Existing if rule.size_matters => match size(relation, trace, file) {
                Size::Small(why) => {
                    downgraded = Some(why);
                    severity = Severity::Low;
                }
                Size::Unknown if status != Status::NotObserved => {
                    message.push_str(&format!(
                        " (size of {relation} unknown — pass --database-url or --production-stats; judged as populated)"
                    ));
                    evidence.push(format!("size of {relation} unknown: judged as a populated table"));
                }
                Size::Unknown | Size::Big => {}
            },
            Scope::Existing => {}
        }
    }
    if downgraded.is_none() && status == Status::NotObserved {
        downgraded = Some(format!("the trace did not show it ({})", evidence.join("; ")));
        severity = Severity::Low;
    }
    let line = at.map_or(1, |i| file.statements()[i].line);
    Finding {
        rule: rule.id.to_string(),
        name: rule.name.to_string(),
        severity,
        status,
        message,
        help: hit.help.unwrap_or_else(|| rule.fix.to_string()),
        path: Some(file.subject.path.display().to_string()),
        line: Some(line),
        relation: hit.relation.map(|r| r.to_string()),
        evidence,
        downgraded,
    }
}

/// What the trace says about the hit's prediction.
fn judge(hit: &Hit, trace: Option<&StatementTrace>, run: &RunCx<'_>) -> (Status, Vec<String>) {
    let Some(trace) = trace else { return (Status::Static, Vec::new()) };
    if !trace.executed {
        let reason = trace.not_executed_reason.clone().unwrap_or_else(|| "not executed".to_string());
        return (Status::Static, vec![reason]);
    }
    // Rewrites, scans and syntax changed across versions; lock levels (14+) did not.
    if let (Expect::Error | Expect::Rewrite | Expect::Scan, Some(server)) = (hit.expect, run.server_major) {
        if server != run.pg {
            let note = format!("judged for PostgreSQL {}; the trace ran on PostgreSQL {server}", run.pg);
            return (Status::Static, vec![note]);
        }
    }
    let about = |name: &str| hit.relation.as_ref().is_none_or(|r| traced_is(r, name));
    let described = hit.relation.as_ref().map_or_else(|| "any relation".to_string(), RelationName::to_string);
    match hit.expect {
        Expect::Error => match &trace.error {
            Some(error) => (Status::Confirmed, vec![format!("the server refused it: {}", error.message)]),
            None => (Status::NotObserved, vec!["the server accepted it".to_string()]),
        },
        _ if trace.error.is_some() => {
            let message = trace.error.as_ref().map(|e| e.message.clone()).unwrap_or_default();
            (Status::Static, vec![format!("the statement failed: {message}")])
        }
        Expect::Nothing => (Status::Static, Vec::new()),
        Expect::Lock(mode) => {
            let seen: Vec<String> = trace
                .locks
                .iter()
                .filter(|lock| lock.mode >= mode && about(&lock.relation))
                .map(|lock| format!("{} on {} ({})", lock.mode, lock.relation, source_name(lock.source)))
                .collect();
            if seen.is_empty() {
                (Status::NotObserved, vec![format!("no {mode} or stronger on {described}")])
            } else {
                (Status::Confirmed, seen)
            }
        }
        Expect::Rewrite => {
            let seen: Vec<String> = trace
                .rewrites
                .iter()
                .filter(|r| r.relkind.ends_with("table") && about(&r.relation))
                .map(|r| match r.rows_estimate {
                    rows if rows >= 0.0 => format!("rewrote {} (~{rows:.0} rows)", r.relation),
                    _ => format!("rewrote {}", r.relation),
                })
                .collect();
            if seen.is_empty() {
                (Status::NotObserved, vec![format!("{described} was not rewritten")])
            } else {
                (Status::Confirmed, seen)
            }
        }
        Expect::Scan => {
            let seen: Vec<String> = trace
                .scans
                .iter()
                .filter(|s| about(&s.relation))
                .map(|s| format!("read all {} rows of {}", s.rows / s.scans.max(1), s.relation))
                .collect();
            if seen.is_empty() {
                (Status::NotObserved, vec![format!("no full scan of {described}")])
            } else {
                (Status::Confirmed, seen)
            }
        }
    }
}

fn source_name(source: crate::trace::LockSource) -> &'static str {
    match source {
        crate::trace::LockSource::Observed => "observed",
        crate::trace::LockSource::Inferred => "inferred",
    }
}

/// Whether a relation a finding is about is new to the deployment the migration belongs to.
enum Scope {
    /// Created earlier in this migration, or by an earlier migration deployed with it.
    New(String),
    /// New, but filled with rows (INSERT … SELECT, COPY) after it was created.
    NewButFilled(String),
    Existing,
}

fn scope(relation: &RelationName, index: usize, file: &FileCx<'_>) -> Scope {
    let run = file.run;
    let Some(created) = run.created_at(relation, file.index, index) else { return Scope::Existing };
    let creator = &run.subjects[created.0];
    let place = if created.0 == file.index {
        "earlier in this migration".to_string()
    } else {
        format!("by migration {} {}, deployed together with this one", creator.version, creator.path.display())
    };
    match run.filled_at(relation, created, file.index, index) {
        Some((filling, fill)) => Scope::NewButFilled(format!(
            "{relation} is created {place}, but {} at {}:{} fills it with rows: not empty",
            fill.summary.kind,
            run.subjects[filling].path.display(),
            fill.line
        )),
        None => Scope::New(format!("{relation} is created {place}: no one else can be using it yet")),
    }
}

/// What the numbers say about an existing table's size.
enum Size {
    /// Empty, or below [`super::SMALL_TABLE_ROWS`] (and quick where the statement was timed).
    Small(String),
    Big,
    /// No real numbers: the embedded scratch database is empty only because it is new.
    Unknown,
}

/// Judges an existing relation's size from real numbers only: the rows this statement read on a
/// staging target, else the target's or the production snapshot's statistics.
fn size(relation: &RelationName, trace: Option<&StatementTrace>, file: &FileCx<'_>) -> Size {
    let Some(source) = file.run.sizes_from else { return Size::Unknown };
    let seen: Vec<i64> = trace
        .filter(|_| source == super::SizeSource::Target)
        .map(|t| t.scans.iter().filter(|s| traced_is(relation, &s.relation)).map(|s| s.rows / s.scans.max(1)).collect())
        .unwrap_or_default();
    let rows = match seen.iter().max() {
        Some(rows) => Some(*rows as f64),
        None => file.run.stats.get(relation).and_then(|size| match size.rows() {
            Some(rows) => Some(rows),
            None if size.pages == 0 => Some(0.0),
            None => None,
        }),
    };
    let Some(rows) = rows else { return Size::Unknown };
    let took = trace.filter(|t| t.executed && source == super::SizeSource::Target).and_then(|t| t.duration_ms);
    if rows == 0.0 {
        return Size::Small(format!("{relation} is empty ({})", source.label()));
    }
    // A team that calls fewer rows large (`large_table_rows` in lockscope.toml) is taken at its word.
    let small = super::SMALL_TABLE_ROWS.min(file.run.config.thresholds.large_table_rows as f64);
    if rows < small && took.is_none_or(|ms| ms < super::SMALL_STATEMENT_MS) {
        let timing = took.map(|ms| format!(", the statement took {}", crate::units::format_ms(ms))).unwrap_or_default();
        return Size::Small(format!(
            "{relation} is small: {} rows ({}){timing}, under the {} rows lockscope counts as small",
            rows as i64,
            source.label(),
            small as i64
        ));
    }
    Size::Big
}

/// `-- lockscope:ignore LS101 reason`: drops the named findings of the statement; reports a
/// directive without a reason (and does not apply it) and rule ids that matched nothing.
fn apply_ignores(file: &FileCx<'_>, index: usize, findings: &mut Vec<Finding>, options: &Options) {
    let statement = &file.statements()[index];
    let mut meta = Vec::new();
    for ignore in &statement.ignores {
        let written = ignore.rules.join(", ");
        if ignore.reason.is_none() {
            meta.push((
                IGNORE_WITHOUT_REASON,
                ignore.line,
                format!(
                    "`lockscope:ignore {written}` gives no reason, so it is not applied; write why the risk is \
                     acceptable after the rule ids"
                ),
            ));
            continue;
        }
        if ignore.rules.is_empty() {
            meta.push((UNUSED_IGNORE, ignore.line, "`lockscope:ignore` names no rule id".to_string()));
            continue;
        }
        for id in &ignore.rules {
            let Some(rule) = catalogue::find(id) else {
                meta.push((UNUSED_IGNORE, ignore.line, format!("`lockscope:ignore {id}`: there is no rule {id}")));
                continue;
            };
            let before = findings.len();
            findings.retain(|f| f.rule != rule.id);
            let matched = findings.len() < before;
            let could_match = options.config.enabled(rule) && (rule.kind != RuleKind::TraceOnly || file.run.traced);
            if !matched && could_match {
                meta.push((
                    UNUSED_IGNORE,
                    ignore.line,
                    format!("`lockscope:ignore {id}` matches no finding on this statement; remove it"),
                ));
            }
        }
    }
    for (id, line, message) in meta {
        let Some(rule) = catalogue::find(id) else { continue };
        if !options.config.enabled(rule) {
            continue;
        }
        findings.push(Finding {
            rule: rule.id.to_string(),
            name: rule.name.to_string(),
            severity: options.config.severity(rule).unwrap_or(rule.severity),
            status: Status::Static,
            message,
            help: rule.fix.to_string(),
            path: Some(file.subject.path.display().to_string()),
            line: Some(line),
            relation: None,
            evidence: Vec::new(),
            downgraded: None,
        });
    }
}
