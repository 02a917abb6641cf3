//! What a rule sees: the statement, the migration script around it (transaction blocks,
//! statements before and after), the whole run (what earlier statements created), the PostgreSQL
//! version, the configuration, table sizes and — when traced — what the server did.

use crate::config::Config;
use crate::locks::LockMode;
use crate::sql::{Execution, RelationName, Statement, TxControl};
use crate::trace::StatementTrace;

use super::{Severity, Status, Subject, TableStats, TargetFacts};

/// What a trace should show if the rule's prediction is right, about the hit's relation (or any
/// relation when the hit names none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Nothing a trace can see (file layout, idempotency, compatibility): stays `static`.
    Nothing,
    /// A lock at least this strong.
    Lock(LockMode),
    /// The relation's storage replaced.
    Rewrite,
    /// A full scan of the relation.
    Scan,
    /// The server refuses the statement.
    Error,
}

/// One violation a rule found.
#[derive(Debug, Clone)]
pub struct Hit {
    pub message: String,
    pub relation: Option<RelationName>,
    pub expect: Expect,
    /// Overrides the rule's severity for this hit (before configuration and downgrades).
    pub severity: Option<Severity>,
    /// Overrides the rule's safe alternative (version-specific advice).
    pub help: Option<String>,
    /// File rules: the statement the finding belongs to; `None` for the file as a whole.
    pub at: Option<usize>,
    /// The rule judged the trace itself.
    pub verdict: Option<(Status, Vec<String>)>,
}

impl Hit {
    pub fn new(message: impl Into<String>) -> Self {
        Hit {
            message: message.into(),
            relation: None,
            expect: Expect::Nothing,
            severity: None,
            help: None,
            at: None,
            verdict: None,
        }
    }

    pub fn on(mut self, relation: &RelationName) -> Self {
        self.relation = Some(relation.clone());
        self
    }

    pub fn expect(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn at(mut self, index: usize) -> Self {
        self.at = Some(index);
        self
    }

    pub fn verdict(mut self, status: Status, evidence: Vec<String>) -> Self {
        self.verdict = Some((status, evidence));
        self
    }
}

/// Which transaction a statement runs in when the migration is applied for real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// Between the file's own `BEGIN` and `COMMIT`/`ROLLBACK` (the n-th such block).
    Explicit(usize),
    /// Outside any `BEGIN`: the tool wraps the script in one transaction, or sends it as one
    /// multi-statement query, which PostgreSQL runs as one implicit transaction. A stray
    /// `COMMIT` ends it and starts the next (the n-th).
    Script(usize),
    /// A script declared to run outside a transaction: every statement commits on its own.
    Own(usize),
}

/// The whole run: every script, what each statement creates, the version and the settings.
pub struct RunCx<'a> {
    pub subjects: &'a [Subject<'a>],
    pub pg: u32,
    pub config: &'a Config,
    pub stats: &'a TableStats,
    /// The run was traced (`check`), so trace-only rules can fire and ignores of them can match.
    pub traced: bool,
    /// The traced server's major version: when it is not `pg`, whether the server accepts a
    /// statement says nothing about the version being judged.
    pub server_major: Option<u32>,
    /// Relations each statement creates: `created[file][statement]`.
    pub(crate) created: Vec<Vec<Vec<RelationName>>>,
    /// Catalogue facts about the target (invalid indexes, publications, replica identities);
    /// empty and not `known` without a target.
    pub facts: &'a TargetFacts,
}

impl<'a> RunCx<'a> {
    pub(crate) fn new(
        subjects: &'a [Subject<'a>],
        pg: u32,
        config: &'a Config,
        stats: &'a TableStats,
        server_major: Option<u32>,
    ) -> Self {
        let created =
            subjects.iter().map(|s| s.statements.iter().map(super::ast::created_relations).collect()).collect();
        static UNKNOWN: std::sync::OnceLock<TargetFacts> = std::sync::OnceLock::new();
        let facts = UNKNOWN.get_or_init(TargetFacts::default);
        RunCx { subjects, pg, config, stats, traced: server_major.is_some(), server_major, created, facts }
    }

    /// The run with what the target's catalogues say ([`super::Options::facts`]).
    pub(crate) fn with_facts(mut self, facts: &'a TargetFacts) -> Self {
        self.facts = facts;
        self
    }

    /// Whether a statement before (`file`, `statement`) in this run creates `relation`.
    pub fn created_before(&self, relation: &RelationName, file: usize, statement: usize) -> bool {
        self.created.iter().enumerate().take(file + 1).any(|(f, statements)| {
            let end = if f == file { statement } else { statements.len() };
            statements[..end.min(statements.len())].iter().flatten().any(|made| same_relation(made, relation))
        })
    }
}

/// One migration script.
pub struct FileCx<'a> {
    pub run: &'a RunCx<'a>,
    pub index: usize,
    pub subject: &'a Subject<'a>,
    /// What each statement did, by statement index, when traced and reached.
    pub traces: Vec<Option<&'a StatementTrace>>,
    pub blocks: Vec<Block>,
}

impl<'a> FileCx<'a> {
    pub(crate) fn new(run: &'a RunCx<'a>, index: usize, traces: Vec<Option<&'a StatementTrace>>) -> Self {
        let subject = &run.subjects[index];
        FileCx { run, index, subject, traces, blocks: blocks(subject) }
    }

