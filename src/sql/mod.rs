//! SQL text → statements, with PostgreSQL's own parser (pg_query): where each statement starts,
//! what kind it is, which relations it touches with which documented lock level, and whether
//! lockscope may execute it inside a rolled-back transaction.

use std::borrow::Cow;
use std::path::Path;

use crate::error::{Error, Location, Result};
use crate::locks::LockMode;

mod alter_table;
mod describe;
mod directive;
mod functions;
mod kind;
mod locate;
mod summary;
mod tree;

pub use kind::StatementKind;
/// pg_query's object types, which [`StatementKind::Create`], `Alter` and `Drop` carry.
pub use pg_query::protobuf::ObjectType;

/// A relation name as the SQL wrote it (schema only when written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct RelationName {
    pub schema: Option<String>,
    pub name: String,
}

impl RelationName {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        RelationName { schema: schema.map(str::to_string), name: name.to_string() }
    }

    /// `schema.name` when the schema was written, else `name`; quoted where PostgreSQL needs it,
    /// so the result can be passed to `to_regclass()`.
    pub fn to_sql(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote_identifier(schema), quote_identifier(&self.name)),
            None => quote_identifier(&self.name),
        }
    }
}

impl std::fmt::Display for RelationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_sql())
    }
}

/// Quotes an identifier the way PostgreSQL's `quote_ident()` does: only when it would not
/// survive unquoted (upper case, other characters, a leading digit, or a keyword that is not
/// unreserved).
pub fn quote_identifier(identifier: &str) -> String {
    let plain = identifier.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && identifier.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && !is_keyword_needing_quotes(identifier) {
        identifier.to_string()
    } else {
        format!("\"{}\"", identifier.replace('"', "\"\""))
    }
}

/// Whether PostgreSQL's own keyword table makes `word` unusable as a bare identifier somewhere.
/// Asking the scanner costs a C call and a protobuf round trip, and the same few table and column
/// names come back for every statement: the answers are remembered (per thread, a few hundred
/// words at most for a migration history).
fn is_keyword_needing_quotes(word: &str) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static KNOWN: RefCell<HashMap<String, bool>> = RefCell::new(HashMap::new());
    }
    if let Some(known) = KNOWN.with(|known| known.borrow().get(word).copied()) {
        return known;
    }
    let answer = scan_keyword_needing_quotes(word);
    KNOWN.with(|known| {
        let mut known = known.borrow_mut();
        // Bounded: an unusual input with endless distinct names must not grow memory forever.
        if known.len() >= 4096 {
            known.clear();
        }
        known.insert(word.to_string(), answer);
    });
    answer
}

fn scan_keyword_needing_quotes(word: &str) -> bool {
    use pg_query::protobuf::KeywordKind;
    match pg_query::scan(word) {
        Ok(scanned) => match scanned.tokens.as_slice() {
            [token] => !matches!(
                KeywordKind::try_from(token.keyword_kind),
                Ok(KeywordKind::NoKeyword | KeywordKind::UnreservedKeyword)
            ),
            _ => true,
        },
        Err(_) => true,
    }
}

/// What kind of object a statically known lock is taken on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    Table,
    Index,
    Sequence,
    View,
    Unknown,
}

impl ObjectKind {
    /// As the reports spell a relation kind (the same words as [`relkind_name`]).
    pub fn relkind_name(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Index => "index",
            ObjectKind::Sequence => "sequence",
            ObjectKind::View => "view",
            ObjectKind::Unknown => "unknown",
        }
    }
}

/// `pg_class.relkind` in words, as the JSON report spells it — the one mapping of relation kinds
/// (<https://www.postgresql.org/docs/current/catalog-pg-class.html>).
pub fn relkind_name(relkind: &str) -> &'static str {
    match relkind {
        "r" => "table",
        "i" => "index",
        "S" => "sequence",
        "t" => "toast table",
        "v" => "view",
        "m" => "materialized view",
        "c" => "composite type",
        "f" => "foreign table",
        "p" => "partitioned table",
        "I" => "partitioned index",
        _ => "unknown",
    }
}

/// A lock PostgreSQL's documentation says the statement takes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StaticLock {
    pub relation: RelationName,
    pub kind: ObjectKind,
    pub mode: LockMode,
}

