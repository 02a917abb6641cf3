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

/// One timed run of an operation on a table of `rows` rows with `indexes` indexes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    pub rows: f64,
    pub indexes: f64,
    pub ms: f64,
}

/// `ms = fixed_ms + per_row_ms · size(rows) + per_index_ms · indexes · rows·log₂rows`, where
/// `size` is `rows` (rewrite, scan) or `rows·log₂rows` (index build).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    pub work: Work,
    pub fixed_ms: f64,
    pub per_row_ms: f64,
    pub per_index_ms: f64,
    /// How many timings the model was fitted on.
    pub timings: usize,
}

fn sorted(rows: f64) -> f64 {
    let rows = rows.max(1.0);
    rows * rows.max(2.0).log2()
}

/// The three terms' size factors for one run.
fn features(work: Work, rows: f64, indexes: f64) -> [f64; 3] {
    match work {
        Work::Rewrite => [1.0, rows, indexes * sorted(rows)],
        Work::IndexBuild => [1.0, sorted(rows), 0.0],
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

/// Fits the model of `work` on `timings`. With one timing (or timings that cannot separate the
/// terms) only the size term is kept, which is plain proportional scaling. `None` without any
/// usable timing.
pub fn fit(work: Work, timings: &[Measurement]) -> Option<Model> {
    let timings: Vec<Measurement> =
        timings.iter().copied().filter(|t| t.ms.is_finite() && t.ms >= 0.0 && t.rows >= 1.0).collect();
    if timings.is_empty() {
        return None;
    }
    let rows: Vec<[f64; 3]> = timings.iter().map(|t| features(work, t.rows, t.indexes)).collect();
    let ms: Vec<f64> = timings.iter().map(|t| t.ms).collect();
    let has_index_term = rows.iter().any(|r| r[2] > 0.0);
    // Most terms first; a fit with a negative term is not a cost model, so fewer terms are tried.
    let candidates: &[[bool; 3]] = if has_index_term {
        &[[true, true, true], [true, true, false], [false, true, true], [true, false, true], [false, true, false]]
    } else {
        &[[true, true, false], [false, true, false]]
    };
    for &use_term in candidates {
        if let Some([fixed, per_row, per_index]) = least_squares(&rows, &ms, use_term) {
            if fixed >= 0.0 && per_row >= 0.0 && per_index >= 0.0 {
                return Some(Model {
                    work,
                    fixed_ms: fixed,
                    per_row_ms: per_row,
                    per_index_ms: per_index,
                    timings: timings.len(),
                });
            }
        }
    }
    None
}

impl Model {
    /// Predicted time at `rows` rows and `indexes` indexes.
    pub fn predict(&self, rows: f64, indexes: f64) -> f64 {
        let [_, size, index] = features(self.work, rows, indexes);
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
        let model = fit(Work::Scan, &[Measurement { rows: 1000.0, indexes: 0.0, ms: 50.0 }]).unwrap();
        assert_eq!(model.fixed_ms, 0.0);
        assert!(close(model.predict(10_000.0, 0.0), 500.0));
    }

    #[test]
    fn two_timings_separate_the_fixed_cost() {
        // 20 ms fixed + 0.01 ms per row.
        let timings = [
            Measurement { rows: 25_000.0, indexes: 0.0, ms: 20.0 + 250.0 },
            Measurement { rows: 100_000.0, indexes: 0.0, ms: 20.0 + 1000.0 },
        ];
        let model = fit(Work::Scan, &timings).unwrap();
        assert!(close(model.fixed_ms, 20.0), "{model:?}");
        assert!(close(model.per_row_ms, 0.01), "{model:?}");
        // Proportional scaling would say 10 200 ms; the fixed cost is paid once.
        assert!(close(model.predict(1_000_000.0, 0.0), 10_020.0));
    }

    #[test]
    fn an_index_build_grows_as_a_sort() {
        let cost = |rows: f64| 5.0 + 2e-4 * rows * rows.log2();
        let timings = [
            Measurement { rows: 10_000.0, indexes: 1.0, ms: cost(10_000.0) },
            Measurement { rows: 40_000.0, indexes: 1.0, ms: cost(40_000.0) },
        ];
        let model = fit(Work::IndexBuild, &timings).unwrap();
        assert!(close(model.predict(400_000.0, 1.0), cost(400_000.0)), "{model:?}");
        // Above linear scaling of the larger timing: the sort's log factor grows too.
        assert!(model.predict(400_000.0, 1.0) > 10.0 * cost(40_000.0) - 9.0 * 5.0);
    }

    #[test]
    fn a_rewrite_separates_the_heap_from_its_indexes() {
        // 10 ms fixed, 0.002 ms per row of heap, 0.0001 ms per index per row·log₂rows.
        let cost = |rows: f64, indexes: f64| 10.0 + 0.002 * rows + 1e-4 * indexes * rows * rows.log2();
        let timings = [
            Measurement { rows: 100_000.0, indexes: 2.0, ms: cost(100_000.0, 2.0) },
            Measurement { rows: 25_000.0, indexes: 2.0, ms: cost(25_000.0, 2.0) },
            Measurement { rows: 25_000.0, indexes: 0.0, ms: cost(25_000.0, 0.0) },
        ];
        let model = fit(Work::Rewrite, &timings).unwrap();
        assert!(close(model.fixed_ms, 10.0), "{model:?}");
        assert!(close(model.per_row_ms, 0.002), "{model:?}");
        assert!(close(model.per_index_ms, 1e-4), "{model:?}");
        // Production has a third index: the per-index term says what it adds.
        assert!(close(model.predict(1_000_000.0, 3.0), cost(1_000_000.0, 3.0)));
    }

    #[test]
    fn a_negative_fixed_cost_is_not_fitted() {
        // Per-row cost that rises with size (a cache effect): a straight line through the two
        // points would start below zero; the model falls back to a term it can keep positive.
        let timings = [
            Measurement { rows: 10_000.0, indexes: 0.0, ms: 10.0 },
            Measurement { rows: 100_000.0, indexes: 0.0, ms: 150.0 },
        ];
        let model = fit(Work::Scan, &timings).unwrap();
        assert!(model.fixed_ms >= 0.0 && model.per_row_ms > 0.0, "{model:?}");
        assert!(model.predict(100_000.0, 0.0) > 100.0);
    }

    #[test]
    fn no_usable_timing_gives_no_model() {
        assert!(fit(Work::Rewrite, &[]).is_none());
        assert!(fit(Work::Scan, &[Measurement { rows: 0.0, indexes: 0.0, ms: 3.0 }]).is_none());
    }
}
