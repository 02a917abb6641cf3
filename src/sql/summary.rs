//! Parse tree → [`Summary`]: the command's name, its sub-commands, the relations it names with
//! PostgreSQL's documented lock level on each, and whether lockscope may execute it.
//!
//! Lock levels follow the PostgreSQL documentation ("Explicit Locking" and each command's
//! reference page); `ALTER TABLE` has its own module.

use pg_query::protobuf::{
    self as pb, AlterSubscriptionType, DiscardMode, ObjectType, ReindexObjectType, TransactionStmtKind, VariableSetKind,
};
use pg_query::NodeEnum;

use super::alter_table::{alter_table, foreign_key_references};
use super::functions::{forbidden_function, BUILTIN_FUNCTIONS};
use super::tree::{self, Uses};
use super::{Execution, ObjectKind, RelationName, StaticLock, Summary, TxControl};
use crate::locks::LockMode;

use LockMode::{AccessExclusive, AccessShare, Exclusive, RowExclusive, Share, ShareRowExclusive, ShareUpdateExclusive};

/// The summary of a statement pg_query returned without a tree (never seen in practice).
pub(crate) fn unknown() -> Summary {
    Builder::new("UNKNOWN").finish()
}

pub(crate) fn summarize(node: &NodeEnum) -> Summary {
    let tree = tree::to_tree(node);
    let uses = tree::collect(&tree);
    let mut builder = Builder::new(&fallback_kind(&tree));
    describe(&mut builder, node, &uses);
    if executes_expressions(node) {
        builder.check_function_calls(&uses.functions);
    }
    builder.finish()
}

/// Collects the summary while a statement is described.
pub(crate) struct Builder {
    kind: String,
    actions: Vec<String>,
    targets: Vec<RelationName>,
    locks: Vec<StaticLock>,
    tx: TxControl,
    not_in_transaction: Option<String>,
    forbidden: Option<String>,
    pub(crate) concurrently: bool,
    pub(crate) if_exists: bool,
    opaque: bool,
}

impl Builder {
    fn new(kind: &str) -> Self {
        Builder {
            kind: kind.to_string(),
            actions: Vec::new(),
            targets: Vec::new(),
            locks: Vec::new(),
            tx: TxControl::None,
            not_in_transaction: None,
            forbidden: None,
            concurrently: false,
            if_exists: false,
            opaque: false,
        }
    }

    pub(crate) fn kind(&mut self, kind: &str) {
        self.kind = kind.to_string();
    }

    pub(crate) fn action(&mut self, action: impl Into<String>) {
        self.actions.push(action.into());
    }

    pub(crate) fn target(&mut self, relation: RelationName) {
        if !self.targets.contains(&relation) {
            self.targets.push(relation);
        }
    }

    /// Records a lock; a relation locked twice keeps the stronger mode (and the more precise kind).
    pub(crate) fn lock(&mut self, relation: RelationName, kind: ObjectKind, mode: LockMode) {
        self.target(relation.clone());
        match self.locks.iter_mut().find(|lock| lock.relation == relation) {
            Some(existing) => {
                existing.mode = existing.mode.max(mode);
                if existing.kind == ObjectKind::Unknown {
                    existing.kind = kind;
                }
            }
            None => self.locks.push(StaticLock { relation, kind, mode }),
        }
    }

    pub(crate) fn not_in_transaction(&mut self, reason: &str) {
        self.not_in_transaction.get_or_insert_with(|| reason.to_string());
    }

    fn forbid(&mut self, reason: impl Into<String>) {
        if self.forbidden.is_none() {
            self.forbidden = Some(reason.into());
        }
    }

    /// Relations a query reads or writes, as the tree walk found them.
    fn query_relations(&mut self, uses: &Uses) {
        for (relation, mode) in &uses.relations {
            let kind = if *mode == RowExclusive { ObjectKind::Table } else { ObjectKind::Unknown };
            self.lock(relation.clone(), kind, *mode);
        }
    }

    fn check_function_calls(&mut self, functions: &[Vec<String>]) {
        for name in functions {
            let Some(base) = name.last() else { continue };
            if let Some(reason) = forbidden_function(base) {
                self.forbid(reason);
            }
            let builtin = (name.len() > 1 && name[0] == "pg_catalog") || BUILTIN_FUNCTIONS.contains(&base.as_str());
            if !builtin {
                self.opaque = true;
            }
        }
    }

    fn finish(self) -> Summary {
        let execution = match (self.forbidden, self.not_in_transaction) {
            (Some(reason), _) => Execution::Forbidden { reason },
            (None, Some(reason)) => Execution::NotInTransaction { reason },
            (None, None) => Execution::InTransaction,
        };
        Summary {
            kind: self.kind,
            actions: self.actions,
            targets: self.targets,
            locks: self.locks,
            tx: self.tx,
            execution,
            concurrently: self.concurrently,
            if_exists: self.if_exists,
            opaque: self.opaque,
        }
    }
}

