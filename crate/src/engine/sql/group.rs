//! GROUP BY: keys (columns, expressions, select aliases, ordinals), the
//! aggregates, GROUPING SETS / ROLLUP / CUBE with grouping() and
//! grouping_id(); and PIVOT.

use polars::prelude::*;
use sqlparser::ast::{self, Expr as E, Function};

use super::agg;
use super::expr::{Subs, Tr, key};
use super::func::arg_exprs;
use super::plan::{Item, Planner};
use super::scope::{Rel, fresh, resolve};
use super::typed::{Lit, SqlResult, Typed, polars_error, refuse};
use super::walk::has_aggregate;

/// One aggregate call, ready for `.agg(..)`.
struct AggCall {
    text: String,
    typed: Typed,
    id: String,
}

pub(crate) fn group(
    planner: &Planner<'_>,
    rel: Rel,
    keys: &[E],
    items: &[Item],
    aliases: &[(String, E)],
    aggregates: &[Function],
) -> SqlResult<(Rel, Subs)> {
    let input = Tr { frame: Some(&rel.lf), ..Tr::new(planner, &rel.cols) };
    // Grouping sets: each is a list of indexes into `key_exprs`.
    let mut key_exprs: Vec<E> = Vec::new();
    let mut sets: Vec<Vec<usize>> = vec![Vec::new()];
    let mut with_sets = false;
    let index_of = |e: E, key_exprs: &mut Vec<E>| -> usize {
        match key_exprs.iter().position(|k| key(k) == key(&e)) {
            Some(i) => i,
            None => {
                key_exprs.push(e);
                key_exprs.len() - 1
            }
        }
    };
    for k in keys {
        let resolved = |e: &E| resolve_key(planner, &rel, e, items, aliases);
        let choices: Vec<Vec<E>> = match k {
            E::Rollup(parts) => {
                with_sets = true;
                let flat: Vec<Vec<E>> = parts
                    .iter()
                    .map(|p| p.iter().map(resolved).collect::<SqlResult<Vec<_>>>())
                    .collect::<SqlResult<_>>()?;
                (0..=flat.len()).rev().map(|n| flat[..n].concat()).collect()
            }
            E::Cube(parts) => {
                with_sets = true;
                let flat: Vec<Vec<E>> = parts
                    .iter()
                    .map(|p| p.iter().map(resolved).collect::<SqlResult<Vec<_>>>())
                    .collect::<SqlResult<_>>()?;
                let n = flat.len();
                (0..(1usize << n))
                    .rev()
                    .map(|mask| {
                        (0..n).filter(|i| mask & (1 << (n - 1 - i)) != 0).flat_map(|i| flat[i].clone()).collect()
                    })
                    .collect()
            }
            E::GroupingSets(list) => {
                with_sets = true;
                list.iter()
                    .map(|set| set.iter().map(resolved).collect::<SqlResult<Vec<_>>>())
                    .collect::<SqlResult<_>>()?
            }
            other => vec![vec![resolved(other)?]],
        };
        let mut next = Vec::new();
        for set in &sets {
            for choice in &choices {
                let mut s = set.clone();
                for e in choice {
                    let i = index_of(e.clone(), &mut key_exprs);
                    if !s.contains(&i) {
                        s.push(i);
                    }
                }
                next.push(s);
            }
        }
        sets = next;
    }
    // The keys, in the input's scope.
    let mut subs: Subs = Vec::new();
    let mut key_cols = Vec::new();
    for e in &key_exprs {
        if has_aggregate(e) {
            return Err(refuse(
                format!("GROUP BY {e}: an aggregate cannot be a group key (GROUP_BY_AGGREGATE)"),
                "group by columns or expressions of them",
            ));
        }
        let t = input.expr(e)?;
        let id = fresh("k");
        let col_t = Typed::new(col(id.as_str()), t.dtype.clone());
        subs.push((key(e), col_t.clone()));
        // The other spellings of a column key: zone, t.zone.
        if let E::Identifier(_) | E::CompoundIdentifier(_) = e {
            let parts: Vec<String> = match e {
                E::Identifier(i) => vec![i.value.clone()],
                E::CompoundIdentifier(ps) => ps.iter().map(|p| p.value.clone()).collect(),
                _ => Vec::new(),
            };
            if let Ok(Some((c, fields))) = resolve(&rel.cols, &parts)
                && fields.is_empty()
            {
                subs.push((c.name.to_lowercase(), col_t.clone()));
                for q in &c.qual {
                    subs.push((format!("{q}.{}", c.name.to_lowercase()), col_t.clone()));
                }
            }
        }
        // GROUP BY window(ts, ...): the column is named window.
        if let E::Function(f) = e
            && f.name.to_string().eq_ignore_ascii_case("window")
        {
            subs.push(("window".into(), col_t.clone()));
        }
        key_cols.push((id, t));
    }
    // The select items that are group keys by alias or ordinal.
    for item in items {
        if let Some((_, t)) = subs.iter().find(|(k, _)| *k == key(&item.expr)) {
            let t = t.clone();
            subs.push((item.name.to_lowercase(), t));
        }
    }
    // The aggregates.
    let mut calls: Vec<AggCall> = Vec::new();
    let mut grouping_calls: Vec<(String, Option<usize>, bool)> = Vec::new();
    for f in aggregates {
        let name = f.name.to_string().to_lowercase();
        let text = key(&E::Function(f.clone()));
        if name == "grouping" || name == "grouping_id" {
            let args = arg_exprs(f)?;
            if name == "grouping" {
                let [a] = args.as_slice() else {
                    return Err(refuse("grouping(col) takes one group key", "write grouping(zone)"));
                };
                let i = key_exprs.iter().position(|k| key(k) == key(a)).ok_or_else(|| {
                    refuse(format!("grouping({a}): {a} is not a group key"), "pass one of the GROUP BY columns")
                })?;
                grouping_calls.push((text, Some(i), false));
            } else {
                grouping_calls.push((text, None, true));
            }
            continue;
        }
        let typed = aggregate_call(&input, f, &name)?;
        calls.push(AggCall { text, typed, id: fresh("a") });
    }
    let gid = fresh("g");
    let n_keys = key_cols.len();
    let agg_exprs: Vec<Expr> = calls.iter().map(|c| c.typed.expr.clone().alias(c.id.as_str())).collect();
    let mut frames = Vec::new();
    let run_sets = if with_sets { sets.clone() } else { vec![(0..n_keys).collect()] };
    for set in &run_sets {
        let keys_in: Vec<Expr> =
            set.iter().map(|&i| key_cols[i].1.expr.clone().alias(key_cols[i].0.as_str())).collect();
        let mut lf = if keys_in.is_empty() {
            let mut exprs = agg_exprs.clone();
            if exprs.is_empty() {
                exprs.push(len().alias("__rows"));
            }
            rel.lf.clone().select(exprs)
        } else if agg_exprs.is_empty() {
            rel.lf.clone().group_by(keys_in).agg([len().alias("__rows")])
        } else {
            rel.lf.clone().group_by(keys_in).agg(agg_exprs.clone())
        };
        let mut id_bits: i64 = 0;
        let mut fill = Vec::new();
        for (i, (id, t)) in key_cols.iter().enumerate() {
            if !set.contains(&i) {
                fill.push(lit(NULL).cast(t.dtype.clone()).alias(id.as_str()));
                id_bits |= 1 << (n_keys - 1 - i);
            }
        }
        fill.push(lit(id_bits).cast(DataType::Int64).alias(gid.as_str()));
        lf = lf.with_columns(fill);
        let mut order: Vec<Expr> = key_cols.iter().map(|(id, _)| col(id.as_str())).collect();
        order.extend(calls.iter().map(|c| col(c.id.as_str())));
        order.push(col(gid.as_str()));
        frames.push(lf.select(order));
    }
    let lf = if frames.len() == 1 {
        frames.remove(0)
    } else {
        concat(frames, UnionArgs::default()).map_err(|e| polars_error(&e))?
    };
    for c in &calls {
        subs.push((c.text.clone(), Typed::new(col(c.id.as_str()), c.typed.dtype.clone())));
    }
    for (text, index, is_id) in grouping_calls {
        let t = match (index, is_id) {
            (Some(i), _) => {
                let shift = n_keys - 1 - i;
                let bit = (col(gid.as_str()) / lit(1i64 << shift)) % lit(2i64);
                Typed::new(bit.cast(DataType::Int8), DataType::Int8)
            }
            _ => Typed::new(col(gid.as_str()), DataType::Int64),
        };
        subs.push((text, t));
    }
    Ok((Rel { lf, cols: Vec::new() }, subs))
}

