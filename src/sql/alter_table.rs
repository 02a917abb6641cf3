//! `ALTER TABLE` (and `ALTER INDEX`/`VIEW`/`SEQUENCE`, which share its parse node): one action
//! per sub-command, and the lock level `AlterTableGetLockLevel()` in PostgreSQL's `tablecmds.c`
//! gives it. The statement takes the strongest level of its sub-commands.

use pg_query::protobuf::{self as pb, AlterTableType, ConstrType, ObjectType};
use pg_query::NodeEnum;

use super::summary::{object_kind, range_var, sibling, words_from_enum, Builder};
use super::{ObjectKind, RelationName, StatementKind};
use crate::locks::LockMode;

use LockMode::{AccessExclusive, AccessShare, Share, ShareRowExclusive, ShareUpdateExclusive};

pub(crate) fn alter_table(b: &mut Builder, s: &pb::AlterTableStmt) {
    let object_type = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::ObjectTable);
    b.kind(StatementKind::Alter(object_type));
    b.if_exists = s.missing_ok;
    let Some(rel) = &s.relation else { return };
    let relation = range_var(rel);
    let kind = object_kind(object_type);
    // Even the mildest sub-command takes SHARE UPDATE EXCLUSIVE.
    b.lock(relation.clone(), kind, ShareUpdateExclusive);
    for cmd in s.cmds.iter().filter_map(|n| match &n.node {
        Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd),
        _ => None,
    }) {
        b.if_exists |= cmd.missing_ok;
        let (action, mode) = alter_table_cmd(b, cmd, &relation, kind);
        b.action(action);
        b.lock(relation.clone(), kind, mode);
    }
}

/// One `ALTER TABLE` sub-command: its name and its lock level on the altered relation. Locks on
/// other relations it names are recorded directly.
fn alter_table_cmd(
    b: &mut Builder,
    cmd: &pb::AlterTableCmd,
    table: &RelationName,
    kind: ObjectKind,
) -> (String, LockMode) {
    let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
    let subtype = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
    if let Some(found) = column_cmd(b, subtype, def) {
        return found;
    }
    if let Some(found) = constraint_cmd(b, subtype, def, table) {
        return found;
    }
    if let Some(found) = table_property_cmd(b, subtype, cmd, def, table) {
        return found;
    }
    if let Some(found) = trigger_or_rule_cmd(subtype) {
        return found;
    }
    if let Some(found) = inheritance_or_partition_cmd(b, subtype, def, kind) {
        return found;
    }
    (words_from_enum(subtype.as_str_name().trim_start_matches("AT_")), AccessExclusive)
}

fn simple(name: &str, mode: LockMode) -> Option<(String, LockMode)> {
    Some((name.to_string(), mode))
}

/// Sub-commands on a column: add, drop, default, NOT NULL, type, statistics, storage, identity.
fn column_cmd(b: &mut Builder, subtype: AlterTableType, def: Option<&NodeEnum>) -> Option<(String, LockMode)> {
    use AlterTableType as At;
    match subtype {
        At::AtAddColumn | At::AtAddColumnToView => {
            if let Some(NodeEnum::ColumnDef(column)) = def {
                foreign_key_references(b, &column.constraints);
            }
            simple("ADD COLUMN", AccessExclusive)
        }
        At::AtColumnDefault if def.is_none() => simple("DROP DEFAULT", AccessExclusive),
        At::AtColumnDefault | At::AtCookedColumnDefault => simple("SET DEFAULT", AccessExclusive),
        At::AtDropNotNull => simple("DROP NOT NULL", AccessExclusive),
        At::AtSetNotNull => simple("SET NOT NULL", AccessExclusive),
        At::AtSetExpression => simple("SET EXPRESSION", AccessExclusive),
        At::AtDropExpression => simple("DROP EXPRESSION", AccessExclusive),
        At::AtSetStatistics => simple("SET STATISTICS", ShareUpdateExclusive),
        At::AtSetOptions => simple("SET (column options)", ShareUpdateExclusive),
        At::AtResetOptions => simple("RESET (column options)", ShareUpdateExclusive),
        At::AtSetStorage => simple("SET STORAGE", AccessExclusive),
        At::AtSetCompression => simple("SET COMPRESSION", AccessExclusive),
        At::AtDropColumn => simple("DROP COLUMN", AccessExclusive),
        At::AtAlterColumnType => simple("ALTER COLUMN TYPE", AccessExclusive),
        At::AtAlterColumnGenericOptions => simple("ALTER COLUMN OPTIONS", AccessExclusive),
        At::AtAddIdentity => simple("ADD IDENTITY", AccessExclusive),
        At::AtSetIdentity => simple("SET IDENTITY", AccessExclusive),
        At::AtDropIdentity => simple("DROP IDENTITY", AccessExclusive),
        _ => None,
    }
}