/// Statements that only store expressions (function bodies, view queries, rules, policies, the
/// defaults of a new table) don't run the functions they mention. `EXPLAIN` runs them only with
/// `ANALYZE`, which is checked where it is described.
fn executes_expressions(node: &NodeEnum) -> bool {
    !matches!(
        node,
        NodeEnum::CreateFunctionStmt(_)
            | NodeEnum::ViewStmt(_)
            | NodeEnum::RuleStmt(_)
            | NodeEnum::CreatePolicyStmt(_)
            | NodeEnum::AlterPolicyStmt(_)
            | NodeEnum::CreateStmt(_)
            | NodeEnum::CreateDomainStmt(_)
            | NodeEnum::CreateTrigStmt(_)
            | NodeEnum::ExplainStmt(_)
    )
}

fn describe(b: &mut Builder, node: &NodeEnum, uses: &Uses) {
    match node {
        NodeEnum::SelectStmt(s) => {
            match &s.into_clause {
                Some(into) => {
                    b.kind("SELECT INTO");
                    if let Some(rel) = &into.rel {
                        b.target(range_var(rel));
                    }
                }
                None if !s.values_lists.is_empty() => b.kind("VALUES"),
                None => b.kind("SELECT"),
            }
            b.query_relations(uses);
        }
        NodeEnum::InsertStmt(_) => query(b, "INSERT", uses),
        NodeEnum::UpdateStmt(_) => query(b, "UPDATE", uses),
        NodeEnum::DeleteStmt(_) => query(b, "DELETE", uses),
        NodeEnum::MergeStmt(_) => query(b, "MERGE", uses),
        NodeEnum::AlterTableStmt(s) => alter_table(b, s),
        NodeEnum::CreateStmt(s) => create_table(b, s, "CREATE TABLE"),
        NodeEnum::CreateForeignTableStmt(s) => {
            if let Some(base) = &s.base_stmt {
                create_table(b, base, "CREATE FOREIGN TABLE");
            }
        }
        NodeEnum::IndexStmt(s) => create_index(b, s),
        NodeEnum::DropStmt(s) => drop_objects(b, s),
        NodeEnum::TruncateStmt(s) => {
            b.kind("TRUNCATE");
            for rel in range_vars(&s.relations) {
                b.lock(rel, ObjectKind::Table, AccessExclusive);
            }
        }
        NodeEnum::ReindexStmt(s) => reindex(b, s),
        NodeEnum::VacuumStmt(s) => vacuum(b, s),
        NodeEnum::ClusterStmt(s) => {
            b.kind("CLUSTER");
            match &s.relation {
                Some(rel) => {
                    let table = range_var(rel);
                    b.lock(table.clone(), ObjectKind::Table, AccessExclusive);
                    if !s.indexname.is_empty() {
                        b.lock(sibling(&table, &s.indexname), ObjectKind::Index, AccessExclusive);
                    }
                }
                None => b.not_in_transaction("CLUSTER without a table name cannot run inside a transaction block"),
            }
        }
        NodeEnum::LockStmt(s) => {
            b.kind("LOCK TABLE");
            let mode = usize::try_from(s.mode)
                .ok()
                .and_then(|mode| LockMode::ALL.get(mode.wrapping_sub(1)).copied())
                .unwrap_or(AccessExclusive);
            for rel in range_vars(&s.relations) {
                b.lock(rel, ObjectKind::Table, mode);
            }
        }
        NodeEnum::RefreshMatViewStmt(s) => {
            b.kind("REFRESH MATERIALIZED VIEW");
            b.concurrently = s.concurrent;
            if let Some(rel) = &s.relation {
                b.lock(range_var(rel), ObjectKind::View, if s.concurrent { Exclusive } else { AccessExclusive });
            }
        }
        NodeEnum::CreateTrigStmt(s) => {
            b.kind(if s.isconstraint { "CREATE CONSTRAINT TRIGGER" } else { "CREATE TRIGGER" });
            if let Some(rel) = &s.relation {
                b.lock(range_var(rel), ObjectKind::Table, ShareRowExclusive);
            }
            if let Some(rel) = &s.constrrel {
                b.target(range_var(rel));
            }
        }
        NodeEnum::RuleStmt(s) => {
            b.kind("CREATE RULE");
            if let Some(rel) = &s.relation {
                b.lock(range_var(rel), ObjectKind::Unknown, AccessExclusive);
            }
        }
        NodeEnum::CreatePolicyStmt(s) => {
            b.kind("CREATE POLICY");
            if let Some(rel) = &s.table {
                b.lock(range_var(rel), ObjectKind::Table, AccessExclusive);
            }
        }
        NodeEnum::AlterPolicyStmt(s) => {
            b.kind("ALTER POLICY");
            if let Some(rel) = &s.table {
                b.lock(range_var(rel), ObjectKind::Table, AccessExclusive);
            }
        }
        NodeEnum::CommentStmt(s) => {
            b.kind("COMMENT");
            comment_like(b, s.objtype, s.object.as_deref());
        }
        NodeEnum::SecLabelStmt(s) => {
            b.kind("SECURITY LABEL");
            comment_like(b, s.objtype, s.object.as_deref());
        }
        NodeEnum::CreateStatsStmt(s) => {
            b.kind("CREATE STATISTICS");
            b.if_exists = s.if_not_exists;
            for rel in range_vars(&s.relations) {
                b.lock(rel, ObjectKind::Table, ShareUpdateExclusive);
            }
        }
        NodeEnum::ViewStmt(s) => {
            b.kind("CREATE VIEW");
            if let Some(view) = &s.view {
                if s.replace {
                    b.lock(range_var(view), ObjectKind::View, AccessExclusive);
                } else {
                    b.target(range_var(view));
                }
            }
            if let Some(query) = &s.query {
                b.query_relations(&tree::collect(&tree::to_tree(query)));
            }
        }
        NodeEnum::CreateTableAsStmt(s) => {
            let kind = match ObjectType::try_from(s.objtype) {
                Ok(ObjectType::ObjectMatview) => "CREATE MATERIALIZED VIEW",
                _ if s.is_select_into => "SELECT INTO",
                _ => "CREATE TABLE AS",
            };
            b.kind(kind);
            b.if_exists = s.if_not_exists;
            if let Some(rel) = s.into.as_ref().and_then(|into| into.rel.as_ref()) {
                b.target(range_var(rel));
            }
            if let Some(query) = &s.query {
                // `CREATE TABLE … AS EXECUTE prepared` runs whatever was prepared.
                b.opaque |= matches!(query.node, Some(NodeEnum::ExecuteStmt(_)));
                b.query_relations(&tree::collect(&tree::to_tree(query)));
            }
        }
        NodeEnum::CopyStmt(s) => copy(b, s),
        NodeEnum::ExplainStmt(s) => {
            let Some(inner) = s.query.as_ref().and_then(|q| q.node.as_ref()) else {
                return;
            };
            let analyze = s.options.iter().any(|o| def_elem_enabled(o, "analyze"));
            let inner = summarize(inner);
            b.kind("EXPLAIN");
            b.action(inner.kind);
            inner.targets.into_iter().for_each(|t| b.target(t));
            inner.locks.into_iter().for_each(|l| b.lock(l.relation, l.kind, l.mode));
            // Plain EXPLAIN plans without running: only ANALYZE executes the statement.
            if analyze {
                b.opaque = inner.opaque;
                match inner.execution {
                    Execution::Forbidden { reason } => b.forbid(reason),
                    Execution::NotInTransaction { reason } => b.not_in_transaction(&reason),
                    Execution::InTransaction => {}
                }
            }
        }
        NodeEnum::PrepareStmt(s) => {
            b.kind("PREPARE");
            if let Some(inner) = s.query.as_ref().and_then(|q| q.node.as_ref()) {
                // Preparing analyses the query, which takes its locks without running it.
                let inner = summarize(inner);
                inner.locks.into_iter().for_each(|l| b.lock(l.relation, l.kind, l.mode));
            }
        }
        NodeEnum::DeclareCursorStmt(s) => {
            b.kind("DECLARE CURSOR");
            if let Some(inner) = s.query.as_ref().and_then(|q| q.node.as_ref()) {
                let inner = summarize(inner);
                inner.locks.into_iter().for_each(|l| b.lock(l.relation, l.kind, l.mode));
            }
        }
        NodeEnum::ExecuteStmt(_) => {
            b.kind("EXECUTE");
            b.opaque = true;
        }
        NodeEnum::DoStmt(_) => {
            b.kind("DO");
            b.opaque = true;
        }
        NodeEnum::CallStmt(s) => {
            b.kind("CALL");
            b.opaque = true;
            if let Some(call) = &s.funccall {
                if let Some(reason) = strings(&call.funcname).last().and_then(|name| forbidden_function(name)) {
                    b.forbid(reason);
                }
            }
        }
        NodeEnum::TransactionStmt(s) => transaction(b, s),
        NodeEnum::VariableSetStmt(s) => {
            let reset = matches!(
                VariableSetKind::try_from(s.kind),
                Ok(VariableSetKind::VarReset | VariableSetKind::VarResetAll)
            );
            b.kind(if reset { "RESET" } else { "SET" });
            if s.name == "session_authorization" {
                b.forbid(
                    "SET/RESET SESSION AUTHORIZATION changes the session's user, which outlives lockscope's rollback",
                );
            }
        }
        NodeEnum::VariableShowStmt(_) => b.kind("SHOW"),
        NodeEnum::DiscardStmt(s) => {
            b.kind("DISCARD");
            if DiscardMode::try_from(s.target) == Ok(DiscardMode::DiscardAll) {
                b.not_in_transaction("DISCARD ALL cannot run inside a transaction block");
            }
        }
        NodeEnum::LoadStmt(_) => {
            b.kind("LOAD");
            b.forbid("LOAD loads a shared library into the server process, which a rollback cannot undo");
        }
        NodeEnum::CheckPointStmt(_) => {
            b.kind("CHECKPOINT");
            b.forbid("CHECKPOINT forces a server-wide checkpoint, which a rollback cannot undo");
        }
        NodeEnum::CreatedbStmt(_) => {
            b.kind("CREATE DATABASE");
            b.not_in_transaction("CREATE DATABASE cannot run inside a transaction block");
        }
        NodeEnum::DropdbStmt(s) => {
            b.kind("DROP DATABASE");
            b.if_exists = s.missing_ok;
            b.not_in_transaction("DROP DATABASE cannot run inside a transaction block");
        }
        NodeEnum::AlterDatabaseSetStmt(_) | NodeEnum::AlterDatabaseRefreshCollStmt(_) => b.kind("ALTER DATABASE"),
        NodeEnum::AlterDatabaseStmt(s) => {
            b.kind("ALTER DATABASE");
            if s.options.iter().any(|o| def_elem_named(o, "tablespace")) {
                b.not_in_transaction("ALTER DATABASE … SET TABLESPACE cannot run inside a transaction block");
            }
        }
        NodeEnum::CreateTableSpaceStmt(_) => {
            b.kind("CREATE TABLESPACE");
            b.not_in_transaction("CREATE TABLESPACE cannot run inside a transaction block");
        }
        NodeEnum::DropTableSpaceStmt(s) => {
            b.kind("DROP TABLESPACE");
            b.if_exists = s.missing_ok;
            b.not_in_transaction("DROP TABLESPACE cannot run inside a transaction block");
        }
        NodeEnum::AlterSystemStmt(_) => {
            b.kind("ALTER SYSTEM");
            b.not_in_transaction("ALTER SYSTEM cannot run inside a transaction block");
        }
        NodeEnum::CreateSubscriptionStmt(_) => {
            b.kind("CREATE SUBSCRIPTION");
            b.not_in_transaction(
                "CREATE SUBSCRIPTION creates a replication slot on the publisher, which cannot happen inside a transaction block",
            );
        }
        NodeEnum::DropSubscriptionStmt(s) => {
            b.kind("DROP SUBSCRIPTION");
            b.if_exists = s.missing_ok;
            b.not_in_transaction(
                "DROP SUBSCRIPTION drops the replication slot on the publisher, which cannot happen inside a transaction block",
            );
        }
        NodeEnum::AlterSubscriptionStmt(s) => {
            b.kind("ALTER SUBSCRIPTION");
            use AlterSubscriptionType as Sub;
            if matches!(
                Sub::try_from(s.kind),
                Ok(Sub::AlterSubscriptionRefresh
                    | Sub::AlterSubscriptionSetPublication
                    | Sub::AlterSubscriptionAddPublication
                    | Sub::AlterSubscriptionDropPublication)
            ) {
                b.not_in_transaction(
                    "ALTER SUBSCRIPTION that refreshes publications cannot run inside a transaction block",
                );
            }
        }
        NodeEnum::RenameStmt(s) => rename(b, s),
        NodeEnum::AlterObjectSchemaStmt(s) => {
            let object_type = ObjectType::try_from(s.object_type).unwrap_or(ObjectType::Undefined);
            b.kind(&format!("ALTER {}", object_type_sql(object_type)));
            b.action("SET SCHEMA");
            b.if_exists = s.missing_ok;
            if let Some(rel) = &s.relation {
                b.lock(range_var(rel), object_kind(object_type), AccessExclusive);
            }
        }
        NodeEnum::AlterOwnerStmt(s) => {
            let object_type = ObjectType::try_from(s.object_type).unwrap_or(ObjectType::Undefined);
            b.kind(&format!("ALTER {}", object_type_sql(object_type)));
            b.action("OWNER TO");
        }
        NodeEnum::CreateSeqStmt(s) => {
            b.kind("CREATE SEQUENCE");
            b.if_exists = s.if_not_exists;
            if let Some(rel) = &s.sequence {
                b.target(range_var(rel));
            }
        }
        NodeEnum::AlterSeqStmt(s) => {
            b.kind("ALTER SEQUENCE");
            b.if_exists = s.missing_ok;
            if let Some(rel) = &s.sequence {
                b.lock(range_var(rel), ObjectKind::Sequence, ShareRowExclusive);
            }
        }
        NodeEnum::CreateEnumStmt(_) | NodeEnum::CompositeTypeStmt(_) | NodeEnum::CreateRangeStmt(_) => {
            b.kind("CREATE TYPE")
        }
        NodeEnum::DefineStmt(s) => {
            b.if_exists = s.if_not_exists;
            let object_type = ObjectType::try_from(s.kind).unwrap_or(ObjectType::Undefined);
            b.kind(&format!("CREATE {}", object_type_sql(object_type)));
        }
        NodeEnum::AlterEnumStmt(s) => {
            b.kind("ALTER TYPE");
            b.action(if s.old_val.is_empty() { "ADD VALUE" } else { "RENAME VALUE" });
            b.if_exists = s.skip_if_new_val_exists;
        }
        NodeEnum::AlterTypeStmt(_) => {
            b.kind("ALTER TYPE");
            b.action("SET");
        }
        NodeEnum::CreateFunctionStmt(s) => {
            b.kind(if s.is_procedure { "CREATE PROCEDURE" } else { "CREATE FUNCTION" });
        }
        NodeEnum::AlterFunctionStmt(s) => {
            let object_type = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::ObjectFunction);
            b.kind(&format!("ALTER {}", object_type_sql(object_type)));
        }
        NodeEnum::CreateSchemaStmt(s) => {
            b.kind("CREATE SCHEMA");
            b.if_exists = s.if_not_exists;
        }
        NodeEnum::CreateExtensionStmt(s) => {
            // An extension's install script can do anything.
            b.kind("CREATE EXTENSION");
            b.if_exists = s.if_not_exists;
            b.opaque = true;
        }
        NodeEnum::AlterExtensionStmt(_) | NodeEnum::AlterExtensionContentsStmt(_) => {
            b.kind("ALTER EXTENSION");
            b.opaque = true;
        }
        NodeEnum::CreateDomainStmt(_) => b.kind("CREATE DOMAIN"),
        NodeEnum::AlterDomainStmt(s) => {
            b.kind("ALTER DOMAIN");
            b.if_exists = s.missing_ok;
        }
        NodeEnum::GrantStmt(s) => {
            b.kind(if s.is_grant { "GRANT" } else { "REVOKE" });
            if ObjectType::try_from(s.objtype) == Ok(ObjectType::ObjectTable) {
                range_vars(&s.objects).into_iter().for_each(|rel| b.target(rel));
            }
        }
        NodeEnum::GrantRoleStmt(s) => b.kind(if s.is_grant { "GRANT" } else { "REVOKE" }),
        NodeEnum::AlterDefaultPrivilegesStmt(_) => b.kind("ALTER DEFAULT PRIVILEGES"),
        NodeEnum::CreateRoleStmt(_) => b.kind("CREATE ROLE"),
        NodeEnum::AlterRoleStmt(_) | NodeEnum::AlterRoleSetStmt(_) => b.kind("ALTER ROLE"),
        NodeEnum::DropRoleStmt(s) => {
            b.kind("DROP ROLE");
            b.if_exists = s.missing_ok;
        }
        NodeEnum::CreateEventTrigStmt(_) => b.kind("CREATE EVENT TRIGGER"),
        NodeEnum::AlterEventTrigStmt(_) => b.kind("ALTER EVENT TRIGGER"),
        NodeEnum::CreatePublicationStmt(_) => b.kind("CREATE PUBLICATION"),
        NodeEnum::AlterPublicationStmt(_) => b.kind("ALTER PUBLICATION"),
        NodeEnum::ConstraintsSetStmt(_) => b.kind("SET CONSTRAINTS"),
        NodeEnum::NotifyStmt(_) => b.kind("NOTIFY"),
        NodeEnum::ListenStmt(_) => b.kind("LISTEN"),
        NodeEnum::UnlistenStmt(_) => b.kind("UNLISTEN"),
        NodeEnum::DeallocateStmt(_) => b.kind("DEALLOCATE"),
        NodeEnum::ClosePortalStmt(_) => b.kind("CLOSE"),
        NodeEnum::FetchStmt(s) => b.kind(if s.ismove { "MOVE" } else { "FETCH" }),
        NodeEnum::DropOwnedStmt(_) => b.kind("DROP OWNED"),
        NodeEnum::ReassignOwnedStmt(_) => b.kind("REASSIGN OWNED"),
        NodeEnum::CreateForeignServerStmt(_) => b.kind("CREATE SERVER"),
        NodeEnum::AlterForeignServerStmt(_) => b.kind("ALTER SERVER"),
        NodeEnum::CreateFdwStmt(_) => b.kind("CREATE FOREIGN DATA WRAPPER"),
        NodeEnum::AlterFdwStmt(_) => b.kind("ALTER FOREIGN DATA WRAPPER"),
        NodeEnum::CreatePlangStmt(_) => b.kind("CREATE LANGUAGE"),
        NodeEnum::CreateAmStmt(_) => b.kind("CREATE ACCESS METHOD"),
        NodeEnum::CreateOpClassStmt(_) => b.kind("CREATE OPERATOR CLASS"),
        NodeEnum::CreateOpFamilyStmt(_) => b.kind("CREATE OPERATOR FAMILY"),
        NodeEnum::AlterOpFamilyStmt(_) => b.kind("ALTER OPERATOR FAMILY"),
        NodeEnum::AlterTsdictionaryStmt(_) => b.kind("ALTER TEXT SEARCH DICTIONARY"),
        NodeEnum::AlterTsconfigurationStmt(_) => b.kind("ALTER TEXT SEARCH CONFIGURATION"),
        NodeEnum::AlterTableMoveAllStmt(_) => {
            b.kind("ALTER TABLE");
            b.action("SET TABLESPACE");
        }
        NodeEnum::AlterStatsStmt(_) => b.kind("ALTER STATISTICS"),
        NodeEnum::AlterTableSpaceOptionsStmt(_) => b.kind("ALTER TABLESPACE"),
        _ => {}
    }
}

