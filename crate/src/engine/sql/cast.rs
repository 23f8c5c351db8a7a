//! Spark's types: the common type two values are widened to, CAST under ANSI
//! rules (a value that does not convert fails the query) and `try_cast`.

use polars::prelude::*;
use sqlparser::ast;

use super::datetime;
use super::typed::{SqlResult, Typed, fail_if_showing, refuse, timestamp_type};

fn integer_rank(dt: &DataType) -> Option<u8> {
    match dt {
        DataType::Int8 => Some(1),
        DataType::Int16 => Some(2),
        DataType::Int32 => Some(3),
        DataType::Int64 => Some(4),
        _ => None,
    }
}

/// The decimal an integer type widens to: int is decimal(10,0).
fn integer_decimal(dt: &DataType) -> Option<(usize, usize)> {
    match dt {
        DataType::Int8 => Some((3, 0)),
        DataType::Int16 => Some((5, 0)),
        DataType::Int32 => Some((10, 0)),
        DataType::Int64 => Some((20, 0)),
        DataType::Decimal(p, s) => Some((p.unwrap_or(38), s.unwrap_or(0))),
        _ => None,
    }
}

pub(crate) fn decimal(p: usize, s: usize) -> DataType {
    DataType::Decimal(Some(p.min(38)), Some(s.min(38)))
}

pub(crate) fn is_integer(dt: &DataType) -> bool {
    integer_rank(dt).is_some()
}

pub(crate) fn is_numeric(dt: &DataType) -> bool {
    is_integer(dt) || matches!(dt, DataType::Float32 | DataType::Float64 | DataType::Decimal(..))
}

pub(crate) fn is_temporal(dt: &DataType) -> bool {
    matches!(dt, DataType::Date | DataType::Datetime(..))
}

/// The type two values are widened to, as Spark's type coercion does, or
/// `None` when Spark refuses to mix them.
pub(crate) fn common(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Null, other) | (other, Null) => Some(other.clone()),
        _ if is_integer(a) && is_integer(b) => {
            Some(if integer_rank(a) >= integer_rank(b) { a.clone() } else { b.clone() })
        }
        (Float64, x) | (x, Float64) if is_numeric(x) => Some(Float64),
        (Float32, x) | (x, Float32) if is_integer(x) => Some(Float32),
        (Float32, Decimal(..)) | (Decimal(..), Float32) => Some(Float64),
        _ if is_numeric(a) && is_numeric(b) => {
            let (p1, s1) = integer_decimal(a)?;
            let (p2, s2) = integer_decimal(b)?;
            let s = s1.max(s2);
            let whole = (p1 - s1).max(p2 - s2);
            Some(decimal((whole + s).min(38), s))
        }
        (String, x) | (x, String) if is_integer(x) => Some(Int64),
        (String, x) | (x, String) if is_numeric(x) => Some(Float64),
        (String, Date) | (Date, String) => Some(Date),
        (String, Datetime(u, z)) | (Datetime(u, z), String) => Some(Datetime(*u, z.clone())),
        (String, Boolean) | (Boolean, String) => Some(Boolean),
        (Date, Datetime(u, z)) | (Datetime(u, z), Date) => Some(Datetime(*u, z.clone())),
        (Datetime(..), Datetime(..)) => Some(timestamp_type()),
        (List(x), List(y)) => common(x, y).map(|t| List(Box::new(t))),
        (Struct(f1), Struct(f2)) if f1.len() == f2.len() => {
            let fields = f1
                .iter()
                .zip(f2)
                .map(|(x, y)| common(x.dtype(), y.dtype()).map(|t| Field::new(x.name().clone(), t)))
                .collect::<Option<Vec<_>>>()?;
            Some(Struct(fields))
        }
        _ => None,
    }
}

