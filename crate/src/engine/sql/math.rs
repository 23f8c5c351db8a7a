//! Spark's math functions (ANSI mode): rounding, logarithms, trigonometry,
//! modulo, greatest/least, width_bucket and the try_ arithmetic.
//!
//! Element-wise work that must match Java bit for bit (NULL for the log of
//! a non-positive number, saturating double-to-long, truncated remainders,
//! decimal rounding of a double's shortest representation) runs as column
//! functions over whole columns; a constant argument broadcasts.

mod round;

/// Spark's CAST of a double to a decimal (digits as Java prints them, half up).
#[allow(unused_imports)]
pub(super) use round::double_to_decimal;

use polars::prelude::*;

use super::typed::{Cx, Lit, SqlResult, Typed, bad_args, fail_if, map_columns, refuse};

/// Spark's `name(args)` for this family, or `None` when the name is not one of its functions.
pub(super) fn call(name: &str, args: &[Typed], cx: &Cx) -> Option<SqlResult<Typed>> {
    let _ = cx;
    Some(match name {
        "round" | "bround" => round::round(name, args),
        "floor" | "ceil" | "ceiling" => round::floor_ceil(name, args),
        "abs" => abs(args),
        "negative" => negative(args),
        "positive" => one_numeric(name, args).cloned(),
        "sqrt" => unary(name, args, |v| Some(v.sqrt())),
        "cbrt" => unary(name, args, |v| Some(v.cbrt())),
        "exp" => unary(name, args, |v| Some(v.exp())),
        "expm1" => unary(name, args, |v| Some(v.exp_m1())),
        "ln" => unary(name, args, |v| (v > 0.0).then(|| v.ln())),
        "log10" => unary(name, args, |v| (v > 0.0).then(|| v.log10())),
        "log2" => unary(name, args, |v| (v > 0.0).then(|| v.ln() / 2f64.ln())),
        "log1p" => unary(name, args, |v| (v > -1.0).then(|| v.ln_1p())),
        "log" if args.len() == 1 => unary(name, args, |v| (v > 0.0).then(|| v.ln())),
        "log" => binary(name, args, |b, x| (b > 0.0 && x > 0.0).then(|| x.ln() / b.ln())),
        "pow" | "power" => binary(name, args, |x, y| Some(x.powf(y))),
        "hypot" => binary(name, args, |x, y| Some(x.hypot(y))),
        "atan2" => binary(name, args, |y, x| Some(y.atan2(x))),
        "sin" => unary(name, args, |v| Some(v.sin())),
        "cos" => unary(name, args, |v| Some(v.cos())),
        "tan" => unary(name, args, |v| Some(v.tan())),
        "cot" => unary(name, args, |v| Some(1.0 / v.tan())),
        "sec" => unary(name, args, |v| Some(1.0 / v.cos())),
        "csc" => unary(name, args, |v| Some(1.0 / v.sin())),
        "asin" => unary(name, args, |v| Some(v.asin())),
        "acos" => unary(name, args, |v| Some(v.acos())),
        "atan" => unary(name, args, |v| Some(v.atan())),
        "sinh" => unary(name, args, |v| Some(v.sinh())),
        "cosh" => unary(name, args, |v| Some(v.cosh())),
        "tanh" => unary(name, args, |v| Some(v.tanh())),
        "asinh" => unary(name, args, |v| Some(v.asinh())),
        "acosh" => unary(name, args, |v| Some(v.acosh())),
        "atanh" => unary(name, args, |v| Some(v.atanh())),
        "degrees" => unary(name, args, |v| Some(v.to_degrees())),
        "radians" => unary(name, args, |v| Some(v.to_radians())),
        "sign" | "signum" => unary(name, args, |v| Some(if v == 0.0 || v.is_nan() { v } else { v.signum() })),
        "pi" | "e" => constant(name, args),
        "mod" => modulo(name, args, false, false),
        "pmod" => modulo(name, args, true, false),
        "try_mod" => modulo(name, args, false, true),
        "div" => int_div(name, args),
        "try_divide" => try_divide(args),
        "try_add" | "try_subtract" | "try_multiply" => try_arith(name, args),
        "greatest" | "least" => extreme(name, args),
        "width_bucket" => width_bucket(args),
        "factorial" => factorial(args),
        "nanvl" => nanvl(args),
        "isnan" => isnan(args),
        "bin" => bin(args),
        "rand" | "random" | "randn" | "uuid" | "shuffle" => Err(refuse(
            format!("{name}() is not supported: its answer is random"),
            "write a deterministic expression, e.g. hash(..) of a key for a stable pseudo-random order",
        )),
        _ => return None,
    })
}