fn query(b: &mut Builder, kind: &str, uses: &Uses) {
    b.kind(kind);
    b.query_relations(uses);
}

fn create_table(b: &mut Builder, s: &pb::CreateStmt, kind: &str) {
    b.kind(kind);
    b.if_exists = s.if_not_exists;
    if let Some(rel) = &s.relation {
        b.target(range_var(rel));
    }
    for node in s.table_elts.iter().chain(&s.constraints) {
        match &node.node {
            Some(NodeEnum::ColumnDef(column)) => foreign_key_references(b, &column.constraints),
            Some(NodeEnum::TableLikeClause(like)) => {
                if let Some(source) = &like.relation {
                    b.lock(range_var(source), ObjectKind::Unknown, AccessShare);
                }
            }
            Some(NodeEnum::Constraint(_)) => foreign_key_references(b, std::slice::from_ref(node)),
            _ => {}
        }
    }
    // A new partition changes its parent's partition descriptor; a new child of INHERITS only
    // needs a self-exclusive lock on the parent.
    let parent_mode = if s.partbound.is_some() { AccessExclusive } else { ShareUpdateExclusive };
    for parent in range_vars(&s.inh_relations) {
        b.lock(parent, ObjectKind::Table, parent_mode);
    }
}

fn create_index(b: &mut Builder, s: &pb::IndexStmt) {
    b.kind("CREATE INDEX");
    b.if_exists = s.if_not_exists;
    b.concurrently = s.concurrent;
    let Some(rel) = &s.relation else { return };
    let table = range_var(rel);
    b.lock(table.clone(), ObjectKind::Table, if s.concurrent { ShareUpdateExclusive } else { Share });
    if !s.idxname.is_empty() {
        b.target(sibling(&table, &s.idxname));
    }
    if s.concurrent {
        b.not_in_transaction("CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
    }
}

fn drop_objects(b: &mut Builder, s: &pb::DropStmt) {
    let object_type = ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined);
    b.kind(&format!("DROP {}", object_type_sql(object_type)));
    b.if_exists = s.missing_ok;
    b.concurrently = s.concurrent;
    let names = s.objects.iter().map(|object| match &object.node {
        Some(NodeEnum::List(list)) => strings(&list.items),
        _ => Vec::new(),
    });
    match object_type {
        ObjectType::ObjectTable
        | ObjectType::ObjectForeignTable
        | ObjectType::ObjectIndex
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectSequence => {
            let mode = if s.concurrent { ShareUpdateExclusive } else { AccessExclusive };
            for name in names {
                if let Some(relation) = qualified_name(&name) {
                    b.lock(relation, object_kind(object_type), mode);
                }
            }
        }
        // `DROP TRIGGER name ON table`: the table is everything but the last name.
        ObjectType::ObjectTrigger | ObjectType::ObjectRule | ObjectType::ObjectPolicy => {
            for name in names {
                if let Some((_, table)) = name.split_last() {
                    if let Some(relation) = qualified_name(table) {
                        b.lock(relation, ObjectKind::Table, AccessExclusive);
                    }
                }
            }
        }
        _ => {}
    }
    if s.concurrent {
        b.not_in_transaction("DROP INDEX CONCURRENTLY cannot run inside a transaction block");
    }
}