/// What a statement does to the enclosing transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxControl {
    None,
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT`.
    Rollback,
    Savepoint(String),
    Release(String),
    RollbackTo(String),
}

/// Whether lockscope may run the statement inside its always-rolled-back transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Execution {
    /// Safe to execute: every effect is undone by the rollback.
    InTransaction,
    /// PostgreSQL refuses it inside a transaction block (`CONCURRENTLY`, `VACUUM`, …): on a dry-run
    /// target it is reported from static knowledge and never executed.
    NotInTransaction { reason: String },
    /// Has effects a rollback cannot undo (`COPY … PROGRAM`, `PREPARE TRANSACTION`, …): the whole
    /// run is refused before anything executes.
    Forbidden { reason: String },
}

/// What the parser tells about one statement.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// The command, as a DBA says it: `ALTER TABLE`, `CREATE INDEX`, `UPDATE`, `DO` (serialised as
    /// that upper-case text).
    pub kind: StatementKind,
    /// For `ALTER TABLE` and friends, each sub-command: `ADD COLUMN`, `ALTER COLUMN TYPE`,
    /// `SET NOT NULL`, `ADD CONSTRAINT FOREIGN KEY NOT VALID`, `VALIDATE CONSTRAINT`, …
    pub actions: Vec<String>,
    /// Every relation the statement names (the altered table, an index's table, referenced tables).
    pub targets: Vec<RelationName>,
    /// PostgreSQL's documented lock level for each relation the statement locks.
    pub locks: Vec<StaticLock>,
    pub tx: TxControl,
    pub execution: Execution,
    /// Written with `CONCURRENTLY`.
    pub concurrently: bool,
    /// `IF EXISTS` / `IF NOT EXISTS` written (for create/drop statements).
    pub if_exists: bool,
    /// The statement's effects can't be known from its text (`DO`, `CALL`, `SELECT f()`, `EXECUTE`):
    /// observation must look at the whole catalog, not only at `targets`.
    pub opaque: bool,
}

/// `-- lockscope:ignore LS101, LS102 reason` written in the comments just before a statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ignore {
    /// The rule ids, as written. Empty when the directive named none.
    pub rules: Vec<String>,
    pub reason: Option<String>,
    /// 1-based line of the comment.
    pub line: usize,
}

/// One statement of a migration file.
#[derive(Debug, Clone)]
pub struct Statement {
    /// 0-based position in its file.
    pub index: usize,
    /// 1-based line and column of the statement's first token (after leading comments).
    pub line: usize,
    pub column: usize,
    /// Byte range of the statement text in the file.
    pub start: usize,
    pub end: usize,
    /// The statement's text, exactly as in the file, without the trailing `;` or leading comments.
    pub sql: String,
    pub summary: Summary,
    pub ignores: Vec<Ignore>,
    /// The parse tree, for rules that need more than the summary.
    pub ast: Option<pg_query::NodeEnum>,
}

/// Splits and parses one migration file. A syntax error (or non-SQL such as a psql `\` command)
/// is an `Error::Input` naming `path`, the line and the column; nothing is returned then.
pub fn parse_file(path: &Path, text: &str) -> Result<Vec<Statement>> {
    let lines = locate::LineIndex::new(text);
    let error_at = |offset: usize, message: String| {
        let (line, column) = lines.position(offset);
        Error::input(Location::new(path, line, column), message)
    };

    // The parser takes a C string: a NUL would silently cut the file short.
    if let Some(offset) = text.find('\0') {
        return Err(error_at(offset, "the file contains a NUL byte; is it a binary file?".to_string()));
    }

    // PostgreSQL's scanner rejects a byte order mark; blanking it keeps every offset the same.
    let sql_text = match text.strip_prefix(locate::BOM) {
        Some(rest) => Cow::Owned(format!("{}{rest}", " ".repeat(locate::BOM.len_utf8()))),
        None => Cow::Borrowed(text),
    };

    let parsed = match pg_query::parse(&sql_text, 0) {
        Ok(parsed) => parsed,
        Err(error) => {
            let problem = locate::explain_parse_error(&sql_text, &error);
            return Err(error_at(problem.offset, problem.message));
        }
    };
    let tokens = locate::Tokens::scan(&sql_text).map_err(|message| error_at(0, message))?;

    let mut statements = Vec::with_capacity(parsed.protobuf.stmts.len());
    for raw in parsed.protobuf.stmts {
        let Some(span) = tokens.statement_span(text, raw.stmt_location, raw.stmt_len) else {
            continue;
        };
        let ast = raw.stmt.and_then(|node| node.node);
        let summary = match &ast {
            Some(node) => summary::summarize(node),
            None => summary::unknown(),
        };
        let (line, column) = lines.position(span.start);
        statements.push(Statement {
            index: statements.len(),
            line,
            column,
            start: span.start,
            end: span.end,
            sql: text[span.start..span.end].to_string(),
            summary,
            ignores: Vec::new(),
            ast,
        });
    }

    if statements.is_empty() {
        return Err(error_at(0, "the file has no SQL statements (it is empty or holds only comments)".to_string()));
    }

    directive::attach(text, &lines, &tokens, &mut statements);
    Ok(statements)
}

#[cfg(test)]
mod tests;
