//! Spark's percentiles: `percentile` / `median` / `percentile_cont` (exact,
//! interpolated as Spark does) and `percentile_approx` (Spark's summary is
//! exact on small inputs: the value of rank ceil(p * n)).

use polars::prelude::*;

use super::super::typed::{SqlResult, Typed, bad_args, fail_if, refuse};
use super::{is_constant, null, rows};

/// Spark's default accuracy of `percentile_approx`.
const DEFAULT_ACCURACY: i64 = 10_000;

pub(super) fn percentile(name: &str, args: &[Typed], distinct: bool) -> SqlResult<Typed> {
    if distinct {
        return Err(refuse(format!("{name}(DISTINCT ..) is not supported"), format!("write {name}(..)")));
    }
    match name {
        "median" => {
            let [x] = args else {
                return Err(bad_args(name, "median(x)"));
            };
            exact(name, x, &[0.5], false)
        }
        "percentile" | "percentile_cont" => {
            let want = format!("{name}(x, percentage) with a constant percentage (or array of them)");
            let (x, p) = match args {
                [x, p] if name == "percentile" || !is_constant(&x.expr) => (x, p),
                [p, x] => (x, p),
                [_, _, _] if name == "percentile" => {
                    return Err(refuse(
                        "percentile with a frequency argument is not supported",
                        "write percentile(x, p) over rows repeated by their frequency",
                    ));
                }
                _ => return Err(bad_args(name, &want)),
            };
            let (ps, many) = percentages(p).ok_or_else(|| bad_args(name, &want))?;
            exact(name, x, &ps, many)
        }
        "percentile_disc" => Err(refuse(
            "percentile_disc is not supported",
            "write percentile_approx(x, p), Spark's exact small-data answer is the same element",
        )),
        _ => approx(name, args),
    }
}

/// Spark's `percentile`: over the sorted non-null values, position (n - 1) * p,
/// interpolated linearly between its neighbours.
fn exact(name: &str, x: &Typed, ps: &[f64], many: bool) -> SqlResult<Typed> {
    if !(x.is_numeric() || x.dtype == DataType::Null) {
        return Err(bad_args(name, &format!("{name} of a numeric expression, e.g. CAST(x AS DOUBLE)")));
    }
    let v = rows(x).cast(DataType::Float64).drop_nulls().sort(SortOptions::default());
    let n = v.clone().count().cast(DataType::Float64);
    let one = |p: f64| -> Expr {
        let position = (n.clone() - lit(1.0)) * lit(p);
        let lower = position.clone().floor();
        let higher = position.clone().ceil();
        let at = |i: Expr| v.clone().slice(i.clip_min(lit(0.0)).cast(DataType::Int64), lit(1u32)).first();
        let (lo, hi) = (at(lower.clone()), at(higher.clone()));
        let mix = (higher.clone() - position.clone()) * lo.clone() + (position - lower.clone()) * hi.clone();
        when(higher.eq(lower).or(hi.eq(lo.clone()))).then(lo).otherwise(mix)
    };
    gather(ps, many, one, DataType::Float64)
}

/// Spark's `percentile_approx` where its summary is exact (fewer than
/// accuracy / 2 values): the value of rank ceil(p * n), the smallest for
/// p <= 1 / accuracy and the largest for p >= 1 - 1 / accuracy.
fn approx(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let want = format!("{name}(x, percentage[, accuracy]) with constant percentage and accuracy");
    let (x, p, accuracy) = match args {
        [x, p] => (x, p, DEFAULT_ACCURACY),
        [x, p, a] => (x, p, a.lit_int().ok_or_else(|| bad_args(name, &want))?),
        _ => return Err(bad_args(name, &want)),
    };
    if accuracy <= 0 || accuracy > i64::from(i32::MAX) {
        return Err(bad_args(name, &format!("{name}(x, p, accuracy) with accuracy between 1 and 2147483647")));
    }
    let supported = x.is_numeric() || matches!(x.dtype, DataType::Date | DataType::Datetime(..) | DataType::Null);
    if !supported {
        return Err(bad_args(name, &format!("{name} of a numeric, date or timestamp expression")));
    }
    let (ps, many) = percentages(p).ok_or_else(|| bad_args(name, &want))?;
    let relative_error = 1.0 / accuracy as f64;
    let v = rows(x).drop_nulls().sort(SortOptions::default());
    let n = v.clone().count().cast(DataType::Int64);
    let one = |p: f64| -> Expr {
        let index = if p <= relative_error {
            lit(0i64)
        } else if p >= 1.0 - relative_error {
            n.clone() - lit(1i64)
        } else {
            (n.clone().cast(DataType::Float64) * lit(p)).ceil().cast(DataType::Int64) - lit(1i64)
        };
        v.clone().slice(index.clip_min(lit(0i64)), lit(1u32)).first()
    };
    let value = gather(&ps, many, one, x.dtype.clone())?;
    let bad = (n * lit(2i64)).gt_eq(lit(accuracy));
    Ok(fail_if(
        value,
        bad,
        format!(
            "{name} over {} or more values is approximate in Spark and is not reproduced here: \
             pass a larger accuracy (the third argument, above twice the number of values) or write percentile(x, p)",
            (accuracy + 1) / 2
        ),
    ))
}

/// One percentile, or an array of them.
fn gather(ps: &[f64], many: bool, one: impl Fn(f64) -> Expr, dtype: DataType) -> SqlResult<Typed> {
    if !many {
        let p = ps.first().copied().unwrap_or(0.5);
        return Ok(Typed::new(one(p), dtype));
    }
    let parts: Vec<Expr> = ps.iter().map(|p| one(*p).implode()).collect();
    let out = DataType::List(Box::new(dtype.clone()));
    if parts.is_empty() {
        return Ok(Typed::new(null(&out), out));
    }
    let list = concat_list(parts).map_err(|e| super::super::typed::polars_error(&e))?;
    Ok(Typed::new(list.cast(out.clone()), out))
}

/// The constant percentage(s) of `p`, each in [0, 1], and whether it is an array.
fn percentages(p: &Typed) -> Option<(Vec<f64>, bool)> {
    if !is_constant(&p.expr) || matches!(p.expr, Expr::Filter { .. }) {
        return None;
    }
    let many = matches!(p.dtype, DataType::List(_) | DataType::Array(..));
    let target = if many { DataType::List(Box::new(DataType::Float64)) } else { DataType::Float64 };
    let frame = DataFrame::empty().lazy().select([p.expr.clone().cast(target).alias("p")]).collect().ok()?;
    let column = frame.column("p").ok()?.as_materialized_series().clone();
    let values: Vec<Option<f64>> = if many {
        let list = column.list().ok()?.get_as_series(0)?;
        list.f64().ok()?.iter().collect()
    } else {
        column.f64().ok()?.iter().collect()
    };
    let values: Option<Vec<f64>> = values.into_iter().collect();
    let values = values?;
    if values.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return None;
    }
    Some((values, many))
}