fn reindex(b: &mut Builder, s: &pb::ReindexStmt) {
    b.kind("REINDEX");
    let concurrent = s.params.iter().any(|p| def_elem_enabled(p, "concurrently"));
    b.concurrently = concurrent;
    let target = ReindexObjectType::try_from(s.kind).unwrap_or(ReindexObjectType::Undefined);
    let relation = s.relation.as_ref().map(range_var);
    match (target, relation) {
        (ReindexObjectType::ReindexObjectIndex, Some(index)) => {
            b.action("INDEX");
            b.lock(index, ObjectKind::Index, if concurrent { ShareUpdateExclusive } else { AccessExclusive });
        }
        (ReindexObjectType::ReindexObjectTable, Some(table)) => {
            b.action("TABLE");
            b.lock(table, ObjectKind::Table, if concurrent { ShareUpdateExclusive } else { Share });
        }
        (ReindexObjectType::ReindexObjectSchema, _) => {
            b.action("SCHEMA");
            b.not_in_transaction("REINDEX SCHEMA cannot run inside a transaction block");
        }
        (ReindexObjectType::ReindexObjectSystem, _) => {
            b.action("SYSTEM");
            b.not_in_transaction("REINDEX SYSTEM cannot run inside a transaction block");
        }
        (ReindexObjectType::ReindexObjectDatabase, _) => {
            b.action("DATABASE");
            b.not_in_transaction("REINDEX DATABASE cannot run inside a transaction block");
        }
        _ => {}
    }
    if concurrent {
        b.not_in_transaction("REINDEX CONCURRENTLY cannot run inside a transaction block");
    }
}