/// The single numeric (or NULL) argument.
fn one_numeric<'a>(name: &str, args: &'a [Typed]) -> SqlResult<&'a Typed> {
    match args {
        [x] if x.is_numeric() || x.dtype == DataType::Null => Ok(x),
        _ => Err(bad_args(name, &format!("{name}(x) of a numeric x"))),
    }
}

fn numerics<'a, const N: usize>(name: &str, args: &'a [Typed], want: &str) -> SqlResult<&'a [Typed; N]> {
    let args: &[Typed; N] = args.try_into().map_err(|_| bad_args(name, want))?;
    if args.iter().all(|a| a.is_numeric() || a.dtype == DataType::Null) {
        Ok(args)
    } else {
        Err(bad_args(name, &format!("{want} of numeric arguments, e.g. CAST(x AS DOUBLE)")))
    }
}

/// The `i`th value of a column of length `n` or of a constant (length 1).
fn at<T: Copy>(values: &[Option<T>], i: usize) -> Option<T> {
    if values.len() == 1 { values[0] } else { values.get(i).copied().flatten() }
}

fn rows(columns: &[Column]) -> usize {
    columns.iter().map(|c| c.len()).max().unwrap_or(0)
}

/// Doubles in, a double out, NULL in NULL out.
pub(super) fn zip_f64(inputs: Vec<Expr>, f: impl Fn(&[f64]) -> Option<f64> + Send + Sync + 'static) -> Expr {
    let inputs = inputs.into_iter().map(|e| e.cast(DataType::Float64)).collect();
    map_columns(inputs, DataType::Float64, move |c: &mut [Column]| {
        let n = rows(c);
        let cols: Vec<Vec<Option<f64>>> =
            c.iter().map(|c| c.f64().map(|ca| ca.iter().collect())).collect::<PolarsResult<_>>()?;
        let mut args = vec![0.0; cols.len()];
        let out: Float64Chunked = (0..n)
            .map(|i| {
                for (k, col) in cols.iter().enumerate() {
                    args[k] = at(col, i)?;
                }
                f(&args)
            })
            .collect();
        Ok(out.with_name(c[0].name().clone()).into_column())
    })
}

/// Integers in (as bigint), `dtype` out; `f` may fail the query.
pub(super) fn zip_i64(
    inputs: Vec<Expr>,
    dtype: DataType,
    f: impl Fn(&[i64]) -> PolarsResult<Option<i64>> + Send + Sync + 'static,
) -> Expr {
    let inputs = inputs.into_iter().map(|e| e.cast(DataType::Int64)).collect();
    let out_type = dtype.clone();
    map_columns(inputs, dtype, move |c: &mut [Column]| {
        let n = rows(c);
        let cols: Vec<Vec<Option<i64>>> =
            c.iter().map(|c| c.i64().map(|ca| ca.iter().collect())).collect::<PolarsResult<_>>()?;
        let mut args = vec![0; cols.len()];
        let mut out = Vec::with_capacity(n);
        'row: for i in 0..n {
            for (k, col) in cols.iter().enumerate() {
                match at(col, i) {
                    Some(v) => args[k] = v,
                    None => {
                        out.push(None);
                        continue 'row;
                    }
                }
            }
            out.push(f(&args)?);
        }
        let out = Int64Chunked::from_iter_options(c[0].name().clone(), out.into_iter());
        Ok(out.into_series().strict_cast(&out_type)?.into_column())
    })
}

fn unary(name: &str, args: &[Typed], f: fn(f64) -> Option<f64>) -> SqlResult<Typed> {
    let x = one_numeric(name, args)?;
    Ok(Typed::new(zip_f64(vec![x.expr.clone()], move |v| f(v[0])), DataType::Float64))
}