/// A GROUP BY entry: an ordinal or a select alias becomes the item's expression.
fn resolve_key(planner: &Planner<'_>, rel: &Rel, e: &E, items: &[Item], aliases: &[(String, E)]) -> SqlResult<E> {
    let _ = planner;
    match e {
        E::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
            let n: usize = v.value.to_string().parse().unwrap_or(0);
            let item = items
                .get(n.wrapping_sub(1))
                .ok_or_else(|| {
                    refuse(
                        format!(
                            "GROUP BY {n}: the SELECT list has {} columns (GROUP_BY_POS_OUT_OF_RANGE)",
                            items.len()
                        ),
                        "group by a position from 1 to the number of columns",
                    )
                })
                .map_err(|err| super::typed::at_span(err, sqlparser::ast::Spanned::span(e)))?;
            if has_aggregate(&item.expr) {
                return Err(refuse(
                    format!("GROUP BY {n} refers to an aggregate (GROUP_BY_POS_AGGREGATE)"),
                    "group by the other columns",
                ));
            }
            Ok(item.expr.clone())
        }
        E::Identifier(i) => {
            let known = resolve(&rel.cols, std::slice::from_ref(&i.value))?.is_some();
            if !known && let Some((_, ae)) = aliases.iter().find(|(a, _)| a.eq_ignore_ascii_case(&i.value)) {
                return Ok(ae.clone());
            }
            Ok(e.clone())
        }
        E::Nested(inner) => resolve_key(planner, rel, inner, items, aliases),
        other => Ok(other.clone()),
    }
}

