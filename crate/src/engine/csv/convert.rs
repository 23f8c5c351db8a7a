//! Field text to typed values, and type inference, with Spark's rules
//! (`UnivocityParser`'s converters, `CSVInferSchema`): Java's number
//! parsing, `nanValue`/`positiveInf`/`negativeInf`, dates and timestamps
//! with a pattern or Spark's lenient forms.

use polars::prelude::*;

use super::super::sql::datetime::text::{Parsed, Zone, parse_date, parse_timestamp};
use super::super::sql::datetime::zones::ZoneId;
use super::options::CsvOptions;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A column type the reader produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Inference saw no value yet.
    Null,
    Str,
    Bin,
    Bool,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
    Dec(u8, u8),
    Date,
    /// Spark's TIMESTAMP: an instant, shown in the session time zone (UTC).
    Ts,
    /// TIMESTAMP_NTZ: a wall-clock time, only from a schema (inference gives TIMESTAMP, as Spark's does).
    TsNtz,
}

impl Kind {
    /// The kind for a schema type; `None` for what CSV cannot hold.
    pub(crate) fn of(dtype: &DataType) -> Option<Kind> {
        Some(match dtype {
            DataType::String => Kind::Str,
            DataType::Binary => Kind::Bin,
            DataType::Boolean => Kind::Bool,
            DataType::Int8 => Kind::I8,
            DataType::Int16 => Kind::I16,
            DataType::Int32 => Kind::I32,
            DataType::Int64 => Kind::I64,
            DataType::Float32 => Kind::F32,
            DataType::Float64 => Kind::F64,
            DataType::Decimal(p, s) => {
                let p = p.unwrap_or(10).min(38);
                Kind::Dec(p as u8, s.unwrap_or(0).min(p) as u8)
            }
            DataType::Date => Kind::Date,
            DataType::Datetime(_, None) => Kind::TsNtz,
            DataType::Datetime(_, Some(_)) => Kind::Ts,
            _ => return None,
        })
    }

    /// Spark's name of the type, for messages.
    pub(crate) fn spark_name(self) -> String {
        match self {
            Kind::Null | Kind::Str => "STRING".into(),
            Kind::Bin => "BINARY".into(),
            Kind::Bool => "BOOLEAN".into(),
            Kind::I8 => "TINYINT".into(),
            Kind::I16 => "SMALLINT".into(),
            Kind::I32 => "INT".into(),
            Kind::I64 => "BIGINT".into(),
            Kind::F32 => "FLOAT".into(),
            Kind::F64 => "DOUBLE".into(),
            Kind::Dec(p, s) => format!("DECIMAL({p},{s})"),
            Kind::Date => "DATE".into(),
            Kind::Ts => "TIMESTAMP".into(),
            Kind::TsNtz => "TIMESTAMP_NTZ".into(),
        }
    }
}

/// One converted field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Text(&'a str),
    Bool(bool),
    Int(i64),
    Float(f64),
    Dec(i128),
}

/// Java's `Double.parseDouble`: surrounding control characters and spaces
/// trimmed, `NaN` and `Infinity` spelled exactly, an optional `d`/`f` suffix.
fn java_double(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c <= ' ');
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let negative = t.starts_with('-');
    match body {
        "NaN" => return Some(f64::NAN),
        "Infinity" => return Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY }),
        _ => {}
    }
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    t.parse::<f64>().ok()
}

/// Java's `Float.parseFloat`: the grammar of doubles, rounded once to f32.
fn java_float(text: &str) -> Option<f32> {
    let wide = java_double(text)?;
    let t = text.trim_matches(|c: char| c <= ' ');
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    Some(t.parse::<f32>().unwrap_or(wide as f32))
}

/// Java's `new BigDecimal(text)`: the unscaled digits, the scale and the
/// precision. Reading a DECIMAL column, Spark drops `,` first (en-US);
/// inferring, it does not.
fn big_decimal(text: &str, drop_commas: bool) -> Option<(i128, i32, usize)> {
    let t: String = text.chars().filter(|c| !drop_commas || *c != ',').collect();
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().ok()?),
        None => (t.as_str(), 0),
    };
    let (negative, digits) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let all = format!("{whole}{fraction}");
    let significant = all.trim_start_matches('0');
    let precision = significant.len().max(1);
    if precision > 38 {
        return None;
    }
    let unscaled: i128 = if significant.is_empty() { 0 } else { significant.parse().ok()? };
    let scale = i32::try_from(fraction.len()).ok()? - exponent;
    Some((if negative { -unscaled } else { unscaled }, scale, precision))
}

