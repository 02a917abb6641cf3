//! The lock timeline of the HTML report, drawn as SVG: one row per relation, one bar per lock
//! held (coloured by mode, ACCESS EXCLUSIVE unmistakable), rewrites and scans marked, on a time
//! axis in milliseconds — the dry-run's own clock, or the production estimate's.

use std::fmt::Write;

use super::subject::{migration_end_ms, Subject};
use super::subject::{MigrationView, StatementView};
use super::text::{html_escape, mode_words, thousands};
use crate::locks::LockMode;
use crate::trace::{LockSource, Mode};
use crate::units::format_ms;

/// Which clock the timeline runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The dry-run's own: when each statement started and how long it took.
    DryRun,
    /// Statements back to back with their production durations (the dry-run's where there is no
    /// estimate), each migration's locks released at its end.
    Production,
}

/// A lock held over a span of time.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub start_ms: f64,
    pub end_ms: f64,
    pub mode: LockMode,
    /// The lock was inferred from the documented level (the transaction already held it).
    pub inferred: bool,
    /// `path:line` of the statement that takes it.
    pub taken_by: String,
    /// In a dry-run the lock stayed held until the final rollback, this long after `end_ms`.
    pub held_until_ms: Option<f64>,
}

/// A statement's own execution span on a relation (rewrite or scan).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub start_ms: f64,
    pub end_ms: f64,
    pub label: String,
}

/// One relation's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub relation: String,
    pub relkind: String,
    pub bars: Vec<Bar>,
    pub rewrites: Vec<Mark>,
    pub scans: Vec<Mark>,
    /// Statements not executed (dry-run `CONCURRENTLY`): their documented lock, at their position.
    pub not_run: Vec<(f64, LockMode, String)>,
}

/// A statement on the top lane.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementSpan {
    pub start_ms: f64,
    pub end_ms: f64,
    pub strongest: Option<LockMode>,
    pub label: String,
}

/// A migration's band in the background.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationBand {
    pub start_ms: f64,
    pub end_ms: f64,
    pub name: String,
}

/// Everything the SVG draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub clock: Clock,
    pub rows: Vec<Row>,
    pub statements: Vec<StatementSpan>,
    pub migrations: Vec<MigrationBand>,
    pub end_ms: f64,
}

impl Timeline {
    /// The timeline of the judged and context migrations of a `check` on `clock`; `None` for lint,
    /// or for [`Clock::Production`] when no statement has a production estimate.
    pub fn build(subject: &Subject<'_>, clock: Clock) -> Option<Timeline> {
        let trace = subject.trace()?;
        if clock == Clock::Production
            && !subject.migrations.iter().flat_map(|m| &m.statements).any(|s| production(s).is_some())
        {
            return None;
        }
        let times = Times::new(&subject.migrations, trace.mode, clock);
        let mut timeline =
            Timeline { clock, rows: Vec::new(), statements: Vec::new(), migrations: Vec::new(), end_ms: 0.0 };
        let rollback_ms = match (clock, trace.mode) {
            (Clock::DryRun, Mode::DryRun) => times.migration_end.iter().copied().reduce(f64::max).map(|end| {
                subject
                    .migrations
                    .iter()
                    .filter_map(|m| Some(m.statements.first()?.started_ms + m.transaction_ms?))
                    .fold(end, f64::max)
            }),
            _ => None,
        };
        for (mi, migration) in subject.migrations.iter().enumerate() {
            let end = times.migration_end[mi];
            let start = times.statement[mi].first().map_or(end, |(s, _)| *s);
            timeline.migrations.push(MigrationBand { start_ms: start, end_ms: end, name: file_name(&migration.path) });
            let mut taken: Vec<(String, LockMode)> = Vec::new();
            for (si, statement) in migration.statements.iter().enumerate() {
                let (start, duration) = times.statement[mi][si];
                let taken_by = format!("{}:{}", file_name(&migration.path), statement.line);
                timeline.statements.push(StatementSpan {
                    start_ms: start,
                    end_ms: start + duration,
                    strongest: statement.strongest_lock(),
                    label: format!("{taken_by} {}", statement.kind),
                });
                if !statement.executed {
                    for lock in &statement.locks {
                        timeline.row(&lock.relation, &lock.relkind).not_run.push((start, lock.mode, taken_by.clone()));
                    }
                    continue;
                }
                for lock in &statement.locks {
                    let key = (lock.relation.clone(), lock.mode);
                    if taken.contains(&key) {
                        continue;
                    }
                    taken.push(key);
                    timeline.row(&lock.relation, &lock.relkind).bars.push(Bar {
                        start_ms: start,
                        end_ms: end,
                        mode: lock.mode,
                        inferred: lock.source == LockSource::Inferred,
                        taken_by: taken_by.clone(),
                        held_until_ms: rollback_ms.filter(|r| *r > end),
                    });
                }
                timeline.marks(statement, start, duration, &taken_by);
            }
        }
        timeline.end_ms = times.migration_end.iter().copied().fold(rollback_ms.unwrap_or(0.0), f64::max);
        Some(timeline)
    }

