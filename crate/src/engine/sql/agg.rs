//! Spark's aggregate functions, as Polars expressions valid in
//! `group_by(..).agg(..)`, in `.over(partition)` and in a global `select`.
//!
//! Spark's answers are followed exactly: sums of doubles are added in row
//! order (Polars' pairwise float sum can differ in the last digit), integer
//! sums fail on overflow (ANSI), percentiles interpolate as Spark does, and
//! an aggregate over no rows is NULL (`count` is 0).

mod hll;
mod moments;
mod pct;

use polars::prelude::*;

use super::typed::{Cx, SqlResult, Typed, bad_args, fail_if, map_columns, refuse};

/// Spark's aggregate `name([DISTINCT] args)` as an expression for
/// `group_by(..).agg(..)` (and for `.over(partition)`), or `None` when the
/// name is not an aggregate.
pub(super) fn aggregate(name: &str, args: &[Typed], distinct: bool, cx: &Cx) -> Option<SqlResult<Typed>> {
    let _ = cx;
    if !is_aggregate(name) {
        return None;
    }
    Some(build(name, args, distinct))
}

/// Whether `name` is an aggregate function.
pub(super) fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count"
            | "count_if"
            | "sum"
            | "avg"
            | "mean"
            | "min"
            | "max"
            | "first"
            | "first_value"
            | "last"
            | "last_value"
            | "any_value"
            | "collect_list"
            | "array_agg"
            | "collect_set"
            | "bool_and"
            | "every"
            | "bool_or"
            | "some"
            | "any"
            | "min_by"
            | "max_by"
            | "stddev"
            | "std"
            | "stddev_samp"
            | "stddev_pop"
            | "variance"
            | "var_samp"
            | "var_pop"
            | "corr"
            | "covar_samp"
            | "covar_pop"
            | "skewness"
            | "kurtosis"
            | "mode"
            | "try_sum"
            | "try_avg"
            | "product"
            | "bit_and"
            | "bit_or"
            | "bit_xor"
            | "median"
            | "percentile"
            | "percentile_cont"
            | "percentile_disc"
            | "percentile_approx"
            | "approx_percentile"
            | "approx_count_distinct"
    )
}

fn build(name: &str, args: &[Typed], distinct: bool) -> SqlResult<Typed> {
    match name {
        "count" => count(args, distinct),
        "percentile" | "percentile_cont" | "percentile_disc" | "median" | "percentile_approx" | "approx_percentile" => {
            pct::percentile(name, args, distinct)
        }
        "approx_count_distinct" => hll::approx_count_distinct(args),
        "min_by" | "max_by" => by_extremum(name, args, distinct),
        "corr" | "covar_samp" | "covar_pop" => covariance(name, args, distinct),
        "first" | "first_value" | "last" | "last_value" | "any_value" => first_last(name, args, distinct),
        // mode(x, deterministic): the smallest of the most frequent values either way.
        "mode" if args.len() == 2 && args[1].lit_bool().is_some() => build(name, &args[..1], distinct),
        _ => {
            let [arg] = args else {
                return Err(bad_args(name, &format!("{name}(expr)")));
            };
            let mut x = rows(arg);
            if distinct {
                x = x.drop_nulls().unique();
            }
            single(name, arg, x)
        }
    }
}

