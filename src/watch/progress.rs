//! Progress of long commands from `pg_stat_progress_*`: which counter measures the current phase,
//! percent done, and an ETA from how fast that counter moved between samples. Every phase
//! restarts its counters, so the rate is measured from the first sample of the current phase and
//! starts over when the phase (or its total) changes.

use std::collections::HashMap;

use serde_json::Value;

use super::model::Progress;

/// One row of `sql/watch_progress.sql`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressRow {
    /// `create_index`, `cluster`, `vacuum`, `analyze` or `copy`.
    pub view: String,
    pub pid: i32,
    pub relation: Option<String>,
    pub index: Option<String>,
    /// The view's row as JSON.
    pub fields: Value,
}

/// What a progress row says about its current phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseCounters {
    pub command: String,
    pub phase: Option<String>,
    /// (done, total, unit); total 0 or missing means "unknown".
    pub counter: Option<(i64, Option<i64>, &'static str)>,
}

/// Picks the counter that measures the current phase of one `pg_stat_progress_*` row.
pub fn phase_counters(view: &str, fields: &Value) -> PhaseCounters {
    let int = |name: &str| fields.get(name).and_then(Value::as_i64);
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_string);
    let phase = text("phase");
    let phase_text = phase.clone().unwrap_or_default();
    let pair = |done: &str, total: &str, unit: &'static str| {
        int(done).map(|done| (done, int(total).filter(|total| *total > 0), unit))
    };
    let known =
        |done: &str, total: &str, unit: &'static str| pair(done, total, unit).filter(|(_, total, _)| total.is_some());
    match view {
        "create_index" => PhaseCounters {
            command: text("command").unwrap_or_else(|| "CREATE INDEX".into()),
            counter: if phase_text.starts_with("waiting for") {
                pair("lockers_done", "lockers_total", "lockers")
            } else {
                known("blocks_done", "blocks_total", "blocks")
                    .or_else(|| known("tuples_done", "tuples_total", "tuples"))
                    .or_else(|| known("partitions_done", "partitions_total", "partitions"))
                    .or_else(|| pair("tuples_done", "tuples_total", "tuples"))
            },
            phase,
        },
        "cluster" => PhaseCounters {
            command: text("command").unwrap_or_else(|| "CLUSTER".into()),
            counter: match phase_text.as_str() {
                "seq scanning heap" | "index scanning heap" => pair("heap_blks_scanned", "heap_blks_total", "blocks"),
                "writing new heap" => pair("heap_tuples_written", "heap_tuples_scanned", "tuples"),
                "rebuilding index" => pair("index_rebuild_count", "", "indexes"),
                _ => None,
            },
            phase,
        },
        "vacuum" => PhaseCounters {
            command: "VACUUM".into(),
            counter: match phase_text.as_str() {
                "scanning heap" => pair("heap_blks_scanned", "heap_blks_total", "blocks"),
                "vacuuming heap" => pair("heap_blks_vacuumed", "heap_blks_total", "blocks"),
                "vacuuming indexes" | "cleaning up indexes" => {
                    // indexes_total / indexes_processed exist from PostgreSQL 17.
                    pair("indexes_processed", "indexes_total", "indexes")
                }
                _ => None,
            },
            phase,
        },
        "analyze" => PhaseCounters {
            command: "ANALYZE".into(),
            counter: match phase_text.as_str() {
                "acquiring sample rows" => pair("sample_blks_scanned", "sample_blks_total", "blocks"),
                "acquiring inherited sample rows" => pair("child_tables_done", "child_tables_total", "tables"),
                "computing extended statistics" => pair("ext_stats_computed", "ext_stats_total", "statistics"),
                _ => None,
            },
            phase,
        },
        "copy" => PhaseCounters {
            command: text("command").unwrap_or_else(|| "COPY".into()),
            counter: known("bytes_processed", "bytes_total", "bytes")
                .or_else(|| pair("tuples_processed", "", "tuples")),
            phase: text("type").map(|kind| format!("{kind} transfer")),
        },
        other => PhaseCounters { command: other.to_uppercase(), counter: None, phase },
    }
}

/// Remembers each command's phase between samples to turn counters into rates and ETAs.
#[derive(Debug, Default)]
pub struct ProgressTracker {
    phases: HashMap<(i32, String), PhaseStart>,
}