    /// The rewrite and full-scan marks of one statement, on the rows of the relations it locked.
    fn marks(&mut self, statement: &StatementView<'_>, start: f64, duration: f64, taken_by: &str) {
        for rewrite in &statement.rewrites {
            let relation = rewrite.relation.trim_end_matches(" (TOAST)");
            if let Some(row) = self.rows.iter_mut().find(|r| r.relation == relation) {
                let rows = if rewrite.rows_estimate >= 0.0 {
                    format!(", ~{} rows", thousands(rewrite.rows_estimate as i64))
                } else {
                    String::new()
                };
                if !row.rewrites.iter().any(|m| m.start_ms == start) {
                    row.rewrites.push(Mark {
                        start_ms: start,
                        end_ms: start + duration,
                        label: format!("rewrite by {taken_by}{rows}"),
                    });
                }
            }
        }
        for scan in &statement.scans {
            if let Some(row) = self.rows.iter_mut().find(|r| r.relation == scan.relation) {
                row.scans.push(Mark {
                    start_ms: start,
                    end_ms: start + duration,
                    label: format!("full scan by {taken_by}, {} rows", thousands(scan.rows)),
                });
            }
        }
    }

    fn row(&mut self, relation: &str, relkind: &str) -> &mut Row {
        let index = match self.rows.iter().position(|r| r.relation == relation) {
            Some(index) => index,
            None => {
                self.rows.push(Row {
                    relation: relation.to_string(),
                    relkind: relkind.to_string(),
                    bars: Vec::new(),
                    rewrites: Vec::new(),
                    scans: Vec::new(),
                    not_run: Vec::new(),
                });
                self.rows.len() - 1
            }
        };
        &mut self.rows[index]
    }

    /// The modes drawn, weakest first.
    pub fn modes(&self) -> Vec<LockMode> {
        let mut modes: Vec<LockMode> =
            self.rows.iter().flat_map(|r| r.bars.iter().map(|b| b.mode).chain(r.not_run.iter().map(|n| n.1))).collect();
        modes.sort();
        modes.dedup();
        modes
    }
}

fn production<'a>(statement: &StatementView<'a>) -> Option<&'a crate::analyze::impact::ProductionEstimate> {
    statement.impact.as_ref()?.production.as_ref()
}

/// When each statement starts and how long it takes, and when each migration ends, on one clock.
struct Times {
    /// `statement[m][s]` = (start, duration).
    statement: Vec<Vec<(f64, f64)>>,
    migration_end: Vec<f64>,
}

impl Times {
    fn new(migrations: &[MigrationView<'_>], mode: Mode, clock: Clock) -> Times {
        let mut times = Times { statement: Vec::new(), migration_end: Vec::new() };
        let mut now = 0.0;
        for migration in migrations {
            match clock {
                Clock::DryRun => {
                    times.statement.push(
                        migration.statements.iter().map(|s| (s.started_ms, s.duration_ms.unwrap_or(0.0))).collect(),
                    );
                    times.migration_end.push(migration_end_ms(migration, mode));
                }
                Clock::Production => {
                    let mut spans = Vec::new();
                    for statement in &migration.statements {
                        let duration = production(statement)
                            .map(|p| p.duration_ms)
                            .or(if statement.executed { statement.duration_ms } else { None })
                            .unwrap_or(0.0);
                        spans.push((now, duration));
                        now += duration;
                    }
                    times.statement.push(spans);
                    times.migration_end.push(now);
                }
            }
        }
        times
    }
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path).file_name().map_or(path.to_string(), |n| n.to_string_lossy().to_string())
}

