//! Planning: which migrations run, in which order, parsed, and which of them are judged — a pure
//! function of the files, the flags and (for `check`) what the target's ledger says. Nothing here
//! touches a database, so planning is tested without one (docs/ARCHITECTURE.md, "The pipeline").

use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Result};
use crate::source::{self, Direction, ExecutionModel, Layout, Migration, MigrationFile, Runner};
use crate::sql::{self, Execution, Statement};

/// One migration script to run, parsed.
#[derive(Debug, Clone)]
pub struct PlannedMigration {
    pub path: PathBuf,
    pub version: String,
    pub name: String,
    pub direction: Direction,
    pub statements: Vec<Statement>,
    /// Declared to run outside a transaction: none of its statements run on a dry-run target.
    pub no_transaction: bool,
    /// How the migration's own tool applies the script (which statements share a transaction).
    pub model: ExecutionModel,
}

/// What `check` runs: the migrations found and their parsed scripts, in run order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub discovery: source::Discovery,
    pub migrations: Vec<PlannedMigration>,
    /// With `--reversible`: each planned migration's parsed down script (`None` when it has none).
    pub downs: Vec<Option<PlannedMigration>>,
    /// For each planned migration, its index in `discovery.migrations`.
    pub sources: Vec<usize>,
}

impl Plan {
    /// Keeps the planned migrations whose source migration `check` flags.
    pub fn retain_sources(&mut self, check: &[bool]) {
        let keep: Vec<bool> = self.sources.iter().map(|source| check.get(*source).copied().unwrap_or(true)).collect();
        let mut flags = keep.iter();
        self.migrations.retain(|_| *flags.next().unwrap_or(&true));
        let mut flags = keep.iter();
        self.sources.retain(|_| *flags.next().unwrap_or(&true));
        if !self.downs.is_empty() {
            let mut flags = keep.iter();
            self.downs.retain(|_| *flags.next().unwrap_or(&true));
        }
    }
}

/// `--git-diff REF`: which migrations the report is about.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Scope {
    /// The git reference compared with.
    pub base: String,
    /// Paths of the migrations applied only so the changed ones see the right schema: traced, not judged.
    pub context: Vec<String>,
    /// Paths of migrations that changed but were left out (already applied on the target).
    pub skipped: Vec<String>,
}

/// Which of the analysed migrations reach a database together (docs/ARCHITECTURE.md, "Judged as
/// it will really run").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Deployment {
    /// Nothing says which migrations are deployed together: each is its own deployment, and a
    /// table that an earlier migration created is an existing table.
    #[default]
    EachAlone,
    /// The scripts at these paths (canonical, or as given when they cannot be resolved) are one
    /// undeployed set (the `--git-diff` changed set, the ledger's pending set); the others were
    /// applied before, for context.
    Together(std::collections::BTreeSet<PathBuf>),
}

impl Deployment {
    /// Whether the script at `path` belongs to the undeployed set.
    pub fn in_set(&self, path: &Path) -> bool {
        match self {
            Deployment::EachAlone => false,
            Deployment::Together(set) => {
                set.contains(path) || path.canonicalize().is_ok_and(|canonical| set.contains(&canonical))
            }
        }
    }
}

/// How `runner` applies a script of these `statements` (`declared_no_transaction`: the script or
/// its metadata says so); Flyway also looks for statements that cannot run in a transaction.
pub fn execution_model(runner: Runner, declared_no_transaction: bool, statements: &[Statement]) -> ExecutionModel {
    runner.model(declared_no_transaction, statements.iter().any(needs_own_transaction))
}

/// Whether PostgreSQL refuses the statement inside a transaction block.
pub fn needs_own_transaction(statement: &Statement) -> bool {
    matches!(statement.summary.execution, Execution::NotInTransaction { .. })
}

/// Reads, orders and parses the migrations for `direction`. Any problem is reported before a
/// database is contacted; statements that must never run stop everything here.
pub fn plan(paths: &[PathBuf], direction: Direction) -> Result<Vec<PlannedMigration>> {
    plan_with(paths, direction, None, false).map(|plan| plan.migrations)
}

