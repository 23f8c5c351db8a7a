//! Spark's date and time functions, in the session time zone UTC: parts,
//! truncation, arithmetic, formatting and parsing with Spark's pattern
//! letters, epoch conversions, time zone shifts, and the casts and
//! interval arithmetic the core lowers to them. Null in, null out; a value
//! Spark refuses at run time (ANSI) fails the query.

mod casts;
mod civil;
pub(crate) mod javafmt;
pub(crate) mod text;
pub(crate) mod zones;

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use super::typed::{Cx, SqlResult, Typed, bad_args, map_columns, refuse, timestamp_type};
use civil::{MICROS_PER_DAY, MICROS_PER_SECOND, date_of_days, days_of_date, ints, ints_to_f64, ints_to_text};

pub(super) use casts::{add_interval, cast_string};

fn ntz_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, None)
}

/// Spark's name of a type, for messages.
fn type_name(dtype: &DataType) -> String {
    match dtype {
        DataType::Date => "date".into(),
        DataType::Datetime(_, Some(_)) => "timestamp".into(),
        DataType::Datetime(_, None) => "timestamp_ntz".into(),
        DataType::String => "string".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Decimal(p, s) => format!("decimal({},{})", p.unwrap_or(38), s.unwrap_or(0)),
        other => other.to_string().to_lowercase(),
    }
}

fn null_of(dtype: DataType) -> Typed {
    Typed::new(Expr::Literal(LiteralValue::untyped_null()).cast(dtype.clone()), dtype)
}

fn wrong(function: &str, what: &str, arg: &Typed) -> SqlResult<Expr> {
    Err(refuse(
        format!("{function} takes {what}, not {}", type_name(&arg.dtype)),
        format!("write {function}(CAST(x AS {}) ...)", what.split(' ').next_back().unwrap_or("DATE").to_uppercase()),
    ))
}

/// The argument as a DATE (Spark's implicit cast of timestamps and text).
fn date_arg(function: &str, arg: &Typed) -> SqlResult<Expr> {
    match &arg.dtype {
        DataType::Date => Ok(arg.expr.clone()),
        DataType::Datetime(..) | DataType::String | DataType::Null => {
            Ok(cast_string(arg.clone(), &DataType::Date, true)?.expr)
        }
        _ => wrong(function, "a date", arg),
    }
}

/// The argument as a TIMESTAMP in microseconds: NTZ stays NTZ, a date is
/// its midnight, text is cast. The type says which.
fn ts_arg(function: &str, arg: &Typed) -> SqlResult<Typed> {
    match &arg.dtype {
        DataType::Datetime(_, tz) => {
            let dtype = DataType::Datetime(TimeUnit::Microseconds, tz.clone());
            Ok(Typed::new(arg.expr.clone().cast(dtype.clone()), dtype))
        }
        DataType::Date | DataType::String | DataType::Null => cast_string(arg.clone(), &timestamp_type(), true),
        _ => Err(refuse(
            format!("{function} takes a timestamp, not {}", type_name(&arg.dtype)),
            format!("write {function}(CAST(x AS TIMESTAMP))"),
        )),
    }
}

/// A date or a timestamp, as it is (for the parts both have).
fn temporal_arg(function: &str, arg: &Typed) -> SqlResult<Expr> {
    match &arg.dtype {
        DataType::Date => Ok(arg.expr.clone()),
        _ => Ok(ts_arg(function, arg)?.expr),
    }
}

fn int_arg(function: &str, arg: &Typed, wide: bool) -> SqlResult<Expr> {
    match &arg.dtype {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            Ok(arg.expr.clone().cast(DataType::Int64))
        }
        DataType::Int64 | DataType::UInt32 if wide => Ok(arg.expr.clone()),
        DataType::Null => Ok(arg.expr.clone().cast(DataType::Int64)),
        _ => Err(refuse(
            format!("{function} takes an int here, not {}", type_name(&arg.dtype)),
            format!("write {function}(..., CAST(n AS INT))"),
        )),
    }
}

/// A constant text argument (a unit, a pattern, a zone).
fn const_text<'a>(function: &str, arg: &'a Typed, what: &str) -> SqlResult<Option<&'a str>> {
    if arg.is_null_literal() {
        return Ok(None);
    }
    arg.lit_str().map(Some).ok_or_else(|| {
        refuse(
            format!("{function}: the {what} must be a constant string"),
            format!("write the {what} as a literal, e.g. {function}(..., 'yyyy-MM-dd')"),
        )
    })
}