/// The value of `text` as DECIMAL(p, s), rounded half up as Spark does.
fn decimal(text: &str, p: u8, s: u8) -> Option<i128> {
    let (unscaled, scale, _) = big_decimal(text, true)?;
    let target = i32::from(s);
    let value = if scale <= target {
        unscaled.checked_mul(10i128.checked_pow(u32::try_from(target - scale).ok()?)?)?
    } else {
        let divisor = 10i128.checked_pow(u32::try_from(scale - target).ok()?)?;
        let (q, r) = (unscaled / divisor, unscaled % divisor);
        if r.abs() * 2 >= divisor { q + unscaled.signum() } else { q }
    };
    (value.abs() < 10i128.pow(u32::from(p))).then_some(value)
}

/// `yyyy-MM-dd` exactly (Spark's default date pattern, used before its lenient fallback).
fn strict_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if shaped { parse_date(text) } else { None }
}

impl CsvOptions {
    fn timestamp(&self, text: &str) -> Option<i64> {
        if let Some((_, pattern)) = &self.timestamp_format {
            return pattern.parse_in(text, &self.time_zone);
        }
        match parse_timestamp(text)? {
            Parsed::At { local, zone: Zone::Session } => self.time_zone.instant(local),
            Parsed::At { local, zone: Zone::Offset(seconds) } => local.checked_sub(seconds.checked_mul(1_000_000)?),
            Parsed::At { local, zone: Zone::Named(name) } => ZoneId::parse(&name)?.instant(local),
            Parsed::TimeOnly => None,
        }
    }

    fn date(&self, text: &str) -> Option<i64> {
        match &self.date_format {
            Some((_, pattern)) => pattern.parse(text).map(|micros| micros.div_euclid(MICROS_PER_DAY)),
            None => parse_date(text),
        }
    }

    fn is_special_double(&self, text: &str) -> bool {
        text == self.nan_value || text == self.positive_inf || text == self.negative_inf
    }

    /// Converts one field (already not null) to `kind`; `None` when it does not fit.
    pub(crate) fn convert<'a>(&self, kind: Kind, text: &'a str) -> Option<Cell<'a>> {
        if text == self.null_value {
            return Some(Cell::Null);
        }
        let int = |lo: i64, hi: i64| text.parse::<i64>().ok().filter(|v| (lo..=hi).contains(v)).map(Cell::Int);
        let special = || {
            if text == self.nan_value {
                Some(f64::NAN)
            } else if text == self.positive_inf {
                Some(f64::INFINITY)
            } else if text == self.negative_inf {
                Some(f64::NEG_INFINITY)
            } else {
                None
            }
        };
        match kind {
            Kind::Null | Kind::Str | Kind::Bin => Some(Cell::Text(text)),
            Kind::Bool if text.eq_ignore_ascii_case("true") => Some(Cell::Bool(true)),
            Kind::Bool if text.eq_ignore_ascii_case("false") => Some(Cell::Bool(false)),
            Kind::Bool => None,
            Kind::I8 => int(i64::from(i8::MIN), i64::from(i8::MAX)),
            Kind::I16 => int(i64::from(i16::MIN), i64::from(i16::MAX)),
            Kind::I32 => int(i64::from(i32::MIN), i64::from(i32::MAX)),
            Kind::I64 => int(i64::MIN, i64::MAX),
            Kind::F64 => special().or_else(|| java_double(text)).map(Cell::Float),
            Kind::F32 => special().or_else(|| java_float(text).map(f64::from)).map(Cell::Float),
            Kind::Dec(p, s) => decimal(text, p, s).map(Cell::Dec),
            Kind::Date => {
                let days = match &self.date_format {
                    Some(_) => self.date(text),
                    None => strict_date(text).or_else(|| parse_date(text)),
                };
                days.map(Cell::Int)
            }
            Kind::Ts | Kind::TsNtz => self.timestamp(text).map(Cell::Int),
        }
    }

    /// Spark's `inferField`: the type so far, widened by one field.
    pub(crate) fn infer(&self, so_far: Kind, field: Option<&str>) -> Kind {
        let Some(text) = field.filter(|t| !t.is_empty() && *t != self.null_value) else { return so_far };
        let seen = match so_far {
            Kind::Null | Kind::I8 | Kind::I16 | Kind::I32 => self.try_int(text),
            Kind::I64 => self.try_long(text),
            Kind::Dec(..) => self.try_decimal(text),
            Kind::F32 | Kind::F64 => self.try_double(text),
            Kind::Date => self.try_date(text),
            Kind::Ts | Kind::TsNtz => self.try_timestamp(text),
            Kind::Bool => self.try_bool(text),
            Kind::Str | Kind::Bin => Kind::Str,
        };
        compatible(so_far, seen)
    }

    fn try_int(&self, text: &str) -> Kind {
        if text.parse::<i32>().is_ok() { Kind::I32 } else { self.try_long(text) }
    }

    fn try_long(&self, text: &str) -> Kind {
        if text.parse::<i64>().is_ok() { Kind::I64 } else { self.try_decimal(text) }
    }

    fn try_decimal(&self, text: &str) -> Kind {
        match big_decimal(text, false) {
            Some((_, 0, precision)) => Kind::Dec(precision as u8, 0),
            _ => self.try_double(text),
        }
    }

    fn try_double(&self, text: &str) -> Kind {
        if java_double(text).is_some() || self.is_special_double(text) { Kind::F64 } else { self.try_date(text) }
    }

    fn try_date(&self, text: &str) -> Kind {
        let date = match &self.date_format {
            Some(_) => self.date(text),
            None => strict_date(text),
        };
        if date.is_some() { Kind::Date } else { self.try_timestamp(text) }
    }

    fn try_timestamp(&self, text: &str) -> Kind {
        if self.timestamp(text).is_some() { Kind::Ts } else { self.try_bool(text) }
    }

    fn try_bool(&self, text: &str) -> Kind {
        if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") { Kind::Bool } else { Kind::Str }
    }
}

