//! Function calls: the forms the core handles itself (conditionals, casts by
//! name, struct constructors, lambdas, Riffle's json_parse), then each
//! family of Spark's functions in turn.

use polars::prelude::*;
use sqlparser::ast::{self, Expr as E, FunctionArg, FunctionArgExpr, FunctionArguments};

use super::cast::{self, common_of, widen};
use super::expr::{Tr, auto_name};
use super::typed::{Lit, SqlResult, Typed, refuse};
use super::{datetime, jsonfn, math, nested, strings};

/// The plain arguments of a call.
pub(crate) fn arg_exprs(f: &ast::Function) -> SqlResult<Vec<&E>> {
    match &f.args {
        FunctionArguments::None => Ok(Vec::new()),
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                FunctionArg::Named { arg: FunctionArgExpr::Expr(e), .. } => Ok(e),
                other => Err(refuse(format!("{}: the argument {other} is not supported", f.name), "pass plain values")),
            })
            .collect(),
        FunctionArguments::Subquery(_) => Err(refuse(format!("{}(SELECT ...) is not supported", f.name), "use a join")),
    }
}

pub(crate) fn function(tr: &Tr<'_>, f: &ast::Function) -> SqlResult<Typed> {
    let name = f.name.to_string().to_lowercase();
    if f.over.is_some() {
        return Err(refuse(
            format!("the window function {name}(...) OVER (...) is only allowed in SELECT, QUALIFY and ORDER BY"),
            "compute it in a subquery's SELECT list and filter on it outside",
        ));
    }
    // Clauses only aggregates take: on any other function they would be dropped.
    if !super::expr::is_aggregate_call(f) {
        let distinct = matches!(&f.args, FunctionArguments::List(l) if matches!(l.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)));
        if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() || distinct {
            return Err(refuse(
                format!(
                    "{name}(...) is not an aggregate, so DISTINCT, FILTER, WITHIN GROUP and IGNORE NULLS do not apply to it"
                ),
                "use them with aggregates such as count, sum or collect_list",
            ));
        }
    }
    if let FunctionArguments::List(l) = &f.args
        && !l.clauses.is_empty()
    {
        return Err(refuse(
            format!("{name}(... ORDER BY / LIMIT / ON OVERFLOW ...) inside a call is not Spark SQL"),
            "sort afterwards, such as sort_array(collect_list(x)), or use array_sort",
        ));
    }
    if !matches!(f.parameters, FunctionArguments::None) {
        return Err(refuse(
            format!("{name}(...)(...): parametric functions are not Spark SQL"),
            "call the function with one list of arguments",
        ));
    }
    if super::expr::is_aggregate_call(f) {
        return Err(refuse(
            format!(
                "the aggregate {name}(...) is not allowed here (in WHERE, GROUP BY, ON or inside another aggregate)"
            ),
            "filter aggregates with HAVING, or compute them in a subquery",
        ));
    }
    let raw = arg_exprs(f)?;
    // Lambdas: transform(arr, x -> ...), filter, exists, forall.
    if let Some(E::Lambda(lambda)) = raw.get(1) {
        return higher_order(tr, name.trim_start_matches("__"), raw[0], lambda);
    }
    if let Some(suffix) = name.strip_prefix("__lit_") {
        let [value] = raw.as_slice() else { return Err(refuse("internal: a typed literal", "write 1L or 1.5D")) };
        let v = tr.expr(value)?;
        let to = match suffix {
            "l" => DataType::Int64,
            "y" => DataType::Int8,
            "s" => DataType::Int16,
            "f" => DataType::Float32,
            "bd" => return Ok(v),
            _ => DataType::Float64,
        };
        let lit = v.lit.clone();
        let mut t = cast::cast(v, &to, true)?;
        t.lit = match (lit, &to) {
            (Some(Lit::Int(n)), DataType::Int64 | DataType::Int8 | DataType::Int16) => Some(Lit::Int(n)),
            _ => None,
        };
        return Ok(t);
    }
    match name.as_str() {
        "struct" => return struct_of(tr, &raw.iter().map(|e| (*e).clone()).collect::<Vec<_>>()),
        "named_struct" => {
            if raw.len() % 2 != 0 || raw.is_empty() {
                return Err(refuse(
                    "named_struct takes pairs of a name and a value",
                    "write named_struct('a', x, 'b', y)",
                ));
            }
            let mut fields = Vec::new();
            let mut exprs = Vec::new();
            for pair in raw.chunks(2) {
                let n = tr.expr(pair[0])?;
                let fname = n.lit_str().map(str::to_string).ok_or_else(|| {
                    refuse("named_struct: each name must be a string constant", "write named_struct('a', x)")
                })?;
                let t = tr.expr(pair[1])?;
                fields.push(Field::new(fname.as_str().into(), t.dtype.clone()));
                exprs.push(t.expr.alias(fname.as_str()));
            }
            return Ok(Typed::new(as_struct(exprs), DataType::Struct(fields)));
        }
        "json_parse" | "json_get" => return super::jsonparse::call(tr, &name, &raw),
        _ => {}
    }
    // A unit written as a word: timestampdiff(SECOND, a, b), date_part(MONTH, d).
    let unit_first = matches!(name.as_str(), "timestampdiff" | "timestampadd" | "date_part" | "datepart")
        || (raw.len() == 3 && matches!(name.as_str(), "date_add" | "dateadd" | "datediff" | "date_diff"));
    let args = raw
        .iter()
        .enumerate()
        .map(|(i, a)| match a {
            E::Identifier(unit) if i == 0 && unit_first && unit.quote_style.is_none() => {
                Ok(Typed::constant(Lit::Str(unit.value.to_uppercase())))
            }
            _ => tr.expr(a),
        })
        .collect::<SqlResult<Vec<_>>>()?;
    // ltrim(trimStr, str) and rtrim(trimStr, str): the families take (str, trimStr).
    let args = match (name.as_str(), args.as_slice()) {
        ("trim" | "ltrim" | "rtrim", [chars, s]) => vec![s.clone(), chars.clone()],
        _ => args,
    };
    family(tr, &name, &args)
}