/// Sub-commands on a constraint: add, alter, validate, drop.
fn constraint_cmd(
    b: &mut Builder,
    subtype: AlterTableType,
    def: Option<&NodeEnum>,
    table: &RelationName,
) -> Option<(String, LockMode)> {
    use AlterTableType as At;
    match subtype {
        At::AtAddConstraint | At::AtReAddConstraint | At::AtReAddDomainConstraint => match def {
            Some(NodeEnum::Constraint(constraint)) => Some(add_constraint(b, constraint, table)),
            _ => simple("ADD CONSTRAINT", AccessExclusive),
        },
        At::AtAddIndexConstraint => simple("ADD CONSTRAINT USING INDEX", AccessExclusive),
        At::AtAlterConstraint => simple("ALTER CONSTRAINT", AccessExclusive),
        At::AtValidateConstraint => simple("VALIDATE CONSTRAINT", ShareUpdateExclusive),
        At::AtDropConstraint => simple("DROP CONSTRAINT", AccessExclusive),
        _ => None,
    }
}

/// Sub-commands on the relation as a whole: owner, clustering, logging, access method, tablespace,
/// storage parameters, replica identity, row-level security, foreign-table options.
fn table_property_cmd(
    b: &mut Builder,
    subtype: AlterTableType,
    cmd: &pb::AlterTableCmd,
    def: Option<&NodeEnum>,
    table: &RelationName,
) -> Option<(String, LockMode)> {
    use AlterTableType as At;
    match subtype {
        At::AtChangeOwner => simple("OWNER TO", AccessExclusive),
        At::AtClusterOn => {
            b.lock(sibling(table, &cmd.name), ObjectKind::Index, ShareUpdateExclusive);
            simple("CLUSTER ON", ShareUpdateExclusive)
        }
        At::AtDropCluster => simple("SET WITHOUT CLUSTER", ShareUpdateExclusive),
        At::AtSetLogged => simple("SET LOGGED", AccessExclusive),
        At::AtSetUnLogged => simple("SET UNLOGGED", AccessExclusive),
        At::AtDropOids => simple("SET WITHOUT OIDS", AccessExclusive),
        At::AtSetAccessMethod => simple("SET ACCESS METHOD", AccessExclusive),
        At::AtSetTableSpace => simple("SET TABLESPACE", AccessExclusive),
        At::AtSetRelOptions => simple("SET (storage parameters)", reloptions_lock(def)),
        At::AtResetRelOptions => simple("RESET (storage parameters)", reloptions_lock(def)),
        At::AtReplaceRelOptions => simple("SET (storage parameters)", AccessExclusive),
        At::AtReplicaIdentity => {
            if let Some(NodeEnum::ReplicaIdentityStmt(identity)) = def {
                if !identity.name.is_empty() {
                    b.lock(sibling(table, &identity.name), ObjectKind::Index, Share);
                }
            }
            simple("REPLICA IDENTITY", AccessExclusive)
        }
        At::AtEnableRowSecurity => simple("ENABLE ROW LEVEL SECURITY", AccessExclusive),
        At::AtDisableRowSecurity => simple("DISABLE ROW LEVEL SECURITY", AccessExclusive),
        At::AtForceRowSecurity => simple("FORCE ROW LEVEL SECURITY", AccessExclusive),
        At::AtNoForceRowSecurity => simple("NO FORCE ROW LEVEL SECURITY", AccessExclusive),
        At::AtGenericOptions => simple("OPTIONS", AccessExclusive),
        _ => None,
    }
}