fn overflow(function: &str) -> PolarsError {
    PolarsError::ComputeError(format!("DATETIME_OVERFLOW: {function} gives a date or timestamp out of range").into())
}

fn arity(function: &str, args: &[Typed], lo: usize, hi: usize, want: &str) -> SqlResult<()> {
    if args.len() < lo || args.len() > hi { Err(bad_args(function, want)) } else { Ok(()) }
}

/// Spark's `name(args)` for the date and time functions, or `None` when the
/// name is not one of them.
pub(super) fn call(name: &str, args: &[Typed], cx: &Cx) -> Option<SqlResult<Typed>> {
    let known = matches!(
        name,
        "year"
            | "quarter"
            | "month"
            | "day"
            | "dayofmonth"
            | "dayofweek"
            | "weekday"
            | "dayofyear"
            | "weekofyear"
            | "hour"
            | "minute"
            | "second"
            | "extract"
            | "date_part"
            | "datepart"
            | "date_trunc"
            | "trunc"
            | "date_format"
            | "to_date"
            | "to_timestamp"
            | "try_to_timestamp"
            | "unix_timestamp"
            | "to_unix_timestamp"
            | "from_unixtime"
            | "unix_seconds"
            | "unix_millis"
            | "unix_micros"
            | "unix_date"
            | "date_from_unix_date"
            | "timestamp_seconds"
            | "timestamp_millis"
            | "timestamp_micros"
            | "current_date"
            | "curdate"
            | "current_timestamp"
            | "now"
            | "localtimestamp"
            | "date_add"
            | "dateadd"
            | "date_sub"
            | "datediff"
            | "date_diff"
            | "timestampdiff"
            | "timestampadd"
            | "add_months"
            | "months_between"
            | "last_day"
            | "next_day"
            | "make_date"
            | "make_timestamp"
            | "make_interval"
            | "to_utc_timestamp"
            | "from_utc_timestamp"
            | "convert_timezone"
            | "date"
            | "timestamp"
    );
    if !known {
        return None;
    }
    Some(dispatch(name, args, cx))
}