/// `struct(a, b AS x, 1)`: fields named after columns, aliases, or col1, col2...
pub(crate) fn struct_of(tr: &Tr<'_>, values: &[E]) -> SqlResult<Typed> {
    let mut fields = Vec::new();
    let mut exprs = Vec::new();
    for (i, a) in values.iter().enumerate() {
        let (a, fname) = match a {
            E::Named { expr, name } => (expr.as_ref(), name.value.clone()),
            E::Identifier(_) | E::CompoundIdentifier(_) | E::CompoundFieldAccess { .. } => (a, auto_name(a)),
            _ => (a, format!("col{}", i + 1)),
        };
        let t = tr.expr(a)?;
        fields.push(Field::new(fname.as_str().into(), t.dtype.clone()));
        exprs.push(t.expr.alias(fname.as_str()));
    }
    Ok(Typed::new(as_struct(exprs), DataType::Struct(fields)))
}

fn as_struct(exprs: Vec<Expr>) -> Expr {
    polars::prelude::as_struct(exprs)
}

/// Conditionals and casts by name, then the families.
pub(crate) fn family(tr: &Tr<'_>, name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let n = args.len();
    let cast_to = |to: DataType| -> SqlResult<Typed> {
        match args {
            [x] => cast::cast(x.clone(), &to, true),
            _ => Err(refuse(format!("{name}(x) takes one value"), format!("write {name}(x)"))),
        }
    };
    match name {
        "coalesce" | "ifnull" | "nvl" if n >= 1 => {
            let t = common_of(&args.iter().map(|a| &a.dtype).collect::<Vec<_>>(), name)?;
            let exprs = args.iter().map(|a| widen(a.clone(), &t).map(|w| w.expr)).collect::<SqlResult<Vec<_>>>()?;
            return Ok(Typed::new(polars::prelude::coalesce(&exprs), t));
        }
        "nvl2" if n == 3 => {
            let t = common_of(&[&args[1].dtype, &args[2].dtype], name)?;
            let e = when(args[0].expr.clone().is_not_null())
                .then(widen(args[1].clone(), &t)?.expr)
                .otherwise(widen(args[2].clone(), &t)?.expr);
            return Ok(Typed::new(e, t));
        }
        "nullif" if n == 2 => {
            let t = common_of(&[&args[0].dtype, &args[1].dtype], name)?;
            let a = widen(args[0].clone(), &t)?;
            let b = widen(args[1].clone(), &t)?;
            // Compared at the common type; the result keeps the first value's type.
            let first = args[0].clone();
            let e = when(a.expr.eq(b.expr)).then(lit(NULL).cast(first.dtype.clone())).otherwise(first.expr);
            return Ok(Typed::new(e, first.dtype));
        }
        "if" | "iff" if n == 3 => {
            if !matches!(args[0].dtype, DataType::Boolean | DataType::Null) {
                return Err(refuse(
                    "if(condition, a, b): the condition must be a boolean",
                    "write if(x > 0, 'yes', 'no')",
                ));
            }
            let t = common_of(&[&args[1].dtype, &args[2].dtype], name)?;
            let e = when(args[0].expr.clone())
                .then(widen(args[1].clone(), &t)?.expr)
                .otherwise(widen(args[2].clone(), &t)?.expr);
            return Ok(Typed::new(e, t));
        }
        "isnull" if n == 1 => return Ok(Typed::new(args[0].expr.clone().is_null(), DataType::Boolean)),
        "isnotnull" if n == 1 => return Ok(Typed::new(args[0].expr.clone().is_not_null(), DataType::Boolean)),
        "typeof" if n == 1 => {
            let text = super::super::output::spark_type_name(&args[0].dtype);
            return Ok(Typed::constant(Lit::Str(text)));
        }
        "int" | "integer" => return cast_to(DataType::Int32),
        "bigint" | "long" => return cast_to(DataType::Int64),
        "smallint" => return cast_to(DataType::Int16),
        "tinyint" => return cast_to(DataType::Int8),
        "double" => return cast_to(DataType::Float64),
        "float" => return cast_to(DataType::Float32),
        "string" => return cast_to(DataType::String),
        "boolean" => return cast_to(DataType::Boolean),
        "binary" => return cast_to(DataType::Binary),
        "date" => return cast_to(DataType::Date),
        "timestamp" => return cast_to(super::typed::timestamp_type()),
        "decimal" => return cast_to(cast::decimal(10, 0)),
        _ => {}
    }
    if name == "window" {
        return time_window(args);
    }
    let cx = &tr.planner.cx;
    for family in [math::call, strings::call, datetime::call, nested::call, jsonfn::call] {
        if let Some(result) = family(name, args, cx) {
            return result;
        }
    }
    Err(refuse(
        format!("the function {name}() is not supported in the tab (UNRESOLVED_ROUTINE)"),
        "docs/sql.md lists the functions the tab runs; rewrite it with those, or run the cell on Spark",
    ))
}

