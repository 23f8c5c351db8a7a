//! Arithmetic and comparison operators with Spark's result types: integer
//! overflow and division by zero fail (ANSI), `/` is a double (or a decimal
//! with Spark's precision rules), `%` keeps the dividend's sign.

use polars::prelude::*;
use sqlparser::ast::{BinaryOperator as Op, Expr as E};

use super::cast::{self, common, is_integer, is_numeric, widen};
use super::expr::{Tr, mismatch};
use super::func;
use super::typed::{Lit, SqlResult, Typed, fail_if, refuse, timestamp_type};

/// The result type and value of `a op b` for arithmetic and comparisons.
pub(crate) fn arith(tr: &Tr<'_>, op: &Op, a: Typed, b: Typed, l: &E, r: &E) -> SqlResult<Typed> {
    use DataType::*;
    let _ = tr;
    let cmp = |f: fn(Expr, Expr) -> Expr, a: Typed, b: Typed| -> SqlResult<Typed> {
        let t = common(&a.dtype, &b.dtype).ok_or_else(|| mismatch(&format!("{l} {op} {r}"), &a.dtype, &b.dtype))?;
        Ok(Typed::new(f(widen(a, &t)?.expr, widen(b, &t)?.expr), Boolean))
    };
    match op {
        Op::Eq => return cmp(|x, y| x.eq(y), a, b),
        Op::NotEq => return cmp(|x, y| x.neq(y), a, b),
        Op::Lt => return cmp(|x, y| x.lt(y), a, b),
        Op::LtEq => return cmp(|x, y| x.lt_eq(y), a, b),
        Op::Gt => return cmp(|x, y| x.gt(y), a, b),
        Op::GtEq => return cmp(|x, y| x.gt_eq(y), a, b),
        Op::Spaceship => return cmp(|x, y| x.eq_missing(y), a, b),
        _ => {}
    }
    // date + n days, date - n days
    if matches!(a.dtype, Date) && is_integer(&b.dtype) && matches!(op, Op::Plus | Op::Minus) {
        let name = if matches!(op, Op::Plus) { "date_add" } else { "date_sub" };
        return func::family(tr, name, &[a, b]);
    }
    if matches!(a.dtype, Datetime(..)) && matches!(b.dtype, Datetime(..)) && matches!(op, Op::Minus) {
        let t = timestamp_type();
        let d = widen(a, &t)?.expr - widen(b, &t)?.expr;
        return Ok(Typed::new(d.cast(Duration(TimeUnit::Microseconds)), Duration(TimeUnit::Microseconds)));
    }
    if matches!(a.dtype, Date) && matches!(b.dtype, Date) && matches!(op, Op::Minus) {
        return Err(refuse(
            "date - date is an interval, which the tab does not support",
            "use datediff(end, start) for the number of days",
        ));
    }
    let name = |op: &Op| format!("{l} {op} {r}");
    // Strings in arithmetic are read as doubles (Spark casts them).
    let as_number = |s: Typed, other: &DataType| -> SqlResult<Typed> {
        if s.dtype != String {
            return Ok(s);
        }
        // With ANSI off Spark reads them as doubles whatever the other side.
        let to = if is_integer(other) && super::ansi::session_ansi() { Int64 } else { Float64 };
        cast::cast(s, &to, true)
    };
    let (a_type, b_type) = (a.dtype.clone(), b.dtype.clone());
    let a = as_number(a, &b_type)?;
    let b = as_number(b, &a_type)?;
    if !(is_numeric(&a.dtype) || a.dtype == Null) || !(is_numeric(&b.dtype) || b.dtype == Null) {
        return Err(mismatch(&name(op), &a.dtype, &b.dtype));
    }
    let t = common(&a.dtype, &b.dtype).ok_or_else(|| mismatch(&name(op), &a.dtype, &b.dtype))?;
    let t = if t == Null { Int32 } else { t };
    let place = place_of(l);
    let zero_check = |value: Typed, divisor: &Expr| {
        fail_if(
            value,
            divisor.clone().eq(lit(0)),
            format!(
                "[DIVIDE_BY_ZERO] Division by zero in {}{place}. Use try_divide to tolerate a divisor of 0 and return NULL instead",
                name(op)
            ),
        )
    };
    match op {
        Op::Divide => {
            if let (Decimal(..), _) | (_, Decimal(..)) = (&a.dtype, &b.dtype)
                && !matches!(t, Float64 | Float32)
            {
                let (p1, s1) = lit_ps(&a);
                let (p2, s2) = lit_ps(&b);
                let (p, s) = adjust(p1 - s1 + s2 + (6usize).max(s1 + p2 + 1), (6usize).max(s1 + p2 + 1));
                let divisor = b.expr.clone().cast(Float64);
                let q = a.expr.cast(Float64) / divisor.clone();
                let v = Typed::new(
                    q.round(s as u32, RoundMode::HalfAwayFromZero).cast(cast::decimal(p, s)),
                    cast::decimal(p, s),
                );
                return Ok(zero_check(v, &divisor));
            }
            let divisor = b.expr.clone().cast(Float64);
            let v = Typed::new(a.expr.cast(Float64) / divisor.clone(), Float64);
            Ok(zero_check(v, &divisor))
        }
        Op::Plus | Op::Minus | Op::Multiply => {
            if let Decimal(..) = t {
                let (p1, s1) = lit_ps(&a);
                let (p2, s2) = lit_ps(&b);
                let (p, s) = if matches!(op, Op::Multiply) {
                    adjust(p1 + p2 + 1, s1 + s2)
                } else {
                    let s = s1.max(s2);
                    adjust((p1 - s1).max(p2 - s2) + s + 1, s)
                };
                let to = cast::decimal(p, s);
                let x = a.expr.cast(to.clone());
                let y = b.expr.cast(to.clone());
                let e = match op {
                    Op::Plus => x + y,
                    Op::Minus => x - y,
                    _ => a_mul_decimal(x, y, &to),
                };
                return Ok(Typed::new(e.cast(to.clone()), to));
            }
            let x = a.expr.cast(t.clone());
            let y = b.expr.cast(t.clone());
            if matches!(t, Int32 | Int16 | Int8 | Int64) {
                // Exact in a wider type (Int64, or Int128 for bigint), checked against the
                // result type (ANSI overflow), then narrowed: never an overflow inside Polars.
                let wide = if t == Int64 { Int128 } else { Int64 };
                let (wx, wy) = (x.cast(wide.clone()), y.cast(wide.clone()));
                let w = match op {
                    Op::Plus => wx + wy,
                    Op::Minus => wx - wy,
                    _ => wx * wy,
                };
                let (lo, hi): (i128, i128) = match t {
                    Int8 => (i128::from(i8::MIN), i128::from(i8::MAX)),
                    Int16 => (i128::from(i16::MIN), i128::from(i16::MAX)),
                    Int32 => (i128::from(i32::MIN), i128::from(i32::MAX)),
                    _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
                };
                let bad = w.clone().lt(lit(lo).cast(wide.clone())).or(w.clone().gt(lit(hi).cast(wide.clone())));
                let e = when(bad.clone()).then(lit(NULL).cast(t.clone())).otherwise(w.cast(t.clone()));
                let v = Typed::new(e, t.clone());
                return Ok(fail_if(
                    v,
                    bad,
                    format!(
                        "[ARITHMETIC_OVERFLOW] {}{place} overflowed the type {}; use try_add / try_multiply to get NULL instead",
                        name(op),
                        super::super::output::spark_type_name(&t)
                    ),
                ));
            }
            let e = match op {
                Op::Plus => x + y,
                Op::Minus => x - y,
                _ => x * y,
            };
            Ok(Typed::new(e, t))
        }
        Op::Modulo => {
            if let Decimal(..) = t {
                // Polars has no decimal remainder: computed in doubles, at Spark's result scale.
                let (p1, s1) = lit_ps(&a);
                let (p2, s2) = lit_ps(&b);
                let scale = s1.max(s2);
                let to = cast::decimal(((p1 - s1).min(p2 - s2) + scale).clamp(1, 38), scale);
                let (x, y) = (a.expr.cast(Float64), b.expr.cast(Float64));
                let r = float_rem(x, y.clone()).round(scale as u32, RoundMode::HalfAwayFromZero);
                let v = Typed::new(r.cast(to.clone()), to);
                return Ok(zero_check(v, &y));
            }
            let (x, y) = (a.expr.cast(t.clone()), b.expr.cast(t.clone()));
            let r = if matches!(t, Float32 | Float64) {
                float_rem(x, y.clone()).cast(t.clone())
            } else {
                truncated_rem(x, y.clone())
            };
            let v = Typed::new(r, t);
            Ok(zero_check(v, &y))
        }
        Op::MyIntegerDivide | Op::DuckIntegerDivide => {
            if !is_integer(&t) {
                return Err(refuse(
                    format!("{}: div takes integers", name(op)),
                    "CAST both sides to BIGINT, or use floor(a / b)",
                ));
            }
            let (x, y) = (a.expr.cast(Int64), b.expr.cast(Int64));
            let rem = truncated_rem(x.clone(), y.clone());
            let v = Typed::new((x - rem).floor_div(y.clone()), Int64);
            Ok(zero_check(v, &y))
        }
        Op::BitwiseAnd | Op::BitwiseOr | Op::BitwiseXor if is_integer(&t) => {
            let (x, y) = (a.expr.cast(t.clone()), b.expr.cast(t.clone()));
            let e = match op {
                Op::BitwiseAnd => x.and(y),
                Op::BitwiseOr => x.or(y),
                _ => x.xor(y),
            };
            Ok(Typed::new(e, t))
        }
        other => Err(refuse(format!("the operator {other} is not supported in the tab"), "use Spark SQL's functions")),
    }
}