/// `f(args)` for `.agg(..)`: arguments translated in the input's scope,
/// FILTER applied, count(*) and count(1) as the row count.
pub(crate) fn aggregate_call(input: &Tr<'_>, f: &Function, name: &str) -> SqlResult<Typed> {
    let mut ignore_nulls_clause = false;
    if let ast::FunctionArguments::List(list) = &f.args {
        for clause in &list.clauses {
            match clause {
                ast::FunctionArgumentClause::IgnoreOrRespectNulls(ast::NullTreatment::IgnoreNulls) => {
                    ignore_nulls_clause = true
                }
                ast::FunctionArgumentClause::IgnoreOrRespectNulls(ast::NullTreatment::RespectNulls) => {}
                other => {
                    return Err(refuse(
                        format!("{name}(... {other}) inside an aggregate's parentheses is not supported in the tab"),
                        "sort the result instead, such as sort_array(collect_list(x)) or array_sort",
                    ));
                }
            }
        }
    }
    let (distinct, wildcard) = match &f.args {
        ast::FunctionArguments::List(list) => (
            matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)),
            list.args.iter().any(|a| matches!(a, ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard))),
        ),
        _ => (false, false),
    };
    let mut args: Vec<Typed> = if wildcard {
        if name != "count" {
            return Err(refuse(format!("{name}(*) is not valid"), format!("write {name}(column)")));
        }
        Vec::new()
    } else {
        arg_exprs(f)?.iter().map(|a| input.expr(a)).collect::<SqlResult<_>>()?
    };
    // percentile_cont(p) WITHIN GROUP (ORDER BY x): percentile(x, p).
    if !f.within_group.is_empty() {
        let [o] = f.within_group.as_slice() else {
            return Err(refuse(
                format!("{name} WITHIN GROUP takes one ORDER BY column"),
                format!("write {name}(0.5) WITHIN GROUP (ORDER BY x)"),
            ));
        };
        let x = input.expr(&o.expr)?;
        let desc = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
        let p = args.pop().ok_or_else(|| {
            refuse(format!("{name} needs a percentage"), format!("write {name}(0.5) WITHIN GROUP (ORDER BY x)"))
        })?;
        let p = if desc { Typed::new(lit(1.0) - p.expr.cast(DataType::Float64), DataType::Float64) } else { p };
        args = vec![x, p];
        let mapped = match name {
            "percentile_cont" => "percentile",
            "percentile_disc" => "percentile_disc",
            other => other,
        };
        return finish(input, mapped, args, distinct, f);
    }
    if name == "count" && !args.is_empty() && args.iter().all(|a| a.lit == Some(Lit::Null)) {
        // count(NULL) counts nothing.
        return Ok(Typed::new(lit(0i64).cast(DataType::Int64), DataType::Int64));
    }
    if name == "count" && !distinct && args.len() == 1 && args[0].lit.as_ref().is_some_and(|l| *l != Lit::Null) {
        args.clear();
    }
    if ignore_nulls_clause || matches!(f.null_treatment, Some(ast::NullTreatment::IgnoreNulls)) {
        args.push(Typed::constant(Lit::Bool(true)));
    }
    finish(input, name, args, distinct, f)
}

fn finish(input: &Tr<'_>, name: &str, mut args: Vec<Typed>, distinct: bool, f: &Function) -> SqlResult<Typed> {
    if let Some(filter) = &f.filter {
        let cond = input.boolean(filter)?.expr.fill_null(lit(false));
        if args.is_empty() {
            args.push(Typed::new(cond.clone().filter(cond), DataType::Boolean));
        } else {
            for a in &mut args {
                a.expr = a.expr.clone().filter(cond.clone());
            }
        }
    }
    match agg::aggregate(name, &args, distinct, &input.planner.cx) {
        Some(r) => r,
        None => Err(refuse(
            format!("the aggregate {name}() is not supported in the tab"),
            "docs/sql.md lists the aggregates the tab runs",
        )),
    }
}

/// `FROM t PIVOT (agg FOR col IN (...))` and UNPIVOT.
pub(crate) fn pivot_factor(planner: &Planner<'_>, factor: &ast::TableFactor) -> SqlResult<Rel> {
    super::pivot::pivot_factor(planner, factor)
}
