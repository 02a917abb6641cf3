//! `lockscope rules`: the rule catalogue, as a table, the README's Markdown table, or JSON.

use crate::analyze::catalogue;

/// How `lockscope rules` prints the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulesFormat {
    /// One line per rule.
    Table,
    /// The Markdown table of the README.
    Markdown,
    /// Every field of every rule, examples included.
    Json,
}

/// The catalogue in `format`.
pub fn render(format: RulesFormat) -> String {
    match format {
        RulesFormat::Table => catalogue::list(),
        RulesFormat::Markdown => catalogue::markdown_table(),
        RulesFormat::Json => catalogue::json(),
    }
}
