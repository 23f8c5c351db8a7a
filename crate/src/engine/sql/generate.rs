//! Generators: `explode`, `posexplode`, `inline` (and their `_outer`
//! forms), `stack` and `json_tuple`, in the SELECT list or as
//! `LATERAL VIEW [OUTER] f(...) t AS a, b`.

use polars::prelude::*;
use sqlparser::ast::{self, Expr as E};

use super::expr::{Tr, auto_name};
use super::func::arg_exprs;
use super::plan::{Item, Planner};
use super::scope::{ColRef, Rel, fresh};
use super::typed::{Lit, SqlResult, Typed, refuse};

const GENERATORS: &[&str] =
    &["explode", "explode_outer", "posexplode", "posexplode_outer", "inline", "inline_outer", "stack", "json_tuple"];

fn generator_call(e: &E) -> Option<&ast::Function> {
    match e {
        E::Nested(inner) => generator_call(inner),
        E::Function(f) if f.over.is_none() && GENERATORS.contains(&f.name.to_string().to_lowercase().as_str()) => {
            Some(f)
        }
        _ => None,
    }
}

pub(crate) fn lateral_view(planner: &Planner<'_>, rel: Rel, view: &ast::LateralView) -> SqlResult<Rel> {
    let Some(f) = generator_call(&view.lateral_view) else {
        return Err(refuse(
            format!("LATERAL VIEW {}: not a generator", view.lateral_view),
            "write LATERAL VIEW explode(arr) t AS x (or posexplode, inline, stack, json_tuple)",
        ));
    };
    let names: Vec<String> = view.lateral_col_alias.iter().map(|a| a.value.clone()).collect();
    let qual = view.lateral_view_name.to_string();
    let (mut rel, new) = apply(planner, rel, f, view.outer, &names)?;
    for mut c in new {
        c.qual = if qual.is_empty() { Vec::new() } else { vec![qual.to_lowercase()] };
        rel.cols.push(c);
    }
    Ok(rel)
}

/// Applies the SELECT list's generator (Spark allows one) and puts its
/// output columns in its place.
pub(crate) fn select_generators(planner: &Planner<'_>, mut rel: Rel, items: &mut Vec<Item>) -> SqlResult<Rel> {
    let Some(pos) = items.iter().position(|i| generator_call(&i.expr).is_some()) else { return Ok(rel) };
    if let Some(second) = items.iter().skip(pos + 1).find(|i| generator_call(&i.expr).is_some()) {
        let span = sqlparser::ast::Spanned::span(&second.expr);
        return Err(super::typed::at_span(
            refuse(
                "only one generator (explode, posexplode, inline, stack) is allowed per SELECT (UNSUPPORTED_GENERATOR.MULTI_GENERATOR)",
                "explode one array per SELECT, or use several LATERAL VIEWs",
            ),
            span,
        ));
    }
    let item = items.remove(pos);
    let f = generator_call(&item.expr).cloned().ok_or_else(|| refuse("internal: generator", "report it"))?;
    let names: Vec<String> =
        if item.explicit_alias { item.name.split('\u{1}').map(str::to_string).collect() } else { Vec::new() };
    let (next, new) = apply(planner, rel, &f, false, &names)?;
    rel = next;
    for (i, c) in new.into_iter().enumerate() {
        items.insert(
            pos + i,
            Item {
                expr: E::Identifier(ast::Ident::with_quote('`', &c.id)),
                name: c.name.clone(),
                explicit_alias: true,
            },
        );
        let mut hidden = c;
        hidden.hidden = true;
        rel.cols.push(hidden);
    }
    Ok(rel)
}