fn a_mul_decimal(x: Expr, y: Expr, to: &DataType) -> Expr {
    (x.cast(DataType::Float64) * y.cast(DataType::Float64)).cast(to.clone())
}

/// `a % b` with the sign of `a`, as Java and Spark compute it.
fn truncated_rem(x: Expr, y: Expr) -> Expr {
    let r = x.clone() % y.clone();
    let wrong_sign = r.clone().neq(lit(0)).and(r.clone().lt(lit(0)).neq(x.lt(lit(0))));
    when(wrong_sign).then(r.clone() - y).otherwise(r)
}

/// An integer constant in decimal arithmetic has the precision of its digits.
fn lit_ps(t: &Typed) -> (usize, usize) {
    match t.lit {
        Some(Lit::Int(n)) => (n.unsigned_abs().to_string().len(), 0),
        _ => dec_ps(&t.dtype),
    }
}

fn dec_ps(dt: &DataType) -> (usize, usize) {
    match dt {
        DataType::Decimal(p, s) => (p.unwrap_or(38), s.unwrap_or(0)),
        DataType::Int8 => (3, 0),
        DataType::Int16 => (5, 0),
        DataType::Int32 => (10, 0),
        DataType::Int64 => (20, 0),
        _ => (38, 18),
    }
}

/// Spark's precision-loss rule for decimal results wider than 38 digits.
fn adjust(p: usize, s: usize) -> (usize, usize) {
    if p <= 38 {
        return (p, s);
    }
    let int_digits = p - s;
    let min_scale = s.min(6);
    let s = if 38 > int_digits { (38 - int_digits).max(min_scale) } else { min_scale };
    (38, s)
}

