//! Statements about the session and its transaction: `BEGIN`/`COMMIT`/savepoints, `SET`/`RESET`/
//! `SHOW`, `DISCARD`, `LOAD`, `CHECKPOINT`, `SET CONSTRAINTS`, notifications and cursors.

use pg_query::protobuf::{self as pb, DiscardMode, TransactionStmtKind, VariableSetKind};
use pg_query::NodeEnum;

use crate::sql::summary::Builder;
use crate::sql::{StatementKind as K, TxControl};

pub(super) fn describe_session(b: &mut Builder, node: &NodeEnum) -> bool {
    match node {
        NodeEnum::TransactionStmt(s) => transaction(b, s),
        NodeEnum::VariableSetStmt(s) => set(b, s),
        NodeEnum::VariableShowStmt(_) => b.kind(K::Show),
        NodeEnum::DiscardStmt(s) => {
            b.kind(K::Discard);
            if DiscardMode::try_from(s.target) == Ok(DiscardMode::DiscardAll) {
                b.not_in_transaction("DISCARD ALL cannot run inside a transaction block");
            }
        }
        NodeEnum::LoadStmt(_) => {
            b.kind(K::Load);
            b.forbid("LOAD loads a shared library into the server process, which a rollback cannot undo");
        }
        NodeEnum::CheckPointStmt(_) => {
            b.kind(K::Checkpoint);
            b.forbid("CHECKPOINT forces a server-wide checkpoint, which a rollback cannot undo");
        }
        NodeEnum::ConstraintsSetStmt(_) => b.kind(K::SetConstraints),
        NodeEnum::NotifyStmt(_) => b.kind(K::Notify),
        NodeEnum::ListenStmt(_) => b.kind(K::Listen),
        NodeEnum::UnlistenStmt(_) => b.kind(K::Unlisten),
        NodeEnum::DeallocateStmt(_) => b.kind(K::Deallocate),
        NodeEnum::ClosePortalStmt(_) => b.kind(K::Close),
        NodeEnum::FetchStmt(s) => b.kind(if s.ismove { K::Move } else { K::Fetch }),
        _ => return false,
    }
    true
}

/// `SET` / `RESET`; changing the session's user is forbidden.
fn set(b: &mut Builder, s: &pb::VariableSetStmt) {
    let reset =
        matches!(VariableSetKind::try_from(s.kind), Ok(VariableSetKind::VarReset | VariableSetKind::VarResetAll));
    b.kind(if reset { K::Reset } else { K::Set });
    if s.name == "session_authorization" {
        b.forbid("SET/RESET SESSION AUTHORIZATION changes the session's user, which outlives lockscope's rollback");
    }
}

/// Transaction control: what it does to the enclosing transaction; two-phase commit is forbidden.
fn transaction(b: &mut Builder, s: &pb::TransactionStmt) {
    use TransactionStmtKind as Kind;
    let (kind, tx) = match Kind::try_from(s.kind).unwrap_or(Kind::Undefined) {
        Kind::TransStmtBegin | Kind::TransStmtStart => (K::Begin, TxControl::Begin),
        Kind::TransStmtCommit => (K::Commit, TxControl::Commit),
        Kind::TransStmtRollback => (K::Rollback, TxControl::Rollback),
        Kind::TransStmtSavepoint => (K::Savepoint, TxControl::Savepoint(s.savepoint_name.clone())),
        Kind::TransStmtRelease => (K::ReleaseSavepoint, TxControl::Release(s.savepoint_name.clone())),
        Kind::TransStmtRollbackTo => (K::RollbackToSavepoint, TxControl::RollbackTo(s.savepoint_name.clone())),
        Kind::TransStmtPrepare => {
            b.forbid("PREPARE TRANSACTION hands the transaction to two-phase commit, outside lockscope's rollback");
            (K::PrepareTransaction, TxControl::None)
        }
        Kind::TransStmtCommitPrepared => {
            b.forbid("COMMIT PREPARED commits a prepared transaction, which a rollback cannot undo");
            (K::CommitPrepared, TxControl::None)
        }
        Kind::TransStmtRollbackPrepared => {
            b.forbid("ROLLBACK PREPARED discards a prepared transaction, which a rollback cannot undo");
            (K::RollbackPrepared, TxControl::None)
        }
        Kind::Undefined => (K::Transaction, TxControl::None),
    };
    b.kind(kind);
    b.tx = tx;
}