#[derive(Debug, Clone, PartialEq)]
struct PhaseStart {
    phase: Option<String>,
    unit: Option<&'static str>,
    total: Option<i64>,
    /// First sample of this phase: time (seconds, any clock) and counter.
    at_s: f64,
    done: i64,
    /// Latest counter, to notice a counter going backwards (a new pass).
    last_done: i64,
}

impl ProgressTracker {
    /// Updates the tracker with this sample's rows (taken at `now_s`, seconds on any steady clock)
    /// and returns their progress. Commands no longer running are forgotten.
    pub fn observe(&mut self, rows: &[ProgressRow], now_s: f64) -> Vec<Progress> {
        let mut seen: Vec<(i32, String)> = Vec::new();
        let mut out = Vec::new();
        for row in rows {
            let counters = phase_counters(&row.view, &row.fields);
            let key = (row.pid, row.view.clone());
            seen.push(key.clone());
            let (done, total, unit) = match counters.counter {
                Some((done, total, unit)) => (Some(done), total, Some(unit)),
                None => (None, None, None),
            };
            let start = self.phases.get(&key);
            let restart = match start {
                None => true,
                Some(start) => {
                    start.phase != counters.phase
                        || start.unit != unit
                        || start.total != total
                        || done.is_some_and(|done| done < start.last_done)
                }
            };
            if restart {
                self.phases.insert(
                    key.clone(),
                    PhaseStart {
                        phase: counters.phase.clone(),
                        unit,
                        total,
                        at_s: now_s,
                        done: done.unwrap_or(0),
                        last_done: done.unwrap_or(0),
                    },
                );
            }
            let start = self.phases.get_mut(&key).expect("inserted above");
            start.last_done = done.unwrap_or(start.last_done);
            let (rate_per_s, eta_s) = rate_and_eta(start, done, total, now_s);
            out.push(Progress {
                pid: row.pid,
                command: counters.command,
                phase: counters.phase,
                relation: row.relation.clone(),
                index: row.index.clone(),
                done,
                total,
                unit: unit.map(str::to_string),
                percent: percent(done, total),
                rate_per_s,
                eta_s,
            });
        }
        self.phases.retain(|key, _| seen.contains(key));
        out
    }
}

/// `done / total` as 0–100, when the total is known.
pub fn percent(done: Option<i64>, total: Option<i64>) -> Option<f64> {
    match (done, total) {
        (Some(done), Some(total)) if total > 0 => Some((done as f64 / total as f64 * 100.0).clamp(0.0, 100.0)),
        _ => None,
    }
}

