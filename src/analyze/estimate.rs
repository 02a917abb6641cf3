//! Production estimates from a cost model fitted on the staging run itself, instead of scaling
//! the measured time by the row ratio: a fixed cost (catalog work, new relation files, commit of
//! the sub-steps) does not grow with the table, a heap rewrite or a validating scan grows with its
//! rows, and an index build sorts (`n·log₂n`) — once for `CREATE INDEX`, once per index for a
//! rewrite, which rebuilds every index of the table.
//!
//! The terms are fitted by least squares on every timing available for the same operation: the
//! statement's own run on staging, and the runs on sample copies of the table that the trace made
//! when a production snapshot asked for an estimate (`trace::Calibration`). Terms the timings
//! cannot separate are left out (one timing gives the old linear scaling).
//!
//! Parallel index builds: PostgreSQL builds a btree index with parallel workers once the heap
//! passes `min_parallel_table_scan_size` (`introspect::ParallelBuildSettings::index_build_workers`),
//! so a staging table too small for workers and a production table big enough for them do not
//! grow alike — measured here, a 50 000-row build took 48 ms serial, the 500 000-row one 525 ms
//! serial but 330–376 ms with the one worker PostgreSQL's defaults give it. Each participant (the
//! leader is one) scans its part of the heap and sorts it; merging the sorted runs and loading the
//! tree stay with the leader. So an index build's per-row term is split by `parallel_share`, the
//! share of the serial build that its scan and sort take (timed as a query by
//! `trace::calibrate`): `share / (workers + 1) + (1 − share)` of it is paid with `workers`
//! workers (Amdahl's law). Without a measured share, the serial figure is kept: an upper bound.

/// What part of a statement's work grows with the size of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// A table rewrite (`ALTER COLUMN … TYPE`, volatile default…): heap copy plus every index rebuilt.
    Rewrite,
    /// `CREATE INDEX`: a heap scan and a sort.
    IndexBuild,
    /// A scan of the table (`VALIDATE CONSTRAINT`, a full-table `UPDATE`, …).
    Scan,
}

impl Work {
    /// In words, for the basis of an estimate.
    pub fn describe(self) -> &'static str {
        match self {
            Work::Rewrite => "table rewrite",
            Work::IndexBuild => "index build",
            Work::Scan => "table scan",
        }
    }
}

/// One timed run of an operation on a table of `rows` rows with `indexes` indexes, built with
/// `workers` parallel workers (0: serial).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    pub rows: f64,
    pub indexes: f64,
    pub ms: f64,
    pub workers: f64,
}

impl Measurement {
    /// A serial run.
    pub fn serial(rows: f64, indexes: f64, ms: f64) -> Self {
        Measurement { rows, indexes, ms, workers: 0.0 }
    }
}

/// `ms = fixed_ms + per_row_ms · size(rows) + per_index_ms · indexes · rows·log₂rows`, where
/// `size` is `rows` (rewrite, scan) or `rows·log₂rows` (index build); an index build's size term
/// is multiplied by [`parallel_factor`] for its workers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    pub work: Work,
    pub fixed_ms: f64,
    pub per_row_ms: f64,
    pub per_index_ms: f64,
    /// How an index build's per-row work (a rewrite's: its per-index term) shrinks with parallel
    /// workers.
    pub parallel: Parallel,
    /// How many timings the model was fitted on.
    pub timings: usize,
}

fn sorted(rows: f64) -> f64 {
    let rows = rows.max(1.0);
    rows * rows.max(2.0).log2()
}

/// What part of the serial per-row work a build with `workers` workers pays, when `share` of it
/// is divided among the participants (the workers and the leader) and the rest is the leader's.
pub fn parallel_factor(share: f64, workers: f64) -> f64 {
    let share = share.clamp(0.0, 1.0);
    1.0 - share + share / (workers.max(0.0) + 1.0)
}

/// How parallel workers change an index build's per-row work: `share` of it is divided among the
/// participants ([`parallel_factor`]), and a parallel build pays `overhead` more of it (each
/// participant writes its sorted run to a temporary file that the leader reads back and merges —
/// PostgreSQL source src/backend/utils/sort/tuplesort.c, "parallel sort": workers always end in
/// one tape run; and the workers' start-up), measured when this server ran the statement with
/// workers itself ([`parallel_overhead`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Parallel {
    pub share: f64,
    pub overhead: f64,
}

