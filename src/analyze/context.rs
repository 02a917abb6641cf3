//! What a rule sees: the statement, the migration script around it (transaction blocks,
//! statements before and after), the whole run (what earlier statements created), the PostgreSQL
//! version, the configuration, table sizes and — when traced — what the server did.

use crate::analyze::config::Config;
use crate::locks::LockMode;
use crate::source::Wrapping;
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
    /// Where the sizes in `stats` come from, when they are real numbers.
    pub sizes_from: Option<super::SizeSource>,
    /// The run was traced (`check`), so trace-only rules can fire and ignores of them can match.
    pub traced: bool,
    /// The traced server's major version: when it is not `pg`, whether the server accepts a
    /// statement says nothing about the version being judged.
    pub server_major: Option<u32>,
    /// Relations each statement creates: `created[file][statement]`.
    pub(crate) created: Vec<Vec<Vec<RelationName>>>,
    /// `in_set[file]`: the script belongs to the undeployed set of [`super::Deployment`].
    in_set: Vec<bool>,
    /// Catalogue facts about the target (invalid indexes, publications, replica identities);
    /// empty and not `known` without a target.
    pub facts: &'a TargetFacts,
}

impl<'a> RunCx<'a> {
    pub(crate) fn new(
        subjects: &'a [Subject<'a>],
        pg: u32,
        options: &'a super::Options,
        server_major: Option<u32>,
    ) -> Self {
        let created =
            subjects.iter().map(|s| s.statements.iter().map(super::ast::created_relations).collect()).collect();
        RunCx {
            subjects,
            pg,
            config: &options.config,
            stats: &options.stats,
            sizes_from: options.sizes_from,
            traced: server_major.is_some(),
            server_major,
            created,
            in_set: subjects.iter().map(|s| options.deployment.in_set(s.path)).collect(),
            facts: &options.facts,
        }
    }

    /// Whether scripts `a` and `b` of the run reach the database in the same deployment.
    pub fn deployed_together(&self, a: usize, b: usize) -> bool {
        a == b || (self.in_set[a] && self.in_set[b])
    }

    /// Where a statement before (`file`, `statement`) creates `relation` in the same deployment
    /// (the same script, or an earlier script deployed with it): `(file, statement)`.
    pub fn created_at(&self, relation: &RelationName, file: usize, statement: usize) -> Option<(usize, usize)> {
        self.created.iter().enumerate().take(file + 1).find_map(|(f, statements)| {
            if !self.deployed_together(f, file) {
                return None;
            }
            let end = if f == file { statement } else { statements.len() };
            statements[..end.min(statements.len())]
                .iter()
                .position(|made| made.iter().any(|made| same_relation(made, relation)))
                .map(|s| (f, s))
        })
    }

    /// Whether a statement before (`file`, `statement`) creates `relation` in the same deployment.
    pub fn created_before(&self, relation: &RelationName, file: usize, statement: usize) -> bool {
        self.created_at(relation, file, statement).is_some()
    }

    /// The first statement from `created` (itself, for `CREATE TABLE … AS`) to before (`file`,
    /// `statement`) that fills `relation` with rows (INSERT … SELECT, COPY … FROM), with the index
    /// of its script: a table created and filled is not empty.
    pub fn filled_at(
        &self,
        relation: &RelationName,
        created: (usize, usize),
        file: usize,
        statement: usize,
    ) -> Option<(usize, &'a Statement)> {
        (created.0..=file).find_map(|f| {
            let statements = self.subjects[f].statements;
            let start = if f == created.0 { created.1 } else { 0 };
            let end = if f == file { statement } else { statements.len() };
            let fill =
                statements.get(start..end.min(statements.len()))?.iter().find(|s| super::ast::fills(s, relation));
            fill.map(|fill| (f, fill))
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

    /// Whether PostgreSQL runs the statement inside a transaction block when the runner applies
    /// the script: the file's own BEGIN, the tool's transaction, or a multi-statement query (a
    /// lone statement sent as one query is not in a block).
    pub fn in_transaction_block(&self, index: usize) -> bool {
        match self.blocks.get(index) {
            Some(Block::Explicit(_)) => true,
            Some(Block::Own(_)) | None => false,
            Some(Block::Script(_)) => match self.subject.model.wrapping {
                Wrapping::ToolTransaction => true,
                _ => self.statements().iter().filter(|s| crate::source::has_sql(&s.sql)).count() > 1,
            },
        }
    }

    /// How the runner applies this script.
    pub fn model(&self) -> crate::source::ExecutionModel {
        self.subject.model
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

    pub fn kind(&self) -> &'a crate::sql::StatementKind {
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

/// Which transaction each statement of `subject` runs in when its runner applies it.
pub fn blocks(subject: &Subject<'_>) -> Vec<Block> {
    transaction_blocks(subject.statements, subject.model)
}

/// [`blocks`] for any statements run under `model`.
pub fn transaction_blocks(statements: &[Statement], model: crate::source::ExecutionModel) -> Vec<Block> {
    let autocommit = model.autocommit();
    let mut blocks = Vec::with_capacity(statements.len());
    let mut open: Option<usize> = None;
    let mut explicit_count = 0;
    let mut script = 0;
    for (index, statement) in statements.iter().enumerate() {
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
                    None if autocommit => blocks.push(Block::Own(index)),
                    None => blocks.push(Block::Script(script)),
                }
                script += 1;
            }
            _ => blocks.push(match open {
                Some(n) => Block::Explicit(n),
                None if autocommit => Block::Own(index),
                None => Block::Script(script),
            }),
        }
    }
    blocks
}

/// How `runner` applies a script of these `statements` (`declared_no_transaction`: the script or
/// its metadata says so); Flyway also looks for statements that cannot run in a transaction.
pub fn execution_model(
    runner: crate::source::Runner,
    declared_no_transaction: bool,
    statements: &[Statement],
) -> crate::source::ExecutionModel {
    runner.model(declared_no_transaction, statements.iter().any(needs_own_transaction))
}

/// Whether PostgreSQL refuses the statement inside a transaction block.
pub fn needs_own_transaction(statement: &Statement) -> bool {
    matches!(statement.summary.execution, Execution::NotInTransaction { .. })
}

/// Statements that only change session settings or end a transaction: they do no work and
/// hold no locks of their own.
pub fn is_bookkeeping(statement: &Statement) -> bool {
    statement.summary.kind.is_bookkeeping()
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
