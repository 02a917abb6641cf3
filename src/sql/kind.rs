//! [`StatementKind`]: what command a statement is, as a value rather than a text, with the facts
//! lockscope needs about each kind in one place.
//!
//! The text of a kind (`ALTER TABLE`, `CREATE INDEX`, `DO`) is what the reports and the JSON show;
//! it is produced here and nowhere else, so serialising a kind gives exactly that text.

use std::fmt;

use pg_query::protobuf::ObjectType;

/// Declares, once, how each object type is spelled, and derives from it the texts of
/// `CREATE`/`ALTER`/`DROP` of that type as `&'static str`.
macro_rules! object_words {
    ($($variant:ident => $words:literal,)*) => {
        /// The object type as SQL spells it: `TABLE`, `MATERIALIZED VIEW`, `FOREIGN DATA WRAPPER`.
        pub(crate) fn object_words(object: ObjectType) -> &'static str {
            match object {
                $(ObjectType::$variant => $words,)*
            }
        }

        fn create_text(object: ObjectType) -> &'static str {
            match object {
                $(ObjectType::$variant => concat!("CREATE ", $words),)*
            }
        }

        fn alter_text(object: ObjectType) -> &'static str {
            match object {
                $(ObjectType::$variant => concat!("ALTER ", $words),)*
            }
        }

        fn drop_text(object: ObjectType) -> &'static str {
            match object {
                $(ObjectType::$variant => concat!("DROP ", $words),)*
            }
        }

        /// Every object type, in pg_query's order.
        const OBJECT_TYPES: &[ObjectType] = &[$(ObjectType::$variant,)*];
    };
}

object_words! {
    Undefined => "OBJECT",
    ObjectAccessMethod => "ACCESS METHOD",
    ObjectAggregate => "AGGREGATE",
    ObjectAmop => "AMOP",
    ObjectAmproc => "AMPROC",
    ObjectAttribute => "ATTRIBUTE",
    ObjectCast => "CAST",
    ObjectColumn => "COLUMN",
    ObjectCollation => "COLLATION",
    ObjectConversion => "CONVERSION",
    ObjectDatabase => "DATABASE",
    ObjectDefault => "DEFAULT",
    ObjectDefacl => "DEFAULT PRIVILEGES",
    ObjectDomain => "DOMAIN",
    ObjectDomconstraint => "CONSTRAINT",
    ObjectEventTrigger => "EVENT TRIGGER",
    ObjectExtension => "EXTENSION",
    ObjectFdw => "FOREIGN DATA WRAPPER",
    ObjectForeignServer => "SERVER",
    ObjectForeignTable => "FOREIGN TABLE",
    ObjectFunction => "FUNCTION",
    ObjectIndex => "INDEX",
    ObjectLanguage => "LANGUAGE",
    ObjectLargeobject => "LARGE OBJECT",
    ObjectMatview => "MATERIALIZED VIEW",
    ObjectOpclass => "OPERATOR CLASS",
    ObjectOperator => "OPERATOR",
    ObjectOpfamily => "OPERATOR FAMILY",
    ObjectParameterAcl => "PARAMETER",
    ObjectPolicy => "POLICY",
    ObjectProcedure => "PROCEDURE",
    ObjectPublication => "PUBLICATION",
    ObjectPublicationNamespace => "PUBLICATION NAMESPACE",
    ObjectPublicationRel => "PUBLICATION REL",
    ObjectRole => "ROLE",
    ObjectRoutine => "ROUTINE",
    ObjectRule => "RULE",
    ObjectSchema => "SCHEMA",
    ObjectSequence => "SEQUENCE",
    ObjectSubscription => "SUBSCRIPTION",
    ObjectStatisticExt => "STATISTICS",
    ObjectTabconstraint => "CONSTRAINT",
    ObjectTable => "TABLE",
    ObjectTablespace => "TABLESPACE",
    ObjectTransform => "TRANSFORM",
    ObjectTrigger => "TRIGGER",
    ObjectTsconfiguration => "TEXT SEARCH CONFIGURATION",
    ObjectTsdictionary => "TEXT SEARCH DICTIONARY",
    ObjectTsparser => "TEXT SEARCH PARSER",
    ObjectTstemplate => "TEXT SEARCH TEMPLATE",
    ObjectType => "TYPE",
    ObjectUserMapping => "USER MAPPING",
    ObjectView => "VIEW",
}