fn dispatch(name: &str, args: &[Typed], cx: &Cx) -> SqlResult<Typed> {
    let one = || arity(name, args, 1, 1, &format!("{name}(x)"));
    match name {
        "year" | "quarter" | "month" | "day" | "dayofmonth" | "dayofweek" | "weekday" | "dayofyear" | "weekofyear"
        | "hour" | "minute" | "second" => {
            one()?;
            part(name, &args[0])
        }
        "extract" | "date_part" | "datepart" => {
            arity(name, args, 2, 2, &format!("{name}('field', x)"))?;
            let field = const_text(name, &args[0], "field")?.unwrap_or_default().to_ascii_uppercase();
            extract(name, &field, &args[1])
        }
        "date_trunc" => {
            arity(name, args, 2, 2, "date_trunc('unit', ts)")?;
            let ts = ts_arg(name, &args[1])?;
            let unit = const_text(name, &args[0], "unit")?.map(str::to_ascii_uppercase);
            truncate(unit.as_deref(), ts.expr, false)
        }
        "trunc" => {
            arity(name, args, 2, 2, "trunc(date, 'unit')")?;
            let date = date_arg(name, &args[0])?;
            let unit = const_text(name, &args[1], "unit")?.map(str::to_ascii_uppercase);
            truncate(unit.as_deref(), date, true)
        }
        "date_format" => {
            arity(name, args, 2, 2, "date_format(ts, 'pattern')")?;
            let ts = ts_arg(name, &args[0])?;
            format_with(name, ts.expr, const_text(name, &args[1], "pattern")?)
        }
        "from_unixtime" => {
            arity(name, args, 1, 2, "from_unixtime(seconds[, 'pattern'])")?;
            let secs = int_arg(name, &args[0], true)?;
            let pattern = match args.get(1) {
                Some(p) => const_text(name, p, "pattern")?,
                None => Some("yyyy-MM-dd HH:mm:ss"),
            };
            let micros = ints(vec![secs], DataType::Int64, |v| Ok(v[0].checked_mul(MICROS_PER_SECOND)));
            format_with(name, micros, pattern)
        }
        "to_timestamp" | "try_to_timestamp" | "to_date" => {
            arity(name, args, 1, 2, &format!("{name}(text[, 'pattern'])"))?;
            let fail = name != "try_to_timestamp";
            let to = if name == "to_date" { DataType::Date } else { timestamp_type() };
            match args.get(1) {
                None => cast_string(args[0].clone(), &to, fail),
                Some(p) => {
                    let micros = parse_with(name, &args[0], const_text(name, p, "pattern")?, fail)?;
                    cast_string(micros, &to, fail)
                }
            }
        }
        "unix_timestamp" | "to_unix_timestamp" => {
            if args.is_empty() && name == "unix_timestamp" {
                let secs = cx.now_micros.div_euclid(MICROS_PER_SECOND);
                return Ok(Typed::new(lit(secs).cast(DataType::Int64), DataType::Int64));
            }
            arity(name, args, 1, 2, &format!("{name}(x[, 'pattern'])"))?;
            let micros = if args[0].is_string() {
                let pattern = match args.get(1) {
                    Some(p) => const_text(name, p, "pattern")?,
                    None => Some("yyyy-MM-dd HH:mm:ss"),
                };
                parse_with(name, &args[0], pattern, true)?.expr
            } else {
                ts_arg(name, &args[0])?.expr
            };
            Ok(Typed::new(
                ints(vec![micros], DataType::Int64, |v| Ok(Some(v[0].div_euclid(MICROS_PER_SECOND)))),
                DataType::Int64,
            ))
        }
        "unix_seconds" | "unix_millis" | "unix_micros" => {
            one()?;
            let unit = match name {
                "unix_seconds" => MICROS_PER_SECOND,
                "unix_millis" => 1000,
                _ => 1,
            };
            let ts = ts_arg(name, &args[0])?;
            Ok(Typed::new(
                ints(vec![ts.expr], DataType::Int64, move |v| Ok(Some(v[0].div_euclid(unit)))),
                DataType::Int64,
            ))
        }
        "unix_date" => {
            one()?;
            let d = date_arg(name, &args[0])?;
            Ok(Typed::new(d.cast(DataType::Int32), DataType::Int32))
        }
        "date_from_unix_date" => {
            one()?;
            let n = int_arg(name, &args[0], false)?;
            Ok(Typed::new(n.cast(DataType::Int32).cast(DataType::Date), DataType::Date))
        }
        "timestamp_seconds" | "timestamp_millis" | "timestamp_micros" => {
            one()?;
            epoch_to_timestamp(name, &args[0])
        }
        "current_date" | "curdate" | "current_timestamp" | "now" | "localtimestamp" => {
            arity(name, args, 0, 0, &format!("{name}()"))?;
            Ok(match name {
                "current_date" | "curdate" => {
                    let days = i32::try_from(cx.now_micros.div_euclid(MICROS_PER_DAY)).unwrap_or_default();
                    Typed::new(lit(days).cast(DataType::Date), DataType::Date)
                }
                "localtimestamp" => Typed::new(lit(cx.now_micros).cast(ntz_type()), ntz_type()),
                _ => Typed::new(lit(cx.now_micros).cast(timestamp_type()), timestamp_type()),
            })
        }
        "date_add" | "dateadd" | "date_sub" if args.len() == 2 => {
            let date = date_arg(name, &args[0])?;
            let n = int_arg(name, &args[1], false)?;
            let sign = if name == "date_sub" { -1 } else { 1 };
            let expr = ints(vec![date, n], DataType::Date, move |v| Ok(Some(v[0] + sign * v[1])));
            Ok(Typed::new(expr, DataType::Date))
        }
        "date_add" | "dateadd" | "timestampadd" => {
            arity(name, args, 3, 3, "timestampadd(unit, n, ts)")?;
            timestamp_add(name, &args[0], &args[1], &args[2])
        }
        "datediff" | "date_diff" if args.len() == 2 => {
            let end = date_arg(name, &args[0])?;
            let start = date_arg(name, &args[1])?;
            Ok(Typed::new(ints(vec![end, start], DataType::Int32, |v| Ok(Some(v[0] - v[1]))), DataType::Int32))
        }
        "datediff" | "date_diff" | "timestampdiff" => {
            arity(name, args, 3, 3, "timestampdiff(unit, start, end)")?;
            timestamp_diff(name, &args[0], &args[1], &args[2])
        }
        "add_months" => {
            arity(name, args, 2, 2, "add_months(date, n)")?;
            let date = date_arg(name, &args[0])?;
            let n = int_arg(name, &args[1], false)?;
            let expr = ints(vec![date, n], DataType::Date, |v| {
                let d = date_of_days(v[0]).and_then(|d| civil::add_months(d, v[1]));
                d.map(|d| Some(days_of_date(d))).ok_or_else(|| overflow("add_months"))
            });
            Ok(Typed::new(expr, DataType::Date))
        }
        "months_between" => {
            arity(name, args, 2, 3, "months_between(end, start[, roundOff])")?;
            let a = ts_arg(name, &args[0])?.expr;
            let b = ts_arg(name, &args[1])?.expr;
            let round = match args.get(2) {
                None => true,
                Some(r) => r.lit_bool().ok_or_else(|| bad_args(name, "months_between(end, start, true|false)"))?,
            };
            Ok(Typed::new(ints_to_f64(vec![a, b], move |v| months_between(v[0], v[1], round)), DataType::Float64))
        }
        "last_day" => {
            one()?;
            let date = date_arg(name, &args[0])?;
            let expr = ints(vec![date], DataType::Date, |v| {
                let d = date_of_days(v[0]).ok_or_else(|| overflow("last_day"))?;
                let last = civil::days_in_month(d.year(), d.month()).ok_or_else(|| overflow("last_day"))?;
                Ok(Some(v[0] + i64::from(last - d.day())))
            });
            Ok(Typed::new(expr, DataType::Date))
        }
        "next_day" => {
            arity(name, args, 2, 2, "next_day(date, 'Mon')")?;
            next_day(&args[0], &args[1])
        }
        "make_date" => {
            arity(name, args, 3, 3, "make_date(year, month, day)")?;
            let parts = args.iter().map(|a| int_arg(name, a, false)).collect::<SqlResult<Vec<_>>>()?;
            let expr = ints(parts, DataType::Date, |v| {
                let d = (|| {
                    NaiveDate::from_ymd_opt(
                        i32::try_from(v[0]).ok()?,
                        u32::try_from(v[1]).ok()?,
                        u32::try_from(v[2]).ok()?,
                    )
                })();
                match d {
                    Some(d) => Ok(Some(days_of_date(d))),
                    None => {
                        polars_bail!(ComputeError: "DATETIME_FIELD_OUT_OF_BOUNDS: make_date({}, {}, {}) is not a date; use try_make_date or check the fields", v[0], v[1], v[2])
                    }
                }
            });
            Ok(Typed::new(expr, DataType::Date))
        }
        "make_timestamp" => make_timestamp(args),
        "make_interval" => Err(refuse(
            "make_interval is not supported",
            "write an interval literal such as INTERVAL 2 HOURS, or add with timestampadd(HOUR, n, ts)",
        )),
        "to_utc_timestamp" | "from_utc_timestamp" => {
            arity(name, args, 2, 2, &format!("{name}(ts, 'Area/City')"))?;
            let ts = ts_arg(name, &args[0])?;
            let Some(zone) = const_text(name, &args[1], "time zone")? else {
                return Ok(null_of(timestamp_type()));
            };
            let wall = Typed::new(ts.expr.cast(DataType::Int64).cast(ntz_type()), ntz_type());
            let (from, to) = if name == "to_utc_timestamp" { (zone, "UTC") } else { ("UTC", zone) };
            let shifted = casts::shift_zone(name, wall.expr, from, to)?;
            Ok(Typed::new(shifted.cast(DataType::Int64).cast(timestamp_type()), timestamp_type()))
        }
        "convert_timezone" => {
            arity(name, args, 2, 3, "convert_timezone(['from',] 'to', ts)")?;
            let (from, to, ts) = match args {
                [to, ts] => (Some("UTC"), const_text(name, to, "time zone")?, ts),
                [from, to, ts] => (const_text(name, from, "time zone")?, const_text(name, to, "time zone")?, ts),
                _ => return Err(bad_args(name, "convert_timezone(['from',] 'to', ts)")),
            };
            let wall = cast_string(ts.clone(), &ntz_type(), true)?;
            let (Some(from), Some(to)) = (from, to) else { return Ok(null_of(ntz_type())) };
            Ok(Typed::new(casts::shift_zone(name, wall.expr, from, to)?, ntz_type()))
        }
        "date" => {
            one()?;
            cast_string(args[0].clone(), &DataType::Date, true)
        }
        "timestamp" => {
            one()?;
            cast_string(args[0].clone(), &timestamp_type(), true)
        }
        _ => Err(bad_args(name, "the documented arguments")),
    }
}