    pub fn statements(&self) -> &'a [Statement] {
        self.subject.statements
    }

    pub fn pg(&self) -> u32 {
        self.run.pg
    }

    /// Whether statements `a` and `b` of this script share a transaction when applied for real.
    pub fn same_transaction(&self, a: usize, b: usize) -> bool {
        match (self.blocks.get(a), self.blocks.get(b)) {
            (Some(Block::Own(x)), Some(Block::Own(y))) => x == y,
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// Whether the statement sits between the script's own `BEGIN` and `COMMIT`.
    pub fn in_explicit_block(&self, index: usize) -> bool {
        matches!(self.blocks.get(index), Some(Block::Explicit(_)))
    }

    /// Whether `relation` already existed before statement `index` of this script ran (it was not
    /// created earlier in the run).
    pub fn existing(&self, relation: &RelationName, index: usize) -> bool {
        !self.run.created_before(relation, self.index, index)
    }
}

/// One statement, in its script, in its run.
pub struct Cx<'a> {
    pub file: &'a FileCx<'a>,
    pub index: usize,
    pub statement: &'a Statement,
    /// What the server did, when traced and executed or attempted.
    pub trace: Option<&'a StatementTrace>,
}

impl<'a> Cx<'a> {
    pub fn pg(&self) -> u32 {
        self.file.run.pg
    }

    pub fn config(&self) -> &'a Config {
        self.file.run.config
    }

    /// What the target's catalogues say (not `known` without a target).
    pub fn facts(&self) -> &'a TargetFacts {
        self.file.run.facts
    }

    pub fn kind(&self) -> &'a str {
        &self.statement.summary.kind
    }

    pub fn ast(&self) -> Option<&'a pg_query::NodeEnum> {
        self.statement.ast.as_ref()
    }

    /// What the server did, when the statement ran without error on the version being judged (a
    /// server of another major version may rewrite or scan differently).
    pub fn observed(&self) -> Option<&'a StatementTrace> {
        let same_version = self.file.run.server_major == Some(self.pg());
        self.trace.filter(|t| same_version && t.executed && t.error.is_none())
    }

    /// Whether `relation` existed before this statement (was not created earlier in the run).
    pub fn existing(&self, relation: &RelationName) -> bool {
        self.file.existing(relation, self.index)
    }

    /// Statements of the same script before this one, nearest last.
    pub fn before(&self) -> &'a [Statement] {
        &self.file.statements()[..self.index]
    }

    /// Statements of the same script after this one.
    pub fn after(&self) -> &'a [Statement] {
        &self.file.statements()[self.index + 1..]
    }

    /// Every statement the run applies before this one: earlier scripts, then this script's.
    pub fn earlier_in_run(&self) -> impl Iterator<Item = &'a Statement> {
        let subjects = self.file.run.subjects;
        let here = &subjects[self.file.index].statements[..self.index];
        subjects[..self.file.index].iter().flat_map(|s| s.statements.iter()).chain(here.iter())
    }

    /// The first relation the statement names (the altered table, the index's table).
    pub fn target(&self) -> Option<&'a RelationName> {
        self.statement.summary.targets.first()
    }
}

/// Relations written `users` and `public.users` are taken to be the same table (the usual
/// search_path); `a.users` and `b.users` are not.
pub fn same_relation(a: &RelationName, b: &RelationName) -> bool {
    let schema = |r: &RelationName| r.schema.clone().unwrap_or_else(|| "public".to_string());
    a.name == b.name && (a.schema.is_none() || b.schema.is_none() || schema(a) == schema(b))
}

/// Whether the trace's `schema.name` (TOAST and index suffixes aside) is `relation` as written.
pub fn traced_is(relation: &RelationName, traced: &str) -> bool {
    let traced = traced.trim_end_matches(" (TOAST)");
    match traced.split_once('.') {
        Some((schema, name)) => same_relation(relation, &RelationName::new(Some(schema), name)),
        None => relation.name == traced,
    }
}

fn blocks(subject: &Subject<'_>) -> Vec<Block> {
    let mut blocks = Vec::with_capacity(subject.statements.len());
    let mut open: Option<usize> = None;
    let mut explicit_count = 0;
    let mut script = 0;
    for (index, statement) in subject.statements.iter().enumerate() {
        match statement.summary.tx {
            TxControl::Begin => {
                if open.is_none() {
                    open = Some(explicit_count);
                    explicit_count += 1;
                }
                blocks.push(Block::Explicit(open.unwrap_or_default()));
            }
            TxControl::Commit | TxControl::Rollback => {
                match open.take() {
                    Some(n) => blocks.push(Block::Explicit(n)),
                    None if subject.no_transaction => blocks.push(Block::Own(index)),
                    None => blocks.push(Block::Script(script)),
                }
                script += 1;
            }
            _ => blocks.push(match open {
                Some(n) => Block::Explicit(n),
                None if subject.no_transaction => Block::Own(index),
                None => Block::Script(script),
            }),
        }
    }
    blocks
}

/// Whether PostgreSQL refuses the statement inside a transaction block.
pub fn needs_own_transaction(statement: &Statement) -> bool {
    matches!(statement.summary.execution, Execution::NotInTransaction { .. })
}

/// Statements that only change session settings or end a transaction: they do no work and
/// hold no locks of their own.
pub fn is_bookkeeping(statement: &Statement) -> bool {
    matches!(statement.summary.kind.as_str(), "SET" | "RESET" | "SHOW" | "COMMIT" | "ROLLBACK" | "BEGIN")
        || matches!(statement.summary.tx, TxControl::Release(_) | TxControl::Savepoint(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unqualified_names_match_public() {
        let users = RelationName::new(None, "users");
        assert!(same_relation(&users, &RelationName::new(Some("public"), "users")));
        assert!(same_relation(&users, &RelationName::new(Some("app"), "users")));
        assert!(!same_relation(&RelationName::new(Some("a"), "users"), &RelationName::new(Some("b"), "users")));
        assert!(traced_is(&users, "public.users"));
        assert!(traced_is(&users, "public.users (TOAST)"));
        assert!(!traced_is(&users, "public.users_pkey"));
    }
}