/// The common type of several values (CASE branches, COALESCE, IN lists, UNION columns).
pub(crate) fn common_of(types: &[&DataType], what: &str) -> SqlResult<DataType> {
    let mut out = DataType::Null;
    for t in types {
        out = common(&out, t).ok_or_else(|| {
            refuse(
                format!(
                    "{what} mixes {} and {}, which Spark does not convert to one type (DATATYPE_MISMATCH)",
                    super::super::output::spark_type_name(&out),
                    super::super::output::spark_type_name(t)
                ),
                "CAST the values to one type",
            )
        })?;
    }
    Ok(out)
}

/// Converts a value to `to` implicitly (a widening Spark does on its own).
pub(crate) fn widen(t: Typed, to: &DataType) -> SqlResult<Typed> {
    if &t.dtype == to {
        return Ok(t);
    }
    cast(t, to, true)
}

/// The Polars type of a SQL type name.
pub(crate) fn sql_type(dt: &ast::DataType) -> SqlResult<DataType> {
    use ast::DataType as A;
    let text = dt.to_string().to_lowercase();
    Ok(match dt {
        A::Boolean | A::Bool => DataType::Boolean,
        A::TinyInt(_) => DataType::Int8,
        A::SmallInt(_) => DataType::Int16,
        A::Int(_) | A::Integer(_) => DataType::Int32,
        A::BigInt(_) => DataType::Int64,
        A::Float(_) | A::Real => DataType::Float32,
        A::Double(_) | A::DoublePrecision => DataType::Float64,
        A::String(_) | A::Text | A::Varchar(_) | A::Char(_) => DataType::String,
        A::Binary(_) | A::Bytea => DataType::Binary,
        A::Date => DataType::Date,
        A::Timestamp(_, _) if text.contains("ntz") || text.contains("without") => {
            DataType::Datetime(TimeUnit::Microseconds, None)
        }
        A::Timestamp(_, _) => timestamp_type(),
        A::TimestampNtz(_) => DataType::Datetime(TimeUnit::Microseconds, None),
        A::Decimal(info) | A::Numeric(info) | A::Dec(info) => {
            let (p, s) = match info {
                ast::ExactNumberInfo::None => (10, 0),
                ast::ExactNumberInfo::Precision(p) => (*p as usize, 0),
                ast::ExactNumberInfo::PrecisionAndScale(p, s) => (*p as usize, (*s).max(0) as usize),
            };
            if p > 38 || s > p {
                return Err(refuse(
                    format!(
                        "decimal({p},{s}) is not a valid type: the precision is at most 38 and the scale at most the precision"
                    ),
                    "write DECIMAL(p, s) with s <= p <= 38",
                ));
            }
            decimal(p, s)
        }
        A::Array(ast::ArrayElemTypeDef::AngleBracket(inner)) => DataType::List(Box::new(sql_type(inner)?)),
        A::Struct(fields, _) => DataType::Struct(
            fields
                .iter()
                .map(|f| {
                    let name = f.field_name.as_ref().map(|n| n.value.clone()).unwrap_or_default();
                    sql_type(&f.field_type).map(|t| Field::new(name.into(), t))
                })
                .collect::<SqlResult<Vec<_>>>()?,
        ),
        A::Custom(name, _) if name.to_string().eq_ignore_ascii_case("long") => DataType::Int64,
        A::Custom(name, _) if name.to_string().eq_ignore_ascii_case("short") => DataType::Int16,
        A::Custom(name, _) if name.to_string().eq_ignore_ascii_case("byte") => DataType::Int8,
        A::Custom(name, _) if name.to_string().eq_ignore_ascii_case("timestamp_ntz") => {
            DataType::Datetime(TimeUnit::Microseconds, None)
        }
        A::Custom(name, _) if name.to_string().eq_ignore_ascii_case("timestamp_ltz") => timestamp_type(),
        _ => {
            return Err(refuse(
                format!("CAST to {dt} is not supported in the tab"),
                "cast to one of BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL(p,s), STRING, BINARY, DATE, TIMESTAMP, TIMESTAMP_NTZ, ARRAY<t> or STRUCT<...>",
            ));
        }
    })
}