/// The digits before the point a kind needs as a decimal.
fn as_decimal(kind: Kind) -> Option<(u8, u8)> {
    match kind {
        Kind::I8 | Kind::I16 | Kind::I32 => Some((10, 0)),
        Kind::I64 => Some((20, 0)),
        Kind::Dec(p, s) => Some((p, s)),
        _ => None,
    }
}

/// Spark's `compatibleType` for CSV inference; STRING when nothing else holds both.
fn compatible(a: Kind, b: Kind) -> Kind {
    use Kind::*;
    match (a, b) {
        _ if a == b => a,
        (Null, x) | (x, Null) => x,
        (I8 | I16 | I32, I64) | (I64, I8 | I16 | I32) => I64,
        (I8 | I16 | I32 | I64 | Dec(..) | F32, F64) | (F64, I8 | I16 | I32 | I64 | Dec(..) | F32) => F64,
        (Date, Ts) | (Ts, Date) => Ts,
        _ => match (as_decimal(a), as_decimal(b)) {
            (Some((p1, s1)), Some((p2, s2))) => {
                let scale = s1.max(s2);
                let range = (p1 - s1).max(p2 - s2);
                if u16::from(range) + u16::from(scale) > 38 { F64 } else { Dec(range + scale, scale) }
            }
            _ => Str,
        },
    }
}

/// Builds one column.
pub(crate) enum Builder {
    Str(StringChunkedBuilder),
    Bin(BinaryChunkedBuilder),
    Bool(BooleanChunkedBuilder),
    Int(PrimitiveChunkedBuilder<Int64Type>, Kind),
    Float(PrimitiveChunkedBuilder<Float64Type>, Kind),
    Dec(PrimitiveChunkedBuilder<Int128Type>, u8, u8),
}

impl Builder {
    pub(crate) fn new(name: &str, kind: Kind, capacity: usize) -> Builder {
        let name = PlSmallStr::from(name);
        match kind {
            Kind::Null | Kind::Str => Builder::Str(StringChunkedBuilder::new(name, capacity)),
            Kind::Bin => Builder::Bin(BinaryChunkedBuilder::new(name, capacity)),
            Kind::Bool => Builder::Bool(BooleanChunkedBuilder::new(name, capacity)),
            Kind::F32 | Kind::F64 => Builder::Float(PrimitiveChunkedBuilder::new(name, capacity), kind),
            Kind::Dec(p, s) => Builder::Dec(PrimitiveChunkedBuilder::new(name, capacity), p, s),
            _ => Builder::Int(PrimitiveChunkedBuilder::new(name, capacity), kind),
        }
    }

