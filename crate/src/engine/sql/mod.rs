//! Riffle's Spark SQL: sqlparser's AST (Spark dialect) planned onto Polars'
//! lazy frames with Spark's semantics: its types and their names, ANSI
//! errors, NULL ordering, window frames. Polars SQL is not used.
//!
//! - [`sources`]: table functions out of the statement as sources.
//! - [`plan`]: queries; [`join`], [`group`], [`window`], [`generate`],
//!   [`subquery`], [`pivot`] for their parts.
//! - [`expr`]: expressions; [`func`] dispatches calls to the families
//!   ([`math`], [`strings`], [`datetime`], [`nested`], [`jsonfn`], [`agg`]).
//! - [`cast`]: Spark's type coercion and CAST; [`typed`]: the shared types.

mod agg;
mod ansi;
mod arith;
mod cast;
pub(crate) mod datetime;
mod expr;
mod func;
mod generate;
mod group;
mod join;
mod jsonfn;
mod jsonparse;
mod literal;
mod math;
mod naming;
mod nested;
mod pivot;
mod plan;
pub(crate) mod readtext;
mod scope;
mod setops;
mod sources;
mod strings;
mod subquery;
#[cfg(test)]
mod tests;
pub(crate) mod typed;
mod walk;
mod window;

use std::collections::BTreeMap;

use polars::prelude::DataFrame;
use sqlparser::ast::Query;

pub(crate) use ansi::AnsiScope;
pub(crate) use sources::{parse, rewrite, source_request};
pub(crate) use typed::{Cx, polars_error};

use crate::CellError;

/// Runs a query over the named tables (the catalog and the cell's sources);
/// notes for the cell go to `notes`.
pub(crate) fn run(
    query: &Query,
    tables: &BTreeMap<String, DataFrame>,
    cx: Cx,
    notes: &mut Vec<String>,
) -> Result<DataFrame, CellError> {
    let planner = plan::Planner::new(tables, cx);
    let result = planner.run(query);
    let mut found = planner.notes.take();
    found.dedup();
    notes.extend(found);
    result
}