/// `CAST(value AS to)`: with `ansi`, a value that does not convert fails the
/// query, as Spark 4 does; without (`try_cast`), it becomes NULL.
pub(crate) fn cast(value: Typed, to: &DataType, ansi: bool) -> SqlResult<Typed> {
    use DataType::*;
    let from = value.dtype.clone();
    if &from == to {
        return Ok(value);
    }
    if from == Null {
        return Ok(Typed::new(value.expr.cast(to.clone()), to.clone()));
    }
    if is_temporal(&from) || is_temporal(to) {
        return datetime::cast_string(value, to, ansi);
    }
    let name = |t: &DataType| super::super::output::spark_type_name(t).to_uppercase();
    let invalid = |v: Typed, converted: Expr, original: Expr| -> Typed {
        let dtype = to.clone();
        let result = Typed::new(converted.clone(), dtype);
        if !ansi {
            return result;
        }
        let bad = original.clone().is_not_null().and(converted.is_null());
        let _ = v;
        fail_if_showing(
            result,
            bad,
            Some(original),
            format!(
                "[CAST_INVALID_INPUT] the value {{value}} of the type {} cannot be cast to {} because it is malformed or out of range; use try_cast(x AS {}) to get NULL instead",
                name(&from),
                name(to),
                name(to)
            ),
        )
    };
    match (&from, to) {
        (String, Boolean) => {
            let s = value.expr.clone().str().strip_chars(lit(NULL)).str().to_lowercase();
            let truthy = s.clone().is_in(lit(Series::new("t".into(), ["t", "true", "y", "yes", "1"])).implode(), false);
            let falsy = s.is_in(lit(Series::new("f".into(), ["f", "false", "n", "no", "0"])).implode(), false);
            let converted =
                when(truthy).then(lit(true)).when(falsy).then(lit(false)).otherwise(lit(NULL).cast(Boolean));
            Ok(invalid(value.clone(), converted, value.expr))
        }
        (String, t) if is_numeric(t) => {
            let trimmed = value.expr.clone().str().strip_chars(lit(NULL));
            let converted = if is_integer(t) {
                // Spark reads "1.0" and " 7 " as integers too.
                range_checked(trimmed.clone().cast(Int64), t)
            } else {
                trimmed.cast(t.clone())
            };
            Ok(invalid(value.clone(), converted, value.expr))
        }
        (String, Binary) => Ok(Typed::new(value.expr.cast(Binary), Binary)),
        // Spark decodes as UTF-8, invalid sequences becoming U+FFFD.
        (Binary, String) => Ok(Typed::new(
            super::typed::map_columns(vec![value.expr], String, |columns: &mut [Column]| {
                let binary = columns[0].as_materialized_series().binary()?.clone();
                let text: StringChunked =
                    binary.into_iter().map(|v| v.map(std::string::String::from_utf8_lossy)).collect();
                Ok(text.with_name(binary.name().clone()).into_column())
            }),
            String,
        )),
        (Boolean, String) => Ok(Typed::new(
            when(value.expr.clone()).then(lit("true")).otherwise(lit("false")).and_null_of(value.expr),
            String,
        )),
        (f, String) if is_integer(f) => Ok(Typed::new(value.expr.cast(String), String)),
        (Float32 | Float64, String) => Ok(Typed::new(float_text(value.expr), String)),
        (Decimal(..), String) => Ok(Typed::new(value.expr.cast(String), String)),
        (Boolean, t) if is_numeric(t) => Ok(Typed::new(value.expr.cast(t.clone()), t.clone())),
        (f, Boolean) if is_numeric(f) => Ok(Typed::new(value.expr.neq(lit(0)), Boolean)),
        (f, t) if is_numeric(f) && is_integer(t) => {
            let converted = if matches!(f, Float32 | Float64) {
                let x = value.expr.clone().cast(Float64);
                let bad_float = x.clone().is_nan().or(x.clone().is_infinite());
                let truncated = when(bad_float).then(lit(NULL).cast(Int64)).otherwise(
                    when(x.clone().abs().lt(lit(9.223372036854775e18)))
                        .then(x.cast(Int64))
                        .otherwise(lit(NULL).cast(Int64)),
                );
                range_checked(truncated, t)
            } else if matches!(f, Decimal(..)) {
                range_checked(value.expr.clone().cast(Float64).cast(Int64), t)
            } else {
                range_checked(value.expr.clone().cast(Int64), t)
            };
            Ok(invalid(value.clone(), converted, value.expr))
        }
        (f, t) if is_numeric(f) && is_numeric(t) => {
            if let Decimal(Some(p), Some(s)) = t {
                // Out of range for the decimal: NULL, or an error under ANSI.
                let limit = 10f64.powi((*p - *s) as i32);
                let x = value.expr.clone().cast(Float64);
                let rounded = if matches!(f, Float32 | Float64) {
                    // Java's printed digits rounded half up, as Spark casts a double.
                    super::math::double_to_decimal(value.expr.clone(), *p, *s)
                } else {
                    value.expr.clone().cast(t.clone())
                };
                let converted = when(x.abs().lt(lit(limit))).then(rounded).otherwise(lit(NULL).cast(t.clone()));
                return Ok(invalid(value.clone(), converted, value.expr));
            }
            Ok(Typed::new(value.expr.cast(t.clone()), t.clone()))
        }
        (List(_), String) | (Struct(_), String) => Err(refuse(
            format!("CAST of a {} to STRING is not supported in the tab", name(&from).to_lowercase()),
            "use to_json(value) for its JSON text",
        )),
        (List(a), List(b)) => {
            let inner = cast(Typed::new(col(""), (**a).clone()), b, ansi)?;
            Ok(Typed::new(value.expr.list().eval(inner.expr), to.clone()))
        }
        _ => Err(refuse(
            format!("cannot cast {} to {} (DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION)", name(&from), name(to)),
            "convert the value with a function instead, or cast through STRING",
        )),
    }
}

