//! Subqueries in expressions. An uncorrelated one runs first and its answer
//! becomes a constant: a scalar, the set of an IN, the truth of an EXISTS.
//! A correlated one is refused with what to write instead.

use polars::prelude::*;
use sqlparser::ast::Query;

use super::cast::{common, widen};
use super::expr::{Tr, mismatch};
use super::typed::{SqlResult, Typed, polars_error, refuse};

fn one_column(df: &DataFrame, what: &str) -> SqlResult<Series> {
    if df.width() != 1 {
        return Err(refuse(
            format!("{what} must select one column; this one selects {}", df.width()),
            "select just the column to compare",
        ));
    }
    Ok(df.get_columns()[0].as_materialized_series().clone())
}

pub(crate) fn scalar(tr: &Tr<'_>, q: &Query) -> SqlResult<Typed> {
    let df = tr.planner.run_subquery(q, tr.cols)?;
    let s = one_column(&df, "a scalar subquery")?;
    let dtype = s.dtype().clone();
    match s.len() {
        0 => Ok(Typed::new(lit(NULL).cast(dtype.clone()), dtype)),
        1 => Ok(Typed::new(lit(s).first(), dtype)),
        n => Err(refuse(
            format!("the scalar subquery returned {n} rows; it must return at most one (SCALAR_SUBQUERY_TOO_MANY_ROWS)"),
            "aggregate it (max, min, first) or add a condition that picks one row",
        )),
    }
}

pub(crate) fn in_subquery(tr: &Tr<'_>, x: Typed, q: &Query) -> SqlResult<Expr> {
    let df = tr.planner.run_subquery(q, tr.cols)?;
    let s = one_column(&df, "an IN subquery")?;
    if s.is_empty() {
        return Ok(lit(false));
    }
    let t = common(&x.dtype, s.dtype()).ok_or_else(|| mismatch("IN (subquery)", &x.dtype, s.dtype()))?;
    let x = widen(x, &t)?;
    let has_null = s.null_count() > 0;
    let values = s.drop_nulls().cast(&t).map_err(|e| polars_error(&e))?;
    let miss = if has_null { lit(NULL).cast(DataType::Boolean) } else { lit(false) };
    Ok(when(x.expr.clone().is_null())
        .then(lit(NULL).cast(DataType::Boolean))
        .when(x.expr.is_in(lit(values).implode(), false))
        .then(lit(true))
        .otherwise(miss))
}

pub(crate) fn exists(tr: &Tr<'_>, q: &Query) -> SqlResult<Expr> {
    let df = tr.planner.run_subquery(q, tr.cols)?;
    Ok(lit(df.height() > 0))
}