fn binary(name: &str, args: &[Typed], f: fn(f64, f64) -> Option<f64>) -> SqlResult<Typed> {
    let [a, b] = numerics::<2>(name, args, &format!("{name}(x, y)"))?;
    let expr = zip_f64(vec![a.expr.clone(), b.expr.clone()], move |v| f(v[0], v[1]));
    Ok(Typed::new(expr, DataType::Float64))
}

fn constant(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    if !args.is_empty() {
        return Err(bad_args(name, &format!("{name}()")));
    }
    let v = if name == "pi" { std::f64::consts::PI } else { std::f64::consts::E };
    Ok(Typed::constant(Lit::Float(v)))
}

fn is_int(t: &DataType) -> bool {
    matches!(t, DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64)
}

/// The narrowest of Spark's integer types holding both.
fn wider_int(a: &DataType, b: &DataType) -> DataType {
    let rank = |t: &DataType| match t {
        DataType::Int8 => 1,
        DataType::Int16 => 2,
        DataType::Int32 => 3,
        _ => 4,
    };
    if rank(a) >= rank(b) { a.clone() } else { b.clone() }
}

fn int_range_of(t: &DataType) -> (i64, i64) {
    match t {
        DataType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
        DataType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
        DataType::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

fn overflow(what: &str) -> PolarsError {
    polars_err!(ComputeError: "[ARITHMETIC_OVERFLOW] {} caused overflow. Use 'try_' functions to tolerate overflow and return NULL instead", what)
}

fn abs(args: &[Typed]) -> SqlResult<Typed> {
    let x = one_numeric("abs", args)?;
    if is_int(&x.dtype) {
        let (min, _) = int_range_of(&x.dtype);
        let expr = zip_i64(vec![x.expr.clone()], x.dtype.clone(), move |v| {
            if v[0] == min { Err(overflow("abs")) } else { Ok(Some(v[0].abs())) }
        });
        return Ok(Typed::new(expr, x.dtype.clone()));
    }
    if x.dtype == DataType::Null {
        return Ok(x.clone());
    }
    Ok(Typed::new(x.expr.clone().abs(), x.dtype.clone()))
}

fn negative(args: &[Typed]) -> SqlResult<Typed> {
    let x = one_numeric("negative", args)?;
    if is_int(&x.dtype) {
        let (min, _) = int_range_of(&x.dtype);
        let expr = zip_i64(vec![x.expr.clone()], x.dtype.clone(), move |v| {
            if v[0] == min { Err(overflow("negative")) } else { Ok(Some(-v[0])) }
        });
        return Ok(Typed::new(expr, x.dtype.clone()));
    }
    if x.dtype == DataType::Null {
        return Ok(x.clone());
    }
    Ok(Typed::new((lit(0).cast(x.dtype.clone()) - x.expr.clone()).cast(x.dtype.clone()), x.dtype.clone()))
}

/// `mod` / `%` (truncated, the sign of the dividend), `pmod` (never
/// negative for a positive divisor), `try_mod` (NULL for a zero divisor).
fn modulo(name: &str, args: &[Typed], positive: bool, lenient: bool) -> SqlResult<Typed> {
    let [a, b] = numerics::<2>(name, args, &format!("{name}(x, y)"))?;
    let zero_message =
        "[REMAINDER_BY_ZERO] Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead";
    if is_int(&a.dtype) && is_int(&b.dtype) {
        let dtype = wider_int(&a.dtype, &b.dtype);
        let expr = zip_i64(vec![a.expr.clone(), b.expr.clone()], dtype.clone(), move |v| {
            let (x, n) = (v[0], v[1]);
            if n == 0 {
                return if lenient { Ok(None) } else { Err(polars_err!(ComputeError: "{}", zero_message)) };
            }
            let r = x.wrapping_rem(n);
            Ok(Some(if positive && r < 0 { r.wrapping_add(n).wrapping_rem(n) } else { r }))
        });
        return Ok(Typed::new(expr, dtype));
    }
    let floats = |t: &DataType| t.is_float() || is_int(t) || *t == DataType::Null;
    if !(floats(&a.dtype) && floats(&b.dtype)) {
        return Err(refuse(
            format!("{name} of a decimal is not supported"),
            format!("write {name}(CAST(x AS DOUBLE), y) or cast both to an integer type"),
        ));
    }
    let (x, n) = (a.expr.clone().cast(DataType::Float64), b.expr.clone().cast(DataType::Float64));
    let value = zip_f64(vec![x, n.clone()], move |v| {
        let (x, n) = (v[0], v[1]);
        if n == 0.0 {
            return None;
        }
        let r = x % n;
        Some(if positive && r < 0.0 { (r + n) % n } else { r })
    });
    let value = Typed::new(value, DataType::Float64);
    if lenient {
        return Ok(value);
    }
    Ok(fail_if(value, n.eq(lit(0.0)).fill_null(lit(false)), zero_message))
}

/// `a DIV b`: integer division truncated toward zero, as bigint.
pub(super) fn int_div(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let [a, b] = numerics::<2>(name, args, "a DIV b")?;
    if !(is_int(&a.dtype) || a.dtype == DataType::Null) || !(is_int(&b.dtype) || b.dtype == DataType::Null) {
        return Err(refuse(
            "DIV of a decimal or floating-point number is not supported",
            "write CAST(FLOOR(a / b) AS BIGINT) (for positive operands), or DIV of integers",
        ));
    }
    let expr = zip_i64(vec![a.expr.clone(), b.expr.clone()], DataType::Int64, |v| {
        if v[1] == 0 {
            return Err(
                polars_err!(ComputeError: "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead"),
            );
        }
        v[0].checked_div(v[1]).map(Some).ok_or_else(|| overflow("integer divide"))
    });
    Ok(Typed::new(expr, DataType::Int64))
}

fn try_divide(args: &[Typed]) -> SqlResult<Typed> {
    let [a, b] = numerics::<2>("try_divide", args, "try_divide(x, y)")?;
    if matches!(a.dtype, DataType::Decimal(..)) || matches!(b.dtype, DataType::Decimal(..)) {
        return Err(refuse(
            "try_divide of a decimal is not supported",
            "write try_divide(CAST(x AS DOUBLE), y), or x / NULLIF(y, 0)",
        ));
    }
    let expr = zip_f64(vec![a.expr.clone(), b.expr.clone()], |v| (v[1] != 0.0).then(|| v[0] / v[1]));
    Ok(Typed::new(expr, DataType::Float64))
}

/// `try_add` / `try_subtract` / `try_multiply` of numbers: NULL on overflow.
fn try_arith(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let [a, b] = numerics::<2>(name, args, &format!("{name}(x, y) of two numbers"))?;
    let int_like = |t: &DataType| is_int(t) || *t == DataType::Null;
    let op = match name {
        "try_add" => 0,
        "try_subtract" => 1,
        _ => 2,
    };
    if int_like(&a.dtype) && int_like(&b.dtype) {
        let dtype = if a.dtype == DataType::Null {
            wider_int(&b.dtype, &DataType::Int32)
        } else if b.dtype == DataType::Null {
            wider_int(&a.dtype, &DataType::Int32)
        } else {
            wider_int(&a.dtype, &b.dtype)
        };
        let (min, max) = int_range_of(&dtype);
        let expr = zip_i64(vec![a.expr.clone(), b.expr.clone()], dtype.clone(), move |v| {
            let r = match op {
                0 => v[0].checked_add(v[1]),
                1 => v[0].checked_sub(v[1]),
                _ => v[0].checked_mul(v[1]),
            };
            Ok(r.filter(|r| (min..=max).contains(r)))
        });
        return Ok(Typed::new(expr, dtype));
    }
    let floats = |t: &DataType| t.is_float() || int_like(t);
    if !(floats(&a.dtype) && floats(&b.dtype)) {
        return Err(refuse(
            format!("{name} of a decimal is not supported"),
            format!("write {name}(CAST(x AS DOUBLE), y), or the plain operator"),
        ));
    }
    let dtype = if a.dtype == DataType::Float32 && b.dtype == DataType::Float32 {
        DataType::Float32
    } else {
        DataType::Float64
    };
    let expr = zip_f64(vec![a.expr.clone(), b.expr.clone()], move |v| {
        Some(match op {
            0 => v[0] + v[1],
            1 => v[0] - v[1],
            _ => v[0] * v[1],
        })
    });
    Ok(Typed::new(expr.cast(dtype.clone()), dtype))
}

/// Spark's common type of `greatest` / `least` arguments.
fn common_type(types: &[&DataType]) -> Option<DataType> {
    let known: Vec<&DataType> = types.iter().copied().filter(|t| **t != DataType::Null).collect();
    let Some(first) = known.first() else {
        return Some(DataType::Null);
    };
    if known.iter().all(|t| t == first) {
        return Some((*first).clone());
    }
    let numeric = |t: &DataType| is_int(t) || t.is_float() || matches!(t, DataType::Decimal(..));
    if known.iter().all(|t| numeric(t)) {
        if known.iter().any(|t| **t == DataType::Float64) {
            return Some(DataType::Float64);
        }
        if known.iter().any(|t| t.is_float()) {
            let decimal = known.iter().any(|t| matches!(t, DataType::Decimal(..)));
            return Some(if decimal { DataType::Float64 } else { DataType::Float32 });
        }
        if known.iter().all(|t| is_int(t)) {
            return known.iter().copied().cloned().reduce(|a, b| wider_int(&a, &b));
        }
        // Decimals, with integers as decimal(3|5|10|20, 0): the widest integer and fraction parts.
        let (mut whole, mut frac) = (0usize, 0usize);
        for t in &known {
            let (p, s) = match t {
                DataType::Decimal(p, s) => (p.unwrap_or(38), s.unwrap_or(0)),
                DataType::Int8 => (3, 0),
                DataType::Int16 => (5, 0),
                DataType::Int32 => (10, 0),
                _ => (20, 0),
            };
            whole = whole.max(p - s);
            frac = frac.max(s);
        }
        if whole + frac > 38 {
            return None;
        }
        return Some(DataType::Decimal(Some(whole + frac), Some(frac)));
    }
    let temporal = |t: &DataType| matches!(t, DataType::Date | DataType::Datetime(..));
    if known.iter().all(|t| temporal(t)) {
        return known.iter().find(|t| matches!(t, DataType::Datetime(..))).map(|t| (*t).clone());
    }
    None
}

/// `greatest` / `least`: the largest (smallest) non-null argument; a NaN is
/// larger than any number, as in Spark.
fn extreme(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    if args.len() < 2 {
        return Err(bad_args(name, &format!("{name}(x, y, ...) with at least two arguments")));
    }
    let types: Vec<&DataType> = args.iter().map(|a| &a.dtype).collect();
    let dtype = common_type(&types).ok_or_else(|| {
        refuse(
            format!("{name} of arguments of different types is not supported"),
            format!("CAST the arguments of {name} to one type"),
        )
    })?;
    let inputs: Vec<Expr> = args.iter().map(|a| a.expr.clone().cast(dtype.clone())).collect();
    if dtype.is_float() {
        let largest = name == "greatest";
        let expr = zip_nullable_f64(inputs, move |values| {
            let mut best: Option<f64> = None;
            for v in values.iter().flatten() {
                best = Some(match best {
                    None => *v,
                    Some(b) => {
                        let v_wins = if largest { total_gt(*v, b) } else { total_gt(b, *v) };
                        if v_wins { *v } else { b }
                    }
                });
            }
            best
        });
        return Ok(Typed::new(expr.cast(dtype.clone()), dtype));
    }
    let greatest = name == "greatest";
    let mut inputs = inputs.into_iter();
    let first = inputs.next().unwrap_or_else(|| lit(NULL));
    let expr = inputs.fold(first, |best, next| {
        let better = if greatest { next.clone().gt(best.clone()) } else { next.clone().lt(best.clone()) };
        let take = next.clone().is_not_null().and(best.clone().is_null().or(better));
        when(take).then(next).otherwise(best)
    });
    Ok(Typed::new(expr, dtype))
}

/// `a > b` with NaN above every number.
fn total_gt(a: f64, b: f64) -> bool {
    match (a.is_nan(), b.is_nan()) {
        (true, false) => true,
        (_, true) => false,
        _ => a > b,
    }
}

/// Doubles in (NULLs passed on), a double out.
fn zip_nullable_f64(inputs: Vec<Expr>, f: impl Fn(&[Option<f64>]) -> Option<f64> + Send + Sync + 'static) -> Expr {
    let inputs = inputs.into_iter().map(|e| e.cast(DataType::Float64)).collect();
    map_columns(inputs, DataType::Float64, move |c: &mut [Column]| {
        let n = rows(c);
        let cols: Vec<Vec<Option<f64>>> =
            c.iter().map(|c| c.f64().map(|ca| ca.iter().collect())).collect::<PolarsResult<_>>()?;
        let mut args = vec![None; cols.len()];
        let out: Float64Chunked = (0..n)
            .map(|i| {
                for (k, col) in cols.iter().enumerate() {
                    args[k] = at(col, i);
                }
                f(&args)
            })
            .collect();
        Ok(out.with_name(c[0].name().clone()).into_column())
    })
}

/// Spark's `width_bucket(v, min, max, n)`.
fn width_bucket(args: &[Typed]) -> SqlResult<Typed> {
    let [v, lo, hi, n] = numerics::<4>("width_bucket", args, "width_bucket(value, min, max, buckets)")?;
    let inputs = vec![
        v.expr.clone().cast(DataType::Float64),
        lo.expr.clone().cast(DataType::Float64),
        hi.expr.clone().cast(DataType::Float64),
        n.expr.clone().cast(DataType::Int64).cast(DataType::Float64),
    ];
    let expr = zip_f64(inputs, |a| {
        let (value, min, max, n) = (a[0], a[1], a[2], a[3] as i64);
        let invalid = n <= 0 || n == i64::MAX || value.is_nan() || min == max || !min.is_finite() || !max.is_finite();
        if invalid {
            return None;
        }
        let (lower, upper) = (min.min(max), min.max(max));
        let bucket = if min < max {
            if value < lower {
                0
            } else if value >= upper {
                n + 1
            } else {
                (n as f64 * (value - lower) / (upper - lower)) as i64 + 1
            }
        } else if value > upper {
            0
        } else if value <= lower {
            n + 1
        } else {
            (n as f64 * (upper - value) / (upper - lower)) as i64 + 1
        };
        Some(bucket as f64)
    });
    Ok(Typed::new(expr.cast(DataType::Int64), DataType::Int64))
}

fn factorial(args: &[Typed]) -> SqlResult<Typed> {
    let x = match args {
        [x] if is_int(&x.dtype) || x.dtype == DataType::Null => x,
        _ => return Err(bad_args("factorial", "factorial(n) of an integer n")),
    };
    let expr = zip_i64(vec![x.expr.clone()], DataType::Int64, |v| {
        Ok((0..=20).contains(&v[0]).then(|| (1..=v[0]).product::<i64>()))
    });
    Ok(Typed::new(expr, DataType::Int64))
}

fn nanvl(args: &[Typed]) -> SqlResult<Typed> {
    let [a, b] = numerics::<2>("nanvl", args, "nanvl(x, y)")?;
    let dtype = if a.dtype == DataType::Float32 && b.dtype == DataType::Float32 {
        DataType::Float32
    } else {
        DataType::Float64
    };
    let expr = zip_nullable_f64(vec![a.expr.clone(), b.expr.clone()], |v| match v[0] {
        Some(x) if x.is_nan() => v[1],
        other => other,
    });
    Ok(Typed::new(expr.cast(dtype.clone()), dtype))
}

fn isnan(args: &[Typed]) -> SqlResult<Typed> {
    let x = one_numeric("isnan", args)?;
    let expr = if x.dtype.is_float() {
        x.expr.clone().is_nan().fill_null(lit(false))
    } else {
        x.expr.clone().is_null().and(lit(false))
    };
    Ok(Typed::new(expr, DataType::Boolean))
}

/// `bin(n)`: the two's complement bits of a bigint, without leading zeros.
fn bin(args: &[Typed]) -> SqlResult<Typed> {
    let x = match args {
        [x] if is_int(&x.dtype) || x.dtype == DataType::Null => x,
        _ => return Err(bad_args("bin", "bin(n) of an integer n")),
    };
    let expr = map_columns(vec![x.expr.clone().cast(DataType::Int64)], DataType::String, |c: &mut [Column]| {
        let out: StringChunked = c[0].i64()?.iter().map(|v| v.map(|v| format!("{:b}", v as u64))).collect();
        Ok(out.with_name(c[0].name().clone()).into_column())
    });
    Ok(Typed::new(expr, DataType::String))
}

#[cfg(test)]
mod tests;
