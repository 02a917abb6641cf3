//! The line format every bench writes to `$BENCH_OUTPUT` for `scripts/bench.sh` (which documents
//! it at its top): one Markdown table row per figure,
//!
//! ```text
//! | work | peer | peer figure | lockscope | ratio | target |
//! ```
//!
//! and, optionally, note lines starting with `- ` (how a figure was measured), printed under the
//! table in the order written. Cells never contain a raw `|` (it is escaped).
//!
//! Use it from a bench with `#[path = "support/row.rs"] mod row;`.

#![allow(dead_code)] // each bench uses part of it

use std::fmt::Write as _;

/// One figure beside its peer's, measured in the same run.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// What was done, and at what size ("one `inspect --once` sample, 500 waiters").
    pub work: String,
    /// The peer or limit it is compared with ("`pg_locks` ⋈ `pg_stat_activity`, one read").
    pub peer: String,
    /// The peer's figure in this run ("median 6.1 ms, p95 7.0 ms"); empty when there is none.
    pub peer_figure: String,
    /// lockscope's figure in this run.
    pub lockscope: String,
    /// lockscope / peer (time, memory, …), when both were measured.
    pub ratio: Option<f64>,
    /// The target, as the issue states it ("≤ 15 ms, median and p95").
    pub target: String,
}

fn cell(text: &str) -> String {
    let text = text.trim().replace('|', "\\|").replace('\n', " ");
    if text.is_empty() {
        "—".into()
    } else {
        text
    }
}

impl Row {
    /// The Markdown table row.
    pub fn line(&self) -> String {
        let ratio = self.ratio.filter(|r| r.is_finite()).map_or(String::new(), |r| format!("{r:.2}×"));
        format!(
            "| {} | {} | {} | {} | {} | {} |",
            cell(&self.work),
            cell(&self.peer),
            cell(&self.peer_figure),
            cell(&self.lockscope),
            cell(&ratio),
            cell(&self.target)
        )
    }
}

/// What a bench collects: rows and notes, in order.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<String>,
    notes: Vec<String>,
}

impl Table {
    pub fn row(&mut self, row: Row) {
        let line = row.line();
        println!("{line}");
        self.rows.push(line);
    }

    pub fn note(&mut self, text: &str) {
        let line = format!("- {}", text.trim().replace('\n', " "));
        println!("{line}");
        self.notes.push(line);
    }

    /// The whole output: header, rows, then the notes.
    pub fn render(&self) -> String {
        let mut out =
            String::from("| work | peer | peer figure | lockscope | ratio | target |\n|---|---|---|---|---|---|\n");
        for line in &self.rows {
            let _ = writeln!(out, "{line}");
        }
        for line in &self.notes {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// Prints the table and writes it to `$BENCH_OUTPUT` when set.
    pub fn finish(&self) {
        let text = self.render();
        println!("\n{text}");
        if let Ok(path) = std::env::var("BENCH_OUTPUT") {
            std::fs::write(path, &text).expect("write BENCH_OUTPUT");
        }
    }
}

/// Median and 95th percentile (nearest rank) of some values.
pub fn median_p95(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}
