//! The engine: a notebook session's catalog of named tables, and the two
//! steps of running a cell.
//!
//! 1. [`Session::prepare`] parses the cell and names the sources it needs
//!    (`read_csv('trips.csv')` becomes a [`SourceRequest`]).
//! 2. The host fetches those bytes, in the same order, and calls
//!    [`Session::execute`], which parses them and runs the SQL with Polars.

mod output;
mod repair;
mod source;
mod sql;

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use polars::sql::SQLContext;

pub use output::{ResultTable, print_schema, spark_type_name};
pub use source::{SourceFormat, SourceRequest};

use crate::lang::Directives;
use crate::CellError;

/// A cell that has been parsed and is waiting for its sources' bytes.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The table the result will be registered as.
    pub table: String,
    /// Sources to fetch, in order.
    pub sources: Vec<SourceRequest>,
    /// Tables of the catalog that the cell reads.
    pub reads: Vec<String>,
    sql: String,
}

/// One notebook's engine state: the named results of its cells.
pub struct Session {
    ctx: SQLContext,
    /// The named results; Polars' context may also hold aliases it registered itself.
    catalog: BTreeSet<String>,
    /// Which tables each table's cell read, for re-running dependents.
    dependencies: BTreeMap<String, Vec<String>>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    pub fn new() -> Self {
        Session { ctx: SQLContext::new(), catalog: BTreeSet::new(), dependencies: BTreeMap::new() }
    }

    /// The names of the tables in the catalog, sorted.
    pub fn tables(&self) -> Vec<String> {
        self.catalog.iter().cloned().collect()
    }

    /// The tables that the cell which made `table` read.
    pub fn dependencies(&self, table: &str) -> &[String] {
        self.dependencies.get(table).map(Vec::as_slice).unwrap_or_default()
    }

    /// Parses a cell and names the sources it needs.
    pub fn prepare(&self, source: &str, default_name: &str) -> Result<Prepared, CellError> {
        let table = Directives::parse(source).name.unwrap_or_else(|| default_name.to_string());
        let rewritten = sql::rewrite(source)?;
        let reads = rewritten.relations.into_iter().filter(|r| self.catalog.contains(r)).collect();
        Ok(Prepared { table, sources: rewritten.sources, reads, sql: rewritten.sql })
    }

    /// Runs a prepared cell with its sources' bytes, registers its result
    /// under the cell's name, and returns it.
    pub fn execute(&mut self, prepared: Prepared, inputs: Vec<Vec<u8>>) -> Result<ResultTable, CellError> {
        if inputs.len() != prepared.sources.len() {
            return Err(CellError::new(format!(
                "internal: the cell needs {} source(s) but {} were supplied",
                prepared.sources.len(),
                inputs.len()
            )));
        }
        for (request, bytes) in prepared.sources.iter().zip(inputs) {
            let df = repair::repair_if_needed(request.parse(bytes)?).map_err(|e| sql::polars_error(&e))?;
            self.ctx.register(&request.id, df.lazy());
        }
        let result = self.ctx.execute(&prepared.sql).and_then(LazyFrame::collect);
        // Drop the sources and any alias Polars registered while planning.
        for name in self.ctx.get_tables() {
            if !self.catalog.contains(&name) {
                self.ctx.unregister(&name);
            }
        }
        let df = result
            .and_then(repair::repair_if_needed)
            .map_err(|e| self.explain(&e))?;
        self.register(&prepared.table, df.clone());
        self.dependencies.insert(prepared.table.clone(), prepared.reads);
        Ok(ResultTable::new(prepared.table, df))
    }

    /// Prepares and executes a cell that reads no sources.
    pub fn run(&mut self, source: &str, default_name: &str) -> Result<ResultTable, CellError> {
        let prepared = self.prepare(source, default_name)?;
        self.execute(prepared, Vec::new())
    }

    /// Registers a frame under a name, as a cell result would be.
    pub fn register(&mut self, name: &str, df: DataFrame) {
        self.ctx.register(name, df.lazy());
        self.catalog.insert(name.to_string());
    }

    /// Words a Polars error for the cell, with what the user can do.
    fn explain(&self, error: &PolarsError) -> CellError {
        let e = sql::polars_error(error);
        if e.message.contains("relation '") && e.message.contains("not found") {
            let hint = if self.catalog.is_empty() {
                "no tables yet: name a cell's result with `-- name: t` on its first line, \
                 or read a file with read_csv('path')"
                    .to_string()
            } else {
                format!("tables in this notebook: {}", self.tables().join(", "))
            };
            return e.hint(hint);
        }
        e
    }
}