/// `year(x)`, `hour(x)`, ...: an int.
fn part(name: &str, arg: &Typed) -> SqlResult<Typed> {
    let time_part = matches!(name, "hour" | "minute" | "second");
    let x = if time_part { ts_arg(name, arg)?.expr } else { temporal_arg(name, arg)? };
    let dt = x.dt();
    let expr = match name {
        "year" => dt.year(),
        "quarter" => dt.quarter(),
        "month" => dt.month(),
        "day" | "dayofmonth" => dt.day(),
        "dayofweek" => (dt.weekday().cast(DataType::Int32) % lit(7)) + lit(1),
        "weekday" => dt.weekday().cast(DataType::Int32) - lit(1),
        "dayofyear" => dt.ordinal_day(),
        "weekofyear" => dt.week(),
        "hour" => dt.hour(),
        "minute" => dt.minute(),
        _ => dt.second(),
    };
    Ok(Typed::new(expr.cast(DataType::Int32), DataType::Int32))
}

/// `EXTRACT(field FROM x)` / `date_part('field', x)`.
fn extract(name: &str, field: &str, arg: &Typed) -> SqlResult<Typed> {
    let part_name = match field {
        "YEAR" | "Y" | "YEARS" | "YR" | "YRS" => "year",
        "QUARTER" | "QTR" => "quarter",
        "MONTH" | "MON" | "MONS" | "MONTHS" => "month",
        "WEEK" | "W" | "WEEKS" => "weekofyear",
        "DAY" | "D" | "DAYS" => "day",
        "DAYOFWEEK" | "DOW" => "dayofweek",
        "DOY" => "dayofyear",
        "HOUR" | "H" | "HOURS" | "HR" | "HRS" => "hour",
        "MINUTE" | "M" | "MIN" | "MINS" | "MINUTES" => "minute",
        "DAYOFWEEK_ISO" | "DOW_ISO" => {
            let x = temporal_arg(name, arg)?;
            return Ok(Typed::new(x.dt().weekday().cast(DataType::Int32), DataType::Int32));
        }
        "YEAROFWEEK" => {
            let x = temporal_arg(name, arg)?;
            return Ok(Typed::new(x.dt().iso_year().cast(DataType::Int32), DataType::Int32));
        }
        "SECOND" | "S" | "SEC" | "SECONDS" | "SECS" => {
            // decimal(8,6): the seconds with their fraction.
            let ts = ts_arg(name, arg)?;
            let text = ints_to_text(vec![ts.expr], |v| {
                let in_minute = v[0].rem_euclid(60 * MICROS_PER_SECOND);
                Some(format!("{}.{:06}", in_minute / MICROS_PER_SECOND, in_minute % MICROS_PER_SECOND))
            });
            let dtype = DataType::Decimal(Some(8), Some(6));
            return Ok(Typed::new(text.cast(dtype.clone()), dtype));
        }
        other => {
            return Err(refuse(
                format!("{name}: unknown field '{other}'"),
                "write YEAR, QUARTER, MONTH, WEEK, DAY, DAYOFWEEK, DOW_ISO, DOY, HOUR, MINUTE or SECOND",
            ));
        }
    };
    part(part_name, arg)
}