/// [`plan`] with a forced `layout` and, for `--reversible`, the down scripts parsed too.
pub fn plan_with(paths: &[PathBuf], direction: Direction, layout: Option<Layout>, reversible: bool) -> Result<Plan> {
    plan_for(paths, direction, layout, None, reversible)
}

/// [`plan_with`], judged as `runner` applies the files (`None`: each layout's own tool).
pub fn plan_for(
    paths: &[PathBuf],
    direction: Direction,
    layout: Option<Layout>,
    runner: Option<Runner>,
    reversible: bool,
) -> Result<Plan> {
    if reversible && direction == Direction::Down {
        return Err(Error::Usage("--reversible runs up, then down, then up again; use it with --direction up".into()));
    }
    let mut discovery = source::discover_with(paths, layout)?;
    discovery.runner = runner;
    let mut plan =
        Plan { migrations: Vec::new(), downs: Vec::new(), sources: Vec::new(), discovery: discovery.clone() };
    for index in run_order(&discovery.migrations, direction) {
        let migration = &discovery.migrations[index];
        let file = script_for(migration, direction)?;
        let runner = discovery.runner_for(migration);
        plan.migrations.push(parse_script(migration, file, direction, runner)?);
        plan.sources.push(index);
        if reversible {
            let down = match &migration.down {
                Some(down) => Some(parse_script(migration, down, Direction::Down, runner)?),
                None => None,
            };
            plan.downs.push(down);
        }
    }
    Ok(plan)
}

/// Indexes of `migrations` in the order `direction` applies them. Repeatable Flyway migrations
/// have no undo, so they are not part of a down run.
fn run_order(migrations: &[Migration], direction: Direction) -> Vec<usize> {
    let mut order: Vec<usize> = (0..migrations.len()).collect();
    if direction == Direction::Down {
        order.retain(|index| !migrations[*index].repeatable);
        order.reverse();
    }
    order
}

/// The migration's script for `direction`, or an input error naming its other script.
fn script_for(migration: &Migration, direction: Direction) -> Result<&MigrationFile> {
    if let Some(file) = migration.file(direction) {
        return Ok(file);
    }
    let (other, wanted) = match direction {
        Direction::Up => (Direction::Down, "up"),
        Direction::Down => (Direction::Up, "down"),
    };
    let path = migration.file(other).map(|f| f.path.clone()).unwrap_or_default();
    Err(Error::input(Location::file(&path), format!("migration {} has no {wanted} file", migration.version)))
}

fn parse_script(
    migration: &Migration,
    file: &MigrationFile,
    direction: Direction,
    runner: Runner,
) -> Result<PlannedMigration> {
    let statements = sql::parse_file(&file.path, &file.text)?;
    for statement in &statements {
        if let Execution::Forbidden { reason } = &statement.summary.execution {
            return Err(Error::input(
                Location::new(&file.path, statement.line, statement.column),
                format!("refusing to run {}: {reason}; nothing was executed", statement.summary.kind),
            ));
        }
    }
    Ok(PlannedMigration {
        path: file.path.clone(),
        version: migration.version.clone(),
        name: migration.name.clone(),
        direction,
        model: execution_model(runner, file.no_transaction, &statements),
        statements,
        no_transaction: file.no_transaction,
    })
}

/// Keeps the migrations the ledger decision says to check (`pending[i]`: discovered migration `i`
/// is not applied yet). Up runs check the pending ones; down scripts roll back what was applied
/// (every migration without a ledger, or with `--all`).
pub fn narrow_to_ledger(plan: &mut Plan, direction: Direction, pending: &[bool], ledger_found: bool, all: bool) {
    let check: Vec<bool> = match direction {
        Direction::Up => pending.to_vec(),
        Direction::Down if all || !ledger_found => vec![true; plan.discovery.migrations.len()],
        Direction::Down => pending.iter().map(|pending| !pending).collect(),
    };
    plan.retain_sources(&check);
}

