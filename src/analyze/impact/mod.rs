//! The trace turned into impact: what each lock costs on this database — the size and rows of
//! what it locks, how long it is held, what it blocks and how busy the table is — a risk level,
//! and, with a production snapshot, the same scaled to production sizes. Also the findings about
//! indexes the workload uses or not.

pub mod index_usage;
pub mod model;

use std::collections::BTreeMap;

pub use model::*;

use crate::analyze::Assessment;
use crate::introspect::{Introspection, TableInfo};
use crate::locks::LockMode;
use crate::trace::{StatementTrace, Trace};
use crate::units::human_count;

/// Relations at or above this many rows count as big for the risk level.
pub const BIG_ROWS: f64 = 100_000.0;
/// Relations at or above this many rows count as huge.
pub const HUGE_ROWS: f64 = 1_000_000.0;

/// Adds a [`StatementImpact`] to the assessment of every executed or reported statement of
/// `trace`. `target` is the introspection of the database the trace ran on (sizes, activity);
/// `production` a snapshot.
pub fn assess(
    trace: &Trace,
    assessment: &mut Assessment,
    target: Option<&Introspection>,
    production: Option<&Introspection>,
) {
    for (migration, judged) in trace.migrations.iter().zip(&mut assessment.migrations) {
        let durations: Vec<f64> = migration.statements.iter().map(|s| s.duration_ms.unwrap_or(0.0)).collect();
        let transactions: Vec<Option<usize>> = judged.statements.iter().map(|s| s.runner_transaction).collect();
        let estimates: Vec<Option<ProductionEstimate>> = migration
            .statements
            .iter()
            .map(|statement| production.map(|prod| estimate(statement, target, prod)))
            .collect();
        for (index, (statement, verdict)) in migration.statements.iter().zip(&mut judged.statements).enumerate() {
            // Locks are held from the statement to the end of the transaction the runner commits
            // (analyze::hold); without a runner model, to the end of the migration.
            let same_transaction =
                |later: usize| transactions[index].is_none() || transactions[later] == transactions[index];
            let hold_ms: f64 = verdict.lock_hold_ms.unwrap_or_else(|| {
                (index..durations.len()).filter(|&l| same_transaction(l)).map(|l| durations[l]).sum()
            });
            let production_estimate = estimates[index].clone().map(|mut estimate| {
                estimate.hold_ms = (index..estimates.len())
                    .filter(|&l| same_transaction(l))
                    .map(|l| estimates[l].as_ref().map_or(0.0, |e| e.duration_ms))
                    .sum();
                estimate
            });
            verdict.impact = Some(statement_impact(statement, hold_ms, target, production, production_estimate));
        }
    }
}

fn statement_impact(
    statement: &StatementTrace,
    hold_ms: f64,
    target: Option<&Introspection>,
    production: Option<&Introspection>,
    production_estimate: Option<ProductionEstimate>,
) -> StatementImpact {
    let mut strongest: BTreeMap<&str, (LockMode, &str)> = BTreeMap::new();
    for lock in &statement.locks {
        let entry = strongest.entry(lock.relation.as_str()).or_insert((lock.mode, lock.relkind.as_str()));
        if lock.mode > entry.0 {
            entry.0 = lock.mode;
        }
    }
    let effective_hold = production_estimate.as_ref().map_or(hold_ms, |p| p.hold_ms);
    let relations: Vec<RelationImpact> = strongest
        .into_iter()
        .map(|(relation, (mode, relkind))| {
            let table = table_of(relation, target);
            let activity = table_of(relation, production)
                .zip(production)
                .map(|(t, intro)| activity(t, intro, "production snapshot"))
                .or_else(|| table.zip(target).map(|(t, intro)| activity(t, intro, "target")));
            let queued_per_s = activity.as_ref().map(|a| {
                if mode.blocks_reads() {
                    a.reads_per_s + a.writes_per_s
                } else if mode.blocks_writes() {
                    a.writes_per_s
                } else {
                    0.0
                }
            });
            RelationImpact {
                relation: relation.to_string(),
                relkind: relkind.to_string(),
                mode: mode.pg_name().to_string(),
                blocks: mode.blocks_in_words().to_string(),
                rows: rows_here(statement, relation).or_else(|| table.map(TableInfo::rows)),
                total_bytes: table.map(|t| t.size.total_bytes),
                hold_ms,
                activity,
                queued_per_s,
                queued_estimate: queued_per_s.map(|rate| rate * effective_hold / 1000.0),
            }
        })
        .collect();
    let (risk, risk_reasons) = risk(statement, &relations, effective_hold, production_estimate.is_some());
    StatementImpact { risk, risk_reasons, relations, production: production_estimate }
}