fn rate_and_eta(start: &PhaseStart, done: Option<i64>, total: Option<i64>, now_s: f64) -> (Option<f64>, Option<f64>) {
    let Some(done) = done else {
        return (None, None);
    };
    let elapsed = now_s - start.at_s;
    let progressed = done - start.done;
    if elapsed <= 0.0 || progressed <= 0 {
        return (None, None);
    }
    let rate = progressed as f64 / elapsed;
    let eta = total.map(|total| ((total - done).max(0)) as f64 / rate);
    (Some(rate), eta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn index_row(phase: &str, blocks_done: i64, blocks_total: i64) -> ProgressRow {
        ProgressRow {
            view: "create_index".into(),
            pid: 42,
            relation: Some("public.orders".into()),
            index: Some("public.orders_total_idx".into()),
            fields: json!({
                "command": "CREATE INDEX CONCURRENTLY", "phase": phase,
                "blocks_done": blocks_done, "blocks_total": blocks_total,
                "tuples_done": 0, "tuples_total": 0, "lockers_done": 0, "lockers_total": 0,
            }),
        }
    }

    #[test]
    fn eta_comes_from_the_counter_delta_since_the_phase_began() {
        let mut tracker = ProgressTracker::default();
        let phase = "building index: scanning table";
        let first = tracker.observe(&[index_row(phase, 100, 1100)], 10.0);
        assert_eq!(first[0].percent.map(|p| p.round()), Some(9.0));
        assert_eq!(first[0].eta_s, None, "one sample has no rate yet");

        let second = tracker.observe(&[index_row(phase, 300, 1100)], 12.0);
        // 200 blocks in 2 s = 100 blocks/s; 800 left → 8 s.
        assert_eq!(second[0].rate_per_s, Some(100.0));
        assert_eq!(second[0].eta_s, Some(8.0));
        assert_eq!(second[0].unit.as_deref(), Some("blocks"));
        assert_eq!(second[0].command, "CREATE INDEX CONCURRENTLY");

        let third = tracker.observe(&[index_row(phase, 700, 1100)], 14.0);
        // Rate over the whole phase: 600 blocks in 4 s = 150/s; 400 left → 2.67 s.
        assert_eq!(third[0].rate_per_s, Some(150.0));
        assert!((third[0].eta_s.unwrap() - 400.0 / 150.0).abs() < 1e-9);
    }

    #[test]
    fn a_new_phase_resets_the_rate() {
        let mut tracker = ProgressTracker::default();
        tracker.observe(&[index_row("building index: scanning table", 0, 1000)], 0.0);
        tracker.observe(&[index_row("building index: scanning table", 900, 1000)], 1.0);
        let next = tracker.observe(&[index_row("index validation: scanning index", 10, 50)], 2.0);
        assert_eq!(next[0].phase.as_deref(), Some("index validation: scanning index"));
        assert_eq!(next[0].percent, Some(20.0));
        assert_eq!(next[0].rate_per_s, None);
        assert_eq!(next[0].eta_s, None);
        let later = tracker.observe(&[index_row("index validation: scanning index", 30, 50)], 4.0);
        assert_eq!(later[0].rate_per_s, Some(10.0));
        assert_eq!(later[0].eta_s, Some(2.0));
    }

    #[test]
    fn a_counter_going_backwards_or_a_new_total_restarts_the_phase() {
        let mut tracker = ProgressTracker::default();
        let phase = "building index: scanning table";
        tracker.observe(&[index_row(phase, 500, 1000)], 0.0);
        let back = tracker.observe(&[index_row(phase, 100, 1000)], 1.0);
        assert_eq!(back[0].eta_s, None);
        let resumed = tracker.observe(&[index_row(phase, 300, 1000)], 2.0);
        assert_eq!(resumed[0].eta_s, Some(3.5));
        let new_total = tracker.observe(&[index_row(phase, 400, 2000)], 3.0);
        assert_eq!(new_total[0].eta_s, None);
    }

    #[test]
    fn a_stalled_counter_has_no_eta_and_finished_commands_are_forgotten() {
        let mut tracker = ProgressTracker::default();
        let phase = "building index: scanning table";
        tracker.observe(&[index_row(phase, 10, 100)], 0.0);
        let stalled = tracker.observe(&[index_row(phase, 10, 100)], 5.0);
        assert_eq!(stalled[0].eta_s, None);
        assert!(tracker.observe(&[], 6.0).is_empty());
        assert!(tracker.phases.is_empty());
    }

    #[test]
    fn each_view_reports_the_counter_of_its_phase() {
        let vacuum = phase_counters(
            "vacuum",
            &json!({"phase": "vacuuming heap", "heap_blks_total": 80, "heap_blks_scanned": 80,
                    "heap_blks_vacuumed": 20}),
        );
        assert_eq!(vacuum.counter, Some((20, Some(80), "blocks")));
        let waiting = phase_counters(
            "create_index",
            &json!({"command": "CREATE INDEX CONCURRENTLY",
                    "phase": "waiting for old snapshots", "lockers_done": 1, "lockers_total": 3,
                    "blocks_total": 0, "blocks_done": 0}),
        );
        assert_eq!(waiting.counter, Some((1, Some(3), "lockers")));
        let copy = phase_counters(
            "copy",
            &json!({"command": "COPY FROM", "type": "FILE", "bytes_processed": 50,
                    "bytes_total": 200, "tuples_processed": 7}),
        );
        assert_eq!(copy.counter, Some((50, Some(200), "bytes")));
        assert_eq!(copy.phase.as_deref(), Some("FILE transfer"));
        let copy_stdin = phase_counters(
            "copy",
            &json!({"command": "COPY FROM", "type": "PIPE", "bytes_processed": 50,
                    "bytes_total": 0, "tuples_processed": 7}),
        );
        assert_eq!(copy_stdin.counter, Some((7, None, "tuples")));
        let analyze = phase_counters(
            "analyze",
            &json!({"phase": "acquiring sample rows", "sample_blks_total": 30,
                    "sample_blks_scanned": 3}),
        );
        assert_eq!(analyze.counter, Some((3, Some(30), "blocks")));
        let cluster = phase_counters(
            "cluster",
            &json!({"command": "VACUUM FULL", "phase": "seq scanning heap",
                    "heap_blks_total": 10, "heap_blks_scanned": 5}),
        );
        assert_eq!(cluster.command, "VACUUM FULL");
        assert_eq!(percent(Some(5), Some(10)), Some(50.0));
        assert_eq!(percent(Some(5), None), None);
    }
}