fn higher_order(tr: &Tr<'_>, name: &str, array: &E, lambda: &ast::LambdaFunction) -> SqlResult<Typed> {
    let arr = tr.expr(array)?;
    let DataType::List(elem) = &arr.dtype else {
        return Err(refuse(
            format!("{name}: the first argument must be an array"),
            format!("write {name}(arr, x -> ...)"),
        ));
    };
    let params: Vec<String> = match &lambda.params {
        ast::OneOrManyWithParens::One(p) => vec![p.name.value.clone()],
        ast::OneOrManyWithParens::Many(ps) => ps.iter().map(|p| p.name.value.clone()).collect(),
    };
    if params.len() != 1 {
        return Err(refuse(
            format!("{name} with a lambda of {} arguments (x, i) is not supported in the tab", params.len()),
            "use a lambda of one argument, x -> ...",
        ));
    }
    let mut inner = tr.clone();
    inner.subs = &[];
    inner.grouped = false;
    inner.lambda.push((params[0].clone(), (**elem).clone()));
    let body = inner.expr(&lambda.body).map_err(|e| {
        if e.message.contains("UNRESOLVED_COLUMN") {
            refuse(
                format!("{name}: the lambda may only use its own argument {} in the tab", params[0]),
                "compute other columns' values outside the lambda",
            )
        } else {
            e
        }
    })?;
    match name {
        "transform" => {
            let dtype = DataType::List(Box::new(body.dtype.clone()));
            Ok(Typed::new(arr.expr.list().eval(body.expr), dtype))
        }
        "filter" => {
            let kept = col("").filter(body.expr.fill_null(lit(false)));
            Ok(Typed::new(arr.expr.list().eval(kept), arr.dtype.clone()))
        }
        "exists" | "forall" => {
            // Three-valued: true if any is true; else NULL if any is NULL; else false (forall mirrors it).
            let flags = arr.expr.clone().list().eval(body.expr);
            let (hit, miss) = if name == "exists" { (true, false) } else { (false, true) };
            let any_hit = flags.clone().list().eval(col("").eq(lit(hit))).list().any();
            let any_null = flags.list().eval(col("").is_null()).list().any();
            let e = when(arr.expr.is_null())
                .then(lit(NULL).cast(DataType::Boolean))
                .when(any_hit)
                .then(lit(hit))
                .when(any_null)
                .then(lit(NULL).cast(DataType::Boolean))
                .otherwise(lit(miss));
            Ok(Typed::new(e, DataType::Boolean))
        }
        _ => Err(refuse(
            format!("{name}(arr, lambda) is not supported in the tab"),
            "transform, filter, exists and forall take a lambda here",
        )),
    }
}