/// The introspected table behind a relation name (`schema.table`, or its TOAST).
fn table_of<'a>(relation: &str, introspection: Option<&'a Introspection>) -> Option<&'a TableInfo> {
    let name = relation.trim_end_matches(" (TOAST)").trim_end_matches(" (TOAST index)");
    introspection?.table_named(name)
}

/// Rows the statement itself saw in `relation`: rows read per full scan, else the rewrite's estimate.
fn rows_here(statement: &StatementTrace, relation: &str) -> Option<f64> {
    statement
        .scans
        .iter()
        .find(|scan| scan.relation == relation)
        .map(|scan| scan.rows as f64 / scan.scans.max(1) as f64)
        .or_else(|| {
            statement
                .rewrites
                .iter()
                .find(|rewrite| rewrite.relation == relation && rewrite.rows_estimate >= 0.0)
                .map(|rewrite| rewrite.rows_estimate)
        })
}

fn activity(table: &TableInfo, introspection: &Introspection, source: &str) -> Activity {
    let seconds = introspection.server.stats_age_s.unwrap_or(introspection.server.uptime_s).max(1.0);
    let a = &table.activity;
    Activity {
        reads_per_s: (a.seq_scan + a.idx_scan) as f64 / seconds,
        writes_per_s: (a.n_tup_ins + a.n_tup_upd + a.n_tup_del) as f64 / seconds,
        source: source.to_string(),
    }
}

/// The statement's time on production, from a cost model fitted on this run and the sample runs
/// the trace made (`analyze::estimate`): fixed cost + per-row + per-index terms of the table it
/// rewrote, indexed or scanned; unchanged when it did neither.
fn estimate(
    statement: &StatementTrace,
    target: Option<&Introspection>,
    production: &Introspection,
) -> ProductionEstimate {
    use crate::analyze::estimate::Work;
    let measured = statement.duration_ms.unwrap_or(0.0);
    let heavy: Vec<&str> = statement
        .rewrites
        .iter()
        .filter(|r| r.relkind == "table")
        .map(|r| r.relation.as_str())
        .chain(statement.scans.iter().map(|s| s.relation.as_str()))
        .collect();
    if heavy.is_empty() {
        return ProductionEstimate {
            duration_ms: measured,
            hold_ms: 0.0,
            scale: 1.0,
            basis: "no rewrite or full scan: the time does not grow with table size".into(),
        };
    }
    let work = if statement.rewrites.iter().any(|r| r.relkind == "table") {
        Work::Rewrite
    } else if statement.kind == "CREATE INDEX" {
        Work::IndexBuild
    } else {
        Work::Scan
    };
    // The table whose production estimate is longest dominates the cost.
    let mut best: Option<(f64, String)> = None;
    for relation in heavy {
        let Some(estimate) = relation_estimate(statement, relation, work, target, production) else { continue };
        if best.as_ref().is_none_or(|(p, _)| estimate.0 > *p) {
            best = Some(estimate);
        }
    }
    match best {
        Some((predicted, basis)) => ProductionEstimate {
            duration_ms: predicted,
            hold_ms: 0.0,
            scale: if measured > 0.0 { predicted / measured } else { 1.0 },
            basis,
        },
        None => ProductionEstimate {
            duration_ms: measured,
            hold_ms: 0.0,
            scale: 1.0,
            basis: "the relations it rewrote or scanned are not in the production snapshot".into(),
        },
    }
}