/// `date_trunc(unit, ts)` (→ timestamp) or `trunc(date, unit)` (→ date);
/// a unit Spark does not know gives null, as in Spark.
fn truncate(unit: Option<&str>, x: Expr, date: bool) -> SqlResult<Typed> {
    #[derive(Clone, Copy)]
    enum Level {
        Micros(i64),
        Week,
        Months(i64),
    }
    let level = match unit {
        Some("MICROSECOND") if !date => Some(Level::Micros(1)),
        Some("MILLISECOND") if !date => Some(Level::Micros(1000)),
        Some("SECOND") if !date => Some(Level::Micros(MICROS_PER_SECOND)),
        Some("MINUTE") if !date => Some(Level::Micros(60 * MICROS_PER_SECOND)),
        Some("HOUR") if !date => Some(Level::Micros(3600 * MICROS_PER_SECOND)),
        Some("DAY" | "DD") if !date => Some(Level::Micros(MICROS_PER_DAY)),
        Some("WEEK") => Some(Level::Week),
        Some("MON" | "MONTH" | "MM") => Some(Level::Months(1)),
        Some("QUARTER") => Some(Level::Months(3)),
        Some("YEAR" | "YYYY" | "YY") => Some(Level::Months(12)),
        _ => None,
    };
    let out = if date { DataType::Date } else { timestamp_type() };
    let Some(level) = level else { return Ok(null_of(out)) };
    let per_day = if date { 1 } else { MICROS_PER_DAY };
    let expr = ints(vec![x], out.clone(), move |v| {
        let days = v[0].div_euclid(per_day);
        let day_start = |d: i64| Some(d * per_day);
        Ok(match level {
            Level::Micros(unit) => Some(v[0] - v[0].rem_euclid(unit)),
            Level::Week => {
                let d = date_of_days(days).ok_or_else(|| overflow("date_trunc"))?;
                day_start(days - i64::from(d.weekday().num_days_from_monday()))
            }
            Level::Months(n) => {
                let d = date_of_days(days).ok_or_else(|| overflow("date_trunc"))?;
                let month0 = i64::from(d.month0()) / n * n;
                let first = NaiveDate::from_ymd_opt(d.year(), u32::try_from(month0).unwrap_or(0) + 1, 1);
                first.and_then(|f| day_start(days_of_date(f)))
            }
        })
    });
    Ok(Typed::new(expr, out))
}