impl From<f64> for Parallel {
    fn from(share: f64) -> Self {
        Parallel { share, overhead: 0.0 }
    }
}

impl Parallel {
    /// The part of the serial per-row work paid with `workers` workers.
    pub fn factor(&self, workers: f64) -> f64 {
        if workers <= 0.0 {
            return 1.0;
        }
        parallel_factor(self.share, workers) + self.overhead.max(0.0)
    }
}

/// The three terms' size factors for one run.
fn features(work: Work, rows: f64, indexes: f64, workers: f64, parallel: Parallel) -> [f64; 3] {
    match work {
        Work::Rewrite => [1.0, rows, indexes * sorted(rows) * parallel.factor(workers)],
        Work::IndexBuild => [1.0, sorted(rows) * parallel.factor(workers), 0.0],
        Work::Scan => [1.0, rows, 0.0],
    }
}

/// Least squares over the chosen terms (`use_term`), columns scaled to 1 for conditioning.
/// `None` when the timings cannot determine them.
fn least_squares(rows: &[[f64; 3]], ms: &[f64], use_term: [bool; 3]) -> Option<[f64; 3]> {
    let terms: Vec<usize> = (0..3).filter(|&t| use_term[t]).collect();
    if terms.is_empty() || rows.len() < terms.len() {
        return None;
    }
    let scale: Vec<f64> =
        terms.iter().map(|&t| rows.iter().map(|r| r[t].abs()).fold(0.0, f64::max)).collect::<Vec<_>>();
    if scale.contains(&0.0) {
        return None;
    }
    let k = terms.len();
    // Normal equations AᵀA x = Aᵀb, solved by Gaussian elimination with partial pivoting.
    let mut m = vec![vec![0.0; k + 1]; k];
    for (row, &y) in rows.iter().zip(ms) {
        let x: Vec<f64> = terms.iter().zip(&scale).map(|(&t, s)| row[t] / s).collect();
        for i in 0..k {
            for j in 0..k {
                m[i][j] += x[i] * x[j];
            }
            m[i][k] += x[i] * y;
        }
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        m.swap(col, pivot);
        // A (nearly) singular system: the timings do not separate these terms.
        if m[col][col].abs() < 1e-9 * m.iter().map(|r| r[col].abs()).fold(0.0, f64::max).max(1e-300) {
            return None;
        }
        let pivot_row = m[col].clone();
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let factor = row[col] / pivot_row[col];
                for (cell, pivot_cell) in row.iter_mut().zip(&pivot_row).skip(col) {
                    *cell -= factor * pivot_cell;
                }
            }
        }
    }
    let mut solution = [0.0; 3];
    for (i, &t) in terms.iter().enumerate() {
        solution[t] = m[i][k] / m[i][i] / scale[i];
    }
    Some(solution)
}

/// Fits the model of `work` on `timings`, an index build's workers discounted by
/// `parallel_share`. With one timing (or timings that cannot separate the terms) only the size
/// term is kept, which is plain proportional scaling. `None` without any usable timing.
pub fn fit(work: Work, timings: &[Measurement], parallel: impl Into<Parallel>) -> Option<Model> {
    let timings: Vec<Measurement> =
        timings.iter().copied().filter(|t| t.ms.is_finite() && t.ms >= 0.0 && t.rows >= 1.0).collect();
    if timings.is_empty() {
        return None;
    }
    let parallel = parallel.into();
    let parallel = Parallel { share: parallel.share.clamp(0.0, 1.0), ..parallel };
    let rows: Vec<[f64; 3]> = timings.iter().map(|t| features(work, t.rows, t.indexes, t.workers, parallel)).collect();
    let ms: Vec<f64> = timings.iter().map(|t| t.ms).collect();
    let has_index_term = rows.iter().any(|r| r[2] > 0.0);
    // Most terms first; a fit with a negative term is not a cost model, so fewer terms are tried.
    let candidates: &[[bool; 3]] = if has_index_term {
        &[[true, true, true], [true, true, false], [false, true, true], [true, false, true], [false, true, false]]
    } else {
        &[[true, true, false], [false, true, false]]
    };
    // A fixed cost is told from a per-row one only by timings at different sizes; at one size
    // (the statement's own run and its serial reruns) the time is taken to grow with the rows.
    let sizes_differ = timings.iter().any(|t| (t.rows - timings[0].rows).abs() > 0.5);
    for &use_term in candidates.iter().filter(|terms| sizes_differ || !terms[0]) {
        if let Some([fixed, per_row, per_index]) = least_squares(&rows, &ms, use_term) {
            if fixed >= 0.0 && per_row >= 0.0 && per_index >= 0.0 {
                return Some(Model {
                    work,
                    fixed_ms: fixed,
                    per_row_ms: per_row,
                    per_index_ms: per_index,
                    parallel: if work == Work::Scan { Parallel::default() } else { parallel },
                    timings: timings.len(),
                });
            }
        }
    }
    None
}

