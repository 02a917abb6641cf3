//! Rules whose logic runs after the trace, outside the rule engine: index usage (LS201–LS205,
//! `crate::analyze::impact::index_usage`) and `--reversible` (LS301–LS303, `crate::reversible`). They
//! are catalogue entries like every rule (`kind: TraceOnly`, `check: Engine`); this is where
//! `lockscope.toml` and `lockscope:ignore` reach their findings, since the engine's own pass
//! ([`super::evaluate`]) is over before they exist.

use crate::plan::PlannedMigration;
use crate::sql::Statement;
use crate::trace::Trace;

use super::config::Config;
use super::{Assessment, Finding};

use super::catalogue::{self, Check, Rule, RuleKind};
use super::Severity;

/// Whether the rule's findings are made after the trace (index usage, reversibility).
pub fn is_late(rule: &Rule) -> bool {
    rule.kind == RuleKind::TraceOnly && matches!(rule.check, Check::Engine)
}

/// The late rule with this id, if `id` is one.
fn late_rule(id: &str) -> Option<&'static Rule> {
    catalogue::find(id).filter(|rule| is_late(rule))
}

/// Applies the configuration and the statement's ignore directives to the late findings among
/// `findings` (the findings attached to `statement`; others are left alone):
/// - a rule turned off in `lockscope.toml` loses its findings;
/// - a severity set in `lockscope.toml` replaces the finding's (one step lower when the finding
///   was downgraded, e.g. usage statistics reset recently);
/// - `-- lockscope:ignore LS201 reason` drops that rule's findings, and the LS902 ("matches no
///   finding") the engine wrote for the directive before the late findings existed. A directive
///   without a reason is not applied (the engine reported it as LS901).
pub fn suppress_late(findings: &mut Vec<Finding>, statement: &Statement, config: &Config) {
    findings.retain(|finding| late_rule(&finding.rule).is_none_or(|rule| config.enabled(rule)));
    for finding in findings.iter_mut() {
        let Some(rule) = late_rule(&finding.rule) else { continue };
        if let Some(configured) = config.severity(rule) {
            finding.severity = if finding.downgraded.is_some() { lower(configured) } else { configured };
        }
    }
    for ignore in statement.ignores.iter().filter(|ignore| ignore.reason.is_some()) {
        for written in &ignore.rules {
            let Some(rule) = late_rule(written) else { continue };
            let before = findings.len();
            findings.retain(|finding| finding.rule != rule.id);
            if findings.len() < before {
                let unused = format!("`lockscope:ignore {written}` matches no finding");
                findings.retain(|finding| {
                    !(finding.rule == super::evaluate::UNUSED_IGNORE
                        && finding.line == Some(ignore.line)
                        && finding.message.starts_with(&unused))
                });
            }
        }
    }
}

/// [`suppress_late`] over every statement of a traced plan (`trace.migrations[i]` is `plan[i]`,
/// `assessment.migrations[i]` judges it).
pub fn suppress_late_in(assessment: &mut Assessment, trace: &Trace, plan: &[PlannedMigration], config: &Config) {
    for ((migration, judged), planned) in trace.migrations.iter().zip(&mut assessment.migrations).zip(plan) {
        for (statement, verdict) in migration.statements.iter().zip(&mut judged.statements) {
            if let Some(parsed) = planned.statements.get(statement.index) {
                suppress_late(&mut verdict.findings, parsed, config);
            }
        }
    }
}

fn lower(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        _ => Severity::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::Status;
    use std::path::Path;

    fn statement(sql: &str) -> Statement {
        crate::sql::parse_file(Path::new("001_a.up.sql"), sql).unwrap().remove(0)
    }

    fn late(rule: &str, severity: Severity) -> Finding {
        let entry = catalogue::find(rule).unwrap();
        Finding {
            rule: entry.id.into(),
            name: entry.name.into(),
            severity,
            status: Status::TraceOnly,
            message: "m".into(),
            help: entry.fix.into(),
            path: None,
            line: Some(2),
            relation: None,
            evidence: Vec::new(),
            downgraded: None,
        }
    }

    fn config(text: &str) -> Config {
        Config::parse(Path::new("lockscope.toml"), text).unwrap()
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn the_late_rules_are_in_the_catalogue() {
        let late: Vec<&str> = catalogue::all().iter().filter(|r| is_late(r)).map(|r| r.id).collect();
        assert_eq!(late, ["LS201", "LS202", "LS203", "LS204", "LS205", "LS301", "LS302", "LS303"]);
        assert!(!is_late(catalogue::find("LS901").unwrap()), "directives are engine rules, not late ones");
        assert!(!is_late(catalogue::find("LS002").unwrap()), "trace-only rules of the engine");
    }

    #[test]
    fn ignore_directives_drop_late_findings_and_their_unused_report() {
        let statement = statement("-- lockscope:ignore LS201 the index is replaced below\nDROP INDEX i;");
        let line = statement.ignores[0].line;
        let mut unused = late("LS902", Severity::Medium);
        unused.status = Status::Static;
        unused.line = Some(line);
        unused.message = "`lockscope:ignore LS201` matches no finding on this statement; remove it".into();
        let mut findings = vec![late("LS201", Severity::High), late("LS203", Severity::Medium), unused];
        suppress_late(&mut findings, &statement, &Config::default());
        assert_eq!(rules(&findings), ["LS203"]);
    }

    #[test]
    fn any_case_works_and_a_directive_without_reason_does_not() {
        let lower = statement("-- lockscope:ignore ls201 replaced by orders_user_idx\nDROP INDEX i;");
        let mut findings = vec![late("LS201", Severity::High)];
        suppress_late(&mut findings, &lower, &Config::default());
        assert!(findings.is_empty(), "{:?}", lower.ignores);
        let no_reason = statement("-- lockscope:ignore LS201\nDROP INDEX i;");
        let mut findings = vec![late("LS201", Severity::High)];
        suppress_late(&mut findings, &no_reason, &Config::default());
        assert_eq!(rules(&findings), ["LS201"]);
    }

    #[test]
    fn the_configuration_disables_and_reweighs_late_rules() {
        let config = config("[rules]\nLS203 = \"off\"\nforeign-key-without-index = \"critical\"\nLS201 = \"high\"\n");
        let mut downgraded = late("LS201", Severity::Medium);
        downgraded.downgraded = Some("statistics reset 2 days ago".into());
        let mut findings = vec![
            late("LS203", Severity::Medium),
            late("LS204", Severity::Medium),
            downgraded,
            late("LS107", Severity::High),
        ];
        let plain = statement("SELECT 1;");
        suppress_late(&mut findings, &plain, &config);
        let got: Vec<(&str, Severity)> = findings.iter().map(|f| (f.rule.as_str(), f.severity)).collect();
        assert_eq!(got, [("LS204", Severity::Critical), ("LS201", Severity::Medium), ("LS107", Severity::High)]);
    }
}
