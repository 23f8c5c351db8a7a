//! Subqueries in expressions. An uncorrelated one runs first and its answer
//! becomes a constant: a scalar, the set of an IN, the truth of an EXISTS.
//! A correlated one is refused with what to write instead.

use polars::prelude::*;
use sqlparser::ast::{self, Query};

use super::cast::{common, widen};
use super::expr::{Tr, mismatch};
use super::scope::resolve;
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
    if let Some(d) = decorrelate(tr, q)? {
        return scalar_correlated(tr, d);
    }
    let df = tr.planner.run_subquery(q, tr.cols)?;
    let s = one_column(&df, "a scalar subquery")?;
    let dtype = s.dtype().clone();
    match s.len() {
        0 => Ok(Typed::new(lit(NULL).cast(dtype.clone()), dtype)),
        1 => Ok(Typed::new(lit(s).first(), dtype)),
        n => Err(refuse(
            format!(
                "the scalar subquery returned {n} rows; it must return at most one (SCALAR_SUBQUERY_TOO_MANY_ROWS)"
            ),
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
    if let Some(d) = decorrelate(tr, q)? {
        return exists_correlated(tr, d);
    }
    let df = tr.planner.run_subquery(q, tr.cols)?;
    Ok(lit(df.height() > 0))
}

/// A correlated subquery turned into an uncorrelated one: its conditions
/// `inner = outer` become a group key, the answer a lookup by the outer value.
struct Decorrelated {
    /// The subquery without the correlated conditions, keyed by `inner`.
    select: ast::Select,
    inner: ast::Expr,
    outer: Typed,
}

fn decorrelate(tr: &Tr<'_>, q: &Query) -> SqlResult<Option<Decorrelated>> {
    let ast::SetExpr::Select(select) = q.body.as_ref() else { return Ok(None) };
    if q.with.is_some() || q.order_by.is_some() || q.limit_clause.is_some() || select.from.is_empty() {
        return Ok(None);
    }
    let mut inner_cols = Vec::new();
    for item in &select.from {
        inner_cols.extend(super::join::from_item(tr.planner, item)?.cols);
    }
    let Some(selection) = &select.selection else { return Ok(None) };
    let mut conjuncts = Vec::new();
    split_and(selection, &mut conjuncts);
    let is_outer = |e: &ast::Expr| -> bool {
        let parts: Vec<String> = match e {
            ast::Expr::Identifier(i) => vec![i.value.clone()],
            ast::Expr::CompoundIdentifier(ps) => ps.iter().map(|p| p.value.clone()).collect(),
            _ => return false,
        };
        resolve(&inner_cols, &parts).ok().flatten().is_none() && resolve(tr.cols, &parts).ok().flatten().is_some()
    };
    let mut found: Option<(ast::Expr, ast::Expr)> = None;
    let mut rest = Vec::new();
    for c in conjuncts {
        if let ast::Expr::BinaryOp { left, op: ast::BinaryOperator::Eq, right } = &c {
            let pair = match (is_outer(left), is_outer(right)) {
                (false, true) => Some(((**left).clone(), (**right).clone())),
                (true, false) => Some(((**right).clone(), (**left).clone())),
                _ => None,
            };
            if let Some(p) = pair {
                if found.is_some() {
                    return Err(refuse(
                        "a correlated subquery with more than one correlated condition is not supported in the tab",
                        "join the outer table to a grouped subquery instead",
                    ));
                }
                found = Some(p);
                continue;
            }
        }
        rest.push(c);
    }
    let Some((inner, outer)) = found else { return Ok(None) };
    let outer = tr.expr(&outer)?;
    let mut select = (**select).clone();
    select.selection = rest.into_iter().reduce(|a, b| ast::Expr::BinaryOp {
        left: Box::new(a),
        op: ast::BinaryOperator::And,
        right: Box::new(b),
    });
    Ok(Some(Decorrelated { select, inner, outer }))
}

fn split_and(e: &ast::Expr, out: &mut Vec<ast::Expr>) {
    match e {
        ast::Expr::Nested(inner) => split_and(inner, out),
        ast::Expr::BinaryOp { left, op: ast::BinaryOperator::And, right } => {
            split_and(left, out);
            split_and(right, out);
        }
        other => out.push(other.clone()),
    }
}

fn query_of(select: ast::Select) -> Query {
    Query {
        with: None,
        body: Box::new(ast::SetExpr::Select(Box::new(select))),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: Vec::new(),
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: Vec::new(),
    }
}

fn run_select(tr: &Tr<'_>, select: ast::Select) -> SqlResult<DataFrame> {
    tr.planner.run_subquery(&query_of(select), &[])
}

/// EXISTS (SELECT ... WHERE inner = outer AND ...): is the outer value among the inner keys.
fn exists_correlated(tr: &Tr<'_>, d: Decorrelated) -> SqlResult<Expr> {
    let mut select = d.select;
    select.projection = vec![ast::SelectItem::UnnamedExpr(d.inner)];
    select.distinct = Some(ast::Distinct::Distinct);
    let keys = run_select(tr, select)?;
    let s = one_column(&keys, "the subquery")?;
    let t = common(&d.outer.dtype, s.dtype())
        .ok_or_else(|| mismatch("the correlated condition", &d.outer.dtype, s.dtype()))?;
    let outer = widen(d.outer, &t)?;
    let values = s.drop_nulls().cast(&t).map_err(|e| polars_error(&e))?;
    Ok(outer.expr.is_in(lit(values).implode(), false).fill_null(lit(false)))
}

/// (SELECT agg FROM ... WHERE inner = outer AND ...): the aggregate per inner key, looked up.
fn scalar_correlated(tr: &Tr<'_>, d: Decorrelated) -> SqlResult<Typed> {
    let [item] = d.select.projection.as_slice() else {
        return Err(refuse("a scalar subquery must select one value", "select one aggregate, such as max(x)"));
    };
    let value = match item {
        ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => e.clone(),
        _ => return Err(refuse("a scalar subquery must select one value", "select one aggregate, such as max(x)")),
    };
    if !super::walk::has_aggregate(&value)
        || !matches!(&d.select.group_by, ast::GroupByExpr::Expressions(v, _) if v.is_empty())
    {
        return Err(refuse(
            "a correlated scalar subquery must aggregate (max, count, ...) without GROUP BY in the tab",
            "aggregate it, or join the outer table to a grouped subquery",
        ));
    }
    // The answer where no inner row matches: the aggregate of no rows (count is 0).
    let mut empty = d.select.clone();
    empty.selection = Some(ast::Expr::Value(ast::Value::Boolean(false).into()));
    let default = run_select(tr, empty)?;
    let default = one_column(&default, "the subquery")?;
    let mut select = d.select;
    select.projection = vec![ast::SelectItem::UnnamedExpr(d.inner.clone()), ast::SelectItem::UnnamedExpr(value)];
    select.group_by = ast::GroupByExpr::Expressions(vec![d.inner], Vec::new());
    let table = run_select(tr, select)?;
    let keys = table.get_columns()[0].as_materialized_series().clone();
    let values = table.get_columns()[1].as_materialized_series().clone();
    let dtype = values.dtype().clone();
    let t = common(&d.outer.dtype, keys.dtype())
        .ok_or_else(|| mismatch("the correlated condition", &d.outer.dtype, keys.dtype()))?;
    let outer = widen(d.outer, &t)?;
    let keys = keys.cast(&t).map_err(|e| polars_error(&e))?;
    let e = outer.expr.replace_strict(
        lit(keys).implode().explode(),
        lit(values).implode().explode(),
        Some(lit(default).first()),
        Some(dtype.clone()),
    );
    Ok(Typed::new(e, dtype))
}

/// `(a, b) IN (SELECT x, y ...)`: the tuples compared as one text key each.
pub(crate) fn in_tuple(tr: &Tr<'_>, items: Vec<Typed>, q: &Query) -> SqlResult<Expr> {
    let df = tr.planner.run_subquery(q, tr.cols)?;
    if df.width() != items.len() {
        return Err(refuse(
            format!("IN compares {} values with a subquery of {} columns", items.len(), df.width()),
            "select as many columns as the tuple has values",
        ));
    }
    if df.height() == 0 {
        return Ok(lit(false));
    }
    let mut outer = Vec::new();
    let mut inner = Vec::new();
    for (item, column) in items.into_iter().zip(df.get_columns()) {
        let t = common(&item.dtype, column.dtype())
            .ok_or_else(|| mismatch("IN (subquery)", &item.dtype, column.dtype()))?;
        outer.push(super::cast::cast(widen(item, &t)?, &DataType::String, true)?.expr);
        let c = Typed::new(lit(column.as_materialized_series().cast(&t).map_err(|e| polars_error(&e))?), t);
        inner.push(super::cast::cast(c, &DataType::String, true)?.expr);
    }
    let keys = DataFrame::empty()
        .lazy()
        .select([concat_str(inner, "\u{1}", false).alias("k")])
        .collect()
        .map_err(|e| polars_error(&e))?;
    let keys = keys.column("k").map_err(|e| polars_error(&e))?.as_materialized_series().clone();
    let has_null = keys.null_count() > 0;
    let values = keys.drop_nulls();
    let key = concat_str(outer, "\u{1}", false);
    let miss = if has_null { lit(NULL).cast(DataType::Boolean) } else { lit(false) };
    Ok(when(key.clone().is_null())
        .then(lit(NULL).cast(DataType::Boolean))
        .when(key.is_in(lit(values).implode(), false))
        .then(lit(true))
        .otherwise(miss))
}