trait NullOf {
    fn and_null_of(self, input: Expr) -> Expr;
}

impl NullOf for Expr {
    /// NULL where `input` is NULL.
    fn and_null_of(self, input: Expr) -> Expr {
        when(input.is_null()).then(lit(NULL).cast(DataType::String)).otherwise(self)
    }
}

/// An Int64 that must fit `to`: out of range becomes NULL.
fn range_checked(x: Expr, to: &DataType) -> Expr {
    let (lo, hi) = match to {
        DataType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
        DataType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
        DataType::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => return x.cast(to.clone()),
    };
    when(x.clone().gt_eq(lit(lo)).and(x.clone().lt_eq(lit(hi))))
        .then(x.cast(to.clone()))
        .otherwise(lit(NULL).cast(to.clone()))
}

/// A double as Spark writes it: `1.0`, `0.1`, `1.0E10`, `1.0E-5`, `NaN`, `Infinity`.
pub(crate) fn float_text(x: Expr) -> Expr {
    super::typed::map_columns(vec![x], DataType::String, |columns: &mut [Column]| {
        let s = columns[0].as_materialized_series().cast(&DataType::Float64)?;
        let out: StringChunked = s.f64()?.into_iter().map(|v| v.map(java_double)).collect();
        Ok(out.with_name(columns[0].name().clone()).into_column())
    })
}

/// Java's `Double.toString`.
pub(crate) fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let abs = x.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{x:?}");
        if s.contains('e') { format!("{x}") } else { s }
    } else {
        // Shortest digits, in Java's d.dddE±n form.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
        format!("{mantissa}E{exp}")
    }
}
