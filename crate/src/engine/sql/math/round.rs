//! `round` (HALF_UP), `bround` (HALF_EVEN), `floor` and `ceil`, as Spark
//! computes them: a double is rounded in the decimal digits Java prints for
//! it (`round(2.675, 2)` is 2.68), a decimal keeps exact digits and gets
//! Spark's result precision, an integer rounds only to a negative scale.

use polars::prelude::*;

use super::super::typed::{Lit, SqlResult, Typed, bad_args, map_columns, refuse};
use super::{is_int, overflow, zip_i64};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    HalfUp,
    HalfEven,
    Floor,
    Ceil,
}

pub(super) fn round(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let want = format!("{name}(x[, digits]) with a constant integer digits");
    let (x, digits) = match args {
        [x] => (x, 0i64),
        [x, d] => (x, d.lit_int().ok_or_else(|| bad_args(name, &want))?),
        _ => return Err(bad_args(name, &want)),
    };
    let digits = i32::try_from(digits).map_err(|_| bad_args(name, &want))?;
    let mode = if name == "bround" { Mode::HalfEven } else { Mode::HalfUp };
    match &x.dtype {
        DataType::Null => Ok(Typed::constant(Lit::Null).cast_to(DataType::Float64)),
        t if is_int(t) => {
            if digits >= 0 {
                return Ok(x.clone());
            }
            let dtype = t.clone();
            let (min, max) = super::int_range_of(t);
            let expr = zip_i64(vec![x.expr.clone()], dtype.clone(), move |v| {
                let r = round_i128(i128::from(v[0]), (-digits) as u32, mode)
                    .and_then(|r| r.checked_mul(10i128.checked_pow((-digits) as u32)?));
                match r.and_then(|r| i64::try_from(r).ok()).filter(|r| (min..=max).contains(r)) {
                    Some(r) => Ok(Some(r)),
                    None => Err(overflow("round")),
                }
            });
            Ok(Typed::new(expr, dtype))
        }
        t if t.is_float() => {
            let dtype = t.clone();
            let expr = map_columns(
                vec![x.expr.clone().cast(DataType::Float64)],
                DataType::Float64,
                move |c: &mut [Column]| {
                    let out: Float64Chunked =
                        c[0].f64()?.iter().map(|v| v.map(|v| round_double(v, digits, mode))).collect();
                    Ok(out.with_name(c[0].name().clone()).into_column())
                },
            );
            Ok(Typed::new(expr.cast(dtype.clone()), dtype))
        }
        DataType::Decimal(p, s) => {
            let (p, s) = (p.unwrap_or(38), s.unwrap_or(0));
            let whole = p - s + 1;
            let (rp, rs) = if digits < 0 {
                (whole.max((1 - digits) as usize).min(38), 0)
            } else {
                let rs = s.min(digits as usize);
                ((whole + rs).min(38), rs)
            };
            Ok(decimal_to_scale(x, s, digits, mode, rp, rs))
        }
        _ => Err(refuse(
            format!("{name} of {} is not supported", x.dtype),
            format!("write {name}(CAST(x AS DOUBLE), d)"),
        )),
    }
}

pub(super) fn floor_ceil(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let x = match args {
        [x] => x,
        [_, _] => {
            return Err(refuse(
                format!("{name}(x, scale) is not supported"),
                format!("write {name}(x) for a whole number, or round(x, scale)"),
            ));
        }
        _ => return Err(bad_args(name, &format!("{name}(x)"))),
    };
    let mode = if name == "floor" { Mode::Floor } else { Mode::Ceil };
    match &x.dtype {
        DataType::Null => Ok(Typed::constant(Lit::Null).cast_to(DataType::Int64)),
        t if is_int(t) => Ok(x.clone().cast_to(DataType::Int64)),
        t if t.is_float() => {
            // Java's (long) of a double: saturating, NaN to 0, as Rust's `as`.
            let expr = map_columns(
                vec![x.expr.clone().cast(DataType::Float64)],
                DataType::Int64,
                move |c: &mut [Column]| {
                    let out: Int64Chunked = c[0]
                        .f64()?
                        .iter()
                        .map(|v| v.map(|v| if mode == Mode::Floor { v.floor() as i64 } else { v.ceil() as i64 }))
                        .collect();
                    Ok(out.with_name(c[0].name().clone()).into_column())
                },
            );
            Ok(Typed::new(expr, DataType::Int64))
        }
        // Spark keeps decimal(p, 0) and widens decimal(p, s) to decimal(p - s + 1, 0).
        DataType::Decimal(_, Some(0)) => Ok(x.clone()),
        DataType::Decimal(p, s) => {
            let (p, s) = (p.unwrap_or(38), s.unwrap_or(0));
            Ok(decimal_to_scale(x, s, 0, mode, (p - s + 1).min(38), 0))
        }
        _ => Err(bad_args(name, &format!("{name}(x) of a numeric x"))),
    }
}