    pub(crate) fn push(&mut self, cell: Cell<'_>) {
        match (self, cell) {
            (Builder::Str(b), Cell::Text(t)) => b.append_value(t),
            (Builder::Bin(b), Cell::Text(t)) => b.append_value(t.as_bytes()),
            (Builder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (Builder::Int(b, _), Cell::Int(v)) => b.append_value(v),
            (Builder::Float(b, _), Cell::Float(v)) => b.append_value(v),
            (Builder::Dec(b, ..), Cell::Dec(v)) => b.append_value(v),
            (Builder::Str(b), _) => b.append_null(),
            (Builder::Bin(b), _) => b.append_null(),
            (Builder::Bool(b), _) => b.append_null(),
            (Builder::Int(b, _), _) => b.append_null(),
            (Builder::Float(b, _), _) => b.append_null(),
            (Builder::Dec(b, ..), _) => b.append_null(),
        }
    }

    pub(crate) fn finish(self) -> PolarsResult<Column> {
        let series = match self {
            Builder::Str(b) => b.finish().into_series(),
            Builder::Bin(b) => b.finish().into_series(),
            Builder::Bool(b) => b.finish().into_series(),
            Builder::Float(b, Kind::F32) => b.finish().into_series().cast(&DataType::Float32)?,
            Builder::Float(b, _) => b.finish().into_series(),
            Builder::Dec(b, p, s) => {
                b.finish().into_decimal_unchecked(Some(usize::from(p)), usize::from(s)).into_series()
            }
            Builder::Int(b, kind) => {
                let ints = b.finish();
                match kind {
                    Kind::Date => ints.cast(&DataType::Int32)?.i32()?.clone().into_date().into_series(),
                    Kind::Ts => ints.cast(&crate::engine::sql::typed::timestamp_type())?,
                    Kind::TsNtz => ints.into_datetime(TimeUnit::Microseconds, None).into_series(),
                    Kind::I8 => ints.cast(&DataType::Int8)?,
                    Kind::I16 => ints.cast(&DataType::Int16)?,
                    Kind::I32 => ints.cast(&DataType::Int32)?,
                    _ => ints.into_series(),
                }
            }
        };
        Ok(series.into_column())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn options(pairs: &[(&str, &str)]) -> CsvOptions {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_lowercase(), v.to_string())).collect();
        CsvOptions::parse(&map).unwrap()
    }

    #[test]
    fn java_numbers() {
        assert_eq!(java_double(" 1.5d "), Some(1.5));
        assert_eq!(java_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(java_double("inf"), None);
        assert_eq!(java_double("1e3"), Some(1000.0));
        assert_eq!(java_double("Null"), None);
        assert_eq!(decimal("1,234.565", 10, 2), Some(123_457));
        assert_eq!(decimal("-0.005", 5, 2), Some(-1));
        assert_eq!(decimal("123456", 5, 0), None);
    }

    #[test]
    fn inference_follows_spark() {
        let o = options(&[]);
        let infer = |values: &[&str]| values.iter().fold(Kind::Null, |k, v| o.infer(k, Some(v)));
        assert_eq!(infer(&["1", "2"]), Kind::I32);
        assert_eq!(infer(&["1", "3000000000"]), Kind::I64);
        assert_eq!(infer(&["1", "2.5"]), Kind::F64);
        assert_eq!(infer(&["1", "x"]), Kind::Str);
        assert_eq!(infer(&["99999999999999999999"]), Kind::Dec(20, 0));
        assert_eq!(infer(&["2024-01-05", "2024-01-06"]), Kind::Date);
        assert_eq!(infer(&["2024-01-05", "2012-11-13 00:30:00.0000000"]), Kind::Ts);
        assert_eq!(infer(&["TRUE", "false"]), Kind::Bool);
        assert_eq!(infer(&["1", "true"]), Kind::Str);
        assert_eq!(infer(&["1,5"]), Kind::Str);
        assert_eq!(infer(&["NaN", "1"]), Kind::F64);
        assert_eq!(infer(&[]), Kind::Null);
    }

    #[test]
    fn timestamps_without_a_format() {
        let o = options(&[]);
        let ts = |t: &'static str| o.convert(Kind::Ts, t);
        let base = ts("2012-11-13 00:30:00").unwrap();
        assert_eq!(ts("2012-11-13 00:30:00.0000000"), Some(base));
        assert_eq!(ts("2012-11-13T00:30:00Z"), Some(base));
        assert_eq!(ts("2012-11-13T01:30:00+01:00"), Some(base));
        assert_eq!(ts("13/11/2012"), None);
        let f = options(&[("timestampFormat", "dd/MM/yyyy HH:mm")]);
        assert_eq!(f.convert(Kind::Ts, "13/11/2012 00:30"), Some(base));
    }
}