/// One argument aggregates over `x` (the argument's values, one per row).
fn single(name: &str, arg: &Typed, x: Expr) -> SqlResult<Typed> {
    let dtype = arg.dtype.clone();
    let any_rows = x.clone().count().gt(lit(0));
    let or_null = |value: Expr, dtype: DataType| -> Typed {
        Typed::new(when(any_rows.clone()).then(value).otherwise(null(&dtype)), dtype)
    };
    Ok(match name {
        "sum" => sum(name, arg, x, false)?,
        "try_sum" => sum(name, arg, x, true)?,
        "avg" | "mean" | "try_avg" => avg(name, arg, x)?,
        "min" | "max" => {
            orderable(name, arg)?;
            let value = match (name, dtype.is_float()) {
                ("max", true) => {
                    when(x.clone().is_nan().any(true)).then(lit(f64::NAN).cast(dtype.clone())).otherwise(x.max())
                }
                ("max", false) => x.max(),
                _ => x.min(),
            };
            Typed::new(value, dtype)
        }
        "count_if" => {
            boolean(name, arg)?;
            Typed::new(x.cast(DataType::Int64).sum(), DataType::Int64)
        }
        "bool_and" | "every" => {
            boolean(name, arg)?;
            or_null(x.all(true), DataType::Boolean)
        }
        "bool_or" | "some" | "any" => {
            boolean(name, arg)?;
            or_null(x.any(true), DataType::Boolean)
        }
        "collect_list" | "array_agg" => Typed::new(x.drop_nulls().implode(), DataType::List(Box::new(dtype))),
        // Spark's set keeps no order; this one keeps first appearances.
        "collect_set" => Typed::new(x.drop_nulls().unique_stable().implode(), DataType::List(Box::new(dtype))),
        "stddev" | "std" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
            numeric(name, arg)?;
            let value = moments::variance(x, !name.ends_with("_pop"), name.starts_with("std"));
            Typed::new(value, DataType::Float64)
        }
        "skewness" | "kurtosis" => {
            numeric(name, arg)?;
            let x = x.cast(DataType::Float64);
            let value = if name == "skewness" { x.clone().skew(true) } else { x.clone().kurtosis(true, true) };
            // Spark divides by the second central moment: NULL when it is 0.
            let spread = x.clone().var(0).gt(lit(0.0));
            Typed::new(
                when(x.count().gt(lit(0)).and(spread)).then(value).otherwise(null(&DataType::Float64)),
                DataType::Float64,
            )
        }
        "mode" => {
            orderable(name, arg)?;
            // Spark breaks ties arbitrarily; the smallest of the most frequent values is one of its answers.
            let value = x.drop_nulls().mode().sort(SortOptions::default()).first();
            Typed::new(value, dtype)
        }
        "product" => {
            numeric(name, arg)?;
            let x = x.cast(DataType::Float64).drop_nulls();
            or_null(x.product(), DataType::Float64)
        }
        "bit_and" | "bit_or" | "bit_xor" => {
            if !dtype.is_integer() {
                return Err(bad_args(name, &format!("{name}(x) of an integer x")));
            }
            let y = x.drop_nulls();
            let value = match name {
                "bit_and" => y.bitwise_and(),
                "bit_or" => y.bitwise_or(),
                _ => y.bitwise_xor(),
            };
            or_null(value, dtype)
        }
        _ => return Err(refuse(format!("{name} is not supported"), "write another aggregate")),
    })
}

/// `count(*)`, `count(x, ..)` (rows where every x is non-null), and
/// `count(DISTINCT x, ..)`.
fn count(args: &[Typed], distinct: bool) -> SqlResult<Typed> {
    if args.is_empty() {
        return Ok(Typed::new(len().cast(DataType::Int64), DataType::Int64));
    }
    if args.iter().any(|a| a.is_null_literal() && is_constant(&a.expr)) {
        return Ok(Typed::new(lit(0i64), DataType::Int64));
    }
    let all_known = args.iter().map(|a| rows(a).is_not_null()).reduce(|a, b| a.and(b)).unwrap_or_else(|| lit(true));
    let value = match (args, distinct) {
        ([one], true) => rows(one).drop_nulls().n_unique(),
        (_, true) => as_struct(args.iter().map(rows).collect()).filter(all_known).n_unique(),
        ([one], false) => rows(one).count(),
        (_, false) => all_known.cast(DataType::Int64).sum(),
    };
    Ok(Typed::new(value.cast(DataType::Int64), DataType::Int64))
}

/// Spark's sum: integers to bigint (an overflow is an error), floats to
/// double added in row order, decimal(p, s) to decimal(min(38, p + 10), s).
/// `try_sum` is NULL where `sum` overflows.
fn sum(name: &str, arg: &Typed, x: Expr, lenient: bool) -> SqlResult<Typed> {
    Ok(match &arg.dtype {
        DataType::Null => Typed::new(null(&DataType::Float64), DataType::Float64),
        t if t.is_integer() => {
            let total = when(x.clone().count().gt(lit(0)))
                .then(x.cast(DataType::Int128).sum())
                .otherwise(null(&DataType::Int128));
            let bad = total
                .clone()
                .gt(lit(i64::MAX).cast(DataType::Int128))
                .or(total.clone().lt(lit(i64::MIN).cast(DataType::Int128)))
                .fill_null(lit(false));
            if lenient {
                let value = when(bad).then(null(&DataType::Int64)).otherwise(total.cast(DataType::Int64));
                return Ok(Typed::new(value, DataType::Int64));
            }
            let total = Typed::new(total.cast(DataType::Int64), DataType::Int64);
            fail_if(
                total,
                bad,
                "[ARITHMETIC_OVERFLOW] sum overflows bigint. Use try_sum or CAST the argument to DECIMAL(38, 0)",
            )
        }
        t if t.is_float() => Typed::new(ordered_sum(x.cast(DataType::Float64)), DataType::Float64),
        DataType::Decimal(p, s) => {
            let s = s.unwrap_or(0);
            let out = DataType::Decimal(Some((p.unwrap_or(38) + 10).min(38)), Some(s));
            // Widened before summing: Polars keeps the input's precision in a sum.
            let x = x.cast(out.clone());
            let value = when(x.clone().count().gt(lit(0))).then(x.sum()).otherwise(null(&out));
            Typed::new(value.cast(out.clone()), out)
        }
        _ => return Err(bad_args(name, &format!("{name}(x) of a numeric x, e.g. {name}(CAST(x AS DOUBLE))"))),
    })
}