fn compile(function: &str, pattern: &str) -> SqlResult<javafmt::Pattern> {
    javafmt::compile(pattern).map_err(|why| {
        refuse(
            format!("{function}: {why} is not supported"),
            "use the letters y M d H h m s S a E D Q and quoted 'text', or extract parts with year(), weekofyear(), dayofweek()",
        )
    })
}

fn format_with(function: &str, micros: Expr, pattern: Option<&str>) -> SqlResult<Typed> {
    let Some(pattern) = pattern else { return Ok(null_of(DataType::String)) };
    let pattern = compile(function, pattern)?;
    Ok(Typed::new(ints_to_text(vec![micros], move |v| pattern.format(v[0])), DataType::String))
}

/// Text read with a pattern, as microseconds (a timestamp expression);
/// dates and timestamps pass through. Text that does not match fails the
/// query when `fail`, else is null.
fn parse_with(function: &str, arg: &Typed, pattern: Option<&str>, fail: bool) -> SqlResult<Typed> {
    if !arg.is_string() {
        return ts_arg(function, arg);
    }
    let Some(text_pattern) = pattern else { return Ok(null_of(timestamp_type())) };
    let pattern = compile(function, text_pattern)?;
    if let Some(letter) = pattern.unparsable() {
        return Err(refuse(
            format!("{function}: reading the pattern letter '{letter}' is not supported"),
            "read the text with y M d H h m s S a E and quoted 'text', or parse it with regexp_extract and make_timestamp",
        ));
    }
    let shown = text_pattern.to_string();
    let try_name = if function == "to_date" { "try_to_date" } else { "try_to_timestamp" };
    let expr = civil::text_to_int(arg.expr.clone(), timestamp_type(), move |s| match pattern.parse(s) {
        Some(v) => Ok(Some(v)),
        None if fail => polars_bail!(ComputeError:
            "CANNOT_PARSE_TIMESTAMP: the text '{}' does not match the pattern '{}'; use {} to get NULL instead", s, shown, try_name),
        None => Ok(None),
    });
    Ok(Typed::new(expr, timestamp_type()))
}

fn epoch_to_timestamp(name: &str, arg: &Typed) -> SqlResult<Typed> {
    let per = match name {
        "timestamp_seconds" => MICROS_PER_SECOND,
        "timestamp_millis" => 1000,
        _ => 1,
    };
    let out = timestamp_type();
    if name == "timestamp_seconds" && matches!(arg.dtype, DataType::Float32 | DataType::Float64) {
        // Spark: (seconds * 1e6) truncated; NaN and infinities are null.
        let x = arg.expr.clone().cast(DataType::Float64) * lit(1e6);
        let ok = x.clone().is_finite();
        return Ok(Typed::new(when(ok).then(x.cast(DataType::Int64)).otherwise(lit(NULL)).cast(out.clone()), out));
    }
    let n = int_arg(name, arg, true)?;
    let expr =
        ints(vec![n], out.clone(), move |v| v[0].checked_mul(per).map(Some).ok_or_else(|| overflow(name_static(per))));
    Ok(Typed::new(expr, out))
}

fn name_static(per: i64) -> &'static str {
    match per {
        MICROS_PER_SECOND => "timestamp_seconds",
        1000 => "timestamp_millis",
        _ => "timestamp_micros",
    }
}

