//! Variance, standard deviation, covariance and correlation as Spark
//! computes them: one pass in row order with its update formulas (Welford's),
//! so that unrounded answers agree to the last digit. Rows where an argument
//! is NULL are skipped; no rows is NULL, and so is a sample statistic of one
//! row (Spark divides by n - 1 = 0 and answers NULL).

use polars::prelude::*;

/// `var_samp`, `var_pop`, `stddev_samp`, `stddev_pop` of the doubles `x`.
pub(super) fn variance(x: Expr, sample: bool, root: bool) -> Expr {
    let fold = move |c: Column| -> PolarsResult<Column> {
        let (mut n, mut avg, mut m2) = (0.0f64, 0.0f64, 0.0f64);
        for v in c.f64()?.iter().flatten() {
            let new_n = n + 1.0;
            let delta = v - avg;
            let delta_n = delta / new_n;
            avg += delta_n;
            m2 += delta * (delta - delta_n);
            n = new_n;
        }
        let value = if n == 0.0 || (sample && n == 1.0) {
            None
        } else {
            let var = if sample { m2 / (n - 1.0) } else { m2 / n };
            Some(if root { var.sqrt() } else { var })
        };
        Ok(Column::new(c.name().clone(), [value]))
    };
    x.cast(DataType::Float64).agg_with_fmt_str(fold, float_field, "spark_variance")
}

#[derive(Clone, Copy)]
pub(super) enum Pair {
    CovarSamp,
    CovarPop,
    Corr,
}

/// `covar_samp`, `covar_pop` and `corr` of the doubles `x` and `y`.
pub(super) fn pair(x: Expr, y: Expr, kind: Pair) -> Expr {
    let fold = move |c: Column| -> PolarsResult<Column> {
        let fields = c.struct_()?.fields_as_series();
        let (xs, ys) = match fields.as_slice() {
            [xs, ys] => (xs.f64()?.clone(), ys.f64()?.clone()),
            _ => polars_bail!(ComputeError: "covariance of a pair expects two fields"),
        };
        let (mut n, mut x_avg, mut y_avg, mut ck, mut x_mk, mut y_mk) = (0.0f64, 0.0, 0.0, 0.0, 0.0, 0.0);
        for (x, y) in xs.iter().zip(ys.iter()) {
            let (Some(x), Some(y)) = (x, y) else {
                continue;
            };
            let new_n = n + 1.0;
            let dx = x - x_avg;
            let dx_n = dx / new_n;
            let dy = y - y_avg;
            let dy_n = dy / new_n;
            x_avg += dx_n;
            y_avg += dy_n;
            ck += dx * (y - y_avg);
            x_mk += dx * (x - x_avg);
            y_mk += dy * (y - y_avg);
            n = new_n;
        }
        let value = match kind {
            _ if n == 0.0 => None,
            Pair::CovarPop => Some(ck / n),
            _ if n == 1.0 => None,
            Pair::CovarSamp => Some(ck / (n - 1.0)),
            Pair::Corr => Some(ck / (x_mk * y_mk).sqrt()),
        };
        Ok(Column::new(c.name().clone(), [value]))
    };
    let both = as_struct(vec![x.cast(DataType::Float64).alias("x"), y.cast(DataType::Float64).alias("y")]);
    both.agg_with_fmt_str(fold, float_field, "spark_covariance")
}

fn float_field(_: &Schema, field: &Field) -> PolarsResult<Field> {
    Ok(Field::new(field.name().clone(), DataType::Float64))
}