/// The share of the serial per-row work of an index build (a rewrite's: of its index rebuilds)
/// that the builds' heap scans and sorts take, at the table's full size: `sort_ms` (the
/// scan-and-sort queries, timed on the table itself) over what `serial`, the model fitted on
/// serial timings, gives the size term (a rewrite's per-index term) at `rows` and `indexes`.
/// `None` for a scan, or when the model has no such term.
pub fn parallel_share(serial: &Model, rows: f64, indexes: f64, sort_ms: f64) -> Option<f64> {
    let divided = serial.divisible_ms(rows, indexes)?;
    (divided > 0.0 && sort_ms > 0.0).then(|| (sort_ms / divided).clamp(0.0, 1.0))
}

/// What a parallel build on this server paid beyond [`parallel_factor`]: `parallel_ms`, a timing
/// with `workers` workers, against what `serial` (a model fitted on serial timings at the same
/// size, with the measured `share`) gives for it — as a part of the divided term's serial work
/// (the size term of an index build, the index term of a rewrite). 0 when it paid nothing more.
pub fn parallel_overhead(serial: &Model, rows: f64, indexes: f64, workers: f64, parallel_ms: f64, share: f64) -> f64 {
    let Some(divided) = serial.divisible_ms(rows, indexes) else { return 0.0 };
    if divided <= 0.0 || workers <= 0.0 {
        return 0.0;
    }
    let ideal = serial.predict(rows, indexes, 0.0) - divided * (1.0 - parallel_factor(share, workers));
    ((parallel_ms - ideal) / divided).max(0.0)
}

impl Model {
    /// The serial time of the term parallel workers can shorten, at `rows` and `indexes`: an
    /// index build's size term, a rewrite's index rebuilds; `None` for a scan.
    fn divisible_ms(&self, rows: f64, indexes: f64) -> Option<f64> {
        match self.work {
            Work::IndexBuild => Some(self.per_row_ms * sorted(rows)),
            Work::Rewrite => Some(self.per_index_ms * indexes * sorted(rows)),
            Work::Scan => None,
        }
    }

    /// Predicted time at `rows` rows and `indexes` indexes, built with `workers` workers.
    pub fn predict(&self, rows: f64, indexes: f64, workers: f64) -> f64 {
        let [_, size, index] = features(self.work, rows, indexes, workers, self.parallel);
        self.fixed_ms + self.per_row_ms * size + self.per_index_ms * index
    }