/// Spark's months_between: whole months when the days of the month match
/// or both are month ends, else the difference over 31-day months, in
/// seconds, rounded to 8 digits when `round`.
fn months_between(a: i64, b: i64, round: bool) -> Option<f64> {
    let (da, db) = (a.div_euclid(MICROS_PER_DAY), b.div_euclid(MICROS_PER_DAY));
    let (x, y) = (date_of_days(da)?, date_of_days(db)?);
    let month_diff =
        (i64::from(x.year()) * 12 + i64::from(x.month())) - (i64::from(y.year()) * 12 + i64::from(y.month()));
    let end = |d: NaiveDate| civil::days_in_month(d.year(), d.month()) == Some(d.day());
    if x.day() == y.day() || (end(x) && end(y)) {
        return Some(month_diff as f64);
    }
    let secs_a = (a - da * MICROS_PER_DAY) / MICROS_PER_SECOND;
    let secs_b = (b - db * MICROS_PER_DAY) / MICROS_PER_SECOND;
    let secs = (i64::from(x.day()) - i64::from(y.day())) * 86_400 + secs_a - secs_b;
    let diff = month_diff as f64 + secs as f64 / (31.0 * 86_400.0);
    Some(if round { (diff * 1e8 + 0.5).floor() / 1e8 } else { diff })
}

fn next_day(date: &Typed, dow: &Typed) -> SqlResult<Typed> {
    let d = date_arg("next_day", date)?;
    let Some(text) = const_text("next_day", dow, "day of week")? else { return Ok(null_of(DataType::Date)) };
    let wanted = match text.to_ascii_uppercase().as_str() {
        "MO" | "MON" | "MONDAY" => 0,
        "TU" | "TUE" | "TUESDAY" => 1,
        "WE" | "WED" | "WEDNESDAY" => 2,
        "TH" | "THU" | "THURSDAY" => 3,
        "FR" | "FRI" | "FRIDAY" => 4,
        "SA" | "SAT" | "SATURDAY" => 5,
        "SU" | "SUN" | "SUNDAY" => 6,
        _ => {
            return Err(refuse(
                format!("ILLEGAL_DAY_OF_WEEK: next_day: '{text}' is not a day of the week"),
                "write 'Mon', 'Tue', ... or 'Monday', 'Tuesday', ...",
            ));
        }
    };
    let expr = ints(vec![d], DataType::Date, move |v| {
        let today = date_of_days(v[0]).ok_or_else(|| overflow("next_day"))?;
        let now = i64::from(today.weekday().num_days_from_monday());
        let ahead = (wanted - now - 1).rem_euclid(7) + 1;
        Ok(Some(v[0] + ahead))
    });
    Ok(Typed::new(expr, DataType::Date))
}

fn make_timestamp(args: &[Typed]) -> SqlResult<Typed> {
    let name = "make_timestamp";
    if args.len() == 7 {
        return Err(refuse(
            "make_timestamp with a time zone is not supported",
            "write to_utc_timestamp(make_timestamp(y, mo, d, h, mi, s), 'Area/City')",
        ));
    }
    arity(name, args, 6, 6, "make_timestamp(year, month, day, hour, minute, second)")?;
    let mut parts = args[..5].iter().map(|a| int_arg(name, a, false)).collect::<SqlResult<Vec<_>>>()?;
    let sec = &args[5];
    let micros = match &sec.dtype {
        DataType::Decimal(..) | DataType::Float32 | DataType::Float64 => (sec.expr.clone().cast(DataType::Float64)
            * lit(1e6))
        .round(0, RoundMode::HalfAwayFromZero)
        .cast(DataType::Int64),
        _ => int_arg(name, sec, false)? * lit(MICROS_PER_SECOND),
    };
    parts.push(micros);
    let expr = ints(parts, timestamp_type(), |v| {
        let fields = (|| {
            let date = NaiveDate::from_ymd_opt(
                i32::try_from(v[0]).ok()?,
                u32::try_from(v[1]).ok()?,
                u32::try_from(v[2]).ok()?,
            )?;
            let (h, mi, us) = (v[3], v[4], v[5]);
            if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..=60 * MICROS_PER_SECOND).contains(&us) {
                return None;
            }
            if us > 60 * MICROS_PER_SECOND {
                return None;
            }
            Some(civil::days_of_date(date) * MICROS_PER_DAY + (h * 3600 + mi * 60) * MICROS_PER_SECOND + us)
        })();
        match fields {
            Some(t) => Ok(Some(t)),
            None => polars_bail!(ComputeError:
                "DATETIME_FIELD_OUT_OF_BOUNDS: make_timestamp({}, {}, {}, {}, {}, {}) is not a timestamp",
                v[0], v[1], v[2], v[3], v[4], v[5] as f64 / 1e6),
        }
    });
    Ok(Typed::new(expr, timestamp_type()))
}