/// The sum of the non-null doubles in row order, NULL when there are none.
fn ordered_sum(x: Expr) -> Expr {
    x.drop_nulls().cum_sum(false).last()
}

/// Spark's avg: a double (the row-order sum over the count) for integers and
/// floats, decimal(min(38, p + 4), min(38, s + 4)) rounded half up for decimals.
fn avg(name: &str, arg: &Typed, x: Expr) -> SqlResult<Typed> {
    Ok(match &arg.dtype {
        DataType::Null => Typed::new(null(&DataType::Float64), DataType::Float64),
        t if t.is_integer() || t.is_float() => {
            let x = x.cast(DataType::Float64);
            let value = ordered_sum(x.clone()) / x.count().cast(DataType::Float64);
            Typed::new(value, DataType::Float64)
        }
        DataType::Decimal(p, s) => {
            let (p, s) = (p.unwrap_or(38), s.unwrap_or(0));
            let (rp, rs) = ((p + 4).min(38), (s + 4).min(38));
            let out = DataType::Decimal(Some(rp), Some(rs));
            let total = x.clone().cast(DataType::Decimal(Some(38), Some(s))).sum();
            let n = x.count().cast(DataType::Int64);
            let value =
                map_columns(vec![total, n], out.clone(), move |c: &mut [Column]| decimal_mean(&c[0], &c[1], s, rp, rs));
            Typed::new(value, out)
        }
        _ => return Err(bad_args(name, &format!("{name}(x) of a numeric x, e.g. {name}(CAST(x AS DOUBLE))"))),
    })
}

/// `sum / n` at scale `to`, rounded half away from zero; NULL when `n` is 0.
fn decimal_mean(sum: &Column, n: &Column, from: usize, precision: usize, to: usize) -> PolarsResult<Column> {
    let sum = sum.as_materialized_series().decimal()?.physical().clone();
    let n = n.as_materialized_series().i64()?.clone();
    let factor = 10i128.checked_pow((to - from) as u32);
    let mut out = Vec::with_capacity(sum.len());
    for (total, n) in sum.iter().zip(n.iter()) {
        out.push(match (total, n, factor) {
            (Some(total), Some(n), Some(factor)) if n > 0 => {
                let scaled = total.checked_mul(factor).ok_or_else(
                    || polars_err!(ComputeError: "[ARITHMETIC_OVERFLOW] avg overflows decimal({precision},{to})"),
                )?;
                Some(div_half_up(scaled, i128::from(n)))
            }
            (Some(_), Some(n), None) if n > 0 => {
                polars_bail!(ComputeError: "[ARITHMETIC_OVERFLOW] avg overflows decimal({precision},{to})")
            }
            _ => None,
        });
    }
    let ca = Int128Chunked::from_iter_options(sum.name().clone(), out.into_iter());
    Ok(ca.into_decimal(Some(precision), to)?.into_series().into_column())
}

/// `a / b` (b > 0) rounded half away from zero.
pub(super) fn div_half_up(a: i128, b: i128) -> i128 {
    let (q, r) = (a / b, a % b);
    if r.unsigned_abs() * 2 >= b.unsigned_abs() { q + a.signum() } else { q }
}