fn vacuum(b: &mut Builder, s: &pb::VacuumStmt) {
    let full = s.is_vacuumcmd && s.options.iter().any(|o| def_elem_enabled(o, "full"));
    b.kind(if s.is_vacuumcmd { "VACUUM" } else { "ANALYZE" });
    if full {
        b.action("FULL");
    }
    for node in &s.rels {
        if let Some(NodeEnum::VacuumRelation(vacuum_relation)) = &node.node {
            if let Some(rel) = &vacuum_relation.relation {
                b.lock(range_var(rel), ObjectKind::Table, if full { AccessExclusive } else { ShareUpdateExclusive });
            }
        }
    }
    if s.is_vacuumcmd {
        b.not_in_transaction("VACUUM cannot run inside a transaction block");
    }
}

fn copy(b: &mut Builder, s: &pb::CopyStmt) {
    b.kind("COPY");
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

fn transaction(b: &mut Builder, s: &pb::TransactionStmt) {
    use TransactionStmtKind as Kind;
    let (kind, tx) = match Kind::try_from(s.kind).unwrap_or(Kind::Undefined) {
        Kind::TransStmtBegin | Kind::TransStmtStart => ("BEGIN", TxControl::Begin),
        Kind::TransStmtCommit => ("COMMIT", TxControl::Commit),
        Kind::TransStmtRollback => ("ROLLBACK", TxControl::Rollback),
        Kind::TransStmtSavepoint => ("SAVEPOINT", TxControl::Savepoint(s.savepoint_name.clone())),
        Kind::TransStmtRelease => ("RELEASE SAVEPOINT", TxControl::Release(s.savepoint_name.clone())),
        Kind::TransStmtRollbackTo => ("ROLLBACK TO SAVEPOINT", TxControl::RollbackTo(s.savepoint_name.clone())),
        Kind::TransStmtPrepare => {
            b.forbid("PREPARE TRANSACTION hands the transaction to two-phase commit, outside lockscope's rollback");
            ("PREPARE TRANSACTION", TxControl::None)
        }
        Kind::TransStmtCommitPrepared => {
            b.forbid("COMMIT PREPARED commits a prepared transaction, which a rollback cannot undo");
            ("COMMIT PREPARED", TxControl::None)
        }
        Kind::TransStmtRollbackPrepared => {
            b.forbid("ROLLBACK PREPARED discards a prepared transaction, which a rollback cannot undo");
            ("ROLLBACK PREPARED", TxControl::None)
        }
        Kind::Undefined => ("TRANSACTION", TxControl::None),
    };
    b.kind(kind);
    b.tx = tx;
}

fn rename(b: &mut Builder, s: &pb::RenameStmt) {
    let rename_type = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
    let relation_type = ObjectType::try_from(s.relation_type).unwrap_or(ObjectType::ObjectTable);
    b.if_exists = s.missing_ok;
    let relation = s.relation.as_ref().map(range_var);
    let (kind, action, locked): (String, &str, Option<(ObjectKind, LockMode)>) = match rename_type {
        // Renaming an index only needs SHARE UPDATE EXCLUSIVE (PostgreSQL 12 and later).
        ObjectType::ObjectIndex => ("ALTER INDEX".into(), "RENAME TO", Some((ObjectKind::Index, ShareUpdateExclusive))),
        ObjectType::ObjectTable
        | ObjectType::ObjectSequence
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectForeignTable => (
            format!("ALTER {}", object_type_sql(rename_type)),
            "RENAME TO",
            Some((object_kind(rename_type), AccessExclusive)),
        ),
        ObjectType::ObjectColumn => (
            format!("ALTER {}", object_type_sql(relation_type)),
            "RENAME COLUMN",
            Some((object_kind(relation_type), AccessExclusive)),
        ),
        ObjectType::ObjectTabconstraint => {
            ("ALTER TABLE".into(), "RENAME CONSTRAINT", Some((ObjectKind::Table, AccessExclusive)))
        }
        ObjectType::ObjectTrigger | ObjectType::ObjectRule | ObjectType::ObjectPolicy => {
            (format!("ALTER {}", object_type_sql(rename_type)), "RENAME TO", Some((ObjectKind::Table, AccessExclusive)))
        }
        ObjectType::ObjectAttribute => ("ALTER TYPE".into(), "RENAME ATTRIBUTE", None),
        ObjectType::ObjectDomconstraint => ("ALTER DOMAIN".into(), "RENAME CONSTRAINT", None),
        other => (format!("ALTER {}", object_type_sql(other)), "RENAME TO", None),
    };
    b.kind(&kind);
    b.action(action);
    if let (Some(relation), Some((kind, mode))) = (relation, locked) {
        b.lock(relation, kind, mode);
    }
}

/// `COMMENT ON` / `SECURITY LABEL ON`: SHARE UPDATE EXCLUSIVE on a relation or its column; a
/// constraint, trigger, rule or policy only needs ACCESS SHARE on its table.
fn comment_like(b: &mut Builder, objtype: i32, object: Option<&pb::Node>) {
    let object_type = ObjectType::try_from(objtype).unwrap_or(ObjectType::Undefined);
    b.action(object_type_sql(object_type));
    let names = match object.and_then(|o| o.node.as_ref()) {
        Some(NodeEnum::List(list)) => strings(&list.items),
        _ => return,
    };
    let all_but_last = names.split_last().map_or(&[][..], |(_, rest)| rest);
    let (relation_names, kind, mode) = match object_type {
        ObjectType::ObjectTable
        | ObjectType::ObjectForeignTable
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectIndex
        | ObjectType::ObjectSequence => (&names[..], object_kind(object_type), ShareUpdateExclusive),
        ObjectType::ObjectColumn => (all_but_last, ObjectKind::Unknown, ShareUpdateExclusive),
        ObjectType::ObjectTabconstraint
        | ObjectType::ObjectTrigger
        | ObjectType::ObjectRule
        | ObjectType::ObjectPolicy => (all_but_last, ObjectKind::Table, AccessShare),
        _ => return,
    };
    if let Some(relation) = qualified_name(relation_names) {
        b.lock(relation, kind, mode);
    }
}

pub(crate) fn range_var(rel: &pb::RangeVar) -> RelationName {
    let schema = Some(rel.schemaname.as_str()).filter(|s| !s.is_empty());
    RelationName::new(schema, &rel.relname)
}

fn range_vars(nodes: &[pb::Node]) -> Vec<RelationName> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::RangeVar(rel)) => Some(range_var(rel)),
            _ => None,
        })
        .collect()
}

