//! Spark's types: the common type two values are widened to, CAST under ANSI
//! rules (a value that does not convert fails the query), under the
//! session's `spark.sql.ansi.enabled=false` (Spark's legacy rules: NULL,
//! counted in a note; integers wrap) and `try_cast`.

use polars::prelude::*;
use sqlparser::ast;

use super::ansi::{Mode, counted, legacy_refusal, session_ansi};
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
    if !session_ansi() && t.dtype == DataType::String && is_numeric(to) {
        // Spark's legacy coercion casts to other types (a comparison to the
        // number's own type, CASE and COALESCE to STRING).
        return Err(legacy_refusal(&format!(
            "mixing a string with a {} (Spark's implicit casts differ)",
            super::super::output::spark_type_name(to)
        ))
        .hint(format!(
            "CAST the string yourself, e.g. CAST(s AS {}), or SET spark.sql.ansi.enabled = true",
            super::super::output::spark_type_name(to).to_uppercase()
        )));
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

/// `CAST(value AS to)`: with `ansi` (CAST and Spark's implicit casts), a
/// value that does not convert fails the query, as Spark 4 does, or with
/// the session's `spark.sql.ansi.enabled=false` becomes NULL by Spark's
/// legacy rules; without (`try_cast`), it becomes NULL.
pub(crate) fn cast(value: Typed, to: &DataType, ansi: bool) -> SqlResult<Typed> {
    use DataType::*;
    let mode = Mode::of(ansi);
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
        let _ = v;
        match mode {
            Mode::Try => result,
            Mode::Legacy => counted(result, original, mode),
            Mode::Ansi => {
                let bad = original.clone().is_not_null().and(converted.is_null());
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
            }
        }
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
        (String, t) if mode == Mode::Legacy && is_numeric(t) => {
            let converted = legacy::text_to_number(value.expr.clone(), t.clone());
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
        (f, t) if mode == Mode::Legacy && is_numeric(f) && is_integer(t) => {
            // Java's narrowing: a double saturates (NaN is 0), then bits are dropped.
            Ok(Typed::new(legacy::to_integral(value.expr, f.clone(), t.clone()), t.clone()))
        }
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

/// Spark's legacy (non-ANSI) conversions, value by value.
mod legacy {
    use polars::prelude::*;

    use super::super::typed::map_columns;

    /// Text to a number as Spark does with ANSI off: NULL for what does not
    /// convert; an error for what Riffle cannot convert exactly.
    pub(super) fn text_to_number(x: Expr, to: DataType) -> Expr {
        let out = to.clone();
        map_columns(vec![x], to.clone(), move |columns: &mut [Column]| {
            let input = columns[0].as_materialized_series().cast(&DataType::String)?;
            let texts = input.str()?;
            let name = input.name().clone();
            let series = match &out {
                DataType::Float32 | DataType::Float64 => {
                    let values = texts
                        .into_iter()
                        .map(|t| t.map(java_parse_double).transpose().map(Option::flatten))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| PolarsError::ComputeError(e.into()))?;
                    Float64Chunked::from_iter_options(name, values.into_iter()).into_series().cast(&out)?
                }
                DataType::Decimal(Some(p), Some(s)) => {
                    let (p, s) = (*p, *s);
                    let values = texts
                        .into_iter()
                        .map(|t| t.map(|t| text_to_decimal(t, p, s)).transpose().map(Option::flatten))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| PolarsError::ComputeError(e.into()))?;
                    Int128Chunked::from_iter_options(name, values.into_iter())
                        .into_decimal_unchecked(Some(p), s)
                        .into_series()
                }
                _ => {
                    let (lo, hi) = integer_range(&out);
                    let values = texts.into_iter().map(|t| t.and_then(spark_long).filter(|v| (lo..=hi).contains(v)));
                    Int64Chunked::from_iter_options(name, values).into_series().cast(&out)?
                }
            };
            Ok(series.into_column())
        })
    }

    fn integer_range(dt: &DataType) -> (i64, i64) {
        match dt {
            DataType::Int8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
            DataType::Int16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            DataType::Int32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        }
    }

    /// Spark's `UTF8String.toLong` with decimals allowed: blanks and control
    /// characters trimmed, a sign, digits, and a fraction that is checked
    /// and dropped ("1.9" is 1, ".5" is 0); no exponent.
    pub(super) fn spark_long(text: &str) -> Option<i64> {
        let blank = |b: &u8| *b <= b' ' || *b == 0x7f;
        let bytes = text.as_bytes();
        let start = bytes.iter().position(|b| !blank(b))?;
        let end = bytes.iter().rposition(|b| !blank(b))? + 1;
        let mut digits = &bytes[start..end];
        let negative = digits[0] == b'-';
        if negative || digits[0] == b'+' {
            if digits.len() == 1 {
                return None;
            }
            digits = &digits[1..];
        }
        let (whole, fraction) = match digits.iter().position(|b| *b == b'.') {
            Some(dot) => (&digits[..dot], Some(&digits[dot + 1..])),
            None => (digits, None),
        };
        if !fraction.unwrap_or_default().iter().all(u8::is_ascii_digit) {
            return None;
        }
        // Accumulated negatively, as Spark does, so that i64::MIN fits.
        let mut result: i64 = 0;
        for b in whole {
            if !b.is_ascii_digit() {
                return None;
            }
            result = result.checked_mul(10)?.checked_sub(i64::from(b - b'0'))?;
        }
        if negative { Some(result) } else { result.checked_neg() }
    }

    /// Java's `Double.parseDouble` (after Spark's `inf`/`nan` spellings).
    pub(super) fn java_parse_double(text: &str) -> Result<Option<f64>, String> {
        let t = text.trim_matches(|c: char| c <= ' ');
        match t.to_ascii_lowercase().as_str() {
            "inf" | "+inf" | "infinity" | "+infinity" => return Ok(Some(f64::INFINITY)),
            "-inf" | "-infinity" => return Ok(Some(f64::NEG_INFINITY)),
            "nan" => return Ok(Some(f64::NAN)),
            _ => {}
        }
        let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
        match unsigned {
            "NaN" => return Ok(Some(f64::NAN)),
            "Infinity" => return Ok(Some(if t.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY })),
            _ => {}
        }
        if unsigned.starts_with("0x") || unsigned.starts_with("0X") {
            return Err(format!(
                "CAST of the hexadecimal text '{text}' to a floating-point number under \
                 spark.sql.ansi.enabled=false is not supported in the browser engine; run the cell on Spark, or \
                 SET spark.sql.ansi.enabled = true"
            ));
        }
        let body = unsigned.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(unsigned);
        let well_formed = !body.is_empty()
            && body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            && body.bytes().next().is_some_and(|b| b.is_ascii_digit() || b == b'.');
        if !well_formed {
            return Ok(None);
        }
        let sign = if t.starts_with('-') { "-" } else { "" };
        Ok(format!("{sign}{body}").parse::<f64>().ok())
    }

    /// `java.math.BigDecimal` text at scale `s`, rounded half up; NULL when
    /// it does not fit `decimal(p, s)`.
    pub(super) fn text_to_decimal(text: &str, p: usize, s: usize) -> Result<Option<i128>, String> {
        let t = text.trim_matches(|c: char| c <= ' ');
        let (negative, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        if body.contains(['e', 'E']) {
            return Err(format!(
                "CAST of the text '{text}' (a number with an exponent) to DECIMAL under spark.sql.ansi.enabled=false \
                 is not supported in the browser engine; CAST it to DOUBLE first, run the cell on Spark, or \
                 SET spark.sql.ansi.enabled = true"
            ));
        }
        let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
        if whole.is_empty() && fraction.is_empty() || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
        {
            return Ok(None);
        }
        let mut digits: String = whole.trim_start_matches('0').to_string();
        let kept = fraction.len().min(s);
        digits.push_str(&fraction[..kept]);
        digits.push_str(&"0".repeat(s - kept));
        let round_up = fraction.as_bytes().get(s).is_some_and(|d| *d >= b'5');
        let digits = digits.trim_start_matches('0');
        if digits.len() > p {
            return Ok(None);
        }
        let mut unscaled: i128 =
            if digits.is_empty() { 0 } else { digits.parse().map_err(|_| "digits".to_string())? };
        if round_up {
            unscaled += 1;
        }
        if unscaled >= 10i128.pow(p as u32) {
            return Ok(None);
        }
        Ok(Some(if negative { -unscaled } else { unscaled }))
    }

    /// A number to an integer type as Spark does with ANSI off: Java's
    /// narrowing (a double saturates at INT or BIGINT and NaN is 0; a
    /// decimal drops its fraction; the high bits are dropped).
    pub(super) fn to_integral(x: Expr, from: DataType, to: DataType) -> Expr {
        let out = to.clone();
        map_columns(vec![x], to, move |columns: &mut [Column]| {
            let input = columns[0].as_materialized_series();
            let name = input.name().clone();
            let longs: Vec<Option<i64>> = match &from {
                DataType::Float32 | DataType::Float64 => {
                    let wide = out == DataType::Int64;
                    input
                        .cast(&DataType::Float64)?
                        .f64()?
                        .into_iter()
                        .map(|v| v.map(|x| if wide { x as i64 } else { i64::from(x as i32) }))
                        .collect()
                }
                DataType::Decimal(..) => {
                    let decimal = input.decimal()?;
                    let scale = 10i128.pow(decimal.scale() as u32);
                    decimal.physical().into_iter().map(|v| v.map(|u| (u / scale) as i64)).collect()
                }
                _ => input.cast(&DataType::Int64)?.i64()?.into_iter().collect(),
            };
            let narrowed = longs.into_iter().map(|v| {
                v.map(|v| match out {
                    DataType::Int8 => i64::from(v as i8),
                    DataType::Int16 => i64::from(v as i16),
                    DataType::Int32 => i64::from(v as i32),
                    _ => v,
                })
            });
            Ok(Int64Chunked::from_iter_options(name, narrowed).into_series().cast(&out)?.into_column())
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn texts_to_numbers_as_spark_with_ansi_off() {
            assert_eq!(spark_long(" 12 "), Some(12));
            assert_eq!(spark_long("1.9"), Some(1));
            assert_eq!(spark_long("-1.9"), Some(-1));
            assert_eq!(spark_long(".5"), Some(0));
            assert_eq!(spark_long("1."), Some(1));
            assert_eq!(spark_long("-9223372036854775808"), Some(i64::MIN));
            for bad in ["12x", "", " ", "+", "-", "1e3", "1.2.3", "9223372036854775808", "1 2"] {
                assert_eq!(spark_long(bad), None, "{bad}");
            }
            assert_eq!(java_parse_double(" 1.5d "), Ok(Some(1.5)));
            assert_eq!(java_parse_double("-1e3"), Ok(Some(-1000.0)));
            assert_eq!(java_parse_double("-Infinity"), Ok(Some(f64::NEG_INFINITY)));
            assert_eq!(java_parse_double("inf"), Ok(Some(f64::INFINITY)));
            assert!(java_parse_double("NaN").unwrap().unwrap().is_nan());
            for bad in ["12x", "", "-nan", "infinit", "1e", "e5", "1..2"] {
                assert_eq!(java_parse_double(bad), Ok(None), "{bad}");
            }
            assert!(java_parse_double("0x1p3").is_err());
            assert_eq!(text_to_decimal(" 1.25 ", 5, 1), Ok(Some(13)));
            assert_eq!(text_to_decimal("-1.24", 5, 1), Ok(Some(-12)));
            assert_eq!(text_to_decimal("99.96", 3, 1), Ok(None));
            assert_eq!(text_to_decimal("99.94", 3, 1), Ok(Some(999)));
            assert_eq!(text_to_decimal(".5", 1, 0), Ok(Some(1)));
            assert_eq!(text_to_decimal("12x", 5, 1), Ok(None));
            assert_eq!(text_to_decimal(".", 5, 1), Ok(None));
            assert!(text_to_decimal("1e3", 5, 1).is_err());
        }
    }
}