fn first_last(name: &str, args: &[Typed], distinct: bool) -> SqlResult<Typed> {
    let want = format!("{name}(expr[, ignoreNulls])");
    let (arg, ignore_nulls) = match args {
        [arg] => (arg, false),
        [arg, flag] => (arg, flag.lit_bool().ok_or_else(|| bad_args(name, &want))?),
        _ => return Err(bad_args(name, &want)),
    };
    if distinct {
        return Err(refuse(format!("{name}(DISTINCT ..) is not supported"), format!("write {name}(..)")));
    }
    let mut x = rows(arg);
    if ignore_nulls {
        x = x.drop_nulls();
    }
    let value = if name.starts_with("last") { x.last() } else { x.first() };
    Ok(Typed::new(value, arg.dtype.clone()))
}

/// `min_by(x, y)` / `max_by(x, y)`: x on the first row where y is smallest
/// (largest), rows with a NULL y skipped.
fn by_extremum(name: &str, args: &[Typed], distinct: bool) -> SqlResult<Typed> {
    let [x, y] = args else {
        return Err(bad_args(name, &format!("{name}(x, y)")));
    };
    if distinct {
        return Err(refuse(format!("{name}(DISTINCT ..) is not supported"), format!("write {name}(x, y)")));
    }
    orderable(name, y)?;
    let yv = rows(y);
    let options = SortMultipleOptions::default()
        .with_maintain_order(true)
        .with_nulls_last(true)
        .with_order_descending(name == "max_by");
    let found = rows(x).sort_by([yv.clone()], options).first();
    let value = when(yv.count().gt(lit(0))).then(found).otherwise(null(&x.dtype));
    Ok(Typed::new(value, x.dtype.clone()))
}

/// `corr`, `covar_samp`, `covar_pop` over the rows where both are non-null.
fn covariance(name: &str, args: &[Typed], distinct: bool) -> SqlResult<Typed> {
    let [a, b] = args else {
        return Err(bad_args(name, &format!("{name}(x, y)")));
    };
    if distinct {
        return Err(refuse(format!("{name}(DISTINCT ..) is not supported"), format!("write {name}(x, y)")));
    }
    numeric(name, a)?;
    numeric(name, b)?;
    let kind = match name {
        "corr" => moments::Pair::Corr,
        "covar_samp" => moments::Pair::CovarSamp,
        _ => moments::Pair::CovarPop,
    };
    let value = moments::pair(rows(a), rows(b), kind);
    Ok(Typed::new(value, DataType::Float64))
}

/// The argument as one value per row. A constant becomes a column of it (so
/// that it aggregates like Spark's per-row value), and a filtered constant
/// (`count(*) FILTER (WHERE c)`) the constant where `c` holds and NULL elsewhere.
pub(super) fn rows(arg: &Typed) -> Expr {
    if !is_constant(&arg.expr) {
        return arg.expr.clone();
    }
    if let Expr::Filter { input, by } = &arg.expr {
        return when(by.as_ref().clone()).then(input.as_ref().clone()).otherwise(null(&arg.dtype));
    }
    let every_row = int_range(lit(0i64), len(), 1, DataType::Int64).gt_eq(lit(0i64));
    when(every_row).then(arg.expr.clone()).otherwise(null(&arg.dtype))
}

/// Whether `expr` reads no column (a constant, perhaps filtered by one:
/// the filter's predicate is not looked at).
fn is_constant(expr: &Expr) -> bool {
    let body = match expr {
        Expr::Filter { input, .. } => input.as_ref(),
        other => other,
    };
    !body
        .into_iter()
        .any(|e| matches!(e, Expr::Column(_) | Expr::Selector(_) | Expr::Len | Expr::Field(_) | Expr::SubPlan(..)))
}

pub(super) fn null(dtype: &DataType) -> Expr {
    lit(NULL).cast(dtype.clone())
}

fn numeric(name: &str, arg: &Typed) -> SqlResult<()> {
    if arg.is_numeric() || arg.dtype == DataType::Null {
        Ok(())
    } else {
        Err(bad_args(name, &format!("{name} of a numeric expression, e.g. CAST(x AS DOUBLE)")))
    }
}

fn boolean(name: &str, arg: &Typed) -> SqlResult<()> {
    if matches!(arg.dtype, DataType::Boolean | DataType::Null) {
        Ok(())
    } else {
        Err(bad_args(name, &format!("{name}(condition) of a boolean condition, e.g. {name}(x > 0)")))
    }
}

fn orderable(name: &str, arg: &Typed) -> SqlResult<()> {
    if matches!(arg.dtype, DataType::List(_) | DataType::Struct(_) | DataType::Array(..) | DataType::Binary) {
        Err(refuse(
            format!("{name} of an array, struct or binary value is not supported"),
            format!("write {name} of a number, string, date or timestamp"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
