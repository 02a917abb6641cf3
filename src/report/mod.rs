//! Findings + trace → what the user reads: a terminal table or the JSON contract of DESIGN.md.

pub mod json;
pub mod table;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Renders the trace in `format`. `color` applies to the table only.
pub fn render(trace: &crate::trace::Trace, format: Format, color: bool) -> String {
    match format {
        Format::Table => table::render(trace, color),
        Format::Json => json::render(trace),
    }
}