/// Spark's CAST of a double to decimal(`p`, `s`): the digits Java prints
/// for the double, rounded half up to `s` places; NULL for NaN, infinities
/// and values that do not fit (the caller decides whether that is an error).
#[allow(dead_code)] // until the core's CAST uses it
pub(crate) fn double_to_decimal(x: Expr, p: usize, s: usize) -> Expr {
    let out = DataType::Decimal(Some(p), Some(s));
    map_columns(vec![x.cast(DataType::Float64)], out, move |c: &mut [Column]| {
        let limit = 10i128.checked_pow(p as u32).unwrap_or(i128::MAX);
        let values: Vec<Option<i128>> = c[0]
            .f64()?
            .iter()
            .map(|v| {
                v.and_then(|v| unscaled_of(v, s as i32, Mode::HalfUp))
                    .filter(|u| u.unsigned_abs() < limit.unsigned_abs())
            })
            .collect();
        let ca = Int128Chunked::from_iter_options(c[0].name().clone(), values.into_iter());
        Ok(ca.into_decimal_unchecked(Some(p), s).into_series().into_column())
    })
}

/// A decimal of scale `s` rounded to `digits` decimals (negative: tens,
/// hundreds..), as decimal(`rp`, `rs`); a value that does not fit fails.
fn decimal_to_scale(x: &Typed, s: usize, digits: i32, mode: Mode, rp: usize, rs: usize) -> Typed {
    let out = DataType::Decimal(Some(rp), Some(rs));
    let expr = map_columns(vec![x.expr.clone()], out.clone(), move |c: &mut [Column]| {
        let ca = c[0].as_materialized_series().decimal()?.physical().clone();
        let drop = s as i64 - i64::from(digits);
        let limit = 10i128.checked_pow(rp as u32).unwrap_or(i128::MAX);
        let mut values = Vec::with_capacity(ca.len());
        for v in ca.iter() {
            let Some(v) = v else {
                values.push(None);
                continue;
            };
            let rounded = if drop <= 0 {
                // Fewer digits than asked for: only the scale changes.
                v.checked_mul(10i128.pow((rs - s.min(rs)) as u32))
            } else {
                round_i128(v, drop as u32, mode).and_then(|r| {
                    // A negative `digits` keeps the rounded tens as a scale-0 value.
                    if digits < 0 { r.checked_mul(10i128.checked_pow((-digits) as u32)?) } else { Some(r) }
                })
            };
            match rounded.filter(|r| r.unsigned_abs() < limit.unsigned_abs()) {
                Some(r) => values.push(Some(r)),
                None => return Err(overflow("round")),
            }
        }
        let ca = Int128Chunked::from_iter_options(c[0].name().clone(), values.into_iter());
        Ok(ca.into_decimal_unchecked(Some(rp), rs).into_series().into_column())
    });
    Typed::new(expr, out)
}

/// `v / 10^drop`, rounded by `mode`; `None` never happens for a valid drop
/// except on overflow of the power (then the quotient is 0 or -0 rounded).
fn round_i128(v: i128, drop: u32, mode: Mode) -> Option<i128> {
    let Some(d) = 10i128.checked_pow(drop) else {
        // |v| < 10^38 < 10^drop / 2: rounds to zero (or ±1 for floor/ceil).
        return Some(match mode {
            Mode::Floor if v < 0 => -1,
            Mode::Ceil if v > 0 => 1,
            _ => 0,
        });
    };
    let (q, r) = (v / d, v % d);
    if r == 0 {
        return Some(q);
    }
    let away = match mode {
        Mode::Floor => v < 0,
        Mode::Ceil => v > 0,
        Mode::HalfUp => r.unsigned_abs() * 2 >= d.unsigned_abs(),
        Mode::HalfEven => {
            let twice = r.unsigned_abs() * 2;
            twice > d.unsigned_abs() || (twice == d.unsigned_abs() && q % 2 != 0)
        }
    };
    Some(if away { q + v.signum() } else { q })
}

