//! Statements that read, write or lock rows: `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `MERGE`,
//! `COPY`, `TRUNCATE`, `LOCK TABLE`.

use pg_query::protobuf as pb;
use pg_query::NodeEnum;

use crate::locks::LockMode;
use crate::sql::summary::{range_var, range_vars, Builder};
use crate::sql::tree::{self, Uses};
use crate::sql::{ObjectKind, StatementKind as K};

use LockMode::{AccessExclusive, AccessShare, RowExclusive};

pub(super) fn describe_data(b: &mut Builder, node: &NodeEnum, uses: &Uses) -> bool {
    match node {
        NodeEnum::SelectStmt(s) => select(b, s, uses),
        NodeEnum::InsertStmt(_) => query(b, K::Insert, uses),
        NodeEnum::UpdateStmt(_) => query(b, K::Update, uses),
        NodeEnum::DeleteStmt(_) => query(b, K::Delete, uses),
        NodeEnum::MergeStmt(_) => query(b, K::Merge, uses),
        NodeEnum::CopyStmt(s) => copy(b, s),
        NodeEnum::TruncateStmt(s) => {
            b.kind(K::Truncate);
            for rel in range_vars(&s.relations) {
                b.lock(rel, ObjectKind::Table, AccessExclusive);
            }
        }
        NodeEnum::LockStmt(s) => lock_table(b, s),
        _ => return false,
    }
    true
}

/// `SELECT`, `SELECT … INTO` (which creates its target) and `VALUES`.
fn select(b: &mut Builder, s: &pb::SelectStmt, uses: &Uses) {
    match &s.into_clause {
        Some(into) => {
            b.kind(K::SelectInto);
            if let Some(rel) = &into.rel {
                b.target(range_var(rel));
            }
        }
        None if !s.values_lists.is_empty() => b.kind(K::Values),
        None => b.kind(K::Select),
    }
    b.query_relations(uses);
}

fn query(b: &mut Builder, kind: K, uses: &Uses) {
    b.kind(kind);
    b.query_relations(uses);
}

/// `LOCK TABLE … IN mode MODE`: the mode written (ACCESS EXCLUSIVE when none is).
fn lock_table(b: &mut Builder, s: &pb::LockStmt) {
    b.kind(K::LockTable);
    let mode = usize::try_from(s.mode)
        .ok()
        .and_then(|mode| LockMode::ALL.get(mode.wrapping_sub(1)).copied())
        .unwrap_or(AccessExclusive);
    for rel in range_vars(&s.relations) {
        b.lock(rel, ObjectKind::Table, mode);
    }
}

/// `COPY … FROM` writes its table, `COPY … TO` reads it; server programs and server files are
/// forbidden, and `FROM STDIN` needs data lockscope does not have.
fn copy(b: &mut Builder, s: &pb::CopyStmt) {
    b.kind(K::Copy);
    b.action(if s.is_from { "FROM" } else { "TO" });
    if let Some(rel) = &s.relation {
        b.lock(range_var(rel), ObjectKind::Table, if s.is_from { RowExclusive } else { AccessShare });
    }
    if let Some(query) = &s.query {
        b.query_relations(&tree::collect(&tree::to_tree(query)));
    }
    if s.is_program {
        b.forbid("COPY … PROGRAM runs a shell command on the database server, which a rollback cannot undo");
    } else if !s.is_from && !s.filename.is_empty() {
        b.forbid("COPY … TO a server file writes outside the database, which a rollback cannot undo");
    } else if s.is_from && s.filename.is_empty() {
        b.forbid("COPY … FROM STDIN needs data that lockscope cannot supply");
    }
}