/// `window(ts, '10 minutes')`: the tumbling time window a timestamp falls in,
/// as a struct of start and end (windows start at the epoch, as Spark's do).
fn time_window(args: &[Typed]) -> SqlResult<Typed> {
    let usage = || {
        refuse(
            "window(ts, 'duration') takes a timestamp and a duration such as '10 minutes'",
            "write GROUP BY window(ts, '1 hour')",
        )
    };
    let (ts, duration) = match args {
        [ts, d] => (ts, d),
        [_, _, _] | [_, _, _, _] => {
            return Err(refuse(
                "sliding time windows, window(ts, duration, slide), are not supported in the tab",
                "use a tumbling window, window(ts, duration), or date_trunc",
            ));
        }
        _ => return Err(usage()),
    };
    let text = duration.lit_str().ok_or_else(usage)?;
    let (months, days, micros) = super::expr::interval_text(text)?;
    if months != 0 {
        return Err(refuse(
            "window(): a duration in months or years varies in length",
            "use days, hours, minutes or seconds",
        ));
    }
    let d = i64::from(days) * 86_400_000_000 + micros;
    if d <= 0 {
        return Err(usage());
    }
    let t = super::typed::timestamp_type();
    let us = cast::cast(ts.clone(), &t, true)?.expr.cast(DataType::Int64);
    let start = us.clone() - ((us % lit(d)) + lit(d)) % lit(d);
    let end = start.clone() + lit(d);
    let fields = vec![Field::new("start".into(), t.clone()), Field::new("end".into(), t.clone())];
    let e = as_struct(vec![start.cast(t.clone()).alias("start"), end.cast(t.clone()).alias("end")]);
    Ok(Typed::new(e, DataType::Struct(fields)))
}