fn unit_of(function: &str, unit: &Typed) -> SqlResult<String> {
    let u = const_text(function, unit, "unit")?.unwrap_or_default().to_ascii_uppercase();
    let u = u.strip_suffix('S').filter(|_| u != "S").unwrap_or(&u).to_string();
    match u.as_str() {
        "MICROSECOND" | "MILLISECOND" | "SECOND" | "MINUTE" | "HOUR" | "DAY" | "DAYOFYEAR" | "WEEK" | "MONTH"
        | "QUARTER" | "YEAR" => Ok(u),
        _ => Err(refuse(
            format!("{function}: unknown unit '{u}'"),
            "write MICROSECOND, MILLISECOND, SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR",
        )),
    }
}

fn timestamp_add(name: &str, unit: &Typed, n: &Typed, ts: &Typed) -> SqlResult<Typed> {
    let unit = unit_of(name, unit)?;
    let n = int_arg(name, n, true)?;
    let ts = ts_arg(name, ts)?;
    let out = ts.dtype.clone();
    let expr = ints(vec![ts.expr, n], out.clone(), move |v| {
        let (t, q) = (v[0], v[1]);
        let r = match unit.as_str() {
            "MICROSECOND" => t.checked_add(q),
            "MILLISECOND" => q.checked_mul(1000).and_then(|d| t.checked_add(d)),
            "SECOND" => q.checked_mul(MICROS_PER_SECOND).and_then(|d| t.checked_add(d)),
            "MINUTE" => q.checked_mul(60 * MICROS_PER_SECOND).and_then(|d| t.checked_add(d)),
            "HOUR" => q.checked_mul(3600 * MICROS_PER_SECOND).and_then(|d| t.checked_add(d)),
            "DAY" | "DAYOFYEAR" => civil::add_to_micros(t, 0, q, 0),
            "WEEK" => q.checked_mul(7).and_then(|d| civil::add_to_micros(t, 0, d, 0)),
            "MONTH" => civil::add_to_micros(t, q, 0, 0),
            "QUARTER" => q.checked_mul(3).and_then(|m| civil::add_to_micros(t, m, 0, 0)),
            _ => q.checked_mul(12).and_then(|m| civil::add_to_micros(t, m, 0, 0)),
        };
        r.map(Some).ok_or_else(|| overflow("timestampadd"))
    });
    Ok(Typed::new(expr, out))
}

/// Java's `ChronoUnit.between` on the local date-times, truncating.
fn timestamp_diff(name: &str, unit: &Typed, start: &Typed, end: &Typed) -> SqlResult<Typed> {
    let unit = unit_of(name, unit)?;
    let a = ts_arg(name, start)?.expr;
    let b = ts_arg(name, end)?.expr;
    let expr = ints(vec![a, b], DataType::Int64, move |v| {
        let (a, b) = (v[0], v[1]);
        let per = match unit.as_str() {
            "MICROSECOND" => 1,
            "MILLISECOND" => 1000,
            "SECOND" => MICROS_PER_SECOND,
            "MINUTE" => 60 * MICROS_PER_SECOND,
            "HOUR" => 3600 * MICROS_PER_SECOND,
            _ => 0,
        };
        if per > 0 {
            return Ok(Some((b - a) / per));
        }
        let (mut db, ta, tb) =
            (b.div_euclid(MICROS_PER_DAY), a.rem_euclid(MICROS_PER_DAY), b.rem_euclid(MICROS_PER_DAY));
        let da = a.div_euclid(MICROS_PER_DAY);
        if db > da && tb < ta {
            db -= 1;
        } else if db < da && tb > ta {
            db += 1;
        }
        let days = db - da;
        let months = || -> Option<i64> {
            let (x, y) = (date_of_days(da)?, date_of_days(db)?);
            let packed = |d: NaiveDate| (i64::from(d.year()) * 12 + i64::from(d.month0())) * 32 + i64::from(d.day());
            Some((packed(y) - packed(x)) / 32)
        };
        Ok(match unit.as_str() {
            "DAY" | "DAYOFYEAR" => Some(days),
            "WEEK" => Some(days / 7),
            "MONTH" => months(),
            "QUARTER" => months().map(|m| m / 3),
            _ => months().map(|m| m / 12),
        })
    });
    Ok(Typed::new(expr, DataType::Int64))
}

#[cfg(test)]
mod tests;