fn apply(
    planner: &Planner<'_>,
    rel: Rel,
    f: &ast::Function,
    outer_view: bool,
    names: &[String],
) -> SqlResult<(Rel, Vec<ColRef>)> {
    let name = f.name.to_string().to_lowercase();
    let outer = outer_view || name.ends_with("_outer");
    let base = name.trim_end_matches("_outer");
    let tr = Tr { frame: Some(&rel.lf), ..Tr::new(planner, &rel.cols) };
    let raw = arg_exprs(f)?;
    let args = raw.iter().map(|a| tr.expr(a)).collect::<SqlResult<Vec<_>>>()?;
    let named = |i: usize, default: &str| names.get(i).cloned().unwrap_or_else(|| default.to_string());
    let mut lf = rel.lf.clone();
    let mut new = Vec::new();
    match base {
        "explode" | "posexplode" | "inline" => {
            let [arr] = args.as_slice() else {
                return Err(refuse(format!("{name} takes one array"), format!("write {name}(arr)")));
            };
            let DataType::List(elem) = &arr.dtype else {
                return Err(refuse(
                    format!(
                        "{name}({}) needs an array; {} is a {}",
                        raw[0],
                        auto_name(raw[0]),
                        super::super::output::spark_type_name(&arr.dtype)
                    ),
                    "split a string into an array first: explode(split(s, ','))",
                ));
            };
            let g = fresh("g");
            lf = lf.with_column(arr.expr.clone().alias(g.as_str()));
            if !outer {
                lf = lf.filter(col(g.as_str()).list().len().gt(lit(0)));
            }
            let mut exploded = vec![g.clone()];
            if base == "posexplode" {
                let p = fresh("p");
                lf = lf.with_column(
                    int_ranges(lit(0), col(g.as_str()).list().len(), lit(1), DataType::Int32).alias(p.as_str()),
                );
                exploded.push(p.clone());
                new.push(ColRef {
                    qual: Vec::new(),
                    name: named(0, "pos"),
                    id: p,
                    dtype: DataType::Int32,
                    hidden: false,
                });
            }
            lf = lf.explode(by_name(exploded.iter().map(|s| s.as_str()), true));
            let map = super::super::output::map_entry(elem).is_some();
            if base == "inline" || map {
                let DataType::Struct(fields) = elem.as_ref() else {
                    return Err(refuse(format!("{name} needs an array of structs"), "use explode for other arrays"));
                };
                let first = if base == "posexplode" { 1 } else { 0 };
                for (i, fd) in fields.iter().enumerate() {
                    let i = i + first;
                    let id = fresh("f");
                    lf = lf.with_column(col(g.as_str()).struct_().field_by_name(fd.name().as_str()).alias(id.as_str()));
                    new.push(ColRef {
                        qual: Vec::new(),
                        name: named(i, fd.name().as_str()),
                        id,
                        dtype: fd.dtype().clone(),
                        hidden: false,
                    });
                }
            } else {
                let i = if base == "posexplode" { 1 } else { 0 };
                new.push(ColRef {
                    qual: Vec::new(),
                    name: named(i, "col"),
                    id: g,
                    dtype: (**elem).clone(),
                    hidden: false,
                });
            }
        }
        "stack" => {
            let n = args.first().and_then(|a| a.lit_int()).filter(|n| *n > 0).ok_or_else(|| {
                refuse("stack(n, ...) takes a positive integer constant first", "write stack(2, 'a', x, 'b', y)")
            })? as usize;
            let values = &args[1..];
            let width = values.len().div_ceil(n);
            let mut lists = Vec::new();
            for c in 0..width {
                let column: Vec<&Typed> = (0..n).filter_map(|r| values.get(r * width + c)).collect();
                let t = super::cast::common_of(&column.iter().map(|v| &v.dtype).collect::<Vec<_>>(), "stack")?;
                let mut exprs = Vec::new();
                for r in 0..n {
                    let v = values.get(r * width + c).cloned().unwrap_or_else(|| Typed::constant(Lit::Null));
                    exprs.push(super::cast::widen(v, &t)?.expr);
                }
                let id = fresh("st");
                lists.push((
                    concat_list(exprs).map_err(|e| super::typed::polars_error(&e))?.alias(id.as_str()),
                    id.clone(),
                    t.clone(),
                ));
                new.push(ColRef { qual: Vec::new(), name: named(c, &format!("col{c}")), id, dtype: t, hidden: false });
            }
            lf = lf.with_columns(lists.iter().map(|l| l.0.clone()).collect::<Vec<_>>());
            lf = lf.explode(by_name(lists.iter().map(|l| l.1.as_str()), true));
        }
        "json_tuple" => {
            let (json, fields) = args.split_first().ok_or_else(|| {
                refuse("json_tuple(json, 'a', 'b') needs a value and field names", "write json_tuple(value, 'a', 'b')")
            })?;
            for (i, fname) in fields.iter().enumerate() {
                let path = fname.lit_str().ok_or_else(|| {
                    refuse("json_tuple: field names must be string constants", "write json_tuple(value, 'a', 'b')")
                })?;
                let t = tr.call_family(
                    "get_json_object",
                    vec![json.clone(), Typed::constant(Lit::Str(format!("$.{path}")))],
                )?;
                let id = fresh("jt");
                lf = lf.with_column(t.expr.alias(id.as_str()));
                new.push(ColRef {
                    qual: Vec::new(),
                    name: named(i, &format!("c{i}")),
                    id,
                    dtype: DataType::String,
                    hidden: false,
                });
            }
        }
        _ => return Err(refuse(format!("{name} is not a generator"), "use explode, posexplode, inline or stack")),
    }
    Ok((Rel { lf, cols: rel.cols }, new))
}