/// Spark's round of a double: the decimal digits of Java's shortest
/// representation, rounded to `digits` places, read back as a double.
fn round_double(v: f64, digits: i32, mode: Mode) -> f64 {
    if !v.is_finite() {
        return v;
    }
    match unscaled_of(v, digits, mode) {
        Some(0) => 0.0,
        Some(u) => format!("{u}e{}", -i64::from(digits)).parse::<f64>().unwrap_or(v),
        // More digits than an i128 holds: too large to need rounding.
        None => v,
    }
}

/// The double's printed digits rounded to `digits` places, as an integer
/// count of 10^-digits; `None` for NaN, infinities and overflow.
fn unscaled_of(v: f64, digits: i32, mode: Mode) -> Option<i128> {
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        return Some(0);
    }
    // `{:e}` is the shortest representation that reads back: "d.ddde-x".
    let text = format!("{:e}", v.abs());
    let (mantissa, exponent) = text.split_once('e')?;
    let exponent = exponent.parse::<i64>().ok()?;
    let all: String = mantissa.chars().filter(|c| *c != '.').collect();
    // |v| = all * 10^-scale.
    let scale = i64::try_from(all.len()).ok()? - 1 - exponent;
    let unscaled = all.parse::<i128>().ok()?;
    let signed = if v < 0.0 { -unscaled } else { unscaled };
    let drop = scale - i64::from(digits);
    if drop <= 0 {
        return signed.checked_mul(10i128.checked_pow(u32::try_from(-drop).ok()?)?);
    }
    if drop > 38 {
        return Some(0);
    }
    round_i128(signed, drop as u32, mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_round_in_their_printed_digits() {
        assert_eq!(round_double(2.5, 0, Mode::HalfUp), 3.0);
        assert_eq!(round_double(-2.5, 0, Mode::HalfUp), -3.0);
        assert_eq!(round_double(2.5, 0, Mode::HalfEven), 2.0);
        assert_eq!(round_double(0.125, 2, Mode::HalfUp), 0.13);
        assert_eq!(round_double(2.675, 2, Mode::HalfUp), 2.68);
        assert_eq!(round_double(1234.5678, -2, Mode::HalfUp), 1200.0);
        assert_eq!(round_double(641.9500000000003, 2, Mode::HalfUp), 641.95);
        assert_eq!(round_double(-0.4, 0, Mode::HalfUp), 0.0);
        assert_eq!(round_double(1e300, 2, Mode::HalfUp), 1e300);
        assert_eq!(round_double(1.0 / 3.0, 3, Mode::HalfUp), 0.333);
        assert_eq!(round_double(0.004, 2, Mode::HalfUp), 0.0);
        assert_eq!(round_double(0.005, 2, Mode::HalfUp), 0.01);
        assert_eq!(unscaled_of(2.67, 2, Mode::HalfUp), Some(267));
        assert_eq!(unscaled_of(-0.125, 2, Mode::HalfUp), Some(-13));
        assert_eq!(unscaled_of(12.0, 2, Mode::HalfUp), Some(1200));
    }

    #[test]
    fn integers_round_by_mode() {
        assert_eq!(round_i128(25, 1, Mode::HalfUp), Some(3));
        assert_eq!(round_i128(-25, 1, Mode::HalfUp), Some(-3));
        assert_eq!(round_i128(25, 1, Mode::HalfEven), Some(2));
        assert_eq!(round_i128(35, 1, Mode::HalfEven), Some(4));
        assert_eq!(round_i128(-15, 1, Mode::Floor), Some(-2));
        assert_eq!(round_i128(12, 1, Mode::Ceil), Some(2));
        assert_eq!(round_i128(-12, 1, Mode::Ceil), Some(-1));
    }
}