/// The fill colour of a lock mode: cool for the modes everyday traffic passes, hot for those that
/// block writes, dark red for ACCESS EXCLUSIVE.
pub fn colour(mode: LockMode) -> &'static str {
    match mode {
        LockMode::AccessShare => "#9ecae1",
        LockMode::RowShare => "#6baed6",
        LockMode::RowExclusive => "#2b7bba",
        LockMode::ShareUpdateExclusive => "#2ca089",
        LockMode::Share => "#f2c12e",
        LockMode::ShareRowExclusive => "#f28e2b",
        LockMode::Exclusive => "#e4572e",
        LockMode::AccessExclusive => "#b00020",
    }
}

const WIDTH: f64 = 1120.0;
const LABEL_WIDTH: f64 = 250.0;
const RIGHT_MARGIN: f64 = 24.0;
const ROW_HEIGHT: f64 = 26.0;
const BAND_HEIGHT: f64 = 18.0;
const LANE_HEIGHT: f64 = 18.0;

/// The timeline as an inline `<svg>` element.
pub fn svg(timeline: &Timeline) -> String {
    let canvas = Canvas::new(timeline);
    let mut out = String::new();
    canvas.header(&mut out);
    canvas.migration_bands(&mut out);
    canvas.statement_lane(&mut out);
    canvas.relation_rows(&mut out);
    canvas.time_axis(&mut out);
    canvas.legend(&mut out);
    out.push_str("</svg>\n");
    out
}

/// The geometry of one timeline drawing: where each part goes, and the time scale.
struct Canvas<'a> {
    timeline: &'a Timeline,
    chart: f64,
    end: f64,
    top: f64,
    rows_top: f64,
    axis_y: f64,
    legend_y: f64,
    height: f64,
    modes: Vec<LockMode>,
    held_on: bool,
    /// Prefix of the pattern ids, so two drawings on one page do not share them.
    id: &'static str,
}

impl<'a> Canvas<'a> {
    fn new(timeline: &'a Timeline) -> Self {
        let chart = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
        let end = if timeline.end_ms > 0.0 { timeline.end_ms } else { 1.0 };
        let top = 6.0;
        let rows_top = top + BAND_HEIGHT + LANE_HEIGHT + 8.0;
        let axis_y = rows_top + ROW_HEIGHT * timeline.rows.len().max(1) as f64 + 4.0;
        let legend_y = axis_y + 34.0;
        let modes = timeline.modes();
        let held_on = timeline.rows.iter().flat_map(|r| &r.bars).any(|b| b.held_until_ms.is_some());
        let legend_items = modes.len() + 4 + usize::from(held_on);
        let legend_rows = legend_items.div_ceil(5);
        let height = legend_y + 22.0 * legend_rows as f64 + 8.0;
        let id = match timeline.clock {
            Clock::DryRun => "dry",
            Clock::Production => "prod",
        };
        Canvas { timeline, chart, end, top, rows_top, axis_y, legend_y, height, modes, held_on, id }
    }

    /// The x position of `ms`.
    fn x(&self, ms: f64) -> f64 {
        LABEL_WIDTH + (ms.max(0.0) / self.end).min(1.0) * self.chart
    }