/// The production time of `statement`'s `work` on `relation`, and how it was reached; `None` when
/// production has no such table.
fn relation_estimate(
    statement: &StatementTrace,
    relation: &str,
    work: crate::analyze::estimate::Work,
    target: Option<&Introspection>,
    production: &Introspection,
) -> Option<(f64, String)> {
    let measured = statement.duration_ms.unwrap_or(0.0);
    let prod_table = table_of(relation, Some(production))?;
    let prod_rows = prod_table.rows();
    let prod_indexes = production.indexes_of(prod_table.oid).count() as f64;
    let calibration = statement.calibration.as_ref().filter(|c| c.relation == relation);
    let target_table = table_of(relation, target);
    // The calibration's row count first: a parallel build's scan counters miss the workers' rows.
    let here_rows = calibration
        .map(|c| c.rows_here)
        .or_else(|| rows_here(statement, relation))
        .or_else(|| target_table.map(TableInfo::rows));
    let here_indexes = calibration
        .map(|c| c.indexes_here as f64)
        .or_else(|| target.zip(target_table).map(|(t, table)| t.indexes_of(table.oid).count() as f64))
        .unwrap_or(prod_indexes);
    let Some(here) = here_rows.filter(|here| *here >= 1.0) else {
        return Some((
            measured,
            format!(
                "{relation}: {} rows on production but none here, so this run's time can't be scaled; \
                 trace against a staging copy with data",
                human_count(prod_rows)
            ),
        ));
    };
    let workers = Workers::of(calibration, target, production, prod_table);
    let here = Size { rows: here, indexes: here_indexes, workers: workers.here };
    let prod = Size { rows: prod_rows, indexes: prod_indexes, workers: workers.production };
    Some(fitted(statement, relation, work, calibration, here, prod, &workers))
}

/// A table's rows and indexes somewhere, and the workers an index build there gets.
#[derive(Debug, Clone, Copy)]
struct Size {
    rows: f64,
    indexes: f64,
    workers: f64,
}

/// The parallel workers PostgreSQL plans for building a btree index on the table here (the
/// statement's own run) and on production, from each server's settings and heap size
/// (`ParallelBuildSettings::index_build_workers`); a snapshot without settings is taken to have
/// this server's. The sample copies are always built serially.
struct Workers {
    here: f64,
    production: f64,
    /// The access method, when PostgreSQL builds it in parallel but the model does not divide it
    /// (not btree): the estimate stays serial, an upper bound.
    undivided: Option<String>,
}

impl Workers {
    fn of(
        calibration: Option<&crate::trace::Calibration>,
        target: Option<&Introspection>,
        production: &Introspection,
        prod_table: &TableInfo,
    ) -> Workers {
        let none = Workers { here: 0.0, production: 0.0, undivided: None };
        // Only index builds have workers: a rewrite's index rebuilds, or CREATE INDEX.
        let Some(calibration) = calibration.filter(|c| c.work != "scan") else { return none };
        let method = calibration.access_method.as_deref().unwrap_or("btree");
        // index_build builds in parallel what the access method allows: btree since PostgreSQL 11,
        // BRIN since 17, GIN since 18 (release notes: "Allow BRIN indexes to be created using
        // parallel workers", 17; "Allow GIN indexes to be created in parallel", 18).
        let parallel_since = match method {
            "btree" => 110_000,
            "brin" => 170_000,
            "gin" => 180_000,
            _ => return none,
        };
        let here_settings = calibration.settings_here.or(target.and_then(|t| t.server.parallel_builds));
        let prod_settings = production.server.parallel_builds.or(here_settings);
        let here_version = target.map_or(production.server.version_num, |t| t.server.version_num);
        let block = production.server.block_size.max(1) as f64;
        let prod_pages = if prod_table.size.heap_bytes > 0 {
            prod_table.size.heap_bytes as f64 / block
        } else {
            prod_table.relpages as f64
        };
        let planned = |settings: Option<crate::introspect::ParallelBuildSettings>, version: i32, pages: f64| {
            settings.filter(|_| version >= parallel_since).map_or(0.0, |s| s.index_build_workers(pages) as f64)
        };
        let here = planned(here_settings, here_version, calibration.heap_pages_here);
        let prod = planned(prod_settings, production.server.version_num, prod_pages);
        if method == "btree" {
            Workers { here, production: prod, undivided: None }
        } else {
            Workers { here: 0.0, production: 0.0, undivided: (prod > 0.0).then(|| method.to_string()) }
        }
    }
}