/// An index or other object created in (or living in) the same schema as `relation`.
pub(crate) fn sibling(relation: &RelationName, name: &str) -> RelationName {
    RelationName::new(relation.schema.as_deref(), name)
}

/// `[name]`, `[schema, name]` or `[database, schema, name]`.
fn qualified_name(names: &[String]) -> Option<RelationName> {
    match names {
        [name] => Some(RelationName::new(None, name)),
        [.., schema, name] => Some(RelationName::new(Some(schema), name)),
        [] => None,
    }
}

fn strings(nodes: &[pb::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

fn def_elem_named(node: &pb::Node, name: &str) -> bool {
    matches!(&node.node, Some(NodeEnum::DefElem(option)) if option.defname == name)
}

/// A `(NAME [value])` option that is on: written bare, or with a true-ish value.
fn def_elem_enabled(node: &pb::Node, name: &str) -> bool {
    let Some(NodeEnum::DefElem(option)) = &node.node else {
        return false;
    };
    if option.defname != name {
        return false;
    }
    match option.arg.as_ref().and_then(|a| a.node.as_ref()) {
        None => true,
        Some(NodeEnum::Boolean(value)) => value.boolval,
        Some(NodeEnum::Integer(value)) => value.ival != 0,
        Some(NodeEnum::String(value)) => {
            !matches!(value.sval.to_ascii_lowercase().as_str(), "false" | "off" | "0" | "no")
        }
        Some(NodeEnum::AConst(constant)) => !matches!(
            constant.val.as_ref(),
            Some(pb::a_const::Val::Boolval(pb::Boolean { boolval: false }))
                | Some(pb::a_const::Val::Ival(pb::Integer { ival: 0 }))
        ),
        Some(_) => true,
    }
}

pub(crate) fn object_kind(object_type: ObjectType) -> ObjectKind {
    match object_type {
        ObjectType::ObjectTable | ObjectType::ObjectForeignTable => ObjectKind::Table,
        ObjectType::ObjectIndex => ObjectKind::Index,
        ObjectType::ObjectSequence => ObjectKind::Sequence,
        ObjectType::ObjectView | ObjectType::ObjectMatview => ObjectKind::View,
        _ => ObjectKind::Unknown,
    }
}

/// The object type as SQL spells it: `TABLE`, `MATERIALIZED VIEW`, `FOREIGN DATA WRAPPER`.
pub(crate) fn object_type_sql(object_type: ObjectType) -> String {
    let spelled = match object_type {
        ObjectType::ObjectMatview => "MATERIALIZED VIEW",
        ObjectType::ObjectTabconstraint | ObjectType::ObjectDomconstraint => "CONSTRAINT",
        ObjectType::ObjectStatisticExt => "STATISTICS",
        ObjectType::ObjectFdw => "FOREIGN DATA WRAPPER",
        ObjectType::ObjectForeignServer => "SERVER",
        ObjectType::ObjectLargeobject => "LARGE OBJECT",
        ObjectType::ObjectOpclass => "OPERATOR CLASS",
        ObjectType::ObjectOpfamily => "OPERATOR FAMILY",
        ObjectType::ObjectTsconfiguration => "TEXT SEARCH CONFIGURATION",
        ObjectType::ObjectTsdictionary => "TEXT SEARCH DICTIONARY",
        ObjectType::ObjectTsparser => "TEXT SEARCH PARSER",
        ObjectType::ObjectTstemplate => "TEXT SEARCH TEMPLATE",
        ObjectType::ObjectDefacl => "DEFAULT PRIVILEGES",
        ObjectType::ObjectParameterAcl => "PARAMETER",
        ObjectType::Undefined => "OBJECT",
        other => return other.as_str_name().trim_start_matches("OBJECT_").replace('_', " "),
    };
    spelled.to_string()
}

/// `AddColumn` or `ADD_COLUMN` → `ADD COLUMN`.
pub(crate) fn words_from_enum(name: &str) -> String {
    let mut words = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c == '_' {
            words.push(' ');
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(' ');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        words.push(c.to_ascii_uppercase());
    }
    words.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A name derived from the parse node's type (`CreateFdwStmt` → `CREATE FDW`), for statements
/// not described above.
fn fallback_kind(tree: &serde_json::Value) -> String {
    match tree.as_object().and_then(|map| map.keys().next()) {
        Some(node_type) => words_from_enum(node_type.strip_suffix("Stmt").unwrap_or(node_type)),
        None => "UNKNOWN".to_string(),
    }
}