/// ` (Line: L, Column: C)` of an expression, which the cell's error reads as its place.
pub(crate) fn place_of(e: &E) -> String {
    let start = sqlparser::ast::Spanned::span(e).start;
    if start.line == 0 { String::new() } else { format!(" (Line: {}, Column: {})", start.line, start.column) }
}

/// Java's `%` of doubles (fmod, exact, with the dividend's sign), when both
/// sides are doubles: Polars' float remainder goes through a division.
fn float_rem(x: Expr, y: Expr) -> Expr {
    super::typed::map_columns(vec![x, y], DataType::Float64, |c: &mut [Column]| {
        let n = if c[0].is_empty() || c[1].is_empty() { 0 } else { c[0].len().max(c[1].len()) };
        let a = c[0].as_materialized_series().cast(&DataType::Float64)?;
        let b = c[1].as_materialized_series().cast(&DataType::Float64)?;
        let (a, b) = (a.f64()?, b.f64()?);
        let at = |s: &Float64Chunked, i: usize| if s.len() == 1 { s.get(0) } else { s.get(i) };
        let out: Float64Chunked = (0..n)
            .map(|i| match (at(a, i), at(b, i)) {
                (Some(p), Some(q)) => Some(p % q),
                _ => None,
            })
            .collect();
        Ok(out.with_name(c[0].name().clone()).into_column())
    })
}