/// Declares the kinds that are not `CREATE`/`ALTER`/`DROP` of an object type, each with its text.
macro_rules! statement_kinds {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// The command a statement runs, as a DBA says it. Displays and serialises as the upper-case
        /// text (`ALTER TABLE`, `CREATE INDEX`, `UPDATE`, `DO`).
        ///
        /// `CREATE`, `ALTER` and `DROP` carry the object type (pg_query's [`ObjectType`]), so that
        /// `ALTER INDEX` from `ALTER INDEX … RENAME` and from `ALTER INDEX … SET (…)` are the same
        /// value. Every other command has its own variant.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum StatementKind {
            /// `CREATE TABLE`, `CREATE INDEX`, `CREATE FUNCTION`, `CREATE EXTENSION`, …
            Create(ObjectType),
            /// `ALTER TABLE`, `ALTER INDEX`, `ALTER TYPE`, `ALTER DATABASE`, …
            Alter(ObjectType),
            /// `DROP TABLE`, `DROP INDEX`, `DROP DATABASE`, `DROP ROLE`, …
            Drop(ObjectType),
            $($(#[$doc])* $variant,)*
            /// A command lockscope has no description for, named from its parse node
            /// (`ALTER OBJECT DEPENDS`), or a text from elsewhere (a report's placeholder row).
            Other(String),
        }

        impl StatementKind {
            /// The kinds with a fixed text, for the tests.
            #[cfg(test)]
            pub(crate) const FIXED: &'static [StatementKind] = &[$(StatementKind::$variant,)*];

            /// The command as text: `ALTER TABLE`, `CREATE INDEX`, `UPDATE`, `DO`.
            pub fn as_str(&self) -> &str {
                match self {
                    StatementKind::Create(object) => create_text(*object),
                    StatementKind::Alter(object) => alter_text(*object),
                    StatementKind::Drop(object) => drop_text(*object),
                    $(StatementKind::$variant => $text,)*
                    StatementKind::Other(text) => text,
                }
            }

            fn from_fixed_text(text: &str) -> Option<StatementKind> {
                match text {
                    $($text => Some(StatementKind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

statement_kinds! {
    /// `CREATE TABLE … AS` (not `SELECT … INTO`, which is [`StatementKind::SelectInto`]).
    CreateTableAs => "CREATE TABLE AS",
    CreateConstraintTrigger => "CREATE CONSTRAINT TRIGGER",
    AlterSystem => "ALTER SYSTEM",
    ImportForeignSchema => "IMPORT FOREIGN SCHEMA",
    DropOwned => "DROP OWNED",
    ReassignOwned => "REASSIGN OWNED",
    Select => "SELECT",
    /// `SELECT … INTO` and `CREATE TABLE … AS` written as `SELECT INTO`.
    SelectInto => "SELECT INTO",
    Values => "VALUES",
    Insert => "INSERT",
    Update => "UPDATE",
    Delete => "DELETE",
    Merge => "MERGE",
    Copy => "COPY",
    Truncate => "TRUNCATE",
    Cluster => "CLUSTER",
    Reindex => "REINDEX",
    /// `VACUUM` (with or without `FULL` or `ANALYZE`).
    Vacuum => "VACUUM",
    /// `ANALYZE` on its own.
    Analyze => "ANALYZE",
    RefreshMaterializedView => "REFRESH MATERIALIZED VIEW",
    LockTable => "LOCK TABLE",
    Comment => "COMMENT",
    SecurityLabel => "SECURITY LABEL",
    Grant => "GRANT",
    Revoke => "REVOKE",
    Explain => "EXPLAIN",
    Prepare => "PREPARE",
    Execute => "EXECUTE",
    Deallocate => "DEALLOCATE",
    DeclareCursor => "DECLARE CURSOR",
    Fetch => "FETCH",
    Move => "MOVE",
    Close => "CLOSE",
    Do => "DO",
    Call => "CALL",
    /// `BEGIN` / `START TRANSACTION`.
    Begin => "BEGIN",
    /// `COMMIT` / `END`.
    Commit => "COMMIT",
    /// `ROLLBACK` / `ABORT`.
    Rollback => "ROLLBACK",
    Savepoint => "SAVEPOINT",
    ReleaseSavepoint => "RELEASE SAVEPOINT",
    RollbackToSavepoint => "ROLLBACK TO SAVEPOINT",
    PrepareTransaction => "PREPARE TRANSACTION",
    CommitPrepared => "COMMIT PREPARED",
    RollbackPrepared => "ROLLBACK PREPARED",
    /// A transaction statement of no known sort.
    Transaction => "TRANSACTION",
    Set => "SET",
    Reset => "RESET",
    Show => "SHOW",
    SetConstraints => "SET CONSTRAINTS",
    Discard => "DISCARD",
    Notify => "NOTIFY",
    Listen => "LISTEN",
    Unlisten => "UNLISTEN",
    Load => "LOAD",
    Checkpoint => "CHECKPOINT",
    /// pg_query returned the statement without a parse tree (never seen in practice).
    Unknown => "UNKNOWN",
}

use ObjectType as O;
use StatementKind as K;

impl StatementKind {
    /// Whether the statement only reads or writes rows (`SELECT`, `INSERT`, `UPDATE`, `DELETE`,
    /// `MERGE`, `COPY`): it gives no relation new storage. PostgreSQL names the operations that
    /// change a relation's filenode: "some operations, like TRUNCATE, REINDEX, CLUSTER and some
    /// forms of ALTER TABLE, can change the filenode while preserving the OID"
    /// (<https://www.postgresql.org/docs/current/storage-file-layout.html>); plain DML is not among
    /// them. (`SELECT INTO` and `VALUES` are not counted here.)
    pub fn only_reads_or_writes_rows(&self) -> bool {
        matches!(self, K::Insert | K::Update | K::Delete | K::Merge | K::Select | K::Copy)
    }

    /// Whether the statement only writes catalog entries or session state, leaving every table's
    /// and index's storage as it was: comments, grants, triggers, functions, policies, rules,
    /// statistics objects, schemas, types, settings, `ANALYZE`, `LOCK TABLE`, `SAVEPOINT`, and the
    /// creation of extensions and sequences (an extension is opaque, which the trace handles before
    /// asking). None of them is among the filenode-changing operations of
    /// <https://www.postgresql.org/docs/current/storage-file-layout.html>.
    ///
    /// `RELEASE SAVEPOINT` and `ROLLBACK TO SAVEPOINT` are not listed (the lists this replaces
    /// spelled them `RELEASE` and `ROLLBACK TO`, which matched no statement); `ROLLBACK TO` can
    /// undo a created table, so its relations are worth reading.
    pub fn only_changes_catalog_or_session(&self) -> bool {
        matches!(
            self,
            K::Comment
                | K::Grant
                | K::Revoke
                | K::Create(
                    O::ObjectTrigger
                        | O::ObjectFunction
                        | O::ObjectProcedure
                        | O::ObjectPolicy
                        | O::ObjectStatisticExt
                        | O::ObjectRule
                        | O::ObjectSchema
                        | O::ObjectType
                        | O::ObjectExtension
                        | O::ObjectSequence
                )
                | K::Alter(O::ObjectPolicy | O::ObjectFunction | O::ObjectSequence)
                | K::Drop(O::ObjectPolicy | O::ObjectRule)
                | K::Set
                | K::Reset
                | K::Show
                | K::Analyze
                | K::LockTable
                | K::SecurityLabel
                | K::Savepoint
        )
    }

    /// Whether the statement may change a table's columns, constraints or indexes, or the types
    /// and domains columns use — the kinds whose catalogue diff the trace reads: `ALTER TABLE`,
    /// index creation, change and removal, `REINDEX`, new and dropped tables, `ALTER TYPE`/`DOMAIN`,
    /// dropped types, domains, sequences, functions, schemas and extensions (their `CASCADE` reaches
    /// columns and defaults), `TRUNCATE` and `CLUSTER`.
    pub fn may_change_table_definitions(&self) -> bool {
        matches!(
            self,
            K::Alter(O::ObjectTable | O::ObjectIndex | O::ObjectType | O::ObjectDomain)
                | K::Create(O::ObjectIndex | O::ObjectTable | O::ObjectMatview)
                | K::CreateTableAs
                | K::Drop(
                    O::ObjectIndex
                        | O::ObjectTable
                        | O::ObjectType
                        | O::ObjectDomain
                        | O::ObjectSequence
                        | O::ObjectFunction
                        | O::ObjectSchema
                        | O::ObjectExtension
                )
                | K::Reindex
                | K::Truncate
                | K::Cluster
        )
    }

    /// Whether the statement can call `nextval()` (through a column default, a serial or identity
    /// column filled for existing rows, a trigger, or a function it runs). False for DDL that
    /// stores no values: indexes, comments, functions, views, grants, settings, triggers, schemas,
    /// types, statistics, policies, rules, `CREATE TABLE` (a new table has no rows to fill),
    /// `ANALYZE`, `LOCK TABLE`, `SAVEPOINT`, `CLUSTER`, `VACUUM`, `CREATE SEQUENCE`. An opaque
    /// statement (`CREATE EXTENSION`, `DO`, …) may do anything; the caller checks that first.
    /// (`RELEASE SAVEPOINT` and `ROLLBACK TO SAVEPOINT` count as may-advance: the list this
    /// replaces spelled them `RELEASE` and `ROLLBACK TO`, which matched no statement.)
    pub fn may_advance_sequences(&self) -> bool {
        !matches!(
            self,
            K::Create(
                O::ObjectIndex
                    | O::ObjectFunction
                    | O::ObjectProcedure
                    | O::ObjectView
                    | O::ObjectTrigger
                    | O::ObjectSchema
                    | O::ObjectType
                    | O::ObjectSequence
                    | O::ObjectExtension
                    | O::ObjectTable
                    | O::ObjectStatisticExt
                    | O::ObjectPolicy
                    | O::ObjectRule
            ) | K::Drop(
                O::ObjectIndex
                    | O::ObjectFunction
                    | O::ObjectView
                    | O::ObjectTable
                    | O::ObjectTrigger
                    | O::ObjectSchema
            ) | K::Alter(O::ObjectIndex | O::ObjectType)
                | K::Reindex
                | K::Comment
                | K::Grant
                | K::Revoke
                | K::Set
                | K::Reset
                | K::Show
                | K::Analyze
                | K::LockTable
                | K::Savepoint
                | K::Cluster
                | K::Vacuum
        )
    }

    /// `SET` / `RESET`: the statement may change a run-time parameter of the session, such as
    /// `lock_timeout` (<https://www.postgresql.org/docs/current/sql-set.html>). (`DISCARD ALL`
    /// resets them too, but it cannot run inside a transaction block, so lockscope never runs it.)
    pub fn changes_session_settings(&self) -> bool {
        matches!(self, K::Set | K::Reset)
    }

    /// Statements that only change session settings or end a transaction (`SET`, `RESET`, `SHOW`,
    /// `BEGIN`, `COMMIT`, `ROLLBACK`): they do no work and hold no locks of their own.
    pub fn is_bookkeeping(&self) -> bool {
        matches!(self, K::Set | K::Reset | K::Show | K::Commit | K::Rollback | K::Begin)
    }

    /// `DROP …` of any object (and `DROP OWNED`).
    pub fn is_drop(&self) -> bool {
        matches!(self, K::Drop(_) | K::DropOwned)
    }

    /// Why PostgreSQL refuses every statement of this kind inside a transaction block, for the kinds
    /// it always refuses (each calls `PreventInTransactionBlock()`). Kinds refused only with some
    /// options (`CONCURRENTLY`, `REINDEX SCHEMA`, `DISCARD ALL`, …) are decided where the statement
    /// is described.
    ///
    /// - `VACUUM`: "VACUUM cannot be executed inside a transaction block"
    ///   (<https://www.postgresql.org/docs/current/sql-vacuum.html>; `ANALYZE` alone can).
    /// - `CREATE DATABASE` / `DROP DATABASE`: "cannot be executed inside a transaction block"
    ///   (<https://www.postgresql.org/docs/current/sql-createdatabase.html>,
    ///   <https://www.postgresql.org/docs/current/sql-dropdatabase.html>).
    /// - `CREATE TABLESPACE` / `DROP TABLESPACE` / `ALTER SYSTEM`: `PreventInTransactionBlock()` in
    ///   postgres/postgres `src/backend/tcop/utility.c`
    ///   (<https://www.postgresql.org/docs/current/sql-createtablespace.html>).
    /// - `CREATE SUBSCRIPTION` (with `create_slot`, the default) and `DROP SUBSCRIPTION` (of a
    ///   subscription with a slot): "creating a replication slot is not transactional"
    ///   (postgres/postgres `src/backend/commands/subscriptioncmds.c`); lockscope assumes the slot.
    pub fn refused_in_transaction_block(&self) -> Option<&'static str> {
        let reason = match self {
            K::Vacuum => "VACUUM cannot run inside a transaction block",
            K::Create(O::ObjectDatabase) => "CREATE DATABASE cannot run inside a transaction block",
            K::Drop(O::ObjectDatabase) => "DROP DATABASE cannot run inside a transaction block",
            K::Create(O::ObjectTablespace) => "CREATE TABLESPACE cannot run inside a transaction block",
            K::Drop(O::ObjectTablespace) => "DROP TABLESPACE cannot run inside a transaction block",
            K::AlterSystem => "ALTER SYSTEM cannot run inside a transaction block",
            K::Create(O::ObjectSubscription) => {
                "CREATE SUBSCRIPTION creates a replication slot on the publisher, which cannot happen inside a transaction block"
            }
            K::Drop(O::ObjectSubscription) => {
                "DROP SUBSCRIPTION drops the replication slot on the publisher, which cannot happen inside a transaction block"
            }
            _ => return None,
        };
        Some(reason)
    }
}

impl Default for StatementKind {
    /// No kind known yet: the empty text.
    fn default() -> Self {
        StatementKind::Other(String::new())
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl serde::Serialize for StatementKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The kind a text names: the inverse of [`StatementKind::as_str`] (`"ALTER TABLE"` →
/// `Alter(ObjectTable)`); a text no kind has becomes [`StatementKind::Other`].
impl From<&str> for StatementKind {
    fn from(text: &str) -> Self {
        if let Some(kind) = StatementKind::from_fixed_text(text) {
            return kind;
        }
        type Family = fn(ObjectType) -> StatementKind;
        let families: [(&str, Family); 3] = [("CREATE ", K::Create), ("ALTER ", K::Alter), ("DROP ", K::Drop)];
        for (prefix, family) in families {
            let Some(words) = text.strip_prefix(prefix) else { continue };
            if let Some(object) = OBJECT_TYPES.iter().find(|object| object_words(**object) == words) {
                return family(*object);
            }
        }
        StatementKind::Other(text.to_string())
    }
}

impl PartialEq<str> for StatementKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for StatementKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words `object_words` spells, as pg_query's enum names give them (`OBJECT_EVENT_TRIGGER`
    /// → `EVENT TRIGGER`) wherever SQL has no other spelling.
    #[test]
    fn object_words_follow_the_enum_names_except_where_sql_differs() {
        let spelled_otherwise = [
            (O::ObjectMatview, "MATERIALIZED VIEW"),
            (O::ObjectTabconstraint, "CONSTRAINT"),
            (O::ObjectDomconstraint, "CONSTRAINT"),
            (O::ObjectStatisticExt, "STATISTICS"),
            (O::ObjectFdw, "FOREIGN DATA WRAPPER"),
            (O::ObjectForeignServer, "SERVER"),
            (O::ObjectLargeobject, "LARGE OBJECT"),
            (O::ObjectOpclass, "OPERATOR CLASS"),
            (O::ObjectOpfamily, "OPERATOR FAMILY"),
            (O::ObjectTsconfiguration, "TEXT SEARCH CONFIGURATION"),
            (O::ObjectTsdictionary, "TEXT SEARCH DICTIONARY"),
            (O::ObjectTsparser, "TEXT SEARCH PARSER"),
            (O::ObjectTstemplate, "TEXT SEARCH TEMPLATE"),
            (O::ObjectDefacl, "DEFAULT PRIVILEGES"),
            (O::ObjectParameterAcl, "PARAMETER"),
            (O::Undefined, "OBJECT"),
        ];
        for object in OBJECT_TYPES {
            let expected = match spelled_otherwise.iter().find(|(o, _)| o == object) {
                Some((_, words)) => words.to_string(),
                None => object.as_str_name().trim_start_matches("OBJECT_").replace('_', " "),
            };
            assert_eq!(object_words(*object), expected, "{object:?}");
        }
        assert_eq!(OBJECT_TYPES.len(), 53, "every ObjectType of pg_query is listed");
    }

    #[test]
    fn every_kind_reads_back_from_its_text() {
        for kind in StatementKind::FIXED {
            assert_eq!(&StatementKind::from(kind.as_str()), kind);
        }
        // `CONSTRAINT` is the word of both table and domain constraints (never a statement's object).
        for object in OBJECT_TYPES.iter().filter(|o| object_words(**o) != "CONSTRAINT") {
            for kind in [K::Create(*object), K::Alter(*object), K::Drop(*object)] {
                assert_eq!(StatementKind::from(kind.as_str()), kind);
            }
        }
        assert_eq!(StatementKind::from("(file)"), K::Other("(file)".into()));
        assert_eq!(StatementKind::default().as_str(), "");
    }

    /// What `describe` produces is the value its text reads back as, so comparing kinds is
    /// comparing texts; statements once named only from their parse node have their own kinds.
    #[test]
    fn described_kinds_are_canonical() {
        let sql = "CREATE CAST (int AS text) WITH INOUT; CREATE USER MAPPING FOR app SERVER s; \
                   DROP USER MAPPING FOR app SERVER s; ALTER COLLATION c REFRESH VERSION; \
                   IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO local; ALTER INDEX i RENAME TO j; \
                   ALTER INDEX i SET (fillfactor = 70); ALTER TABLE t RENAME CONSTRAINT a TO b; \
                   RELEASE SAVEPOINT s; VACUUM t; CREATE FOREIGN TABLE f (id int) SERVER s; EXPLAIN SELECT 1";
        let statements = crate::sql::parse_file(std::path::Path::new("m.sql"), sql).unwrap();
        let kinds: Vec<&StatementKind> = statements.iter().map(|s| &s.summary.kind).collect();
        assert_eq!(
            kinds,
            [
                &K::Create(O::ObjectCast),
                &K::Create(O::ObjectUserMapping),
                &K::Drop(O::ObjectUserMapping),
                &K::Alter(O::ObjectCollation),
                &K::ImportForeignSchema,
                &K::Alter(O::ObjectIndex),
                &K::Alter(O::ObjectIndex),
                &K::Alter(O::ObjectTable),
                &K::ReleaseSavepoint,
                &K::Vacuum,
                &K::Create(O::ObjectForeignTable),
                &K::Explain,
            ]
        );
        for kind in kinds {
            assert_eq!(&StatementKind::from(kind.as_str()), kind);
        }
        let vacuum = &statements[9].summary.execution;
        assert_eq!(
            vacuum,
            &crate::sql::Execution::NotInTransaction { reason: "VACUUM cannot run inside a transaction block".into() }
        );
    }

    #[test]
    fn displays_and_serialises_as_its_text() {
        let kind = K::Alter(O::ObjectMatview);
        assert_eq!(kind.to_string(), "ALTER MATERIALIZED VIEW");
        assert_eq!(serde_json::to_string(&kind).unwrap(), "\"ALTER MATERIALIZED VIEW\"");
        assert_eq!(serde_json::to_string(&K::RollbackToSavepoint).unwrap(), "\"ROLLBACK TO SAVEPOINT\"");
        assert_eq!(format!("{:<8}|", K::Do), "DO      |");
    }
}