/// `--git-diff`: keeps the changed migrations and the pending ones before them (applied first as
/// context, so the schema is right); `changed` says whether a script path changed.
pub fn narrow_to_changed(plan: &mut Plan, base: &str, changed: &dyn Fn(&Path) -> bool) -> Scope {
    let discovery = &plan.discovery;
    let is_changed = |index: usize| {
        discovery.migrations.get(index).is_some_and(|m| m.up.iter().chain(m.down.iter()).any(|f| changed(&f.path)))
    };
    let planned_changed: Vec<bool> = plan.sources.iter().map(|source| is_changed(*source)).collect();
    let last = planned_changed.iter().rposition(|c| *c);
    let mut keep = vec![false; discovery.migrations.len()];
    let mut context = Vec::new();
    if let Some(last) = last {
        for (position, source) in plan.sources.iter().enumerate().take(last + 1) {
            keep[*source] = true;
            if !planned_changed[position] {
                if let Some(migration) = plan.migrations.get(position) {
                    context.push(migration.path.display().to_string());
                }
            }
        }
    }
    let skipped: Vec<String> = (0..discovery.migrations.len())
        .filter(|index| is_changed(*index) && !plan.sources.contains(index))
        .filter_map(|index| {
            let migration = &discovery.migrations[index];
            migration.up.as_ref().or(migration.down.as_ref()).map(|f| f.path.display().to_string())
        })
        .collect();
    plan.retain_sources(&keep);
    Scope { base: base.to_string(), context, skipped }
}

/// Which planned migrations reach the database together: the `--git-diff` changed set, else the
/// ledger's pending set on a real target (`ledger_found`, unless `--all`); with neither, each
/// migration is its own deployment.
pub fn deployment(plan: &[PlannedMigration], scope: Option<&Scope>, ledger_found: bool, all: bool) -> Deployment {
    let paths = |keep: &dyn Fn(&PlannedMigration) -> bool| {
        Deployment::Together(plan.iter().filter(|m| keep(m)).map(|m| m.path.clone()).collect())
    };
    match scope {
        Some(scope) => paths(&|m| !scope.context.contains(&m.path.display().to_string())),
        None if ledger_found && !all => paths(&|_| true),
        None => Deployment::EachAlone,
    }
}

#[cfg(test)]
mod tests {
    //! Planning without a database: the files, the flags and a ledger decision in, the plan out.

    use super::*;

    /// A golang-migrate folder of `count` migrations, each `ALTER TABLE tN ADD COLUMN c int`.
    fn folder(count: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for n in 1..=count {
            let up = format!("CREATE TABLE IF NOT EXISTS t{n} (id int);\nALTER TABLE t{n} ADD COLUMN c int;\n");
            std::fs::write(dir.path().join(format!("{n:03}_m{n}.up.sql")), up).unwrap();
            std::fs::write(dir.path().join(format!("{n:03}_m{n}.down.sql")), format!("DROP TABLE t{n};\n")).unwrap();
        }
        dir
    }

    fn versions(plan: &Plan) -> Vec<&str> {
        plan.migrations.iter().map(|m| m.version.as_str()).collect()
    }

    #[test]
    fn up_runs_in_version_order_and_down_in_reverse() {
        let dir = folder(3);
        let up = plan_for(&[dir.path().to_path_buf()], Direction::Up, None, None, false).unwrap();
        assert_eq!(versions(&up), ["001", "002", "003"]);
        assert_eq!(up.sources, [0, 1, 2]);
        assert!(up.downs.is_empty(), "down scripts are parsed only for --reversible");
        let down = plan_for(&[dir.path().to_path_buf()], Direction::Down, None, None, false).unwrap();
        assert_eq!(versions(&down), ["003", "002", "001"]);
        assert!(down.migrations.iter().all(|m| m.statements[0].sql.starts_with("DROP TABLE")));
        let reversible = plan_for(&[dir.path().to_path_buf()], Direction::Up, None, None, true).unwrap();
        assert_eq!(reversible.downs.len(), 3);
        assert!(plan_for(&[dir.path().to_path_buf()], Direction::Down, None, None, true).is_err());
    }