/// `ENABLE`/`DISABLE TRIGGER` and `RULE`.
fn trigger_or_rule_cmd(subtype: AlterTableType) -> Option<(String, LockMode)> {
    use AlterTableType as At;
    match subtype {
        At::AtEnableTrig
        | At::AtEnableAlwaysTrig
        | At::AtEnableReplicaTrig
        | At::AtEnableTrigAll
        | At::AtEnableTrigUser => simple("ENABLE TRIGGER", ShareRowExclusive),
        At::AtDisableTrig | At::AtDisableTrigAll | At::AtDisableTrigUser => {
            simple("DISABLE TRIGGER", ShareRowExclusive)
        }
        At::AtEnableRule | At::AtEnableAlwaysRule | At::AtEnableReplicaRule => simple("ENABLE RULE", AccessExclusive),
        At::AtDisableRule => simple("DISABLE RULE", AccessExclusive),
        _ => None,
    }
}

/// Sub-commands that tie the relation to another one: `INHERIT`, `OF`, `ATTACH`/`DETACH PARTITION`
/// (which also lock the parent or the partition).
fn inheritance_or_partition_cmd(
    b: &mut Builder,
    subtype: AlterTableType,
    def: Option<&NodeEnum>,
    kind: ObjectKind,
) -> Option<(String, LockMode)> {
    use AlterTableType as At;
    match subtype {
        At::AtAddInherit => {
            if let Some(NodeEnum::RangeVar(parent)) = def {
                b.lock(range_var(parent), ObjectKind::Table, ShareUpdateExclusive);
            }
            simple("INHERIT", AccessExclusive)
        }
        At::AtDropInherit => {
            if let Some(NodeEnum::RangeVar(parent)) = def {
                b.lock(range_var(parent), ObjectKind::Table, AccessShare);
            }
            simple("NO INHERIT", AccessExclusive)
        }
        At::AtAddOf => simple("OF", AccessExclusive),
        At::AtDropOf => simple("NOT OF", AccessExclusive),
        At::AtAttachPartition => {
            if let Some(partition) = partition_name(def) {
                b.lock(partition, kind, AccessExclusive);
            }
            simple("ATTACH PARTITION", ShareUpdateExclusive)
        }
        At::AtDetachPartition => Some(detach_partition(b, def, kind)),
        At::AtDetachPartitionFinalize => {
            if let Some(partition) = partition_name(def) {
                b.lock(partition, kind, ShareUpdateExclusive);
            }
            simple("DETACH PARTITION FINALIZE", ShareUpdateExclusive)
        }
        _ => None,
    }
}

/// `DETACH PARTITION [CONCURRENTLY]`: the concurrent form takes only SHARE UPDATE EXCLUSIVE and
/// cannot run inside a transaction block.
fn detach_partition(b: &mut Builder, def: Option<&NodeEnum>, kind: ObjectKind) -> (String, LockMode) {
    let concurrent = matches!(def, Some(NodeEnum::PartitionCmd(p)) if p.concurrent);
    let mode = if concurrent { ShareUpdateExclusive } else { AccessExclusive };
    if let Some(partition) = partition_name(def) {
        b.lock(partition, kind, mode);
    }
    if concurrent {
        b.concurrently = true;
        b.not_in_transaction("ALTER TABLE … DETACH PARTITION … CONCURRENTLY cannot run inside a transaction block");
        ("DETACH PARTITION CONCURRENTLY".to_string(), mode)
    } else {
        ("DETACH PARTITION".to_string(), mode)
    }
}

