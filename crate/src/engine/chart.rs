//! Chart cells in a session: the spec's table comes from the catalog.

use super::{ResultTable, Session};
use crate::chart::{ChartSpec, render};
use crate::{CellError, Location};

/// A chart cell's result.
#[derive(Debug, Clone)]
pub struct ChartOutcome {
    /// The chart's data (aggregated, binned or summarised), to show as a
    /// table; it does not join the catalog.
    pub table: ResultTable,
    /// The drawing, an `<svg>` element.
    pub svg: String,
    /// The catalog table the chart reads, so that it goes stale with it.
    pub reads: Vec<String>,
}

impl Session {
    /// Runs a chart cell: parses its spec, takes the table from the catalog
    /// and draws it. Nothing is registered.
    pub fn chart(&self, source: &str, default_name: &str) -> Result<ChartOutcome, CellError> {
        let spec = ChartSpec::parse(source)?;
        let df = self.table(&spec.table).ok_or_else(|| {
            let e = self.unknown_table(&spec.table);
            let hint = e.hint.clone().unwrap_or_default();
            e.at(key_line(source, "table"))
                .hint(format!("{hint} (a chart draws a table of the notebook: run its cell first)"))
        })?;
        let chart = render(&spec, df).map_err(|e| locate(e, source))?;
        let mut table = ResultTable::new(default_name.to_string(), chart.data);
        table.notes = chart.notes;
        Ok(ChartOutcome { table, svg: chart.svg, reads: vec![spec.table] })
    }
}

/// Points a column error ("the x column ...") at the spec's line for that key.
fn locate(error: CellError, source: &str) -> CellError {
    if error.location.is_some() {
        return error;
    }
    let key = ["x", "y", "color", "facet"].into_iter().find(|k| error.message.starts_with(&format!("the {k} column ")));
    match key {
        Some(key) => {
            let at = key_line(source, key);
            error.at(at)
        }
        None => error,
    }
}

/// Where `key:` is set in a spec's text.
fn key_line(source: &str, key: &str) -> Option<Location> {
    source.lines().enumerate().find_map(|(i, line)| {
        let (k, _) = line.split_once(':')?;
        (!line.trim_start().starts_with('#') && k.trim().eq_ignore_ascii_case(key))
            .then(|| Location { line: i as u32 + 1, column: (line.len() - line.trim_start().len()) as u32 + 1 })
    })
}