/// The cost model fitted on this run's timing of `statement` (`here`: its rows, indexes and
/// workers) and the sample runs of its calibration, applied to production's.
fn fitted(
    statement: &StatementTrace,
    relation: &str,
    work: crate::analyze::estimate::Work,
    calibration: Option<&crate::trace::Calibration>,
    here: Size,
    prod: Size,
    workers: &Workers,
) -> (f64, String) {
    use crate::analyze::estimate::{fit, parallel_overhead, parallel_share, Measurement, Parallel, Work};
    let measured = statement.duration_ms.unwrap_or(0.0);
    let mut timings = vec![Measurement { rows: here.rows, indexes: here.indexes, ms: measured, workers: here.workers }];
    let serial_here = calibration.and_then(|c| c.serial_here_ms);
    timings.extend(serial_here.map(|ms| Measurement::serial(here.rows, here.indexes, ms)));
    timings.extend(
        calibration
            .iter()
            .flat_map(|c| &c.runs)
            .map(|run| Measurement::serial(run.rows, run.indexes as f64, run.duration_ms)),
    );
    // The scan-and-sort share, at the table's full size, from the serial timings' model; and when
    // the statement's own run here had workers, what working in parallel cost beyond that share.
    let parallel = if work != Work::Scan && (here.workers > 0.0 || prod.workers > 0.0) {
        let serial: Vec<Measurement> = timings.iter().copied().filter(|t| t.workers == 0.0).collect();
        let sort_ms: f64 = calibration.iter().flat_map(|c| &c.sort_runs).map(|run| run.duration_ms).sum();
        fit(work, &serial, 0.0).and_then(|model| {
            let share = parallel_share(&model, here.rows, here.indexes, sort_ms)?;
            let overhead = if here.workers > 0.0 {
                parallel_overhead(&model, here.rows, here.indexes, here.workers, measured, share)
            } else {
                0.0
            };
            Some(Parallel { share, overhead })
        })
    } else {
        None
    };
    let sampled = calibration.iter().flat_map(|c| &c.runs).map(|run| {
        format!(
            "{} on a sample copy of {} rows with {} index(es)",
            crate::units::format_ms(run.duration_ms),
            human_count(run.rows),
            run.indexes
        )
    });
    let measured_text = std::iter::once(format!(
        "{} here ({} rows, {} index(es){}{})",
        crate::units::format_ms(measured),
        human_count(here.rows),
        here.indexes,
        if here.workers > 0.0 { format!(", {} parallel worker(s)", here.workers) } else { String::new() },
        serial_here.map(|ms| format!("; {} serially, median of 3", crate::units::format_ms(ms))).unwrap_or_default()
    ))
    .chain(sampled)
    .collect::<Vec<_>>()
    .join(", ");
    let parallel_text = parallel_words(work, prod.workers, parallel.map(|p| p.share), workers.undivided.as_deref());
    match fit(work, &timings, parallel.unwrap_or_default()) {
        Some(model) => (
            model.predict(prod.rows, prod.indexes, if parallel.is_some() { prod.workers } else { 0.0 }),
            format!(
                "{relation}: {} rows and {} index(es) on production{parallel_text}; {} model {} fitted on {measured_text}{}",
                human_count(prod.rows),
                prod.indexes,
                work.describe(),
                model.describe(),
                calibration.and_then(|c| c.note.as_deref()).map(|n| format!(" ({n})")).unwrap_or_default()
            ),
        ),
        None => (measured, format!("{relation}: no usable timing to fit ({measured_text})")),
    }
}