/// `ADD CONSTRAINT …` in `ALTER TABLE`.
fn add_constraint(b: &mut Builder, constraint: &pb::Constraint, table: &RelationName) -> (String, LockMode) {
    let contype = ConstrType::try_from(constraint.contype).unwrap_or(ConstrType::Undefined);
    let validity = if matches!(contype, ConstrType::ConstrForeign | ConstrType::ConstrCheck) && !constraint.is_enforced
    {
        " NOT ENFORCED"
    } else if constraint.skip_validation {
        " NOT VALID"
    } else {
        ""
    };
    let using_index = if constraint.indexname.is_empty() {
        ""
    } else {
        b.lock(sibling(table, &constraint.indexname), ObjectKind::Index, ShareUpdateExclusive);
        " USING INDEX"
    };
    match contype {
        ConstrType::ConstrForeign => {
            // Foreign keys add triggers to both tables, hence CREATE TRIGGER's level on both.
            if let Some(referenced) = &constraint.pktable {
                b.lock(range_var(referenced), ObjectKind::Table, ShareRowExclusive);
            }
            (format!("ADD CONSTRAINT FOREIGN KEY{validity}"), ShareRowExclusive)
        }
        ConstrType::ConstrCheck => (format!("ADD CONSTRAINT CHECK{validity}"), AccessExclusive),
        ConstrType::ConstrNotnull => (format!("ADD CONSTRAINT NOT NULL{validity}"), AccessExclusive),
        ConstrType::ConstrPrimary => (format!("ADD CONSTRAINT PRIMARY KEY{using_index}"), AccessExclusive),
        ConstrType::ConstrUnique => (format!("ADD CONSTRAINT UNIQUE{using_index}"), AccessExclusive),
        ConstrType::ConstrExclusion => ("ADD CONSTRAINT EXCLUDE".to_string(), AccessExclusive),
        _ => ("ADD CONSTRAINT".to_string(), AccessExclusive),
    }
}

/// `REFERENCES x` in column definitions lock `x` like `ADD FOREIGN KEY` does.
pub(crate) fn foreign_key_references(b: &mut Builder, constraints: &[pb::Node]) {
    for node in constraints {
        if let Some(NodeEnum::Constraint(constraint)) = &node.node {
            if ConstrType::try_from(constraint.contype) == Ok(ConstrType::ConstrForeign) {
                if let Some(referenced) = &constraint.pktable {
                    b.lock(range_var(referenced), ObjectKind::Table, ShareRowExclusive);
                }
            }
        }
    }
}

/// Storage parameters that need ACCESS EXCLUSIVE when changed (`reloptions.c`); every other
/// one takes SHARE UPDATE EXCLUSIVE.
const ACCESS_EXCLUSIVE_RELOPTIONS: &[&str] = &[
    "autosummarize",
    "buffering",
    "check_option",
    "fastupdate",
    "gin_pending_list_limit",
    "pages_per_range",
    "security_barrier",
    "security_invoker",
    "user_catalog_table",
];

fn reloptions_lock(def: Option<&NodeEnum>) -> LockMode {
    let Some(NodeEnum::List(options)) = def else {
        return AccessExclusive;
    };
    let strong = options.items.iter().any(|item| match &item.node {
        Some(NodeEnum::DefElem(option)) => ACCESS_EXCLUSIVE_RELOPTIONS.contains(&option.defname.as_str()),
        _ => false,
    });
    if strong {
        AccessExclusive
    } else {
        ShareUpdateExclusive
    }
}

fn partition_name(def: Option<&NodeEnum>) -> Option<RelationName> {
    match def {
        Some(NodeEnum::PartitionCmd(command)) => command.name.as_ref().map(range_var),
        _ => None,
    }
}