    fn header(&self, out: &mut String) {
        let (height, id) = (self.height, self.id);
        let title = match self.timeline.clock {
            Clock::DryRun => "Lock timeline of the dry-run",
            Clock::Production => "Lock timeline estimated for production",
        };
        let _ = writeln!(
            out,
            r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0}" width="{WIDTH}" height="{height:.0}" role="img" aria-label="{title}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            out,
            r##"<defs><pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff" fill-opacity="0.25"/><line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-width="2.5"/></pattern><pattern id="{id}-dots" width="5" height="5" patternUnits="userSpaceOnUse"><circle cx="2.5" cy="2.5" r="1.3" fill="#000"/></pattern></defs>"##
        );
    }

    /// Migration bands, alternating, with their names.
    fn migration_bands(&self, out: &mut String) {
        let top = self.top;
        for (index, band) in self.timeline.migrations.iter().enumerate() {
            let (x0, x1) = (self.x(band.start_ms), self.x(band.end_ms).max(self.x(band.start_ms) + 1.0));
            let fill = if index % 2 == 0 { "#f3f4f6" } else { "#e8eaef" };
            let _ = writeln!(
                out,
                r#"<rect x="{x0:.1}" y="{top}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{}</title></rect>"#,
                x1 - x0,
                self.axis_y - top,
                html_escape(&format!("{} — {} to {}", band.name, format_ms(band.start_ms), format_ms(band.end_ms)))
            );
            if x1 - x0 > 60.0 {
                let _ = writeln!(
                    out,
                    r##"<text x="{:.1}" y="{:.1}" fill="#374151" font-size="11">{}</text>"##,
                    x0 + 3.0,
                    top + 13.0,
                    html_escape(&clip(&band.name, ((x1 - x0 - 6.0) / 6.2) as usize))
                );
            }
        }
        let _ = writeln!(
            out,
            r##"<text x="6" y="{:.1}" fill="#374151" font-weight="600">migrations</text><text x="6" y="{:.1}" fill="#374151" font-weight="600">statements</text>"##,
            top + 13.0,
            top + BAND_HEIGHT + 13.0
        );
    }

    /// The statements lane: one span per statement, coloured by its strongest lock.
    fn statement_lane(&self, out: &mut String) {
        for span in &self.timeline.statements {
            let x0 = self.x(span.start_ms);
            let w = (self.x(span.end_ms) - x0).max(2.0);
            let fill = span.strongest.map_or("#9ca3af", colour);
            let _ = writeln!(
                out,
                r##"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{fill}" stroke="#ffffff" stroke-width="0.5"><title>{}</title></rect>"##,
                self.top + BAND_HEIGHT + 3.0,
                LANE_HEIGHT - 6.0,
                html_escape(&format!(
                    "{} — {} at {}",
                    span.label,
                    format_ms(span.end_ms - span.start_ms),
                    format_ms(span.start_ms)
                ))
            );
        }
    }

    /// One row per relation: its lock bars, rewrite and scan marks, statements not executed.
    fn relation_rows(&self, out: &mut String) {
        if self.timeline.rows.is_empty() {
            let _ = writeln!(
                out,
                r##"<text x="{:.1}" y="{:.1}" fill="#6b7280">no relation locks were taken</text>"##,
                LABEL_WIDTH + 8.0,
                self.rows_top + 17.0
            );
        }
        for (index, row) in self.timeline.rows.iter().enumerate() {
            let y = self.rows_top + ROW_HEIGHT * index as f64;
            let _ = writeln!(
                out,
                r##"<line x1="0" y1="{y:.1}" x2="{WIDTH}" y2="{y:.1}" stroke="#d1d5db" stroke-width="0.5"/><text x="6" y="{:.1}" fill="#111827">{}<tspan fill="#6b7280" font-size="10"> {}</tspan></text>"##,
                y + 17.0,
                html_escape(&clip(&row.relation, 30)),
                html_escape(&row.relkind)
            );
            let mut bars: Vec<&Bar> = row.bars.iter().collect();
            bars.sort_by_key(|b| b.mode);
            // Drawn last, over rewrite and scan marks, so they stay readable.
            let labels: Vec<String> = bars.into_iter().filter_map(|bar| self.lock_bar(out, row, bar, y)).collect();
            self.marks(out, row, y);
            for label in labels {
                let _ = writeln!(out, "{label}");
            }
            self.not_run(out, row, y);
        }
    }

    /// One lock bar of `row` at height `y`; returns its ACCESS EXCLUSIVE label, drawn later.
    fn lock_bar(&self, out: &mut String, row: &Row, bar: &Bar, y: f64) -> Option<String> {
        let x0 = self.x(bar.start_ms);
        let x1 = self.x(bar.end_ms).max(x0 + 3.0);
        let colour = colour(bar.mode);
        let tooltip = format!(
            "{} on {} — taken by {} at {}, held {}{}{}",
            bar.mode.sql_name(),
            row.relation,
            bar.taken_by,
            format_ms(bar.start_ms),
            format_ms(bar.end_ms - bar.start_ms),
            if bar.inferred { " (inferred: the transaction already held it)" } else { "" },
            bar.held_until_ms.map_or(String::new(), |until| format!(
                "; the dry-run held it until its rollback at {}",
                format_ms(until)
            )),
        );
        if let Some(until) = bar.held_until_ms {
            let _ = writeln!(
                out,
                r#"<rect x="{x1:.1}" y="{:.1}" width="{:.1}" height="4" fill="{colour}" fill-opacity="0.35"/>"#,
                y + 11.0,
                (self.x(until) - x1).max(0.0)
            );
        }
        let (stroke, stroke_width, dash) = match (bar.mode, bar.inferred) {
            (LockMode::AccessExclusive, _) => {
                ("#000000", 2.0, if bar.inferred { r#" stroke-dasharray="5 3""# } else { "" })
            }
            (_, true) => ("#374151", 1.0, r#" stroke-dasharray="4 2""#),
            _ => ("#ffffff", 0.5, ""),
        };
        let opacity = if bar.inferred { 0.55 } else { 1.0 };
        let _ = writeln!(
            out,
            r#"<rect class="lock lock-{}" x="{x0:.1}" y="{:.1}" width="{:.1}" height="20" rx="2" fill="{colour}" fill-opacity="{opacity}" stroke="{stroke}" stroke-width="{stroke_width}"{dash}><title>{}</title></rect>"#,
            bar.mode.pg_name(),
            y + 3.0,
            x1 - x0,
            html_escape(&tooltip)
        );
        if bar.mode != LockMode::AccessExclusive {
            return None;
        }
        let label = if x1 - x0 > 150.0 {
            "‼ ACCESS EXCLUSIVE"
        } else if x1 - x0 > 40.0 {
            "‼ AE"
        } else {
            return None;
        };
        Some(format!(
            r##"<text x="{:.1}" y="{:.1}" fill="#ffffff" stroke="#5a0010" stroke-width="2.5" paint-order="stroke" font-weight="700" font-size="10.5" pointer-events="none">{label}</text>"##,
            x0 + 5.0,
            y + 13.5
        ))
    }

    /// The rewrite (hatched) and full-scan (dotted) marks of `row`.
    fn marks(&self, out: &mut String, row: &Row, y: f64) {
        let id = self.id;
        for (marks, pattern, word) in [(&row.rewrites, "hatch", "rewrite"), (&row.scans, "dots", "scan")] {
            for mark in marks {
                let x0 = self.x(mark.start_ms);
                let w = (self.x(mark.end_ms) - x0).max(5.0);
                let _ = writeln!(
                    out,
                    r##"<rect class="{word}" x="{x0:.1}" y="{:.1}" width="{w:.1}" height="8" fill="url(#{id}-{pattern})" stroke="#000000" stroke-width="1"><title>{}</title></rect>"##,
                    y + 15.0,
                    html_escape(&format!("{} ({})", mark.label, format_ms(mark.end_ms - mark.start_ms)))
                );
            }
        }
    }

    /// Dashed outlines where a statement that was not executed would take its documented lock.
    fn not_run(&self, out: &mut String, row: &Row, y: f64) {
        for (start, mode, taken_by) in &row.not_run {
            let x0 = self.x(*start);
            let _ = writeln!(
                out,
                r#"<rect class="not-run" x="{:.1}" y="{:.1}" width="10" height="20" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="3 2"><title>{}</title></rect>"#,
                x0 - 5.0,
                y + 3.0,
                colour(*mode),
                html_escape(&format!(
                    "{} on {} — {} was not executed on the dry-run target (documented lock)",
                    mode.sql_name(),
                    row.relation,
                    taken_by
                ))
            );
        }
    }

    /// The time axis with its ticks and title.
    fn time_axis(&self, out: &mut String) {
        let axis_y = self.axis_y;
        let _ = writeln!(
            out,
            r##"<line x1="{LABEL_WIDTH}" y1="{axis_y:.1}" x2="{:.1}" y2="{axis_y:.1}" stroke="#111827"/>"##,
            LABEL_WIDTH + self.chart
        );
        let step = nice_step(self.end / 8.0);
        let mut tick = 0.0;
        while tick <= self.end + step * 0.001 {
            let tx = self.x(tick);
            let _ = writeln!(
                out,
                r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#9ca3af" stroke-width="0.5"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#374151" font-size="11">{}</text>"##,
                self.rows_top - 4.0,
                axis_y + 5.0,
                axis_y + 18.0,
                axis_label(tick, step)
            );
            tick += step;
        }
        let axis_title = match self.timeline.clock {
            Clock::DryRun => "time since the dry-run started",
            Clock::Production => "estimated time on production",
        };
        let _ = writeln!(
            out,
            r##"<text x="6" y="{:.1}" fill="#374151" font-size="11">{axis_title}</text>"##,
            axis_y + 18.0
        );
    }

    /// The legend: every lock mode drawn, then the marks, five to a line.
    fn legend(&self, out: &mut String) {
        let id = self.id;
        let mut items: Vec<String> = Vec::new();
        for mode in &self.modes {
            let (stroke, width) = if *mode == LockMode::AccessExclusive { ("#000000", 2.0) } else { ("#ffffff", 0.5) };
            items.push(format!(
                r#"<rect width="22" height="14" rx="2" fill="{}" stroke="{stroke}" stroke-width="{width}"/><text x="28" y="11">{}</text>"#,
                colour(*mode),
                html_escape(&mode_words(*mode))
            ));
        }
        items.push(format!(
            r##"<rect width="22" height="14" fill="url(#{id}-hatch)" stroke="#000"/><text x="28" y="11">table rewrite</text>"##
        ));
        items.push(format!(
            r##"<rect width="22" height="14" fill="url(#{id}-dots)" stroke="#000"/><text x="28" y="11">full scan</text>"##
        ));
        items.push(
            r##"<rect width="22" height="14" fill="#9ca3af" fill-opacity="0.55" stroke="#374151" stroke-dasharray="4 2"/><text x="28" y="11">inferred (already held)</text>"##
                .to_string(),
        );
        items.push(
            r##"<rect x="6" width="10" height="14" fill="none" stroke="#2ca089" stroke-width="2" stroke-dasharray="3 2"/><text x="28" y="11">not executed</text>"##
                .to_string(),
        );
        if self.held_on {
            items.push(
                r##"<rect y="5" width="22" height="4" fill="#6b7280" fill-opacity="0.45"/><text x="28" y="11">held until the dry-run rolled back</text>"##
                    .to_string(),
            );
        }
        for (index, item) in items.iter().enumerate() {
            let lx = 6.0 + (index % 5) as f64 * 220.0;
            let ly = self.legend_y + 22.0 * (index / 5) as f64;
            let _ = writeln!(
                out,
                r##"<g transform="translate({lx:.0},{ly:.0})" fill="#111827" font-size="11">{item}</g>"##
            );
        }
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// A round tick step (1, 2 or 5 × a power of ten) near `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = if fraction < 1.5 {
        1.0
    } else if fraction < 3.5 {
        2.0
    } else if fraction < 7.5 {
        5.0
    } else {
        10.0
    };
    (nice * power).max(0.001)
}

fn axis_label(ms: f64, step: f64) -> String {
    if ms == 0.0 {
        "0".to_string()
    } else if step >= 1000.0 {
        format!("{} s", trim_float(ms / 1000.0))
    } else {
        format!("{} ms", trim_float(ms))
    }
}

fn trim_float(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(130.0), 100.0);
        assert_eq!(nice_step(260.0), 200.0);
        assert_eq!(nice_step(4_100.0), 5_000.0);
        assert_eq!(axis_label(2_000.0, 1_000.0), "2 s");
        assert_eq!(axis_label(250.0, 50.0), "250 ms");
        assert_eq!(axis_label(0.5, 0.1), "0.5 ms");
    }
}