/// What the estimate assumes of production's parallel index builds, for its basis.
fn parallel_words(
    work: crate::analyze::estimate::Work,
    prod_workers: f64,
    share: Option<f64>,
    undivided: Option<&str>,
) -> String {
    use crate::analyze::estimate::Work;
    if let Some(method) = undivided {
        return format!(
            ", where PostgreSQL may build this {method} index with parallel workers: a serial estimate, an upper bound"
        );
    }
    match (work, prod_workers > 0.0, share) {
        (Work::IndexBuild, true, Some(_)) => format!(", built there with {prod_workers} parallel worker(s)"),
        (Work::IndexBuild, true, None) => format!(
            ", where PostgreSQL plans {prod_workers} parallel worker(s) but their share could not be measured: a serial estimate, an upper bound"
        ),
        (Work::Rewrite, true, Some(_)) => format!(", its btree indexes rebuilt there with {prod_workers} parallel worker(s)"),
        (Work::Rewrite, true, None) => format!(
            ", where its btree indexes may be rebuilt with {prod_workers} parallel worker(s) but their share could not be measured: the per-index term is serial, an upper bound"
        ),
        _ => String::new(),
    }
}

/// Combines lock strength, hold time, rewrite/scan and size into a level (README, "Risk levels").
fn risk(
    statement: &StatementTrace,
    relations: &[RelationImpact],
    hold_ms: f64,
    on_production: bool,
) -> (Risk, Vec<String>) {
    let mut level = Risk::Low;
    let mut reasons = Vec::new();
    let hold_words =
        format!("{}{}", crate::units::format_ms(hold_ms), if on_production { " on production" } else { "" });
    for relation in relations {
        let mode = LockMode::parse(&relation.mode).unwrap_or(LockMode::AccessShare);
        let blocks_reads = mode.blocks_reads();
        let blocks_writes = mode.blocks_writes();
        if !blocks_writes {
            continue;
        }
        let rows = relation.rows.unwrap_or(0.0);
        let heavy = statement.rewrites.iter().any(|r| r.relation == relation.relation)
            || statement.scans.iter().any(|s| s.relation == relation.relation && s.rows > 0);
        let queued = relation.queued_estimate.unwrap_or(0.0);
        let this = if blocks_reads {
            if hold_ms >= 10_000.0 || (heavy && rows >= HUGE_ROWS) || queued >= 1000.0 {
                Risk::Critical
            } else if hold_ms >= 1_000.0 || (heavy && rows >= BIG_ROWS) || queued >= 100.0 {
                Risk::High
            } else if hold_ms >= 100.0 || (heavy && rows > 0.0) {
                Risk::Medium
            } else {
                Risk::Low
            }
        } else if hold_ms >= 10_000.0 || (heavy && rows >= HUGE_ROWS) || queued >= 1000.0 {
            Risk::High
        } else if hold_ms >= 1_000.0 || (heavy && rows >= BIG_ROWS) || queued >= 100.0 {
            Risk::Medium
        } else {
            Risk::Low
        };
        if this > Risk::Low {
            let mut reason = format!("{} on {} {} for {hold_words}", relation.mode, relation.relation, relation.blocks);
            if heavy {
                reason.push_str(&format!(" while it rewrites or scans {} rows", human_count(rows)));
            }
            if queued >= 1.0 {
                reason.push_str(&format!("; ~{} queries would queue", human_count(queued)));
            }
            reasons.push(reason);
        }
        level = level.max(this);
    }
    (level, reasons)
}