    #[test]
    fn the_runner_model_is_decided_while_planning() {
        let dir = folder(1);
        let own = plan_for(&[dir.path().to_path_buf()], Direction::Up, None, None, false).unwrap();
        assert_eq!(own.migrations[0].model.runner, Runner::GolangMigrate);
        let psql = plan_for(&[dir.path().to_path_buf()], Direction::Up, None, Some(Runner::Psql), false).unwrap();
        assert_eq!(psql.migrations[0].model.runner, Runner::Psql);
    }

    #[test]
    fn a_statement_that_must_never_run_stops_planning_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("001_x.up.sql"), "SELECT 1;\nSELECT pg_terminate_backend(42);\n").unwrap();
        let err = plan(&[dir.path().to_path_buf()], Direction::Up).unwrap_err().to_string();
        assert!(err.contains("001_x.up.sql:2"), "{err}");
        assert!(err.contains("nothing was executed"), "{err}");
    }

    #[test]
    fn the_ledger_keeps_pending_migrations_for_up_and_applied_ones_for_down() {
        let dir = folder(3);
        let pending = [false, true, true];
        let mut up = plan_for(&[dir.path().to_path_buf()], Direction::Up, None, None, false).unwrap();
        narrow_to_ledger(&mut up, Direction::Up, &pending, true, false);
        assert_eq!(versions(&up), ["002", "003"]);
        assert_eq!(up.sources, [1, 2]);
        let mut down = plan_for(&[dir.path().to_path_buf()], Direction::Down, None, None, false).unwrap();
        narrow_to_ledger(&mut down, Direction::Down, &pending, true, false);
        assert_eq!(versions(&down), ["001"]);
        // No ledger on the target, or --all: every down script runs.
        let mut all = plan_for(&[dir.path().to_path_buf()], Direction::Down, None, None, false).unwrap();
        narrow_to_ledger(&mut all, Direction::Down, &pending, false, false);
        assert_eq!(versions(&all), ["003", "002", "001"]);
    }

    #[test]
    fn git_diff_judges_the_changed_and_runs_the_pending_before_them_as_context() {
        let dir = folder(4);
        let mut plan = plan_for(&[dir.path().to_path_buf()], Direction::Up, None, None, false).unwrap();
        let changed = |path: &Path| path.to_string_lossy().contains("003_m3");
        let scope = narrow_to_changed(&mut plan, "origin/main", &changed);
        assert_eq!(versions(&plan), ["001", "002", "003"], "004 comes after the last change: not run");
        assert_eq!(scope.base, "origin/main");
        assert_eq!(scope.context.len(), 2);
        assert!(scope.context.iter().all(|p| !p.contains("003_m3")));
        assert!(scope.skipped.is_empty());

        // The changed migration was already applied (the ledger left it out): skipped, named.
        let mut applied = plan_for(&[dir.path().to_path_buf()], Direction::Up, None, None, false).unwrap();
        narrow_to_ledger(&mut applied, Direction::Up, &[false, false, false, true], true, false);
        let scope = narrow_to_changed(&mut applied, "origin/main", &changed);
        assert!(applied.migrations.is_empty());
        assert_eq!(scope.skipped.len(), 1);
        assert!(scope.skipped[0].contains("003_m3.up.sql"), "{:?}", scope.skipped);
    }

    #[test]
    fn deployment_is_the_changed_set_else_the_pending_set_else_each_alone() {
        let dir = folder(3);
        let plan = plan_for(&[dir.path().to_path_buf()], Direction::Up, None, None, false).unwrap();
        let first = plan.migrations[0].path.clone();
        let scope = Scope { base: "main".into(), context: vec![first.display().to_string()], skipped: Vec::new() };
        let changed = deployment(&plan.migrations, Some(&scope), false, false);
        assert!(!changed.in_set(&first));
        assert!(changed.in_set(&plan.migrations[1].path));
        let pending = deployment(&plan.migrations, None, true, false);
        assert!(plan.migrations.iter().all(|m| pending.in_set(&m.path)));
        assert_eq!(deployment(&plan.migrations, None, true, true), Deployment::EachAlone, "--all");
        assert_eq!(deployment(&plan.migrations, None, false, false), Deployment::EachAlone, "no ledger");
    }
}