    /// The fitted terms in words, e.g. `fixed 12 ms + 1.3 µs/row + 0.2 µs per index per row·log₂rows`.
    pub fn describe(&self) -> String {
        let size = match self.work {
            Work::IndexBuild => "µs per row·log₂rows",
            _ => "µs/row",
        };
        let mut text = format!("fixed {:.1} ms + {:.3} {size}", self.fixed_ms, self.per_row_ms * 1000.0);
        if self.per_index_ms > 0.0 {
            text.push_str(&format!(" + {:.4} µs per index per row·log₂rows", self.per_index_ms * 1000.0));
        }
        if self.parallel.share > 0.0 {
            let of = if self.work == Work::Rewrite { "of the index term " } else { "" };
            text.push_str(&format!(
                ", {:.0} % {of}(the heap scan and sort) divided among parallel workers",
                self.parallel.share * 100.0
            ));
            if self.parallel.overhead > 0.0 {
                text.push_str(&format!(
                    " and {:.0} % more paid for working in parallel (measured here)",
                    self.parallel.overhead * 100.0
                ));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn one_timing_scales_in_proportion() {
        let model = fit(Work::Scan, &[Measurement::serial(1000.0, 0.0, 50.0)], 0.0).unwrap();
        assert_eq!(model.fixed_ms, 0.0);
        assert!(close(model.predict(10_000.0, 0.0, 0.0), 500.0));
    }

    #[test]
    fn two_timings_separate_the_fixed_cost() {
        // 20 ms fixed + 0.01 ms per row.
        let timings =
            [Measurement::serial(25_000.0, 0.0, 20.0 + 250.0), Measurement::serial(100_000.0, 0.0, 20.0 + 1000.0)];
        let model = fit(Work::Scan, &timings, 0.0).unwrap();
        assert!(close(model.fixed_ms, 20.0), "{model:?}");
        assert!(close(model.per_row_ms, 0.01), "{model:?}");
        // Proportional scaling would say 10 200 ms; the fixed cost is paid once.
        assert!(close(model.predict(1_000_000.0, 0.0, 0.0), 10_020.0));
    }

    #[test]
    fn an_index_build_grows_as_a_sort() {
        let cost = |rows: f64| 5.0 + 2e-4 * rows * rows.log2();
        let timings =
            [Measurement::serial(10_000.0, 1.0, cost(10_000.0)), Measurement::serial(40_000.0, 1.0, cost(40_000.0))];
        let model = fit(Work::IndexBuild, &timings, 0.0).unwrap();
        assert!(close(model.predict(400_000.0, 1.0, 0.0), cost(400_000.0)), "{model:?}");
        // Above linear scaling of the larger timing: the sort's log factor grows too.
        assert!(model.predict(400_000.0, 1.0, 0.0) > 10.0 * cost(40_000.0) - 9.0 * 5.0);
    }

    /// A rewrite costing 10 ms fixed, 0.002 ms per row of heap and 0.0001 ms per index per
    /// row·log₂rows; timed on the table (100k rows, 2 indexes) and on two quarter-size copies.
    fn rewrite_cost(rows: f64, indexes: f64) -> f64 {
        10.0 + 0.002 * rows + 1e-4 * indexes * rows * rows.log2()
    }

    fn rewrite_timings() -> [Measurement; 3] {
        [
            Measurement::serial(100_000.0, 2.0, rewrite_cost(100_000.0, 2.0)),
            Measurement::serial(25_000.0, 2.0, rewrite_cost(25_000.0, 2.0)),
            Measurement::serial(25_000.0, 0.0, rewrite_cost(25_000.0, 0.0)),
        ]
    }

    #[test]
    fn a_rewrite_separates_the_heap_from_its_indexes() {
        let cost = rewrite_cost;
        let timings = rewrite_timings();
        let model = fit(Work::Rewrite, &timings, 0.0).unwrap();
        assert!(close(model.fixed_ms, 10.0), "{model:?}");
        assert!(close(model.per_row_ms, 0.002), "{model:?}");
        assert!(close(model.per_index_ms, 1e-4), "{model:?}");
        // Production has a third index: the per-index term says what it adds.
        assert!(close(model.predict(1_000_000.0, 3.0, 0.0), cost(1_000_000.0, 3.0)));
    }

    #[test]
    fn a_negative_fixed_cost_is_not_fitted() {
        // Per-row cost that rises with size (a cache effect): a straight line through the two
        // points would start below zero; the model falls back to a term it can keep positive.
        let timings = [Measurement::serial(10_000.0, 0.0, 10.0), Measurement::serial(100_000.0, 0.0, 150.0)];
        let model = fit(Work::Scan, &timings, 0.0).unwrap();
        assert!(model.fixed_ms >= 0.0 && model.per_row_ms > 0.0, "{model:?}");
        assert!(model.predict(100_000.0, 0.0, 0.0) > 100.0);
    }

    #[test]
    fn no_usable_timing_gives_no_model() {
        assert!(fit(Work::Rewrite, &[], 0.0).is_none());
        assert!(fit(Work::Scan, &[Measurement::serial(0.0, 0.0, 3.0)], 0.0).is_none());
    }

    #[test]
    fn parallel_workers_divide_only_the_scan_and_sort() {
        assert!(close(parallel_factor(0.0, 4.0), 1.0));
        assert!(close(parallel_factor(1.0, 3.0), 0.25));
        assert!(close(parallel_factor(0.8, 1.0), 0.6));
        // A serial build on staging; its scan and sort alone take 80 % of it; production's heap
        // is big enough for one worker.
        let per_row = 6e-5;
        let serial = |rows: f64| per_row * rows * rows.log2();
        let model = fit(Work::IndexBuild, &[Measurement::serial(50_000.0, 1.0, serial(50_000.0))], 0.0).unwrap();
        let share = parallel_share(&model, 50_000.0, 1.0, 0.8 * serial(50_000.0)).unwrap();
        assert!(close(share, 0.8), "{share}");
        let model = fit(Work::IndexBuild, &[Measurement::serial(50_000.0, 1.0, serial(50_000.0))], share).unwrap();
        let rows = 500_000.0;
        assert!(close(model.predict(rows, 1.0, 0.0), serial(rows)));
        assert!(close(model.predict(rows, 1.0, 1.0), serial(rows) * 0.6));
        assert!(model.describe().contains("80 %"), "{}", model.describe());
    }

    #[test]
    fn a_parallel_run_here_measures_what_working_in_parallel_costs() {
        // Serial 100 ms on staging; with one worker it took 70 ms where 80 % divided would give
        // 60 ms: 10 ms of the 100 more, which production's build with one worker pays too.
        let serial = fit(Work::IndexBuild, &[Measurement::serial(200_000.0, 1.0, 100.0)], 0.0).unwrap();
        let overhead = parallel_overhead(&serial, 200_000.0, 1.0, 1.0, 70.0, 0.8);
        assert!(close(overhead, 0.1), "{overhead}");
        let parallel = Parallel { share: 0.8, overhead };
        assert!(close(parallel.factor(1.0), 0.7) && close(parallel.factor(0.0), 1.0));
        let timings = [
            Measurement::serial(200_000.0, 1.0, 100.0),
            Measurement { rows: 200_000.0, indexes: 1.0, ms: 70.0, workers: 1.0 },
        ];
        let model = fit(Work::IndexBuild, &timings, parallel).unwrap();
        assert!(close(model.predict(200_000.0, 1.0, 1.0), 70.0), "{model:?}");
        // Faster than the divided share alone allows: nothing more.
        assert_eq!(parallel_overhead(&serial, 200_000.0, 1.0, 1.0, 50.0, 0.8), 0.0);
    }

    #[test]
    fn a_timing_taken_with_workers_is_fitted_as_such() {
        // Staging was big enough for one worker itself: its own run is discounted, not taken as
        // serial, beside the serial rerun of the same size.
        let per_row = 6e-5;
        let cost = |rows: f64, workers: f64| per_row * rows * rows.log2() * parallel_factor(0.8, workers);
        let timings = [
            Measurement { rows: 1_000_000.0, indexes: 1.0, ms: cost(1_000_000.0, 1.0), workers: 1.0 },
            Measurement::serial(1_000_000.0, 1.0, cost(1_000_000.0, 0.0)),
        ];
        let model = fit(Work::IndexBuild, &timings, 0.8).unwrap();
        assert!(close(model.predict(4_000_000.0, 1.0, 2.0), cost(4_000_000.0, 2.0)), "{model:?}");
    }

    #[test]
    fn a_rewrite_divides_its_index_rebuilds_only() {
        // `rewrite_cost`, whose two indexes' scans and sorts alone take 75 % of their rebuilds.
        let builds = rewrite_timings();
        let serial = fit(Work::Rewrite, &builds, 0.0).unwrap();
        let sorts = 0.75 * 1e-4 * 2.0 * 100_000.0 * 100_000f64.log2();
        let share = parallel_share(&serial, 100_000.0, 2.0, sorts).unwrap();
        assert!(close(share, 0.75), "{share}");
        let model = fit(Work::Rewrite, &builds, share).unwrap();
        let rows: f64 = 1_000_000.0;
        let expected = 10.0 + 0.002 * rows + 1e-4 * 2.0 * rows * rows.log2() * parallel_factor(0.75, 2.0);
        assert!(close(model.predict(rows, 2.0, 2.0), expected), "{model:?}");
        let scan = fit(Work::Scan, &[Measurement::serial(1000.0, 0.0, 5.0)], 0.0).unwrap();
        assert_eq!(parallel_share(&scan, 1000.0, 0.0, 1.0), None);
    }
}
